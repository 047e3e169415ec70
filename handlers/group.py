"""The branch's Telegram group: link it, announce a meeting there, collect RSVPs.

Privacy mode stays on: in the group the bot only sees commands and button presses.
A reason for "I can't come" is asked in the private chat.
"""

from __future__ import annotations

from datetime import date, datetime, time

from aiogram import Bot, F, html
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import MeetingKind, Organisation
from bot.i18n import fmt_when
from bot.services import orgs, rsvp
from bot.services.errors import ServiceError
from bot.services.meetings import led_branch
from bot.services.members import Principal
from bot.texts import meeting_kind_label
from handlers.calendar import Cal, month_calendar, picked_date
from handlers.callbacks import Announce, GroupMove, Rsvp
from handlers.notify import tell, zone_of
from handlers.registry import Handlers
from handlers.states import AnnounceMeeting, RsvpReason
from handlers.views import Button, keyboard, parse_time_place, step_nav

router = Handlers("group")
IN_GROUP = F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})
IN_GROUP_PRESS = F.message.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})


@router.message(Command("linkgroup"), IN_GROUP)
async def link_group(
    message: Message, session: AsyncSession, principal: Principal, clock: Clock
) -> None:
    branch_id = principal.led_branch_id()
    link = await rsvp.link_group(session, principal, clock.now(), branch_id, message.chat.id)
    if link.done:
        await message.answer(_linked_text(link))
        return
    # A move is never made silently: the leader confirms it here, in the group.
    if link.taken_from is not None:
        text = _(
            "This group is linked to {other}. Link it to {branch} instead? {other} will then "
            "have no group for its meeting notices."
        ).format(other=html.quote(link.taken_from.name), branch=html.quote(link.branch.name))
    else:
        text = _(
            "{branch} is already linked to another group. Post its meeting notices in this "
            "group instead?"
        ).format(branch=html.quote(link.branch.name))
    buttons = [
        Button(text=_("✅ Link here"), callback_data=GroupMove(branch=branch_id, ok=True).pack()),
        Button(
            text=_("✖ Keep as it is"), callback_data=GroupMove(branch=branch_id, ok=False).pack()
        ),
    ]
    await message.answer(text, reply_markup=keyboard([buttons]))


