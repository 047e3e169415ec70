"""Logging meetings: the roster to tick, the quorum, saving, editing and deleting.

Everything is checked here, whatever the conversation let through: buttons are user
input. Writes happen in the caller's transaction; a collision with another save of
the same meeting (a second tap, two secretaries at once) is caught in a SAVEPOINT, so
the caller's transaction stays usable and nothing is half-saved.

Who counts: members whose status is on leave or mobile, and mobile members (the
category: they live away from the branch), are shown on the roster but left out of
the quorum's denominator and numerator. Members who left are not shown. A branch
committee meeting counts the committee: "more than half of the committee members"
(支部工作条例), and the committee members the data knows are the secretary and the
organising member; other attendees are welcome but not in its numbers.

Refusals (`ServiceError` codes and their params):

- `access.denied` — the principal may not lead this branch;
- `meeting.not_found` — no such meeting (or it belongs to another branch);
- `meeting.kind_unknown(kind)`;
- `meeting.future_date(held_on, today)` — ISO dates; "today" in the branch's time zone;
- `meeting.period_closed(period)` — the month has been closed and the principal is not
  the superior's staff;
- `meeting.reason_required(period)` — staff changing a closed month must say why;
- `meeting.topic_empty`;
- `meeting.too_long(field, max)` — field is topic, place, notes, photos or reason;
- `meeting.time_malformed(value)` — not HH:MM (H:MM is accepted and padded);
- `meeting.attendee_foreign(member_id)` — not a member of this branch;
- `meeting.duplicate(meeting_id)` — this branch already has a meeting of this kind, on
  this day, with this topic (meeting_id None when the collision came from a
  concurrent save and the other meeting is not yet visible);
- `content.not_found` — the education content is not offered to this branch;
- `notice.not_found` — the announcement is not this branch's.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Category,
    EducationContent,
    Meeting,
    MeetingAttendee,
    MeetingKind,
    MeetingNotice,
    MeetingPhoto,
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
    Role,
)
from bot.services import audit, versions
from bot.services.content import is_offered_to
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.paging import PAGE_SIZE, Page, paginate
from bot.services.periods import DEFAULT_TZ, is_closed, month_of_day
from scoring import FortressRubric

MAX_TOPIC = 200
MAX_PLACE = 200
MAX_NOTES = 4000  # a Telegram message holds 4,096 characters; room for a heading
MAX_REASON = 1000
MAX_PHOTOS = 30
MAX_FILE_ID = 255

COMMITTEE_ROLES = (Role.secretary.value, Role.organiser.value)
SHOWN = (MemberStatus.active.value, MemberStatus.on_leave.value, MemberStatus.mobile.value)
RECORD_FIELDS = (
    "org_id",
    "kind",
    "held_on",
    "time",
    "place",
    "topic",
    "notes",
    "attended",
    "expected",
    "counts",
    "content_id",
    "notice_id",
)
_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


def is_counted(status: str, category: str) -> bool:
    """Whether a member belongs in a quorum's denominator."""
    return status == MemberStatus.active.value and category != Category.mobile.value


def counts_for(kind: str | None, status: str, category: str, role: str) -> bool:
    """Whether a member counts for a meeting of `kind`: a committee meeting counts the
    branch committee only. The one rule the summary, the keyboard and the save share."""
    if kind == MeetingKind.committee.value and role not in COMMITTEE_ROLES:
        return False
    return is_counted(status, category)


@dataclass(frozen=True)
class RosterEntry:
    member: Member
    counted: bool  # False: shown, but left out of the quorum (on leave, mobile, not committee)


async def attendance_roster(
    session: AsyncSession, org_id: int, kind: str | None = None
) -> list[RosterEntry]:
    """Everyone who may be ticked as present, by name (a branch is tens of people);
    `counted` as a meeting of `kind` counts them."""
    rows = await session.execute(
        select(Member)
        .where(Member.org_id == org_id, Member.status.in_(SHOWN))
        .order_by(Member.name, Member.id)
    )
    return [RosterEntry(m, counts_for(kind, m.status, m.category, m.role)) for m in rows.scalars()]


@dataclass(frozen=True)
class Quorum:
    share: Decimal | None  # None: the kind has no quorum rule
    attended_counted: int
    expected: int
    needed: int  # the smallest attendance that exceeds the share (0 without a rule)
    met: bool


