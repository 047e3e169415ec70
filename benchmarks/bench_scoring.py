"""Score a whole city from in-memory facts and print the time and peak memory.

    uv run python benchmarks/bench_scoring.py [--branches 1221] [--members 26000]

Facts are random but realistic in shape: each branch has two years of meetings (the
scored year and the one before, which items carry credit from) and monthly event,
task and flag counts; each member has a year of totals, a self-assessment, a branch
review and the ballots of their branch's vote. Time is measured without tracing; the
peak memory is measured in a second run with ``tracemalloc`` (facts + results).
"""

from __future__ import annotations

import argparse
import gc
import random
import time
import tracemalloc
from collections import defaultdict
from datetime import date

from scoring import (
    BranchFacts,
    Meeting,
    MemberFacts,
    compliance_rate,
    grade_branch_members,
    load_fortress_rubric,
    load_vanguard_rubric,
    rate_branches,
    score_branches,
    score_members,
)

DOMAINS = ("village", "community", "agency", "two_new")
CATEGORY = {
    "village": "rural_community",
    "community": "rural_community",
    "agency": "agency",
    "two_new": "two_new",
}
MONTHLY = ("committee", "group", "theme_day")
PERIOD = "2026-07"
EVENT_KEYS = (
    "volunteer_events",
    "education_sessions",
    "households_visited",
    "households_in_grid",
    "requests_closed",
    "requests_received",
    "study_sessions",
    "co_building_activities",
    "employee_service_events",
)
TASK_KEYS = (
    "committee_term_on_time",
    "party_groups_set_up",
    "org_records_updated",
    "secretary_in_place",
    "member_records",
    "rules_posted",
    "venue_and_funds",
    "village_affairs_open",
    "pioneer_posts",
    "work_coverage",
    "featured_brand",
)
GRADED = (
    "member_intake",
    "ledger_kept",
    "central_tasks",
    "four_two_procedure",
    "collective_economy",
    "six_good_community",
    "work_integration",
    "members_lead_in_business",
)


def months(rng: random.Random) -> list[tuple[int, int]]:
    out = [(2025, m) for m in range(1, 13)] + [(2026, m) for m in range(1, 8)]
    return [ym for ym in out if rng.random() < 0.92]


def branch_facts(rng: random.Random, i: int) -> BranchFacts:
    domain = DOMAINS[i % 4]
    size = rng.randint(8, 40)
    meetings = []
    for year, mon in months(rng):
        for kind in MONTHLY:
            attended = rng.randint(size // 2, size)
            meetings.append(Meeting(kind, date(year, mon, 10), attended, size))
        if mon % 3 == 1:
            meetings.append(
                Meeting("general", date(year, mon, 20), rng.randint(size // 3, size), size)
            )
            meetings.append(Meeting("lesson", date(year, mon, 21), size, size))
    meetings.append(Meeting("org_life", date(2026, 1, 15), size, size))
    events = {k: {f"2026-{m:02d}": rng.randint(0, 4) for m in range(1, 8)} for k in EVENT_KEYS}
    events["dues_due"] = {f"2026-{m:02d}": size for m in range(1, 8)}
    events["dues_paid"] = {f"2026-{m:02d}": size - rng.randint(0, 2) for m in range(1, 8)}
    tasks = {k: {f"2026-0{rng.randint(1, 7)}": 1} for k in TASK_KEYS if rng.random() < 0.8}
    flags = {"complaint_upheld": {"2026-03": 1}} if rng.random() < 0.05 else {}
    grades = {k: rng.choice("AABBC") for k in GRADED}
    featured = ["featured_brand"] if rng.random() < 0.5 else []
    return BranchFacts(i, domain, PERIOD, meetings, events, tasks, flags, grades, featured)


def member_facts(rng: random.Random, j: int, branch: BranchFacts) -> MemberFacts:
    held = 12
    events = {
        "lessons_attended": rng.randint(2, 4),
        "lessons_held": 4,
        "theme_days_attended": rng.randint(4, held),
        "theme_days_held": held,
        "dues_months_paid": rng.randint(10, 12),
        "dues_months_due": 12,
        "volunteer_hours": rng.randint(0, 20),
        "neighbour_help": rng.randint(0, 5),
        "households_served": rng.randint(0, 5),
        "colleague_help": rng.randint(0, 5),
    }
    grades = {
        k: rng.choice("AABC")
        for k in (
            "conduct",
            "family_virtue",
            "integrity",
            "work_ethic",
            "work_results",
            "workplace_ethic",
            "business_contribution",
        )
    }
    n = rng.randint(8, 30)
    good = rng.randint(0, n)
    ballots = {"excellent": good, "qualified": n - good}
    return MemberFacts(
        j,
        branch.branch_id,
        CATEGORY[branch.domain],
        "2026",
        events,
        {"org_life_attended": 1} if rng.random() < 0.95 else {},
        {},
        grades,
        rng.randint(70, 100),
        rng.randint(60, 100),
        ballots,
    )


def make_city(branches: int, members: int, seed: int = 7):
    rng = random.Random(seed)
    bfacts = [branch_facts(rng, i) for i in range(branches)]
    mfacts = [member_facts(rng, j, bfacts[j % branches]) for j in range(members)]
    return bfacts, mfacts


def score_city(frub, vrub, bfacts, mfacts):
    results = score_branches(frub, bfacts)
    ratings = rate_branches(frub, results, "yearly_quota")
    rate = compliance_rate(results)
    members = score_members(vrub, mfacts)
    by_branch = defaultdict(list)
    for m in members:
        by_branch[m.branch_id].append(m)
    gradings = [grade_branch_members(vrub, ms) for ms in by_branch.values()]
    return results, ratings, rate, members, gradings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--branches", type=int, default=1221)
    parser.add_argument("--members", type=int, default=26000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    frub, vrub = load_fortress_rubric(), load_vanguard_rubric()
    bfacts, mfacts = make_city(args.branches, args.members)
    score_city(frub, vrub, bfacts[:10], mfacts[:10])  # compile the plans once

    times, cpu = [], []
    for _ in range(args.repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        out = score_city(frub, vrub, bfacts, mfacts)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        del out
    rate = score_city(frub, vrub, bfacts, mfacts)[2]

    gc.collect()
    tracemalloc.start()
    bfacts2, mfacts2 = make_city(args.branches, args.members)
    facts_mb = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.reset_peak()
    out = score_city(frub, vrub, bfacts2, mfacts2)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    del out

    print(f"city: {args.branches} branches (month {PERIOD}), {args.members} members (year 2026)")
    print(f"scoring time: best {min(times):.3f} s, runs {', '.join(f'{t:.3f}' for t in times)}")
    print(f"CPU time: best {min(cpu):.3f} s (wall time also counts other processes' load)")
    print(f"peak memory: {peak_mb:.1f} MB while scoring (facts held: {facts_mb:.1f} MB)")
    print(f"compliance rate: {rate.rate} ({rate.met}/{rate.total})")


if __name__ == "__main__":
    main()
