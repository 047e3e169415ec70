"""Personal data stays out of groups.

In a group the bot answers only what belongs to the group: linking it to a branch
(/linkgroup), meeting notices and their RSVP buttons. Every other command (/me, /month,
/stars, /start, /help, /announce…) gets a reply with a button that opens the private
chat — never the answer itself, and never a reply keyboard, which would sit on every
member's screen. Presses in a group other than RSVPs are refused the same way (a
forged one would otherwise edit a group message into someone's checklist); so is the
confirmation of a /linkgroup that moves a link. A message
that is not a command but is addressed to the bot — a reply to one of its messages, an
@mention of it — is answered the same way rather than met with silence; the group's
own talk is left alone.
Included first, so no feature handler sees these.
"""

from __future__ import annotations

from aiogram import Bot, F
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import GroupMove, Noop, Rsvp
from handlers.registry import Handlers
from handlers.views import Button, keyboard

GROUP_CHATS = frozenset({"group", "supergroup"})
router = Handlers("group_guard", chats=GROUP_CHATS)
GROUP = F.chat.type.in_(GROUP_CHATS)
GROUP_COMMANDS = ("linkgroup",)


@router.message(GROUP, F.text.startswith("/"), ~Command(*GROUP_COMMANDS))
async def to_private(message: Message, bot: Bot) -> None:
    command, _at, mention = message.text.split()[0].partition("@")
    me = await bot.me()
    if mention and mention.lower() != (me.username or "").lower():
        return  # another bot's command
    text = (
        _("Announce meetings from our private chat; the notice is then posted here.")
        if command == "/announce"
        else _("I answer that in our private chat, so that personal data stays out of groups.")
    )
    button = Button(text=_("💬 Open the private chat"), url=f"https://t.me/{me.username}")
    await message.reply(text, reply_markup=keyboard([[button]]))


class AddressedToMe(Filter):
    """A group message meant for the bot: a reply to one of its messages, or a mention
    of it (@username, or a mention of its account by name)."""

    async def __call__(self, message: Message, bot: Bot) -> bool:
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        text = message.text or message.caption or ""
        entities = message.entities or message.caption_entities or []
        if not entities:
            return False
        me = ("@" + ((await bot.me()).username or "")).lower()
        for entity in entities:
            if entity.type == "text_mention" and entity.user and entity.user.id == bot.id:
                return True
            if entity.type == "mention" and entity.extract_from(text).lower() == me:
                return True
        return False


@router.message(GROUP, ~F.text.startswith("/"), AddressedToMe())
async def addressed(message: Message, bot: Bot) -> None:
    me = await bot.me()
    button = Button(text=_("💬 Open the private chat"), url=f"https://t.me/{me.username}")
    text = _(
        "In this group I only post meeting notices and take your answers to them through "
        "their buttons. For anything else — your record, the checklist, questions — "
        "please write to me in our private chat."
    )
    await message.reply(text, reply_markup=keyboard([[button]]))


@router.callback_query(
    F.message.chat.type.in_(GROUP_CHATS), ~Rsvp.filter(), ~Noop.filter(), ~GroupMove.filter()
)
async def not_here(query: CallbackQuery) -> None:
    await query.answer(
        _("This button works only in our private chat. Please start again there."),
        show_alert=True,
    )
