"""The role-aware reply-keyboard menu, and a filter that knows its labels in every language."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _

from bot.delivery import shared
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


# A handful of menus (role × language) are sent with nearly every reply: each is built
# once per process. Nothing changes a sent markup, so one object serves every reply.
_menus: dict[tuple[str, bool, bool, bool], ReplyKeyboardMarkup] = {}


def menu_keyboard(principal: Principal | None) -> ReplyKeyboardMarkup | None:
    """Only what this person can use; nothing for someone the bot does not know."""
    if principal is None or (principal.member is None and not principal.is_staff):
        return None
    member = principal.member is not None
    leader = member and principal.is_branch_leader
    key = (get_i18n().current_locale, member, leader, principal.is_staff)
    menu = _menus.get(key)
    if menu is None:
        rows: list[list[str]] = []
        if member:
            rows.append([MONTH, EVALUATION])
        if leader:
            rows.append([ROSTER, INVITE])
        if principal.is_staff:
            rows.append([ORGS, STARS])
            if not member:
                rows.append([EVALUATION])
        rows.append([ME, HELP, LANGUAGE])
        menu = _menus[key] = shared(
            ReplyKeyboardMarkup(
                keyboard=[[KeyboardButton(text=_(label)) for label in row] for row in rows],
                resize_keyboard=True,
                is_persistent=True,
            )
        )
    return menu


class MenuButton(Filter):
    """Matches a menu label in any language, whatever the user's current one."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._texts: tuple[I18n, frozenset[str]] | None = None

    def texts(self, i18n: I18n) -> frozenset[str]:
        """The label in every language, translated once for the catalogues in use."""
        if self._texts is None or self._texts[0] is not i18n:
            locales = (*i18n.available_locales, "en")
            self._texts = (i18n, frozenset(i18n.gettext(self.label, locale=loc) for loc in locales))
        return self._texts[1]

    async def __call__(self, message: Message, i18n: I18n) -> bool:
        return bool(message.text) and message.text in self.texts(i18n)
