"""ChatMember objects in the shape Telegram gives them for each status."""

from __future__ import annotations

from typing import Any

from .world import World

_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
    "can_send_welcome_messages",
)
_RESTRICTED_RIGHTS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)


def member(world: World, user_id: int, status: str) -> dict[str, Any]:
    user = world.bot.to_api() if user_id == world.bot.id else world.user(user_id).to_api()
    data: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        data["is_anonymous"] = False
    elif status == "administrator":
        data.update({"can_be_edited": False, "is_anonymous": False})
        data.update(dict.fromkeys(_ADMIN_RIGHTS, True))
    elif status == "restricted":
        data.update({"is_member": True, "until_date": 0})
        data.update(dict.fromkeys(_RESTRICTED_RIGHTS, False))
    elif status == "kicked":
        data["until_date"] = 0
    return data
