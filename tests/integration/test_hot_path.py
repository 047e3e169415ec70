"""What every update pays for, kept small: the principal's queries, filters without threads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from bot.db import rows
from bot.db.models import MeetingNotice, ProcessedUpdate, Rsvp, Staff, UserPref
from bot.services import members, orgs, outbox, rsvp
from bot.services.members import Principal, load_principal
from bot.services.prefs import remember_locale

NOW = datetime(2026, 7, 1, 8, tzinfo=UTC)
ROOT = Principal(telegram_id=1, is_superuser=True)


class Statements:
    """Counts the SQL statements an engine runs while the block is open: SQLAlchemy's,
    and those run straight on the driver (`bot.db.rows.Prepared`)."""

    def __init__(self, engine) -> None:
        self.engine = engine.sync_engine
        self.seen: list[str] = []

    def _count(self, _conn, _cursor, statement, *_args) -> None:
        self.seen.append(statement)

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._count)
        rows.watchers.append(self.seen.append)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)
        rows.watchers.remove(self.seen.append)


async def _world(session):
    city = await orgs.create_org(session, ROOT.actor, NOW, name="市委", kind="committee")
    branch = await orgs.create_org(
        session, ROOT.actor, NOW, name="一支部", kind="branch", parent_id=city.id, domain="village"
    )
    member = await members.add_member(
        session, ROOT.actor, NOW, org_id=branch.id, name="张三", category="rural_community"
    )
    await members.link_telegram(session, ROOT.actor, NOW, member, 10)
    await remember_locale(session, 10, "en")
    session.add(Staff(org_id=city.id, telegram_id=20, name="周", created_at=NOW))
    session.add(UserPref(telegram_id=20, locale="zh_Hans"))
    await session.commit()
    return city, branch


async def test_a_member_and_their_language_cost_one_query(session, engine):
    _city, branch = await _world(session)
    with Statements(engine) as sql:
        who = await load_principal(session, 10, frozenset())
    assert [s.split()[0] for s in sql.seen if not s.startswith(("BEGIN", "SAVEPOINT"))] == [
        "SELECT"
    ]
    assert who.member.name == "张三" and who.branch.id == branch.id
    assert who.saved_locale == "en" and who.staff_orgs == []
    assert who.branch_path == "市委/一支部"  # the branch's path of names, read with it


async def test_staff_and_strangers_still_get_their_rights_and_language(session):
    city, _branch = await _world(session)
    staff = await load_principal(session, 20, frozenset())
    assert [o.id for o in staff.staff_orgs] == [city.id] and staff.is_staff
    assert staff.member is None and staff.saved_locale == "zh_Hans"
    stranger = await load_principal(session, 30, frozenset({30}))
    assert stranger.member is None and stranger.staff_orgs == []
    assert stranger.saved_locale is None and stranger.is_superuser


async def test_the_principal_says_who_was_unreachable_in_the_same_query(session, engine):
    await _world(session)
    for tg in (10, 20, 30):  # a member, staff, a stranger
        await outbox.mark_unreachable(session, NOW, tg)
    await session.commit()
    with Statements(engine) as sql:
        member = await load_principal(session, 10, frozenset())
    assert member.unreachable and len([s for s in sql.seen if s.startswith("SELECT")]) == 1
    assert (await load_principal(session, 20, frozenset())).unreachable
    assert (await load_principal(session, 30, frozenset())).unreachable
    await outbox.clear_unreachable(session, 10)
    assert not (await load_principal(session, 10, frozenset())).unreachable
    assert not (await load_principal(session, 31, frozenset())).unreachable


async def test_a_repeated_rsvp_writes_nothing_and_says_so(session, engine):
    _city, branch = await _world(session)
    notice = MeetingNotice(
        org_id=branch.id,
        kind="general",
        starts_at=NOW + timedelta(days=1),
        topic="学习党章",
        created_at=NOW,
    )
    session.add(notice)
    await session.commit()
    with Statements(engine) as sql:
        first = await rsvp.answer(session, NOW, notice.id, 10, True)
    # The notice and the presser in one statement, then the upsert; on PostgreSQL both,
    # and the counts the notice shows, in one (each a round trip).
    postgres = engine.dialect.name == "postgresql"
    assert [s.split()[0] for s in sql.seen if not s.startswith(("BEGIN", "SAVEPOINT"))] == (
        ["WITH"] if postgres else ["SELECT", "INSERT"]
    )
    assert first.changed and first.notice.id == notice.id and first.coming
    assert first.counts == ((1, 0) if postgres else None)
    again = await rsvp.answer(session, NOW + timedelta(minutes=5), notice.id, 10, True)
    assert not again.changed
    when = (await session.execute(select(Rsvp.at))).scalar_one()
    assert when == NOW  # a repeated answer is not a new one
    assert (await rsvp.answer(session, NOW, notice.id, 10, False, "出差")).changed
    assert not (await rsvp.answer(session, NOW, notice.id, 10, False, " 出差 ")).changed
    ill = await rsvp.answer(session, NOW, notice.id, 10, False, "生病")
    assert ill.changed and ill.counts in (None, (0, 1))
    assert await rsvp.rsvp_counts(session, notice.id) == (0, 1)


def test_every_filter_of_the_bot_is_a_coroutine():
    """aiogram runs a synchronous filter in a worker thread for each update it meets."""
    from handlers import setup_routers

    root = setup_routers()
    routers = [root]
    checked = 0
    while routers:
        router = routers.pop()
        routers.extend(router.sub_routers)
        for observer in router.observers.values():
            for handler in observer.handlers:
                for f in handler.filters or ():
                    assert f.awaitable, f"{router.name}: {handler.callback.__name__}: {f.callback}"
                    checked += 1
    assert checked > 50


# PostgreSQL only: SQLite has no INSERT in a WITH, and its statements cost no round trip.
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_postgres_records_the_update_and_reads_the_member_in_one_statement(session, engine):
    _city, branch = await _world(session)
    with Statements(engine) as sql:
        await members.record_update_reading_principal(session, 5, NOW, 10)
        who = await load_principal(session, 10, frozenset())
    assert len(sql.seen) == 1 and sql.seen[0].startswith("WITH")
    assert who.member.name == "张三" and who.branch.id == branch.id and who.saved_locale == "en"
    assert who.branch_path == "市委/一支部"  # /me's path, read in the same statement
    assert (await session.execute(select(ProcessedUpdate.update_id))).scalars().all() == [5]
    # Read ahead for someone else, or changed since: read again.
    await members.record_update_reading_principal(session, 6, NOW, 10)
    with Statements(engine) as sql:
        assert (await load_principal(session, 20, frozenset())).staff_orgs
    assert sql.seen
    await members.record_update_reading_principal(session, 7, NOW, 10)
    who.member.name = "李四"
    with Statements(engine) as sql:
        assert (await load_principal(session, 10, frozenset())).member.name == "李四"
    assert any(s.startswith("SELECT member") for s in sql.seen)
    # A stranger's update is recorded all the same; a duplicate fails as the INSERT did.
    await members.record_update_reading_principal(session, 8, NOW, 99)
    assert (await load_principal(session, 99, frozenset())).member is None
    with pytest.raises(IntegrityError):
        await members.record_update_reading_principal(session, 8, NOW, 10)
    await session.rollback()
    assert (await session.execute(select(ProcessedUpdate.update_id))).scalars().all() == []
