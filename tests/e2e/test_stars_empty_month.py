"""A new city's staff and a month nothing was recorded in (found walking a fresh city):
/stars offered to close the month before the city existed, one tap rated every branch
★ at 0 points, and "confirm all" told every secretary at once. Closing such a month
now shows what it would do and waits for an explicit confirmation; "confirm all" asks
first, naming how many; a stale or repeated confirmation is refused, never applied."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.models import Outbox, PeriodSnapshot
from bot.services import orgs
from handlers.callbacks import StarAll
from tests.e2e import seeds

STAFF, SECRETARY = 8101, 5101

T = {
    "zh": {
        "lang": "zh-hans",
        "not_closed": "尚未关账",
        "close": "立即关账 2026-10",
        "warning": "2026-10 没有任何工作记录",
        "count": "将评定的党支部：{n} 个",
        "zero": "0 分、★☆☆☆☆",
        "anyway": "仍然关账 2026-10",
        "cancel": "✖ 取消",
        "already_closed": "2026-10 已关账，不会重复关账",
        "close_changed": "现在有 3 个党支部待关账。本次没有关账",
        "all": "全部按拟评星级确认",
        "ask_all": "共 2 个党支部",
        "empty_all": "拟评星级是按空白月份评定的",
        "sure_all": "✓ 确认 {n} 个",
        "confirmed": "已确认 2 个。",
        "told": "星级已确认",
        "nothing_left": "2026-10 的拟评星级均已确认，不会重复确认",
        "confirm_changed": "现有 {n} 个待确认），本次一个也没有确认",
        "listing": "2026-10 星级评定",
    },
    "en": {
        "lang": "en",
        "not_closed": "has not been closed",
        "close": "Close 2026-10 now",
        "warning": "No work was recorded for 2026-10",
        "count": "Branches to be rated: {n}",
        "zero": "0 points, ★☆☆☆☆",
        "anyway": "Close 2026-10 anyway",
        "cancel": "✖ Cancel",
        "already_closed": "Already done: 2026-10 is closed",
        "close_changed": "3 branches are waiting to be closed now. Nothing was closed",
        "all": "Confirm all proposed",
        "ask_all": "Branches: 2.",
        "empty_all": "their levels rate an empty month",
        "sure_all": "✓ Confirm {n}",
        "confirmed": "Confirmed: 2.",
        "told": "is confirmed",
        "nothing_left": "every proposed star level for 2026-10 is confirmed",
        "confirm_changed": "({n} waiting now), so none was confirmed",
        "listing": "Star levels for 2026-10",
    },
}


async def _new_city(session, now):
    """Set up today (20 November): two branches, nothing recorded yet."""
    city = await seeds.city(session, now, staff=(STAFF, "组织部"))
    await seeds.village_branch(session, now, city, SECRETARY)
    await orgs.create_org(
        session,
        seeds.ROOT.actor,
        now,
        name="阳光社区党支部",
        kind="branch",
        parent_id=city.id,
        domain="community",
    )
    return city.id


async def _third_branch(session, now, city_id):
    await orgs.create_org(
        session,
        seeds.ROOT.actor,
        now,
        name="东风村党支部",
        kind="branch",
        parent_id=city_id,
        domain="village",
    )


async def _state(session, now):
    snapshots = await session.execute(
        select(func.count(), func.count(PeriodSnapshot.confirmed_star)).where(
            PeriodSnapshot.period == "2026-10"
        )
    )
    told = await session.execute(select(func.count()).select_from(Outbox))
    return (*snapshots.one(), told.scalar_one())


async def _confirm_one(session, now):
    snap = (await session.execute(select(PeriodSnapshot).order_by(PeriodSnapshot.id))).scalars()
    first = next(iter(snap))
    first.confirmed_star, first.confirmed_by, first.confirmed_at = 1, STAFF, now
    first.version += 1


async def _people(world, lang):
    t = T[lang]
    staff = await world.emu.create_user("组织部", user_id=STAFF, language_code=t["lang"])
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/help")  # the bot learns the secretary's language
    await sec.expect()
    return staff, sec


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_empty_month_is_closed_and_confirmed_only_when_the_staff_confirm(world, lang):
    t = T[lang]
    await world.seed(_new_city)
    staff, sec = await _people(world, lang)
    await staff.send("/stars 2026-10")
    await staff.expect(t["not_closed"])

    # One tap: a warning saying what closing would do, and nothing written.
    await staff.press(t["close"])
    warning = await staff.expect(t["warning"], edited=True)
    assert t["count"].format(n=2) in warning.text and t["zero"] in warning.text
    assert warning.buttons == [[t["anyway"], t["cancel"]]]
    assert await world.seed(_state) == (0, 0, 0)
    await staff.press(t["cancel"])
    await staff.expect(t["not_closed"], edited=True)
    assert await world.seed(_state) == (0, 0, 0)

    # Confirmed: both branches are rated, and nobody is told yet.
    await staff.press(t["close"])
    warning = await staff.expect(t["warning"], edited=True)
    anyway = warning.button(t["anyway"])["callback_data"]
    await staff.press(t["anyway"])
    listing = await staff.expect(edited=True)
    assert [row[0][:2] for row in listing.buttons[:2]] == ["⏳ ", "⏳ "]
    assert await world.seed(_state) == (2, 0, 0)

    # The same confirmation again (a second tap, or the old message): refused.
    answer = await staff.press_data(anyway, warning.message_id, force=True)
    assert answer.show_alert and t["already_closed"] in answer.text
    assert await world.seed(_state) == (2, 0, 0)

    # "Confirm all" asks first, with the count and the empty month said again.
    await staff.press(t["all"])
    ask = await staff.expect(t["ask_all"], edited=True)
    assert t["empty_all"] in ask.text
    assert ask.buttons == [[t["sure_all"].format(n=2), t["cancel"]]]
    sure = ask.button(t["sure_all"].format(n=2))["callback_data"]
    assert await world.seed(_state) == (2, 0, 0)
    answer = await staff.press(t["sure_all"].format(n=2))
    assert answer.show_alert and t["confirmed"] in answer.text
    await sec.expect(t["told"])
    assert await world.seed(_state) == (2, 2, 1)

    # A second tap of the confirmation confirms nothing and tells nobody again.
    answer = await staff.press_data(sure, ask.message_id, force=True)
    assert answer.show_alert and t["nothing_left"] in answer.text
    assert await world.seed(_state) == (2, 2, 1)

    # All confirmed: the month's list no longer offers "confirm all", which could only be refused.
    await staff.send("/stars 2026-10")
    listing = await staff.expect(t["listing"])
    assert [row[0][:2] for row in listing.buttons] == ["✓ ", "✓ "]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_confirmation_for_what_has_changed_since_is_refused(world, lang):
    t = T[lang]
    city_id = await world.seed(_new_city)
    staff, _sec = await _people(world, lang)
    await staff.send("/stars 2026-10")
    await staff.expect(t["not_closed"])
    await staff.press(t["close"])
    await staff.expect(t["warning"], edited=True)

    # A branch set up meanwhile: the warning named two, three would be rated.
    await world.seed(_third_branch, city_id)
    answer = await staff.press(t["anyway"])
    assert answer.show_alert and t["close_changed"] in answer.text
    assert await world.seed(_state) == (0, 0, 0)
    await staff.expect(t["not_closed"], edited=True)

    await staff.press(t["close"])
    await staff.expect(t["count"].format(n=3), edited=True)
    await staff.press(t["anyway"])
    await staff.expect(edited=True)
    await staff.press(t["all"])
    ask = await staff.expect(edited=True)
    assert ask.buttons[0][0] == t["sure_all"].format(n=3)

    # One of the three confirmed by someone else meanwhile: the step named three.
    await world.seed(_confirm_one)
    answer = await staff.press(t["sure_all"].format(n=3))
    assert answer.show_alert and t["confirm_changed"].format(n=2) in answer.text
    assert await world.seed(_state) == (3, 1, 0)
    listing = await staff.expect(edited=True)  # the month as it is now
    marks = sorted(row[0][:1] for row in listing.buttons[:3])
    assert marks == ["⏳", "⏳", "✓"]


def test_the_confirmation_presses_parse_strictly():
    sure = StarAll(period="2026-10", act="confirm_sure", n=2, last=7).pack()
    assert StarAll.unpack(sure) == StarAll(period="2026-10", act="confirm_sure", n=2, last=7)
    for forged in (
        "sx:2026-10:confirm_sure:+2:7",
        "sx:2026-10:confirm_sure:02:7",
        "sx:2026-10:confirm_sure:2",
        "sx:2026-13:close_sure:2:0",
        "sx:2026-10:close_sure:-1:0",
    ):
        with pytest.raises((ValueError, TypeError)):
            StarAll.unpack(forged)


DASH = {
    "zh": {"hint": "尚无已结算的月份，可用 /stars 进行月度结算。", "zeros": ["0 个支部", "0.0%"]},
    "en": {
        "hint": "No month has been closed yet: close one with /stars.",
        "zeros": ["0 branches", "0.0%"],
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_new_citys_dashboard_says_no_month_is_closed_not_a_page_of_zeros(world, lang):
    await world.seed(_new_city)
    staff, _sec = await _people(world, lang)
    await staff.send("/dashboard")
    board = await staff.expect(DASH[lang]["hint"])
    for zero in DASH[lang]["zeros"]:
        assert zero not in board.text
    assert "2026-10" in board.text and board.buttons == []
