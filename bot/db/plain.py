"""The database without SQLAlchemy: one transaction of plain SQL, for the command line's
`org add`.

Why: a city's tree is built by scripts that call `branchbot org add` a thousand times,
and importing SQLAlchemy and SQLModel costs each call about a second on the project's
machine, three times the rest of its work (issue 12 asks ≤ 0.5 s). So this module
talks to SQLite through the standard library's `sqlite3` and to PostgreSQL through
`asyncpg` (the driver SQLAlchemy uses there anyway), and does only what the ORM's side
does for a command: the same connection settings (`bot.db.engine`), the same refusal of
a schema that is not at the head revision (`bot.db.migrate`), and values stored as
SQLAlchemy stores them (timestamps, JSON). The rules of what is written live elsewhere,
shared with the ORM services (`bot/services/org_rules.py`); the statements here are the
few `bot/services/orgs_plain.py` needs. `tests/integration/test_org_add_paths.py` writes
the same units both ways on both databases and compares every column.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

SQLITE = "sqlite+aiosqlite"
POSTGRES = "postgresql+asyncpg"

# SQLAlchemy's own URL pattern (sqlalchemy.engine.url._parse_url), so that a URL means
# the same database on both paths.
_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
    """,
    re.X,
)
# Query options SQLAlchemy's asyncpg dialect keeps for itself instead of passing on.
_DIALECT_OPTIONS = {"prepared_statement_cache_size", "prepared_statement_name_func"}
# PostgreSQL errors an administrator fixes in DATABASE_URL or on the server (SQLSTATE
# classes: connection, authorisation, unknown database, resources, operator
# intervention), reported like the ORM side's `run_db` reports them.
_PG_SETUP_CLASSES = ("08", "28", "3D", "53", "57")


class SchemaBehind(Exception):
    """The database is not at the head revision (or not a branchbot database yet)."""


def stored_time(value: datetime) -> datetime:
    """`bot.db.types.UTCDateTime`'s rule: aware in, naive UTC at rest."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime (use the clock)")
    return value.astimezone(UTC).replace(tzinfo=None)


def sqlite_time(value: datetime) -> str:
    """A timestamp as SQLAlchemy's SQLite dialect writes it (microseconds always)."""
    return stored_time(value).strftime("%Y-%m-%d %H:%M:%S.%f")


def connect_args(url: str) -> dict[str, Any]:
    """asyncpg's `connect` arguments for a PostgreSQL URL, as SQLAlchemy's asyncpg
    dialect makes them (`create_connect_args`)."""
    m = _URL.match(url)
    if m is None:
        raise ValueError("not a database URL")
    parts = m.groupdict()
    args: dict[str, Any] = {}
    host = parts["ipv4host"] or parts["ipv6host"]
    for key, value in (
        ("host", host),
        ("database", parts["database"] and unquote(parts["database"])),
        ("user", parts["username"] and unquote(parts["username"])),
        ("password", parts["password"] and unquote(parts["password"])),
        ("port", parts["port"] and int(parts["port"])),
    ):
        if value:
            args[key] = value
    query: dict[str, Any] = {}
    for key, value in parse_qsl(parts["query"] or ""):
        if key in query:
            query[key] = [*(query[key] if isinstance(query[key], list) else [query[key]]), value]
        else:
            query[key] = value
    hosts = query.pop("host", None)
    args.update({k: v for k, v in query.items() if k not in _DIALECT_OPTIONS})
    if hosts is not None:
        pairs = [h.rsplit(":", 1) if ":" in h else [h, None] for h in _as_list(hosts)]
        if len(pairs) == 1:
            args["host"] = pairs[0][0]
            if pairs[0][1] is not None:
                args["port"] = int(pairs[0][1])
        else:
            args["host"] = [h for h, _ in pairs]
            args["port"] = [int(p) if p else None for _, p in pairs]
    return args


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


