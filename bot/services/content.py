"""The month's education content: videos, model micro lessons and the practice prompt."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import EducationContent, Organisation
from bot.services.orgs import ancestor_ids


def _domains(value: str) -> set[str]:
    return {d for d in value.split(",") if d}


def is_offered_to(content: EducationContent, branch: Organisation) -> bool:
    """Content reaches the branches under its committee, in the domains it names."""
    if content.org_id not in ancestor_ids(branch):
        return False
    domains = _domains(content.domains)
    return not domains or branch.domain in domains


async def content_for(
    session: AsyncSession, branch: Organisation, month: str
) -> list[EducationContent]:
    """What the branch's committees offer it for `month` (one query), by kind."""
    domain = branch.domain or ""
    rows = await session.execute(
        select(EducationContent)
        .where(
            EducationContent.month == month,
            EducationContent.org_id.in_(ancestor_ids(branch)),
            or_(
                EducationContent.domains == "",
                # Comma-separated names; bracketing both sides matches whole names only.
                ("," + EducationContent.domains + ",").contains(f",{domain},"),
            ),
        )
        .order_by(EducationContent.kind, EducationContent.id)
    )
    return list(rows.scalars())
