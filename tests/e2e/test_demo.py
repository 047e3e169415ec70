"""`branchbot demo`, in-process: the seeded city as its personas see it, in zh and en."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.demo import seed as demo
from bot.demo.run import DEMO_TOKEN, Demo, hints, invite_command, running_demo
from bot.emulator import free_port
from bot.emulator.client import EmulatorClient, ExpectationFailed

ROOT = Path(__file__).resolve().parents[2]
SLOW = 10  # replies that score a branch; the machine may be busy

T = {
    "zh": {
        "done": "已完成",
        "stars": "星级评定",
        "joining": "您正在加入",
        "share": "分享您的手机号",
        "welcome": "欢迎您",
        "coming": "🙋 2 人参加",
        "ask_staff": "全市支部星级情况怎么样？",
        "rate": "规范达标率",
        "subs": "🏛 下级党组织",
        "ask_member": "我们支部现在几颗星？",
        "provisional": "暂定",
        "members": "党员",
        "ask_secretary": "這個月還有哪些任務沒完成",
        "outstanding": "未完成",
        "eval_stage": "阶段：民主测评",
        "vote": "🗳 投票",
        "not_published": "年度先锋指数评议结果尚未公布",
        "latest": "最近一次经上级审批的评定等次",
    },
    "en": {
        "done": "Done",
        "stars": "Star levels for",
        "joining": "You are joining",
        "share": "share your phone number",
        "welcome": "Welcome",
        "coming": "🙋 2 coming",
        "ask_staff": "how are my branches doing?",
        "rate": "Compliance rate",
        "subs": "🏛 Sub-committees",
        "ask_member": "what's our star rating",
        "provisional": "provisional",
        "members": "Members",
        "ask_secretary": "what's still outstanding this month?",
        "outstanding": "Outstanding",
        "eval_stage": "Stage: democratic vote",
        "vote": "🗳 Vote",
        "not_published": "is not yet published",
        "latest": "Your latest approved grade, for",
    },
}


@pytest.fixture(params=["zh", "en"])
async def running(request, tmp_path: Path) -> AsyncIterator[tuple[Demo, EmulatorClient]]:
    async with running_demo(free_port(), request.param, tmp_path / "demo.db") as started:
        async with EmulatorClient(started.url, default_timeout=15.0) as emu:
            # The demo keeps Telegram's flood control on; a test types faster than anyone,
            # and the limits themselves are the emulator's tests' business.
            await emu.set_flood(enabled=False)
            yield started, emu


async def test_demo_month_stars_and_invite(running) -> None:
    started, emu = running
    t = T[started.lang]
    info = started.info
    assert info is not None and started.took < 30  # the banner's time; the CLI aims at 5 s

    # The secretary: a month in progress, some items done and some open, a star level.
    secretary = await emu.get_user(demo.SECRETARY.telegram_id)
    await secretary.send("/month")
    month = await secretary.expect(t["done"], timeout=SLOW)
    labels = [label for row in month.buttons for label in row]
    assert any(label.startswith("✅") for label in labels), month.buttons
    assert any(label.startswith("⬜") for label in labels), month.buttons
    assert "★" in month.text and info["period"] in month.text

    # The superior's staff: last month closed, every level confirmed (one adjusted).
    staff = await emu.get_user(demo.STAFF.telegram_id)
    await staff.send(f"/stars {info['previous']}")
    listing = await staff.expect(t["stars"], timeout=SLOW)
    rows = [row[0] for row in listing.buttons if row and "★" in row[0]]
    assert len(rows) == min(8, info["branches"]), listing.buttons
    assert info["branches"] >= 40 and str(info["branches"]) in listing.text
    assert all(row.startswith("✓") for row in rows), rows
    assert hints(started)[demo.STAFF.telegram_id].startswith(f"/stars {info['previous']}")

    # The branch group: the announced meeting, with the two answers seeded.
    group = await emu.get_group(demo.GROUP_CHAT_ID)
    notice = await group.last_message()
    assert notice is not None and t["coming"] in notice.text, notice

    # 陈晓: the command the banner prints joins the branch.
    command = invite_command(info)
    assert hints(started)[demo.NEWCOMER.telegram_id].startswith(command)
    newcomer = await emu.get_user(demo.NEWCOMER.telegram_id)
    await newcomer.send(command)
    await newcomer.expect(t["joining"])
    await newcomer.send("陈")
    while not (await newcomer.expect()).has_button(demo.NEWCOMER.name):
        pass  # skip the unfiltered first page
    await newcomer.press(demo.NEWCOMER.name)
    await newcomer.expect(t["share"])
    await newcomer.share_contact()
    await newcomer.expect(t["welcome"])


async def test_demo_has_a_vote_running_and_last_years_evaluation_approved(running) -> None:
    """Issue 9, section 7: this year's democratic evaluation at the vote, the demo's
    member not having voted; last year's approved, so "my grade" shows it."""
    started, emu = running
    t = T[started.lang]
    year = int(started.info["period"][:4])
    member = await emu.get_user(demo.MEMBER.telegram_id)
    await member.send("/evaluation")
    home = await member.expect(t["eval_stage"], timeout=SLOW)
    assert str(year) in home.text and home.has_button(t["vote"])
    await member.send("/mygrade")
    grade = await member.expect(t["not_published"], timeout=SLOW)
    assert f"{t['latest']}" in grade.text and str(year - 1) in grade.text


