"""The outbox sender against the emulator: 429, 403 and 5xx (reliability cases 9 and 14)."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from bot.db.models import Outbox, OutboxStatus, Unreachable
from bot.services import members, outbox
from bot.services.outbox import Envelope
from tests.e2e import seeds
from tests.e2e.seeds import ROOT


async def wait_for(check, timeout: float = 15.0):
    """Poll `check()` (async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def enqueue(world, envelopes: list[Envelope]) -> None:
    await world.seed(lambda session, now: outbox.enqueue(session, now, envelopes))


async def rows(world) -> list[Outbox]:
    async with world.app.sessions() as session:
        return list((await session.execute(select(Outbox).order_by(Outbox.id))).scalars())


async def bot_messages(user) -> list:
    return [m for m in await user.messages() if m.from_bot]


async def test_429_pauses_everyone_for_retry_after_then_each_gets_one(world):
    users = [await world.emu.create_user(f"U{i}", language_code="en") for i in range(12)]
    await world.emu.inject_fault("sendMessage", "429", count=1, retry_after=2)
    started = time.monotonic()
    await enqueue(
        world, [Envelope(u.id, f"notice {u.id}", f"t429:{u.id}", "broadcast") for u in users]
    )

    async def everyone_has_one():
        return all([len(await bot_messages(u)) >= 1 for u in users])

    await wait_for(everyone_has_one)
    assert time.monotonic() - started >= 2  # the pause Telegram asked for was kept
    assert world.sender.stats.retry_after == 1
    await world.sender.idle.wait()
    for u in users:
        assert [m.text for m in await bot_messages(u)] == [f"notice {u.id}"]
    assert {r.status for r in await rows(world)} == {OutboxStatus.sent}


async def _branch_with_blocked_member(session, now):
    branch = await seeds.village_branch(session, now, await seeds.city(session, now), 500)
    member = await members.add_member(
        session, ROOT.actor, now, org_id=branch.id, name="王五", category="rural_community"
    )
    await members.link_telegram(session, ROOT.actor, now, member, 501)
    return branch


async def test_403_marks_unreachable_tells_the_secretary_once_and_is_not_retried(world):
    await world.seed(_branch_with_blocked_member)
    secretary = await world.emu.create_user("李书记", user_id=500, language_code="en")
    blocked = await world.emu.create_user("王五", user_id=501, language_code="zh-hans")
    await blocked.block_bot()
    await enqueue(
        world,
        [Envelope(501, "one", "b:1", "broadcast"), Envelope(501, "two", "b:2", "broadcast")],
    )
    # Nobody chose a language yet: the default, Chinese.
    notice = await secretary.expect("无法再联系到 王五")
    assert "屏蔽" in notice.text

    async def settled():
        found = await rows(world)
        busy = {OutboxStatus.pending, OutboxStatus.sending}
        return found if len(found) == 3 and not busy & {r.status for r in found} else None

    found = await wait_for(settled)
    assert [r.status for r in found if r.chat_id == 501] == [OutboxStatus.unreachable] * 2
    assert world.sender.stats.unreachable == 2
    await world.sender.idle.wait()
    assert len(await bot_messages(secretary)) == 1  # told once, not once per message
    async with world.app.sessions() as session:
        assert await session.get(Unreachable, 501) is not None

    # The roster shows it.
    await secretary.send("/roster")
    roster = await secretary.expect("📵")
    assert any("王五" in label and "📵" in label for row in roster.buttons for label in row)

    # They unblock and write: reachable again.
    await blocked.send("/help")
    await blocked.expect("/month")

    async def cleared():
        async with world.app.sessions() as session:
            return await session.get(Unreachable, 501) is None

    await wait_for(cleared)


async def test_5xx_is_retried_later_with_backoff_and_sent_once(world):
    user = await world.emu.create_user("Wei", language_code="en")
    await world.emu.inject_fault("sendMessage", "502", count=1)
    await enqueue(world, [Envelope(user.id, "after a hiccup", "t5xx:1", "broadcast")])

    async def retried():
        found = await rows(world)
        return found if found[0].status == OutboxStatus.pending and found[0].attempts == 1 else None

    row = (await wait_for(retried))[0]
    assert row.not_before > world.app.clock.now()  # backing off, measured on the clock
    assert row.error == "TelegramServerError"
    assert await bot_messages(user) == []
    world.app.clock.advance(seconds=1)
    world.sender.wake()
    await user.expect("after a hiccup")
    await world.sender.idle.wait()
    assert len(await bot_messages(user)) == 1
    assert [r.status for r in await rows(world)] == [OutboxStatus.sent]
