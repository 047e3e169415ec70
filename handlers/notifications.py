"""`/notifications`: mute or unmute the optional reminders; mandatory ones are listed as such."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import notifications
from bot.services.errors import ServiceError
from handlers.callbacks import Notify
from handlers.registry import Handlers
from handlers.views import Button, keyboard

router = Handlers("notifications")


def topic_label(topic: str) -> str:
    return {
        "kickoff": _("Start of the month: checklist and education material"),
        "outstanding": _("Open checklist items (10th, 20th, 25th)"),
        "due": _("Due dates coming up"),
        "month_close": _("Month close and star confirmation (staff)"),
    }.get(topic, topic)


def _view(muted: set[str]) -> dict:
    rows = [
        [
            Button(
                text=("🔕 " if t in muted else "🔔 ") + topic_label(t),
                callback_data=Notify(topic=t).pack(),
            )
        ]
        for t in notifications.OPTIONAL_TOPICS
    ]
    text = "\n".join(
        [
            _("<b>Reminders</b> — tap one to turn it on (🔔) or off (🔕)."),
            "",
            _(
                "Evaluation deadlines, announcements from the superior and messages about "
                "your requests are mandatory: they cannot be turned off."
            ),
        ]
    )
    return {"text": text, "reply_markup": keyboard(rows)}


@router.message(Command("notifications"))
async def show(message: Message, session: AsyncSession) -> None:
    muted = await notifications.muted_topics(session, message.from_user.id)
    await message.answer(**_view(muted))


@router.callback_query(Notify.filter())
async def toggle(query: CallbackQuery, callback_data: Notify, session: AsyncSession) -> None:
    if callback_data.topic not in notifications.OPTIONAL_TOPICS:
        raise ServiceError("stale")
    now_muted = await notifications.toggle(session, query.from_user.id, callback_data.topic)
    muted = await notifications.muted_topics(session, query.from_user.id)
    await query.answer(_("Turned off.") if now_muted else _("Turned on."))
    await query.message.edit_text(**_view(muted))