def _demo_refuses(tmp_path: Path, *args: str) -> str:
    """Run `branchbot demo ARGS`; it must stop with exit 2 and one line, which is returned,
    leaving nothing in the temporary folder."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    temporary = tmp_path / "tmp"
    temporary.mkdir(exist_ok=True)
    env["TMPDIR"] = str(temporary)
    code = "import sys; sys.argv[0] = 'branchbot'; from bot.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "demo", "--lang", "en", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, lines
    assert list(temporary.iterdir()) == []
    return lines[0]


def test_the_demo_command_shows_its_banner_first_and_nothing_else(tmp_path: Path) -> None:
    """What a newcomer sees: the banner is the first line (no log lines before it), the
    time in it counts from the command, and Ctrl-C stops it without a traceback."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    # Its own temporary folder, to see what the demo leaves there.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env["TMPDIR"] = str(temporary)
    code = "import sys; sys.argv[0] = 'branchbot'; from bot.cli import main; main()"
    launched = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "demo", "--port", str(free_port()), "--lang", "en"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        waited = time.monotonic() - launched
        assert first.startswith("branchbot demo ready ("), first
        took = float(first.split("(")[1].split(" s)")[0])
        assert 0 < took <= waited + 0.5  # from the command, not from after the imports
        assert [p.name[:15] for p in temporary.iterdir()] == ["branchbot-demo-"]
        proc.send_signal(signal.SIGINT)
        # Read through the same text wrapper as readline(): communicate() reads the raw pipe
        # and would lose whatever readline() had already buffered past the first line.
        watchdog = threading.Timer(60, proc.kill)
        watchdog.start()
        try:
            rest = proc.stdout.read()
        finally:
            watchdog.cancel()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Personas, and what to try:" in rest
    for line in rest.splitlines():
        assert not any(level in line for level in (" INFO ", " WARNING ", " ERROR ")), line
    assert "Traceback" not in rest
    # Ctrl-C took the demo's database folder with it.
    assert list(temporary.iterdir()) == []


def test_demo_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert f"port {port} is in use" in _demo_refuses(tmp_path, "--port", str(port))
        # In the demo's language (the last --lang wins).
        zh = _demo_refuses(tmp_path, "--lang", "zh", "--port", str(port))
        assert f"端口 {port} 已被占用" in zh


