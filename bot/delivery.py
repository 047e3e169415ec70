"""Sending under Telegram's rules: wait out 429s, retry 5xx and network errors with backoff.

Every request the bot makes goes through `RetryMiddleware` (installed on the Bot's
session by `bot.app.make_bot`), so a reply that hits the flood limit arrives late
instead of never. A 403 (the user blocked the bot) and other 4xx are final, except two
that only mean "nothing to do": editing a message to what it already says (a second
tap on a page button), and answering a button press Telegram has given up on.

Before any request made while an update is handled, that update's writes are committed
(`bot.db.unit`): a user is told "saved" only about what the database kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType
from aiogram.types import InlineKeyboardMarkup, TelegramObject
from aiohttp import ClientError, FormData

from bot.db.unit import commit_before_speaking

log = logging.getLogger(__name__)

EDITS = (EditMessageText, EditMessageReplyMarkup, EditMessageCaption)

# aiogram parses every answer with the generic model `Response[<the method's type>]`,
# which pydantic caches only weakly: after a garbage collection it is built again
# (several milliseconds each time). Holding each one the bot has used keeps it built.
_response_models: dict[Any, type] = {}


def keep_response_model(method: TelegramMethod[Any]) -> None:
    returning = method.__returning__
    if returning not in _response_models:
        _response_models[returning] = Response[returning]  # type: ignore[valid-type]


# Markups and buttons sent with many replies and never changed (the menus, a ballot's
# grades): each one's JSON, written once. Keyed by identity; an entry goes with its object.
_shared: dict[int, tuple[weakref.ref[TelegramObject], list[str]]] = {}
Markup = TypeVar("Markup", bound=TelegramObject)


def shared(markup: Markup) -> Markup:
    """Marks `markup` (a keyboard, or one button of inline keyboards) as sent unchanged
    with many replies: the Bot session writes its JSON once instead of once per request
    (a menu cost each reply ~60 µs). It must not change afterwards."""
    key = id(markup)
    if key not in _shared:
        _shared[key] = (weakref.ref(markup, lambda _ref: _shared.pop(key, None)), [])
    return markup


class TelegramSession(AiohttpSession):
    """aiogram's HTTP session, writing a request with less work and the same fields
    (`tests/unit/test_request_form.py`).

    aiogram dumps the whole method (every unset field too) and then walks the dump value
    by value; here unset fields are left out of the dump (aiogram drops them anyway), and
    a `shared` markup's JSON is the one written the first time. A request without files
    goes as a JSON object of those same fields, which the Bot API takes as it takes a
    form: aiohttp urlencodes a form character by character in Python, and a ballot
    page's keyboard is a few kilobytes of it on every mark."""

    def fields(self, bot: Bot, method: TelegramMethod[Any]) -> tuple[dict[str, str], dict]:
        """The request's fields as aiogram writes them into its form, and its files."""
        markup = getattr(method, "reply_markup", None)
        written: str | None = None
        if markup is not None:
            written = self._shared_json(markup)
            if written is None and isinstance(markup, InlineKeyboardMarkup):
                written = self.keyboard_json(markup)
        out: dict[str, str] = {}
        files: dict[str, Any] = {}
        dump = method.model_dump(
            warnings=False, exclude_none=True, exclude={"reply_markup"} if written else None
        )
        for key, value in dump.items():
            if key == "reply_markup" and isinstance(value, dict):
                # A keyboard dumps to plain JSON values (unset ones left out above):
                # aiogram's walk over every field of every button gives the same text.
                out[key] = self.json_dumps(value)
                continue
            value = self.prepare_value(value, bot=bot, files=files)
            if value:
                out[key] = value
        if written:
            out["reply_markup"] = written
        return out, files

    def keyboard_json(self, markup: InlineKeyboardMarkup) -> str:
        """An inline keyboard's JSON, as `json_dumps` writes its dump, from its buttons':
        a `shared` button's is written once (a ballot page's 40 buttons, dumped and
        encoded on every mark, were a sixth of the mark's CPU)."""
        rows = ("[" + ", ".join(map(self._button_json, r)) + "]" for r in markup.inline_keyboard)
        return '{"inline_keyboard": [' + ", ".join(rows) + "]}"

    def _button_json(self, button: TelegramObject) -> str:
        return self._shared_json(button) or self._json(button)

    def _json(self, obj: TelegramObject) -> str:
        return self.json_dumps(obj.model_dump(warnings=False, exclude_none=True))

    def _shared_json(self, obj: TelegramObject) -> str | None:
        """A `shared` object's JSON, written the first time it is sent; None for others."""
        entry = _shared.get(id(obj))
        if entry is None or entry[0]() is not obj:
            return None
        if not entry[1]:
            entry[1].append(self._json(obj))
        return entry[1][0]

    def build_form_data(self, bot: Bot, method: TelegramMethod[Any]) -> FormData:
        return self._form(bot, *self.fields(bot, method))

    @staticmethod
    def _form(bot: Bot, out: dict[str, str], files: dict[str, Any]) -> FormData:
        form = FormData(quote_fields=False)
        for key, value in out.items():
            form.add_field(key, value)
        for key, file in files.items():
            form.add_field(key, file.read(bot), filename=file.filename or key)
        return form

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        out, files = self.fields(bot, method)
        body: Any
        if files:  # a file goes in a multipart form, as aiogram sends it
            body, headers = self._form(bot, out, files), None
        else:
            body, headers = json_body(out), _JSON_BODY
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=body,
                headers=headers,
                timeout=self.timeout if timeout is None else timeout,
            ) as resp:
                raw = await resp.text()
        except TimeoutError as exc:
            raise TelegramNetworkError(method=method, message="Request timeout error") from exc
        except ClientError as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise TelegramNetworkError(method=method, message=message) from exc
        return self.read(bot, method, resp.status, raw)

    def read(self, bot: Bot, method: TelegramMethod[TelegramType], status: int, raw: str) -> Any:
        """The result of a request, from Telegram's answer (or its error raised)."""
        if status == 200 and isinstance(method, EDITS):
            answer = self.json_loads(raw)
            if isinstance(answer, dict) and answer.get("ok") is True:
                # The edited message is never read back (an edit that changed nothing
                # returns True already, see `harmless`): not parsing it saves a ballot
                # mark a twentieth of its CPU. True is what Telegram answers for an
                # inline message's edit.
                return True
        return self.check_response(bot=bot, method=method, status_code=status, content=raw).result


