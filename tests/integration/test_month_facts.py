"""Facts read in aggregate for a subtree equal those read branch by branch, and score the same
as facts built one meeting at a time."""

from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import insert, select

from bot.db.models import BranchFeatured, Evidence, Meeting
from bot.services import orgs
from bot.services.facts import branch_facts, facts_for_branches
from scoring import BranchFacts, score_branch
from scoring import Meeting as FactMeeting
from tests.integration.month_world import NOW, ROOT, RUBRIC

KINDS = ("committee", "group", "general", "lesson", "theme_day", "org_life", "other")
DOMAINS = ("village", "community", "agency", "two_new")
COUNTS = {
    "event": ("volunteer_events", "education_sessions", "dues_paid", "dues_due"),
    "task": ("org_records_updated", "member_records", "committee_term_on_time"),
    "flag": ("complaint_upheld", "mass_incident"),
}
GRADED = ("ledger_kept", "central_tasks", "member_intake")  # quarter, quarter, year


async def _city(session, rng: random.Random):
    city = await orgs.create_org(session, ROOT.actor, NOW, name="市委", kind="committee")
    towns = [
        await orgs.create_org(
            session, ROOT.actor, NOW, name=f"镇{i}", kind="committee", parent_id=city.id
        )
        for i in range(3)
    ]
    branches = []
    for i in range(12):
        branches.append(
            await orgs.create_org(
                session,
                ROOT.actor,
                NOW,
                name=f"支部{i}",
                kind="branch",
                parent_id=towns[i % 3].id,
                domain=DOMAINS[i % 4],
            )
        )
    meetings, evidence, featured = [], [], []
    for b in branches:
        for n in range(rng.randint(0, 40)):
            expected = rng.randint(0, 12)
            meetings.append(
                {
                    "org_id": b.id,
                    "kind": rng.choice(KINDS),
                    # Also before the span (2024) and after the period (August).
                    "held_on": date(
                        rng.choice((2024, 2025, 2026, 2026)), rng.randint(1, 8), 1
                    ).replace(day=rng.randint(1, 28)),
                    "topic": f"t{n}",
                    "topic_key": f"t{n}",
                    "attended": rng.randint(0, expected),
                    "expected": expected,
                    "counts": rng.random() < 0.7,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        for _ in range(rng.randint(0, 25)):
            kind = rng.choice((*COUNTS, "grade"))
            key = rng.choice(GRADED if kind == "grade" else COUNTS[kind])
            evidence.append(
                {
                    "org_id": b.id,
                    "month": f"{rng.choice((2024, 2025, 2026))}-{rng.randint(1, 9):02d}",
                    "kind": kind,
                    "key": key,
                    "count": rng.randint(1, 5),
                    "grade": rng.choice("ABCD") if kind == "grade" else None,
                    "created_at": NOW,
                }
            )
        for key in rng.sample(("featured_brand", "party_neighbour", "red_property"), 2):
            if rng.random() < 0.5:
                featured.append({"org_id": b.id, "item_key": key})
    for table, rows in ((Meeting, meetings), (Evidence, evidence), (BranchFeatured, featured)):
        if rows:
            await session.execute(insert(table), rows)
    return city, towns, branches


def _naive(rows, branch, period, base: BranchFacts) -> BranchFacts:
    """One fact per meeting, straight from the rows (what the aggregate must score like)."""
    last = f"{period}-31"
    first = f"{int(period[:4]) - 1}-01-01"
    mine = [
        FactMeeting(m.kind, m.held_on, m.attended, m.expected, m.counts)
        for m in rows
        if m.org_id == branch.id and first <= m.held_on.isoformat() <= last
    ]
    return BranchFacts(
        branch.id,
        branch.domain,
        period,
        mine,
        base.events,
        base.tasks,
        base.flags,
        base.grades,
        base.featured,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("period", ["2026-01", "2026-03", "2026-07"])
async def test_subtree_facts_equal_branch_facts(session, seed, period):
    rng = random.Random(seed)
    city, towns, branches = await _city(session, rng)
    one_by_one = {b.id: await branch_facts(session, b, period, rubric=RUBRIC) for b in branches}
    city_wide = await facts_for_branches(session, None, period, root=city, rubric=RUBRIC)
    assert {f.branch_id: f for f in city_wide} == one_by_one
    everything = await facts_for_branches(session, None, period, rubric=RUBRIC)
    assert everything == city_wide
    town = await facts_for_branches(session, None, period, root=towns[1], rubric=RUBRIC)
    assert [f.branch_id for f in town] == [b.id for b in branches if b.parent_id == towns[1].id]
    chosen = rng.sample(branches, 5)
    picked = await facts_for_branches(session, chosen, period, rubric=RUBRIC)
    assert picked == [one_by_one[b.id] for b in chosen]

    rows = (await session.execute(select(Meeting))).scalars().all()
    for b in branches:
        aggregated = one_by_one[b.id]
        assert score_branch(RUBRIC, aggregated) == score_branch(
            RUBRIC, _naive(rows, b, period, aggregated)
        )


async def test_grades_stand_for_their_period_and_carry_while_it_is_open(session):
    city = await orgs.create_org(session, ROOT.actor, NOW, name="市委", kind="committee")
    b = await orgs.create_org(
        session, ROOT.actor, NOW, name="支部", kind="branch", parent_id=city.id, domain="village"
    )

    def grade(month, key, label):
        return {
            "org_id": b.id,
            "month": month,
            "kind": "grade",
            "key": key,
            "grade": label,
            "count": 1,
            "created_at": NOW,
        }

    await session.execute(
        insert(Evidence),
        [
            grade("2026-04", "ledger_kept", "A"),  # Q2
            grade("2026-05", "ledger_kept", "C"),  # Q2, later: wins
            grade("2025-06", "member_intake", "B"),  # last year
        ],
    )
    july = await branch_facts(session, b, "2026-07", rubric=RUBRIC)
    # Q3 is open in July and has no grade yet: Q2's latest stands; the yearly one carries.
    assert july.grades == {"ledger_kept": "C", "member_intake": "B"}
    # In September Q3 closes: an ungraded quarter earns nothing.
    assert "ledger_kept" not in (await branch_facts(session, b, "2026-09", rubric=RUBRIC)).grades
    await session.execute(insert(Evidence), [grade("2026-08", "ledger_kept", "B")])
    assert (await branch_facts(session, b, "2026-09", rubric=RUBRIC)).grades["ledger_kept"] == "B"
    # A grade given later than the period is not seen.
    assert (await branch_facts(session, b, "2026-05", rubric=RUBRIC)).grades["ledger_kept"] == "C"
    assert (await branch_facts(session, b, "2026-04", rubric=RUBRIC)).grades["ledger_kept"] == "A"


async def test_a_featured_item_the_rubric_dropped_is_ignored(session):
    city = await orgs.create_org(session, ROOT.actor, NOW, name="市委", kind="committee")
    b = await orgs.create_org(
        session, ROOT.actor, NOW, name="支部", kind="branch", parent_id=city.id, domain="village"
    )
    await session.execute(
        insert(BranchFeatured),
        [{"org_id": b.id, "item_key": "featured_brand"}, {"org_id": b.id, "item_key": "gone"}],
    )
    facts = await branch_facts(session, b, "2026-07", rubric=RUBRIC)
    assert facts.featured == ["featured_brand"]
    score_branch(RUBRIC, facts)  # the engine accepts it
