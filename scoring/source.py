"""A rubric file's text: decoding it as an official's editor saved it, explaining TOML
syntax errors caused by Chinese punctuation, and finding the line of a key path.

Officials write these files in Notepad or WPS: UTF-8 with a byte-order mark, GBK or
GB18030 are as common as plain UTF-8. Each is read as what it is; bytes that are none
of these are refused with "save the file as UTF-8", never with a traceback.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

# Full-width characters typed with a Chinese input method where TOML needs ASCII.
FULL_WIDTH = {
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "：": "=",
    "，": ",",
    "＝": "=",
    "［": "[",
    "］": "]",
    "【": "[",
    "】": "]",
    "｛": "{",
    "｝": "}",
    "＃": "#",
    "．": ".",
    "\u3000": " ",
}


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # utf-8, utf-8-sig, utf-16, gb18030


class UndecodableError(ValueError):
    def __init__(self, line: int, column: int) -> None:
        self.line = line
        self.column = column
        super().__init__(f"not UTF-8 at line {line}, column {column}")


def decode(raw: bytes) -> Decoded:
    """The file's text. Raises ``UndecodableError`` (where the first bad byte is)."""
    if raw.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        encodings = ["utf-8", "gb18030"]
    first_error: UnicodeDecodeError | None = None
    for encoding in encodings:
        try:
            return Decoded(raw.decode(encoding), encoding)
        except UnicodeDecodeError as exc:
            first_error = first_error or exc
    start = first_error.start if first_error else 0
    before = raw[:start]
    line = before.count(b"\n") + 1
    column = start - (before.rfind(b"\n") + 1) + 1
    raise UndecodableError(line, column)


def full_width_outside_strings(text: str) -> list[tuple[int, int, str]]:
    """(line, column, character) of each full-width character outside quoted strings.

    Inside quotes they are the official's text (“堡垒指数”); outside they break TOML.
    Only asked for once ``tomllib`` has refused the file, so a rough reading is enough:
    single-line strings with escapes, comments; multi-line strings are skipped whole.
    """
    found = []
    in_multiline = ""
    for number, line in enumerate(text.splitlines(), start=1):
        i, quote = 0, ""
        while i < len(line):
            ch = line[i]
            if in_multiline:
                if line.startswith(in_multiline, i):
                    i += 3
                    in_multiline = ""
                    continue
            elif quote:
                if ch == "\\" and quote == '"':
                    i += 1
                elif ch == quote:
                    quote = ""
            elif line.startswith(('"""', "'''"), i):
                in_multiline = line[i : i + 3]
                i += 3
                continue
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            elif ch in FULL_WIDTH:
                found.append((number, i + 1, ch))
            i += 1
    return found


SYNTAX_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def syntax_position(detail: str) -> tuple[int | None, int | None]:
    m = SYNTAX_AT.search(detail)
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


# ---------------------------------------------------------------- key paths → lines

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=""")
_KEY_VALUE = re.compile(r"""\bkey\s*=\s*["']([^"']*)["']""")
_ARRAY_ELEMENT = re.compile(r"^\s*\{")


def _bare(name: str) -> str:
    return name.strip().strip("\"'")


@dataclass
class Locator:
    """Maps the engine's key paths (``schemes[monthly].levels[2].min_points``,
    ``items[meet].score.cap``) to line numbers of the file's text."""

    lines: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, text: str) -> Locator:
        loc = cls()
        counters: dict[str, int] = {}  # array-of-tables path → elements so far
        table = ""  # the current table's path, with element indices
        array_key = ""  # a multi-line array value being read: its path
        array_index = 0
        labels: dict[str, str] = {}  # element path → the value of its ``key``
        for number, line in enumerate(text.splitlines(), start=1):
            if array_key:
                if _ARRAY_ELEMENT.match(line):
                    array_index += 1
                    loc._put(f"{array_key}[{array_index}]", number)
                    m = _KEY_VALUE.search(line)
                    if m:
                        loc._put(f"{array_key}[{m.group(1)}]", number)
                if line.strip().startswith("]"):
                    array_key = ""
                continue
            header = _HEADER.match(line)
            if header:
                parts = [_bare(p) for p in header.group(2).split(".")]
                resolved = loc._resolve_parent(parts[:-1], counters)
                path = ".".join((*resolved, parts[-1])) if resolved else parts[-1]
                if header.group(1) == "[[":
                    loc._put(path, number)
                    counters[path] = counters.get(path, 0) + 1
                    table = f"{path}[{counters[path]}]"
                else:
                    table = path
                loc._put(table, number)
                continue
            m = _KEY.match(line)
            if not m:
                continue
            key = ".".join(_bare(p) for p in m.group(1).split("."))
            path = f"{table}.{key}" if table else key
            loc._put(path, number)
            if key == "key" and table.endswith("]"):
                value = _KEY_VALUE.search(line)
                if value:
                    labels[table] = value.group(1)
            rest = line[m.end() :].strip()
            if rest.startswith("[") and rest.count("[") > rest.count("]"):
                array_key, array_index = path, 0
        for element, label in labels.items():
            loc.alias(element, label)
        return loc

    def _resolve_parent(self, parts: list[str], counters: dict[str, int]) -> list[str]:
        """``schemes.levels`` inside the third ``[[schemes]]`` is ``schemes[3].levels``."""
        out: list[str] = []
        for part in parts:
            prefix = ".".join((*out, part))
            out.append(f"{part}[{counters[prefix]}]" if prefix in counters else part)
        return out

    def _put(self, path: str, line: int) -> None:
        self.lines.setdefault(path, line)

    def alias(self, element: str, label: str) -> None:
        """``items[3]`` is also ``items[meet]`` when its key is "meet"."""
        base = element[: element.rindex("[")]
        labelled = f"{base}[{label}]"
        for path, line in list(self.lines.items()):
            if path == element or path.startswith(element + "."):
                self._put(labelled + path[len(element) :], line)

    def line_of(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest ancestor the file spells out."""
        path = path.replace(" ", "")
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                return None
            path = path[:cut]
        return None
