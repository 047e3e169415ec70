"""What an official's editor does to a rubric file, and what the checker says about it:
encodings, Chinese punctuation, line numbers, star levels, shares and grade bands."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from scoring import Problem, RubricInvalid, check_files, load_fortress_rubric, load_vanguard_rubric
from scoring.rubric import RUBRICS_DIR, read_file

from .conftest import write_mini

FORTRESS = RUBRICS_DIR / "fortress"


def copy_fortress(tmp_path: Path) -> Path:
    folder = tmp_path / "fortress"
    folder.mkdir()
    for f in FORTRESS.glob("*.toml"):
        (folder / f.name).write_bytes(f.read_bytes())
    return folder


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),  # Notepad's "UTF-8"
        lambda text: text.encode("gb18030"),  # WPS / old Notepad "ANSI" on Chinese Windows
        lambda text: text.encode("gbk"),
        lambda text: text.encode("utf-16"),  # Notepad's "Unicode"
    ],
    ids=["utf-8-bom", "gb18030", "gbk", "utf-16"],
)
def test_files_saved_by_chinese_editors_are_read(tmp_path, encode):
    folder = copy_fortress(tmp_path)
    common = folder / "common.toml"
    common.write_bytes(encode(common.read_text(encoding="utf-8")))
    rubric = load_fortress_rubric(folder)
    assert rubric.name_zh == "“堡垒指数”考评细则（通用标准）"


def test_undecodable_file_is_refused_with_save_as_utf8(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_bytes(b'[rubric]\nname_zh = "\xff\xfe\xfd\xff"\n')
    _, errors = read_file(path)
    assert [(e.problem, e.args) for e in errors] == [(Problem.ENCODING, {"line": 2, "column": 12})]
    assert "save it as UTF-8" in str(errors[0])
    with pytest.raises(RubricInvalid) as exc:  # the Python API: its own error, no traceback
        load_fortress_rubric([path])
    assert exc.value.errors[0].problem is Problem.ENCODING


def test_full_width_punctuation_is_named_with_line_column_and_fix(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text(
        '[rubric]\nkind ＝ "fortress"\nname_zh = “通用”\npart = "common"，\n'
        'name_en = "“quotes” inside a string are fine"\n',
        encoding="utf-8",
    )
    _, errors = read_file(path)
    found = [(e.line, e.column, e.args["char"], e.args["ascii"]) for e in errors]
    assert found == [(2, 6, "＝", "="), (3, 11, "“", '"'), (3, 14, "”", '"'), (4, 16, "，", ",")]
    assert all(e.problem is Problem.FULL_WIDTH for e in errors)
    assert str(errors[0]).startswith(f"{path}:2:6: ")


def test_syntax_error_has_line_and_column(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text('[rubric]\nkind = "fortress\n', encoding="utf-8")
    _, errors = read_file(path)
    assert (errors[0].problem, errors[0].line) == (Problem.TOML_SYNTAX, 2)


def test_semantic_errors_carry_the_line_of_the_key(tmp_path):
    folder = write_mini(tmp_path / "r")
    stars = (folder / "stars.toml").read_text(encoding="utf-8")
    (folder / "stars.toml").write_text(stars.replace("min_points = 10\n", "min_points = -1\n", 1))
    errors = check_files(sorted(folder.glob("*.toml")))
    assert [(e.path, e.problem, e.line) for e in errors] == [
        ("compliance.min_points", Problem.TOO_SMALL, 12)
    ]
    common = (folder / "common.toml").read_text(encoding="utf-8")
    (folder / "common.toml").write_text(common.replace("points = 4 }", "points = 5 }", 1))
    (folder / "stars.toml").write_text(stars)
    errors = check_files(sorted(folder.glob("*.toml")))
    # a composition error (the sum) points at the declared total
    assert [(e.path, e.problem, e.line) for e in errors] == [
        ("total.common_points", Problem.SUM_MISMATCH, 11)
    ]


def stars_errors(tmp_path, old, new):
    folder = copy_fortress(tmp_path)
    stars = (folder / "stars.toml").read_text(encoding="utf-8")
    assert old in stars
    (folder / "stars.toml").write_text(stars.replace(old, new, 1), encoding="utf-8")
    return [(e.path, e.problem, e.args, e.line) for e in check_files(sorted(folder.glob("*")))]


def test_a_left_out_star_level_is_named(tmp_path):
    two = (
        '[[schemes.levels]]\nstars = 2\nname_zh = "二星"\nname_en = "Two stars"\nmin_points = 60\n'
    )
    assert stars_errors(tmp_path, two, "") == [
        (
            "schemes[monthly].levels",
            Problem.LEVEL_MISSING,
            {"stars": 2, "best": 5, "lowest": 1},
            27,
        )
    ]


def test_shares_written_as_percent_get_a_hint(tmp_path):
    assert stars_errors(tmp_path, "share = 0.10", "share = 10") == [
        (
            "schemes[yearly_quota].levels[1].share",
            Problem.SHARE_PERCENT,
            {"value": "10", "fraction": "0.1"},
            70,
        )
    ]


def test_overlapping_thresholds_name_both_levels(tmp_path):
    assert stars_errors(tmp_path, "min_points = 70", "min_points = 80") == [
        (
            "schemes[monthly].levels[2]",
            Problem.LEVELS_OVERLAP,
            {"upper": "★★★★", "upper_points": "80", "lower": "★★★", "lower_points": "80"},
            34,
        )
    ]


VANGUARD = RUBRICS_DIR / "vanguard"


def grade_errors(tmp_path, old, new):
    folder = tmp_path / "vanguard"
    folder.mkdir()
    for f in VANGUARD.glob("*.toml"):
        (folder / f.name).write_bytes(f.read_bytes())
    common = (folder / "common.toml").read_text(encoding="utf-8")
    assert old in common
    (folder / "common.toml").write_text(common.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RubricInvalid) as exc:
        load_vanguard_rubric(folder)
    return [(e.path, e.problem, e.args) for e in exc.value.errors]


QUALIFIED = '[[grades]]\ngrade = "qualified"\nmin_points = 75\n'
BASIC = '[[grades]]\ngrade = "basically_qualified"\nmin_points = 60\n'


def test_grade_band_problems_name_the_band(tmp_path):
    assert grade_errors(tmp_path, QUALIFIED, "") == [
        ("grades", Problem.BAND_MISSING, {"grade": "qualified"})
    ]


def test_grade_band_out_of_order(tmp_path):
    swapped = BASIC + QUALIFIED.replace("75", "55")
    errors = grade_errors(tmp_path, QUALIFIED + "\n" + BASIC, swapped)
    assert (
        "grades[3].grade",
        Problem.BAND_ORDER,
        {"grade": "qualified", "after": "basically_qualified"},
    ) in errors


def test_grade_band_overlap_and_lowest(tmp_path):
    errors = grade_errors(tmp_path, "min_points = 60", "min_points = 80")
    assert errors == [
        (
            "grades[3].min_points",
            Problem.BANDS_OVERLAP,
            {
                "upper": "qualified",
                "upper_points": "75",
                "lower": "basically_qualified",
                "lower_points": "80",
            },
        )
    ]


def test_hard_rule_names_a_band_the_rubric_does_not_have(tmp_path):
    errors = grade_errors(tmp_path, BASIC, "")
    assert errors == [
        (
            "hard_rules[missed_org_life_meeting].max_grade",
            Problem.BAND_MISSING,
            {"grade": "basically_qualified"},
        )
    ]
