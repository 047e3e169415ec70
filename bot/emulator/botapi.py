"""HTTP face of the Bot API: ``/bot<token>/<method>`` and ``/file/bot<token>/<path>``."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from .errors import NOT_FOUND, UNAUTHORIZED, ApiError
from .methods import METHODS
from .params import Params, read_params
from .world import World

log = logging.getLogger(__name__)
WORLD = web.AppKey("emulator_world", World)


_JSON = {"Content-Type": "application/json"}


def json_response(body: Any, status: int = 200) -> web.Response:
    # headers as a plain dict: cheaper than content_type=, which parses it (hot path)
    return web.Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        status=status,
        headers=_JSON,
    )


async def call_method(world: World, name: str, params: Params) -> Any:
    handler = METHODS.get(name.lower())
    if handler is None:
        raise NOT_FOUND
    return await handler(world, params)


async def handle_method(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    name = request.match_info["method"].lower()
    try:
        if request.match_info["token"] != world.bot.token:
            raise UNAUTHORIZED
        if name not in METHODS:
            raise NOT_FOUND
        params = await read_params(request)
        await world.faults.apply(name)
        result = await call_method(world, name, params)
    except ApiError as exc:
        # descriptions never contain the token or request bodies, so DEBUG may show them
        log.debug("%s -> %s %s", name, exc.code, exc.description)
        return json_response(exc.to_api(), exc.code)
    return json_response({"ok": True, "result": result})


async def handle_file(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    if request.match_info["token"] != world.bot.token:
        return json_response(UNAUTHORIZED.to_api(), 401)
    stored = world.files.by_path.get(request.match_info["path"])
    if stored is None:
        return json_response(NOT_FOUND.to_api(), 404)
    return web.Response(body=stored.data, content_type=stored.mime_type)


def install(app: web.Application, world: World) -> None:
    async def execute(name: str, values: dict[str, Any]) -> Any:
        return await call_method(world, name, Params(values))

    world.execute = execute
    app.router.add_route("*", "/bot{token}/{method}", handle_method)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_file)
