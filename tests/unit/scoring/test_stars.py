"""Star levels by quotas, and the compliance rate."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from scoring import DecidedBy, compliance_rate, load_fortress_rubric, rate_branches, score_branch
from scoring.model import VetoEffect, VetoHit
from scoring.stars import quota_levels

from .conftest import bare_result as result
from .conftest import facts, meeting, write_mini


@pytest.fixture
def lower(tmp_path):
    return load_fortress_rubric(write_mini(tmp_path / "lower", ties="lower"))


@pytest.fixture
def higher(tmp_path):
    return load_fortress_rubric(write_mini(tmp_path / "higher", ties="higher"))


def test_quota_shares_of_ten_branches(lower):
    # shares 20% / 50% / 30% of 10: places 1–2 three stars, 3–7 two, 8–10 one.
    results = [result(i, 20 - i) for i in range(10)]
    ratings = rate_branches(lower, results, "q")
    assert [ratings[i].stars for i in range(10)] == [3, 3, 2, 2, 2, 2, 2, 1, 1, 1]
    assert ratings[0].decided_by is DecidedBy.QUOTA and ratings[4].rank == 5


def test_quota_boundaries_round_half_up(lower):
    # 7 branches: 20% → 1.4 → 1 place; 70% → 4.9 → 5 places; the rest one star.
    levels = quota_levels(lower.schemes["q"], [D(10 - i) for i in range(7)])
    assert [s for s, _ in levels] == [3, 2, 2, 2, 2, 1, 1]


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("lower", [2, 2, 2, 2, 2, 2, 2, 1, 1, 1]),
        ("higher", [3, 3, 3, 2, 2, 2, 2, 1, 1, 1]),
    ],
)
def test_quota_ties_across_a_boundary(request, fixture, expected):
    rubric = request.getfixturevalue(fixture)
    totals = [19, 18, 18, 17, 16, 15, 14, 13, 12, 11]  # places 2–3 tie across the 3★ line
    totals[0] = 18  # and the leader ties too: one group over places 1–3
    ratings = rate_branches(rubric, [result(i, t) for i, t in enumerate(totals)], "q")
    assert [ratings[i].stars for i in range(10)] == expected
    assert {ratings[i].rank for i in range(3)} == {1}


def test_veto_after_quota_keeps_the_place(lower):
    results = [result(i, 20 - i) for i in range(10)]
    results[0] = result(0, 20, [VetoHit("incident", VetoEffect.LOWEST, 1)])
    ratings = rate_branches(lower, results, "q")
    assert ratings[0].stars == 1 and ratings[0].decided_by is DecidedBy.VETO
    assert ratings[1].stars == 3 and ratings[2].stars == 2  # nobody moves up


def test_threshold_scheme_rated_per_branch(mini):
    r = score_branch(
        mini,
        facts(
            meetings=[meeting("committee", "2026-07")],
            events={"volunteer": {"2026-07": 3}},
            tasks={"village_task": {"2026-07": 1}},
        ),
    )
    assert r.total == 12
    assert rate_branches(mini, [r])["b1"].stars == 3


def test_compliance_rate():
    results = [result(i, 10, meets=i % 4 != 0) for i in range(8)]
    rate = compliance_rate(results)
    assert (rate.met, rate.total, rate.rate) == (6, 8, D("0.7500"))
    assert compliance_rate([]).rate == 0


def test_meets_standard_needs_points_and_no_veto(mini):
    assert not score_branch(mini, facts()).meets_standard
    ok = score_branch(
        mini,
        facts(
            events={"volunteer": {"2026-07": 3}},
            tasks={"village_task": {"2026-07": 1}},
            meetings=[meeting("committee", "2026-07")],
        ),
    )
    assert ok.total >= 10 and ok.meets_standard
