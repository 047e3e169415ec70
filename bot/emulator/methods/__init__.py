"""The Bot API methods the emulator implements, one module per area."""

from . import chats, media, messages, polling  # noqa: F401  (modules register themselves)
from .registry import METHODS

__all__ = ["METHODS"]
