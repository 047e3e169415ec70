"""A populated city for attack and fuzz tests: every kind of row a press can point at.

Built on `tests.integration.month_world` (two towns, a village branch with its
committee and members, another town's branch with its own secretary) and filled
through the services: meetings, a meeting notice, evidence, an invite, a pending join
request, and last month's snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Member, PeriodSnapshot, load_all
from bot.services import evidence, meetings, onboarding, periods, rsvp
from tests.integration import month_world
from tests.integration.month_world import NOW, RUBRIC, add_member

OTHER_MEMBER_TG = 201  # a plain member of the other town's branch
GROUP = -100777


@dataclass
class City:
    world: month_world.World
    meeting: int
    notice: int
    invite: str
    request: int
    snapshot: int
    other_member: Member


async def populate(session: AsyncSession) -> City:
    w = await month_world.build(session)
    other_member = await add_member(session, w.other, "外支部党员", tg=OTHER_MEMBER_TG)
    secretary = await w.principal(session, month_world.SECRETARY_TG)
    saved = await meetings.save_meeting(session, RUBRIC, secretary, NOW, w.draft())
    for month in (5, 6):  # last months' theme days, so that last month has a snapshot to judge
        draft = w.draft(kind="theme_day", held_on=date(2026, month, 10), topic=f"主题党日{month}")
        await meetings.save_meeting(session, RUBRIC, secretary, NOW, draft)
    await rsvp.link_group(session, secretary, NOW, w.branch.id, GROUP)
    notice = await rsvp.announce(
        session,
        secretary,
        NOW,
        w.branch.id,
        "general",
        datetime(2026, 7, 20, 11, tzinfo=UTC),
        "村部",
        "学习",
    )
    await evidence.record_evidence(
        session, RUBRIC, secretary, NOW, w.branch.id, "member_education", count=2
    )
    invite = await onboarding.create_invite(session, secretary, NOW, w.branch.id)
    outcome = await onboarding.request_as_new(session, NOW, invite.id, 999, "新人")
    await periods.close_period(session, RUBRIC, NOW, "2026-06")
    snapshot = (
        await session.execute(select(PeriodSnapshot.id).where(PeriodSnapshot.org_id == w.branch.id))
    ).scalar_one()
    await session.flush()
    return City(
        w, saved.meeting.id, notice.id, invite.code, outcome.request.id, snapshot, other_member
    )


async def row_counts(session: AsyncSession) -> dict[str, int]:
    """Rows in every table but the update log (every update adds one there)."""
    counts = {}
    for table in load_all().sorted_tables:
        if table.name != "processed_update":
            counts[table.name] = (
                await session.execute(select(func.count()).select_from(table))
            ).scalar_one()
    return counts


async def branch_rows(session: AsyncSession, org_id: int) -> dict[str, object]:
    """Everything that belongs to one branch: its row, and every row of every table that
    has an `org_id`, compared whole (a changed role or status shows, not only a count)."""
    found: dict[str, object] = {}
    for table in load_all().sorted_tables:
        if table.name == "organisation":
            rows = await session.execute(select(table).where(table.c.id == org_id))
        elif "org_id" in table.c:
            rows = await session.execute(select(table).where(table.c.org_id == org_id))
        else:
            continue
        found[table.name] = sorted(tuple(map(repr, r)) for r in rows.all())
    return found
