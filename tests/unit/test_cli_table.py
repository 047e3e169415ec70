"""Terminal text laid out by display width: Chinese takes two columns a character."""

from __future__ import annotations

from bot.cli.report import grouped, problem_line, row_ranges
from bot.cli.table import display_width, pad, wrap
from bot.i18n import gettext_for
from bot.services.roster import RowError


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("abc") == 3
    assert display_width("党支部") == 6
    assert display_width("某某村党支部 · 农村") == 19
    assert pad("党委", 6) == "党委  " and pad("12", 5, right=True) == "   12"


def test_wrap_never_passes_the_width_and_keeps_latin_words_whole() -> None:
    text = (
        "第 3–30、41 行，人员类别：未知的人员类别“农村和城市社区党员”"
        "（可填：农村社区党员、机关企事业单位党员、两新组织党员、流动党员） unknown category"
    )
    lines = wrap(text, 40)
    assert all(display_width(line) <= 40 for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert any(line.endswith("unknown") or "unknown category" in line for line in lines)
    assert wrap("one two three", 7) == ["one two", "three"]


def test_wrap_begins_no_line_with_closing_punctuation() -> None:
    text = "党支部所属领域，写法与花名册相同（village、农村、社区、机关、两新……）。"
    for width in range(12, 60):
        lines = wrap(text, width)
        assert all(display_width(line) <= width for line in lines), (width, lines)
        assert not any(line[0] in "，。、；：）…" for line in lines), (width, lines)
        assert "".join(lines) == text


def test_wrap_keeps_a_command_in_backticks_whole() -> None:
    text = "只运行调度程序，配合用 `branchbot run --no-scheduler` 启动的机器人进程使用。"
    for width in range(34, 60):
        lines = wrap(text, width)
        assert any("`branchbot run --no-scheduler`" in line for line in lines), lines
        assert all(display_width(line) <= width for line in lines), lines
    assert wrap("a `b", 3) == ["a", "`b"]  # an unmatched backtick is a character


def test_rows_with_the_same_problem_are_one_line() -> None:
    errors = [RowError(r, "人员类别", "category_unknown", "宇航员") for r in [*range(3, 31), 41]]
    errors.append(RowError(52, "所在党组织", "root_unknown", "某某市", detail="某某市委",
                           suggestion="某某市委"))  # fmt: skip
    groups = grouped(errors)
    assert [len(rows) for _, rows in groups] == [29, 1]
    assert row_ranges(groups[0][1], "zh_Hans") == "3–30、41"
    assert row_ranges(list(range(1, 60, 2)), "en", limit=3) == "1, 3, 5 (+27)"
    zh = gettext_for("zh_Hans")
    first = problem_line(*groups[0], zh, "zh_Hans")
    assert first.startswith("第 3–30、41 行，人员类别：") or first.startswith(
        "第 3–30、41 行, 人员类别"
    )
    assert "宇航员" in first and "{" not in first
    en = problem_line(*groups[1], gettext_for("en"), "en")
    assert en.startswith("row 52, 所在党组织: the top-level organisation “某某市”")
    assert en.endswith("did you mean “某某市委”?")
