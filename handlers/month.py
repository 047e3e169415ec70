"""“This month”: the branch's checklist with progress, score, star and the way to the next star."""

from __future__ import annotations

from collections import OrderedDict

from aiogram import html
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.models import MeetingKind
from bot.i18n import fmt_date, fmt_number
from bot.services import checklist, evidence, orgs
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.paging import page_of
from bot.texts import meeting_kind_label, stars
from handlers.callbacks import FixItem, ItemView, MeetingList, Month, NewMeeting, RecordItem
from handlers.meeting_log import start_log
from handlers.menu import MONTH, MenuButton
from handlers.registry import Handlers
from handlers.views import (
    ANY,
    MESSAGE_LIMIT,
    Button,
    checklist_heading,
    keyboard,
    list_sep,
    meetings_heading,
    named,
    org_title,
    pager,
    reads_as,
    redraw,
    split_html,
    star_heading,
    tg_length,
)

router = Handlers("month")
PAGE = 8


def _branch_id(principal: Principal, org: int) -> int:
    if org:
        return org
    if principal.branch is None:
        # Staff belong to no branch but oversee many: point them to where those are.
        raise ServiceError("month.staff" if principal.is_staff else "month.no_branch")
    return principal.branch.id


async def checklist_view(
    session: AsyncSession,
    principal: Principal,
    rubric,
    clock: Clock,
    org: int,
    page: int,
):
    branch = await orgs.require_org(session, _branch_id(principal, org))
    if not principal.can_see(branch):
        raise ServiceError("access.denied")
    period = clock.today().strftime("%Y-%m")
    cl = await checklist.month_checklist(session, rubric, branch, period)
    locale = get_i18n().current_locale
    # Everything the view shows is drawn from these: the checklist's basis stands for
    # its facts, content, rubric and month (bot/services/checklist.py).
    key = (branch.id, org, page, locale, principal.can_lead(branch))
    drawn = _drawn.get(key)
    if drawn is not None and cl.basis is not None and drawn[0] is cl.basis:
        if drawn[1] == branch.name:
            _drawn.move_to_end(key)
            return drawn[2]
    view = _draw(cl, principal, rubric, branch, org, page, locale, period)
    if cl.basis is not None:
        _drawn[key] = (cl.basis, branch.name, view)
        if len(_drawn) > DRAWN_SIZE:
            _drawn.popitem(last=False)
    return view


# (branch, organisation asked for, page, locale, may lead) -> (basis, branch name, view)
_drawn: OrderedDict[tuple, tuple[object, str, tuple]] = OrderedDict()
DRAWN_SIZE = 4096


def _draw(cl, principal: Principal, rubric, branch, org: int, page: int, locale: str, period: str):
    lines = [
        checklist_heading(branch.name, period),
        _("Done {done}/{total} · score {score} of {max} · {stars}").format(
            done=cl.done,
            total=cl.total,
            score=fmt_number(cl.score, locale),
            max=fmt_number(cl.max_score, locale),
            stars=stars(cl.star),
        ),
    ]
    lines += deduction_lines(cl)
    lines += gap_lines(cl, rubric)
    material = material_lines(cl)
    extra: list[str] = []
    if material and tg_length("\n".join(lines + material)) > MESSAGE_LIMIT:
        # Too much to fit: the checklist stays one message, the material follows it.
        lines.append(
            _("📚 This month's material: {n} items, listed below.").format(n=len(material) - 1)
        )
        extra = split_html(material)
    else:
        lines += material
    shown = page_of(cl.entries, page, PAGE)
    rows = [
        [
            Button(
                text=f"{'✅' if e.done else '⬜'} {named(e)} ({fmt_number(e.possible, locale)})",
                callback_data=ItemView(org=branch.id, item=e.spec.key).pack(),
            )
        ]
        for e in shown.items
    ]
    rows.append(pager(shown, lambda p: Month(org=org, page=p)))
    if principal.can_lead(branch):
        rows.append(
            [
                Button(
                    text=_("📝 Log a meeting"),
                    callback_data=NewMeeting(org=branch.id).pack(),
                ),
                Button(text=_("🗂 Meetings"), callback_data=MeetingList(org=branch.id).pack()),
            ]
        )
    return "\n".join(lines), keyboard(rows), extra


def _shows_checklist(message, name: str, period: str) -> bool:
    """Whether `message` is the checklist of the branch called `name` for `period`, the
    only message an item button is drawn on (or one of its items, drawn under the same
    heading)."""
    return reads_as(message, checklist_heading(name, period))


