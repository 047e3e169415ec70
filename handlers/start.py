"""/start without an invite, /help, /me, /language, /cancel and the menu's own buttons."""

from __future__ import annotations

from aiogram import F, html
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.i18n import N_
from bot.services import onboarding, orgs, prefs
from bot.services.errors import ServiceError
from bot.services.members import Principal
from handlers.callbacks import Lang
from handlers.menu import HELP, LANGUAGE, ME, MenuButton, menu_keyboard
from handlers.notify import waiting_hint
from handlers.registry import Handlers
from handlers.states import Join
from handlers.views import Button, keyboard, whoami

router = Handlers("start")


def language_keyboard():
    return keyboard(
        [
            [
                Button(text="中文", callback_data=Lang(code="zh_Hans").pack()),
                Button(text="English", callback_data=Lang(code="en").pack()),
            ]
        ]
    )


@router.message(Command("cancel"))
@router.message(F.text.in_({"取消", "Cancel", "cancel"}), ~StateFilter(None))
async def cancel(message: Message, state: FSMContext, principal: Principal) -> None:
    had = await state.get_state()
    await state.clear()
    text = _("Cancelled. Nothing was saved.") if had else _("There is nothing to cancel.")
    await message.answer(text, reply_markup=menu_keyboard(principal) or ReplyKeyboardRemove())


@router.message(CommandStart(deep_link=False), F.text.regexp(r"^/start(@\w+)?\s*$"))
async def start(
    message: Message, state: FSMContext, principal: Principal, session: AsyncSession
) -> None:
    await state.clear()
    if principal.left_branch is not None and not principal.is_staff:
        # Their old menu goes with the membership.
        await message.answer(_left_text(principal), reply_markup=ReplyKeyboardRemove())
        return
    if principal.member is None and not principal.is_staff:
        await message.answer(
            _(
                "Hello! I am branchbot, the assistant for your branch's monthly work: "
                "the Fortress Index checklist, meeting records, member self-assessments "
                "and votes.\n\nTo join, ask your branch secretary for an invite link and "
                "open it. Choose your language:"
            ),
            reply_markup=language_keyboard(),
        )
        return
    name = principal.member.name if principal.member else message.from_user.full_name
    # Not "welcome back": staff named from the command line meet the bot here first.
    # Staff named from the command line are told nothing else of the join requests that
    # waited for someone able to decide them.
    hint = waiting_hint(await onboarding.pending_count(session, principal))
    await message.answer(
        _("Hello, {name}. Use the menu below, or /help.").format(name=html.quote(name)) + hint,
        reply_markup=menu_keyboard(principal),
    )


@router.message(Command("help"))
@router.message(MenuButton(HELP))
async def help_(message: Message, principal: Principal) -> None:
    lines = [_("What I can do for you:")]
    if principal.member is not None:
        lines.append(_("/month — this month's checklist, score and star level"))
        lines.append(_("/rating — our star rating, what is still open, the way to the next star"))
        lines.append(_("/tasks — what is still outstanding this month"))
        lines.append(_("/mygrade — my Vanguard Index grade"))
    if principal.is_branch_leader:
        lines.append(_("   … log meetings and record other work from there"))
        lines.append(_("/announce — announce a meeting in the branch group, with RSVPs"))
        lines.append(_("/linkgroup — send it in the branch group to link the group"))
        lines.append(_("/roster — the branch roster; fix a member's record"))
        lines.append(_("/invite — an invite link for new members"))
        if not principal.is_staff:  # theirs come with the staff's lines
            lines.append(_("/requests — join requests waiting for your decision"))
    if principal.is_staff:
        lines += staff_lines()
    lines.append(_("You can also just ask, e.g. “what's my star rating?” or “what's left to do?”"))
    lines.append(_("/me — who I am, my branch and my roles"))
    lines.append(_("/language — 中文 / English"))
    lines.append(_("/notifications — which reminders you get"))
    lines.append(_("/cancel — leave the current step"))
    if principal.member is None and not principal.is_staff:
        lines.append(_("To join, open the invite link your branch secretary gives you."))
    await message.answer("\n".join(lines), reply_markup=menu_keyboard(principal))