def quorum(rubric: FortressRubric, kind: str, attended_counted: int, expected: int) -> Quorum:
    """The rubric's rule: attendance must be *more than* share × expected."""
    share = rubric.quorum.get(kind)
    if share is None:
        return Quorum(None, attended_counted, expected, 0, True)
    needed = int((Decimal(expected) * share).to_integral_value(ROUND_FLOOR)) + 1
    # Without anyone expected there is no majority to show; the engine agrees.
    met = expected > 0 and attended_counted >= needed
    return Quorum(share, attended_counted, expected, needed, met)


@dataclass
class MeetingDraft:
    org_id: int
    kind: str
    held_on: date
    topic: str
    time: str | None = None  # "HH:MM"
    place: str | None = None
    notes: str | None = None
    attendee_ids: list[int] = field(default_factory=list)
    photo_file_ids: list[str] = field(default_factory=list)
    content_id: int | None = None
    notice_id: int | None = None


def draft_from_meeting(
    meeting: Meeting, attendee_ids: list[int], photos: list[str]
) -> MeetingDraft:
    """A draft to edit an existing meeting with."""
    return MeetingDraft(
        org_id=meeting.org_id,
        kind=meeting.kind,
        held_on=meeting.held_on,
        topic=meeting.topic,
        time=meeting.time,
        place=meeting.place,
        notes=meeting.notes,
        attendee_ids=list(attendee_ids),
        photo_file_ids=list(photos),
        content_id=meeting.content_id,
        notice_id=meeting.notice_id,
    )


@dataclass(frozen=True)
class SavedMeeting:
    meeting: Meeting
    quorum: Quorum
    created: bool


def topic_key(topic: str) -> str:
    """The topic as the duplicate check sees it: width, case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFKC", topic).casefold().split())


def local_today(branch: Organisation, now: datetime) -> date:
    return now.astimezone(ZoneInfo(branch.timezone or DEFAULT_TZ)).date()


async def get_meeting(
    session: AsyncSession, meeting_id: int
) -> tuple[Meeting, list[int], list[str]]:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise ServiceError("meeting.not_found")
    attendees = await session.execute(
        select(MeetingAttendee.member_id)
        .where(MeetingAttendee.meeting_id == meeting_id)
        .order_by(MeetingAttendee.member_id)
    )
    photos = await session.execute(
        select(MeetingPhoto.file_id)
        .where(MeetingPhoto.meeting_id == meeting_id)
        .order_by(MeetingPhoto.id)
    )
    return meeting, list(attendees.scalars()), list(photos.scalars())


async def meetings_page(
    session: AsyncSession, org_id: int, period: str, page: int = 0, size: int = PAGE_SIZE
) -> Page[Meeting]:
    """A branch's meetings in month `period`, latest first."""
    first = date.fromisoformat(f"{period}-01")
    stmt = (
        select(Meeting)
        .where(Meeting.org_id == org_id, Meeting.held_on >= first, Meeting.held_on < _next(first))
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
    )
    return await paginate(session, stmt, page, size)


def _next(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)


async def led_branch(session: AsyncSession, principal: Principal, org_id: int) -> Organisation:
    """The branch `org_id`, if the principal may act in it (else `access.denied`)."""
    org = await session.get(Organisation, org_id)
    if org is None or org.kind != OrgKind.branch.value or not principal.can_lead(org):
        raise ServiceError("access.denied")
    return org


async def _check_period(
    session: AsyncSession,
    principal: Principal,
    branch: Organisation,
    days: set[date],
    reason: str | None,
) -> str | None:
    """Refuse changes to closed months unless staff give a reason; returns the reason."""
    for month in sorted({month_of_day(d) for d in days}):
        if not await is_closed(session, branch.id, month):
            continue
        if not principal.can_manage(branch):
            raise ServiceError("meeting.period_closed", period=month)
        reason = (reason or "").strip()
        if not reason:
            raise ServiceError("meeting.reason_required", period=month)
        if len(reason) > MAX_REASON:
            raise ServiceError("meeting.too_long", field="reason", max=MAX_REASON)
        return reason
    return None


def _text(value: str | None, name: str, limit: int) -> str | None:
    value = (value or "").strip()
    if len(value) > limit:
        raise ServiceError("meeting.too_long", field=name, max=limit)
    return value or None