def _bears_checklist_button(message, branch) -> bool:
    """Whether `message` is one the bot draws a checklist button (`mo:`) of `branch` on:
    its checklist (a page turn), an item of it or /tasks, its star answer, its meeting
    list, its card in /orgs. Any month: an older message's button shows this month's."""
    return reads_as(
        message,
        checklist_heading(branch.name, ANY),
        star_heading(branch.name, ANY),
        meetings_heading(branch.name, ANY, ANY),
        org_title(branch),
    )


def material_lines(cl) -> list[str]:
    if not cl.content:
        return []
    lines = [_("📚 This month's material:")]
    for c in cl.content:
        title = html.quote(c.title)
        lines.append(f'• <a href="{html.quote(c.url)}">{title}</a>' if c.url else f"• {title}")
    return lines


def deduction_lines(cl) -> list[str]:
    """Every deduction the score carries, and why: never "done, +0" without a reason."""
    locale = get_i18n().current_locale
    lines = []
    for d in cl.deductions:
        points = fmt_number(d.points, locale).replace("-", "−")
        if d.months:
            text = _("{points}: {item} — {months}").format(
                points=points, item=html.quote(named(d)), months=", ".join(d.months)
            )
        else:
            text = _("{points}: {item}").format(points=points, item=html.quote(named(d)))
        lines.append("⚠️ " + text)
    return lines


def gap_lines(cl, rubric) -> list[str]:
    if cl.closed:
        return [_("This month is closed; the record is frozen.")]
    gap = cl.gap
    if gap is None or not gap.levels:
        return [_("This is the top star level. Keep it up!")] if cl.star >= 5 else []
    level = gap.levels[0]
    if not level.reachable and level.blocked_by:
        return [_("The next star cannot be reached this month any more.")]
    locale = get_i18n().current_locale
    if not level.reachable:
        return [_unreachable_text(level, rubric, locale)]
    steps = "; ".join(_step_text(s, rubric, locale) for s in level.steps) or "—"
    return [_("To reach {stars}: {steps}").format(stars=stars(level.stars), steps=steps)]


def _unreachable_text(level, rubric, locale: str) -> str:
    """All the branch can still record falls short. "Cannot be reached" would tell a new
    branch to give up while the superior has not graded it yet: name those items."""
    if not level.graded:
        return _("What the branch can still record this month is not enough for {stars}.").format(
            stars=stars(level.stars)
        )
    items = list_sep().join(
        _("{item} (up to +{points})").format(
            item=html.quote(named(rubric.item(key))), points=fmt_number(points, locale)
        )
        for key, points in level.graded
    )
    values = {
        "stars": stars(level.stars),
        "most": fmt_number(level.own_best, locale),
        "need": fmt_number(level.min_points, locale),
        "items": items,
    }
    if level.own_best is not None and level.own_best < level.min_points:
        return _(
            "What the branch can still record this month brings it to {most} points at "
            "most; {stars} needs {need}. The rest depends on items your superior "
            "organisation grades: {items}."
        ).format(**values)
    return _("{stars} also depends on items your superior organisation grades: {items}.").format(
        **values
    )


def _step_text(step, rubric, locale: str) -> str:
    """ "2 × theme party day (+6)" for meetings, the item's name otherwise."""
    change = step.change
    if str(change.kind) == "meeting":
        what = meeting_kind_label(change.key, _)
        what = f"{change.count} × {what}" if change.count > 1 else what
    else:
        what = list_sep().join(named(rubric.item(key)) for key in step.items[:2]) or change.key
    points = fmt_number(step.points, locale)
    return _("{what} (+{points})").format(what=html.quote(what), points=points)


@router.message(Command("month"))
@router.message(MenuButton(MONTH))
async def month(
    message: Message,
    session: AsyncSession,
    principal: Principal,
    rubric,
    clock: Clock,
) -> None:
    text, markup, extra = await checklist_view(session, principal, rubric, clock, 0, 0)
    await message.answer(text, reply_markup=markup)
    for part in extra:
        await message.answer(part)


@router.callback_query(Month.filter())
async def turn(
    query: CallbackQuery,
    callback_data: Month,
    session: AsyncSession,
    principal: Principal,
    rubric,
    clock: Clock,
) -> None:
    # The data is the client's to write, and the button sits on several kinds of message:
    # a press on any other message (which this would redraw as the checklist), or naming
    # another branch than the message it sits on, is refused and changes nothing.
    branch = await orgs.require_org(session, _branch_id(principal, callback_data.org))
    if not principal.can_see(branch):
        raise ServiceError("access.denied")
    if not _bears_checklist_button(query.message, branch):
        raise ServiceError("stale")
    # Page turns redraw the checklist only; the material was sent with it (/month).
    text, markup, _extra = await checklist_view(
        session, principal, rubric, clock, callback_data.org, callback_data.page
    )
    await redraw(query, text, markup)


