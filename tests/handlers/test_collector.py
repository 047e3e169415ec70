"""The updates every member sends leave no cyclic garbage behind.

`bot.app.settle_collector` lets the collector's youngest pass wait for far more new
objects than Python's default, on the ground that an update frees what it built by
reference counting alone: the collector then walks only what is in flight, rarely,
instead of pausing the loop every few updates. Were an update to leave a reference
cycle (an exception kept in a frame it points at, a session and its transaction
pointing at each other), that ground would be gone; this test would say so.
"""

from __future__ import annotations

import gc
from collections import Counter

from handlers.callbacks import Rsvp
from tests.handlers.conftest import user
from tests.handlers.populated import populate
from tests.integration.month_world import MEMBER_TG, OTHER_SECRETARY_TG


async def test_common_updates_leave_no_cyclic_garbage(harness):
    async with harness.app.sessions() as s:
        city = await populate(s)
        await s.commit()
    member, outsider = user(MEMBER_TG), user(OTHER_SECRETARY_TG, "en")
    coming = Rsvp(notice=city.notice, coming=True).pack()

    async def updates() -> None:
        await harness.text(member, "/me")
        await harness.text(member, "👤 我的信息")  # the menu's button
        await harness.text(member, "/help")
        await harness.press(member, coming)
        await harness.press(outsider, coming)  # refused: not their branch
        await harness.press(member, "rv:999999999:x")  # does not parse: expired

    await updates()  # first use builds caches and lazily built types
    # /me and its menu button got the same record; the presses were answered.
    me, button, _help = harness.texts()
    assert me == button
    assert len(harness.alerts()) == 3
    gc.collect()
    # Held, so that what earlier tests left (a Bot and its session, say) cannot become
    # garbage meanwhile and be counted: only what these updates built is looked at.
    earlier = gc.get_objects()
    known = {id(o) for o in earlier}
    gc.disable()
    try:
        for _ in range(3):
            await updates()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = Counter(type(o).__qualname__ for o in gc.garbage if id(o) not in known)
        assert not left, left
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
