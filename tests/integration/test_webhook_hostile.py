"""Bodies no Telegram would send are refused with 400, never a 500 (issue 8, item 7)."""

from __future__ import annotations

import pytest

from bot.db.models import ProcessedUpdate
from tests.integration.test_webhook import HEADER, SECRET, hook  # noqa: F401 - the fixture


def _message(update_id: int) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "x"},
            "text": "/help",
        },
    }


@pytest.mark.parametrize("update_id", [2**63, 10**40, -1])
async def test_update_id_beyond_bigint_is_refused(hook, update_id):  # noqa: F811
    assert await hook.post(_message(update_id)) == 400
    await hook.settle()
    assert await hook.count(ProcessedUpdate) == 0


async def test_deeply_nested_json_is_refused(hook):  # noqa: F811
    body = '{"update_id": 1, "message": ' + "[" * 100_000 + "]" * 100_000 + "}"
    headers = {HEADER: SECRET, "Content-Type": "application/json"}
    async with hook.http.post(hook.path, data=body, headers=headers) as resp:
        assert resp.status == 400
    async with hook.http.post(hook.path, data="{" * 50_000, headers=headers) as resp:
        assert resp.status == 400
    assert await hook.count(ProcessedUpdate) == 0


async def test_largest_update_id_is_still_handled(hook):  # noqa: F811
    assert await hook.post(_message(2**63 - 1)) == 200
    await hook.settle()
    assert await hook.count(ProcessedUpdate) == 1
