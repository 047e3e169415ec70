"""The `branchbot` command line."""

import time

# When the command started (nearly: the interpreter spent a few ms before this line), for
# figures a person reads as "from the command", such as the demo's "ready in".
LAUNCHED = time.monotonic()


def main() -> None:
    import sys

    from typer import Abort, Exit

    # typer carries its own copy of click; its exceptions live here.
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    from bot.cli.main import app

    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UsageError as exc:
        # One line, naming the command and the option, instead of click's usage block.
        from bot.cli.common import usage_line

        print(usage_line(exc), file=sys.stderr)
        sys.exit(exc.exit_code)
    except ClickException as exc:
        print(exc.format_message(), file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exit as exc:
        sys.exit(exc.exit_code)
    except Abort:
        print("Aborted.", file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