@router.callback_query(ItemView.filter())
async def item(
    query: CallbackQuery,
    callback_data: ItemView,
    session: AsyncSession,
    principal: Principal,
    rubric,
    clock: Clock,
) -> None:
    branch = await orgs.require_org(session, callback_data.org)
    if not principal.can_see(branch):
        raise ServiceError("access.denied")
    period = clock.today().strftime("%Y-%m")
    # The data is the client's to write: a press naming another branch than the
    # checklist it sits on, on a checklist of an earlier month, or on any other message
    # (which this would redraw as the item) is refused, and changes nothing.
    if not _shows_checklist(query.message, branch.name, period):
        raise ServiceError("stale")
    cl = await checklist.month_checklist(session, rubric, branch, period, with_gap=False)
    entry = next((e for e in cl.entries if e.spec.key == callback_data.item), None)
    if entry is None:
        raise ServiceError("stale")
    locale = get_i18n().current_locale
    lines = [
        checklist_heading(branch.name, period),
        f"{'✅' if entry.done else '⬜'} <b>{html.quote(named(entry))}</b>",
        _("Points: {earned} of {possible}").format(
            earned=fmt_number(entry.earned, locale), possible=fmt_number(entry.possible, locale)
        ),
        _("Due: {date}").format(date=fmt_date(entry.spec.due, locale)),
        _("What counts: {evidence}").format(evidence=evidence_text(entry)),
    ]
    shown = None
    if entry.recordable_by != "meeting":
        shown = await evidence.recorded(session, rubric, branch, entry.spec.key, period)
        lines += recorded_lines(shown, locale, clock)
    rows = []
    if principal.can_lead(branch) and not cl.closed:
        if entry.recordable_by == "meeting":
            rows.append(
                [
                    Button(
                        text=_("📝 Log this meeting"),
                        callback_data=NewMeeting(
                            org=branch.id, kind=entry.spec.evidence_key
                        ).pack(),
                    )
                ]
            )
        elif entry.recordable_by == "leader" or principal.can_manage(branch):
            rows.append(
                [
                    Button(
                        text=_("📎 Record it"),
                        callback_data=RecordItem(org=branch.id, item=entry.spec.key).pack(),
                    )
                ]
            )
            if shown is not None and shown.rows and str(shown.kind) in ("events", "ratio"):
                fix = FixItem(org=branch.id, item=entry.spec.key, v=shown.version)
                rows[-1].append(Button(text=_("✏️ Correct"), callback_data=fix.pack()))
    rows.append([Button(text=_("◀ Checklist"), callback_data=Month(org=branch.id).pack())])
    await redraw(query, "\n".join(lines), keyboard(rows))


SHOWN_ROWS = 8


def recorded_lines(shown, locale: str, clock: Clock) -> list[str]:
    """What was recorded for the item this month, one line per recording (the latest
    few), and the month's figures the checklist reads."""
    if not shown.rows:
        return [_("Nothing recorded this month yet.")]
    lines = [_("Recorded this month:")]
    rows = shown.rows[-SHOWN_ROWS:]
    if len(shown.rows) > len(rows):
        lines.append(_("… {n} earlier").format(n=len(shown.rows) - len(rows)))
    for r in rows:
        when = fmt_date(r.created_at.astimezone(clock.tz).date(), locale)
        if r.correction:
            sign = "+" if r.count >= 0 else "−"
            what = _("corrected ({change})").format(change=f"{sign}{abs(r.count)}")
        elif r.grade is not None:
            what = html.quote(r.grade)
        elif r.of is not None:
            what = f"{r.count}/{r.of}"
        else:
            what = str(r.count)
        note = f" · {html.quote(r.note[:40])}" if r.note else ""
        proof = " 📎" if r.file_kind else ""
        lines.append(f"• {when} · {what}{note}{proof}")
    if str(shown.kind) in ("events", "ratio"):
        total = f"{shown.total}/{shown.of}" if shown.of is not None else str(shown.total)
        lines.append(_("This month's figure: {figures}").format(figures=total))
    return lines


def evidence_text(entry) -> str:
    kind = str(entry.spec.evidence)
    if kind in ("meetings", "attendance", "months_without"):
        return _(
            "{kind} logged in the bot (meetings that need a quorum count only when it is met)"
        ).format(kind=meeting_kind_label(entry.spec.evidence_key, _))
    if kind == "grade":
        return _("a grade given by the superior organisation")
    return _("a record with a note, and a photo or document if you have one")


@router.callback_query(NewMeeting.filter())
async def new_meeting(
    query: CallbackQuery,
    callback_data: NewMeeting,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    kind = callback_data.kind if callback_data.kind in set(MeetingKind) else None
    await query.answer()
    await start_log(query.message, state, session, principal, clock, callback_data.org, kind)
