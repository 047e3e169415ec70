"""Every word a city writes for a category, domain, status, role or kind means one value."""

from __future__ import annotations

import pytest

from bot import texts
from bot.db.enums import Category, Domain, MemberStatus, OrgKind, Role
from bot.i18n import gettext_for
from bot.services import roster
from bot.services import vocabulary as v


def cases(table: dict) -> list[tuple[str, str]]:
    return [(word, str(value)) for value, words in table.items() for word in words]


@pytest.mark.parametrize(("word", "value"), cases(v.CATEGORY_WORDS))
def test_category_word(word: str, value: str) -> None:
    assert v.meaning("category", word) == value


@pytest.mark.parametrize(("word", "value"), cases(v.DOMAIN_WORDS))
def test_domain_word(word: str, value: str) -> None:
    assert v.meaning("domain", word) == value


@pytest.mark.parametrize(("word", "value"), cases(v.STATUS_WORDS))
def test_status_word(word: str, value: str) -> None:
    assert v.meaning("status", word) == value


@pytest.mark.parametrize(("word", "value"), cases(v.ROLE_WORDS))
def test_role_word(word: str, value: str) -> None:
    assert v.meaning("role", word) == value


@pytest.mark.parametrize(("word", "value"), cases(v.KIND_WORDS))
def test_kind_word(word: str, value: str) -> None:
    assert v.meaning("kind", word) == value


@pytest.mark.parametrize(
    ("word", "value"),
    [
        # The words of issue 12, as cities write them.
        ("农村和社区党员", Category.rural_community),
        ("农村党员", Category.rural_community),
        ("社区党员", Category.rural_community),
        ("机关党员", Category.agency),
        ("企事业单位党员", Category.agency),
        ("两新组织党员", Category.two_new),
        ("非公企业党员", Category.two_new),
        ("社会组织党员", Category.two_new),
        ("流动党员", Category.mobile),
        (" 农村和社区党员（必填） ", Category.rural_community),
    ],
)
def test_the_words_of_the_issue(word: str, value: Category) -> None:
    assert v.meaning("category", word) == value


def test_no_word_means_two_things_in_one_column() -> None:
    for name, table in v.FIELD_WORDS.items():
        seen: dict[str, str] = {}
        for value, words in table.items():
            for word in words:
                k = v.key(word)
                assert seen.setdefault(k, str(value)) == str(value), (name, word)


def test_every_value_has_words_and_the_export_word_comes_first() -> None:
    for enum, table in (
        (Category, v.CATEGORY_WORDS),
        (Domain, v.DOMAIN_WORDS),
        (MemberStatus, v.STATUS_WORDS),
        (Role, v.ROLE_WORDS),
        (OrgKind, v.KIND_WORDS),
    ):
        assert set(table) == set(enum)
    assert v.CATEGORY_WORDS[Category.rural_community][0] == "农村社区党员"


def test_unknown_words_mean_nothing_and_close_ones_get_a_suggestion() -> None:
    assert v.meaning("category", "宇航员") is None
    assert v.closest_word("category", "农村和城市社区党员") is not None
    assert v.closest_word("domain", "两薪组织") == "两新组织"
    assert v.closest_word("category", "宇航员") is None


def test_a_name_is_suggested_only_when_it_differs_by_a_typo() -> None:
    """Not for sharing its ending: that says the kind of unit, not which one."""
    siblings = ["某某村党支部", "某某社区党支部"]
    assert v.did_you_mean("某某树党支部", siblings) == "某某村党支部"
    assert v.did_you_mean("新河村党支部", siblings) is None
    assert v.did_you_mean("东山社区党支部", siblings) is None
    assert v.did_you_mean("某某真党委", ["某某镇党委"]) == "某某镇党委"
    assert v.did_you_mean("某市委", ["某某市委"]) == "某某市委"
    assert v.did_you_mean("村党支部", siblings) is None


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("category", texts.category_label),
        ("domain", texts.domain_label),
        ("status", texts.status_label),
        ("role", texts.role_label),
        ("kind", texts.kind_label),
    ],
)
def test_chat_and_files_use_one_chinese_word(field, label) -> None:
    """The member card in chat says what the CLI and an exported roster say
    (农村社区党员, never 农村（社区）党员 in one place and 农村社区党员 in the other)."""
    _ = gettext_for("zh_Hans")
    for value, words in v.FIELD_WORDS[field].items():
        assert label(str(value), _) == words[0], (field, value)
        assert roster.value_label(field, str(value), "zh") == words[0]
