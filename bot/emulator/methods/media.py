"""sendPhoto, sendDocument and getFile."""

from __future__ import annotations

from typing import Any

from ..params import Params
from ..world import World
from .content import CAPTION_LIMIT, chat_id, formatted, markup, replied_message
from .registry import method


async def _send_file(world: World, p: Params, kind: str) -> dict[str, Any]:
    chat = world.bot_target(chat_id(p))
    source = p.input_file(kind)
    content = formatted(p, "caption", "caption_entities", limit=CAPTION_LIMIT, required=False)
    keyboard = markup(p)
    replied = replied_message(world, chat, p)
    world.flood.check(chat.id, chat.user is not None)
    stored = world.files.resolve(source, kind)
    if kind == "photo":
        content["photo"] = [stored.photo_size()]
        if p.bool("has_spoiler"):
            content["has_media_spoiler"] = True
    else:
        content["document"] = stored.document()
    return world.post_bot_message(chat, content, keyboard, replied)


@method("sendPhoto")
async def send_photo(world: World, p: Params) -> dict[str, Any]:
    return await _send_file(world, p, "photo")


@method("sendDocument")
async def send_document(world: World, p: Params) -> dict[str, Any]:
    return await _send_file(world, p, "document")


@method("getFile")
async def get_file(world: World, p: Params) -> dict[str, Any]:
    return world.files.get(p.str("file_id")).to_api()
