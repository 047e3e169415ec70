"""Running the bot and looking after its database."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from bot.cli.common import (
    UPGRADE_HINT,
    console,
    fail,
    rubric_failure,
    run_db,
    run_in_session,
    settings_or_exit,
)
from bot.db.enums import Domain

db_app = typer.Typer(
    help="Database schema: upgrade to the latest, show the current revision.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
org_app = typer.Typer(
    help="Organisations and their staff, from the command line.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def run() -> None:
    """Run the bot: long polling, or a webhook server when WEBHOOK_URL is set.

    Refuses to start on an out-of-date schema: run `branchbot db upgrade` first, so
    that one deliberate step (not every process at start-up) changes the schema.
    """
    import asyncio

    from bot.config import SettingsError
    from bot.db.engine import create_engine
    from bot.db.migrate import is_up_to_date

    settings = settings_or_exit()
    try:
        settings.require_token()
        if settings.webhook_url:
            settings.require_webhook_secret()
    except SettingsError as exc:
        raise fail(str(exc)) from None

    async def _schema_ok() -> bool:
        engine = create_engine(settings.database_url)
        try:
            return await is_up_to_date(engine)
        finally:
            await engine.dispose()

    if not run_db(_schema_ok):
        raise fail(UPGRADE_HINT)
    # Imported after the checks: aiogram takes seconds to import, a refusal should not.
    from bot.app import build, configure_logging, make_bot, serve

    configure_logging()

    async def _main() -> None:
        app = build(settings, engine=create_engine(settings.database_url))
        bot = make_bot(settings)
        try:
            await serve(app, bot)
        finally:
            await bot.session.close()
            await app.close()

    asyncio.run(_main())


def demo(
    port: int = typer.Option(8080, help="Port of the local Telegram and its browser chat."),
    lang: str = typer.Option("zh", help="Language of the personas and the bot's default: zh|en."),
    db: Path = typer.Option(None, help="Keep the demo in this SQLite file (default: a new one)."),
    fresh: bool = typer.Option(False, "--fresh", help="With --db: start again from the seed."),
) -> None:
    """Try branchbot without Telegram: a local Telegram, a browser chat and a demo city."""
    from sqlalchemy.exc import DatabaseError

    from bot.config import SettingsError
    from bot.demo.run import main
    from bot.emulator import PortInUseError
    from scoring.errors import RubricInvalid

    if lang not in ("zh", "en"):
        raise fail("--lang: must be zh or en")
    if db is not None and not db.parent.is_dir():
        raise fail(f"--db: the folder {db.parent} does not exist")
    if db is not None and db.is_dir():
        raise fail(f"--db: {db} is a folder; give a file name, e.g. {db / 'demo.db'}")
    try:
        main(port, lang, db, fresh)
    except PortInUseError:
        raise fail(f"port {port} is in use: stop what uses it, or pass --port") from None
    except SettingsError as exc:
        raise fail(str(exc)) from None
    except RubricInvalid as exc:
        raise rubric_failure(os.environ.get("RUBRIC_DIR"), exc) from None
    except DatabaseError as exc:
        # A damaged file, or something other than a demo database, given with --db.
        raise fail(
            f"--db: {db} cannot be used ({exc.orig}); pass --fresh to start it again"
        ) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest revision (safe to run again)."""
    from bot.db.engine import create_engine
    from bot.db.migrate import current_revision, upgrade

    settings = settings_or_exit()

    async def _main() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    console.print(f"schema at revision {run_db(_main)} (head)")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database, and whether it is the latest."""
    from bot.db.engine import create_engine
    from bot.db.migrate import current_revision, head_revision

    settings = settings_or_exit()

    async def _main() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    rev, head = run_db(_main), head_revision()
    state = (
        "up to date"
        if rev == head
        else f"out of date (latest is {head}): run `branchbot db upgrade`"
    )
    console.print(f"revision {rev or 'none'}: {state}")


@org_app.command("add")
def org_add(
    name: str = typer.Argument(..., help="Name of the new committee or branch."),
    parent: str = typer.Option(None, help="Path of the superior, e.g. 'City committee/Town'."),
    branch: bool = typer.Option(False, "--branch", help="Create a branch (default: committee)."),
    domain: Domain = typer.Option(None, help="For a branch: the domain it belongs to."),
) -> None:
    """Create a committee (or, with --branch, a branch) under PARENT, or a top committee."""
    from bot.services import orgs
    from bot.services.audit import Actor
    from bot.services.errors import ServiceError

    async def work(session, clock, settings):
        parent_org = await orgs.find_by_path(session, parent) if parent else None
        if parent and parent_org is None:
            raise ServiceError("org.path_unknown", path=parent)
        org = await orgs.create_org(
            session,
            Actor.cli(),
            clock.now(),
            name=name,
            kind="branch" if branch else "committee",
            parent_id=parent_org.id if parent_org else None,
            domain=domain,
        )
        return await orgs.display_path(session, org)

    console.print(f"created {run_in_session(work)}")


@org_app.command("staff")
def org_staff(
    path: str = typer.Argument(..., help="Path of the committee, e.g. 'City committee/Town'."),
    telegram_id: int = typer.Argument(..., help="The staff member's Telegram user id."),
    name: str = typer.Argument(..., help="The staff member's name."),
) -> None:
    """Make a Telegram user staff of a committee (they act over its whole subtree)."""
    from sqlalchemy import select

    from bot.db.models import Staff
    from bot.services import audit, orgs
    from bot.services.audit import Actor
    from bot.services.errors import ServiceError

    async def work(session, clock, settings):
        org = await orgs.find_by_path(session, path)
        if org is None:
            raise ServiceError("org.path_unknown", path=path)
        if org.kind != "committee":
            raise ServiceError("org.staff_needs_committee", path=path)
        found = await session.execute(
            select(Staff).where(Staff.org_id == org.id, Staff.telegram_id == telegram_id)
        )
        if found.scalar_one_or_none() is None:
            staff = Staff(
                org_id=org.id,
                telegram_id=telegram_id,
                name=orgs.clean_name(name),
                created_at=clock.now(),
            )
            session.add(staff)
            await session.flush()
            await audit.record(
                session,
                Actor.cli(),
                clock.now(),
                "staff",
                staff.id,
                "create",
                {"org_id": [None, org.id], "telegram_id": [None, telegram_id]},
            )
        return await orgs.display_path(session, org)

    console.print(f"{name} is staff of {run_in_session(work)}")
