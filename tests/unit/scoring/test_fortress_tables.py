"""Hand-computed Fortress Index cases, one construct at a time, on the small rubric in
conftest (common 10 + domain 5 + featured 5 = 20; bonus cap 3; deduction cap 4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from scoring import DecidedBy, Meeting, load_fortress_rubric, score_branch
from scoring.periods import Period, due_date, period_key, window

from .conftest import facts, meeting, write_mini

EXTRA = """
[[vetoes]]
key = "incident"
name_zh = "事故"
name_en = "Incident"
period = "year"
when = { kind = "flag", key = "incident" }
effect = "lowest"

[[vetoes]]
key = "warned"
name_zh = "警告"
name_en = "Warned"
period = "year"
when = { kind = "flag", key = "warning" }
effect = "cap"
level = 3

[[zeroing]]
key = "fake_ledger"
name_zh = "造假"
name_en = "Fake"
period = "year"
when = { kind = "flag", key = "fake" }
target = "dimension"
target_key = "a"

[[zeroing]]
key = "no_theme_day"
name_zh = "无主题党日"
name_en = "No theme day"
period = "month"
when = { kind = "meetings", meeting = "theme_day", below = 1 }
target = "item"
target_key = "vol"

[[zeroing]]
key = "fraud"
name_zh = "舞弊"
name_en = "Fraud"
period = "year"
when = { kind = "flag", key = "fraud" }
target = "total"
"""


@pytest.fixture
def rich(tmp_path):
    return load_fortress_rubric(write_mini(tmp_path / "rich", extra_common=EXTRA))


def full(**kw):
    base = dict(
        meetings=[meeting("committee", "2026-07", 6), meeting("theme_day", "2026-07", 9)],
        events={"volunteer": {"2026-07": 3}, "joint": {"2026-07": 1}},
        tasks={"village_task": {"2026-07": 1}, "feat1": {"2026-02": 1}},
        featured=["feat1", "feat2"],
    )
    base.update(kw)
    return facts(**base)


CASES = [
    ("nothing", {}, "0"),
    ("committee with quorum (6 of 10)", {"meetings": [meeting("committee", "2026-07", 6)]}, "4"),
    ("committee without quorum (5 of 10)", {"meetings": [meeting("committee", "2026-07", 5)]}, "0"),
    (
        "committee marked as counting",
        {"meetings": [Meeting("committee", date(2026, 7, 1), counts=True)]},
        "4",
    ),
    (
        "committee last month does not count",
        {"meetings": [meeting("committee", "2026-06", 9)]},
        "0",
    ),
    ("volunteer 2 events", {"events": {"volunteer": {"2026-07": 2}}}, "2"),
    ("volunteer capped at 3", {"events": {"volunteer": {"2026-07": 5}}}, "3"),
    ("future events ignored", {"events": {"volunteer": {"2026-08": 5}}}, "0"),
    (
        "attendance 18/20 → 0.9 × 3",
        {"meetings": [meeting("theme_day", "2026-07", 10), meeting("theme_day", "2026-07", 8)]},
        "2.70",
    ),
    (
        "attendance 2/3 rounds half up",
        {"meetings": [meeting("theme_day", "2026-07", 2, 3)]},
        "2.00",
    ),
    ("quarter task done this quarter", {"tasks": {"village_task": {"2026-07": 1}}}, "5"),
    ("quarter task carried from last quarter", {"tasks": {"village_task": {"2026-05": 1}}}, "5"),
    ("bonus 1 award", {"events": {"awards": {"2026-03": 1}}}, "2"),
    ("bonus pool capped at 3", {"events": {"awards": {"2026-03": 3}}}, "3"),
    ("deduction on nothing stays at 0", {"events": {"late": {"2026-02": 1}}}, "0"),
    (
        "deduction 3 per occurrence",
        {"events": {"volunteer": {"2026-07": 3}, "late": {"2026-02": 1}}},
        "0",
    ),
    (
        "deductions capped by the sheet (4)",
        {
            "meetings": [meeting("committee", "2026-07", 9)],
            "events": {"volunteer": {"2026-07": 3}, "late": {"2026-02": 3}},
        },
        "3",
    ),
    (
        "featured pool capped at 5",
        {
            "tasks": {"feat1": {"2026-01": 1}},
            "events": {"joint": {"2026-07": 2}},
            "featured": ["feat1", "feat2"],
        },
        "5",
    ),
    ("unchosen featured items do not count", {"tasks": {"feat1": {"2026-01": 1}}}, "0"),
]


@pytest.mark.parametrize(("name", "kw", "total"), CASES, ids=[c[0] for c in CASES])
def test_hand_computed_totals(mini, name, kw, total):
    assert score_branch(mini, facts(**kw)).total == D(total)


def test_quarter_task_not_carried_at_the_quarter_end(mini):
    result = score_branch(mini, facts("2026-09", tasks={"village_task": {"2026-05": 1}}))
    assert result.item("village_task").points == 0
    carried = score_branch(mini, facts("2026-07", tasks={"village_task": {"2026-05": 1}}))
    assert carried.item("village_task").window == ("2026-04", "2026-06")


def test_everything_is_capped_at_the_maximum(mini):
    result = score_branch(
        mini,
        full(
            events={"volunteer": {"2026-07": 3}, "joint": {"2026-07": 2}, "awards": {"2026-01": 2}},
            meetings=[meeting("committee", "2026-07", 6), meeting("theme_day", "2026-07", 10)],
        ),
    )
    # 4 + 3 + 3 + 5 = 15, featured 3 + 4 → 5, bonus 4 → 3: 23 capped at 20.
    assert result.total == 20 and result.max_points == 20
    assert result.featured.earned == 7 and result.featured.counted == 5
    assert result.bonus.counted == 3


def test_breakdown_explains_itself(mini):
    result = score_branch(mini, full())
    dims = {d.key: (d.points, d.max_points) for d in result.dimensions}
    # a: meet 4 + vol 3 + feat2 2 = 9 of 11; b: att 2.70 + task 5 + feat1 3 = 10.70 of 11
    assert dims == {"a": (D(9), D(11)), "b": (D("10.70"), D(11))}
    att = result.item("att")
    assert (att.value, att.points, att.max_points, att.rule.value) == (
        D("0.9000"),
        D("2.70"),
        D(3),
        "proportional",
    )
    assert result.total == D("19.70")  # featured 3 + 2 = 5, all counted
    assert result.stars.stars == 5 and result.stars.decided_by is DecidedBy.THRESHOLD
    assert result.meets_standard


def test_five_stars_need_a_featured_item_done(mini):
    points_only = full(
        featured=["feat2"],
        events={"volunteer": {"2026-07": 3}, "joint": {"2026-07": 2}, "awards": {"2026-01": 2}},
    )
    result = score_branch(mini, points_only)
    # 4 + 3 + 2.70 + 5 + featured 4 (feat2 full) + bonus 3 = 21.70 → 20
    assert result.total == 20
    assert result.stars.stars == 5  # feat2 at full points is a featured item done
    without = score_branch(
        mini, full(featured=[], events={"volunteer": {"2026-07": 3}, "awards": {"2026-01": 2}})
    )
    assert without.total == D("17.70")
    assert without.stars.stars == 4
    high = score_branch(
        mini,
        facts(
            meetings=[meeting("committee", "2026-07", 9), meeting("theme_day", "2026-07", 10)],
            events={"volunteer": {"2026-07": 3}, "awards": {"2026-01": 2}},
            tasks={"village_task": {"2026-07": 1}},
        ),
    )
    assert high.total == 18 and high.stars.stars == 4 and high.stars.unmet == (5,)


def test_veto_to_the_lowest_level(rich):
    result = score_branch(rich, full(flags={"incident": {"2026-03": 1}}))
    assert result.total == D("19.70")
    assert (result.stars.stars, result.stars.decided_by, result.stars.rule) == (
        1,
        DecidedBy.VETO,
        "incident",
    )
    assert not result.meets_standard  # a veto fails the standard whatever the points


def test_veto_caps_the_level(rich):
    result = score_branch(rich, full(flags={"warning": {"2026-01": 1}}))
    assert result.stars.stars == 3 and result.stars.rule == "warned"
    low = score_branch(rich, facts(flags={"warning": {"2026-01": 1}}))
    assert low.stars.decided_by is DecidedBy.THRESHOLD  # a cap above the level changes nothing


def test_last_years_flag_does_not_veto_this_year(rich):
    result = score_branch(rich, full(flags={"incident": {"2025-12": 1}}))
    assert result.vetoes == ()


def test_zeroing_a_dimension(rich):
    result = score_branch(rich, full(flags={"fake": {"2026-06": 1}}))
    hit = result.zeroed[0]
    assert (hit.key, hit.target_key, hit.points_removed) == ("fake_ledger", "a", D(9))
    assert {d.key: d.points for d in result.dimensions}["a"] == 0
    # b: 2.70 + 5 + 3 = 10.70; featured counted only feat1 (3) since feat2 sits in a.
    assert result.total == D("10.70")


def test_zeroing_an_item_when_a_meeting_is_missing(rich):
    result = score_branch(rich, facts(events={"volunteer": {"2026-07": 3}}))
    assert [z.key for z in result.zeroed] == ["no_theme_day"]
    assert result.total == 0
    held = score_branch(
        rich,
        facts(events={"volunteer": {"2026-07": 3}}, meetings=[meeting("theme_day", "2026-07")]),
    )
    assert held.total == 6  # vol 3 + attendance 3


def test_zeroing_the_total(rich):
    result = score_branch(rich, full(flags={"fraud": {"2026-07": 1}}))
    assert result.total == 0
    assert result.zeroed[-1].points_removed == D("19.70")


def test_unknown_featured_item_is_refused(mini):
    with pytest.raises(ValueError, match="nope"):
        score_branch(mini, facts(featured=["nope"]))


def test_shipped_rubric_months_without_theme_day(fortress):
    f = facts(meetings=[meeting("theme_day", "2026-01"), meeting("theme_day", "2026-02")])
    line = score_branch(fortress, f).item("months_without_theme_day")
    # March–July have none: 5 months × 2 = 10, capped at 8.
    assert (line.value, line.points) == (5, D(-8))


@pytest.mark.parametrize(
    ("month", "period", "key", "first", "due"),
    [
        ("2026-07", Period.MONTH, "2026-07", "2026-07", "2026-07-31"),
        ("2026-08", Period.QUARTER, "2026-Q3", "2026-07", "2026-09-30"),
        ("2026-02", Period.HALF, "2026-H1", "2026-01", "2026-06-30"),
        ("2026-12", Period.YEAR, "2026", "2026-01", "2026-12-31"),
    ],
)
def test_period_helpers(month, period, key, first, due):
    assert period_key(month, period) == key
    assert window(month, period) == (first, month)
    assert due_date(month, period).isoformat() == due
