"""“What is my grade?”: a member's own Vanguard Index result, for `/mygrade` and free text.

This is the one place the question is answered, so the Vanguard evaluation campaigns
can plug in here: `my_grade` returns None ("not yet evaluated this year") until a
campaign's result for the member has passed its public notice. A campaign module
fills it by returning a `MyGrade`; nothing else in the chat layer needs to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.errors import ServiceError
from bot.services.members import Principal


@dataclass(frozen=True)
class MyGrade:
    year: int
    grade: str  # a scoring.Grade value: excellent | qualified | basic | unqualified
    score: Decimal | None  # the Vanguard Index points, when the rubric scores them
    max_score: Decimal | None
    final: bool  # True once the public notice is over and the result stands


async def my_grade(session: AsyncSession, principal: Principal, year: int) -> MyGrade | None:
    """The member's result for `year`, or None while no evaluation has produced one."""
    if principal.member is None:
        raise ServiceError("month.no_branch")
    from sqlalchemy import select

    from bot.db.models import EvalCampaign, EvalResult, EvalStage
    from scoring import Grade

    # Once the public notice is over (waiting for approval, or final), the result stands
    # unless the superior changes it; a half-year rubric has two campaigns: the latest.
    row = (
        await session.execute(
            select(EvalCampaign.stage, EvalResult.grade, EvalResult.total)
            .join(EvalResult, EvalResult.campaign_id == EvalCampaign.id)
            .where(
                EvalResult.member_id == principal.member.id,
                EvalCampaign.period.startswith(f"{year:04d}"),
                EvalCampaign.stage.in_((EvalStage.approval.value, EvalStage.final.value)),
            )
            .order_by(EvalCampaign.period.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    stage, grade, total = row
    return MyGrade(
        year=year,
        grade=str(int(Grade.from_key(grade))),
        score=Decimal(total),
        max_score=Decimal(100),
        final=stage == EvalStage.final.value,
    )


@dataclass(frozen=True)
class MemberResultRow:
    """One member's result, as the ratings ledger's per-member sheet lists it."""

    branch: str
    name: str
    grade: str  # already in words
    score: Decimal | None


async def member_results(session: AsyncSession, period: str, roots: list) -> list[MemberResultRow]:
    """Members' published results for the year of `period` under `roots`; none until the
    Vanguard evaluations produce them (then the ledger grows a per-member sheet)."""
    return []
