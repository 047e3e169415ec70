"""Language preference for members and for people who are not members yet."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Member, UserPref
from bot.i18n import SUPPORTED
from bot.services.errors import ServiceError
from bot.services.members import Principal


async def saved_locale(session: AsyncSession, telegram_id: int) -> str | None:
    pref = await session.get(UserPref, telegram_id)
    return pref.locale if pref else None


def _insert(session: AsyncSession):
    # One statement, not check-then-insert: a new user's first two updates (two chats)
    # are handled at once, and both would otherwise insert the same key.
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(UserPref)


async def remember_locale(session: AsyncSession, telegram_id: int, locale: str) -> None:
    """Store a detected language for someone who has not chosen one."""
    await session.execute(
        _insert(session)
        .values(telegram_id=telegram_id, locale=locale)
        .on_conflict_do_nothing(index_elements=["telegram_id"])
    )


async def set_locale(session: AsyncSession, principal: Principal, locale: str) -> None:
    if locale not in SUPPORTED:
        raise ServiceError("locale.unknown")
    if principal.member is not None:
        principal.member.locale = locale
    await session.execute(
        _insert(session)
        .values(telegram_id=principal.telegram_id, locale=locale)
        .on_conflict_do_update(index_elements=["telegram_id"], set_={"locale": locale})
    )
    await session.flush()


async def locales_for(
    session: AsyncSession, telegram_ids: list[int], default: str
) -> dict[int, str]:
    """Each person's language for messages sent to them unprompted, in two queries."""
    found = {i: default for i in telegram_ids}
    if not telegram_ids:
        return found
    prefs = await session.execute(
        select(UserPref.telegram_id, UserPref.locale).where(UserPref.telegram_id.in_(telegram_ids))
    )
    found.update(dict(prefs.all()))
    member_locales = await session.execute(
        select(Member.telegram_id, Member.locale).where(
            Member.telegram_id.in_(telegram_ids), Member.locale.is_not(None)
        )
    )
    found.update(dict(member_locales.all()))
    return found
