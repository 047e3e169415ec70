"""The democratic evaluation's reminders with the clock moved hour by hour (issue 11,
calendar: evaluation stages, mentoring check-ins).

The campaign opens on Friday 20 November 2026 at 10:00 in Shanghai: the self-assessment
closes on Friday 4 December, the vote (opened on Saturday the 5th) on Friday the 11th,
the public notice on Wednesday the 23rd, the approval on Wednesday the 30th. Every hour
a *fresh* job context runs the jobs (as after a restart: nothing remembered in memory),
so only the outbox's keys can keep a reminder from going twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build, job_context
from bot.clock import FixedClock
from bot.config import load_settings
from bot.db.models import EvalCampaign, Member, Outbox, OutboxStatus
from bot.scheduler import evaluation as eval_jobs
from bot.services import ballots, evaluation
from bot.services.calendar import Occasion
from tests.integration.eval_world import SECRETARY_TG, STAFF_TG, VRUBRIC, make_world
from tests.timetravel import ticks

SHANGHAI = ZoneInfo("Asia/Shanghai")
N = 8  # members 0…7; 0 the secretary, 1 the organising member
TG = [SECRETARY_TG + i for i in range(N)]


def local(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


START = local(11, 20, 10)


async def make_app(engine: AsyncEngine, **settings) -> App:
    return build(
        load_settings(database_url="sqlite+aiosqlite:///unused.db", **settings),
        clock=FixedClock(at=START),
        engine=engine,
    )


@pytest.fixture
async def app(engine: AsyncEngine) -> AsyncIterator[App]:
    app = await make_app(engine)
    yield app
    await app.dispatcher.storage.close()


async def seed(app: App) -> int:
    """The branch, its members speaking Chinese (even) and English (odd), the campaign."""
    async with app.sessions() as session:
        world = await make_world(session, N)
        for i, m in enumerate(world.members):
            m.locale = "zh_Hans" if i % 2 == 0 else "en"
        sec = await world.voter(session, 0)
        c = await evaluation.open_campaign(
            session, sec, app.clock.now(), app.clock.today(), world.branch.id, "2026"
        )
        await session.commit()
        return c.id


async def run_jobs(app: App) -> None:
    ctx = job_context(app)  # fresh each time: a restarted scheduler remembers nothing
    for spec in eval_jobs.jobs.specs:
        await spec.func(ctx)
    async with app.sessions() as session:  # what the sender does with what is ready
        await session.execute(
            update(Outbox)
            .where(Outbox.status == OutboxStatus.pending, Outbox.not_before <= app.clock.now())
            .values(status=OutboxStatus.sent, sent_at=app.clock.now())
        )
        await session.commit()


async def act(app: App, cid: int, i: int, what: str) -> None:
    """Member i does `what` now: assess themselves, cast a ballot, or close a stage."""
    now, today = app.clock.now(), app.clock.today()
    async with app.sessions() as session:
        members = list(
            (
                await session.execute(
                    select(Member).where(Member.telegram_id.in_(TG)).order_by(Member.telegram_id)
                )
            ).scalars()
        )
        from bot.services.members import load_principal

        who = await load_principal(session, STAFF_TG if i < 0 else TG[i], frozenset())
        if what == "assess":
            items = evaluation.self_questions(VRUBRIC, members[i].category)
            answers = {item.key: 0 for item in items}
            await evaluation.save_self(session, who, now, today, cid, answers, "", VRUBRIC)
        elif what == "ballot":
            marks = {members[(i + 1) % N].id: 0}
            await ballots.submit_ballot(session, who, today, cid, marks, VRUBRIC)
        else:
            stage = what.removeprefix("close:")
            await evaluation.advance(session, who, now, today, cid, stage, VRUBRIC)
        await session.commit()


async def outbox(app: App) -> list[Outbox]:
    async with app.sessions() as session:
        return list((await session.execute(select(Outbox).order_by(Outbox.id))).scalars())


def when(row: Outbox) -> tuple[date, int]:
    at = row.created_at.astimezone(SHANGHAI)
    return at.date(), at.hour


async def test_a_campaign_reminds_the_right_people_at_the_right_times_once(app):
    cid = await seed(app)
    script = {
        local(11, 20, 11): [(0, "assess")],
        local(11, 25, 10): [(2, "assess")],
        local(12, 3, 10): [(3, "assess")],
        local(12, 5, 10): [(0, "close:self")],  # the secretary opens the vote (a Saturday)
        local(12, 5, 11): [(0, "ballot")],
        local(12, 6, 10): [(2, "ballot")],
        local(12, 10, 10): [(4, "ballot")],
        local(12, 12, 10): [(0, "close:vote")],  # the branch review
        local(12, 14, 10): [(0, "close:review")],  # the public notice, until the 23rd
        local(12, 24, 10): [(0, "close:notice")],  # sent up for approval
    }
    clock = app.clock
    vote_rows_seen: list[Outbox] = []
    # Every hour from 07:00 to 13:00, where the reminders fall and the script acts, every
    # 4 hours besides: a reminder at a skipped hour shows at the next tick, on a wrong hour
    # (tests.timetravel). Each tick is a fresh job context, as after a restart.
    acted: set[datetime] = set()
    for at in ticks(START, local(12, 31, 12), SHANGHAI, hourly=range(7, 14)):
        clock.at = at
        for i, what in script.get(at, []):
            await act(app, cid, i, what)
            acted.add(at)
        await run_jobs(app)
        if clock.now().astimezone(SHANGHAI).hour == 12:
            vote_rows_seen += [r for r in await outbox(app) if r.kind == "eval_vote"]
    assert acted == set(script), "a scripted moment fell between ticks"
    rows = await outbox(app)

    def got(kind: str) -> dict[int, list[tuple[date, int]]]:
        out: dict[int, list] = {}
        for r in (
            rows if kind != "eval_vote" else {r.dedupe_key: r for r in vote_rows_seen}.values()
        ):
            if r.kind == kind:
                out.setdefault(r.chat_id, []).append(when(r))
        return out

    # Opened by the secretary outside chat: every other member hears it at once.
    assert got("eval_stage") == {tg: [(date(2026, 11, 20), 10)] for tg in TG[1:]}
    # Self-assessment: 3 days left (Wed 2 Dec) and the last day (Fri 4 Dec), 09:00, only
    # to those who had not assessed themselves by then.
    left3, left1 = (date(2026, 12, 2), 9), (date(2026, 12, 4), 9)
    assert got("eval_self") == {
        TG[1]: [left3, left1],
        TG[3]: [left3],  # assessed on the 3rd
        **{TG[i]: [left3, left1] for i in (4, 5, 6, 7)},
    }
    # The vote: Wed 9 Dec and Fri 11 Dec; the secretary and member 2 voted at once,
    # member 4 between the two reminders.
    vleft3, vleft1 = (date(2026, 12, 9), 9), (date(2026, 12, 11), 9)
    assert got("eval_vote") == {
        **{TG[i]: [vleft3, vleft1] for i in (1, 3, 5, 6, 7)},
        TG[4]: [vleft3],
    }
    # The objection window closed on the 23rd: the leaders hear it on Thursday the 24th.
    assert got("eval_notice_over") == {
        TG[0]: [(date(2026, 12, 24), 9)],
        TG[1]: [(date(2026, 12, 24), 9)],
    }
    # Waiting for the superior: the first working day after it arrived, its last day,
    # the day after it became overdue.
    assert got("eval_approvals") == {
        STAFF_TG: [(date(2026, 12, 25), 9), (date(2026, 12, 30), 9), (date(2026, 12, 31), 9)]
    }
    # Nobody else heard anything: no message to anyone about another person's vote.
    assert {r.chat_id for r in rows} <= {*TG, STAFF_TG}
    assert all(r.not_before == r.created_at for r in rows)  # none held over quiet hours

    texts = {(r.chat_id, r.kind): r.text for r in rows + vote_rows_seen}
    assert "您尚未参加 2026 民主评议的民主测评投票" in texts[TG[6], "eval_vote"]
    assert "You have not voted yet" in texts[TG[5], "eval_vote"]
    assert "cannot be muted" in texts[TG[5], "eval_vote"]
    assert "自评" in texts[TG[4], "eval_self"]
    assert "assessed yourself" in texts[TG[1], "eval_self"]
    assert "公示期满" in texts[TG[0], "eval_notice_over"]
    assert "ended on 2026-12-23" in texts[TG[1], "eval_notice_over"]
    assert "红旗村党支部" in texts[STAFF_TG, "eval_approvals"]
    for r in rows + vote_rows_seen:  # a reminder names only its reader's own duty
        assert "党员0" not in r.text or r.chat_id == STAFF_TG

    # "You have not voted yet" rows are gone once past their grace time (ballot secrecy).
    assert not [r for r in rows if r.kind == "eval_vote"]


async def test_reminders_wait_out_quiet_hours_instead_of_being_queued(engine):
    app = await make_app(engine, reminder_hour=22)  # inside 21:00–08:00
    await seed(app)
    app.clock.at = local(12, 2, 21)
    while app.clock.now() <= local(12, 3, 12):
        await run_jobs(app)
        app.clock.advance(hours=1)
    rows = [r for r in await outbox(app) if r.kind == "eval_self"]
    # Not written at 22:00 for the morning, but at 08:00, when they may go at once.
    assert {when(r) for r in rows} == {(date(2026, 12, 3), 8)}
    assert all(r.not_before == r.created_at for r in rows)
    assert {r.chat_id for r in rows} == set(TG)  # nobody has assessed themselves yet
    await app.dispatcher.storage.close()


def test_a_reminder_on_a_holiday_moves_to_the_working_day_before():
    """A self-assessment due on 5 October 2026 (National Day): both reminders fall in
    the holiday, and both move to Wednesday 30 September — sent once, as the last one."""
    ctx = type(
        "Ctx", (), {"settings": load_settings(database_url="sqlite+aiosqlite:///unused.db")}
    )()
    c = EvalCampaign(
        id=1,
        org_id=1,
        period="2026",
        stage="self",
        self_due=date(2026, 10, 5),
        vote_due=date(2026, 10, 12),
        review_due=date(2026, 10, 19),
        notice_due=date(2026, 10, 24),
        approval_due=date(2026, 10, 31),
        created_at=local(9, 21, 10),
        updated_at=local(9, 21, 10),
    )
    assert eval_jobs.deadline_occasions(ctx, c, SHANGHAI) == [
        Occasion("left-1", datetime(2026, 9, 30, 9, tzinfo=SHANGHAI).astimezone(UTC))
    ]
