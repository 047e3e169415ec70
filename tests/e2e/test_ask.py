"""Questions in free text and /rating, /tasks, /mygrade, by a member, a secretary and staff."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.db.models import PeriodSnapshot, Staff
from bot.services import members, orgs, periods
from handlers.callbacks import Chart, Dash, ExportLedger, RateBranch
from scoring import load_fortress_rubric
from tests.e2e import seeds
from tests.e2e.test_month import PNG

SECRETARY, MEMBER, STAFF, STRANGER = 500, 501, 800, 777

# The way to the next star, as the answer words it for a level in reach or not.
NEXT_STAR = (
    "要达到",
    "To reach",
    "不足以达到",
    "is not enough for",
    "取决于上级党组织评定的事项",
    "depends on items your superior organisation grades",
    "无法再升",
    "cannot be reached",
    "最高星级",
    "top star",
)


async def star_answer(user, fragment):
    """The star answer: complete in its first message, the way to the next star included
    (it used to arrive seconds later by an edit)."""
    got = await user.expect(fragment)
    assert any(w in got.text for w in NEXT_STAR), got.text
    return got


T = {
    "zh": {
        "lang": "zh-hans",
        "ask": "请问一下我们支部这个月几星了呀",
        "provisional": "暂定",
        "six": "六个基本",
        "basic": "基本组织生活",
        "last": "上月（2026-10）",
        "confirmed": "已确认",
        "since": "较上月",
        "outstanding": "未完成",
        "tasks_q": "还有什么任务没做？",
        "next_q": "怎样才能升星",
        "to_reach": "目前",
        "grade_q": "我的等次是什么",
        "not_yet": "本年度尚未评定",
        "meeting_q": "下次开会是什么时候",
        "no_meeting": "尚未发布会议通知",
        "due_head": "尚待通过会议记录完成的事项",
        "old_head": "还需召开的会议",
        "attendance": "主题党日参学率",
        "unknown": "今天天气怎么样",
        "cant": "没听懂",
        "btn_rating": "⭐ 星级",
        "help": "我可以为你做这些",
        "join": "邀请链接",
    },
    "en": {
        "lang": "en",
        "ask": "whats our star raiting??",
        "provisional": "provisional",
        "six": "six basics",
        "basic": "Basic organisational life",
        "last": "Last month (2026-10)",
        "confirmed": "confirmed",
        "since": "Since last month",
        "outstanding": "Outstanding",
        "tasks_q": "what tasks are left",
        "next_q": "how do we get the next star",
        "to_reach": "now (provisional)",
        "grade_q": "my grade?",
        "not_yet": "not yet evaluated this year",
        "meeting_q": "when is the next meeting",
        "no_meeting": "No meeting has been announced yet",
        "due_head": "Still due through the meeting log",
        "old_head": "Meetings still due",
        "attendance": "Theme party day attendance",
        "unknown": "the weather is nice",
        "cant": "did not catch that",
        "btn_rating": "⭐ Star rating",
        "help": "What I can do for you",
        "join": "invite link",
    },
}


async def _branch(session, now):
    city = await seeds.city(session, now, staff=(STAFF, "组织部"))
    branch = await seeds.village_branch(session, now, city, SECRETARY)
    member = await members.add_member(
        session, seeds.ROOT.actor, now, org_id=branch.id, name="张伟", category="rural_community"
    )
    await members.link_telegram(session, seeds.ROOT.actor, now, member, MEMBER)
    await seeds.year_of_meetings(session, now, branch.id, 2)
    await periods.close_period(session, load_fortress_rubric(), now, "2026-10")
    await periods.confirm_all(session, seeds.ROOT, now, "2026-10")
    return branch.id


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_member_asks_in_free_text(world, lang):
    t = T[lang]
    await world.seed(_branch)
    me = await world.emu.create_user("张伟", user_id=MEMBER, language_code=t["lang"])
    await me.send(t["ask"])
    got = await star_answer(me, t["provisional"])
    assert "★" in got.text and t["six"] in got.text and t["basic"] in got.text
    assert t["last"] in got.text and t["confirmed"] in got.text and t["since"] in got.text
    assert t["outstanding"] in got.text
    await me.send(t["tasks_q"])
    await me.expect(t["outstanding"])
    await me.send(t["next_q"])
    await me.expect(t["to_reach"])
    await me.send(t["grade_q"])
    await me.expect(t["not_yet"])
    await me.send(t["meeting_q"])
    due = await me.expect(t["no_meeting"])
    # Attendance is listed with what the meeting log records, not called a meeting.
    assert t["due_head"] in due.text and t["old_head"] not in due.text, due.text
    assert due.text.index(t["due_head"]) < due.text.index(t["attendance"]), due.text
    await me.send(t["unknown"])
    unknown = await me.expect(t["cant"])
    await me.press(t["btn_rating"])
    await star_answer(me, t["provisional"])
    assert unknown.has_button(t["btn_rating"])


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_secretary_uses_the_commands(world, lang):
    t = T[lang]
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/rating")
    await star_answer(sec, t["provisional"])
    await sec.send("/tasks")
    await sec.expect(t["outstanding"])
    await sec.send("/mygrade")
    await sec.expect(t["not_yet"])
    await sec.send_photo(PNG)
    await sec.expect(t["cant"])


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_stranger_is_told_how_to_join(world, lang):
    t = T[lang]
    await world.seed(_branch)
    who = await world.emu.create_user("路人", user_id=STRANGER, language_code=t["lang"])
    await who.send(t["ask"])
    await who.expect(t["join"])


async def test_text_inside_a_conversation_step_is_left_to_the_step(world):
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code="en")
    await sec.send("/month")
    await sec.expect("Done ")
    await sec.press("📝 Log a meeting")
    await sec.expect()
    await sec.send("what's my star rating")
    hint = await sec.expect()
    assert "provisional" not in hint.text


async def _city(session, now):
    """Two sub-committees with three branches, October closed: one-star and five-star ones."""
    city = await seeds.city(session, now, staff=(STAFF, "组织部"))
    towns = [
        await orgs.create_org(
            session, seeds.ROOT.actor, now, name=n, kind="committee", parent_id=city.id
        )
        for n in ("沙塘湾街道党工委", "市直机关工委")
    ]
    branch = await seeds.village_branch(session, now, towns[0], SECRETARY)
    others = [
        await orgs.create_org(
            session,
            seeds.ROOT.actor,
            now,
            name=name,
            kind="branch",
            parent_id=towns[1].id,
            domain="agency",
        )
        for name in ("市财政局机关党支部", "市税务局党支部")
    ]
    # Names typed before formula-like names were refused are still in old databases: the
    # ledger must keep them inert, so they are written here the way such rows exist.
    towns[1].name, others[1].name = "=市直机关工委", "@市税务局党支部"
    rubric = load_fortress_rubric()
    for period in ("2026-09", "2026-10"):
        await periods.close_period(session, rubric, now, period)
    # A varied month: a five-star, a one-star and a confirmed rise.
    snaps = (await session.execute(select(PeriodSnapshot))).scalars().all()
    for snap in snaps:
        if snap.period == "2026-10":
            snap.proposed_star = {branch.id: 5, others[0].id: 1}.get(snap.org_id, 3)
            snap.score = {branch.id: 95, others[0].id: 30}.get(snap.org_id, 72)
    await session.flush()
    await periods.confirm_all(session, seeds.ROOT, now, "2026-10")
    return branch.id


STAFF_T = {
    "zh": {
        "lang": "zh-hans",
        "ask": "各支部情况怎么样？",
        "head": "规范达标率",
        "one": "⚠️ 一星",
        "five": "🏅 五星",
        "chart": "📈 图表",
        "excel": "📥 Excel 台账",
        "branch_sheet": "支部 2026-10",
        "basics": "六个基本",
        "index": "堡垒指数",
        "help": "❓ 帮助",
    },
    "en": {
        "lang": "en",
        "ask": "how are my branches doing",
        "head": "Compliance rate",
        "one": "⚠️ One star",
        "five": "🏅 Five stars",
        "chart": "📈 Chart",
        "excel": "📥 Excel ledger",
        "branch_sheet": "Branches 2026-10",
        "basics": "six basics",
        "index": "Fortress Index",
        "help": "❓ Help",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_staff_dashboard_charts_and_ledger(world, lang):
    t = STAFF_T[lang]
    await world.seed(_city)
    staff = await world.emu.create_user("组织部", user_id=STAFF, language_code=t["lang"])
    await staff.send(t["ask"])
    home = await staff.expect(t["head"])
    assert "3" in home.text and "★★★★★ 1" in home.text and "★ 1" in home.text
    await staff.press(t["one"])
    one = await staff.expect(edited=True)
    assert one.has_button("★☆☆☆☆ 市财政局机关党支部 · 30")
    await staff.press("★☆☆☆☆ 市财政局机关党支部 · 30")
    answer = await star_answer(staff, t["basics"])
    assert "市财政局机关党支部" in answer.text
    await staff.press(t["chart"])
    photo = await staff.expect()
    assert photo.photo and "市财政局机关党支部 · 2026-11 · " + t["index"] in photo.text
    stored = world.server.world.files.get(photo.photo[-1]["file_id"])
    assert stored.data[:8] == b"\x89PNG\r\n\x1a\n" and (stored.width, stored.height) == (1080, 1350)
    await staff.send("/dashboard")
    await staff.expect(t["head"])
    await staff.press(t["chart"])
    committee = await staff.expect()
    assert committee.text == "冷水江市委 · 2026-10"
    stored = world.server.world.files.get(committee.photo[-1]["file_id"])
    assert (stored.width, stored.height) == (1080, 1350)
    await staff.send("/export")
    doc = await staff.expect()
    data = world.server.world.files.get(doc.document["file_id"]).data
    book = load_workbook(io.BytesIO(data))
    sheet = book[t["branch_sheet"]]
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.freeze_panes == "A2"
    by_name = {r[1]: r for r in rows[1:]}
    assert set(by_name) == {"红旗村党支部", "市财政局机关党支部", "@市税务局党支部"}
    assert by_name["市财政局机关党支部"][3] == 30 and by_name["红旗村党支部"][3] == 95
    assert by_name["@市税务局党支部"][0] == "=市直机关工委"
    risky = next(c for c in sheet["B"] if c.value == "@市税务局党支部")
    assert risky.data_type == "s" and risky.quotePrefix
    town = next(c for c in sheet["A"] if c.value == "=市直机关工委")
    assert town.data_type == "s"
    items = book.worksheets[1]
    assert items.max_row > 3 and isinstance(items.cell(2, 4).value, (int, float))


async def test_forged_presses_are_refused(world):
    branch_id = await world.seed(_city)
    outsider = 801

    async def other_staff(session, now):
        town = await orgs.create_org(session, seeds.ROOT.actor, now, name="别市", kind="committee")
        session.add(Staff(org_id=town.id, telegram_id=outsider, name="外人", created_at=now))

    await world.seed(other_staff)
    user = await world.emu.create_user("外人", user_id=outsider, language_code="en")
    await user.send("/dashboard")
    home = await user.expect("No month has been closed yet")
    for data in (
        RateBranch(org=branch_id).pack(),
        Chart(kind="b", org=branch_id).pack(),
        Dash(org=branch_id).pack(),
        Dash(view="nonsense").pack(),
        ExportLedger(org=branch_id).pack(),
    ):
        answer = await user.press_data(data, home.message_id, force=True)
        assert answer.show_alert and answer.text, data
    member = await world.emu.create_user("张", user_id=MEMBER, language_code="en")
    await member.send("/dashboard")
    await member.expect("not allowed")


STAFF_FALLBACK = {
    "zh": ("嗯，知道了", "对所辖党组织", "📊 总览"),
    "en": ("ok thanks", "For the organisations you oversee", "📊 Dashboard"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_staff_told_their_commands_when_not_understood(world, lang):
    """A message from staff the bot does not understand is answered with the staff's
    commands, not a member's questions ("our star rating", "your own grade")."""
    said, head, button = STAFF_FALLBACK[lang]
    await world.seed(_city)
    code = STAFF_T[lang]["lang"]
    staff = await world.emu.create_user("组织部", user_id=STAFF, language_code=code)
    await staff.send(said)
    reply = await staff.expect(head)
    for command in ("/dashboard", "/stars", "/orgs", "/export", "/broadcast"):
        assert command in reply.text, reply.text
    assert "Vanguard" not in reply.text and "先锋指数" not in reply.text, reply.text
    assert [button, STAFF_T[lang]["help"]] in reply.buttons, reply.buttons
    await staff.press(button, message=reply)
    await staff.expect(STAFF_T[lang]["head"])
