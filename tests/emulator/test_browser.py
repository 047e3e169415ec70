"""The browser chat in Debian's chromium, driven by Playwright, against a tiny aiogram bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.emulator import EmulatorServer
from bot.emulator.client import EmulatorClient
from bot.emulator.testing import polling
from tests.browser import ARTIFACTS, marks

pytestmark = marks


def tiny_bot() -> Dispatcher:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message) -> None:
        join = InlineKeyboardButton(text="加入", callback_data="join")
        await message.answer(
            "<b>欢迎</b>，请点击加入支部",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[join]]),
        )

    @dispatcher.callback_query(F.data == "join")
    async def joined(query: CallbackQuery) -> None:
        await query.answer("已加入")
        if isinstance(query.message, Message):
            await query.message.edit_text("你已加入支部 ✅")

    return dispatcher


@pytest.fixture
async def running_bot(bot: Bot) -> AsyncIterator[Bot]:
    async with polling(tiny_bot(), bot):
        yield bot


async def test_persona_start_press_and_edit(
    page, emulator_server: EmulatorServer, emulator: EmulatorClient, running_bot: Bot
) -> None:
    from playwright.async_api import expect

    await emulator.create_user("李四", language_code="zh-hans")
    zhang = await emulator.create_user("张三", language_code="zh-hans", phone="+8613800000000")
    await emulator.create_group("第一支部", members=[zhang])

    await page.goto(emulator_server.url)
    await page.select_option("#persona", label="张三")
    await page.locator(f'.chat-item[data-chat-id="{zhang.id}"]').click()
    await page.locator("#composer-input").fill("/start")
    await page.locator("#composer-input").press("Enter")

    welcome = page.locator(".msg", has_text="欢迎")
    await expect(welcome.locator("b")).to_have_text("欢迎")  # HTML rendered, not escaped
    await welcome.get_by_role("button", name="加入").click()

    edited = page.locator(".msg", has_text="你已加入支部")
    await expect(edited).to_be_visible()
    await expect(page.locator("#toast")).to_have_text("已加入")
    await expect(page.get_by_role("button", name="加入")).to_have_count(0)
    await expect(page.locator(".msg.mine", has_text="/start")).to_have_count(1)
    await expect(page.locator(".chat-item")).to_have_count(2)  # private chat and the group

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "browser-chat.png"))
    [start, reply] = await zhang.messages()
    assert start.text == "/start" and reply.text == "你已加入支部 ✅" and reply.edited


async def test_failed_send_is_kept_with_retry_and_ui_language(
    page, emulator_server: EmulatorServer, emulator: EmulatorClient
) -> None:
    from playwright.async_api import expect

    user = await emulator.create_user("王五")
    await page.goto(emulator_server.url)
    await expect(page.locator(".chat-item")).to_have_count(1)
    await expect(page.locator("#send")).to_have_text("发送")  # Chinese by default
    await page.locator("#lang-toggle").click()
    await expect(page.locator("#send")).to_have_text("Send")

    await page.route("**/_emu/messages", lambda route: route.abort())
    await page.locator("#composer-input").fill("hello?")
    await page.locator("#composer-input").press("Enter")
    failed = page.locator(".msg.failed", has_text="hello?")
    await expect(failed).to_be_visible()
    assert await user.messages() == []

    await page.unroute("**/_emu/messages")
    await failed.get_by_role("button", name="Retry").click()
    await expect(page.locator(".msg.failed")).to_have_count(0)
    await expect(page.locator(".msg.mine", has_text="hello?")).to_have_count(1)
    [sent] = await user.messages()
    assert sent.text == "hello?"
