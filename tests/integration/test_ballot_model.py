"""Random vote sequences against a reference model (SQLite): the counts always equal
the sum of the ballots accepted, each voter counts once, refusals change nothing."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.db.engine import create_engine, session_factory
from bot.db.models import EvalTally, EvalVoter
from bot.services import ballots, evaluation
from bot.services.errors import ServiceError
from tests.integration.eval_world import NOW, TODAY, VRUBRIC, make_world, to_vote

PEOPLE = 6
# (voter index, {candidate index: band}); a band of 4 is forged (outside the rubric).
BALLOT = st.tuples(
    st.integers(0, PEOPLE - 1),
    st.dictionaries(st.integers(0, PEOPLE - 1), st.integers(0, 4), max_size=PEOPLE),
)


async def _play(db: Path, ops) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{db}")
    sessions = session_factory(engine)
    try:
        async with sessions() as s:
            w = await make_world(s, PEOPLE)
            c = await to_vote(s, w, min_voters=1)
            await s.commit()
        ids = [m.id for m in w.members]
        model = {(cand, band): 0 for cand in ids for band in range(4)}
        voted: set[int] = set()
        for voter, picks in ops:
            marks = {ids[k]: band for k, band in picks.items()}
            valid = voter not in voted and voter not in picks and all(b < 4 for b in picks.values())
            async with sessions() as s:
                me = await w.voter(s, voter)
                try:
                    await ballots.submit_ballot(s, me, TODAY, c.id, marks, VRUBRIC)
                    await s.commit()
                    accepted = True
                except ServiceError:
                    await s.rollback()
                    accepted = False
            assert accepted == valid
            if accepted:
                voted.add(voter)
                for cand, band in marks.items():
                    model[cand, band] += 1
        async with sessions() as s:
            sec = await w.voter(s, 0)
            await evaluation.advance(s, sec, NOW, TODAY, c.id, "vote", VRUBRIC)
            await s.commit()
            voters = await s.scalar(select(func.count()).select_from(EvalVoter))
            assert voters == len(voted)
            if voted:
                found = await ballots.results(s, sec, c.id)
                got = {
                    (cand, band): n
                    for cand, row in found.counts.items()
                    for band, n in enumerate(row)
                }
                assert got == model
            else:
                assert await s.scalar(select(func.sum(EvalTally.n))) == 0
    finally:
        await engine.dispose()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(BALLOT, max_size=10))
def test_counts_always_equal_the_reference_model(sqlite_template, tmp_path, ops):
    db = tmp_path / "model.db"
    shutil.copy(sqlite_template, db)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    asyncio.run(_play(db, ops))
