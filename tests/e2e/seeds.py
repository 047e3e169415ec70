"""Data the end-to-end stories start from, written through the services."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Meeting, Organisation, Staff
from bot.services import members, orgs
from bot.services.members import Principal
from tests.e2e.conftest import SUPERUSER

ROOT = Principal(telegram_id=SUPERUSER, is_superuser=True)


async def city(session: AsyncSession, now: datetime, staff: tuple[int, str] | None = None):
    """The city committee, with a staff member (Telegram id, name) if given."""
    found = await orgs.create_org(session, ROOT.actor, now, name="冷水江市委", kind="committee")
    if staff is not None:
        session.add(Staff(org_id=found.id, telegram_id=staff[0], name=staff[1], created_at=now))
    return found


async def village_branch(
    session: AsyncSession, now: datetime, parent: Organisation, secretary_tg: int
) -> Organisation:
    """红旗村党支部 under `parent`, its secretary 李书记 linked to `secretary_tg`."""
    branch = await orgs.create_org(
        session,
        ROOT.actor,
        now,
        name="红旗村党支部",
        kind="branch",
        parent_id=parent.id,
        domain="village",
    )
    secretary = await members.add_member(
        session, ROOT.actor, now, org_id=branch.id, name="李书记", category="rural_community"
    )
    await members.set_role(session, ROOT.actor, now, secretary, "secretary")
    await members.link_telegram(session, ROOT.actor, now, secretary, secretary_tg)
    return branch


async def year_of_meetings(session: AsyncSession, now: datetime, branch_id: int, present: int):
    """A theme party day and a committee meeting on the 10th of January to October 2026,
    `present` of `present` there, so the branch loses no points to the deduction sheet."""
    for month in range(1, 11):
        for kind in ("theme_day", "committee"):
            session.add(
                Meeting(
                    org_id=branch_id,
                    kind=kind,
                    held_on=date(2026, month, 10),
                    topic=f"{kind} {month}",
                    topic_key=f"{kind} {month}",
                    attended=present,
                    expected=present,
                    counts=True,
                    created_at=now,
                    updated_at=now,
                )
            )
    await session.flush()
