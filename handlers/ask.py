"""Questions: /rating, /tasks, /mygrade, and free text in a private chat, answered in words.

`router` holds the commands; `fallback` answers any private message no conversation
step took (it is included after every feature router, so it never swallows the text a
step is waiting for).
"""

from __future__ import annotations

from datetime import date

from aiogram import F, html
from aiogram.filters import Command, StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.i18n import fmt_date, fmt_number, fmt_when
from bot.intents import Intent, detect_intent
from bot.services import grades, ratings
from bot.services.members import Principal
from bot.texts import meeting_kind_label, stars
from handlers.callbacks import Ask, Chart, Dash, Month
from handlers.evaluation import priority_line
from handlers.month import gap_lines
from handlers.registry import Handlers
from handlers.stars import previous_month
from handlers.start import where_they_stand
from handlers.views import Button, checklist_heading, clip, keyboard, named, star_heading

router = Handlers("ask")
fallback = Handlers("ask_fallback")
SHOWN_ITEMS = 6


def _signed(value, locale: str) -> str:
    text = fmt_number(abs(value), locale)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else "±0"


def star_text(answer: ratings.StarAnswer, rubric, today) -> str:
    cl, locale = answer.checklist, get_i18n().current_locale
    lines = [
        star_heading(answer.branch.name, cl.period),
        _("{stars} {score} of {max} — provisional, the month is still open").format(
            stars=stars(cl.star),
            score=fmt_number(cl.score, locale),
            max=fmt_number(cl.max_score, locale),
        ),
    ]
    last = answer.last
    if last is not None:
        status = _("confirmed") if last.confirmed else _("proposed, not yet confirmed")
        # The latest closed month is "last month" only when the one before this was closed.
        adjacent = last.period == previous_month(date.fromisoformat(f"{cl.period}-01"))
        values = {
            "month": last.period,
            "stars": stars(last.star),
            "score": fmt_number(last.score, locale),
            "max": fmt_number(last.max_score, locale),
            "status": status,
            "change": _signed(answer.score_change, locale),
        }
        if adjacent:
            lines.append(
                _("Last month ({month}): {stars} {score} of {max}, {status}").format(**values)
            )
            lines.append(_("Since last month: {change} points").format(**values))
        else:
            lines.append(
                _("Last closed month ({month}): {stars} {score} of {max}, {status}").format(
                    **values
                )
            )
            lines.append(_("Since {month}: {change} points").format(**values))
    lines.append("")
    lines.append(_("<b>The six basics</b> (earned / possible):"))
    names = {d.key: named(d) for d in rubric.dimensions}
    for dim in cl.result.dimensions:
        lines.append(
            f"• {html.quote(names.get(dim.key, dim.key))} "
            f"{fmt_number(dim.points, locale)}/{fmt_number(dim.max_points, locale)}"
        )
    lines.append("")
    lines += outstanding_lines(answer, today, SHOWN_ITEMS)
    gap = gap_lines(cl, rubric)
    if gap:
        lines.append("")
        lines += gap
    return clip("\n".join(lines))


def outstanding_lines(answer: ratings.StarAnswer, today, limit: int) -> list[str]:
    todo, locale = answer.outstanding, get_i18n().current_locale
    if not todo:
        return [_("Nothing is outstanding this month. ✅")]
    lines = [_("<b>Outstanding</b> ({n}):").format(n=len(todo))]
    for e in todo[:limit]:
        mark = "⚠️" if e.spec.due < today else "⬜"
        lines.append(
            _("{mark} {item} (+{points}) · due {date}").format(
                mark=mark,
                item=html.quote(named(e)),
                points=fmt_number(e.possible - e.earned, locale),
                date=fmt_date(e.spec.due, locale),
            )
        )
    if len(todo) > limit:
        lines.append(_("… and {n} more: /tasks").format(n=len(todo) - limit))
    return lines


def answer_keyboard(answer: ratings.StarAnswer, principal: Principal):
    rows = [
        [
            Button(text=_("📋 Checklist"), callback_data=Month(org=answer.branch.id).pack()),
            Button(text=_("📈 Chart"), callback_data=Chart(kind="b", org=answer.branch.id).pack()),
        ],
        [Button(text=_("🚀 Next star"), callback_data=Ask(intent=Intent.NEXT_STAR).pack())],
    ]
    if principal.is_staff:
        rows[-1].append(Button(text=_("📊 Dashboard"), callback_data=Dash().pack()))
    return keyboard(rows)


async def rating(message: Message, session, principal, rubric, clock: Clock) -> None:
    today = clock.today()
    answer = await ratings.star_answer(session, rubric, principal, today)
    markup = answer_keyboard(answer, principal)
    await message.answer(star_text(answer, rubric, today), reply_markup=markup)


