"""`branchbot` — the command line. Each group lives in its own module."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from typer import _click as click

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


def command_for(args: list[str]) -> click.Command:
    """The click tree typer builds from `app`, for these arguments: when they start with a
    group's name (`org add …`), the root with that group alone. Building the options of
    every command costs about 25 ms of CPU, a twentieth of `org add`, which scripts run
    a thousand times; the group's own commands, help and refusals are the same either
    way, and anything else (`--help`, a command, a misspelt name) gets the whole tree."""
    from typer.main import get_command

    groups = [g for g in app.registered_groups if args and g.name == args[0]]
    if not groups:
        return get_command(app)
    trimmed = copy.copy(app)
    trimmed.registered_groups = groups
    trimmed.registered_commands = []
    return get_command(trimmed)
