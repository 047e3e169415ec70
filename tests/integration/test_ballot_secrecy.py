"""The attacker: after a vote with known choices, cast in a known order at known times,
read everything at rest and try to link voters to their marks.

The attacker's method is the one that works while a vote is open: find successive
versions of the counts (SQLite WAL frames; PostgreSQL dead row versions with their
xmin) and subtract them; the k-th difference is the k-th voter's ballot (the order is
known, or read off eval_voter's xmin). Each test first shows the attack succeeding
mid-vote, so it is a real attack, then shows it finds nothing once the vote is sealed:
the only thing left is the final count, from which every assignment of ballots to
voters is equally likely — chance.
"""

from __future__ import annotations

import itertools
import logging
import random
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import FixedClock
from bot.db.engine import session_factory
from bot.services import ballots, evaluation
from tests.integration.eval_world import NOW, TODAY, VRUBRIC, make_world, to_vote

VOTERS = 8
BANDS = 4


def _choices(ids: list[int], seed: int = 11) -> dict[int, dict[int, int]]:
    rng = random.Random(seed)
    return {
        i: {ids[j]: rng.randrange(BANDS) for j in range(VOTERS) if j != i} for i in range(VOTERS)
    }


async def _vote(engine: AsyncEngine, clock: FixedClock, seed: int = 11):
    """Voters 0..7 submit one after the other, a minute apart, each in its own commit."""
    sessions = session_factory(engine)
    async with sessions() as s:
        w = await make_world(s, VOTERS)
        c = await to_vote(s, w)
        await s.commit()
    ids = [m.id for m in w.members]
    choices = _choices(ids, seed)
    for i in range(VOTERS):
        clock.advance(minutes=1)
        async with sessions() as s:
            voter = await w.voter(s, i)
            await ballots.submit_ballot(s, voter, clock.today(), c.id, choices[i], VRUBRIC)
            await s.commit()
    return w, c, ids, choices


async def _close(engine: AsyncEngine, w, campaign_id: int) -> None:
    sessions = session_factory(engine)
    async with sessions() as s:
        sec = await w.voter(s, 0)
        await evaluation.advance(s, sec, NOW, TODAY, campaign_id, "vote", VRUBRIC)
        await s.commit()
    assert await ballots.seal(engine)


def _accuracy(recovered: list[dict[int, int]], choices) -> float:
    """Share of (voter, candidate) marks the attacker got right, voters in known order."""
    right = total = 0
    for i in range(VOTERS):
        guess = recovered[i] if i < len(recovered) else {}
        for cand, band in choices[i].items():
            total += 1
            right += guess.get(cand) == band
    return right / total


def _diffs(states: list[dict[tuple[int, int], int]]) -> list[dict[int, int]]:
    """Ballots as differences of successive count states."""
    out, seen = [], []
    for state in states:
        if not seen or state != seen[-1]:
            seen.append(state)
    for before, after in itertools.pairwise(seen):
        out.append(
            {cand: band for (cand, band), n in after.items() if n > before.get((cand, band), 0)}
        )
    return out


# ---------------------------------------------------------------- SQLite, byte by byte


def _int(v: int) -> tuple[int, bytes]:
    if v == 0:
        return 8, b""
    if v == 1:
        return 9, b""
    if v < 128:
        return 1, bytes([v])
    return 2, v.to_bytes(2, "big", signed=True)


def _record(*values: int) -> bytes:
    types, body = zip(*map(_int, values), strict=True)
    return bytes([1 + len(types), *types]) + b"".join(body)


def _states_in(blob: bytes, chunk: int, campaign: int, ids: list[int]) -> list[dict]:
    """Every version of the counts found in `blob`, read `chunk` bytes (a page or a WAL
    frame) at a time: the tally records (campaign, candidate, band, n) of any n."""
    states = []
    for start in range(0, len(blob), chunk):
        page = blob[start : start + chunk]
        state = {}
        for cand in ids:
            for band in range(BANDS):
                for n in range(VOTERS + 1):
                    if _record(campaign, cand, band, n) in page:
                        state[cand, band] = n
        if state:
            states.append(state)
    return states


def _sqlite_files(engine: AsyncEngine) -> tuple[Path, Path]:
    db = Path(engine.url.database)
    return db, Path(f"{db}-wal")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
async def test_sqlite_file_and_wal_do_not_link_voters_to_marks(engine):
    clock = FixedClock(at=NOW)
    db, wal = _sqlite_files(engine)
    # A busy server always has some connection open, so the WAL is not folded back
    # into the file between ballots: hold one open to be that server.
    busy = sqlite3.connect(db)
    busy.execute("SELECT count(*) FROM sqlite_master").fetchall()
    try:
        w, c, ids, choices = await _vote(engine, clock)
        mid = _states_in(wal.read_bytes()[32:], 24 + 4096, c.id, ids)
    finally:
        busy.close()
    page = 4096
    # Mid-vote, the WAL holds one tally page image per ballot: the attack works.
    assert _accuracy(_diffs(mid), choices) == 1.0

    await _close(engine, w, c.id)
    assert not wal.exists() or wal.stat().st_size == 0
    blob = db.read_bytes()
    states = _states_in(blob, page, c.id, ids)
    final = await _final_counts(engine, c.id)
    assert states == [final]  # one version only: the final count
    # Where each count's record sits follows the key order alone (the seal rebuilt the
    # pages), not the moment a count grew a byte.
    places = [
        blob.find(_record(c.id, cand, band, final[cand, band])) for cand, band in sorted(final)
    ]
    assert all(p > 0 for p in places)
    steps = {(b - a) > 0 for a, b in itertools.pairwise(places) if abs(b - a) < page}
    assert len(steps) == 1
    assert _accuracy(_diffs(states), choices) == 0.0  # nothing to subtract
    # Nor do rows or key order help: eval_voter and eval_tally have no timestamp, and
    # both are WITHOUT ROWID tables stored in key order.
    async with engine.connect() as conn:
        for table in ("eval_voter", "eval_tally"):
            sql = await conn.scalar(
                text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}
            )
            assert "WITHOUT ROWID" in sql
        cols = await conn.run_sync(
            lambda sync: {
                t: [col["name"] for col in inspect(sync).get_columns(t)]
                for t in ("eval_voter", "eval_tally")
            }
        )
    assert cols == {
        "eval_voter": ["campaign_id", "member_id"],
        "eval_tally": ["campaign_id", "candidate_id", "band", "n"],
    }


