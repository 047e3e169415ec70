"""Forged presses from people of another branch (issue 8, item 8 and section 2).

The attackers are a member and the secretary of a branch in another town; every press
points at the first branch's rows. Each press must be answered with the specific
refusal (an alert: the refusal comes before any other answer), nothing at all may be
written, and no press may end in the error handler.
"""

from __future__ import annotations

import pytest

from tests.handlers.conftest import user
from tests.handlers.populated import OTHER_MEMBER_TG, populate, row_counts
from tests.integration.month_world import OTHER_SECRETARY_TG

NOT_ALLOWED = {"zh": "您没有权限进行此操作。", "en": "You are not allowed to do that."}
EXPIRED = {"zh": "此按钮已失效", "en": "This button has expired"}
FAILED = ("That failed", "操作失败", "saved, but", "已经保存")


def _presses(c) -> list[tuple[str, str]]:
    """(callback data, the refusal expected); "denied" or "expired"."""
    b, w = c.world.branch.id, c.world
    member = w.people["张三"].id
    return [
        (f"mc:{member}", "denied"),
        (f"ma:{member}:secretary:0", "denied"),
        (f"ma:{member}:unlink:0", "denied"),
        (f"ma:{member}:name:0", "denied"),
        (f"ms:{member}:status:left:0", "denied"),
        (f"oa:{b}:invite", "denied"),
        (f"oa:{b}:revoke", "denied"),
        (f"oa:{w.town.id}:staff", "denied"),
        (f"oa:{w.town.id}:new", "denied"),
        (f"ov:{w.town.id}:0", "denied"),
        (f"rp:{b}:0", "denied"),
        (f"mt:{c.meeting}:view:0", "denied"),
        (f"mt:{c.meeting}:edit:0", "denied"),
        (f"mt:{c.meeting}:delete:0", "denied"),
        (f"mt:{c.meeting}:delete_yes:0", "denied"),
        (f"ml:{b}:0", "denied"),
        (f"mo:{b}:0", "denied"),
        (f"iv:{b}:member_education", "denied"),
        (f"nm:{b}:general", "denied"),
        (f"ri:{b}:member_education", "denied"),
        (f"dc:{c.request}:1", "denied"),
        (f"dc:{c.request}:0", "denied"),
        (f"sa:{c.snapshot}:view:0:0", "denied"),
        (f"sa:{c.snapshot}:ok:0:0", "denied"),
        (f"sa:{c.snapshot}:set:5:0", "denied"),
        ("sx:2026-06:confirm:0:0", "denied"),
        ("sx:2026-06:confirm_sure:1:1", "denied"),
        ("sx:2026-06:close:0:0", "denied"),
        ("sx:2026-06:close_sure:1:0", "denied"),
        ("sl:2026-06:0", "denied"),
        # Steps of conversations the attacker never started.
        ("lm:save:", "expired"),
        ("at:t:1:0", "expired"),
        ("ev:grade:0", "expired"),
        ("ct:save:", "expired"),
        ("cl:pick:2026:7:1", "expired"),
    ]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("attacker", [OTHER_SECRETARY_TG, OTHER_MEMBER_TG])
async def test_forged_presses_from_another_branch_are_refused_and_write_nothing(
    harness, lang, attacker
):
    async with harness.app.sessions() as s:
        city = await populate(s)
        await s.commit()
    who = user(attacker, "zh-hans" if lang == "zh" else "en")
    await harness.text(who, "/help")  # remembers the language: the one legitimate write
    async with harness.app.sessions() as s:
        before = await row_counts(s)
    presses = _presses(city)
    for data, _expected in presses:
        harness.session.requests.clear()
        await harness.press(who, data)
        answers = harness.session.sent("AnswerCallbackQuery")
        spoken = [r.text for r in harness.session.sent()] + [r.text for r in answers]
        assert not any(f in (t or "") for t in spoken for f in FAILED), (data, spoken)
        assert len(answers) == 1, (data, answers)  # answered once, and with the refusal
        wanted = NOT_ALLOWED[lang] if _expected == "denied" else EXPIRED[lang]
        assert answers[0].show_alert and wanted in answers[0].text, (data, answers[0].text)
        assert not harness.session.sent("EditMessageText"), data
    async with harness.app.sessions() as s:
        assert await row_counts(s) == before
