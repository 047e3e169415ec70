"""Act as Telegram users against the emulator, for end-to-end tests and seeding.

Typical test::

    async with EmulatorClient(server.url) as emu:
        zhang = await emu.create_user("张三", language_code="zh-hans", phone="+8613800000000")
        await zhang.send("/start abc")
        welcome = await zhang.expect(contains="欢迎")      # next bot message or edit
        answer = await zhang.press("加入")                  # button by label; waits for
        assert answer.text is None                          # the bot's answerCallbackQuery
        edited = await zhang.expect(edited=True)
        await zhang.share_contact()
        await zhang.send_photo(png_bytes, caption="会议照片")

        branch = await emu.create_group("第一支部", members=[zhang, li], admins=[li])
        await zhang.send_in(branch, "/status@branchbot_test_bot")
        reply = await branch.expect(contains="本月")

Seeding personas with fixed Telegram ids: ``await emu.create_user("王书记", user_id=1001)``
(calling it again with the same id updates that user). ``await emu.get_user(1001)`` gives a
handle to an existing user.

Waiting never sleeps blindly: ``expect`` long-polls the emulator for events in the chat.
Each chat handle keeps a cursor; ``expect`` returns the first bot message or edit after the
cursor that matches and moves the cursor there, so a reply that arrived before ``expect``
was called is still found, and non-matching messages in between are skipped. On timeout it
raises :class:`ExpectationFailed` with the chat's transcript.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

DEFAULT_TIMEOUT = 5.0


class EmulatorError(Exception):
    """The control API refused a request (its description says why)."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{status}: {description}")
        self.status = status
        self.description = description


class ExpectationFailed(AssertionError):
    """The bot did not send what a test expected in time."""


@dataclass(slots=True)
class CallbackAnswer:
    """What the bot answered to a button press (``answered`` is False if it did not)."""

    callback_query_id: str
    answered: bool
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


class Message:
    """A message as the emulator has it: ``raw`` is the Bot API Message object."""

    __slots__ = ("event", "raw")

    def __init__(self, raw: dict[str, Any], event: str = "message") -> None:
        self.raw = raw
        self.event = event  # "message" (new) or "edit"

    @property
    def message_id(self) -> int:
        return self.raw["message_id"]

    @property
    def chat_id(self) -> int:
        return self.raw["chat"]["id"]

    @property
    def text(self) -> str:
        """The text, or the caption of a photo or document ("" if neither)."""
        return self.raw.get("text") or self.raw.get("caption") or ""

    @property
    def sender_id(self) -> int:
        return self.raw["from"]["id"]

    @property
    def from_bot(self) -> bool:
        return bool(self.raw["from"].get("is_bot"))

    @property
    def edited(self) -> bool:
        return "edit_date" in self.raw

    @property
    def entities(self) -> list[dict[str, Any]]:
        return self.raw.get("entities") or self.raw.get("caption_entities") or []

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        return (self.raw.get("reply_markup") or {}).get("inline_keyboard", [])

    @property
    def buttons(self) -> list[list[str]]:
        """Labels of the inline keyboard, row by row."""
        return [[button["text"] for button in row] for row in self.inline_keyboard]

    @property
    def photo(self) -> list[dict[str, Any]] | None:
        return self.raw.get("photo")

    @property
    def document(self) -> dict[str, Any] | None:
        return self.raw.get("document")

    @property
    def contact(self) -> dict[str, Any] | None:
        return self.raw.get("contact")

    def button(self, label: str) -> dict[str, Any]:
        """The inline button with exactly this label; KeyError lists the labels there are."""
        for row in self.inline_keyboard:
            for button in row:
                if button["text"] == label:
                    return button
        raise KeyError(f"no button {label!r} in message {self.message_id}: {self.buttons}")

    def has_button(self, label: str) -> bool:
        return any(label in row for row in self.buttons)

    def __contains__(self, fragment: str) -> bool:
        return fragment in self.text

    def __repr__(self) -> str:
        return f"<Message {self.event} {self.chat_id}#{self.message_id} {self.text[:60]!r}>"

    def describe(self) -> str:
        who = "bot" if self.from_bot else self.raw["from"].get("first_name", "?")
        body = self.text
        if self.contact:
            body = f"[contact {self.contact['phone_number']}]"
        elif self.photo:
            body = f"[photo] {body}"
        elif self.document:
            body = f"[document {self.document.get('file_name', '')}] {body}"
        keys = f"  buttons={self.buttons}" if self.buttons else ""
        edited = " (edited)" if self.edited else ""
        return f"  #{self.message_id} {who}{edited}: {body}{keys}"


