"""Joining a branch from an invite link: find yourself on the roster, prove it, or ask."""

from __future__ import annotations

from aiogram import Bot, F, html
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import InviteKind
from bot.services import onboarding, orgs
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.onboarding import ClaimKind, ClaimOutcome, Confirmer
from bot.texts import error_text
from handlers.callbacks import JoinAsk, JoinNew, JoinPage, JoinPick
from handlers.menu import menu_keyboard
from handlers.notify import notify_approvers, tell_joined, waiting_hint
from handlers.registry import Handlers
from handlers.states import Join
from handlers.views import Button, keyboard, pager, redraw

router = Handlers("join")


async def roster_view(
    session: AsyncSession, clock: Clock, invite_id: int | None, query: str, page: int
):
    found = await onboarding.join_roster(session, clock.now(), invite_id, query, page)
    rows = [[Button(text=m.name, callback_data=JoinPick(member=m.id).pack())] for m in found.items]
    rows.append(pager(found, lambda p: JoinPage(page=p)))
    rows.append([Button(text=_("I am not on the roster"), callback_data=JoinNew().pack())])
    if found.total == 0 and query:
        text = _("No one called “{query}” is waiting to join. Try another part of your name.")
        return text.format(query=html.quote(query)), keyboard(rows)
    return _("Tap your name, or type part of it to search:"), keyboard(rows)


async def _invite_id(state: FSMContext) -> int | None:
    """The invite this person opened: every joining step is bound to it, not to ids in
    a button (which anyone can forge)."""
    return (await state.get_data()).get("invite_id")


@router.message(CommandStart(deep_link=True))
async def open_invite(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
) -> None:
    invite, org = await onboarding.open_invite(session, command.args or "", clock.now())
    if invite.kind == InviteKind.staff:
        org = await onboarding.accept_staff_invite(
            session, clock.now(), invite, message.from_user.id, message.from_user.full_name
        )
        principal.staff_orgs.append(org)
        text = _("You now act for {org} and everything under it. Try /orgs.")
        hint = waiting_hint(await onboarding.pending_count(session, principal))
        await message.answer(
            text.format(org=html.quote(org.name)) + hint, reply_markup=menu_keyboard(principal)
        )
        return
    if principal.member is not None:
        raise ServiceError("join.already_member")
    path = await orgs.display_path(session, org)
    await state.set_state(Join.search)
    await state.set_data({"invite_id": invite.id})
    await message.answer(_("You are joining <b>{path}</b>.").format(path=html.quote(path)))
    text, markup = await roster_view(session, clock, invite.id, "", 0)
    await message.answer(text, reply_markup=markup)


@router.message(Join.search, F.text, ~F.text.startswith("/"))
async def search(message: Message, state: FSMContext, session: AsyncSession, clock: Clock) -> None:
    data = await state.update_data(query=message.text[:50])
    text, markup = await roster_view(session, clock, data.get("invite_id"), data["query"], 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(JoinPage.filter())
async def turn_page(
    query: CallbackQuery,
    callback_data: JoinPage,
    session: AsyncSession,
    state: FSMContext,
    clock: Clock,
) -> None:
    # The search typed earlier (kept in the conversation) still filters the pages.
    data = await state.get_data()
    text, markup = await roster_view(
        session, clock, data.get("invite_id"), data.get("query", ""), callback_data.page
    )
    await redraw(query, text, markup)


@router.callback_query(JoinPick.filter())
async def pick(
    query: CallbackQuery,
    callback_data: JoinPick,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    user = query.from_user
    outcome = await onboarding.claim_member(
        session, clock.now(), await _invite_id(state), callback_data.member, user.id, user.full_name
    )
    await query.answer()
    if outcome.kind is ClaimKind.needs_contact:
        await state.set_state(Join.contact)
        await state.update_data(member_id=callback_data.member)
        share = KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)
        await query.message.answer(
            _("To confirm you are {name}, share your phone number with the button below.").format(
                name=html.quote(outcome.member.name)
            ),
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[[share]], resize_keyboard=True, one_time_keyboard=True
            ),
        )
        return
    await _after_request(
        query.message, state, session, clock, settings, i18n, outcome, user.full_name
    )


