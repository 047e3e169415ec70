"""`/broadcast` for the superior's staff: an announcement to part of their subtree.

Where (an organisation they oversee, picked by walking down the tree) → who (roles) →
the text, with an optional photo or document → a preview with the number of people →
Send. The messages go through the outbox; "🔄 Progress" shows the counts, and the final
counts arrive by themselves when everything has gone (`bot.scheduler.reports`).
"""

from __future__ import annotations

from aiogram import F, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.i18n import SUPPORTED, fmt_datetime
from bot.services import broadcasts, orgs
from bot.services.calendar import deliver_at, parse_quiet_hours
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.texts import role_label
from handlers.callbacks import Cast
from handlers.registry import Handlers
from handlers.states import SendBroadcast
from handlers.views import Button, keyboard, pager, redraw

router = Handlers("broadcast")


def _cancel() -> list[Button]:
    return [Button(text=_("✖ Cancel"), callback_data=Cast(act="cancel").pack())]


async def _where_view(session: AsyncSession, principal: Principal, org_id: int, page: int):
    """The organisation to send to: this one, or one of its sub-units."""
    org = await broadcasts.target(session, principal, org_id)
    children = await orgs.children_page(session, org.id, page)
    path = await orgs.display_path(session, org)
    rows = [
        [
            Button(
                text=_("📢 Everyone in {org}").format(org=org.name),
                callback_data=Cast(act="org", org=org.id).pack(),
            )
        ]
    ]
    rows += [
        [Button(text=f"📂 {c.name}", callback_data=Cast(act="nav", org=c.id).pack())]
        for c in children.items
    ]
    rows.append(pager(children, lambda p: Cast(act="nav", org=org.id, page=p)))
    if org.parent_id is not None and org.id not in {o.id for o in principal.staff_orgs}:
        rows.append(
            [Button(text=_("⬆ Up"), callback_data=Cast(act="nav", org=org.parent_id).pack())]
        )
    rows.append(_cancel())
    text = _("📢 New announcement. Send it to {path}, or to a part of it?").format(
        path=html.quote(path)
    )
    return text, keyboard(rows)


