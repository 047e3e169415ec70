"""Serving: free and busy ports, embedding as a sub-app, the static chat and the live stream."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiohttp import web

from bot.emulator import EmulatorServer, PortInUseError, create_app
from bot.emulator.__main__ import main as run_main
from bot.emulator.client import EmulatorClient
from bot.emulator.testing import aiogram_bot


async def test_busy_port_is_refused_with_one_clear_line(emulator_server: EmulatorServer):
    second = EmulatorServer(port=emulator_server.port)
    with pytest.raises(PortInUseError) as error:
        await second.start()
    assert str(emulator_server.port) in error.value.strerror
    assert "already in use" in error.value.strerror


def test_command_line_refuses_a_busy_port(
    emulator_server: EmulatorServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(["--port", str(emulator_server.port)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: port {emulator_server.port} on 127.0.0.1 is already in use"]


async def test_embedded_as_a_sub_app() -> None:
    parent = web.Application()
    emulator_app = create_app()
    parent.add_subapp("/tg/", emulator_app)
    runner = web.AppRunner(parent)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}/tg"
    try:
        async with EmulatorClient(base) as emu:
            token = (await emu.bot_info())["token"]
            user = await emu.create_user("Sub")
            bot = aiogram_bot(base, token)
            await bot.send_message(user.id, "through the sub-app")
            await bot.session.close()
            assert (await user.expect()).text == "through the sub-app"
        async with aiohttp.ClientSession() as http, http.get(base + "/") as resp:
            assert resp.status == 200 and "static/app.js" in await resp.text()
    finally:
        await runner.cleanup()


async def test_browser_files_are_served(emulator_server: EmulatorServer) -> None:
    async with aiohttp.ClientSession() as http:
        for path, kind in (
            ("/", "text/html"),
            ("/static/app.js", "javascript"),
            ("/static/style.css", "text/css"),
        ):
            async with http.get(emulator_server.url + path) as resp:
                assert resp.status == 200 and kind in resp.headers["Content-Type"]


async def test_live_stream_sends_events(
    emulator_server: EmulatorServer, emulator: EmulatorClient
) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(emulator_server.url + "/_emu/stream") as resp:
            assert resp.headers["Content-Type"] == "text/event-stream"
            assert (await resp.content.readline()).startswith(b"event: hello")
            assert (await resp.content.readline()).startswith(b"data: ")  # the current seq
            user = await emulator.create_user("Live")
            await user.send("hi")
            events = []
            while len(events) < 2:
                line = await asyncio.wait_for(resp.content.readline(), 5)
                if line.startswith(b"data: "):
                    events.append(json.loads(line[6:]))
    assert [e["type"] for e in events] == ["user", "message"]
    assert events[1]["message"]["text"] == "hi" and events[1]["chat_id"] == user.id


async def test_stop_is_prompt_with_open_long_polls(emulator_server: EmulatorServer) -> None:
    bot = aiogram_bot(emulator_server.url, emulator_server.token)
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)  # the poll is now waiting inside the emulator
    loop = asyncio.get_running_loop()
    started = loop.time()
    await emulator_server.stop()
    assert loop.time() - started < 2
    assert await poll == []
    await bot.session.close()
