"""The rubric commands as an official uses them: a Chinese 80-column terminal, a
document to circulate, files saved by Chinese editors, and a what-if."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.cli.rubric_doc import width, wrap
from bot.i18n import gettext_for
from scoring.rubric import RUBRICS_DIR

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[3] / "scoring" / "examples"


def run(*args: str, columns: int = 80):
    return runner.invoke(app, ["rubric", *args], env={"COLUMNS": str(columns)})


def test_wrap_by_display_width_never_cuts_a_name():
    text = "党员“先锋指数”考评细则（通用）——全年参加主题党日少于6次，最高评为不合格"
    lines = wrap(text, 20)
    assert "".join(lines) == text
    assert all(width(line) <= 20 for line in lines)
    assert not any(
        line[0] in "，。）”" for line in lines
    )  # no line starts with closing punctuation


@pytest.mark.parametrize("folder", [RUBRICS_DIR, *sorted(p for p in EXAMPLES.iterdir())])
def test_show_in_chinese_fits_80_columns(folder):
    result = run("show", str(folder), "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert max(width(line) for line in result.output.splitlines()) <= 80


def test_show_names_data_and_rules_that_change_results():
    result = run("show", str(RUBRICS_DIR), "--lang", "zh", columns=300)  # no wrapping
    out = result.output
    for text in (
        "党费未按月收缴的月数",  # a data key by its human name, not dues_late_months
        "每次扣",  # deductions: "−2 each, at most −20"
        "最多扣 8 分",
        "且至少1个特色项目全部完成",  # a level's condition
        "不论分数，直接评为最低星级",  # what a veto does
        "最高评为2星",
        "“基本制度保障”不得分",  # a zeroing clause
        "均按较低结果评定",  # the tie rule of the quota scheme
        "政治指数最高30分",  # sub-index maxima
        "加分合计最多5分",  # the bonus cap
        "总分不低于60分",  # the compliance threshold
        "最高评为不合格",  # a hard rule
    ):
        assert text in out, text
    assert "dues_late_months" not in out


def test_show_english_deductions_and_conditions():
    out = run("show", str(EXAMPLES / "deduction_branch"), "--lang", "en").output
    assert "−2 each, at most −20" in out
    assert "−2 once it reaches 3" in out
    assert "and no veto at all" in out
    assert "Months in a row with dues not collected" in out


def test_show_quota_and_thresholds():
    out = run("show", str(EXAMPLES / "quota_thresholds"), "--lang", "en").output
    assert "the top 15% of branches" in out
    assert "the next 35% (to 50%)" in out
    assert "the rest: from 70 points" in out


def test_show_markdown_is_a_document():
    result = run("show", str(EXAMPLES / "member_40"), "--lang", "zh", "--format", "markdown")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("# 党员积分管理（满分40分）")
    assert "| 考评项目 | 计分依据 · 规则 | 分值 |" in out
    assert "满分40分" in out
    assert "引用了 shared.toml。" in out and "不采用其中的：volunteer。" in out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_check_accepts_gbk_and_bom_and_refuses_garbage_without_traceback(tmp_path, lang):
    _ = gettext_for("zh_Hans" if lang == "zh" else "en")
    folder = tmp_path / "f"
    folder.mkdir()
    for f in (RUBRICS_DIR / "fortress").glob("*.toml"):
        text = f.read_text(encoding="utf-8")
        data = text.encode("gbk") if f.name == "common.toml" else codecs.BOM_UTF8 + text.encode()
        (folder / f.name).write_bytes(data)
    assert run("check", str(folder), "--lang", lang).exit_code == 0
    (folder / "village.toml").write_bytes(b'[rubric]\nname_zh = "\xff\xfe"\n')
    result = run("check", str(folder), "--lang", lang)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    message = _(
        "the file is not UTF-8 text (first unreadable byte at line {line}, column {column}): "
        "open it in your editor and save it as UTF-8"
    ).format(line=2, column=12)
    assert f"{folder / 'village.toml'}: {message}" in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_check_names_full_width_punctuation(tmp_path, lang):
    _ = gettext_for("zh_Hans" if lang == "zh" else "en")
    path = tmp_path / "r.toml"
    path.write_text('[rubric]\nkind ＝ "fortress"\n', encoding="utf-8")
    result = run("check", str(path), "--lang", lang)
    assert result.exit_code == 1
    message = _(
        "Chinese full-width '{char}' outside quotes: TOML needs the English '{ascii}' here "
        "(switch the input method to English punctuation and retype it)"
    ).format(char="＝", ascii="=")
    assert f"{path}:2:6: {message}" in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_check_explains_a_toml_syntax_error_in_the_readers_language(tmp_path, lang):
    path = tmp_path / "r.toml"
    path.write_text('[rubric\nkind = "fortress"\n', encoding="utf-8")
    result = run("check", str(path), "--lang", lang)
    assert result.exit_code == 1
    detail = {
        "zh": "表名末尾缺少右方括号 ]",
        "en": "Expected ']' at the end of a table declaration",
    }
    assert f"{path}:1:8: " in result.output and detail[lang] in result.output


BRANCH = """
kind = "branch"
domain = "village"
month = "2026-12"

[[meetings]]
kind = "committee"
months = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06",
          "2026-07", "2026-08", "2026-09"]

[events]
dues_unpaid_months = 3

[tasks]
innovation_project = { "2026-05" = 1 }
"""


def test_try_explains_a_made_up_branch(tmp_path):
    facts = tmp_path / "branch.toml"
    facts.write_text(BRANCH, encoding="utf-8")
    result = run("try", str(EXAMPLES / "deduction_branch"), "--facts", str(facts), "--lang", "zh")
    assert result.exit_code == 0, result.output
    out = result.output
    # 3 months without a committee meeting −6, dues unpaid 3 months −2: 92 → four stars
    assert "总分：92（满分100）" in out
    assert "5星：分数已达到，但附加条件未满足" not in out  # 92 < 95
    assert "星级（年度星级评定）：★★★★" in out
    assert "完成一项党建创新项目" in out and "已完成" in out


def test_try_explains_a_made_up_member(tmp_path):
    facts = tmp_path / "member.toml"
    facts.write_text(
        'kind = "member"\ncategory = "mobile"\n[events]\nonline_study_sessions = 3\n'
        'meetings_attended = 4\nmeetings_held = 4\nreports = 2\n[grades]\nduty_graded = "C"\n',
        encoding="utf-8",
    )
    result = run("try", str(EXAMPLES / "member_40"), "--facts", str(facts), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Total: 32 of 40" in result.output
    assert "Grade: qualified" in result.output


def test_try_refuses_a_bad_facts_file_in_one_line(tmp_path):
    facts = tmp_path / "f.toml"
    facts.write_text('kind = "branch"\ndomain = "villag"\n', encoding="utf-8")
    result = run("try", str(RUBRICS_DIR), "--facts", str(facts), "--lang", "en")
    assert result.exit_code == 1
    assert "domain must be one of: village, community, agency, two_new" in result.output
