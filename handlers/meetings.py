"""A branch's logged meetings: list by month, open one, edit it (back into the log
conversation at its summary) or delete it. Closed months need the superior's staff
and a reason."""

from __future__ import annotations

from aiogram import F
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.models import Meeting
from bot.i18n import fmt_date
from bot.services import meetings, orgs
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.texts import error_text, meeting_kind_label
from handlers.callbacks import MeetingList, MeetingOpen, Month
from handlers.meeting_log import start_log
from handlers.meeting_views import draft_summary
from handlers.registry import Handlers
from handlers.states import MeetingReason
from handlers.views import Button, keyboard, meetings_heading, pager

router = Handlers("meetings")


async def _lead(session: AsyncSession, principal: Principal, org_id: int):
    branch = await orgs.require_org(session, org_id)
    if not principal.can_lead(branch):
        raise ServiceError("access.denied")
    return branch


@router.callback_query(MeetingList.filter())
async def listing(
    query: CallbackQuery,
    callback_data: MeetingList,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    branch = await _lead(session, principal, callback_data.org)
    period = clock.today().strftime("%Y-%m")
    found = await meetings.meetings_page(session, branch.id, period, callback_data.page)
    locale = get_i18n().current_locale
    rows = [
        [
            Button(
                text=f"{'✅' if m.counts else '⚠️'} {fmt_date(m.held_on, locale, 'short')} "
                f"{meeting_kind_label(m.kind, _)} · {m.topic[:24]}",
                callback_data=MeetingOpen(meeting=m.id).pack(),
            )
        ]
        for m in found.items
    ]
    rows.append(pager(found, lambda p: MeetingList(org=branch.id, page=p)))
    rows.append([Button(text=_("◀ Checklist"), callback_data=Month(org=branch.id).pack())])
    text = meetings_heading(branch.name, period, found.total)
    await query.answer()
    await query.message.edit_text(text, reply_markup=keyboard(rows))


async def _meeting_view(session: AsyncSession, principal: Principal, meeting_id: int):
    meeting, attendees, photos = await meetings.get_meeting(session, meeting_id)
    await _lead(session, principal, meeting.org_id)
    draft = _as_draft(meeting, attendees, photos)
    text = await draft_summary(session, draft)
    act = lambda a: MeetingOpen(meeting=meeting.id, act=a, v=meeting.version).pack()
    rows = [
        [
            Button(text=_("✏️ Edit"), callback_data=act("edit")),
            Button(text=_("🗑 Delete"), callback_data=act("delete")),
        ],
        [Button(text=_("◀ Meetings"), callback_data=MeetingList(org=meeting.org_id).pack())],
    ]
    return text, keyboard(rows)


@router.callback_query(MeetingOpen.filter(F.act == "view"))
async def view(
    query: CallbackQuery, callback_data: MeetingOpen, session: AsyncSession, principal: Principal
) -> None:
    text, markup = await _meeting_view(session, principal, callback_data.meeting)
    await query.answer()
    await query.message.edit_text(text, reply_markup=markup)


async def _as_it_is(
    query: CallbackQuery, session: AsyncSession, principal: Principal, err, meeting_id: int
) -> None:
    """A deletion pressed on an older view: say so, and show the meeting as it is now."""
    # The other change landed after this update read the meeting: read it again.
    await session.get(Meeting, meeting_id, populate_existing=True)
    text, markup = await _meeting_view(session, principal, meeting_id)
    await query.answer(error_text(err, _), show_alert=True)
    await query.message.edit_text(text, reply_markup=markup)


def _as_draft(meeting, attendees: list[int], photos: list[str]) -> dict:
    """The conversation's draft shape, so an edit reuses the logging steps."""
    return {
        "org_id": meeting.org_id,
        "kind": meeting.kind,
        "held_on": meeting.held_on.isoformat(),
        "time": meeting.time,
        "place": meeting.place,
        "attendees": attendees,
        "topic": meeting.topic,
        "notes": meeting.notes,
        "photos": photos,
        "content_id": meeting.content_id,
        "notice_id": meeting.notice_id,
        "meeting_id": meeting.id,
        "version": meeting.version,  # the edit is refused if someone saved a change since
    }


@router.callback_query(MeetingOpen.filter(F.act == "edit"))
async def edit(
    query: CallbackQuery,
    callback_data: MeetingOpen,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    meeting, attendees, photos = await meetings.get_meeting(session, callback_data.meeting)
    await _lead(session, principal, meeting.org_id)  # before answering: the refusal must show
    await query.answer()
    await start_log(
        query.message,
        state,
        session,
        principal,
        clock,
        meeting.org_id,
        draft=_as_draft(meeting, attendees, photos),
    )


@router.callback_query(MeetingOpen.filter(F.act == "delete"))
async def ask_delete(
    query: CallbackQuery, callback_data: MeetingOpen, session: AsyncSession, principal: Principal
) -> None:
    meeting, _a, _p = await meetings.get_meeting(session, callback_data.meeting)
    await _lead(session, principal, meeting.org_id)
    rows = [
        [
            Button(
                text=_("🗑 Yes, delete it"),
                callback_data=MeetingOpen(
                    meeting=meeting.id, act="delete_yes", v=callback_data.v
                ).pack(),
            ),
            Button(text=_("◀ Keep it"), callback_data=MeetingOpen(meeting=meeting.id).pack()),
        ]
    ]
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=keyboard(rows))


@router.callback_query(MeetingOpen.filter(F.act == "delete_yes"))
async def delete(
    query: CallbackQuery,
    callback_data: MeetingOpen,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    try:
        await meetings.delete_meeting(
            session, principal, clock.now(), callback_data.meeting, version=callback_data.v
        )
    except ServiceError as err:
        if err.code == "record.stale":
            await _as_it_is(query, session, principal, err, callback_data.meeting)
            return
        if err.code != "meeting.reason_required":
            raise
        await state.set_state(MeetingReason.reason)
        await state.update_data(meeting=callback_data.meeting, version=callback_data.v)
        await query.answer()
        await query.message.answer(
            _("This month is closed. Type the reason for deleting the meeting:")
        )
        return
    await query.answer(_("Deleted."))
    await query.message.edit_text(_("The meeting was deleted; the audit log keeps a copy."))


@router.message(MeetingReason.reason, F.text, ~F.text.startswith("/"))
async def delete_with_reason(
    message: Message, state: FSMContext, session: AsyncSession, principal: Principal, clock: Clock
) -> None:
    data = await state.get_data()
    try:
        await meetings.delete_meeting(
            session,
            principal,
            clock.now(),
            data["meeting"],
            reason=message.text.strip(),
            version=data.get("version"),
        )
    except ServiceError as err:
        if err.code != "record.stale":
            raise
        await state.clear()
        await session.get(Meeting, meeting_id := data["meeting"], populate_existing=True)
        text, markup = await _meeting_view(session, principal, meeting_id)
        await message.answer(error_text(err, _) + "\n\n" + text, reply_markup=markup)
        return
    await state.clear()
    await message.answer(_("The meeting was deleted; the audit log keeps a copy."))
