"""Someone the bot could not reach (they had blocked it) is reachable again once they write."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import outbox
from bot.services.members import Principal


async def reachable_again(session: AsyncSession, principal: Principal) -> None:
    """Called by `PrincipalMiddleware` for a principal read as unreachable: the
    principal's query says whether they were, so no query of its own otherwise."""
    await outbox.clear_unreachable(session, principal.telegram_id)
    principal.unreachable = False
