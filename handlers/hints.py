"""Never silent: a message a conversation step did not take gets a hint for that step.

Included after every feature router and before the free-text fallback, so a step's own
handlers always see the message first; what reaches here is a photo, a sticker, a
command or text the step cannot use. (The meeting log and the evaluation have their own,
for a photo or sticker; an unknown command reaches here and gets theirs.)
"""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers import evaluation, evidence, meeting_log
from handlers.registry import Handlers
from handlers.states import (
    AddContent,
    AdjustStar,
    AnnounceMeeting,
    EditMember,
    Evaluate,
    Join,
    LogMeeting,
    MeetingReason,
    NewOrg,
    RecordEvidence,
    RsvpReason,
)

router = Handlers("hints")


def _hints() -> dict[str | None, str]:
    """Built per message: the words are in the asker's language."""
    return {
        AdjustStar.reason.state: _("Type the reason for the adjustment as text, or /cancel."),
        MeetingReason.reason.state: _("Type the reason for deleting the meeting as text."),
        RsvpReason.reason.state: _("Type a short reason as text, or /cancel to give none."),
        Join.search.state: _("Type part of your name to find yourself on the roster."),
        Join.name.state: _("Type your full name as text."),
        NewOrg.name.state: _("Type the name of the new unit as text."),
        EditMember.value.state: _("Type the new value as text, or /cancel."),
        AnnounceMeeting.details.state: _("Type the time and place, e.g. “19:30 village office”."),
        AnnounceMeeting.topic.state: _("Type the topic of the meeting as text."),
        RecordEvidence.note.state: _("Type a short note as text, or skip."),
        RecordEvidence.file.state: _("Send a photo or a document as proof, or skip."),
        AddContent.title.state: _("Type the title as text."),
        AddContent.source.state: _("Send the link (https://…), or the file itself."),
    }


@router.message(F.chat.type == "private", ~StateFilter(None))
async def step_hint(message: Message, state: FSMContext) -> None:
    current = await state.get_state()
    hint = _hints().get(current)
    # The meeting log's and the evaluation's own hints, for a command they let through.
    if current and current.startswith(LogMeeting.__name__ + ":"):
        hint = meeting_log.step_hint(current)
    elif current and current.startswith(Evaluate.__name__ + ":"):
        hint = evaluation.step_hint(current)
    elif current == RecordEvidence.count.state:
        # A share, a grade or a correction has no number buttons to tap.
        hint = evidence.count_hint(await state.get_data())
    await message.answer(hint or _("Please use the buttons above, or send /cancel to stop."))
