"""Nothing is reported as saved before the database kept it (issue 8, item 2).

The commit is made to fail the way it fails in production: an error raised by the
driver at COMMIT (SQLite and PostgreSQL), and on PostgreSQL the server ending the
connection (`pg_terminate_backend`) just before the commit. The user must be told
"not saved", nothing may be stored, and the draft must still be there to save again.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Meeting
from bot.services import prefs
from tests.e2e.test_month import T, secretary_logging_all

NOT_SAVED = {"zh": "未保存", "en": "Not saved"}


class CommitFault:
    """Make the next `n` commits of any session fail, as chosen by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, engine) -> None:
        self.pending = 0
        self.kill_backend = False
        self.engine = engine
        original = AsyncSession.commit
        fault = self

        async def commit(session: AsyncSession) -> None:
            if fault.pending > 0:
                fault.pending -= 1
                if fault.kill_backend:
                    # The server drops this session's connection between the handler's
                    # writes and its COMMIT, as a failover or an admin would.
                    pid = (await session.execute(text("select pg_backend_pid()"))).scalar()
                    async with fault.engine.connect() as other:
                        await other.execute(text("select pg_terminate_backend(:p)"), {"p": pid})
                        await other.commit()
                else:
                    raise OperationalError("COMMIT", {}, Exception("connection dropped"))
            await original(session)

        monkeypatch.setattr(AsyncSession, "commit", commit)


async def _meetings(session, now) -> int:
    stmt = select(func.count(Meeting.id)).where(Meeting.held_on >= date(2026, 11, 1))
    return (await session.execute(stmt)).scalar_one()


async def _to_summary(world, lang):
    t = T[lang]
    sec = await secretary_logging_all(world, t)
    await sec.press(t["done"])
    await sec.expect(edited=True)
    await sec.send(t["topic"])
    await sec.expect()
    await sec.press(t["skip"])  # notes
    await sec.expect()
    await sec.press(t["done"])  # photos
    return sec, await sec.expect()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_failed_commit_says_not_saved_and_keeps_the_draft(world, monkeypatch, lang):
    t = T[lang]
    sec, summary = await _to_summary(world, lang)
    fault = CommitFault(monkeypatch, world.app.engine)
    fault.pending = 1
    answer = await sec.press("💾 " + t["save"])
    assert answer.show_alert and NOT_SAVED[lang] in answer.text, answer
    assert await world.seed(_meetings) == 0
    # Not a word of success anywhere in the chat.
    assert not [m for m in await sec.messages() if t["saved"] in m.text]
    # The draft survived: the same Save button saves it now.
    await sec.press("💾 " + t["save"], message=summary)
    report = await sec.expect(t["met"])
    assert t["topic"] in report.text or t["tick"] in report.text
    assert await world.seed(_meetings) == 1


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_connection_killed_before_commit_on_postgres(world, monkeypatch):
    t = T["zh"]
    sec, summary = await _to_summary(world, "zh")
    fault = CommitFault(monkeypatch, world.app.engine)
    fault.kill_backend = True
    fault.pending = 1
    answer = await sec.press("💾 " + t["save"])
    assert answer.show_alert and NOT_SAVED["zh"] in answer.text, answer
    assert await world.seed(_meetings) == 0
    await sec.press("💾 " + t["save"], message=summary)
    await sec.expect(t["met"])
    assert await world.seed(_meetings) == 1


async def test_failed_commit_of_a_language_choice_keeps_the_old_one(world, monkeypatch):
    """Another write: choosing a language, whose reply reports the change."""
    sec = await world.emu.create_user("路人", user_id=4242, language_code="en")
    await sec.send("/language")
    await sec.expect()
    fault = CommitFault(monkeypatch, world.app.engine)
    fault.pending = 1
    answer = await sec.press("中文")
    assert answer.show_alert and NOT_SAVED["en"] in answer.text, answer

    async def locale(session, now):
        return await prefs.saved_locale(session, 4242)

    assert await world.seed(locale) == "en"
    # Pressed again with the database back, the choice is kept and confirmed.
    await sec.press("中文")
    await sec.expect("中文", edited=True)
    assert await world.seed(locale) == "zh_Hans"
