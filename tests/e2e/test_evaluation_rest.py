"""The last pieces of the democratic evaluation, end to end in Chinese and English:
"my grade" when this year's result is not yet published (last year's approved one
stands, with its year), the priority mark for recommendation of excellent members, the
branch secretary's read-only view of the disposal checklist, and the staff's way back
from a branch's card to the committee the overview was narrowed to — with forged and
stale presses refused, nothing written.

The city is test_evaluation_after's; campaigns are seeded at the stage each story needs.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.db.models import EvalCampaign, EvalResult, Member, Organisation
from handlers.callbacks import Disposal, EvalCard, EvalHome, EvalView
from tests.e2e.test_evaluation_after import (
    CITY_STAFF,
    OTHER_SEC,
    SECRETARY,
    TWO_STAFF,
    _campaign,
    _city,
    _member_id,
)

T = {
    "zh": {
        "lang": "zh-hans",
        "not_published": "2026 年度先锋指数评议结果尚未公布",
        "latest": "最近一次经上级审批的评定等次（2025 年度）：优秀",
        "unqualified_latest": "（2025 年度）：不合格",
        "this_year": "2026 年度先锋指数：",
        "grade_q": "我的评议等次是什么",
        "priority_btn": "⭐ 优先推荐",
        "priority_list": "优先推荐党员：2 名",
        "priority_list_after": "优先推荐党员：1 名",
        "marked": "⭐ 优先推荐：2026 年度民主评议被评为优秀",
        "marked_last": "⭐ 优先推荐：2025 年度民主评议被评为优秀",
        "commend": "优秀党员名单",
        "sheet": "2026年度优秀党员",
        "caption": "名优秀党员",
        "yes": "是",
        "denied": "没有权限",
        "my_grade": "我的等次",
        "roster": "支部名册",
    },
    "en": {
        "lang": "en",
        "not_published": "Your Vanguard Index for 2026 is not yet published",
        "latest": "Your latest approved grade, for 2025: excellent",
        "unqualified_latest": "for 2025: unqualified",
        "this_year": "Your Vanguard Index for 2026: ",
        "grade_q": "my grade?",
        "priority_btn": "⭐ Priority for recommendation",
        "priority_list": "Priority for recommendation: 2",
        "priority_list_after": "Priority for recommendation: 1",
        "marked": "⭐ Priority for recommendation: excellent in the democratic evaluation 2026.",
        "marked_last": "recommendation: excellent in the democratic evaluation 2025.",
        "commend": "Commendation list",
        "sheet": "Excellent members 2026",
        "caption": "excellent members",
        "yes": "yes",
        "denied": "not allowed",
        "my_grade": "My grade",
        "roster": "Branch roster",
    },
}


async def _last_year(session, now) -> dict[str, int]:
    """The city of test_evaluation_after, with 红旗村党支部's approved evaluation moved
    to last year and this year's at the vote."""
    ids = await _city(session, now)
    await session.execute(
        update(EvalCampaign).where(EvalCampaign.id == ids["final"]).values(period="2025")
    )
    org = await session.scalar(select(EvalCampaign.org_id).where(EvalCampaign.id == ids["final"]))
    ids["current"] = (await _campaign(session, now, org, "vote")).id
    return ids


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_my_grade_shows_last_years_until_this_years_is_published(world, lang):
    t = T[lang]
    ids = await world.seed(_last_year)
    best = await world.emu.create_user("党员01", user_id=SECRETARY + 1, language_code=t["lang"])
    low = await world.emu.create_user("党员03", user_id=SECRETARY + 3, language_code=t["lang"])

    await best.send("/mygrade")
    answer = await best.expect(t["not_published"])
    assert t["latest"] in answer.text and "89" in answer.text
    await low.send(t["grade_q"])  # the free-text question reads the same
    answer = await low.expect(t["not_published"])
    assert t["unqualified_latest"] in answer.text
    assert t["this_year"] not in answer.text
    assert "⭐" not in answer.text

    # Last year's excellent member keeps the priority mark until a newer evaluation of
    # the branch is approved; then the mark follows the new grade (qualified: none).
    await best.send("/mygrade")
    assert t["marked_last"] in (await best.expect(t["not_published"])).text
    await world.seed(_approve_this_year, ids["current"])
    await best.send("/mygrade")
    answer = await best.expect(t["this_year"])
    assert "⭐" not in answer.text and t["not_published"] not in answer.text


async def _approve_this_year(session, now, cid: int) -> None:
    current = await session.get(EvalCampaign, cid)
    current.stage = "final"
    best = await _member_id(session, now, 1)
    session.add(
        EvalResult(
            campaign_id=current.id,
            member_id=best,
            total=Decimal("80"),
            computed_grade="qualified",
            proposed_grade="qualified",
            grade="qualified",
        )
    )


