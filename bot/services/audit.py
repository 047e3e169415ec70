"""The audit log: who changed what, when, with old and new values.

SQLAlchemy is imported by the functions that write or read through it: the command
line's lean `org add` builds its audit row with `row` and writes it without the ORM.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Actor:
    """Who acts: a Telegram user, or a command-line operator (telegram_id None)."""

    telegram_id: int | None
    label: str

    @classmethod
    def cli(cls, what: str = "cli") -> Actor:
        return cls(None, what)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed."""
    return {
        k: [_plain(before.get(k)), _plain(after.get(k))]
        for k in after
        if _plain(before.get(k)) != _plain(after.get(k))
    }


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


async def record(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    entity: str,
    entity_id: int,
    action: str,
    changes: Mapping[str, Any],
) -> None:
    await record_many(session, actor, now, [(entity, entity_id, action, changes)])


async def record_many(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    rows: Iterable[tuple[str, int, str, Mapping[str, Any]]],
) -> None:
    """One multi-row INSERT, so a 26,000-row import writes its audit in one go."""
    from sqlalchemy import insert

    from bot.db.models import AuditLog

    values = [row(actor, now, *r) for r in rows]
    if values:
        await session.execute(insert(AuditLog), values)


def row(
    actor: Actor,
    now: datetime,
    entity: str,
    entity_id: int,
    action: str,
    changes: Mapping[str, Any],
) -> dict[str, Any]:
    """The columns of one audit row (`id` aside), whichever way it is written."""
    return {
        "at": now,
        "actor_id": actor.telegram_id,
        "actor": actor.label[:100],
        "entity": entity,
        "entity_id": entity_id,
        "action": action,
        "changes": dict(changes),
    }


async def role_was_taken(session: AsyncSession, member_id: int) -> bool:
    """Whether this member once held a role (secretary, organising member) they no longer
    have: an old button of theirs is then explained as a change of role, not a mystery."""
    from sqlalchemy import select

    from bot.db.models import AuditLog

    stmt = (
        select(AuditLog.id)
        .where(
            AuditLog.entity == "member",
            AuditLog.entity_id == member_id,
            AuditLog.action == "role",
        )
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None


async def staff_was_removed(session: AsyncSession, telegram_id: int) -> bool:
    """Whether this Telegram account once acted for a committee and was removed: an old
    button or command of theirs is then explained as a change of role."""
    from sqlalchemy import select

    from bot.db.models import AuditLog

    # JSON path read as a float: exact for Telegram ids (< 2**53) on SQLite and on
    # PostgreSQL, where an INTEGER cast would overflow for ids past 2**31.
    removed = AuditLog.changes[("telegram_id", 0)].as_float() == telegram_id
    stmt = (
        select(AuditLog.id)
        .where(AuditLog.entity == "staff", AuditLog.action == "delete", removed)
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None
