"""After a restart mid-conversation (in-memory state lost) nothing goes unanswered
(issue 8, item 12): text meant for a step that no longer exists gets a helpful answer,
a photo too, and a button of the lost conversation says it has expired."""

from __future__ import annotations

import pytest

from tests.e2e.test_month import PNG, T, secretary_logging_all

EXPIRED = {"zh": "此按钮已失效", "en": "This button has expired"}
FAILED = ("That failed", "操作失败")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_text_into_a_lost_conversation_is_answered(world, lang):
    t = T[lang]
    sec = await secretary_logging_all(world, t)
    await sec.press(t["done"])
    await sec.expect(edited=True)  # the log now waits for the topic

    # The restart: a process with MemoryStorage comes back with no conversations.
    world.app.dispatcher.fsm.storage.storage.clear()

    await sec.send(t["topic"])
    first = await sec.expect()
    assert first.text.strip() and not any(f in first.text for f in FAILED)
    await sec.send_photo(PNG)
    second = await sec.expect()
    assert second.text.strip() and not any(f in second.text for f in FAILED)
    answer = await sec.press(t["cancel"])
    assert answer.show_alert and EXPIRED[lang] in answer.text
    await sec.send("/month")
    await sec.expect(t["progress"])
