"""Two people, one record (issue 8, item 13): a role change, a record fix, a meeting's
deletion and a recorded grade each name the version they were shown; a stale one is
refused with the record as it is now, and a second tap does nothing twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.models import AuditLog, Evidence, Meeting, Member
from bot.services import meetings
from tests.handlers.conftest import SUPERUSER, user
from tests.handlers.populated import populate
from tests.integration.month_world import NOW, ORGANISER_TG, RUBRIC, SECRETARY_TG, STAFF_TG

STALE = {"zh": "有人已修改", "en": "Someone else changed this in the meantime"}
ALREADY = {"zh": "您之前的点击已做了这项修改", "en": "your earlier tap made this change"}
RECORDED = {"zh": "已经登记过了", "en": "Already recorded"}
GONE = {"zh": "该会议记录已不存在", "en": "That meeting no longer exists"}
CODE = {"zh": "zh-hans", "en": "en"}


async def _get(harness, model, row_id):
    async with harness.app.sessions() as s:
        return await s.get(model, row_id)


async def _count(harness, model, *where) -> int:
    async with harness.app.sessions() as s:
        return await s.scalar(select(func.count()).select_from(model).where(*where))


def _buttons(message) -> dict[str, str]:
    return {b.text: b.callback_data for row in message.reply_markup.inline_keyboard for b in row}


def _button(message, prefix: str) -> str:
    (data,) = [d for d in _buttons(message).values() if d.startswith(prefix)]
    return data


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_role_press_on_an_older_card_is_refused(harness, lang):
    async with harness.app.sessions() as s:
        city = await populate(s)
        await s.commit()
    li = city.world.people["李四"].id
    a, b = user(STAFF_TG, CODE[lang]), user(SUPERUSER, CODE[lang])

    await harness.press(a, f"mc:{li}")  # A is shown 李四's card
    stale = _button(harness.session.sent("EditMessageText")[-1], f"ma:{li}:secretary:")
    stale_status = f"ms:{li}:status:on_leave:{stale.rsplit(':', 1)[1]}"
    await harness.press(b, f"mc:{li}")
    await harness.press(
        b, _button(harness.session.sent("EditMessageText")[-1], f"ma:{li}:organiser:")
    )
    assert (await _get(harness, Member, li)).role == "organiser"
    audit = await _count(harness, AuditLog)

    for pressed in (stale, stale_status):  # a role, and a record fix from the same old card
        harness.session.requests.clear()
        await harness.press(a, pressed)
        (alert,) = harness.alerts()
        assert STALE[lang] in alert, pressed
        now = harness.session.sent("EditMessageText")[-1]
        assert "组织委员" in now.text or "organising member" in now.text  # the card as it is
    stored = await _get(harness, Member, li)
    assert (stored.role, stored.status) == ("organiser", "active")
    assert (await _get(harness, Member, city.world.people["书记"].id)).role == "secretary"
    assert await _count(harness, AuditLog) == audit  # nothing written

    # The card A is shown now works; tapped twice, it acts once and says so.
    fresh = _button(now, f"ma:{li}:secretary:")
    harness.session.requests.clear()
    await harness.press(a, fresh)
    assert (await _get(harness, Member, li)).role == "secretary"
    assert (await _get(harness, Member, city.world.people["书记"].id)).role == "member"
    audit = await _count(harness, AuditLog)
    await harness.press(a, fresh)
    alert = harness.alerts()[-1]
    assert ALREADY[lang] in alert and STALE[lang] not in alert
    assert await _count(harness, AuditLog) == audit


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_typed_record_fix_from_an_older_card_is_refused(harness, lang):
    async with harness.app.sessions() as s:
        city = await populate(s)
        await s.commit()
    wang = city.world.people["王五"].id
    a, b = user(STAFF_TG, CODE[lang]), user(SECRETARY_TG, CODE[lang])
    await harness.press(a, f"mc:{wang}")
    await harness.press(a, _button(harness.session.sent("EditMessageText")[-1], f"ma:{wang}:name:"))
    await harness.press(b, f"mc:{wang}")
    await harness.press(b, _button(harness.session.sent("EditMessageText")[-1], f"ma:{wang}:name:"))
    await harness.text(b, "王五一")
    harness.session.requests.clear()
    await harness.text(a, "王五二")
    (answer,) = harness.session.sent()
    assert STALE[lang] in answer.text and "王五一" in answer.text
    assert (await _get(harness, Member, wang)).name == "王五一"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_deleting_a_meeting_changed_meanwhile_or_twice(harness, lang):
    async with harness.app.sessions() as s:
        city = await populate(s)
        await s.commit()
    sec = user(SECRETARY_TG, CODE[lang])
    await harness.press(sec, f"mt:{city.meeting}:view:0")
    delete = _button(harness.session.sent("EditMessageText")[-1], f"mt:{city.meeting}:delete:")
    await harness.press(sec, delete)
    stale_yes = _button(
        harness.session.sent("EditMessageReplyMarkup")[-1], f"mt:{city.meeting}:delete_yes:"
    )
    assert stale_yes.endswith(":0")

    async with harness.app.sessions() as s:  # the organising member edits it meanwhile
        w = city.world
        organiser = await w.principal(s, ORGANISER_TG)
        draft = w.draft(topic="组织委员改过的主题")
        await meetings.save_meeting(s, RUBRIC, organiser, NOW, draft, city.meeting, version=0)
        await s.commit()

    harness.session.requests.clear()
    await harness.press(sec, stale_yes)
    (alert,) = harness.alerts()
    assert STALE[lang] in alert
    shown = harness.session.sent("EditMessageText")[-1]
    assert "组织委员改过的主题" in shown.text
    assert await _get(harness, Meeting, city.meeting) is not None

    fresh = _button(shown, f"mt:{city.meeting}:delete:")
    await harness.press(sec, fresh)
    yes = _button(
        harness.session.sent("EditMessageReplyMarkup")[-1], f"mt:{city.meeting}:delete_yes:"
    )
    for _tap in range(2):  # a second tap on the same button
        await harness.press(sec, yes)
    alerts = harness.alerts()
    assert GONE[lang] in alerts[-1]
    assert await _get(harness, Meeting, city.meeting) is None
    deleted = AuditLog.entity == "meeting", AuditLog.action == "delete"
    assert await _count(harness, AuditLog, *deleted) == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_grade_given_on_an_older_view_is_refused(harness, lang):
    async with harness.app.sessions() as s:
        city = await populate(s)
        await s.commit()
    org = city.world.branch.id
    a, b = user(STAFF_TG, CODE[lang]), user(SUPERUSER, CODE[lang])
    item = "four_two_procedure"
    await harness.press(a, f"ri:{org}:{item}")  # A is shown the grades: none given yet
    assert "ev:grade:0" in _buttons(harness.session.sent()[-1]).values()
    await harness.press(b, f"ri:{org}:{item}")
    await harness.press(b, "ev:grade:0")  # B gives A
    harness.session.requests.clear()
    await harness.press(a, "ev:grade:2")  # A's C, on the view from before B's grade
    shown = harness.session.sent("EditMessageText")[-1].text
    assert STALE[lang] in shown and "8" in shown  # how it stands: B's A, 8 points
    rows = await _count(harness, Evidence, Evidence.org_id == org, Evidence.key == item)
    assert rows == 1
    assert not [a for a in harness.alerts() if a and ("已保存" in a or "Saved" in a)]

    # B taps the grade again (queued behind the first): recorded once, and told so.
    harness.session.requests.clear()
    await harness.press(b, "ev:grade:0")
    (alert,) = harness.alerts()
    assert RECORDED[lang] in alert
    assert await _count(harness, Evidence, Evidence.org_id == org, Evidence.key == item) == 1
