"""What follows each grade, once the superior has approved: the commendation list of
excellent members, paired mentoring for basically qualified and unqualified members,
and the disposal procedure for unqualified members as a checklist.

Every decision here carries what the person saw (the mentor shown, whether a step was
shown ticked); when the record moved since, the decision is refused as stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    EvalCampaign,
    EvalCheckin,
    EvalResult,
    EvalStage,
    Member,
    Organisation,
)
from bot.services.errors import ServiceError
from bot.services.evaluation import (
    ELIGIBLE,
    audit_result,
    led_campaign,
    managed_campaign,
    require_campaign,
    require_stage,
    under_roots,
)
from bot.services.members import Principal
from bot.services.paging import Page, page_of, paginate
from scoring import Grade

# Paired mentoring (结对帮扶): the members the branch helps to do better next time.
MENTORED = (Grade.BASICALLY_QUALIFIED.key, Grade.UNQUALIFIED.key)
# The steps of the disposal procedure for an unqualified member (不合格党员处置程序).
DISPOSAL_STEPS = ("talk", "deadline_set", "review_again", "decision", "reported")


# ---------------------------------------------------------------- paired mentoring


@dataclass(frozen=True)
class MenteeLine:
    member_id: int
    name: str
    grade: str
    mentor_id: int | None
    mentor_name: str | None
    last_checkin: str | None = None  # the latest month either side said they met


async def _final_led(session: AsyncSession, principal: Principal, campaign_id: int):
    campaign, org = await led_campaign(session, principal, campaign_id)
    require_stage(campaign, EvalStage.final.value)
    return campaign, org


async def mentees(
    session: AsyncSession, principal: Principal, campaign_id: int, page: int = 0
) -> tuple[EvalCampaign, Page]:
    """The branch's members to be mentored after an approved evaluation, with their
    mentor if one is assigned (the branch's leaders and the superior's staff)."""
    campaign, _org = await _final_led(session, principal, campaign_id)
    mentor = Member.__table__.alias("mentor")
    rows = await session.execute(
        select(
            EvalResult.member_id, Member.name, EvalResult.grade, EvalResult.mentor_id, mentor.c.name
        )
        .join(Member, Member.id == EvalResult.member_id)
        .outerjoin(mentor, mentor.c.id == EvalResult.mentor_id)
        .where(EvalResult.campaign_id == campaign.id, EvalResult.grade.in_(MENTORED))
        .order_by(Member.name, Member.id)
    )
    met = await checkins_of(session, campaign.id)
    lines = [MenteeLine(*r, last_checkin=met.get(r[0])) for r in rows.all()]
    return campaign, page_of(lines, page)


async def _mentee(session: AsyncSession, campaign: EvalCampaign, member_id: int):
    row = await session.get(EvalResult, (campaign.id, member_id))
    member = await session.get(Member, member_id)
    if row is None or member is None:
        raise ServiceError("member.not_found")
    if row.grade not in MENTORED:
        raise ServiceError("eval.no_mentoring")
    return row, member


async def mentor_choices(
    session: AsyncSession, principal: Principal, campaign_id: int, member_id: int, page: int = 0
) -> tuple[EvalResult, Member, Page]:
    """Who may mentor `member_id`: the branch's members taking part (active or mobile),
    not the member, and not someone who is being mentored themselves."""
    campaign, org = await _final_led(session, principal, campaign_id)
    row, member = await _mentee(session, campaign, member_id)
    helped = select(EvalResult.member_id).where(
        EvalResult.campaign_id == campaign.id, EvalResult.grade.in_(MENTORED)
    )
    people = await session.execute(
        select(Member.id, Member.name)
        .where(
            Member.org_id == org.id,
            Member.status.in_(ELIGIBLE),
            Member.id != member.id,
            Member.id.not_in(helped),
        )
        .order_by(Member.name, Member.id)
    )
    return row, member, page_of([tuple(p) for p in people.all()], page)


async def check_pair(
    session: AsyncSession, principal: Principal, campaign_id: int, member_id: int, mentor_id: int
) -> tuple[EvalCampaign, EvalResult, Member, Member]:
    """Whether `mentor_id` may mentor `member_id`: asked for the summary before saving,
    and again by the save."""
    campaign, org = await _final_led(session, principal, campaign_id)
    row, member = await _mentee(session, campaign, member_id)
    mentor = await session.get(Member, mentor_id)
    if (
        mentor is None
        or mentor.org_id != org.id
        or mentor.status not in ELIGIBLE
        or mentor.id == member.id
    ):
        raise ServiceError("member.not_found")
    helped = await session.get(EvalResult, (campaign.id, mentor.id))
    if helped is not None and helped.grade in MENTORED:
        raise ServiceError("eval.mentor_mentored")
    return campaign, row, member, mentor


async def assign_mentor(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    campaign_id: int,
    member_id: int,
    mentor_id: int,
    shown: int,
) -> tuple[EvalResult, Member, Member]:
    """Pair `member_id` with a mentor. `shown` is the mentor the person saw (0: none):
    if someone paired the member since, the choice is refused as stale."""
    campaign, row, member, mentor = await check_pair(
        session, principal, campaign_id, member_id, mentor_id
    )
    if (row.mentor_id or 0) != shown:
        raise ServiceError("record.stale")
    before, row.mentor_id = row.mentor_id, mentor.id
    await session.flush()
    await audit_result(
        session, principal, now, campaign.id, member.id, "mentor", {"mentor": [before, mentor.id]}
    )
    return row, member, mentor


# ---------------------------------------------------------------- monthly check-ins


@dataclass(frozen=True)
class Pair:
    campaign_id: int
    member: Member  # the one mentored
    mentor: Member
    org: Organisation


async def current_pairs(session: AsyncSession) -> list[Pair]:
    """Every pairing of each branch's latest approved evaluation (a newer approved one
    ends it): who the monthly check-in prompts go to. Three queries however many."""
    newer = EvalCampaign.__table__.alias("newer")
    rows = (
        await session.execute(
            select(
                EvalResult.campaign_id,
                EvalResult.member_id,
                EvalResult.mentor_id,
                EvalCampaign.org_id,
            )
            .join(EvalCampaign, EvalCampaign.id == EvalResult.campaign_id)
            .where(
                EvalCampaign.stage == EvalStage.final.value,
                EvalResult.mentor_id.is_not(None),
                ~exists().where(
                    newer.c.org_id == EvalCampaign.org_id,
                    newer.c.stage == EvalStage.final.value,
                    newer.c.period > EvalCampaign.period,
                ),
            )
            .order_by(EvalCampaign.org_id, EvalResult.member_id)
        )
    ).all()
    people_ids = {r.member_id for r in rows} | {r.mentor_id for r in rows}
    people = {
        m.id: m
        for m in (await session.execute(select(Member).where(Member.id.in_(people_ids)))).scalars()
    }
    orgs = {
        o.id: o
        for o in (
            await session.execute(
                select(Organisation).where(Organisation.id.in_({r.org_id for r in rows}))
            )
        ).scalars()
    }
    return [
        Pair(r.campaign_id, people[r.member_id], people[r.mentor_id], orgs[r.org_id])
        for r in rows
        if people[r.member_id].status in ELIGIBLE and people[r.mentor_id].status in ELIGIBLE
    ]


async def record_checkin(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    today: date,
    campaign_id: int,
    member_id: int,
    month: str,
) -> bool:
    """One side of a pairing says they met in `month`: the mentored member or the
    mentor, nobody else, and not for a month still to come. False if already said."""
    campaign, _org = await require_campaign(session, campaign_id)
    require_stage(campaign, EvalStage.final.value)
    row = await session.get(EvalResult, (campaign.id, member_id))
    if row is None or row.mentor_id is None:
        raise ServiceError("eval.no_mentoring")
    me = principal.member
    if me is None or me.id not in (row.member_id, row.mentor_id):
        raise ServiceError("access.denied")
    if month > f"{today.year:04d}-{today.month:02d}":
        raise ServiceError("stale")
    values = {
        "campaign_id": campaign.id,
        "member_id": member_id,
        "month": month,
        "by_mentor": me.id == row.mentor_id,
        "at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(EvalCheckin.__table__).values(**values).on_conflict_do_nothing()
    result = await session.execute(stmt)
    return bool(result.rowcount)


async def checkins_of(session: AsyncSession, campaign_id: int) -> dict[int, str]:
    """Per mentored member: the latest month either side confirmed."""
    rows = await session.execute(
        select(EvalCheckin.member_id, func.max(EvalCheckin.month))
        .where(EvalCheckin.campaign_id == campaign_id)
        .group_by(EvalCheckin.member_id)
    )
    return dict(rows.all())


# ---------------------------------------------------------------- the superior's lists


def _final_under(principal: Principal, roots: Sequence[Organisation | None], period: str):
    return (
        EvalCampaign.period == period,
        EvalCampaign.stage == EvalStage.final.value,
        under_roots(principal, roots),
    )


async def after_counts(
    session: AsyncSession, principal: Principal, roots: Sequence[Organisation | None], period: str
) -> dict[str, int]:
    """How many members of approved campaigns under `roots` have each grade."""
    rows = await session.execute(
        select(EvalResult.grade, func.count())
        .join(EvalCampaign, EvalCampaign.id == EvalResult.campaign_id)
        .join(Organisation, Organisation.id == EvalCampaign.org_id)
        .where(*_final_under(principal, roots, period))
        .group_by(EvalResult.grade)
    )
    return dict(rows.all())


@dataclass(frozen=True)
class Commended:
    branch: str
    name: str
    category: str
    total: Decimal
    priority: bool  # still marked for priority recommendation (see priority_of)


async def commendation_list(
    session: AsyncSession, principal: Principal, roots: Sequence[Organisation | None], period: str
) -> list[Commended]:
    """Excellent members of the period's approved campaigns under `roots`, branch by
    branch, highest Vanguard Index first: the list the superior exports for commendation."""
    rows = await session.execute(
        select(
            Organisation.name,
            Member.name,
            Member.category,
            EvalResult.total,
            and_(
                _latest_final(),
                Member.org_id == EvalCampaign.org_id,
                Member.status.in_(ELIGIBLE),
            ),
        )
        .join(EvalCampaign, EvalCampaign.id == EvalResult.campaign_id)
        .join(Organisation, Organisation.id == EvalCampaign.org_id)
        .join(Member, Member.id == EvalResult.member_id)
        .where(*_final_under(principal, roots, period), EvalResult.grade == Grade.EXCELLENT.key)
        .order_by(Organisation.path, EvalResult.total.desc(), Member.name, Member.id)
    )
    return [Commended(*r[:4], bool(r[4])) for r in rows.all()]


# ---------------------------------------------------------------- priority for recommendation
#
# An excellent member of an approved evaluation is marked 优先推荐: the branch and the
# superior recommend them first (for commendation, as a candidate, for the reserve of
# cadres). The mark is the approval itself, not a separate record: it holds while the
# branch's latest approved evaluation graded them excellent and they are still a member
# of the branch taking part (active or mobile), and ends when a newer evaluation of the
# branch is approved or they leave.


def _latest_final(campaign=EvalCampaign):
    newer = EvalCampaign.__table__.alias("newer_final")
    return and_(
        campaign.stage == EvalStage.final.value,
        ~exists().where(
            newer.c.org_id == campaign.org_id,
            newer.c.stage == EvalStage.final.value,
            newer.c.period > campaign.period,
        ),
    )


async def priority_of(session: AsyncSession, member: Member) -> str | None:
    """The period of the evaluation that marked `member` for priority recommendation,
    or None if they carry no mark."""
    if member.status not in ELIGIBLE:
        return None
    return await session.scalar(
        select(EvalCampaign.period)
        .join(EvalResult, EvalResult.campaign_id == EvalCampaign.id)
        .where(
            EvalCampaign.org_id == member.org_id,
            EvalResult.member_id == member.id,
            EvalResult.grade == Grade.EXCELLENT.key,
            _latest_final(),
        )
        .limit(1)
    )


@dataclass(frozen=True)
class Marked:
    branch: str
    name: str
    period: str
    total: Decimal


async def priority_page(
    session: AsyncSession,
    principal: Principal,
    roots: Sequence[Organisation | None],
    page: int = 0,
) -> Page:
    """One page of the members under `roots` marked for priority recommendation, branch
    by branch, highest Vanguard Index first (the superior's staff)."""
    stmt = (
        select(Organisation.name, Member.name, EvalCampaign.period, EvalResult.total)
        .join(EvalCampaign, EvalCampaign.id == EvalResult.campaign_id)
        .join(Organisation, Organisation.id == EvalCampaign.org_id)
        .join(Member, Member.id == EvalResult.member_id)
        .where(
            under_roots(principal, roots),
            EvalResult.grade == Grade.EXCELLENT.key,
            _latest_final(),
            Member.org_id == EvalCampaign.org_id,
            Member.status.in_(ELIGIBLE),
        )
        .order_by(Organisation.path, EvalResult.total.desc(), Member.name, Member.id)
    )
    found = await paginate(session, stmt, page, rows=True)
    return Page([Marked(*r) for r in found.items], found.page, found.total, found.size)


# ---------------------------------------------------------------- the disposal checklist


@dataclass(frozen=True)
class Unqualified:
    campaign_id: int
    member_id: int
    branch: str
    name: str
    steps: dict


def _unqualified(*where):
    return (
        select(
            EvalCampaign.id, Member.id, Organisation.name, Member.name, EvalResult.disposal_steps
        )
        .join(EvalCampaign, EvalCampaign.id == EvalResult.campaign_id)
        .join(Organisation, Organisation.id == EvalCampaign.org_id)
        .join(Member, Member.id == EvalResult.member_id)
        .where(*where, EvalResult.grade == Grade.UNQUALIFIED.key)
        .order_by(Organisation.path, Member.name, Member.id)
    )


async def _unqualified_page(session: AsyncSession, stmt, page: int) -> Page:
    found = await paginate(session, stmt, page, rows=True)
    return Page([Unqualified(*r) for r in found.items], found.page, found.total, found.size)


async def unqualified_page(
    session: AsyncSession,
    principal: Principal,
    roots: Sequence[Organisation | None],
    period: str,
    page: int = 0,
) -> Page:
    """One page of the unqualified members of the period's approved campaigns under
    `roots`, with the disposal steps done so far (the superior's staff)."""
    stmt = _unqualified(*_final_under(principal, roots, period))
    return await _unqualified_page(session, stmt, page)


async def branch_unqualified(
    session: AsyncSession, principal: Principal, campaign_id: int, page: int = 0
) -> tuple[EvalCampaign, Page]:
    """One page of the unqualified members of one approved campaign, with the disposal
    steps done so far: for the branch's leaders to follow (the staff tick them)."""
    campaign, _org = await _final_led(session, principal, campaign_id)
    stmt = _unqualified(EvalResult.campaign_id == campaign.id)
    return campaign, await _unqualified_page(session, stmt, page)


async def has_unqualified(session: AsyncSession, campaign_id: int) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    EvalResult.campaign_id == campaign_id,
                    EvalResult.grade == Grade.UNQUALIFIED.key,
                )
            )
        )
    )