@router.message(Command("broadcast"))
async def start(
    message: Message, state: FSMContext, session: AsyncSession, principal: Principal
) -> None:
    if not principal.staff_orgs:
        raise ServiceError("access.denied")
    await state.clear()
    await state.set_state(SendBroadcast.org)
    text, markup = await _where_view(session, principal, principal.staff_orgs[0].id, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(Cast.filter(F.act == "cancel"), StateFilter(SendBroadcast))
async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await redraw(query, _("Cancelled. Nothing was sent."))


@router.callback_query(Cast.filter(F.act == "nav"), SendBroadcast.org)
async def nav(
    query: CallbackQuery,
    callback_data: Cast,
    session: AsyncSession,
    principal: Principal,
) -> None:
    text, markup = await _where_view(session, principal, callback_data.org, callback_data.page)
    await redraw(query, text, markup)


@router.callback_query(Cast.filter(F.act == "org"), SendBroadcast.org)
async def choose_org(
    query: CallbackQuery,
    callback_data: Cast,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
) -> None:
    org = await broadcasts.target(session, principal, callback_data.org)
    await state.update_data(org_id=org.id, roles=[])
    await state.set_state(SendBroadcast.roles)
    await query.answer()
    await query.message.edit_text(**await _roles_view(state, session, principal))


async def _roles_view(state: FSMContext, session: AsyncSession, principal: Principal) -> dict:
    data = await state.get_data()
    chosen = set(data["roles"])
    n = await broadcasts.audience_size(session, principal, data["org_id"], chosen)
    rows = [
        [
            Button(
                text=("✅ " if r in chosen else "⬜ ") + role_label(r, _),
                callback_data=Cast(act="role", value=r).pack(),
            )
        ]
        for r in broadcasts.ROLES
    ]
    rows.append([Button(text=_("➡ Next"), callback_data=Cast(act="text").pack())])
    rows.append(_cancel())
    text = _("Who should get it? None ticked means everyone. That is {n} people now.").format(n=n)
    return {"text": text, "reply_markup": keyboard(rows)}


@router.callback_query(Cast.filter(F.act == "role"), SendBroadcast.roles)
async def toggle_role(
    query: CallbackQuery,
    callback_data: Cast,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
) -> None:
    if callback_data.value not in broadcasts.ROLES:
        raise ServiceError("stale")
    chosen = set((await state.get_data())["roles"]) ^ {callback_data.value}
    await state.update_data(roles=sorted(chosen))
    await query.answer()
    await query.message.edit_text(**await _roles_view(state, session, principal))


@router.callback_query(Cast.filter(F.act == "text"), SendBroadcast.roles)
async def ask_text(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(SendBroadcast.text)
    await redraw(
        query,
        _("Type the announcement, or send a photo or document with the text as its caption:"),
        keyboard([_cancel()]),
    )


def _heading(org_name: str) -> str:
    return _("📢 <b>Announcement from {org}</b>").format(org=html.quote(org_name))


@router.message(SendBroadcast.text, (F.text & ~F.text.startswith("/")) | F.photo | F.document)
async def got_text(
    message: Message, state: FSMContext, session: AsyncSession, principal: Principal
) -> None:
    file_id, file_kind = None, None
    if message.photo:
        file_id, file_kind = message.photo[-1].file_id, "photo"
    elif message.document:
        file_id, file_kind = message.document.file_id, "document"
    text = broadcasts.clean_text(message.text or message.caption, with_file=file_id is not None)
    data = await state.get_data()
    org = await broadcasts.target(session, principal, data["org_id"])
    n = await broadcasts.audience_size(session, principal, org.id, data["roles"])
    if n == 0:
        raise ServiceError("broadcast.nobody")
    await state.update_data(text=text, file_id=file_id, file_kind=file_kind)
    await state.set_state(SendBroadcast.confirm)
    roles = ", ".join(role_label(r, _) for r in data["roles"]) or _("everyone")
    lines = [
        _("<b>Preview</b> — to {path}, {roles}: {n} people.").format(
            path=html.quote(await orgs.display_path(session, org)), roles=roles, n=n
        ),
        "",
        _heading(org.name),
        "",
        html.quote(text),
    ]
    if file_kind:
        lines.append(_("📎 With the photo or document you sent."))
    buttons = [[Button(text=_("📤 Send"), callback_data=Cast(act="send").pack())], _cancel()]
    await message.answer("\n".join(lines), reply_markup=keyboard(buttons))


@router.message(SendBroadcast.text, ~F.text.startswith("/"))
async def text_expected(message: Message) -> None:
    await message.answer(
        _("Please type the announcement (or send a photo or document), or /cancel.")
    )


@router.message(
    StateFilter(SendBroadcast.org, SendBroadcast.roles, SendBroadcast.confirm),
    ~F.text.startswith("/"),
)
async def buttons_expected(message: Message) -> None:
    await message.answer(_("Please use the buttons above, or /cancel."))


@router.callback_query(Cast.filter(F.act == "send"), SendBroadcast.confirm)
async def send(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    org = await broadcasts.target(session, principal, data["org_id"])
    headings = {}
    for locale in SUPPORTED:
        with i18n.use_locale(locale):
            headings[locale] = _heading(org.name)
    now = clock.now()
    when = deliver_at(now, settings.tz, parse_quiet_hours(settings.quiet_hours))
    cast = await broadcasts.create(
        session,
        principal,
        now,
        org_id=org.id,
        roles=data["roles"],
        text=data["text"],
        headings=headings,
        default_locale=settings.default_locale,
        not_before=when,
        file_id=data.get("file_id"),
        file_kind=data.get("file_kind"),
    )
    await state.clear()
    # A second tap of Send (queued behind the first) is told it went, not that its
    # button expired — "start again" would send the announcement twice.
    await state.update_data(sent=cast.id)
    await query.answer()
    text = _("📤 Queued for {n} people. I will tell you when all of it has gone out.").format(
        n=cast.recipients
    )
    if when > now:
        at = fmt_datetime(when.astimezone(settings.tz), i18n.current_locale, "short")
        text += "\n" + _("It is quiet hours now: sending starts at {at}.").format(at=at)
    await query.message.edit_text(text, reply_markup=_progress_button(cast.id))


@router.callback_query(Cast.filter(F.act == "send"), StateFilter(None))
async def sent_already(query: CallbackQuery, state: FSMContext) -> None:
    if (await state.get_data()).get("sent") is None:
        raise ServiceError("stale")
    await query.answer(
        _("Already sent: the announcement was queued once. “🔄 Progress” shows how it goes."),
        show_alert=True,
    )


def _progress_button(cast_id: int):
    return keyboard(
        [
            [
                Button(
                    text=_("🔄 Progress"),
                    callback_data=Cast(act="progress", value=str(cast_id)).pack(),
                )
            ]
        ]
    )


def progress_text(p: broadcasts.Progress) -> str:
    return _(
        "📊 Announcement to {n} people: {sent} sent, {unreachable} unreachable, "
        "{failed} failed, {waiting} waiting."
    ).format(
        n=p.broadcast.recipients,
        sent=p.sent,
        unreachable=p.unreachable,
        failed=p.failed,
        waiting=p.waiting,
    )


@router.callback_query(Cast.filter(F.act == "progress"))
async def show_progress(
    query: CallbackQuery, callback_data: Cast, session: AsyncSession, principal: Principal
) -> None:
    if not callback_data.value.isdigit():
        raise ServiceError("stale")
    p = await broadcasts.progress(session, principal, int(callback_data.value))
    await query.answer()
    markup = None if p.done else _progress_button(p.broadcast.id)
    await query.message.edit_text(progress_text(p), reply_markup=markup)
