"""Every refusal a service or handler can raise has a message of its own."""

from __future__ import annotations

import ast
from pathlib import Path

from bot.i18n import gettext_for
from bot.services.errors import ServiceError
from bot.texts import error_text

ROOT = Path(__file__).resolve().parents[2]
# The roster importer reports per row and column with its own messages (bot/cli/roster.py).
OWN_MESSAGES = {ROOT / "bot" / "services" / "roster.py"}


def _raised_codes() -> set[str]:
    codes = set()
    for path in [*ROOT.glob("bot/services/*.py"), *ROOT.glob("handlers/*.py")]:
        if path in OWN_MESSAGES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "ServiceError"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                codes.add(node.args[0].value)
    return codes


def test_every_code_has_its_own_message() -> None:
    _ = gettext_for("en")
    fallback = error_text(ServiceError("no.such.code"), _)
    codes = _raised_codes()
    assert len(codes) > 40
    missing = sorted(c for c in codes if error_text(ServiceError(c), _) == fallback)
    assert not missing, f"no message for: {missing}"


def test_messages_fill_their_parameters_in_both_languages() -> None:
    for locale in ("zh_Hans", "en"):
        _ = gettext_for(locale)
        text = error_text(ServiceError("meeting.too_long", field="x", max=200), _)
        assert "200" in text and "{" not in text


def _refusals_with_params() -> list[tuple[str, int, str, set[str]]]:
    found = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "ServiceError"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and all(k.arg for k in node.keywords)
            ):
                given = {k.arg for k in node.keywords if k.arg}
                found.append((path.name, node.lineno, node.args[0].value, given))
    return found


def test_every_placeholder_of_a_refusal_is_given_where_it_is_raised() -> None:
    """A message that names {value} where the code passes kind=… prints "{value}"."""
    import string

    wrong = []
    for where, line, code, given in _refusals_with_params():
        text = error_text(ServiceError(code), lambda s: s)
        wanted = {f[1] for f in string.Formatter().parse(text) if f[1]}
        if wanted - given:
            wrong.append((where, line, code, sorted(wanted - given)))
    assert not wrong


def test_a_missing_parameter_never_shows_its_braces() -> None:
    for locale in ("zh_Hans", "en"):
        text = error_text(ServiceError("content.kind_unknown"), gettext_for(locale))
        assert "{" not in text and "}" not in text
