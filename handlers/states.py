"""Conversation states (kept in aiogram's FSM storage: memory, or Redis when configured)."""

from aiogram.fsm.state import State, StatesGroup


class Join(StatesGroup):
    search = State()
    contact = State()
    name = State()


class NewOrg(StatesGroup):
    kind = State()
    name = State()
    domain = State()


class EditMember(StatesGroup):
    value = State()
