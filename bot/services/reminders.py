"""Who is owed which reminder: data for the calendar jobs, a whole city in a few queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    EducationContent,
    EvalCampaign,
    EvalObjection,
    EvalSelf,
    EvalStage,
    EvalVoter,
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
    PeriodSnapshot,
    Role,
    Staff,
)
from bot.services.content import is_offered_to
from bot.services.evaluation import ELIGIBLE
from bot.services.facts import facts_for_branches
from scoring import FortressRubric, checklist_items, score_branches

LEADER_ROLES = (Role.secretary.value, Role.organiser.value)


@dataclass(frozen=True)
class Leaders:
    branch: Organisation
    telegram_ids: list[int]  # secretary first


@dataclass(frozen=True)
class OpenItem:
    key: str
    name_zh: str
    name_en: str
    earned: Decimal
    points: Decimal
    due: date


async def branches_with_leaders(session: AsyncSession) -> list[Leaders]:
    """Every branch with at least one linked secretary or organising member (one query)."""
    rows = await session.execute(
        select(Organisation, Member.telegram_id)
        .join(Member, Member.org_id == Organisation.id)
        .where(
            Organisation.kind == OrgKind.branch.value,
            Member.role.in_(LEADER_ROLES),
            Member.telegram_id.is_not(None),
            Member.status != MemberStatus.left.value,
        )
        .order_by(Organisation.id, Member.role.desc(), Member.id)
    )
    out: dict[int, Leaders] = {}
    for org, tg in rows.all():
        out.setdefault(org.id, Leaders(org, [])).telegram_ids.append(tg)
    return list(out.values())


async def checklists(
    session: AsyncSession, rubric: FortressRubric, branches: Sequence[Organisation], period: str
) -> dict[int, list[OpenItem]]:
    """Each branch's checklist items for `period` with what they have earned so far."""
    if not branches:
        return {}
    facts = await facts_for_branches(session, branches, period, rubric=rubric)
    out: dict[int, list[OpenItem]] = {}
    for f, result in zip(facts, score_branches(rubric, facts), strict=True):
        earned = {r.key: r.points for r in result.items}
        items = []
        for spec in checklist_items(rubric, f.domain, f.featured, period):
            item = rubric.item(spec.key)
            items.append(
                OpenItem(
                    spec.key,
                    item.name_zh,
                    item.name_en,
                    earned.get(spec.key, Decimal(0)),
                    spec.points,
                    spec.due,
                )
            )
        out[f.branch_id] = items
    return out


def still_open(items: Sequence[OpenItem], due: date | None = None) -> list[OpenItem]:
    """Items short of full points (only those due on `due`, if given), soonest due first."""
    left = [i for i in items if i.earned < i.points and (due is None or i.due == due)]
    return sorted(left, key=lambda i: (i.due, -i.points))


async def month_content(
    session: AsyncSession, month: str, branches: Sequence[Organisation]
) -> dict[int, list[EducationContent]]:
    """The month's education content each branch is offered (one query for the city)."""
    rows = list(
        (
            await session.execute(
                select(EducationContent)
                .where(EducationContent.month == month)
                .order_by(EducationContent.kind, EducationContent.id)
            )
        ).scalars()
    )
    return {b.id: [c for c in rows if is_offered_to(c, b)] for b in branches}


async def staff_with_open_months(
    session: AsyncSession, period: str, *, unconfirmed: bool
) -> dict[int, int]:
    """{staff Telegram id: branches under their committees still to act on for `period`}.

    Not yet closed (no snapshot), or with `unconfirmed`, closed but the star level not yet
    confirmed by the superior. Two queries for the whole city.
    """
    snap = PeriodSnapshot
    branches = select(Organisation.path).where(Organisation.kind == OrgKind.branch.value)
    if unconfirmed:
        branches = branches.join(
            snap, and_(snap.org_id == Organisation.id, snap.period == period)
        ).where(snap.confirmed_star.is_(None))
    else:
        branches = branches.outerjoin(
            snap, and_(snap.org_id == Organisation.id, snap.period == period)
        ).where(snap.id.is_(None))
    paths = list((await session.execute(branches)).scalars())
    if not paths:
        return {}
    staff = await session.execute(
        select(Staff.telegram_id, Organisation.path).join(
            Organisation, Organisation.id == Staff.org_id
        )
    )
    counts: dict[int, set[str]] = defaultdict(set)
    for tg, root in staff.all():
        counts[tg].update(p for p in paths if p.startswith(root))
    return {tg: len(found) for tg, found in counts.items() if found}


async def staff_zones(session: AsyncSession) -> dict[int, str | None]:
    """{staff Telegram id: their committee's time zone (None: the default)}; someone on
    several committees goes by the first they joined."""
    rows = await session.execute(
        select(Staff.telegram_id, Organisation.timezone)
        .join(Organisation, Organisation.id == Staff.org_id)
        .order_by(Staff.telegram_id, Staff.id)
    )
    out: dict[int, str | None] = {}
    for tg, zone in rows.all():
        out.setdefault(tg, zone)
    return out


