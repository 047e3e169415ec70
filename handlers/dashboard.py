"""The superior's dashboard in chat, branch charts, committee charts and the Excel ledger."""

from __future__ import annotations

import asyncio
import io

from aiogram import html
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import charts
from bot.clock import Clock
from bot.i18n import fmt_number, fmt_percent
from bot.services import dashboard as dash
from bot.services import ledgers, ratings
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.paging import page_of
from bot.texts import stars
from handlers.callbacks import Chart, Dash, ExportLedger, Month, RateBranch
from handlers.registry import Handlers
from handlers.views import Button, clip, keyboard, list_sep, named, pager

router = Handlers("dashboard")
VIEWS = ("home", "one", "five", "up", "down", "late", "subs", "all")
SHOWN = 3


def _signed(value, locale: str) -> str:
    text = fmt_number(abs(value), locale)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else "±0"


def _title(board: dash.Dashboard) -> str:
    return board.title or _("All organisations you oversee")


def _names(lines: list[dash.BranchLine], locale: str, extra) -> str:
    return list_sep().join(f"{html.quote(b.name)} {extra(b)}" for b in lines[:SHOWN]) or "—"


def home_text(board: dash.Dashboard) -> str:
    locale = get_i18n().current_locale
    if not board.total:
        # A new city: a page of zeros ("0 branches", "compliance 0.0%") read as a verdict.
        head = _("{title} · {period}").format(title=html.quote(_title(board)), period=board.period)
        return f"📊 <b>{head}</b>\n" + _("No month has been closed yet: close one with /stars.")
    spread = " · ".join(f"{'★' * n} {count}" for n, count in board.stars.items())
    lines = [
        _("📊 <b>{title}</b> · {period} · {n} branches").format(
            title=html.quote(_title(board)), period=board.period, n=board.total
        ),
        spread,
        _("Compliance rate: {rate} ({met} of {n})").format(
            rate=fmt_percent(board.compliance, locale), met=board.met, n=board.total
        ),
        _("Star levels confirmed: {done} of {n}").format(done=board.confirmed, n=board.total),
        "",
        _("⚠️ One star — rectification of weak and lax organisations: {n}").format(
            n=len(board.level(1))
        ),
        _("🏅 Five stars — advanced: {n}").format(n=len(board.level(5))),
        _("📈 Biggest rises: {names}").format(
            names=_names(board.rising(), locale, lambda b: _signed(b.change, locale))
        ),
        _("📉 Biggest falls: {names}").format(
            names=_names(board.falling(), locale, lambda b: _signed(b.change, locale))
        ),
        _("⏰ Branches with overdue items: {n}").format(n=len(board.overdue())),
    ]
    return "\n".join(lines)


def home_keyboard(board: dash.Dashboard, org: int):
    if not board.total:
        return None  # every list, chart and ledger would be empty

    def b(text: str, view: str) -> Button:
        return Button(text=text, callback_data=Dash(org=org, view=view).pack())

    rows = [
        [b(_("⚠️ One star"), "one"), b(_("🏅 Five stars"), "five")],
        [b(_("📈 Rises"), "up"), b(_("📉 Falls"), "down"), b(_("⏰ Overdue"), "late")],
        [b(_("🏛 Sub-committees"), "subs"), b(_("📋 All branches"), "all")],
        [
            Button(text=_("📈 Chart"), callback_data=Chart(kind="c", org=org).pack()),
            Button(text=_("📥 Excel ledger"), callback_data=ExportLedger(org=org).pack()),
        ],
    ]
    return keyboard(rows)


LIST_TITLES = {
    "one": lambda: _("⚠️ One-star branches (rectification of weak and lax organisations)"),
    "five": lambda: _("🏅 Five-star branches (advanced)"),
    "up": lambda: _("📈 Biggest rises since the month before"),
    "down": lambda: _("📉 Biggest falls since the month before"),
    "late": lambda: _("⏰ Branches with overdue items"),
    "all": lambda: _("📋 All branches"),
    "subs": lambda: _("🏛 Sub-committees"),
}


