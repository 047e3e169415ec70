"""Two people deciding on the same record at once (issue 8, item 13): two tasks, two
sessions, each naming the version both were shown (or, for a join request, its being
still pending); exactly one decision is applied and the other is refused, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import session_factory
from bot.db.models import AuditLog, Evidence, JoinRequest, Meeting, Member, PeriodSnapshot
from bot.services import evidence, meetings, members, onboarding, periods
from bot.services.errors import ServiceError
from bot.services.members import Principal, load_principal
from tests.integration import month_world
from tests.integration.month_world import NOW, ORGANISER_TG, RUBRIC, SECRETARY_TG, STAFF_TG


async def _world(engine: AsyncEngine):
    async with session_factory(engine)() as s:
        w = await month_world.build(s)
        saved = await meetings.save_meeting(
            s, RUBRIC, await w.principal(s, SECRETARY_TG), NOW, w.draft()
        )
        await s.commit()
        return w, saved.meeting.id


async def _twice(engine: AsyncEngine, act) -> list[str]:
    async def once(arg) -> str:
        async with session_factory(engine)() as s:
            try:
                await act(s, arg)
                await s.commit()
                return "done"
            except ServiceError as err:
                await s.rollback()
                return err.code

    return sorted(await asyncio.gather(once(0), once(1)))


async def _scalar(engine: AsyncEngine, stmt):
    async with session_factory(engine)() as s:
        return await s.scalar(stmt)


async def test_two_role_changes_on_one_card(engine):
    w, _meeting = await _world(engine)
    li = w.people["李四"].id

    shown = await _scalar(engine, select(Member.version).where(Member.id == li))

    async def appoint_shown(s, i):
        member = await s.get(Member, li)
        who = await load_principal(s, STAFF_TG, frozenset())
        role = ("secretary", "organiser")[i]
        await members.set_role(s, who.actor, NOW, member, role, version=shown)

    assert await _twice(engine, appoint_shown) == ["done", "record.stale"]
    assert await _scalar(engine, select(Member.version).where(Member.id == li)) == shown + 1
    roles = select(func.count()).where(AuditLog.entity == "member", AuditLog.entity_id == li)
    assert await _scalar(engine, roles.where(AuditLog.action == "role")) == 1


async def test_two_deletions_of_one_meeting(engine):
    _w, meeting_id = await _world(engine)

    async def delete(s, _i):
        who = await load_principal(s, SECRETARY_TG, frozenset())
        await meetings.delete_meeting(s, who, NOW, meeting_id, version=0)

    outcomes = await _twice(engine, delete)
    # The second either waited for the first and found the row gone, or came after it.
    assert outcomes == ["done", "meeting.not_found"]
    assert await _scalar(engine, select(func.count(Meeting.id))) == 0
    deleted = select(func.count()).where(AuditLog.entity == "meeting", AuditLog.action == "delete")
    assert await _scalar(engine, deleted) == 1


async def test_two_grades_on_one_view(engine):
    w, _meeting = await _world(engine)
    item = "four_two_procedure"
    async with session_factory(engine)() as s:
        shown = await evidence.item_version(s, RUBRIC, w.branch, item, "2026-07")
    assert shown == 0

    async def grade(s, i):
        who = await load_principal(s, STAFF_TG, frozenset())
        await evidence.record_evidence(
            s, RUBRIC, who, NOW, w.branch.id, item, grade="AC"[i], version=shown
        )

    assert await _twice(engine, grade) == ["done", "record.stale"]
    rows = select(func.count()).where(Evidence.org_id == w.branch.id, Evidence.key == item)
    assert await _scalar(engine, rows) == 1


async def test_two_leaders_deciding_one_join_request_at_once(engine, monkeypatch):
    """The secretary approves while the organising member rejects: on PostgreSQL both
    have read the request as pending before either writes (a barrier)."""
    w, _meeting = await _world(engine)
    async with session_factory(engine)() as s:
        leader = await w.principal(s, SECRETARY_TG)
        invite = await onboarding.create_invite(s, leader, NOW, w.branch.id)
        outcome = await onboarding.request_as_new(s, NOW, invite.id, 4242, "新来的")
        await s.commit()
        request_id = outcome.request.id
    if engine.dialect.name == "postgresql":
        barrier = asyncio.Barrier(2)
        require_org = onboarding.require_org

        async def after_both_read(session, org_id):
            await asyncio.wait_for(barrier.wait(), 10)
            return await require_org(session, org_id)

        monkeypatch.setattr(onboarding, "require_org", after_both_read)

    async def decide(s, i):
        who = await load_principal(s, (SECRETARY_TG, ORGANISER_TG)[i], frozenset())
        await onboarding.decide(s, who, NOW, request_id, approve=i == 0)

    outcomes = await _twice(engine, decide)
    assert outcomes == ["done", "request.already_decided"]
    request = await _scalar(engine, select(JoinRequest).where(JoinRequest.id == request_id))
    linked = await _scalar(engine, select(func.count()).where(Member.telegram_id == 4242))
    # Whichever won, the request and the roster agree.
    assert (request.status, linked) in (("approved", 1), ("rejected", 0))


async def test_two_confirm_alls_at_once_confirm_each_snapshot_once(engine):
    await _world(engine)
    async with session_factory(engine)() as s:
        await periods.close_period(s, RUBRIC, NOW, "2026-06")
        await s.commit()
    total = await _scalar(engine, select(func.count()).select_from(PeriodSnapshot))
    assert total >= 2
    confirmed: list[list[int]] = []

    async def confirm_all(s, i):
        who = (
            Principal(telegram_id=1, is_superuser=True)
            if i == 0
            else await load_principal(s, STAFF_TG, frozenset())
        )
        done = await periods.confirm_all(s, who, NOW, "2026-06")
        confirmed.append([snap.id for snap in done])

    assert await _twice(engine, confirm_all) == ["done", "done"]
    ids = [i for one in confirmed for i in one]
    assert len(ids) == len(set(ids)) == total  # each snapshot confirmed by exactly one
    audits = select(func.count()).where(AuditLog.entity == "snapshot", AuditLog.action == "confirm")
    assert await _scalar(engine, audits) == total
