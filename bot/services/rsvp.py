"""The branch's Telegram group, meeting announcements in it, and members' RSVPs.

One group per branch and one branch per group (the column is unique). The bot keeps
privacy mode on, so the group is linked by a command sent in it.

Refusals (`ServiceError` codes and params):

- `access.denied` — not the branch's secretary, organising member or superior's staff;
- `group.not_a_group` — the chat id is a private chat's (groups have negative ids);
- `group.taken(branch)` — the group is linked to another branch, one the principal does
  not lead (one they lead too is moved, once confirmed);
- `notice.no_group` — the branch has no linked group to announce in;
- `notice.in_past(starts_at)`, `notice.not_found`, `notice.closed` (the meeting began
  more than `ANSWER_GRACE` ago);
- `meeting.kind_unknown(kind)`, `meeting.topic_empty`, `meeting.too_long(field, max)`
  — the same checks as for a logged meeting;
- `rsvp.not_member` — the presser is not a member of that branch (a forwarded notice);
- `rsvp.too_long(max)` — the reason for not coming.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, String, and_, bindparam, func, not_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    MeetingKind,
    MeetingNotice,
    Member,
    MemberStatus,
    Organisation,
    Rsvp,
)
from bot.db.rows import Columns, Prepared, attach, fetch, fetch_first, write
from bot.services import audit
from bot.services.errors import ServiceError
from bot.services.meetings import MAX_PLACE, MAX_TOPIC, led_branch
from bot.services.members import Principal

MAX_REASON = 200
ANSWER_GRACE = timedelta(hours=12)
# "Pre-fill from RSVPs" offers notices of meetings that began at most this long ago.
RECENT = timedelta(days=14)


@dataclass
class GroupLink:
    """What linking a group to a branch did, or would do: `done` False means it waits for
    the leader's confirmation, because it would take the group from `taken_from` or the
    branch from the group it had (`replaces`)."""

    branch: Organisation
    done: bool
    taken_from: Organisation | None = None
    replaces: int | None = None  # the branch's previous group chat
    unchanged: bool = False  # the group was this branch's already


async def link_group(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    org_id: int,
    chat_id: int,
    *,
    confirmed: bool = False,
) -> GroupLink:
    """Link the group `chat_id` to the branch. A link that would move something — the
    group away from another branch, or the branch away from its group — is only made
    `confirmed`; a group of a branch the principal does not lead is never taken."""
    branch = await led_branch(session, principal, org_id)
    if chat_id >= 0:
        raise ServiceError("group.not_a_group")
    if branch.group_chat_id == chat_id:
        return GroupLink(branch, True, unchanged=True)
    holder = await branch_for_group(session, chat_id)
    if holder is not None and not principal.can_lead(holder):
        raise ServiceError("group.taken", branch=holder.name)
    link = GroupLink(branch, confirmed, holder, branch.group_chat_id)
    if not confirmed and (holder is not None or branch.group_chat_id is not None):
        return link
    if holder is not None:
        await audit.record(
            session,
            principal.actor,
            now,
            "organisation",
            holder.id,
            "group",
            {"group_chat_id": [chat_id, None]},
        )
        holder.group_chat_id = None
        await session.flush()  # the column is unique: free it before it is taken
    await audit.record(
        session,
        principal.actor,
        now,
        "organisation",
        branch.id,
        "group",
        {"group_chat_id": [branch.group_chat_id, chat_id]},
    )
    branch.group_chat_id = chat_id
    link.done = True
    await session.flush()
    return link


async def branch_for_group(session: AsyncSession, chat_id: int) -> Organisation | None:
    found = await session.execute(select(Organisation).where(Organisation.group_chat_id == chat_id))
    return found.scalar_one_or_none()


def _text(value: str | None, name: str, limit: int) -> str | None:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise ServiceError("meeting.too_long", field=name, max=limit)
    return value or None


async def announce(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    org_id: int,
    kind: str,
    starts_at: datetime,
    place: str | None,
    topic: str,
) -> MeetingNotice:
    """A notice to post in the branch's group; the caller posts it, then `set_notice_message`."""
    branch = await led_branch(session, principal, org_id)
    if branch.group_chat_id is None:
        raise ServiceError("notice.no_group")
    try:
        kind = MeetingKind(kind).value
    except ValueError:
        raise ServiceError("meeting.kind_unknown", kind=str(kind)) from None
    topic = _text(topic, "topic", MAX_TOPIC)
    if topic is None:
        raise ServiceError("meeting.topic_empty")
    if starts_at < now:
        raise ServiceError("notice.in_past", starts_at=starts_at.isoformat())
    notice = MeetingNotice(
        org_id=branch.id,
        kind=kind,
        starts_at=starts_at,
        place=_text(place, "place", MAX_PLACE),
        topic=topic,
        chat_id=branch.group_chat_id,
        created_by=principal.telegram_id,
        created_at=now,
    )
    session.add(notice)
    await session.flush()
    await audit.record(
        session,
        principal.actor,
        now,
        "notice",
        notice.id,
        "create",
        {"kind": [None, kind], "starts_at": [None, starts_at.isoformat()], "topic": [None, topic]},
    )
    return notice


