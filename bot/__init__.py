"""branchbot: the Telegram assistant for Party branches' monthly work."""

from bot.lazy_types import install as _install_lazy_types

_install_lazy_types()
