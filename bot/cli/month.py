"""`branchbot close-period --period 2026-07 [--org PATH]` and `branchbot content add …`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from bot.cli.common import console, run_in_session

content_app = typer.Typer(
    help="The month's education content.", no_args_is_help=True, rich_markup_mode=None
)

OrgPath = Annotated[
    str | None,
    typer.Option("--org", help="Path of a committee, e.g. 'City committee/Town' (default: all)."),
]


def operator():
    """The command-line operator: a superuser with no Telegram account."""
    from bot.services.audit import Actor
    from bot.services.members import Principal

    @dataclass
    class OperatorPrincipal(Principal):
        @property
        def actor(self) -> Actor:
            return Actor.cli()

    return OperatorPrincipal(telegram_id=None, is_superuser=True)  # type: ignore[arg-type]


async def _org(session, path: str | None):
    from bot.services import orgs
    from bot.services.errors import ServiceError

    if path is None:
        return None
    org = await orgs.find_by_path(session, path)
    if org is None:
        raise ServiceError("org.path_unknown", path=path)
    return org


def _rubric(settings):
    from scoring import load_fortress_rubric

    return load_fortress_rubric(settings.rubric_dir or None)


def close_period(
    period: Annotated[str, typer.Option("--period", help="The month to close, YYYY-MM.")],
    org: OrgPath = None,
) -> None:
    """Freeze each branch's result for a finished month and propose its star level."""
    from bot.services import periods

    async def work(session, clock, settings):
        root = await _org(session, org)
        summary = await periods.close_period(
            session, _rubric(settings), clock.now(), period, root=root
        )
        return summary, await periods.star_distribution(session, period, root)

    summary, stars = run_in_session(work)
    console.print(
        f"{period}: {summary.created} snapshot(s) created, "
        f"{summary.already_closed} already closed, {summary.branches} branch(es)"
    )
    for level, count in stars.items():
        console.print(f"  {'★' * level:<5} {level}: {count}")


@content_app.command("add")
def content_add(
    org: Annotated[str, typer.Option("--org", help="Path of the committee it is for.")],
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    kind: Annotated[str, typer.Option("--kind", help="video, micro_lesson or practice")],
    title: Annotated[str, typer.Option("--title")],
    url: Annotated[str | None, typer.Option("--url", help="An http(s) link.")] = None,
    file_id: Annotated[str | None, typer.Option("--file-id", help="A Telegram file id.")] = None,
    domains: Annotated[
        str,
        typer.Option("--domains", help="Comma-separated, e.g. village,community (default: all)."),
    ] = "",
) -> None:
    """Add education content for a committee's subtree."""
    from bot.services import content

    async def work(session, clock, settings):
        root = await _org(session, org)
        item = await content.add_content(
            session,
            operator(),
            clock.now(),
            root.id,
            month,
            kind,
            title,
            url=url,
            file_id=file_id,
            domains=domains.split(","),
        )
        return item.id

    console.print(f"content {run_in_session(work)} added")
