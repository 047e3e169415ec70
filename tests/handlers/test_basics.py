"""Handlers against the recording session: replies, languages, refusals, forged buttons."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.db.models import AuditLog, ProcessedUpdate
from tests.handlers.conftest import SUPERUSER, user


async def test_unknown_user_gets_introduction_in_their_language(harness):
    await harness.text(user(5, "zh-TW"), "/start")
    await harness.text(user(6, "en-GB"), "/start")
    zh, en = harness.texts()
    assert "邀请链接" in zh and "branchbot" in zh
    assert "invite link" in en


async def test_forged_and_random_callback_data_is_refused(harness):
    for data in ("jk:1:99999", "\x00\xff garbage", "dc:5:1", "ov:notanumber:0"):
        await harness.press(user(5), data)
    alerts = harness.alerts()
    assert len(alerts) == 4 and all(a for a in alerts)
    async with harness.app.sessions() as s:
        assert (await s.execute(select(func.count(AuditLog.id)))).scalar_one() == 0


async def test_same_update_twice_is_handled_once(harness):
    from datetime import UTC, datetime

    from aiogram.types import Chat, Message, Update

    message = Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=Chat(id=5, type="private"),
        from_user=user(5),
        text="/start",
    )
    update = Update(update_id=4242, message=message)
    await harness.feed(update)
    await harness.feed(update)
    assert len(harness.texts()) == 1
    async with harness.app.sessions() as s:
        n = (await s.execute(select(func.count()).select_from(ProcessedUpdate))).scalar_one()
    assert n == 1


async def test_staff_only_commands_are_refused_to_others(harness):
    await harness.text(user(5, "en"), "/orgs")
    assert harness.texts() == ["You are not allowed to do that."]


async def test_superuser_sees_empty_tree_hint(harness):
    await harness.text(user(SUPERUSER, "en"), "/orgs")
    assert "branchbot org add" in harness.texts()[0]


async def test_language_choice_is_saved(harness):
    await harness.press(user(5, "en"), "lg:zh_Hans")
    await harness.text(user(5, "en"), "/help")
    assert harness.texts()[-1].startswith("我可以为您做这些")
