"""A small document (headings, paragraphs, bullets, item lists) rendered for a terminal
of any width or as Markdown.

Terminal text is wrapped by *display* width: a Chinese character takes two columns, so
a name is wrapped onto the next line, never cut, and columns stay aligned.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field


@dataclass
class Row:
    """One line of a rubric: a name, its points (right-hand column) and what it means."""

    name: str
    points: str = ""
    details: list[str] = field(default_factory=list)


@dataclass
class Doc:
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def heading(self, text: str, level: int = 1) -> None:
        self.blocks.append(("h", (level, text)))

    def para(self, text: str) -> None:
        self.blocks.append(("p", text))

    def bullets(self, items: list[str]) -> None:
        if items:
            self.blocks.append(("ul", items))

    def rows(self, rows: list[Row], header: tuple[str, str, str] = ("", "", "")) -> None:
        if rows:
            self.blocks.append(("rows", (header, rows)))


# ---------------------------------------------------------------- display width


def char_width(ch: str) -> int:
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    return sum(map(char_width, text))


# Chinese punctuation that must not start a line (避头), and what must not end one.
_NO_START = set("，。、；：？！）》」』】”’…％,.;:?!)]}%")
_NO_END = set("（《「『【“‘([{")


def _tokens(text: str) -> list[str]:
    """Breakable pieces: an ASCII word with its trailing space, or one CJK character
    with any punctuation that must stay with it."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if char_width(ch) == 2 or ch in _NO_START or ch in _NO_END:
            j = i + 1
        else:
            j = i
            while j < len(text) and char_width(text[j]) == 1 and text[j] not in _NO_START:
                j += 1
                if text[j - 1] == " ":
                    break
            j = max(j, i + 1)
        token = text[i:j]
        if out and (token[0] in _NO_START or (out[-1] and out[-1][-1] in _NO_END)):
            out[-1] += token
        else:
            out.append(token)
        i = j
    return out


def wrap(text: str, columns: int) -> list[str]:
    """Lines of at most ``columns`` display columns (a longer single token is split)."""
    lines: list[str] = []
    line, used = "", 0
    for token in _tokens(text):
        w = width(token)
        if used + w > columns and line.strip():
            lines.append(line.rstrip())
            token = token.lstrip()
            line, used = "", 0
            w = width(token)
        while w > columns:  # a very long word: split it by characters
            cut, taken = 0, 0
            while cut < len(token) and taken + char_width(token[cut]) <= columns - used:
                taken += char_width(token[cut])
                cut += 1
            lines.append((line + token[:cut]).rstrip())
            token, line, used = token[cut:], "", 0
            w = width(token)
        line += token
        used += w
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _indent(text: str, columns: int, first: str, rest: str) -> list[str]:
    body = wrap(text, max(columns - width(first), 10))
    return [(first if i == 0 else rest) + line for i, line in enumerate(body)]


def render_text(doc: Doc, columns: int = 80) -> str:
    out: list[str] = []
    for kind, value in doc.blocks:
        if kind == "h":
            level, text = value  # type: ignore[misc]
            if out:
                out.append("")
            lines = wrap(text, columns)
            out.extend(lines)
            rule = "═" if level == 1 else "─"
            out.append(rule * min(columns, max(width(line) for line in lines)))
        elif kind == "p":
            out.extend(wrap(str(value), columns))
        elif kind == "ul":
            for item in value:  # type: ignore[attr-defined]
                out.extend(_indent(item, columns, "• ", "  "))
        elif kind == "rows":
            _header, rows = value  # type: ignore[misc]
            out.extend(_render_rows(rows, columns))
    return "\n".join(out)


def _render_rows(rows: list[Row], columns: int) -> list[str]:
    """Name on the left, points on the right, details indented below; the points
    column is as wide as its widest short entry."""
    short = [width(r.points) for r in rows if width(r.points) <= 16]
    col = max(short, default=0)
    out: list[str] = []
    for r in rows:
        points = r.points if width(r.points) <= 16 else ""
        name_cols = columns - (col + 2 if col else 0)
        name_lines = _indent(r.name, name_cols, "", "  ")
        for i, line in enumerate(name_lines):
            if i == 0 and points:
                pad = columns - width(line) - width(points)
                out.append(line + " " * max(pad, 1) + points)
            else:
                out.append(line)
        details = list(r.details)
        if r.points and not points:
            details.insert(0, r.points)
        for d in details:
            out.extend(_indent(d, columns, "    ", "    "))
    return out


# ---------------------------------------------------------------- markdown


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(doc: Doc) -> str:
    out: list[str] = []
    for kind, value in doc.blocks:
        if kind == "h":
            level, text = value  # type: ignore[misc]
            out += ["", "#" * min(level, 4) + " " + text, ""]
        elif kind == "p":
            out += [str(value), ""]
        elif kind == "ul":
            out += [f"- {item}" for item in value] + [""]  # type: ignore[attr-defined]
        elif kind == "rows":
            header, rows = value  # type: ignore[misc]
            out.append(f"| {_md(header[0])} | {_md(header[1])} | {_md(header[2])} |")
            out.append("| --- | --- | ---: |")
            for r in rows:
                details = "<br>".join(_md(d) for d in r.details)
                out.append(f"| {_md(r.name)} | {details} | {_md(r.points)} |")
            out.append("")
    return "\n".join(out).strip() + "\n"
