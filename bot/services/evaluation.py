"""Democratic evaluation campaigns: stages, deadlines, self-assessments, the staff's view.

A campaign moves one stage at a time (self-assessment → vote → branch review → public
notice → superior approval → final); only the superior's staff may move it back, with
a reason, and never back into a vote that has been counted (a second count after more
ballots would reveal the ballots in between). The vote itself is in `ballots`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, func, insert, literal, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    EvalCampaign,
    EvalSelf,
    EvalStage,
    EvalVoter,
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
)
from bot.services import audit
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.orgs import require_org
from bot.services.paging import PAGE_SIZE, Page, page_of, paginate
from scoring import VanguardRubric
from scoring.periods import Period

STAGES = tuple(EvalStage)
# Days each stage lasts when nobody says otherwise; the notice is the objection window.
STAGE_DAYS = {
    EvalStage.self_assessment: 14,
    EvalStage.vote: 7,
    EvalStage.review: 7,
    EvalStage.approval: 7,
}
DEFAULT_OBJECTION_DAYS = 5
DEFAULT_MIN_VOTERS = 5
MAX_SUMMARY = 2000
# Who takes part: members who can act in private chat; on-leave members and those who
# left are neither voters nor evaluated this time.
ELIGIBLE = (MemberStatus.active.value, MemberStatus.mobile.value)
_DUE = {
    EvalStage.self_assessment: "self_due",
    EvalStage.vote: "vote_due",
    EvalStage.review: "review_due",
    EvalStage.notice: "notice_due",
    EvalStage.approval: "approval_due",
}


def stage_index(stage: str) -> int:
    return STAGES.index(EvalStage(stage))


def due_of(campaign: EvalCampaign, stage: str | None = None) -> date | None:
    """The last day of `stage` (the campaign's current one by default); None when final."""
    key = _DUE.get(EvalStage(stage or campaign.stage))
    return getattr(campaign, key) if key else None


def is_overdue(campaign: EvalCampaign, today: date) -> bool:
    due = due_of(campaign)
    return due is not None and today > due


def deadlines(start: date, objection_days: int = DEFAULT_OBJECTION_DAYS) -> dict[str, date]:
    """Each stage's last day, one after the other from `start`."""
    out, day = {}, start
    for stage in STAGES[:-1]:
        days = objection_days if stage is EvalStage.notice else STAGE_DAYS[stage]
        day = day + timedelta(days=days)
        out[_DUE[stage]] = day
    return out


def period_of(rubric: VanguardRubric, today: date) -> str:
    """The period a campaign opened today evaluates: the current year or half-year."""
    if rubric.period is Period.HALF:
        return f"{today.year:04d}-H{(today.month - 1) // 6 + 1}"
    return f"{today.year:04d}"


def _check_settings(min_voters: int, objection_days: int) -> None:
    if not 1 <= min_voters <= 1000:
        raise ServiceError("eval.min_voters_invalid")
    if not 1 <= objection_days <= 60:
        raise ServiceError("eval.objection_days_invalid")


async def require_campaign(
    session: AsyncSession, campaign_id: int
) -> tuple[EvalCampaign, Organisation]:
    row = (
        await session.execute(
            select(EvalCampaign, Organisation)
            .join(Organisation, Organisation.id == EvalCampaign.org_id)
            .where(EvalCampaign.id == campaign_id)
        )
    ).first()
    if row is None:
        raise ServiceError("eval.not_found")
    return row[0], row[1]


async def require_campaign_if(
    session: AsyncSession, campaign_id: int, allowed: Callable[[Organisation], bool]
) -> tuple[EvalCampaign, Organisation]:
    """The campaign and its branch, if `allowed(branch)` (one of `Principal`'s checks)."""
    campaign, org = await require_campaign(session, campaign_id)
    if not allowed(org):
        raise ServiceError("access.denied")
    return campaign, org


async def visible_campaign(
    session: AsyncSession, principal: Principal, campaign_id: int
) -> tuple[EvalCampaign, Organisation]:
    """A campaign of the principal's own branch, or one they oversee."""
    return await require_campaign_if(session, campaign_id, principal.can_see)


async def led_campaign(
    session: AsyncSession, principal: Principal, campaign_id: int
) -> tuple[EvalCampaign, Organisation]:
    """A campaign the principal leads (secretary, organising member) or oversees."""
    return await require_campaign_if(session, campaign_id, principal.can_lead)


async def managed_campaign(
    session: AsyncSession, principal: Principal, campaign_id: int
) -> tuple[EvalCampaign, Organisation]:
    """A campaign the principal oversees as the superior's staff."""
    return await require_campaign_if(session, campaign_id, principal.can_manage)


def require_stage(campaign: EvalCampaign, stage: str) -> None:
    check_stage(campaign.stage, stage)


def check_stage(current: str, stage: str) -> None:
    """`current` (a campaign's stage, read as a value) is `stage`."""
    if current != stage:
        raise ServiceError("eval.wrong_stage")


async def open_campaign(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    today: date,
    branch_id: int,
    period: str,
    *,
    min_voters: int = DEFAULT_MIN_VOTERS,
    objection_days: int = DEFAULT_OBJECTION_DAYS,
) -> EvalCampaign:
    """Open one branch's campaign (its secretary or organising member, or staff)."""
    _check_settings(min_voters, objection_days)
    org = await require_org(session, branch_id)
    if org.kind != OrgKind.branch:
        raise ServiceError("member.org_not_branch")
    if not principal.can_lead(org):
        raise ServiceError("access.denied")
    taken = await session.scalar(
        select(EvalCampaign.id).where(EvalCampaign.org_id == org.id, EvalCampaign.period == period)
    )
    if taken is not None:
        raise ServiceError("eval.exists", period=period)
    campaign = EvalCampaign(
        org_id=org.id,
        period=period,
        stage=EvalStage.self_assessment.value,
        min_voters=min_voters,
        created_by=principal.telegram_id,
        created_at=now,
        updated_at=now,
        **deadlines(today, objection_days),
    )
    session.add(campaign)
    await session.flush()
    await audit.record(
        session, principal.actor, now, "eval_campaign", campaign.id, "open", {"period": period}
    )
    return campaign


async def open_for_subtree(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    today: date,
    root: Organisation,
    period: str,
    *,
    min_voters: int = DEFAULT_MIN_VOTERS,
    objection_days: int = DEFAULT_OBJECTION_DAYS,
) -> int:
    """Open the period's campaign for every branch under `root` that has none: one
    INSERT … SELECT, however many branches. Returns how many were opened."""
    _check_settings(min_voters, objection_days)
    if not principal.can_manage(root):
        raise ServiceError("access.denied")
    due = deadlines(today, objection_days)
    fixed = {
        "period": period,
        "stage": EvalStage.self_assessment.value,
        "min_voters": min_voters,
        "version": 1,
        "created_by": principal.telegram_id,
        "created_at": now,
        "updated_at": now,
        **due,
    }
    columns = ["org_id", *fixed]
    table = EvalCampaign.__table__
    source = select(
        Organisation.id,
        *(literal(value, type_=table.c[name].type) for name, value in fixed.items()),
    ).where(
        Organisation.kind == OrgKind.branch.value,
        Organisation.path.startswith(root.path, autoescape=True),
        ~exists().where(EvalCampaign.org_id == Organisation.id, EvalCampaign.period == period),
    )
    result = await session.execute(insert(EvalCampaign).from_select(columns, source))
    opened = result.rowcount or 0
    await audit.record(
        session,
        principal.actor,
        now,
        "eval_campaign",
        root.id,
        "open_subtree",
        {"period": period, "opened": opened},
    )
    return opened


async def eligible_members(session: AsyncSession, branch_id: int) -> list[Member]:
    rows = await session.execute(
        select(Member)
        .where(Member.org_id == branch_id, Member.status.in_(ELIGIBLE))
        .order_by(Member.name, Member.id)
    )
    return list(rows.scalars())


async def latest_campaign(session: AsyncSession, branch_id: int) -> EvalCampaign | None:
    """The branch's campaign still running, else its most recent one."""
    rows = await session.execute(
        select(EvalCampaign)
        .where(EvalCampaign.org_id == branch_id)
        .order_by((EvalCampaign.stage == EvalStage.final.value), EvalCampaign.period.desc())
        .limit(1)
    )
    return rows.scalars().first()


async def my_campaign(session: AsyncSession, principal: Principal) -> EvalCampaign:
    if principal.member is None or principal.branch is None:
        raise ServiceError("eval.no_branch")
    campaign = await latest_campaign(session, principal.branch.id)
    if campaign is None:
        raise ServiceError("eval.none_open")
    return campaign


# ---------------------------------------------------------------- moving between stages


async def advance(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    today: date,
    campaign_id: int,
    from_stage: str,
    rubric: VanguardRubric,
) -> EvalCampaign:
    """Close `from_stage` and open the next. `from_stage` is what the person saw: a
    stale button (the stage has moved since) is refused, so nothing is skipped."""
    from bot.services import ballots, eval_review

    campaign, org = await require_campaign(session, campaign_id)
    if from_stage not in {s.value for s in STAGES} or campaign.stage != from_stage:
        raise ServiceError("eval.wrong_stage")
    stage = EvalStage(from_stage)
    if stage is EvalStage.final:
        raise ServiceError("eval.wrong_stage")
    allowed = principal.can_manage(org) if stage is EvalStage.approval else principal.can_lead(org)
    if not allowed:
        raise ServiceError("access.denied")
    nxt = STAGES[STAGES.index(stage) + 1]
    if stage is EvalStage.self_assessment:
        await ballots.prepare_tally(session, campaign, rubric)
    elif stage is EvalStage.vote:
        await eval_review.compute(session, campaign, rubric)
        ballots.seal_after_commit(session)
    elif stage is EvalStage.notice:
        if today <= campaign.notice_due:
            raise ServiceError("eval.notice_running", until=campaign.notice_due.isoformat())
        if await eval_review.open_objections(session, campaign.id):
            raise ServiceError("eval.objections_open")
    await _move(session, principal, now, campaign, nxt, "advance")
    return campaign


async def _move(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    campaign: EvalCampaign,
    to: EvalStage,
    action: str,
    reason: str = "",
    dues: dict[str, date] | None = None,
) -> None:
    # Compare-and-set on the version: two people closing the same stage at once move it once.
    # (The UPDATE also moves the loaded object's stage: the old one is read first.)
    before = campaign.stage
    old_dues = {k: getattr(campaign, k).isoformat() for k in dues or {}}
    result = await session.execute(
        update(EvalCampaign)
        .where(EvalCampaign.id == campaign.id, EvalCampaign.version == campaign.version)
        .values(stage=to.value, version=campaign.version + 1, updated_at=now, **(dues or {}))
    )
    if result.rowcount != 1:
        raise ServiceError("stale")
    changes: dict = {"stage": [before, to.value]}
    if reason:
        changes["reason"] = reason
    for key, day in (dues or {}).items():
        if old_dues[key] != day.isoformat():
            changes[key] = [old_dues[key], day.isoformat()]
    await audit.record(session, principal.actor, now, "eval_campaign", campaign.id, action, changes)
    await session.refresh(campaign)


MAX_REASON = 1000


def rescheduled(campaign: EvalCampaign, back: EvalStage, today: date) -> dict[str, date]:
    """Deadlines for a campaign moved back to `back` today: that stage and the ones after
    it get their usual length again from today (the objection window as long as it was),
    and no deadline is brought forward — a reopened notice must let people object."""
    window = (campaign.notice_due - campaign.review_due).days or DEFAULT_OBJECTION_DAYS
    out, day = {}, today
    for stage in STAGES[STAGES.index(back) : -1]:
        day += timedelta(days=window if stage is EvalStage.notice else STAGE_DAYS[stage])
        key = _DUE[stage]
        out[key] = max(day, getattr(campaign, key))
    return out


def stage_before(stage: str) -> EvalStage | None:
    """The stage a reopen would move back to; None where there is none to go back to
    (the first stage) or it is a counted vote."""
    i = stage_index(stage)
    back = STAGES[i - 1] if i > 0 else None
    return None if back is EvalStage.vote else back


async def reopenable(
    session: AsyncSession, principal: Principal, campaign_id: int, from_stage: str
) -> tuple[EvalCampaign, Organisation, EvalStage]:
    """The campaign, its branch and the stage it would go back to, if `principal` may
    move it back from `from_stage` (what they saw) now; refused otherwise. Asked before
    the reason is typed, and again when it is given."""
    campaign, org = await managed_campaign(session, principal, campaign_id)
    if campaign.stage != from_stage or campaign.stage == EvalStage.self_assessment.value:
        raise ServiceError("eval.wrong_stage")
    back = stage_before(campaign.stage)
    if back is None:
        raise ServiceError("eval.vote_counted")
    if back is EvalStage.self_assessment:
        voted = await session.scalar(
            select(func.count()).select_from(EvalVoter).where(EvalVoter.campaign_id == campaign.id)
        )
        if voted:
            raise ServiceError("eval.vote_counted")
    return campaign, org, back


async def reopen(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    campaign_id: int,
    from_stage: str,
    reason: str,
    today: date | None = None,
) -> EvalCampaign:
    """Move a campaign back one stage: the superior's staff only, with a reason, audited.
    With `today`, the stage moved back to (and those after it) get fresh deadlines."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError("eval.reason_required")
    if len(reason) > MAX_REASON:
        raise ServiceError("meeting.too_long", max=MAX_REASON)
    campaign, _org, back = await reopenable(session, principal, campaign_id, from_stage)
    if back is EvalStage.self_assessment:
        from bot.services import ballots

        await ballots.drop_tally(session, campaign.id)
    dues = rescheduled(campaign, back, today) if today is not None else None
    await _move(session, principal, now, campaign, back, "reopen", reason, dues)
    return campaign


# ---------------------------------------------------------------- self-assessment


def self_questions(rubric: VanguardRubric, category: str) -> list:
    """The variant items a member of `category` assesses themselves on, by sub-index."""
    variant = rubric.variants.get(category)
    if variant is None:
        raise ServiceError("member.category_unknown", value=category)
    order = [s.key for s in rubric.subindices]
    return sorted(variant.items, key=lambda i: order.index(i.dimension))


def self_score(rubric: VanguardRubric, answers: dict[str, int]) -> Decimal:
    """The mean of the answers, each worth what the rubric gives that vote option."""
    values = [rubric.vote_options[i].value for i in answers.values()]
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))


async def save_self(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    today: date,
    campaign_id: int,
    answers: dict[str, int],
    summary: str,
    rubric: VanguardRubric,
) -> EvalSelf:
    """Submit or change one's own self-assessment while the stage is open."""
    campaign, org = await require_campaign(session, campaign_id)
    member = principal.member
    if member is None or member.org_id != org.id or member.status not in ELIGIBLE:
        raise ServiceError("access.denied")
    require_stage(campaign, EvalStage.self_assessment.value)
    if today > campaign.self_due:
        raise ServiceError("eval.stage_over")
    keys = {i.key for i in self_questions(rubric, member.category)}
    bands = len(rubric.vote_options)
    if set(answers) != keys or any(not 0 <= v < bands for v in answers.values()):
        raise ServiceError("eval.answers_incomplete")
    summary = (summary or "").strip()
    if len(summary) > MAX_SUMMARY:
        raise ServiceError("meeting.too_long", max=MAX_SUMMARY)
    row = await session.get(EvalSelf, (campaign.id, member.id))
    score = self_score(rubric, answers)
    if row is None:
        row = EvalSelf(campaign_id=campaign.id, member_id=member.id)
        session.add(row)
    row.answers, row.summary, row.score, row.updated_at = dict(answers), summary, score, now
    await session.flush()
    return row


async def my_self(session: AsyncSession, principal: Principal, campaign_id: int) -> EvalSelf | None:
    if principal.member is None:
        return None
    return await session.get(EvalSelf, (campaign_id, principal.member.id))


@dataclass(frozen=True)
class SelfStatus:
    submitted: int
    total: int
    page: Page  # (name, submitted) pairs: who has and has not, never what


async def self_status(
    session: AsyncSession, principal: Principal, campaign_id: int, page: int = 0
) -> SelfStatus:
    campaign, _org = await led_campaign(session, principal, campaign_id)
    done = exists().where(EvalSelf.campaign_id == campaign.id, EvalSelf.member_id == Member.id)
    rows = (
        await session.execute(
            select(Member.name, done)
            .where(Member.org_id == campaign.org_id, Member.status.in_(ELIGIBLE))
            .order_by(done, Member.name, Member.id)
        )
    ).all()
    pairs = [(name, bool(d)) for name, d in rows]
    return SelfStatus(sum(d for _, d in pairs), len(pairs), page_of(pairs, page))


# ---------------------------------------------------------------- the staff's overview


@dataclass(frozen=True)
class CampaignLine:
    campaign: EvalCampaign
    org: Organisation
    voted: int
    electorate: int
    overdue: bool


def under_roots(principal: Principal, roots: Sequence[Organisation | None]):
    """The filter for organisations under any of `roots` (None: the whole tree, for a
    superuser), each checked against what `principal` oversees."""
    if not roots:
        raise ServiceError("access.denied")
    for root in roots:
        allowed = principal.is_superuser if root is None else principal.can_manage(root)
        if not allowed:
            raise ServiceError("access.denied")
    if any(root is None for root in roots):
        return true()
    return or_(*(Organisation.path.startswith(r.path, autoescape=True) for r in roots))


async def scope_committees(
    session: AsyncSession,
    principal: Principal,
    roots: Sequence[Organisation | None],
    page: int = 0,
) -> Page:
    """Committees to narrow a superior's view to: the several a person serves on, else
    those one level below the one (the top ones for a superuser's whole tree)."""
    under_roots(principal, roots)  # checks each root
    tops = [r for r in roots if r is not None]
    if len(tops) > 1:
        return page_of(sorted(tops, key=lambda o: (o.name, o.id)), page)
    parent = Organisation.parent_id.is_(None) if not tops else Organisation.parent_id == tops[0].id
    stmt = (
        select(Organisation)
        .where(parent, Organisation.kind == OrgKind.committee.value)
        .order_by(Organisation.name, Organisation.id)
    )
    return await paginate(session, stmt, page)


async def branches_without_campaign(
    session: AsyncSession, principal: Principal, roots: Sequence[Organisation | None], period: str
) -> int:
    """How many branches under `roots` have no campaign for `period`: what opening for
    the whole subtree would open."""
    return (
        await session.scalar(
            select(func.count())
            .select_from(Organisation)
            .where(
                Organisation.kind == OrgKind.branch.value,
                under_roots(principal, roots),
                ~exists().where(
                    EvalCampaign.org_id == Organisation.id, EvalCampaign.period == period
                ),
            )
        )
        or 0
    )


async def subtree_campaigns(
    session: AsyncSession,
    principal: Principal,
    roots: Sequence[Organisation | None],
    period: str,
    today: date,
    page: int = 0,
    *,
    overdue_only: bool = False,
    size: int = PAGE_SIZE,
) -> tuple[Page, dict[str, int], int]:
    """One page of the period's campaigns under any of `roots` (a staff member may sit
    on several committees; None: every campaign, for a superuser), with turnout counts;
    how many are at each stage; how many are overdue."""
    scope = under_roots(principal, roots)
    from bot.db.models import EvalTally

    base = (
        select(EvalCampaign, Organisation)
        .join(Organisation, Organisation.id == EvalCampaign.org_id)
        .where(EvalCampaign.period == period, scope)
    )
    due_now = or_(
        *(
            and_(EvalCampaign.stage == stage.value, getattr(EvalCampaign, col) < today)
            for stage, col in _DUE.items()
        )
    )
    if overdue_only:
        base = base.where(due_now)
    stats = await session.execute(
        select(EvalCampaign.stage, func.count(), func.count().filter(due_now))
        .join(Organisation, Organisation.id == EvalCampaign.org_id)
        .where(EvalCampaign.period == period, scope)
        .group_by(EvalCampaign.stage)
    )
    counted = stats.all()
    by_stage = {stage: n for stage, n, _late in counted}
    overdue = sum(late for _stage, _n, late in counted)
    found = await paginate(
        session,
        base.order_by(Organisation.path, EvalCampaign.id).with_only_columns(EvalCampaign),
        page,
        size,
    )
    ids = [c.id for c in found.items]
    voted = dict(
        (
            await session.execute(
                select(EvalVoter.campaign_id, func.count())
                .where(EvalVoter.campaign_id.in_(ids))
                .group_by(EvalVoter.campaign_id)
            )
        ).all()
    )
    electorate = dict(
        (
            await session.execute(
                select(EvalTally.campaign_id, func.count(func.distinct(EvalTally.candidate_id)))
                .where(EvalTally.campaign_id.in_(ids))
                .group_by(EvalTally.campaign_id)
            )
        ).all()
    )
    orgs = {
        o.id: o
        for o in (
            await session.execute(
                select(Organisation).where(Organisation.id.in_([c.org_id for c in found.items]))
            )
        ).scalars()
    }
    lines = [
        CampaignLine(
            c, orgs[c.org_id], voted.get(c.id, 0), electorate.get(c.id, 0), is_overdue(c, today)
        )
        for c in found.items
    ]
    return Page(lines, found.page, found.total, found.size), by_stage, overdue


async def audit_result(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    campaign_id: int,
    member_id: int,
    action: str,
    changes: dict[str, object],
) -> None:
    """One audit row for a change to a member's result in a campaign (review, deduction,
    override, mentor, disposal step): the campaign always named first."""
    await audit.record(
        session,
        principal.actor,
        now,
        "eval_result",
        member_id,
        action,
        {"campaign": campaign_id, **changes},
    )
