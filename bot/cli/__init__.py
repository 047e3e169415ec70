"""The `branchbot` command line."""

import time

# When the command started (nearly: the interpreter spent a few ms before this line), for
# figures a person reads as "from the command", such as the demo's "ready in".
LAUNCHED = time.monotonic()

# Commands that run without the cyclic garbage collector. Start-up builds objects that
# live until the process ends (modules, classes, pydantic's schemas), and the collector's
# passes over them cost `org add`, which scripts call a thousand times, a twentieth of its
# CPU; after start-up it makes a handful of rows. Every other command keeps the
# collector: a roster import makes 26,000 rows, the bot runs for months.
WITHOUT_GC = {("org", "add")}


def main() -> None:
    """`branchbot`; the collector as it was once it returns (tests call it in-process)."""
    import gc
    import sys

    collecting = gc.isenabled()
    if tuple(sys.argv[1:3]) in WITHOUT_GC:
        gc.disable()
    try:
        _main()
    finally:
        if collecting:
            gc.enable()


def _main() -> None:
    import os
    import sys

    # pydantic reads every installed package's metadata for plugins the first time it
    # builds a model: a sixth of `org add`'s CPU, and the project has no plugin. Setting
    # PYDANTIC_DISABLE_PLUGINS in the environment (even to nothing) decides otherwise.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

    from typer import Abort, Exit

    # typer carries its own copy of click; its exceptions live here.
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    from bot.cli.common import locale_of
    from bot.cli.localise import localise, shows_help
    from bot.cli.main import command_for

    # The click tree typer builds; its help in the city's language when it prints help.
    command = command_for(sys.argv[1:])
    if shows_help(command, sys.argv[1:]):
        localise(command, locale_of())
    try:
        # The name given, not click's guess from `__main__` ("python -m pytest" when a
        # test runs this in-process under `python -m pytest`).
        code = command.main(standalone_mode=False, prog_name="branchbot")
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UsageError as exc:
        # One line, naming the command and the option, instead of click's usage block.
        from bot.cli.localise import usage_line

        print(usage_line(exc, command, sys.argv[1:]), file=sys.stderr)
        sys.exit(exc.exit_code)
    except ClickException as exc:
        print(exc.format_message(), file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exit as exc:
        sys.exit(exc.exit_code)
    except Abort:  # Ctrl-C, or no answer to a question
        from bot.cli.common import words

        _ = words()
        print(_("Stopped: nothing was changed."), file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


# The entry point under a second name: once the command tree's module `bot.cli.main` is
# imported, the package's attribute `main` is that module (tests run `entry` in-process).
entry = main
