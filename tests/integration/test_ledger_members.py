"""The ratings ledger's per-member sheet: published Vanguard results only, in scope."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from bot.db.models import EvalCampaign, EvalResult
from bot.services import evaluation, ledgers, periods
from scoring import load_fortress_rubric
from tests.integration.eval_world import (
    NOW,
    STAFF_TG,
    TODAY,
    VRUBRIC,
    add_members,
    make_world,
    to_vote,
    vote_all,
)

RUBRIC = load_fortress_rubric()
PERIOD = "2026-10"


def _book(ledger, lang: str = "en"):
    out = io.BytesIO()
    ledgers.write_ratings_xlsx(ledger, RUBRIC, out, lambda s: s, lang == "zh")
    return load_workbook(io.BytesIO(out.getvalue()))


async def test_members_appear_once_the_notice_is_over_and_never_a_vote(session):
    w = await make_world(session, 8)
    # Legacy names that look like formulas stay text in the sheet.
    w.members[3].name = "=HYPERLINK(1)"
    await add_members(session, w.other, 6, None, "东风")
    await periods.close_period(session, RUBRIC, NOW, PERIOD)
    sec = await w.voter(session, 0)
    staff = await w.principal(session, STAFF_TG)
    c = await to_vote(session, w)
    ids = [m.id for m in w.members]
    marks = {i: {ids[j]: (j % 2) for j in range(8) if j != i} for i in range(8)}
    await vote_all(session, w, c.id, marks)
    await evaluation.advance(session, sec, NOW, TODAY, c.id, "vote", VRUBRIC)

    # In the branch review and in the public notice the results are not published yet.
    for stage in ("review", "notice"):
        ledger = await ledgers.ratings_ledger(session, PERIOD, [None])
        assert ledger.members == [], stage
        assert len(_book(ledger).worksheets) == 2
        if stage == "review":
            await evaluation.advance(session, sec, NOW, TODAY, c.id, "review", VRUBRIC)
    campaign = await session.get(EvalCampaign, c.id)
    later = campaign.notice_due + timedelta(days=1)
    await evaluation.advance(session, sec, NOW, later, c.id, "notice", VRUBRIC)

    ledger = await ledgers.ratings_ledger(session, PERIOD, [None])
    results = {
        r.member_id: r
        for r in (
            await session.execute(select(EvalResult).where(EvalResult.campaign_id == c.id))
        ).scalars()
    }
    assert len(ledger.members) == 8 and not any(m.final for m in ledger.members)
    book = _book(ledger)
    sheet = book.worksheets[2]
    assert sheet.title == "Members" and sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header == [
        "Sub-committee",
        "Branch",
        "Member",
        "Category",
        "Evaluation period",
        "Vanguard Index",
        "Grade",
        "Approved by the superior",
    ]
    rows = {r[2]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {m.name for m in w.members}
    for m in w.members:
        r, mine = rows[m.name], results[m.id]
        assert r[:2] == ("冷水江市委", "红旗村党支部") and r[4] == "2026"
        assert r[5] == float(mine.total) and isinstance(r[5], (int, float))
        assert r[6] == mine.grade.replace("_", " ") and r[7] == "no"
    risky = next(c for c in sheet["C"] if c.value == "=HYPERLINK(1)")
    assert risky.data_type == "s" and risky.quotePrefix
    # Only the result (the header above): no vote counts, self-assessment or review notes.
    assert all(len(row) == len(header) for row in sheet.iter_rows(values_only=True))

    await evaluation.advance(session, staff, NOW, later, c.id, "approval", VRUBRIC)
    ledger = await ledgers.ratings_ledger(session, PERIOD, [None])
    assert all(m.final for m in ledger.members)
    # Another branch's staff scope sees none of them; the branch's own subtree does.
    assert (await ledgers.ratings_ledger(session, PERIOD, [w.other])).members == []
    assert len((await ledgers.ratings_ledger(session, PERIOD, [w.branch])).members) == 8
    # Next year's ledgers still list them (next year's evaluation is not over), not later.
    assert len((await ledgers.ratings_ledger(session, "2027-01", [None])).members) == 8
    assert (await ledgers.ratings_ledger(session, "2028-01", [None])).members == []
    zh = _book(await ledgers.ratings_ledger(session, PERIOD, [None]), "zh")
    assert zh.worksheets[2].max_row == 9
