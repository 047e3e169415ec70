"""Rubric files: the shipped ones pass; broken ones say where and what, with a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring import Problem, RubricInvalid, check_files, load_fortress_rubric
from scoring.rubric import RUBRICS_DIR, read_file

from .conftest import COMMON, write_mini

REPO = Path(__file__).resolve().parents[3]


def all_rubric_files() -> list[Path]:
    return sorted(
        p for p in REPO.rglob("*.toml") if "rubrics" in p.parts and ".venv" not in p.parts
    )


def test_every_rubric_file_in_the_repository_passes():
    files = all_rubric_files()
    assert len(files) >= 12
    assert check_files(files) == []


def test_shipped_fortress_rubric_composes_to_100(fortress):
    assert fortress.max_points == 100
    assert {s.part for s in fortress.sources} == {"common", "domain", "featured", "stars"}
    assert set(fortress.schemes) == {"monthly", "yearly_quota"}


def test_shipped_vanguard_rubric_has_the_four_categories(vanguard):
    assert set(vanguard.variants) == {"rural_community", "agency", "two_new", "mobile"}
    assert [s.key for s in vanguard.subindices] == [
        "political",
        "discipline",
        "moral",
        "dedication",
    ]


def problems(tmp_path: Path, text: str, name: str = "r.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    _, errors = read_file(path)
    return [(e.path, e.problem, e.suggestion) for e in errors], errors


HEAD = """
[rubric]
kind = "fortress"
part = "domain"
domain = "village"
version = "1"
name_zh = "测"
name_en = "t"
"""

ITEM = """
[[items]]
key = "x"
dimension = "a"
name_zh = "x"
name_en = "x"
period = "month"
evidence = { kind = "task" }
score = { rule = "done", points = 5 }
"""


def test_misspelt_key_is_unknown_with_a_suggestion(tmp_path):
    found, errors = problems(tmp_path, HEAD + ITEM.replace("period =", "perod ="))
    assert ("items[x].perod", Problem.UNKNOWN_KEY, "period") in found
    assert ("items[x].period", Problem.MISSING_KEY, None) in found
    message = str(errors[-1])
    assert message.startswith(str(tmp_path / "r.toml") + ":15: items[x].")


def test_unknown_key_without_a_near_match(tmp_path):
    found, _ = problems(tmp_path, HEAD + ITEM + 'colour = "red"\n')
    assert ("items[x].colour", Problem.UNKNOWN_KEY, None) in found


def test_misspelt_value_suggests_the_choice(tmp_path):
    found, errors = problems(tmp_path, HEAD.replace('"village"', '"vilage"') + ITEM)
    assert ("rubric.domain", Problem.NOT_ONE_OF, "village") in found
    assert "did you mean 'village'?" in str(errors[0])


def test_wrong_types_and_ranges(tmp_path):
    text = HEAD + ITEM.replace("points = 5", 'points = "five"').replace(
        'kind = "task"', 'kind = "meetings", meeting = "commitee"'
    )
    found, _ = problems(tmp_path, text)
    assert ("items[x].score.points", Problem.EXPECTED_NUMBER, None) in found
    assert ("items[x].evidence.meeting", Problem.NOT_ONE_OF, "committee") in found
    found, _ = problems(tmp_path, HEAD + ITEM.replace("points = 5", "points = -1"))
    assert ("items[x].score.points", Problem.TOO_SMALL, None) in found


def test_cap_below_points_and_rule_mismatch(tmp_path):
    text = HEAD + ITEM.replace(
        '{ rule = "done", points = 5 }', '{ rule = "per_event", points = 3, cap = 2 }'
    )
    found, _ = problems(tmp_path, text)
    assert ("items[x].score.cap", Problem.CAP_BELOW_POINTS, None) in found
    text = HEAD + ITEM.replace(
        '{ rule = "done", points = 5 }', '{ rule = "by_grade", grades = { A = 1 } }'
    )
    found, _ = problems(tmp_path, text)
    assert ("items[x].score.rule", Problem.INCOMPATIBLE, None) in found


def test_ladder_steps_must_fall(tmp_path):
    text = HEAD + ITEM.replace(
        '{ rule = "done", points = 5 }', '{ rule = "ladder", steps = [[0.5, 1], [0.9, 3]] }'
    )
    found, _ = problems(tmp_path, text)
    assert ("items[x].score.steps", Problem.STEPS_ORDER, None) in found


def test_toml_syntax_error(tmp_path):
    found, errors = problems(tmp_path, "[rubric\nkind=")
    assert found[0][1] is Problem.TOML_SYNTAX
    assert "not valid TOML" in str(errors[0])


def test_missing_file(tmp_path):
    _, errors = read_file(tmp_path / "nope.toml")
    assert errors[0].problem is Problem.NOT_FOUND


def test_sum_mismatch_and_duplicates_across_files(tmp_path):
    folder = write_mini(
        tmp_path / "r", extra_common=ITEM.replace('"a"', '"b"').replace('key = "x"', 'key = "vol"')
    )
    errors = check_files(sorted(folder.glob("*.toml")))
    found = {(e.path, e.problem) for e in errors}
    assert ("items[vol]", Problem.DUPLICATE) in found
    assert ("total.common_points", Problem.SUM_MISMATCH) in found
    dup = next(e for e in errors if e.problem is Problem.DUPLICATE)
    assert dup.args["first"].endswith("common.toml")


def test_unknown_dimension_reference(tmp_path):
    folder = write_mini(tmp_path / "r")
    text = (folder / "village.toml").read_text().replace('dimension = "b"', 'dimension = "bb"')
    (folder / "village.toml").write_text(text)
    errors = check_files(sorted(folder.glob("*.toml")))
    assert [(e.path, e.problem, e.suggestion) for e in errors] == [
        ("items[village_task].dimension", Problem.UNKNOWN_REFERENCE, "b")
    ]


def test_missing_domain_part(tmp_path):
    folder = write_mini(tmp_path / "r")
    (folder / "agency.toml").unlink()
    with pytest.raises(RubricInvalid) as exc:
        load_fortress_rubric(folder)
    assert [e.problem for e in exc.value.errors] == [Problem.MISSING_PART]
    assert exc.value.errors[0].args == {"part": "domain agency"}


def test_star_levels_must_be_ordered_and_shares_add_up(tmp_path):
    folder = write_mini(tmp_path / "r")
    stars = (folder / "stars.toml").read_text()
    stars = stars.replace("min_points = 15", "min_points = 19").replace(
        "share = 0.5", "share = 0.4"
    )
    (folder / "stars.toml").write_text(stars)
    found = {(e.path, e.problem) for e in check_files(sorted(folder.glob("*.toml")))}
    assert ("schemes[m].levels[1]", Problem.LEVELS_OVERLAP) in found
    assert ("schemes[q].levels", Problem.SHARES_SUM) in found


def test_vanguard_weights_must_add_up_to_one(tmp_path):
    common = (RUBRICS_DIR / "vanguard" / "common.toml").read_text(encoding="utf-8")
    path = tmp_path / "common.toml"
    path.write_text(common.replace("self = 0.1", "self = 0.2"), encoding="utf-8")
    _, errors = read_file(path)
    assert [(e.path, e.problem, e.args) for e in errors] == [
        ("combine", Problem.WEIGHTS_SUM, {"actual": __import__("decimal").Decimal("1.1")})
    ]


def test_wrong_kind_is_refused(tmp_path):
    with pytest.raises(RubricInvalid) as exc:
        load_fortress_rubric([RUBRICS_DIR / "vanguard" / "common.toml"])
    assert exc.value.errors[0].problem is Problem.WRONG_KIND


def test_common_rubric_alone_reports_unknown_keys_only_once(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(COMMON.replace("[total]", "[totals]"), encoding="utf-8")
    _, errors = read_file(path)
    assert {(e.path, e.problem, e.suggestion) for e in errors} == {
        ("total", Problem.MISSING_KEY, None),
        ("totals", Problem.UNKNOWN_KEY, "total"),
    }