async def _final_counts(engine: AsyncEngine, campaign_id: int) -> dict:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT candidate_id, band, n FROM eval_tally WHERE campaign_id = :c"),
            {"c": campaign_id},
        )
        return {(cand, band): n for cand, band, n in rows}


# ---------------------------------------------------------------- PostgreSQL, row versions


async def _pg_versions(conn, campaign_id: int) -> list[tuple[int, dict]]:
    """Every version of every tally row still on disk (live or dead), with its xmin."""
    pages = await conn.scalar(
        text("SELECT pg_relation_size('eval_tally') / current_setting('block_size')::int")
    )
    found: dict[int, dict] = {}
    for blk in range(pages):
        rows = await conn.execute(
            text(
                "SELECT t_xmin::text::bigint, t_data FROM heap_page_items("
                "get_raw_page('eval_tally', :b)) WHERE t_data IS NOT NULL"
            ),
            {"b": blk},
        )
        for xmin, data in rows:
            camp, cand, band, n = (
                int.from_bytes(data[i : i + 4], "little") for i in range(0, 16, 4)
            )
            if camp == campaign_id:
                found.setdefault(xmin, {})[cand, band] = n
    return sorted(found.items())


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_postgres_rows_versions_and_stats_do_not_link(engine):
    clock = FixedClock(at=NOW)
    w, c, ids, choices = await _vote(engine, clock)
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        # Voting order, as an attacker reads it: eval_voter rows by transaction id.
        order = [
            m
            for (m,) in await auto.execute(
                text(
                    "SELECT member_id FROM eval_voter WHERE campaign_id = :c "
                    "ORDER BY xmin::text::bigint"
                ),
                {"c": c.id},
            )
        ]
        assert order == ids  # known order, readable: the attack has everything it needs
        # Mid-vote the dead row versions still hold intermediate counts, each with the
        # voter's transaction id: subtracting two full versions gives a ballot.
        xmins = [
            x
            for (x,) in await auto.execute(
                text(
                    "SELECT xmin::text::bigint FROM eval_voter WHERE campaign_id = :c "
                    "ORDER BY xmin::text::bigint"
                ),
                {"c": c.id},
            )
        ]
        full = {
            x: rows for x, rows in await _pg_versions(auto, c.id) if len(rows) == len(ids) * BANDS
        }
        recovered = 0
        for k in range(1, VOTERS):
            if xmins[k] in full and xmins[k - 1] in full:
                ballot = _diffs([full[xmins[k - 1]], full[xmins[k]]])[0]
                recovered += ballot == choices[k]
        assert recovered >= 1  # PostgreSQL prunes some old versions on its own, not all

    await _close(engine, w, c.id)
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        versions = await _pg_versions(auto, c.id)
        assert len(versions) == 1  # one transaction id on every row: the last voter's
        assert _accuracy(_diffs([v for _, v in versions]), choices) == 0.0
        xmins = {
            x for (x,) in await auto.execute(text("SELECT DISTINCT xmin::text FROM eval_tally"))
        }
        assert len(xmins) == 1
        # The rows' places follow the key (the seal rewrote them in key order), not
        # the order anything was voted in.
        order = await _ctid_order(auto, c.id)
        assert order == sorted(order) and len(order) == len(ids) * BANDS
        # The statistics views count operations per table; none names a row or a member.
        stats = await auto.execute(
            text(
                "SELECT relname, n_tup_ins, n_tup_upd, n_dead_tup FROM pg_stat_user_tables "
                "WHERE relname LIKE 'eval_%'"
            )
        )
        for relname, *counters in stats:
            assert all(isinstance(v, int) for v in counters), relname


async def _ctid_order(conn, campaign_id: int) -> list[tuple[int, int]]:
    rows = await conn.execute(
        text("SELECT candidate_id, band FROM eval_tally WHERE campaign_id = :c ORDER BY ctid"),
        {"c": campaign_id},
    )
    return [tuple(r) for r in rows]


# ---------------------------------------------------------------- logs at DEBUG


async def test_debug_logs_carry_no_voter_and_mark_together(engine, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "asyncpg"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        clock = FixedClock(at=NOW)
        _w, _c, _ids, choices = await _vote(engine, clock)
    finally:
        for name in ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "asyncpg"):
            logging.getLogger(name).setLevel(logging.WARNING)
    lines = [r.getMessage() + " " + repr(r.args) for r in caplog.records]
    assert any("UPDATE eval_tally" in line for line in lines)  # the statements were logged
    for _i, marks in choices.items():
        encoded = "," + ",".join(f"{k}:{v}" for k, v in sorted(marks.items())) + ","
        leaks = [line for line in lines if encoded in line]
        assert not leaks, leaks[:3]
        for cand, band in marks.items():
            assert not any(f",{cand}:{band}," in line for line in lines)
    # Nor do the counts of any band appear with a member: no row of eval_tally is read.
    assert not any("FROM eval_tally" in line and " n " in line for line in lines)
    assert Counter(choices[0].values())  # the choices were real marks
