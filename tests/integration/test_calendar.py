"""The scheduler and the month's reminders, with the clock moved instead of waited for.

October 2026 in China: the 1st–7th are the National Day holiday, Saturday the 10th is an
adjusted working day, Sunday the 25th is a weekend, the month's items fall due on
Saturday the 31st.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build, job_context, make_scheduler
from bot.clock import FixedClock
from bot.config import load_settings
from bot.db.models import JobRun, NotificationPref, Outbox, SchedulerLock, Staff
from bot.scheduler.lock import SchedulerBusy
from bot.services import calendar, members, orgs
from bot.services.members import Principal
from tests.timetravel import ticks

ROOT = Principal(telegram_id=1, is_superuser=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")
URUMQI = ZoneInfo("Asia/Urumqi")  # UTC+6: its 09:00 is two hours after Shanghai's
SEC, ORG, FAR_SEC, STAFF = 500, 501, 600, 700
START = datetime(2026, 10, 1, 0, 0, tzinfo=SHANGHAI).astimezone(UTC)


def local(month: int, day: int, hour: int, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=tz).astimezone(UTC)


async def make_app(engine: AsyncEngine, **settings) -> App:
    app = build(
        load_settings(database_url="sqlite+aiosqlite:///unused.db", **settings),
        clock=FixedClock(at=START),
        engine=engine,
    )
    return app


@pytest.fixture
async def app(engine: AsyncEngine) -> AsyncIterator[App]:
    app = await make_app(engine)
    yield app
    await app.dispatcher.storage.close()


async def seed_city(app: App) -> None:
    """A city (staff 700), a Shanghai branch (secretary 500 in English, organiser 501 in
    Chinese) and a branch in Urumqi's time zone (secretary 600)."""
    now = app.clock.now()
    async with app.sessions() as session:
        city = await orgs.create_org(session, ROOT.actor, now, name="冷水江市委", kind="committee")
        session.add(Staff(org_id=city.id, telegram_id=STAFF, name="周组织", created_at=now))
        near = await orgs.create_org(
            session,
            ROOT.actor,
            now,
            name="红旗村党支部",
            kind="branch",
            parent_id=city.id,
            domain="village",
        )
        far = await orgs.create_org(
            session,
            ROOT.actor,
            now,
            name="天山社区党支部",
            kind="branch",
            parent_id=city.id,
            domain="community",
        )
        far.timezone = "Asia/Urumqi"
        for branch, tg, role, lang in (
            (near, SEC, "secretary", "en"),
            (near, ORG, "organiser", "zh_Hans"),
            (far, FAR_SEC, "secretary", "zh_Hans"),
        ):
            m = await members.add_member(
                session, ROOT.actor, now, org_id=branch.id, name=f"书记{tg}", category="agency"
            )
            await members.set_role(session, ROOT.actor, now, m, role)
            await members.link_telegram(session, ROOT.actor, now, m, tg)
            m.locale = lang
        await session.commit()


async def outbox_rows(app: App) -> list[Outbox]:
    async with app.sessions() as session:
        return list((await session.execute(select(Outbox).order_by(Outbox.id))).scalars())


def kinds_by_day(rows: list[Outbox], chat: int) -> list[tuple[str, date, int]]:
    out = []
    for r in rows:
        if r.chat_id == chat:
            at = r.created_at.astimezone(SHANGHAI)
            out.append((r.kind, at.date(), at.hour))
    return out


