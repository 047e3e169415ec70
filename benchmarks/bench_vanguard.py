"""The democratic evaluation at city scale, on SQLite and PostgreSQL.

    uv run python benchmarks/bench_vanguard.py [--db sqlite|postgres|both]
        [--pg-url postgresql+asyncpg://…] [--branches 1221] [--members 26000]
        [--ballots 256] [--runs 3]

Builds a city in a fresh database (SQLite file; for PostgreSQL the schema of the
database in --pg-url or TEST_DATABASE_URL is dropped and re-created — give it a
scratch database): the branches, their members, a year of meetings with attendees,
and a campaign per branch whose vote has closed with every member voting on every
other member of the branch (the counts are generated, one row per candidate and grade
band, as the ballots would have left them). Then it times

- ballot submission: `ballots.submit_ballot` + commit for --ballots voters of 32-member
  branches (each ballot marks the 31 others), server-side, p50/p95/max;
- tallying and grading the city: `eval_review.compute_many` over every campaign —
  counts, self-assessments, meeting facts, Vanguard Index, excellent cap, the result
  rows written (each run rolled back);
- one hand-written SQL aggregate over the same rows, computing the same counts grading
  reads (per candidate: counts per band, self score, the branch's inputs, ballots cast
  in the campaign, the branch's meetings attended per kind and held per kind), the two
  taking turns;

and prints the figures (wall clock, this process's CPU time, the load average), the
ratio measured in the same run, and each target met or NOT MET (p95 ≤ 50 ms; grading
≤ 5 s and ≤ 3 × the aggregate). Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert, select, text

from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import (
    EvalCampaign,
    EvalSelf,
    EvalTally,
    EvalVoter,
    Meeting,
    MeetingAttendee,
    Member,
    Organisation,
)
from bot.services import ballots, eval_review
from bot.services.members import Principal
from scoring import load_vanguard_rubric

NOW = datetime(2026, 12, 10, 2, tzinfo=UTC)
TODAY = date(2026, 12, 10)
RUBRIC = load_vanguard_rubric()
BANDS = len(RUBRIC.vote_options)
CATEGORIES = ("rural_community", "agency", "two_new", "mobile")
TARGET_P95 = 0.050
TARGET_SECONDS = 5.0
TARGET_RATIO = 3.0


def _pivot(column: str, values, count: str = "1") -> str:
    return ", ".join(
        f"sum(CASE WHEN {column} = {v!r} THEN {count} ELSE 0 END) AS k{i}"
        for i, v in enumerate(values)
    )


# Everything grading reads, by hand, in one statement: per candidate the counts per band,
# the self score, the branch's own inputs, the ballots cast in the campaign, meetings of
# the branch attended per kind, and the branch's meetings held per kind.
AGGREGATE = f"""
SELECT c.id, t.candidate_id, m.category, s.score, r.review_band, r.deductions, r.grade,
       r.override_reason, coalesce(v.n, 0) >= c.min_voters,
       {", ".join(f"t.k{b}" for b in range(BANDS))},
       coalesce(a.k0, 0), coalesce(a.k1, 0), coalesce(a.k2, 0),
       coalesce(h.k0, 0), coalesce(h.k1, 0)
FROM (
    SELECT campaign_id, candidate_id, {_pivot("band", range(BANDS), "n")}
    FROM eval_tally GROUP BY campaign_id, candidate_id
) t
JOIN eval_campaign c ON c.id = t.campaign_id
JOIN member m ON m.id = t.candidate_id
LEFT JOIN eval_self s ON s.campaign_id = c.id AND s.member_id = t.candidate_id
LEFT JOIN eval_result r ON r.campaign_id = c.id AND r.member_id = t.candidate_id
LEFT JOIN (SELECT campaign_id, count(*) AS n FROM eval_voter GROUP BY campaign_id) v
    ON v.campaign_id = c.id
