"""`branchbot db …`, `branchbot run` on an old schema, and `branchbot org …` on a SQLite file."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app as cli_app
from bot.clock import Clock
from bot.config import Settings
from tests.unit.test_settings import one_line, run_cli

runner = CliRunner()


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A SQLite file named by DATABASE_URL; nothing else from the outer environment."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "branchbot.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    # "Today" for the commands run in this process: close-period asks for --yes a year on.
    monkeypatch.setattr(Clock, "now", lambda self: datetime(2026, 7, 15, 2, tzinfo=UTC))
    return path


def cli(*args: str, code: int = 0):
    done = runner.invoke(cli_app, list(args))
    assert done.exit_code == code, (args, done.output, done.exception)
    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
    return done


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def test_upgrade_then_current_says_up_to_date(db: Path) -> None:
    before = cli("db", "current", code=1)
    assert "branchbot db upgrade" in before.output
    assert not db.exists()  # `db current` only reads: it never creates the database
    sqlite3.connect(db).close()  # an empty file: a database without the schema
    assert "out of date" in cli("db", "current", code=1).output
    cli("db", "upgrade")
    assert "up to date" in cli("db", "current").output
    cli("db", "upgrade")  # safe to run again
    assert "up to date" in cli("db", "current").output


def test_run_on_an_old_schema_refuses(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    done = run_cli(tmp_path, "run", BOT_TOKEN="123:abc", DATABASE_URL=f"sqlite:///{path}")
    assert done.returncode == 2
    assert "branchbot db upgrade" in one_line(done.stderr)
    assert done.stdout == ""


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    url = "postgresql://branchbot:pw-secret@127.0.0.1:1/branchbot"  # nothing listens on port 1
    commands = (("run",), ("db", "upgrade"), ("db", "current"), ("org", "add", "City"))
    # Four separate processes, started together: each one's start-up is most of its time.
    with ThreadPoolExecutor(len(commands)) as pool:
        runs = pool.map(
            lambda a: run_cli(tmp_path, *a, BOT_TOKEN="123:abc", DATABASE_URL=url), commands
        )
        results = list(zip(commands, runs, strict=True))
    for args, done in results:
        assert done.returncode == 2, args
        line = one_line(done.stderr)
        assert line.startswith("DATABASE_URL: ") and "pw-secret" not in line


async def test_tables_the_user_may_not_read_are_one_line(tmp_path: Path) -> None:
    """Tables restored by another role (pg_restore --no-owner run as postgres) are named
    as what to fix, not a traceback."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from bot.db.engine import create_database
    from tests.conftest import PG_URL, need

    need(PG_URL is not None, "TEST_DATABASE_URL is not set (PostgreSQL)")
    url = make_url(PG_URL)
    owner = url.set(database=f"{url.database}_rights")  # a database of this test's own
    role = f"reader_{url.database}"[:63]
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{owner.database}"'))
            await conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
            await conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'reader-pw'"))
        await create_database(owner.render_as_string(False))
        made = run_cli(tmp_path, "db", "upgrade", DATABASE_URL=owner.render_as_string(False))
        assert made.returncode == 0, made.stderr
        as_reader = owner.set(username=role, password="reader-pw")
        reader = as_reader.render_as_string(False)
        done = run_cli(tmp_path, "db", "current", DATABASE_URL=reader, DEFAULT_LOCALE="en")
        assert done.returncode == 2, done.stderr
        line = one_line(done.stderr)
        assert "may not read the table alembic_version" in line and "reader-pw" not in line
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{owner.database}"'))
            await conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        await admin.dispose()


def test_org_commands_need_an_upgraded_schema(db: Path) -> None:
    done = cli("org", "add", "City", code=2)
    assert "branchbot db upgrade" in done.output


def test_org_add_and_staff(db: Path) -> None:
    cli("db", "upgrade")
    assert "Created City" in cli("org", "add", "City").output
    assert "Created City/Town" in cli("org", "add", "Town", "--parent", "City").output
    done = cli("org", "add", "Red Flag", "--branch", "--domain", "village", "--parent", "City/Town")
    assert "Created City/Town/Red Flag" in done.output
    assert "Wang is staff of City/Town" in cli("org", "staff", "City/Town", "4242", "Wang").output
    cli("org", "staff", "City/Town", "4242", "Wang")  # again: still one staff row

    orgs = rows(db, "SELECT name, kind, domain, path FROM organisation ORDER BY id")
    assert [(n, k, d) for n, k, d, _ in orgs] == [
        ("City", "committee", None),
        ("Town", "committee", None),
        ("Red Flag", "branch", "village"),
    ]
    assert orgs[2][3] == "/1/2/3/"
    assert rows(db, "SELECT telegram_id, name FROM staff") == [(4242, "Wang")]
    audit = rows(db, "SELECT entity, action, actor FROM audit_log ORDER BY id")
    assert audit == [("organisation", "create", "cli")] * 3 + [("staff", "create", "cli")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("org", "add", "Town", "--parent", "City"), "There is already an organisation"),
        (("org", "add", "X", "--parent", "City/Nowhere"), "No organisation at City/Nowhere"),
        (("org", "add", "X", "--parent", "City/Town/Red Flag"), "is a branch"),
        (("org", "add", "X", "--branch", "--parent", "City"), "--domain"),
        (("org", "add", "A/B", "--parent", "City"), "cannot contain “/”"),
        (("org", "staff", "City/Nowhere", "1", "Li"), "No organisation at City/Nowhere"),
        (("org", "staff", "City/Town/Red Flag", "1", "Li"), "is a branch"),
    ],
)
def test_org_errors_are_one_clear_line(db: Path, args: tuple[str, ...], message: str) -> None:
    cli("db", "upgrade")
    cli("org", "add", "City")
    cli("org", "add", "Town", "--parent", "City")
    cli("org", "add", "Red Flag", "--branch", "--domain", "village", "--parent", "City/Town")
    before = rows(db, "SELECT count(*) FROM audit_log")
    done = runner.invoke(cli_app, list(args))
    # Exit 2 for a call the options already show is wrong, 1 for data the tree refuses.
    assert done.exit_code == (2 if "--branch" in args else 1), done.output
    line = one_line(done.output)
    assert message in line and "org." not in line  # words, not an error code
    assert rows(db, "SELECT count(*) FROM audit_log") == before  # nothing written
    assert rows(db, "SELECT count(*) FROM organisation") == [(3,)]
    assert rows(db, "SELECT count(*) FROM staff") == [(0,)]


def test_org_errors_in_chinese(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli("db", "upgrade")
    cli("org", "add", "市委")
    cli("org", "add", "镇党委", "--parent", "市委")
    monkeypatch.setenv("DEFAULT_LOCALE", "zh_Hans")
    done = runner.invoke(cli_app, ["org", "add", "镇党委", "--parent", "市委"])
    assert done.exit_code == 1
    assert "镇党委" in one_line(done.output) and "already" not in done.output
    # A second top organisation is refused before anything: where does it belong?
    done = runner.invoke(cli_app, ["org", "add", "市委"])
    assert done.exit_code == 2 and "--parent" in one_line(done.output)
    assert "市委" in done.output and "already" not in done.output


def test_unknown_domain_is_a_usage_error(db: Path) -> None:
    cli("db", "upgrade")
    cli("org", "add", "City")
    done = runner.invoke(cli_app, ["org", "add", "X", "--branch", "--domain", "moon"])
    assert done.exit_code == 2
    assert "village" in done.output and "Traceback" not in done.output
    assert rows(db, "SELECT count(*) FROM organisation") == [(1,)]
