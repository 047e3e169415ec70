"""Two staff, one decision (issue 8, item 13): a decision names the version it was shown.

Staff A opens a branch's month (proposed star), staff B adjusts it with a reason, then A
presses her stale "Confirm": refused, the current state shown, B's level and reason kept,
and the branch told once.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.models import PeriodSnapshot
from tests.handlers.conftest import SUPERUSER, user
from tests.handlers.populated import populate
from tests.integration.month_world import STAFF_TG

STALE = {"zh": "有人已修改", "en": "Someone else changed this in the meantime"}


async def _snapshot(harness, snapshot_id: int) -> PeriodSnapshot:
    async with harness.app.sessions() as s:
        return (
            await s.execute(select(PeriodSnapshot).where(PeriodSnapshot.id == snapshot_id))
        ).scalar_one()


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_stale_confirm_is_refused_and_shows_the_current_state(harness, lang):
    async with harness.app.sessions() as s:
        city = await populate(s)
        await s.commit()
    snap = await _snapshot(harness, city.snapshot)
    target = 5 if snap.proposed_star != 5 else 4
    code = "zh-hans" if lang == "zh" else "en"
    a, b = user(STAFF_TG, code), user(SUPERUSER, code)

    await harness.press(a, f"sa:{snap.id}:view:0:0")  # A is shown version 0
    shown = harness.session.sent("EditMessageText")[-1].reply_markup.inline_keyboard
    stale_ok = shown[0][0].callback_data
    assert stale_ok == f"sa:{snap.id}:ok:0:0"

    await harness.press(b, f"sa:{snap.id}:set:{target}:0")
    await harness.text(b, "带动集体经济成效突出")
    after_b = await _snapshot(harness, snap.id)
    assert (after_b.confirmed_star, after_b.version) == (target, 1)

    harness.session.requests.clear()
    await harness.press(a, stale_ok)
    (alert,) = harness.alerts()
    assert STALE[lang] in alert
    shown_now = harness.session.sent("EditMessageText")[-1]
    assert "★" * target in shown_now.text and "带动集体经济成效突出" in shown_now.text
    assert not [m for m in harness.session.sent() if m.chat_id != STAFF_TG]  # nobody told
    final = await _snapshot(harness, snap.id)
    assert (final.confirmed_star, final.adjust_reason, final.version) == (
        target,
        "带动集体经济成效突出",
        1,
    )

    # A's fresh view (version 1) offers no one-tap confirm of the proposed level over B's
    # reasoned adjustment: its buttons change the level, and only with a reason.
    rows = shown_now.reply_markup.inline_keyboard
    assert not [b for row in rows for b in row if ":ok:" in (b.callback_data or "")]
    fresh = rows[0][0].callback_data
    prefix, level, version = fresh.rsplit(":", 2)
    assert (prefix, version) == (f"sa:{snap.id}:set", "1") and int(level) != target
    harness.session.requests.clear()
    await harness.press(a, fresh)
    assert (await _snapshot(harness, snap.id)).version == 1  # nothing before the reason
    await harness.text(a, "复核后按实际调整")
    final = await _snapshot(harness, snap.id)
    assert (final.confirmed_star, final.adjust_reason, final.version) == (
        int(level),
        "复核后按实际调整",
        2,
    )