class PlainDb:
    """One open transaction. Statements use `?` placeholders on both databases."""

    backend: str

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def insert_returning_id(self, sql: str, *args: Any) -> int:
        rows = await self.fetch(sql + " RETURNING id", *args)
        return int(rows[0][0])

    def time(self, value: datetime) -> Any:
        """A timestamp as this database's column receives it from SQLAlchemy."""
        raise NotImplementedError

    def json(self, value: Any) -> str:
        """A JSON column's value, serialised as SQLAlchemy's JSON type does (json.dumps)."""
        return json.dumps(value)


class _Sqlite(PlainDb):
    backend = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, args).fetchall()

    def time(self, value: datetime) -> str:
        return sqlite_time(value)


class _Postgres(PlainDb):
    backend = "postgresql"

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.conn.fetch(_numbered(sql), *args)]

    def time(self, value: datetime) -> datetime:
        return stored_time(value)


def _numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, …` (the statements here hold no '?' text)."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _m: f"${next(count)}", sql)


def is_setup_problem(exc: BaseException) -> bool:
    """A database the administrator must fix (unreachable, unknown, refused, not a
    database file), as opposed to a bug in a statement; see `bot.cli.common.run_db`."""
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, sqlite3.Error):
        bugs = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.DataError)
        return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, bugs)
    if type(exc).__module__.startswith("asyncpg"):
        import asyncpg

        if isinstance(exc, asyncpg.InterfaceError):
            return True
        state = getattr(exc, "sqlstate", None) or ""
        return state[:2] in _PG_SETUP_CLASSES
    return False


@asynccontextmanager
async def transaction(url: str) -> AsyncIterator[PlainDb]:
    """One transaction on the database of a settings URL, committed if the block ends
    normally and rolled back if it raises. Raises `SchemaBehind` before the block when
    the schema is not at the head revision, as the ORM side's commands refuse."""
    if url.startswith(SQLITE + ":"):
        async with _sqlite(url) as db:
            yield db
    elif url.startswith(POSTGRES + ":"):
        async with _postgres(url) as db:
            yield db
    else:  # the settings accept no other URL
        raise ValueError(f"unsupported database URL: {url.split(':', 1)[0]}")


def set_up_sqlite(conn: Any, memory: bool) -> None:
    """The settings of every SQLite connection, the engine's and this module's alike."""
    if not memory:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    # Freed space is zeroed, so an overwritten vote count leaves no old copy in the
    # file (ballot secrecy; the WAL is truncated when a vote closes).
    conn.execute("PRAGMA secure_delete=ON")


def _open_sqlite(url: str) -> sqlite3.Connection:
    """A connection set up as bot.db.engine sets every one up, in a write transaction
    (BEGIN IMMEDIATE, as the engine begins). Synchronous: the command has nothing else
    to do meanwhile."""
    file = url.split(":///", 1)[1].split("?", 1)[0] if ":///" in url else ""
    memory = file in ("", ":memory:")
    if not memory and not Path(file).exists():
        raise SchemaBehind  # never created here: `db upgrade` makes the file
    conn = sqlite3.connect(file or ":memory:", timeout=30, isolation_level=None)
    try:
        set_up_sqlite(conn, memory)
        conn.execute("BEGIN IMMEDIATE")
    except BaseException:
        conn.close()
        raise
    return conn


@asynccontextmanager
async def _sqlite(url: str) -> AsyncIterator[PlainDb]:
    conn = _open_sqlite(url)
    try:
        try:
            db = _Sqlite(conn)
            found = await db.fetch(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            )
            await _require_head(db, bool(found))
            yield db
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


@asynccontextmanager
async def _postgres(url: str) -> AsyncIterator[PlainDb]:
    import asyncpg

    conn = await asyncpg.connect(**connect_args(url))
    try:
        async with conn.transaction():
            db = _Postgres(conn)
            found = await db.fetch("SELECT to_regclass('alembic_version') IS NOT NULL")
            await _require_head(db, bool(found[0][0]))
            yield db
    finally:
        await conn.close()


async def _require_head(db: PlainDb, has_table: bool) -> None:
    from bot.db.migrate import VERSION_TABLE, head_revision

    current: Sequence[tuple[Any, ...]] = []
    if has_table:
        current = await db.fetch(f"SELECT version_num FROM {VERSION_TABLE}")
    if (current[0][0] if current else None) != head_revision():
        raise SchemaBehind
