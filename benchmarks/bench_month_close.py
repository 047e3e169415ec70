"""Close a month for a whole city on SQLite, against one hand-written SQL aggregate.

    uv run python benchmarks/bench_month_close.py [--branches 1221] [--members 26000]
        [--meetings-per-month 12] [--runs 3] [--keep DIR]

Generates a city in a fresh SQLite file with bulk inserts: ~20 town committees, the
branches under them (four domains), the members (some on leave or mobile), a year of
meetings (August of last year to the closed month, July) with their attendees, and
monthly evidence (tasks, events, ratios, a few grades and flags). Then, in the same
process and on the same engine, it times

- `periods.close_period` for the whole city and the month: facts, scoring, stars,
  breakdowns and the snapshot INSERT (each run is rolled back, so every run closes
  the same month from scratch), and
- one hand-written aggregate over the same rows: the year's meetings grouped by
  branch, kind and month, plus the evidence grouped by branch, kind, key and month,

and prints the best time of each (wall clock, and CPU time, which other load on the
machine disturbs less), their ratio, and the targets (close ≤ 2 s and ≤ 3 × the
aggregate); it exits with 1 when the best wall times miss a target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.services import periods
from scoring import checklist_items, load_fortress_rubric

PERIOD = "2026-07"
NOW = datetime(2026, 8, 1, 2, tzinfo=UTC)
TOWNS = 20
DOMAINS = ("village", "community", "agency", "two_new")
CATEGORY = {"village": "rural_community", "community": "rural_community"}
MONTHS = [(2025, m) for m in range(8, 13)] + [(2026, m) for m in range(1, 8)]
STAMP = "2026-01-01 00:00:00.000000"
PERIOD_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
TARGET_SECONDS = 2.0
TARGET_RATIO = 3.0

AGGREGATE_MEETINGS = """
SELECT org_id, kind, strftime('%Y-%m', held_on) AS month,
       count(*), sum(counts), sum(attended), sum(expected)
FROM meeting
WHERE held_on BETWEEN :first AND :last
GROUP BY org_id, kind, month
"""
AGGREGATE_EVIDENCE = """
SELECT org_id, kind, key, month, sum(count)
FROM evidence
WHERE month BETWEEN :first_month AND :last_month
GROUP BY org_id, kind, key, month
"""


def _sizes(rng: random.Random, members: int, branches: int) -> list[int]:
    """Branch sizes from 5 up, adding up to `members`."""
    weights = [rng.lognormvariate(0, 0.6) for _ in range(branches)]
    spare = members - 5 * branches
    sizes = [5 + int(spare * w / sum(weights)) for w in weights]
    for i in range(members - sum(sizes)):
        sizes[i % branches] += 1
    return sizes


def _items(rubric, domain: str) -> list[tuple[str, str, str, str, int]]:
    """(kind, key, denominator key, item key, months per period) of the evidence items."""
    out = []
    for spec in checklist_items(rubric, domain, ["featured_brand"], PERIOD):
        item = rubric.item(spec.key)
        kind = spec.evidence.value
        if kind in ("task", "events", "ratio", "grade"):
            months = PERIOD_MONTHS[item.period.value]
            out.append((kind, spec.evidence_key, item.evidence.den, spec.key, months))
    return out


def _evidence(rng, oid, year, month, work, size) -> list[tuple]:
    """A month's evidence rows: (org, month, kind, key, count, grade)."""
    diligence, items = work
    key = f"{year:04d}-{month:02d}"
    rows = []
    for kind, ev_key, den, item_key, months in items:
        last_of_period = month % months == 0
        if kind == "task":
            if last_of_period and rng.random() < diligence:
                rows.append((oid, key, "task", ev_key, 1, None))
        elif kind == "events":
            rows.append((oid, key, "event", ev_key, int(rng.random() * diligence * 4), None))
        elif kind == "ratio":
            total = size * 3
            rows.append((oid, key, "event", den, total, None))
            rows.append(
                (oid, key, "event", ev_key, int(total * rng.uniform(diligence - 0.2, 1.0)), None)
            )
        elif last_of_period:
            grade = "ABCD"[min(3, int((1 - diligence) * 8 * rng.random()))]
            rows.append((oid, key, "grade", item_key, 1, grade))
    if rng.random() < 0.01:
        rows.append((oid, key, "flag", "complaint_upheld", 1, None))
    return rows