_JSON_BODY = {"Content-Type": "application/json"}


def json_body(fields: dict[str, str]) -> bytes:
    """A request's form fields as a JSON object, its keyboard as the object it is: the
    Bot API takes either that or the form's string of it, and escaping a ballot page's
    keyboard into a string again cost more than writing the rest of the request."""
    markup = fields.get("reply_markup")
    if markup is None:
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    rest = json.dumps(
        {k: v for k, v in fields.items() if k != "reply_markup"},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    joint = "," if len(rest) > 2 else ""
    return (rest[:-1] + joint + '"reply_markup":' + markup + "}").encode()


def harmless(method: TelegramMethod[Any], exc: TelegramBadRequest) -> bool:
    text = exc.message.lower()
    if isinstance(method, EDITS):
        return "message is not modified" in text
    return isinstance(method, AnswerCallbackQuery) and "query is too old" in text


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(self, attempts: int = 4, max_wait: float = 60.0, backoff: float = 0.5) -> None:
        self.attempts = attempts
        self.max_wait = max_wait  # a longer retry_after is not worth holding an update for
        self.backoff = backoff

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        # What the update wrote is committed before anything is said about it; if the
        # commit fails, NotSaved replaces the request (see bot.db.unit).
        await commit_before_speaking()
        keep_response_model(method)
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                return await make_request(bot, method)
            except TelegramBadRequest as exc:
                if harmless(method, exc):
                    return True  # what Telegram returns for an edit of an inline message
                raise
            except TelegramRetryAfter as exc:
                if last or exc.retry_after > self.max_wait:
                    raise
                log.warning("%s: flood limit, waiting %s s", type(method).__name__, exc.retry_after)
                # Telegram says exactly how long to wait; waiting less only earns another 429.
                await asyncio.sleep(exc.retry_after)
            except (TelegramServerError, TelegramNetworkError) as exc:
                if last:
                    raise
                log.warning("%s failed (%s), retrying", type(method).__name__, type(exc).__name__)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def without_keyboards(data: Any) -> Any:
    """Telegram's JSON, before aiogram parses it, without the inline keyboards the bot
    never reads: the one on a message it has just sent or edited (an answer's `result`),
    and the one on the message a press was made on (an update's `callback_query`).
    aiogram validates every button of them, on every answer and every press, and a
    ballot page's 40 buttons cost more than the rest of the press. A handler that needs
    the keyboard of a pressed message must not rely on `query.message.reply_markup`."""
    if not isinstance(data, dict):
        return data
    result = data.get("result", data)
    for item in result if isinstance(result, list) else (result,):
        if not isinstance(item, dict):
            continue
        item.pop("reply_markup", None)
        query = item.get("callback_query")
        if isinstance(query, dict) and isinstance(query.get("message"), dict):
            query["message"].pop("reply_markup", None)
    return data


def read_answer(content: str) -> Any:
    """The Bot session's JSON decoder: Telegram's answer, keyboards left out."""
    return without_keyboards(json.loads(content))
