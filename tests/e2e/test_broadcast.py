"""/broadcast by the superior's staff, and /notifications, in Chinese and English."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.app import job_context
from bot.db.models import Broadcast, NotificationPref, Staff
from bot.scheduler.reports import report_finished
from bot.services import members, orgs
from tests.e2e.seeds import ROOT

STAFF = 800
TOWN_MEMBERS = (510, 511, 512)  # secretary, then two members, of a branch under the town
OTHER_MEMBER = 520  # a branch straight under the city: not in the town's part

T = {
    "zh": {
        "lang": "zh-hans",
        "new": "新通知",
        "all_town": "发给沙塘镇党委全体",
        "who": "目前共 3 人",
        "next": "下一步",
        "type": "请输入通知内容",
        "preview": "共 3 人",
        "send": "发送",
        "queued": "已排队发送给 3 人",
        "heading": "沙塘镇党委通知",
        "progress": "发送进度",
        "counts": "已发送 3",
        "final": "3 人中 3 人已收到",
        "reminders": "提醒设置",
        "off": "已关闭",
        "due": "事项即将到期",
    },
    "en": {
        "lang": "en",
        "new": "New announcement",
        "all_town": "Everyone in 沙塘镇党委",
        "who": "That is 3 people now",
        "next": "Next",
        "type": "Type the announcement",
        "preview": "3 people",
        "send": "Send",
        "queued": "Queued for 3 people",
        "heading": "Announcement from 沙塘镇党委",
        "progress": "Progress",
        "counts": "3 sent",
        "final": "3 of 3 received it",
        "reminders": "Reminders",
        "off": "Turned off",
        "due": "Due dates coming up",
    },
}


async def _city(session, now):
    city = await orgs.create_org(session, ROOT.actor, now, name="冷水江市委", kind="committee")
    session.add(Staff(org_id=city.id, telegram_id=STAFF, name="周组织", created_at=now))
    town = await orgs.create_org(
        session, ROOT.actor, now, name="沙塘镇党委", kind="committee", parent_id=city.id
    )
    for parent, name, ids in (
        (town, "红旗村党支部", TOWN_MEMBERS),
        (city, "市直机关党支部", (OTHER_MEMBER,)),
    ):
        branch = await orgs.create_org(
            session,
            ROOT.actor,
            now,
            name=name,
            kind="branch",
            parent_id=parent.id,
            domain="village",
        )
        for i, tg in enumerate(ids):
            m = await members.add_member(
                session, ROOT.actor, now, org_id=branch.id, name=f"党员{tg}", category="agency"
            )
            if i == 0:
                await members.set_role(session, ROOT.actor, now, m, "secretary")
            await members.link_telegram(session, ROOT.actor, now, m, tg)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_staff_announce_to_part_of_their_subtree(world, lang):
    t = T[lang]
    await world.seed(_city)
    staff = await world.emu.create_user("周组织", user_id=STAFF, language_code=t["lang"])
    town = [await world.emu.create_user(f"党员{i}", user_id=i) for i in TOWN_MEMBERS]
    other = await world.emu.create_user("党员520", user_id=OTHER_MEMBER)

    await staff.send("/broadcast")
    await staff.expect(t["new"])
    await staff.press("📂 沙塘镇党委")
    view = await staff.expect("沙塘镇党委", edited=True)
    assert view.has_button("📢 " + t["all_town"])
    await staff.press("📢 " + t["all_town"])
    await staff.expect(t["who"], edited=True)
    await staff.press("➡ " + t["next"])
    await staff.expect(t["type"], edited=True)
    await staff.send("本周五下午3点召开全体党员大会 <请准时>")
    preview = await staff.expect(t["preview"])
    assert "&lt;请准时&gt;" not in preview.text and "<请准时>" in preview.text
    await staff.press("📤 " + t["send"])
    await staff.expect(t["queued"], edited=True)

    for user in town:
        got = await user.expect("全体党员大会")
        assert "<请准时>" in got.text  # their words, shown as typed (escaped for HTML)
    await world.sender.idle.wait()
    assert [m for m in await other.messages() if m.from_bot] == []

    await staff.press("🔄 " + t["progress"])
    await staff.expect(t["counts"], edited=True)

    await report_finished(job_context(world.app))
    await staff.expect(t["final"])
    await report_finished(job_context(world.app))  # once only
    await world.sender.idle.wait()
    assert len([m for m in await staff.messages() if t["final"] in m.text]) == 1


async def test_broadcast_is_staff_only(world):
    user = await world.emu.create_user("路人", language_code="en")
    await user.send("/broadcast")
    await user.expect("not allowed")


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_notifications_mute_an_optional_reminder(world, lang):
    t = T[lang]
    user = await world.emu.create_user("党员", user_id=4300, language_code=t["lang"])
    await user.send("/notifications")
    await user.expect(t["reminders"])
    answer = await user.press("🔔 " + t["due"])
    assert t["off"] in answer.text
    redrawn = await user.expect(t["reminders"], edited=True)
    assert redrawn.has_button("🔕 " + t["due"])

    async def muted(session, now):
        rows = await session.execute(
            select(NotificationPref.topic).where(NotificationPref.telegram_id == 4300)
        )
        return list(rows.scalars())

    assert await world.seed(muted) == ["due"]
    # A forged topic is refused and changes nothing.
    from handlers.callbacks import Notify

    last = await user.last_message()
    forged = await user.press_data(Notify(topic="vanguard").pack(), last.message_id, force=True)
    assert forged.show_alert
    assert await world.seed(muted) == ["due"]


ALREADY = {"zh": "已经发送过了", "en": "Already sent"}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_send_pressed_twice_at_once_sends_once(world, lang):
    """The second tap is queued behind the first; it is told the announcement went,
    and nobody gets it twice."""
    t = T[lang]
    await world.seed(_city)
    staff = await world.emu.create_user("周组织", user_id=STAFF, language_code=t["lang"])
    town = [await world.emu.create_user(f"党员{i}", user_id=i) for i in TOWN_MEMBERS]
    await staff.send("/broadcast")
    await staff.expect(t["new"])
    await staff.press("📂 沙塘镇党委")
    await staff.expect("沙塘镇党委", edited=True)
    await staff.press("📢 " + t["all_town"])
    await staff.expect(t["who"], edited=True)
    await staff.press("➡ " + t["next"])
    await staff.expect(t["type"], edited=True)
    await staff.send("本周五下午3点召开全体党员大会")
    preview = await staff.expect(t["preview"])
    data = preview.button("📤 " + t["send"])["callback_data"]
    presses = [
        await staff.press_data(data, preview.message_id, wait_answer=False) for _ in range(2)
    ]
    answers = [await world.emu.wait_callback_answer(p.callback_query_id, 15.0) for p in presses]
    assert all(a.answered for a in answers)
    assert sum(ALREADY[lang] in (a.text or "") for a in answers) == 1, answers
    for user in town:
        await user.expect("全体党员大会")
    await world.sender.idle.wait()
    for user in town:
        assert len([m for m in await user.messages() if "全体党员大会" in m.text]) == 1

    async def casts(session, now):
        return (await session.execute(select(func.count()).select_from(Broadcast))).scalar_one()

    assert await world.seed(casts) == 1