async def _leave(session, now, i: int) -> None:
    member = await session.get(Member, await _member_id(session, now, i))
    member.status = "left"


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_excellent_members_are_marked_for_priority_recommendation(world, lang):
    t = T[lang]
    await world.seed(_city)
    staff = await world.emu.create_user("组织部", user_id=CITY_STAFF, language_code=t["lang"])
    street = await world.emu.create_user("街道组工", user_id=TWO_STAFF, language_code=t["lang"])
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    best = await world.emu.create_user("党员01", user_id=SECRETARY + 1, language_code=t["lang"])
    other_sec = await world.emu.create_user("王书记", user_id=OTHER_SEC, language_code=t["lang"])

    # The member sees the mark with their grade, in /evaluation and in /mygrade.
    await best.send("/evaluation")
    await best.expect()
    await best.press(t["my_grade"])
    assert t["marked"] in (await best.expect(edited=True)).text
    await best.send("/mygrade")
    assert t["marked"] in (await best.expect("🏅")).text

    # The secretary sees it on the member's card, and only there where it holds.
    await sec.send("/roster")
    await sec.expect()
    await sec.press("党员01")
    assert t["marked"] in (await sec.expect(edited=True)).text
    await sec.send("/roster")
    await sec.expect()
    await sec.press("党员05")
    assert "⭐" not in (await sec.expect(edited=True)).text

    # The staff see who is marked, and the commendation list says it per member.
    await staff.send("/evaluation")
    await staff.expect()
    await staff.press(t["priority_btn"])
    listing = await staff.expect(t["priority_list"], edited=True)
    assert "党员01" in listing.text and "=HYPERLINK(1)" in listing.text
    assert "党员05" not in listing.text and "党员02" not in listing.text
    # Someone who left the branch carries no mark any more.
    await world.seed(_leave, 4)
    await staff.send("/evaluation")
    await staff.expect()
    await staff.press(t["priority_btn"])
    listing = await staff.expect(t["priority_list_after"], edited=True)
    assert "=HYPERLINK(1)" not in listing.text
    await staff.send("/evaluation")
    await staff.expect()
    await staff.press(t["commend"])
    doc = await staff.expect(t["caption"])
    data = world.server.world.files.get(doc.document["file_id"]).data
    rows = list(load_workbook(io.BytesIO(data))[t["sheet"]].iter_rows(values_only=True))
    assert [(r[2], r[5]) for r in rows[1:]] == [("党员01", t["yes"]), ("=HYPERLINK(1)", None)]

    # The street's staff do not oversee the city: a forged scope is refused; nor is the
    # list a branch secretary's.
    await street.send("/evaluation")
    theirs = await street.expect()
    answer = await street.press_data(
        EvalHome(act="priority", org=await world.seed(_city_id)).pack(),
        theirs.message_id,
        force=True,
    )
    assert answer.show_alert and t["denied"] in answer.text
    await other_sec.send("/evaluation")
    own = await other_sec.expect()
    answer = await other_sec.press_data(EvalHome(act="priority").pack(), own.message_id, force=True)
    assert answer.show_alert and t["denied"] in answer.text


async def _city_id(session, now) -> int:
    return await session.scalar(select(Organisation.id).where(Organisation.name == "冷水江市委"))


BACK = {
    "zh": {"by_committee": "按党委查看", "back": "◀ 返回", "approve": "✓ 审批", "done": "完成"},
    "en": {
        "by_committee": "By committee",
        "back": "◀ Back",
        "approve": "✓ Approve",
        "done": "Done",
    },
}


