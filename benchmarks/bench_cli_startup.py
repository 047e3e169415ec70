"""Start-up time of the command line: `branchbot --help` and `branchbot org add`.

Each command runs as a fresh process, as an administrator's script would run it, several
times; the figures are the median and best wall time, and the CPU time the process
used (user + system: less sensitive than wall time to other load on a shared machine).
Then `python -X importtime` lists the imports that cost `org add` the most.

Beside them, in the same run, two floors: the least a command can cost when built on
  - the ORM: typer, pydantic-settings, SQLAlchemy's asyncio ORM with aiosqlite and SQLModel
    imported, one table declared, one select and one insert committed. `org add` was built
    so until it could not go under this figure, which is over the target;
  - the lean path `org add` now takes (bot/db/plain.py): a typer command with an option
    (typer checks option values with pydantic), pydantic-settings, one select and one
    insert committed with the standard library's sqlite3.

Targets (issue 12): both commands ≤ 0.5 s on the project's machine; the last lines say
whether each is met.

With `--baseline DIR` (another checkout, e.g. `git archive` of an older commit), its
`org add` runs in turn with the others, on its own database, for a before/after ratio
measured in the same run (the CPU ratio holds on a busy machine when wall time does not).

With `--instructions`, each command also runs once under valgrind's callgrind, which
counts the instructions it executed: a figure other load on the machine does not move,
to compare commands (and the baseline) when the machine is busy.

    uv run python benchmarks/bench_cli_startup.py [--runs 7] [--top 15] [--baseline DIR]
        [--instructions]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 0.5
CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")
LAUNCH = "import sys; sys.argv[0] = 'branchbot'; from bot.cli import main; main()"
FLOOR = """
import asyncio, os
import typer, pydantic_settings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlmodel import Field, SQLModel

class Thing(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str

async def main():
    engine = create_async_engine("sqlite+aiosqlite:///floor.db")
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    async with AsyncSession(engine) as session:
        await session.scalar(select(Thing.id).where(Thing.name == "x").limit(1))
        session.add(Thing(name="x"))
        await session.commit()
    await engine.dispose()

asyncio.run(main())
"""
LEAN_FLOOR = """
import os, sqlite3, sys
import typer
from pydantic_settings import BaseSettings

os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")  # as bot/cli/__init__.py


class Settings(BaseSettings):
    floor_file: str = "lean_floor.db"
    default_locale: str = "zh_Hans"


app = typer.Typer()


@app.command()
def add(name: str, parent: str = typer.Option(None)) -> None:
    conn = sqlite3.connect(Settings().floor_file, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS thing (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("SELECT id FROM thing WHERE name = ?", (name,)).fetchall()
    conn.execute("INSERT INTO thing (name) VALUES (?)", (name,))
    conn.execute("COMMIT")


app(["x", "--parent", "y"])
"""


def run(args: list[str], env: dict[str, str], cwd: Path, code: str = LAUNCH) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=cwd, capture_output=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def instructions(args: list[str], env: dict[str, str], cwd: Path, code: str = LAUNCH) -> int:
    """Instructions one run executes (valgrind's callgrind): independent of other load."""
    done = subprocess.run(
        [*CALLGRIND, sys.executable, "-c", code, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{' '.join(args)} under valgrind failed: {done.stderr[-500:]}")
    return int(found.group(1))


def import_costs(args: list[str], env: dict[str, str], cwd: Path, top: int) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", LAUNCH, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative, name = (p.strip() for p in line.split(":", 1)[1].split("|"))
        if name.startswith("bot") or "." not in name:
            rows.append((int(cumulative), int(self_us), name))
    rows.sort(reverse=True)
    return [f"{c / 1e6:7.3f} s cumulative {s / 1e6:7.3f} s self  {n}" for c, s, n in rows[:top]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--source",
        type=Path,
        default=Path(__file__).resolve().parents[1],
        help="The checkout to measure (e.g. another worktree, for a before/after).",
    )
    parser.add_argument(
        "--baseline", type=Path, help="Another checkout whose `org add` to measure alongside."
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="Also count each command's instructions once under valgrind (slow, load-free).",
    )
    options = parser.parse_args()
    if options.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind")

    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(options.source.resolve()),
            "DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'bench.db'}",
        }
        run(["db", "upgrade"], env, cwd)
        run(["org", "add", "某某市委"], env, cwd)
        envs = {"branchbot --help": env, "branchbot org add": env}
        commands = {
            "branchbot --help": ["--help"],
            "branchbot org add": None,  # a new name each run
            "ORM floor": [],
            "lean floor": [],
        }
        if options.baseline is not None:
            before = {
                **env,
                "PYTHONPATH": str(options.baseline.resolve()),
                "DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'baseline.db'}",
            }
            run(["db", "upgrade"], before, cwd)
            run(["org", "add", "某某市委"], before, cwd)
            commands["baseline org add"] = None
            envs["baseline org add"] = before
        floors = {"ORM floor": FLOOR, "lean floor": LEAN_FLOOR}
        print(f"CLI start-up, {options.runs} runs each (target ≤ {TARGET} s):")
        walls: dict[str, list[float]] = {label: [] for label in commands}
        cpus: dict[str, list[float]] = {label: [] for label in commands}
        for i in range(options.runs):  # in turn, so that a burst of load touches them alike
            for label, args in commands.items():
                argv = (
                    ["org", "add", f"镇党委{i}", "--parent", "某某市委"] if args is None else args
                )
                code = floors.get(label, LAUNCH)
                wall, cpu = run(argv, envs.get(label, env), cwd, code)
                walls[label].append(wall)
                cpus[label].append(cpu)
        for label in commands:
            print(
                f"  {label:<20} median {statistics.median(walls[label]):.3f} s  "
                f"best {min(walls[label]):.3f} s  CPU median {statistics.median(cpus[label]):.3f} s"
            )
        if options.baseline is not None:
            now = statistics.median(cpus["branchbot org add"])
            then = statistics.median(cpus["baseline org add"])
            print(f"  org add CPU against the baseline: {now / then:.2f}×")
        if options.instructions:
            print("Instructions executed, one run each under callgrind (load does not move them):")
            counts = {}
            for label, args in commands.items():
                argv = ["org", "add", "镇党委-cg", "--parent", "某某市委"] if args is None else args
                code = floors.get(label, LAUNCH)
                counts[label] = instructions(argv, envs.get(label, env), cwd, code)
                print(f"  {label:<20} {counts[label] / 1e9:.3f} G")
            if options.baseline is not None:
                ratio = counts["branchbot org add"] / counts["baseline org add"]
                print(f"  org add against the baseline: {ratio:.2f}×")
        print("Largest imports of `branchbot org add` (python -X importtime):")
        argv = ["org", "add", "镇党委-importtime", "--parent", "某某市委"]
        for line in import_costs(argv, env, cwd, options.top):
            print("  " + line)
        print(f"load average: {os.getloadavg()[0]:.2f} (2 cores; other load slows every figure)")
        for label in ("branchbot --help", "branchbot org add"):
            median = statistics.median(walls[label])
            met = "met" if median <= TARGET else "NOT met"
            cpu = statistics.median(cpus[label])
            print(
                f"target {label} ≤ {TARGET} s: {met} (median {median:.3f} s wall, "
                f"{cpu:.3f} s CPU, which a busy machine inflates less)"
            )


if __name__ == "__main__":
    main()