async def member_and_leaders(
    session: AsyncSession, telegram_id: int
) -> tuple[Member, Organisation, list[int]] | None:
    """The member with this Telegram id, their branch, and its linked leaders but them."""
    member = (
        await session.execute(select(Member).where(Member.telegram_id == telegram_id))
    ).scalar_one_or_none()
    if member is None:
        return None
    branch = await session.get(Organisation, member.org_id)
    leaders = await linked_leaders(session, member.org_id)
    return member, branch, [tg for tg in leaders if tg != telegram_id]


async def linked_leaders(session: AsyncSession, org_id: int) -> list[int]:
    """Telegram ids of the branch's linked secretary and organising member, secretary first."""
    rows = await session.execute(
        select(Member.telegram_id)
        .where(
            Member.org_id == org_id,
            Member.role.in_(LEADER_ROLES),
            Member.telegram_id.is_not(None),
            Member.status != MemberStatus.left.value,
        )
        .order_by(Member.role.desc())
    )
    return list(rows.scalars())


async def group_and_leaders(
    session: AsyncSession, chat_id: int
) -> tuple[Organisation, list[int]] | None:
    """The branch whose group `chat_id` is, and its linked leaders."""
    branch = (
        await session.execute(select(Organisation).where(Organisation.group_chat_id == chat_id))
    ).scalar_one_or_none()
    if branch is None:
        return None
    return branch, await linked_leaders(session, branch.id)


# ---------------------------------------------------------------- democratic evaluation


async def running_campaigns(
    session: AsyncSession, stages: Sequence[EvalStage]
) -> list[tuple[EvalCampaign, Organisation]]:
    """Every campaign now at one of `stages`, with its branch (one query, any period)."""
    rows = await session.execute(
        select(EvalCampaign, Organisation)
        .join(Organisation, Organisation.id == EvalCampaign.org_id)
        .where(EvalCampaign.stage.in_([s.value for s in stages]))
        .order_by(EvalCampaign.id)
    )
    return [(c, o) for c, o in rows.all()]


async def not_yet_acted(
    session: AsyncSession, campaign_ids: Sequence[int], stage: EvalStage
) -> dict[int, list[int]]:
    """{campaign: Telegram ids of its members who can act and have not}: not yet assessed
    themselves (`self_assessment`) or not yet voted (`vote`). One query for all campaigns.

    It reads only *that* someone voted (`eval_voter`), never what: the tallies are not
    touched, so nothing here can tie a person to a mark."""
    if not campaign_ids:
        return {}
    table = EvalSelf if stage is EvalStage.self_assessment else EvalVoter
    acted = exists().where(table.campaign_id == EvalCampaign.id, table.member_id == Member.id)
    rows = await session.execute(
        select(EvalCampaign.id, Member.telegram_id)
        .join(Member, Member.org_id == EvalCampaign.org_id)
        .where(
            EvalCampaign.id.in_(campaign_ids),
            Member.status.in_(ELIGIBLE),
            Member.telegram_id.is_not(None),
            ~acted,
        )
        .order_by(EvalCampaign.id, Member.telegram_id)
    )
    out: dict[int, list[int]] = defaultdict(list)
    for cid, tg in rows.all():
        out[cid].append(tg)
    return dict(out)


async def leaders_of(session: AsyncSession, org_ids: Sequence[int]) -> dict[int, list[int]]:
    """{branch: its linked secretary and organising member} for many branches, one query."""
    if not org_ids:
        return {}
    rows = await session.execute(
        select(Member.org_id, Member.telegram_id)
        .where(
            Member.org_id.in_(org_ids),
            Member.role.in_(LEADER_ROLES),
            Member.telegram_id.is_not(None),
            Member.status != MemberStatus.left.value,
        )
        .order_by(Member.org_id, Member.role.desc())
    )
    out: dict[int, list[int]] = defaultdict(list)
    for org_id, tg in rows.all():
        out[org_id].append(tg)
    return dict(out)


async def unanswered_objections(
    session: AsyncSession, campaign_ids: Sequence[int]
) -> dict[int, int]:
    if not campaign_ids:
        return {}
    rows = await session.execute(
        select(EvalObjection.campaign_id, func.count())
        .where(EvalObjection.campaign_id.in_(campaign_ids), EvalObjection.answer.is_(None))
        .group_by(EvalObjection.campaign_id)
    )
    return dict(rows.all())


async def staff_over(session: AsyncSession, orgs: Sequence[Organisation]) -> dict[int, list[int]]:
    """{staff Telegram id: ids of `orgs` under their committees} (one query for the staff)."""
    if not orgs:
        return {}
    staff = await session.execute(
        select(Staff.telegram_id, Organisation.path).join(
            Organisation, Organisation.id == Staff.org_id
        )
    )
    out: dict[int, set[int]] = defaultdict(set)
    for tg, root in staff.all():
        out[tg].update(o.id for o in orgs if o.path.startswith(root))
    return {tg: sorted(ids) for tg, ids in out.items() if ids}
