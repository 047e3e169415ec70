"""Handlers declared once at import, a fresh Router built for every Dispatcher.

aiogram lets a Router join only one parent, and the tests and the demo build more
than one Dispatcher per process; so modules record their handlers here and
`router()` assembles a new Router each time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters import Command, Filter
from magic_filter import MagicFilter

SEPARATOR = ":"  # aiogram's callback data separator; every button class of ours uses it


class Async(Filter):
    """A synchronous filter (`F.text`, a `State`, a plain function) made a coroutine.

    aiogram runs every synchronous filter in a worker thread (`asyncio.to_thread`) for
    each update that reaches it: a thread hop costing more than the check itself.
    """

    def __init__(self, check: Any) -> None:
        self.check = check.resolve if isinstance(check, MagicFilter) else check
        params = list(inspect.signature(self.check).parameters.values())[1:]
        self.params = tuple(p.name for p in params if p.kind is not p.VAR_POSITIONAL)

    async def __call__(self, event: Any, **kwargs: Any) -> Any:
        return self.check(event, **{k: kwargs[k] for k in self.params if k in kwargs})

    def __str__(self) -> str:
        return f"Async({self.check!r})"


class CommandFirst(Filter):
    """aiogram's `Command` filter behind a look at the message's first word.

    A command meets the Command filter of every handler before its own, and each one
    that does not match costs aiogram a parse, a raised exception and its handling. The
    command's name is read here as aiogram reads it (first word, prefix, name before
    any @mention, case-folded if asked); only a name the filter lists reaches it.
    Patterns (re) keep the full check.
    """

    def __init__(self, command: Command) -> None:
        self.command = command
        plain = all(isinstance(c, str) for c in command.commands)
        self.names = frozenset(command.commands) if plain else None

    def could_match(self, message: Any) -> bool:
        text = getattr(message, "text", None) or getattr(message, "caption", None)
        if not text:
            return False
        if self.names is None:
            return True
        first = text.split(maxsplit=1)
        if not first or first[0][0] not in self.command.prefix:
            return False
        name = first[0][1:].partition("@")[0]
        return (name.casefold() if self.command.ignore_case else name) in self.names

    async def __call__(self, message: Any, bot: Any) -> Any:
        if not self.could_match(message):
            return False
        return await self.command(message, bot)

    def update_handler_flags(self, flags: dict[str, Any]) -> None:
        self.command.update_handler_flags(flags)

    def __str__(self) -> str:
        return str(self.command)


def as_async(check: Any) -> Any:
    if isinstance(check, Command):
        return CommandFirst(check)
    if isinstance(check, Filter) or inspect.iscoroutinefunction(check):
        return check
    return Async(check)


class Handlers:
    """`chats`: the chat types every handler here needs, a message's chat or a pressed
    message's (the group guard's: groups); the Dispatcher offers it nothing else."""

    def __init__(self, name: str, chats: frozenset[str] | None = None) -> None:
        self.name = name
        self.chats = chats
        self._entries: list[tuple[str, tuple[Any, ...], Callable[..., Any]]] = []

    def _on(self, event: str, *filters: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._entries.append((event, tuple(map(as_async, filters)), fn))
            return fn

        return register

    def message(self, *filters: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._on("message", *filters)

    def callback_query(self, *filters: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self._on("callback_query", *filters)

    def router(self) -> Router:
        router = Router(name=self.name)
        for event, filters, fn in self._entries:
            getattr(router, event).register(fn, *filters)
        if self.chats is not None:
            chats = ChatGate(self.chats)
            router.message.filter(chats)
            router.callback_query.filter(chats)
            router.chat_gate = chats  # type: ignore[attr-defined]  # read by GatedRouting
        gate = self._press_gate()
        if gate is not None:
            router.callback_query.filter(gate)
            router.press_gate = gate  # type: ignore[attr-defined]  # read by GatedRouting
        return router

    def _press_gate(self) -> PressGate | None:
        """One check of a press's prefix for the whole router, when every press handler
        here needs a button class of its own: a press then skips the routers that cannot
        take it instead of meeting each of their handlers' filters (tens per press)."""
        from handlers.callbacks import PressFilter

        heads: set[str] = set()
        for event, filters, _fn in self._entries:
            if event != "callback_query":
                continue
            presses = [f for f in filters if isinstance(f, PressFilter)]
            if not presses or any(f.callback_data.__separator__ != SEPARATOR for f in presses):
                return None  # a handler that may take any press: no gate
            heads.update(f.callback_data.__prefix__ for f in presses)
        return PressGate(frozenset(heads)) if heads else None


class PressGate(Filter):
    """True for a press whose data starts with one of `prefixes` (as `PressFilter` reads
    it: the prefix alone, or the prefix and the separator)."""

    def __init__(self, prefixes: frozenset[str]) -> None:
        self.prefixes = prefixes

    async def __call__(self, query: Any) -> bool:
        data = getattr(query, "data", None)
        return bool(data) and data.split(SEPARATOR, 1)[0] in self.prefixes

    def __str__(self) -> str:
        return f"PressGate({sorted(self.prefixes)})"


def chat_type(event: Any) -> str | None:
    """The type of a message's chat, or of the chat of the message a press was made on."""
    message = getattr(event, "message", event)
    chat = getattr(message, "chat", None)
    return chat.type if chat is not None else None


class ChatGate(Filter):
    """True for a message, or a press on a message, in one of `chats` (chat types)."""

    def __init__(self, chats: frozenset[str]) -> None:
        self.chats = chats

    async def __call__(self, event: Any) -> bool:
        return chat_type(event) in self.chats

    def __str__(self) -> str:
        return f"ChatGate({sorted(self.chats)})"


class GatedRouting:
    """A press is offered only to the sub-routers that can take it, a message only to
    those that take its kind of chat.

    Each gated router would refuse it with its `PressGate` (or `ChatGate`) anyway;
    skipping them here saves aiogram's per-router work (its middleware wrapping and the
    gate's own call), which with twenty routers cost more than the handler that takes
    the press.
    """

    async def _propagate_event(self, observer, update_type, event, **kwargs):  # type: ignore[override]
        if update_type not in ("callback_query", "message") or (
            observer is not None and observer.handlers
        ):
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        chat = chat_type(event)
        pressed = update_type == "callback_query"
        data = getattr(event, "data", None) if pressed else None
        prefix = data.split(SEPARATOR, 1)[0] if data else None

        def refuses(router: Router) -> bool:
            chats = getattr(router, "chat_gate", None)
            if chats is not None and chat not in chats.chats:
                return True
            presses = getattr(router, "press_gate", None) if pressed else None
            return presses is not None and prefix not in presses.prefixes

        if observer is not None:
            passed, extra = await observer.check_root_filters(event, **kwargs)
            if not passed:
                return UNHANDLED
            kwargs.update(extra)
        response = UNHANDLED
        for router in self.sub_routers:
            if refuses(router) and not router.observers[update_type].outer_middleware._middlewares:
                continue  # its gate refuses the event, and nothing else runs there
            response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                break
        return response


class PressRouter(GatedRouting, Router):
    """A root router of gated feature routers."""


class GatedDispatcher(GatedRouting, Dispatcher):
    """The Dispatcher, gating its feature routers itself: one router level fewer for every
    update than under a `PressRouter` (aiogram's propagation, middleware wrapping and
    observer trigger per level)."""