@router.message(Join.contact, F.contact)
async def contact(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    bot: Bot,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    try:
        member = await onboarding.confirm_contact(
            session,
            clock.now(),
            data.get("invite_id"),
            data["member_id"],
            message.from_user.id,
            message.contact.user_id,
            message.contact.phone_number,
        )
    except ServiceError as err:
        if err.code != "join.contact_mismatch":
            raise
        ask = JoinAsk(member=data["member_id"])
        invite = await onboarding.require_join_invite(session, data.get("invite_id"), clock.now())
        who, _ids = await onboarding.confirmers(session, invite.org_id)
        await message.answer(
            error_text(err, _, html=True),
            reply_markup=keyboard([[Button(text=_ask_label(who), callback_data=ask.pack())]]),
        )
        return
    await state.clear()
    await tell_joined(message, session, principal, member)


@router.message(Join.contact)
async def contact_expected(message: Message) -> None:
    await message.answer(_("Please use the “Share my phone number” button, or /cancel."))


@router.callback_query(JoinAsk.filter())
async def ask_secretary(
    query: CallbackQuery,
    callback_data: JoinAsk,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    user = query.from_user
    outcome = await onboarding.request_approval_for(
        session, clock.now(), await _invite_id(state), callback_data.member, user.id, user.full_name
    )
    await query.answer()
    await _after_request(
        query.message, state, session, clock, settings, i18n, outcome, user.full_name
    )


@router.callback_query(JoinNew.filter())
async def not_on_roster(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    invite = await onboarding.require_join_invite(session, await _invite_id(state), clock.now())
    await state.set_state(Join.name)
    await state.set_data({"invite_id": invite.id})
    await query.answer()
    await query.message.answer(_("Please type your full name as the branch knows it:"))


@router.message(Join.name, F.text, ~F.text.startswith("/"))
async def typed_name(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    try:
        outcome = await onboarding.request_as_new(
            session, clock.now(), data.get("invite_id"), message.from_user.id, message.text
        )
    except ServiceError as err:
        if err.code != "join.name_on_roster":
            raise
        # Back to the roster, found by the name they typed.
        query = err.params["name"][:50]
        await state.set_state(Join.search)
        await state.update_data(query=query)
        text, markup = await roster_view(session, clock, data.get("invite_id"), query, 0)
        await message.answer(error_text(err, _, html=True))
        await message.answer(text, reply_markup=markup)
        return
    await _after_request(
        message, state, session, clock, settings, i18n, outcome, message.from_user.full_name
    )


async def _after_request(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
    outcome: ClaimOutcome,
    tg_name: str,
) -> None:
    await state.clear()
    await notify_approvers(session, clock, settings, i18n, outcome, tg_name)
    if outcome.kind is ClaimKind.conflict:
        if outcome.confirmer is Confirmer.secretary:
            text = _(
                "{name} is already linked to another Telegram account. The secretary has been told."
            )
        elif outcome.confirmer is Confirmer.organiser:
            text = _(
                "{name} is already linked to another Telegram account. "
                "The branch's organising member has been told."
            )
        elif outcome.confirmer is Confirmer.staff:
            text = _(
                "{name} is already linked to another Telegram account. "
                "The superior organisation's staff have been told."
            )
        else:
            text = _("{name} is already linked to another Telegram account.")
        await message.answer(
            text.format(name=html.quote(outcome.member.name)), reply_markup=ReplyKeyboardRemove()
        )
        return
    await message.answer(_sent_text(outcome.confirmer), reply_markup=ReplyKeyboardRemove())


def _ask_label(who: Confirmer) -> str:
    if who is Confirmer.secretary:
        return _("Ask the secretary to confirm me")
    if who is Confirmer.organiser:
        return _("Ask the organising member to confirm me")
    if who is Confirmer.staff:
        return _("Ask the superior organisation to confirm me")
    return _("Ask to be confirmed")


def _sent_text(who: Confirmer) -> str:
    """Where the request really went: the secretary joining their own branch is confirmed
    by the superior's staff, not by "the secretary"."""
    if who is Confirmer.secretary:
        return _(
            "Your request has been sent to the branch secretary. I will tell you when it is "
            "decided."
        )
    if who is Confirmer.organiser:
        return _(
            "Your request has been sent to the branch's organising member. I will tell you "
            "when it is decided."
        )
    if who is Confirmer.staff:
        return _(
            "No one in the branch is on the bot yet, so your request has been sent to the "
            "superior organisation's staff. I will tell you when it is decided."
        )
    return _(
        "Your request is saved, but no one can confirm it yet: neither the branch nor its "
        "superior organisation has anyone on the bot. Please tell your superior organisation; "
        "I will tell you when it is decided."
    )
