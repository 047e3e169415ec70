"""Settings: defaults, one clear error per bad variable, and how the CLI reports them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from bot.cli.main import app as cli_app
from bot.config import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
VARIABLES = [name.upper() for name in Settings.model_fields]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the outer environment, and no .env file (the cwd is empty)."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    s = load_settings()
    assert s.bot_token is None
    assert s.database_url == "sqlite+aiosqlite:///branchbot.db"
    assert s.superuser_ids == frozenset()
    assert s.default_locale == "zh_Hans"
    assert s.timezone == "Asia/Shanghai" and str(s.tz) == "Asia/Shanghai"
    assert s.webhook_url is None and s.webhook_port == 8081
    assert s.webhook_path == "/telegram/webhook"
    assert s.redis_url is None and s.invite_ttl_days == 30


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "SUPERUSER_IDS=1, 2;3\nDEFAULT_LOCALE=en\nTIMEZONE=Europe/Berlin\n", encoding="utf-8"
    )
    monkeypatch.setenv("TIMEZONE", "Asia/Urumqi")  # the environment wins over .env
    s = load_settings()
    assert s.superuser_ids == frozenset({1, 2, 3})
    assert s.default_locale == "en"
    assert s.timezone == "Asia/Urumqi"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SUPERUSER_IDS", "123,abc"),
        ("SUPERUSER_IDS", "12 34"),
        ("TIMEZONE", "Mars/Olympus_Mons"),
        ("TIMEZONE", "../../etc/passwd"),
        ("DEFAULT_LOCALE", "fr"),
        ("DATABASE_URL", "mysql://user@host/db"),
        ("DATABASE_URL", "postgresql+psycopg2://user@host/db"),
        ("WEBHOOK_PORT", "70000"),
        ("WEBHOOK_PORT", "0"),
        ("WEBHOOK_PORT", "eighty"),
        ("INVITE_TTL_DAYS", "-1"),
        ("TELEGRAM_API_BASE", "not a url"),
    ],
)
def test_invalid_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message and "validation error" not in message


def test_several_invalid_variables_are_all_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMEZONE", "Nowhere/Town")
    monkeypatch.setenv("DEFAULT_LOCALE", "de")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "TIMEZONE: " in str(caught.value) and "DEFAULT_LOCALE: " in str(caught.value)


@pytest.mark.parametrize("token", ["", "   ", "no-colon", "abc:def", "123:", ":secret"])
def test_missing_or_malformed_token(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("BOT_TOKEN", token)
    s = load_settings()
    with pytest.raises(SettingsError) as caught:
        s.require_token()
    assert str(caught.value).startswith("BOT_TOKEN: ")
    assert token.strip() == "" or token not in str(caught.value)  # never echo a secret


def test_good_token_and_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", " 123456:ABC-def_ghi ")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret_-X")
    s = load_settings()
    assert s.require_token() == "123456:ABC-def_ghi"
    assert s.require_webhook_secret() == "s3cret_-X"
    assert "ABC-def" not in repr(s) and "s3cret" not in repr(s)


@pytest.mark.parametrize("secret", [None, "", "has space", "x" * 257, "semi;colon"])
def test_bad_webhook_secret(monkeypatch: pytest.MonkeyPatch, secret: str | None) -> None:
    if secret is not None:
        monkeypatch.setenv("WEBHOOK_SECRET", secret)
    with pytest.raises(SettingsError) as caught:
        load_settings().require_webhook_secret()
    assert str(caught.value).startswith("WEBHOOK_SECRET: ")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/branchbot", "postgresql+asyncpg://u:p@db:5432/branchbot"),
        ("postgres://u@db/branchbot", "postgresql+asyncpg://u@db/branchbot"),
        ("postgresql+asyncpg://u@db/b", "postgresql+asyncpg://u@db/b"),
        ("sqlite:///data/bot.db", "sqlite+aiosqlite:///data/bot.db"),
    ],
)
def test_database_url_normalised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, given: str, expected: str
) -> None:
    (tmp_path / "data").mkdir()
    monkeypatch.setenv("DATABASE_URL", given)
    assert load_settings().database_url == expected


def test_sqlite_file_in_a_missing_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///no/such/folder/bot.db")
    with pytest.raises(SettingsError, match=r"^DATABASE_URL: .*no/such/folder"):
        load_settings()


BAD_VALUES = [
    ("TELEGRAM_API_BASE", "not a url"),
    ("TELEGRAM_API_BASE", "ftp://files.example.org"),
    ("WEBHOOK_URL", "http://"),
    ("WEBHOOK_URL", "http://[::1"),
    ("WEBHOOK_PORT", "eighty"),
    ("WEBHOOK_PORT", "1.5"),
    ("WEBHOOK_PORT", "99999999999999999999999"),
    ("WEBHOOK_PORT", "0"),
    ("SEND_PER_SECOND", "fast"),
    ("SEND_PER_SECOND", "inf"),
    ("SEND_PER_SECOND", "0"),
    ("INVITE_TTL_DAYS", "1e3"),
    ("EVAL_MIN_VOTERS", ""),
    ("REMINDER_HOUR", "24"),
    ("REMINDER_DAYS", "30"),
    ("REMINDER_DAYS", "x"),
    ("QUIET_HOURS", "late"),
    ("SUPERUSER_IDS", "a,b"),
    ("DEFAULT_LOCALE", "fr"),
    ("TIMEZONE", "Mars/Olympus_Mons"),
    ("DATABASE_URL", "mysql://user@host/db"),
]
# A variable, a value or a bound are the same in every language.
_NEUTRAL = (
    r"\b[A-Z][A-Z_]+\b|\S+://\S*|[\w.:/+\[\]-]*\d[\w.:/+-]*|HH:MM-HH:MM|sqlite\S*|postgresql\S*"
)
_NEUTRAL += r"|zh_Hans|JSON|Telegram|[A-Z][a-z]+/[A-Z]\w+"


@pytest.mark.parametrize(("variable", "value"), BAD_VALUES)
def test_every_refusal_is_in_the_citys_language(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """Each bad setting in Chinese: the variable's name, then Chinese (pydantic's own
    refusals included), and in English the same problem in English words."""
    import re

    from bot.i18n import gettext_for

    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    zh = caught.value.text(gettext_for("zh_Hans"))
    en = caught.value.text(gettext_for("en"))
    assert zh.startswith(f"{variable}: ") and en.startswith(f"{variable}: "), (zh, en)
    words = re.sub(_NEUTRAL, " ", zh.removeprefix(f"{variable}: ").replace(value, " "))
    assert not re.search(r"[A-Za-z]{3,}", words), zh
    assert re.search(r"[\u4e00-\u9fff]", zh) and "{" not in zh + en
    assert "Input should" not in en  # pydantic's wording, not ours


def test_every_pydantic_refusal_in_the_table_is_one_pydantic_has() -> None:
    """The table's keys are pydantic's error types (a misspelt one would never match),
    and a type outside it is still said in the city's language, not pydantic's English."""
    from typing import get_args

    from pydantic_core.core_schema import ErrorType

    from bot.config import _ANY_OTHER, _PYDANTIC, _problem
    from bot.i18n import gettext_for

    assert set(_PYDANTIC) <= set(get_args(ErrorType))
    name, msg, params = _problem(
        {"type": "uuid_parsing", "loc": ("webhook_path",), "msg": "Input should be a UUID"}
    )
    assert (name, msg, params) == ("WEBHOOK_PATH", _ANY_OTHER, {})
    assert gettext_for("zh_Hans")(msg) != msg


# --- the command line ------------------------------------------------------------------


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`branchbot ARGS` in a fresh process: clean environment, empty cwd (no .env)."""
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    clean.update(env)
    code = "import sys; sys.argv[0] = 'branchbot'; from bot.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


