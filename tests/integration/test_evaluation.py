"""Democratic evaluation services on SQLite and PostgreSQL: stages, ballots, review."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from bot.db.engine import session_factory
from bot.db.models import (
    AuditLog,
    EvalCampaign,
    EvalResult,
    EvalSeat,
    EvalTally,
    EvalVoter,
    MeetingAttendee,
    Member,
)
from bot.services import ballots, eval_review, evaluation
from bot.services.errors import ServiceError
from bot.services.members import Principal
from tests.integration.eval_world import (
    NOW,
    ROOT,
    STAFF_TG,
    TODAY,
    VRUBRIC,
    add_members,
    add_year_of_meetings,
    make_world,
    to_vote,
    vote_all,
)


async def _count(session, model, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return await session.scalar(stmt)


async def test_stages_move_one_at_a_time_and_only_staff_reopen(session):
    w = await make_world(session, 6)
    sec = await w.voter(session, 0)
    member = await w.voter(session, 3)
    staff = await w.principal(session, STAFF_TG)
    c = await evaluation.open_campaign(session, sec, NOW, TODAY, w.branch.id, "2026")
    with pytest.raises(ServiceError, match="eval.exists"):
        await evaluation.open_campaign(session, sec, NOW, TODAY, w.branch.id, "2026")
    with pytest.raises(ServiceError, match="access.denied"):
        await evaluation.advance(session, member, NOW, TODAY, c.id, "self", VRUBRIC)
    with pytest.raises(ServiceError, match="eval.wrong_stage"):  # skipping is refused
        await evaluation.advance(session, sec, NOW, TODAY, c.id, "vote", VRUBRIC)
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "self", VRUBRIC)
    assert c.stage == "vote"
    with pytest.raises(ServiceError, match="eval.wrong_stage"):  # the same press again
        await evaluation.advance(session, sec, NOW, TODAY, c.id, "self", VRUBRIC)
    with pytest.raises(ServiceError, match="access.denied"):
        await evaluation.reopen(session, sec, NOW, c.id, "vote", "mistake")
    with pytest.raises(ServiceError, match="eval.reason_required"):
        await evaluation.reopen(session, staff, NOW, c.id, "vote", "  ")
    await evaluation.reopen(session, staff, NOW, c.id, "vote", "opened too early")
    assert c.stage == "self" and await _count(session, EvalTally, campaign_id=c.id) == 0
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "self", VRUBRIC)
    await vote_all(session, w, c.id, {1: {w.members[2].id: 0}})
    with pytest.raises(ServiceError, match="eval.vote_counted"):  # ballots exist
        await evaluation.reopen(session, staff, NOW, c.id, "vote", "again")
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "vote", VRUBRIC)
    with pytest.raises(ServiceError, match="eval.vote_counted"):  # never back into a vote
        await evaluation.reopen(session, staff, NOW, c.id, "review", "recount")
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "review", VRUBRIC)
    with pytest.raises(ServiceError, match="eval.notice_running"):
        await evaluation.advance(session, sec, NOW, TODAY, c.id, "notice", VRUBRIC)
    later = TODAY + timedelta(days=60)
    await evaluation.advance(session, sec, NOW, later, c.id, "notice", VRUBRIC)
    with pytest.raises(ServiceError, match="access.denied"):  # approval is the superior's
        await evaluation.advance(session, sec, NOW, later, c.id, "approval", VRUBRIC)
    await evaluation.advance(session, staff, NOW, later, c.id, "approval", VRUBRIC)
    assert c.stage == "final"
    actions = (
        await session.execute(
            select(AuditLog.action).where(AuditLog.entity == "eval_campaign").order_by(AuditLog.id)
        )
    ).scalars()
    assert list(actions) == ["open", "advance", "reopen"] + ["advance"] * 5


async def test_staff_open_a_whole_subtree_in_one_statement(session):
    w = await make_world(session, 3)
    staff = await w.principal(session, STAFF_TG)
    sec = await w.voter(session, 0)
    with pytest.raises(ServiceError, match="access.denied"):
        await evaluation.open_for_subtree(session, sec, NOW, TODAY, w.city, "2026")
    await evaluation.open_campaign(session, sec, NOW, TODAY, w.branch.id, "2026")
    assert await evaluation.open_for_subtree(session, staff, NOW, TODAY, w.city, "2026") == 1
    assert await evaluation.open_for_subtree(session, staff, NOW, TODAY, w.city, "2026") == 0
    page, stages, overdue = await evaluation.subtree_campaigns(
        session, staff, [w.city], "2026", TODAY
    )
    assert page.total == 2 and stages == {"self": 2} and overdue == 0
    late = TODAY + timedelta(days=30)
    page, _, overdue = await evaluation.subtree_campaigns(
        session, staff, [w.city], "2026", late, overdue_only=True
    )
    assert page.total == 2 == overdue and all(line.overdue for line in page.items)


async def test_self_assessment_editable_until_the_stage_closes(session):
    w = await make_world(session, 6)
    sec = await w.voter(session, 0)
    me = await w.voter(session, 2)
    c = await evaluation.open_campaign(session, sec, NOW, TODAY, w.branch.id, "2026")
    items = evaluation.self_questions(VRUBRIC, me.member.category)
    answers = {i.key: 0 for i in items}
    with pytest.raises(ServiceError, match="eval.answers_incomplete"):
        await evaluation.save_self(session, me, NOW, TODAY, c.id, {}, "", VRUBRIC)
    row = await evaluation.save_self(session, me, NOW, TODAY, c.id, answers, "一年来", VRUBRIC)
    assert row.score == 100
    answers[items[0].key] = 3
    row = await evaluation.save_self(session, me, NOW, TODAY, c.id, answers, "改", VRUBRIC)
    assert row.score < 100 and row.summary == "改"
    status = await evaluation.self_status(session, sec, c.id)
    assert (status.submitted, status.total) == (1, 6)
    with pytest.raises(ServiceError, match="access.denied"):
        await evaluation.self_status(session, me, c.id)
    late = c.self_due + timedelta(days=1)
    with pytest.raises(ServiceError, match="eval.stage_over"):
        await evaluation.save_self(session, me, NOW, late, c.id, answers, "", VRUBRIC)


async def test_results_only_after_close_and_with_k_voters(session):
    w = await make_world(session, 6)
    sec = await w.voter(session, 0)
    c = await to_vote(session, w, min_voters=5)
    ids = [m.id for m in w.members]
    marks = {i: {ids[j]: (i + j) % 4 for j in range(6) if j != i} for i in range(4)}
    await vote_all(session, w, c.id, marks)
    with pytest.raises(ServiceError, match="ballot.still_open"):
        await ballots.results(session, sec, c.id)
    assert await ballots.turnout(session, c.id) == ballots.Turnout(4, 6)
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "vote", VRUBRIC)
    with pytest.raises(ServiceError, match="ballot.too_few_voters"):  # 4 < k = 5
        await ballots.results(session, sec, c.id)
    # Below k the vote is left out of the grades too: nothing of it can be read back.
    rows = await eval_review.grades_of(session, c.id)
    assert all(r.breakdown["parts"]["vote"] is None for _, r in rows)


async def test_counts_equal_the_ballots_cast(session):
    w = await make_world(session, 7)
    sec = await w.voter(session, 0)
    c = await to_vote(session, w)
    ids = [m.id for m in w.members]
    rng = random.Random(7)
    marks = {
        i: {ids[j]: rng.randrange(4) for j in range(7) if j != i and rng.random() < 0.8}
        for i in range(7)
    }
    await vote_all(session, w, c.id, marks)
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "vote", VRUBRIC)
    found = await ballots.results(session, sec, c.id)
    expected = {m: [0, 0, 0, 0] for m in ids}
    for ballot in marks.values():
        for cand, band in ballot.items():
            expected[cand][band] += 1
    assert found.voters == 7
    assert {k: list(v) for k, v in found.counts.items()} == expected


@pytest.mark.parametrize(
    "forge",
    ["unknown campaign", "other branch", "oneself", "bad band", "stranger", "closed", "late"],
)
async def test_forged_or_stale_marks_write_nothing(session, forge):
    w = await make_world(session, 6)
    c = await to_vote(session, w)
    me = await w.voter(session, 2)
    target, band, campaign, today = w.members[3].id, 1, c.id, TODAY
    if forge == "unknown campaign":
        campaign = 9999
    elif forge == "other branch":
        target = w.outsider.id
    elif forge == "oneself":
        target = me.member.id
    elif forge == "bad band":
        band = 4
    elif forge == "stranger":
        me = Principal(telegram_id=77)
    elif forge == "closed":
        sec = await w.voter(session, 0)
        await evaluation.advance(session, sec, NOW, TODAY, c.id, "vote", VRUBRIC)
    elif forge == "late":
        today = c.vote_due + timedelta(days=1)
    with pytest.raises(ServiceError):
        await ballots.check_mark(session, me, campaign, target, band, today, VRUBRIC)
    with pytest.raises(ServiceError):
        await ballots.submit_ballot(session, me, today, campaign, {target: band}, VRUBRIC)
    assert await _count(session, EvalVoter) == 0
    assert await session.scalar(select(func.sum(EvalTally.n))) == 0


async def test_twenty_concurrent_submits_make_one_ballot(engine):
    sessions = session_factory(engine)
    async with sessions() as s:
        w = await make_world(s, 5)
        c = await to_vote(s, w)
        await s.commit()
        voter_id, target = w.members[1].id, w.members[2].id
    outcomes = []

    async def press() -> None:
        async with sessions() as s:
            me = await w.voter(s, 1)
            try:
                await ballots.submit_ballot(s, me, TODAY, c.id, {target: 0}, VRUBRIC)
                await s.commit()
                outcomes.append("ok")
            except ServiceError as err:
                await s.rollback()
                outcomes.append(err.code)

    await asyncio.gather(*(press() for _ in range(20)))
    assert outcomes.count("ok") == 1
    assert outcomes.count("ballot.already_voted") == 19
    async with sessions() as s:
        assert await _count(s, EvalVoter, campaign_id=c.id, member_id=voter_id) == 1
        assert await s.scalar(select(func.sum(EvalTally.n))) == 1


async def test_review_override_needs_a_reason_and_is_audited(session):
    w = await make_world(session, 8)
    sec = await w.voter(session, 0)
    c = await to_vote(session, w)
    ids = [m.id for m in w.members]
    await vote_all(session, w, c.id, {i: {ids[j]: 0 for j in range(8) if j != i} for i in range(8)})
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "vote", VRUBRIC)
    _, page = await eval_review.review_page(session, sec, c.id)
    assert page.total == 8
    who = ids[5]
    with pytest.raises(ServiceError, match="eval.reason_required"):
        await eval_review.override_grade(session, sec, NOW, c.id, who, "qualified", "", VRUBRIC)
    row = await eval_review.override_grade(
        session, sec, NOW, c.id, who, "basically_qualified", "群众反映较多", VRUBRIC
    )
    assert row.grade == "basically_qualified" and row.override_reason == "群众反映较多"
    row = await eval_review.toggle_deduction(
        session, sec, NOW, c.id, ids[6], "role_not_played", "全年未参加志愿服务", VRUBRIC
    )
    assert row.deductions == {"role_not_played": "全年未参加志愿服务"}
    assert row.breakdown["deduction"] > 0
    audits = await _count(session, AuditLog, entity="eval_result")
    assert audits == 2


async def test_results_survive_a_city_scale_batch(session):
    """compute_many over several branches at once gives each branch its own cap."""
    w = await make_world(session, 4)
    staff = await w.principal(session, STAFF_TG)
    await add_members(session, w.other, 6, None, "东风")
    opened = await evaluation.open_for_subtree(session, staff, NOW, TODAY, w.city, "2026")
    assert opened == 2
    campaigns = list((await session.execute(select(EvalCampaign))).scalars())
    for c in campaigns:
        await ballots.prepare_tally(session, c, VRUBRIC)
    assert await eval_review.compute_many(session, campaigns, VRUBRIC) == 4 + 8
    assert ROOT.is_superuser


async def _results(session, campaign_ids) -> dict:
    rows = await session.execute(select(EvalResult).where(EvalResult.campaign_id.in_(campaign_ids)))
    return {
        (r.campaign_id, r.member_id): (
            r.total,
            r.computed_grade,
            r.proposed_grade,
            r.grade,
            r.review_band,
            r.deductions,
            r.override_reason,
            r.breakdown,
            r.mentor_id,
            r.disposal_steps,
        )
        for r in rows.scalars()
    }


@pytest.mark.parametrize("step", [1, eval_review.CHUNK])
async def test_a_city_batch_grades_each_branch_as_it_would_alone(session, monkeypatch, step):
    """compute_many over many campaigns gives exactly what computing each alone gives:
    a member counts only their own branch's meetings (not those of another branch in
    the batch), and the branch's inputs survive a recompute. With `step` 1 the batch
    runs as a city does, in steps scored in a worker thread while the database works."""
    w = await make_world(session, 6)
    staff = await w.principal(session, STAFF_TG)
    others = await add_members(session, w.other, 6, None, "东风")
    # The first member of the branch skipped all its meetings but sat in on the other's.
    stray = w.members[1]
    await session.execute(delete(MeetingAttendee).where(MeetingAttendee.member_id == stray.id))
    await add_year_of_meetings(session, w.other, [*others, stray])
    await evaluation.open_for_subtree(session, staff, NOW, TODAY, w.city, "2026")
    campaigns = list((await session.execute(select(EvalCampaign))).scalars())
    ids = [c.id for c in campaigns]
    for c in campaigns:
        await ballots.prepare_tally(session, c, VRUBRIC)
    mine = next(c for c in campaigns if c.org_id == w.branch.id)
    for c in campaigns:
        await eval_review.compute(session, c, VRUBRIC)
    alone = await _results(session, ids)
    assert alone[mine.id, stray.id][7]["indices"] != alone[mine.id, w.members[2].id][7]["indices"]
    # The branch's own inputs, then a recompute of the whole city.
    who = w.members[3].id
    await session.execute(
        update(EvalResult)
        .where(EvalResult.campaign_id == mine.id, EvalResult.member_id == who)
        .values(
            review_band=3,
            deductions={"role_not_played": "全年未参加志愿服务"},
            grade="unqualified",
            override_reason="群众反映较多",
            mentor_id=w.members[0].id,
            disposal_steps={"talk": True},
        )
    )
    monkeypatch.setattr(eval_review, "CHUNK", step)
    assert await eval_review.compute_many(session, campaigns, VRUBRIC) == 6 + 2 + 6
    monkeypatch.undo()
    batch = await _results(session, ids)
    assert batch.keys() == alone.keys()
    changed = {k for k in batch if batch[k] != alone[k]}
    assert changed == {(mine.id, who)}
    total, _computed, _proposed, grade, band, deds, reason, breakdown, mentor, steps = batch[
        mine.id, who
    ]
    assert (grade, band, reason, mentor) == ("unqualified", 3, "群众反映较多", w.members[0].id)
    assert deds == {"role_not_played": "全年未参加志愿服务"} and steps == {"talk": True}
    assert breakdown["deduction"] > 0 and breakdown["parts"]["review"] == 0
    assert total < alone[mine.id, who][0]
    for c in campaigns:  # and each alone again: the same as the batch
        await eval_review.compute(session, c, VRUBRIC)
    assert await _results(session, ids) == batch


async def test_a_step_that_cannot_stand_stops_a_city_run_cleanly(session, monkeypatch):
    """An override over the cap in one step of a city run: the run stops with the
    branch's error, no statement is left running, and the transaction can roll back."""
    w = await make_world(session, 6)
    staff = await w.principal(session, STAFF_TG)
    await add_members(session, w.other, 6, None, "东风")
    await evaluation.open_for_subtree(session, staff, NOW, TODAY, w.city, "2026")
    found = await session.execute(select(EvalCampaign).order_by(EvalCampaign.id))
    campaigns = list(found.scalars())
    for c in campaigns:
        await ballots.prepare_tally(session, c, VRUBRIC)
    monkeypatch.setattr(eval_review, "CHUNK", 1)
    assert await eval_review.compute_many(session, campaigns, VRUBRIC) == 14
    await session.commit()
    await session.execute(
        update(EvalResult)
        .where(EvalResult.campaign_id == campaigns[0].id)
        .values(grade="excellent", override_reason="全体优秀")
    )
    with pytest.raises(ServiceError, match="eval.override_"):
        await eval_review.compute_many(session, campaigns, VRUBRIC)
    await session.rollback()
    kept = await session.scalar(
        select(func.count()).select_from(EvalResult).where(EvalResult.override_reason.is_(None))
    )
    assert kept == 14


