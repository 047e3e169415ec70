"""Paired mentoring after an approved evaluation (结对帮扶): the branch's secretary or
organising member pairs each basically qualified or unqualified member with a mentor
from the branch — list, choose (paged), confirm — and both are told. Each month both
are asked whether they met (bot/scheduler/mentoring.py); their answer is kept here.

The confirm press carries the mentor the secretary saw; if someone paired the member
meanwhile, the choice is refused and the list shown as it stands now.
"""

from __future__ import annotations

from html import escape

from aiogram import F
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.services import eval_after
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.orgs import require_org
from bot.texts import error_text
from handlers.callbacks import EvalView, Mentor, MentorCheck
from handlers.evaluation import grade_label
from handlers.notify import tell_each, zone_of
from handlers.registry import Handlers
from handlers.views import Button, keyboard, pager, redraw

router = Handlers("eval_mentoring")


async def mentee_list(session: AsyncSession, principal: Principal, cid: int, page: int):
    campaign, found = await eval_after.mentees(session, principal, cid, page)
    lines = [
        "<b>" + _("Paired mentoring {period}").format(period=campaign.period) + "</b>",
        _(
            "Each basically qualified or unqualified member is paired with a mentor from "
            "the branch; both are asked each month how it goes."
        ),
        "",
    ]
    rows = []
    for line in found.items:
        mentor = escape(line.mentor_name) if line.mentor_name else _("no mentor yet")
        met = " · " + _("met: {month}").format(month=line.last_checkin) if line.last_checkin else ""
        lines.append(f"• {escape(line.name)} · {grade_label(line.grade)} · {mentor}{met}")
        label = _("Change the mentor") if line.mentor_id else _("Choose a mentor")
        rows.append(
            [
                Button(
                    text=f"{line.name}: {label}",
                    callback_data=Mentor(
                        campaign=cid, member=line.member_id, act="pick", shown=line.mentor_id or 0
                    ).pack(),
                )
            ]
        )
    if not found.items:
        lines.append(_("Nobody in this evaluation needs a mentor."))
    rows.append(pager(found, lambda p: EvalView(campaign=cid, act="mentoring", page=p)))
    rows.append([Button(text=_("◀ Back"), callback_data=EvalView(campaign=cid, act="home").pack())])
    return "\n".join(lines), keyboard(rows)


@router.callback_query(EvalView.filter(F.act == "mentoring"))
async def mentoring_press(
    query: CallbackQuery, callback_data: EvalView, session: AsyncSession, principal: Principal
) -> None:
    text, markup = await mentee_list(session, principal, callback_data.campaign, callback_data.page)
    await redraw(query, text, markup)


async def choices(session, principal: Principal, m: Mentor):
    result, member, found = await eval_after.mentor_choices(
        session, principal, m.campaign, m.member, m.page
    )
    lines = [
        _("Choose a mentor for {name} ({grade}).").format(
            name=escape(member.name), grade=grade_label(result.grade)
        )
    ]
    if found.total == 0:
        lines.append(_("Nobody in the branch can be a mentor."))
    rows = [
        [
            Button(
                text=("✓ " if mid == result.mentor_id else "") + name,
                callback_data=Mentor(
                    campaign=m.campaign, member=m.member, act="choose", mentor=mid, shown=m.shown
                ).pack(),
            )
        ]
        for mid, name in found.items
    ]
    rows.append(
        pager(
            found,
            lambda p: Mentor(
                campaign=m.campaign, member=m.member, act="pick", shown=m.shown, page=p
            ),
        )
    )
    rows.append(
        [
            Button(
                text=_("◀ Back"),
                callback_data=EvalView(campaign=m.campaign, act="mentoring").pack(),
            )
        ]
    )
    return "\n".join(lines), keyboard(rows)


@router.callback_query(Mentor.filter())
async def mentor_press(
    query: CallbackQuery,
    callback_data: Mentor,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    m = callback_data
    if m.act == "pick":
        text, markup = await choices(session, principal, m)
        await redraw(query, text, markup)
        return
    if m.act == "choose":
        # The summary before saving, after the same checks the save will make.
        _c, _row, member, mentor = await eval_after.check_pair(
            session, principal, m.campaign, m.member, m.mentor
        )
        text = _(
            "Pair {name} with the mentor {mentor}? Both are told, and asked each month how it goes."
        ).format(name=escape(member.name), mentor=escape(mentor.name))
        markup = keyboard(
            [
                [
                    Button(
                        text=_("✓ Confirm"),
                        callback_data=Mentor(
                            campaign=m.campaign,
                            member=m.member,
                            act="confirm",
                            mentor=m.mentor,
                            shown=m.shown,
                        ).pack(),
                    ),
                    Button(
                        text=_("◀ Back"),
                        callback_data=Mentor(
                            campaign=m.campaign, member=m.member, act="pick", shown=m.shown
                        ).pack(),
                    ),
                ]
            ]
        )
        await redraw(query, text, markup)
        return
    try:
        _row, member, mentor = await eval_after.assign_mentor(
            session, principal, clock.now(), m.campaign, m.member, m.mentor, m.shown
        )
    except ServiceError as err:
        if err.code != "record.stale":
            raise
        text, markup = await mentee_list(session, principal, m.campaign, 0)
        await redraw(query, text, markup, error_text(err, _), alert=True)
        return
    await tell_pair(session, clock, settings, i18n, m.campaign, member, mentor)
    text, markup = await mentee_list(session, principal, m.campaign, 0)
    note = _("Saved: {mentor} mentors {name}.").format(mentor=mentor.name, name=member.name)
    await redraw(query, text, markup, note)


async def tell_pair(
    session, clock: Clock, settings: Settings, i18n: I18n, cid: int, member, mentor
):
    """Both hear of the pairing through the outbox, in the update's transaction."""
    org = await require_org(session, member.org_id)

    def render(chat: int):
        if chat == member.telegram_id:
            text = _(
                "Your branch has paired you with a mentor: {mentor}. You will both be "
                "asked each month how it goes."
            ).format(mentor=escape(mentor.name))
        else:
            text = _(
                "Your branch has asked you to mentor {name}. You will both be asked "
                "each month how it goes."
            ).format(name=escape(member.name))
        return text, None

    await tell_each(
        session,
        clock,
        settings,
        i18n,
        [member.telegram_id, mentor.telegram_id],
        render,
        # A pairing changed back and forth is told each time.
        key=f"eval:{cid}:mentor:{member.id}:{mentor.id}:{clock.now():%Y%m%d%H%M%S}",
        kind="eval_mentoring",
        tz=zone_of(settings, org),
    )


@router.callback_query(MentorCheck.filter())
async def checkin_press(
    query: CallbackQuery,
    callback_data: MentorCheck,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    c = callback_data
    new = await eval_after.record_checkin(
        session, principal, clock.now(), clock.today(), c.campaign, c.member, c.month
    )
    if not new:
        await query.answer(_("Already noted for {month}.").format(month=c.month), show_alert=True)
        return
    await redraw(
        query,
        _("✓ Noted: you met in {month}. Your branch sees it in the mentoring list.").format(
            month=c.month
        ),
    )