LEFT JOIN (
    SELECT ma.member_id, mt.org_id, {_pivot("mt.kind", ("theme_day", "lesson", "org_life"))}
    FROM meeting_attendee ma JOIN meeting mt ON mt.id = ma.meeting_id
    WHERE mt.held_on BETWEEN :first AND :last AND mt.counts
    GROUP BY ma.member_id, mt.org_id
) a ON a.member_id = t.candidate_id AND a.org_id = c.org_id
LEFT JOIN (
    SELECT org_id, {_pivot("kind", ("theme_day", "lesson"))}
    FROM meeting WHERE held_on BETWEEN :first AND :last AND counts GROUP BY org_id
) h ON h.org_id = c.org_id
WHERE c.period = :period AND c.stage = 'review'
"""


def _sizes(rng: random.Random, members: int, branches: int) -> list[int]:
    weights = [rng.lognormvariate(0, 0.6) for _ in range(branches)]
    spare = members - 5 * branches
    sizes = [5 + int(spare * w / sum(weights)) for w in weights]
    for i in range(members - sum(sizes)):
        sizes[i % branches] += 1
    return sizes


async def _chunked(session, model, rows, size: int = 5000) -> None:
    for i in range(0, len(rows), size):
        await session.execute(insert(model), rows[i : i + size])


async def build(engine, branches: int, members: int, ballot_branches: int) -> dict:
    """The city; returns the ids the timings need."""
    rng = random.Random(2026)
    sessions = session_factory(engine)
    async with sessions() as s:
        city = Organisation(path="", kind="committee", name="市委", created_at=NOW)
        s.add(city)
        await s.flush()
        city.path = f"/{city.id}/"
        names = [f"支部{i:04d}" for i in range(branches + ballot_branches)]
        await _chunked(
            s,
            Organisation,
            [
                {
                    "parent_id": city.id,
                    "path": "",
                    "kind": "branch",
                    "name": n,
                    "domain": "village",
                    "created_at": NOW,
                }
                for n in names
            ],
        )
        await s.execute(
            text(
                "UPDATE organisation SET path = :root || CAST(id AS VARCHAR) || '/' "
                "WHERE parent_id = :city"
            ),
            {"root": city.path, "city": city.id},
        )
        org_ids = list(
            (
                await s.execute(
                    select(Organisation.id)
                    .where(Organisation.parent_id == city.id)
                    .order_by(Organisation.id)
                )
            ).scalars()
        )
        city_orgs, vote_orgs = org_ids[:branches], org_ids[branches:]
        sizes = _sizes(rng, members, branches) + [32] * ballot_branches
        rows = []
        for org, size in zip(org_ids, sizes, strict=True):
            for i in range(size):
                rows.append(
                    {
                        "org_id": org,
                        "name": f"党员{org}-{i:03d}",
                        "category": CATEGORIES[i % 4],
                        "role": "secretary" if i == 0 else "member",
                        "status": "active",
                        "telegram_id": 10_000_000 + len(rows),
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
        await _chunked(s, Member, rows)
        people: dict[int, list[int]] = {}
        for org, mid in await s.execute(select(Member.org_id, Member.id).order_by(Member.id)):
            people.setdefault(org, []).append(mid)
        # A year of meetings, everyone at each.
        held = [("theme_day", date(2026, m, 8)) for m in range(1, 13)]
        held += [("lesson", date(2026, m, 20)) for m in (3, 6, 9, 12)]
        held += [("org_life", date(2026, 1, 25))]
        await _chunked(
            s,
            Meeting,
            [
                {
                    "org_id": org,
                    "kind": kind,
                    "held_on": day,
                    "topic": kind,
                    "topic_key": f"{kind} {day}",
                    "attended": len(people[org]),
                    "expected": len(people[org]),
                    "counts": True,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for org in city_orgs
                for kind, day in held
            ],
        )
        meetings = (await s.execute(select(Meeting.id, Meeting.org_id))).all()
        await _chunked(
            s,
            MeetingAttendee,
            [
                {"meeting_id": mid, "member_id": p}
                for mid, org in meetings
                for p in people[org]
                if rng.random() < 0.95
            ],
            20_000,
        )
        due = {
            f"{k}_due": date(2026, 12, 31) for k in ("self", "vote", "review", "notice", "approval")
        }
        await _chunked(
            s,
            EvalCampaign,
            [
                {
                    "org_id": org,
                    "period": "2026",
                    "stage": "review" if org in set(city_orgs) else "vote",
                    "min_voters": 5,
                    "version": 1,
                    "created_at": NOW,
                    "updated_at": NOW,
                    **due,
                }
                for org in org_ids
            ],
        )
        campaign_of = dict((await s.execute(select(EvalCampaign.org_id, EvalCampaign.id))).all())
        tally, voters, selfs = [], [], []
        for org in org_ids:
            cid, group = campaign_of[org], people[org]
            closed = org in set(city_orgs)
            for cand in group:
                counts = [0] * BANDS
                if closed:  # every other member marked this one
                    for _ in range(len(group) - 1):
                        counts[min(int(rng.expovariate(1.5)), BANDS - 1)] += 1
                tally += [
                    {"campaign_id": cid, "candidate_id": cand, "band": b, "n": counts[b]}
                    for b in range(BANDS)
                ]
                if closed:
                    voters.append({"campaign_id": cid, "member_id": cand})
                    selfs.append(
                        {
                            "campaign_id": cid,
                            "member_id": cand,
                            "answers": {},
                            "summary": "",
                            "score": rng.choice((100, 90, 80, 70)),
                            "updated_at": NOW,
                        }
                    )
        await _chunked(s, EvalTally, tally, 20_000)
        await _chunked(s, EvalVoter, voters, 20_000)
        await _chunked(s, EvalSelf, selfs)
        await s.commit()
    return {
        "vote": [(campaign_of[o], people[o]) for o in vote_orgs],
        "tally_rows": len(tally),
        "attendees": "see meeting_attendee",
    }


async def time_ballots(engine, vote: list[tuple[int, list[int]]]) -> list[float]:
    sessions = session_factory(engine)
    times = []
    for cid, group in vote:
        async with sessions() as s:
            rows = (
                await s.execute(
                    select(Member, Organisation)
                    .join(Organisation, Organisation.id == Member.org_id)
                    .where(Member.id.in_(group))
                )
            ).all()
        for member, org in rows:
            me = Principal(telegram_id=member.telegram_id, member=member, branch=org)
            marks = {c: (c * 7 + member.id) % BANDS for c in group if c != member.id}
            async with sessions() as s:
                start = time.perf_counter()
                await ballots.submit_ballot(s, me, TODAY, cid, marks, RUBRIC)
                await s.commit()
                times.append(time.perf_counter() - start)
    return times


@dataclass
class Timing:
    wall: float = float("inf")
    cpu: float = float("inf")  # this process's CPU time (PostgreSQL's own is not in it)

    def keep(self, wall: float, cpu: float) -> None:
        if wall < self.wall:
            self.wall, self.cpu = wall, cpu


async def time_grading(engine, runs: int) -> tuple[Timing, Timing, int]:
    """Best of `runs` of each, the two taking turns so both see the same load."""
    sessions = session_factory(engine)
    grading, aggregate, n = Timing(), Timing(), 0
    window = {"first": date(2026, 1, 1), "last": date(2026, 12, 31), "period": "2026"}
    for _ in range(runs):
        async with sessions() as s:
            campaigns = list(
                (
                    await s.execute(select(EvalCampaign).where(EvalCampaign.stage == "review"))
                ).scalars()
            )
            start, cpu = time.perf_counter(), time.process_time()
            n = await eval_review.compute_many(s, campaigns, RUBRIC)
            await s.flush()
            grading.keep(time.perf_counter() - start, time.process_time() - cpu)
            await s.rollback()
        async with sessions() as s:
            start, cpu = time.perf_counter(), time.process_time()
            rows = (await s.execute(text(AGGREGATE), window)).all()
            aggregate.keep(time.perf_counter() - start, time.process_time() - cpu)
            assert len(rows) == n, (len(rows), n)
    return grading, aggregate, n


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


async def bench(url: str, label: str, args) -> bool:
    engine = create_engine(url)
    if label == "postgres":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    started = time.perf_counter()
    built = await build(engine, args.branches, args.members, max(1, args.ballots // 32))
    print(
        f"[{label}] city built in {time.perf_counter() - started:.1f} s "
        f"({args.branches} branches, {args.members} members, {built['tally_rows']} count rows)"
    )
    times = await time_ballots(engine, built["vote"])
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[-1]
    print(
        f"[{label}] ballot submit (31 marks, with commit), {len(times)} ballots: "
        f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {max(times) * 1000:.1f} ms "
        f"— target p95 ≤ {TARGET_P95 * 1000:.0f} ms: {verdict(p95 <= TARGET_P95)}"
    )
    grading, aggregate, n = await time_grading(engine, args.runs)
    ratio = grading.wall / aggregate.wall
    print(
        f"[{label}] tally + grade the city ({n} members): {grading.wall:.2f} s "
        f"({grading.cpu:.2f} s CPU here) — target ≤ {TARGET_SECONDS:.0f} s: "
        f"{verdict(grading.wall <= TARGET_SECONDS)}"
    )
    print(
        f"[{label}] one hand-written SQL aggregate over the same rows: {aggregate.wall:.2f} s "
        f"({aggregate.cpu:.2f} s CPU here); ratio {ratio:.2f} — target ≤ {TARGET_RATIO:.0f}×: "
        f"{verdict(ratio <= TARGET_RATIO)}"
    )
    print(f"[{label}] best of {args.runs} runs each; {load()}")
    await engine.dispose()
    return p95 <= TARGET_P95 and grading.wall <= TARGET_SECONDS and ratio <= TARGET_RATIO


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--branches", type=int, default=1221)
    parser.add_argument("--members", type=int, default=26000)
    parser.add_argument("--ballots", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ok = True
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'city.db'}"
            ok &= asyncio.run(bench(url, "sqlite", args))
    if args.db in ("postgres", "both"):
        if not args.pg_url:
            print("[postgres] skipped: give --pg-url or set TEST_DATABASE_URL")
        else:
            ok &= asyncio.run(bench(args.pg_url, "postgres", args))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
