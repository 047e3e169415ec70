"""sendMessage, edits, deletes, callback answers, chat actions and pins."""

from __future__ import annotations

import time
from typing import Any

from ..errors import MESSAGE_NOT_MODIFIED, QUERY_TOO_OLD, bad_request
from ..params import Params
from ..world import World
from .content import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    chat_id,
    edit_target,
    formatted,
    markup,
    replied_message,
)
from .registry import method

_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}


@method("sendMessage")
async def send_message(world: World, p: Params) -> dict[str, Any]:
    chat = world.bot_target(chat_id(p))
    content = formatted(p, "text", "entities", limit=TEXT_LIMIT, required=True)
    keyboard = markup(p)
    replied = replied_message(world, chat, p)
    world.flood.check(chat.id, chat.user is not None)
    return world.post_bot_message(chat, content, keyboard, replied)


def _edited(
    world: World, p: Params, content: dict[str, Any], old: dict[str, Any], keys: tuple[str, ...]
) -> dict[str, Any]:
    """The message after an edit; Telegram drops an inline keyboard the edit leaves out."""
    new_markup = markup(p).inline
    new = {k: v for k, v in old.items() if k not in keys and k != "reply_markup"}
    new.update(content)
    if new_markup is not None:
        new["reply_markup"] = new_markup
    unchanged = all(new.get(k) == old.get(k) for k in (*keys, "reply_markup"))
    if unchanged:
        raise bad_request(MESSAGE_NOT_MODIFIED)
    new["edit_date"] = int(time.time())
    return new


@method("editMessageText")
async def edit_message_text(world: World, p: Params) -> dict[str, Any]:
    chat, old = edit_target(world, p)
    if "text" not in old:
        raise bad_request("there is no text in the message to edit")
    content = formatted(p, "text", "entities", limit=TEXT_LIMIT, required=True)
    return world.replace_message(chat, _edited(world, p, content, old, ("text", "entities")))


@method("editMessageCaption")
async def edit_message_caption(world: World, p: Params) -> dict[str, Any]:
    chat, old = edit_target(world, p)
    if "text" in old:
        raise bad_request("there is no caption in the message to edit")
    content = formatted(p, "caption", "caption_entities", limit=CAPTION_LIMIT, required=False)
    keys = ("caption", "caption_entities")
    return world.replace_message(chat, _edited(world, p, content, old, keys))


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(world: World, p: Params) -> dict[str, Any]:
    chat, old = edit_target(world, p)
    return world.replace_message(chat, _edited(world, p, {}, old, ()))


@method("deleteMessage")
async def delete_message(world: World, p: Params) -> bool:
    world.delete_message(world.chat(chat_id(p)), p.int("message_id"))
    return True


@method("deleteMessages")
async def delete_messages(world: World, p: Params) -> bool:
    chat = world.chat(chat_id(p))
    ids = p.json("message_ids", list)
    if not ids or not all(isinstance(i, int) for i in ids):
        raise bad_request("message_ids must be a non-empty Array of Integer")
    for message_id in ids:
        if message_id in chat.messages:
            world.delete_message(chat, message_id)
    return True


@method("answerCallbackQuery")
async def answer_callback_query(world: World, p: Params) -> bool:
    query = world.callback(p.str("callback_query_id"))
    age = world.config.clock() - query.created if query else 0
    if query is None or query.answered or age > world.config.callback_timeout:
        raise bad_request(QUERY_TOO_OLD)
    text = p.opt_str("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    query.answer = {
        "text": text,
        "show_alert": p.bool("show_alert"),
        "url": p.opt_str("url"),
    }
    world.hub.publish(
        {
            "type": "callback_answer",
            "callback_query_id": query.id,
            "user_id": query.user_id,
            **query.answer,
        },
        world.chats.get(query.chat_id),
    )
    return True


@method("sendChatAction")
async def send_chat_action(world: World, p: Params) -> bool:
    chat = world.bot_target(chat_id(p))
    action = p.str("action")
    if action not in _CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    world.hub.publish({"type": "chat_action", "action": action}, chat)
    return True


@method("pinChatMessage")
async def pin_chat_message(world: World, p: Params) -> bool:
    chat = world.chat(chat_id(p))
    chat.pinned = world.message(chat, p.int("message_id"), "message to pin not found")
    world.hub.publish({"type": "pin", "message_id": chat.pinned["message_id"]}, chat)
    return True


@method("unpinChatMessage", "unpinAllChatMessages")
async def unpin_chat_message(world: World, p: Params) -> bool:
    chat = world.chat(chat_id(p))
    chat.pinned = None
    world.hub.publish({"type": "pin", "message_id": None}, chat)
    return True
