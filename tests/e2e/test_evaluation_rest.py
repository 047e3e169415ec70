"""The last pieces of the democratic evaluation, end to end in Chinese and English:
"my grade" when this year's result is not yet published (last year's approved one
stands, with its year), the priority mark for recommendation of excellent members, the
branch secretary's read-only view of the disposal checklist, and the staff's way back
from a branch's card to the committee the overview was narrowed to — with forged and
stale presses refused, nothing written.

The city is test_evaluation_after's; campaigns are seeded at the stage each story needs.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from bot.db.models import EvalCampaign
from tests.e2e.test_evaluation_after import SECRETARY, _campaign, _city

T = {
    "zh": {
        "lang": "zh-hans",
        "not_published": "2026 年度先锋指数评议结果尚未公布",
        "latest": "最近一次经上级审批的评定等次（2025 年度）：优秀",
        "unqualified_latest": "（2025 年度）：不合格",
        "this_year": "2026 年度先锋指数：",
        "grade_q": "我的评议等次是什么",
    },
    "en": {
        "lang": "en",
        "not_published": "Your Vanguard Index for 2026 is not yet published",
        "latest": "Your latest approved grade, for 2025: excellent",
        "unqualified_latest": "for 2025: unqualified",
        "this_year": "Your Vanguard Index for 2026: ",
        "grade_q": "my grade?",
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
    await world.seed(_last_year)
    best = await world.emu.create_user("党员01", user_id=SECRETARY + 1, language_code=t["lang"])
    low = await world.emu.create_user("党员03", user_id=SECRETARY + 3, language_code=t["lang"])

    await best.send("/mygrade")
    answer = await best.expect(t["not_published"])
    assert t["latest"] in answer.text and "89" in answer.text
    await low.send(t["grade_q"])  # the free-text question reads the same
    answer = await low.expect(t["not_published"])
    assert t["unqualified_latest"] in answer.text
    assert t["this_year"] not in answer.text