def generate(path: Path, branches: int, members: int, per_month: int, seed: int = 5) -> dict:
    """Fill a migrated SQLite file with a city; returns row counts."""
    rng = random.Random(seed)
    rubric = load_fortress_rubric()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    orgs = [(1, None, "/1/", "committee", "市委", None)]
    for t in range(TOWNS):
        orgs.append((2 + t, 1, f"/1/{2 + t}/", "committee", f"第{t + 1}镇党委", None))
    first_branch = 2 + TOWNS
    for b in range(branches):
        oid, town = first_branch + b, 2 + b % TOWNS
        orgs.append((oid, town, f"/1/{town}/{oid}/", "branch", f"支部{b + 1}", DOMAINS[b % 4]))
    db.executemany(
        "INSERT INTO organisation (id, parent_id, path, kind, name, domain, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, '" + STAMP + "')",
        orgs,
    )

    people, roster = [], {}
    mid = 0
    for b, size in enumerate(_sizes(rng, members, branches)):
        oid = first_branch + b
        domain = DOMAINS[b % 4]
        roster[oid] = []
        for i in range(size):
            mid += 1
            role = "secretary" if i == 0 else "organiser" if i == 1 else "member"
            luck = rng.random()
            status = "on_leave" if luck < 0.03 else "mobile" if luck < 0.07 else "active"
            people.append((mid, oid, f"党员{mid}", CATEGORY.get(domain, domain), role, status))
            roster[oid].append((mid, status == "active"))
    db.executemany(
        "INSERT INTO member (id, org_id, name, category, role, status, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, '" + STAMP + "', '" + STAMP + "')",
        people,
    )

    meetings, attendees, evidence = [], [], []
    meeting_id = 0
    # How diligent each branch is: the share of its checklist it gets done.
    work = {oid: (rng.uniform(0.55, 1.0), _items(rubric, orgs[oid - 1][5])) for oid in roster}
    for oid, crew in roster.items():
        counted = [m for m, ok in crew if ok]
        committee = [m for m, ok in crew[:2] if ok]
        groups = max(1, per_month - 3)
        for year, month in MONTHS:
            plan = ["committee", "theme_day", "lesson"] + ["group"] * groups
            if month % 3 == 0:
                plan[2] = "general"
            if month == 12:
                plan[-1] = "org_life"
            for n, kind in enumerate(plan):
                meeting_id += 1
                if kind == "committee":
                    pool, expected = crew[:2], len(committee)
                elif kind == "group":
                    pool, expected = crew[n % groups :: groups], None
                else:
                    pool, expected = crew, len(counted)
                present = [m for m in pool if rng.random() < 0.8]
                came = sum(1 for _, ok in present if ok)
                if expected is None:
                    expected = sum(1 for _, ok in pool if ok)
                counts = kind not in ("committee", "general") or came * 2 > expected > 0
                day = f"{year:04d}-{month:02d}-{1 + n % 28:02d}"
                meetings.append(
                    (meeting_id, oid, kind, day, f"议题{n}", f"议题{n}", came, expected, counts)
                )
                attendees.extend((meeting_id, m) for m, _ in present)
            evidence.extend(_evidence(rng, oid, year, month, work[oid], len(crew)))
    db.executemany(
        "INSERT INTO meeting (id, org_id, kind, held_on, topic, topic_key, attended, expected,"
        " counts, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '" + STAMP + "', '" + STAMP + "')",
        meetings,
    )
    db.executemany("INSERT INTO meeting_attendee (meeting_id, member_id) VALUES (?, ?)", attendees)
    db.executemany(
        "INSERT INTO evidence (org_id, month, kind, key, count, grade, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, '" + STAMP + "')",
        evidence,
    )
    db.executemany(
        "INSERT INTO branch_featured (org_id, item_key) VALUES (?, ?)",
        [(first_branch + b, "featured_brand") for b in range(0, branches, 3)],
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return {
        "branches": branches,
        "members": len(people),
        "meetings": len(meetings),
        "attendees": len(attendees),
        "evidence": len(evidence),
    }


Timing = tuple[float, float]  # wall, CPU (SQLite runs in a thread of this process)


async def measure(url: str, runs: int) -> tuple[list[Timing], list[Timing], object, dict]:
    rubric = load_fortress_rubric()
    engine = create_engine(url)
    closes, aggregates = [], []
    summary, stars = None, {}
    bounds = {
        "first": "2025-01-01",
        "last": "2026-07-31",
        "first_month": "2025-01",
        "last_month": PERIOD,
    }
    try:
        for run in range(runs):
            async with session_factory(engine)() as session:
                t, c = time.perf_counter(), time.process_time()
                rows = (await session.execute(text(AGGREGATE_MEETINGS), bounds)).all()
                rows += (await session.execute(text(AGGREGATE_EVIDENCE), bounds)).all()
                aggregates.append((time.perf_counter() - t, time.process_time() - c))
                await session.rollback()
            async with session_factory(engine)() as session:
                t, c = time.perf_counter(), time.process_time()
                summary = await periods.close_period(session, rubric, NOW, PERIOD)
                closes.append((time.perf_counter() - t, time.process_time() - c))
                if run == runs - 1:
                    stars = await periods.star_distribution(session, PERIOD)
                await session.rollback()
    finally:
        await engine.dispose()
    return closes, aggregates, summary, stars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=1_221)
    parser.add_argument("--members", type=int, default=26_000)
    parser.add_argument("--meetings-per-month", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the database into this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_month_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "month.db"
    path.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"

    t = time.perf_counter()

    async def _migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(_migrate())
    counts = generate(path, args.branches, args.members, args.meetings_per_month)
    print(f"generated in {time.perf_counter() - t:.1f} s: {json.dumps(counts)} ({path})")

    closes, aggregates, summary, stars = asyncio.run(measure(url, args.runs))
    close, aggregate = min(closes), min(aggregates)
    ratio = close[0] / aggregate[0]
    cpu_ratio = min(c for _, c in closes) / min(c for _, c in aggregates)
    print(f"close {PERIOD}: {summary}; stars {stars}")
    for label, runs in (("close_period", closes), ("SQL aggregate", aggregates)):
        walls = ", ".join(f"{w:.3f}" for w, _ in runs)
        cpu = min(c for _, c in runs)
        print(f"{label + ':':<15}best {min(runs)[0]:.3f} s wall, {cpu:.3f} s CPU (runs {walls})")
    print(
        f"ratio: {ratio:.2f} wall, {cpu_ratio:.2f} CPU "
        f"(targets: close ≤ {TARGET_SECONDS} s, ratio ≤ {TARGET_RATIO})"
    )
    if close[0] > TARGET_SECONDS or ratio > TARGET_RATIO:
        sys.exit(1)


if __name__ == "__main__":
    main()
