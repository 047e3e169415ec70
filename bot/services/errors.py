"""The one error type services raise for a refusal a user should read about."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A refusal with a stable code; `params` fill the localized message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        extra = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.code}({extra})" if extra else self.code
