"""Locales: compiling catalogues, choosing a user's language, formatting with Babel.

English source strings are the message ids; ``locales/en`` repeats them so that a
missing English entry is caught by the same catalogue test as a missing Chinese one.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from babel import Locale

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
SUPPORTED = ("zh_Hans", "en")
DEFAULT = "zh_Hans"

_ZH_CODES = {"zh", "zh-hans", "zh-cn", "zh-sg", "zh-hant", "zh-tw", "zh-hk", "zh-mo"}


def normalize_locale(code: str | None) -> str | None:
    """Map a Telegram ``language_code`` (or a saved choice) to a supported locale.

    aiogram's own middleware only strips the region, so ``zh-hans`` or ``zh-TW``
    would fall through to the default; every Chinese variant reads Simplified here.
    """
    if not code:
        return None
    value = code.strip().replace("_", "-").lower()
    if value in _ZH_CODES or value.startswith("zh-"):
        return "zh_Hans"
    if value == "en" or value.startswith("en-"):
        return "en"
    return None


def compile_catalogues(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every ``.po`` whose ``.mo`` is missing or older; return what was written.

    Runs at start-up so that a fresh clone never needs ``pybabel compile`` by hand.
    """
    written: list[Path] = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po_path.open("rb") as fp:
            catalog = read_po(fp, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as fp:
            write_mo(fp, catalog)
        tmp.replace(mo_path)
        written.append(mo_path)
    return written


_translations: dict[str, _gettext.NullTranslations] = {}


def translation(locale: str) -> _gettext.NullTranslations:
    """A gettext translation for code that runs outside an update (CLI, scheduler)."""
    if locale not in _translations:
        compile_catalogues()
        _translations[locale] = _gettext.translation(
            DOMAIN, localedir=str(LOCALES_DIR), languages=[locale], fallback=True
        )
    return _translations[locale]


def gettext_for(locale: str) -> Callable[[str], str]:
    return translation(locale).gettext


# How each supported language writes dates and numbers: English as British and
# international usage does (30 November 2026, 19:30), not US (11/30/26, 7:30 PM).
_BABEL = {"zh_Hans": "zh_Hans_CN", "en": "en_GB"}


# Babel is imported on first use: the command line formats no dates to print `--help`.
def babel_locale(locale: str) -> Locale:
    from babel import Locale

    return Locale.parse(_BABEL.get(locale, locale))


def fmt_date(value: date | datetime, locale: str, fmt: str = "medium") -> str:
    from babel.dates import format_date

    return format_date(value, format=fmt, locale=babel_locale(locale))


def fmt_datetime(value: datetime, locale: str, fmt: str = "medium") -> str:
    from babel.dates import format_datetime

    return format_datetime(value, format=fmt, locale=babel_locale(locale))


def fmt_when(value: datetime, locale: str) -> str:
    """When something happens, as a notice says it: the date in words and the time
    ("30 November 2026, 19:30"; "2026年11月30日 19:30")."""
    from babel.dates import format_date, format_time

    where = babel_locale(locale)
    day = format_date(value, format="long", locale=where)
    time = format_time(value, format="short", locale=where)
    return where.datetime_formats["long"].format(time, day)


@lru_cache(maxsize=4096, typed=True)  # Babel's formatting is slow; scores repeat
def fmt_number(value: float | int, locale: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=babel_locale(locale))


def fmt_percent(value: float, locale: str, digits: int = 1) -> str:
    pattern = "#,##0." + "0" * digits + "%" if digits else "#,##0%"
    from babel.numbers import format_percent

    return format_percent(value, format=pattern, locale=babel_locale(locale))


def N_(text: str) -> str:
    """Marks a message id for extraction (Babel's default keyword N_) without translating:
    for tables of messages translated later with ``_(TABLE[code])``."""
    return text