def _clean(draft: MeetingDraft, today: date) -> MeetingDraft:
    """The draft with text tidied, or the first thing wrong with it."""
    try:
        kind = MeetingKind(draft.kind).value
    except ValueError:
        raise ServiceError("meeting.kind_unknown", kind=str(draft.kind)) from None
    if draft.held_on > today:
        raise ServiceError(
            "meeting.future_date", held_on=draft.held_on.isoformat(), today=today.isoformat()
        )
    topic = " ".join((draft.topic or "").split())
    if not topic:
        raise ServiceError("meeting.topic_empty")
    if len(topic) > MAX_TOPIC:
        raise ServiceError("meeting.too_long", field="topic", max=MAX_TOPIC)
    time = None
    if draft.time is not None and draft.time.strip():
        found = _TIME.fullmatch(draft.time.strip())
        if found is None:
            raise ServiceError("meeting.time_malformed", value=draft.time)
        time = f"{int(found[1]):02d}:{found[2]}"
    photos = list(dict.fromkeys(p for p in draft.photo_file_ids if p))
    if len(photos) > MAX_PHOTOS:
        raise ServiceError("meeting.too_long", field="photos", max=MAX_PHOTOS)
    if any(len(p) > MAX_FILE_ID for p in photos):
        raise ServiceError("meeting.too_long", field="photos", max=MAX_FILE_ID)
    return MeetingDraft(
        org_id=draft.org_id,
        kind=kind,
        held_on=draft.held_on,
        topic=topic,
        time=time,
        place=_text(draft.place, "place", MAX_PLACE),
        notes=_text(draft.notes, "notes", MAX_NOTES),
        attendee_ids=sorted(set(draft.attendee_ids)),
        photo_file_ids=photos,
        content_id=draft.content_id,
        notice_id=draft.notice_id,
    )


async def _headcount(
    session: AsyncSession, branch_id: int, kind: str, attendee_ids: list[int]
) -> tuple[int, int]:
    """(counted attendees, counted members) after checking every attendee is ours."""
    rows = (
        await session.execute(
            select(Member.id, Member.org_id, Member.status, Member.category, Member.role).where(
                (Member.org_id == branch_id) | Member.id.in_(attendee_ids)
            )
        )
    ).all()
    ours = {r.id: r for r in rows if r.org_id == branch_id}
    for member_id in attendee_ids:
        if member_id not in ours:
            raise ServiceError("meeting.attendee_foreign", member_id=member_id)

    def counted(r) -> bool:
        return counts_for(kind, r.status, r.category, r.role)

    expected = sum(1 for r in ours.values() if counted(r))
    attended = sum(1 for i in attendee_ids if counted(ours[i]))
    return attended, expected


async def _check_links(session: AsyncSession, branch: Organisation, draft: MeetingDraft) -> None:
    if draft.content_id is not None:
        content = await session.get(EducationContent, draft.content_id)
        if content is None or not is_offered_to(content, branch):
            raise ServiceError("content.not_found")
    if draft.notice_id is not None:
        notice = await session.get(MeetingNotice, draft.notice_id)
        if notice is None or notice.org_id != branch.id:
            raise ServiceError("notice.not_found")


async def _find_same(session: AsyncSession, draft: MeetingDraft, key: str, other_than: int | None):
    stmt = select(Meeting.id).where(
        Meeting.org_id == draft.org_id,
        Meeting.kind == draft.kind,
        Meeting.held_on == draft.held_on,
        Meeting.topic_key == key,
    )
    if other_than is not None:
        stmt = stmt.where(Meeting.id != other_than)
    return (await session.execute(stmt)).scalar()