async def tasks(message: Message, session, principal, rubric, clock: Clock) -> None:
    today = clock.today()
    answer = await ratings.star_answer(session, rubric, principal, today, with_gap=False)
    head = checklist_heading(answer.branch.name, answer.checklist.period)
    lines = [head, *outstanding_lines(answer, today, 30)]
    markup = keyboard(
        [[Button(text=_("📋 Checklist"), callback_data=Month(org=answer.branch.id).pack())]]
    )
    await message.answer(clip("\n".join(lines)), reply_markup=markup)


async def next_star(message: Message, session, principal, rubric, clock: Clock) -> None:
    today = clock.today()
    answer = await ratings.star_answer(session, rubric, principal, today)
    cl = answer.checklist
    lines = [
        _("🚀 <b>{branch}</b>: {stars} now (provisional)").format(
            branch=html.quote(answer.branch.name), stars=stars(cl.star)
        ),
        *(gap_lines(cl, rubric) or [_("Star levels are decided at month close.")]),
    ]
    await message.answer("\n".join(lines), reply_markup=answer_keyboard(answer, principal))


GRADES = {
    3: lambda: _("excellent"),
    2: lambda: _("qualified"),
    1: lambda: _("basically qualified"),
    0: lambda: _("unqualified"),
}


async def my_grade(message: Message, session, principal, rubric, clock: Clock) -> None:
    year = clock.today().year
    found = await grades.my_grade(session, principal, year)
    if found is None:
        text = _(
            "🏅 Your Vanguard Index for {year}: not yet evaluated this year. Your grade "
            "appears here once the branch's evaluation has been published."
        ).format(year=year)
        await message.answer(text)
        return
    grade = GRADES[int(found.grade)]()
    if found.score is not None:
        locale = get_i18n().current_locale
        grade += " · " + _("{score} of {max}").format(
            score=fmt_number(found.score, locale), max=fmt_number(found.max_score, locale)
        )
    if found.year < year:
        # Last year's stands until this year's is published: say both.
        text = "\n".join(
            [
                _("🏅 Your Vanguard Index for {year} is not yet published.").format(year=year),
                _("Your latest approved grade, for {year}: {grade}").format(
                    year=found.year, grade=grade
                ),
            ]
        )
    else:
        text = _("🏅 Your Vanguard Index for {year}: {grade}").format(year=year, grade=grade)
        if not found.final:
            text += "\n" + _("(in public notice: not final yet)")
    await message.answer("\n".join([text, *await priority_line(session, principal.member)]))


async def next_meeting(message: Message, session, principal, rubric, clock: Clock) -> None:
    locale = get_i18n().current_locale
    notice = await ratings.next_notice(session, principal, clock.now())
    if notice is not None:
        lines = [
            _("📅 Next meeting: {kind} — {topic}").format(
                kind=meeting_kind_label(notice.kind, _), topic=html.quote(notice.topic)
            ),
            _("When: {when}").format(when=fmt_when(notice.starts_at.astimezone(clock.tz), locale)),
        ]
        if notice.place:
            lines.append(_("Where: {place}").format(place=html.quote(notice.place)))
    else:
        lines = [_("📅 No meeting has been announced yet.")]
        answer = await ratings.star_answer(
            session, rubric, principal, clock.today(), with_gap=False
        )
        due = [e for e in answer.outstanding if e.recordable_by == "meeting"]
        if due:
            # Not "meetings": attendance counts here too, and it is no meeting to hold.
            lines.append(_("Still due through the meeting log:"))
            lines += [f"• {html.quote(named(e))} · {fmt_date(e.spec.due, locale)}" for e in due[:6]]
    await message.answer("\n".join(lines))


async def capabilities(message: Message, principal: Principal, session: AsyncSession) -> None:
    if principal.member is None and not principal.is_staff:
        # An applicant waiting for the secretary is told so, not sent to an invite link.
        standing = await where_they_stand(session, principal)
        if standing is not None:
            await message.answer(standing)
            return
        await message.answer(
            _(
                "I answer questions about your branch's star rating and tasks once you "
                "have joined. To join, open the invite link your branch secretary gives you."
            )
        )
        return
    if principal.is_staff and principal.member is None:
        # Staff oversee branches rather than belong to one: their commands, not a
        # member's questions about "our" rating and "my" grade.
        from handlers.start import staff_lines

        lines = [
            _("I did not catch that. For the organisations you oversee:"),
            *staff_lines(),
            _("Or ask in your own words, e.g. “how are my branches doing?”. /help lists all."),
        ]
        await message.answer("\n".join(lines), reply_markup=capability_keyboard(principal))
        return
    await message.answer(
        _(
            "I did not catch that. You can ask me, in your own words:\n"
            "• our star rating — “what's our star rating?”\n"
            "• what is still outstanding this month\n"
            "• what it takes to reach the next star\n"
            "• your own grade (Vanguard Index)\n"
            "• when the next meeting is\n"
            "Or press a button:"
        ),
        reply_markup=capability_keyboard(principal),
    )


