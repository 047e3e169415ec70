"""ORM objects from rows read as plain columns, for the statements every update runs.

Loading entities through the ORM costs, per object, about as much as the rest of a
small statement (its loading machinery, and SQLModel's per-instance set-up). A statement
that selects a mapped class's columns (`columns(Model)`) and hands each object's slice
of the row to `attach` gets the same persistent objects for far less.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state, set_committed_value
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import greenlet_spawn

from bot.db.engine import InlineSqlite
from bot.db.unit import DEDUPE, LEAN, LEAN_ON, READS, WROTE


class Columns:
    """A mapped class's column attributes, in one order: `Columns(Member).all` goes into a
    select, and the same slice of its row into `attach`."""

    def __init__(self, model: type) -> None:
        self.model = model
        self.mapper = inspect(model)
        props = [p for p in self.mapper.column_attrs if len(p.columns) == 1]
        self.keys = [p.key for p in props]
        self.all = [p.columns[0] for p in props]
        (pk,) = self.mapper.primary_key  # one-column primary keys only
        self.pk = self.keys.index(self.mapper.get_property_by_column(pk).key)

    def __len__(self) -> int:
        return len(self.keys)


def attach(session: AsyncSession, columns: Columns, values: Sequence[Any]) -> Any:
    """The persistent object of `values` (the row's slice for `columns`), as if the ORM
    had loaded it: in the session's identity map (a later `get` returns it), its changes
    flushed, expired by a rollback. An object the session holds already is the one
    returned, its expired attributes filled from the row, as the ORM's loading does."""
    sync = session.sync_session
    key = columns.mapper.identity_key_from_primary_key((values[columns.pk],))
    identity_map = sync.identity_map
    held = identity_map.get(key)
    if held is not None:
        unloaded = inspect(held).unloaded
        for name, value in zip(columns.keys, values, strict=True):
            if name in unloaded:
                set_committed_value(held, name, value)
        return held
    # As the ORM's loading makes an object of a row (orm/loading.py): its identity, its
    # session, in the identity map, every loaded value committed. `session.add` of a
    # detached object did the same with a cascade walk, events and the session's
    # transaction begun: a tenth of a `/me`'s CPU for its two objects.
    obj = columns.mapper.class_manager.new_instance()
    state = instance_state(obj)
    obj.__dict__.update(zip(columns.keys, values, strict=True))
    state.key = key
    state.session_id = sync.hash_key
    identity_map._add_unpresent(state, key)
    state._commit_all(obj.__dict__, identity_map)
    return obj


def held(session: AsyncSession, model: type, pk: Any) -> Any | None:
    """The object `session.get(model, pk)` would return without a query, if the session
    holds it loaded (not expired); None otherwise, and `get` is the way. A press's
    handler looks up what the principal's statement already attached: `get` cost a
    greenlet switch and its own bookkeeping for an identity map hit."""
    found = session.sync_session.identity_map.get(
        inspect(model).identity_key_from_primary_key((pk,))
    )
    if found is None or not isinstance(found, model) or inspect(found).expired:
        return None
    return found


async def read_connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection (and transaction) for a read past the ORM, after the
    flush of pending changes that the ORM's own execute would have done first."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await session.connection()


# --- Prebuilt statements on the driver --------------------------------------------------
#
# SQLAlchemy's execute (the compiled cache's lookup, the execution context, the result's
# set-up, the asyncio adapter's cursor and two greenlet switches) cost several times what
# SQLite or asyncpg take for the small indexed statements every update runs. A `Prepared`
# statement is compiled once per dialect, exactly as SQLAlchemy would send it, and run on
# the driver connection of the session's own transaction: the same SQL, the same bind
# and result processing (`UTCDateTime`, SQLite's booleans and dates, JSON), the same
# transaction (a rollback undoes it), errors raised as SQLAlchemy raises them.

_DRIVER = "branchbot_driver"  # session.info: (the root transaction (weak), its driver)

# Called with the SQL of each statement run here, which SQLAlchemy's engine events do
# not see: the tests and the benchmark count the statements every update runs.
watchers: list[Callable[[str], Any]] = []


class Prepared:
    """A statement built once, compiled once per dialect, run straight on the driver.

    Parameters are its named `bindparam`s (other binds keep the values they were built
    with); no expanding IN (its SQL changes with each call: use a fixed number of slots)
    and no Python-side column defaults (an INSERT names every value it writes).
    """

    def __init__(self, statement: Any) -> None:
        self.statement = statement  # or {dialect name: statement}, for an upsert
        self._compiled: dict[type, _Compiled] = {}

    def statement_for(self, dialect: Any) -> Any:
        if isinstance(self.statement, dict):
            return self.statement[dialect.name]
        return self.statement

    def compiled(self, dialect: Any) -> _Compiled:
        found = self._compiled.get(type(dialect))
        if found is None:
            found = _Compiled(self.statement_for(dialect), dialect)
            self._compiled[type(dialect)] = found
        return found


class _Compiled:
    __slots__ = ("_types", "binds", "results", "sql")

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.positiontup is None:
            raise ValueError(f"{dialect.name}: not a positional paramstyle")
        processors = compiled._bind_processors
        binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            if bind.expanding:
                raise ValueError("expanding IN: its SQL is built again for every call")
            binds.append((name, bind.required, bind.effective_value, processors.get(name)))
        self.sql = compiled.string
        self.binds = tuple(binds)
        self._types = [column.type for column in compiled._result_columns]
        self.results: tuple | None = None
        if not self._types or dialect.driver != "asyncpg":
            self.resolve(dialect, [None] * len(self._types))

    def resolve(self, dialect: Any, coltypes: Sequence[Any]) -> None:
        """Each column's result processor, as SQLAlchemy picks it from the driver's
        description of the result (asyncpg's type oids: a numeric needs its own)."""
        results = []
        for i, (type_, coltype) in enumerate(zip(self._types, coltypes, strict=True)):
            process = type_._cached_result_processor(dialect, coltype)
            if process is not None:
                results.append((i, process))
        self.results = tuple(results)

    def args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, required, default, process in self.binds:
            value = params[name] if required or name in params else default
            out.append(value if process is None else process(value))
        return tuple(out)

    def rows(self, raw: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
        if not self.results:
            return [tuple(r) for r in raw]
        out = []
        for r in raw:
            row = list(r)
            for i, process in self.results:
                row[i] = process(row[i])
            out.append(tuple(row))
        return out


class _SqliteDriver:
    """The pooled inline SQLite connection: sqlite3 in the loop's own thread."""

    def __init__(self, inline: InlineSqlite, dialect: Any) -> None:
        self.inline = inline
        self.raw = inline._connection
        self.dialect = dialect
        self.autocommit = False  # statements outside a transaction (sqlite3's own)

    def begin(self) -> None:
        """BEGIN IMMEDIATE now: the write lock up front, as every update's transaction."""
        self.autocommit = False
        if not self.raw.in_transaction:  # the ORM may have begun it (a reading update's)
            self.inline.begin_immediate()

    def _cursor(self, prepared: Prepared, params: dict[str, Any]) -> tuple[Any, _Compiled]:
        compiled = prepared.compiled(self.dialect)
        args = compiled.args(params)
        if watchers:
            _watch(compiled.sql)
        try:
            return self.raw.execute(compiled.sql, args), compiled
        except sqlite3.Error as exc:
            raise _wrapped(compiled.sql, args, exc, sqlite3.Error, self.dialect) from exc

    async def fetch(self, prepared: Prepared, params: dict[str, Any]) -> list[tuple]:
        cursor, compiled = self._cursor(prepared, params)
        return compiled.rows(cursor.fetchall())

    async def write(self, prepared: Prepared, params: dict[str, Any]) -> int:
        return self._cursor(prepared, params)[0].rowcount

    async def end(self, commit: bool) -> None:
        """COMMIT or ROLLBACK the transaction begun here, if one is open."""
        if not self.raw.in_transaction:
            return
        sql = "COMMIT" if commit else "ROLLBACK"
        try:
            self.raw.execute(sql)
        except sqlite3.Error as exc:
            raise _wrapped(sql, (), exc, sqlite3.Error, self.dialect) from exc


class _AsyncpgDriver:
    """asyncpg under SQLAlchemy's adapter. The adapter begins its transaction with the
    first statement it runs, so a statement here begins it first when nothing has; it
    also takes the adapter's lock, as the adapter's own cursors do. asyncpg prepares a
    statement once per connection and reuses it (its statement cache).

    BEGIN stays a round trip of its own (~30 us of the bot's CPU here): asyncpg sends a
    statement with parameters alone (one Parse/Bind/Execute, then Sync), and a script of
    several statements returns no rows; the dedupe row cannot go before the BEGIN, as
    it must commit or roll back with the handler's writes."""

    def __init__(self, adapted: Any, dialect: Any) -> None:
        self.adapted = adapted
        self.raw = adapted.driver_connection
        self.dialect = dialect
        self.autocommit = False  # statements outside a transaction: no BEGIN before them

    def begin(self) -> None:
        """Nothing yet: the transaction begins with the next statement (see `_run`)."""
        self.autocommit = False

    async def _run(self, prepared: Prepared, params: dict[str, Any], fetch: bool) -> Any:
        adapted = self.adapted
        compiled = prepared.compiled(self.dialect)
        args = compiled.args(params)
        if watchers:
            _watch(compiled.sql)
        async with adapted._execute_mutex:
            try:
                if adapted._transaction is None and not self.autocommit:
                    await adapted._start_transaction()
                if fetch:
                    if compiled.results is None:  # once per statement and process
                        described = await self.raw.prepare(compiled.sql)
                        oids = [a.type.oid for a in described.get_attributes()]
                        compiled.resolve(self.dialect, oids)
                    return compiled.rows(await self.raw.fetch(compiled.sql, *args))
                return await self.raw.execute(compiled.sql, *args)
            except Exception as exc:
                self._raise(compiled.sql, args, exc)

    def _raise(self, sql: str, args: Any, exc: Exception) -> None:
        error = self.dialect.loaded_dbapi.Error
        if isinstance(exc, error):  # _start_transaction translated it already
            raise _wrapped(sql, args, exc, error, self.dialect) from exc
        try:
            self.adapted._handle_exception(exc)  # raises the DB-API error SQLAlchemy would
        except error as translated:
            raise _wrapped(sql, args, translated, error, self.dialect) from exc
        raise exc

    async def end(self, commit: bool) -> None:
        """COMMIT or ROLLBACK the transaction begun here, if one is open (as the
        adapter's own commit and rollback do, without their greenlet)."""
        adapted = self.adapted
        async with adapted._execute_mutex:
            transaction = adapted._transaction
            if transaction is None:
                return
            try:
                await adapted._call_and_discard(
                    transaction.commit if commit else transaction.rollback
                )
            except Exception as exc:
                self._raise("COMMIT" if commit else "ROLLBACK", (), exc)

    async def fetch(self, prepared: Prepared, params: dict[str, Any]) -> list[tuple]:
        return await self._run(prepared, params, True)

    async def write(self, prepared: Prepared, params: dict[str, Any]) -> int:
        status = await self._run(prepared, params, False)
        # "INSERT 0 1", "UPDATE 3", "DELETE 0": the count is the last word.
        last = status.rsplit(" ", 1)[-1] if status else ""
        return int(last) if last.isdigit() else -1


class _SqlalchemyDriver:
    """Any other connection (an in-memory SQLite database): SQLAlchemy's own execute."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def fetch(self, prepared: Prepared, params: dict[str, Any]) -> list[tuple]:
        statement = prepared.statement_for(self.connection.dialect)
        return [tuple(r) for r in (await self.connection.execute(statement, params)).all()]

    async def write(self, prepared: Prepared, params: dict[str, Any]) -> int:
        statement = prepared.statement_for(self.connection.dialect)
        return (await self.connection.execute(statement, params)).rowcount


def _direct_driver(adapted: Any, dialect: Any) -> _SqliteDriver | _AsyncpgDriver | None:
    """The driver under a pooled connection: sqlite3 (the inline connection) or asyncpg;
    None for any other (an in-memory SQLite database), which keeps SQLAlchemy's execute."""
    driver_connection = adapted.driver_connection
    if isinstance(driver_connection, InlineSqlite):
        return _SqliteDriver(driver_connection, dialect)
    if dialect.driver == "asyncpg":
        return _AsyncpgDriver(adapted, dialect)
    return None


def _watch(sql: str) -> None:
    for watcher in watchers:
        watcher(sql)


def _wrapped(sql: str, args: Any, exc: Exception, base: type, dialect: Any) -> Exception:
    # Parameters never go into the message: a ballot's marks travel as parameters.
    return DBAPIError.instance(sql, args, exc, base, hide_parameters=True, dialect=dialect)


async def _driver(session: AsyncSession, writes: bool = False) -> Any:
    """The driver of the session's transaction, beginning one if it has none, after the
    flush of pending changes that the ORM's own execute would have done first. Held in
    `session.info` for the transaction's life: looking it up again through the session
    (`session.connection()`, a greenlet switch and the transaction's bookkeeping) cost
    more than a statement."""
    sync = session.sync_session
    if not sync._is_clean():
        await session.flush()
    lean = sync.info.get(LEAN)
    transaction = sync.get_transaction()
    if lean is None and sync.info.get(LEAN_ON):
        if transaction is None or not transaction._connections:
            lean = await _begin_lean(session, reading=READS in sync.info)
    if lean is not None:
        if writes and lean.driver.autocommit and sync.info.get(READS) != DEDUPE:
            lean.driver.begin()  # a reading update's write, and what follows: one transaction
        return lean.driver
    held = sync.info.get(_DRIVER)
    if held is not None:
        if held[0]() is transaction and transaction is not None and transaction.is_active:
            return held[1]
    connection = await session.connection()
    adapted = connection.sync_connection.connection.dbapi_connection
    driver = _direct_driver(adapted, connection.dialect) or _SqlalchemyDriver(connection)
    # A weak reference: the transaction points at the session, and a cycle would leave
    # each update's session to the cyclic collector (see bot.app.settle_collector).
    sync.info[_DRIVER] = (weakref.ref(sync.get_transaction()), driver)
    return driver


# --- An update's transaction, begun on the driver ---------------------------------------
#
# SQLAlchemy's Session spent more on beginning and ending an update's transaction than
# the update's own statements took: the session transaction, a Connection, the pool's
# checkout and checkin, each in a greenlet (~120 us of CPU per update on SQLite, ~230
# on PostgreSQL, against ~20 for the same on the driver). The update's session
# (`unit.opened`, LEAN_ON) therefore begins its transaction straight on a connection
# checked out of the engine's pool, for the `Prepared` statements every update runs.
# If the handler then uses the ORM, the session is bound to that same connection and
# joins the transaction (`_LeanSync.get_bind`); commit and rollback go through
# `LeanSession`, so one transaction holds all of the update's writes either way.


class _Lean:
    __slots__ = ("__weakref__", "connection", "driver", "proxied")

    def __init__(self, proxied: Any, driver: Any) -> None:
        self.proxied = proxied  # the pool's connection, held until the end
        self.driver = driver
        self.connection: Connection | None = None  # the ORM's, once it joins


# Engines whose pool hands out connections a driver can run on (checked at the first
# begin; an in-memory SQLite database's is not).
_DIRECT: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _may_begin_on_driver(engine: Engine) -> bool:
    if engine not in _DIRECT:
        _DIRECT[engine] = engine.dialect.driver == "asyncpg" or (
            engine.dialect.name == "sqlite" and isinstance(engine.pool, AsyncAdaptedQueuePool)
        )
    return _DIRECT[engine]


async def _begin_lean(session: AsyncSession, reading: bool = False) -> _Lean | None:
    """The update's connection, its transaction begun on the driver; `reading` (an
    update that writes nothing but its id, `bot.db.unit.READS`): none begun, each
    statement commits alone until a write begins one."""
    sync = session.sync_session
    engine = sync.bind
    if not isinstance(engine, Engine) or not _may_begin_on_driver(engine):
        return None
    proxied = await greenlet_spawn(engine.raw_connection)
    try:
        driver = _direct_driver(proxied.dbapi_connection, engine.dialect)
        if driver is not None and reading:
            driver.autocommit = True
        elif driver is not None:
            driver.begin()
    except BaseException:
        await greenlet_spawn(proxied.close)
        raise
    if driver is None:
        _DIRECT[engine] = False
        await greenlet_spawn(proxied.close)
        return None
    lean = _Lean(proxied, driver)
    sync.info[LEAN] = lean
    return lean


async def _end_lean(sync: Session, lean: _Lean) -> None:
    """Give the update's connection back to the pool (its transaction is over)."""
    sync.info.pop(LEAN, None)
    sync.info.pop(_DRIVER, None)
    closing = lean.connection if lean.connection is not None else lean.proxied
    await greenlet_spawn(closing.close)


def current_transaction(session: AsyncSession) -> Any | None:
    """The session's transaction as it is now (the driver's, or SQLAlchemy's), for
    telling whether something read earlier was read in the same one."""
    sync = session.sync_session
    return sync.info.get(LEAN) or sync.get_transaction()


class _LeanSync(Session):
    def get_bind(self, mapper: Any = None, *, clause: Any = None, bind: Any = None, **kw: Any):
        lean = self.info.get(LEAN)
        if lean is None or bind is not None:
            return super().get_bind(mapper, clause=clause, bind=bind, **kw)
        if lean.connection is None:
            # SQLAlchemy begins its transaction on it, which the driver has begun already
            # (bot.db.engine's BEGIN IMMEDIATE is skipped inside one), and commits it.
            lean.connection = Connection(self.bind, connection=lean.proxied)
        return lean.connection


class LeanSession(AsyncSession):
    """The sessions of `bot.db.engine.session_factory`: an update's (LEAN_ON) may hold a
    transaction begun on the driver, which its commit, rollback and close finish."""

    sync_session_class = _LeanSync

    def in_transaction(self) -> bool:
        return LEAN in self.sync_session.info or super().in_transaction()

    async def commit(self) -> None:
        sync = self.sync_session
        lean = sync.info.get(LEAN)
        if lean is None:
            return await super().commit()
        transaction = sync._transaction
        if transaction is not None:
            if not transaction._connections and sync._is_clean():
                # Begun without a connection (session.add) and nothing to flush: ending
                # it does no I/O, so no greenlet is needed for it.
                sync.commit()
            else:
                await super().commit()  # flushes; commits the driver's transaction if joined
        if lean.connection is None:
            await lean.driver.end(commit=True)
        await _end_lean(sync, lean)

    async def rollback(self) -> None:
        sync = self.sync_session
        lean = sync.info.get(LEAN)
        try:
            transaction = sync._transaction
            if lean is not None and transaction is None:
                sync.expire_all()  # what the rollback undid is read again, as SQLAlchemy's does
            elif lean is not None and not transaction._connections:
                sync.rollback()  # begun without a connection (session.add): no I/O
            else:
                await super().rollback()
        finally:
            if lean is not None:
                try:
                    if lean.connection is None:
                        await lean.driver.end(commit=False)
                finally:
                    await _end_lean(sync, lean)

    async def close(self) -> None:
        if LEAN in self.sync_session.info:
            await self.rollback()
        await super().close()


async def fetch(session: AsyncSession, prepared: Prepared, params: dict[str, Any]) -> list[tuple]:
    """The rows of a `Prepared` read, in the session's transaction, as plain tuples."""
    return await (await _driver(session)).fetch(prepared, params)


async def fetch_first(
    session: AsyncSession, prepared: Prepared, params: dict[str, Any], *, writes: bool = False
) -> tuple | None:
    """The first row of a `Prepared` read, or None. `writes`: the statement also writes
    (a data-modifying CTE), so the session counts as having written, as after `write`."""
    rows = await (await _driver(session, writes)).fetch(prepared, params)
    if writes:
        session.info[WROTE] = True
    return rows[0] if rows else None


async def write(session: AsyncSession, prepared: Prepared, params: dict[str, Any]) -> int:
    """Run a `Prepared` INSERT/UPDATE/DELETE in the session's transaction; the number
    of rows it changed. The session counts as having written (the unit of work's
    "saved"), as for a write through the ORM."""
    count = await (await _driver(session, True)).write(prepared, params)
    session.info[WROTE] = True
    return count
