"""Joining needs the invite the person opened (issue 8, item 1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.db.models import InviteKind, JoinRequest
from bot.services import onboarding, orgs
from bot.services.errors import ServiceError
from tests.integration.test_onboarding import NOW, ROOT, _branch, _member


async def _requests(session) -> int:
    return (await session.execute(select(func.count()).select_from(JoinRequest))).scalar_one()


async def test_every_join_step_refuses_without_a_live_member_invite(session):
    city, branch = await _branch(session)
    m = await _member(session, branch, "李四", phone="13800000001")
    staff_invite = await onboarding.create_invite(
        session, ROOT, NOW, city.id, kind=InviteKind.staff
    )
    expiring = await onboarding.create_invite(session, ROOT, NOW, branch.id, ttl_days=1)
    later = NOW + timedelta(days=2)
    steps = {
        "roster": lambda inv, now: onboarding.join_roster(session, now, inv, "", 0),
        "claim": lambda inv, now: onboarding.claim_member(session, now, inv, m.id, 77, "x"),
        "contact": lambda inv, now: onboarding.confirm_contact(
            session, now, inv, m.id, 77, 77, "13800000001"
        ),
        "ask": lambda inv, now: onboarding.request_approval_for(session, now, inv, m.id, 77, "x"),
        "new": lambda inv, now: onboarding.request_as_new(session, now, inv, 77, "陈晓"),
    }
    for name, step in steps.items():
        for invite_id, now, code in [
            (None, NOW, "join.no_invite"),
            (999_999, NOW, "join.no_invite"),
            (staff_invite.id, NOW, "join.no_invite"),
            (expiring.id, later, "invite.expired"),
        ]:
            with pytest.raises(ServiceError) as refused:
                await step(invite_id, now)
            assert refused.value.code == code, (name, invite_id)
    await onboarding.revoke_invites(session, ROOT, NOW, branch.id)
    for step in steps.values():
        with pytest.raises(ServiceError, match="invite.revoked"):
            await step(expiring.id, NOW)
    assert await _requests(session) == 0


async def test_an_invite_reveals_only_its_own_branch(session):
    city, branch = await _branch(session)
    other = await orgs.create_org(
        session, ROOT.actor, NOW, name="二支部", kind="branch", parent_id=city.id, domain="village"
    )
    theirs = await _member(session, other, "外人")
    ours = await _member(session, branch, "自己人")
    invite = await onboarding.create_invite(session, ROOT, NOW, branch.id)
    page = await onboarding.join_roster(session, NOW, invite.id, "", 0)
    assert [x.name for x in page.items] == ["自己人"]
    with pytest.raises(ServiceError, match="member.not_found"):
        await onboarding.claim_member(session, NOW, invite.id, theirs.id, 77, "x")
    with pytest.raises(ServiceError, match="member.not_found"):
        await onboarding.request_approval_for(session, NOW, invite.id, theirs.id, 77, "x")
    out = await onboarding.claim_member(session, NOW, invite.id, ours.id, 77, "x")
    assert out.member.id == ours.id


async def test_join_requests_are_limited_per_person_per_day(session):
    _, branch = await _branch(session)
    await _member(session, branch, "书记", role="secretary", tg=10)
    taken = await _member(session, branch, "王五", tg=20)
    invite = await onboarding.create_invite(session, ROOT, NOW, branch.id)
    limit = onboarding.JOIN_REQUESTS_PER_DAY
    for i in range(limit - 1):
        await onboarding.request_as_new(session, NOW + timedelta(minutes=i), invite.id, 99, "新人")
    # Claiming someone else's roster entry pings the leaders too: it counts.
    out = await onboarding.claim_member(session, NOW, invite.id, taken.id, 99, "新人")
    assert out.kind is onboarding.ClaimKind.conflict and out.notify == [10]
    for attempt in (
        lambda: onboarding.request_as_new(session, NOW, invite.id, 99, "新人"),
        lambda: onboarding.claim_member(session, NOW, invite.id, taken.id, 99, "新人"),
    ):
        with pytest.raises(ServiceError) as refused:
            await attempt()
        assert refused.value.code == "join.too_many" and refused.value.params["limit"] == limit
    assert await _requests(session) == limit
    # Another person is not affected, and the same person may ask again a day later.
    await onboarding.request_as_new(session, NOW, invite.id, 98, "另一人")
    later = NOW + timedelta(days=1, minutes=limit)
    assert (await onboarding.request_as_new(session, later, invite.id, 99, "新人")).request
