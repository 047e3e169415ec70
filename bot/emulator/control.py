"""The control API under ``/_emu/``: set the scene, act as users, watch what the bot does.

Bodies are JSON (forms work too); errors have the Bot API's shape. ``client.py`` wraps it
for Python tests, ``static/app.js`` for the browser.

    GET  /_emu/bot                        the bot (token, username, privacy_mode, seq…)
    POST /_emu/bot                        change token, username, privacy_mode, callback_timeout
    GET  /_emu/users                      all users
    POST /_emu/users                      create/update {id?, first_name, language_code, phone…}
    GET  /_emu/chats[?user_id=]           chats (of a user), with members and last message
    POST /_emu/chats                      group {title, members, id?, type?, bot_status?}
    POST /_emu/chats/{id}/members         {user_id, status}: join, leave, promote
    GET  /_emu/chats/{id}/messages        transcript as it is now, reply keyboard
    GET  /_emu/chats/{id}/events          events after ``after``; long-polls ``timeout`` s
    POST /_emu/messages                   a user writes {user_id, chat_id?, text | contact}
    POST /_emu/uploads                    a user sends a photo/document (multipart "file")
    POST /_emu/callbacks                  a user presses {user_id, chat_id, message_id, data}
    GET  /_emu/callbacks/{id}             the bot's answer; long-polls ``timeout`` s
    GET  /_emu/files/{file_id}            a file's bytes
    GET|POST|DELETE /_emu/faults          fault injection {method, kind, count, retry_after}
    GET|POST /_emu/flood                  flood control settings
    POST /_emu/reset                      forget everything but the bot
    GET  /_emu/stream                     server-sent events, for the browser
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

from aiohttp import web

from . import actors
from .botapi import WORLD, json_response
from .errors import ApiError, bad_request
from .events import events_after
from .models import MEMBER_STATUSES
from .params import Params, read_params
from .world import World

routes = web.RouteTableDef()
_MAX_WAIT = 120.0


def _api(handler):  # type: ignore[no-untyped-def]
    """Turn a ``(world, params, request)`` function into an aiohttp handler."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            params = await read_params(request)
            result = await handler(request.app[WORLD], params, request)
        except ApiError as exc:
            return json_response(exc.to_api(), exc.code)
        if isinstance(result, web.StreamResponse):
            return result
        return json_response(result)

    return wrapped


def _wait_seconds(p: Params, default: float = 0.0) -> float:
    return min(max(p.float("timeout", default), 0.0), _MAX_WAIT)


def _bot_info(world: World) -> dict[str, Any]:
    hook = world.updates.webhook
    return {
        **world.bot.get_me(),
        "token": world.bot.token,
        "privacy_mode": world.bot.privacy_mode,
        "webhook_url": hook.url if hook else None,
        "pending_updates": len(world.updates.pending),
        "callback_timeout": world.config.callback_timeout,
        "seq": world.hub.seq,
    }


