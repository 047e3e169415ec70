"""A branch (or many) ready for a democratic evaluation: members, telegram links, staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Meeting, MeetingAttendee, Member, Organisation, Staff
from bot.services import ballots, evaluation, orgs
from bot.services.members import Principal, load_principal
from scoring import load_vanguard_rubric

NOW = datetime(2026, 11, 20, 2, tzinfo=UTC)  # 10:00 in Shanghai
TODAY = date(2026, 11, 20)
ROOT = Principal(telegram_id=1, is_superuser=True)
VRUBRIC = load_vanguard_rubric()
STAFF_TG = 500
SECRETARY_TG = 10_000  # member i of the branch is 10_000 + i; the secretary is i = 0
CATEGORIES = ("rural_community", "agency", "two_new", "mobile")


@dataclass
class EvalWorld:
    city: Organisation
    branch: Organisation
    other: Organisation  # another branch, under the same city
    members: list[Member]  # of `branch`, the secretary first
    outsider: Member  # a member of `other`

    async def principal(self, session: AsyncSession, telegram_id: int) -> Principal:
        return await load_principal(session, telegram_id, frozenset())

    async def voter(self, session: AsyncSession, i: int) -> Principal:
        return await self.principal(session, SECRETARY_TG + i)


async def add_members(
    session: AsyncSession, branch: Organisation, n: int, first_tg: int | None, prefix: str
) -> list[Member]:
    """`n` members in one INSERT; the first is the secretary."""
    rows = [
        {
            "org_id": branch.id,
            "name": f"{prefix}{i:02d}",
            "category": CATEGORIES[i % 3],
            "role": "secretary" if i == 0 else ("organiser" if i == 1 else "member"),
            "status": "active",
            "telegram_id": None if first_tg is None else first_tg + i,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i in range(n)
    ]
    await session.execute(insert(Member), rows)
    found = await session.execute(
        select(Member).where(Member.org_id == branch.id).order_by(Member.name)
    )
    return list(found.scalars())


async def make_world(session: AsyncSession, n: int = 8) -> EvalWorld:
    city = await orgs.create_org(session, ROOT.actor, NOW, name="冷水江市委", kind="committee")
    session.add(Staff(org_id=city.id, telegram_id=STAFF_TG, name="组织部", created_at=NOW))
    branch = await orgs.create_org(
        session,
        ROOT.actor,
        NOW,
        name="红旗村党支部",
        kind="branch",
        parent_id=city.id,
        domain="village",
    )
    other = await orgs.create_org(
        session,
        ROOT.actor,
        NOW,
        name="东风社区党支部",
        kind="branch",
        parent_id=city.id,
        domain="community",
    )
    people = await add_members(session, branch, n, SECRETARY_TG, "党员")
    outsider = (await add_members(session, other, 2, 20_000, "外人"))[0]
    await add_year_of_meetings(session, branch, people)
    await session.flush()
    return EvalWorld(city, branch, other, people, outsider)


async def add_year_of_meetings(session: AsyncSession, branch: Organisation, people) -> None:
    """Monthly theme days and quarterly lessons, and the organisational-life meeting, with
    everyone there: the facts that keep members clear of the hard rules."""
    held = [("theme_day", date(2026, m, 8)) for m in range(1, 11)]
    held += [("lesson", date(2026, m, 20)) for m in (3, 6, 9)] + [("org_life", date(2026, 1, 25))]
    rows = [
        {
            "org_id": branch.id,
            "kind": kind,
            "held_on": day,
            "topic": f"{kind} {day}",
            "topic_key": f"{kind} {day}",
            "attended": len(people),
            "expected": len(people),
            "counts": True,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for kind, day in held
    ]
    await session.execute(insert(Meeting), rows)
    ids = (await session.execute(select(Meeting.id).where(Meeting.org_id == branch.id))).scalars()
    await session.execute(
        insert(MeetingAttendee),
        [{"meeting_id": i, "member_id": m.id} for i in ids for m in people],
    )


async def to_vote(session: AsyncSession, world: EvalWorld, min_voters: int = 5):
    """A campaign of `world.branch` opened and moved to the vote."""
    sec = await world.voter(session, 0)
    campaign = await evaluation.open_campaign(
        session, sec, NOW, TODAY, world.branch.id, "2026", min_voters=min_voters
    )
    await evaluation.advance(session, sec, NOW, TODAY, campaign.id, "self", VRUBRIC)
    return campaign


async def vote_all(session: AsyncSession, world: EvalWorld, campaign_id: int, choices) -> None:
    """`choices[i]`: voter i's marks {candidate member id: band}."""
    for i, marks in choices.items():
        voter = await world.voter(session, i)
        await ballots.submit_ballot(session, voter, TODAY, campaign_id, marks, VRUBRIC)
