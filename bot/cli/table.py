"""Text laid out by display width: a Chinese character takes two terminal columns."""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    return sum(2 if _wide(c) else 0 if unicodedata.combining(c) else 1 for c in text)


def pad(text: str, width: int, right: bool = False) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns: breaks at spaces, and between Chinese
    characters where there are none (never inside a Latin word unless it is too long)."""
    lines: list[str] = []
    line, used = "", 0
    for token in _tokens(text):
        w = display_width(token)
        if used + w > width and line.strip():
            lines.append(line.rstrip())
            line, used = "", 0
            if token.isspace():
                continue
        line += token
        used += w
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _wide(c: str) -> bool:
    return unicodedata.east_asian_width(c) in ("W", "F")


# Chinese punctuation that may not begin a line: it stays with the character before it.
_NO_LINE_START = set("，。、；：！？）》」』】”’…")


def _tokens(text: str) -> list[str]:
    """Latin words and runs of spaces stay whole, and so does a command in backticks (to
    be copied as it is); each wide character is a token (with the closing punctuation
    after it)."""
    tokens: list[str] = []
    in_code = False
    for c in text:
        last = tokens[-1][-1] if tokens else ""
        if in_code or (c in _NO_LINE_START and last and not last.isspace()):
            tokens[-1] += c
            in_code = in_code and c != "`"
            continue
        if c == "`" and "`" in text[len("".join(tokens)) + 1 :]:
            tokens.append(c)
            in_code = True
            continue
        joins_word = not c.isspace() and not _wide(c) and last and not last.isspace()
        if (joins_word and not _wide(last)) or (c.isspace() and last.isspace()):
            tokens[-1] += c
        else:
            tokens.append(c)
    return tokens
