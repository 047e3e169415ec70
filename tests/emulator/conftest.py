"""Fixtures: an emulator on a free port, a control API client, and an aiogram Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.emulator import EmulatorConfig, EmulatorServer, FloodConfig
from bot.emulator.client import EmulatorClient
from bot.emulator.testing import aiogram_bot


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    """Flood control is off unless a test turns it on; a short callback timeout."""
    return EmulatorConfig(flood=FloodConfig(enabled=False), callback_timeout=2.0)


@pytest.fixture
async def emulator_server(emulator_config: EmulatorConfig) -> AsyncIterator[EmulatorServer]:
    server = EmulatorServer(emulator_config)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def emulator(emulator_server: EmulatorServer) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator_server.url, default_timeout=3.0) as client:
        yield client


@pytest.fixture
async def bot(emulator_server: EmulatorServer):
    instance = aiogram_bot(emulator_server.url, emulator_server.token)
    yield instance
    await instance.session.close()
