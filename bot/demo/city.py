"""The rest of the demo city: a third sub-committee and 40 more branches with a year of
records, written with a few multi-row INSERTs (the four persona branches go through the
services in seed.py; these only need to make the superior's dashboard mean something).

Each branch has a diligence that drifts over the year — some improve, some slip — so
star levels, compliance and the month-to-month movers differ.
"""

from __future__ import annotations

import random
from datetime import date, datetime

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    BranchFeatured,
    Evidence,
    Meeting,
    Member,
    Organisation,
    PeriodSnapshot,
)
from scoring import FortressRubric, checklist_items

TOWN_C = "禾青镇党委"
DOMAINS = ("village", "community", "agency", "two_new")
CATEGORY = {"village": "rural_community", "community": "rural_community"}
PLACES = {
    "village": ["村", "村", "村", "社区"],
    "community": ["社区"],
    "agency": ["局机关", "中心", "委机关"],
    "two_new": ["公司", "协会", "商会"],
}
STEMS = (
    "青山 石桥 白竹 枫林 金竹 新建 团结 光明 东升 向阳 柳溪 桃源 杉木 梅塘 长岭 兴隆 "
    "大坪 黄泥 龙潭 双江 水口 清塘 曙光 胜利 红星 朝阳 先锋 民主 和平 幸福 五一 群力 "
    "永丰 新华 建设 跃进 前进 丰收 太平 新桥"
).split()
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国志文斌辉鹏飞雪琳"
EXTRA_BRANCHES = 40
PERIOD_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}


def _month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def year_before(current: str) -> list[tuple[int, int]]:
    """The twelve months before `current` (YYYY-MM), oldest first."""
    year, month = int(current[:4]), int(current[5:])
    out = []
    for _ in range(12):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        out.append((year, month))
    return out[::-1]


