"""What users do: write, share a contact, upload, press inline buttons.

Each action stores the user's message like Telegram would and queues the update the bot
is allowed to see. In groups, privacy mode limits the bot to commands, mentions of it,
and replies to its messages.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from .errors import bad_request
from .formatting import auto_entities
from .markup import callback_data_of
from .membership import member
from .models import Chat, PendingCallback, User
from .params import Upload
from .world import World


def user_chat(world: World, user: User, chat_id: int | None) -> Chat:
    chat = world.chat(user.id if chat_id is None else chat_id)
    if not chat.is_member(user.id):
        raise bad_request(f"user {user.id} is not a member of chat {chat.id}")
    return chat


def send_as_user(
    world: World,
    user_id: int,
    chat_id: int | None = None,
    *,
    text: str | None = None,
    contact: dict[str, Any] | None = None,
    photo: Upload | None = None,
    document: Upload | None = None,
    caption: str | None = None,
    reply_to: int | None = None,
) -> dict[str, Any]:
    user = world.user(user_id)
    chat = user_chat(world, user, chat_id)
    content: dict[str, Any] = {}
    if text is not None:
        if not text.strip():
            raise bad_request("message text is empty")
        content["text"] = text
        if entities := auto_entities(text):
            content["entities"] = entities
    elif contact is not None:
        content["contact"] = contact
    elif photo is not None:
        content["photo"] = [world.files.add(photo, "photo").photo_size()]
    elif document is not None:
        content["document"] = world.files.add(document, "document").document()
    else:
        raise bad_request("a message needs text, a contact, a photo or a document")
    if caption and (photo is not None or document is not None):
        content["caption"] = caption
        if entities := auto_entities(caption):
            content["caption_entities"] = entities
    replied = None
    if reply_to is not None:
        replied = world.message(chat, reply_to, "message to be replied not found")
    if chat.user is not None:
        # writing to a bot (re)starts it, also after the user had blocked it
        user.started, user.blocked_bot = True, False
    message = world.store_message(chat, user.to_api(), content, replied)
    world.hub.publish({"type": "message", "from_bot": False, "message": message}, chat)
    if _bot_sees(world, chat, message):
        world.updates.push("message", message)
    return message


def share_contact(
    world: World, user_id: int, chat_id: int | None = None, phone: str | None = None
) -> dict[str, Any]:
    user = world.user(user_id)
    phone = phone or user.phone
    if not phone:
        raise bad_request(f"user {user_id} has no phone number to share")
    contact = {"phone_number": phone, "first_name": user.first_name, "user_id": user.id}
    if user.last_name:
        contact["last_name"] = user.last_name
    return send_as_user(world, user_id, chat_id, contact=contact)


def press_button(
    world: World, user_id: int, chat_id: int, message_id: int, data: str, *, force: bool = False
) -> PendingCallback:
    """Press an inline button; ``force`` sends data that no button carries (a forged press)."""
    user = world.user(user_id)
    chat = world.chat(chat_id)
    message = world.message(chat, message_id, "message not found")
    if not force and data not in callback_data_of(message.get("reply_markup")):
        raise bad_request(f"message {message_id} has no button with callback_data {data!r}")
    query = PendingCallback(
        id=world.new_callback_id(),
        user_id=user.id,
        chat_id=chat.id,
        message_id=message_id,
        data=data,
        created=world.config.clock(),
    )
    world.callbacks[query.id] = query
    world.hub.publish(
        {
            "type": "callback",
            "callback_query_id": query.id,
            "user_id": user.id,
            "message_id": message_id,
            "data": data,
        },
        chat,
    )
    world.updates.push(
        "callback_query",
        {
            "id": query.id,
            "from": user.to_api(),
            "message": message,
            "chat_instance": _chat_instance(world, chat),
            "data": data,
        },
    )
    return query


def _chat_instance(world: World, chat: Chat) -> str:
    digest = hashlib.sha256(f"{world.bot.id}:{chat.id}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big") >> 1)


def _bot_sees(world: World, chat: Chat, message: dict[str, Any]) -> bool:
    if chat.user is not None or not world.bot.privacy_mode:
        return True
    if chat.members.get(world.bot.id) in ("creator", "administrator"):
        return True  # privacy mode does not apply to admins
    if not chat.is_member(world.bot.id):
        return False
    replied = message.get("reply_to_message")
    if replied is not None and replied["from"]["id"] == world.bot.id:
        return True
    text = message.get("text") or message.get("caption") or ""
    me = world.bot.username.lower()
    for entity in message.get("entities") or message.get("caption_entities") or []:
        value = _utf16_slice(text, entity["offset"], entity["length"]).lower()
        if entity["type"] == "mention" and value == f"@{me}":
            return True
        if entity["type"] == "bot_command" and entity["offset"] == 0:
            _, _, target = value.partition("@")
            return target in ("", me)
    return False


def _utf16_slice(text: str, offset: int, length: int) -> str:
    raw = text.encode("utf-16-le")
    return raw[offset * 2 : (offset + length) * 2].decode("utf-16-le")


def set_member_status(world: World, chat_id: int, user_id: int, status: str) -> dict[str, Any]:
    """Join, leave, promote or ban a user in a group, with Telegram's service message."""
    chat = world.chat(chat_id)
    user = world.user(user_id)
    if chat.user is not None:
        raise bad_request("private chats have no members to change")
    was_in = chat.is_member(user_id)
    old = member(world, user_id, chat.members.get(user_id, "left"))
    chat.members[user_id] = status
    now_in = chat.is_member(user_id)
    world.hub.publish({"type": "chat", "chat": chat.to_control()})
    world.updates.push(
        "chat_member",
        {
            "chat": chat.to_api(),
            "from": user.to_api(),
            "date": int(time.time()),
            "old_chat_member": old,
            "new_chat_member": member(world, user_id, status),
        },
    )
    if was_in == now_in:
        return {}
    content = (
        {"new_chat_members": [user.to_api()]} if now_in else {"left_chat_member": user.to_api()}
    )
    message = world.store_message(chat, user.to_api(), content)
    world.hub.publish({"type": "message", "from_bot": False, "message": message}, chat)
    world.updates.push("message", message)  # service messages reach bots in privacy mode too
    return message
