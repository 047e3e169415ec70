"""Invite links and joining a branch: roster claim, contact check, approval."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Category,
    Domain,
    Invite,
    InviteKind,
    JoinRequest,
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
    RequestStatus,
    Role,
    Staff,
)
from bot.services import audit, members
from bot.services.audit import Actor
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.orgs import ancestor_ids, clean_name, require_org
from bot.services.paging import Page, paginate_counted
from bot.services.safetext import telegram_name

CODE_BYTES = 16  # 22 URL-safe characters: unguessable, and well inside /start's 64-char limit

DEFAULT_CATEGORY = {
    Domain.village: Category.rural_community,
    Domain.community: Category.rural_community,
    Domain.agency: Category.agency,
    Domain.two_new: Category.two_new,
}


async def create_invite(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    org_id: int,
    *,
    kind: InviteKind = InviteKind.member,
    ttl_days: int | None = None,
) -> Invite:
    org = await require_org(session, org_id)
    if kind is InviteKind.member and org.kind != OrgKind.branch:
        raise ServiceError("invite.member_needs_branch")
    if kind is InviteKind.staff and org.kind != OrgKind.committee:
        raise ServiceError("invite.staff_needs_committee")
    allowed = principal.can_manage(org) if kind is InviteKind.staff else principal.can_lead(org)
    if not allowed:
        raise ServiceError("access.denied")
    invite = Invite(
        code=secrets.token_urlsafe(CODE_BYTES),
        org_id=org.id,
        kind=kind.value,
        created_by=principal.telegram_id,
        created_at=now,
        expires_at=now + timedelta(days=ttl_days) if ttl_days else None,
    )
    session.add(invite)
    await session.flush()
    await audit.record(
        session,
        principal.actor,
        now,
        "invite",
        invite.id,
        "create",
        {"org_id": [None, org.id], "kind": [None, kind.value]},
    )
    return invite


async def revoke_invites(
    session: AsyncSession, principal: Principal, now: datetime, org_id: int
) -> int:
    """Revoke every live invite of an organisation; returns how many were revoked."""
    org = await require_org(session, org_id)
    if not principal.can_lead(org):
        raise ServiceError("access.denied")
    result = await session.execute(
        update(Invite)
        .where(Invite.org_id == org_id, Invite.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if result.rowcount:
        await audit.record(
            session,
            principal.actor,
            now,
            "organisation",
            org_id,
            "revoke_invites",
            {"revoked": [None, result.rowcount]},
        )
    return result.rowcount


async def open_invite(
    session: AsyncSession, code: str, now: datetime
) -> tuple[Invite, Organisation]:
    """Check an invite code from a /start deep link."""
    if not code or len(code) > 64 or not all(c.isalnum() or c in "-_" for c in code):
        raise ServiceError("invite.unknown")
    invite = (await session.execute(select(Invite).where(Invite.code == code))).scalar_one_or_none()
    if invite is None:
        raise ServiceError("invite.unknown")
    if invite.revoked_at is not None:
        raise ServiceError("invite.revoked")
    if invite.expires_at is not None and invite.expires_at <= now:
        raise ServiceError("invite.expired")
    return invite, await require_org(session, invite.org_id)


async def accept_staff_invite(
    session: AsyncSession, now: datetime, invite: Invite, telegram_id: int, name: str
) -> Organisation:
    """Staff invites are single-use: the first person to open one becomes staff.

    The invite is spent by one conditional UPDATE before anything else: of several
    people opening it at once, the database lets exactly one match `revoked_at IS NULL`
    (PostgreSQL re-checks the row after the first commit; SQLite serialises writers).
    """
    spent = await session.execute(
        update(Invite)
        .where(
            Invite.id == invite.id,
            Invite.kind == InviteKind.staff.value,
            Invite.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    if spent.rowcount != 1:
        raise ServiceError("invite.revoked")
    org = await require_org(session, invite.org_id)
    exists = await session.execute(
        select(Staff.id).where(Staff.org_id == org.id, Staff.telegram_id == telegram_id)
    )
    if exists.first() is None:
        staff = Staff(
            org_id=org.id,
            telegram_id=telegram_id,
            name=telegram_name(name, f"tg:{telegram_id}"),
            created_at=now,
        )
        session.add(staff)
        await session.flush()
        await audit.record(
            session,
            Actor(telegram_id, name),
            now,
            "staff",
            staff.id,
            "create",
            {"org_id": [None, org.id], "telegram_id": [None, telegram_id]},
        )
    return org


class ClaimKind(StrEnum):
    needs_contact = "needs_contact"
    pending = "pending"
    conflict = "conflict"


class Confirmer(StrEnum):
    """Who is asked to confirm a newcomer: the person the request is sent to."""

    secretary = "secretary"
    organiser = "organiser"
    staff = "staff"  # the superior's staff: nobody in the branch is on the bot yet
    nobody = "nobody"


@dataclass
class ClaimOutcome:
    kind: ClaimKind
    member: Member | None
    request: JoinRequest | None = None
    notify: list[int] = field(default_factory=list)  # Telegram ids to tell
    confirmer: Confirmer = Confirmer.nobody


# Join requests (and claims of a taken roster entry) one account may file in a day:
# each one pings the branch's leaders.
JOIN_REQUESTS_PER_DAY = 5


async def require_join_invite(
    session: AsyncSession, invite_id: int | None, now: datetime
) -> Invite:
    """The member invite this person opened (kept in their conversation), still valid.

    Every joining step passes through here: the branch, and any name on its roster,
    is only shown to someone holding a live invite for it.
    """
    invite = await session.get(Invite, invite_id) if invite_id else None
    if invite is None or invite.kind != InviteKind.member:
        raise ServiceError("join.no_invite")
    if invite.revoked_at is not None:
        raise ServiceError("invite.revoked")
    if invite.expires_at is not None and invite.expires_at <= now:
        raise ServiceError("invite.expired")
    return invite


async def awaited_branch(session: AsyncSession, telegram_id: int) -> Organisation | None:
    """The branch this person's open join request waits on, if they have one."""
    found = await session.execute(
        select(Organisation)
        .join(JoinRequest, JoinRequest.org_id == Organisation.id)
        .where(
            JoinRequest.telegram_id == telegram_id,
            JoinRequest.status == RequestStatus.pending.value,
        )
        .limit(1)
    )
    return found.scalar_one_or_none()


