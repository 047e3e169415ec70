"""Flood control (429 + retry_after) and fault injection through the control API."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError

from bot.emulator import EmulatorServer
from bot.emulator.client import EmulatorClient, EmulatorError
from bot.emulator.flood import FloodConfig, FloodControl


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def control(clock: FakeClock, **settings: float) -> FloodControl:
    return FloodControl(FloodConfig(**settings), clock)  # type: ignore[arg-type]


def retry_after(flood: FloodControl, chat_id: int, private: bool = True) -> int | None:
    try:
        flood.check(chat_id, private)
    except Exception as exc:
        return exc.parameters["retry_after"]  # type: ignore[attr-defined]
    return None


def test_private_chat_allows_a_burst_then_one_per_second() -> None:
    clock = FakeClock()
    flood = control(clock, private_burst=3)
    assert [retry_after(flood, 1) for _ in range(3)] == [None, None, None]
    assert retry_after(flood, 1) == 1
    assert retry_after(flood, 2) is None  # another chat has its own bucket
    clock.now += 1.0
    assert retry_after(flood, 1) is None
    assert retry_after(flood, 1) == 1


def test_group_allows_twenty_per_minute() -> None:
    clock = FakeClock()
    flood = control(clock)
    assert all(retry_after(flood, -5, private=False) is None for _ in range(20))
    assert retry_after(flood, -5, private=False) == 3  # one message per 3 s refills
    clock.now += 3
    assert retry_after(flood, -5, private=False) is None


def test_global_limit_applies_across_chats() -> None:
    clock = FakeClock()
    flood = control(clock, global_per_second=30, global_burst=30)
    assert all(retry_after(flood, chat) is None for chat in range(30))
    assert retry_after(flood, 999) == 1


def test_disabled_flood_control_never_refuses() -> None:
    flood = control(FakeClock(), enabled=False, private_burst=1)
    assert all(retry_after(flood, 1) is None for _ in range(100))


async def test_bot_gets_429_with_retry_after(bot: Bot, emulator: EmulatorClient) -> None:
    await emulator.set_flood(enabled=True, private_burst=2, private_per_second=0.5)
    user = await emulator.create_user("Flooded")
    await bot.send_message(user.id, "1")
    await bot.send_message(user.id, "2")
    with pytest.raises(TelegramRetryAfter) as error:
        await bot.send_message(user.id, "3")
    assert error.value.retry_after == 2
    assert "Too Many Requests: retry after 2" in error.value.message
    assert [m.text for m in await user.messages()] == ["1", "2"]  # the refused one is not sent


async def test_flood_settings_are_validated(emulator: EmulatorClient) -> None:
    with pytest.raises(EmulatorError, match="unknown flood setting"):
        await emulator.set_flood(per_hour=5)
    with pytest.raises(EmulatorError, match="positive number"):
        await emulator.set_flood(private_burst=-1)
    settings = await emulator.set_flood(enabled=True)
    assert settings["enabled"] is True and settings["group_per_minute"] == 20


@pytest.mark.parametrize(
    ("kind", "error"),
    [("429", TelegramRetryAfter), ("500", TelegramServerError), ("502", TelegramServerError)],
)
async def test_fault_injection_fails_the_next_n_calls(
    bot: Bot, emulator: EmulatorClient, kind: str, error: type[Exception]
) -> None:
    user = await emulator.create_user("Faulty")
    await emulator.inject_fault("sendMessage", kind, count=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(error) as raised:
            await bot.send_message(user.id, "lost")
        if kind == "429":
            assert raised.value.retry_after == 7  # type: ignore[attr-defined]
    await bot.get_me()  # other methods are unaffected
    await bot.send_message(user.id, "delivered")
    assert [m.text for m in await user.messages()] == ["delivered"]
    assert await emulator.call("GET", "/_emu/faults") == []


async def test_fault_on_any_method_and_clearing(bot: Bot, emulator: EmulatorClient) -> None:
    await emulator.inject_fault("*", 500, count=5)
    with pytest.raises(TelegramServerError):
        await bot.get_me()
    await emulator.clear_faults()
    assert (await bot.get_me()).is_bot


async def test_hang_fault_makes_the_client_time_out(
    emulator_server: EmulatorServer, emulator: EmulatorClient, bot: Bot
) -> None:
    user = await emulator.create_user("Hang")
    await emulator.inject_fault("sendMessage", "hang", seconds=30)
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await bot.send_message(user.id, "never", request_timeout=1)
    assert await user.messages() == []
    await bot.send_message(user.id, "after the hang")


async def test_bad_fault_requests(emulator: EmulatorClient) -> None:
    with pytest.raises(EmulatorError, match="fault kind"):
        await emulator.inject_fault("sendMessage", "418")
    with pytest.raises(EmulatorError, match="positive"):
        await emulator.inject_fault("sendMessage", "500", count=0)
