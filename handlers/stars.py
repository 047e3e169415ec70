"""Month close and star confirmation, for the superior's staff; the branches are told."""

from __future__ import annotations

import re
from datetime import date

from aiogram import F, html
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import fmt_number, fmt_percent
from bot.services import periods, prefs
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.texts import error_text, stars
from handlers.callbacks import StarAct, StarAll, StarList
from handlers.menu import STARS, MenuButton
from handlers.notify import tell
from handlers.registry import Handlers
from handlers.states import AdjustStar
from handlers.views import Button, keyboard, pager, redraw

router = Handlers("stars")
PERIOD = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def previous_month(today: date) -> str:
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _roots(principal: Principal) -> list:
    """The subtrees a month is closed or confirmed for: the city for a superuser."""
    return [None] if principal.is_superuser else list(principal.staff_orgs)


def _staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise ServiceError("access.denied")


async def list_view(session: AsyncSession, principal: Principal, period: str, page: int):
    found = await periods.proposals(session, principal, period, page)
    if found.total == 0:
        rows = [
            [
                Button(
                    text=_("Close {period} now").format(period=period),
                    callback_data=StarAll(period=period, act="close").pack(),
                )
            ]
        ]
        return _("{period} has not been closed yet: no proposed star levels.").format(
            period=period
        ), keyboard(rows)
    locale = get_i18n().current_locale
    rows = []
    for snap, org in found.items:
        mark = "✓" if snap.confirmed_star is not None else "⏳"
        level = snap.confirmed_star if snap.confirmed_star is not None else snap.proposed_star
        rows.append(
            [
                Button(
                    text=f"{mark} {org.name} {stars(level)} {fmt_number(snap.score, locale)}",
                    callback_data=StarAct(snapshot=snap.id, act="view").pack(),
                )
            ]
        )
    rows.append(pager(found, lambda p: StarList(period=period, page=p)))
    if (await periods.pending(session, principal, period)).n:
        # Offered only while something waits: once all are confirmed it could only be refused.
        rows.append(
            [
                Button(
                    text=_("✓ Confirm all proposed levels"),
                    callback_data=StarAll(period=period).pack(),
                )
            ]
        )
    text = _("Star levels for {period} (⏳ proposed, ✓ confirmed): {n} branches.").format(
        period=period, n=found.total
    )
    seen = await periods.overview(session, period, _roots(principal))
    spread = " · ".join(f"{'★' * star} {n}" for star, n in seen.stars.items())
    text += "\n" + _("{spread}; compliance rate: {rate}").format(
        spread=spread, rate=fmt_percent(seen.compliance, locale)
    )
    return text, keyboard(rows)