async def get_notice(session: AsyncSession, notice_id: int) -> MeetingNotice:
    notice = await session.get(MeetingNotice, notice_id)
    if notice is None:
        raise ServiceError("notice.not_found")
    return notice


async def set_notice_message(
    session: AsyncSession, notice_id: int, chat_id: int, message_id: int
) -> None:
    """Remember where the notice was posted, to edit its RSVP count later."""
    notice = await get_notice(session, notice_id)
    notice.chat_id = chat_id
    notice.message_id = message_id
    await session.flush()


# Built once: a press on a busy evening runs these many times a second. The notice is
# read as columns and attached (bot.db.rows): cheaper than the ORM's loading.
_NOTICE = Columns(MeetingNotice)
_NOTICE_AND_PRESSER = Prepared(
    select(*_NOTICE.all, Member.id.label("presser"))
    .select_from(MeetingNotice)
    .outerjoin(
        Member,
        and_(
            Member.telegram_id == bindparam("tg"),
            Member.org_id == MeetingNotice.org_id,
            Member.status != MemberStatus.left.value,
        ),
    )
    .where(MeetingNotice.id == bindparam("notice"))
)
_COUNTS = Prepared(
    select(Rsvp.coming, func.count())
    .where(Rsvp.notice_id == bindparam("notice"))
    .group_by(Rsvp.coming)
)


def _upsert(dialect: str):
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(Rsvp.__table__)
    new = insert.excluded
    # A press that repeats the answer changes nothing (not even the time it was given),
    # so its rowcount is 0 and the notice need not be redrawn.
    return insert.on_conflict_do_update(
        index_elements=["notice_id", "member_id"],
        set_={"coming": new.coming, "reason": new.reason, "at": new.at},
        where=or_(
            Rsvp.__table__.c.coming.is_distinct_from(new.coming),
            Rsvp.__table__.c.reason.is_distinct_from(new.reason),
        ),
    )


_UPSERT = Prepared({name: _upsert(name) for name in ("postgresql", "sqlite")})


def _answer_in_one() -> object:
    """PostgreSQL: the notice, the presser, the upsert and the others' counts in one
    statement (each round trip costs the bot a send, a wake-up and asyncpg's protocol;
    a press made four). The upsert runs only for a member of the notice's branch while
    it is open (the same rules `answer` checks on the row); the counts leave the presser
    out, as the statement does not see its own write: `answer` adds their answer."""
    notice = _NOTICE_AND_PRESSER.statement.cte("notice")
    presser = notice.c.presser
    rsvp = Rsvp.__table__
    upsert = (
        _upsert("postgresql")
        .from_select(
            ["notice_id", "member_id", "coming", "reason", "at"],
            select(
                notice.c.id,
                presser,
                bindparam("coming", type_=Boolean),
                bindparam("reason", type_=String),
                bindparam("at", type_=rsvp.c.at.type),
            ).where(presser.is_not(None), notice.c.starts_at >= bindparam("open_from")),
        )
        .returning(rsvp.c.member_id)
        .cte("upserted")
    )

    def others(coming: object) -> object:
        return (
            select(func.count())
            .where(rsvp.c.notice_id == notice.c.id, rsvp.c.member_id != presser, coming)
            .scalar_subquery()
        )

    return select(
        *(notice.c[c.name] for c in _NOTICE.all),
        presser,
        select(func.count()).select_from(upsert).scalar_subquery(),
        others(rsvp.c.coming),
        others(not_(rsvp.c.coming)),
    ).select_from(notice)


_ANSWER_IN_ONE = Prepared(_answer_in_one())


@dataclass(frozen=True)
class Answered:
    notice: MeetingNotice
    coming: bool
    reason: str | None
    changed: bool  # False: the member had already answered exactly so
    # (coming, not coming) after this answer, when it changed and they were read with
    # it (PostgreSQL); None: `rsvp_counts` reads them.
    counts: tuple[int, int] | None = None