async def join_roster(
    session: AsyncSession, now: datetime, invite_id: int | None, query: str, page: int
) -> Page[Member]:
    """The unlinked people of the invite's branch, for a newcomer to find themselves."""
    invite = await require_join_invite(session, invite_id, now)
    return await members.roster_page(session, invite.org_id, query, page, unlinked_only=True)


async def claim_member(
    session: AsyncSession,
    now: datetime,
    invite_id: int | None,
    member_id: int,
    telegram_id: int,
    name: str,
) -> ClaimOutcome:
    """A newcomer says "this roster entry is me"."""
    org_id = (await require_join_invite(session, invite_id, now)).org_id
    await _refuse_if_member(session, telegram_id)
    member = await session.get(Member, member_id)
    if member is None or member.org_id != org_id or member.status == MemberStatus.left:
        raise ServiceError("member.not_found")
    if member.telegram_id is not None and member.telegram_id != telegram_id:
        # Someone else already holds this roster entry: refuse, and tell the branch
        # (recorded as a refused request, so that it counts against the daily limit).
        await _limit_requests(session, now, telegram_id)
        session.add(
            JoinRequest(
                org_id=org_id,
                telegram_id=telegram_id,
                name=telegram_name(name, member.name),
                member_id=member.id,
                status=RequestStatus.rejected.value,
                created_at=now,
                decided_at=now,
            )
        )
        await session.flush()
        who, ids = await confirmers(session, org_id)
        return ClaimOutcome(ClaimKind.conflict, member, notify=ids, confirmer=who)
    if member.phone:
        return ClaimOutcome(ClaimKind.needs_contact, member)
    request = await _pending_request(
        session, now, org_id, telegram_id, telegram_name(name, member.name), member.id
    )
    return await _pending(session, org_id, member, request)


async def confirm_contact(
    session: AsyncSession,
    now: datetime,
    invite_id: int | None,
    member_id: int,
    telegram_id: int,
    contact_user_id: int | None,
    phone: str,
) -> Member:
    """Link the account when the shared contact is the user's own and matches the roster."""
    org_id = (await require_join_invite(session, invite_id, now)).org_id
    await _refuse_if_member(session, telegram_id)
    member = await members.require_member(session, member_id)
    if member.org_id != org_id:
        raise ServiceError("member.not_found")
    if contact_user_id != telegram_id:
        raise ServiceError("join.contact_not_own")
    if not members.same_phone(member.phone, phone):
        raise ServiceError("join.contact_mismatch")
    await members.link_telegram(session, Actor(telegram_id, member.name), now, member, telegram_id)
    # Only a request for this very roster entry is settled by the contact; one made
    # earlier under another name is withdrawn, never marked approved for someone else.
    await _close_requests(
        session, now, telegram_id, RequestStatus.approved, telegram_id, member_id=member.id
    )
    await _close_requests(session, now, telegram_id, RequestStatus.withdrawn, telegram_id)
    return member


