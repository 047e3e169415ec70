"""Messages to people other than the sender: approvers, and the member who was decided on."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, html
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import Member
from bot.delivery import unreachable
from bot.services import onboarding, orgs, prefs, reach
from bot.services.members import Principal, load_principal
from bot.services.onboarding import ClaimKind, ClaimOutcome
from handlers.callbacks import Decide
from handlers.menu import menu_keyboard
from handlers.registry import Handlers
from handlers.views import Button, keyboard

log = logging.getLogger(__name__)
router = Handlers("approvals")


async def send_quietly(
    bot: Bot,
    chat_id: int,
    text: str,
    *,
    session: AsyncSession | None = None,
    now: datetime | None = None,
    **kwargs,
) -> None:
    """Send, and on a final refusal mark the member unreachable (given a session)."""
    try:
        await bot.send_message(chat_id, text, **kwargs)
    except TelegramAPIError as exc:
        # Someone who blocked the bot must not stop the others being told.
        log.warning("could not notify a user: %s", type(exc).__name__)
        if session is not None and now is not None and unreachable(chat_id, exc):
            await reach.mark_unreachable(session, chat_id, now)


async def notify_approvers(
    bot: Bot,
    session: AsyncSession,
    i18n: I18n,
    outcome: ClaimOutcome,
    tg_name: str,
    now: datetime,
) -> None:
    if not outcome.notify:
        return
    org_id = outcome.request.org_id if outcome.request else outcome.member.org_id
    org = await orgs.require_org(session, org_id)
    locales = await prefs.locales_for(session, outcome.notify, i18n.default_locale)
    for chat_id in outcome.notify:
        with i18n.use_locale(locales[chat_id]):
            if outcome.kind is ClaimKind.conflict:
                text = _(
                    "⚠️ Someone on Telegram ({tg}) tried to join {branch} as {name}, "
                    "who is already linked to another account. If this is wrong, unlink "
                    "the old account in the roster."
                ).format(
                    tg=html.quote(tg_name),
                    branch=html.quote(org.name),
                    name=html.quote(outcome.member.name),
                )
                await send_quietly(bot, chat_id, text, session=session, now=now)
                continue
            req = outcome.request
            on_roster = (
                _("on the roster as {name}").format(name=html.quote(outcome.member.name))
                if outcome.member
                else _("not on the roster")
            )
            text = _("New request to join {branch}: {name} ({where}), Telegram: {tg}.").format(
                branch=html.quote(org.name),
                name=html.quote(req.name),
                where=on_roster,
                tg=html.quote(tg_name),
            )
            buttons = [
                [
                    Button(
                        text=_("✅ Approve"), callback_data=Decide(request=req.id, ok=True).pack()
                    ),
                    Button(
                        text=_("❌ Reject"), callback_data=Decide(request=req.id, ok=False).pack()
                    ),
                ]
            ]
            await send_quietly(
                bot, chat_id, text, session=session, now=now, reply_markup=keyboard(buttons)
            )


async def tell_joined(
    message: Message, session: AsyncSession, principal: Principal, member: Member
) -> None:
    principal.member = member
    principal.branch = await orgs.require_org(session, member.org_id)
    path = await orgs.display_path(session, principal.branch)
    await message.answer(
        _("Welcome, {name}! You are now linked to {path}. /me shows your record.").format(
            name=html.quote(member.name), path=html.quote(path)
        ),
        reply_markup=menu_keyboard(principal),
    )


@router.callback_query(Decide.filter())
async def decide(
    query: CallbackQuery,
    callback_data: Decide,
    session: AsyncSession,
    clock: Clock,
    principal: Principal,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    result = await onboarding.decide(
        session, principal, clock.now(), callback_data.request, callback_data.ok
    )
    await query.answer()
    who = html.quote(result.request.name)
    done = _("✅ {name} approved.") if callback_data.ok else _("❌ {name} rejected.")
    await query.message.edit_text(
        f"{query.message.html_text}\n\n" + done.format(name=who), reply_markup=None
    )
    requester = result.request.telegram_id
    locale = (await prefs.locales_for(session, [requester], i18n.default_locale))[requester]
    joined = await load_principal(session, requester, settings.superuser_ids)
    with i18n.use_locale(locale):
        if callback_data.ok:
            path = await orgs.display_path(session, result.org)
            text = _("Your request was approved. Welcome to {path}! /me shows your record.")
            await send_quietly(
                bot,
                requester,
                text.format(path=html.quote(path)),
                session=session,
                now=clock.now(),
                reply_markup=menu_keyboard(joined),
            )
        else:
            await send_quietly(
                bot,
                requester,
                _(
                    "Your request to join {branch} was not approved. Please talk to your secretary."
                ).format(branch=html.quote(result.org.name)),
                session=session,
                now=clock.now(),
            )
