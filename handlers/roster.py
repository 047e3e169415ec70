"""A branch's roster and a member's record: roles for staff, record fixes for leaders."""

from __future__ import annotations

from aiogram import Bot, F, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import Category, InviteKind, Member, MemberStatus, Role
from bot.services import members, orgs, outbox
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.texts import category_label, error_text, status_label
from handlers.callbacks import MemberAct, MemberCard, MemberSet, OrgView, RosterPage
from handlers.evaluation import priority_line
from handlers.menu import INVITE, ROSTER, MenuButton
from handlers.orgs import send_invite
from handlers.registry import Handlers
from handlers.states import EditMember
from handlers.views import Button, keyboard, member_line, member_record, pager

router = Handlers("roster")

ROLE_ACTS = {"secretary": Role.secretary, "organiser": Role.organiser, "member": Role.member}
TEXT_FIELDS = {"name", "phone"}


async def roster_view(session: AsyncSession, principal: Principal, org_id: int, page: int):
    branch = await orgs.require_org(session, org_id)
    if not principal.can_lead(branch):
        raise ServiceError("access.denied")
    found = await members.roster_page(session, org_id, "", page)
    blocked = await outbox.unreachable_among(session, [m.telegram_id for m in found.items])
    rows = [
        [
            Button(
                text=member_line(m) + (" 📵" if m.telegram_id in blocked else ""),
                callback_data=MemberCard(member=m.id).pack(),
            )
        ]
        for m in found.items
    ]
    rows.append(pager(found, lambda p: RosterPage(org=org_id, page=p)))
    if principal.can_manage(branch):
        # Staff came here from the branch's card in /orgs: a way back to it.
        rows.append([Button(text=_("⬆ Up"), callback_data=OrgView(org=branch.id).pack())])
    text = _(
        "Roster of {branch}: {n} members.\n★ secretary ☆ organising member ⏸ on leave "
        "✈ mobile ✓ on Telegram"
    ).format(branch=html.quote(branch.name), n=found.total)
    if blocked:
        text += "\n" + _("📵 cannot be reached: blocked the bot (until they write to it again)")
    return text, keyboard(rows)


async def card_view(session: AsyncSession, principal: Principal, member: Member):
    branch = await orgs.require_org(session, member.org_id)
    if not principal.can_lead(branch):
        raise ServiceError("access.denied")
    act = lambda a: MemberAct(member=member.id, act=a, v=member.version).pack()
    rows = []
    if principal.can_manage(branch):
        offered = {
            Role.secretary: (_("Make secretary"), "secretary"),
            Role.organiser: (_("Make organising member"), "organiser"),
        }
        # Only the roles the member does not hold already.
        rows.append(
            [
                Button(text=text, callback_data=act(code))
                for role, (text, code) in offered.items()
                if member.role != role
            ]
        )
        if member.role != Role.member:
            rows.append([Button(text=_("Remove from this role"), callback_data=act("member"))])
    rows.append(
        [
            Button(text=_("✏️ Name"), callback_data=act("name")),
            Button(text=_("✏️ Phone"), callback_data=act("phone")),
        ]
    )
    rows.append(
        [
            Button(text=_("Status ▸"), callback_data=act("status")),
            Button(text=_("Category ▸"), callback_data=act("category")),
        ]
    )
    if member.telegram_id and principal.can_manage(branch):
        rows.append([Button(text=_("Unlink Telegram account"), callback_data=act("unlink"))])
    rows.append(
        [Button(text=_("◀ Roster"), callback_data=RosterPage(org=branch.id, page=0).pack())]
    )
    record = member_record(member, await orgs.display_path(session, branch))
    return "\n".join([record, *await priority_line(session, member)]), keyboard(rows)


@router.message(Command("roster"))
@router.message(MenuButton(ROSTER))
async def roster(message: Message, session: AsyncSession, principal: Principal) -> None:
    text, markup = await roster_view(session, principal, principal.led_branch_id(), 0)
    await message.answer(text, reply_markup=markup)


@router.message(Command("invite"))
@router.message(MenuButton(INVITE))
async def invite(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
) -> None:
    await send_invite(
        message,
        bot,
        session,
        principal,
        clock,
        settings,
        principal.led_branch_id(),
        InviteKind.member,
    )


@router.callback_query(RosterPage.filter())
async def page(
    query: CallbackQuery, callback_data: RosterPage, session: AsyncSession, principal: Principal
) -> None:
    text, markup = await roster_view(session, principal, callback_data.org, callback_data.page)
    await query.answer()
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(MemberCard.filter())
async def card(
    query: CallbackQuery, callback_data: MemberCard, session: AsyncSession, principal: Principal
) -> None:
    member = await members.require_member(session, callback_data.member)
    text, markup = await card_view(session, principal, member)
    await query.answer()
    await query.message.edit_text(text, reply_markup=markup)


