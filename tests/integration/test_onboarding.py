"""Invite links and joining, on the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import AuditLog, InviteKind, JoinRequest, Member, Staff
from bot.services import members, onboarding, orgs
from bot.services.audit import Actor
from bot.services.errors import ServiceError
from bot.services.members import Principal, load_principal
from bot.services.onboarding import ClaimKind, Confirmer

NOW = datetime(2026, 7, 1, 8, tzinfo=UTC)
ROOT = Principal(telegram_id=1, is_superuser=True)


async def _branch(session):
    city = await orgs.create_org(session, ROOT.actor, NOW, name="市委", kind="committee")
    branch = await orgs.create_org(
        session, ROOT.actor, NOW, name="一支部", kind="branch", parent_id=city.id, domain="village"
    )
    return city, branch


async def _member(session, branch, name, phone=None, role="member", tg=None):
    m = await members.add_member(
        session,
        ROOT.actor,
        NOW,
        org_id=branch.id,
        name=name,
        category="rural_community",
        phone=phone,
    )
    if role != "member":
        await members.set_role(session, ROOT.actor, NOW, m, role)
    if tg:
        await members.link_telegram(session, ROOT.actor, NOW, m, tg)
    return m


async def test_invite_codes_are_unguessable_revocable_and_expiring(session):
    _, branch = await _branch(session)
    a = await onboarding.create_invite(session, ROOT, NOW, branch.id, ttl_days=7)
    b = await onboarding.create_invite(session, ROOT, NOW, branch.id)
    assert a.code != b.code and len(a.code) >= 22
    assert (await onboarding.open_invite(session, a.code, NOW))[1].id == branch.id
    for code in ("", "nope", "x" * 65, "../../etc", a.code[:-1]):
        with pytest.raises(ServiceError, match="invite.unknown"):
            await onboarding.open_invite(session, code, NOW)
    with pytest.raises(ServiceError, match="invite.expired"):
        await onboarding.open_invite(session, a.code, NOW + timedelta(days=8))
    assert await onboarding.revoke_invites(session, ROOT, NOW, branch.id) == 2
    with pytest.raises(ServiceError, match="invite.revoked"):
        await onboarding.open_invite(session, b.code, NOW)


async def test_only_leaders_and_staff_make_invites(session):
    city, branch = await _branch(session)
    plain = await _member(session, branch, "张三", tg=50)
    who = await load_principal(session, 50, frozenset())
    with pytest.raises(ServiceError, match="access.denied"):
        await onboarding.create_invite(session, who, NOW, branch.id)
    await members.set_role(session, ROOT.actor, NOW, plain, "secretary")
    who = await load_principal(session, 50, frozenset())
    assert await onboarding.create_invite(session, who, NOW, branch.id)
    with pytest.raises(ServiceError, match="access.denied"):  # staff invites need staff
        await onboarding.create_invite(session, who, NOW, city.id, kind=InviteKind.staff)


async def test_claim_with_matching_contact_links_account(session):
    _, branch = await _branch(session)
    inv = (await onboarding.create_invite(session, ROOT, NOW, branch.id)).id
    m = await _member(session, branch, "李四", phone="13800000001")
    out = await onboarding.claim_member(session, NOW, inv, m.id, 77, "Li")
    assert out.kind is ClaimKind.needs_contact
    with pytest.raises(ServiceError, match="join.contact_not_own"):
        await onboarding.confirm_contact(session, NOW, inv, m.id, 77, 78, "13800000001")
    with pytest.raises(ServiceError, match="join.contact_mismatch"):
        await onboarding.confirm_contact(session, NOW, inv, m.id, 77, 77, "13900000000")
    linked = await onboarding.confirm_contact(session, NOW, inv, m.id, 77, 77, "+86 138-0000-0001")
    assert linked.telegram_id == 77
    actions = await session.execute(select(AuditLog.action).where(AuditLog.entity_id == m.id))
    assert "link" in set(actions.scalars())


async def test_second_account_for_linked_member_is_refused_and_secretary_told(session):
    _, branch = await _branch(session)
    inv = (await onboarding.create_invite(session, ROOT, NOW, branch.id)).id
    await _member(session, branch, "书记", role="secretary", tg=10)
    m = await _member(session, branch, "王五", tg=20)
    out = await onboarding.claim_member(session, NOW, inv, m.id, 30, "impostor")
    assert out.kind is ClaimKind.conflict and out.notify == [10]
    assert (await session.get(Member, m.id)).telegram_id == 20


async def test_request_then_approval_creates_and_links_member(session):
    _city, branch = await _branch(session)
    inv = (await onboarding.create_invite(session, ROOT, NOW, branch.id)).id
    await _member(session, branch, "书记", role="secretary", tg=10)
    out = await onboarding.request_as_new(session, NOW, inv, 99, "  赵  六 ")
    assert out.kind is ClaimKind.pending and out.notify == [10]
    secretary = await load_principal(session, 10, frozenset())
    outsider = await load_principal(session, 11, frozenset())
    with pytest.raises(ServiceError, match="access.denied"):
        await onboarding.decide(session, outsider, NOW, out.request.id, True)
    decision = await onboarding.decide(session, secretary, NOW, out.request.id, True)
    assert decision.member.name == "赵 六" and decision.member.telegram_id == 99
    with pytest.raises(ServiceError, match="request.already_decided"):
        await onboarding.decide(session, secretary, NOW, out.request.id, False)
    with pytest.raises(ServiceError, match="join.already_member"):
        await onboarding.request_as_new(session, NOW, inv, 99, "again")


async def test_requests_go_to_staff_when_branch_has_no_linked_leader(session):
    city, branch = await _branch(session)
    inv = (await onboarding.create_invite(session, ROOT, NOW, branch.id)).id
    session.add(Staff(org_id=city.id, telegram_id=555, name="组织部", created_at=NOW))
    await session.flush()
    out = await onboarding.request_as_new(session, NOW, inv, 99, "新人")
    assert out.notify == [555]
    again = await onboarding.request_as_new(session, NOW, inv, 99, "新人")
    pending = (
        (
            await session.execute(
                select(JoinRequest).where(
                    JoinRequest.telegram_id == 99, JoinRequest.status == "pending"
                )
            )
        )
        .scalars()
        .all()
    )
    assert [r.id for r in pending] == [again.request.id]
    staff = await load_principal(session, 555, frozenset())
    assert staff.can_lead(branch) and staff.can_manage(branch)


async def test_staff_invite_is_single_use(session):
    city, _ = await _branch(session)
    invite = await onboarding.create_invite(session, ROOT, NOW, city.id, kind=InviteKind.staff)
    await onboarding.accept_staff_invite(session, NOW, invite, 321, "办公室")
    with pytest.raises(ServiceError, match="invite.revoked"):
        await onboarding.open_invite(session, invite.code, NOW)
    assert (await load_principal(session, 321, frozenset())).staff_orgs[0].id == city.id


async def test_appointing_a_new_secretary_demotes_the_old(session):
    _, branch = await _branch(session)
    old = await _member(session, branch, "甲", role="secretary")
    new = await _member(session, branch, "乙")
    previous = await members.set_role(session, Actor(1, "t"), NOW, new, "secretary")
    assert previous.id == old.id and old.role == "member" and new.role == "secretary"


async def test_roster_search_and_pagination(session):
    _, branch = await _branch(session)
    for i in range(20):
        await _member(session, branch, f"刘{i:02d}")
    await _member(session, branch, "张三")
    page = await members.roster_page(session, branch.id, "刘", 2, size=8)
    assert page.total == 20 and len(page.items) == 4
    assert [m.name for m in (await members.roster_page(session, branch.id, "张")).items] == ["张三"]
    assert (await members.roster_page(session, branch.id, "%")).total == 0


async def _new_branch_with_staff(session):
    """A branch set up from the roster: its secretary on it but not on the bot yet."""
    city, branch = await _branch(session)
    session.add(Staff(org_id=city.id, telegram_id=555, name="组织部", created_at=NOW))
    inv = (await onboarding.create_invite(session, ROOT, NOW, branch.id)).id
    li = await _member(session, branch, "李强", phone="13900000001", role="secretary")
    wang = await _member(session, branch, "王芳")
    return branch, inv, li, wang


async def _status(session, request_id):
    return await session.scalar(select(JoinRequest.status).where(JoinRequest.id == request_id))


async def test_contact_link_settles_only_the_request_for_that_person(session):
    """A request made under a wrong name is withdrawn, not marked approved for the person
    the account was then linked to; approving its old notice links nobody."""
    _, inv, li, wang = await _new_branch_with_staff(session)
    wrong = await onboarding.claim_member(session, NOW, inv, wang.id, 77, "Li Qiang")
    assert wrong.kind is ClaimKind.pending and wrong.request.member_id == wang.id
    await onboarding.claim_member(session, NOW, inv, li.id, 77, "Li Qiang")
    await onboarding.confirm_contact(session, NOW, inv, li.id, 77, 77, "13900000001")
    assert await _status(session, wrong.request.id) == "withdrawn"
    staff = await load_principal(session, 555, frozenset())
    with pytest.raises(ServiceError, match="request.withdrawn"):
        await onboarding.decide(session, staff, NOW, wrong.request.id, True)
    assert (await session.get(Member, wang.id)).telegram_id is None
    assert (await session.get(Member, li.id)).telegram_id == 77
    assert await _status(session, wrong.request.id) == "withdrawn"


async def test_a_request_for_the_same_person_is_approved_by_the_contact(session):
    _, inv, li, _ = await _new_branch_with_staff(session)
    with pytest.raises(ServiceError, match="join.contact_mismatch"):
        await onboarding.confirm_contact(session, NOW, inv, li.id, 77, 77, "13700000000")
    asked = await onboarding.request_approval_for(session, NOW, inv, li.id, 77, "Li Qiang")
    await onboarding.confirm_contact(session, NOW, inv, li.id, 77, 77, "13900000001")
    assert await _status(session, asked.request.id) == "approved"


async def test_the_request_says_who_confirms_it(session):
    """The secretary joining their own new branch is confirmed by the superior's staff."""
    _, inv, li, wang = await _new_branch_with_staff(session)
    out = await onboarding.request_approval_for(session, NOW, inv, li.id, 77, "Li Qiang")
    assert (out.confirmer, out.notify) == (Confirmer.staff, [555])
    await members.link_telegram(session, ROOT.actor, NOW, li, 10)
    out = await onboarding.claim_member(session, NOW, inv, wang.id, 78, "Wang")
    assert (out.confirmer, out.notify) == (Confirmer.secretary, [10])
    await members.set_role(session, ROOT.actor, NOW, li, "organiser")
    out = await onboarding.request_as_new(session, NOW, inv, 79, "赵六")
    assert (out.confirmer, out.notify) == (Confirmer.organiser, [10])
    _city2 = await orgs.create_org(session, ROOT.actor, NOW, name="别处", kind="committee")
    lone = await orgs.create_org(
        session,
        ROOT.actor,
        NOW,
        name="孤支部",
        kind="branch",
        parent_id=_city2.id,
        domain="village",
    )
    lone_inv = (await onboarding.create_invite(session, ROOT, NOW, lone.id)).id
    out = await onboarding.request_as_new(session, NOW, lone_inv, 80, "钱七")
    assert (out.confirmer, out.notify) == (Confirmer.nobody, [])


