"""Several processes behind one webhook share conversation state and locks through Redis."""

from __future__ import annotations

import os
import socket

import pytest
from redis.asyncio import Redis

from tests.conftest import need
from tests.e2e.test_month import SECRETARY, _branch

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable() -> bool:
    host, port = "127.0.0.1", 6379
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def world_settings() -> dict:
    need(_reachable(), "Redis is not running on 127.0.0.1:6379")
    return {"redis_url": REDIS_URL}


async def test_conversation_state_lives_in_redis(world):
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code="en")
    await sec.send("/month")
    await sec.expect("Done ")
    await sec.press("📝 Log a meeting")
    await sec.expect("Which meeting")
    bot_id = world.server.token.split(":")[0]
    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [k.decode() async for k in redis.scan_iter(f"fsm:{bot_id}:*")]
        states = [await redis.get(k) for k in keys if k.endswith(":state")]
        assert b"LogMeeting:kind" in states
        await sec.press("✖ Cancel")
        await sec.expect("cancelled", edited=True)
        states = [await redis.get(k) for k in keys if k.endswith(":state")]
        assert b"LogMeeting:kind" not in states
    finally:
        async for key in redis.scan_iter(f"fsm:{bot_id}:*"):
            await redis.delete(key)
        await redis.aclose()
