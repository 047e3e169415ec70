"""The update's unit of work: its writes are committed before the bot speaks.

"Saved." must never reach a user for a write the database did not keep. Rather than
trust every handler to commit at the right moment, the Bot API request middleware
(`bot.delivery`) calls `commit_before_speaking()` before every request it sends while
an update is being handled: whatever the handler wrote so far is committed first, and
if that commit fails the request is not sent at all — `NotSaved` propagates instead,
and the transaction middleware tells the user and restores their conversation.

This also keeps write transactions short: none is held open across a Bot API call,
so on SQLite one slow `sendMessage` never queues every other update behind its lock.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState, Session

log = logging.getLogger(__name__)

# Set on a session's info when it writes, so a commit knows it kept something.
WROTE = "branchbot_wrote"
# An update's session (`opened`) may begin its transaction on the driver (`bot.db.rows`):
# LEAN_ON says it may, LEAN holds the transaction so begun while it is open.
LEAN_ON = "branchbot_lean_on"
LEAN = "branchbot_lean"
# An update that writes nothing but its update id (a ballot mark: the draft is in the
# conversation state): READS holds DEDUPE while that id is recorded, a statement that
# commits alone, then READING: reads run without a transaction, and a write begins one.
READS = "branchbot_reads"
DEDUPE = "dedupe"
READING = "reading"
# The note an exception carries when the update's writes were committed before it.
SAVED_NOTE = "branchbot: the update's writes were committed before this error"


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


@event.listens_for(Session, "after_flush")
def _on_flush(session: Session, _context) -> None:
    if session.new or session.dirty or session.deleted:
        session.info[WROTE] = True


class NotSaved(Exception):
    """The database did not confirm the update's writes; nothing of them was kept."""


class UnitOfWork:
    """One update's session, as seen by whoever is about to talk to Telegram."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.open = True
        self.saved = False  # some of the update's writes are committed
        session.info[WROTE] = False

    async def commit(self) -> None:
        """Commit what the update has written so far; NotSaved (after a rollback) if the
        database refuses or the connection is gone."""
        if not self.open or not self.session.in_transaction():
            return
        try:
            await self.session.commit()
        except Exception as exc:
            self.open = False  # the reply that reports the failure must not retry it
            try:
                await self.session.rollback()
            except Exception:
                pass  # the connection is gone; the pool discards it
            raise NotSaved(type(exc).__name__) from exc
        if self.session.info.get(WROTE):
            self.saved = True
            self.session.info[WROTE] = False
        await run_after_commit(self.session)


async def run_after_commit(session: AsyncSession) -> None:
    """Work a service asked for once its writes are durable (e.g. sealing a closed
    vote, which needs a connection of its own): `session.info["after_commit"]` holds
    async callables taking the engine. A failure is logged, not raised: the writes
    are kept whatever it did."""
    for hook in session.info.pop("after_commit", []):
        try:
            await hook(session.bind)
        except Exception:
            log.exception("after-commit work failed: %s", getattr(hook, "__name__", hook))


_current: ContextVar[UnitOfWork | None] = ContextVar("branchbot_unit_of_work", default=None)


def current() -> UnitOfWork | None:
    return _current.get()


def bind(unit: UnitOfWork | None):
    return _current.set(unit)


def unbind(token) -> None:
    _current.reset(token)


async def commit_before_speaking() -> None:
    unit = _current.get()
    if unit is not None:
        await unit.commit()


class opened:
    """`async with opened(sessions) as session`: the update's session, closed at the end.

    Once the reply has committed the update's writes the session holds no transaction,
    and closing it does no I/O: it is done in place, without the task and greenlet that
    `AsyncSession`'s own exit spends on every update. A session still holding a
    transaction is closed by SQLAlchemy's exit (which finishes it even if cancelled).
    """

    __slots__ = ("session",)

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.session = sessions()
        self.session.info[LEAN_ON] = True

    async def __aenter__(self) -> AsyncSession:
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        sync = self.session.sync_session
        if sync._transaction is None and LEAN not in sync.info:
            sync.close()
        else:
            await self.session.__aexit__(*exc)