async def request_as_new(
    session: AsyncSession, now: datetime, invite_id: int | None, telegram_id: int, name: str
) -> ClaimOutcome:
    """Someone not on the roster asks to join under the name they typed."""
    org_id = (await require_join_invite(session, invite_id, now)).org_id
    await _refuse_if_member(session, telegram_id)
    org = await require_org(session, org_id)
    if org.kind != OrgKind.branch:
        raise ServiceError("member.org_not_branch")
    name = clean_name(name)
    # Their own roster entry, typed instead of tapped: approving would add a second
    # person of that name beside the one waiting to be linked.
    listed = await session.execute(
        select(Member.id).where(
            Member.org_id == org_id,
            Member.name == name,
            Member.telegram_id.is_(None),
            Member.status != MemberStatus.left.value,
        )
    )
    if listed.first() is not None:
        raise ServiceError("join.name_on_roster", name=name)
    request = await _pending_request(session, now, org_id, telegram_id, name, None)
    return await _pending(session, org_id, None, request)


async def request_approval_for(
    session: AsyncSession,
    now: datetime,
    invite_id: int | None,
    member_id: int,
    telegram_id: int,
    name: str,
) -> ClaimOutcome:
    """Fallback when the contact check fails: ask the secretary to confirm instead."""
    org_id = (await require_join_invite(session, invite_id, now)).org_id
    await _refuse_if_member(session, telegram_id)
    member = await members.require_member(session, member_id)
    if member.org_id != org_id or member.telegram_id is not None:
        raise ServiceError("member.not_found")
    request = await _pending_request(
        session, now, org_id, telegram_id, telegram_name(name, member.name), member.id
    )
    return await _pending(session, org_id, member, request)


@dataclass
class Decision:
    request: JoinRequest
    member: Member | None
    org: Organisation


