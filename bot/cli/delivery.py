"""`branchbot status` (the outbox and the scheduled jobs) and `branchbot broadcast`."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import console, run_in_session


def status() -> None:
    """Messages waiting and failed, each scheduled job's last and next run, recent failures."""
    from sqlalchemy import select

    from bot.db.models import JobRun, OutboxStatus, SchedulerLock
    from bot.services import outbox

    async def work(session, clock, settings):
        counts = await outbox.counts(session, clock.now())
        jobs = list((await session.execute(select(JobRun).order_by(JobRun.job_id))).scalars())
        lock = await session.get(SchedulerLock, "scheduler")
        return counts, jobs, lock, settings.tz

    counts, jobs, lock, tz = run_in_session(work)

    def when(value) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "—"

    console.print("outbox:")
    for st in OutboxStatus:
        console.print(f"  {st.value:<12} {counts.count(st)}")
    console.print("scheduled jobs (local time):")
    if not jobs:
        console.print("  none yet: no scheduler has run on this database")
    for job in jobs:
        line = f"  {job.job_id:<22} last {when(job.last_run_at):<16}  next {when(job.next_run_at)}"
        if job.last_error:
            line += f"  last error: {job.last_error}"
        console.print(line)
    if lock is not None:
        console.print(f"scheduler lock: {lock.holder} until {when(lock.expires_at)}")
    if counts.recent_failures:
        console.print("recent failures:")
    for row in counts.recent_failures:
        console.print(
            f"  {when(row.created_at)}  chat {row.chat_id}  {row.kind:<12} "
            f"{row.status}: {row.error or ''}"
        )


def broadcast(
    text: Annotated[str, typer.Argument(help="The announcement (plain text).")],
    org: Annotated[str, typer.Option("--org", help="Path of the organisation, e.g. 'City/Town'.")],
    roles: Annotated[
        str,
        typer.Option(
            "--roles", help="Comma-separated: secretary, organiser, member (default: all)."
        ),
    ] = "",
    yes: Annotated[bool, typer.Option("--yes", help="Send without asking.")] = False,
) -> None:
    """Queue an announcement to every linked member under ORG; the running scheduler sends it
    (`branchbot status` shows the progress)."""
    import html

    from bot.cli.month import _org, operator
    from bot.i18n import SUPPORTED, translation
    from bot.services import broadcasts
    from bot.services.calendar import deliver_at, parse_quiet_hours

    chosen = [r.strip() for r in roles.split(",") if r.strip()]

    async def count(session, clock, settings):
        root = await _org(session, org)
        return await broadcasts.audience_size(session, operator(), root.id, chosen)

    n = run_in_session(count)
    if not yes and not typer.confirm(f"Send to {n} people under {org}?"):
        raise typer.Exit(1)

    async def send(session, clock, settings):
        root = await _org(session, org)
        headings = {
            loc: translation(loc)
            .gettext("📢 <b>Announcement from {org}</b>")
            .format(org=html.escape(root.name))
            for loc in SUPPORTED
        }
        now = clock.now()
        cast = await broadcasts.create(
            session,
            operator(),
            now,
            org_id=root.id,
            roles=chosen,
            text=text,
            headings=headings,
            default_locale=settings.default_locale,
            not_before=deliver_at(now, settings.tz, parse_quiet_hours(settings.quiet_hours)),
        )
        return cast.id, cast.recipients

    cast_id, recipients = run_in_session(send)
    console.print(f"broadcast {cast_id} queued for {recipients} people")
