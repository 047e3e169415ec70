"""`branchbot close-period` and `branchbot content add` on a SQLite file."""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_cli_db import cli, db, rows

__all__ = ["db"]  # the fixture, used by name


def _city() -> None:
    cli("db", "upgrade")
    cli("org", "add", "City")
    cli("org", "add", "Town", "--parent", "City")
    cli("org", "add", "Other", "--parent", "City")
    cli("org", "add", "B1", "--parent", "City/Town", "--branch", "--domain", "village")
    cli("org", "add", "B2", "--parent", "City/Other", "--branch", "--domain", "agency")


def test_close_period_for_a_subtree_then_the_city(db: Path) -> None:
    _city()
    town = cli("close-period", "--period", "2026-06", "--org", "City/Town")
    assert "1 snapshot(s) created, 0 already closed, 1 branch(es)" in town.output
    city = cli("close-period", "--period", "2026-06")
    assert "1 snapshot(s) created, 1 already closed, 2 branch(es)" in city.output
    # Nothing was held: both branches propose one star, and the distribution says so.
    assert "1-star: 2 branch(es)" in city.output
    assert rows(db, "SELECT count(*) FROM period_snapshot WHERE period = '2026-06'") == [(2,)]
    again = cli("close-period", "--period", "2026-06")
    assert "0 snapshot(s) created, 2 already closed" in again.output
    cli("close-period", "--period", "2099-01", code=2)  # not begun: surely a typo
    unknown = cli("close-period", "--period", "2026-05", "--org", "City/Nowhere", code=1)
    assert "City/Nowhere" in unknown.output
    assert rows(db, "SELECT count(*) FROM period_snapshot") == [(2,)]


def test_content_add(db: Path) -> None:
    _city()
    done = cli(
        "content",
        "add",
        "--org",
        "City/Town",
        "--month",
        "2026-07",
        "--kind",
        "video",
        "--title",
        "Member education",
        "--url",
        "https://example.org/v",
        "--domains",
        "village,community",
    )
    assert "added" in done.output
    assert rows(db, "SELECT org_id, kind, title, domains, created_by FROM education_content") == [
        (2, "video", "Member education", "community,village", None)
    ]
    assert rows(db, "SELECT actor_id, actor FROM audit_log WHERE entity = 'content'") == [
        (None, "cli")
    ]
    # Neither a link nor a file: refused, nothing written.
    cli(
        "content",
        "add",
        "--org",
        "City",
        "--month",
        "2026-07",
        "--kind",
        "video",
        "--title",
        "x",
        code=1,
    )
    assert rows(db, "SELECT count(*) FROM education_content") == [(1,)]