@router.message(Command("stars"))
@router.message(MenuButton(STARS))
async def stars_cmd(
    message: Message,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    command: CommandObject | None = None,  # absent when the menu button was pressed
) -> None:
    _staff(principal)
    args = command.args if command is not None else None
    period = (args or "").strip() or previous_month(clock.today())
    if not PERIOD.match(period):
        raise ServiceError("period.malformed")
    text, markup = await list_view(session, principal, period, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(StarList.filter())
async def turn(
    query: CallbackQuery, callback_data: StarList, session: AsyncSession, principal: Principal
) -> None:
    _staff(principal)
    text, markup = await list_view(session, principal, callback_data.period, callback_data.page)
    await redraw(query, text, markup)


@router.callback_query(StarAll.filter(F.act.in_({"close", "close_sure"})))
async def close(
    query: CallbackQuery,
    callback_data: StarAll,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    _staff(principal)
    period = callback_data.period
    if period >= clock.today().strftime("%Y-%m"):
        raise ServiceError("period.not_over")
    sure = callback_data.act == "close_sure"
    try:
        done = await periods.close_for_staff(
            session,
            rubric,
            principal,
            clock.now(),
            period,
            confirmed=callback_data.n if sure else None,
        )
    except ServiceError as err:
        if err.code not in ("period.already_closed", "period.close_changed"):
            raise
        await _show_month_as_it_is(query, session, principal, err, period)
        return
    if not done.closed:
        text, markup = empty_month_warning(done.check, rubric.schemes[rubric.default_scheme].lowest)
        await redraw(query, text, markup)
        return
    text, markup = await list_view(session, principal, period, 0)
    await redraw(query, text, markup, _("Closed."))


def empty_month_warning(check: periods.CloseCheck, lowest: int):
    """A month nothing was recorded in: closing it rates every branch on nothing."""
    text = _(
        "⚠️ No work was recorded for {period}: no meeting and no record in any branch.\n"
        "Closing it rates every branch on what is on record (with nothing recorded: 0 "
        "points, {stars}), and once the levels are confirmed each secretary is told.\n"
        "Branches to be rated: {n}\n\nClose {period} anyway?"
    ).format(period=check.period, n=check.to_close, stars=stars(lowest))
    rows = [
        [
            Button(
                text=_("Close {period} anyway").format(period=check.period),
                callback_data=StarAll(
                    period=check.period, act="close_sure", n=check.to_close
                ).pack(),
            ),
            Button(text=_("✖ Cancel"), callback_data=StarList(period=check.period).pack()),
        ]
    ]
    return text, keyboard(rows)


async def _show_month_as_it_is(query, session, principal, err: ServiceError, period: str) -> None:
    """A stale or repeated month-wide decision: say so, and show the month as it is now."""
    await query.answer(error_text(err, _), show_alert=True)
    text, markup = await list_view(session, principal, period, 0)
    await redraw(query, text, markup)


async def detail(session: AsyncSession, principal: Principal, snapshot_id: int):
    snap, org = await periods.get_snapshot(session, principal, snapshot_id)
    locale = get_i18n().current_locale
    lines = [
        f"<b>{html.quote(org.name)}</b> · {snap.period}",
        _("Score: {score} of {max}").format(
            score=fmt_number(snap.score, locale), max=fmt_number(snap.max_score, locale)
        ),
        _("Proposed: {stars}").format(stars=stars(snap.proposed_star)),
    ]
    if snap.confirmed_star is not None:
        lines.append(_("Confirmed: {stars}").format(stars=stars(snap.confirmed_star)))
    if snap.adjust_reason:
        lines.append(_("Reason: {reason}").format(reason=html.quote(snap.adjust_reason)))
    # Once confirmed, the level changes only through the adjust flow, with a reason: a
    # one-tap confirm of the proposed level would silently undo a reasoned adjustment.
    current = snap.proposed_star if snap.confirmed_star is None else snap.confirmed_star
    rows = []
    if snap.confirmed_star is None:
        rows.append(
            [
                Button(
                    text=_("✓ Confirm {stars}").format(stars=stars(snap.proposed_star)),
                    callback_data=StarAct(snapshot=snap.id, act="ok", v=snap.version).pack(),
                )
            ]
        )
    else:
        lines.append(_("To change it, choose another level and give the reason."))
    rows.append(
        [
            Button(
                text="★" * n,
                callback_data=StarAct(snapshot=snap.id, act="set", star=n, v=snap.version).pack(),
            )
            for n in range(1, 6)
            if n != current
        ]
    )
    rows.append([Button(text=_("◀ Back"), callback_data=StarList(period=snap.period).pack())])
    return "\n".join(lines), keyboard(rows)


async def _show_as_it_is(query, session, principal, err: ServiceError, snapshot_id: int) -> None:
    """A stale decision: say so, and show the snapshot as it stands now."""
    await query.answer(error_text(err, _), show_alert=True)
    text, markup = await detail(session, principal, snapshot_id)
    await query.message.edit_text(text, reply_markup=markup)


@router.callback_query(StarAct.filter(F.act == "view"))
async def view(
    query: CallbackQuery, callback_data: StarAct, session: AsyncSession, principal: Principal
) -> None:
    _staff(principal)
    text, markup = await detail(session, principal, callback_data.snapshot)
    await redraw(query, text, markup)


@router.callback_query(StarAct.filter(F.act == "ok"))
async def confirm(
    query: CallbackQuery,
    callback_data: StarAct,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    _staff(principal)
    try:
        snap = await periods.confirm(
            session, principal, clock.now(), callback_data.snapshot, version=callback_data.v
        )
    except ServiceError as err:
        if err.code != "record.stale":
            raise
        await _show_as_it_is(query, session, principal, err, callback_data.snapshot)
        return
    await tell_branches(session, clock, settings, i18n, [snap])
    text, markup = await detail(session, principal, snap.id)
    await redraw(query, text, markup, _("Confirmed."))


@router.callback_query(StarAct.filter(F.act == "set"))
async def adjust(
    query: CallbackQuery,
    callback_data: StarAct,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
) -> None:
    _staff(principal)
    if not 1 <= callback_data.star <= 5:
        raise ServiceError("stale")
    await periods.get_snapshot(session, principal, callback_data.snapshot)
    await state.set_state(AdjustStar.reason)
    await state.update_data(
        snapshot=callback_data.snapshot, star=callback_data.star, version=callback_data.v
    )
    await query.answer()
    await query.message.answer(
        _("Adjusting to {stars}: type the reason (required):").format(
            stars=stars(callback_data.star)
        )
    )


@router.message(AdjustStar.reason, F.text, ~F.text.startswith("/"))
async def adjust_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    try:
        snap = await periods.confirm(
            session,
            principal,
            clock.now(),
            data["snapshot"],
            star=data["star"],
            reason=message.text.strip(),
            version=data.get("version"),
        )
    except ServiceError as err:
        if err.code != "record.stale":
            raise
        await state.clear()
        text, markup = await detail(session, principal, data["snapshot"])
        await message.answer(error_text(err, _) + "\n\n" + text, reply_markup=markup)
        return
    await state.clear()
    await tell_branches(session, clock, settings, i18n, [snap])
    text, markup = await detail(session, principal, snap.id)
    await message.answer(_("Adjusted and confirmed.") + "\n\n" + text, reply_markup=markup)


@router.callback_query(StarAll.filter(F.act == "confirm"))
async def confirm_all_ask(
    query: CallbackQuery, callback_data: StarAll, session: AsyncSession, principal: Principal
) -> None:
    """Every secretary is told: "confirm all" asks first, naming how many."""
    _staff(principal)
    waiting = await periods.pending(session, principal, callback_data.period)
    if waiting.n == 0:
        err = ServiceError("period.nothing_to_confirm", period=callback_data.period)
        await _show_month_as_it_is(query, session, principal, err, callback_data.period)
        return
    lines = [
        _(
            "Confirm the proposed star levels for {period} as they stand? Branches: {n}. "
            "The secretary and organising member of each branch will be told their level."
        ).format(n=waiting.n, period=waiting.period)
    ]
    if not waiting.recorded:
        lines.append(
            _(
                "⚠️ No work was recorded for {period} in these branches: their levels rate an "
                "empty month."
            ).format(period=waiting.period)
        )
    rows = [
        [
            Button(
                text=_("✓ Confirm {n}").format(n=waiting.n),
                callback_data=StarAll(
                    period=waiting.period, act="confirm_sure", n=waiting.n, last=waiting.last
                ).pack(),
            ),
            Button(text=_("✖ Cancel"), callback_data=StarList(period=waiting.period).pack()),
        ]
    ]
    await redraw(query, "\n\n".join(lines), keyboard(rows))


@router.callback_query(StarAll.filter(F.act == "confirm_sure"))
async def confirm_all(
    query: CallbackQuery,
    callback_data: StarAll,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    _staff(principal)
    period = callback_data.period
    try:
        confirmed = await periods.confirm_all(
            session, principal, clock.now(), period, seen=(callback_data.n, callback_data.last)
        )
    except ServiceError as err:
        if err.code not in ("period.nothing_to_confirm", "period.confirm_changed"):
            raise
        await _show_month_as_it_is(query, session, principal, err, period)
        return
    await tell_branches(session, clock, settings, i18n, confirmed)
    text, markup = await list_view(session, principal, period, 0)
    await redraw(query, text, markup, _("Confirmed: {n}.").format(n=len(confirmed)), alert=True)


async def tell_branches(
    session: AsyncSession, clock: Clock, settings: Settings, i18n: I18n, snapshots: list
) -> None:
    """Each branch's secretary and organising member hear their confirmed level."""
    leaders = await periods.branch_leaders_to_tell(session, snapshots)
    ids = sorted({i for group in leaders.values() for i in group})
    locales = await prefs.locales_for(session, ids, i18n.default_locale)
    for snap in snapshots:
        for chat_id in leaders.get(snap.org_id, []):
            with i18n.use_locale(locales[chat_id]):
                text = _(
                    "⭐ The star level of your branch for {period} is confirmed: {stars} "
                    "(score {score})."
                ).format(
                    period=snap.period,
                    stars=stars(snap.confirmed_star),
                    score=fmt_number(snap.score, locales[chat_id]),
                )
                if snap.adjust_reason:
                    text += "\n" + _("Reason for the adjustment: {reason}").format(
                        reason=html.quote(snap.adjust_reason)
                    )
                key = f"stars:{snap.id}:{snap.confirmed_at:%Y%m%d%H%M%S}:{chat_id}"
                await tell(session, clock, settings, chat_id, text, key=key, kind="stars")
