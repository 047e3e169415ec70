"""An RSVP press redraws the notice with the counts as they are after it (PostgreSQL
reads them in the answer's own statement, SQLite after it)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram.types import CallbackQuery, Chat, Message, Update, User

from tests.handlers.conftest import BOT_ID, user
from tests.handlers.populated import GROUP, populate
from tests.integration.month_world import MEMBER_TG, ORGANISER_TG, SECRETARY_TG


async def _press(harness, who: User, data: str) -> None:
    harness._update_id += 1
    message = Message(
        message_id=42,
        date=datetime.now(UTC),
        chat=Chat(id=GROUP, type="supergroup"),
        from_user=User(id=BOT_ID, is_bot=True, first_name="branchbot"),
        text="…",
    )
    query = CallbackQuery(
        id=str(harness._update_id), from_user=who, chat_instance="1", message=message, data=data
    )
    await harness.feed(Update(update_id=harness._update_id, callback_query=query))


async def test_each_press_shows_the_counts_after_it(harness):
    async with harness.app.sessions() as s:
        notice = (await populate(s)).notice
        await s.commit()
    shown = []
    for tg, coming in ((MEMBER_TG, 1), (SECRETARY_TG, 1), (ORGANISER_TG, 0), (MEMBER_TG, 0)):
        harness.session.requests.clear()
        await _press(harness, user(tg, "en"), f"rv:{notice}:{coming}")
        (edit,) = harness.session.sent("EditMessageText")
        shown.append(edit.text.splitlines()[-1])
    assert shown == [  # in the group's language
        "🙋 1 人参加 · 🙅 0 人不能参加",
        "🙋 2 人参加 · 🙅 0 人不能参加",
        "🙋 2 人参加 · 🙅 1 人不能参加",
        "🙋 1 人参加 · 🙅 2 人不能参加",
    ]
    # The same answer again changes nothing, and the notice is left as it is.
    harness.session.requests.clear()
    await _press(harness, user(MEMBER_TG, "en"), f"rv:{notice}:0")
    assert harness.session.sent("EditMessageText") == []
