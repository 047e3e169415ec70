"""Handlers declared once at import, a fresh Router built for every Dispatcher.

aiogram lets a Router join only one parent, and the tests and the demo build more
than one Dispatcher per process; so modules record their handlers here and
`router()` assembles a new Router each time.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from magic_filter import MagicFilter


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


def as_async(check: Any) -> Any:
    if isinstance(check, Filter) or inspect.iscoroutinefunction(check):
        return check
    return Async(check)


class Handlers:
    def __init__(self, name: str) -> None:
        self.name = name
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
        return router
