"""No user input ends in a traceback (issue 8, item 7): forged ids beyond the database's
integers, non-canonical numbers, presses on messages Telegram no longer lets the bot
touch, messages with nobody behind them. Each gets an answer, none the error handler's.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import UTC, datetime

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Chat, InaccessibleMessage, Message, Update
from sqlalchemy import func, select

import handlers
from bot.db.models import load_all
from handlers import callbacks
from handlers.callbacks import Press
from tests.handlers.conftest import SUPERUSER, user

EXPIRED = {"zh": "此按钮已失效", "en": "This button has expired"}
FAILED = ("That failed", "操作失败")
BEYOND = (2**31, 2**31 + 7, 2**63 - 1, 2**63, 10**30)


async def _row_counts(harness) -> dict[str, int]:
    async with harness.app.sessions() as s:
        return {
            t.name: (await s.execute(select(func.count()).select_from(t))).scalar_one()
            for t in load_all().sorted_tables
            if t.name != "processed_update"
        }


def _forged() -> list[str]:
    """Every id-carrying button of the bot, pointed past the database's integers."""
    out = []
    for big in BEYOND:
        out += [
            f"mc:{big}",
            f"ma:{big}:secretary:0",
            f"ms:{big}:status:left:0",
            f"ov:{big}:0",
            f"oa:{big}:invite",
            f"rp:{big}:0",
            f"jp:{big}",
            f"jk:{big}",
            f"ja:{big}",
            f"dc:{big}:1",
            f"mt:{big}:view:0",
            f"mt:{big}:delete_yes:0",
            f"ml:{big}:0",
            f"rv:{big}:1",
            f"sa:{big}:ok:0",
            f"sa:{big}:set:2",
            f"mo:{big}:0",
            f"iv:{big}:x",
            f"nm:{big}:general",
            f"ri:{big}:x",
            f"ov:1:{big}",
        ]
    # Numbers no button of ours would write: signs, spaces, zeros, other scripts.
    out += ["mc:+1", "mc: 1", "mc:01", "mc:1_0", "mc:²", "mc:١", "mc:１", "rv:1:true", "mc:-1"]
    out += ["cl:nav:2026:13:0", "cl:nav:99999:1:0", "cl:pick:2026:0:1", "sl:2026-13:0"]
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_ids_past_the_database_integers_get_the_expired_alert(harness, lang):
    staff = user(SUPERUSER, "zh-hans" if lang == "zh" else "en")
    await harness.text(staff, "/help")  # remembers the language: the one legitimate write
    before = await _row_counts(harness)
    presses = _forged()
    for data in presses:
        await harness.press(staff, data)
    alerts = harness.alerts()
    assert len(alerts) == len(presses)
    assert not any(f in t for t in harness.texts() for f in FAILED)
    wrong = [(d, a) for d, a in zip(presses, alerts, strict=True) if EXPIRED[lang] not in a]
    assert not wrong
    assert await _row_counts(harness) == before


async def test_every_button_class_parses_through_press():
    """A helper adding a button class gets the strict parsing only by deriving from Press."""
    for module in pkgutil.iter_modules(handlers.__path__):
        importlib.import_module(f"handlers.{module.name}")
    classes = [c for c in _subclasses(CallbackData) if c.__module__.startswith("handlers")]
    assert classes and all(issubclass(c, Press) for c in classes), [
        c for c in classes if not issubclass(c, Press)
    ]
    with pytest.raises(TypeError, match="bounded type"):

        class Loose(Press, prefix="zz"):
            member: int


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_canonical_form_round_trips():
    assert callbacks.MemberCard.unpack("mc:5").member == 5
    assert callbacks.Rsvp.unpack("rv:5:0").coming is False
    for bad in ("mc:05", "mc:5:", "mc:", "mc:2147483648", "rv:5:2", "mc:5\x00"):
        with pytest.raises((TypeError, ValueError)):
            (callbacks.Rsvp if bad.startswith("rv") else callbacks.MemberCard).unpack(bad)
    assert inspect.isclass(callbacks.Press)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_press_on_an_inaccessible_message_is_answered(harness, lang):
    person = user(SUPERUSER, "zh-hans" if lang == "zh" else "en")
    for data in ("ov:0:0", "mo:0:0", "lg:en", "no"):
        old = InaccessibleMessage(chat=Chat(id=SUPERUSER, type="private"), message_id=3)
        query = CallbackQuery(id=data, from_user=person, chat_instance="1", message=old, data=data)
        await harness.feed(Update(update_id=harness._next(), callback_query=query))
        inline = CallbackQuery(
            id=data + "i", from_user=person, chat_instance="1", inline_message_id="x", data=data
        )
        await harness.feed(Update(update_id=harness._next(), callback_query=inline))
    alerts = harness.alerts()
    assert len(alerts) == 8 and all(EXPIRED[lang] in a for a in alerts)
    assert not any(f in t for t in harness.texts() for f in FAILED)


async def test_message_with_nobody_behind_it_gets_a_hint_not_a_traceback(harness):
    chat = Chat(id=-100500, type="supergroup", title="支部群")
    for n, sender in enumerate((None, user(1087968824, "en", "Group"))):
        message = Message(
            message_id=n + 1,
            date=datetime.now(UTC),
            chat=chat,
            from_user=sender,
            sender_chat=chat if sender else None,
            text="/month",
        )
        await harness.feed(Update(update_id=harness._next(), message=message))
    texts = harness.texts()
    assert len(texts) == 2 and not any(f in t for t in texts for f in FAILED)
    assert all("匿名" in t or "anonymous" in t for t in texts)
