"""Month close and star confirmation on the real database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import func, select

from bot.db.models import AuditLog, PeriodSnapshot
from bot.services import meetings, periods
from bot.services.errors import ServiceError
from bot.services.facts import branch_facts
from scoring import score_branch
from tests.integration.month_world import (
    NOW,
    OTHER_STAFF_TG,
    ROOT,
    RUBRIC,
    SECRETARY_TG,
    STAFF_TG,
    build,
)

JUNE = "2026-06"


async def _world_with_june(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    for kind in ("committee", "group", "theme_day"):
        await meetings.save_meeting(
            session, RUBRIC, sec, NOW, w.draft(kind=kind, held_on=date(2026, 6, 12))
        )
    return w


async def test_close_freezes_each_branch_once(session):
    w = await _world_with_june(session)
    summary = await periods.close_period(session, RUBRIC, NOW, JUNE)
    assert (summary.created, summary.already_closed, summary.branches) == (2, 0, 2)
    again = await periods.close_period(session, RUBRIC, NOW, JUNE)
    assert (again.created, again.already_closed, again.branches) == (0, 2, 2)
    snaps = (await session.execute(select(PeriodSnapshot))).scalars().all()
    assert len(snaps) == 2
    snap = next(s for s in snaps if s.org_id == w.branch.id)
    expected = score_branch(RUBRIC, await branch_facts(session, w.branch, JUNE, rubric=RUBRIC))
    assert snap.score == expected.total and snap.proposed_star == expected.stars.stars
    assert snap.rubric_version == RUBRIC.version and snap.confirmed_star is None
    fields = snap.breakdown["item_fields"]
    item = dict(zip(fields, snap.breakdown["items"]["committee_meeting"], strict=True))
    assert item == {
        "points": "4",
        "max": "4",
        "value": 1,
        "rule": "done",
        "from": JUNE,
        "to": JUNE,
    }
    assert snap.breakdown["stars"]["stars"] == snap.proposed_star
    assert set(snap.breakdown["dimensions"]) == {d.key for d in RUBRIC.dimensions}
    assert json.loads(json.dumps(snap.breakdown)) == snap.breakdown
    # The closed month refuses a late meeting from the secretary.
    sec = await w.principal(session, SECRETARY_TG)
    with pytest.raises(ServiceError, match="meeting.period_closed"):
        await meetings.save_meeting(
            session, RUBRIC, sec, NOW, w.draft(kind="lesson", held_on=date(2026, 6, 2))
        )
    assert await periods.is_closed(session, w.branch.id, JUNE)
    assert not await periods.is_closed(session, w.branch.id, "2026-05")
    log = (await session.execute(select(AuditLog).where(AuditLog.entity == "period"))).scalar_one()
    assert log.changes == {"period": [None, JUNE], "created": [None, 2]}


async def test_close_a_subtree_then_the_rest(session):
    w = await _world_with_june(session)
    first = await periods.close_period(session, RUBRIC, NOW, JUNE, root=w.town)
    assert (first.created, first.branches) == (1, 1)
    rest = await periods.close_period(session, RUBRIC, NOW, JUNE, root=w.city)
    assert (rest.created, rest.already_closed, rest.branches) == (1, 1, 2)
    assert sum((await periods.star_distribution(session, JUNE)).values()) == 2
    assert sum((await periods.star_distribution(session, JUNE, w.town)).values()) == 1
    city = await periods.overview(session, JUNE, [None])
    town = await periods.overview(session, JUNE, [w.town])
    assert (city.total, town.total) == (2, 1)
    assert city.stars == await periods.star_distribution(session, JUNE)
    assert 0 <= town.met <= town.total and town.compliance == town.met / town.total
    assert (await periods.overview(session, JUNE, [])).total == 0


@pytest.mark.parametrize(
    ("period", "code"), [("2026-07", "period.not_over"), ("June", "period.malformed")]
)
async def test_only_finished_months_close(session, period, code):
    await build(session)
    with pytest.raises(ServiceError) as err:
        await periods.close_period(session, RUBRIC, NOW, period)
    assert err.value.code == code


async def test_quota_scheme_ranks_the_branches_together(session):
    w = await _world_with_june(session)
    quota = replace(RUBRIC, default_scheme="yearly_quota")
    await periods.close_period(session, quota, NOW, JUNE)
    stars = dict(
        (await session.execute(select(PeriodSnapshot.org_id, PeriodSnapshot.proposed_star))).all()
    )
    # Two branches, shares 10/25/40/20/5 %: the better one gets 4 stars, the other 3.
    assert stars[w.branch.id] > stars[w.other.id]


async def test_confirm_with_and_without_adjustment(session):
    w = await _world_with_june(session)
    await periods.close_period(session, RUBRIC, NOW, JUNE)
    staff = await w.principal(session, STAFF_TG)
    page = await periods.proposals(session, staff, JUNE, 0)
    assert page.total == 1 and page.items[0][1].id == w.branch.id
    snap = page.items[0][0]
    other_staff = await w.principal(session, OTHER_STAFF_TG)
    for who in (other_staff, await w.principal(session, SECRETARY_TG)):
        with pytest.raises(ServiceError, match="access.denied"):
            await periods.confirm(session, who, NOW, snap.id)
    confirmed = await periods.confirm(session, staff, NOW, snap.id)
    assert confirmed.confirmed_star == snap.proposed_star and confirmed.adjust_reason is None
    assert confirmed.confirmed_by == STAFF_TG and confirmed.confirmed_at == NOW
    up = min(snap.proposed_star + 1, 5)
    with pytest.raises(ServiceError, match="period.reason_required"):
        await periods.confirm(session, staff, NOW, snap.id, star=up, reason="  ")
    with pytest.raises(ServiceError, match="period.star_invalid"):
        await periods.confirm(session, staff, NOW, snap.id, star=6, reason="r")
    adjusted = await periods.confirm(session, staff, NOW, snap.id, star=up, reason="群众满意度高")
    assert (adjusted.confirmed_star, adjusted.adjust_reason) == (up, "群众满意度高")
    logs = (
        (
            await session.execute(
                select(AuditLog).where(AuditLog.entity == "snapshot").order_by(AuditLog.id)
            )
        )
        .scalars()
        .all()
    )
    assert logs[-1].changes["confirmed_star"] == [snap.proposed_star, up]
    assert logs[-1].changes["adjust_reason"] == [None, "群众满意度高"]
    with pytest.raises(ServiceError, match="period.not_found"):
        await periods.confirm(session, staff, NOW, 10**6)
    # Confirmed levels are the history: the distribution reads them.
    assert (await periods.star_distribution(session, JUNE, w.town)) == {up: 1}


async def test_confirm_all_in_the_subtree(session):
    w = await _world_with_june(session)
    await periods.close_period(session, RUBRIC, NOW, JUNE)
    staff = await w.principal(session, STAFF_TG)
    with pytest.raises(ServiceError, match="access.denied"):
        await periods.confirm_all(session, staff, NOW, JUNE, w.city)
    done = await periods.confirm_all(session, staff, NOW, JUNE)
    assert [s.org_id for s in done] == [w.branch.id]
    assert all(s.confirmed_star == s.proposed_star for s in done)
    assert await periods.confirm_all(session, staff, NOW, JUNE) == []
    everything = await periods.confirm_all(session, ROOT, NOW, JUNE)
    assert [s.org_id for s in everything] == [w.other.id]
    unconfirmed = await session.execute(
        select(func.count()).where(PeriodSnapshot.confirmed_star.is_(None))
    )
    assert unconfirmed.scalar() == 0
    tell = await periods.branch_leaders_to_tell(session, [*done, *everything])
    assert tell == {w.branch.id: [SECRETARY_TG, 101], w.other.id: [200]}
    page = await periods.proposals(session, ROOT, JUNE, 0)
    assert page.total == 2
