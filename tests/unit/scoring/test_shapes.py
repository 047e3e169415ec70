"""The published shapes of rating rules, each from its shipped example file
(scoring/examples/…) with results computed by hand."""

from __future__ import annotations

import re
from decimal import Decimal as D
from pathlib import Path

import pytest

from scoring import (
    CapMove,
    DecidedBy,
    Grade,
    MemberFacts,
    Override,
    OverrideError,
    grade_branch_members,
    load_fortress_rubric,
    load_vanguard_rubric,
    rate_branches,
    score_branch,
    score_members,
)
from scoring.rubric import check_files

from .conftest import bare_result, facts, meeting

EXAMPLES = Path(__file__).resolve().parents[3] / "scoring" / "examples"


@pytest.mark.parametrize("folder", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_every_example_folder_checks_clean(folder):
    assert check_files(sorted((EXAMPLES / folder).glob("*.toml"))) == []


# ---------------------------------------------------------------- 扣分制 for branches

MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]


def branch(committee_months=12, tasks=None, events=None, flags=None):
    return facts(
        period="2026-12",
        meetings=[meeting("committee", m) for m in MONTHS[:committee_months]],
        tasks=tasks or {},
        events=events or {},
        flags=flags or {},
    )


DONE = {"innovation_project": {"2026-05": 1}}


@pytest.mark.parametrize(
    ("name", "kw", "total", "deducted", "stars", "decided_by", "unmet"),
    [
        # nothing wrong, innovation not done: 100 points, but five stars need it
        ("clean", {}, 100, 0, 4, DecidedBy.THRESHOLD, (5,)),
        ("clean and innovative", {"tasks": DONE}, 100, 0, 5, DecidedBy.THRESHOLD, ()),
        # 3 months without a committee meeting −6; dues unpaid 3 months −2 (once);
        # absent 4 times −5 (once, "more than 3"); 2 ledger records missing −2
        (
            "several",
            {
                "committee_months": 9,
                "events": {"dues_unpaid_months": {"2026-03": 3}, "absences": {"2026-04": 4}},
                "flags": {"ledger_missing": {"2026-06": 2}},
            },
            85,
            15,
            4,
            DecidedBy.THRESHOLD,
            (),
        ),
        # just under the counts: dues 2 months, absent 3 times: nothing taken
        (
            "under the counts",
            {"events": {"dues_unpaid_months": {"2026-03": 2}, "absences": {"2026-04": 3}}},
            100,
            0,
            4,
            DecidedBy.THRESHOLD,
            (5,),
        ),
        # no meetings at all: 12 × −2 capped at −20; 12 ledger records −1 each capped −10
        (
            "no meetings",
            {"committee_months": 0, "flags": {"ledger_missing": {"2026-02": 12}}},
            70,
            30,
            3,
            DecidedBy.THRESHOLD,
            (),
        ),
        # 100 points and the innovation done, but a veto: five stars need no veto, and
        # the veto caps at three
        (
            "vetoed",
            {"tasks": DONE, "flags": {"discipline_case": {"2026-08": 1}}},
            100,
            0,
            3,
            DecidedBy.VETO,
            (5,),
        ),
    ],
)
def test_branch_deduction_sheet(name, kw, total, deducted, stars, decided_by, unmet):
    rubric = load_fortress_rubric(EXAMPLES / "deduction_branch")
    result = score_branch(rubric, branch(**kw))
    assert result.total == total, name
    assert result.deductions.counted == deducted
    assert (result.stars.stars, result.stars.decided_by, result.stars.unmet) == (
        stars,
        decided_by,
        unmet,
    )


def test_deduction_sheet_is_clamped_at_zero():
    rubric = load_fortress_rubric(EXAMPLES / "quota_thresholds")
    result = score_branch(rubric, facts(period="2026-12", events={"points_lost": {"2026-01": 150}}))
    assert result.deductions.earned == 100  # the item's own cap
    assert result.total == 0


