"""Fuzzing (issue 8, section 3): random but well-formed Telegram updates through the real
Dispatcher, against a populated city, from people who may write nothing there.

Updates: messages, edited messages and channel posts with random text (control,
zero-width, right-to-left and astral characters, commands), messages without a sender,
random chat types, and presses with random callback data up to 64 bytes (random bytes,
and every button prefix of the bot with random numbers). Invariants: no update reaches
the error handler, every press is answered, and nothing of the first branch — where none
of these people may write — changes (they may write in their own branch: linking a
group to it, say).

`FUZZ_EXAMPLES` sets the number of examples (default 25: under a minute per database in CI).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

import pytest
from aiogram.types import CallbackQuery, Chat, Message, Update, User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.handlers.populated import OTHER_MEMBER_TG, branch_rows, populate
from tests.integration.month_world import OTHER_SECRETARY_TG

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
PREFIXES = (
    "lg jp jk jn ja dc ov oa nk nd rp mc ma ms no mo iv lm at mt ml rv an sl sa sx ev ct nm ri "
    "cl ak db rb ch xl"
).split()
COMMANDS = (
    "/start /help /me /month /roster /invite /announce /stars /orgs /content /cancel /language "
    "/linkgroup /rating /tasks /mygrade /start abc /stars 2026-13 /stars 9999-01"
).split(" ")
ODD = "\x00\x07\x1b\u200b\u200c\u200d\u2060\ufeff\u202e\u202d\u2066\u061c\u0627\u05d0😀𝟘\U0010ffff"

texts = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(ODD), max_size=80),
    st.sampled_from(COMMANDS),
    st.builds(lambda c, t: f"{c} {t}", st.sampled_from(COMMANDS), st.text(max_size=20)),
    st.sampled_from(["２", "²", "١٢", "18/20", "１８／２０", "99999999999999999999", "-1", "1e9"]),
)
numbers = st.one_of(
    st.integers(min_value=-5, max_value=40),
    st.sampled_from([2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30]),
)
callback_data = st.one_of(
    st.binary(min_size=1, max_size=64).map(lambda b: b.decode("utf-8", "replace")),
    st.builds(
        lambda p, parts: ":".join([p, *parts]),
        st.sampled_from(PREFIXES),
        st.lists(
            st.one_of(numbers.map(str), st.sampled_from(["ok", "set", "view", "t", "", "1"])),
            max_size=4,
        ),
    ),
).filter(lambda d: 0 < len(d.encode()) <= 64)
people = st.builds(
    lambda uid, lang: User(id=uid, is_bot=False, first_name="x", language_code=lang),
    st.sampled_from([OTHER_MEMBER_TG, OTHER_SECRETARY_TG, 5001, 5002, 9_000_000_000]),
    st.sampled_from([None, "", "en", "zh-hans", "zh-TW", "fr", "xx-YY"]),
)
chats = st.sampled_from(["private", "group", "supergroup", "channel"])


@st.composite
def updates(draw):
    kind = draw(st.sampled_from(["message", "edited_message", "channel_post", "callback", "anon"]))
    person = draw(people)
    chat_type = draw(chats)
    chat_id = person.id if chat_type == "private" else -100123
    chat = Chat(id=chat_id, type=chat_type, title=None if chat_type == "private" else "群")
    now = datetime(2026, 7, 15, 2, tzinfo=UTC)
    text = draw(texts)
    if kind == "callback":
        message = Message(message_id=draw(st.integers(1, 50)), date=now, chat=chat, text="…")
        query = CallbackQuery(
            id=str(draw(st.integers(1, 10**9))),
            from_user=person,
            chat_instance="1",
            message=message,
            data=draw(callback_data),
        )
        return "callback_query", query
    sender = None if kind in ("anon", "channel_post") else person
    message = Message(message_id=draw(st.integers(1, 50)), date=now, chat=chat, from_user=sender)
    message = message.model_copy(update={"text": text} if text else {})
    return ("message" if kind == "anon" else kind), message


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


@pytest.fixture
def failures():
    handler = Failures()
    logger = logging.getLogger("branchbot.errors")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@settings(
    max_examples=EXAMPLES,
    # Reproducible in CI; a longer run (FUZZ_EXAMPLES set) explores new examples each time.
    derandomize="FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(updates(), min_size=1, max_size=4))
async def test_random_updates_break_nothing_and_write_nothing(harness, failures, batch):
    if not getattr(harness, "city", None):
        async with harness.app.sessions() as s:
            harness.city = await populate(s)
            await s.commit()
    victim = harness.city.world.branch.id
    async with harness.app.sessions() as s:
        before = await branch_rows(s, victim)
    for field, event in batch:
        harness.session.requests.clear()
        await harness.feed(Update(update_id=harness._next(), **{field: event}))
        assert not failures.records, (field, event, failures.records)
        if field == "callback_query":
            answered = [
                r
                for r in harness.session.sent("AnswerCallbackQuery")
                if r.callback_query_id == event.id
            ]
            assert answered, event.data
    async with harness.app.sessions() as s:
        assert await branch_rows(s, victim) == before  # none of them may write there
