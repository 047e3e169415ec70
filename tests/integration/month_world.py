"""A small city for the secretary's-month tests: committees, branches, people, roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Member, Organisation, Staff
from bot.services import members, orgs
from bot.services.meetings import MeetingDraft
from bot.services.members import Principal, load_principal
from scoring import load_fortress_rubric

NOW = datetime(2026, 7, 15, 2, tzinfo=UTC)  # 10:00 in Shanghai
TODAY = date(2026, 7, 15)
ROOT = Principal(telegram_id=1, is_superuser=True)
RUBRIC = load_fortress_rubric()

SECRETARY_TG = 100
ORGANISER_TG = 101
MEMBER_TG = 102
STAFF_TG = 500
OTHER_STAFF_TG = 501
OTHER_SECRETARY_TG = 200


@dataclass
class World:
    city: Organisation
    town: Organisation
    other_town: Organisation
    branch: Organisation  # village, under town
    other: Organisation  # community, under other_town
    people: dict[str, Member]
    outsider: Member  # a member of `other`

    async def principal(self, session: AsyncSession, telegram_id: int) -> Principal:
        return await load_principal(session, telegram_id, frozenset())

    def draft(self, **changes) -> MeetingDraft:
        values = {
            "org_id": self.branch.id,
            "kind": "committee",
            "held_on": date(2026, 7, 10),
            "topic": "学习贯彻党章",
            "attendee_ids": [self.people[n].id for n in ("书记", "组织委员", "张三")],
        }
        values.update(changes)
        return MeetingDraft(**values)


async def add_member(session, branch, name, *, role="member", tg=None, status="active", cat=None):
    m = await members.add_member(
        session,
        ROOT.actor,
        NOW,
        org_id=branch.id,
        name=name,
        category=cat or ("rural_community" if branch.domain == "village" else "agency"),
    )
    if role != "member":
        await members.set_role(session, ROOT.actor, NOW, m, role)
    if tg:
        await members.link_telegram(session, ROOT.actor, NOW, m, tg)
    if status != "active":
        await members.update_member(session, ROOT.actor, NOW, m, status=status)
    return m


async def build(session: AsyncSession) -> World:
    """Town branch: 6 counted members, one on leave, one mobile; another town's branch."""
    city = await orgs.create_org(session, ROOT.actor, NOW, name="市委", kind="committee")
    town = await orgs.create_org(
        session, ROOT.actor, NOW, name="一镇党委", kind="committee", parent_id=city.id
    )
    other_town = await orgs.create_org(
        session, ROOT.actor, NOW, name="二镇党委", kind="committee", parent_id=city.id
    )
    branch = await orgs.create_org(
        session,
        ROOT.actor,
        NOW,
        name="一村支部",
        kind="branch",
        parent_id=town.id,
        domain="village",
    )
    other = await orgs.create_org(
        session,
        ROOT.actor,
        NOW,
        name="社区支部",
        kind="branch",
        parent_id=other_town.id,
        domain="community",
    )
    people = {
        "书记": await add_member(session, branch, "书记", role="secretary", tg=SECRETARY_TG),
        "组织委员": await add_member(
            session, branch, "组织委员", role="organiser", tg=ORGANISER_TG
        ),
        "张三": await add_member(session, branch, "张三", tg=MEMBER_TG),
        "李四": await add_member(session, branch, "李四"),
        "王五": await add_member(session, branch, "王五"),
        "赵六": await add_member(session, branch, "赵六"),
        "请假": await add_member(session, branch, "请假", status="on_leave"),
        "外出": await add_member(session, branch, "外出", status="mobile"),
    }
    outsider = await add_member(session, other, "外支部", role="secretary", tg=OTHER_SECRETARY_TG)
    session.add(Staff(org_id=town.id, telegram_id=STAFF_TG, name="一镇组织办", created_at=NOW))
    session.add(
        Staff(org_id=other_town.id, telegram_id=OTHER_STAFF_TG, name="二镇组织办", created_at=NOW)
    )
    await session.flush()
    return World(city, town, other_town, branch, other, people, outsider)
