"""Never silent (issue 8, item 15): in every conversation step, a photo, a sticker or a
command the step does not know gets a hint that matches the step; an old button of
someone whose role was taken away says so."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Chat, Message, PhotoSize, Sticker, Update

from bot.services import members
from handlers.states import (
    AddContent,
    AdjustStar,
    AnnounceMeeting,
    EditMember,
    Join,
    LogMeeting,
    MeetingReason,
    NewOrg,
    RecordEvidence,
    RsvpReason,
)
from tests.handlers.conftest import BOT_ID, user
from tests.handlers.populated import populate
from tests.integration.month_world import NOW, ROOT, SECRETARY_TG

# The step, and a word of its hint in each language: the hint must name what is expected.
STEPS = [
    (LogMeeting.topic, "主题", "topic"),
    (LogMeeting.where, "地点", "place"),
    (LogMeeting.notes, "要点", "notes"),
    (LogMeeting.photos, "照片", "photo"),
    (LogMeeting.attendees, "到会", "present"),
    (AdjustStar.reason, "调整理由", "reason for the adjustment"),
    (MeetingReason.reason, "删除", "deleting"),
    (RsvpReason.reason, "原因", "reason"),
    (Join.search, "姓名", "name"),
    (Join.name, "姓名", "name"),
    (NewOrg.name, "名称", "name of the new unit"),
    (EditMember.value, "新的内容", "new value"),
    (AnnounceMeeting.details, "时间和地点", "time and place"),
    (AnnounceMeeting.topic, "会议主题", "topic"),
    (RecordEvidence.count, "数字", "number"),
    (RecordEvidence.note, "简要说明", "short note"),
    (RecordEvidence.file, "照片或文件", "photo or a document"),
    (AddContent.title, "标题", "title"),
    (AddContent.source, "链接", "link"),
]
UID = 4242
# A photo is what these steps take; the count and note steps of a recording keep one
# sent early as its proof (tests/e2e/test_hostile_steps.py).
TAKES_PHOTOS = (
    LogMeeting.photos,
    RecordEvidence.count,
    RecordEvidence.note,
    RecordEvidence.file,
    AddContent.source,
)


def _message(n: int, kind: str) -> Message:
    extra: dict = {}
    if kind == "photo":
        extra["photo"] = [PhotoSize(file_id="p", file_unique_id="p", width=1, height=1)]
    elif kind == "sticker":
        extra["sticker"] = Sticker(
            file_id="s",
            file_unique_id="s",
            type="regular",
            width=1,
            height=1,
            is_animated=False,
            is_video=False,
        )
    else:
        extra["text"] = "/frobnicate"
    return Message(
        message_id=n,
        date=datetime.now(UTC),
        chat=Chat(id=UID, type="private"),
        from_user=user(UID, "x"),
        **extra,
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_step_hints_at_what_it_expects(harness, lang):
    person = user(UID, "zh-hans" if lang == "zh" else "en")
    storage = harness.app.dispatcher.fsm.storage
    key = StorageKey(bot_id=BOT_ID, chat_id=UID, user_id=UID)
    n = 0
    for step, zh, en in STEPS:
        for kind in ("photo", "sticker", "command"):
            if step in TAKES_PHOTOS and kind == "photo":
                continue
            await storage.set_state(key, step)
            await storage.set_data(key, {"draft": {}, "org_id": 1, "item": "x"})
            harness.session.requests.clear()
            n += 1
            message = _message(n, kind).model_copy(update={"from_user": person})
            await harness.feed(Update(update_id=10_000 + n, message=message))
            texts = [t for t in harness.texts() if t]
            wanted = zh if lang == "zh" else en
            assert len(texts) == 1 and wanted in texts[0], (step.state, kind, texts)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_old_button_after_the_role_was_taken_says_so(harness, lang):
    async with harness.app.sessions() as s:
        city = await populate(s)
        secretary = city.world.people["书记"]
        await members.set_role(s, ROOT.actor, NOW, city.world.people["张三"], "secretary")
        await s.commit()
    former = user(SECRETARY_TG, "zh-hans" if lang == "zh" else "en")
    assert secretary.telegram_id == SECRETARY_TG
    for data in (f"nm:{city.world.branch.id}:general", f"oa:{city.world.branch.id}:invite"):
        harness.session.requests.clear()
        await harness.press(former, data)
        (alert,) = harness.alerts()
        wanted = "职务已有变动" if lang == "zh" else "Your role has changed"
        assert wanted in alert, (data, alert)