# ---------------------------------------------------------------- quotas + thresholds

TOTALS = [98, 95, 95, 90, 88, 80, 72, 70, 60, 50]


@pytest.mark.parametrize(
    ("ties", "totals", "expected"),
    [
        # n = 10: five stars for the first round(1.5) = 2 places, four stars up to
        # place round(5.0) = 5; the rest by points (70 → 3, 55 → 2, else 1).
        ("lower", TOTALS, [5, 4, 4, 4, 4, 3, 3, 3, 2, 1]),  # the 95s straddle place 2
        ("higher", TOTALS, [5, 5, 5, 4, 4, 3, 3, 3, 2, 1]),
        # a tie across the last quota place (places 5 and 6 at 85): lower → by points
        ("lower", [99, 97, 93, 90, 85, 85, 84, 66, 54, 40], [5, 5, 4, 4, 3, 3, 3, 2, 1, 1]),
        ("higher", [99, 97, 93, 90, 85, 85, 84, 66, 54, 40], [5, 5, 4, 4, 4, 4, 3, 2, 1, 1]),
    ],
)
def test_quotas_for_the_top_thresholds_for_the_rest(tmp_path, ties, totals, expected):
    folder = tmp_path / "r"
    folder.mkdir()
    for f in (EXAMPLES / "quota_thresholds").glob("*.toml"):
        text = f.read_text(encoding="utf-8").replace('ties = "lower"', f'ties = "{ties}"')
        (folder / f.name).write_text(text, encoding="utf-8")
    rubric = load_fortress_rubric(folder)
    results = [bare_result(f"b{i}", t) for i, t in enumerate(totals)]
    ratings = rate_branches(rubric, results)
    assert [ratings[f"b{i}"].stars for i in range(len(totals))] == expected
    by_points = [r for r in ratings.values() if r.decided_by is DecidedBy.THRESHOLD]
    assert all(r.rank is not None for r in by_points)


# ---------------------------------------------------------------- 扣分制 for members, three grades


def member(mid, **kw):
    return MemberFacts(mid, "b1", kw.pop("category", "agency"), "2026", **kw)


def test_member_deduction_sheet_with_three_grades():
    rubric = load_vanguard_rubric(EXAMPLES / "deduction_member")
    assert [g for g, _ in rubric.grades] == [Grade.EXCELLENT, Grade.QUALIFIED, Grade.UNQUALIFIED]
    members = [
        member("m1"),  # 100 → excellent
        member("m2", events={"study_missed": 3}),  # −6 → 94 → qualified
        member(  # −5 (late 3 months) −10 (4 absences) −20 (10 missed, capped) → 65
            "m3", events={"dues_months_late": 3, "meetings_missed": 4, "study_missed": 10}
        ),
        member("m4", events={"commendations": 1, "study_missed": 1}),  # 100 + 5 − 2 → 100
        member("m5", events={"dues_months_unpaid": 6}),  # 100, but the hard rule
        member("m6", category="mobile", events={"dues_months_late": 2}),  # under the count
    ]
    results = score_members(rubric, members)
    assert [r.total for r in results] == [100, 94, 65, 100, 100, 100]
    assert [r.grade for r in results] == [
        Grade.EXCELLENT,
        Grade.QUALIFIED,
        Grade.UNQUALIFIED,
        Grade.EXCELLENT,
        Grade.UNQUALIFIED,
        Grade.EXCELLENT,
    ]
    # 20% of 6 → 1 place; m1, m4 and m6 are tied at 100 across it: all drop to qualified
    grading = grade_branch_members(rubric, results)
    assert grading.places == 1
    assert {m.member_id for m in grading.moves if m.why is CapMove.TIED_AT_BOUNDARY} == {
        "m1",
        "m4",
        "m6",
    }
    assert set(grading.grades.values()) <= {Grade.QUALIFIED, Grade.UNQUALIFIED}


