"""`branchbot org add` writes without SQLAlchemy (bot/db/plain.py); the ORM services
write the same tree for chat `/orgs` and the imports. The two must agree.

The same calls go through both on SQLite and on PostgreSQL: `org add` as it was built
on the ORM (`tree.require_path`, the top-organisation check, `orgs.create_org`) and the
lean `orgs_cmd.add_org`, each call its own transaction, from empty tables. Every column
of every organisation and audit row is compared as stored (timestamps and JSON text
included), every refusal by its code and parameters, and what the lean path wrote is
read back through the ORM models.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli.orgs_cmd import add_org
from bot.db import plain
from bot.db.engine import is_sqlite, session_factory
from bot.db.enums import Domain
from bot.db.models import AuditLog, Organisation
from bot.services import orgs, tree
from bot.services.audit import Actor
from bot.services.errors import ServiceError
from tests.conftest import PG_URL, need

NOW = datetime(2026, 7, 1, 8, 30, 15, 123456, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
CITY, TOWN = "某某市委", "某某市委/某某镇党委"

# (name, --parent, --branch, --domain): what an administrator types, in order.
CALLS: list[tuple[str, str | None, bool, Domain | None]] = [
    ("某某市委", None, False, None),  # the top committee
    ("某某镇党委", CITY, False, None),  # a committee under it
    ("  某某村党支部\u200b ", TOWN, True, Domain.village),  # a branch; the name cleaned
    ("Riverside Community", TOWN, True, Domain.community),
    ("第二党委", None, False, None),  # refused: a second top
    ("某某镇党委", CITY, False, None),  # org.name_taken
    ("x", f"{TOWN}/某某村党支部", False, None),  # org.parent_is_branch
    ("新党支部", TOWN, True, None),  # org.domain_required
    ("新党支部", "某某市委/某某真党委", True, Domain.agency),  # org.path_unknown_near
    ("新党支部", "某某村党支部", True, Domain.agency),  # a unique bare name: a branch, refused
    ("新党支部", "完全不同/的路径", True, Domain.agency),  # org.path_unknown
    ("新党支部", " / ", True, Domain.agency),  # org.path_empty
    ("", CITY, False, None),  # org.name_empty
    ("\u200b", CITY, False, None),  # name.invisible
    ("=SUM(A1)", CITY, False, None),  # name.formula
    ("abc\u202edef", CITY, False, None),  # name.bidi
    ("甲/乙", CITY, False, None),  # org.name_has_slash
    ("长" * 201, CITY, False, None),  # org.name_too_long
    ("某某局党组", CITY, False, None),
    ("机关一支部", "某某市委/某某局党组", True, Domain.agency),
    ("二支部", "某某镇党委", True, Domain.village),  # a unique bare name
    ("二支部", "某某局党组", True, Domain.agency),
    ("x", "二支部", False, None),  # org.path_ambiguous, naming both
    ("x", "某某局党组/机关一支部x", False, None),  # misspelt under a bare name: the nearest
]

_ = str  # the refusal lines are compared in the words they are made of


async def orm_add(session, name, parent, branch, domain):
    """`org add` as it ran on the ORM before the lean path (bot/cli/orgs_cmd.py)."""
    parent_org = await tree.require_path(session, parent) if parent else None
    if parent_org is None:
        top = await session.scalar(
            select(Organisation.name).where(Organisation.parent_id.is_(None)).limit(1)
        )
        if top is not None:
            return _(
                "--parent: the tree already has its top organisation ({top}); "
                "say where {name} belongs with --parent PATH"
            ).format(top=top, name=name)
    org = await orgs.create_org(
        session,
        Actor.cli(),
        NOW,
        name=name,
        kind="branch" if branch else "committee",
        parent_id=parent_org.id if parent_org else None,
        domain=domain,
    )
    return org.id, await orgs.display_path(session, org)


async def through_orm(engine: AsyncEngine) -> list[object]:
    outcomes: list[object] = []
    for call in CALLS:
        async with session_factory(engine)() as session:
            try:
                outcomes.append(await orm_add(session, *call))
                await session.commit()
            except ServiceError as exc:
                await session.rollback()
                outcomes.append((exc.code, exc.params))
    return outcomes


async def through_lean(url: str) -> list[object]:
    outcomes: list[object] = []
    for call in CALLS:
        try:
            async with plain.transaction(url) as db:
                outcomes.append(await add_org(db, NOW, *call, _))
        except ServiceError as exc:
            outcomes.append((exc.code, exc.params))
    return outcomes


async def stored(engine: AsyncEngine) -> tuple[list[tuple], list[tuple]]:
    """Every column of both tables as the database holds it (JSON as its text)."""
    changes = "changes" if is_sqlite(str(engine.url)) else "changes::text"
    async with engine.connect() as conn:
        organisations = (await conn.execute(text("SELECT * FROM organisation ORDER BY id"))).all()
        audit = (
            await conn.execute(
                text(
                    f"SELECT id, at, actor_id, actor, entity, entity_id, action, {changes}"
                    " FROM audit_log ORDER BY id"
                )
            )
        ).all()
    return [tuple(r) for r in organisations], [tuple(r) for r in audit]


async def empty(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        if is_sqlite(str(engine.url)):
            await conn.execute(text("DELETE FROM audit_log"))
            await conn.execute(text("DELETE FROM organisation"))  # ids start again at 1
        else:
            await conn.execute(text("TRUNCATE organisation, audit_log RESTART IDENTITY CASCADE"))


def url_of(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


async def test_the_lean_org_add_writes_what_the_orm_writes(engine: AsyncEngine) -> None:
    orm_outcomes = await through_orm(engine)
    orm_rows = await stored(engine)
    await empty(engine)
    lean_outcomes = await through_lean(url_of(engine))
    lean_rows = await stored(engine)

    assert lean_outcomes == orm_outcomes
    codes = [o[0] for o in orm_outcomes if isinstance(o, tuple) and isinstance(o[0], str)]
    assert len(set(codes)) == 13  # every refusal above happened, each its own way
    assert isinstance(orm_outcomes[4], str) and "--parent" in orm_outcomes[4]
    assert orm_outcomes[2] == (3, "某某市委/某某镇党委/某某村党支部")
    assert orm_outcomes[20][1] == "某某市委/某某镇党委/二支部"
    assert orm_outcomes[22] == (
        "org.path_ambiguous",
        {
            "path": "二支部",
            "candidates": ["某某市委/某某局党组/二支部", "某某市委/某某镇党委/二支部"],
        },
    )
    assert orm_outcomes[23][1]["near"] == "某某市委/某某局党组/机关一支部"
    assert len(orm_rows[0]) == 8 and len(orm_rows[1]) == 8
    assert lean_rows == orm_rows  # every column, ids and stored timestamps included

    # What the lean path wrote reads back through the ORM as the ORM's own rows do.
    async with session_factory(engine)() as session:
        branch = await tree.require_path(session, "某某市委/某某镇党委/某某村党支部")
        assert (branch.created_at, branch.kind, branch.domain) == (NOW, "branch", "village")
        assert branch.path == "/1/2/3/"
        entry = await session.scalar(select(AuditLog).where(AuditLog.entity_id == branch.id))
        assert entry.at == NOW and entry.actor == "cli" and entry.actor_id is None
        assert entry.changes == {
            "name": [None, "某某村党支部"],
            "kind": [None, "branch"],
            "parent_id": [None, 2],
            "domain": [None, "village"],
        }


async def test_the_lean_path_refuses_a_schema_behind(engine: AsyncEngine, tmp_path) -> None:
    url = url_of(engine)
    async with engine.begin() as conn:
        head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        with pytest.raises(plain.SchemaBehind):
            async with plain.transaction(url) as db:
                await add_org(db, NOW, CITY, None, False, None, _)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    async with plain.transaction(url) as db:  # at head again: it works
        assert await add_org(db, NOW, CITY, None, False, None, _) == (1, CITY)

    missing = tmp_path / "no" / "city.db"
    with pytest.raises(plain.SchemaBehind):
        async with plain.transaction(f"sqlite+aiosqlite:///{missing}"):
            pass
    assert not missing.exists()  # `org add` never creates a database file


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        "postgresql+asyncpg://u%40x:p%3Aw%2Fd@db.example:6543/city%20one",
        "postgresql+asyncpg://u:pw@[::1]:5432/city?ssl=require&application_name=bb",
        "postgresql+asyncpg://u@/city?host=/var/run/postgresql",
        "postgresql+asyncpg://u@/city?host=a:5432&host=b:5433",
        "postgresql+asyncpg://u@h/city?prepared_statement_cache_size=0&timeout=5",
        "postgresql+asyncpg:///city",
    ],
)
def test_a_url_means_the_same_connection_on_both_paths(url: str) -> None:
    from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

    _args, expected = PGDialect_asyncpg().create_connect_args(make_url(url))
    expected.pop("prepared_statement_cache_size", None)  # the dialect's own, not asyncpg's
    assert plain.connect_args(url) == expected


async def cli(cwd: Path, *args: str, url: str) -> tuple[int, str]:
    """`branchbot ARGS` in a fresh process, as an administrator's script runs it."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "DEFAULT_LOCALE": "en",
    }
    launch = "import sys; sys.argv[0] = 'branchbot'; from bot.cli import main; main()"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", launch, *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode().strip()


