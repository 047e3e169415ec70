"""`branchbot status` (the outbox and the scheduled jobs) and `branchbot broadcast`."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.common import (
    EXIT_REFUSED,
    ask,
    console,
    fail,
    run_in_session,
    settings_or_exit,
    words,
)
from bot.i18n import N_

OUTBOX_STATES = {
    "pending": N_("waiting"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "unreachable": N_("unreachable"),
}


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

    settings = settings_or_exit()
    _ = words(settings)
    counts, jobs, lock, tz = run_in_session(work, settings)

    def when(value) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "—"

    def state(value: str) -> str:
        return _(OUTBOX_STATES[value]) if value in OUTBOX_STATES else value

    from bot.cli.table import display_width, pad

    console.print(_("Messages waiting to be sent (the outbox):"))
    # Padded by display width: the Chinese names take two columns a character.
    names = {st: state(st.value) for st in OutboxStatus}
    width = max(display_width(n) for n in names.values()) + 2
    for st in OutboxStatus:
        console.print(f"  {pad(names[st], width)}{counts.count(st)}")
    console.print(_("Scheduled jobs (local time):"))
    if not jobs:
        console.print("  " + _("none yet: no scheduler has run on this database"))
    for job in jobs:
        line = _("{job}  last run {last}  next run {next}").format(
            job=f"{job.job_id:<22}", last=f"{when(job.last_run_at):<16}", next=when(job.next_run_at)
        )
        if job.last_error:
            line += "  " + _("last error: {error}").format(error=job.last_error)
        console.print("  " + line)
    if lock is not None:
        text = _("Scheduler lock: {holder} until {until}")
        console.print(text.format(holder=lock.holder, until=when(lock.expires_at)))
    if counts.recent_failures:
        console.print(_("Recent failures:"))
    for row in counts.recent_failures:
        console.print(
            f"  {when(row.created_at)}  chat {row.chat_id}  {row.kind:<12} "
            f"{state(row.status)}: {row.error or ''}"
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

    settings = settings_or_exit()
    _ = words(settings)
    n = run_in_session(count, settings)
    if n == 0:
        text = _("Nobody under {org} has joined the bot yet: there is no one to send it to.")
        raise fail(text.format(org=org), code=EXIT_REFUSED)
    if not yes and not ask(_("Send to {count} people under {org}?").format(count=n, org=org)):
        raise typer.Abort()

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

    cast_id, recipients = run_in_session(send, settings)
    text = _("Announcement {id} queued for {count} people; the scheduler sends it")
    console.print(text.format(id=cast_id, count=recipients))
