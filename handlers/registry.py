"""Handlers declared once at import, a fresh Router built for every Dispatcher.

aiogram lets a Router join only one parent, and the tests and the demo build more
than one Dispatcher per process; so modules record their handlers here and
`router()` assembles a new Router each time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router


class Handlers:
    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: list[tuple[str, tuple[Any, ...], Callable[..., Any]]] = []

    def _on(self, event: str, *filters: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._entries.append((event, filters, fn))
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