def _is_identity_clash(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    # PostgreSQL names the constraint; SQLite lists its columns.
    return "uq_meeting_identity" in text or "meeting.topic_key" in text


def _record(meeting: Meeting, attendees: list[int], photos: list[str]) -> dict:
    values = audit.snapshot(meeting, RECORD_FIELDS)
    values["attendees"] = list(attendees)
    values["photos"] = list(photos)
    return values


async def save_meeting(
    session: AsyncSession,
    rubric: FortressRubric,
    principal: Principal,
    now: datetime,
    draft: MeetingDraft,
    meeting_id: int | None = None,
    reason: str | None = None,
    version: int | None = None,
) -> SavedMeeting:
    """Create (meeting_id None) or change a meeting; see the module docstring for refusals.

    A change names the `version` the edit started from; if someone changed the meeting
    since, it is refused (`record.stale`) instead of overwriting their change."""
    existing = None
    before: dict = {}
    if meeting_id is not None:
        existing, old_attendees, old_photos = await get_meeting(session, meeting_id)
        if existing.org_id != draft.org_id:
            raise ServiceError("meeting.not_found")
        await led_branch(session, principal, draft.org_id)  # before touching the version
        shown = existing.version if version is None else version
        existing.version = await versions.claim(
            session, Meeting, existing.id, shown, by=principal.telegram_id
        )
        before = _record(existing, old_attendees, old_photos)
    branch = await led_branch(session, principal, draft.org_id)
    draft = _clean(draft, local_today(branch, now))
    days = {draft.held_on} | ({existing.held_on} if existing is not None else set())
    reason = await _check_period(session, principal, branch, days, reason)
    attended, expected = await _headcount(session, branch.id, draft.kind, draft.attendee_ids)
    await _check_links(session, branch, draft)
    result = quorum(rubric, draft.kind, attended, expected)
    key = topic_key(draft.topic)
    same = await _find_same(session, draft, key, meeting_id)
    if same is not None:
        raise ServiceError("meeting.duplicate", meeting_id=same)

    values = {
        "org_id": branch.id,
        "kind": draft.kind,
        "held_on": draft.held_on,
        "time": draft.time,
        "place": draft.place,
        "topic": draft.topic,
        "topic_key": key,
        "notes": draft.notes,
        "attended": attended,
        "expected": expected,
        "counts": result.met,
        "content_id": draft.content_id,
        "notice_id": draft.notice_id,
        "updated_at": now,
    }
    try:
        async with session.begin_nested():
            if existing is None:
                meeting = Meeting(**values, created_by=principal.telegram_id, created_at=now)
                session.add(meeting)
            else:
                meeting = existing
                for name, value in values.items():
                    setattr(meeting, name, value)
                await session.execute(
                    delete(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id)
                )
                await session.execute(
                    delete(MeetingPhoto).where(MeetingPhoto.meeting_id == meeting.id)
                )
            await session.flush()
            await _write_children(session, meeting.id, draft)
    except IntegrityError as exc:
        if not _is_identity_clash(exc):
            raise
        raise ServiceError("meeting.duplicate", meeting_id=None) from None

    after = _record(meeting, draft.attendee_ids, draft.photo_file_ids)
    if existing is None:
        changes = {k: [None, v] for k, v in after.items() if v not in (None, [])}
    else:
        changes = audit.diff(before, after)
    if reason:
        changes["reason"] = [None, reason]
    if changes:
        await audit.record(
            session,
            principal.actor,
            now,
            "meeting",
            meeting.id,
            "create" if existing is None else "update",
            changes,
        )
    return SavedMeeting(meeting, result, existing is None)


async def _write_children(session: AsyncSession, meeting_id: int, draft: MeetingDraft) -> None:
    if draft.attendee_ids:
        await session.execute(
            insert(MeetingAttendee),
            [{"meeting_id": meeting_id, "member_id": m} for m in draft.attendee_ids],
        )
    if draft.photo_file_ids:
        await session.execute(
            insert(MeetingPhoto),
            [{"meeting_id": meeting_id, "file_id": f} for f in draft.photo_file_ids],
        )


async def delete_meeting(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    meeting_id: int,
    reason: str | None = None,
    *,
    version: int | None = None,
) -> None:
    """Delete a meeting; the audit log keeps the whole record.

    `version`: the one the person was shown; if the meeting was changed since, the
    deletion is refused (`record.stale`), and if it is gone already, `meeting.not_found`."""
    meeting, attendees, photos = await get_meeting(session, meeting_id)
    branch = await led_branch(session, principal, meeting.org_id)
    reason = await _check_period(session, principal, branch, {meeting.held_on}, reason)
    shown = meeting.version if version is None else version
    try:
        # Also what makes a second "Yes, delete it" pressed at once wait and then fail.
        await versions.claim(session, Meeting, meeting.id, shown, by=principal.telegram_id)
    except ServiceError:
        still = await session.scalar(select(Meeting.id).where(Meeting.id == meeting_id))
        if still is None:
            raise ServiceError("meeting.not_found") from None
        raise
    changes = {k: [v, None] for k, v in _record(meeting, attendees, photos).items()}
    changes["topic_key"] = [meeting.topic_key, None]
    if reason:
        changes["reason"] = [None, reason]
    await session.execute(delete(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting_id))
    await session.execute(delete(MeetingPhoto).where(MeetingPhoto.meeting_id == meeting_id))
    await session.delete(meeting)
    await session.flush()
    await audit.record(session, principal.actor, now, "meeting", meeting_id, "delete", changes)