def test_demo_refuses_a_bad_database_file(tmp_path: Path) -> None:
    port = str(free_port())
    missing = tmp_path / "no" / "such" / "demo.db"
    assert "does not exist" in _demo_refuses(tmp_path, "--port", port, "--db", str(missing))
    assert "is a folder" in _demo_refuses(tmp_path, "--port", port, "--db", str(tmp_path))
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    assert "--fresh" in _demo_refuses(tmp_path, "--port", port, "--db", str(junk))
    assert junk.read_text() == "not a database"  # nothing overwritten without --fresh


async def test_demo_answers_questions_and_shows_the_dashboard(running) -> None:
    started, emu = running
    t = T[started.lang]
    staff = await emu.get_user(demo.STAFF.telegram_id)
    await staff.send(t["ask_staff"])
    home = await staff.expect(t["rate"], timeout=SLOW)
    assert str(started.info["branches"]) in home.text
    await staff.press(t["subs"])
    subs = await staff.expect(edited=True, timeout=SLOW)
    assert sum(1 for row in subs.buttons if "%" in row[0]) >= 3, subs.buttons
    member = await emu.get_user(demo.MEMBER.telegram_id)
    await member.send(t["ask_member"])
    answer = await member.expect(t["provisional"], timeout=SLOW)
    assert "★" in answer.text and started.info["previous"] in answer.text
    secretary = await emu.get_user(demo.SECRETARY.telegram_id)
    await secretary.send(t["ask_secretary"])
    todo = await secretary.expect(t["outstanding"], timeout=SLOW)
    assert "+" in todo.text  # each open item with the points it brings
    # The ledger the staff file: branches, items, and last year's approved member grades.
    await staff.send("/export")
    doc = await staff.expect(timeout=SLOW)
    book = load_workbook(io.BytesIO(await _download(started.url, doc.document["file_id"])))
    branches, items, members = book.worksheets
    assert branches.max_row == started.info["branches"] + 1 and items.max_row > branches.max_row
    assert members.title == t["members"] and members.max_row > 1
    assert {row[4] for row in members.iter_rows(min_row=2, values_only=True)} == {"2025"}


async def _download(url: str, file_id: str) -> bytes:
    """A file the bot sent, the way a Telegram client fetches it (getFile, then the path)."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/bot{DEMO_TOKEN}/getFile", json={"file_id": file_id}) as r:
            path = (await r.json())["result"]["file_path"]
        async with http.get(f"{url}/file/bot{DEMO_TOKEN}/{path}") as r:
            return await r.read()


async def test_demo_clock_fast_forwards_to_the_next_reminder(running) -> None:
    started, emu = running
    zh = started.lang == "zh"
    secretary = await emu.get_user(demo.SECRETARY.telegram_id)
    await secretary.send("/clock")
    await secretary.expect("/clock next")
    await secretary.send("/clock next")
    await secretary.expect("⏩")
    # Whichever comes next on the real calendar: the kickoff, open items, a due date, or
    # the running vote's deadline (the secretary has not voted yet).
    if zh:
        reminder = "工作开始了|未完成|到期|尚未参加"
    else:
        reminder = "has begun|still open|due on|not voted yet"
    got = await secretary.expect(regex=reminder, timeout=SLOW)
    if "尚未参加" in got.text or "not voted yet" in got.text:
        assert "不能关闭" in got.text or "cannot be muted" in got.text  # mandatory
    else:
        assert "/notifications" in got.text
    # A few jumps on, the running vote's deadline: the secretary has not voted yet. (Which
    # jump it is depends on the real date the demo starts from.)
    vote = "尚未参加" if zh else "not voted yet"
    for _ in range(4):
        if any(vote in m.text for m in await secretary.messages() if m.from_bot):
            break
        await secretary.send("/clock next")
        await secretary.expect("⏩")
        with contextlib.suppress(ExpectationFailed):
            await secretary.expect(vote, timeout=SLOW)
    reminded = [m for m in await secretary.messages() if m.from_bot and vote in m.text]
    assert reminded and reminded[0].buttons == [["🗳 投票" if zh else "🗳 Vote"]]