class EmulatorClient:
    """An async client for the emulator's control API; use as ``async with``."""

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        default_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.default_timeout = default_timeout
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self._session

    async def call(
        self,
        http_method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        data: aiohttp.FormData | None = None,
        wait: float = 0.0,
    ) -> Any:
        """One control API request; returns the decoded JSON or raises EmulatorError."""
        timeout = aiohttp.ClientTimeout(total=wait + 30)
        async with self._http().request(
            http_method,
            self.base_url + path,
            json=json,
            params=params,
            data=data,
            timeout=timeout,
        ) as resp:
            body = await resp.json(content_type=None)
        if resp.status >= 400:
            raise EmulatorError(resp.status, body.get("description", str(body)))
        return body

    # --- the scene -------------------------------------------------------------------

    async def bot_info(self) -> dict[str, Any]:
        """The bot: id, username, token, privacy_mode, webhook_url, pending_updates."""
        return await self.call("GET", "/_emu/bot")

    async def configure_bot(self, **fields: Any) -> dict[str, Any]:
        """Change token, username, first_name, privacy_mode or callback_timeout."""
        return await self.call("POST", "/_emu/bot", json=fields)

    async def create_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        phone: str | None = None,
        started: bool = True,
    ) -> EmuUser:
        """A user (with their private chat); an existing ``user_id`` is updated instead."""
        body: dict[str, Any] = {"first_name": first_name, "started": started}
        optional = {
            "id": user_id,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
            "phone": phone,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        data = await self.call("POST", "/_emu/users", json=body)
        return EmuUser(self, data, cursor=data["seq"])

    async def get_user(self, user_id: int) -> EmuUser:
        """A handle to an existing user; its ``expect`` sees only what comes from now on."""
        for data in await self.users():
            if data["id"] == user_id:
                return EmuUser(self, data, cursor=await self._seq())
        raise EmulatorError(400, f"user {user_id} not found")

    async def users(self) -> list[dict[str, Any]]:
        return await self.call("GET", "/_emu/users")

    async def chats(self, user_id: int | None = None) -> list[dict[str, Any]]:
        params = {"user_id": user_id} if user_id is not None else None
        return await self.call("GET", "/_emu/chats", params=params)

    async def create_group(
        self,
        title: str,
        members: Iterable[EmuUser | int] = (),
        *,
        chat_id: int | None = None,
        chat_type: str = "supergroup",
        admins: Iterable[EmuUser | int] = (),
        creator: EmuUser | int | None = None,
        bot_status: str = "member",
    ) -> EmuGroup:
        """A group with the bot in it; ``admins`` and ``creator`` are members too."""
        statuses = {_user_id(m): "member" for m in members}
        statuses.update({_user_id(m): "administrator" for m in admins})
        if creator is not None:
            statuses[_user_id(creator)] = "creator"
        body: dict[str, Any] = {
            "title": title,
            "type": chat_type,
            "bot_status": bot_status,
            "members": [{"user_id": uid, "status": st} for uid, st in statuses.items()],
        }
        if chat_id is not None:
            body["id"] = chat_id
        data = await self.call("POST", "/_emu/chats", json=body)
        return EmuGroup(self, data, cursor=data["seq"])

    async def get_group(self, chat_id: int) -> EmuGroup:
        for data in await self.chats():
            if data["id"] == chat_id:
                return EmuGroup(self, data, cursor=await self._seq())
        raise EmulatorError(400, "chat not found")

    async def reset(self) -> None:
        """Forget users, chats, messages, files, pending updates, faults and the webhook."""
        await self.call("POST", "/_emu/reset")

    async def inject_fault(
        self,
        method: str,
        kind: str | int,
        count: int = 1,
        *,
        retry_after: int = 1,
        seconds: float = 30.0,
    ) -> dict[str, Any]:
        """The next ``count`` calls of ``method`` ("*" = any) fail: 429, 500, 502 or "hang"."""
        body = {
            "method": method,
            "kind": str(kind),
            "count": count,
            "retry_after": retry_after,
            "seconds": seconds,
        }
        return await self.call("POST", "/_emu/faults", json=body)

    async def clear_faults(self) -> None:
        await self.call("DELETE", "/_emu/faults")

    async def set_flood(self, **settings: Any) -> dict[str, Any]:
        """Flood control settings, e.g. ``enabled=False`` or ``private_burst=1``."""
        return await self.call("POST", "/_emu/flood", json=settings)

    # --- reading chats ---------------------------------------------------------------

    async def transcript(self, chat_id: int) -> list[Message]:
        data = await self.call("GET", f"/_emu/chats/{chat_id}/messages")
        return [Message(raw) for raw in data["messages"]]

    async def chat_state(self, chat_id: int) -> dict[str, Any]:
        """Raw transcript with the chat's current reply keyboard and pinned message."""
        return await self.call("GET", f"/_emu/chats/{chat_id}/messages")

    async def events(
        self,
        chat_id: int,
        *,
        after: int,
        wait: float = 0.0,
        types: Sequence[str] = (),
        from_bot: bool | None = None,
    ) -> list[dict[str, Any]]:
        """Events in a chat after seq ``after``, waiting up to ``wait`` s for the first."""
        params: dict[str, Any] = {"after": after, "timeout": wait}
        if types:
            params["types"] = ",".join(types)
        if from_bot is not None:
            params["from_bot"] = "true" if from_bot else "false"
        data = await self.call("GET", f"/_emu/chats/{chat_id}/events", params=params, wait=wait)
        return data["events"]

    async def _seq(self) -> int:
        return (await self.bot_info())["seq"]

    async def wait_callback_answer(self, query_id: str, wait: float) -> CallbackAnswer:
        data = await self.call(
            "GET", f"/_emu/callbacks/{query_id}", params={"timeout": wait}, wait=wait
        )
        return CallbackAnswer(query_id, data["answered"], **(data["answer"] or {}))


def _user_id(user: EmuUser | int) -> int:
    return user if isinstance(user, int) else user.id


class ChatHandle:
    """A chat seen from the test: wait for the bot's messages and read the transcript."""

    def __init__(self, client: EmulatorClient, chat_id: int, cursor: int = 0) -> None:
        self.client = client
        self.id = chat_id
        self.cursor = cursor

    async def expect(
        self,
        contains: str | None = None,
        *,
        regex: str | None = None,
        edited: bool | None = None,
        timeout: float | None = None,
    ) -> Message:
        """The next bot message or edit here that has ``contains`` / matches ``regex``.

        ``edited=True`` waits for an edit only, ``False`` for a new message only.
        """
        timeout = self.client.default_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        pattern = re.compile(regex) if regex else None
        types = {None: ("message", "edit"), True: ("edit",), False: ("message",)}[edited]
        while True:
            remaining = max(0.0, deadline - time.monotonic())
            events = await self.client.events(
                self.id, after=self.cursor, wait=remaining, types=types, from_bot=True
            )
            for event in events:
                self.cursor = event["seq"]
                message = Message(event["message"], event["type"])
                if (contains is None or contains in message.text) and (
                    pattern is None or pattern.search(message.text)
                ):
                    return message
            if remaining <= 0:
                await self._fail(contains, regex, edited, timeout)

    async def _fail(
        self, contains: str | None, regex: str | None, edited: bool | None, seconds: float
    ) -> None:
        wanted = "edit" if edited else "new message" if edited is False else "message or edit"
        if contains is not None:
            wanted += f" containing {contains!r}"
        if regex is not None:
            wanted += f" matching /{regex}/"
        lines = [m.describe() for m in await self.messages()] or ["  (empty)"]
        raise ExpectationFailed(
            f"the bot sent no {wanted} in chat {self.id} within {seconds:g} s.\n"
            "Transcript now:\n" + "\n".join(lines)
        )

    async def expect_silence(self, seconds: float = 0.3) -> None:
        """Assert the bot sends nothing here for ``seconds`` (absence needs a bounded wait)."""
        events = await self.client.events(
            self.id, after=self.cursor, wait=seconds, types=("message", "edit"), from_bot=True
        )
        if events:
            got = [Message(e["message"], e["type"]).describe() for e in events]
            raise ExpectationFailed(f"expected silence in chat {self.id}, got:\n" + "\n".join(got))

    async def messages(self) -> list[Message]:
        """The chat as it looks now: after edits and deletes, oldest first."""
        return await self.client.transcript(self.id)

    async def last_message(self, *, from_bot: bool = True) -> Message | None:
        for message in reversed(await self.messages()):
            if message.from_bot == from_bot:
                return message
        return None

    async def reply_keyboard(self) -> list[list[dict[str, Any]]] | None:
        """Buttons of the reply keyboard the bot has set here (None if none)."""
        keyboard = (await self.client.chat_state(self.id))["reply_keyboard"]
        return keyboard["keyboard"] if keyboard else None


class EmuGroup(ChatHandle):
    def __init__(self, client: EmulatorClient, data: dict[str, Any], cursor: int = 0) -> None:
        super().__init__(client, data["id"], cursor)
        self.data = data
        self.title: str = data["title"]

    def __repr__(self) -> str:
        return f"<EmuGroup {self.id} {self.title!r}>"

    async def set_status(self, user: EmuUser | int, status: str) -> Message | None:
        """Change a member's status; returns the join/leave service message, if any."""
        body = {"user_id": _user_id(user), "status": status}
        raw = await self.client.call("POST", f"/_emu/chats/{self.id}/members", json=body)
        return Message(raw) if raw else None

    async def join(self, user: EmuUser | int) -> Message | None:
        return await self.set_status(user, "member")

    async def leave(self, user: EmuUser | int) -> Message | None:
        return await self.set_status(user, "left")


class EmuUser:
    """A Telegram user: acts in their private chat with the bot, or in a group."""

    def __init__(self, client: EmulatorClient, data: dict[str, Any], cursor: int = 0) -> None:
        self.client = client
        self.data = data
        self.id: int = data["id"]
        self.first_name: str = data["first_name"]
        self.chat = ChatHandle(client, self.id, cursor)  # the private chat with the bot

    def __repr__(self) -> str:
        return f"<EmuUser {self.id} {self.first_name!r}>"

    @property
    def phone(self) -> str | None:
        return self.data.get("phone")

    def _chat_id(self, chat: ChatHandle | int | None) -> int:
        if chat is None:
            return self.id
        return chat if isinstance(chat, int) else chat.id

    async def update(self, **fields: Any) -> None:
        """Change this user's profile, e.g. ``language_code="en"`` or ``blocked_bot=True``."""
        self.data = await self.client.call("POST", "/_emu/users", json={"id": self.id, **fields})

    async def block_bot(self) -> None:
        await self.update(blocked_bot=True)

    # --- acting ------------------------------------------------------------------------

    async def send(self, text: str, *, reply_to: int | None = None) -> Message:
        """Write ``text`` (a command too) in the private chat with the bot."""
        return await self.send_in(None, text, reply_to=reply_to)

    async def send_in(
        self, chat: ChatHandle | int | None, text: str, *, reply_to: int | None = None
    ) -> Message:
        body: dict[str, Any] = {"user_id": self.id, "chat_id": self._chat_id(chat), "text": text}
        if reply_to is not None:
            body["reply_to_message_id"] = reply_to
        return Message(await self.client.call("POST", "/_emu/messages", json=body))

    async def share_contact(
        self, phone: str | None = None, *, chat: ChatHandle | int | None = None
    ) -> Message:
        """Share this user's own phone number, as the request_contact button does."""
        body: dict[str, Any] = {"user_id": self.id, "chat_id": self._chat_id(chat), "contact": True}
        if phone is not None:
            body["phone"] = phone
        return Message(await self.client.call("POST", "/_emu/messages", json=body))

    async def send_photo(
        self,
        data: bytes,
        *,
        caption: str | None = None,
        filename: str = "photo.jpg",
        chat: ChatHandle | int | None = None,
    ) -> Message:
        return await self._upload("photo", data, filename, None, caption, chat)

    async def send_document(
        self,
        data: bytes,
        filename: str,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
        chat: ChatHandle | int | None = None,
    ) -> Message:
        return await self._upload("document", data, filename, mime_type, caption, chat)

    async def _upload(
        self,
        kind: str,
        data: bytes,
        filename: str,
        mime_type: str | None,
        caption: str | None,
        chat: ChatHandle | int | None,
    ) -> Message:
        form = aiohttp.FormData(quote_fields=False)  # keeps non-ASCII file names intact
        form.add_field("user_id", str(self.id))
        form.add_field("chat_id", str(self._chat_id(chat)))
        form.add_field("kind", kind)
        if caption is not None:
            form.add_field("caption", caption)
        form.add_field(
            "file", data, filename=filename, content_type=mime_type or "application/octet-stream"
        )
        return Message(await self.client.call("POST", "/_emu/uploads", data=form))

    async def press(
        self,
        label: str,
        *,
        chat: ChatHandle | int | None = None,
        message: Message | int | None = None,
        wait_answer: bool = True,
        timeout: float | None = None,
    ) -> CallbackAnswer:
        """Press the inline button labelled ``label`` in the newest bot message that has it.

        An exact label wins over a unique partial match. Returns the bot's
        answerCallbackQuery (waiting up to ``timeout``; ``answered`` False if it never came).
        """
        chat_id = self._chat_id(chat)
        messages = await self.client.transcript(chat_id)
        if message is not None:
            wanted = message if isinstance(message, int) else message.message_id
            messages = [m for m in messages if m.message_id == wanted]
        found = _find_button(messages, label)
        if found is None:
            offered = [m.buttons for m in messages if m.buttons][-3:]
            raise LookupError(f"no inline button {label!r} in chat {chat_id}; recent: {offered}")
        target, button = found
        if "callback_data" not in button:
            raise LookupError(f"button {label!r} has no callback_data: {button}")
        return await self.press_data(
            button["callback_data"],
            target.message_id,
            chat=chat_id,
            wait_answer=wait_answer,
            timeout=timeout,
        )

    async def press_data(
        self,
        data: str,
        message_id: int,
        *,
        chat: ChatHandle | int | None = None,
        force: bool = False,
        wait_answer: bool = True,
        timeout: float | None = None,
    ) -> CallbackAnswer:
        """Press by callback data; ``force=True`` sends data no button has (a forged press)."""
        body = {
            "user_id": self.id,
            "chat_id": self._chat_id(chat),
            "message_id": message_id,
            "data": data,
            "force": force,
        }
        result = await self.client.call("POST", "/_emu/callbacks", json=body)
        query_id = result["callback_query_id"]
        if not wait_answer:
            return CallbackAnswer(query_id, answered=False)
        wait = self.client.default_timeout if timeout is None else timeout
        return await self.client.wait_callback_answer(query_id, wait)

    # --- the private chat ----------------------------------------------------------------

    async def expect(
        self,
        contains: str | None = None,
        *,
        regex: str | None = None,
        edited: bool | None = None,
        timeout: float | None = None,
    ) -> Message:
        """The next bot message or edit in the private chat; see :meth:`ChatHandle.expect`."""
        return await self.chat.expect(contains, regex=regex, edited=edited, timeout=timeout)

    async def expect_silence(self, seconds: float = 0.3) -> None:
        await self.chat.expect_silence(seconds)

    async def last_message(self) -> Message | None:
        """The newest bot message in the private chat, as it looks now."""
        return await self.chat.last_message()

    async def messages(self) -> list[Message]:
        return await self.chat.messages()

    async def reply_keyboard(self) -> list[list[dict[str, Any]]] | None:
        return await self.chat.reply_keyboard()


def _find_button(messages: list[Message], label: str) -> tuple[Message, dict[str, Any]] | None:
    newest_first = [m for m in reversed(messages) if m.from_bot and m.inline_keyboard]
    for message in newest_first:
        for row in message.inline_keyboard:
            for button in row:
                if button["text"] == label:
                    return message, button
    for message in newest_first:
        partial = [b for row in message.inline_keyboard for b in row if label in b["text"]]
        if len(partial) == 1:
            return message, partial[0]
    return None
