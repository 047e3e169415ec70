"""Reading Bot API parameters the way Telegram accepts them.

Clients send parameters as a query string, urlencoded or multipart form fields (aiogram,
python-telegram-bot) or a JSON body. Form values are strings, and structured ones
(``reply_markup``, ``allowed_updates``) arrive JSON-encoded inside them, so every typed
getter accepts both the native JSON type and its string form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import bad_request

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@dataclass(slots=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


async def read_params(request: web.Request) -> Params:
    values: dict[str, Any] = dict(request.query) if request.query_string else {}
    uploads: dict[str, Upload] = {}
    if request.method == "POST" and request.body_exists:
        ctype = request.content_type
        if ctype == "application/json":
            values.update(_json_object(await request.read()))
        elif ctype == "multipart/form-data":
            await _read_multipart(request, values, uploads)
        else:
            # urlencoded is also what clients send when they omit the content type
            for key, value in (await request.post()).items():
                values[key] = value
    return Params(values, uploads)


def _json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"can't parse JSON request body: {exc}") from None
    if not isinstance(data, dict):
        raise bad_request("JSON request body must be an object")
    return data


async def _read_multipart(
    request: web.Request, values: dict[str, Any], uploads: dict[str, Upload]
) -> None:
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        name = part.name or ""
        data = await part.read()  # type: ignore[union-attr]
        if part.filename is not None:  # type: ignore[union-attr]
            uploads[name] = Upload(
                filename=part.filename,  # type: ignore[union-attr]
                content_type=part.headers.get("Content-Type", "application/octet-stream"),
                data=bytes(data),
            )
        else:
            values[name] = bytes(data).decode("utf-8", errors="replace")


class Params:
    """Typed access to one request's parameters; wrong input raises a Telegram-style 400."""

    __slots__ = ("uploads", "values")

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload] | None = None):
        self.values = values
        self.uploads = uploads or {}

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def _required(self, name: str) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        return value

    def int(self, name: str, default: int | None = None, *, required: bool = True) -> int:
        if name not in self:
            if default is not None or not required:
                return default  # type: ignore[return-value]
            self._required(name)
        value = self.values[name]
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Integer')
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def opt_int(self, name: str) -> int | None:
        return self.int(name, required=False)

    def float(self, name: str, default: float) -> float:
        if name not in self:
            return default
        value = self.values[name]
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Float') from None

    def str(self, name: str, default: str | None = None, *, required: bool = True) -> str:
        if name not in self:
            if default is not None or not required:
                return default  # type: ignore[return-value]
            self._required(name)
        value = self.values[name]
        if isinstance(value, (dict, list, bool)):
            raise bad_request(f'field "{name}" must be of type String')
        return str(value)

    def opt_str(self, name: str) -> str | None:
        return self.str(name, required=False)

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise bad_request(f'field "{name}" must be of type Boolean')

    def json(self, name: str, kind: type = dict) -> Any:
        """A structured parameter (object or array); ``None`` when absent."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        if not isinstance(value, kind):
            expected = "Object" if kind is dict else "Array"
            raise bad_request(f'field "{name}" must be of type {expected}')
        return value

    def input_file(self, name: str) -> str | Upload:
        """A file parameter: a file_id/URL string, ``attach://<part>`` or an uploaded part."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            part = self.uploads.get(value.removeprefix("attach://"))
            if part is None:
                raise bad_request(f"wrong file identifier/HTTP URL specified for {name}")
            return part
        if isinstance(value, str) and value:
            return value
        raise bad_request(f"there is no {name} in the request")
