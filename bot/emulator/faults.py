"""Fault injection: make the next N calls of a method fail the way Telegram or a network can.

Kinds: ``429`` (with ``retry_after``), ``500``, ``502`` and ``hang`` (the request is held
for ``seconds`` and then answered 504, so a client with a shorter timeout sees a timeout).
A fault is applied before the method runs, so a failed call changes nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass

from .errors import ApiError, bad_request, too_many_requests

KINDS = ("429", "500", "502", "hang")


@dataclass(slots=True)
class Fault:
    method: str  # lower-cased method name, or "*" for any method
    kind: str
    remaining: int
    retry_after: int = 1
    seconds: float = 30.0

    def to_api(self) -> dict:
        return asdict(self)


class FaultInjector:
    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(
        self, method: str, kind: str, count: int = 1, retry_after: int = 1, seconds: float = 30.0
    ) -> Fault:
        kind = str(kind)
        if kind not in KINDS:
            raise bad_request(f"fault kind must be one of {', '.join(KINDS)}")
        if count < 1 or retry_after < 1 or seconds < 0:
            raise bad_request("count and retry_after must be positive")
        fault = Fault(method.lower(), kind, count, retry_after, seconds)
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    async def apply(self, method: str) -> None:
        """Raise the fault planned for this call of ``method``, if any."""
        if not self.faults:
            return
        for fault in self.faults:
            if fault.method in (method, "*"):
                break
        else:
            return
        fault.remaining -= 1
        if fault.remaining <= 0:
            self.faults.remove(fault)
        if fault.kind == "429":
            raise too_many_requests(fault.retry_after)
        if fault.kind == "500":
            raise ApiError(500, "Internal Server Error")
        if fault.kind == "502":
            raise ApiError(502, "Bad Gateway")
        await asyncio.sleep(fault.seconds)
        raise ApiError(504, "Gateway Timeout")
