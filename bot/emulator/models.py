"""The emulator's world: the bot, users, chats, files and callback queries in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")


@dataclass(slots=True)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone: str | None = None
    is_bot: bool = False
    # Telegram answers 403 to a bot writing first to someone who never started it
    started: bool = True
    blocked_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def to_control(self) -> dict[str, Any]:
        return {
            **self.to_api(),
            "phone": self.phone,
            "started": self.started,
            "blocked_bot": self.blocked_bot,
        }


@dataclass(slots=True)
class BotAccount:
    token: str
    id: int
    first_name: str
    username: str
    privacy_mode: bool = True

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def get_me(self) -> dict[str, Any]:
        return {
            **self.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }


@dataclass(slots=True)
class Chat:
    id: int
    type: str  # private, group or supergroup
    title: str | None = None
    user: User | None = None  # the other side of a private chat
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    pinned: dict[str, Any] | None = None
    last_message_id: int = 0

    def to_api(self) -> dict[str, Any]:
        if self.user is not None:
            data = self.user.to_api()
            data.pop("is_bot")
            data.pop("language_code", None)
            return {**data, "type": "private"}
        return {"id": self.id, "title": self.title, "type": self.type}

    def to_full_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            **self.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if self.pinned is not None:
            info["pinned_message"] = self.pinned
        return info

    def to_control(self) -> dict[str, Any]:
        return {
            **self.to_api(),
            "members": [{"user_id": uid, "status": st} for uid, st in self.members.items()],
            "reply_keyboard": self.reply_keyboard,
        }

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def is_member(self, user_id: int) -> bool:
        if self.user is not None:
            return self.user.id == user_id
        return self.members.get(user_id) in ("creator", "administrator", "member", "restricted")


@dataclass(slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    def to_api(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def photo_size(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "width": self.width,
            "height": self.height,
        }

    def document(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data


@dataclass(slots=True)
class PendingCallback:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float  # monotonic clock
    answered: bool = False
    answer: dict[str, Any] | None = None
