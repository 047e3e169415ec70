"""Two secretaries, one meeting (issue 8, item 13): an edit names the version it started
from, and a stale one is refused instead of overwriting the other edit."""

from __future__ import annotations

import pytest

from bot.db.models import Meeting
from bot.services import meetings
from bot.services.errors import ServiceError
from tests.integration import month_world
from tests.integration.month_world import NOW, ORGANISER_TG, RUBRIC, SECRETARY_TG


async def test_stale_meeting_edit_is_refused(session):
    w = await month_world.build(session)
    secretary = await w.principal(session, SECRETARY_TG)
    organiser = await w.principal(session, ORGANISER_TG)
    saved = await meetings.save_meeting(session, RUBRIC, secretary, NOW, w.draft())
    await session.commit()
    meeting_id, shown = saved.meeting.id, saved.meeting.version
    assert shown == 0

    await meetings.save_meeting(
        session,
        RUBRIC,
        organiser,
        NOW,
        w.draft(topic="组织委员改的主题"),
        meeting_id,
        version=shown,
    )
    await session.commit()
    with pytest.raises(ServiceError) as refused:
        await meetings.save_meeting(
            session,
            RUBRIC,
            secretary,
            NOW,
            w.draft(topic="书记改的主题"),
            meeting_id,
            version=shown,
        )
    assert refused.value.code == "record.stale"
    await session.rollback()
    stored = await session.get(Meeting, meeting_id, populate_existing=True)
    assert (stored.topic, stored.version) == ("组织委员改的主题", 1)
