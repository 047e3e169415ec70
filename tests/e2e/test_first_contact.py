"""A newcomer's first words with the bot, found by walking a fresh city: staff named
from the command line are greeted (not "welcomed back"), and /help's example question
is in the reader's language; an older closed month is not called "last month"."""

from __future__ import annotations

import re

import pytest

from bot.services import periods
from scoring import load_fortress_rubric
from tests.e2e import seeds

STAFF = 9101
SECRETARY = 3001

T = {
    "zh": {
        "lang": "zh-hans",
        "hello": "您好",
        "back": "欢迎回来",
        "ask": "我们支部几颗星",
        "next": "怎么才能升星",
    },
    "en": {
        "lang": "en",
        "hello": "Hello",
        "back": "Welcome back",
        "ask": "what's my star rating",
        "next": "how do we get the next star",
    },
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


GAP = {
    "zh": {"q": "我们支部几星了？", "last": "最近结账月份（2026-09）", "since": "较 2026-09"},
    "en": {
        "q": "what's my star rating",
        "last": "Last closed month (2026-09)",
        "since": "Since 2026-09",
    },
}


async def _closed_two_months_ago(session, now):
    city = await seeds.city(session, now)
    await seeds.village_branch(session, now, city, SECRETARY)
    await periods.close_period(session, load_fortress_rubric(), now, "2026-09")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_older_closed_month_is_not_called_last_month(world, lang):
    """It is 2026-11 and 2026-10 was never closed: 2026-09 is not "last month"."""
    t, g = T[lang], GAP[lang]
    await world.seed(_closed_two_months_ago)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send(g["q"])
    got = await sec.expect("2026-09")
    assert g["last"] in got.text and g["since"] in got.text
    assert "上月" not in got.text and "Last month" not in got.text


BACK = {
    "zh": {"roster": "👥 名册", "up": "⬆ 上一级", "card": "所属领域", "list": "党员名册"},
    "en": {"roster": "👥 Roster", "up": "⬆ Up", "card": "Domain", "list": "Roster of"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_staff_can_go_back_from_a_branch_roster(world, lang):
    """The roster opened from a branch's card in /orgs leads back to it; a secretary's
    own /roster has nowhere above to go."""
    t, b = T[lang], BACK[lang]
    await world.seed(_city)
    staff = await world.emu.create_user("镇组织委员", user_id=STAFF, language_code=t["lang"])
    await staff.send("/orgs")
    await staff.expect()
    await staff.press("冷水江市委")
    await staff.expect(edited=True)
    await staff.press("红旗村党支部")
    await staff.expect(b["card"], edited=True)
    await staff.press(b["roster"])
    await staff.expect(b["list"], edited=True)
    await staff.press(b["up"])
    await staff.expect(b["card"], edited=True)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/roster")
    got = await sec.expect(b["list"])
    assert not got.has_button(b["up"])


UNKNOWN = {
    "zh": {"q": "今天天气怎么样", "cant": "没听懂您的意思", "example": "我们支部几颗星"},
    "en": {"q": "the weather is nice", "cant": "did not catch that", "example": "star rating?"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_not_understood_reads_in_the_readers_language(world, lang):
    """The fallback's example question is in the reader's language, and Chinese
    addresses the reader as 您 like every other message."""
    t, u = T[lang], UNKNOWN[lang]
    await world.seed(_city)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send(u["q"])
    got = await sec.expect(u["cant"])
    assert u["example"] in got.text
    if lang == "en":
        assert not re.search(r"[\u4e00-\u9fff]", got.text), got.text
    else:
        assert "你" not in got.text


CARD = {
    "zh": {"make_sec": "设为支部书记", "make_org": "设为组织委员", "card": "所属领域"},
    "en": {"make_sec": "Make secretary", "make_org": "Make organising member", "card": "Domain"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_secretarys_card_does_not_offer_making_them_secretary(world, lang):
    t, c = T[lang], CARD[lang]
    await world.seed(_city)
    staff = await world.emu.create_user("镇组织委员", user_id=STAFF, language_code=t["lang"])
    await staff.send("/orgs")
    await staff.expect()
    await staff.press("冷水江市委")
    await staff.expect(edited=True)
    await staff.press("红旗村党支部")
    await staff.expect(c["card"], edited=True)
    await staff.press(BACK[lang]["roster"])
    await staff.expect(BACK[lang]["list"], edited=True)
    await staff.press("李书记")
    card = await staff.expect("李书记", edited=True)
    assert not card.has_button(c["make_sec"]) and card.has_button(c["make_org"])


FRESH = {
    "zh": {
        "q": "/month",
        "says": "其余取决于上级党组织评定的事项：",
        "items": ["发展壮大村级集体经济（最多 +8 分）", "工作台账规范（最多 +3 分）"],
        "most": "最多可使总分达到 55 分，★★☆☆☆ 需要 60 分",
        "not": "本月已无法再升一星",
    },
    "en": {
        "q": "/month",
        "says": "The rest depends on items your superior organisation grades:",
        "items": [
            "Growing the village collective economy (up to +8)",
            "Ledger kept properly (up to +3)",
        ],
        "most": "brings it to 55 points at most; ★★☆☆☆ needs 60",
        "not": "cannot be reached this month",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_new_branch_is_not_told_the_next_star_is_out_of_reach(world, lang):
    """A branch with nothing recorded yet: what it can record itself falls short of two
    stars, and the answer names the items the superior grades that decide the rest (it
    is not told to give up, nor left guessing which items those are)."""
    t, f = T[lang], FRESH[lang]
    await world.seed(_city)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    for question in (f["q"], t["next"]):
        await sec.send(question)
        got = await sec.expect(f["says"])
        assert f["most"] in got.text and f["not"] not in got.text
        for item in f["items"]:
            assert item in got.text
