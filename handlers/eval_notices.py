"""What the democratic evaluation tells people unprompted, in one wording for the
handlers (a stage has opened) and the scheduler (deadline reminders).

Nothing here says who else has or has not acted: a reminder tells a member only that
they themselves have not yet assessed themselves or voted (see docs/ballot-secrecy.md).
"""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.db.models import EvalCampaign, EvalStage
from bot.services import evaluation
from handlers.callbacks import EvalView
from handlers.views import Button, keyboard


def _button(campaign: EvalCampaign, text: str, act: str):
    return keyboard(
        [[Button(text=text, callback_data=EvalView(campaign=campaign.id, act=act).pack())]]
    )


def stage_opened(campaign: EvalCampaign) -> tuple[str, object]:
    """The self-assessment or the vote has opened: its deadline and the button to it."""
    if campaign.stage == EvalStage.vote:
        text = _("The democratic vote is open until {date}. Your ballot is secret.")
        button, act = _("🗳 Vote"), "vote"
    else:
        text = _("The democratic evaluation has begun: assess yourself by {date}.")
        button, act = _("📝 Self-assessment"), "self"
    return text.format(date=evaluation.due_of(campaign)), _button(campaign, button, act)
