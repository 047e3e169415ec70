"""The superior's dashboard service: overdue counts remembered per snapshot."""

from __future__ import annotations

from sqlalchemy import event, select

from bot.db.models import PeriodSnapshot
from bot.services import dashboard, periods
from scoring import load_fortress_rubric
from tests.integration.eval_world import NOW, ROOT, make_world

RUBRIC = load_fortress_rubric()
PERIOD = "2026-10"


async def test_overdue_counts_come_from_the_breakdown_once(session, engine):
    w = await make_world(session, 3)
    await periods.close_period(session, RUBRIC, NOW, PERIOD)
    required = frozenset(item.key for item in RUBRIC.items)
    snaps = (
        await session.execute(select(PeriodSnapshot).where(PeriodSnapshot.period == PERIOD))
    ).scalars()
    expected = {s.org_id: dashboard._overdue(s.breakdown, PERIOD, required) for s in snaps}
    assert any(expected.values())  # new branches leave required items undone
    dashboard._overdue_memo.clear()

    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        first = await dashboard.dashboard(session, RUBRIC, ROOT, PERIOD)
        read_first = [s for s in statements if "breakdown" in s]
        statements.clear()
        again = await dashboard.dashboard(session, RUBRIC, ROOT, PERIOD)
        read_again = [s for s in statements if "breakdown" in s]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert {b.org_id: b.overdue for b in first.branches} == expected
    assert {b.org_id: b.overdue for b in again.branches} == expected
    assert len(read_first) == 1 and read_again == []
    assert {w.branch.id, w.other.id} == set(expected)
