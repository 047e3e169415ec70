"""`branchbot` — the command line. Each group lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="branchbot",
    help="branchbot: the Telegram assistant for branches' monthly work "
    "(Fortress Index, Vanguard Index, meetings, votes, ledgers).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich's help renderer alone costs a quarter of a second per call.
    rich_markup_mode=None,
)


def _register() -> None:
    # Sub-apps are imported here, not at module import, so `--help` stays fast and
    # importing this module has no side effects beyond building the Typer tree.
    from bot.cli import delivery, i18n_cmd, month, ops, orgs_cmd, ratings, roster, rubric

    app.command("demo")(ops.demo)
    app.command("run")(ops.run)
    app.command("scheduler")(ops.scheduler)
    app.command("status")(delivery.status)
    app.command("broadcast")(delivery.broadcast)
    app.add_typer(ops.db_app, name="db")
    app.add_typer(orgs_cmd.org_app, name="org")
    app.add_typer(rubric.app, name="rubric")
    app.add_typer(i18n_cmd.app, name="i18n")
    app.add_typer(roster.import_app, name="import")
    app.add_typer(roster.export_app, name="export")
    roster.export_app.command("ratings")(ratings.export_ratings)
    app.command("close-period")(month.close_period)
    app.add_typer(month.content_app, name="content")


_register()