@routes.get("/_emu/bot")
@_api
async def get_bot(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    return _bot_info(world)


@routes.post("/_emu/bot")
@_api
async def update_bot(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    bot = world.bot
    if "token" in p:
        token = p.str("token")
        head, _, secret = token.partition(":")
        if not head.isdigit() or not secret:
            raise bad_request("a bot token looks like '<digits>:<secret>'")
        bot.token, bot.id = token, int(head)
    bot.username = p.str("username", bot.username)
    bot.first_name = p.str("first_name", bot.first_name)
    bot.privacy_mode = p.bool("privacy_mode", bot.privacy_mode)
    world.config.callback_timeout = p.float("callback_timeout", world.config.callback_timeout)
    return _bot_info(world)


@routes.get("/_emu/users")
@_api
async def list_users(world: World, p: Params, request: web.Request) -> list[dict[str, Any]]:
    return [user.to_control() for user in world.users.values()]


@routes.post("/_emu/users")
@_api
async def create_user(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    existing = world.users.get(p.int("id", required=False) or 0)
    if existing is None or "first_name" in p:
        fields["first_name"] = p.str("first_name")
    for name in ("last_name", "username", "language_code", "phone"):
        if name in p.values:
            fields[name] = p.opt_str(name)
    for name in ("started", "blocked_bot"):
        if name in p.values:
            fields[name] = p.bool(name)
    user = world.upsert_user(p.opt_int("id"), **fields)
    return {**user.to_control(), "seq": world.hub.seq}


@routes.get("/_emu/chats")
@_api
async def list_chats(world: World, p: Params, request: web.Request) -> list[dict[str, Any]]:
    user_id = p.opt_int("user_id")
    chats = world.chats.values()
    if user_id is not None:
        chats = [chat for chat in chats if chat.is_member(user_id)]
    return [_chat_summary(world, chat) for chat in chats]


def _chat_summary(world: World, chat: Any) -> dict[str, Any]:
    last = next(reversed(chat.messages.values()), None) if chat.messages else None
    return {**chat.to_control(), "last_message": last}


@routes.post("/_emu/chats")
@_api
async def create_chat(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    members: dict[int, str] = {}
    for item in p.json("members", list) or []:
        if isinstance(item, dict):
            user_id, status = item.get("user_id"), item.get("status", "member")
        else:
            user_id, status = item, "member"
        if not isinstance(user_id, int) or isinstance(user_id, bool):
            raise bad_request("members must be user ids or {user_id, status} objects")
        if status not in MEMBER_STATUSES:
            raise bad_request(f"member status must be one of {', '.join(MEMBER_STATUSES)}")
        members[user_id] = status
    chat = world.create_group(
        p.str("title"),
        members,
        chat_id=p.opt_int("id"),
        chat_type=p.str("type", "supergroup"),
        bot_status=p.str("bot_status", "member"),
    )
    return {**chat.to_control(), "seq": world.hub.seq}


@routes.post("/_emu/chats/{chat_id}/members")
@_api
async def set_member(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    """Change a member's status ("member", "left", "administrator"…); returns the service
    message (new_chat_members / left_chat_member), or {} if presence did not change."""
    status = p.str("status", "member")
    if status not in MEMBER_STATUSES:
        raise bad_request(f"member status must be one of {', '.join(MEMBER_STATUSES)}")
    chat_id = _path_int(request, "chat_id")
    return actors.set_member_status(world, chat_id, p.int("user_id"), status)


@routes.get("/_emu/chats/{chat_id}/messages")
@_api
async def transcript(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    chat = world.chat(_path_int(request, "chat_id"))
    return {
        "chat": chat.to_control(),
        "messages": list(chat.messages.values()),
        "reply_keyboard": chat.reply_keyboard,
        "pinned_message_id": chat.pinned["message_id"] if chat.pinned else None,
        "last_seq": world.hub.seq,
    }


@routes.get("/_emu/chats/{chat_id}/events")
@_api
async def wait_events(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    """Events in a chat after ``after``; waits up to ``timeout`` s for the first one."""
    chat = world.chat(_path_int(request, "chat_id"))
    after = p.int("after", 0)
    types = set(p.str("types", "").split(",")) - {""}
    from_bot = p.bool("from_bot") if "from_bot" in p else None

    def matching() -> list[dict[str, Any]]:
        return [
            e
            for e in events_after(chat, after)
            if (not types or e["type"] in types)
            and (from_bot is None or e.get("from_bot") == from_bot)
        ]

    events = await world.hub.wait_for(matching, _wait_seconds(p))
    return {"events": events, "last_seq": world.hub.seq}


@routes.post("/_emu/messages")
@_api
async def send_message(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    user_id, chat_id = p.int("user_id"), p.opt_int("chat_id")
    if "contact" in p:
        contact = p.values["contact"]
        if isinstance(contact, (dict, str)) and contact not in ("true", "1"):
            contact = p.json("contact")
            return actors.send_as_user(world, user_id, chat_id, contact=contact)
        return actors.share_contact(world, user_id, chat_id, p.opt_str("phone"))
    return actors.send_as_user(
        world, user_id, chat_id, text=p.str("text"), reply_to=p.opt_int("reply_to_message_id")
    )


@routes.post("/_emu/uploads")
@_api
async def upload(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    kind = p.str("kind", "photo")
    if kind not in ("photo", "document"):
        raise bad_request('kind must be "photo" or "document"')
    file = p.uploads.get("file")
    if file is None:
        raise bad_request('send the file as a multipart part named "file"')
    return actors.send_as_user(
        world,
        p.int("user_id"),
        p.opt_int("chat_id"),
        caption=p.opt_str("caption"),
        reply_to=p.opt_int("reply_to_message_id"),
        **{kind: file},
    )


@routes.post("/_emu/callbacks")
@_api
async def press(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    query = actors.press_button(
        world,
        p.int("user_id"),
        p.int("chat_id"),
        p.int("message_id"),
        p.str("data"),
        force=p.bool("force"),
    )
    return {"callback_query_id": query.id, "seq": world.hub.seq}


@routes.get("/_emu/callbacks/{query_id}")
@_api
async def callback_answer(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    """The bot's answer to a press; waits up to ``timeout`` s for it."""
    query = world.callback(request.match_info["query_id"])
    if query is None:
        raise bad_request("callback query not found")
    await world.hub.wait_for(lambda: query.answered, _wait_seconds(p))
    return {"answered": query.answered, "answer": query.answer, "data": query.data}


@routes.get("/_emu/files/{file_id}")
async def download(request: web.Request) -> web.Response:
    stored = request.app[WORLD].files.by_id.get(request.match_info["file_id"])
    if stored is None:
        return json_response(bad_request("invalid file_id").to_api(), 400)
    headers = {}
    if stored.file_name:
        headers["Content-Disposition"] = (
            f"inline; filename*=UTF-8''{quote(stored.file_name, safe='')}"
        )
    return web.Response(body=stored.data, content_type=stored.mime_type, headers=headers)


@routes.get("/_emu/faults")
@_api
async def list_faults(world: World, p: Params, request: web.Request) -> list[dict[str, Any]]:
    return [fault.to_api() for fault in world.faults.faults]


@routes.post("/_emu/faults")
@_api
async def add_fault(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    fault = world.faults.add(
        p.str("method"),
        p.str("kind"),
        p.int("count", 1),
        retry_after=p.int("retry_after", 1),
        seconds=p.float("seconds", 30.0),
    )
    return fault.to_api()


@routes.delete("/_emu/faults")
@_api
async def clear_faults(world: World, p: Params, request: web.Request) -> bool:
    world.faults.clear()
    return True


@routes.get("/_emu/flood")
@_api
async def get_flood(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    return world.flood.config.to_api()


@routes.post("/_emu/flood")
@_api
async def set_flood(world: World, p: Params, request: web.Request) -> dict[str, Any]:
    world.flood.config.update(dict(p.values))
    world.flood.reset()
    return world.flood.config.to_api()


@routes.post("/_emu/reset")
@_api
async def reset(world: World, p: Params, request: web.Request) -> bool:
    world.reset()
    return True


@routes.get("/_emu/stream")
async def stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: every event as it happens, for the browser chat."""
    hub = request.app[WORLD].hub
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    queue = hub.subscribe()
    try:
        await response.write(f"event: hello\ndata: {hub.seq}\n\n".encode())
        while hub.is_subscribed(queue):
            try:
                event = await asyncio.wait_for(queue.get(), 15)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if event["type"] == "closing":
                break
            data = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            await response.write(f"data: {data}\n\n".encode())
    except ConnectionResetError:
        pass
    finally:
        hub.unsubscribe(queue)
    return response


def _path_int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise bad_request(f"{name} must be an Integer") from None
