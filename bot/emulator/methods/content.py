"""Pieces shared by the methods that send or edit messages."""

from __future__ import annotations

from typing import Any

from ..errors import bad_request
from ..formatting import parse_html, utf16_len
from ..markup import Markup, parse_markup
from ..models import Chat
from ..params import Params
from ..world import World

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def formatted(
    p: Params, field: str, entities_field: str, *, limit: int, required: bool
) -> dict[str, Any]:
    """``{field: text, entities_field: [...]}`` from text in the requested parse mode."""
    raw = p.str(field, required=False)
    if raw is None:
        if required:
            raise bad_request("message text is empty")
        return {}
    mode = (p.opt_str("parse_mode") or "").lower()
    if mode == "html":
        text, entities = parse_html(raw)
    else:
        # Markdown modes are not parsed: the text is kept as written
        text, entities = raw, p.json(entities_field, list) or []
    if not text.strip():
        if required:
            raise bad_request("message text is empty")
        return {}
    if utf16_len(text) > limit:
        raise bad_request(
            "message is too long" if field == "text" else "message caption is too long"
        )
    content: dict[str, Any] = {field: text}
    if entities:
        content[entities_field] = entities
    return content


def chat_id(p: Params) -> int:
    value = p.values.get("chat_id")
    if isinstance(value, str) and value.startswith("@"):
        raise bad_request("chat not found")  # no public channels here
    return p.int("chat_id")


def markup(p: Params) -> Markup:
    return parse_markup(p.json("reply_markup"))


def replied_message(world: World, chat: Chat, p: Params) -> dict[str, Any] | None:
    reply = p.json("reply_parameters")
    if reply is None and "reply_to_message_id" in p:
        reply = {
            "message_id": p.int("reply_to_message_id"),
            "allow_sending_without_reply": p.bool("allow_sending_without_reply"),
        }
    if reply is None:
        return None
    message_id = reply.get("message_id")
    found = chat.messages.get(message_id) if isinstance(message_id, int) else None
    if found is None and not reply.get("allow_sending_without_reply"):
        raise bad_request("message to be replied not found")
    return found


def edit_target(world: World, p: Params) -> tuple[Chat, dict[str, Any]]:
    if "inline_message_id" in p:
        raise bad_request("inline messages are not supported by the emulator")
    chat = world.chat(chat_id(p))
    message = world.message(chat, p.int("message_id"), "message to edit not found")
    if message["from"]["id"] != world.bot.id:
        raise bad_request("message can't be edited")
    return chat, message
