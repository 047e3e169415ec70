"""`branchbot … --help` in the city's language: every command's help, typer's and click's
words included, Chinese when DEFAULT_LOCALE is Chinese, and wrapped by display width."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pytest
import typer.main

from bot.cli.localise import extract, help_texts, localise, usage_line
from bot.cli.main import app
from bot.cli.table import display_width
from bot.i18n import gettext_for
from tests.e2e.test_cli_mistakes import branchbot_here


def _paths(command, prefix: tuple[str, ...] = ()):
    yield prefix
    for name, sub in getattr(command, "commands", {}).items():
        yield from _paths(sub, (*prefix, name))


PATHS = list(_paths(typer.main.get_command(app)))
COMMAND_NAMES = "|".join(sorted({word for path in PATHS for word in path}, key=len, reverse=True))

# Words that stay as they are in Chinese help: options, metavars, variables, commands in
# backticks, file names and suffixes, the languages and formats one types.
_VERBATIM = re.compile(
    r"`[^`]*`|--?[a-z][\w-]*|<[^>]*>|\{\w+\}|\b[A-Z][A-Z_]+\b|\S+\.(?:md|xlsx|csv|toml)\b"
    r"|\.xlsx|\.csv|\b(?:zh|en|text|markdown|video|micro_lesson|practice|village|community"
    r"|secretary|organiser|member)\b"
    r"|https?|UTF-8|GBK|TOML|PostgreSQL|SQLite|Telegram|webhook|branchbot|YYYY-MM|x>=1|[\d,.=<>]+"
    rf"|^  (?:{COMMAND_NAMES})\b|^用法：branchbot[\w -]*|\[\w+\]|^  [\w.]+(?= <)"
)
_ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "branchbot")
def test_help_is_chinese_in_a_chinese_city(tmp_path: Path, path: tuple[str, ...]) -> None:
    code, out, err = branchbot_here(tmp_path, *path, "--help", DEFAULT_LOCALE="zh_Hans")
    assert code == 0 and not err, err
    assert out.startswith("用法：branchbot"), out
    for line in out.splitlines():
        assert display_width(line) <= 80, line  # click's width, counted in columns
        assert not _ENGLISH_WORD.search(_VERBATIM.sub(" ", line)), line
    assert "选项：" in out and "显示本帮助并退出" in out


def test_help_is_english_in_an_english_city(tmp_path: Path) -> None:
    """In English the tree is typer's own, left as it was built."""
    tree = typer.main.get_command(app)
    before = list(help_texts(tree))
    localise(tree, "en")
    assert list(help_texts(tree)) == before
    code, out, _ = branchbot_here(tmp_path, "org", "add", "--help", DEFAULT_LOCALE="en")
    assert code == 0 and out.startswith("Usage: branchbot org add [OPTIONS]"), out
    assert "Arguments:" in out and "Show this message and exit." in out
    assert not re.search(r"[用选参必显]", out.split("(village")[0]), out


def test_every_help_text_is_extracted_and_translated() -> None:
    """babel.cfg's extractor for bot/cli/main.py yields every help text of the tree, and
    each has its Chinese: a help text added without one fails here and in the catalogues."""
    tree = typer.main.get_command(app)
    texts = set(help_texts(tree))
    with (Path(__file__).resolve().parents[2] / "bot" / "cli" / "main.py").open("rb") as fp:
        extracted = {message for _, _, message, _ in extract(fp, ["_"], [], {})}
    assert texts and texts <= extracted
    zh = gettext_for("zh_Hans")
    assert not [t for t in texts if zh(t) == t]


def test_a_choice_refused_in_the_citys_language() -> None:
    """click's "'moon' is not one of …" (an option with fixed choices), in both languages."""
    from typer._click.exceptions import BadParameter

    demo = typer.Typer()

    @demo.command()
    def show(fmt: Literal["text", "markdown"] = typer.Option("text", "--format")) -> None:
        pass

    root = typer.main.get_command(demo)
    with pytest.raises(BadParameter) as caught:
        root.main(["--format", "moon"], standalone_mode=False)
    lines = {}
    for lang in ("zh_Hans", "en"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DEFAULT_LOCALE", lang)
            localise(root, lang)
            lines[lang] = usage_line(caught.value, root, ["--format", "moon"])
    assert "'moon'" in lines["zh_Hans"] and "不在可选值" in lines["zh_Hans"], lines
    assert "is not one of 'text', 'markdown'" in lines["en"], lines
    localise(root, "en")


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        ([], True),
        (["org"], True),
        (["org", "add", "--help"], True),
        (["--help", "org"], True),
        (["org", "add", "新党委"], False),
        (["org", "lst"], False),
        (["close-period", "--period", "2026-07"], False),
    ],
)
def test_the_tree_is_localised_only_for_help(args: list[str], shows: bool) -> None:
    from bot.cli.localise import shows_help

    assert shows_help(typer.main.get_command(app), args) is shows


@pytest.mark.parametrize(
    ("lang", "typed", "answer", "says"),
    [
        ("zh_Hans", "也许\n是\n", True, "请回答 y（是）或 n（否）。"),
        ("zh_Hans", "n\n", False, ""),
        ("en", "maybe\ny\n", True, "Please answer y (yes) or n (no)."),
        ("en", "\n", False, ""),
    ],
)
def test_a_question_in_the_citys_language(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lang: str,
    typed: str,
    answer: bool,
    says: str,
) -> None:
    import io

    from bot.cli.common import ask

    monkeypatch.setenv("DEFAULT_LOCALE", lang)
    monkeypatch.setattr("sys.stdin", io.StringIO(typed))
    assert ask("发送吗？") is answer
    out, err = capsys.readouterr()
    assert ("[y 是 / N 否]" if lang == "zh_Hans" else "[y/N]") in out
    assert err.strip() == says


def test_no_answer_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from bot.cli.common import ask

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(typer.Abort):
        ask("发送吗？")
