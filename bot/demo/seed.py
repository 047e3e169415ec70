"""The demo city: enough people and history that every feature can be tried at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import MemberStatus, Role, Staff
from bot.services import members, onboarding, orgs
from bot.services.audit import Actor


@dataclass(frozen=True)
class Persona:
    telegram_id: int
    name: str
    role_zh: str
    role_en: str
    phone: str | None = None


# Telegram ids of the people the browser chat lets you act as.
STAFF = Persona(9001, "周组织", "市委组织部工作人员", "city organisation department staff")
SECRETARY = Persona(
    1001, "李春梅", "书记 · 红旗村党支部", "secretary, Hongqi Village branch", "13800000001"
)
ORGANISER = Persona(
    1002, "王建国", "组织委员 · 红旗村党支部", "organising member, Hongqi Village", "13800000002"
)
MEMBER = Persona(
    1003, "张伟", "党员 · 红旗村党支部", "member, Hongqi Village branch", "13800000003"
)
NEWCOMER = Persona(
    2001,
    "陈晓",
    "新用户（名册中有，未绑定）",
    "new user (on the roster, not linked)",
    "13800000011",
)
PERSONAS = (SECRETARY, ORGANISER, MEMBER, STAFF, NEWCOMER)

CITY = "冷水江市委"
TOWN_A = "沙塘湾街道党工委"
TOWN_B = "市直机关工委"

BRANCHES = [
    # (parent, name, domain, [(name, role, status, phone)])
    (
        TOWN_A,
        "红旗村党支部",
        "village",
        [
            ("李春梅", "secretary", "active", SECRETARY.phone),
            ("王建国", "organiser", "active", ORGANISER.phone),
            ("张伟", "member", "active", MEMBER.phone),
            ("陈晓", "member", "active", NEWCOMER.phone),
            ("刘洋", "member", "active", "13800000012"),
            ("杨秀英", "member", "on_leave", None),
            ("赵磊", "member", "mobile", "13800000014"),
            ("黄丽", "member", "active", None),
            ("周强", "member", "active", "13800000016"),
            ("吴敏", "member", "active", None),
            ("徐静", "member", "active", "13800000018"),
            ("孙浩", "member", "active", None),
        ],
    ),
    (
        TOWN_A,
        "锑都社区党支部",
        "community",
        [
            ("胡晓燕", "secretary", "active", "13800000021"),
            ("朱志强", "organiser", "active", "13800000022"),
            ("高洁", "member", "active", None),
            ("林峰", "member", "active", "13800000024"),
            ("何娟", "member", "active", None),
            ("郭鹏", "member", "on_leave", None),
            ("马丽娜", "member", "active", "13800000027"),
            ("罗斌", "member", "active", None),
            ("梁雪", "member", "active", None),
            ("宋涛", "member", "active", "13800000030"),
        ],
    ),
    (
        TOWN_B,
        "市财政局机关党支部",
        "agency",
        [
            ("郑红", "secretary", "active", "13800000031"),
            ("谢军", "organiser", "active", "13800000032"),
            ("韩梅", "member", "active", None),
            ("唐磊", "member", "active", "13800000034"),
            ("冯雪", "member", "active", None),
            ("于洋", "member", "active", None),
            ("董芳", "member", "active", "13800000037"),
            ("萧然", "member", "active", None),
            ("程刚", "member", "active", None),
        ],
    ),
    (
        TOWN_B,
        "新材料科技公司党支部",
        "two_new",
        [
            ("曹颖", "secretary", "active", "13800000041"),
            ("袁野", "organiser", "active", "13800000042"),
            ("邓超", "member", "active", None),
            ("许娜", "member", "active", "13800000044"),
            ("傅强", "member", "mobile", None),
            ("沈悦", "member", "active", None),
            ("曾毅", "member", "active", "13800000047"),
            ("彭丹", "member", "active", None),
            ("吕博", "member", "active", None),
        ],
    ),
]

CATEGORY_OF = {
    "village": "rural_community",
    "community": "rural_community",
    "agency": "agency",
    "two_new": "two_new",
}


async def seed(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Create the demo city; returns a few ids the demo prints (e.g. the invite code)."""
    actor = Actor.cli("demo seed")
    city = await orgs.create_org(session, actor, now, name=CITY, kind="committee")
    towns = {}
    for name in (TOWN_A, TOWN_B):
        towns[name] = await orgs.create_org(
            session, actor, now, name=name, kind="committee", parent_id=city.id
        )
    session.add(Staff(org_id=city.id, telegram_id=STAFF.telegram_id, name="周组织", created_at=now))
    linked = {p.name: p.telegram_id for p in (SECRETARY, ORGANISER, MEMBER)}
    first_branch = None
    for parent, name, domain, people in BRANCHES:
        branch = await orgs.create_org(
            session,
            actor,
            now,
            name=name,
            kind="branch",
            parent_id=towns[parent].id,
            domain=domain,
        )
        first_branch = first_branch or branch
        for person, role, status, phone in people:
            member = await members.add_member(
                session,
                actor,
                now,
                org_id=branch.id,
                name=person,
                category="mobile" if status == "mobile" else CATEGORY_OF[domain],
                phone=phone,
                joined_on=date(2015, 7, 1),
            )
            if role != "member":
                await members.set_role(session, actor, now, member, Role(role))
            if status != "active":
                member.status = MemberStatus(status).value
            if person in linked and branch is first_branch:
                await members.link_telegram(session, actor, now, member, linked[person])
    await session.flush()
    principal = members.Principal(telegram_id=0, is_superuser=True)
    invite = await onboarding.create_invite(session, principal, now, first_branch.id)
    return {"branch_id": first_branch.id, "city_id": city.id, "invite": invite.code}
