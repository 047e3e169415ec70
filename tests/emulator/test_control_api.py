"""The control API and the EmulatorClient helpers that end-to-end tests use."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.emulator import EmulatorServer
from bot.emulator.client import EmulatorClient, EmulatorError, ExpectationFailed

from .images import PNG_2X3


def menu(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=t.lower())] for t in labels]
    )


async def test_create_user_with_a_given_id_is_idempotent(emulator: EmulatorClient) -> None:
    first = await emulator.create_user("王书记", user_id=1001, language_code="zh-hans")
    again = await emulator.create_user("王书记", user_id=1001, phone="+8613900000000")
    assert first.id == again.id == 1001
    [user] = await emulator.users()
    assert user["phone"] == "+8613900000000" and user["language_code"] == "zh-hans"
    [chat] = await emulator.chats(user_id=1001)
    assert chat["type"] == "private" and chat["id"] == 1001


async def test_generated_user_ids_are_64_bit(emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Big")
    assert user.id > 2**32


async def test_groups_and_their_members(emulator: EmulatorClient) -> None:
    a = await emulator.create_user("A")
    b = await emulator.create_user("B")
    group = await emulator.create_group("支部", members=[a], admins=[b], chat_id=-100123)
    assert group.id == -100123
    chats = await emulator.chats(user_id=b.id)
    assert {c["id"] for c in chats} == {b.id, -100123}
    with pytest.raises(EmulatorError, match="already exists"):
        await emulator.create_group("again", chat_id=-100123)
    with pytest.raises(EmulatorError, match="user 5 not found"):
        await emulator.create_group("ghosts", members=[5])
    basic = await emulator.create_group("basic", members=[a], chat_type="group")
    assert -(10**12) < basic.id < 0


async def test_bad_control_requests(emulator: EmulatorClient, emulator_server: EmulatorServer):
    with pytest.raises(EmulatorError, match="first_name is empty"):
        await emulator.call("POST", "/_emu/users", json={"last_name": "x"})
    with pytest.raises(EmulatorError, match="chat not found"):
        await emulator.transcript(-42)
    user = await emulator.create_user("U")
    with pytest.raises(EmulatorError, match="message text is empty"):
        await user.send("  ")
    closed = await emulator.create_group("closed")
    with pytest.raises(EmulatorError, match="not a member"):
        await user.send_in(closed, "hi")
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{emulator_server.url}/_emu/users",
            data=b"{oops",
            headers={"Content-Type": "application/json"},
        ) as resp:
            body = await resp.json()
    assert resp.status == 400 and "can't parse JSON" in body["description"]


async def test_press_by_label_finds_the_newest_message_with_it(
    bot: Bot, emulator: EmulatorClient
) -> None:
    user = await emulator.create_user("Presser")
    old = await bot.send_message(user.id, "old", reply_markup=menu("Join"))
    new = await bot.send_message(user.id, "new", reply_markup=menu("Join", "Leave"))
    answer = await user.press("Join", wait_answer=False)
    [update] = await bot.get_updates()
    assert update.callback_query and update.callback_query.id == answer.callback_query_id
    assert update.callback_query.message.message_id == new.message_id  # type: ignore[union-attr]
    await user.press("Join", message=old.message_id, wait_answer=False)
    with pytest.raises(LookupError, match="no inline button 'Vote'"):
        await user.press("Vote")
    await user.press("Lea", wait_answer=False)  # a unique partial label works too


async def test_press_waits_for_the_answer(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Waiter")
    await bot.send_message(user.id, "q", reply_markup=menu("Ok"))
    unanswered = await user.press("Ok", timeout=0.2)
    assert unanswered.answered is False


async def test_forged_press_needs_force(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Forger")
    sent = await bot.send_message(user.id, "q", reply_markup=menu("Ok"))
    with pytest.raises(EmulatorError, match="no button"):
        await user.press_data("vote:999", sent.message_id)
    await user.press_data("\x00garbage", sent.message_id, force=True, wait_answer=False)
    [update] = await bot.get_updates()
    assert update.callback_query and update.callback_query.data == "\x00garbage"


async def test_expect_times_out_with_the_transcript(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Patient")
    await user.send("/start")
    await bot.send_message(user.id, "something else", reply_markup=menu("A"))
    with pytest.raises(ExpectationFailed) as failure:
        await user.expect(contains="welcome", timeout=0.2)
    report = str(failure.value)
    assert "containing 'welcome'" in report
    assert "Patient: /start" in report and "bot: something else" in report
    assert "buttons=[['A']]" in report


async def test_expect_sees_replies_sent_before_it_was_called(
    bot: Bot, emulator: EmulatorClient
) -> None:
    user = await emulator.create_user("Late")
    await bot.send_message(user.id, "one")
    await bot.send_message(user.id, "two")
    assert (await user.expect()).text == "one"
    assert (await user.expect(regex=r"^t.o$")).text == "two"
    await user.expect_silence(0.1)
    last = await user.last_message()
    assert last is not None and last.text == "two"


async def test_get_user_sees_only_new_messages(bot: Bot, emulator: EmulatorClient) -> None:
    seeded = await emulator.create_user("Seeded", user_id=4242)
    await bot.send_message(seeded.id, "before")
    handle = await emulator.get_user(4242)
    await bot.send_message(seeded.id, "after")
    assert (await handle.expect()).text == "after"


async def test_user_uploads_and_file_download(emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Up")
    photo = await user.send_photo(PNG_2X3, caption="看")
    assert photo.photo and photo.photo[0]["width"] == 2 and photo.text == "看"
    doc = await user.send_document(b"%PDF-1.4", "报告.pdf", mime_type="application/pdf")
    assert doc.document and doc.document["file_name"] == "报告.pdf"
    async with aiohttp.ClientSession() as http:
        url = f"{emulator.base_url}/_emu/files/{doc.document['file_id']}"
        async with http.get(url) as resp:
            assert await resp.read() == b"%PDF-1.4"
            assert resp.headers["Content-Type"] == "application/pdf"


async def test_transcript_reflects_edits_and_deletes(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("T")
    a = await bot.send_message(user.id, "a", reply_markup=menu("X"))
    b = await bot.send_message(user.id, "b")
    await bot.edit_message_text(text="a2", chat_id=user.id, message_id=a.message_id)
    await bot.delete_message(user.id, b.message_id)
    [only] = await user.messages()
    assert only.text == "a2" and only.edited and only.buttons == []


async def test_reset_forgets_everything(bot: Bot, emulator: EmulatorClient) -> None:
    user = await emulator.create_user("Gone")
    await user.send("hi")
    await emulator.inject_fault("getMe", 500)
    await emulator.reset()
    assert await emulator.users() == [] and await emulator.chats() == []
    assert (await bot.get_me()).is_bot  # the fault is gone too
    assert await bot.get_updates() == []


async def test_configure_bot(bot: Bot, emulator: EmulatorClient) -> None:
    info = await emulator.configure_bot(username="other_bot", privacy_mode=False)
    assert info["username"] == "other_bot"
    me = await bot.get_me()
    assert me.username == "other_bot" and me.can_read_all_group_messages is True
