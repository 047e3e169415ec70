"""A database that cannot be used, in one line an administrator can act on."""

from __future__ import annotations


def driver_reason(exc: BaseException) -> str:
    """The driver's own words, first line only (never the URL: it may hold a password)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def database_problem(exc: BaseException) -> str:
    reason = driver_reason(exc)
    low = reason.lower()
    if "does not exist" in low and "database" in low:
        return (
            f"DATABASE_URL: {reason}: create it (e.g. `createdb NAME`), "
            "or run `branchbot db upgrade --create`"
        )
    if "role" in low and "does not exist" in low:
        return f"DATABASE_URL: {reason}: check the user name in DATABASE_URL"
    if "password authentication failed" in low:
        return f"DATABASE_URL: {reason}: check the user and password in DATABASE_URL"
    if "file is not a database" in low or "malformed" in low:
        return (
            f"DATABASE_URL: the file is not a branchbot database ({reason}): "
            "check the path in DATABASE_URL"
        )
    if "unable to open database file" in low:
        return f"DATABASE_URL: cannot open the database file ({reason}): check its folder"
    return f"DATABASE_URL: cannot use the database: {reason}"
