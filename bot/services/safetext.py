"""Text that is safe to keep and to hand to a spreadsheet: names, and exported cells.

Two dangers, one place:

- **Invisible and direction-changing characters.** A name made only of zero-width or
  control characters looks empty; one with a bidirectional override (U+202E …) is shown
  reversed, so "Zhang" can read as someone else. `clean_name_text` removes the
  invisible ones and reports the rest as a problem.
- **Spreadsheet formulas** (OWASP "CSV injection"): a cell that starts with `=`, `+`,
  `-`, `@`, a tab or a carriage return is evaluated by Excel and LibreOffice. Names and
  roster numbers that start so are refused at the door (`name_problem`), and every
  export writes text cells through `xlsx_cell` / `csv_cell`, which make them inert.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Embeddings, overrides and isolates: they reorder what follows them on screen.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def strip_invisible(text: str) -> str:
    """Whitespace runs become one space; control and format characters (zero-width
    spaces and joiners, soft hyphens, BOMs, direction marks) are removed."""
    spaced = " ".join(text.split())
    kept = "".join(c for c in spaced if unicodedata.category(c) not in ("Cc", "Cf"))
    return " ".join(kept.split())


def name_problem(raw: str) -> str | None:
    """Why `raw` cannot be a name or a roster number, or None.

    "bidi": it holds a text-direction override; "invisible": nothing is left once
    invisible characters are removed (but something was there); "empty": nothing was
    there; "formula": it starts like a spreadsheet formula.
    """
    if any(c in BIDI_CONTROLS for c in raw):
        return "bidi"
    clean = strip_invisible(raw)
    if not clean:
        return "invisible" if raw.strip() else "empty"
    if clean.startswith(FORMULA_START):
        return "formula"
    return None


def clean_name_text(raw: str) -> str:
    """`raw` as it is stored once `name_problem` found nothing wrong with it."""
    return strip_invisible(raw)


def telegram_name(full_name: str | None, fallback: str) -> str:
    """A Telegram display name made safe to store: people cannot be refused for the
    name Telegram gives them, so what is unsafe is dropped instead."""
    text = "".join(c for c in full_name or "" if c not in BIDI_CONTROLS)
    text = strip_invisible(text).lstrip("=+-@ ")
    return text[:100] or fallback


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_cell(value: Any) -> Any:
    """A CSV value Excel will show as text: a leading apostrophe, as OWASP advises."""
    return "'" + value if formula_like(value) else value


def xlsx_cell(sheet: Any, value: Any) -> Any:
    """An openpyxl cell for a write-only `sheet` holding `value` as inert text.

    openpyxl stores any string starting with "=" as a formula; this cell is a plain
    string whatever it starts with, flagged "quote prefix" like a cell typed as '=….
    Values that are not formula-like are returned unchanged (cheap for big sheets).
    """
    if not formula_like(value):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell
