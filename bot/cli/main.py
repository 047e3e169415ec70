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
)


def _register() -> None:
    # Sub-apps are imported here, not at module import, so `--help` stays fast and
    # importing this module has no side effects beyond building the Typer tree.
    from bot.cli import rubric

    app.add_typer(rubric.app, name="rubric")


_register()
