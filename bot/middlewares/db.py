"""One database transaction per update: the only place that owns it.

The handler's writes are committed before the bot first speaks (see `bot.db.unit`), and
once more when the handler returns. A commit that fails is never followed by a success
message: the user is told that nothing was saved, and their conversation — the draft
they were filling in — is put back as it was before the update.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.db import rows, unit
from bot.db.models import ProcessedUpdate
from bot.db.rows import Prepared
from bot.i18n import DEFAULT, gettext_for, normalize_locale
from bot.services import members

log = logging.getLogger(__name__)

# Built once (every update runs it): the update id, recorded in the update's transaction.
_RECORD_UPDATE = Prepared(insert(ProcessedUpdate.__table__))


async def record_update(session: AsyncSession, update_id: int, at: datetime) -> None:
    """INSERT the update id in the session's transaction, beginning it (IntegrityError if
    the id is there already). Straight on the driver (`bot.db.rows.Prepared`):
    SQLAlchemy's statement machinery cost several times what the database does for it,
    on every update."""
    await rows.write(session, _RECORD_UPDATE, {"update_id": update_id, "at": at})


_UNREAD: Any = object()  # a stored value this update has not read (or has changed since)


class RestorableState(FSMContext):
    """The conversation state of one update, restorable if the update's writes fail.

    What the update reads is kept: the state that aiogram read before the handler ran,
    the data as the handler first read it. The values to restore are those, so a
    handler that reads its draft and writes it back costs one read and one write of the
    storage, not four more (with Redis, each a round trip: a ballot mark made six).
    Only this update changes this key meanwhile: updates of one person are handled one
    at a time, across workers too (the isolation lock).
    """

    def __init__(self, inner: FSMContext, state: Any = _UNREAD) -> None:
        super().__init__(storage=inner.storage, key=inner.key)
        self._before: tuple[str | None, dict[str, Any]] | None = None
        self._state = state  # as stored now, if known
        self._data: Any = _UNREAD  # as stored now (a private copy), if known

    async def get_state(self) -> str | None:
        if self._state is _UNREAD:
            self._state = await self.storage.get_state(self.key)
        return self._state

    async def get_data(self) -> dict[str, Any]:
        if self._data is _UNREAD:
            # A deep copy: in-memory storage hands out the stored dict's nested values.
            self._data = copy.deepcopy(await self.storage.get_data(self.key))
        return copy.deepcopy(self._data)

    async def _remember(self) -> None:
        if self._before is None:
            self._before = (await self.get_state(), await self.get_data())

    async def set_state(self, state=None) -> None:
        await self._remember()
        self._state = _UNREAD
        await super().set_state(state)

    async def set_data(self, data: dict[str, Any]) -> None:
        await self._remember()
        self._data = _UNREAD
        await super().set_data(data)

    async def update_data(self, data: dict[str, Any] | None = None, **kwargs: Any):
        await self._remember()
        if data:
            kwargs.update(data)
        if self._data is _UNREAD:
            return await super().update_data(kwargs)
        # What the storage holds is known: write the result without reading it again.
        merged = {**self._data, **kwargs}
        self._data = _UNREAD
        await self.storage.set_data(self.key, merged)
        return dict(merged)

    async def clear(self) -> None:
        await self._remember()
        await super().clear()

    async def restore(self) -> None:
        if self._before is not None:
            state, data = self._before
            self._state = self._data = _UNREAD
            await self.storage.set_state(self.key, state)
            await self.storage.set_data(self.key, data)


class DbSessionMiddleware(BaseMiddleware):
    """Open a session, drop an update seen before, commit, or roll back and restore.

    The update id is recorded in the same transaction as the handler's writes, so a
    webhook retry of a handled update does nothing, and a failed one can be retried.

    An update that `reads_only` says writes nothing else (a ballot mark, /me) records its id
    in a statement that commits alone, and reads without a transaction (a write would
    begin one): on PostgreSQL a BEGIN and a COMMIT are each a round trip, half of a
    mark's. Its id is then kept even if the handler fails, as it is kept today once a
    reply has been sent: what is lost is the answer to one press, which the person sees
    and presses again.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        reads_only: Callable[[Update], bool] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.reads_only = reads_only
        bind = sessions.kw.get("bind")
        self.postgres = bind is not None and bind.dialect.name == "postgresql"

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        async with unit.opened(self.sessions) as session:
            reading = self.reads_only is not None and self.reads_only(event)
            if reading:
                session.info[unit.READS] = unit.DEDUPE
            try:
                user = data.get("event_from_user")
                if self.postgres and user is not None:  # one round trip for both
                    await members.record_update_reading_principal(
                        session, event.update_id, self.clock.now(), user.id
                    )
                else:
                    await record_update(session, event.update_id, self.clock.now())
            except IntegrityError:
                await session.rollback()
                return None  # a duplicate delivery: handled already (or being handled)
            if reading:
                session.info[unit.READS] = unit.READING
            state = data.get("state")
            restorable = None
            if isinstance(state, FSMContext):
                restorable = RestorableState(state, data.get("raw_state", _UNREAD))
            if restorable is not None:
                data["state"] = restorable
            data["session"] = session
            work = unit.UnitOfWork(session)
            token = unit.bind(work)
            try:
                result = await handler(event, data)
                await work.commit()
                return result
            except unit.NotSaved as exc:
                # Messages and presses are answered by the refusal middleware, in the
                # user's language; this is the fallback for every other kind of update.
                log.warning("update %s not saved: commit failed (%s)", event.update_id, exc)
                unit.unbind(token)
                token = None
                if restorable is not None:
                    await restorable.restore()
                user = data.get("event_from_user")
                locale = normalize_locale(user.language_code if user else None) or DEFAULT
                inner = event.callback_query or event.message
                if inner is not None:
                    await tell_not_saved(inner, gettext_for(locale))
                return None
            except BaseException as exc:
                work.open = False
                await session.rollback()
                if work.saved:
                    # The error handler must not claim that nothing was saved.
                    exc.add_note(unit.SAVED_NOTE)
                elif restorable is not None:
                    await restorable.restore()
                raise
            finally:
                if token is not None:
                    unit.unbind(token)


async def tell_not_saved(event: TelegramObject, _: Callable[[str], str]) -> None:
    """Say that nothing was saved, as an alert on a button press or a reply to a message."""
    text = _(
        "Not saved: the database did not confirm it, so nothing was stored. "
        "What you entered is kept — please try again."
    )
    try:
        if isinstance(event, CallbackQuery):
            try:
                await event.answer(text, show_alert=True)
                return
            except TelegramAPIError:
                pass  # answered already: say it in the chat instead
            if event.message is not None:
                await event.bot.send_message(event.message.chat.id, text)
        elif isinstance(event, Message):
            await event.answer(text)
    except TelegramAPIError:
        log.warning("could not tell the user that it was not saved")


KEEP_UPDATE_IDS = timedelta(days=7)


async def prune_processed_updates(session: AsyncSession, now: datetime) -> int:
    """Forget update ids older than a week: Telegram retries a webhook for hours, not days,
    and a table that only grows would slow every insert above."""
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.at < now - KEEP_UPDATE_IDS)
    )
    return result.rowcount or 0
