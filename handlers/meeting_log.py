"""Logging a meeting: kind → date → time/place → attendees → topic → notes → photos →
(content used) → summary → save. Back, change any field from the summary, or /cancel.

The draft lives in the conversation state until "Save", so an abandoned conversation
leaves nothing behind; it expires politely after a day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.models import MeetingKind
from bot.services import checklist, content, meetings, orgs, rsvp
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.texts import meeting_kind_label
from handlers.calendar import Cal, month_calendar, picked_date
from handlers.callbacks import Att, LogStep
from handlers.meeting_views import attendee_keyboard, draft_summary, save_report
from handlers.registry import Handlers
from handlers.states import LogMeeting
from handlers.views import (
    Button,
    keyboard,
    parse_time_place,
    step_nav,
    typed_count,
    typed_skip,
)

router = Handlers("meeting_log")

STEPS = ["kind", "date", "where", "attendees", "topic", "notes", "photos", "content"]
EXPIRY = timedelta(days=1)
MAX_PHOTOS = 10


def _nav(back: bool = True, skip: bool = False) -> list[Button]:
    return step_nav(LogStep, back, skip)


async def start_log(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    org_id: int,
    kind: str | None = None,
    draft: dict | None = None,
) -> None:
    """Enter the conversation: a new meeting (optionally of a kind), or an edit of `draft`."""
    branch = await orgs.require_org(session, org_id)
    if not principal.can_lead(branch):
        raise ServiceError("access.denied")
    await state.clear()
    fresh = {
        "org_id": org_id,
        "kind": kind,
        "held_on": clock.today().isoformat(),
        "time": None,
        "place": None,
        "attendees": [],
        "topic": None,
        "notes": None,
        "photos": [],
        "content_id": None,
        "notice_id": None,
        "meeting_id": None,
    }
    data = {"draft": draft or fresh, "started": clock.now().isoformat(), "editing": bool(draft)}
    await state.set_data(data)
    if draft:
        await show_step(message, state, session, clock, "summary")
    else:
        await show_step(message, state, session, clock, "date" if kind else "kind")


async def show_step(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    step: str,
    edit: bool = False,
) -> None:
    await state.set_state(getattr(LogMeeting, step))
    data = await state.get_data()
    draft = data["draft"]
    text, markup = await _render(step, draft, data, session, clock)
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


async def _render(step: str, draft: dict, data: dict, session: AsyncSession, clock: Clock):
    today = clock.today()
    if step == "kind":
        rows = [
            [
                Button(
                    text=meeting_kind_label(k, _), callback_data=LogStep(act="kind", value=k).pack()
                )
            ]
            for k in MeetingKind
        ]
        return _("Which meeting are you logging?"), keyboard([*rows, _nav(back=False)])
    if step == "date":
        held = date.fromisoformat(draft["held_on"])
        shown = data.get("cal_month") or [held.year, held.month]
        cal = month_calendar(shown[0], shown[1], today)
        rows = [
            *cal.inline_keyboard,
            [
                Button(
                    text=_("Today"),
                    callback_data=Cal(act="pick", y=today.year, m=today.month, d=today.day).pack(),
                )
            ],
            _nav(),
        ]
        return _("When was the {kind} held? Pick the date (future days cannot be chosen).").format(
            kind=meeting_kind_label(draft["kind"], _)
        ), keyboard(rows)
    if step == "where":
        return _(
            "Time and place (optional), e.g. “19:30 village office meeting room”. "
            "Type them, or skip:"
        ), keyboard([_nav(skip=True)])
    if step == "attendees":
        roster = await meetings.attendance_roster(session, draft["org_id"], draft["kind"])
        notices = await rsvp.open_notices(session, draft["org_id"], clock.now())
        markup = attendee_keyboard(
            roster,
            set(draft["attendees"]),
            data.get("att_page", 0),
            data.get("att_query", ""),
            bool(notices),
        )
        markup.inline_keyboard.append(_nav())
        text = _(
            "Who attended? Tap names to mark them (⏸ on leave and ✈ mobile members are "
            "not counted for the quorum). Type part of a name to search."
        )
        if draft["kind"] == MeetingKind.committee.value:
            # Everyone is listed, but ticking a plain member leaves "Done (0/2)" unchanged.
            text += "\n" + _(
                "For a committee meeting only the branch committee members count: "
                "the count on “Done”."
            )
        return text, markup
    if step == "topic":
        return _("Type the topic of the meeting:"), keyboard([_nav()])
    if step == "notes":
        return _("Type the minutes or notes (optional):"), keyboard([_nav(skip=True)])
    if step == "photos":
        n = len(draft["photos"])
        done = Button(
            text=_("Done ({n} photos) ▶").format(n=n), callback_data=LogStep(act="skip").pack()
        )
        return _("Send photos of the meeting (several are fine), then press Done:"), keyboard(
            [[done], _nav()]
        )
    if step == "content":
        branch = await orgs.require_org(session, draft["org_id"])
        items = await content.content_for(session, branch, draft["held_on"][:7])
        rows = [
            [
                Button(
                    text=("● " if draft["content_id"] == c.id else "") + c.title[:40],
                    callback_data=LogStep(act="content", value=str(c.id)).pack(),
                )
            ]
            for c in items
        ]
        return _("Did you use this month's education material in the meeting?"), keyboard(
            [*rows, _nav(skip=True)]
        )
    return await draft_summary(session, draft), _summary_keyboard(draft)


def _summary_keyboard(draft: dict):
    change = lambda step, label: Button(
        text=label, callback_data=LogStep(act="goto", value=step).pack()
    )
    return keyboard(
        [
            [
                change("kind", _("Kind")),
                change("date", _("Date")),
                change("where", _("Time/place")),
            ],
            [
                change("attendees", _("Attendees")),
                change("topic", _("Topic")),
                change("notes", _("Notes")),
            ],
            [change("photos", _("Photos")), change("content", _("Material"))],
            [
                Button(text=_("💾 Save"), callback_data=LogStep(act="save").pack()),
                Button(text=_("✖ Cancel"), callback_data=LogStep(act="cancel").pack()),
            ],
        ]
    )


async def _next(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    current: str,
    edit: bool = False,
) -> None:
    data = await state.get_data()
    if data.get("editing"):
        await show_step(message, state, session, clock, "summary", edit)
        return
    following = STEPS[STEPS.index(current) + 1] if current != STEPS[-1] else "summary"
    if following == "content":
        branch = await orgs.require_org(session, data["draft"]["org_id"])
        if not await content.content_for(session, branch, data["draft"]["held_on"][:7]):
            following = "summary"
    await show_step(message, state, session, clock, following, edit)


async def _update(state: FSMContext, **changes: object) -> dict:
    data = await state.get_data()
    data["draft"].update(changes)
    await state.update_data(draft=data["draft"])
    return data["draft"]


async def _fresh(query_or_message, state: FSMContext, clock: Clock) -> bool:
    """False (and a polite note) when the conversation is older than a day."""
    data = await state.get_data()
    started = data.get("started")
    if started and clock.now() - datetime.fromisoformat(started) <= EXPIRY:
        return True
    await state.clear()
    text = _(
        "This meeting log was left unfinished for a day and has expired. Nothing was "
        "saved; please start again."
    )
    if isinstance(query_or_message, CallbackQuery):
        await query_or_message.answer(text, show_alert=True)
    else:
        await query_or_message.answer(text)
    return False


@router.callback_query(LogStep.filter(F.act == "cancel"), StateFilter(LogMeeting))
async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await query.message.edit_text(_("Meeting log cancelled. Nothing was saved."))


@router.callback_query(LogStep.filter(F.act == "back"), StateFilter(LogMeeting))
async def back(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    current = (await state.get_state() or "").split(":")[-1]
    data = await state.get_data()
    if data.get("editing") or current not in STEPS or current == STEPS[0]:
        target = "summary" if data.get("editing") else "kind"
    else:
        target = STEPS[STEPS.index(current) - 1]
    await query.answer()
    await show_step(query.message, state, session, clock, target, edit=True)


@router.callback_query(LogStep.filter(F.act == "goto"), LogMeeting.summary)
async def goto(
    query: CallbackQuery,
    callback_data: LogStep,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
) -> None:
    if callback_data.value not in STEPS or not await _fresh(query, state, clock):
        raise ServiceError("stale")
    await query.answer()
    await show_step(query.message, state, session, clock, callback_data.value, edit=True)


@router.callback_query(LogStep.filter(F.act == "kind"), LogMeeting.kind)
async def pick_kind(
    query: CallbackQuery,
    callback_data: LogStep,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
) -> None:
    if callback_data.value not in set(MeetingKind):
        raise ServiceError("stale")
    await _update(state, kind=callback_data.value)
    await query.answer()
    await _next(query.message, state, session, clock, "kind", edit=True)


@router.callback_query(Cal.filter(F.act == "nav"), LogMeeting.date)
async def turn_month(
    query: CallbackQuery, callback_data: Cal, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    await state.update_data(cal_month=[callback_data.y, callback_data.m])
    await query.answer()
    await show_step(query.message, state, session, clock, "date", edit=True)


@router.callback_query(Cal.filter(F.act == "pick"), LogMeeting.date)
async def pick_date(
    query: CallbackQuery, callback_data: Cal, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    held = picked_date(callback_data)
    if held is None:
        raise ServiceError("stale")
    if held > clock.today():
        raise ServiceError("meeting.future_date")
    await _update(state, held_on=held.isoformat())
    await query.answer()
    await _next(query.message, state, session, clock, "date", edit=True)


@router.message(LogMeeting.where, F.text, ~F.text.startswith("/"))
async def where(message: Message, state: FSMContext, session: AsyncSession, clock: Clock) -> None:
    if not typed_skip(message.text):
        time, place = parse_time_place(message.text)
        await _update(state, time=time, place=place)
    await _next(message, state, session, clock, "where")


@router.callback_query(LogStep.filter(F.act == "skip"), StateFilter(LogMeeting))
async def skip(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    current = (await state.get_state() or "").split(":")[-1]
    if current not in ("where", "notes", "photos", "content"):
        raise ServiceError("stale")
    await query.answer()
    await _next(query.message, state, session, clock, current, edit=True)


@router.callback_query(Att.filter(), LogMeeting.attendees)
async def attendees(
    query: CallbackQuery, callback_data: Att, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    data = await state.get_data()
    draft = data["draft"]
    chosen = set(draft["attendees"])
    if callback_data.act == "done":
        await query.answer()
        await _next(query.message, state, session, clock, "attendees", edit=True)
        return
    roster = await meetings.attendance_roster(session, draft["org_id"], draft["kind"])
    ids = {e.member.id for e in roster}
    if callback_data.act == "t":
        if callback_data.member not in ids:
            raise ServiceError("meeting.attendee_foreign")
        chosen ^= {callback_data.member}
    elif callback_data.act == "all":
        counted = {e.member.id for e in roster if e.counted}
        chosen = chosen - counted if counted <= chosen else chosen | counted
    elif callback_data.act == "rsvp":
        for notice in await rsvp.open_notices(session, draft["org_id"], clock.now()):
            chosen |= set(await rsvp.attendees_from_notice(session, notice.id)) & ids
            await _update(state, notice_id=notice.id)
            break
    elif callback_data.act == "page":
        await state.update_data(att_page=callback_data.page)
    await _update(state, attendees=sorted(chosen))
    await query.answer()
    await show_step(query.message, state, session, clock, "attendees", edit=True)


@router.message(LogMeeting.attendees, F.text, ~F.text.startswith("/"))
async def search_attendee(
    message: Message, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    await state.update_data(att_query=message.text.strip()[:20], att_page=0)
    await show_step(message, state, session, clock, "attendees")


@router.message(LogMeeting.topic, F.text, ~F.text.startswith("/"))
async def topic(message: Message, state: FSMContext, session: AsyncSession, clock: Clock) -> None:
    await _update(state, topic=_topic_of(message.text))
    await _next(message, state, session, clock, "topic")


def _topic_of(text: str) -> str:
    value = " ".join(text.split())
    if not value:
        raise ServiceError("meeting.topic_empty")
    if len(value) > 200:
        raise ServiceError("meeting.too_long", max=200)
    return value


@router.message(LogMeeting.notes, F.text, ~F.text.startswith("/"))
async def notes(message: Message, state: FSMContext, session: AsyncSession, clock: Clock) -> None:
    if len(message.text) > 4000:
        raise ServiceError("meeting.too_long", max=4000)
    if not typed_skip(message.text):
        await _update(state, notes=message.text.strip())
    await _next(message, state, session, clock, "notes")


@router.message(LogMeeting.photos, F.photo)
async def photo(message: Message, state: FSMContext) -> None:
    draft = (await state.get_data())["draft"]
    if len(draft["photos"]) >= MAX_PHOTOS:
        await message.answer(_("That is enough photos ({n}); press Done.").format(n=MAX_PHOTOS))
        return
    photos = [*draft["photos"], message.photo[-1].file_id]
    await _update(state, photos=photos)
    await message.answer(
        _("Photo {n} added. Send more, or press Done.").format(n=len(photos)),
        reply_markup=keyboard(
            [
                [
                    Button(
                        text=_("Done ({n} photos) ▶").format(n=len(photos)),
                        callback_data=LogStep(act="skip").pack(),
                    )
                ]
            ]
        ),
    )


@router.message(StateFilter(LogMeeting), F.photo)
async def early_photo(
    message: Message, state: FSMContext, session: AsyncSession, clock: Clock
) -> None:
    """A photo sent before the photo step (at the topic or the notes step, say) is one of
    the meeting's photos, sent early: it is kept in the draft and the reply says so, as a
    recording keeps a proof sent early (handlers/evidence.early_proof); never dropped
    with a hint to send it again later. The step still asks for what it needs; a caption
    at the topic or notes step is that text."""
    current = (await state.get_state() or "").split(":")[-1]
    draft = (await state.get_data()).get("draft") or {}
    photos = list(draft.get("photos") or [])
    if len(photos) >= MAX_PHOTOS:
        kept = _("This meeting already has {n} photos, the most it keeps; this one was not added.")
        await message.answer(kept.format(n=MAX_PHOTOS) + "\n" + step_hint(current))
        return
    photos.append(message.photo[-1].file_id)
    await _update(state, photos=photos)
    kept = _("📷 Photo kept for this meeting ({n} so far).").format(n=len(photos))
    caption = (message.caption or "").strip()
    taken = None
    if caption and current == "topic":
        try:
            taken = {"topic": _topic_of(caption)}
        except ServiceError:
            taken = None  # the topic is asked for again below, the photo stays kept
    elif caption and current == "notes" and not typed_skip(caption):
        taken = {"notes": caption}
    if taken is None:
        await message.answer(kept + "\n" + step_hint(current))
        return
    await _update(state, **taken)
    what = _("Its caption is the topic.") if current == "topic" else _("Its caption is the notes.")
    await message.answer(kept + " " + what)
    await _next(message, state, session, clock, current)


@router.callback_query(LogStep.filter(F.act == "content"), LogMeeting.content)
async def pick_content(
    query: CallbackQuery,
    callback_data: LogStep,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
) -> None:
    content_id = typed_count(callback_data.value, digits=9)  # within an integer id
    if content_id is None:
        raise ServiceError("stale")
    await _update(state, content_id=content_id)
    await query.answer()
    await _next(query.message, state, session, clock, "content", edit=True)


@router.callback_query(LogStep.filter(F.act == "save"), LogMeeting.summary)
async def save(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    rubric,
) -> None:
    if not await _fresh(query, state, clock):
        return
    try:
        report = await _save(state, session, clock, principal, rubric)
    except ServiceError as err:
        if err.code != "meeting.reason_required":
            raise
        await state.update_data(awaiting_reason=True)
        await query.answer()
        await query.message.answer(_("That month is closed. Type the reason for the change:"))
        return
    await query.answer(_("Saved."))
    await query.message.edit_text(report)


@router.callback_query(LogStep.filter(F.act == "save"), StateFilter(None))
async def saved_already(query: CallbackQuery, state: FSMContext) -> None:
    if (await state.get_data()).get("logged") is None:
        raise ServiceError("stale")
    await query.answer(
        _("Already saved: the meeting is stored once. /month shows it."), show_alert=True
    )


@router.message(LogMeeting.summary, F.text, ~F.text.startswith("/"))
async def reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    rubric,
) -> None:
    if not (await state.get_data()).get("awaiting_reason"):
        await message.answer(_("Check the summary above, then press Save or change a field."))
        return
    await _update(state, reason=message.text.strip()[:500])
    await message.answer(await _save(state, session, clock, principal, rubric))


async def _save(
    state: FSMContext, session: AsyncSession, clock: Clock, principal: Principal, rubric
) -> str:
    """Save the draft and describe what changed; the conversation ends only on success."""
    d = (await state.get_data())["draft"]
    if not d.get("topic"):
        raise ServiceError("meeting.topic_empty")
    branch = await orgs.require_org(session, d["org_id"])
    period = d["held_on"][:7]
    before = await checklist.month_checklist(session, rubric, branch, period, with_gap=False)
    draft = meetings.MeetingDraft(
        org_id=d["org_id"],
        kind=d["kind"],
        held_on=date.fromisoformat(d["held_on"]),
        time=d["time"],
        place=d["place"],
        topic=d["topic"],
        notes=d["notes"],
        attendee_ids=list(d["attendees"]),
        photo_file_ids=list(d["photos"]),
        content_id=d["content_id"],
        notice_id=d["notice_id"],
    )
    saved = await meetings.save_meeting(
        session,
        rubric,
        principal,
        clock.now(),
        draft,
        meeting_id=d.get("meeting_id"),
        reason=d.get("reason"),
        version=d.get("version"),
    )
    after = await checklist.month_checklist(session, rubric, branch, period, with_gap=False)
    await state.clear()
    # Remembered so that a second tap on this Save (queued behind the first) is told the
    # meeting is stored, not that its button expired.
    await state.update_data(logged=saved.meeting.id)
    return save_report(saved, checklist.compare(before, after), after)


# Not a command: /rating, /tasks or /dashboard mid-log is answered by its own router
# (later in the order) and the draft waits; an unknown one gets handlers/hints.py's hint.
@router.message(StateFilter(LogMeeting), ~F.text.startswith("/"))
async def unexpected(message: Message, state: FSMContext) -> None:
    await message.answer(step_hint(await state.get_state()))


def step_hint(state: str | None) -> str:
    """What the meeting log's step expects, for a message it cannot use (also for an
    unknown command, answered by handlers/hints.py)."""
    current = (state or "").split(":")[-1]
    hints = {
        "photos": _("Send a photo, or press Done."),
        "topic": _("Type the topic of the meeting as text, or /cancel."),
        "where": _("Type the time and place as text (e.g. “19:30 village office”), or skip."),
        "notes": _("Type the notes as text, or skip."),
        "attendees": _("Tap the names of those present, or type part of a name to find it."),
        "summary": _("Press Save to store the meeting, or type a reason if one is asked for."),
    }
    return hints.get(current, _("Please use the buttons above, or /cancel."))