async def _card_as_it_is(session: AsyncSession, principal: Principal, member_id: int):
    """The card as the database has it now (another change may have landed meanwhile)."""
    member = await session.get(Member, member_id, populate_existing=True)
    if member is None:
        raise ServiceError("member.not_found")
    return await card_view(session, principal, member)


async def _stale(query: CallbackQuery, session, principal, err: ServiceError, member_id: int):
    """A press on an older card: say so, and show the card as it stands now."""
    if err.code != "record.stale":
        raise err
    text, markup = await _card_as_it_is(session, principal, member_id)
    await query.answer(error_text(err, _), show_alert=True)
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(MemberAct.filter(F.act.in_(set(ROLE_ACTS) | {"unlink"})))
async def change_role(
    query: CallbackQuery,
    callback_data: MemberAct,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    member = await members.require_member(session, callback_data.member)
    if not principal.can_manage(await orgs.require_org(session, member.org_id)):
        raise ServiceError("access.denied")
    try:
        if callback_data.act == "unlink":
            await members.unlink_telegram(
                session, principal.actor, clock.now(), member, version=callback_data.v
            )
        else:
            await members.set_role(
                session,
                principal.actor,
                clock.now(),
                member,
                ROLE_ACTS[callback_data.act],
                version=callback_data.v,
            )
    except ServiceError as err:
        await _stale(query, session, principal, err, member.id)
        return
    text, markup = await card_view(session, principal, member)
    await query.answer(_("Saved."))
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(MemberAct.filter(F.act.in_({"status", "category"})))
async def choose(
    query: CallbackQuery, callback_data: MemberAct, session: AsyncSession, principal: Principal
) -> None:
    member = await members.require_member(session, callback_data.member)
    await card_view(session, principal, member)  # checks the right to edit
    field = callback_data.act
    options = (
        [(s.value, status_label(s, _)) for s in MemberStatus]
        if field == "status"
        else [(c.value, category_label(c, _)) for c in Category]
    )
    rows = [
        [
            Button(
                text=label,
                callback_data=MemberSet(
                    member=member.id, field=field, value=value, v=callback_data.v
                ).pack(),
            )
        ]
        for value, label in options
    ]
    rows.append([Button(text=_("◀ Back"), callback_data=MemberCard(member=member.id).pack())])
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=keyboard(rows))


@router.callback_query(MemberSet.filter(F.field.in_({"status", "category"})))
async def set_choice(
    query: CallbackQuery,
    callback_data: MemberSet,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    member = await members.require_member(session, callback_data.member)
    await card_view(session, principal, member)
    try:
        await members.update_member(
            session,
            principal.actor,
            clock.now(),
            member,
            version=callback_data.v,
            **{callback_data.field: callback_data.value},
        )
    except ServiceError as err:
        await _stale(query, session, principal, err, member.id)
        return
    text, markup = await card_view(session, principal, member)
    await query.answer(_("Saved."))
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(MemberAct.filter(F.act.in_(TEXT_FIELDS)))
async def ask_value(
    query: CallbackQuery,
    callback_data: MemberAct,
    session: AsyncSession,
    principal: Principal,
    state: FSMContext,
) -> None:
    member = await members.require_member(session, callback_data.member)
    await card_view(session, principal, member)
    await state.set_state(EditMember.value)
    await state.update_data(member_id=member.id, field=callback_data.act, version=callback_data.v)
    prompt = (
        _("Type the new name:")
        if callback_data.act == "name"
        else _("Type the new mobile number (11 digits), or “-” to clear it:")
    )
    await query.answer()
    await query.message.answer(prompt)


@router.message(EditMember.value, F.text, ~F.text.startswith("/"))
async def save_value(
    message: Message, state: FSMContext, session: AsyncSession, principal: Principal, clock: Clock
) -> None:
    data = await state.get_data()
    member = await members.require_member(session, data["member_id"])
    await card_view(session, principal, member)
    value = None if data["field"] == "phone" and message.text.strip() == "-" else message.text
    try:
        await members.update_member(
            session,
            principal.actor,
            clock.now(),
            member,
            version=data.get("version"),
            **{data["field"]: value},
        )
    except ServiceError as err:
        if err.code != "record.stale":
            raise
        await state.clear()
        text, markup = await _card_as_it_is(session, principal, member.id)
        await message.answer(error_text(err, _) + "\n\n" + text, reply_markup=markup)
        return
    await state.clear()
    text, markup = await card_view(session, principal, member)
    await message.answer(_("Saved.") + "\n\n" + text, reply_markup=markup)
