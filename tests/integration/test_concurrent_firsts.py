"""Things that must happen once however many arrive together (issue 8, items 5 and 10).

Each contender has its own session (its own connection and transaction). On PostgreSQL
all of them read before any writes (a barrier), which is the race check-then-write
loses; SQLite serialises writers (BEGIN IMMEDIATE), so there they simply queue.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.db.engine import session_factory
from bot.db.models import InviteKind, Staff, UserPref
from bot.services import onboarding, orgs, prefs
from bot.services.errors import ServiceError
from bot.services.members import Principal

NOW = datetime(2026, 7, 1, 8, tzinfo=UTC)
ROOT = Principal(telegram_id=1, is_superuser=True)


def _barrier(engine, parties: int):
    return asyncio.Barrier(parties) if engine.dialect.name == "postgresql" else None


async def test_four_accounts_opening_one_staff_invite_make_one_staff_member(engine):
    sessions = session_factory(engine)
    async with sessions() as session:
        city = await orgs.create_org(session, ROOT.actor, NOW, name="市委", kind="committee")
        invite = await onboarding.create_invite(session, ROOT, NOW, city.id, kind=InviteKind.staff)
        code = invite.code
        await session.commit()
    barrier = _barrier(engine, 4)

    async def open_it(telegram_id: int) -> str:
        async with sessions() as session:
            try:
                found, _ = await onboarding.open_invite(session, code, NOW)
                if barrier:
                    await barrier.wait()
                await onboarding.accept_staff_invite(session, NOW, found, telegram_id, "某人")
                await session.commit()
                return "staff"
            except ServiceError as err:
                await session.rollback()
                return err.code

    outcomes = await asyncio.gather(*(open_it(7000 + i) for i in range(4)))
    assert sorted(outcomes) == ["invite.revoked"] * 3 + ["staff"]
    async with sessions() as session:
        staff = (await session.execute(select(Staff.telegram_id))).scalars().all()
    assert len(staff) == 1 and staff[0] == 7000 + outcomes.index("staff")


async def test_a_new_users_first_two_updates_at_once_both_remember_the_language(engine):
    sessions = session_factory(engine)
    barrier = _barrier(engine, 2)

    async def first_update(locale: str) -> None:
        async with sessions() as session:
            # What LocaleMiddleware does for a user with no saved language.
            known = await prefs.saved_locale(session, 4242)
            if barrier:
                assert known is None  # both read before either writes
                await barrier.wait()
            await prefs.remember_locale(session, 4242, locale)
            await session.commit()

    await asyncio.gather(first_update("en"), first_update("zh_Hans"))
    async with sessions() as session:
        rows = (await session.execute(select(func.count()).select_from(UserPref))).scalar_one()
        assert rows == 1
        # A choice made later replaces the detected one; detecting again does not.
        await prefs.set_locale(session, Principal(telegram_id=4242), "en")
        await prefs.remember_locale(session, 4242, "zh_Hans")
        await session.commit()
        assert await prefs.saved_locale(session, 4242) == "en"
