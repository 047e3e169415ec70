"""branchbot: the Telegram assistant for Party branches' monthly work."""

import sys as _sys

from bot.lazy_types import install as _install_lazy_types

# Bytecode for what is imported from here on is written once, into the project's own
# environment, even where PYTHONDONTWRITEBYTECODE is set (this machine sets it): without
# it every process compiles aiogram, SQLAlchemy and pydantic again, seconds before the
# bot's first answer. uv's `compile-bytecode` setting would do it at install, but
# `uv run` then compiles the whole environment again on every call (uv issue 12202),
# a third of a second on each `uv run branchbot org add`.
_sys.dont_write_bytecode = False

_install_lazy_types()
