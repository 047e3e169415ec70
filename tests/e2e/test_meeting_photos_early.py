"""A photo sent at the meeting log's topic or notes step is one of the meeting's photos,
sent early: kept, said so, and the step still asks for its text (found walking as a
newcomer: it was answered with a hint and the photo was lost)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.models import Meeting, MeetingPhoto
from tests.e2e.test_month import PNG, T, secretary_logging_all

KEPT = {"zh": "照片已保留", "en": "Photo kept for this meeting"}
TOPIC = {"zh": "请用文字输入会议主题", "en": "Type the topic of the meeting"}
CAPTION_NOTES = {"zh": "说明文字作为会议要点", "en": "Its caption is the notes"}
PHOTOS_STEP = {"zh": "（2 张照片）", "en": "(2 photos)"}


async def _saved(session, now):
    query = select(Meeting.topic, Meeting.notes, Meeting.id).where(Meeting.notes.is_not(None))
    meeting = (await session.execute(query)).one()
    photos = await session.scalar(
        select(func.count()).select_from(MeetingPhoto).where(MeetingPhoto.meeting_id == meeting.id)
    )
    return meeting.topic, meeting.notes, photos


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_photo_at_the_topic_or_notes_step_is_kept(world, lang):
    t = T[lang]
    sec = await secretary_logging_all(world, t)
    await sec.press(t["done"])
    await sec.expect(edited=True)  # the topic step
    await sec.send_photo(PNG)
    reply = (await sec.expect()).text
    assert KEPT[lang] in reply and TOPIC[lang] in reply, reply  # kept, and asked again
    await sec.send(t["topic"])
    await sec.expect()  # the notes step
    await sec.send_photo(PNG, caption="学习了全会公报")
    assert CAPTION_NOTES[lang] in (await sec.expect()).text
    # The photo step counts both photos sent early.
    step = await sec.expect()
    done = [b for row in step.buttons for b in row if PHOTOS_STEP[lang] in b]
    assert done, step.describe()
    await sec.press(done[0])
    await sec.expect()
    await sec.press("💾 " + t["save"])
    await sec.expect(t["saved"])
    assert await world.seed(_saved) == (t["topic"], "学习了全会公报", 2)
