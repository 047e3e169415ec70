"""A local Telegram Bot API emulator with a control API and a browser chat.

Run the real bot against it with ``TelegramAPIServer.from_base(server.url)`` and drive
users with :class:`bot.emulator.client.EmulatorClient`.
"""

from .botapi import WORLD
from .flood import FloodConfig
from .server import EmulatorServer, PortInUseError, create_app, free_port
from .world import EmulatorConfig, World

__all__ = [
    "WORLD",
    "EmulatorConfig",
    "EmulatorServer",
    "FloodConfig",
    "PortInUseError",
    "World",
    "create_app",
    "free_port",
]