@router.callback_query(GroupMove.filter(), IN_GROUP_PRESS)
async def confirm_move(
    query: CallbackQuery,
    callback_data: GroupMove,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    chat_id = query.message.chat.id
    if not callback_data.ok:
        # Only someone who may make the move may dismiss the question.
        await led_branch(session, principal, callback_data.branch)
        await query.answer()
        await query.message.edit_text(_("Nothing was changed."), reply_markup=None)
        return
    link = await rsvp.link_group(
        session, principal, clock.now(), callback_data.branch, chat_id, confirmed=True
    )
    await query.answer()
    await query.message.edit_text(_linked_text(link), reply_markup=None)


def _linked_text(link: rsvp.GroupLink) -> str:
    branch = html.quote(link.branch.name)
    if link.unchanged:
        return _(
            "This group was already linked to {branch}: meeting notices are posted here. "
            "Nothing was changed."
        ).format(branch=branch)
    if link.taken_from is not None:
        return _(
            "This group is now linked to {branch} instead of {other}. Meeting notices will be "
            "posted here."
        ).format(branch=branch, other=html.quote(link.taken_from.name))
    return _("This group is now linked to {branch}. Meeting notices will be posted here.").format(
        branch=branch
    )


ANNOUNCE_STEPS = ["kind", "date", "details", "topic"]


@router.message(Command("announce"), F.chat.type == ChatType.PRIVATE)
async def announce(message: Message, state: FSMContext, principal: Principal, clock: Clock) -> None:
    branch_id = principal.led_branch_id()
    await state.clear()
    await state.update_data(org_id=branch_id)
    await _show(message, state, clock, "kind")


async def _show(
    message: Message, state: FSMContext, clock: Clock, step: str, edit: bool = False
) -> None:
    """Each step of /announce with Back and Cancel under it, as the meeting log has."""
    await state.set_state(getattr(AnnounceMeeting, step))
    if step == "kind":
        rows = [
            [
                Button(
                    text=meeting_kind_label(k, _),
                    callback_data=Announce(act="kind", value=k).pack(),
                )
            ]
            for k in MeetingKind
        ]
        rows.append(step_nav(Announce, back=False))
        text = _("Which meeting do you want to announce in the branch group?")
    elif step == "date":
        today = clock.today()
        shown = (await state.get_data()).get("cal_month") or [today.year, today.month]
        cal = month_calendar(shown[0], shown[1], today, earliest=today, latest=None)
        text, rows = _("On which day?"), [*cal.inline_keyboard, step_nav(Announce)]
    elif step == "details":
        text = _("Type the time and place, e.g. “19:30 village office”:")
        rows = [step_nav(Announce)]
    else:
        text, rows = _("Type the topic of the meeting:"), [step_nav(Announce)]
    if edit:
        await message.edit_text(text, reply_markup=keyboard(rows))
    else:
        await message.answer(text, reply_markup=keyboard(rows))


@router.callback_query(Announce.filter(F.act == "cancel"), StateFilter(AnnounceMeeting))
async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await query.message.edit_text(_("Cancelled. Nothing was posted."))


@router.callback_query(Announce.filter(F.act == "back"), StateFilter(AnnounceMeeting))
async def back(query: CallbackQuery, state: FSMContext, clock: Clock) -> None:
    current = (await state.get_state() or "").split(":")[-1]
    index = ANNOUNCE_STEPS.index(current) if current in ANNOUNCE_STEPS else 0
    await query.answer()
    await _show(query.message, state, clock, ANNOUNCE_STEPS[max(index - 1, 0)], edit=True)


@router.callback_query(Announce.filter(F.act == "kind"), AnnounceMeeting.kind)
async def pick_kind(
    query: CallbackQuery, callback_data: Announce, state: FSMContext, clock: Clock
) -> None:
    if callback_data.value not in set(MeetingKind):
        raise ServiceError("stale")
    await state.update_data(kind=callback_data.value)
    await query.answer()
    await _show(query.message, state, clock, "date", edit=True)


@router.callback_query(Cal.filter(F.act == "nav"), AnnounceMeeting.date)
async def turn_month(
    query: CallbackQuery, callback_data: Cal, state: FSMContext, clock: Clock
) -> None:
    await state.update_data(cal_month=[callback_data.y, callback_data.m])
    await query.answer()
    await _show(query.message, state, clock, "date", edit=True)


@router.callback_query(Cal.filter(F.act == "pick"), AnnounceMeeting.date)
async def pick_day(
    query: CallbackQuery, callback_data: Cal, state: FSMContext, clock: Clock
) -> None:
    day = picked_date(callback_data)
    if day is None or day < clock.today():
        raise ServiceError("stale")
    await state.update_data(day=day.isoformat())
    await query.answer()
    await _show(query.message, state, clock, "details", edit=True)


@router.message(AnnounceMeeting.details, F.text, ~F.text.startswith("/"))
async def details(message: Message, state: FSMContext, clock: Clock) -> None:
    at, place = parse_time_place(message.text)
    if at is None:  # an announcement needs the hour; a logged meeting may leave it out
        raise ServiceError("meeting.time_malformed")
    await state.update_data(at=at, place=place)
    await _show(message, state, clock, "topic")


@router.message(AnnounceMeeting.topic, F.text, ~F.text.startswith("/"))
async def topic(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    branch = await orgs.require_org(session, data["org_id"])
    local = datetime.combine(
        date.fromisoformat(data["day"]), time.fromisoformat(data["at"]), tzinfo=clock.tz
    )
    notice = await rsvp.announce(
        session,
        principal,
        clock.now(),
        branch.id,
        data["kind"],
        local,
        data["place"],
        message.text.strip(),
    )
    # The group hears it through the outbox, like every message to other people: after
    # this update commits, within the group's flood limit, never in its quiet hours.
    with i18n.use_locale(group_locale(i18n, branch)):
        text, markup = notice_text(notice, clock, 0, 0), rsvp_keyboard(notice.id)
    when = await tell(
        session,
        clock,
        settings,
        branch.group_chat_id,
        text,
        key=f"meeting-notice:{notice.id}",
        kind="meeting_notice",
        markup=markup,
        tz=zone_of(settings, branch),
    )
    await state.clear()
    if when > clock.now():
        local = when.astimezone(zone_of(settings, branch))
        text = _(
            "It is quiet hours: the notice will be posted in the branch group at {time}. "
            "RSVPs will pre-fill the attendance when you log the meeting."
        ).format(time=fmt_when(local, get_i18n().current_locale))
    else:
        text = _(
            "The notice is on its way to the branch group. "
            "RSVPs will pre-fill the attendance when you log the meeting."
        )
    await message.answer(text)


def group_locale(i18n: I18n, branch: Organisation) -> str:
    """The branch group's language: the branch's own, else the deployment's. A notice in
    the group is written in it, whoever posted it and whoever answers it."""
    return branch.locale or i18n.default_locale


def rsvp_keyboard(notice_id: int):
    return keyboard(
        [
            [
                Button(
                    text=_("🙋 I'll come"), callback_data=Rsvp(notice=notice_id, coming=True).pack()
                ),
                Button(
                    text=_("🙅 I can't come"),
                    callback_data=Rsvp(notice=notice_id, coming=False).pack(),
                ),
            ]
        ]
    )


def notice_text(notice, clock: Clock, coming: int, not_coming: int) -> str:
    when = fmt_when(notice.starts_at.astimezone(clock.tz), get_i18n().current_locale)
    lines = [
        _("📣 <b>{kind}</b>").format(kind=meeting_kind_label(notice.kind, _)),
        _("Time: {when}").format(when=when),
        _("Place: {place}").format(place=html.quote(notice.place or "—")),
        _("Topic: {topic}").format(topic=html.quote(notice.topic)),
        _("🙋 {yes} coming · 🙅 {no} not coming").format(yes=coming, no=not_coming),
    ]
    return "\n".join(lines)


@router.callback_query(Rsvp.filter())
async def answer(
    query: CallbackQuery,
    callback_data: Rsvp,
    session: AsyncSession,
    bot: Bot,
    clock: Clock,
    settings: Settings,
    state: FSMContext,
    i18n: I18n,
) -> None:
    answered = await rsvp.answer(
        session, clock.now(), callback_data.notice, query.from_user.id, callback_data.coming
    )
    notice = answered.notice
    # Read before the answer below commits: a repeated answer leaves the counts, and the
    # notice, as they are.
    counts = answered.counts
    if counts is None and answered.changed:
        counts = await rsvp.rsvp_counts(session, notice.id)
    if callback_data.coming:
        await query.answer(_("Thank you, see you there."))
    else:
        private = FSMContext(
            storage=state.storage,
            key=StorageKey(bot_id=bot.id, chat_id=query.from_user.id, user_id=query.from_user.id),
        )
        await private.set_data(await _asking_reason(private, notice.id))
        await private.set_state(RsvpReason.reason)
        # Asked at once (they are waiting for it), through the outbox like every message
        # sent outside the chat the press came from.
        await tell(
            session,
            clock,
            settings,
            query.from_user.id,
            _("Why can't you come to “{topic}”? Type a short reason:").format(
                topic=html.quote(notice.topic)
            ),
            key=f"rsvp-why:{notice.id}:{query.from_user.id}:{query.id}",
            kind="rsvp_reason",
            quiet=False,
        )
        # Said once the question is written (committed before the answer goes).
        await query.answer(_("Noted. I have asked you for the reason in our private chat."))
    if counts is None:
        return
    branch = await orgs.require_org(session, notice.org_id)
    with i18n.use_locale(group_locale(i18n, branch)):
        text, markup = notice_text(notice, clock, *counts), rsvp_keyboard(notice.id)
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest:
        pass  # "message is not modified": the counts did not change


@router.message(RsvpReason.reason, F.text, ~F.text.startswith("/"), F.chat.type == ChatType.PRIVATE)
async def reason(message: Message, state: FSMContext, session: AsyncSession, clock: Clock) -> None:
    data = await state.get_data()
    await rsvp.answer(
        session,
        clock.now(),
        data["notice"],
        message.from_user.id,
        False,
        message.text.strip()[:200],
    )
    text = _("Thank you; the secretary will see your reason.")
    if await _resume(state):
        text += "\n" + _("What you were doing before is kept: carry on where you left off.")
    await message.answer(text)


async def _asking_reason(private: FSMContext, notice_id: int) -> dict:
    """The reason step's data, carrying the person's unfinished private conversation (a
    meeting log, say) so that answering the reason gives it back intact."""
    state, data = await private.get_state(), await private.get_data()
    if state == RsvpReason.reason.state:  # asked again: keep what was put aside the first time
        state, data = data.get("resume_state"), data.get("resume_data", {})
    return {"notice": notice_id, "resume_state": state, "resume_data": data}


async def _resume(state: FSMContext) -> bool:
    """Put back the conversation the reason step set aside; True if there was one."""
    data = await state.get_data()
    if data.get("resume_state") is None:
        await state.clear()
        return False
    await state.set_state(data["resume_state"])
    await state.set_data(data.get("resume_data", {}))
    return True