async def test_a_month_of_reminders_each_once_on_its_day_and_hour_in_its_language(app):
    await seed_city(app)
    ctx, clock = job_context(app), app.clock
    jobs = make_scheduler(app, None).jobs.values()
    # Every hour from 07:00 to 13:00, where the reminders fall (and a bug would move them
    # by an hour or two, or from Urumqi's 09:00 to Shanghai's), every 4 hours besides: a
    # reminder at a skipped hour shows at the next tick, on a wrong hour (tests.timetravel).
    for at in ticks(START, local(10, 31, 23), SHANGHAI, hourly=range(7, 14)):
        clock.at = at
        for job in jobs:  # what the hourly trigger does, without writing each run down
            await job.func(ctx)
    rows = await outbox_rows(app)

    # The kickoff moves past the National Day holiday to Thursday the 8th, 09:00.
    # The 10th is an adjusted working day; the 25th (Sunday) moves to Monday the 26th.
    # The month's items fall due on Saturday the 31st: warnings on the 28th and 30th.
    expected = [
        ("kickoff", date(2026, 10, 8), 9),
        ("outstanding", date(2026, 10, 10), 9),
        ("outstanding", date(2026, 10, 20), 9),
        ("outstanding", date(2026, 10, 26), 9),
        ("due", date(2026, 10, 28), 9),
        ("due", date(2026, 10, 30), 9),
    ]
    assert kinds_by_day(rows, SEC) == expected
    assert kinds_by_day(rows, ORG) == expected
    # Urumqi's 09:00 is 11:00 in Shanghai.
    assert kinds_by_day(rows, FAR_SEC) == [(k, d, 11) for k, d, _ in expected]
    # September was never closed: the staff hear it on the first working day.
    assert kinds_by_day(rows, STAFF) == [("month_close", date(2026, 10, 8), 9)]

    by_chat = {(r.chat_id, r.kind): r.text for r in rows}
    assert "has begun for 红旗村党支部" in by_chat[SEC, "kickoff"]
    assert "工作开始了" in by_chat[ORG, "kickoff"]
    assert "still open" in by_chat[SEC, "outstanding"]
    assert "未完成" in by_chat[ORG, "outstanding"]
    assert "due on" in by_chat[SEC, "due"]
    assert "/notifications" in by_chat[SEC, "due"]  # optional: can be muted
    assert "2026-09" in by_chat[STAFF, "month_close"]
    assert all(r.not_before == r.created_at for r in rows)  # none in quiet hours


async def test_muted_topics_are_skipped(app):
    await seed_city(app)
    async with app.sessions() as session:
        session.add(NotificationPref(telegram_id=SEC, topic="outstanding"))
        await session.commit()
    app.clock.at = local(10, 20, 9)
    await make_scheduler(app, None).run_all()
    rows = await outbox_rows(app)
    assert {r.chat_id for r in rows if r.kind == "outstanding"} == {ORG}


async def test_downtime_across_three_reminder_times_gives_one_within_grace(app):
    await seed_city(app)
    scheduler = make_scheduler(app, None)
    app.clock.at = local(10, 8, 12)
    await scheduler.run_all()
    before = len(await outbox_rows(app))
    # Down from the 8th to Monday the 26th, 10:00: the 10th, the 20th and the 26th passed.
    app.clock.at = local(10, 26, 10)
    await scheduler.run_all()
    await scheduler.run_all()
    new = (await outbox_rows(app))[before:]
    assert sorted((r.chat_id, r.kind, r.dedupe_key.split(":")[1]) for r in new) == [
        (SEC, "outstanding", "open-25"),
        (ORG, "outstanding", "open-25"),
    ]
    # Beyond the grace time nothing of the 26th is sent (in Urumqi, 09:00 came two hours
    # later and has passed by as much as the grace time too).
    fresh = make_scheduler(app, None)  # a restarted process: nothing remembered in memory
    app.clock.at = local(10, 26, 9, URUMQI) + timedelta(hours=app.settings.reminder_grace_hours)
    await fresh.run_all()
    assert len(await outbox_rows(app)) == before + 2


async def test_a_restarted_scheduler_catches_up_once(app):
    await seed_city(app)
    app.clock.at = local(10, 19, 12)
    async with make_scheduler(app, None) as scheduler:
        await scheduler.run_all()
    app.clock.at = local(10, 20, 10, SHANGHAI) + timedelta(minutes=5)  # missed 09:00 and 10:00

    async def ran_since(t: datetime) -> bool:
        async with app.sessions() as session:
            runs = (await session.execute(select(JobRun))).scalars().all()
            return all(r.last_run_at is not None and r.last_run_at >= t for r in runs)

    async with make_scheduler(app, None):
        deadline = time.monotonic() + 20
        while not await ran_since(app.clock.now()):
            assert time.monotonic() < deadline, "missed jobs were not run at start"
            await asyncio.sleep(0.05)
    rows = [r for r in await outbox_rows(app) if r.kind == "outstanding"]
    assert sorted(r.chat_id for r in rows) == [SEC, ORG]  # Urumqi's 09:00 is still to come


async def test_quiet_hours_hold_a_reminder_until_morning(engine):
    app = await make_app(engine, reminder_hour=22)
    await seed_city(app)
    app.clock.at = local(10, 8, 22)
    await make_scheduler(app, None).run_all()
    kickoff = [r for r in await outbox_rows(app) if r.chat_id == SEC and r.kind == "kickoff"]
    assert [r.not_before for r in kickoff] == [local(10, 9, 8)]
    await app.dispatcher.storage.close()


