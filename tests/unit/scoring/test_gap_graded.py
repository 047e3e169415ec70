"""A level the branch's own records cannot reach names the items the superior grades it
depends on, instead of reading as out of reach (a new branch at 0 asking about ★★)."""

from __future__ import annotations

from decimal import Decimal as D

from scoring import BranchFacts, gap_analysis, load_fortress_rubric

RUBRIC = load_fortress_rubric()


def _new_village(grades: dict[str, str] | None = None) -> BranchFacts:
    return BranchFacts(
        1, "village", "2026-12", grades=grades or {}, since="2026-12", month_open=True
    )


def test_a_new_branch_is_told_which_grades_the_next_star_waits_on():
    [two] = gap_analysis(RUBRIC, _new_village(), up_to=1).levels
    assert two.stars == 2 and not two.reachable and not two.blocked_by
    assert two.own_best == D(55) and two.min_points == D(60)
    assert dict(two.graded) == {
        "collective_economy": D(8),
        "four_two_procedure": D(8),
        "central_tasks": D(4),
        "ledger_kept": D(3),
        "member_intake": D(2),
    }
    assert [points for _, points in two.graded] == sorted(
        (points for _, points in two.graded), reverse=True
    )


def test_a_level_even_the_best_grades_would_not_reach_names_none():
    five = gap_analysis(RUBRIC, _new_village()).levels[-1]
    assert five.stars == 5 and not five.reachable and five.graded == ()


def test_an_item_graded_in_full_is_not_named_and_one_graded_lower_keeps_what_is_open():
    given = {"member_intake": "A", "collective_economy": "D"}
    [two] = gap_analysis(RUBRIC, _new_village(given), up_to=1).levels
    assert not two.reachable and two.own_best == D(55 + 2)
    graded = dict(two.graded)
    assert "member_intake" not in graded and graded["collective_economy"] == D(8)
