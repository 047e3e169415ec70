"""After the democratic evaluation, end to end in Chinese and English: the superior's
overview across several committees (paged), a branch's campaign moved back a stage with
a reason, the commendation list as an Excel file, the disposal checklist of unqualified
members, and paired mentoring chosen by the secretary — with forged and stale presses
and people of another branch refused, nothing written.

Campaigns are seeded at the stage each story starts from; the way there is the story of
test_evaluation.py.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from bot.app import job_context
from bot.db.models import (
    AuditLog,
    EvalCampaign,
    EvalCheckin,
    EvalResult,
    Member,
    Organisation,
    Outbox,
    Staff,
)
from bot.scheduler import mentoring
from bot.services import evaluation, members, orgs
from handlers.callbacks import Disposal, EvalHome, EvalReopen, EvalView, Mentor, MentorCheck
from tests.e2e import seeds
from tests.e2e.seeds import ROOT

CITY_STAFF = 800  # staff of the city committee: sees every branch
TWO_STAFF = 801  # staff of both street committees, not of the city
SECRETARY = 30_000  # 李书记 of 红旗村党支部 (member i of it: SECRETARY + i)
OTHER_SEC = 31_000  # the secretary of 新华社区党支部, another branch
EXTRA = 9  # more branches under the second street: the overview has two pages

T = {
    "zh": {
        "lang": "zh-hans",
        "branches": "个支部",
        "overdue_only": "只看逾期",
        "all": "全部支部",
        "move_back": "退回到",
        "why": "请写明理由",
        "reason": "公示期间群众反映情况需重新核实",
        "moved": "已退回到",
        "told": "退回到",
        "wrong_stage": "已不在该阶段",
        "denied": "没有权限",
        "commend": "优秀党员名单",
        "caption": "名优秀党员",
        "sheet": "2026年度优秀党员",
        "unqualified": "不合格党员处置",
        "talk": "1. 谈心谈话",
        "by_committee": "按党委查看",
        "approve_all": "✓ 审批全部待审",
        "approve_ask": "个支部的评议结果",
        "all_oversee": "◀ 我管理的全部",
        "saved": "已保存",
        "stale": "有人已修改",
        "mentoring": "结对帮扶",
        "choose": "选择帮扶人",
        "confirm": "✓ 确认",
        "paired": "已安排",
        "told_member": "为您安排了帮扶人",
        "told_mentor": "请您帮扶",
    },
    "en": {
        "lang": "en",
        "branches": "branches",
        "overdue_only": "Overdue only",
        "all": "All branches",
        "move_back": "Move back to",
        "why": "Write the reason",
        "reason": "Residents raised new facts during the notice; to be checked again",
        "moved": "Moved back to",
        "told": "back to the",
        "wrong_stage": "no longer at that stage",
        "denied": "not allowed",
        "commend": "Commendation list",
        "caption": "excellent members",
        "sheet": "Excellent members 2026",
        "unqualified": "Unqualified: disposal",
        "talk": "1. Talk with the member",
        "by_committee": "By committee",
        "approve_all": "✓ Approve all waiting",
        "approve_ask": "waiting for approval",
        "all_oversee": "◀ All I oversee",
        "saved": "Saved",
        "stale": "Someone else changed this",
        "mentoring": "Paired mentoring",
        "choose": "Choose a mentor",
        "confirm": "✓ Confirm",
        "paired": "mentors",
        "told_member": "paired you with a mentor",
        "told_mentor": "asked you to mentor",
    },
}

GRADES = {1: "excellent", 2: "basically_qualified", 3: "unqualified", 4: "excellent"}


async def _campaign(session, now, org_id: int, stage: str) -> EvalCampaign:
    c = EvalCampaign(
        org_id=org_id,
        period="2026",
        stage=stage,
        created_at=now,
        updated_at=now,
        **evaluation.deadlines(now.date()),
    )
    session.add(c)
    await session.flush()
    return c


async def _city(session, now) -> dict[str, int]:
    """冷水江市委 ─┬ 锡矿山街道党工委 ── 红旗村党支部 (final: 12 members graded)
    ├ 沙塘湾街道党工委 ─┬ 新华社区党支部 (approval)
    │                   └ 9 more branches (self-assessment)
    └ 市直属党支部 (notice), directly under the city"""
    city = await seeds.city(session, now, staff=(CITY_STAFF, "组织部"))
    streets = []
    for name in ("锡矿山街道党工委", "沙塘湾街道党工委"):
        street = await orgs.create_org(
            session, ROOT.actor, now, name=name, kind="committee", parent_id=city.id
        )
        session.add(Staff(org_id=street.id, telegram_id=TWO_STAFF, name="街道组工", created_at=now))
        streets.append(street)
    red = await seeds.village_branch(session, now, streets[0], SECRETARY)
    await session.execute(
        insert(Member),
        [
            {
                "org_id": red.id,
                "name": f"党员{i:02d}" if i != 4 else "=HYPERLINK(1)",
                "category": "rural_community",
                "role": "member",
                "status": "active",
                "telegram_id": SECRETARY + i,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(1, 12)
        ],
    )
    final = await _campaign(session, now, red.id, "final")
    people = (await session.execute(select(Member).where(Member.org_id == red.id))).scalars()
    await session.execute(
        insert(EvalResult),
        [
            {
                "campaign_id": final.id,
                "member_id": m.id,
                "total": Decimal("90") - (m.telegram_id - SECRETARY),
                "computed_grade": GRADES.get(m.telegram_id - SECRETARY, "qualified"),
                "proposed_grade": GRADES.get(m.telegram_id - SECRETARY, "qualified"),
                "grade": GRADES.get(m.telegram_id - SECRETARY, "qualified"),
                "deductions": {},
                "breakdown": {},
                "disposal_steps": {},
            }
            for m in people
        ],
    )
    other = await orgs.create_org(
        session,
        ROOT.actor,
        now,
        name="新华社区党支部",
        kind="branch",
        parent_id=streets[1].id,
        domain="community",
    )
    sec = await members.add_member(
        session, ROOT.actor, now, org_id=other.id, name="王书记", category="rural_community"
    )
    await members.set_role(session, ROOT.actor, now, sec, "secretary")
    await members.link_telegram(session, ROOT.actor, now, sec, OTHER_SEC)
    waiting = await _campaign(session, now, other.id, "approval")
    for i in range(EXTRA):
        more = await orgs.create_org(
            session,
            ROOT.actor,
            now,
            name=f"沙塘湾第{i + 1:02d}党支部",
            kind="branch",
            parent_id=streets[1].id,
            domain="community",
        )
        await _campaign(session, now, more.id, "self")
    direct = await orgs.create_org(
        session,
        ROOT.actor,
        now,
        name="市直属党支部",
        kind="branch",
        parent_id=city.id,
        domain="agency",
    )
    outside = await _campaign(session, now, direct.id, "notice")
    return {
        "final": final.id,
        "waiting": waiting.id,
        "outside": outside.id,
        "city": city.id,
        "street": streets[1].id,
    }


async def _stage(session, now, cid: int) -> str:
    return (await session.get(EvalCampaign, cid)).stage


async def _audits(session, now, action: str) -> list[dict]:
    rows = await session.execute(
        select(AuditLog.changes).where(AuditLog.action == action).order_by(AuditLog.id)
    )
    return list(rows.scalars())


async def _result(session, now, cid: int, i: int) -> EvalResult:
    member = (
        await session.execute(select(Member).where(Member.telegram_id == SECRETARY + i))
    ).scalar_one()
    return await session.get(EvalResult, (cid, member.id))


async def _member_id(session, now, i: int) -> int:
    return await session.scalar(select(Member.id).where(Member.telegram_id == SECRETARY + i))


async def _count_campaigns(session, now) -> int:
    return await session.scalar(select(func.count()).select_from(EvalCampaign))


async def _branches(session, now) -> int:
    return await session.scalar(
        select(func.count()).select_from(Organisation).where(Organisation.kind == "branch")
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_staff_of_two_committees_see_both_and_move_a_stage_back(world, lang):
    t = T[lang]
    ids = await world.seed(_city)
    assert await world.seed(_branches) == 12
    staff = await world.emu.create_user("街道组工", user_id=TWO_STAFF, language_code=t["lang"])
    other_sec = await world.emu.create_user("王书记", user_id=OTHER_SEC, language_code=t["lang"])
    await other_sec.send("/evaluation")  # the bot learns the secretary's language
    await other_sec.expect()

    # Both streets' branches (11), not the one directly under the city; eight a page.
    await staff.send("/evaluation")
    first = await staff.expect(t["branches"])
    assert "11" in first.text.split("\n")[0]
    assert "市直属党支部" not in first.text
    assert first.has_button("1/2")
    await staff.press("▶")
    second = await staff.expect(edited=True)
    assert second.has_button("2/2")
    shown = {b for page in (first, second) for row in page.buttons for b in row}
    branches = {"红旗村党支部", "新华社区党支部"} | {f"沙塘湾第{i:02d}党支部" for i in range(1, 10)}
    assert branches <= shown and "市直属党支部" not in shown
    # The nine self-assessments are past their deadline after three weeks.
    world.app.clock.advance(days=21)
    await staff.send("/evaluation")
    await staff.expect(t["branches"])
    await staff.press(t["overdue_only"])
    late = await staff.expect(edited=True)
    assert "新华社区党支部" not in late.text and "沙塘湾第01党支部" in late.text
    await staff.press(t["all"])
    listing = await staff.expect(edited=True)

    # A branch's card; the stage goes back with a written reason, audited, the branch told.
    await staff.press("新华社区党支部", message=listing)
    card = await staff.expect(edited=True)
    back = next(b for row in card.buttons for b in row if t["move_back"] in b)
    await staff.press(back)
    await staff.expect(t["why"])
    await staff.send(t["reason"])
    done = await staff.expect(t["moved"])
    assert await world.seed(_stage, ids["waiting"]) == "notice"
    [change] = await world.seed(_audits, "reopen")
    assert change == {"stage": ["approval", "notice"], "reason": t["reason"]}
    told = await other_sec.expect(t["told"])
    assert t["reason"] in told.text
    assert not any("✓" in b for row in done.buttons for b in row)  # no longer to approve

    # The old button again (the stage moved since): refused, nothing written.
    answer = await staff.press_data(
        EvalReopen(campaign=ids["waiting"], stage="approval").pack(), card.message_id, force=True
    )
    assert answer.show_alert and t["wrong_stage"] in answer.text
    # A campaign outside both streets: refused, even with a well-formed button.
    forged = EvalReopen(campaign=ids["outside"], stage="notice").pack()
    answer = await staff.press_data(forged, card.message_id, force=True)
    assert answer.show_alert and t["denied"] in answer.text
    answer = await staff.press_data(
        EvalView(campaign=ids["outside"], act="card").pack(), card.message_id, force=True
    )
    assert answer.show_alert
    # A branch secretary is not the superior: refused.
    answer = await other_sec.press_data(
        EvalReopen(campaign=ids["waiting"], stage="notice").pack(), told.message_id, force=True
    )
    assert answer.show_alert and t["denied"] in answer.text
    assert await world.seed(_stage, ids["waiting"]) == "notice"
    assert await world.seed(_stage, ids["outside"]) == "notice"
    assert len(await world.seed(_audits, "reopen")) == 1
    # Narrowing the overview to the city above them, or approving there: refused.
    for act in ("overview", "approve_all", "subtree"):
        forged = EvalHome(act=act, org=ids["city"]).pack()
        answer = await staff.press_data(forged, card.message_id, force=True)
        assert answer.show_alert and t["denied"] in answer.text
    assert await world.seed(_count_campaigns) == 12


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_commendation_list_and_disposal_checklist(world, lang):
    t = T[lang]
    ids = await world.seed(_city)
    staff = await world.emu.create_user("组织部", user_id=CITY_STAFF, language_code=t["lang"])
    other_sec = await world.emu.create_user("王书记", user_id=OTHER_SEC, language_code=t["lang"])

    await staff.send("/evaluation")
    await staff.expect(t["branches"])
    # One street at a time: its branches, and a bulk approval there after a summary.
    await staff.press(t["by_committee"])
    streets = await staff.expect(edited=True)
    assert streets.has_button("锡矿山街道党工委") and streets.has_button("沙塘湾街道党工委")
    await staff.press("沙塘湾街道党工委")
    street = await staff.expect("沙塘湾街道党工委", edited=True)
    assert "10" in street.text.split("\n")[1] and "红旗村党支部" not in street.text
    await staff.press(t["approve_all"])
    await staff.expect(t["approve_ask"], edited=True)
    assert await world.seed(_stage, ids["waiting"]) == "approval"  # nothing before the confirm
    answer = await staff.press(t["confirm"])
    assert "1" in answer.text
    await staff.expect(edited=True)
    assert await world.seed(_stage, ids["waiting"]) == "final"
    assert await world.seed(_stage, ids["outside"]) == "notice"
    [bulk] = await world.seed(_audits, "approve_subtree")
    assert bulk == {"period": "2026", "approved": 1}
    await staff.press(t["all_oversee"])
    await staff.expect(edited=True)
    await staff.press(t["commend"])
    doc = await staff.expect(t["caption"])
    data = world.server.world.files.get(doc.document["file_id"]).data
    sheet = load_workbook(io.BytesIO(data))[t["sheet"]]
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[1:3] for r in rows[1:]] == [
        ("红旗村党支部", "党员01"),
        ("红旗村党支部", "=HYPERLINK(1)"),
    ]
    risky = next(c for c in sheet["C"] if c.value == "=HYPERLINK(1)")
    assert risky.data_type == "s"  # a name is never a formula
    assert rows[1][4] == 89

    await staff.press(t["unqualified"])
    listing = await staff.expect(edited=True)
    assert next(b for row in listing.buttons for b in row) == "⏳ 党员03 · 红旗村党支部 · 0/5"
    await staff.press("党员03", message=listing)
    card = await staff.expect(edited=True)
    step = next(b for row in card.buttons for b in row if t["talk"] in b)
    answer = await staff.press(step)
    assert t["saved"] in answer.text
    ticked = await staff.expect(edited=True)
    assert "✅ " + t["talk"] in ticked.text
    assert (await world.seed(_result, ids["final"], 3)).disposal_steps == {"talk": "2026-11-20"}
    # The same press again (made on the old card): stale, shown as it is, nothing written.
    # (The emulator keeps one copy of a message; a colleague's chat would still show it.)
    answer = await staff.press_data(step_data(card, t["talk"]), card.message_id, force=True)
    assert answer.show_alert and t["stale"] in answer.text
    # Untick, then a forged step number and a member who is not unqualified.
    await staff.press("✅ " + t["talk"])
    await staff.expect(edited=True)
    assert (await world.seed(_result, ids["final"], 3)).disposal_steps == {}
    mid = await world.seed(_member_id, 3)
    answer = await staff.press_data(
        Disposal(campaign=ids["final"], member=mid, act="set", step=7, done=True).pack(),
        card.message_id,
        force=True,
    )
    assert answer.show_alert
    good = await world.seed(_member_id, 5)
    answer = await staff.press_data(
        Disposal(campaign=ids["final"], member=good, act="set", step=0, done=True).pack(),
        card.message_id,
        force=True,
    )
    assert answer.show_alert
    # Another branch's secretary is not the superior.
    await other_sec.send("/evaluation")
    own = await other_sec.expect()
    answer = await other_sec.press_data(
        Disposal(campaign=ids["final"], member=mid, act="set", step=0, done=True).pack(),
        own.message_id,
        force=True,
    )
    assert answer.show_alert and t["denied"] in answer.text
    assert (await world.seed(_result, ids["final"], 3)).disposal_steps == {}
    # Nor does the list of excellent members go to a branch secretary.
    answer = await other_sec.press_data(EvalHome(act="commend").pack(), own.message_id, force=True)
    assert answer.show_alert and t["denied"] in answer.text
    assert not [m for m in await other_sec.messages() if m.document]
    assert [c["done"] for c in await world.seed(_audits, "disposal")] == [True, False]


def step_data(message, label: str) -> str:
    for row in message.inline_keyboard:
        for button in row:
            if label in button["text"]:
                return button["callback_data"]
    raise LookupError(label)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_secretary_pairs_a_mentor(world, lang):
    t = T[lang]
    ids = await world.seed(_city)
    emu = world.emu
    sec = await emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    mentee = await emu.create_user("党员02", user_id=SECRETARY + 2, language_code=t["lang"])
    mentor = await emu.create_user("党员11", user_id=SECRETARY + 11, language_code=t["lang"])
    plain = await emu.create_user("党员07", user_id=SECRETARY + 7, language_code=t["lang"])
    other_sec = await emu.create_user("王书记", user_id=OTHER_SEC, language_code=t["lang"])
    for person in (mentee, mentor):  # the bot learns their language
        await person.send("/evaluation")
        await person.expect()

    await sec.send("/evaluation")
    await sec.expect()
    await sec.press(t["mentoring"])
    listing = await sec.expect(edited=True)
    assert "党员02" in listing.text and "党员03" in listing.text and "党员05" not in listing.text
    await sec.press("党员02")
    choices = await sec.expect(t["choose"], edited=True)
    offered = [b for row in choices.buttons for b in row]
    # Nobody mentors themselves, nor someone being mentored (党员03, unqualified).
    assert "党员02" not in offered and "党员03" not in offered
    assert choices.has_button("1/2")
    await sec.press("▶")
    await sec.expect(edited=True)
    await sec.press("党员11")
    summary = await sec.expect("党员11", edited=True)
    stale_confirm = step_data(summary, t["confirm"])
    answer = await sec.press(t["confirm"])
    assert t["paired"] in answer.text
    await sec.expect(edited=True)
    mentor_id = await world.seed(_member_id, 11)
    assert (await world.seed(_result, ids["final"], 2)).mentor_id == mentor_id
    assert t["told_member"] in (await mentee.expect(t["told_member"])).text
    await mentor.expect(t["told_mentor"])

    # The old summary's confirm, with a different mentor forged on it: the member was
    # paired since it was shown, so it is refused and the list shown as it stands.
    other_mentor = await world.seed(_member_id, 9)
    forged = Mentor.unpack(stale_confirm).model_copy(update={"mentor": other_mentor}).pack()
    answer = await sec.press_data(forged, summary.message_id, force=True)
    assert answer.show_alert and t["stale"] in answer.text
    assert (await world.seed(_result, ids["final"], 2)).mentor_id == mentor_id
    # A plain member, and another branch's secretary, cannot pair anyone.
    for person in (plain, other_sec):
        await person.send("/evaluation")
        own = await person.expect()
        answer = await person.press_data(forged, own.message_id, force=True)
        assert answer.show_alert and t["denied"] in answer.text
    mentee_id = await world.seed(_member_id, 2)
    answer = await sec.press_data(
        Mentor(
            campaign=ids["final"],
            member=mentee_id,
            act="confirm",
            mentor=mentee_id,
            shown=mentor_id,
        ).pack(),
        summary.message_id,
        force=True,
    )
    assert answer.show_alert  # oneself as mentor
    assert (await world.seed(_result, ids["final"], 2)).mentor_id == mentor_id
    assert len(await world.seed(_audits, "mentor")) == 1


async def _pair(session, now, cid: int, member: int, mentor: int) -> None:
    row = await _result(session, now, cid, member)
    row.mentor_id = await _member_id(session, now, mentor)


async def _checkins(session, now) -> list[tuple[str, bool]]:
    rows = await session.execute(
        select(EvalCheckin.month, EvalCheckin.by_mentor).order_by(EvalCheckin.by_mentor)
    )
    return [tuple(r) for r in rows.all()]


async def _prompts(session, now) -> int:
    return await session.scalar(
        select(func.count()).select_from(Outbox).where(Outbox.kind == "mentoring")
    )


CHECKIN = {
    "zh": {
        "prompt": "结对帮扶",
        "yes": "✓ 是的，本月已谈心",
        "noted": "已记录",
        "again": "已记录过",
    },
    "en": {
        "prompt": "Paired mentoring, 2026-12",
        "yes": "✓ Yes, we met this month",
        "noted": "Noted",
        "again": "Already noted",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_both_sides_of_a_pairing_check_in_each_month(world, lang):
    t, c = T[lang], CHECKIN[lang]
    ids = await world.seed(_city)
    await world.seed(_pair, ids["final"], 2, 11)
    emu = world.emu
    sec = await emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    mentee = await emu.create_user("党员02", user_id=SECRETARY + 2, language_code=t["lang"])
    mentor = await emu.create_user("党员11", user_id=SECRETARY + 11, language_code=t["lang"])
    stranger = await emu.create_user("党员05", user_id=SECRETARY + 5, language_code=t["lang"])
    homes = {}
    for person in (mentee, mentor, stranger):  # the bot learns their language
        await person.send("/evaluation")
        homes[person.id] = await person.expect()

    # Not before the day: 15 December.
    world.app.clock.advance(days=25)
    await mentoring.checkins(job_context(world.app))
    assert await world.seed(_prompts) == 0
    # Monday 21 December 2026, 10:00 in Shanghai: the 20th is a Sunday.
    world.app.clock.advance(days=6)
    await mentoring.checkins(job_context(world.app))
    await mentoring.checkins(job_context(world.app))  # a second tick: nobody hears it twice
    assert await world.seed(_prompts) == 2
    asked = await mentee.expect(c["prompt"])
    assert "党员11" in asked.text
    await mentor.expect(c["prompt"])
    answer = await mentee.press(c["yes"])
    await mentee.expect(c["noted"], edited=True)
    await mentor.press(c["yes"])
    await mentor.expect(c["noted"], edited=True)
    assert await world.seed(_checkins) == [("2026-12", False), ("2026-12", True)]

    # The same press again, a month still to come, and people outside the pairing.
    pressed = step_data(asked, c["yes"])
    answer = await mentee.press_data(pressed, asked.message_id, force=True)
    assert answer.show_alert and c["again"] in answer.text
    future = MentorCheck.unpack(pressed).model_copy(update={"month": "2027-01"}).pack()
    answer = await mentee.press_data(future, asked.message_id, force=True)
    assert answer.show_alert
    answer = await stranger.press_data(pressed, homes[stranger.id].message_id, force=True)
    assert answer.show_alert and t["denied"] in answer.text
    assert await world.seed(_checkins) == [("2026-12", False), ("2026-12", True)]

    # The secretary sees the month in the mentoring list.
    await sec.send("/evaluation")
    await sec.expect()
    await sec.press(t["mentoring"])
    listing = await sec.expect(edited=True)
    assert "2026-12" in listing.text


async def _branches_without_evaluation(session, now) -> None:
    city = await seeds.city(session, now, staff=(CITY_STAFF, "组织部"))
    for name in ("红旗村党支部", "新华社区党支部"):
        await orgs.create_org(
            session, ROOT.actor, now, name=name, kind="branch", parent_id=city.id, domain="village"
        )


NONE_OPEN = {
    "zh": (
        "您管理的 2 个支部尚未开展 2026 年度民主评议",
        "为全部 2 个支部开启民主评议",
        "已为 2 个支部开启",
    ),
    "en": (
        "No democratic evaluation 2026 is open in your 2 branches yet",
        "Open it for all 2 branches",
        "Opened for 2 branches",
    ),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_no_evaluation_open_yet_says_so_and_offers_to_open(world, lang):
    """Before any campaign the staff overview says none is open in their branches (not
    "0 branches / None.") and leads with opening it for all of them."""
    t, (header, open_all, opened) = T[lang], NONE_OPEN[lang]
    await world.seed(_branches_without_evaluation)
    staff = await world.emu.create_user("组织部", user_id=CITY_STAFF, language_code=t["lang"])
    await staff.send("/evaluation")
    home = await staff.expect(header)
    assert home.buttons[0] == [open_all]
    assert not home.has_button(t["approve_all"])
    await staff.press(open_all)
    await staff.expect(edited=True)
    assert await world.seed(_count_campaigns) == 0  # nothing before the confirm
    answer = await staff.press(t["confirm"])
    assert opened in answer.text
    assert await world.seed(_count_campaigns) == 2
    listing = await staff.expect(t["branches"], edited=True)
    assert header not in listing.text and listing.has_button("红旗村党支部")
