"""Bytecode is written once into the environment, even where PYTHONDONTWRITEBYTECODE is set.

pyproject.toml no longer asks uv to compile at install (`uv run` would then compile the
whole environment on every call), so `bot` itself must see to it that a process writes the
bytecode of what it imports: otherwise every `branchbot` process on such a machine compiles
aiogram, SQLAlchemy and pydantic from source.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_module_imported_after_bot_leaves_its_bytecode(tmp_path: Path) -> None:
    (tmp_path / "somemodule.py").write_text("VALUE = 1\n", encoding="utf-8")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tmp_path)}
    code = "import bot, somemodule; print(somemodule.VALUE)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    assert list((tmp_path / "__pycache__").glob("somemodule.*.pyc"))


def test_without_bot_the_environment_setting_holds(tmp_path: Path) -> None:
    """The check above can fail: the same import without `bot` writes nothing."""
    (tmp_path / "somemodule.py").write_text("VALUE = 1\n", encoding="utf-8")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "import somemodule"], env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0
    assert not (tmp_path / "__pycache__").exists()
