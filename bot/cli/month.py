"""`branchbot close-period --period 2026-07 [--org PATH]` and `branchbot content add …`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from bot.cli.common import EXIT_USAGE, console, fail, run_in_session, settings_or_exit

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
    from bot.services import tree

    return None if path is None else await tree.require_path(session, path)


def _rubric(settings):
    from scoring import load_fortress_rubric

    return load_fortress_rubric(settings.rubric_dir or None)


def close_period(
    period: Annotated[str, typer.Option("--period", help="The month to close, YYYY-MM.")],
    org: OrgPath = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Close a month more than a year back without asking.")
    ] = False,
) -> None:
    """Freeze each branch's result for a finished month and propose its star level."""
    from bot.clock import Clock
    from bot.i18n import gettext_for
    from bot.services import periods

    settings = settings_or_exit()
    _ = gettext_for(settings.default_locale)
    warning = plausibility(period, Clock(settings.tz).today(), _)
    if warning and not yes:
        raise fail(warning, code=EXIT_USAGE)

    async def work(session, clock, settings):
        root = await _org(session, org)
        summary = await periods.close_period(
            session, _rubric(settings), clock.now(), period, root=root
        )
        return summary, await periods.star_distribution(session, period, root)

    summary, stars = run_in_session(work, settings)
    console.print(
        _("{period}: {created} snapshot(s) created, {closed} already closed, {branches} branch(es)")
        .format(period=period, created=summary.created, closed=summary.already_closed,
                branches=summary.branches)
    )  # fmt: skip
    for level, count in stars.items():
        if level:
            line = _("{stars} {level}-star: {count} branch(es)")
        else:
            line = _("{stars} no star: {count} branch(es)")
        console.print(
            "  " + line.format(stars=f"{'★' * (level or 0):<5}", level=level, count=count)
        )


def plausibility(period: str, today, _) -> str | None:
    """A month far back or not yet begun is most likely a typo: ask for --yes."""
    import re

    match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", period)
    if not match:
        return None  # the service refuses it with its own message
    months = (today.year - int(match[1])) * 12 + today.month - int(match[2])
    if months < 0:
        return _("--period: {period} has not begun yet; check the month").format(period=period)
    if months > 12:
        return _(
            "--period: {period} is more than a year ago; "
            "add --yes if you really mean to close it now"
        ).format(period=period)
    return None


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

    from bot.i18n import gettext_for

    settings = settings_or_exit()
    _ = gettext_for(settings.default_locale)
    console.print(_("Content {id} added").format(id=run_in_session(work, settings)))
