"""A bad RUBRIC_DIR stops every command with one block of problems, exit 2, no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scoring.rubric import RUBRICS_DIR
from tests.unit.test_settings import run_cli as run_any


def run_cli(tmp_path: Path, *args: str, **env: str):
    """In English: the problems are checked by their English words (the Chinese run is
    tests/e2e/test_cli_mistakes.py's)."""
    return run_any(tmp_path, *args, **{"DEFAULT_LOCALE": "en", **env})


def broken_rubric(tmp_path: Path) -> Path:
    """The shipped Fortress rubric with one typo'd key (`mthod`)."""
    folder = tmp_path / "rubric"
    shutil.copytree(RUBRICS_DIR / "fortress", folder)
    stars = folder / "stars.toml"
    stars.write_text(stars.read_text().replace('method = "threshold"', 'mthod = "threshold"', 1))
    return folder


def assert_one_block(done, *expected: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("RUBRIC_DIR: ") and "is not a valid rubric" in lines[0]
    for text in expected:
        assert any(text in line for line in lines[1:]), (text, done.stderr)


@pytest.mark.parametrize(
    "args",
    [("run",), ("db", "upgrade"), ("close-period", "--period", "2026-05"), ("org", "add", "City")],
)
def test_a_rubric_with_a_typo_is_one_block(tmp_path: Path, args: tuple[str, ...]) -> None:
    folder = broken_rubric(tmp_path)
    db = tmp_path / "b.db"
    done = run_cli(
        tmp_path, *args, BOT_TOKEN="123:abc", DATABASE_URL=f"sqlite:///{db}", RUBRIC_DIR=str(folder)
    )
    assert_one_block(done, "stars.toml", "mthod")
    assert not db.exists()  # nothing was done before the check


def test_a_missing_rubric_dir_is_one_block(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    done = run_cli(tmp_path, "run", BOT_TOKEN="123:abc", RUBRIC_DIR=str(missing))
    assert_one_block(done, "file not found")


def test_an_empty_rubric_dir_names_every_missing_part(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = run_cli(tmp_path, "run", BOT_TOKEN="123:abc", RUBRIC_DIR=str(tmp_path / "empty"))
    assert_one_block(done, "'common'", "'stars'", "'domain village'")


def test_a_valid_rubric_dir_passes_the_check(tmp_path: Path) -> None:
    done = run_cli(
        tmp_path,
        "db",
        "upgrade",
        DATABASE_URL=f"sqlite:///{tmp_path / 'ok.db'}",
        RUBRIC_DIR=str(RUBRICS_DIR),
    )
    assert done.returncode == 0, done.stderr
