"""getMe, chats and members, and the bot's command menu."""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import bad_request
from ..membership import member
from ..params import Params
from ..world import World
from .content import chat_id
from .registry import method

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


@method("getMe")
async def get_me(world: World, p: Params) -> dict[str, Any]:
    return world.bot.get_me()


@method("logOut", "close")
async def log_out(world: World, p: Params) -> bool:
    return True


@method(
    "setMyDescription",
    "setMyShortDescription",
    "setMyName",
    "setChatMenuButton",
    "setMyDefaultAdministratorRights",
)
async def accept_profile_setting(world: World, p: Params) -> bool:
    # profile cosmetics that nothing in the emulator displays
    return True


@method("getChat")
async def get_chat(world: World, p: Params) -> dict[str, Any]:
    return world.chat(chat_id(p)).to_full_info()


@method("getChatMember")
async def get_chat_member(world: World, p: Params) -> dict[str, Any]:
    chat = world.chat(chat_id(p))
    user_id = p.int("user_id")
    if user_id != world.bot.id and user_id not in world.users:
        raise bad_request("PARTICIPANT_ID_INVALID")
    if chat.user is not None:
        status = "member" if user_id in (chat.id, world.bot.id) else "left"
    else:
        status = chat.members.get(user_id, "left")
    return member(world, user_id, status)


@method("getChatAdministrators")
async def get_chat_administrators(world: World, p: Params) -> list[dict[str, Any]]:
    chat = world.chat(chat_id(p))
    return [
        member(world, uid, status)
        for uid, status in chat.members.items()
        if status in ("creator", "administrator")
    ]


@method("getChatMemberCount")
async def get_chat_member_count(world: World, p: Params) -> int:
    chat = world.chat(chat_id(p))
    if chat.user is not None:
        return 2
    return sum(1 for uid in chat.members if chat.is_member(uid))


def _commands_key(p: Params) -> tuple[str, str]:
    scope = p.json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), p.str("language_code", "")


@method("setMyCommands")
async def set_my_commands(world: World, p: Params) -> bool:
    commands = p.json("commands", list)
    if commands is None:
        raise bad_request("commands is empty")
    cleaned = []
    for item in commands:
        if not isinstance(item, dict) or not _COMMAND_RE.match(str(item.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = item.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": item["command"], "description": description})
    if len(cleaned) > 100:
        raise bad_request("too many commands")
    world.commands[_commands_key(p)] = cleaned
    return True


@method("getMyCommands")
async def get_my_commands(world: World, p: Params) -> list[dict[str, str]]:
    return world.commands.get(_commands_key(p), [])


@method("deleteMyCommands")
async def delete_my_commands(world: World, p: Params) -> bool:
    world.commands.pop(_commands_key(p), None)
    return True
