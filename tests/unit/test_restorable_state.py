"""An update's conversation state: what it read is kept, what it changed can be put back."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from bot.middlewares.db import RestorableState

KEY = StorageKey(bot_id=1, chat_id=5, user_id=5)


class Counting(MemoryStorage):
    """Memory storage that counts its reads and writes (a Redis round trip each)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = self.writes = 0

    async def get_state(self, key):
        self.reads += 1
        return await super().get_state(key)

    async def get_data(self, key):
        self.reads += 1
        return await super().get_data(key)

    async def set_state(self, key, state=None):
        self.writes += 1
        await super().set_state(key, state)

    async def set_data(self, key, data):
        self.writes += 1
        await super().set_data(key, data)


async def _stored(storage) -> tuple:
    return await storage.get_state(KEY), await storage.get_data(KEY)


async def test_a_draft_read_and_written_back_costs_one_read_and_one_write_and_restores():
    storage = Counting()
    await storage.set_state(KEY, "Evaluate:ballot")
    await storage.set_data(KEY, {"ballot": {"campaign": 3, "marks": {"7": 1}}, "x": 1})
    storage.reads = storage.writes = 0
    state = RestorableState(FSMContext(storage, KEY), "Evaluate:ballot")  # as aiogram read it
    draft = (await state.get_data())["ballot"]
    draft["marks"]["8"] = 0  # the handler changes its own copy...
    assert (await storage.get_data(KEY))["ballot"]["marks"] == {"7": 1}  # ...not the stored one
    storage.reads = 0
    new = await state.update_data(ballot=draft)
    assert new == {"ballot": {"campaign": 3, "marks": {"7": 1, "8": 0}}, "x": 1}
    assert (storage.reads, storage.writes) == (0, 1)
    assert await state.get_data() == new  # read again after the write
    await state.restore()
    assert await _stored(storage) == (
        "Evaluate:ballot",
        {"ballot": {"campaign": 3, "marks": {"7": 1}}, "x": 1},
    )


async def test_changes_without_a_read_first_are_restored_too():
    storage = Counting()
    await storage.set_state(KEY, "Join:search")
    await storage.set_data(KEY, {"page": 2})
    state = RestorableState(FSMContext(storage, KEY))  # nothing known yet
    await state.set_state("Join:contact")
    await state.update_data(phone="138")
    assert await _stored(storage) == ("Join:contact", {"page": 2, "phone": "138"})
    await state.clear()
    assert await _stored(storage) == (None, {})
    await state.restore()
    assert await _stored(storage) == ("Join:search", {"page": 2})


async def test_an_update_that_only_reads_writes_nothing_and_restores_nothing():
    storage = Counting()
    await storage.set_data(KEY, {"a": [1]})
    state = RestorableState(FSMContext(storage, KEY), None)
    assert await state.get_state() is None and await state.get_data() == {"a": [1]}
    writes = storage.writes
    await state.restore()
    assert storage.writes == writes
