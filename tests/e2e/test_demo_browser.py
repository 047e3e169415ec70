"""The demo in Debian's chromium, driven by Playwright: the secretary's month in the browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.demo import seed as demo
from bot.demo.run import Demo, running_demo
from bot.emulator import free_port
from bot.emulator.client import EmulatorClient
from tests.browser import ARTIFACTS, marks

SLOW = 15_000  # ms: the checklist scores the branch, and the machine may be busy

pytestmark = marks


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Demo]:
    async with running_demo(free_port(), "zh", tmp_path / "demo.db") as started:
        async with EmulatorClient(started.url) as emu:
            # Playwright presses faster than anyone; the demo keeps flood control on.
            await emu.set_flood(enabled=False)
        yield started


async def test_secretary_month_and_meeting_log(page, running: Demo) -> None:
    from playwright.async_api import expect

    secretary = demo.SECRETARY.telegram_id
    await page.goto(running.url)
    await page.select_option("#persona", value=str(secretary))
    await page.locator(f'.chat-item[data-chat-id="{secretary}"]').click()
    await page.locator("#composer-input").fill("/month")
    await page.locator("#composer-input").press("Enter")

    month = page.locator(".msg", has_text="已完成")
    await expect(month).to_be_visible(timeout=SLOW)
    await expect(month).to_contain_text("★")
    await expect(month.get_by_role("button", name=re.compile("^✅"))).not_to_have_count(0)
    await expect(month.get_by_role("button", name=re.compile("^⬜"))).not_to_have_count(0)

    await month.get_by_role("button", name="📝 记录会议", exact=True).click()
    kinds = page.locator(".msg", has_text="要记录哪类会议")
    await expect(kinds).to_be_visible()
    await kinds.get_by_role("button", name="党小组会", exact=True).click()

    # The same message moves on to the date step: the question is replaced in place.
    step = page.locator(".msg", has_text="党小组会是哪天召开的")
    await expect(step).to_be_visible()
    await expect(page.locator(".msg", has_text="要记录哪类会议")).to_have_count(0)
    await expect(step.get_by_role("button", name="今天", exact=True)).to_be_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "demo-chat.png"))
