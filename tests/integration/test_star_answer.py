"""ratings.star_answer: the closed months and the month asked about, in one query."""

from __future__ import annotations

from datetime import date

from bot.services import periods, ratings
from scoring import load_fortress_rubric
from tests.integration.eval_world import NOW, ROOT, make_world

RUBRIC = load_fortress_rubric()


async def test_history_and_closed_month_from_one_read(session):
    w = await make_world(session, 3)
    for period in ("2026-08", "2026-09", "2026-10"):
        await periods.close_period(session, RUBRIC, NOW, period)
    open_month = await ratings.star_answer(session, RUBRIC, ROOT, date(2026, 11, 5), w.branch.id)
    assert not open_month.checklist.closed
    assert [m.period for m in open_month.history] == ["2026-08", "2026-09", "2026-10"]
    assert open_month.checklist.gap is not None and open_month.checklist.content == []
    # Asked about a month already closed: it is not its own history.
    closed = await ratings.star_answer(session, RUBRIC, ROOT, date(2026, 10, 31), w.branch.id)
    assert closed.checklist.closed
    assert [m.period for m in closed.history] == ["2026-08", "2026-09"]
    assert await ratings.history(session, w.branch.id, "2026-10", months=1) == (
        closed.history[-1:],
        True,
    )
