"""Async engine and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


async def create_database(url: str) -> bool:
    """Create a PostgreSQL URL's database if it does not exist (SQLite creates its file
    on first use). True if it was created."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return False
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            found = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            )
            if found:
                return False
            quoted = '"' + str(parsed.database).replace('"', '""') + '"'
            await conn.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        await admin.dispose()


def create_engine(url: str, echo: bool = False) -> AsyncEngine:
    if is_sqlite(url):
        memory = make_url(url).database in (None, "", ":memory:")
        engine = create_async_engine(
            url,
            echo=echo,
            connect_args={"timeout": 30},
            # A file database gets a connection per checkout; WAL lets readers run
            # beside the one writer. In-memory databases must share one connection.
            poolclass=None if memory else NullPool,
        )
        _configure_sqlite(engine, memory)
        return engine
    return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _configure_sqlite(engine: AsyncEngine, memory: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # aiosqlite opens an implicit transaction before DDL/DML; turning Python's
        # own transaction handling off lets SQLAlchemy's BEGIN below take effect.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:
        # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on
        # busy_timeout instead of failing later with "database is locked".
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)
