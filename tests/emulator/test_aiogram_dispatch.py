"""aiogram's own filters see our updates as Telegram's: deep links, commands with @botname."""

from __future__ import annotations

from aiogram import Bot, Dispatcher, F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.emulator.client import EmulatorClient
from bot.emulator.testing import polling


def dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(CommandStart(deep_link=True))
    async def deep_link(message: Message, command: CommandObject) -> None:
        await message.answer(f"payload={command.args}")

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        button = InlineKeyboardButton(text="Go", callback_data="go")
        await message.answer(
            "plain start", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
        )

    @dp.message(Command("status"))
    async def status(message: Message) -> None:
        await message.reply("status ok")

    @dp.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None
        await message.answer(f"phone={message.contact.phone_number}")

    @dp.callback_query(F.data == "go")
    async def go(query: CallbackQuery) -> None:
        await query.answer("going", show_alert=True)
        if isinstance(query.message, Message):
            await query.message.edit_text("gone")

    return dp


async def test_deep_link_command_and_contact(bot: Bot, emulator: EmulatorClient) -> None:
    me = await bot.get_me()
    user = await emulator.create_user("Filter", phone="+8613700000000")
    group = await emulator.create_group("支部", members=[user])
    async with polling(dispatcher(), bot):
        await user.send("/start invite-42")
        assert (await user.expect()).text == "payload=invite-42"
        await user.send("/start")
        assert (await user.expect()).text == "plain start"
        answer = await user.press("Go")
        assert answer.text == "going" and answer.show_alert
        assert (await user.expect(edited=True)).text == "gone"
        await user.share_contact()
        assert (await user.expect()).text == "phone=+8613700000000"
        await user.send_in(group, f"/status@{me.username}")
        reply = await group.expect(contains="status ok")
        assert reply.raw["reply_to_message"]["text"] == f"/status@{me.username}"
