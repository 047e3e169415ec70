"""Pagination for every list a user sees."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

PAGE_SIZE = 8


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    page: int  # 0-based
    total: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


def clamp(page: int, total: int, size: int) -> int:
    """A page that exists: a stale or forged page number shows the nearest real one."""
    return min(max(page, 0), max(0, -(-total // size) - 1))


def page_of(items: Sequence[T], page: int, size: int = PAGE_SIZE) -> Page[T]:
    """One page of a list already in memory (a branch's checklist or roster)."""
    page = clamp(page, len(items), size)
    return Page(list(items[page * size : (page + 1) * size]), page, len(items), size)


async def paginate(
    session: AsyncSession, stmt: Select, page: int, size: int = PAGE_SIZE, *, rows: bool = False
) -> Page:
    """Run `stmt` (already ordered) for one page, clamping the page number to what exists.
    Items are the first column's values, or whole rows with `rows`."""
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    page = clamp(page, total, size)
    found = await session.execute(stmt.limit(size).offset(page * size))
    items = [tuple(r) for r in found.all()] if rows else list(found.scalars().all())
    return Page(items, page, total, size)


async def paginate_counted(
    session: AsyncSession, stmt: Select, page: int, size: int = PAGE_SIZE
) -> Page[tuple]:
    """`paginate` in one statement: the total rides on every row as `count(*) OVER ()`.
    Items are whole rows (without that column). Only a page past the end (a stale or
    forged number) costs a second statement, for the last page that exists."""
    counted = stmt.add_columns(func.count().over().label("_total"))
    page = max(page, 0)
    found = (await session.execute(counted.limit(size).offset(page * size))).all()
    if not found and page > 0:
        total = (
            await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
        ).scalar_one()
        if total:
            last = clamp(page, total, size)
            found = (await session.execute(counted.limit(size).offset(last * size))).all()
            page = last
    total = found[0][-1] if found else 0
    return Page([tuple(r)[:-1] for r in found], page if found else 0, total, size)
