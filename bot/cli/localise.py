"""The command line's help in the city's language.

typer builds a click command tree from the commands' docstrings and `help=` texts, all
English, and click and typer add their own words ("Usage:", "Options", "Show this message
and exit."). `localise` walks that tree once before it runs and puts every text through
the catalogues, so no command has to wrap its help in `_()`. Extraction sees the same
texts: babel.cfg maps bot/cli/main.py to `extract` below, which walks the same tree, so
`branchbot i18n update` and the catalogue test find a help text nobody translated.

English needs nothing: the message ids are the English texts, and the tree is left as
typer built it. Chinese help is wrapped by display width (a Chinese character takes two
columns), which click's own formatter does not know.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

from typer import _click as click

from bot.i18n import N_

Gettext = Callable[[str], str]

# typer's and click's own words in help: typer's go through gettext's `_` in typer.core,
# which `localise` points at the catalogues; click's are set on the tree below.
TYPER_WORDS = (
    N_("Arguments"),
    N_("Options"),
    N_("Commands"),
    N_("required"),
    N_("default: {default}"),
    N_("env var: {var}"),
    N_("(dynamic)"),
)
USAGE = N_("Usage:")
OPTIONS_METAVAR = N_("[OPTIONS]")
SUBCOMMAND_METAVAR = N_("COMMAND [ARGS]...")
HELP_OPTION = N_("Show this message and exit.")


def paragraphs(text: str) -> list[str]:
    """A help text as its paragraphs, each on one line: the message ids (a docstring's
    line breaks are where its source was wrapped, not part of the message)."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", inspect.cleandoc(text)) if p.strip()]


def _commands(cmd: click.Command) -> Iterator[click.Command]:
    yield cmd
    for sub in getattr(cmd, "commands", {}).values():
        yield from _commands(sub)


def help_texts(root: click.Command) -> Iterator[str]:
    """Every help text of the tree, as message ids."""
    for cmd in _commands(root):
        for text in (cmd.help, cmd.short_help, *(getattr(p, "help", None) for p in cmd.params)):
            if text:
                yield from paragraphs(text)


def shows_help(root: click.Command, args: list[str]) -> bool:
    """Whether these arguments print help: `--help`, or a group named without one of its
    commands. Only then is the tree localised: loading a catalogue for help a command
    does not print would cost every command a few hundredths of a second."""
    if "--help" in args:
        return True
    cmd = root
    for word in args:
        cmd = getattr(cmd, "commands", {}).get(word)
        if cmd is None:
            return False
    return hasattr(cmd, "commands")


def _translate(text: str, _: Gettext) -> str:
    return "\n\n".join(_(p) for p in paragraphs(text))


def _first_sentence(text: str) -> str:
    first = paragraphs(text)[0] if text.strip() else ""
    end = first.find("。")
    return first[: end + 1] if 0 <= end < len(first) - 1 else first


_typer_gettext: Gettext | None = None


def localise(root: click.Command, locale: str) -> None:
    """Put the tree's help, and typer's and click's words, into `locale` (in place)."""
    import typer.core

    global _typer_gettext
    if _typer_gettext is None:
        _typer_gettext = typer.core._
    # typer's headings and "[required]" go through gettext there; in English, typer's own.
    if locale == "en":
        typer.core._ = _typer_gettext
        return
    from bot.i18n import gettext_for

    _ = gettext_for(locale)
    typer.core._ = _

    class Formatter(_WideFormatter):
        words = staticmethod(_)

    class Context(click.Context):
        formatter_class = Formatter

    for cmd in _commands(root):
        cmd.context_class = Context
        if cmd.help:
            cmd.help = _translate(cmd.help, _)
            # click shortens a help to its first sentence by counting spaces, of which a
            # Chinese sentence has none: the first sentence, whole.
            cmd.short_help = _first_sentence(cmd.help)
        elif cmd.short_help:
            cmd.short_help = _translate(cmd.short_help, _)
        for param in cmd.params:
            if getattr(param, "help", None):
                param.help = _translate(param.help, _)  # type: ignore[attr-defined]
        option = cmd.get_help_option(click.Context(cmd))
        if option is not None and option.help == HELP_OPTION:
            option.help = _(HELP_OPTION)
        cmd.options_metavar = _(OPTIONS_METAVAR)
        if hasattr(cmd, "subcommand_metavar"):
            cmd.subcommand_metavar = _(SUBCOMMAND_METAVAR)


class _WideFormatter(click.HelpFormatter):
    """click's help layout, wrapped by display width instead of by characters."""

    words: Gettext

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        prefix = self.words(USAGE)
        super().write_usage(prog, args, prefix=prefix if prefix.endswith("：") else prefix + " ")

    def write_heading(self, heading: str) -> None:
        from bot.cli.table import display_width

        colon = "：" if display_width(heading) > len(heading) else ":"
        self.write(f"{'':>{self.current_indent}}{heading}{colon}\n")

    def write_text(self, text: str) -> None:
        from bot.cli.table import wrap

        indent = " " * self.current_indent
        blocks = [
            "\n".join(indent + line for line in wrap(p, self.width - self.current_indent))
            for p in paragraphs(text)
        ]
        self.write("\n\n".join(blocks) + "\n")

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        from bot.cli.table import display_width, wrap

        rows = list(rows)
        first_col = min(max((display_width(r[0]) for r in rows), default=0), col_max)
        first_col += col_spacing
        indent = " " * self.current_indent
        for first, second in rows:
            self.write(indent + first)
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap(" ".join(second.split()), max(self.width - first_col - 2, 10))
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(" " * (first_col + self.current_indent) + line + "\n")


