"""For the superior's staff: the month's education material for their subtree — videos,
model micro party lessons, the practice-activity prompt — as links or files."""

from __future__ import annotations

from aiogram import F, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db.models import ContentKind, Domain
from bot.services import content
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.texts import domain_label
from handlers.callbacks import ContentStep
from handlers.registry import Handlers
from handlers.states import AddContent
from handlers.views import Button, keyboard, redraw

router = Handlers("content")


def kind_label(kind: str) -> str:
    return {
        "video": _("member education video"),
        "micro_lesson": _("model micro party lesson"),
        "practice": _("practice-activity prompt"),
    }.get(kind, kind)


def _cancel() -> list[Button]:
    return [Button(text=_("✖ Cancel"), callback_data=ContentStep(act="cancel").pack())]


@router.message(Command("content"))
async def start(message: Message, state: FSMContext, principal: Principal, clock: Clock) -> None:
    """Staff of several committees add for the first (highest) one they act for."""
    if not principal.staff_orgs:
        raise ServiceError("access.denied")
    await state.clear()
    await state.set_state(AddContent.kind)
    await state.update_data(
        org_id=principal.staff_orgs[0].id, domains=[], month=clock.today().strftime("%Y-%m")
    )
    rows = [
        [Button(text=kind_label(k), callback_data=ContentStep(act="kind", value=k).pack())]
        for k in ContentKind
    ]
    await message.answer(
        _("New education material for {org}. Which kind?").format(
            org=html.quote(principal.staff_orgs[0].name)
        ),
        reply_markup=keyboard([*rows, _cancel()]),
    )


@router.callback_query(ContentStep.filter(F.act == "cancel"), StateFilter(AddContent))
async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await redraw(query, _("Cancelled. Nothing was saved."))


@router.callback_query(ContentStep.filter(F.act == "kind"), AddContent.kind)
async def kind(query: CallbackQuery, callback_data: ContentStep, state: FSMContext) -> None:
    if callback_data.value not in set(ContentKind):
        raise ServiceError("stale")
    await state.update_data(kind=callback_data.value)
    await state.set_state(AddContent.title)
    await redraw(query, _("Type its title:"), keyboard([_cancel()]))


@router.message(AddContent.title, F.text, ~F.text.startswith("/"))
async def title(message: Message, state: FSMContext) -> None:
    # Checked now, so a mistake is fixed at this step rather than found at "Save".
    await state.update_data(title=content.clean_title(message.text))
    await state.set_state(AddContent.source)
    await message.answer(
        _("Send the link (https://…), or the file itself:"), reply_markup=keyboard([_cancel()])
    )


@router.message(AddContent.source, F.text | F.document | F.video | F.photo)
async def source(message: Message, state: FSMContext) -> None:
    if message.text and not message.text.startswith("/"):
        url = content.clean_url(message.text)
        if url is None:
            raise ServiceError("content.source_required")
        await state.update_data(url=url, file_id=None)
    else:
        media = message.document or message.video or (message.photo[-1] if message.photo else None)
        if media is None:
            raise ServiceError("content.source_required")
        await state.update_data(url=None, file_id=media.file_id)
    await state.set_state(AddContent.domains)
    await message.answer(**await _domains_view(state))


async def _domains_view(state: FSMContext) -> dict:
    data = await state.get_data()
    chosen = set(data["domains"])
    rows = [
        [
            Button(
                text=("✅ " if d in chosen else "⬜ ") + domain_label(d, _),
                callback_data=ContentStep(act="domain", value=d).pack(),
            )
        ]
        for d in Domain
    ]
    rows.append([Button(text=_("💾 Save"), callback_data=ContentStep(act="save").pack())])
    rows.append(_cancel())
    text = _("Which domains is it for? None ticked means every branch.")
    return {"text": text, "reply_markup": keyboard(rows)}


@router.callback_query(ContentStep.filter(F.act == "domain"), AddContent.domains)
async def toggle_domain(
    query: CallbackQuery, callback_data: ContentStep, state: FSMContext
) -> None:
    if callback_data.value not in set(Domain):
        raise ServiceError("stale")
    chosen = set((await state.get_data())["domains"]) ^ {callback_data.value}
    await state.update_data(domains=sorted(chosen))
    await query.answer()
    await query.message.edit_text(**await _domains_view(state))


@router.callback_query(ContentStep.filter(F.act == "save"), StateFilter(None))
async def saved_already(query: CallbackQuery, state: FSMContext) -> None:
    """A second tap of Save, queued behind the first: the material was added once."""
    if (await state.get_data()).get("added") is None:
        raise ServiceError("stale")
    await query.answer(_("Already saved: the material was added once."), show_alert=True)


@router.callback_query(ContentStep.filter(F.act == "save"), AddContent.domains)
async def save(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    data = await state.get_data()
    item = await content.add_content(
        session,
        principal,
        clock.now(),
        data["org_id"],
        data["month"],
        data["kind"],
        data["title"],
        url=data.get("url"),
        file_id=data.get("file_id"),
        domains=data["domains"],
    )
    await state.clear()
    await state.update_data(added=item.id)  # a second tap of Save is told, see below
    await query.answer(_("Saved."))
    await query.message.edit_text(
        _(
            "📚 Added for {month}: {kind} “{title}”. Secretaries see it with their checklist."
        ).format(month=item.month, kind=kind_label(item.kind), title=html.quote(item.title))
    )
