"""A database that cannot be used: one line, in the city's language, saying what to do."""

from __future__ import annotations

import re

import pytest

from bot.db.errors import database_problem
from bot.i18n import gettext_for


@pytest.mark.parametrize(
    ("driver_says", "en", "zh"),
    [
        ('database "city" does not exist', "`createdb city`", "还没有名为 city 的数据库"),
        ('role "bob" does not exist', "no database user bob", "没有名为 bob 的数据库用户"),
        ('password authentication failed for user "bob"', "password of bob", "用户 bob 的密码"),
        ("file is not a database", "not a branchbot database", "不是 branchbot 数据库"),
        ("[Errno 111] Connect call failed", "server runs", "数据库服务器正在运行"),
    ],
)
def test_database_problem_in_both_languages(driver_says: str, en: str, zh: str) -> None:
    exc = OSError(driver_says)
    english = database_problem(exc, gettext_for("en"))
    chinese = database_problem(exc, gettext_for("zh_Hans"))
    assert english.startswith("DATABASE_URL: ") and en in english, english
    assert chinese.startswith("DATABASE_URL: ") and zh in chinese, chinese
    # The driver's English only inside brackets, if at all.
    prose = re.sub(r"（[^（）]*）|\([^()]*\)|`[^`]*`|\b[A-Z_]{3,}\b|branchbot", " ", chinese)
    assert not re.search(r"[A-Za-z]{3,}\s+[A-Za-z]{3,}", prose), chinese
