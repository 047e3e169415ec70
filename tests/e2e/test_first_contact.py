"""A newcomer's first words with the bot, found by walking a fresh city: staff named
from the command line are greeted (not "welcomed back"), and /help's example question
is in the reader's language."""

from __future__ import annotations

import re

import pytest

from tests.e2e import seeds

STAFF = 9101
SECRETARY = 3001

T = {
    "zh": {"lang": "zh-hans", "hello": "您好", "back": "欢迎回来", "ask": "我们支部几颗星"},
    "en": {"lang": "en", "hello": "Hello", "back": "Welcome back", "ask": "what's my star rating"},
}


async def _city(session, now):
    city = await seeds.city(session, now, staff=(STAFF, "镇组织委员"))
    await seeds.village_branch(session, now, city, SECRETARY)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_first_start_of_staff_is_a_greeting(world, lang):
    t = T[lang]
    await world.seed(_city)
    staff = await world.emu.create_user("镇组织委员", user_id=STAFF, language_code=t["lang"])
    await staff.send("/start")
    reply = await staff.expect(t["hello"])
    assert t["back"] not in reply.text
    assert "镇组织委员" in reply.text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_help_example_is_in_the_readers_language(world, lang):
    t = T[lang]
    await world.seed(_city)
    for uid in (SECRETARY, STAFF):
        user = await world.emu.create_user("某人", user_id=uid, language_code=t["lang"])
        await user.send("/help")
        reply = await user.expect("/me")
        (example,) = [line for line in reply.text.splitlines() if t["ask"] in line]
        if lang == "en":
            assert not re.search(r"[\u4e00-\u9fff]", example), example
