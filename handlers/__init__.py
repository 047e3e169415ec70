"""Routers, one per feature. Handlers adapt updates to services and render replies."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.types import CallbackQuery, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import Mark, Noop, SelfMark
from handlers.registry import PressRouter, as_async


def _fallback() -> Router:
    router = Router(name="fallback")

    @router.callback_query(Noop.filter())
    async def noop(query: CallbackQuery) -> None:
        await query.answer()

    @router.callback_query(as_async(F.data))
    async def stale(query: CallbackQuery) -> None:
        # Forged, outdated, or from a conversation that has ended: nothing is written.
        await query.answer(_("This button has expired. Please start again."), show_alert=True)

    return router


def writes_nothing(i18n: I18n) -> Callable[[Update], bool]:
    """Which updates' handlers write nothing to the database but the update's id: a mark
    on a ballot or a self-assessment (the draft lives in the conversation state) and /me
    (typed or from the menu). `bot.middlewares.db` runs them without a transaction; a
    write there would still begin one."""
    from handlers.menu import ME, MenuButton

    presses = frozenset({Mark.__prefix__, SelfMark.__prefix__})
    texts = frozenset({"/me", *MenuButton(ME).texts(i18n)})

    def test(update: Update) -> bool:
        if update.callback_query is not None:
            data = update.callback_query.data
            return bool(data) and data.split(":", 1)[0] in presses
        text = update.message.text if update.message is not None else None
        if not text:
            return False
        return text in texts or (text.startswith("/me@") and " " not in text)

    return test


def setup_routers() -> Router:
    """Every router under one root (`feature_routers`, in their order)."""
    root = PressRouter(name="root")
    root.include_routers(*feature_routers())
    return root


def feature_routers() -> list[Router]:
    """The fixed order: /cancel and commands first, conversations next, the fallbacks last.
    The composition root includes them in a `GatedDispatcher` directly (a router level
    fewer for every update)."""
    from handlers import (
        ask,
        broadcast,
        content,
        dashboard,
        eval_mentoring,
        eval_staff,
        evaluation,
        evidence,
        group,
        group_guard,
        hints,
        join,
        meeting_log,
        meetings,
        month,
        notifications,
        notify,
        orgs,
        roster,
        stars,
        start,
    )

    features = (
        group_guard,
        start,
        join,
        notify,
        orgs,
        roster,
        month,
        meeting_log,
        meetings,
        evidence,
    )
    # The evaluation's staff and mentoring screens first: their presses and reason step
    # are narrower than the evaluation router's catch-alls (EvalView, EvalHome, states).
    features += (group, stars, content, eval_staff, eval_mentoring, evaluation)
    features += (broadcast, notifications, dashboard, ask)
    # ask.fallback answers private text no feature took: after every feature router.
    # hints answer a conversation step's unusable message; group_guard (first) keeps
    # personal answers out of groups.
    routers = [m.router.router() for m in features]
    return [*routers, hints.router.router(), ask.fallback.router(), _fallback()]
