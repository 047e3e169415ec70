"""Assembling the emulator: ``create_app`` for embedding, ``EmulatorServer`` to run it."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from aiohttp import web

from . import botapi, control
from .botapi import WORLD
from .world import EmulatorConfig, World

STATIC_DIR = Path(__file__).parent / "static"


class PortInUseError(OSError):
    """The host/port the emulator should listen on is taken."""


def create_app(
    config: EmulatorConfig | None = None, *, world: World | None = None
) -> web.Application:
    """An aiohttp app serving the Bot API, the control API and the browser chat.

    Mount it as the root app of a runner, or as a sub-app (``parent.add_subapp("/tg/", app)``);
    the browser chat only uses relative URLs. ``app[WORLD]`` is the emulator's state.
    """
    world = world or World(config)
    app = web.Application(client_max_size=50 * 1024 * 1024)
    app[WORLD] = world
    botapi.install(app, world)
    app.add_routes(control.routes)
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR)

    async def on_shutdown(_: web.Application) -> None:
        world.hub.close()  # ends long polls and live streams so shutdown does not wait

    async def on_cleanup(_: web.Application) -> None:
        await world.webhook.close()

    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app


async def _index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


class EmulatorServer:
    """The emulator listening on ``host:port`` (port 0 picks a free one).

    >>> server = EmulatorServer(EmulatorConfig(flood=FloodConfig(enabled=False)))
    >>> await server.start()          # then use server.url and server.token
    >>> await server.stop()

    Also an async context manager.
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.world = World(config)
        self.app = create_app(world=self.world)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8080``: for ``TelegramAPIServer.from_base``."""
        return f"http://{self.host}:{self.port}"

    @property
    def token(self) -> str:
        return self.world.bot.token

    async def start(self) -> EmulatorServer:
        runner = web.AppRunner(
            self.app, access_log=None, handler_cancellation=True, shutdown_timeout=2.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    exc.errno, f"port {self.port} on {self.host} is already in use"
                ) from None
            raise
        self._runner = runner
        sockets = [s for s in runner.addresses if isinstance(s, tuple)]
        if self.port == 0 and sockets:
            self.port = sockets[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> EmulatorServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
