"""Hand-computed Vanguard Index cases on the shipped rural/community variant, and a
branch's grades under the excellent cap."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from scoring import (
    CapMove,
    Grade,
    MemberFacts,
    Override,
    OverrideError,
    VanguardPart,
    grade_branch_members,
    score_member,
    score_members,
)


def member(member_id=1, **kw) -> MemberFacts:
    base = dict(
        events={
            "lessons_attended": 4,
            "lessons_held": 6,
            "theme_days_attended": 12,
            "theme_days_held": 12,
            "dues_months_paid": 12,
            "dues_months_due": 12,
            "neighbour_help": 3,
            "volunteer_hours": 10,
            "households_served": 2,
            "commendations": 1,
        },
        tasks={"org_life_attended": 1},
        grades={"conduct": "A", "family_virtue": "B"},
        self_score=90,
        review_score=80,
        ballots={"excellent": 10, "qualified": 10},
    )
    base.update(kw)
    return MemberFacts(member_id, "b1", "rural_community", "2026", **base)


def test_hand_computed_member(vanguard):
    r = score_member(vanguard, member())
    # political 10.00 (4/6 of 15) + 15; discipline 10 + 10 + 5; moral 7.5 + 6; dedication 10 + 4
    assert dict(zip(r.subindex_keys, (r.subindex(k) for k in r.subindex_keys), strict=True)) == {
        "political": D("25.00"),
        "discipline": D(25),
        "moral": D("13.50"),
        "dedication": D(14),
    }
    parts = {p.part: (p.value, p.weight, p.points) for p in r.parts}
    assert parts[VanguardPart.INDICES] == (D("77.50"), D("0.5"), D("38.75"))
    assert parts[VanguardPart.VOTE] == (D("90.00"), D("0.25"), D("22.50"))
    assert r.basic == D("82.25")
    assert r.bonus.counted == 5 and r.bonus_items == (("commended", 500),)
    assert r.total == D("87.25") and r.grade is Grade.QUALIFIED
    assert dict(r.items())["lessons"] == D("10.00")


def test_missing_part_is_left_out_and_weights_rescaled(vanguard):
    r = score_member(vanguard, member(review_score=None))
    weights = {p.part: p.weight for p in r.parts}
    assert weights[VanguardPart.REVIEW] == 0
    assert weights[VanguardPart.INDICES] == D("0.5882")
    # 77.50 × 50/85 = 45.59, 90 × 10/85 = 10.59, 90 × 25/85 = 26.47
    assert r.basic == D("82.65") and r.total == D("87.65")


def test_deductions_are_capped_and_the_total_clamped(vanguard):
    r = score_member(vanguard, member(flags={"political_discipline_breach": 4}))
    assert r.deduction_items == (("political_discipline", 3000),)  # 4 × 10 capped at 30
    assert r.total == D("57.25")
    worse = score_member(
        vanguard,
        member(
            flags={"political_discipline_breach": 4, "ideals_problem": 3, "role_not_played": 2},
            events={},
            self_score=0,
            ballots={},
        ),
    )
    assert worse.deductions.earned == 60 and worse.deductions.counted == 40
    assert worse.total == 0


def test_hard_rule_makes_unqualified_whatever_the_points(vanguard):
    events = dict(member().events, theme_days_attended=5)
    r = score_member(vanguard, member(events=events))
    assert r.total > 75
    assert [h.key for h in r.hard_rules] == ["too_few_theme_days"]
    assert r.grade is Grade.UNQUALIFIED


def test_zeroing_clause_clears_the_year(vanguard):
    r = score_member(vanguard, member(flags={"party_sanction": 1}))
    assert r.total == 0 and r.zeroed[0].key == "party_sanction"


def test_unknown_vote_option_is_refused(vanguard):
    with pytest.raises(ValueError, match="unknown vote option"):
        score_member(vanguard, member(ballots={"great": 3}))


def test_batch_equals_one_by_one(vanguard):
    facts = [
        member(i, self_score=60 + i, flags={"party_sanction": 1} if i == 3 else {})
        for i in range(6)
    ]
    assert score_members(vanguard, facts) == [score_member(vanguard, f) for f in facts]


# ---- grades of a branch


def with_total(vanguard, member_id, total, vote=90):
    r = score_member(
        vanguard, member(member_id, ballots={"excellent": vote, "qualified": 100 - vote})
    )
    grade = Grade.EXCELLENT if total >= 90 else Grade.QUALIFIED
    return replace(r, total_c=int(total * 100), grade=grade)


def test_cap_keeps_the_best_quarter(vanguard):
    results = [with_total(vanguard, i, 99 - i) for i in range(8)]  # 99 … 92, all excellent
    grading = grade_branch_members(vanguard, results)
    assert grading.places == 2
    assert [m for m, g in grading.grades.items() if g is Grade.EXCELLENT] == [0, 1]
    assert {(m.member_id, m.why) for m in grading.moves} == {
        (i, CapMove.OVER_CAP) for i in range(2, 8)
    }


def test_ties_at_the_boundary_all_drop(vanguard):
    totals = [96, 93, 93, 91, 80, 80, 80, 80]
    results = [with_total(vanguard, i, t, vote=50) for i, t in enumerate(totals)]
    grading = grade_branch_members(vanguard, results)
    assert [m for m, g in grading.grades.items() if g is Grade.EXCELLENT] == [0]
    why = {m.member_id: m.why for m in grading.moves}
    assert why == {1: CapMove.TIED_AT_BOUNDARY, 2: CapMove.TIED_AT_BOUNDARY, 3: CapMove.OVER_CAP}


def test_tie_broken_by_the_vote(vanguard):
    totals = [96, 93, 93, 91, 80, 80, 80, 80]
    results = [with_total(vanguard, i, t, vote=60 if i == 2 else 50) for i, t in enumerate(totals)]
    grading = grade_branch_members(vanguard, results)
    assert [m for m, g in grading.grades.items() if g is Grade.EXCELLENT] == [0, 2]


def test_override_needs_a_reason_and_counts_against_the_cap(vanguard):
    results = [with_total(vanguard, i, 99 - i) for i in range(8)]
    with pytest.raises(OverrideError) as exc:
        grade_branch_members(vanguard, results, [Override(7, Grade.EXCELLENT, "  ")])
    assert exc.value.code == "reason_required"
    grading = grade_branch_members(
        vanguard, results, [Override(7, Grade.EXCELLENT, "rescued a child")]
    )
    assert [m for m, g in grading.grades.items() if g is Grade.EXCELLENT] == [0, 7]
    assert grading.moves[0].why is CapMove.OVERRIDE
    assert grading.moves[0].reason == "rescued a child"
    with pytest.raises(OverrideError) as exc:
        grade_branch_members(
            vanguard, results, [Override(i, Grade.EXCELLENT, "x") for i in (5, 6, 7)]
        )
    assert exc.value.code == "over_cap"


def test_override_cannot_lift_above_a_hard_rule(vanguard):
    events = dict(member().events, theme_days_attended=2)
    r = score_member(vanguard, member(1, events=events))
    with pytest.raises(OverrideError) as exc:
        grade_branch_members(vanguard, [r], [Override(1, Grade.QUALIFIED, "was ill")])
    assert exc.value.code == "above_hard_rule"