async def test_stale_or_mismatched_approvals_are_refused_and_change_nothing(session):
    branch, inv, li, wang = await _new_branch_with_staff(session)
    staff = await load_principal(session, 555, frozenset())
    # The roster entry was linked to someone else meanwhile.
    first = await onboarding.claim_member(session, NOW, inv, wang.id, 77, "Wang?")
    await members.link_telegram(session, ROOT.actor, NOW, wang, 88)
    with pytest.raises(ServiceError, match="request.member_taken") as err:
        await onboarding.decide(session, staff, NOW, first.request.id, True)
    assert err.value.params["name"] == "王芳"
    assert await _status(session, first.request.id) == "pending"
    # The requester was linked meanwhile (here by hand, in the roster).
    second = await onboarding.request_as_new(session, NOW, inv, 90, "孙八")
    await members.link_telegram(session, ROOT.actor, NOW, li, 90)
    with pytest.raises(ServiceError, match="request.requester_linked") as err:
        await onboarding.decide(session, staff, NOW, second.request.id, True)
    assert err.value.params["member"] == "李强"
    # The roster entry left the branch.
    third = await onboarding.request_approval_for(
        session, NOW, inv, (await _member(session, branch, "周九")).id, 91, "Zhou"
    )
    gone = await session.get(Member, third.request.member_id)
    await members.update_member(session, ROOT.actor, NOW, gone, status="left")
    with pytest.raises(ServiceError, match="request.member_gone"):
        await onboarding.decide(session, staff, NOW, third.request.id, True)
    # Rejecting a request that cannot be approved still works.
    assert (await onboarding.decide(session, staff, NOW, third.request.id, False)).member is None
    assert await _status(session, third.request.id) == "rejected"


async def test_typing_ones_own_roster_name_as_a_newcomer_is_sent_back_to_it(session):
    """Approving would otherwise add a second 李强 beside the one waiting to be linked."""
    _, inv, li, _wang = await _new_branch_with_staff(session)
    with pytest.raises(ServiceError, match="join.name_on_roster") as err:
        await onboarding.request_as_new(session, NOW, inv, 77, " 李强 ")
    assert err.value.params == {"name": "李强"}
    await members.link_telegram(session, ROOT.actor, NOW, li, 10)
    # A namesake of someone already linked is a different person: asked as new.
    assert (await onboarding.request_as_new(session, NOW, inv, 77, "李强")).request
