"""Validation of ``reply_markup`` as Telegram does it.

Only inline keyboards are part of a sent Message; reply keyboards (and their removal)
change the chat's input area, so they are returned separately for the chat to remember.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import bad_request

_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "web_app",
    "callback_game",
    "pay",
)


@dataclass(slots=True)
class Markup:
    inline: dict[str, Any] | None = None  # goes into Message.reply_markup
    reply_keyboard: dict[str, Any] | None = None  # shown under the chat's input box
    remove_keyboard: bool = False
    force_reply: bool = False


def parse_markup(raw: dict[str, Any] | None) -> Markup:
    if raw is None:
        return Markup()
    if "inline_keyboard" in raw:
        return Markup(inline={"inline_keyboard": _inline_rows(raw["inline_keyboard"])})
    if "keyboard" in raw:
        return Markup(reply_keyboard=_reply_keyboard(raw))
    if raw.get("remove_keyboard"):
        return Markup(remove_keyboard=True)
    if raw.get("force_reply"):
        return Markup(force_reply=True)
    raise bad_request("can't parse reply keyboard markup JSON object")


def _rows(rows: Any, name: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{name}" must be an Array of Arrays')
    return rows


def _inline_rows(rows: Any) -> list[list[dict[str, Any]]]:
    result = []
    for row in _rows(rows, "inline_keyboard"):
        buttons = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            actions = [key for key in _INLINE_ACTIONS if key in button]
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            buttons.append(button)
        if buttons:
            result.append(buttons)
    return result


def _reply_keyboard(raw: dict[str, Any]) -> dict[str, Any]:
    rows = []
    for row in _rows(raw["keyboard"], "keyboard"):
        buttons = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request("can't parse keyboard button: Text must be a String")
            buttons.append(button)
        if buttons:
            rows.append(buttons)
    if not rows:
        raise bad_request("keyboard must be non-empty")
    return {**raw, "keyboard": rows}


def callback_data_of(markup: dict[str, Any] | None) -> list[str]:
    if not markup:
        return []
    return [
        button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]
