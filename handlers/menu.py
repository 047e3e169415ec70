"""The role-aware reply-keyboard menu, and a filter that knows its labels in every language."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.services.members import Principal

# Message ids of the menu labels; the texts are translated per request.
ME = "👤 My details"
HELP = "❓ Help"
LANGUAGE = "🌐 Language"
ROSTER = "👥 Branch roster"
INVITE = "🔗 Invite link"
ORGS = "🏛 Organisations"
STARS = "⭐ Star ratings"
MONTH = "📋 This month"
EVALUATION = "🗳 Evaluation"


def _labels() -> None:
    # Never called: lets `pybabel extract` see the menu labels.
    _("👤 My details"), _("❓ Help"), _("🌐 Language"), _("👥 Branch roster")
    _("🔗 Invite link"), _("🏛 Organisations"), _("📋 This month"), _("⭐ Star ratings")
    _("🗳 Evaluation")


def menu_keyboard(principal: Principal | None) -> ReplyKeyboardMarkup | None:
    """Only what this person can use; nothing for someone the bot does not know."""
    if principal is None or (principal.member is None and not principal.is_staff):
        return None
    rows: list[list[str]] = []
    if principal.member is not None:
        rows.append([MONTH, EVALUATION])
    if principal.member is not None and principal.is_branch_leader:
        rows.append([ROSTER, INVITE])
    if principal.is_staff:
        rows.append([ORGS, STARS])
        if principal.member is None:
            rows.append([EVALUATION])
    rows.append([ME, HELP, LANGUAGE])
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_(label)) for label in row] for row in rows],
        resize_keyboard=True,
        is_persistent=True,
    )


class MenuButton(Filter):
    """Matches a menu label in any language, whatever the user's current one."""

    def __init__(self, label: str) -> None:
        self.label = label

    async def __call__(self, message: Message, i18n: I18n) -> bool:
        if not message.text:
            return False
        return message.text in {
            i18n.gettext(self.label, locale=loc) for loc in (*i18n.available_locales, "en")
        }
