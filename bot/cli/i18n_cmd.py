"""`branchbot i18n …` — keep the message catalogues in step with the code."""

from __future__ import annotations

from pathlib import Path

import typer

from bot.i18n import LOCALES_DIR, SUPPORTED, compile_catalogues

app = typer.Typer(
    help="Message catalogues: extract, update, compile.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ROOT = LOCALES_DIR.parent
POT = LOCALES_DIR / "messages.pot"


def _pybabel(*args: str) -> None:
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", "-q", *args])


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"


@app.command()
def update() -> None:
    """Extract messages from the code, merge them into every catalogue, compile.

    English message ids are the English text, so the English catalogue is filled
    from them; new Chinese entries are left empty for a translator (a test fails
    until they are filled).
    """
    _pybabel(
        "extract",
        "-F",
        str(ROOT / "babel.cfg"),
        "-k",
        "_",
        "-k",
        "__",
        "--no-location",
        "--sort-output",
        "--project",
        "branchbot",
        "-o",
        str(POT),
        str(ROOT),
    )
    for locale in SUPPORTED:
        cmd = "update" if po_path(locale).exists() else "init"
        extra = ["--no-fuzzy-matching", "--ignore-obsolete"] if cmd == "update" else []
        _pybabel(cmd, "-i", str(POT), "-d", str(LOCALES_DIR), "-l", locale, *extra)
    _fill_english()
    _merge_pending()
    written = compile_catalogues()
    typer.echo(f"catalogues updated; compiled {len(written)}")


def _fill_english() -> None:
    from babel.messages.pofile import read_po, write_po

    path = po_path("en")
    with path.open("rb") as fp:
        catalog = read_po(fp, locale="en")
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as fp:
        write_po(fp, catalog, width=100, omit_header=False, sort_output=True)


PENDING = ROOT / "docs" / "_pending_translations"


def _merge_pending() -> None:
    """Fill empty Chinese entries from `docs/_pending_translations/*.tsv` (msgid TAB text).

    Lets several people translate at once without editing the same .po file.
    """
    from babel.messages.pofile import read_po, write_po

    pending: dict[str, str] = {}
    for tsv in sorted(PENDING.glob("*.tsv")):
        for line in tsv.read_text(encoding="utf-8").splitlines():
            if "\t" in line:
                msgid, _, text = line.partition("\t")
                unescape = lambda v: v.replace("\\n", "\n").replace("\\t", "\t")
                pending[unescape(msgid)] = unescape(text)
    path = po_path("zh_Hans")
    with path.open("rb") as fp:
        catalog = read_po(fp, locale="zh_Hans")
    for message in catalog:
        if message.id and not message.string and message.id in pending:
            message.string = pending[message.id]
    with path.open("wb") as fp:
        write_po(fp, catalog, width=100, omit_header=False, sort_output=True)


@app.command()
def compile() -> None:
    """Compile the catalogues (start-up does this by itself when they changed)."""
    written = compile_catalogues()
    typer.echo(f"compiled {len(written)}")
