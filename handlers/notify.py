"""Messages to people other than the sender: approvers, and the member who was decided on.

They go through the outbox (`tell`): written in the update's transaction, so nobody hears
about a change that was not saved, and sent by the sender within the flood limits; a
person who blocked the bot does not hold up the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import html
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import Member, Organisation, Role
from bot.i18n import fmt_datetime
from bot.services import onboarding, orgs, outbox, prefs
from bot.services.calendar import deliver_at, parse_quiet_hours
from bot.services.errors import ServiceError
from bot.services.members import Principal, load_principal
from bot.services.onboarding import ClaimKind, ClaimOutcome, Confirmer
from bot.texts import error_text
from handlers.callbacks import Decide, RequestDecide, Requests
from handlers.menu import menu_keyboard
from handlers.registry import Handlers
from handlers.views import Button, keyboard, pager, redraw

log = logging.getLogger(__name__)
router = Handlers("approvals")


async def tell(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    chat_id: int,
    text: str,
    *,
    key: str,
    kind: str,
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None,
    quiet: bool = True,
    tz: ZoneInfo | None = None,
) -> datetime:
    """Queue `text` for `chat_id` once per `key`; `quiet`: not during quiet hours (of `tz`,
    the recipient's organisation's time zone; the default one if not given). Returns when
    it may go out."""
    now = clock.now()
    envelope = outbox.Envelope(
        chat_id=chat_id,
        text=text,
        key=key,
        kind=kind,
        markup=_plain(markup),
        not_before=_when(clock, settings, quiet, tz),
    )
    await outbox.enqueue(session, now, [envelope])
    return envelope.not_before


Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | None


async def tell_each(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
    chat_ids: Iterable[int],
    render: Callable[[int], tuple[str, Markup]],
    *,
    key: str,
    kind: str,
    quiet: bool = True,
    tz: ZoneInfo | None = None,
) -> int:
    """Queue one message per chat, each in its person's language: `render(chat_id)` runs
    with that language active and gives the text and buttons. The message for a chat is
    keyed `key:chat_id`, so telling the same people about the same thing twice is once."""
    ids = sorted({c for c in chat_ids if c})
    if not ids:
        return 0
    now = clock.now()
    when = _when(clock, settings, quiet, tz)
    locales = await prefs.locales_for(session, ids, i18n.default_locale)
    envelopes = []
    for chat_id in ids:
        with i18n.use_locale(locales[chat_id]):
            text, markup = render(chat_id)
        envelopes.append(
            outbox.Envelope(
                chat_id=chat_id,
                text=text,
                key=f"{key}:{chat_id}",
                kind=kind,
                markup=_plain(markup),
                not_before=when,
            )
        )
    return await outbox.enqueue(session, now, envelopes)


def zone_of(settings: Settings, org: Organisation | None) -> ZoneInfo:
    """The organisation's own time zone, else the deployment's."""
    return ZoneInfo(org.timezone) if org is not None and org.timezone else settings.tz


def _when(clock: Clock, settings: Settings, quiet: bool, tz: ZoneInfo | None) -> datetime:
    now = clock.now()
    if not quiet:
        return now
    return deliver_at(now, tz or settings.tz, parse_quiet_hours(settings.quiet_hours))


def _plain(markup: Markup) -> dict | None:
    return markup.model_dump(mode="json", exclude_none=True) if markup else None


async def notify_approvers(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
    outcome: ClaimOutcome,
    tg_name: str,
) -> None:
    if not outcome.notify:
        return
    org_id = outcome.request.org_id if outcome.request else outcome.member.org_id
    org = await orgs.require_org(session, org_id)
    locales = await prefs.locales_for(session, outcome.notify, i18n.default_locale)
    for chat_id in outcome.notify:
        with i18n.use_locale(locales[chat_id]):
            if outcome.kind is ClaimKind.conflict:
                text = _(
                    "⚠️ Someone on Telegram ({tg}) tried to join {branch} as {name}, "
                    "who is already linked to another account. If this is wrong, unlink "
                    "the old account in the roster."
                ).format(
                    tg=html.quote(tg_name),
                    branch=html.quote(org.name),
                    name=html.quote(outcome.member.name),
                )
                key = f"join-conflict:{outcome.member.id}:{clock.now():%Y%m%d%H%M%S}:{chat_id}"
                await tell(session, clock, settings, chat_id, text, key=key, kind="approval")
                continue
            req = outcome.request
            text = _("New request to join {branch}: {name} ({where}), Telegram: {tg}.").format(
                branch=html.quote(org.name),
                name=html.quote(req.name),
                where=_on_roster(outcome.member),
                tg=html.quote(tg_name),
            )
            if outcome.confirmer is Confirmer.staff:
                text += "\n" + _(
                    "No one in this branch is on the bot yet to confirm it, so it comes to you."
                )
            buttons = [
                [
                    Button(
                        text=_("✅ Approve"), callback_data=Decide(request=req.id, ok=True).pack()
                    ),
                    Button(
                        text=_("❌ Reject"), callback_data=Decide(request=req.id, ok=False).pack()
                    ),
                ]
            ]
            await tell(
                session,
                clock,
                settings,
                chat_id,
                text,
                key=f"join:{req.id}:{chat_id}",
                kind="approval",
                markup=keyboard(buttons),
            )


def _on_roster(member: Member | None) -> str:
    if member is None:
        return _("not on the roster")
    name = html.quote(member.name)
    if member.role == Role.secretary:
        return _("on the roster as {name}, the branch secretary").format(name=name)
    if member.role == Role.organiser:
        return _("on the roster as {name}, the organising member").format(name=name)
    return _("on the roster as {name}").format(name=name)


def _role_note(member: Member) -> str:
    """A leader joining learns they lead: the menu below changed for that reason."""
    if member.role == Role.secretary:
        return "\n" + _(
            "The roster names you as the branch secretary: /month is the branch's checklist, "
            "/help shows all you can do."
        )
    if member.role == Role.organiser:
        return "\n" + _(
            "The roster names you as the branch's organising member: /month is the branch's "
            "checklist, /help shows all you can do."
        )
    return ""


# Refusals that mean the notice itself is out of date: its buttons are taken away.
_SETTLED = frozenset(
    {
        "request.not_found",
        "request.already_decided",
        "request.withdrawn",
        "request.requester_linked",
        "request.member_gone",
        "request.member_taken",
    }
)


async def tell_joined(
    message: Message, session: AsyncSession, principal: Principal, member: Member
) -> None:
    principal.member = member
    principal.branch = await orgs.require_org(session, member.org_id)
    path = await orgs.display_path(session, principal.branch)
    text = _("Welcome, {name}! You are now linked to {path}. /me shows your record.").format(
        name=html.quote(member.name), path=html.quote(path)
    )
    hint = waiting_hint(await onboarding.pending_count(session, principal))
    await message.answer(text + _role_note(member) + hint, reply_markup=menu_keyboard(principal))


@router.callback_query(Decide.filter())
async def decide(
    query: CallbackQuery,
    callback_data: Decide,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    i18n: I18n,
    settings: Settings,
) -> None:
    try:
        result = await onboarding.decide(
            session, principal, clock.now(), callback_data.request, callback_data.ok
        )
    except ServiceError as err:
        if err.code not in _SETTLED:
            raise
        # Nothing was written; the notice says why and loses the buttons that cannot act.
        reason = error_text(err, _, html=True)
        await query.answer(error_text(err, _), show_alert=True)
        await query.message.edit_text(f"{query.message.html_text}\n\n⚠️ {reason}", reply_markup=None)
        return
    await query.answer()
    done = _decided(result, callback_data.ok, html.quote)
    await query.message.edit_text(f"{query.message.html_text}\n\n{done}", reply_markup=None)
    await _tell_requester(session, clock, settings, i18n, result, callback_data.ok)


def _decided(result: onboarding.Decision, ok: bool, quote) -> str:
    """What was decided, said where it was taken; names through quote (html.quote in a
    message, str in a toast)."""
    if ok:
        # The roster entry that was linked, not only the name the request was made under.
        return _("✅ Approved: {tg} is now linked as {name}.").format(
            tg=quote(result.request.name), name=quote(result.member.name)
        )
    return _("❌ {name} rejected.").format(name=quote(result.request.name))


async def _tell_requester(
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
    result: onboarding.Decision,
    ok: bool,
) -> None:
    """The person who asked hears the decision, wherever it was taken."""
    requester = result.request.telegram_id
    locale = (await prefs.locales_for(session, [requester], i18n.default_locale))[requester]
    joined = await load_principal(session, requester, settings.superuser_ids)
    waiting = await onboarding.pending_count(session, joined) if ok else 0
    with i18n.use_locale(locale):
        if ok:
            path = await orgs.display_path(session, result.org)
            text = _("Your request was approved. Welcome to {path}! /me shows your record.")
            text = text.format(path=html.quote(path)) + _role_note(result.member)
            text += waiting_hint(waiting)
            markup = menu_keyboard(joined)
        else:
            text = _(
                "Your request to join {branch} was not approved. Please talk to your secretary."
            ).format(branch=html.quote(result.org.name))
            markup = None
    # They are waiting for this answer: it is not held back by quiet hours.
    await tell(
        session,
        clock,
        settings,
        requester,
        text,
        key=f"join:{result.request.id}:decided",
        kind="approval",
        markup=markup,
        quiet=False,
    )


def waiting_hint(n: int) -> str:
    """Told once, in the reply to someone who has just become able to decide join
    requests made before anyone could: nobody else tells them."""
    if not n:
        return ""
    return "\n" + _("Join requests waiting for your decision: {n}. /requests lists them.").format(
        n=n
    )


async def requests_view(
    session: AsyncSession, principal: Principal, settings: Settings, locale: str, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    found = await onboarding.pending_requests(session, principal, page)
    if not found.total:
        return _("No join requests are waiting for your decision."), None
    lines = [
        _("<b>Join requests waiting for your decision: {n}</b> (newest first)").format(
            n=found.total
        )
    ]
    rows = []
    for number, w in enumerate(found.items, start=found.page * found.size + 1):
        when = fmt_datetime(w.created_at.astimezone(settings.tz), locale, "short")
        if w.member is None:
            asked = _("{name}, not on the roster").format(name=html.quote(w.name))
        else:
            asked = _("{tg}, as {name} on the roster").format(
                tg=html.quote(w.name), name=html.quote(w.member)
            )
        lines.append(
            _("{number}. {asked} — {branch}, {when}").format(
                number=number, asked=asked, branch=html.quote(w.branch), when=when
            )
        )
        label = w.name if len(w.name) <= 24 else w.name[:23] + "…"
        rows.append(
            [
                Button(
                    text=_("✅ Approve {number}. {name}").format(number=number, name=label),
                    callback_data=RequestDecide(request=w.id, ok=True, page=found.page).pack(),
                ),
                Button(
                    text=_("❌ Reject {number}").format(number=number),
                    callback_data=RequestDecide(request=w.id, ok=False, page=found.page).pack(),
                ),
            ]
        )
    rows.append(pager(found, lambda p: Requests(page=p)))
    return "\n".join(lines), keyboard(rows)


@router.message(Command("requests"))
async def requests(
    message: Message,
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    i18n: I18n,
) -> None:
    text, markup = await requests_view(session, principal, settings, i18n.current_locale, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(Requests.filter())
async def requests_page(
    query: CallbackQuery,
    callback_data: Requests,
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    i18n: I18n,
) -> None:
    page = callback_data.page
    text, markup = await requests_view(session, principal, settings, i18n.current_locale, page)
    await redraw(query, text, markup)


@router.callback_query(RequestDecide.filter())
async def decide_listed(
    query: CallbackQuery,
    callback_data: RequestDecide,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    i18n: I18n,
    settings: Settings,
) -> None:
    """A decision from the list: the same decision as the notice's buttons (every refusal
    included), then the list again, as it stands after it."""
    ok = callback_data.ok
    try:
        result = await onboarding.decide(session, principal, clock.now(), callback_data.request, ok)
    except ServiceError as err:
        if err.code not in _SETTLED:
            raise
        # Nothing was written: the alert says why, the list shows what is left to decide.
        text, markup = await requests_view(
            session, principal, settings, i18n.current_locale, callback_data.page
        )
        await redraw(query, text, markup, error_text(err, _), alert=True)
        return
    await _tell_requester(session, clock, settings, i18n, result, ok)
    done = _decided(result, ok, str)  # a toast: plain text
    text, markup = await requests_view(
        session, principal, settings, i18n.current_locale, callback_data.page
    )
    await redraw(query, text, markup, done)
