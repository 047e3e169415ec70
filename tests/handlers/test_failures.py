"""The last resort (issue 8, section 2): an unexpected error and a database that is down
are told to the user — a press is still answered — and logged with the update id only."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.middlewares import principal as principal_middleware
from tests.handlers.conftest import SUPERUSER, user

FAILED = {"zh": "操作失败，未保存任何内容", "en": "That failed and nothing was saved"}
SECRET_TEXT = "my-private-words-4711"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_unexpected_error_is_told_and_logged_without_the_body(
    harness, monkeypatch, caplog, lang
):
    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(principal_middleware, "load_principal", broken)
    person = user(SUPERUSER, "zh-hans" if lang == "zh" else "en")
    with caplog.at_level(logging.INFO):
        await harness.text(person, SECRET_TEXT)
        await harness.press(person, "ov:0:0")
    (told,) = harness.texts()
    (alert,) = harness.alerts()
    assert FAILED[lang] in told and FAILED[lang] in alert
    failures = [r for r in caplog.records if r.name == "branchbot.errors"]
    assert len(failures) == 2 and all("update" in r.getMessage() for r in failures)
    assert SECRET_TEXT not in caplog.text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_database_down_still_answers_the_press(harness, monkeypatch, lang):
    async def down(self, *args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is down"))

    monkeypatch.setattr(AsyncSession, "execute", down)
    person = user(SUPERUSER, "zh-hans" if lang == "zh" else "en")
    await harness.press(person, "ov:0:0")
    await harness.text(person, "/orgs")
    (alert,) = harness.alerts()
    (told,) = harness.texts()
    assert FAILED[lang] in alert and FAILED[lang] in told
    monkeypatch.undo()
    harness.session.requests.clear()
    await harness.text(person, "/orgs")  # back up: no manual repair needed
    assert harness.texts() and FAILED[lang] not in harness.texts()[0]