async def test_org_add_without_a_database_at_head(tmp_path) -> None:
    """No database file yet: said, and none created; a file behind the head revision
    (here an empty one): the upgrade asked for, as every other command does."""
    missing = tmp_path / "never.db"
    code, line = await cli(tmp_path, "org", "add", CITY, url=f"sqlite+aiosqlite:///{missing}")
    assert code == 2 and "`branchbot db upgrade` creates it" in line and "\n" not in line
    assert not missing.exists()
    (tmp_path / "old.db").write_bytes(b"")
    code, line = await cli(
        tmp_path, "org", "add", CITY, url=f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    )
    assert (code, line) == (
        2,
        "the database schema is out of date: run `branchbot db upgrade` first",
    )


async def test_org_add_on_postgresql_from_the_command_line(tmp_path) -> None:
    """The lean path end to end on PostgreSQL: a fresh `branchbot` process, the asyncpg
    connection from DATABASE_URL, the refusals in one line with their exit codes."""
    need(bool(PG_URL), "TEST_DATABASE_URL is not set (PostgreSQL tests)")
    from tests.conftest import _pg_engine

    engine = await _pg_engine()  # migrated, empty
    await engine.dispose()

    async def branchbot(*args: str, url: str = PG_URL) -> tuple[int, str]:  # type: ignore[assignment]
        return await cli(tmp_path, *args, url=url)

    assert await branchbot("org", "add", CITY) == (0, f"Created {CITY}")
    assert await branchbot("org", "add", "某某镇党委", "--parent", CITY) == (0, f"Created {TOWN}")
    code, line = await branchbot(
        "org", "add", "某某村党支部", "--parent", TOWN, "--branch", "--domain", "农村"
    )
    assert (code, line) == (0, f"Created {TOWN}/某某村党支部")
    code, line = await branchbot("org", "add", "某某镇党委", "--parent", CITY)
    assert code == 1 and line == "There is already an organisation called “某某镇党委” here."
    code, line = await branchbot("org", "add", "x", "--parent", "某某市委/某某真党委")
    assert code == 1 and "did you mean 某某市委/某某镇党委?" in line
    code, line = await branchbot("org", "add", "第二党委")
    assert code == 2 and line.startswith("--parent:")
    bad = make_url(PG_URL).set(database="branchbot_no_such_database_h12")  # type: ignore[arg-type]
    code, line = await branchbot("org", "add", CITY, url=bad.render_as_string(hide_password=False))
    assert code == 2 and "db upgrade --create" in line and "\n" not in line
