"""The superior's dashboard service: overdue counts kept at close, never read from JSON."""

from __future__ import annotations

from sqlalchemy import event, select, update

from bot.db.models import PeriodSnapshot
from bot.services import dashboard, periods
from scoring import load_fortress_rubric
from tests.integration.eval_world import NOW, ROOT, make_world

RUBRIC = load_fortress_rubric()
PERIOD = "2026-10"


async def _board(session, engine):
    """The city's dashboard, and how many statements read a breakdown to draw it."""
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        board = await dashboard.dashboard(session, RUBRIC, ROOT, PERIOD)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    return {b.org_id: b.overdue for b in board.branches}, sum("breakdown" in s for s in statements)


async def test_overdue_counts_are_kept_at_close_and_old_snapshots_read_once(session, engine):
    w = await make_world(session, 3)
    await periods.close_period(session, RUBRIC, NOW, PERIOD)
    required = frozenset(item.key for item in RUBRIC.items)
    snaps = (
        await session.execute(select(PeriodSnapshot).where(PeriodSnapshot.period == PERIOD))
    ).scalars()
    expected = {s.org_id: periods.overdue_items(s.breakdown, PERIOD, required) for s in snaps}
    assert any(expected.values())  # new branches leave required items undone
    assert set(expected) == {w.branch.id, w.other.id}
    dashboard._overdue_memo.clear()
    assert await _board(session, engine) == (expected, 0)  # kept in the snapshot

    # Snapshots closed before the column existed: counted from the breakdown, once.
    await session.execute(update(PeriodSnapshot).values(overdue=None))
    session.expire_all()
    assert await _board(session, engine) == (expected, 1)
    assert await _board(session, engine) == (expected, 0)
