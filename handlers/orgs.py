"""For the superior's staff: browse the organisation tree, add units, invite links."""

from __future__ import annotations

from aiogram import Bot, F, html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import Domain, InviteKind, OrgKind
from bot.services import onboarding, orgs
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.texts import domain_label, kind_label
from handlers.callbacks import Month, NewDomain, NewKind, OrgAct, OrgView, RosterPage
from handlers.menu import ORGS, MenuButton
from handlers.registry import Handlers
from handlers.states import NewOrg
from handlers.views import Button, keyboard, org_heading, pager, redraw

router = Handlers("orgs")


async def top_view(session: AsyncSession, principal: Principal, page: int):
    if principal.is_superuser:
        found = await orgs.children_page(session, None, page)
        units = found.items
    else:
        found, units = None, principal.staff_orgs
    counts = await orgs.member_counts(session, units)
    rows = [
        [Button(text=_unit_label(o.name, counts[o.id]), callback_data=OrgView(org=o.id).pack())]
        for o in units
    ]
    if found is not None:
        rows.append(pager(found, lambda p: OrgView(org=0, page=p)))
    if not units:
        return _(
            "There are no organisations yet. Create the top committee with:\n"
            "<code>branchbot org add NAME</code>, or import a roster."
        ), None
    return _("Organisations you oversee:"), keyboard(rows)


def _unit_label(name: str, members: int) -> str:
    # The count says what it counts: a bare number beside a name reads as anything.
    return _("{name} · members: {n}").format(name=name, n=members)


async def org_view(session: AsyncSession, principal: Principal, org_id: int, page: int):
    org = await orgs.require_org(session, org_id)
    if not principal.can_manage(org):
        raise ServiceError("access.denied")
    children = await orgs.children_page(session, org.id, page)
    counts = await orgs.member_counts(session, [org, *children.items])
    text = org_heading(org, await orgs.display_path(session, org), counts[org.id])
    rows = [
        [
            Button(
                text=f"{'🏛' if c.kind == OrgKind.committee else '🚩'} "
                + _unit_label(c.name, counts[c.id]),
                callback_data=OrgView(org=c.id).pack(),
            )
        ]
        for c in children.items
    ]
    rows.append(pager(children, lambda p: OrgView(org=org.id, page=p)))
    act = lambda a: OrgAct(org=org.id, act=a).pack()
    if org.kind == OrgKind.committee:
        rows.append(
            [
                Button(text=_("➕ Add a unit"), callback_data=act("new")),
                Button(text=_("🧑‍💼 Staff invite"), callback_data=act("staff")),
            ]
        )
    else:
        rows.append(
            [
                Button(text=_("👥 Roster"), callback_data=RosterPage(org=org.id, page=0).pack()),
                Button(text=_("🔗 Invite link"), callback_data=act("invite")),
            ]
        )
        rows.append(
            [
                Button(text=_("📋 Checklist"), callback_data=Month(org=org.id).pack()),
                Button(text=_("⛔ Withdraw invite links"), callback_data=act("revoke")),
            ]
        )
    up = (
        org.parent_id
        if org.parent_id and principal.can_manage(await orgs.require_org(session, org.parent_id))
        else 0
    )
    rows.append([Button(text=_("⬆ Up"), callback_data=OrgView(org=up).pack())])
    return text, keyboard(rows)


