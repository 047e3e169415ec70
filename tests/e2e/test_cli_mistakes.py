"""Every `branchbot` command, each with one ordinary mistake: one clear line, no traceback.

Each case runs the real command line, `bot.cli.main` with the case's arguments, its
environment and working directory, on a SQLite city with a committee, a town, a branch
and one member, and checks the exit code against the rule in bot/cli/common.py (2: the
call or the configuration is wrong; 1: the data is refused) and that what it printed is
one line saying what to do, in English and in Chinese. The cases run in this process
(`branchbot_here`: the same entry point, its exit code and its output, without a second
or two of interpreter start-up each); a few also run as a fresh process
(`test_in_a_fresh_process`), where a traceback or an exit code is what the shell sees.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.cli import entry as cli_main
from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig
from tests.conftest import PG_URL, need

ROOT = Path(__file__).resolve().parents[2]
LAUNCH = "import sys; sys.argv[0] = 'branchbot'; from bot.cli import main; main()"

CITY = "某某市委"
TOWN = f"{CITY}/某某镇党委"
BRANCH = f"{TOWN}/某某村党支部"


def _environment(cwd: Path, env: dict[str, str]) -> dict[str, str]:
    clean = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cwd),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'city.db'}",
        "DEFAULT_LOCALE": "en",
    }
    clean.update(env)
    return clean


async def branchbot(cwd: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """`branchbot ARGS` as a fresh process, as an administrator's shell runs it."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LAUNCH,
        *args,
        cwd=cwd,
        env=_environment(cwd, env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


def branchbot_here(cwd: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """`branchbot ARGS` in this process: the same `main()`, with only the case's
    environment, in `cwd`; its exit code and what it printed. Anything `main()` lets
    escape other than its exit is a traceback, and fails the test."""
    saved = dict(os.environ), os.getcwd(), sys.argv
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(_environment(cwd, env))
    os.chdir(cwd)
    sys.argv = ["branchbot", *args]
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                cli_main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        os.environ.clear()
        os.environ.update(saved[0])
        os.chdir(saved[1])
        sys.argv = saved[2]
    return code, out.getvalue(), err.getvalue()


@dataclass
class Case:
    args: tuple[str, ...]
    code: int
    says: str  # a fragment the one line must contain
    env: dict[str, str] = field(default_factory=dict)
    lines: int = 1  # row problems print the grouped problem, then the summary


def write(cwd: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    (cwd / name).write_bytes(text.encode(encoding))
    return name


CASES: dict[str, Case] = {
    "unknown command": Case(("nosuch",), 2, "No such command"),
    "missing argument": Case(("org", "add"), 2, "Missing argument"),
    "org add under a misspelt town": Case(
        ("org", "add", "新支部", "--parent", f"{CITY}/某某真党委"), 1, "did you mean"
    ),
    "org add under a misspelt city": Case(("org", "add", "新党委", "--parent", "某某市"), 1, CITY),
    "org add --domain in a word no table has": Case(
        ("org", "add", "新支部", "--parent", TOWN, "--branch", "--domain", "火星"), 2, "--domain"
    ),
    "close-period under a town without its kind": Case(
        ("close-period", "--period", "2026-10", "--org", f"{CITY}/某某"), 1, TOWN
    ),
    "org add a second top": Case(("org", "add", "新党委"), 2, "--parent"),
    "org add --domain on a committee": Case(
        ("org", "add", "新党委", "--parent", CITY, "--domain", "village"), 2, "--branch"
    ),
    "org add --branch without --domain": Case(
        ("org", "add", "新支部", "--parent", TOWN, "--branch"), 2, "--domain"
    ),
    "org add a name that exists": Case(
        ("org", "add", "某某镇党委", "--parent", CITY), 1, "already"
    ),
    "org list of a misspelt path": Case(("org", "list", f"{TOWN}/某某树党支部"), 1, "did you mean"),
    "org rename to a sibling's name": Case(
        ("org", "rename", BRANCH, "某某社区党支部"), 1, "already"
    ),
    "org move under a branch": Case(("org", "move", f"{TOWN}/某某社区党支部", BRANCH), 1, "branch"),
    "org move under itself": Case(("org", "move", CITY, TOWN), 1, "itself"),
    "org remove with members": Case(("org", "remove", TOWN), 1, "members: 1"),
    "org staff on a branch": Case(("org", "staff", BRANCH, "42", "王"), 1, "committee"),
    "org staff --remove of a stranger": Case(("org", "staff", CITY, "42", "--remove"), 1, "42"),
    "org staff without a name": Case(("org", "staff", CITY, "42"), 2, "NAME"),
    "import roster: no such file": Case(("import", "roster", "nosuch.csv"), 2, "nosuch.csv"),
    "import roster: header only": Case(("import", "roster", "header.csv"), 1, "nothing to import"),
    "import roster: a .xls workbook": Case(("import", "roster", "old.xls"), 1, ".xlsx"),
    "import roster: --errors in a missing folder": Case(
        ("import", "roster", "one.csv", "--errors", "no/such/marked.xlsx"), 2, "--errors"
    ),
    "import roster: an unknown category": Case(
        ("import", "roster", "astronaut.csv"), 1, "宇航员", lines=2
    ),
    "import roster: an unknown domain for a new branch": Case(
        ("import", "roster", "mars.csv"), 1, "火星", lines=2
    ),
    "import orgs: an unknown kind": Case(("import", "orgs", "orgs.csv"), 1, "委员会会", lines=2),
    "import orgs: a misspelt superior": Case(
        ("import", "orgs", "typo.csv"), 1, "did you mean", lines=2
    ),
    "export roster to a missing folder": Case(
        ("export", "roster", "no/such/folder/out.xlsx"), 2, "does not exist"
    ),
    "export roster to .txt": Case(("export", "roster", "out.txt"), 2, ".csv"),
    "export roster --template to .csv": Case(
        ("export", "roster", "--template", "out.csv"), 2, "out.xlsx"
    ),
    "export roster of a misspelt org": Case(
        ("export", "roster", "out.xlsx", "--org", "某某是委"), 1, "did you mean"
    ),
    "export ratings to a missing folder": Case(
        ("export", "ratings", "--period", "2026-06", "no/such/r.xlsx"), 2, "does not exist"
    ),
    "export ratings of a month not closed": Case(
        ("export", "ratings", "--period", "2026-05", "r.xlsx"), 1, "close-period"
    ),
    "close-period far back": Case(("close-period", "--period", "2019-01"), 2, "--yes"),
    "close-period in the future": Case(("close-period", "--period", "2099-01"), 2, "not begun"),
    "close-period malformed": Case(("close-period", "--period", "July"), 1, "2026-07"),
    "close-period month 13": Case(("close-period", "--period", "2026-13"), 1, "2026-07"),
    "content add: unknown kind": Case(
        (
            "content",
            "add",
            "--org",
            CITY,
            "--month",
            "2026-07",
            "--kind",
            "podcast",
            "--title",
            "t",
            "--url",
            "https://e.org/1",
        ),
        1,
        "podcast",
    ),
    "content add: misspelt org": Case(
        (
            "content",
            "add",
            "--org",
            "某某市",
            "--month",
            "2026-07",
            "--kind",
            "video",
            "--title",
            "t",
            "--url",
            "https://e.org/1",
        ),
        1,
        "did you mean",
    ),
    # A rubric check ends with its count of problems.
    "rubric check: no such file": Case(("rubric", "check", "nosuch.toml"), 1, "not found", lines=2),
    "rubric check: not UTF-8": Case(("rubric", "check", "gbk.toml"), 1, "UTF-8", lines=2),
    "db current: no such file": Case(
        ("db", "current"),
        1,
        "db upgrade",
        env={"DATABASE_URL": "sqlite+aiosqlite:///never.db"},
    ),
    "db current: behind": Case(
        ("db", "current"), 1, "out of date", env={"DATABASE_URL": "sqlite+aiosqlite:///old.db"}
    ),
    "db upgrade: a file that is not a database": Case(
        ("db", "upgrade"),
        2,
        "not a branchbot database",
        env={"DATABASE_URL": "sqlite+aiosqlite:///notes.txt"},
    ),
    "db upgrade: a folder that does not exist": Case(
        ("db", "upgrade"),
        2,
        "DATABASE_URL",
        env={"DATABASE_URL": "sqlite+aiosqlite:///no/such/city.db"},
    ),
    "run: no token": Case(("run",), 2, "BOT_TOKEN"),
    "run: Telegram unreachable": Case(
        ("run",),
        2,
        "cannot reach Telegram",
        env={"BOT_TOKEN": "123:abc", "TELEGRAM_API_BASE": "http://127.0.0.1:1"},
    ),
    # A bad rubric folder is the folder, then its problems, one a line.
    "run: a bad RUBRIC_DIR": Case(
        ("run",),
        2,
        "RUBRIC_DIR",
        env={"BOT_TOKEN": "123:abc", "RUBRIC_DIR": "no/such/dir"},
        lines=2,
    ),
    "scheduler: no token": Case(("scheduler",), 2, "BOT_TOKEN"),
    "status: a database not upgraded": Case(
        ("status",), 2, "db upgrade", env={"DATABASE_URL": "sqlite+aiosqlite:///old.db"}
    ),
    "broadcast to a misspelt org": Case(
        ("broadcast", "明天开会", "--org", "某某是委", "--yes"), 1, "did you mean"
    ),
    "broadcast to nobody yet": Case(("broadcast", "明天开会", "--org", CITY, "--yes"), 1, "joined"),
    "demo: a port out of range": Case(("demo", "--port", "99999"), 2, "--port"),
    "demo --db in a missing folder": Case(("demo", "--db", "no/such/demo.db"), 2, "does not exist"),
    "demo: a language it does not speak": Case(("demo", "--lang", "fr"), 2, "must be zh or en"),
    "a bad setting": Case(("org", "list"), 2, "TIMEZONE", env={"TIMEZONE": "Mars/Olympus"}),
    "a bad number setting": Case(("org", "list"), 2, "WEBHOOK_PORT", env={"WEBHOOK_PORT": "x"}),
    "a bad web address setting": Case(
        ("org", "list"), 2, "TELEGRAM_API_BASE", env={"TELEGRAM_API_BASE": "ftp://x.org"}
    ),
    # typer's and click's own refusals
    "a misspelt command": Case(("org", "lst"), 2, "'list'"),
    "an unknown option": Case(("org", "list", "--bogus"), 2, "--bogus"),
    "an unexpected extra argument": Case(("org", "rename", BRANCH, "新", "多余"), 2, "多余"),
    "an option without its value": Case(("org", "list", "--depth"), 2, "--depth"),
    "a number option given a word": Case(("org", "list", "--depth", "moon"), 2, "--depth"),
    "import roster --lang fr": Case(("import", "roster", "one.csv", "--lang", "fr"), 2, "--lang"),
    "rubric check --lang fr": Case(("rubric", "check", "gbk.toml", "--lang", "fr"), 2, "--lang"),
    # A SQLite file that does not exist is named, with how to create it, not created.
    "org list: no database yet": Case(
        ("org", "list"), 2, "db upgrade", env={"DATABASE_URL": "sqlite+aiosqlite:///never.db"}
    ),
    "org add: no database yet": Case(
        ("org", "add", "新党委", "--parent", CITY),
        2,
        "db upgrade",
        env={"DATABASE_URL": "sqlite+aiosqlite:///never.db"},
    ),
    "run: no database yet": Case(
        ("run",),
        2,
        "db upgrade",
        env={"BOT_TOKEN": "123:abc", "DATABASE_URL": "sqlite+aiosqlite:///never.db"},
    ),
}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small city, made through the command line itself, and the files the cases use."""
    cwd = tmp_path_factory.mktemp("city")

    write(cwd, "tree.csv", f"路径,类型,领域\n{CITY},党委,\n{TOWN},党委,\n"
          f"{BRANCH},党支部,农村\n{TOWN}/某某社区党支部,党支部,社区\n")  # fmt: skip
    write(cwd, "one.csv", f"姓名,所在党组织,人员类别\n张三,{BRANCH},农村和社区党员\n")
    for args in (("db", "upgrade"), ("import", "orgs", "tree.csv"),
                 ("import", "roster", "one.csv")):  # fmt: skip
        code, out, err = branchbot_here(cwd, *args)
        assert code == 0, (args, out, err)
    write(cwd, "header.csv", "姓名,所在党组织,人员类别\n")
    write(cwd, "old.xls", "not really")
    write(cwd, "astronaut.csv", f"姓名,所在党组织,人员类别\n李四,{BRANCH},宇航员\n")
    new = f"{TOWN}/新河村党支部"  # a new branch, which the roster would create
    write(cwd, "mars.csv", f"姓名,所在党组织,人员类别,领域\n李四,{new},农村和社区党员,火星\n")
    write(cwd, "nodomain.csv", f"姓名,所在党组织,人员类别\n王五,{new},农村和社区党员\n")
    write(cwd, "orgs.csv", f"路径,类型\n{TOWN}/新党委,委员会会\n")
    write(cwd, "typo.csv", f"路径,类型,领域\n{CITY}/某某真党委/新村党支部,党支部,农村\n")
    # Bytes that are neither UTF-8 nor GBK: the rubric reader asks for UTF-8.
    (cwd / "gbk.toml").write_bytes(b'name_zh = "\x80\x80"\n')
    write(cwd, "notes.txt", "shopping list\n" * 100)
    old = cwd / "old.db"
    old.write_bytes(b"")  # an empty SQLite file: schema revision none
    return cwd


def _lines(out: str, err: str) -> list[str]:
    text = out + err
    assert "Traceback" not in text, text
    lines = text.splitlines()
    assert all(line.strip() for line in lines), lines  # no blank line before or between
    return lines


@pytest.mark.parametrize("name", list(CASES))
def test_one_mistake_one_clear_line(city: Path, name: str) -> None:
    case = CASES[name]
    code, out, err = branchbot_here(city, *case.args, **case.env)
    lines = _lines(out, err)
    assert code == case.code, (code, out, err)
    assert len(lines) == case.lines, lines
    assert case.says in lines[0], lines
    assert "{" not in lines[0] or "{" in case.says, lines  # placeholders always filled
    assert "FILE" not in lines[0], lines  # a file is named by its name
    assert not (city / "never.db").exists()  # no command creates a database it only reads


@pytest.mark.parametrize(
    ("word", "lang"), [("社区", "zh_Hans"), ("两新组织", "en"), ("village", "en")]
)
def test_org_add_takes_the_rosters_domain_words(city: Path, word: str, lang: str) -> None:
    """`org add --domain` accepts the words docs/roster.md lists for the domain column,
    Chinese or English, whatever the command line's language."""
    name = f"{word}新党支部"
    code, out, err = branchbot_here(
        city, "org", "add", name, "--parent", TOWN, "--branch", "--domain", word,
        DEFAULT_LOCALE=lang,
    )  # fmt: skip
    assert code == 0 and "Traceback" not in err, (out, err)
    assert f"{TOWN}/{name}" in out, out


DOMAINS = {
    "zh_Hans": "农村（village）、城市社区（community）、机关企事业单位（agency）、"
    "两新组织（two_new）",
    "en": "village (village / rural community), community (urban community), ",
}


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_org_add_offers_the_domains_in_the_citys_language(city: Path, lang: str) -> None:
    """Without --domain, or with a word no table has, the domains are listed in words
    of the city's language, each with the value to type."""
    for extra in ((), ("--domain", "火星")):
        code, out, err = branchbot_here(
            city, "org", "add", "新支部", "--parent", TOWN, "--branch", *extra,
            DEFAULT_LOCALE=lang,
        )  # fmt: skip
        assert code == 2 and DOMAINS[lang] in _lines(out, err)[0], (out, err)


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_the_template_is_xlsx_only_and_its_help_says_so(city: Path, lang: str) -> None:
    code, out, err = branchbot_here(city, "export", "roster", "--help", DEFAULT_LOCALE=lang)
    only = "仅限 .xlsx" if lang == "zh_Hans" else "as .xlsx only"
    assert code == 0 and only in out, out
    code, out, err = branchbot_here(
        city, "export", "roster", "--template", "x.csv", DEFAULT_LOCALE=lang
    )
    (line,) = _lines(out, err)
    assert code == 2 and "--template" in line and "x.xlsx" in line, line


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_a_roster_problem_is_said_once_and_suggests_only_close_names(city: Path, lang: str) -> None:
    """A new branch whose domain is a word no table has: that word is the one problem
    (not also "give its domain"); a new branch without a domain is not offered an
    existing one that merely ends alike ("新河村党支部" is not "某某村党支部")."""
    code, out, err = branchbot_here(city, "import", "roster", "mars.csv", DEFAULT_LOCALE=lang)
    problem, _summary = _lines(out, err)
    assert code == 1 and "火星" in problem and "新河村党支部" not in problem, problem
    code, out, err = branchbot_here(city, "import", "roster", "nodomain.csv", DEFAULT_LOCALE=lang)
    problem, _summary = _lines(out, err)
    assert code == 1 and "新河村党支部" in problem, problem
    assert "did you mean" not in problem and "是否应为" not in problem, problem


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_status_counts_line_up(city: Path, lang: str) -> None:
    """`branchbot status` in Chinese or English: the outbox counts start in one column
    on the screen (a Chinese character takes two)."""
    from bot.cli.table import display_width

    code, out, err = branchbot_here(city, "status", DEFAULT_LOCALE=lang)
    assert code == 0 and "Traceback" not in err, (out, err)
    rows = out.splitlines()[1:6]
    starts = {display_width(re.sub(r"\d+$", "", row)) for row in rows}
    assert all(re.search(r"\d+$", row) for row in rows) and len(starts) == 1, rows


async def test_run_with_a_token_telegram_refuses(city: Path) -> None:
    async with EmulatorServer(EmulatorConfig(flood=FloodConfig(enabled=False))) as server:
        code, out, err = await branchbot(
            city, "run", BOT_TOKEN="123:wrong", TELEGRAM_API_BASE=server.url
        )
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert code == 2 and "Traceback" not in err, (out, err)
    assert lines == [lines[0]] and "BOT_TOKEN" in lines[0] and "@BotFather" in lines[0]


@pytest.mark.parametrize(
    ("mistake", "says"),
    [("database", "db upgrade --create"), ("user", "user name")],
)
def test_postgres_mistakes(tmp_path: Path, mistake: str, says: str) -> None:
    need(bool(PG_URL), "TEST_DATABASE_URL is not set (PostgreSQL tests)")
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)  # type: ignore[arg-type]
    if mistake == "database":
        url = url.set(database="branchbot_no_such_database")
    else:
        url = url.set(username="no_such_user_i12")
    bad = url.render_as_string(hide_password=False)
    for lang in ("en", "zh_Hans"):
        code, out, err = branchbot_here(
            tmp_path, "db", "current", DATABASE_URL=bad, DEFAULT_LOCALE=lang
        )
        lines = _lines(out, err)
        assert code == 2 and len(lines) == 1, (out, err)
        if lang == "en":
            assert says in lines[0], lines
        else:
            named = url.database if mistake == "database" else url.username
            assert _chinese_line(lines[0]) and f" {named} " in lines[0], lines


# Words of the command line that stay as they are in any language: commands, options,
# variables, values to type, and a driver's or library's own reason quoted in brackets.
_VERBATIM = re.compile(
    r"`[^`]*`|（[^（）]*）|\([^()]*\)|--?[a-z][\w-]*|\b[A-Z][A-Z_]+\b|\S+://\S+"
    r"|\S+\.(?:csv|xlsx|toml|db|txt|xls)\b"
)
_ENGLISH = re.compile(r"\b[A-Za-z]{2,}\b(?:[\s,;:()'\"]+\b[A-Za-z]{2,}\b){2,}")


def _chinese_line(line: str) -> bool:
    prose = _VERBATIM.sub(" ", re.sub(r"^branchbot[\w -]*:", "", line))  # the command
    return not _ENGLISH.search(prose)


@pytest.mark.parametrize("name", list(CASES))
def test_one_mistake_one_line_in_chinese(city: Path, name: str) -> None:
    """The same mistakes with the city's language set to Chinese: the line is Chinese
    (commands, options, variables and file names aside), with the same exit code."""
    case = CASES[name]
    code, out, err = branchbot_here(city, *case.args, **{**case.env, "DEFAULT_LOCALE": "zh_Hans"})
    lines = _lines(out, err)
    assert code == case.code, (code, out, err)
    assert len(lines) == case.lines, lines
    assert _chinese_line(lines[0]), lines[0]


# What an administrator's shell sees: the exit code of the process and its two streams.
IN_A_FRESH_PROCESS = [
    "unknown command",
    "a bad setting",
    "import roster: an unknown category",
    "org list: no database yet",
]


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
@pytest.mark.parametrize("name", IN_A_FRESH_PROCESS)
async def test_in_a_fresh_process(city: Path, name: str, lang: str) -> None:
    case = CASES[name]
    code, out, err = await branchbot(city, *case.args, **{**case.env, "DEFAULT_LOCALE": lang})
    lines = _lines(out, err)
    assert code == case.code, (code, out, err)
    assert len(lines) == case.lines, lines
    assert case.says in lines[0] if lang == "en" else _chinese_line(lines[0]), lines


def test_import_roster_on_an_empty_database(tmp_path: Path) -> None:
    """A roster before any organisation exists: its problems, and nothing before them."""
    assert branchbot_here(tmp_path, "db", "upgrade")[0] == 0
    row = "张三,某市委/某镇党委/某村党支部,农村和社区党员"
    write(tmp_path, "r.csv", f"姓名,所在党组织,人员类别\n{row}\n")
    for lang in ("zh_Hans", "en"):
        code, out, err = branchbot_here(tmp_path, "import", "roster", "r.csv", DEFAULT_LOCALE=lang)
        lines = _lines(out, err)
        assert code == 1 and len(lines) == 2, lines
        assert "某村党支部" in lines[0] and "r.csv" in lines[1]


@pytest.mark.parametrize(
    ("lang", "several"),
    [("zh_Hans", "有多个党组织名为"), ("en", "Several organisations are called")],
)
def test_parent_by_a_unique_bare_name_and_not_by_a_shared_one(
    city: Path, lang: str, several: str
) -> None:
    """`--parent` takes a unit's name alone when no other unit has it, as the roster
    import takes a branch's; a name two units share is refused naming both."""
    code, out, err = branchbot_here(
        city, "org", "add", f"新党支部{lang}", "--parent", "某某镇党委", "--branch",
        "--domain", "village", DEFAULT_LOCALE=lang,
    )  # fmt: skip
    assert code == 0 and f"{TOWN}/新党支部{lang}" in out, (out, err)
    twin = f"同名党委{lang}"
    for parent in (CITY, TOWN):
        assert branchbot_here(city, "org", "add", twin, "--parent", parent)[0] == 0
    code, out, err = branchbot_here(
        city, "org", "add", "新党委", "--parent", twin, DEFAULT_LOCALE=lang
    )
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and several in lines[0], (out, err)
    assert f"{CITY}/{twin}" in lines[0] and f"{TOWN}/{twin}" in lines[0]
