"""Every message in the code exists, translated and not fuzzy, in Chinese and English."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, SUPPORTED

ROOT = LOCALES_DIR.parent


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_",
            "-k",
            "__",
            "-o",
            str(pot),
            str(ROOT),
        ],
        check=True,
    )
    with pot.open("rb") as fp:
        return {m.id for m in read_po(fp) if m.id}


def _catalogue(locale: str) -> dict[str, object]:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return {m.id: m for m in read_po(fp, locale=locale) if m.id}


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_message_is_translated(extracted: set[str], locale: str) -> None:
    catalogue = _catalogue(locale)
    missing = sorted(extracted - catalogue.keys())
    assert not missing, f"{locale}: not in the catalogue (run `branchbot i18n update`): {missing}"
    empty = sorted(i for i in extracted if not catalogue[i].string)
    assert not empty, f"{locale}: untranslated: {empty}"
    fuzzy = sorted(i for i in extracted if catalogue[i].fuzzy)
    assert not fuzzy, f"{locale}: fuzzy: {fuzzy}"


@pytest.mark.parametrize("locale", SUPPORTED)
def test_placeholders_survive_translation(locale: str) -> None:
    field = re.compile(r"\{(\w*)\}")
    for msgid, message in _catalogue(locale).items():
        if message.string:
            assert set(field.findall(msgid)) == set(field.findall(message.string)), msgid


def test_chinese_is_chinese() -> None:
    """A Chinese catalogue that merely copies the English would pass the checks above."""
    catalogue = _catalogue("zh_Hans")

    def words(text: str) -> bool:
        # Placeholders, tags and commands are the same in every language.
        bare = re.sub(r"\{\w*\}|<[^>]+>|/\w+|English", "", text)
        return bool(re.search(r"[A-Za-z]{4}", bare))

    copied = [i for i, m in catalogue.items() if m.string == i and words(i)]
    assert not copied


# Marked where they are made: `_(label)` over the menu's constants, whose ids `_labels()`
# marks; `_(exc.message)` of a FactsError, raised only with N_("…") (checked below).
# Marked where they are made: menu labels, rubric messages, and the TOML reader's words,
# which are translated only when they are among scoring.errors.TOML_DETAILS.
BUILT_ELSEWHERE = {
    ("handlers/menu.py", "label"),
    ("bot/cli/rubric.py", "exc.message"),
    ("bot/cli/rubric.py", "args['detail']"),
    # Settings problems: each message is N_("…") where it is raised (bot/config.py,
    # bot/services/calendar.py) or in bot/config.py's table of pydantic's refusals.
    ("bot/config.py", "msg"),
    ("bot/cli/localise.py", "msg"),
    # click's refusals, matched against the N_("…") of localise's tables; and the help
    # paragraphs, which localise.extract yields to extraction (babel.cfg).
    ("bot/cli/localise.py", "msgid"),
    ("bot/cli/localise.py", "p"),
    # bot.workers.problems returns N_("…") texts; bot.db.errors picks one of its N_("…").
    ("bot/cli/ops.py", "p"),
    ("bot/db/errors.py", "msg"),
}


def _marked_tables() -> set[str]:
    """Module-level names whose value is N_("…") or a dict of N_("…") values."""

    def marked(node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_"

    names = set()
    for path in [
        *ROOT.glob("bot/**/*.py"),
        *ROOT.glob("handlers/*.py"),
        *ROOT.glob("scoring/*.py"),
    ]:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
            value = getattr(node, "value", None)
            if not isinstance(target, ast.Name) or value is None:
                continue
            if marked(value) or (
                isinstance(value, ast.Dict) and value.values and all(map(marked, value.values))
            ):
                names.add(target.id)
    return names


GETTEXT_MAKERS = ("words", "gettext_for", "words_for_demo")


def test_no_message_is_built_outside_extraction() -> None:
    """`_(text)` translates only what extraction saw: a literal, or a table of N_("…").

    A message passed to `_()` as a variable, an f-string or a plain dict is never
    extracted, so it stays English in every language — this finds each one.
    """
    tables = _marked_tables()
    wrong = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/*.py")]:
        rel = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Babel (on Python 3.11) reads an f-string as one string: a `_("…")` inside it
        # is never extracted, whatever it says.
        in_fstrings = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.JoinedStr)
            for inner in ast.walk(node)
            if isinstance(inner, ast.Call)
            and getattr(inner.func, "id", None) in ("_", "gettext", "__")
            and inner.args
            and isinstance(inner.args[0], ast.Constant)
        }
        for node in ast.walk(tree):
            if id(node) in in_fstrings:
                wrong.append(f"{rel}:{node.lineno}: {ast.unparse(node)} inside an f-string")
                continue
            # `words()("…")`: a gettext called where it is made, which extraction
            # does not see; `_ = words()` then `_("…")` is extracted.
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Call)
                and getattr(node.func.func, "id", None) in GETTEXT_MAKERS
            ):
                wrong.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
                continue
            if not (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("_", "gettext", "__")
                and node.args
            ):
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                continue
            if isinstance(arg, ast.Subscript) and getattr(arg.value, "id", None) in tables:
                continue
            if isinstance(arg, ast.Name) and arg.id in tables:
                continue
            if (rel, ast.unparse(arg)) in BUILT_ELSEWHERE:
                continue
            wrong.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    assert not wrong, wrong


def test_facts_errors_are_raised_with_marked_messages() -> None:
    tree = ast.parse((ROOT / "bot" / "cli" / "rubric_try.py").read_text(encoding="utf-8"))
    raised = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "FactsError"
    ]
    assert raised
    for node in raised:
        first = node.args[0]
        assert isinstance(first, ast.Call) and getattr(first.func, "id", None) == "N_", ast.unparse(
            node
        )


def test_the_compliance_rate_is_one_pair_of_words():
    """规范达标率 is "compliance rate" wherever the bot says it, in both languages: a
    message that names it in one language names it in the other (it read 达标率 beside
    "compliance", and 规范达标率 beside "meeting the standard")."""
    with (LOCALES_DIR / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        catalog = read_po(fp)
    for message in catalog:
        if not message.id or not isinstance(message.id, str):
            continue
        english, chinese = message.id.lower(), message.string or ""
        assert ("compliance" in english) == ("规范达标率" in chinese), message.id
        assert ("compliance" not in english) or ("compliance rate" in english), message.id
        assert chinese.count("达标率") == chinese.count("规范达标率"), message.id
