"""Schema migrations: upgrade, current revision, and the start-up check.

Only `upgrade` needs Alembic. The check every command makes before it starts (is the
schema at head?) reads the revision table with SQLAlchemy and finds the head by reading
the revision files as text: importing Alembic (and Mako behind it) costs a command-line
call more time than the rest of its work.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSIONS = MIGRATIONS / "versions"
VERSION_TABLE = "alembic_version"

_ASSIGNMENT = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def revision_graph(versions: Path = VERSIONS) -> dict[str, tuple[str, ...]]:
    """Each revision id -> the ids it follows, read from the files' assignments."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted(versions.glob("*.py")):
        found = dict(_ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            continue
        down = ast.literal_eval(found.get("down_revision", "None"))
        if down is None:
            down = ()
        elif isinstance(down, str):
            down = (down,)
        graph[ast.literal_eval(found["revision"])] = tuple(down)
    return graph


def head_revision() -> str | None:
    """The one revision nothing follows (None before any; several heads is a bug)."""
    graph = revision_graph()
    followed = {d for downs in graph.values() for d in downs}
    heads = sorted(set(graph) - followed)
    if len(heads) > 1:
        raise RuntimeError(f"several migration heads: {', '.join(heads)}")
    return heads[0] if heads else None


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the schema to head over an existing engine (same code on both backends)."""
    # Alembic announces its plugins at INFO when first imported, which now happens
    # after the demo has set up logging: that is noise, not news.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))

    def _do(conn) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(_do)


async def current_revision(engine: AsyncEngine) -> str | None:
    from sqlalchemy import inspect, text

    def _read(conn) -> str | None:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()

    async with engine.connect() as conn:
        return await conn.run_sync(_read)


async def is_up_to_date(engine: AsyncEngine) -> bool:
    return await current_revision(engine) == head_revision()
