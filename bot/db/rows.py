"""ORM objects from rows read as plain columns, for the statements every update runs.

Loading entities through the ORM costs, per object, about as much as the rest of a
small statement (its loading machinery, and SQLModel's per-instance set-up). A statement
that selects a mapped class's columns (`columns(Model)`) and hands each object's slice
of the row to `attach` gets the same persistent objects for far less.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value


class Columns:
    """A mapped class's column attributes, in one order: `Columns(Member).all` goes into a
    select, and the same slice of its row into `attach`."""

    def __init__(self, model: type) -> None:
        self.model = model
        self.mapper = inspect(model)
        props = [p for p in self.mapper.column_attrs if len(p.columns) == 1]
        self.keys = [p.key for p in props]
        self.all = [p.columns[0] for p in props]
        (pk,) = self.mapper.primary_key  # one-column primary keys only
        self.pk = self.keys.index(self.mapper.get_property_by_column(pk).key)

    def __len__(self) -> int:
        return len(self.keys)


def attach(session: AsyncSession, columns: Columns, values: Sequence[Any]) -> Any:
    """The persistent object of `values` (the row's slice for `columns`), as if the ORM
    had loaded it: in the session's identity map (a later `get` returns it), its changes
    flushed, expired by a rollback. An object the session holds already is the one
    returned, its expired attributes filled from the row, as the ORM's loading does."""
    key = columns.mapper.identity_key_from_primary_key((values[columns.pk],))
    held = session.identity_map.get(key)
    if held is not None:
        unloaded = inspect(held).unloaded
        for name, value in zip(columns.keys, values, strict=True):
            if name in unloaded:
                set_committed_value(held, name, value)
        return held
    obj = columns.mapper.class_manager.new_instance()
    obj.__dict__.update(zip(columns.keys, values, strict=True))
    make_transient_to_detached(obj)  # loaded, unchanged, with its identity
    session.add(obj)
    return obj


async def read_connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection (and transaction) for a read past the ORM, after the
    flush of pending changes that the ORM's own execute would have done first."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await session.connection()