def test_run_without_token_is_one_line(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "run")
    assert done.returncode == 2
    assert one_line(done.stderr).startswith("BOT_TOKEN: ")
    assert done.stdout == ""
    assert not (tmp_path / "branchbot.db").exists()  # refused before touching anything


def test_run_with_malformed_token_is_one_line(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "run", BOT_TOKEN="not-a-token-secretpart")
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert line.startswith("BOT_TOKEN: ") and "secretpart" not in line


def test_run_with_bad_settings_is_one_line(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "run", BOT_TOKEN="1:x", TIMEZONE="Mars/Olympus_Mons")
    assert done.returncode == 2
    assert one_line(done.stderr).startswith("TIMEZONE: ")
    # Several bad variables: still one line (no wrapping at the console's width).
    done = run_cli(
        tmp_path, "run", TIMEZONE="Mars/Olympus_Mons", DEFAULT_LOCALE="fr", SUPERUSER_IDS="a,b"
    )
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert all(v in line for v in ("TIMEZONE", "DEFAULT_LOCALE", "SUPERUSER_IDS"))


def test_webhook_without_secret_is_refused(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "run", BOT_TOKEN="1:x", WEBHOOK_URL="https://bot.example.org")
    assert done.returncode == 2
    assert one_line(done.stderr).startswith("WEBHOOK_SECRET: ")


def _command_paths(command, prefix: tuple[str, ...] = ()):
    yield prefix
    if hasattr(command, "commands"):  # a group (typer vendors its own click)
        for name, sub in command.commands.items():
            yield from _command_paths(sub, (*prefix, name))


def test_help_lists_commands_and_every_help_works() -> None:
    runner = CliRunner()
    top = runner.invoke(cli_app, ["--help"])
    assert top.exit_code == 0
    for name in ("run", "demo", "db", "org", "rubric", "i18n", "import", "export"):
        assert name in top.output
    paths = list(_command_paths(typer.main.get_command(cli_app)))
    assert ("db", "upgrade") in paths and ("org", "add") in paths
    for path in paths:
        done = runner.invoke(cli_app, [*path, "--help"])
        assert done.exit_code == 0, (path, done.output)
        assert "Usage" in done.output