def list_view(board: dash.Dashboard, org: int, view: str, page: int):
    locale = get_i18n().current_locale
    chosen = {
        "one": lambda: board.level(1),
        "five": lambda: board.level(5),
        "up": board.rising,
        "down": board.falling,
        "late": board.overdue,
        "all": lambda: board.branches,
    }
    head = _("{title} · {period}").format(title=LIST_TITLES[view](), period=board.period)
    rows: list[list[Button]] = []
    if view == "subs":
        shown = page_of(board.children, page)
        for sub in shown.items:
            text = _("{name} · {n} branches · compliance rate {rate}").format(
                name=sub.org.name, n=sub.branches, rate=fmt_percent(sub.compliance, locale)
            )
            rows.append([Button(text=text, callback_data=Dash(org=sub.org.id).pack())])
    else:
        shown = page_of(chosen[view](), page)
        for b in shown.items:
            extra = fmt_number(b.score, locale)
            if view in ("up", "down") and b.change is not None:
                extra = _signed(b.change, locale)
            elif view == "late":
                extra = _("{n} overdue").format(n=b.overdue)
            rows.append(
                [
                    Button(
                        text=f"{stars(b.star)} {b.name} · {extra}",
                        callback_data=RateBranch(org=b.org_id).pack(),
                    )
                ]
            )
    if not shown.total:
        head += "\n" + _("None.")
    rows.append(pager(shown, lambda p: Dash(org=org, view=view, page=p)))
    rows.append([Button(text=_("◀ Dashboard"), callback_data=Dash(org=org).pack())])
    return head, keyboard(rows)


async def board_view(session, principal, rubric, clock: Clock, org: int, view: str, page: int):
    if view not in VIEWS:
        raise ServiceError("stale")
    root = await _root(session, org)
    period = await dash.latest_period(session, principal, clock.today(), root)
    board = await dash.dashboard(session, rubric, principal, period, org or None)
    if view == "home":
        return home_text(board), home_keyboard(board, org)
    return list_view(board, org, view, page)


async def _root(session, org: int):
    from bot.services import orgs

    return await orgs.require_org(session, org) if org else None


async def show_dashboard(
    message: Message, session, principal: Principal, rubric, clock: Clock
) -> None:
    text, markup = await board_view(session, principal, rubric, clock, 0, "home", 0)
    await message.answer(text, reply_markup=markup)


@router.message(Command("dashboard"))
async def dashboard_cmd(
    message: Message, session: AsyncSession, principal: Principal, rubric, clock: Clock
) -> None:
    if not principal.is_staff:
        raise ServiceError("access.denied")
    await show_dashboard(message, session, principal, rubric, clock)


@router.callback_query(Dash.filter())
async def turn(
    query: CallbackQuery, callback_data: Dash, session: AsyncSession, principal, rubric, clock
) -> None:
    text, markup = await board_view(
        session, principal, rubric, clock, callback_data.org, callback_data.view, callback_data.page
    )
    await query.answer()
    await query.message.edit_text(clip(text), reply_markup=markup)


@router.callback_query(RateBranch.filter())
async def rate_branch(
    query: CallbackQuery, callback_data: RateBranch, session: AsyncSession, principal, rubric, clock
) -> None:
    from handlers.ask import star_text

    today = clock.today()
    answer = await ratings.star_answer(session, rubric, principal, today, callback_data.org)
    rows = [
        [
            Button(text=_("📋 Checklist"), callback_data=Month(org=answer.branch.id).pack()),
            Button(text=_("📈 Chart"), callback_data=Chart(kind="b", org=answer.branch.id).pack()),
        ]
    ]
    await query.answer()
    await query.message.answer(star_text(answer, rubric, today), reply_markup=keyboard(rows))


def branch_title(answer: ratings.StarAnswer) -> str:
    return _("{branch} · {month} · Fortress Index").format(
        branch=answer.branch.name, month=answer.checklist.period
    )


