"""Replies survive Telegram's flood limit and server errors (reliability cases 9 and 14)."""

from __future__ import annotations

import time

import pytest


@pytest.mark.parametrize("fault", ["429", "500", "502"])
async def test_reply_arrives_after_a_transient_failure(world, fault):
    user = await world.emu.create_user("Wei", language_code="en")
    await world.emu.inject_fault("sendMessage", fault, count=1, retry_after=1)
    started = time.monotonic()
    await user.send("/start")
    reply = await user.expect("invite link", timeout=10)
    assert reply.text.count("invite link") >= 1
    if fault == "429":
        # The bot waited as told instead of hammering the API.
        assert time.monotonic() - started >= 1
    assert len([m for m in await user.messages() if m.from_bot]) == 1


async def test_flood_limit_in_a_private_chat_delays_but_loses_nothing(world):
    await world.emu.set_flood(enabled=True, private_per_second=1.0, private_burst=1.0)
    user = await world.emu.create_user("Wei", language_code="en")
    for _ in range(3):
        await user.send("/help")
    for _ in range(3):
        await user.expect("What I can do", timeout=15)


async def test_redrawing_a_message_unchanged_is_harmless(world, caplog):
    from handlers.callbacks import Month
    from tests.e2e.test_month import SECRETARY, _branch

    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code="en")
    await sec.send("/month")
    listing = await sec.expect("Done ")
    # A button asking for the page already shown (say, from an older copy of the list):
    # the redraw is identical and Telegram answers "message is not modified".
    same_page = Month(org=0, page=0).pack()
    answer = await sec.press_data(same_page, listing.message_id, force=True)
    assert answer.answered and not answer.show_alert
    await sec.send("/help")  # handled after the press: the press's handling has finished
    await sec.expect("What I can do")
    assert not [r for r in caplog.records if r.name == "branchbot.errors"]
