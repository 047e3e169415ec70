"""“What's my star rating”, the whole-city dashboard and the city export, on a city.

    uv run python benchmarks/bench_rating.py [--branches 1221] [--members 26000]
        [--asks 200] [--keep DIR]

Builds the city of benchmarks/bench_month_close.py (same generator: 1,221 branches,
26,000 members, a year of meetings and evidence) in a fresh SQLite file, closes May
and June for every branch, and then, with "today" on 20 July, times on the server
side (no Telegram round trip):

- the star answer (`ratings.star_answer`: this month's live checklist and the closed
  months; the bot sends this at once) for `--asks` random branches, first ask and
  asked again, as p50 / p95 / max; and "with the next star": plus the gap search
  (`ratings.complete`, which the bot runs in a thread and then edits the answer with;
  remembered per branch and facts, so asking again costs a lookup);
- the whole-city dashboard (`dashboard.dashboard` for a superuser): best and worst of 5;
- the city's ratings ledger (`ledgers.ratings_ledger` + `write_ratings_xlsx`): best of 3.

and last, how long `branchbot demo` takes from the start to ready (emulator, schema,
the demo city of 44 branches seeded, personas, the bot polling), on a fresh file.

Targets: star answer p95 ≤ 100 ms, dashboard ≤ 1 s, export ≤ 10 s, demo ready ≤ 5 s; it
exits with 1 when one is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench_month_close import generate  # the same city as the month-close benchmark

from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.services import dashboard, ledgers, periods, ratings
from bot.services.members import Principal
from scoring import load_fortress_rubric

TODAY = date(2026, 7, 20)
CLOSED = ("2026-05", "2026-06")
NOW = datetime(2026, 7, 20, 2, tzinfo=UTC)
TARGETS = {"ask_p95": 0.100, "dashboard": 1.0, "export": 10.0, "demo": 5.0}


async def demo_ready(folder: Path) -> tuple[float, int]:
    from bot.demo.run import running_demo
    from bot.emulator import free_port

    path = folder / "demo.db"
    path.unlink(missing_ok=True)
    async with running_demo(free_port(), "zh", path) as started:
        return started.took, started.info["branches"]


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure(url: str, asks: int, branches: list[int]) -> dict[str, object]:
    rubric = load_fortress_rubric()
    engine = create_engine(url)
    root = Principal(telegram_id=0, is_superuser=True)
    out: dict[str, object] = {}
    try:
        async with session_factory(engine)() as session:
            for period in CLOSED:
                await periods.close_period(session, rubric, NOW, period)
            await session.commit()
        sample = random.Random(7).sample(branches, min(asks, len(branches)))
        for label in ("first ask", "asked again"):
            answers, gaps, cpu = [], [], []
            for oid in sample:
                async with session_factory(engine)() as session:
                    t, c = time.perf_counter(), time.process_time()
                    answer = await ratings.star_answer(
                        session, rubric, root, TODAY, oid, wait_for_gap=False
                    )
                    answers.append(time.perf_counter() - t)
                    cpu.append(time.process_time() - c)
                t = time.perf_counter()
                ratings.complete(rubric, answer)
                gaps.append(answers[-1] + time.perf_counter() - t)
            out[label] = answers
            out[label + " (with the next star)"] = gaps
            out[label + " CPU"] = cpu
        boards = []
        for _ in range(5):
            async with session_factory(engine)() as session:
                t, c = time.perf_counter(), time.process_time()
                board = await dashboard.dashboard(session, rubric, root, CLOSED[-1])
                boards.append((time.perf_counter() - t, time.process_time() - c))
        out["dashboard"] = boards
        out["dashboard_total"] = board.total
        exports = []
        for _ in range(3):
            async with session_factory(engine)() as session:
                t, c = time.perf_counter(), time.process_time()
                ledger = await ledgers.ratings_ledger(session, CLOSED[-1], [None])
                buffer = io.BytesIO()
                ledgers.write_ratings_xlsx(ledger, rubric, buffer, lambda s: s, True)
                exports.append((time.perf_counter() - t, time.process_time() - c))
        out["export"] = exports
        out["export_rows"] = (len(ledger.branches), sum(len(b.items) for b in ledger.branches))
        out["export_bytes"] = len(buffer.getvalue())
    finally:
        await engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--branches", type=int, default=1_221)
    parser.add_argument("--members", type=int, default=26_000)
    parser.add_argument("--asks", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="write the database into this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_rating_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rating.db"
    path.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{path}"

    async def _migrate() -> None:
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()

    t = time.perf_counter()
    asyncio.run(_migrate())
    counts = generate(path, args.branches, args.members, 12)
    print(f"generated in {time.perf_counter() - t:.1f} s: {counts}")
    first_branch = 22  # generate(): the city, 20 towns, then the branches
    ids = list(range(first_branch, first_branch + args.branches))
    found = asyncio.run(measure(url, args.asks, ids))
    failed = False
    for label in ("first ask", "asked again"):
        for what in (label, label + " (with the next star)"):
            times = found[what]
            p95 = _pct(times, 0.95)
            print(
                f"star answer, {what}: p50 {statistics.median(times) * 1000:.1f} ms, "
                f"p95 {p95 * 1000:.1f} ms, max {max(times) * 1000:.1f} ms ({len(times)} branches)"
            )
        cpu = found[label + " CPU"]
        print(
            f"star answer, {label}, CPU time (load on the machine disturbs it less): "
            f"p50 {statistics.median(cpu) * 1000:.1f} ms, p95 {_pct(cpu, 0.95) * 1000:.1f} ms"
        )
        failed |= _pct(found[label], 0.95) > TARGETS["ask_p95"]
    boards = found["dashboard"]
    print(
        f"dashboard, whole city ({found['dashboard_total']} branches): best "
        f"{min(boards)[0]:.3f} s wall, {min(c for _, c in boards):.3f} s CPU, "
        f"worst {max(boards)[0]:.3f} s wall"
    )
    failed |= min(boards)[0] > TARGETS["dashboard"]
    exports = found["export"]
    branches, items = found["export_rows"]
    print(
        f"export, whole city ({branches} branch rows, {items} item rows, "
        f"{found['export_bytes'] / 1e6:.1f} MB): best {min(exports)[0]:.2f} s wall, "
        f"{min(c for _, c in exports):.2f} s CPU, worst {max(exports)[0]:.2f} s wall"
    )
    failed |= min(exports)[0] > TARGETS["export"]
    took, branches = asyncio.run(demo_ready(folder))
    print(f"demo ready in {took:.2f} s ({branches} branches)")
    failed |= took > TARGETS["demo"]
    print("targets: star answer p95 ≤ 100 ms, dashboard ≤ 1 s, export ≤ 10 s, demo ≤ 5 s")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
