"""/me while joining says where the joining stands and what to do next, not "you have
not joined" (issue 8, the newcomer's walk)."""

from __future__ import annotations

import pytest

from tests.e2e.test_onboarding import T as JOIN_T
from tests.e2e.test_onboarding import _branch_with_roster

T = {
    "zh": {
        **JOIN_T["zh"],
        "joining_me": "您正在加入",
        "path": "红旗村党支部",
        "pick": "点您的姓名",
        "type": "请输入您在支部登记的姓名",
        "waiting": "正在等待支部书记审核",
        "not_linked": "还没有加入任何支部",
    },
    "en": {
        **JOIN_T["en"],
        "joining_me": "You are joining",
        "path": "红旗村党支部",
        "pick": "Tap your name in the list above",
        "type": "Type your full name",
        "waiting": "is waiting for the branch secretary's decision",
        "not_linked": "not linked to any branch yet",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_me_tells_a_newcomer_where_the_joining_stands(world, lang):
    t = T[lang]
    code = await world.seed(_branch_with_roster)
    newcomer = await world.emu.create_user("Xiao", language_code=t["lang"])
    await newcomer.send("/me")
    await newcomer.expect(t["not_linked"])  # nothing opened yet: the plain answer

    await newcomer.send(f"/start {code}")
    await newcomer.expect(t["joining"])
    await newcomer.expect()
    await newcomer.send("/me")
    answer = await newcomer.expect(t["joining_me"])
    assert t["path"] in answer.text and t["pick"] in answer.text
    assert t["not_linked"] not in answer.text

    await newcomer.press(t["not_on"])
    await newcomer.expect(t["type_name"])
    await newcomer.send("/me")
    answer = await newcomer.expect(t["joining_me"])
    assert t["type"] in answer.text
    await newcomer.send("陈晓")  # /me left the step as it was
    await newcomer.expect(t["sent"])

    await newcomer.send("/me")
    answer = await newcomer.expect(t["waiting"])
    assert t["path"] in answer.text


ASK = {"zh": "我们支部几星了？", "en": "what's my star rating"}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_an_applicant_asking_anything_is_told_the_request_waits(world, lang):
    """An applicant whose request waits for the secretary, asking about the stars or
    sending a photo, is told the request waits, not to go and open an invite link."""
    t = T[lang]
    code = await world.seed(_branch_with_roster)
    newcomer = await world.emu.create_user("Xiao", language_code=t["lang"])
    await newcomer.send(f"/start {code}")
    await newcomer.expect(t["joining"])
    await newcomer.expect()
    await newcomer.press(t["not_on"])
    await newcomer.expect(t["type_name"])
    await newcomer.send("陈晓")
    await newcomer.expect(t["sent"])
    await newcomer.send(ASK[lang])
    answer = await newcomer.expect(t["waiting"])
    assert t["path"] in answer.text
    await newcomer.send_photo(b"\x89PNG\r\n\x1a\n")
    await newcomer.expect(t["waiting"])