async def decide(
    session: AsyncSession, principal: Principal, now: datetime, request_id: int, approve: bool
) -> Decision:
    request = await session.get(JoinRequest, request_id)
    if request is None:
        raise ServiceError("request.not_found")
    org = await require_org(session, request.org_id)
    if not principal.can_lead(org):
        raise ServiceError("access.denied")
    if request.status == RequestStatus.withdrawn:
        raise ServiceError("request.withdrawn", name=request.name)
    if request.status != RequestStatus.pending:
        raise ServiceError("request.already_decided", status=request.status)
    member = await _approvable(session, request) if approve else None
    status = (RequestStatus.approved if approve else RequestStatus.rejected).value
    # Claimed by one conditional UPDATE: a secretary and an organising member deciding
    # at once cannot both act (one approving, the other rejecting what was approved).
    claimed = await session.execute(
        update(JoinRequest)
        .where(JoinRequest.id == request_id, JoinRequest.status == RequestStatus.pending.value)
        .values(status=status, decided_by=principal.telegram_id, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        now_status = await session.scalar(
            select(JoinRequest.status).where(JoinRequest.id == request_id)
        )
        if now_status == RequestStatus.withdrawn:
            raise ServiceError("request.withdrawn", name=request.name)
        raise ServiceError("request.already_decided", status=now_status)
    actor = principal.actor
    if approve:
        if member is None:
            member = await members.add_member(
                session,
                actor,
                now,
                org_id=org.id,
                name=request.name,
                category=DEFAULT_CATEGORY[Domain(org.domain)],
                role=Role.member,
                joined_on=now.date(),
            )
        await members.link_telegram(session, actor, now, member, request.telegram_id)
    request.status = status
    request.decided_by = principal.telegram_id
    request.decided_at = now
    await session.flush()
    return Decision(request, member, org)


@dataclass(frozen=True)
class Waiting:
    """A pending join request as the list of requests shows it."""

    id: int
    name: str  # the Telegram name (a roster claim) or the name typed (not on the roster)
    member: str | None  # the roster entry asked for; None: not on the roster
    branch: str
    created_at: datetime


def _decidable(principal: Principal) -> ColumnElement[bool] | None:
    """The requests `decide` lets this person settle (its `can_lead`), as a condition on
    the request and its branch; None: none at all."""
    if principal.is_superuser:
        return true()
    scope = [Organisation.path.startswith(root.path) for root in principal.staff_orgs]
    if principal.is_branch_leader and principal.branch is not None:
        scope.append(JoinRequest.org_id == principal.branch.id)
    return or_(*scope) if scope else None


def _waiting(scope: ColumnElement[bool]):
    # Filtered on (org_id, status), ix_join_request_org_status; a staff member's branches
    # are found by path prefix (ix_org_path).
    return (
        select(
            JoinRequest.id,
            JoinRequest.name,
            Member.name,
            Organisation.name,
            JoinRequest.created_at,
        )
        .join(Organisation, Organisation.id == JoinRequest.org_id)
        .outerjoin(Member, Member.id == JoinRequest.member_id)
        .where(JoinRequest.status == RequestStatus.pending.value, scope)
    )


async def pending_requests(session: AsyncSession, principal: Principal, page: int) -> Page[Waiting]:
    """The pending join requests this person may decide, newest first: one statement
    per page. A member who decides none is refused like any other act they may not do."""
    scope = _decidable(principal)
    if scope is None:
        raise ServiceError("access.denied")
    stmt = _waiting(scope).order_by(JoinRequest.created_at.desc(), JoinRequest.id.desc())
    found = await paginate_counted(session, stmt, page)
    items = [Waiting(*row) for row in found.items]
    return Page(items, found.page, found.total, found.size)


async def pending_count(session: AsyncSession, principal: Principal) -> int:
    """How many pending join requests this person may decide (0 if they decide none)."""
    scope = _decidable(principal)
    if scope is None:
        return 0
    waiting = _waiting(scope).with_only_columns(func.count()).order_by(None)
    return await session.scalar(waiting) or 0


async def _approvable(session: AsyncSession, request: JoinRequest) -> Member | None:
    """The roster entry an approval links (None: a new member), refused when the request
    no longer matches the roster: approving links exactly the person it named, or nobody."""
    linked = await session.scalar(select(Member).where(Member.telegram_id == request.telegram_id))
    if linked is not None:
        raise ServiceError("request.requester_linked", name=request.name, member=linked.name)
    if request.member_id is None:
        return None
    member = await session.get(Member, request.member_id)
    if member is None or member.status == MemberStatus.left or member.org_id != request.org_id:
        raise ServiceError("request.member_gone", name=request.name)
    if member.telegram_id is not None:
        raise ServiceError("request.member_taken", name=member.name)
    return member


async def confirmers(session: AsyncSession, org_id: int) -> tuple[Confirmer, list[int]]:
    """Who hears about a join request, and as whom: the branch's linked secretary and
    organising member, else the superior's staff (a new branch, or its secretary is the
    one joining), else nobody yet."""
    leaders = [m for m in await members.leaders(session, org_id) if m.telegram_id]
    if leaders:
        first = Role(leaders[0].role)
        who = Confirmer.secretary if first is Role.secretary else Confirmer.organiser
        return who, [m.telegram_id for m in leaders]
    org = await require_org(session, org_id)
    rows = await session.execute(
        select(Staff.telegram_id).where(Staff.org_id.in_(ancestor_ids(org))).distinct()
    )
    ids = list(rows.scalars())
    return (Confirmer.staff if ids else Confirmer.nobody), ids


async def approvers(session: AsyncSession, org_id: int) -> list[int]:
    """Who hears about a join request (see `confirmers`)."""
    return (await confirmers(session, org_id))[1]


async def _pending(
    session: AsyncSession, org_id: int, member: Member | None, request: JoinRequest
) -> ClaimOutcome:
    who, ids = await confirmers(session, org_id)
    return ClaimOutcome(ClaimKind.pending, member, request, ids, who)


async def _refuse_if_member(session: AsyncSession, telegram_id: int) -> None:
    found = await session.execute(select(Member.id).where(Member.telegram_id == telegram_id))
    if found.first() is not None:
        raise ServiceError("join.already_member")


async def _pending_request(
    session: AsyncSession,
    now: datetime,
    org_id: int,
    telegram_id: int,
    name: str,
    member_id: int | None,
) -> JoinRequest:
    """One open request per person: asking again replaces (withdraws) the earlier one."""
    await _limit_requests(session, now, telegram_id)
    await _close_requests(session, now, telegram_id, RequestStatus.withdrawn, telegram_id)
    request = JoinRequest(
        org_id=org_id, telegram_id=telegram_id, name=name, member_id=member_id, created_at=now
    )
    session.add(request)
    await session.flush()
    return request


async def _limit_requests(session: AsyncSession, now: datetime, telegram_id: int) -> None:
    filed = await session.execute(
        select(func.count())
        .select_from(JoinRequest)
        .where(
            JoinRequest.telegram_id == telegram_id, JoinRequest.created_at > now - timedelta(days=1)
        )
    )
    if filed.scalar_one() >= JOIN_REQUESTS_PER_DAY:
        raise ServiceError("join.too_many", limit=JOIN_REQUESTS_PER_DAY)


async def _close_requests(
    session: AsyncSession,
    now: datetime,
    telegram_id: int,
    status: RequestStatus,
    by: int | None,
    *,
    member_id: int | None = None,
) -> None:
    """Close this person's pending requests (only the one for `member_id`, if given)."""
    which = [
        JoinRequest.telegram_id == telegram_id,
        JoinRequest.status == RequestStatus.pending.value,
    ]
    if member_id is not None:
        which.append(JoinRequest.member_id == member_id)
    await session.execute(
        update(JoinRequest).where(*which).values(status=status.value, decided_at=now, decided_by=by)
    )