async def _street_id(session, now) -> int:
    return await session.scalar(
        select(Organisation.id).where(Organisation.name == "沙塘湾街道党工委")
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_back_from_a_branch_card_returns_to_the_narrowed_overview(world, lang):
    t, b = T[lang], BACK[lang]
    ids = await world.seed(_city)
    staff = await world.emu.create_user("组织部", user_id=CITY_STAFF, language_code=t["lang"])
    street = await world.emu.create_user("街道组工", user_id=TWO_STAFF, language_code=t["lang"])

    await staff.send("/evaluation")
    await staff.expect()
    await staff.press(b["by_committee"])
    await staff.expect(edited=True)
    await staff.press("沙塘湾街道党工委")
    narrowed = await staff.expect("🏛 沙塘湾街道党工委", edited=True)
    await staff.press("新华社区党支部", message=narrowed)
    card = await staff.expect("新华社区党支部", edited=True)
    await staff.press(b["back"], message=card)
    again = await staff.expect(edited=True)
    assert again.text.startswith("🏛 沙塘湾街道党工委") and "红旗村党支部" not in again.text
    # Approving from the card comes back there too.
    await staff.press("新华社区党支部", message=again)
    await staff.expect("新华社区党支部", edited=True)
    pressed = await staff.press(b["approve"])
    assert b["done"] in pressed.text
    after = await staff.expect(edited=True)
    assert after.text.startswith("🏛 沙塘湾街道党工委") and "红旗村党支部" not in after.text
    assert (await world.seed(_stage_of, ids["waiting"])) == "final"

    # A card "within" a committee the person does not oversee: refused.
    await street.send("/evaluation")
    theirs = await street.expect()
    forged = EvalCard(campaign=ids["waiting"], org=await world.seed(_city_id))
    answer = await street.press_data(forged.pack(), theirs.message_id, force=True)
    assert answer.show_alert and t["denied"] in answer.text
    # A card button sent before the committee was carried still opens the card, and
    # Back goes to everything the person oversees.
    older = EvalView(campaign=ids["waiting"], act="card").pack()
    answer = await street.press_data(older, theirs.message_id, force=True)
    assert not answer.show_alert
    card = await street.expect("新华社区党支部", edited=True)
    await street.press(b["back"], message=card)
    overview = await street.expect(edited=True)
    assert not overview.text.startswith("🏛") and "红旗村党支部" in overview.text


async def _stage_of(session, now, cid: int) -> str:
    return (await session.get(EvalCampaign, cid)).stage


DISPOSAL = {
    "zh": {
        "checklist": "⚠️ 不合格党员处置进度",
        "follow": "由上级党组织勾选办理",
        "talk": "1. 谈心谈话",
        "unqualified": "⚠️ 不合格党员处置",
    },
    "en": {
        "checklist": "⚠️ Disposal checklist",
        "follow": "here you follow where each stands",
        "talk": "1. Talk with the member",
        "unqualified": "⚠️ Unqualified: disposal",
    },
}


async def _steps(session, now, cid: int, i: int) -> dict:
    row = await session.get(EvalResult, (cid, await _member_id(session, now, i)))
    return dict(row.disposal_steps)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_secretary_follows_the_disposal_checklist_read_only(world, lang):
    t, d = T[lang], DISPOSAL[lang]
    ids = await world.seed(_city)
    staff = await world.emu.create_user("组织部", user_id=CITY_STAFF, language_code=t["lang"])
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    plain = await world.emu.create_user("党员05", user_id=SECRETARY + 5, language_code=t["lang"])
    other_sec = await world.emu.create_user("王书记", user_id=OTHER_SEC, language_code=t["lang"])

    await sec.send("/evaluation")
    await sec.expect()
    await sec.press(d["checklist"])
    listing = await sec.expect(d["follow"], edited=True)
    assert next(b for row in listing.buttons for b in row) == "⏳ 党员03 · 0/5"
    await sec.press("党员03", message=listing)
    card = await sec.expect(d["talk"], edited=True)
    assert "⬜ " + d["talk"] in card.text
    assert [b for row in card.buttons for b in row] == ["◀ 返回" if lang == "zh" else "◀ Back"]

    # The staff tick the first step; the secretary sees it, and still cannot tick.
    await staff.send("/evaluation")
    await staff.expect()
    await staff.press(d["unqualified"])
    await staff.expect(edited=True)
    await staff.press("党员03")
    await staff.expect(edited=True)
    await staff.press("⬜ " + d["talk"])
    await staff.expect(edited=True)
    assert await world.seed(_steps, ids["final"], 3) == {"talk": "2026-11-20"}
    await sec.press("◀ 返回" if lang == "zh" else "◀ Back", message=card)
    listing = await sec.expect(edited=True)
    assert next(b for row in listing.buttons for b in row) == "⏳ 党员03 · 1/5"
    mid = await world.seed(_member_id, 3)
    for step, done in ((1, True), (0, False)):  # a forged tick, and a forged untick
        forged = Disposal(campaign=ids["final"], member=mid, act="set", step=step, done=done)
        answer = await sec.press_data(forged.pack(), listing.message_id, force=True)
        assert answer.show_alert and t["denied"] in answer.text
    assert await world.seed(_steps, ids["final"], 3) == {"talk": "2026-11-20"}

    # A member of the branch, and another branch's secretary, see none of it.
    for person in (plain, other_sec):
        await person.send("/evaluation")
        own = await person.expect()
        assert not own.has_button(d["checklist"])
        for press in (
            EvalView(campaign=ids["final"], act="disposal"),
            Disposal(campaign=ids["final"], member=mid),
        ):
            answer = await person.press_data(press.pack(), own.message_id, force=True)
            assert answer.show_alert and t["denied"] in answer.text
