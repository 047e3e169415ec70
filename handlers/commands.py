"""The command list shown by Telegram's menu button, in Chinese and English."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _


def command_list() -> list[BotCommand]:
    return [
        BotCommand(command="start", description=_("Start or join with an invite link")),
        BotCommand(command="month", description=_("This month's checklist and star level")),
        BotCommand(
            command="evaluation",
            description=_("Democratic evaluation: self-assessment, vote, grade"),
        ),
        BotCommand(command="rating", description=_("Our star rating, and what is still open")),
        BotCommand(command="tasks", description=_("What is still outstanding this month")),
        BotCommand(command="mygrade", description=_("My Vanguard Index grade")),
        BotCommand(command="me", description=_("Who I am, my branch and roles")),
        BotCommand(command="roster", description=_("Branch roster (secretaries)")),
        BotCommand(command="requests", description=_("Join requests waiting for my decision")),
        BotCommand(command="invite", description=_("Invite link for new members")),
        BotCommand(command="announce", description=_("Announce a meeting in the branch group")),
        BotCommand(command="orgs", description=_("Organisations I oversee (staff)")),
        BotCommand(command="stars", description=_("Star ratings of a month (staff)")),
        BotCommand(command="dashboard", description=_("Overview of my branches (staff)")),
        BotCommand(command="export", description=_("Ratings ledger as Excel (staff)")),
        BotCommand(command="content", description=_("Add education material (staff)")),
        BotCommand(command="broadcast", description=_("Announce to branches I oversee (staff)")),
        BotCommand(command="notifications", description=_("Which reminders I get")),
        BotCommand(command="language", description=_("Language: 中文 / English")),
        BotCommand(command="help", description=_("What I can do")),
        BotCommand(command="cancel", description=_("Leave the current step")),
    ]


async def register_commands(bot: Bot, i18n: I18n) -> None:
    # Chinese is the default for clients whose language has no list of its own.
    for language_code, locale in ((None, "zh_Hans"), ("zh", "zh_Hans"), ("en", "en")):
        with i18n.context(), i18n.use_locale(locale):
            await bot.set_my_commands(command_list(), language_code=language_code)
