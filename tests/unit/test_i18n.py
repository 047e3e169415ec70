"""Choosing a user's language and formatting for it."""

from datetime import date, datetime

import pytest

from bot.i18n import fmt_date, fmt_number, fmt_percent, fmt_when, normalize_locale


@pytest.mark.parametrize(
    "code", ["zh", "zh-hans", "zh-CN", "zh-sg", "zh-hant", "zh-TW", "zh-hk", "zh_Hans", "ZH-MO"]
)
def test_every_chinese_variant_reads_simplified(code):
    assert normalize_locale(code) == "zh_Hans"


@pytest.mark.parametrize(("code", "expected"), [("en", "en"), ("en-GB", "en"), ("EN-us", "en")])
def test_english(code, expected):
    assert normalize_locale(code) == expected


@pytest.mark.parametrize("code", [None, "", "ru", "fr-CA", "zhx"])
def test_unknown_languages_fall_through_to_the_default(code):
    assert normalize_locale(code) is None


def test_formats_follow_the_locale():
    day = date(2026, 7, 1)
    assert fmt_date(day, "zh_Hans") == "2026年7月1日"
    # English as British and international usage writes it, day first: not US style.
    assert fmt_date(day, "en") == "1 Jul 2026"
    evening = datetime(2026, 11, 30, 19, 30)
    assert fmt_when(evening, "en") == "30 November 2026, 19:30"
    assert fmt_when(evening, "zh_Hans") == "2026年11月30日 19:30"
    assert fmt_number(26000, "en") == "26,000"
    assert fmt_percent(0.9912, "zh_Hans") == "99.1%"
    assert fmt_percent(0.5, "en", digits=0) == "50%"
