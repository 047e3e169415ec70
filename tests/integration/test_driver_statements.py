"""Statements run straight on the driver (`bot.db.rows.Prepared`) behave as the ORM's:
inside the session's transaction, with the values the ORM loads, its errors, its flush."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from bot.db import rows, unit
from bot.db.engine import session_factory
from bot.db.models import (
    MeetingNotice,
    Member,
    Organisation,
    PeriodSnapshot,
    ProcessedUpdate,
    Rsvp,
)
from bot.db.rows import Columns, Prepared, attach

NOW = datetime(2026, 7, 1, 8, 30, 15, 123456, tzinfo=UTC)

_COUNT_UPDATES = Prepared(select(func.count()).select_from(ProcessedUpdate))
_RECORD = Prepared(insert(ProcessedUpdate.__table__))
_RENAME = Prepared(
    update(Organisation.__table__)
    .where(Organisation.__table__.c.id == bindparam("org"))
    .values(name=bindparam("name"))
)
_ORG_NAME = Prepared(select(Organisation.name).where(Organisation.id == bindparam("org")))


async def _world(session) -> tuple[Organisation, Member, MeetingNotice, PeriodSnapshot]:
    branch = Organisation(kind="branch", name="一支部", path="", created_at=NOW, domain="village")
    session.add(branch)
    await session.flush()
    branch.path = f"/{branch.id}/"
    member = Member(
        org_id=branch.id,
        name="张三",
        category="rural_community",
        telegram_id=10,
        joined_on=date(2001, 7, 1),
        created_at=NOW,
        updated_at=NOW,
    )
    notice = MeetingNotice(
        org_id=branch.id, kind="general", starts_at=NOW, topic="学习", created_at=NOW
    )
    snapshot = PeriodSnapshot(
        org_id=branch.id,
        period="2026-06",
        score=Decimal("87.50"),
        max_score=Decimal("100.00"),
        proposed_star=4,
        meets_standard=True,
        rubric_version="v1",
        breakdown={"items": [{"id": "a", "done": True, "score": 1.5}], "名": "值"},
        created_at=NOW,
    )
    session.add_all([member, notice, snapshot])
    await session.flush()
    session.add(Rsvp(notice_id=notice.id, member_id=member.id, coming=True, at=NOW))
    await session.commit()
    return branch, member, notice, snapshot


def _values(obj, columns: Columns) -> dict:
    return {key: getattr(obj, key) for key in columns.keys}


@pytest.mark.parametrize("model", [Organisation, Member, MeetingNotice, PeriodSnapshot, Rsvp])
async def test_columns_come_back_as_the_orm_loads_them(session, model):
    await _world(session)
    columns = Columns(model) if model is not Rsvp else None
    selected = columns.all if columns else list(Rsvp.__table__.c)
    direct = await rows.fetch(session, Prepared(select(*selected)), {})
    session.expunge_all()
    loaded = (await session.execute(select(*selected))).all()
    assert direct == [tuple(r) for r in loaded]
    for got, want in zip(direct, loaded, strict=True):
        # Equal is not enough: True == 1 and an aware datetime must stay aware.
        assert [type(v) for v in got] == [type(v) for v in want]
    if columns is not None:
        orm = (await session.execute(select(model))).scalars().one()
        assert _values(orm, columns) == dict(zip(columns.keys, direct[0], strict=True))


async def test_attached_objects_equal_what_the_orm_loads(session):
    _branch, member, notice, snapshot = await _world(session)
    for model, obj in ((Member, member), (MeetingNotice, notice), (PeriodSnapshot, snapshot)):
        columns = Columns(model)
        want = _values(obj, columns)
        (row,) = await rows.fetch(session, Prepared(select(*columns.all)), {})
        session.expunge_all()
        got = attach(session, columns, row)
        assert _values(got, columns) == want
        assert got.created_at.tzinfo is UTC
    assert isinstance(snapshot.breakdown["items"][0]["done"], bool)


async def test_a_rollback_undoes_a_write_on_the_driver(session):
    # The first statement of the transaction: the driver's, so it must begin it.
    assert await rows.write(session, _RECORD, {"update_id": 1, "at": NOW}) == 1
    assert (await rows.fetch(session, _COUNT_UPDATES, {}))[0] == (1,)
    await session.rollback()
    assert (await session.execute(select(func.count(ProcessedUpdate.update_id)))).scalar() == 0
    # After a commit the next statement is in a new transaction, not autocommitted.
    await rows.write(session, _RECORD, {"update_id": 2, "at": NOW})
    await session.commit()
    await rows.write(session, _RECORD, {"update_id": 3, "at": NOW})
    await session.rollback()
    ids = (await session.execute(select(ProcessedUpdate.update_id))).scalars().all()
    assert ids == [2]


async def test_a_read_on_the_driver_sees_what_the_session_has_not_flushed(session):
    branch, *_ = await _world(session)
    org = {"org": branch.id}
    branch.name = "二支部"  # pending in the session, as before an ORM query's autoflush
    assert (await rows.fetch(session, _ORG_NAME, org))[0] == ("二支部",)
    await session.rollback()
    assert (await rows.fetch(session, _ORG_NAME, org))[0] == ("一支部",)


async def test_a_write_on_the_driver_counts_as_saved(session):
    branch, *_ = await _world(session)
    work = unit.UnitOfWork(session)
    assert await rows.write(session, _RENAME, {"org": branch.id, "name": "三支部"}) == 1
    await work.commit()
    assert work.saved
    assert (await rows.fetch(session, _ORG_NAME, {"org": branch.id}))[0] == ("三支部",)
    assert await rows.write(session, _RENAME, {"org": -1, "name": "无"}) == 0


async def test_driver_errors_are_sqlalchemys_and_keep_parameters_out(session):
    await rows.write(session, _RECORD, {"update_id": 424242, "at": NOW})
    with pytest.raises(IntegrityError) as raised:
        await rows.write(session, _RECORD, {"update_id": 424242, "at": NOW})
    assert "424242" not in str(raised.value)
    await session.rollback()
    await rows.write(session, _RECORD, {"update_id": 424242, "at": NOW})  # usable again
    await session.commit()


def test_an_expanding_in_is_refused_when_compiled():
    from sqlalchemy.dialects import sqlite

    ids = Prepared(
        select(Organisation.id).where(Organisation.id.in_(bindparam("ids", expanding=True)))
    )
    with pytest.raises(ValueError, match="expanding"):
        ids.compiled(sqlite.dialect())


async def test_an_update_session_closes_with_or_without_a_transaction(engine):
    sessions = session_factory(engine)
    async with unit.opened(sessions) as session:
        await rows.write(session, _RECORD, {"update_id": 1, "at": NOW})
    assert engine.pool.checkedout() == 0  # rolled back and returned, as SQLAlchemy does
    async with unit.opened(sessions) as session:
        await rows.write(session, _RECORD, {"update_id": 2, "at": NOW})
        await session.commit()
        kept = ProcessedUpdate(update_id=3, at=NOW)
        session.add(kept)  # begins a transaction of the session, without a connection
    assert engine.pool.checkedout() == 0 and kept not in session
    async with unit.opened(sessions) as session:
        await rows.write(session, _RECORD, {"update_id": 4, "at": NOW})
        await session.commit()
    assert session.sync_session.get_transaction() is None and not session.identity_map
    async with sessions() as session:
        ids = (await session.execute(select(ProcessedUpdate.update_id))).scalars().all()
    assert sorted(ids) == [2, 4]


async def _updates(sessions) -> list[int]:
    async with sessions() as session:
        found = await session.execute(select(ProcessedUpdate.update_id))
        return sorted(found.scalars().all())


async def test_an_updates_driver_and_orm_writes_are_one_transaction(engine):
    """An update's session begins its transaction on the driver; the ORM, used after,
    joins that same transaction (on SQLite, the pool's one connection: no deadlock), so
    a rollback undoes both and a commit keeps both."""
    sessions = session_factory(engine)
    async with unit.opened(sessions) as session:
        await rows.write(session, _RECORD, {"update_id": 10, "at": NOW})
        session.add(ProcessedUpdate(update_id=11, at=NOW))
        await session.flush()
        await rows.write(session, _RECORD, {"update_id": 12, "at": NOW})
        seen = (await session.execute(select(func.count()).select_from(ProcessedUpdate))).scalar()
        assert seen == 3  # one transaction sees all three
        await session.rollback()
    assert await _updates(sessions) == [] and engine.pool.checkedout() == 0
    async with unit.opened(sessions) as session:
        await rows.write(session, _RECORD, {"update_id": 20, "at": NOW})
        session.add(ProcessedUpdate(update_id=21, at=NOW))
        assert session.in_transaction()
        await unit.UnitOfWork(session).commit()  # flushes the ORM's, then commits all
        assert not session.in_transaction() and engine.pool.checkedout() == 0
        # After a commit (the bot spoke), the ORM first, then the driver: one transaction.
        session.add(ProcessedUpdate(update_id=22, at=NOW))
        await session.flush()
        await rows.write(session, _RECORD, {"update_id": 23, "at": NOW})
        await session.commit()
        # And a last transaction of driver statements only, left open: rolled back.
        await rows.write(session, _RECORD, {"update_id": 24, "at": NOW})
    assert await _updates(sessions) == [20, 21, 22, 23] and engine.pool.checkedout() == 0


async def test_a_failed_statement_in_an_updates_transaction_rolls_back_and_frees(engine):
    sessions = session_factory(engine)
    async with unit.opened(sessions) as session:
        await rows.write(session, _RECORD, {"update_id": 30, "at": NOW})
        with pytest.raises(IntegrityError):
            await rows.write(session, _RECORD, {"update_id": 30, "at": NOW})
        await session.rollback()
        await rows.write(session, _RECORD, {"update_id": 31, "at": NOW})
        await session.commit()
    assert await _updates(sessions) == [31] and engine.pool.checkedout() == 0


async def test_an_attached_object_is_the_sessions_own(engine):
    """What `attach` makes is what the ORM would have loaded: `get` returns it without a
    query, a change to it is flushed and committed, a rollback expires it (read again)."""
    sessions = session_factory(engine)
    async with sessions() as session:
        await _world(session)
        await session.commit()
    columns = Columns(Member)
    read = Prepared(select(*columns.all).where(Member.telegram_id == 10))
    async with unit.opened(sessions) as session:
        member = attach(session, columns, (await rows.fetch(session, read, {}))[0])
        assert await session.get(Member, member.id) is member
        assert rows.held(session, Member, member.id) is member
        member.name = "张三丰"
        await session.rollback()
        assert "name" in inspect(member).expired_attributes  # expired by the rollback
        await session.refresh(member)
        assert member.name == "张三"
        member = attach(session, columns, (await rows.fetch(session, read, {}))[0])
        member.name = "李四"
        await unit.UnitOfWork(session).commit()
    async with sessions() as session:
        assert (await session.execute(select(Member.name))).scalar_one() == "李四"
    assert engine.pool.checkedout() == 0


def _in_transaction(session) -> bool:
    raw = session.info[unit.LEAN].driver.raw
    return raw.is_in_transaction() if hasattr(raw, "is_in_transaction") else raw.in_transaction


async def test_a_reading_updates_id_commits_alone_and_its_first_write_begins_a_transaction(
    engine,
):
    """An update that writes nothing but its id (a ballot mark, `unit.READS`): the id is
    committed by its own statement, reads run outside a transaction, and a write after
    them (through the driver or the ORM) begins one that a rollback undoes whole."""
    sessions = session_factory(engine)
    async with unit.opened(sessions) as session:
        session.info[unit.READS] = unit.DEDUPE
        await rows.write(session, _RECORD, {"update_id": 40, "at": NOW})
        assert not _in_transaction(session)  # committed alone
        session.info[unit.READS] = unit.READING
        assert (await rows.fetch(session, _COUNT_UPDATES, {}))[0][0] == 1
        assert not _in_transaction(session)
        await rows.write(session, _RECORD, {"update_id": 41, "at": NOW})
        assert _in_transaction(session)
        session.add(ProcessedUpdate(update_id=42, at=NOW))
        await session.flush()
        await session.rollback()
    assert await _updates(sessions) == [40] and engine.pool.checkedout() == 0
    async with unit.opened(sessions) as session:
        session.info[unit.READS] = unit.DEDUPE
        await rows.write(session, _RECORD, {"update_id": 50, "at": NOW})
        session.info[unit.READS] = unit.READING
        await rows.fetch(session, _COUNT_UPDATES, {})
        session.add(ProcessedUpdate(update_id=51, at=NOW))  # the ORM first, then the driver
        await session.flush()
        await rows.write(session, _RECORD, {"update_id": 52, "at": NOW})
        await session.rollback()
        await rows.write(session, _RECORD, {"update_id": 53, "at": NOW})
        await unit.UnitOfWork(session).commit()
    assert await _updates(sessions) == [40, 50, 53] and engine.pool.checkedout() == 0
    async with unit.opened(sessions) as session:
        session.info[unit.READS] = unit.DEDUPE
        with pytest.raises(IntegrityError):  # delivered again: refused, nothing held
            await rows.write(session, _RECORD, {"update_id": 50, "at": NOW})
        await session.rollback()
    assert await _updates(sessions) == [40, 50, 53] and engine.pool.checkedout() == 0