def capability_keyboard(principal: Principal):
    rows = []
    if principal.member is not None:
        rows.append(
            [
                Button(text=_("⭐ Star rating"), callback_data=Ask(intent=Intent.RATING).pack()),
                Button(text=_("📋 Outstanding"), callback_data=Ask(intent=Intent.TASKS).pack()),
            ]
        )
        rows.append(
            [
                Button(text=_("🚀 Next star"), callback_data=Ask(intent=Intent.NEXT_STAR).pack()),
                Button(text=_("🏅 My grade"), callback_data=Ask(intent=Intent.GRADE).pack()),
            ]
        )
        rows.append(
            [
                Button(text=_("📅 Next meeting"), callback_data=Ask(intent=Intent.MEETING).pack()),
                Button(text=_("❓ Help"), callback_data=Ask(intent=Intent.HELP).pack()),
            ]
        )
    else:
        row = [Button(text=_("❓ Help"), callback_data=Ask(intent=Intent.HELP).pack())]
        if principal.is_staff:
            row.insert(0, Button(text=_("📊 Dashboard"), callback_data=Dash().pack()))
        rows.append(row)
    return keyboard(rows)


async def show_help(message: Message, principal: Principal) -> None:
    from handlers.start import help_

    await help_(message, principal)


STAFF_INTENTS = frozenset({Intent.RATING, Intent.TASKS, Intent.NEXT_STAR})
MEMBER_ANSWERS = {
    Intent.RATING: rating,
    Intent.TASKS: tasks,
    Intent.NEXT_STAR: next_star,
    Intent.GRADE: my_grade,
    Intent.MEETING: next_meeting,
}


async def answer(intent: Intent, message: Message, session, principal, rubric, clock) -> None:
    """Route an intent to its answer; who asks decides what makes sense.

    Staff asking about ratings, tasks or "my branches" get the dashboard of what they
    oversee, unless they also belong to a branch and ask about it.
    """
    from handlers.dashboard import show_dashboard

    staff_view = principal.is_staff and (
        intent is Intent.DASHBOARD or (principal.member is None and intent in STAFF_INTENTS)
    )
    if intent is Intent.HELP:
        await show_help(message, principal)
    elif staff_view:
        await show_dashboard(message, session, principal, rubric, clock)
    elif intent is Intent.DASHBOARD and principal.member is not None:
        await rating(message, session, principal, rubric, clock)
    elif intent is Intent.UNKNOWN or principal.member is None:
        await capabilities(message, principal, session)
    else:
        await MEMBER_ANSWERS[intent](message, session, principal, rubric, clock)


@router.message(Command("rating"))
async def rating_cmd(message: Message, session: AsyncSession, principal, rubric, clock) -> None:
    await answer(Intent.RATING, message, session, principal, rubric, clock)


@router.message(Command("tasks"))
async def tasks_cmd(message: Message, session: AsyncSession, principal, rubric, clock) -> None:
    await answer(Intent.TASKS, message, session, principal, rubric, clock)


@router.message(Command("mygrade"))
async def grade_cmd(message: Message, session: AsyncSession, principal, rubric, clock) -> None:
    await answer(Intent.GRADE, message, session, principal, rubric, clock)


@router.callback_query(Ask.filter())
async def pressed(
    query: CallbackQuery, callback_data: Ask, session: AsyncSession, principal, rubric, clock
) -> None:
    try:
        intent = Intent(callback_data.intent)
    except ValueError:
        intent = Intent.UNKNOWN
    await query.answer()
    await answer(intent, query.message, session, principal, rubric, clock)


@fallback.message(F.chat.type == "private", F.text, StateFilter(None))
async def free_text(message: Message, session: AsyncSession, principal, rubric, clock) -> None:
    await answer(detect_intent(message.text), message, session, principal, rubric, clock)


@fallback.message(F.chat.type == "private", StateFilter(None))
async def anything_else(message: Message, principal: Principal, session: AsyncSession) -> None:
    await capabilities(message, principal, session)


@fallback.message(F.chat.type == "private")
async def in_a_step(message: Message) -> None:
    # A conversation step that did not take this message: say how to go on.
    await message.answer(_("Please answer the question above, or send /cancel to stop."))