def staff_lines() -> list[str]:
    """The commands of the superior's staff, one a line (/help, and the fallback's hint)."""
    return [
        _("/orgs — organisations you oversee: add units, invite links, roles"),
        _("/requests — join requests waiting for your decision"),
        _("/stars — close a month, confirm or adjust star levels"),
        _("/dashboard — my branches: stars, compliance rate, charts, drill-down"),
        _("/export — the month's ratings ledger as an Excel file"),
        _("/content — add this month's education material"),
        _("/broadcast — an announcement to the branches you oversee"),
    ]


@router.message(Command("me"))
@router.message(MenuButton(ME))
async def me(
    message: Message, principal: Principal, session: AsyncSession, state: FSMContext, clock: Clock
) -> None:
    if principal.member is None and not principal.is_staff:
        await message.answer(await _not_joined_yet(principal, session, state, clock))
        return
    # A member's branch path came with the principal: names are read for staff only.
    paths = await orgs.names_on_path(session, principal.staff_orgs)
    staff_paths = [paths[o.id] for o in principal.staff_orgs]
    await message.answer(
        whoami(principal, principal.branch_path, staff_paths),
        reply_markup=menu_keyboard(principal),
    )


# What /me says on each joining step: where the newcomer is, and the one thing to do next.
_JOIN_NEXT = {
    Join.search.state: N_(
        "Tap your name in the list above, or type part of it to search. "
        "If you are not on the roster, tap “I am not on the roster”."
    ),
    Join.contact.state: N_(
        "Share your phone number with the button below, so the bot can check it is you."
    ),
    Join.name.state: N_("Type your full name as the branch knows it."),
}


def _left_text(principal: Principal) -> str:
    return _(
        "You are no longer on the roster of {branch}: your membership there has ended. "
        "If that is a mistake, please ask your branch secretary."
    ).format(branch=html.quote(principal.left_branch.name))


async def _not_joined_yet(
    principal: Principal, session: AsyncSession, state: FSMContext, clock: Clock
) -> str:
    """/me for someone not (yet) on a roster: where their joining stands, not a bare "no"."""
    step = await state.get_state()
    if step in _JOIN_NEXT:
        try:
            invite = await onboarding.require_join_invite(
                session, (await state.get_data()).get("invite_id"), clock.now()
            )
        except ServiceError:
            invite = None  # the invite ran out meanwhile: they must open a new one
        if invite is not None:
            path = await orgs.display_path(session, await orgs.require_org(session, invite.org_id))
            lead = _("You are joining <b>{path}</b> and are not on its roster yet.").format(
                path=html.quote(path)
            )
            return f"{lead}\n{_(_JOIN_NEXT[step])}\n" + _("/cancel stops joining.")
    return await where_they_stand(session, principal) or _(
        "You are not linked to any branch yet. Open the invite link from your secretary."
    )


async def where_they_stand(session: AsyncSession, principal: Principal) -> str | None:
    """For someone on no roster: that they left their branch, or that their request to
    join waits for the secretary; None when neither (they have still to open a link)."""
    if principal.left_branch is not None:
        return _left_text(principal)
    waiting = await onboarding.awaited_branch(session, principal.telegram_id)
    if waiting is not None:
        path = await orgs.display_path(session, waiting)
        return _(
            "Your request to join <b>{path}</b> is waiting for the branch secretary's "
            "decision. I will tell you as soon as it is decided."
        ).format(path=html.quote(path))
    return None


@router.message(Command("language"))
@router.message(MenuButton(LANGUAGE))
async def language(message: Message) -> None:
    await message.answer(_("Choose your language:"), reply_markup=language_keyboard())


@router.callback_query(Lang.filter())
async def set_language(
    query: CallbackQuery,
    callback_data: Lang,
    principal: Principal,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    await prefs.set_locale(session, principal, callback_data.code)
    with i18n.use_locale(callback_data.code):
        await query.answer()
        await query.message.edit_text(_("Language set: English."))
        hint = (
            _("Use the menu below, or /help.")
            if principal.member or principal.is_staff
            else _("To join, open the invite link your branch secretary gives you.")
        )
        await query.message.answer(hint, reply_markup=menu_keyboard(principal))
