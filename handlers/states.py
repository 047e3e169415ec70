"""Conversation states (kept in aiogram's FSM storage: memory, or Redis when configured)."""

from aiogram.fsm.state import State, StatesGroup


class Join(StatesGroup):
    search = State()
    contact = State()
    name = State()


class NewOrg(StatesGroup):
    kind = State()
    name = State()
    domain = State()


class EditMember(StatesGroup):
    value = State()


class LogMeeting(StatesGroup):
    kind = State()
    date = State()
    where = State()
    attendees = State()
    topic = State()
    notes = State()
    photos = State()
    content = State()
    summary = State()


class AnnounceMeeting(StatesGroup):
    kind = State()
    date = State()
    details = State()
    topic = State()


class RsvpReason(StatesGroup):
    reason = State()


class AdjustStar(StatesGroup):
    reason = State()


class MeetingReason(StatesGroup):
    reason = State()


class RecordEvidence(StatesGroup):
    count = State()
    note = State()
    file = State()


class AddContent(StatesGroup):
    kind = State()
    title = State()
    source = State()
    domains = State()


class SendBroadcast(StatesGroup):
    org = State()
    roles = State()
    text = State()
    confirm = State()