@router.message(Command("orgs"))
@router.message(MenuButton(ORGS))
async def list_orgs(message: Message, session: AsyncSession, principal: Principal) -> None:
    if not principal.is_staff:
        raise ServiceError("access.denied")
    text, markup = await top_view(session, principal, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(OrgView.filter())
async def browse(
    query: CallbackQuery, callback_data: OrgView, session: AsyncSession, principal: Principal
) -> None:
    if not principal.is_staff:
        raise ServiceError("access.denied")
    if callback_data.org == 0:
        text, markup = await top_view(session, principal, callback_data.page)
    else:
        text, markup = await org_view(session, principal, callback_data.org, callback_data.page)
    await redraw(query, text, markup)


def invite_url(username: str, code: str) -> str:
    return f"https://t.me/{username}?start={code}"


async def send_invite(
    message: Message,
    bot: Bot,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
    org_id: int,
    kind: InviteKind,
) -> None:
    ttl = settings.invite_ttl_days or None
    invite = await onboarding.create_invite(
        session, principal, clock.now(), org_id, kind=kind, ttl_days=ttl
    )
    org = await orgs.require_org(session, org_id)
    me = await bot.me()
    lines = [
        (
            _("Invite link for members of {org}:")
            if kind is InviteKind.member
            else _("Single-use staff invite for {org}:")
        ).format(org=html.quote(org.name)),
        html.quote(invite_url(me.username, invite.code)),
    ]
    if invite.expires_at:
        lines.append(_("Valid for {days} days.").format(days=ttl))
    await message.answer("\n".join(lines))


@router.callback_query(OrgAct.filter(F.act.in_({"invite", "staff"})))
async def invite(
    query: CallbackQuery,
    callback_data: OrgAct,
    bot: Bot,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
) -> None:
    kind = InviteKind.staff if callback_data.act == "staff" else InviteKind.member
    await send_invite(
        query.message, bot, session, principal, clock, settings, callback_data.org, kind
    )
    await query.answer()


@router.callback_query(OrgAct.filter(F.act == "revoke"))
async def revoke(
    query: CallbackQuery,
    callback_data: OrgAct,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    n = await onboarding.revoke_invites(session, principal, clock.now(), callback_data.org)
    await query.answer(_("Invite links withdrawn: {n}.").format(n=n), show_alert=True)


@router.callback_query(OrgAct.filter(F.act == "new"))
async def new_unit(
    query: CallbackQuery,
    callback_data: OrgAct,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
) -> None:
    parent = await orgs.require_org(session, callback_data.org)
    if not principal.can_manage(parent) or parent.kind != OrgKind.committee:
        raise ServiceError("access.denied")
    await state.set_state(NewOrg.kind)
    await state.update_data(parent_id=parent.id)
    kinds = [Button(text=kind_label(k, _), callback_data=NewKind(kind=k).pack()) for k in OrgKind]
    await query.answer()
    await query.message.answer(
        _("A new unit under {parent}. Is it a committee or a branch?").format(
            parent=html.quote(parent.name)
        ),
        reply_markup=keyboard([kinds]),
    )


@router.callback_query(NewOrg.kind, NewKind.filter(F.kind.in_(set(OrgKind))))
async def new_kind(query: CallbackQuery, callback_data: NewKind, state: FSMContext) -> None:
    await state.update_data(kind=callback_data.kind)
    await state.set_state(NewOrg.name)
    await redraw(
        query, _("Type the name of the new {kind}:").format(kind=kind_label(callback_data.kind, _))
    )


@router.message(NewOrg.name, F.text, ~F.text.startswith("/"))
async def new_name(
    message: Message, state: FSMContext, session: AsyncSession, clock: Clock, principal: Principal
) -> None:
    name = orgs.clean_name(message.text)
    await orgs.require_name_free(session, (await state.get_data())["parent_id"], name)
    data = await state.update_data(name=name)
    if data["kind"] == OrgKind.branch:
        await state.set_state(NewOrg.domain)
        rows = [
            [Button(text=domain_label(d, _), callback_data=NewDomain(domain=d).pack())]
            for d in Domain
        ]
        await message.answer(_("Which domain is the branch in?"), reply_markup=keyboard(rows))
        return
    await _create(message, state, session, clock, principal, None)


@router.callback_query(NewOrg.domain, NewDomain.filter(F.domain.in_(set(Domain))))
async def new_domain(
    query: CallbackQuery,
    callback_data: NewDomain,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
) -> None:
    await query.answer()
    await _create(query.message, state, session, clock, principal, callback_data.domain)


async def _create(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    domain: str | None,
) -> None:
    data = await state.get_data()
    parent = await orgs.require_org(session, data["parent_id"])
    if not principal.can_manage(parent):
        raise ServiceError("access.denied")
    org = await orgs.create_org(
        session,
        principal.actor,
        clock.now(),
        name=data["name"],
        kind=data["kind"],
        parent_id=parent.id,
        domain=domain,
    )
    await state.clear()
    text, markup = await org_view(session, principal, org.id, 0)
    await message.answer(_("Created.") + "\n\n" + text, reply_markup=markup)
