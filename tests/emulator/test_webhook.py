"""Webhook delivery: secret header, retries, getUpdates refused, replies in the response."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramConflictError
from aiogram.filters import CommandStart
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.emulator.client import EmulatorClient

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/hook", handler)
    return await serve_app(app)


async def serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/hook"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, asyncio.Queue]]:
    """A webhook endpoint that fails its first request, then records the rest."""
    received: asyncio.Queue = asyncio.Queue()
    calls = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.Response(status=500)
        received.put_nowait((dict(request.headers), await request.json()))
        return web.Response(text="ok")

    runner, url = await serve(hook)
    yield url, received
    await runner.cleanup()


async def test_webhook_delivers_with_secret_and_retries(
    bot: Bot, emulator: EmulatorClient, receiver: tuple[str, asyncio.Queue]
) -> None:
    url, received = receiver
    assert await bot.set_webhook(url, secret_token="s3cret_-token")
    user = await emulator.create_user("Hooked")
    await user.send("first")
    await user.send("second")
    headers, update = await asyncio.wait_for(received.get(), 5)
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret_-token"
    assert update["message"]["text"] == "first"  # redelivered after the 500, in order
    _, update2 = await asyncio.wait_for(received.get(), 5)
    assert update2["message"]["text"] == "second"
    assert update2["update_id"] == update["update_id"] + 1
    info = await bot.get_webhook_info()
    assert info.url == url and info.pending_update_count == 0
    assert info.last_error_message and "500" in info.last_error_message


async def test_webhook_delivers_people_in_parallel_and_each_person_in_order(
    bot: Bot, emulator: EmulatorClient
) -> None:
    """As Telegram: one slow update does not hold back everyone else's (several
    connections), but a person's next update waits until their last one was accepted."""
    got: asyncio.Queue[str] = asyncio.Queue()
    release = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        text = (await request.json())["message"]["text"]
        got.put_nowait(text)
        if text == "a1":
            await release.wait()
        return web.Response(text="ok")

    runner, url = await serve(hook)
    try:
        await bot.set_webhook(url)
        a, b = await emulator.create_user("A"), await emulator.create_user("B")
        await a.send("a1")
        await a.send("a2")
        await b.send("b1")
        assert await asyncio.wait_for(got.get(), 5) == "a1"
        assert await asyncio.wait_for(got.get(), 5) == "b1"  # past A's unanswered update
        assert got.empty()  # A's second waits for the first
        release.set()
        assert await asyncio.wait_for(got.get(), 5) == "a2"
    finally:
        release.set()
        await bot.delete_webhook()
        await runner.cleanup()


async def test_get_updates_is_refused_while_a_webhook_is_set(
    bot: Bot, receiver: tuple[str, asyncio.Queue]
) -> None:
    url, _ = receiver
    await bot.set_webhook(url)
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == []


async def test_a_second_poller_ends_the_first_with_409(bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)  # the first poll must be waiting in the emulator
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    assert await second == []


async def test_aiogram_webhook_handler_and_reply_in_response(
    bot: Bot, emulator: EmulatorClient
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(CommandStart())
    async def start(message: Message):
        # returning a method makes aiogram answer it in the webhook response body
        return message.answer("hello from the webhook")

    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, secret_token="abc").register(app, path="/hook")
    runner, url = await serve_app(app)
    try:
        await bot.set_webhook(url, secret_token="abc")
        user = await emulator.create_user("Webhook")
        await user.send("/start")
        reply = await user.expect(contains="hello from the webhook")
        assert reply.from_bot
    finally:
        await bot.delete_webhook()
        await runner.cleanup()


async def test_wrong_secret_is_rejected_by_aiogram_and_retried(
    bot: Bot, emulator: EmulatorClient
) -> None:
    statuses: asyncio.Queue[int] = asyncio.Queue()

    @web.middleware
    async def record_status(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        statuses.put_nowait(response.status)
        return response

    app = web.Application(middlewares=[record_status])
    SimpleRequestHandler(Dispatcher(), bot, secret_token="right").register(app, path="/hook")
    runner, url = await serve_app(app)
    try:
        await bot.set_webhook(url, secret_token="wrong")
        user = await emulator.create_user("Webhook")
        await user.send("hi")
        assert await asyncio.wait_for(statuses.get(), 5) == 401
        assert await asyncio.wait_for(statuses.get(), 5) == 401  # retried, not dropped
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert info.last_error_message and "401" in info.last_error_message
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
