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


def loaded_by(tmp_path: Path, *args: str) -> set[str]:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
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


def test_org_add_builds_only_the_tables_of_the_tree(tmp_path: Path) -> None:
    loaded_by(tmp_path, "db", "upgrade")
    loaded = loaded_by(tmp_path, "org", "add", "某某市委")
    assert "bot.services.orgs" in loaded  # it did its work
    assert "bot.db.models" in loaded
    assert not {"bot.db.models_month", "bot.db.models_eval", "bot.db.models_delivery"} & loaded


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