# ---------------------------------------------------------------- 40 points, shared items


def test_member_rubric_on_its_own_scale_with_shared_items():
    rubric = load_vanguard_rubric(EXAMPLES / "member_40")
    assert rubric.max_points == 40
    mobile = [i.key for i in rubric.variants["mobile"].items]
    assert mobile == ["study_sessions", "meetings_attended", "duty_graded", "reports"]
    assert [i.key for i in rubric.variants["agency"].items] == [
        "study_sessions",
        "meetings_attended",
        "duty_graded",
        "volunteer",
    ]
    members = [
        # 10 + 10 + 10 + 10 = 40 of 40 → excellent (≥ 36)
        member(
            "full",
            category="rural_community",
            events={
                "study_sessions_attended": 12,
                "meetings_attended": 12,
                "meetings_held": 12,
                "volunteer_hours": 10,
            },
            grades={"duty_graded": "A"},
        ),
        # 7 + 10 × 9/12 = 7.5 + B 8 + 4 = 26.5 → basically qualified (24 ≤ 26.5 < 28)
        member(
            "some",
            category="rural_community",
            events={
                "study_sessions_attended": 7,
                "meetings_attended": 9,
                "meetings_held": 12,
                "volunteer_hours": 4,
            },
            grades={"duty_graded": "B"},
        ),
        # mobile: online study 3 × 2 = 6, meetings 10, C 6, reports 2 × 5 = 10 → 32
        member(
            "away",
            category="mobile",
            events={
                "online_study_sessions": 3,
                "meetings_attended": 4,
                "meetings_held": 4,
                "reports": 2,
            },
            grades={"duty_graded": "C"},
        ),
    ]
    results = score_members(rubric, members)
    assert [r.total for r in results] == [D(40), D("26.5"), D(32)]
    assert [r.grade for r in results] == [
        Grade.EXCELLENT,
        Grade.BASICALLY_QUALIFIED,
        Grade.QUALIFIED,
    ]
    assert {r.max_c for r in results} == {4000}


@pytest.mark.parametrize("guide", ["rubric.md", "rubric.zh.md"])
def test_every_recipe_in_the_guides_is_the_shipped_file(guide):
    root = EXAMPLES.parents[1]
    text = (root / "docs" / guide).read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- file: (\S+) -->\n```toml\n(.*?)\n```", text, flags=re.S)
    shipped = {str(p.relative_to(root)) for p in EXAMPLES.rglob("*.toml")}
    # each shape's files are in the guide, whole and as shipped
    assert {path for path, _ in blocks} == shipped - {
        "scoring/examples/member_40/rural_community.toml",
        "scoring/examples/member_40/two_new.toml",
    }
    for path, body in blocks:
        assert body == (root / path).read_text(encoding="utf-8").rstrip("\n"), path


def test_an_override_to_a_grade_the_rubric_lacks_is_refused():
    rubric = load_vanguard_rubric(EXAMPLES / "deduction_member")
    results = score_members(rubric, [member("m1"), member("m2")])
    with pytest.raises(OverrideError) as exc:
        grade_branch_members(rubric, results, [Override("m1", Grade.BASICALLY_QUALIFIED, "x")])
    assert exc.value.code == "unknown_grade"


def test_conditions_on_a_quota_level_are_refused(tmp_path):
    folder = tmp_path / "r"
    folder.mkdir()
    for f in (EXAMPLES / "quota_thresholds").glob("*.toml"):
        (folder / f.name).write_bytes(f.read_bytes())
    stars = folder / "stars.toml"
    text = stars.read_text(encoding="utf-8").replace("share = 0.15", "share = 0.15\nno_veto = true")
    stars.write_text(text, encoding="utf-8")
    errors = check_files(sorted(folder.glob("*.toml")))
    assert [(e.path, e.problem.value) for e in errors] == [
        ("schemes[yearly].levels[1].no_veto", "unknown_key")
    ]
