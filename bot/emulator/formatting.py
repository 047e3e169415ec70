"""Message text: Telegram's HTML parse mode and the entities Telegram derives from plain text.

Offsets and lengths of entities are counted in UTF-16 code units, as in the Bot API.
The HTML parser is strict in the same places Telegram is (unknown tags, unclosed or
mismatched tags, a stray ``<``) so bots that would fail in production fail here too.
"""

from __future__ import annotations

import html
import re
from typing import Any

from .errors import bad_request

# tag -> entity type; tags with attributes are handled in _open_entity
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_ALLOWED_TAGS = {*_SIMPLE_TAGS, "a", "span", "blockquote", "tg-emoji"}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*?)?)\s*(/?)>")
_ATTR_RE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Return the plain text and the entities of a message written in HTML parse mode."""
    out: list[str] = []
    offset = 0  # UTF-16 length of the text produced so far
    stack: list[tuple[str, dict[str, Any] | None]] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    while pos < len(source):
        lt = source.find("<", pos)
        chunk = source[pos:] if lt < 0 else source[pos:lt]
        if chunk:
            text = _unescape(chunk)
            out.append(text)
            offset += utf16_len(text)
        if lt < 0:
            break
        match = _TAG_RE.match(source, lt)
        if match is None:
            raise _parse_error(f"Unclosed start tag at byte offset {_byte_offset(source, lt)}")
        closing, name, attrs, _ = match.groups()
        name = name.lower()
        if name not in _ALLOWED_TAGS:
            kind = "end" if closing else "start"
            raise _parse_error(
                f'Unsupported {kind} tag "{name}" at byte offset {_byte_offset(source, lt)}'
            )
        if closing:
            if not stack or stack[-1][0] != name:
                expected = f'"</{stack[-1][0]}>"' if stack else "no end tag"
                raise _parse_error(
                    f"Unmatched end tag at byte offset {_byte_offset(source, lt)}, "
                    f'expected {expected}, found "</{name}>"'
                )
            _, entity = stack.pop()
            if entity is not None:
                entity["length"] = offset - entity["offset"]
                if entity["length"] > 0:
                    entities.append(entity)
        else:
            entity = _open_entity(name, _attributes(attrs), offset, stack)
            stack.append((name, entity))
        pos = match.end()
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _open_entity(
    name: str, attrs: dict[str, str], offset: int, stack: list[tuple[str, Any]]
) -> dict[str, Any] | None:
    if name in _SIMPLE_TAGS:
        kind = _SIMPLE_TAGS[name]
        if name == "code" and stack and stack[-1][0] == "pre":
            # <pre><code class="language-x"> sets the language of the enclosing pre
            pre = stack[-1][1]
            lang = attrs.get("class", "")
            if pre is not None and lang.startswith("language-"):
                pre["language"] = lang.removeprefix("language-")
            return None
        return {"type": kind, "offset": offset}
    if name == "a":
        href = attrs.get("href")
        if not href:
            return None
        if href.startswith("tg://user?id="):
            return {"type": "text_mention", "offset": offset, "user": {"id": int(href[13:])}}
        return {"type": "text_link", "offset": offset, "url": href}
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise _parse_error('Tag "span" must have class "tg-spoiler"')
        return {"type": "spoiler", "offset": offset}
    if name == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        return {"type": kind, "offset": offset}
    emoji_id = attrs.get("emoji-id")
    if not emoji_id:
        raise _parse_error('Tag "tg-emoji" must have attribute "emoji-id"')
    return {"type": "custom_emoji", "offset": offset, "custom_emoji_id": emoji_id}


def _attributes(raw: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for match in _ATTR_RE.finditer(raw or ""):
        name, dq, sq, bare = match.groups()
        value = dq if dq is not None else sq if sq is not None else bare
        attrs[name.lower()] = _unescape(value or "")
    return attrs


def _unescape(text: str) -> str:
    # Telegram decodes named and numeric entities and keeps a bare "&" literally
    return _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), text)


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _parse_error(detail: str):
    return bad_request(f"can't parse entities: {detail}")


_AUTO_RE = re.compile(
    r"(?P<bot_command>(?<![\w/])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?)"
    r"|(?P<mention>(?<!\w)@[a-zA-Z0-9_]{4,32})"
    r"|(?P<url>https?://[^\s<>\"]+)"
    r"|(?P<hashtag>(?<!\w)#\w+)"
)


def auto_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram's servers add to plain text sent by a user: commands, mentions, URLs."""
    entities = []
    for match in _AUTO_RE.finditer(text):
        entities.append(
            {
                "type": match.lastgroup,
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
        )
    return entities
