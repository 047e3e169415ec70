"""Conversation steps survive hostile input (issue 8, item 7): a forged calendar month or
year, and a count typed in digits `int` cannot read, get an answer — and the step
keeps working afterwards. What is sent at the wrong step of a recording is kept, not
dropped."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import Evidence, Organisation
from bot.services import orgs
from tests.e2e.test_month import PNG, ROOT, SECRETARY, STAFF, T, _branch

EXPIRED = {"zh": "此按钮已失效", "en": "This button has expired"}
RANGE = {"zh": "数字应在 1 到 100000 之间", "en": "between 1 and 100000"}
NOT_NUMBER = {"zh": "请输入数字，例如 2", "en": "Please send a number, e.g. 2"}
NOTE = {"zh": "简要", "en": "short note"}
PROOF = {"zh": "佐证材料", "en": "as the proof"}
RECORDED = {"zh": "已登记", "en": "Recorded"}
FAILED = ("That failed", "操作失败")


async def secretary_at_month(world, lang, seed=_branch):
    """The secretary, their branch (as seeded) and the /month checklist they asked for."""
    branch = await world.seed(seed)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=T[lang]["lang"])
    await sec.send("/month")
    return sec, branch, await sec.expect(T[lang]["progress"])


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_forged_calendar_month_or_year_leaves_the_date_step_working(world, lang):
    t = T[lang]
    await world.seed(_branch)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/month")
    await sec.expect(t["progress"])
    await sec.press("📝 " + t["log"])
    await sec.expect()
    await sec.press(t["general"])
    calendar = await sec.expect(edited=True)
    for forged in ("cl:nav:2026:13:0", "cl:nav:999999:1:0", "cl:pick:2026:13:1", "cl:nav:0:0:0"):
        answer = await sec.press_data(forged, calendar.message_id, force=True)
        assert answer.answered and EXPIRED[lang] in answer.text, (forged, answer)
    await sec.press(t["today"])
    await sec.expect(edited=True)
    await sec.press(t["skip"])
    await sec.expect(t["who"], edited=True)
    assert not any(f in m.text for m in await sec.messages() for f in FAILED)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_unicode_digits_typed_as_a_count(world, lang):
    sec, branch, month = await secretary_at_month(world, lang)
    await sec.press_data(f"ri:{branch}:member_education", month.message_id, force=True)
    await sec.expect()
    for odd in ("²", "①", "⁵", "two", "3次"):
        await sec.send(odd)
        assert NOT_NUMBER[lang] in (await sec.expect()).text, odd
    for out_of_range in ("0", "9" * 40):
        await sec.send(out_of_range)
        assert RANGE[lang] in (await sec.expect()).text, out_of_range
    await sec.send("１２")  # full-width digits, as a Chinese keyboard types them
    await sec.expect(NOTE[lang])
    assert not any(f in m.text for m in await sec.messages() for f in FAILED)


async def _evidence(session, now):
    rows = await session.execute(select(Evidence.key, Evidence.count, Evidence.note,
                                        Evidence.file_kind))  # fmt: skip
    return [tuple(r) for r in rows.all()]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_photo_sent_at_the_note_step_is_the_proof(world, lang):
    """The walk: "Type a short note" answered with the photo. It is recorded as the
    proof (its caption, if any, as the note), not dropped with a hint."""
    sec, branch, month = await secretary_at_month(world, lang)
    await sec.press_data(f"ri:{branch}:member_education", month.message_id, force=True)
    await sec.expect()
    await sec.send("2")
    await sec.expect(NOTE[lang])
    await sec.send_photo(PNG)
    reply = (await sec.expect()).text
    assert PROOF[lang] in reply and RECORDED[lang] in reply, reply
    assert await world.seed(_evidence) == [("education_sessions", 2, None, "photo")]
    # With a caption, the caption is the note.
    await sec.press_data(f"ri:{branch}:member_education", month.message_id, force=True)
    await sec.expect()
    await sec.send("1")
    await sec.expect(NOTE[lang])
    await sec.send_photo(PNG, caption="党课学习")
    reply = (await sec.expect()).text
    assert PROOF[lang] in reply and RECORDED[lang] in reply, reply
    assert ("education_sessions", 1, "党课学习", "photo") in await world.seed(_evidence)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_photo_sent_at_the_count_step_is_kept_for_the_record(world, lang):
    sec, branch, month = await secretary_at_month(world, lang)
    await sec.press_data(f"ri:{branch}:member_education", month.message_id, force=True)
    await sec.expect()
    await sec.send_photo(PNG)
    assert PROOF[lang] in (await sec.expect()).text  # kept, and the count asked again
    await sec.send("3")
    await sec.expect(NOTE[lang])
    await sec.send("学习笔记")
    # The proof came already: the record is complete, no step asks for it again.
    assert RECORDED[lang] in (await sec.expect()).text
    assert await world.seed(_evidence) == [("education_sessions", 3, "学习笔记", "photo")]


async def _two_branches(session, now):
    first = await session.get(Organisation, await _branch(session, now))
    other = await orgs.create_org(session, ROOT.actor, now, name="青山村党支部", kind="branch",
                                  parent_id=first.parent_id, domain="village")  # fmt: skip
    return first.id, other.id


ITEM = {"zh": "得分：", "en": "Points: "}
CHECKLIST = {"zh": "📋 任务清单", "en": "📋 Checklist"}
BACK = {"zh": "◀ 任务清单", "en": "◀ Checklist"}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_item_press_counts_only_on_its_own_checklist(world, lang):
    """An item button (`iv:`) is drawn on a branch's checklist of this month only. The
    same data forged onto another message, or naming another branch than the checklist
    it is pressed on, gets the expired alert and redraws nothing."""
    t = T[lang]
    first, other = await world.seed(_two_branches)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/help")
    help_message = await sec.expect()
    await sec.send("/month")
    month = await sec.expect(t["progress"])
    answer = await sec.press_data(f"iv:{first}:member_education", help_message.message_id,
                                  force=True)  # fmt: skip
    assert answer.show_alert and EXPIRED[lang] in answer.text, answer
    await sec.expect_silence()
    # The same press on the checklist it belongs to shows the item.
    answer = await sec.press_data(f"iv:{first}:member_education", month.message_id)
    assert not answer.show_alert, answer
    assert ITEM[lang] in (await sec.expect(edited=True)).text

    # Staff of the city see both branches: one branch's item pressed on the other's list.
    staff = await world.emu.create_user("组织部", user_id=STAFF, language_code=t["lang"])
    await staff.send("/orgs")
    listing = await staff.expect()
    await staff.press_data(f"ov:{first}:0", listing.message_id, force=True)
    card = await staff.expect(edited=True)
    await staff.press(CHECKLIST[lang], message=card)
    shown = await staff.expect(edited=True)
    assert "红旗村党支部" in shown.text
    answer = await staff.press_data(f"iv:{other}:member_education", shown.message_id,
                                    force=True)  # fmt: skip
    assert answer.show_alert and EXPIRED[lang] in answer.text, answer
    await staff.expect_silence()
    answer = await staff.press_data(f"iv:{first}:member_education", shown.message_id)
    assert ITEM[lang] in (await staff.expect(edited=True)).text


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_checklist_press_counts_only_on_a_message_that_carries_it(world, lang):
    """The checklist button (`mo:`) sits on a branch's checklist, an item of it, /tasks,
    its star answer, its meeting list and its card in /orgs. Forged onto any other
    message, or naming another branch than the message it is pressed on, it gets the
    expired alert and redraws nothing (it redrew whatever message it was pressed on)."""
    t = T[lang]
    first, other = await world.seed(_two_branches)
    sec = await world.emu.create_user("李书记", user_id=SECRETARY, language_code=t["lang"])
    await sec.send("/help")
    help_message = await sec.expect()
    for data in (f"mo:{first}:0", "mo:0:0", f"mo:{first}:1"):
        answer = await sec.press_data(data, help_message.message_id, force=True)
        assert answer.show_alert and EXPIRED[lang] in answer.text, (data, answer)
    await sec.expect_silence()
    await sec.send("/month")
    month = await sec.expect(t["progress"])
    answer = await sec.press_data(f"mo:{other}:0", month.message_id, force=True)
    assert answer.show_alert, answer  # not their branch
    await sec.expect_silence()
    # Where the button is drawn, it works: a page turn, back from an item, /rating, /tasks.
    answer = await sec.press_data(f"mo:{first}:0", month.message_id, force=True)
    assert not answer.show_alert, answer
    assert t["progress"] in (await sec.expect(edited=True)).text
    await sec.press_data(f"iv:{first}:member_education", month.message_id)
    assert ITEM[lang] in (await sec.expect(edited=True)).text
    await sec.press(BACK[lang], message=month)
    assert t["progress"] in (await sec.expect(edited=True)).text
    await sec.press("🗂 " + t["meetings"], message=month)
    await sec.expect(edited=True)
    await sec.press(BACK[lang], message=month)
    assert t["progress"] in (await sec.expect(edited=True)).text
    for command in ("/rating", "/tasks"):
        await sec.send(command)
        shown = await sec.expect()
        answer = await sec.press(CHECKLIST[lang], message=shown)
        assert not answer.show_alert, (command, answer)
        assert t["progress"] in (await sec.expect(edited=True)).text, command

    # Staff see both branches: one branch's checklist pressed on the other's card.
    staff = await world.emu.create_user("组织部", user_id=STAFF, language_code=t["lang"])
    await staff.send("/orgs")
    listing = await staff.expect()
    await staff.press_data(f"ov:{first}:0", listing.message_id, force=True)
    card = await staff.expect(edited=True)
    answer = await staff.press_data(f"mo:{other}:0", card.message_id, force=True)
    assert answer.show_alert and EXPIRED[lang] in answer.text, answer
    await staff.expect_silence()
    await staff.press(CHECKLIST[lang], message=card)
    assert "红旗村党支部" in (await staff.expect(edited=True)).text
