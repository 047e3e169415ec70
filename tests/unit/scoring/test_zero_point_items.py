"""A featured item worth no points that a star level asks for is met by its evidence,
never by being chosen (the "innovation item done" condition of published rules)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from scoring import ChangeKind, gap_analysis, load_fortress_rubric, score_branch

from .conftest import FEATURED, facts, meeting, write_mini

INNOVATION = """
[[items]]
key = "innovation"
dimension = "a"
name_zh = "创新项目"
name_en = "Innovation project"
period = "year"
evidence = { kind = "task" }
score = { rule = "done", points = 0 }
"""


@pytest.fixture
def rubric(tmp_path):
    folder = write_mini(tmp_path / "r")
    (folder / "featured.toml").write_text(FEATURED + INNOVATION, encoding="utf-8")
    return load_fortress_rubric(folder)


def branch(done: bool):
    # 4 + 3 + 3 + 5 + bonus 3 = 18 points: the five-star threshold, without featured points.
    return facts(
        meetings=[meeting("committee", "2026-07"), meeting("theme_day", "2026-07")],
        events={"volunteer": {"2026-07": 3}, "awards": {"2026-01": 2}},
        tasks={"village_task": {"2026-07": 1}, **({"innovation": {"2026-03": 1}} if done else {})},
        featured=["innovation"],
    )


@pytest.mark.parametrize(
    ("done", "stars", "unmet", "met"),
    [
        (False, 4, (5,), False),  # chosen, nothing done: the condition is not met
        (True, 5, (), True),  # done in March: met for the year
    ],
)
def test_zero_point_featured_item_is_met_by_evidence(rubric, done, stars, unmet, met):
    result = score_branch(rubric, branch(done))
    assert result.total == D(18)
    assert result.item("innovation").points == 0
    assert result.item("innovation").met is met
    assert result.stars.stars == stars
    assert result.stars.unmet == unmet


def test_gap_analysis_asks_for_the_zero_point_item(rubric):
    gap = gap_analysis(rubric, branch(False))
    five = next(level for level in gap.levels if level.stars == 5)
    assert [(s.change.kind, s.change.key) for s in five.steps] == [(ChangeKind.TASK, "innovation")]
