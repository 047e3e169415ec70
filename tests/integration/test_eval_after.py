"""What follows each grade, on SQLite and PostgreSQL: which pairings get the monthly
check-in, and who may pair whom."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import insert

from bot.db.models import EvalCampaign, EvalResult
from bot.services import eval_after, evaluation
from bot.services.errors import ServiceError
from tests.integration.eval_world import NOW, TODAY, make_world


async def _final(session, org_id: int, period: str, grades: dict[int, str], mentors=None):
    c = EvalCampaign(
        org_id=org_id,
        period=period,
        stage="final",
        created_at=NOW,
        updated_at=NOW,
        **evaluation.deadlines(TODAY),
    )
    session.add(c)
    await session.flush()
    mentors = mentors or {}
    await session.execute(
        insert(EvalResult),
        [
            {
                "campaign_id": c.id,
                "member_id": m,
                "total": Decimal(80),
                "computed_grade": g,
                "proposed_grade": g,
                "grade": g,
                "deductions": {},
                "breakdown": {},
                "disposal_steps": {},
                "mentor_id": mentors.get(m),
            }
            for m, g in grades.items()
        ],
    )
    return c


async def test_only_the_latest_approved_evaluation_pairs_get_check_ins(session):
    w = await make_world(session, 6)
    ids = [m.id for m in w.members]
    grades = {i: "qualified" for i in ids}
    old = await _final(
        session, w.branch.id, "2025", grades | {ids[2]: "basically_qualified"}, {ids[2]: ids[3]}
    )
    assert [(p.member.id, p.mentor.id) for p in await eval_after.current_pairs(session)] == [
        (ids[2], ids[3])
    ]
    new = await _final(
        session, w.branch.id, "2026", grades | {ids[4]: "unqualified"}, {ids[4]: ids[5]}
    )
    pairs = await eval_after.current_pairs(session)
    assert [(p.campaign_id, p.member.id, p.mentor.id) for p in pairs] == [(new.id, ids[4], ids[5])]
    assert old.id != new.id
    w.members[5].status = "left"  # a mentor who left is not asked
    await session.flush()
    assert await eval_after.current_pairs(session) == []


async def test_who_may_be_paired(session):
    w = await make_world(session, 6)
    ids = [m.id for m in w.members]
    grades = {i: "qualified" for i in ids} | {ids[2]: "basically_qualified", ids[3]: "unqualified"}
    c = await _final(session, w.branch.id, "2026", grades)
    sec = await w.voter(session, 0)
    member = await w.voter(session, 4)
    with pytest.raises(ServiceError, match="access.denied"):
        await eval_after.assign_mentor(session, member, NOW, c.id, ids[2], ids[5], 0)
    with pytest.raises(ServiceError, match="eval.mentor_mentored"):
        await eval_after.assign_mentor(session, sec, NOW, c.id, ids[2], ids[3], 0)
    with pytest.raises(ServiceError, match="member.not_found"):  # another branch's member
        await eval_after.assign_mentor(session, sec, NOW, c.id, ids[2], w.outsider.id, 0)
    with pytest.raises(ServiceError, match="eval.no_mentoring"):  # a qualified member
        await eval_after.assign_mentor(session, sec, NOW, c.id, ids[4], ids[5], 0)
    await eval_after.assign_mentor(session, sec, NOW, c.id, ids[2], ids[5], 0)
    with pytest.raises(ServiceError, match="record.stale"):  # shown with no mentor
        await eval_after.assign_mentor(session, sec, NOW, c.id, ids[2], ids[4], 0)
    row, _m, mentor = await eval_after.assign_mentor(
        session, sec, NOW, c.id, ids[2], ids[4], ids[5]
    )
    assert row.mentor_id == mentor.id == ids[4]
