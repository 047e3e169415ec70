"""The final counts of a broadcast, told to whoever sent it once nothing is left to send."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.scheduler.jobs import JobContext, Jobs, remind
from bot.services import broadcasts

jobs = Jobs()


def final_text(p: broadcasts.Progress) -> str:
    return _(
        "✅ Your announcement has gone out: {sent} of {n} received it, {unreachable} could "
        "not be reached (they blocked the bot), {failed} failed."
    ).format(n=p.broadcast.recipients, sent=p.sent, unreachable=p.unreachable, failed=p.failed)


@jobs.periodic("broadcast.reports", minute="*")
async def report_finished(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        for p in await broadcasts.finished_since(session, now - broadcasts.RECENT):
            await remind(
                ctx,
                session,
                [p.broadcast.created_by],
                key=f"broadcast-report:{p.broadcast.id}",
                topic="broadcast_report",
                render=lambda _tg, p=p: final_text(p),
                now=now,
            )
        await session.commit()
