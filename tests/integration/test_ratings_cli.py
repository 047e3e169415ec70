"""`branchbot export ratings` on a SQLite file: the ledger a superior files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from openpyxl import load_workbook

from tests.integration.test_cli_db import cli, db

__all__ = ["db"]  # the fixture, used by name


def _city() -> None:
    cli("db", "upgrade")
    cli("org", "add", "City")
    cli("org", "add", "Town", "--parent", "City")
    cli("org", "add", "Other", "--parent", "City")
    cli("org", "add", "B1", "--parent", "City/Town", "--branch", "--domain", "village")
    cli("org", "add", "B2", "--parent", "City/Other", "--branch", "--domain", "agency")
    # A name from before formula-like names were refused: the ledger must still be inert.
    with sqlite3.connect("branchbot.db") as conn:
        conn.execute("UPDATE organisation SET name = '=SUM(1)' WHERE name = 'B2'")
    cli("close-period", "--period", "2026-06")


def test_export_ratings_for_the_city_and_a_subtree(db: Path, tmp_path: Path) -> None:
    _city()
    out = tmp_path / "ledger.xlsx"
    done = cli("export", "ratings", "--period", "2026-06", "--lang", "en", str(out))
    assert "2 branches" in done.output
    book = load_workbook(out)
    branches, items = book.worksheets[0], book.worksheets[1]
    assert branches.title == "Branches 2026-06" and branches.freeze_panes == "A2"
    header = [c.value for c in branches[1]]
    assert header[:5] == ["Sub-committee", "Branch", "Domain", "Score", "Maximum"]
    assert "Basic organisational life" in header
    rows = {r[1]: r for r in branches.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"B1", "=SUM(1)"}
    assert rows["B1"][0] == "Town" and isinstance(rows["B1"][3], (int, float))
    formula_like = next(c for c in branches["B"] if c.value == "=SUM(1)")
    assert formula_like.data_type == "s"  # written as text, never as a formula
    assert items.max_row > 10 and items.cell(1, 2).value == "Item"

    zh = tmp_path / "town.xlsx"
    cli("export", "ratings", "--period", "2026-06", "--org", "City/Town", "--lang", "zh", str(zh))
    town = load_workbook(zh).worksheets[0]
    assert town.title == "支部 2026-06" and town.cell(1, 2).value == "支部"
    assert [r[1] for r in town.iter_rows(min_row=2, values_only=True)] == ["B1"]


def test_export_ratings_refuses_bad_arguments(db: Path, tmp_path: Path) -> None:
    _city()
    # Not an .xlsx: the call is wrong (exit 2); a bad month or path: refused data (exit 1).
    cli("export", "ratings", "--period", "2026-06", str(tmp_path / "x.csv"), code=2)
    cli("export", "ratings", "--period", "2026-13", str(tmp_path / "x.xlsx"), code=1)
    cli(
        "export",
        "ratings",
        "--period",
        "2026-06",
        "--org",
        "Nope",
        str(tmp_path / "x.xlsx"),
        code=1,
    )
