"""The democratic evaluation's reminders.

- `evaluation.opened`: campaigns the superior's staff opened for a whole subtree (one
  INSERT, no handler told anyone): their members hear that the self-assessment has begun,
  with the handlers' own keys, so a branch opened in chat is not told twice;
- `evaluation.deadlines`: 3 days before a self-assessment or vote closes and on its last
  day (`REMINDER_HOUR`, the branch's time zone, the previous working day if it falls on a
  holiday), each member who has not yet assessed themselves or voted hears it — about
  themselves only; mandatory;
- `evaluation.notice_over`: the working day after the public notice ended, the branch's
  leaders (with the count of objections still unanswered);
- `evaluation.approvals`: the superior's staff, about campaigns waiting for their
  approval — on the first working day after one arrives, on its last day, and the day
  after it became overdue; one message per staff member and moment, listing them.

(The monthly mentoring check-ins are `bot/scheduler/mentoring.py`.)

As in `calendar`: an occasion fires only within the grace time after it and only the
latest one; the dedupe keys make a rerun or a restart tell nobody twice. Who has not
acted is decided when the reminder is written, and never during quiet hours: a reminder
due then waits for a tick outside them rather than being queued for the morning, so a
member who acts in the night is not reminded after it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import EvalCampaign, EvalStage, Organisation, Outbox, OutboxStatus
from bot.scheduler.jobs import JobContext, Jobs, remind
from bot.services import evaluation, reminders
from bot.services.calendar import (
    Occasion,
    at_local,
    deliver_at,
    latest_due,
    next_workday,
    previous_workday,
)
from handlers import eval_notices

jobs = Jobs()

DAYS_LEFT = (3, 1)  # reminders when this many days of a stage are left, its last day counted
VOTE_REMINDER = "eval_vote"  # the outbox kind of "you have not voted yet"


def _tz(ctx: JobContext, org: Organisation) -> ZoneInfo:
    return ctx.tz_of(org.timezone)


def _quiet(ctx: JobContext, now: datetime, tz: ZoneInfo) -> bool:
    return deliver_at(now, tz, ctx.quiet) > now


def _plain(markup) -> dict | None:
    return markup.model_dump(mode="json", exclude_none=True) if markup else None


def _after_start(c: EvalCampaign, occasions: list[Occasion]) -> list[Occasion]:
    """Occasions after the stage began (the opening notice covered those before); of two
    on the same moment (a holiday moved one onto the other) the later-named one."""
    at: dict[datetime, Occasion] = {}
    for o in occasions:
        if o.at >= c.updated_at:
            at[o.at] = o
    return sorted(at.values(), key=lambda o: o.at)


def deadline_occasions(ctx: JobContext, c: EvalCampaign, tz: ZoneInfo) -> list[Occasion]:
    due = evaluation.due_of(c)
    hour = ctx.settings.reminder_hour
    return _after_start(
        c,
        [
            Occasion(f"left-{n}", at_local(previous_workday(due - timedelta(days=n - 1)), hour, tz))
            for n in DAYS_LEFT
        ],
    )


def notice_over_occasions(ctx: JobContext, c: EvalCampaign, tz: ZoneInfo) -> list[Occasion]:
    day = next_workday(c.notice_due + timedelta(days=1))
    return _after_start(c, [Occasion("over", at_local(day, ctx.settings.reminder_hour, tz))])


def approval_occasions(ctx: JobContext, c: EvalCampaign, tz: ZoneInfo) -> list[Occasion]:
    hour = ctx.settings.reminder_hour
    arrived = c.updated_at.astimezone(tz)
    first = arrived.date() + timedelta(days=0 if arrived.hour < hour else 1)
    days = [
        ("arrived", next_workday(first)),
        ("last-day", previous_workday(c.approval_due)),
        ("overdue", next_workday(c.approval_due + timedelta(days=1))),
    ]
    return _after_start(c, [Occasion(name, at_local(day, hour, tz)) for name, day in days])


async def upcoming(ctx: JobContext, session: AsyncSession, now: datetime) -> list[datetime]:
    """Every evaluation reminder moment after `now` (the demo's `/clock next`)."""
    moments = []
    for c, org in await reminders.running_campaigns(session, list(_OCCASIONS)):
        moments += [o.at for o in _OCCASIONS[EvalStage(c.stage)](ctx, c, _tz(ctx, org))]
    return sorted(m for m in moments if m > now)


_OCCASIONS = {
    EvalStage.self_assessment: deadline_occasions,
    EvalStage.vote: deadline_occasions,
    EvalStage.notice: notice_over_occasions,
    EvalStage.approval: approval_occasions,
}


def _due_now(ctx, now, c, org, occasions) -> Occasion | None:
    """The occasion of `c` to act on now, unless done already or in quiet hours."""
    occasion = latest_due(occasions(ctx, c, _tz(ctx, org)), now, ctx.grace)
    if occasion is None or _done_key(c, occasion) in ctx.done:
        return None
    return None if _quiet(ctx, now, _tz(ctx, org)) else occasion


def _done_key(c: EvalCampaign, occasion: Occasion) -> str:
    return f"eval:{c.id}:{c.stage}:v{c.version}:{occasion.name}"


# ---------------------------------------------------------------- opened for a subtree


@jobs.periodic("evaluation.opened", minute="*/10")
async def opened(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        fresh = [
            (c, org)
            for c, org in await reminders.running_campaigns(session, [EvalStage.self_assessment])
            if c.version == 1
            and now - ctx.grace <= c.created_at <= now
            and f"eval:{c.id}:opened" not in ctx.done
            and not _quiet(ctx, now, _tz(ctx, org))
        ]
        ids = [c.id for c, _org in fresh]
        people = await reminders.not_yet_acted(session, ids, EvalStage.self_assessment)
        for c, org in fresh:
            await remind(
                ctx,
                session,
                [tg for tg in people.get(c.id, []) if tg != c.created_by],
                key=eval_notices.opened_key(c),
                topic="eval_stage",
                render=lambda _tg, c=c: eval_notices.stage_opened(c)[0],
                markup=lambda _tg, c=c: _plain(eval_notices.stage_opened(c)[1]),
                tz=_tz(ctx, org),
                now=now,
            )
        await session.commit()
    ctx.done.update(f"eval:{c.id}:opened" for c, _ in fresh)


# ---------------------------------------------------------------- self-assessment and vote


@jobs.periodic("evaluation.deadlines")
async def deadlines(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        stages = [EvalStage.self_assessment, EvalStage.vote]
        due = []
        for c, org in await reminders.running_campaigns(session, stages):
            occasion = _due_now(ctx, now, c, org, deadline_occasions)
            if occasion is not None:
                due.append((c, org, occasion))
        for stage in stages:
            ids = [c.id for c, _o, _occ in due if c.stage == stage]
            people = await reminders.not_yet_acted(session, ids, stage)
            for c, org, occasion in due:
                if c.stage != stage:
                    continue
                await remind(
                    ctx,
                    session,
                    people.get(c.id, []),
                    key=_done_key(c, occasion),
                    topic=VOTE_REMINDER if stage is EvalStage.vote else "eval_self",
                    mandatory=True,
                    render=lambda _tg, c=c: eval_notices.not_yet_done(c)[0],
                    markup=lambda _tg, c=c: _plain(eval_notices.not_yet_done(c)[1]),
                    tz=_tz(ctx, org),
                    now=now,
                )
        await forget_vote_reminders(ctx, session, now)
        await session.commit()
    ctx.done.update(_done_key(c, occasion) for c, _org, occasion in due)


async def forget_vote_reminders(ctx: JobContext, session: AsyncSession, now: datetime) -> None:
    """ "You have not voted yet" rows say who had not voted at a moment: once their occasion
    is past its grace time (no job can write them again, so no key needs them), they go.
    See docs/ballot-secrecy.md."""
    await session.execute(
        delete(Outbox).where(
            Outbox.kind == VOTE_REMINDER,
            Outbox.status.in_(
                (OutboxStatus.sent.value, OutboxStatus.failed.value, OutboxStatus.unreachable.value)
            ),
            Outbox.created_at < now - ctx.grace - timedelta(hours=1),
        )
    )


# ---------------------------------------------------------------- end of the public notice


@jobs.periodic("evaluation.notice_over")
async def notice_over(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        due = []
        for c, org in await reminders.running_campaigns(session, [EvalStage.notice]):
            occasion = _due_now(ctx, now, c, org, notice_over_occasions)
            if occasion is not None:
                due.append((c, org, occasion))
        leaders = await reminders.leaders_of(session, sorted({org.id for _c, org, _o in due}))
        open_ = await reminders.unanswered_objections(session, [c.id for c, _o, _occ in due])
        for c, org, occasion in due:
            await remind(
                ctx,
                session,
                leaders.get(org.id, []),
                key=_done_key(c, occasion),
                topic="eval_notice_over",
                mandatory=True,
                render=lambda _tg, c=c, org=org: eval_notices.notice_over(
                    c, org.name, open_.get(c.id, 0)
                ),
                tz=_tz(ctx, org),
                now=now,
            )
        await session.commit()
    ctx.done.update(_done_key(c, occasion) for c, _org, occasion in due)


# ---------------------------------------------------------------- waiting for the superior


@jobs.periodic("evaluation.approvals")
async def approvals(ctx: JobContext) -> None:
    now = ctx.clock.now()
    async with ctx.sessions() as session:
        due: dict[datetime, list[tuple[EvalCampaign, Organisation]]] = defaultdict(list)
        fired = []
        for c, org in await reminders.running_campaigns(session, [EvalStage.approval]):
            occasion = _due_now(ctx, now, c, org, approval_occasions)
            if occasion is not None:
                due[occasion.at].append((c, org))
                fired.append(_done_key(c, occasion))
        zones = await reminders.staff_zones(session) if due else {}
        for at, campaigns in due.items():
            orgs = {org.id: org for _c, org in campaigns}
            by_org = {org.id: c for c, org in campaigns}
            for tg, org_ids in (await reminders.staff_over(session, list(orgs.values()))).items():
                waiting = [(orgs[i].name, by_org[i]) for i in org_ids]
                tz = ctx.tz_of(zones.get(tg))  # the staff member's own committee's
                today = now.astimezone(tz).date()
                await remind(
                    ctx,
                    session,
                    [tg],
                    key=f"eval-approvals:{at:%Y%m%d%H%M}",
                    topic="eval_approvals",
                    mandatory=True,
                    render=lambda _tg, waiting=waiting, today=today: eval_notices.approvals_waiting(
                        waiting, today
                    ),
                    tz=tz,
                    now=now,
                )
        await session.commit()
    ctx.done.update(fired)
