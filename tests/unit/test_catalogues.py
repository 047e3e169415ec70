"""Every message in the code exists, translated and not fuzzy, in Chinese and English."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, SUPPORTED

ROOT = LOCALES_DIR.parent


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_",
            "-k",
            "__",
            "-o",
            str(pot),
            str(ROOT),
        ],
        check=True,
    )
    with pot.open("rb") as fp:
        return {m.id for m in read_po(fp) if m.id}


def _catalogue(locale: str) -> dict[str, object]:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        return {m.id: m for m in read_po(fp, locale=locale) if m.id}


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_message_is_translated(extracted: set[str], locale: str) -> None:
    catalogue = _catalogue(locale)
    missing = sorted(extracted - catalogue.keys())
    assert not missing, f"{locale}: not in the catalogue (run `branchbot i18n update`): {missing}"
    empty = sorted(i for i in extracted if not catalogue[i].string)
    assert not empty, f"{locale}: untranslated: {empty}"
    fuzzy = sorted(i for i in extracted if catalogue[i].fuzzy)
    assert not fuzzy, f"{locale}: fuzzy: {fuzzy}"


@pytest.mark.parametrize("locale", SUPPORTED)
def test_placeholders_survive_translation(locale: str) -> None:
    field = re.compile(r"\{(\w*)\}")
    for msgid, message in _catalogue(locale).items():
        if message.string:
            assert set(field.findall(msgid)) == set(field.findall(message.string)), msgid


def test_chinese_is_chinese() -> None:
    """A Chinese catalogue that merely copies the English would pass the checks above."""
    catalogue = _catalogue("zh_Hans")

    def words(text: str) -> bool:
        # Placeholders, tags and commands are the same in every language.
        bare = re.sub(r"\{\w*\}|<[^>]+>|/\w+|English", "", text)
        return bool(re.search(r"[A-Za-z]{4}", bare))

    copied = [i for i, m in catalogue.items() if m.string == i and words(i)]
    assert not copied