def committee_title(board: dash.Dashboard) -> str:
    return f"{_title(board)} · {board.period}"


def branch_picture(answer: ratings.StarAnswer, rubric) -> bytes:
    cl = answer.checklist
    names = {d.key: named(d) for d in rubric.dimensions}
    data = charts.BranchChart(
        title=branch_title(answer),
        basics_title=_("The six basics (earned / possible)"),
        history_title=_("Score by month"),
        earned_label=_("earned"),
        possible_label=_("possible"),
        basics=[
            (names.get(d.key, d.key), float(d.points), float(d.max_points))
            for d in cl.result.dimensions
        ],
        history=[(m.period, float(m.score), float(m.max_score)) for m in answer.history]
        + [(cl.period, float(cl.score), float(cl.max_score))],
    )
    return charts.branch_chart(data)


def committee_picture(board: dash.Dashboard) -> bytes:
    data = charts.CommitteeChart(
        title=committee_title(board),
        stars_title=_("Branches per star level"),
        trend_title=_("Compliance rate by month"),
        stars=board.stars,
        trend=[(month, rate) for month, rate, _n in board.trend],
    )
    return charts.committee_chart(data)


@router.callback_query(Chart.filter())
async def chart(
    query: CallbackQuery, callback_data: Chart, session: AsyncSession, principal, rubric, clock
) -> None:
    if callback_data.kind == "b":
        answer = await ratings.star_answer(
            session, rubric, principal, clock.today(), callback_data.org or None, with_gap=False
        )
        render, arg, name = branch_picture, (answer, rubric), "branch.png"
        title = branch_title(answer)
    elif callback_data.kind == "c":
        root = await _root(session, callback_data.org)
        period = await dash.latest_period(session, principal, clock.today(), root)
        board = await dash.dashboard(session, rubric, principal, period, callback_data.org or None)
        render, arg, name = committee_picture, (board,), "committee.png"
        title = committee_title(board)
    else:
        raise ServiceError("stale")
    await query.answer(_("Drawing the chart…"))
    # Drawing is CPU work: keep the event loop free for other people's updates (the
    # thread inherits the context, so the labels are in this person's language).
    png = await asyncio.to_thread(render, *arg)
    await query.message.answer_photo(
        BufferedInputFile(png, filename=name), caption=html.quote(title)
    )


async def build_ledger(session, principal: Principal, rubric, clock, org: int):
    """The ledger file for the person's scope (or `org` in it), checked before anything is
    said: (file, caption)."""
    root = await _root(session, org)
    period = await dash.latest_period(session, principal, clock.today(), root)
    roots = dash.scope_roots(principal, root)
    ledger = await ledgers.ratings_ledger(session, period, roots)
    out = io.BytesIO()
    zh = get_i18n().current_locale == "zh_Hans"
    # Half a second of CPU for a city: off the event loop, like the charts.
    await asyncio.to_thread(ledgers.write_ratings_xlsx, ledger, rubric, out, _, zh)
    name = f"{'星级台账' if zh else 'ratings'}-{period}.xlsx"
    caption = _("Ratings ledger for {period}: {n} branches.").format(
        period=period, n=len(ledger.branches)
    )
    return BufferedInputFile(out.getvalue(), filename=name), caption


@router.message(Command("export"))
async def export_cmd(
    message: Message, session: AsyncSession, principal: Principal, rubric, clock
) -> None:
    if not principal.is_staff:
        raise ServiceError("access.denied")
    file, caption = await build_ledger(session, principal, rubric, clock, 0)
    await message.answer_document(file, caption=caption)


@router.callback_query(ExportLedger.filter())
async def export_pressed(
    query: CallbackQuery,
    callback_data: ExportLedger,
    session: AsyncSession,
    principal: Principal,
    rubric,
    clock: Clock,
) -> None:
    if not principal.is_staff:
        raise ServiceError("access.denied")
    file, caption = await build_ledger(session, principal, rubric, clock, callback_data.org)
    await query.answer()
    await query.message.answer_document(file, caption=caption)
