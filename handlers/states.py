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


class Evaluate(StatesGroup):
    self_answers = State()  # the self-assessment draft, marks per item
    self_summary = State()  # waiting for the free-text summary
    ballot = State()  # the ballot draft: marks per candidate, only here until submit
    reason = State()  # an override's written reason
    note = State()  # a deduction's note of evidence
    objection = State()  # an objection's text
    answer = State()  # an answer to an objection
    reopen = State()  # the superior's reason for moving a campaign back a stage


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
