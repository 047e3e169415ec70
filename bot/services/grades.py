"""Published Vanguard results: a member's own (`/mygrade`, free text) and a subtree's
(the ratings ledger's per-member sheet).

A result counts once its campaign's public notice is over (`PUBLISHED`): before that
`my_grade` says this year's is not yet published (with the last approved one, if any)
and the ledger lists nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import EvalCampaign, EvalResult, EvalStage, Member, Organisation
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.periods import _under

# Once the public notice is over (waiting for approval, or final) a result stands
# unless the superior changes it.
PUBLISHED = (EvalStage.approval.value, EvalStage.final.value)


@dataclass(frozen=True)
class MyGrade:
    year: int  # the campaign's year: the year asked for, or an earlier one (see my_grade)
    grade: str  # a scoring.Grade value: excellent | qualified | basic | unqualified
    score: Decimal | None  # the Vanguard Index points, when the rubric scores them
    max_score: Decimal | None
    final: bool  # True once the public notice is over and the result stands


async def my_grade(session: AsyncSession, principal: Principal, year: int) -> MyGrade | None:
    """The member's result for `year` once published; until then their latest approved
    result of an earlier year (a year's evaluation ends early in the next, so for most
    of a year that is the grade that stands); None if neither exists."""
    if principal.member is None:
        raise ServiceError("month.no_branch")
    from scoring import Grade

    # A half-year rubric has two campaigns: the latest. Periods sort as text (2025,
    # 2025-H2, 2026): this year's published one comes before any earlier year's.
    row = (
        await session.execute(
            select(EvalCampaign.period, EvalCampaign.stage, EvalResult.grade, EvalResult.total)
            .join(EvalResult, EvalResult.campaign_id == EvalCampaign.id)
            .where(
                EvalResult.member_id == principal.member.id,
                or_(
                    and_(
                        EvalCampaign.period.startswith(f"{year:04d}"),
                        EvalCampaign.stage.in_(PUBLISHED),
                    ),
                    and_(
                        EvalCampaign.period < f"{year:04d}",
                        EvalCampaign.stage == EvalStage.final.value,
                    ),
                ),
            )
            .order_by(EvalCampaign.period.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    period, stage, grade, total = row
    return MyGrade(
        year=int(period[:4]),
        grade=str(int(Grade.from_key(grade))),
        score=Decimal(total),
        max_score=Decimal(100),
        final=stage == EvalStage.final.value,
    )


@dataclass(frozen=True)
class MemberResultRow:
    """One member's published result, as the ratings ledger's per-member sheet lists it."""

    path: str  # the branch's, for the sub-committee above it
    branch: str
    name: str
    category: str
    period: str  # the campaign's: 2026, or 2026-H1 for a half-year rubric
    grade: str  # a scoring.Grade key
    score: Decimal
    final: bool  # approved by the superior; False: the notice is over, approval pending


async def member_results(session: AsyncSession, period: str, roots: list) -> list[MemberResultRow]:
    """Members' results of the year of `period` and the year before under `roots`
    (None: the whole tree), by branch path, campaign and name: one query. A year's
    evaluation ends early in the next, so for most of a year the results that stand
    are the last year's; the sheet says which campaign each row comes from.

    Only results that have been published and whose objection window is over (the
    campaign waits for approval, or is final), like `my_grade`: a branch still
    reviewing has nothing to show yet. Only the result itself: never a vote count,
    a self-assessment or the branch's notes."""
    years = (period[:4], f"{int(period[:4]) - 1:04d}")
    stmt = (
        select(
            Organisation.path,
            Organisation.name,
            Member.name,
            Member.category,
            EvalCampaign.period,
            EvalCampaign.stage,
            EvalResult.grade,
            EvalResult.total,
        )
        .join(EvalCampaign, EvalCampaign.id == EvalResult.campaign_id)
        .join(Organisation, Organisation.id == EvalCampaign.org_id)
        .join(Member, Member.id == EvalResult.member_id)
        .where(
            EvalCampaign.period.in_([f"{y}{half}" for y in years for half in ("", "-H1", "-H2")]),
            EvalCampaign.stage.in_(PUBLISHED),
        )
        .order_by(Organisation.path, EvalCampaign.period, Member.name, Member.id)
    )
    scope = _under(list(roots))
    if scope is not None:
        stmt = stmt.where(scope)
    final = EvalStage.final.value  # looked up once, not per row
    return [
        MemberResultRow(path, branch, name, category, p, grade, Decimal(total), stage == final)
        for path, branch, name, category, p, stage, grade, total in (await session.execute(stmt))
    ]
