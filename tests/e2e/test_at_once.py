"""Two updates at once through the real bot (issue 8, item 10 and section 2).

- The same Save pressed twice at once stores one meeting (or one education material),
  and both presses get an honest answer: "saved" for the one that saved, "already saved"
  for the one queued behind it.
- A new person's first two updates, in two chats at once (their private chat and a
  group), both get their answer in their language and leave one language row: on
  PostgreSQL both read "no language stored" before either writes (a barrier), the race a
  plain INSERT loses.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.db.models import EducationContent, UserPref
from bot.middlewares import locale as locale_middleware
from tests.e2e.test_month import STAFF, T, _branch
from tests.e2e.test_not_saved import _meetings, _to_summary

ALREADY = {"zh": "已经保存过", "en": "Already saved"}
FAILED = ("That failed", "操作失败", "Not saved", "未保存")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_save_pressed_twice_at_once_stores_one_meeting(world, lang):
    t = T[lang]
    sec, summary = await _to_summary(world, lang)
    button = summary.button("💾 " + t["save"])
    first, second = [
        await sec.press_data(button["callback_data"], summary.message_id, wait_answer=False)
        for _ in range(2)
    ]  # both presses are queued before the bot answers either
    answers = [
        await world.emu.wait_callback_answer(a.callback_query_id, 15.0) for a in (first, second)
    ]
    assert all(a.answered for a in answers), answers
    texts = sorted(a.text or "" for a in answers)
    assert any(ALREADY[lang] in x for x in texts), texts
    assert sum(ALREADY[lang] in x for x in texts) == 1, texts
    assert not any(f in x for x in texts for f in FAILED), texts
    assert await world.seed(_meetings) == 1
    reports = [m for m in await sec.messages() if t["met"] in m.text]
    assert len(reports) == 1  # one report of one saved meeting


HELP = {"zh": "我可以为您做这些", "en": "What I can do for you"}
PRIVATE = {"zh": "请在与我的私聊中查看", "en": "I answer that in our private chat"}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_new_persons_first_updates_in_two_chats_at_once(world, monkeypatch, lang):
    if world.app.engine.dialect.name == "postgresql":
        barrier = asyncio.Barrier(2)
        remember = locale_middleware.remember_locale

        async def racing(session, telegram_id, locale):
            # Both updates have read "no language stored" with the principal; neither
            # writes until the other has read too.
            await asyncio.wait_for(barrier.wait(), 10)
            await remember(session, telegram_id, locale)

        monkeypatch.setattr(locale_middleware, "remember_locale", racing)
    code = "zh-hans" if lang == "zh" else "en"
    newcomer = await world.emu.create_user("Xiao", language_code=code)
    group = await world.emu.create_group("支部群", members=[newcomer])
    await newcomer.send("/help")
    await newcomer.send_in(group, "/help")
    private = await newcomer.expect(HELP[lang])
    in_group = await group.expect(PRIVATE[lang])
    assert not any(f in m.text for m in (private, in_group) for f in FAILED)

    async def stored(session, now):
        rows = await session.execute(
            select(UserPref.locale).where(UserPref.telegram_id == newcomer.id)
        )
        return list(rows.scalars())

    assert await world.seed(stored) == ["zh_Hans" if lang == "zh" else "en"]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_material_save_pressed_twice_at_once_adds_it_once(world, lang):
    kind, domains, village, added, already = {
        "zh": ("党员教育片", "适用于哪些领域", "农村", "已添加", "已经保存过了"),
        "en": ("member education video", "Which domains", "village", "Added for", "Already saved"),
    }[lang]
    await world.seed(_branch)
    staff = await world.emu.create_user("组织部", user_id=STAFF, language_code=T[lang]["lang"])
    await staff.send("/content")
    await staff.expect()
    await staff.press(kind)
    await staff.expect(edited=True)
    await staff.send("《村支书的一天》")
    await staff.expect()
    await staff.send("https://example.org/film")
    await staff.expect(domains)
    await staff.press(village)
    ready = await staff.expect(edited=True)
    data = next(
        b["callback_data"] for row in ready.inline_keyboard for b in row if "💾" in b["text"]
    )
    presses = [await staff.press_data(data, ready.message_id, wait_answer=False) for _ in range(2)]
    answers = [await world.emu.wait_callback_answer(p.callback_query_id, 15.0) for p in presses]
    assert all(a.answered for a in answers)
    assert sum(already in (a.text or "") for a in answers) == 1, answers
    await staff.expect(added, edited=True)

    async def materials(session, now):
        return (
            await session.execute(select(func.count()).select_from(EducationContent))
        ).scalar_one()

    assert await world.seed(materials) == 1