async def test_closing_the_vote_seals_it_after_the_commit(session):
    """The seal needs its own connection, so it runs once the closing writes are kept."""
    from bot.db import unit

    w = await make_world(session, 5)
    sec = await w.voter(session, 0)
    c = await to_vote(session, w)
    sealed = []
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "vote", VRUBRIC)
    hooks = session.info["after_commit"]
    assert hooks == [ballots.seal]

    async def record(engine) -> None:
        sealed.append(await ballots.seal(engine))

    hooks[:] = [record]
    await unit.UnitOfWork(session).commit()
    assert sealed == [True] and "after_commit" not in session.info


async def test_the_demo_city_has_a_vote_running_and_last_year_approved(session):
    from bot.demo import seed as demo

    info = await demo.seed(session, NOW)
    found = dict((await session.execute(select(EvalCampaign.period, EvalCampaign.stage))).all())
    assert found == {"2025": "final", "2026": "vote"}
    seen = await ballots.turnout(session, info["evaluation_id"])
    assert 0 < seen.voted < seen.electorate  # the demo's own people can still vote


async def test_a_reopened_stage_gets_its_time_again(session):
    """Moved back to the public notice after its window ended, the branch gets a whole
    objection window again (and approval its week after it); nothing is brought forward."""
    w = await make_world(session, 6)
    sec = await w.voter(session, 0)
    staff = await w.principal(session, STAFF_TG)
    c = await to_vote(session, w)
    await vote_all(session, w, c.id, {i: {} for i in range(1, 6)})
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "vote", VRUBRIC)
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "review", VRUBRIC)
    later = TODAY + timedelta(days=60)
    await evaluation.advance(session, sec, NOW, later, c.id, "notice", VRUBRIC)
    window = (c.notice_due - c.review_due).days
    self_due = c.self_due
    await evaluation.reopen(session, staff, NOW, c.id, "approval", "objection overlooked", later)
    assert c.stage == "notice"
    assert c.notice_due == later + timedelta(days=window)
    assert c.approval_due == c.notice_due + timedelta(days=7)
    assert c.self_due == self_due
    change = (
        (
            await session.execute(
                select(AuditLog.changes).where(AuditLog.action == "reopen").order_by(AuditLog.id)
            )
        )
        .scalars()
        .all()[-1]
    )
    assert change["notice_due"][1] == c.notice_due.isoformat()
    # The branch may not send it up again before the new window ends.
    with pytest.raises(ServiceError, match="eval.notice_running"):
        await evaluation.advance(session, sec, NOW, later, c.id, "notice", VRUBRIC)


