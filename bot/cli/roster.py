"""`branchbot import roster FILE` and `branchbot export roster [--org PATH] FILE.xlsx`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.cli.common import console, fail, run_in_session, settings_or_exit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.clock import Clock
    from bot.config import Settings

import_app = typer.Typer(
    help="Import data from files.", no_args_is_help=True, rich_markup_mode=None
)
export_app = typer.Typer(help="Export data to files.", no_args_is_help=True, rich_markup_mode=None)

LOCALES = {"zh": "zh_Hans", "en": "en"}
LangOption = typer.Option(None, "--lang", help="Language of messages (and of the sheet): zh or en.")


def _locale(lang: str | None, settings: Settings) -> str:
    if lang is None:
        return settings.default_locale
    if lang not in LOCALES:
        raise fail(f"--lang: must be one of {', '.join(LOCALES)}")
    return LOCALES[lang]


@import_app.command("roster")
def import_roster(
    file: Path = typer.Argument(..., help="The roster: .xlsx, or .csv in UTF-8 or GBK."),
    lang: str | None = LangOption,
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and count, write nothing."),
) -> None:
    """Import members (and missing organisations) from a roster; all or nothing."""
    from bot.cli.report import file_problem, print_errors, progress_bars
    from bot.i18n import gettext_for
    from bot.services import roster
    from bot.services.audit import Actor

    settings = settings_or_exit()
    locale = _locale(lang, settings)
    _ = gettext_for(locale)
    if not file.is_file():
        raise fail(_("File not found: {path}").format(path=file), code=1)

    with progress_bars(_) as progress:
        try:
            sheet = roster.read_roster(file, progress)
        except roster.RosterFileError as exc:
            raise fail(f"{file.name}: {file_problem(exc, _, locale)}", code=1) from None

        async def work(session: AsyncSession, clock: Clock, _settings: Settings):
            plan = await roster.plan_import(session, sheet, progress)
            if plan.errors or dry_run:
                return plan
            actor = Actor.cli(f"import roster {file.name}")
            await roster.apply_plan(session, plan, actor=actor, now=clock.now(), progress=progress)
            return plan

        plan = run_in_session(work, settings)

    if plan.errors:
        print_errors(plan.errors, _, locale)
        message = _("{file}: nothing was imported; problems found: {count}")
        raise fail(message.format(file=file.name, count=len(plan.errors)), code=1)
    s = plan.summary
    done = _("Dry run, nothing written") if dry_run else _("Imported {file}").format(file=file.name)
    counts = _(
        "members created: {created}, updated: {updated}, unchanged: {unchanged}; "
        "organisations created: {orgs}"
    ).format(created=s.created, updated=s.updated, unchanged=s.unchanged, orgs=s.orgs_created)
    console.print(f"{done} — {counts}", markup=False, highlight=False, soft_wrap=True)


@export_app.command("roster")
def export_roster(
    file: Path = typer.Argument(..., help="Where to write the roster (.xlsx)."),
    org: str | None = typer.Option(
        None, "--org", help="Only this organisation's subtree, e.g. 某某市委/某某镇党委."
    ),
    lang: str | None = LangOption,
) -> None:
    """Write members to an .xlsx that `import roster` reads back unchanged."""
    from bot.i18n import gettext_for
    from bot.services import orgs, roster

    settings = settings_or_exit()
    locale = _locale(lang, settings)
    _ = gettext_for(locale)
    if file.suffix.lower() != ".xlsx":
        raise fail(_("The export file must end in .xlsx"), code=1)

    async def work(session: AsyncSession, _clock: Clock, _settings: Settings):
        root = None
        if org is not None:
            root = await orgs.find_by_path(session, org)
            if root is None:
                raise fail(_("No organisation at {path}").format(path=org), code=1)
        return await roster.export_rows(session, root)

    rows = run_in_session(work, settings)
    count = roster.write_xlsx(rows, file, lang=locale)
    console.print(
        _("Exported {count} members to {file}").format(count=count, file=file),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
