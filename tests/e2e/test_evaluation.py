"""The democratic evaluation of a 32-member branch, end to end, in Chinese and English.

One member goes through every step in chat (self-assessment, 31 marks on a paged
ballot, an objection, "my grade"); the secretary closes each stage, reviews with one
override and answers the objection in chat; the staff approve in chat. The other 31
self-assessments and ballots are cast through the same services the chat calls (their
chat path is the one the first member took).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, insert, select

from bot.db.models import (
    AuditLog,
    EvalCampaign,
    EvalObjection,
    EvalResult,
    EvalTally,
    EvalVoter,
    Meeting,
    MeetingAttendee,
    Member,
    Organisation,
)
from bot.services import ballots, evaluation
from bot.services.members import Principal
from handlers.callbacks import EvalAdvance, Mark, SelfMark
from scoring import load_vanguard_rubric
from tests.e2e import seeds

VRUBRIC = load_vanguard_rubric()
N = 32
FIRST_TG = 30_000  # member i has Telegram id FIRST_TG + i; 0 is the secretary
VOTER = 5
STAFF = 800

T = {
    "zh": {
        "lang": "zh-hans",
        "home": "民主评议",
        "self": "📝 自评",
        "next": "下一步：个人总结 ▶",
        "summary": "全年按时参加组织生活，积极参与志愿服务。",
        "submit_self": "💾 提交",
        "saved_self": "自评已保存",
        "open_vote": "结束自评，开始民主测评",
        "vote": "🗳 投票",
        "vote_open": "民主测评投票已开始",
        "marked": "已评 {n}/31",
        "submit": "提交测评票 ▶",
        "yes": "✓ 确认提交",
        "receipt": "您的测评票已计入",
        "already": "您已投过票",
        "self_vote": "不能给自己投票",
        "unmarked": "已取消该项选择",
        "voted": "您已投过票",
        "close_vote": "结束测评，开始支部评议",
        "review": "逐人评议",
        "basic": "基本合格",
        "why": "为何评为",
        "reason": "群众反映较多，需要加强学习",
        "saved": "已保存",
        "publish": "发布公示",
        "notice": "支部拟评定您",
        "object": "提出异议",
        "named": "署名",
        "objection": "我对评议结果有不同意见",
        "passed": "已转交",
        "new_objection": "异议",
        "answer_btn": "答复",
        "answer": "经核实，维持原评定。",
        "answered": "对您所提异议的答复",
        "send_up": "报上级党组织审批",
        "approve": "✓ 审批",
        "my_grade": "我的等次",
        "grade_is": "年度的评定等次",
        "not_yet": "尚未评定",
    },
    "en": {
        "lang": "en",
        "home": "Democratic evaluation",
        "self": "📝 Self-assessment",
        "next": "Next: summary ▶",
        "summary": "Attended every meeting; volunteered all year.",
        "submit_self": "💾 Submit",
        "saved_self": "Self-assessment saved",
        "open_vote": "Close the self-assessment, open the vote",
        "vote": "🗳 Vote",
        "vote_open": "The democratic vote is open",
        "marked": "{n}/31 marked",
        "submit": "Submit ballot ▶",
        "yes": "✓ Yes, submit",
        "receipt": "Your ballot has been counted",
        "already": "already voted",
        "self_vote": "do not vote on yourself",
        "unmarked": "Mark removed",
        "voted": "You have already voted",
        "close_vote": "Close the vote, start the branch review",
        "review": "Review the members",
        "basic": "basically qualified",
        "why": "Why basically qualified",
        "reason": "Complaints from residents; needs more study",
        "saved": "Saved.",
        "publish": "Publish the public notice",
        "notice": "The branch proposes your grade",
        "object": "Raise an objection",
        "named": "Named",
        "objection": "I disagree with the result",
        "passed": "has been passed",
        "new_objection": "objection",
        "answer_btn": "Answer",
        "answer": "Checked; the grade stands.",
        "answered": "Answer to your objection",
        "send_up": "Send for the superior's approval",
        "approve": "✓ Approve",
        "my_grade": "My grade",
        "grade_is": "Your grade for 2026",
        "not_yet": "not yet evaluated",
    },
}


async def _branch(session, now):
    city = await seeds.city(session, now, staff=(STAFF, "组织部"))
    branch = await seeds.village_branch(session, now, city, FIRST_TG)
    rows = [
        {
            "org_id": branch.id,
            "name": f"党员{i:02d}",
            "category": "rural_community",
            "role": "organiser" if i == 1 else "member",
            "status": "active",
            "telegram_id": FIRST_TG + i,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(1, N)
    ]
    await session.execute(insert(Member), rows)
    people = list(
        (await session.execute(select(Member).where(Member.org_id == branch.id))).scalars()
    )
    held = [("theme_day", date(2026, m, 8)) for m in range(1, 11)]
    held += [("lesson", date(2026, m, 20)) for m in (3, 6, 9)] + [("org_life", date(2026, 1, 25))]
    await session.execute(
        insert(Meeting),
        [
            {
                "org_id": branch.id,
                "kind": kind,
                "held_on": day,
                "topic": f"{kind} {day}",
                "topic_key": f"{kind} {day}",
                "attended": N,
                "expected": N,
                "counts": True,
                "created_at": now,
                "updated_at": now,
            }
            for kind, day in held
        ],
    )
    ids = (await session.execute(select(Meeting.id).where(Meeting.org_id == branch.id))).scalars()
    await session.execute(
        insert(MeetingAttendee),
        [{"meeting_id": i, "member_id": m.id} for i in ids for m in people],
    )
    sec = _principal(people, branch, 0)
    today = now.date()
    c = await evaluation.open_campaign(session, sec, now, today, branch.id, "2026")
    return c.id


def _principal(people, branch: Organisation, i: int) -> Principal:
    member = next(m for m in people if m.telegram_id == FIRST_TG + i)
    return Principal(telegram_id=member.telegram_id, member=member, branch=branch)


async def _everyone(session) -> tuple[list[Member], Organisation]:
    branch = (
        await session.execute(select(Organisation).where(Organisation.name == "红旗村党支部"))
    ).scalar_one()
    people = list(
        (
            await session.execute(
                select(Member).where(Member.org_id == branch.id).order_by(Member.telegram_id)
            )
        ).scalars()
    )
    return people, branch


async def _others_self_assess(session, now, campaign_id):
    people, branch = await _everyone(session)
    for i in range(N):
        if i == VOTER:
            continue
        p = _principal(people, branch, i)
        items = evaluation.self_questions(VRUBRIC, p.member.category)
        answers = {it.key: (i + j) % 2 for j, it in enumerate(items)}
        await evaluation.save_self(session, p, now, now.date(), campaign_id, answers, "", VRUBRIC)


async def _others_vote(session, now, campaign_id):
    people, branch = await _everyone(session)
    for i in range(N):
        if i == VOTER:
            continue
        p = _principal(people, branch, i)
        marks = {m.id: (0 if m.name < "党员08" else 1) for m in people if m.id != p.member.id}
        await ballots.submit_ballot(session, p, now.date(), campaign_id, marks, VRUBRIC)


async def _ids(session, now):
    people, _branch = await _everyone(session)
    return {m.telegram_id - FIRST_TG: m.id for m in people}, [
        m.id for m in sorted(people, key=lambda m: (m.name, m.id))
    ]


async def _count(session, now, model, *where):
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def _tally_total(session, now):
    return await session.scalar(select(func.coalesce(func.sum(EvalTally.n), 0)))


async def _campaign(session, now):
    return (await session.execute(select(EvalCampaign))).scalar_one()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_32_member_branch_runs_the_whole_evaluation(world, lang):
    t = T[lang]
    cid = await world.seed(_branch)
    emu = world.emu
    sec = await emu.create_user("李书记", user_id=FIRST_TG, language_code=t["lang"])
    me = await emu.create_user("党员05", user_id=FIRST_TG + VOTER, language_code=t["lang"])
    staff = await emu.create_user("组织部", user_id=STAFF, language_code=t["lang"])
    by_index, _order = await world.seed(_ids)
    my_id = by_index[VOTER]

    # 1. Self-assessment in chat: every question answered with buttons, a summary, submit.
    await me.send("/evaluation")
    await me.expect(t["home"])
    await me.press(t["self"])
    page = await me.expect(edited=True)
    items = evaluation.self_questions(VRUBRIC, "rural_community")
    for pos, item in enumerate(items):
        if pos and items[pos - 1].dimension != item.dimension:
            await me.press("▶")
            page = await me.expect(edited=True)
        data = SelfMark(campaign=cid, item=pos, band=pos % 2).pack()
        await me.press_data(data, page.message_id)
        page = await me.expect(edited=True)
    await me.press(t["next"])
    await me.expect(edited=True)
    await me.send(f"<b>{t['summary']}</b>")
    review = await me.expect(t["summary"])
    assert "&lt;b&gt;" not in review.text  # shown as the member wrote it, not as markup
    await me.press(t["submit_self"])
    await me.expect(t["saved_self"], edited=True)
    await world.seed(_others_self_assess, cid)

    # 2. The secretary closes the self-assessment; the vote opens.
    await sec.send("/evaluation")
    await sec.expect(t["home"])
    await sec.press(t["open_vote"])
    await sec.expect(edited=True)
    await me.expect(t["vote_open"])  # every member is told, with the deadline

    # 3. The member's ballot: 31 candidates on four pages, each marked once.
    await me.send("/evaluation")
    await me.expect(t["home"])
    await me.press(t["vote"])
    ballot = await me.expect(t["marked"].format(n=0), edited=True)
    forged = Mark(campaign=cid, cand=my_id, band=0).pack()  # oneself: no button has it
    answer = await me.press_data(forged, ballot.message_id, force=True)
    assert answer.show_alert and t["self_vote"] in answer.text
    people = [by_index[i] for i in range(N) if i != VOTER]
    names = {by_index[i]: f"党员{i:02d}" if i else "李书记" for i in range(N)}
    ordered = sorted(people, key=lambda m: (names[m], m))
    # The same grade pressed twice takes the mark away, and says so.
    twice = Mark(campaign=cid, cand=ordered[0], band=0, page=0).pack()
    await me.press_data(twice, ballot.message_id)
    ballot = await me.expect(t["marked"].format(n=1), edited=True)
    answer = await me.press_data(twice, ballot.message_id)
    assert t["unmarked"] in answer.text and not answer.show_alert
    ballot = await me.expect(t["marked"].format(n=0), edited=True)
    for n, cand in enumerate(ordered, start=1):
        page_no = (n - 1) // 8
        if n > 1 and (n - 1) % 8 == 0:
            await me.press("▶")
            ballot = await me.expect(edited=True)
        band = 0 if n <= 4 else 1
        data = Mark(campaign=cid, cand=cand, band=band, page=page_no).pack()
        await me.press_data(data, ballot.message_id)
        ballot = await me.expect(t["marked"].format(n=n), edited=True)
    assert await world.seed(_count, EvalVoter) == 0  # marks live in the draft only
    await me.press(t["submit"])
    await me.expect(edited=True)
    await me.press(t["yes"])
    receipt = await me.expect(t["receipt"], edited=True)
    # An old grade button pressed after voting says so (not that a draft expired).
    old = Mark(campaign=cid, cand=ordered[0], band=1, page=0).pack()
    answer = await me.press_data(old, receipt.message_id, force=True)
    assert answer.show_alert and t["voted"] in answer.text
    assert "党员" not in receipt.text  # the receipt says that, not what
    await me.send("/evaluation")
    home = await me.expect(t["home"])
    assert not home.has_button(t["vote"])
    # (Read after the next reply: the member's updates are handled one after the other.)
    assert await world.seed(_count, EvalVoter) == 1
    assert await world.seed(_tally_total) == 31
    await world.seed(_others_vote, cid)
    assert await world.seed(_tally_total) == 32 * 31

    # 4. The secretary closes the vote and reviews: one override, with a reason.
    await sec.send("/evaluation")
    await sec.expect(t["home"])
    await sec.press(t["close_vote"])
    await sec.expect(edited=True)
    await sec.press(t["review"])
    listing = await sec.expect(edited=True)
    target = next(b for row in listing.buttons for b in row if b.startswith("党员"))
    await sec.press(target)
    await sec.expect(edited=True)
    await sec.press(t["basic"])
    await sec.expect(t["why"])
    await sec.send(t["reason"])
    card = await sec.expect(t["saved"])
    assert t["reason"] in card.text

    # 5. Public notice; the member objects, by name; the secretary answers in the bot.
    await sec.send("/evaluation")
    await sec.expect(t["home"])
    assert await world.seed(_count, EvalResult, EvalResult.override_reason.is_not(None)) == 1
    await sec.press(t["publish"])
    await sec.expect(edited=True)
    await me.expect(t["notice"])
    await me.press(t["object"])
    await me.expect(edited=True)
    await me.press(t["named"])
    await me.expect()
    await me.send(t["objection"])
    await me.expect(t["passed"])
    told = await sec.expect(t["objection"])
    await staff.expect(t["objection"])
    await sec.press(next(b for row in told.buttons for b in row if t["answer_btn"] in b))
    await sec.expect()
    await sec.send(t["answer"])
    await sec.expect()
    await me.expect(t["answered"])

    # 6. After the objection window, up for approval; the staff approve.
    world.app.clock.advance(days=40)
    await sec.send("/evaluation")
    await sec.expect(t["home"])
    assert await world.seed(_count, EvalObjection, EvalObjection.answer.is_not(None)) == 1
    await sec.press(t["send_up"])
    await sec.expect(edited=True)
    await staff.send("/evaluation")
    overview = await staff.expect(t["home"])
    await staff.press(next(b for row in overview.buttons for b in row if t["approve"] in b))
    await staff.expect(edited=True)

    # 7. "My grade".
    await staff.send("/evaluation")
    await staff.expect(t["home"])
    assert (await world.seed(_campaign)).stage == "final"
    staged = await world.seed(_count, AuditLog, AuditLog.entity == "eval_campaign")
    assert staged == 1 + 5  # opened, then five stages closed
    await me.send("/evaluation")
    await me.expect(t["home"])
    await me.press(t["my_grade"])
    await me.expect(t["grade_is"], edited=True)
    await me.send("/mygrade")  # the free-text "my grade" answer reads the same result
    answer = await me.expect("🏅")
    assert "2026" in answer.text and t["not_yet"] not in answer.text


async def test_a_stale_stage_button_writes_nothing(world):
    cid = await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=FIRST_TG, language_code="en")
    await sec.send("/evaluation")
    home = await sec.expect("Democratic evaluation")
    stale = EvalAdvance(campaign=cid, stage="vote").pack()  # skipping the self-assessment
    answer = await sec.press_data(stale, home.message_id, force=True)
    assert answer.show_alert
    assert (await world.seed(_campaign)).stage == "self"
    answer = await sec.press_data("es:1:bogus", home.message_id, force=True)
    assert answer.show_alert