async def test_a_ballot_is_read_a_page_at_a_time_and_a_stale_page_shows_the_last(session):
    """A mark redraws only its page: the voter is never on it, the names come in order,
    the size counts everyone else, and a page past the end (an old button) is the last."""
    w = await make_world(session, 20)
    c = await to_vote(session, w)
    # Voters whose own seat is first, inside a page, at a page's edges, and last.
    for who in range(20):
        voter = await w.voter(session, who)
        others = sorted((m.name, m.id) for m in w.members if m.id != voter.member.id)
        for page in (0, 1, 2):
            sheet = await ballots.ballot_sheet(session, voter, c.id, TODAY, page, 8)
            shown = sheet.candidates
            assert shown.page == page and shown.total == 19 and shown.pages == 3
            assert shown.items == [(i, n) for n, i in others[page * 8 : page * 8 + 8]], who
    me = await w.voter(session, 4)
    others = sorted((m.name, m.id) for m in w.members if m.id != me.member.id)
    stale = await ballots.ballot_sheet(session, me, c.id, TODAY, 7, 8)
    assert stale.candidates.page == 2 and len(stale.candidates.items) == 3
    marked = others[10][1]
    sheet = await ballots.check_mark(session, me, c.id, marked, 1, TODAY, VRUBRIC, 1, 8)
    assert sheet.candidates.items[2] == (marked, others[10][0])
    with pytest.raises(ServiceError) as refused:
        await ballots.check_mark(session, me, c.id, w.outsider.id, 1, TODAY, VRUBRIC, 1, 8)
    assert refused.value.code == "ballot.mark_invalid"
    with pytest.raises(ServiceError) as refused:
        await ballots.check_mark(session, me, c.id, me.member.id, 0, TODAY, VRUBRIC)
    assert refused.value.code == "ballot.self"


async def test_a_vote_open_before_the_seats_migration_gets_its_seats(engine):
    """0013 gives the campaigns already voting each candidate's seat in name order, as
    prepare_tally gives them (taken back to 0012 and up again: the backfill runs)."""
    from alembic import command

    from bot.db.migrate import alembic_config

    sessions = session_factory(engine)
    async with sessions() as session:
        w = await make_world(session, 12)
        c = await to_vote(session, w)
        await session.commit()
    seats = select(EvalSeat.seat, EvalSeat.member_id).where(EvalSeat.campaign_id == c.id)
    async with sessions() as session:
        before = sorted((await session.execute(seats)).all())
        names = dict((await session.execute(select(Member.id, Member.name))).all())
    assert [s for s, _m in before] == list(range(12))
    in_order = [m for _s, m in before]
    assert in_order == sorted(in_order, key=lambda m: (names[m], m))
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))

    def migrate(conn) -> None:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012_h14month_facts_token")
        command.upgrade(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(migrate)
    async with sessions() as session:
        assert sorted((await session.execute(seats)).all()) == before
