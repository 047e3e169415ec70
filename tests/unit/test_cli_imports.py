"""The command line starts without what it does not need (issue 12: start-up time).

Checked by the modules a fresh interpreter has loaded, not by a clock: a busy machine
makes any time limit flaky, while an import that creeps back in shows here at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
sys.argv = ["branchbot", *json.loads(sys.argv[1])]
from bot.cli import main
try:
    main()
except SystemExit:
    pass
print("\\n@@" + json.dumps(sorted(sys.modules)))
"""


def loaded_by(tmp_path: Path, *args: str, url: str | None = None) -> set[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": url or f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return set(json.loads(done.stdout.rsplit("@@", 1)[1]))


def top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_loads_no_database_bot_framework_or_rich(tmp_path: Path) -> None:
    loaded = top(loaded_by(tmp_path, "--help"))
    for heavy in ("aiogram", "sqlalchemy", "sqlmodel", "pydantic", "alembic", "rich", "babel"):
        assert heavy not in loaded, heavy
    assert "scoring" not in loaded and "openpyxl" not in loaded


@pytest.mark.parametrize(
    "args",
    [
        ("org", "add", "某某市委"),
        ("db", "current"),
        ("rubric", "check", "x.toml"),
        ("close-period", "--period", "2026-01"),
    ],
)
def test_commands_that_do_not_talk_to_telegram_load_no_aiogram(tmp_path, args) -> None:
    loaded = top(loaded_by(tmp_path, *args))
    assert "aiogram" not in loaded and "aiohttp" not in loaded
    assert "mako" not in loaded and "openpyxl" not in loaded


def test_services_do_not_import_the_bot_framework() -> None:
    code = (
        "import sys, pkgutil, importlib, bot.services as s\n"
        "for m in pkgutil.iter_modules(s.__path__):\n"
        "    importlib.import_module('bot.services.' + m.name)\n"
        "print(sorted({n.split('.')[0] for n in sys.modules}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "'aiogram'" not in done.stdout and "'aiohttp'" not in done.stdout


def test_the_light_head_revision_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from bot.db.migrate import alembic_config, head_revision

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert head_revision() == script.get_current_head()


ORM = ("sqlalchemy", "sqlmodel", "alembic", "aiosqlite", "aiogram", "aiohttp", "rich", "babel")


@pytest.mark.parametrize(
    "args",
    [
        ("org", "add", "某某市委"),
        ("org", "add", "某某镇党委", "--parent", "某某市委"),
        (
            "org",
            "add",
            "某某村党支部",
            "--parent",
            "某某市委/某某镇党委",
            "--branch",
            "--domain",
            "农村",
        ),
        ("org", "add", "某某镇党委", "--parent", "某某市委"),  # refused: the name exists
        ("org", "add", "新党委", "--parent", "某某市委/某某真党委"),  # refused: did you mean
        ("org", "add", "第二党委"),  # refused: a second top
    ],
)
def test_org_add_works_without_the_orm(tmp_path: Path, args: tuple[str, ...]) -> None:
    """`org add` (what scripts call a thousand times) writes through bot/db/plain.py:
    no SQLAlchemy, SQLModel, Alembic or bot framework, whether it creates or refuses."""
    loaded_by(tmp_path, "db", "upgrade")
    for before in (
        ("org", "add", "某某市委"),
        ("org", "add", "某某镇党委", "--parent", "某某市委"),
    ):
        if args != before:
            loaded_by(tmp_path, *before)
    loaded = loaded_by(tmp_path, *args)
    assert "bot.services.orgs_plain" in loaded and "bot.db.plain" in loaded  # it did its work
    assert not set(ORM) & top(loaded), set(ORM) & top(loaded)
    assert not {"bot.db.models", "bot.db.engine", "bot.services.orgs"} & loaded


def test_org_add_on_postgresql_loads_asyncpg_and_no_orm(tmp_path: Path) -> None:
    from tests.conftest import PG_URL, need

    need(bool(PG_URL), "TEST_DATABASE_URL is not set (PostgreSQL tests)")
    loaded = loaded_by(tmp_path, "org", "add", "某某市委", "--parent", "没有/这个", url=PG_URL)
    assert "asyncpg" in top(loaded) and "bot.db.plain" in loaded
    assert not set(ORM) & top(loaded), set(ORM) & top(loaded)


def test_the_rules_shared_with_the_lean_path_import_no_orm() -> None:
    code = (
        "import sys, bot.services.org_rules, bot.services.orgs_plain, bot.services.audit\n"
        "import bot.db.plain\n"
        "print(sorted({n.split('.')[0] for n in sys.modules}))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for heavy in ("sqlalchemy", "sqlmodel", "pydantic", "aiogram"):
        assert f"'{heavy}'" not in done.stdout, heavy


def test_every_table_class_is_found_through_bot_db_models() -> None:
    """A class added to one of the other table modules must be listed where
    `bot.db.models` looks it up, or `from bot.db.models import X` fails."""
    import importlib

    from bot.db import models

    tables = {t.name for t in models.load_all().sorted_tables}
    found = {models.Organisation.__tablename__}
    for module_name, names in models._ELSEWHERE.items():
        module = importlib.import_module(module_name)
        declared = {
            name
            for name, value in vars(module).items()
            if isinstance(value, type) and value.__module__ == module_name
        }
        assert declared == set(names), module_name
        for name in names:
            value = getattr(models, name)
            assert value is getattr(module, name)
            found.add(getattr(value, "__tablename__", None))
    core = {
        v.__tablename__
        for v in vars(models).values()
        if isinstance(v, type) and v.__module__ == models.__name__ and hasattr(v, "__tablename__")
    }
    assert tables == (found | core) - {None}


def _describe(cmd) -> tuple:
    params = [(p.name, tuple(p.opts), p.required, repr(p.default), p.help) for p in cmd.params]
    subs = getattr(cmd, "commands", {})
    return cmd.name, cmd.help, params, [_describe(subs[n]) for n in sorted(subs)]


def test_a_group_alone_is_the_group_of_the_whole_tree() -> None:
    """`org add …` builds only the `org` branch of the click tree (bot/cli/main.py
    `command_for`): the same commands, options and help as in the whole tree."""
    import typer

    from bot.cli.main import app, command_for

    whole = typer.main.get_command(app)
    groups = {g.name for g in app.registered_groups}
    assert "org" in groups
    for name, cmd in whole.commands.items():  # type: ignore[attr-defined]
        alone = command_for([name, "add"])
        if name in groups:
            assert list(alone.commands) == [name]  # type: ignore[attr-defined]
            assert _describe(alone.commands[name]) == _describe(cmd)  # type: ignore[attr-defined]
        else:
            assert _describe(alone) == _describe(whole)
    for args in ([], ["--help"], ["orgg", "add"]):
        assert _describe(command_for(args)) == _describe(whole)


class _Seen(Exception):
    pass


def test_org_add_runs_without_the_collector_and_gives_it_back(monkeypatch) -> None:
    """`org add` runs without the cyclic garbage collector (bot/cli/__init__.py
    WITHOUT_GC), other commands with it; called in-process, it leaves the collector on."""
    import gc

    from bot.cli import entry

    seen: list[bool] = []

    def probe(*_args: object) -> None:
        seen.append(gc.isenabled())
        raise _Seen

    monkeypatch.setattr("bot.cli.orgs_cmd.settings_or_exit", probe)
    for args, collects in ((["org", "add", "x"], False), (["org", "list"], True)):
        monkeypatch.setattr(sys, "argv", ["branchbot", *args])
        with pytest.raises(_Seen):
            entry()
        assert gc.isenabled()
        assert seen[-1] is collects
