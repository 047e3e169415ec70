"""A database that cannot be used, in one line an administrator can act on."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import N_


def driver_reason(exc: BaseException) -> str:
    """The driver's own words, first line only (never the URL: it may hold a password)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def database_problem(exc: BaseException, _: Callable[[str], str] = str) -> str:
    """What is wrong and what to do, in the words of `_` (a gettext): the name PostgreSQL
    gives (database, user) in our words; another reason of the driver's quoted in brackets."""
    import re

    reason = driver_reason(exc)
    low = reason.lower()
    name = re.search(r'"([^"]*)"', reason)
    params = {"reason": reason, "name": name[1] if name else "…"}
    if "does not exist" in low and "database" in low:
        msg = N_(
            "there is no database {name} yet: create it (e.g. `createdb {name}`), "
            "or run `branchbot db upgrade --create`"
        )
    elif "role" in low and "does not exist" in low:
        msg = N_("there is no database user {name}: check the user name in DATABASE_URL")
    elif "password authentication failed" in low:
        msg = N_(
            "the database refused the password of {name}: "
            "check the user and password in DATABASE_URL"
        )
    elif "permission denied" in low:
        # Tables restored or created by another role (pg_restore --no-owner run as
        # postgres) cannot be read by the bot's: docs/deploy.md, section 7.
        table = re.search(r"permission denied for (?:table|relation|sequence) (\S+)", reason)
        params["name"] = table[1] if table else "…"
        msg = N_(
            "the database user may not read the table {name} (were the tables restored or"
            " created by another user?): restore or create them as the user in DATABASE_URL,"
            " or grant it the rights"
        )
    elif "file is not a database" in low or "malformed" in low:
        msg = N_("the file is not a branchbot database ({reason}): check the path in DATABASE_URL")
    elif "unable to open database file" in low:
        msg = N_("cannot open the database file ({reason}): check its folder")
    else:
        msg = N_("cannot use the database ({reason}): check DATABASE_URL and that the server runs")
    return "DATABASE_URL: " + _(msg).format(**params)
