"""The emulator's state and the rules shared by the Bot API and the control API."""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import CHAT_NOT_FOUND, ApiError, bad_request, forbidden
from .events import EventHub
from .faults import FaultInjector
from .files import FileStore
from .flood import FloodConfig, FloodControl
from .markup import Markup
from .models import BotAccount, Chat, PendingCallback, User
from .updates import UpdateQueue, WebhookSender

FIRST_USER_ID = 7_000_000_001  # above 2**32, so 32-bit id columns fail early
FIRST_GROUP_ID = 1_000_000_001


@dataclass(slots=True)
class EmulatorConfig:
    """Settings of one emulator; every field has a Telegram-like default."""

    token: str | None = None  # None: a random "<id>:<secret>" token
    bot_username: str = "branchbot_test_bot"
    bot_first_name: str = "Branch Bot"
    privacy_mode: bool = True
    callback_timeout: float = 15.0  # seconds a callback query can be answered
    webhook_retry_delay: float = 0.2  # first backoff after a failed webhook delivery
    flood: FloodConfig = field(default_factory=FloodConfig)
    clock: Callable[[], float] = time.monotonic  # for flood control and callback timeouts


def _random_token() -> str:
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(26)}"


class World:
    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        cfg = self.config
        token = cfg.token or _random_token()
        bot_id = token.split(":", 1)[0]
        if not bot_id.isdigit() or ":" not in token:
            raise ValueError("a bot token looks like '<digits>:<secret>'")
        self.bot = BotAccount(
            token, int(bot_id), cfg.bot_first_name, cfg.bot_username, cfg.privacy_mode
        )
        self.hub = EventHub()
        self.flood = FloodControl(cfg.flood, cfg.clock)
        self.faults = FaultInjector()
        self.files = FileStore()
        self.updates = UpdateQueue(self.hub)
        # set by the Bot API layer: runs a method call found in a webhook's reply
        self.execute: Callable[[str, dict[str, Any]], Awaitable[Any]] = _no_executor
        self.webhook = WebhookSender(
            self.updates, lambda m, p: self.execute(m, p), cfg.webhook_retry_delay
        )
        self._init_state()

    def _init_state(self) -> None:
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.callbacks: dict[str, PendingCallback] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._next_user_id = FIRST_USER_ID
        self._next_group = FIRST_GROUP_ID

    def reset(self) -> None:
        """Forget users, chats, files, updates, faults and the webhook; keep the bot."""
        self.webhook.delete(drop_pending=True)
        self.updates.clear()
        self.updates.allowed = None
        self.faults.clear()
        self.flood.reset()
        self.files.clear()
        self._init_state()
        self.hub.publish({"type": "reset"})

    # --- users and chats -------------------------------------------------------------

    def upsert_user(self, user_id: int | None, **fields: Any) -> User:
        """Create a user, or update the one with this id (so seeding can run twice)."""
        if user_id is None:
            while self._next_user_id in self.users:
                self._next_user_id += 1
            user_id = self._next_user_id
        if user_id <= 0 or user_id == self.bot.id:
            raise bad_request("user id must be a positive integer other than the bot's")
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = User(id=user_id, first_name=fields.pop("first_name"))
        for name, value in fields.items():
            setattr(user, name, value)
        if user_id not in self.chats:
            self.chats[user_id] = Chat(id=user_id, type="private", user=user)
        self.hub.publish({"type": "user", "user": user.to_control()})
        return user

    def create_group(
        self,
        title: str,
        members: dict[int, str],
        chat_id: int | None = None,
        chat_type: str = "supergroup",
        bot_status: str = "member",
    ) -> Chat:
        if chat_type not in ("group", "supergroup"):
            raise bad_request('chat type must be "group" or "supergroup"')
        for user_id in members:
            self.user(user_id)
        if chat_id is None:
            self._next_group += 1
            base = self._next_group
            chat_id = -(10**12 + base) if chat_type == "supergroup" else -base
        if chat_id >= 0:
            raise bad_request("group chat ids are negative")
        if chat_id in self.chats:
            raise bad_request(f"chat {chat_id} already exists")
        chat = Chat(id=chat_id, type=chat_type, title=title, members=dict(members))
        chat.members[self.bot.id] = bot_status
        self.chats[chat_id] = chat
        self.hub.publish({"type": "chat", "chat": chat.to_control()})
        return chat

    def user(self, user_id: int) -> User:
        user = self.users.get(user_id)
        if user is None:
            raise bad_request(f"user {user_id} not found")
        return user

    def chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request(CHAT_NOT_FOUND)
        return chat

    def bot_target(self, chat_id: int) -> Chat:
        """The chat a bot wants to write to, refused like Telegram refuses it."""
        chat = self.chat(chat_id)
        if chat.user is not None:
            if chat.user.blocked_bot:
                raise forbidden("bot was blocked by the user")
            if not chat.user.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif not chat.is_member(self.bot.id):
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        return chat

    def message(self, chat: Chat, message_id: int, missing: str) -> dict[str, Any]:
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request(missing)
        return message

    # --- messages ------------------------------------------------------------------------

    def store_message(
        self,
        chat: Chat,
        sender: dict[str, Any],
        content: dict[str, Any],
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": chat.next_message_id(),
            "from": sender,
            "chat": chat.to_api(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            # Telegram nests one level of replies only
            message["reply_to_message"] = {
                k: v for k, v in reply_to.items() if k != "reply_to_message"
            }
        message.update(content)
        chat.messages[message["message_id"]] = message
        return message

    def post_bot_message(
        self,
        chat: Chat,
        content: dict[str, Any],
        markup: Markup,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if markup.inline is not None:
            content["reply_markup"] = markup.inline
        message = self.store_message(chat, self.bot.to_api(), content, reply_to)
        self.hub.publish({"type": "message", "from_bot": True, "message": message}, chat)
        self.apply_reply_keyboard(chat, markup)
        return message

    def apply_reply_keyboard(self, chat: Chat, markup: Markup) -> None:
        if markup.reply_keyboard is not None:
            chat.reply_keyboard = markup.reply_keyboard
        elif markup.remove_keyboard:
            chat.reply_keyboard = None
        else:
            return
        self.hub.publish({"type": "reply_keyboard", "keyboard": chat.reply_keyboard}, chat)

    def replace_message(self, chat: Chat, message: dict[str, Any]) -> dict[str, Any]:
        chat.messages[message["message_id"]] = message
        self.hub.publish({"type": "edit", "from_bot": True, "message": message}, chat)
        return message

    def delete_message(self, chat: Chat, message_id: int) -> None:
        if chat.messages.pop(message_id, None) is None:
            raise bad_request("message to delete not found")
        self.hub.publish({"type": "delete", "message_id": message_id}, chat)

    def callback(self, query_id: str) -> PendingCallback | None:
        return self.callbacks.get(query_id)

    def new_callback_id(self) -> str:
        return str(secrets.randbits(62))


async def _no_executor(method: str, params: dict[str, Any]) -> Any:
    raise ApiError(404, "Not Found")