def _pressed(session: AsyncSession, row: tuple | None, now: datetime) -> tuple[MeetingNotice, int]:
    """The notice and the presser's member id from a row of notice columns then the
    presser, refused as a press must be: no such notice, closed, not one of its branch."""
    if row is None:
        raise ServiceError("notice.not_found")
    notice, member_id = attach(session, _NOTICE, row[:-1]), row[-1]
    if now > notice.starts_at + ANSWER_GRACE:
        raise ServiceError("notice.closed")
    if member_id is None:
        raise ServiceError("rsvp.not_member")
    return notice, member_id


async def answer(
    session: AsyncSession,
    now: datetime,
    notice_id: int,
    telegram_id: int,
    coming: bool,
    reason: str | None = None,
) -> Answered:
    """Record (or change) a member's answer; two fast presses leave one row."""
    reason = None if coming else " ".join((reason or "").split()) or None
    if (reason is None or len(reason) <= MAX_REASON) and session.bind.dialect.name == "postgresql":
        return await _answer_in_one(session, now, notice_id, telegram_id, coming, reason)
    row = await fetch_first(session, _NOTICE_AND_PRESSER, {"tg": telegram_id, "notice": notice_id})
    notice, member_id = _pressed(session, row, now)
    if reason is not None and len(reason) > MAX_REASON:
        raise ServiceError("rsvp.too_long", max=MAX_REASON)
    values = {"notice_id": notice_id, "member_id": member_id, "coming": coming}
    values.update(reason=reason, at=now)
    changed = await write(session, _UPSERT, values)
    return Answered(notice, coming, reason, changed=changed != 0)


async def _answer_in_one(
    session: AsyncSession,
    now: datetime,
    notice_id: int,
    telegram_id: int,
    coming: bool,
    reason: str | None,
) -> Answered:
    """`answer` on PostgreSQL, in one statement (`_ANSWER_IN_ONE`), refusing as it does."""
    params = {"tg": telegram_id, "notice": notice_id, "coming": coming, "reason": reason}
    params.update(at=now, open_from=now - ANSWER_GRACE)
    row = await fetch_first(session, _ANSWER_IN_ONE, params, writes=True)
    n = len(_NOTICE) + 1
    notice, _member_id = _pressed(session, row and row[:n], now)
    changed, yes, no = row[n:]
    counts = (yes + coming, no + (not coming)) if changed else None
    return Answered(notice, coming, reason, changed=changed != 0, counts=counts)


async def rsvp_summary(
    session: AsyncSession, notice_id: int
) -> tuple[list[Member], list[tuple[Member, str | None]]]:
    """Who is coming, and who is not with their reasons, by name."""
    rows = await session.execute(
        select(Member, Rsvp.coming, Rsvp.reason)
        .join(Rsvp, Rsvp.member_id == Member.id)
        .where(Rsvp.notice_id == notice_id)
        .order_by(Member.name, Member.id)
    )
    coming: list[Member] = []
    not_coming: list[tuple[Member, str | None]] = []
    for member, yes, reason in rows.all():
        if yes:
            coming.append(member)
        else:
            not_coming.append((member, reason))
    return coming, not_coming


async def rsvp_counts(session: AsyncSession, notice_id: int) -> tuple[int, int]:
    """How many are coming and how many are not: what the notice shows after each press."""
    counts = dict(await fetch(session, _COUNTS, {"notice": notice_id}))
    return counts.get(True, 0), counts.get(False, 0)


async def open_notices(session: AsyncSession, org_id: int, now: datetime) -> list[MeetingNotice]:
    """The branch's notices of meetings from the last two weeks on, latest first."""
    rows = await session.execute(
        select(MeetingNotice)
        .where(MeetingNotice.org_id == org_id, MeetingNotice.starts_at >= now - RECENT)
        .order_by(MeetingNotice.starts_at.desc(), MeetingNotice.id.desc())
    )
    return list(rows.scalars())


async def attendees_from_notice(session: AsyncSession, notice_id: int) -> list[int]:
    """Members who said they would come and are still in that branch."""
    rows = await session.execute(
        select(Rsvp.member_id)
        .join(Member, Member.id == Rsvp.member_id)
        .join(MeetingNotice, MeetingNotice.id == Rsvp.notice_id)
        .where(
            Rsvp.notice_id == notice_id,
            Rsvp.coming.is_(True),
            Member.org_id == MeetingNotice.org_id,
            Member.status != MemberStatus.left.value,
        )
        .order_by(Rsvp.member_id)
    )
    return list(rows.scalars())
