"""What the democratic evaluation tells people unprompted, in one wording for the
handlers (a stage has opened) and the scheduler (deadline reminders).

Nothing here says who else has or has not acted: a reminder tells a member only that
they themselves have not yet assessed themselves or voted (see docs/ballot-secrecy.md).
"""

from __future__ import annotations

from datetime import date
from html import escape

from aiogram.utils.i18n import gettext as _

from bot.db.models import EvalCampaign, EvalStage
from bot.services import evaluation
from handlers.callbacks import EvalView
from handlers.views import Button, keyboard


def _button(campaign: EvalCampaign, text: str, act: str):
    return keyboard(
        [[Button(text=text, callback_data=EvalView(campaign=campaign.id, act=act).pack())]]
    )


def opened_key(campaign: EvalCampaign) -> str:
    """The outbox key of a stage's opening notice: the handler that opens it and the
    scheduler (for campaigns opened for a whole subtree) write the same one."""
    return f"eval:{campaign.id}:{campaign.stage}:open:v{campaign.version}"


def stage_opened(campaign: EvalCampaign) -> tuple[str, object]:
    """The self-assessment or the vote has opened: its deadline and the button to it."""
    if campaign.stage == EvalStage.vote:
        text = _("The democratic vote is open until {date}. Your ballot is secret.")
        button, act = _("🗳 Vote"), "vote"
    else:
        text = _("The democratic evaluation has begun: assess yourself by {date}.")
        button, act = _("📝 Self-assessment"), "self"
    return text.format(date=evaluation.due_of(campaign)), _button(campaign, button, act)


def not_yet_done(campaign: EvalCampaign) -> tuple[str, object]:
    """To one member, about themselves only: their self-assessment or ballot is missing."""
    due = evaluation.due_of(campaign)
    if campaign.stage == EvalStage.vote:
        text = _(
            "🗳 You have not voted yet in the democratic evaluation {period}. The vote "
            "closes at the end of {date}; your ballot is secret."
        )
        button, act = _("🗳 Vote"), "vote"
    else:
        text = _(
            "📝 You have not yet assessed yourself for the democratic evaluation {period}. "
            "The self-assessment closes at the end of {date}."
        )
        button, act = _("📝 Self-assessment"), "self"
    text = text.format(period=campaign.period, date=due)
    return text, _button(campaign, button, act)


def notice_over(campaign: EvalCampaign, branch: str, unanswered: int) -> str:
    """To the branch's leaders: the objection window has closed."""
    head = _(
        "📋 The public notice of the democratic evaluation {period} of {branch} ended on {date}."
    ).format(period=campaign.period, branch=escape(branch), date=campaign.notice_due)
    if unanswered:
        rest = _(
            "{n} objections still wait for an answer: answer them, then send the results "
            "for the superior's approval in /evaluation."
        ).format(n=unanswered)
    else:
        rest = _("Send the results for the superior's approval in /evaluation.")
    return f"{head}\n{rest}"


MAX_LISTED = 12  # campaigns named in one message to the staff; the rest are counted


def approvals_waiting(waiting: list[tuple[str, EvalCampaign]], today: date) -> str:
    """To the superior's staff: campaigns under them waiting for their approval."""
    lines = [_("🗳 Democratic evaluations waiting for your approval: {n}.").format(n=len(waiting))]
    for branch, c in waiting[:MAX_LISTED]:
        if c.approval_due < today:
            line = _("• {branch} — {period}, overdue since {date}")
        else:
            line = _("• {branch} — {period}, due {date}")
        lines.append(line.format(branch=escape(branch), period=c.period, date=c.approval_due))
    if len(waiting) > MAX_LISTED:
        lines.append(_("… and {n} more.").format(n=len(waiting) - MAX_LISTED))
    lines.append(_("/evaluation lists them with their results."))
    return "\n".join(lines)