def extract(fileobj, keywords, comment_tags, options):
    """Babel extraction for bot/cli/main.py: its own `_()` messages as usual, then every
    help text of the tree it builds (see babel.cfg)."""
    from babel.messages.extract import extract_python

    yield from extract_python(fileobj, keywords, comment_tags, options)
    import typer.main

    from bot.cli.main import app

    seen: set[str] = set()
    for text in help_texts(typer.main.get_command(app)):
        if text not in seen:
            seen.add(text)
            yield 0, "_", text, []


# click's refusals, worded by click in English, matched to say them again in the city's
# language: (pattern of click's message, message id, what to fill in).
_REFUSALS = (
    (r"No such command '(?P<name>.+?)'\.(?: Did you mean (?P<close>.+)\?)?$", None),
    (
        r"Got unexpected extra argument(?:\(s\)|s)? \((?P<args>.*)\)$",
        N_("Unexpected extra argument: {args}"),
    ),
    (r"Option '(?P<name>.+)' requires an argument\.$", N_("{name} needs a value.")),
    (r"Option '(?P<name>.+)' requires (?P<n>\d+) arguments\.$", N_("{name} needs {n} values.")),
    (r"Option '(?P<name>.+)' does not take a value\.$", N_("{name} takes no value.")),
    (r"Missing command\.$", N_("Missing command: name one of the commands below.")),
)
# What click and typer say of a value they refused (after "Invalid value for --x:").
_VALUE_REFUSALS = (
    (r"(?P<value>.+) is not one of (?P<choices>.+)\.$", N_("{value} is not one of {choices}")),
    (r"Value (?P<value>.+) is not a valid (?P<kind>\w+)\.$", N_("{value} is not a valid value")),
)


def usage_line(exc: Any, root: click.Command | None = None, args: list[str] | None = None) -> str:
    """A usage mistake (click's `UsageError`) in one line in the command line's language,
    naming the command (found from `args` when click did not say which) and its help."""
    from typer._click.exceptions import BadParameter, MissingParameter, NoSuchOption

    from bot.cli.common import words

    _ = words()
    if exc.ctx is not None:
        where = exc.ctx.command_path
    else:
        where = _command_path(root, args or [])
    text = exc.format_message()
    hint = exc.param_hint if isinstance(exc, BadParameter) else None
    if hint is None and getattr(exc, "param", None) is not None:
        hint = exc.param.get_error_hint()
    if isinstance(hint, (list, tuple)):
        hint = " / ".join(hint)
    if isinstance(exc, MissingParameter) and hint:
        kind = exc.param_type or (exc.param.param_type_name if exc.param else "")
        if kind == "argument":
            text = _("Missing argument {name}.").format(name=hint)
        elif kind == "option":
            text = _("Missing option {name}.").format(name=hint)
    elif isinstance(exc, BadParameter) and hint:
        text = _("Invalid value for {name}: {detail}").format(
            name=hint, detail=_value_refusal(exc, _)
        )
    elif isinstance(exc, NoSuchOption):
        text = _("No such option: {option}").format(option=exc.option_name)
        if exc.possibilities:
            options = ", ".join(sorted(exc.possibilities))
            text += " " + _("(Possible options: {options})").format(options=options)
    else:
        for pattern, msgid in _REFUSALS:
            found = re.match(pattern, exc.message)
            if not found:
                continue
            if msgid is None:  # No such command, perhaps with the close ones
                text = _("No such command {name}.").format(name=repr(found["name"]))
                if found["close"]:
                    text += " " + _("Did you mean {names}?").format(names=found["close"])
            else:
                text = _(msgid).format(**found.groupdict())
            break
    return f"{where}: {text} " + _("(`{command} --help` shows the options)").format(command=where)


def _value_refusal(exc: Any, _: Gettext) -> str:
    """Why a value was refused: pydantic's reason (typer checks values with it) in the
    settings' words, or click's own reason matched above."""
    detail = exc.message.removeprefix("Value error, ")
    cause = exc.__cause__
    if cause is not None and hasattr(cause, "errors"):
        from bot.config import pydantic_problem

        error = cause.errors()[0]
        msg, params = pydantic_problem(error)
        if msg is not None:
            return _(msg).format(**params) if params else _(msg)
        detail = str(error.get("msg", detail)).removeprefix("Value error, ")
    for pattern, msgid in _VALUE_REFUSALS:
        found = re.match(pattern, detail)
        if found:
            return _(msgid).format(**found.groupdict())
    return detail


def _command_path(root: click.Command | None, args: list[str]) -> str:
    """`branchbot org list` from the arguments: the words that name a command."""
    path, cmd = ["branchbot"], root
    for word in args:
        sub = getattr(cmd, "commands", {}).get(word) if cmd is not None else None
        if sub is None:
            if not word.startswith("-"):
                break
            continue
        path.append(word)
        cmd = sub
    return " ".join(path)
