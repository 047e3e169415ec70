"""`branchbot rubric check` and `branchbot rubric show`, in both languages."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.i18n import gettext_for
from scoring.rubric import RUBRICS_DIR

from .conftest import write_mini

runner = CliRunner()


def run(*args: str):
    # Wide enough that no name is wrapped inside a table cell.
    return runner.invoke(app, ["rubric", *args], env={"COLUMNS": "240"})


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_check_shipped_rubrics_passes(lang):
    result = run("check", str(RUBRICS_DIR), "--lang", lang)
    assert result.exit_code == 0, result.output
    _ = gettext_for("zh_Hans" if lang == "zh" else "en")
    assert _("{count} file(s) checked, no problems.").format(count=12) in result.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_check_reports_every_problem_and_fails(tmp_path, lang):
    folder = write_mini(tmp_path / "r")
    text = (folder / "common.toml").read_text().replace("period =", "perod =", 1)
    (folder / "common.toml").write_text(text)
    (folder / "extra.toml").write_text("[rubric\n")
    result = run("check", str(folder / "common.toml"), str(folder / "extra.toml"), "--lang", lang)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    _ = gettext_for("zh_Hans" if lang == "zh" else "en")
    unknown = (
        _("unknown key")
        + " ("
        + _("did you mean '{suggestion}'?").format(suggestion="period")
        + ")"
    )
    line = text.splitlines().index(next(t for t in text.splitlines() if t.startswith("perod"))) + 1
    assert f"{folder / 'common.toml'}:{line}: items[meet].perod: {unknown}" in lines
    assert any(line.startswith(f"{folder / 'extra.toml'}:1:8: ") for line in lines)
    assert _("{count} problem(s) found.").format(count=3) in lines


def test_check_missing_file_fails():
    result = run("check", "/nonexistent/rubric.toml", "--lang", "en")
    assert result.exit_code == 1
    assert "/nonexistent/rubric.toml: file not found" in result.output


@pytest.mark.parametrize(
    ("lang", "names"),
    [
        ("zh", ["按月召开支委会", "基本组织设置", "五星"]),
        ("en", ["Monthly branch committee meeting", "Five stars", "Theme party day attendance"]),
    ],
)
def test_show_default_rubrics_in_each_language(lang, names):
    result = run("show", "--lang", lang)
    assert result.exit_code == 0, result.output
    for name in names:
        assert name in result.output


def test_show_one_file_with_rules(tmp_path):
    result = run("show", str(RUBRICS_DIR / "vanguard" / "common.toml"), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Fewer than 6 theme party days in the year" in result.output
    assert "50%" in result.output  # the indices part's weight


def test_show_broken_file_fails(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text("[rubric]\nkind = 'fortres'\n")
    result = run("show", str(path), "--lang", "en")
    assert result.exit_code == 1
    assert "fortress" in result.output
