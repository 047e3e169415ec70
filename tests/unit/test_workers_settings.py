"""`branchbot run --workers N` says what is missing instead of starting a broken deployment."""

from __future__ import annotations

from bot.config import load_settings
from bot.workers import problems

PG = "postgresql+asyncpg://u@127.0.0.1/db"
HOOK = {"webhook_url": "https://bot.example.org", "webhook_secret": "s3cret-value"}


def test_one_process_needs_nothing_more():
    assert problems(load_settings(bot_token="1:x"), 1) == []


def test_workers_need_a_webhook_redis_and_postgresql():
    polling = problems(load_settings(bot_token="1:x", database_url=PG, redis_url="redis://r"), 2)
    assert len(polling) == 1 and "long polling is one process" in polling[0]
    no_redis = problems(load_settings(bot_token="1:x", database_url=PG, **HOOK), 2)
    assert len(no_redis) == 1 and "REDIS_URL" in no_redis[0]
    lite = "sqlite+aiosqlite:///x.db"
    sqlite = problems(
        load_settings(bot_token="1:x", database_url=lite, redis_url="redis://r", **HOOK), 3
    )
    assert len(sqlite) == 1 and "PostgreSQL" in sqlite[0]
    ok = load_settings(bot_token="1:x", database_url=PG, redis_url="redis://r", **HOOK)
    assert problems(ok, 4) == []