async def test_a_second_scheduler_is_refused_until_the_first_stops(app):
    first = make_scheduler(app, None)
    await first.start()
    try:
        with pytest.raises(SchedulerBusy, match="another scheduler is running"):
            await make_scheduler(app, None).start()
    finally:
        await first.stop()
    second = make_scheduler(app, None)
    await second.start()
    await second.stop()


async def test_five_restarts_leave_the_same_jobs(app):
    seen = []
    for _ in range(5):
        async with make_scheduler(app, None) as scheduler:
            seen.append(sorted(job.id for job in scheduler.aps.get_jobs()))
            job = scheduler.aps.get_job("calendar.kickoff")
            assert job.coalesce and job.misfire_grace_time == 12 * 3600
        async with app.sessions() as session:
            n = (await session.execute(select(func.count()).select_from(JobRun))).scalar_one()
        assert n == len(seen[0])
    assert seen == [seen[0]] * 5
    assert "calendar.kickoff" in seen[0] and "calendar.due" in seen[0]


# SQLite only: PostgreSQL's advisory lock goes with the holder's connection.
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_a_dead_holder_on_this_machine_is_taken_over(app, engine):
    import socket

    async with app.sessions() as session:
        session.add(
            SchedulerLock(
                name="scheduler",
                holder=f"{socket.gethostname()}:999999999:dead",
                expires_at=app.clock.now() + timedelta(hours=1),
            )
        )
        await session.commit()
    async with make_scheduler(app, None) as scheduler:
        assert scheduler.aps.running


def test_unknown_years_count_weekends_and_warn_once(caplog):
    with caplog.at_level(logging.WARNING, logger="bot.services.calendar"):
        assert calendar.is_workday(date(2099, 1, 1))  # a Thursday
        assert not calendar.is_workday(date(2099, 1, 3))  # a Saturday
        assert calendar.next_workday(date(2099, 1, 3)) == date(2099, 1, 5)
    assert len([r for r in caplog.records if "2099" in r.getMessage()]) == 1


def test_quiet_hours_span_midnight():
    quiet = calendar.parse_quiet_hours("21:00-08:00")
    at = datetime(2026, 10, 8, 23, 30, tzinfo=SHANGHAI)
    assert calendar.deliver_at(at, SHANGHAI, quiet) == local(10, 9, 8)
    early = datetime(2026, 10, 9, 7, 0, tzinfo=SHANGHAI)
    assert calendar.deliver_at(early, SHANGHAI, quiet) == local(10, 9, 8)
    day = datetime(2026, 10, 9, 12, 0, tzinfo=SHANGHAI)
    assert calendar.deliver_at(day, SHANGHAI, quiet) == day


def test_job_context_is_what_the_jobs_get(app):
    ctx = job_context(app)
    assert ctx.grace == timedelta(hours=12)
    assert ctx.quiet == calendar.parse_quiet_hours("21:00-08:00")


async def test_staff_hear_of_the_month_close_in_their_committee_time_zone(app):
    """A county committee keeping Urumqi's time: its staff hear at 09:00 there (11:00 in
    Shanghai), the city's staff at 09:00 in Shanghai."""
    await seed_city(app)
    now = app.clock.now()
    async with app.sessions() as session:
        county = await orgs.create_org(session, ROOT.actor, now, name="天山县委", kind="committee")
        county.timezone = "Asia/Urumqi"
        await orgs.create_org(
            session,
            ROOT.actor,
            now,
            name="天山村党支部",
            kind="branch",
            parent_id=county.id,
            domain="village",
        )
        session.add(Staff(org_id=county.id, telegram_id=STAFF + 1, name="县组织部", created_at=now))
        await session.commit()
    ctx = job_context(app)
    jobs = [j for j in make_scheduler(app, None).jobs.values() if j.id == "calendar.month_close"]
    app.clock.at = local(10, 8, 0)
    while app.clock.now() < local(10, 9, 0):
        for job in jobs:
            await job.func(ctx)
        app.clock.advance(hours=1)
    rows = await outbox_rows(app)
    assert kinds_by_day(rows, STAFF) == [("month_close", date(2026, 10, 8), 9)]
    assert kinds_by_day(rows, STAFF + 1) == [("month_close", date(2026, 10, 8), 11)]
