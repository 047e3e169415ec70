"""Async engine and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import logging
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool

from bot.db.plain import set_up_sqlite


def _no_driver_calls(record: logging.LogRecord) -> bool:
    """aiosqlite logs every call with its arguments at DEBUG: statement parameters,
    which may be a voter's id and, next to it, their marks. Those lines never pass."""
    return record.levelno > logging.DEBUG


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
        driver_log = logging.getLogger("aiosqlite")
        if _no_driver_calls not in driver_log.filters:
            driver_log.addFilter(_no_driver_calls)
        memory = make_url(url).database in (None, "", ":memory:")
        pool = {}
        if not memory:
            # One connection per process, handed to each transaction in turn. SQLite has
            # one writer anyway, and a process does its Python work on one core: a queue
            # in the pool wakes the next transaction the moment the last one ends, where
            # several connections would poll SQLite's lock with sleeps of up to 100 ms
            # (and a new connection per update costs a thread and its PRAGMAs). Nothing
            # holds a transaction across a Bot API call (see bot.db.unit), so the wait is
            # only for other updates' database work. Other processes (the CLI) still
            # queue on busy_timeout. In-memory databases keep their single connection.
            pool = {"poolclass": AsyncAdaptedQueuePool, "pool_size": 1, "max_overflow": 0}
            pool["pool_timeout"] = 60
            pool["async_creator"] = partial(_inline_sqlite, make_url(url).database)
        # No statement parameters in logs or errors: a ballot's marks and the voter's id
        # travel as parameters of one transaction (ballot secrecy).
        engine = create_async_engine(
            url, echo=echo, hide_parameters=True, connect_args={"timeout": 30}, **pool
        )
        _configure_sqlite(engine, memory)
        return engine
    # No pre-ping (a round trip before every transaction): connections are recycled
    # before servers or proxies drop idle ones, and one found dead is invalidated with
    # the rest of the pool by the error it raises, so the next update gets a fresh one.
    # No overflow: a connection opened beyond the pool is closed when it comes back, so
    # every burst of updates (a getUpdates batch, a vote opening) opened and closed
    # connections again, each a new PostgreSQL backend process and several milliseconds
    # of the bot's CPU. One process works on one core: twenty transactions at once keep
    # it busy, and further updates wait their turn for a connection instead. Nothing
    # holds two at a time (after-commit work takes its own once the update's is back).
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,  # ballot secrecy, as above
        pool_size=20,
        max_overflow=0,
        pool_timeout=60,
        pool_recycle=1800,
        pool_use_lifo=True,
    )


class InlineSqlite(aiosqlite.Connection):
    """An aiosqlite connection that runs its statements in the event loop's own thread.

    aiosqlite hands every call (cursor, execute, fetch, close: four per statement) to a
    worker thread and back, and each hand-off makes the two threads wait for the GIL:
    under load the loop spent about half its time there, far more than SQLite itself
    takes for the bot's small indexed statements (tens of microseconds). With one
    connection per process (see `create_engine`) nothing inside the process waits on
    SQLite's lock, so a statement never blocks the loop for long; another process
    holding the write lock (a CLI command) can stall it up to busy_timeout.
    """

    async def _execute(self, fn, *args: Any, **kwargs: Any) -> Any:
        if self._connection is None:  # connecting happens in the worker thread
            return await super()._execute(fn, *args, **kwargs)
        return fn(*args, **kwargs)

    def begin_immediate(self) -> None:
        """BEGIN IMMEDIATE straight on sqlite3, in this (the loop's) thread."""
        self.run_now("BEGIN IMMEDIATE", ())

    def run_now(self, sql: str, params: tuple[Any, ...]) -> None:
        """A statement straight on sqlite3, past SQLAlchemy (which costs ten times what
        SQLite does for the small statements every update runs); its errors are raised
        as SQLAlchemy would have raised them (IntegrityError, OperationalError, …)."""
        try:
            self._connection.execute(sql, params)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc


async def _inline_sqlite(path: str) -> InlineSqlite:
    conn = InlineSqlite(partial(sqlite3.connect, path, timeout=30, check_same_thread=False), 64)
    conn._thread.daemon = True  # as SQLAlchemy's own aiosqlite dialect does
    return await conn


def _configure_sqlite(engine: AsyncEngine, memory: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # aiosqlite opens an implicit transaction before DDL/DML; turning Python's
        # own transaction handling off lets SQLAlchemy's BEGIN below take effect.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        set_up_sqlite(cur, memory)
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:
        # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on
        # busy_timeout instead of failing later with "database is locked". Every update
        # begins one: on the pooled inline connection it goes to sqlite3 directly, past
        # SQLAlchemy's statement machinery (which cost ten times SQLite's own work).
        driver = conn.connection.driver_connection
        if isinstance(driver, InlineSqlite):
            # An update's session began it on the driver already (bot.db.rows, _Lean).
            if not driver._connection.in_transaction:
                driver.begin_immediate()
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    from bot.db.rows import LeanSession  # rows runs statements on this module's connections

    return async_sessionmaker(engine, expire_on_commit=False, class_=LeanSession)
