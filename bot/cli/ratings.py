"""`branchbot export ratings --period YYYY-MM [--org PATH] FILE.xlsx`: the ratings ledger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.cli.common import EXIT_REFUSED, console, fail, run_in_session, settings_or_exit
from bot.cli.roster import LangOption, _check_output, _locale

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.clock import Clock
    from bot.config import Settings


def export_ratings(
    file: Path = typer.Argument(..., help="Where to write the ledger (.xlsx)."),
    period: str = typer.Option(..., "--period", help="The closed month, e.g. 2026-07."),
    org: str | None = typer.Option(
        None, "--org", help="Only this organisation's subtree, e.g. 某某市委/某某镇党委."
    ),
    lang: str | None = LangOption,
) -> None:
    """Write the month's star ratings: a sheet per branch and a sheet per item."""
    # Imported here so `--help` and the other commands stay light (issue 12).
    from bot.i18n import gettext_for
    from bot.services import ledgers
    from scoring import load_fortress_rubric

    settings = settings_or_exit()
    locale = _locale(lang, settings)
    _ = gettext_for(locale)
    _check_output(file, str(file), _)

    async def work(session: AsyncSession, _clock: Clock, _settings: Settings):
        from bot.services import tree

        root = await tree.require_path(session, org) if org is not None else None
        return await ledgers.ratings_ledger(session, period, [root])

    ledger = run_in_session(work, settings, locale)
    if not ledger.branches and not ledger.members:
        # An empty ledger is no answer: the month is closed by close-period first.
        text = _("{period} has not been closed yet: `branchbot close-period --period {period}`")
        raise fail(text.format(period=period), code=EXIT_REFUSED)
    rubric = load_fortress_rubric(settings.rubric_dir or None)
    count = ledgers.write_ratings_xlsx(ledger, rubric, file, _, locale == "zh_Hans")
    console.print(
        _("Exported the {period} ratings of {count} branches to {file}").format(
            period=period, count=count, file=file
        )
    )
