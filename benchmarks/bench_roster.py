"""Roster import at city scale: 26,000 members in 1,221 branches, on SQLite.

    uv run python benchmarks/bench_roster.py [--members 26000] [--branches 1221] [--keep DIR]

Generates a realistic .xlsx (Chinese names, ~20 town committees under one city, one
secretary per branch), imports it into a fresh migrated SQLite file through the same
calls as `branchbot import roster`, then imports it again, which must change nothing.
Target: the first import in at most 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.services import roster
from bot.services.audit import Actor

TARGET_SECONDS = 30.0
CITY = "冷水江市委"
TOWNS = 20
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文红玉兰志德海波辉斌"
BRANCH_KINDS = (
    ("village", "村党支部"),
    ("community", "社区党支部"),
    ("agency", "机关党支部"),
    ("two_new", "公司党支部"),
)
CATEGORY_OF = {
    "village": "rural_community",
    "community": "rural_community",
    "agency": "agency",
    "two_new": "two_new",
}


def generate(members: int, branches: int, seed: int = 7) -> list[roster.RosterRecord]:
    rnd = random.Random(seed)
    towns = [f"第{i + 1:02d}镇党委" for i in range(TOWNS)]
    records: list[roster.RosterRecord] = []
    per_branch, extra = divmod(members, branches)
    number = 0
    for b in range(branches):
        domain, suffix = BRANCH_KINDS[b % len(BRANCH_KINDS)]
        path = f"{CITY}/{towns[b % TOWNS]}/第{b + 1:04d}{suffix}"
        for k in range(per_branch + (1 if b < extra else 0)):
            number += 1
            mobile = rnd.random() < 0.05
            role = "secretary" if k == 0 else "organiser" if k == 1 else "member"
            status = rnd.choices(["active", "on_leave", "mobile", "left"], [90, 3, 5, 2])[0]
            given = "".join(rnd.choice(GIVEN) for _ in range(rnd.choice((1, 2))))
            records.append(
                roster.RosterRecord(
                    roster_no=f"LSJ{number:06d}",
                    name=rnd.choice(SURNAMES) + given,
                    branch=path,
                    domain=domain,
                    category="mobile" if mobile else CATEGORY_OF[domain],
                    role=role,
                    status=status,
                    # Unique by construction: 13x + the running number.
                    phone=f"13{number % 10}{number:08d}" if rnd.random() < 0.95 else None,
                    joined=date(1970, 1, 1) + timedelta(days=rnd.randrange(20000)),
                    language=None,
                )
            )
    return records


async def run_import(url: str, path: Path, label: str) -> float:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    sheet = roster.read_roster(path)
    timings["read"] = time.perf_counter() - start
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            t = time.perf_counter()
            plan = await roster.plan_import(session, sheet)
            timings["validate"] = time.perf_counter() - t
            if plan.errors:
                sys.exit(f"{label}: {len(plan.errors)} errors, first: {plan.errors[:3]}")
            t = time.perf_counter()
            summary = await roster.apply_plan(
                session, plan, actor=Actor.cli("bench"), now=datetime.now(UTC)
            )
            await session.commit()
            timings["write"] = time.perf_counter() - t
    finally:
        await engine.dispose()
    total = time.perf_counter() - start
    phases = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
    print(f"{label}: {total:.2f} s ({phases}) — {summary}")
    return total


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=26_000)
    parser.add_argument("--branches", type=int, default=1_221)
    parser.add_argument("--keep", type=Path, help="write the .xlsx and database here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_roster_"))
    folder.mkdir(parents=True, exist_ok=True)
    sheet, db = folder / "roster.xlsx", folder / "bench.db"
    db.unlink(missing_ok=True)

    t = time.perf_counter()
    roster.write_xlsx(generate(args.members, args.branches), sheet)
    print(f"generated {args.members} members in {args.branches} branches: {sheet} "
          f"({sheet.stat().st_size // 1024} KiB, {time.perf_counter() - t:.1f} s)")  # fmt: skip

    url = f"sqlite+aiosqlite:///{db}"
    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()

    first = await run_import(url, sheet, "first import")
    await run_import(url, sheet, "re-import")
    verdict = "OK" if first <= TARGET_SECONDS else "TOO SLOW"
    print(f"target ≤ {TARGET_SECONDS:.0f} s for the first import: {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