async def disposal_card(
    session: AsyncSession,
    principal: Principal,
    campaign_id: int,
    member_id: int,
    write: bool = False,
) -> tuple[EvalCampaign, Organisation, Member, EvalResult]:
    """An unqualified member's checklist: read by the branch's leaders and the superior's
    staff, written (`write`) by the staff only."""
    require = managed_campaign if write else led_campaign
    campaign, org = await require(session, principal, campaign_id)
    require_stage(campaign, EvalStage.final.value)
    row = await session.get(EvalResult, (campaign.id, member_id))
    member = await session.get(Member, member_id)
    if row is None or member is None or row.grade != Grade.UNQUALIFIED.key:
        raise ServiceError("member.not_found")
    return campaign, org, member, row


async def set_disposal_step(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    today: date,
    campaign_id: int,
    member_id: int,
    step: str,
    done: bool,
) -> EvalResult:
    """Tick a step of the disposal procedure (kept with the day it was done) or untick
    it: the superior's staff. A press that would set what is already set was made on
    an old view: refused as stale."""
    if step not in DISPOSAL_STEPS:
        raise ServiceError("eval.step_unknown")
    campaign, _org, _member, row = await disposal_card(
        session, principal, campaign_id, member_id, write=True
    )
    steps = dict(row.disposal_steps)
    if bool(steps.get(step)) == done:
        raise ServiceError("record.stale")
    if done:
        steps[step] = today.isoformat()
    else:
        steps.pop(step)
    row.disposal_steps = steps
    await session.flush()
    await audit_result(
        session, principal, now, campaign.id, member_id, "disposal", {"step": step, "done": done}
    )
    return row