async def grow(
    session: AsyncSession,
    rubric: FortressRubric,
    now: datetime,
    city: Organisation,
    towns: list[Organisation],
    current: str,
) -> int:
    """Add a third sub-committee and the extra branches with their history; returns how
    many branches were added."""
    rng = random.Random(2026)
    third = Organisation(parent_id=city.id, path="", kind="committee", name=TOWN_C, created_at=now)
    session.add(third)
    await session.flush()
    third.path = f"{city.path}{third.id}/"
    parents = [*towns, third]
    made = []
    for i in range(EXTRA_BRANCHES):
        domain = DOMAINS[i % 4]
        parent = parents[i % len(parents)]
        stem = STEMS[i % len(STEMS)]
        name = f"{stem}{rng.choice(PLACES[domain])}党支部"
        made.append(
            Organisation(
                parent_id=parent.id,
                path="",
                kind="branch",
                name=name,
                domain=domain,
                created_at=now,
            )
        )
    session.add_all(made)
    await session.flush()
    for org in made:
        parent = next(p for p in parents if p.id == org.parent_id)
        org.path = f"{parent.path}{org.id}/"
    await session.flush()
    members, meetings, records = [], [], []
    months = year_before(current)
    for n, org in enumerate(made):
        size = rng.randint(7, 16)
        category = CATEGORY.get(org.domain, org.domain)
        for k in range(size):
            role = "secretary" if k == 0 else "organiser" if k == 1 else "member"
            status = "mobile" if k == size - 1 and n % 3 == 0 else "active"
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if k % 2 else "")
            members.append(
                {
                    "org_id": org.id,
                    "name": name,
                    "category": "mobile" if status == "mobile" else category,
                    "role": role,
                    "status": status,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        counted = size - (1 if n % 3 == 0 else 0)
        # Diligence from 0.5 to 1.0 at the start, drifting up or down through the year.
        start = 0.5 + 0.5 * ((n * 37) % 40) / 39
        drift = rng.choice((-0.03, -0.015, 0.0, 0.015, 0.03))
        for m, (year, month) in enumerate(months):
            diligence = min(1.0, max(0.2, start + drift * m + rng.uniform(-0.08, 0.08)))
            meetings += _meetings(rng, org.id, year, month, diligence, counted, now)
            records += _records(rng, rubric, org.domain, year, month, diligence, size, org.id, now)
    if members:
        await session.execute(insert(Member.__table__), members)
    if meetings:
        await session.execute(insert(Meeting.__table__), meetings)
    if records:
        await session.execute(insert(Evidence.__table__), records)
    featured = [{"org_id": o.id, "item_key": FEATURED[0]} for o in made if o.id % 3 == 0]
    await session.execute(insert(BranchFeatured.__table__), featured)
    return len(made)


def _meetings(rng, org_id, year, month, diligence, counted, now) -> list[dict]:
    plan = [("committee", 3), ("theme_day", 10), ("group", 18)]
    if month % 3 == 1:
        plan += [("general", 22), ("lesson", 24)]
    if month == 1:
        plan.append(("org_life", 26))
    rows = []
    for kind, day in plan:
        if kind not in ("committee", "theme_day") and rng.random() < (1 - diligence) * 0.6:
            continue
        expected = 2 if kind == "committee" else counted
        came = expected if rng.random() < 0.5 + diligence / 2 else max(1, expected // 2)
        topic = f"{year}年{month}月{kind}"
        rows.append(
            {
                "org_id": org_id,
                "kind": kind,
                "held_on": date(year, month, day),
                "topic": topic,
                "topic_key": topic,
                "attended": came,
                "expected": expected,
                "counts": kind not in ("committee", "general") or came * 2 > expected,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


_SPECS: dict[tuple[int, str, str, bool], list] = {}
FEATURED = ("featured_brand",)


def _specs(rubric, domain: str, month: str, featured: bool) -> list:
    """The items a month's records are about, with what they read (same for every branch
    of a domain in that month)."""
    key = (id(rubric), domain, month, featured)
    found = _SPECS.get(key)
    if found is None:
        chosen = FEATURED if featured else ()
        found = [
            (spec, rubric.item(spec.key))
            for spec in checklist_items(rubric, domain, chosen, month)
            if spec.part.value != "bonus"
        ]
        _SPECS[key] = found
    return found


def _records(rng, rubric, domain, year, month, diligence, size, org_id, now) -> list[dict]:
    key = _month(year, month)
    rows = []

    def add(kind: str, ev_key: str, count: int, grade: str | None = None) -> None:
        rows.append(
            {
                "org_id": org_id,
                "month": key,
                "kind": kind,
                "key": ev_key,
                "count": count,
                "grade": grade,
                "created_at": now,
            }
        )

    for spec, item in _specs(rubric, domain, key, org_id % 3 == 0):
        kind = spec.evidence.value
        months = PERIOD_MONTHS[item.period.value]
        last_of_period = month % months == 0
        if kind == "task":
            # Done early in its period by a diligent branch, late or never by the others.
            if (month - 1) % months == min(months - 1, int((1 - diligence) * 4)) and (
                rng.random() < 0.3 + diligence * 0.7
            ):
                add("task", spec.evidence_key, 1)
        elif kind == "events":
            add("event", spec.evidence_key, int(rng.random() * diligence * 4))
        elif kind == "ratio":
            total = size * 3 if spec.key != "dues_collected" else size
            add("event", item.evidence.den, total)
            share = rng.uniform(max(0.0, diligence - 0.2), 1.0)
            add("event", spec.evidence_key, int(total * share))
        elif kind == "grade" and last_of_period:
            add("grade", spec.key, 1, "ABCD"[min(3, int((1 - diligence) * 5 * rng.random()))])
    return rows


async def confirm_history(
    session: AsyncSession, periods_to_confirm: list[str], staff_id: int, now: datetime
) -> None:
    """The superior confirmed the months before last as proposed (one UPDATE)."""
    if not periods_to_confirm:
        return
    await session.execute(
        update(PeriodSnapshot)
        .where(
            PeriodSnapshot.period.in_(periods_to_confirm),
            PeriodSnapshot.confirmed_star.is_(None),
        )
        .values(
            confirmed_star=PeriodSnapshot.proposed_star, confirmed_by=staff_id, confirmed_at=now
        )
        .execution_options(synchronize_session=False)
    )
