"""Routers, one per feature. Handlers adapt updates to services and render replies."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import Noop
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
