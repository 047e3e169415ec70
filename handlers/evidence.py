"""Recording evidence that is not a meeting: how many (or a share), a note, a photo or
document — or, for the superior's staff, a grade. Reached from a checklist item."""

from __future__ import annotations

import re

from aiogram import F, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.i18n import fmt_number
from bot.services import checklist, evidence, orgs
from bot.services.errors import ServiceError
from bot.services.evidence import Recorded
from bot.services.members import Principal
from bot.texts import error_text
from handlers.callbacks import EvidenceStep, FixItem, RecordItem
from handlers.registry import Handlers
from handlers.states import RecordEvidence
from handlers.views import Button, keyboard, named, typed, typed_count, typed_skip

router = Handlers("evidence")
RATIO = re.compile(r"^\s*([0-9]{1,5})\s*/\s*([0-9]{1,5})\s*$")


def _nav(skip: bool = False) -> list[Button]:
    row = [Button(text=_("Skip ▶"), callback_data=EvidenceStep(act="skip").pack())] if skip else []
    row.append(Button(text=_("✖ Cancel"), callback_data=EvidenceStep(act="cancel").pack()))
    return row


async def _led_item(
    session: AsyncSession,
    rubric,
    principal: Principal,
    clock: Clock,
    pressed: RecordItem | FixItem,
):
    """The branch a checklist item's button names (refused unless one leads it), this
    month, and the item's entry there (None when the checklist has no such item)."""
    branch = await orgs.require_org(session, pressed.org)
    if not principal.can_lead(branch):
        raise ServiceError("access.denied")
    period = clock.today().strftime("%Y-%m")
    _cl, entry = await _entry(session, rubric, branch, period, pressed.item)
    return branch, period, entry


async def _entry(session: AsyncSession, rubric, branch, period: str, key: str):
    """This month's checklist and the item's entry in it."""
    cl = await checklist.month_checklist(session, rubric, branch, period, with_gap=False)
    return cl, next((e for e in cl.entries if e.spec.key == key), None)


@router.callback_query(RecordItem.filter())
async def begin(
    query: CallbackQuery,
    callback_data: RecordItem,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    key = callback_data.item
    branch, period, entry = await _led_item(session, rubric, principal, clock, callback_data)
    if entry is None or entry.recordable_by == "meeting":
        raise ServiceError("evidence.item_unknown")
    kind = str(entry.spec.evidence)
    if kind == "grade" and not principal.can_manage(branch):
        raise ServiceError("access.denied")  # checked before answering: the alert must arrive
    # The item as this person sees it now: saving is refused if someone records it meanwhile.
    version = await evidence.item_version(session, rubric, branch, key, period)
    await state.clear()
    await state.set_data(
        {
            "org_id": branch.id,
            "item": key,
            "count": 1,
            "of": None,
            "month": period,
            "version": version,
            "kind": kind,
        }
    )
    await query.answer()
    title = f"<b>{html.quote(named(entry))}</b>\n"
    if kind == "grade":
        grades = rubric.item(key).rule.grades
        rows = [
            [
                Button(
                    text=f"{label} ({points})",
                    # By position: a city's grade labels need not fit in callback data.
                    callback_data=EvidenceStep(act="grade", value=str(i)).pack(),
                )
                for i, (label, points) in enumerate(grades)
            ],
            _nav(),
        ]
        await state.set_state(RecordEvidence.count)
        await query.message.answer(title + _("Give the grade:"), reply_markup=keyboard(rows))
    elif kind in ("events", "ratio"):
        await state.set_state(RecordEvidence.count)
        await state.update_data(ratio=kind == "ratio")
        prompt = (
            _("How many out of how many? Type e.g. “18/20”:")
            if kind == "ratio"
            else _("How many times? Tap or type a number:")
        )
        rows = (
            []
            if kind == "ratio"
            else [
                [
                    Button(
                        text=str(n), callback_data=EvidenceStep(act="count", value=str(n)).pack()
                    )
                    for n in (1, 2, 3, 4, 5)
                ]
            ]
        )
        await query.message.answer(title + prompt, reply_markup=keyboard([*rows, _nav()]))
    else:
        await state.set_state(RecordEvidence.note)
        await query.message.answer(
            title + _("Type a short note on what was done:"),
            reply_markup=keyboard([_nav(skip=True)]),
        )


@router.callback_query(FixItem.filter())
async def begin_fix(
    query: CallbackQuery,
    callback_data: FixItem,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    """Correct the count recorded for an item this month, from the item view that showed
    it: a view older than the item's latest recording has an expired button."""
    key = callback_data.item
    branch, period, entry = await _led_item(session, rubric, principal, clock, callback_data)
    if entry is None or str(entry.spec.evidence) not in ("events", "ratio"):
        raise ServiceError("stale")  # no correction button is drawn for these
    if entry.recordable_by != "leader" and not principal.can_manage(branch):
        raise ServiceError("access.denied")
    shown = await evidence.recorded(session, rubric, branch, key, period)
    if shown.version != callback_data.v or not shown.rows:
        raise ServiceError("stale")
    kind = str(entry.spec.evidence)
    await state.clear()
    await state.set_data(
        {
            "org_id": branch.id,
            "item": key,
            "count": None,
            "of": None,
            "month": period,
            "version": shown.version,
            "kind": kind,
            "ratio": kind == "ratio",
            "fix": True,
        }
    )
    await state.set_state(RecordEvidence.count)
    await query.answer()
    await query.message.answer(
        f"<b>{html.quote(named(entry))}</b>\n"
        + _("Recorded this month: {figures}.").format(figures=figures(shown))
        + "\n"
        + count_hint({"fix": True, "ratio": kind == "ratio"}),
        reply_markup=keyboard([_nav()]),
    )


def figures(shown: Recorded) -> str:
    """The month's figures of a count item: "3", or "18/20" for a share."""
    return f"{shown.total}/{shown.of}" if shown.of is not None else str(shown.total)


@router.callback_query(EvidenceStep.filter(F.act == "cancel"), StateFilter(RecordEvidence))
async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await query.message.edit_text(_("Cancelled. Nothing was saved."))


@router.callback_query(EvidenceStep.filter(F.act == "count"), RecordEvidence.count)
async def count_pressed(
    query: CallbackQuery,
    callback_data: EvidenceStep,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    count = typed_count(callback_data.value)
    data = await state.get_data()
    if count is None or data.get("ratio") or data.get("kind") == "grade" or data.get("fix"):
        raise ServiceError("stale")  # no count button is drawn for these
    evidence.check_count(count)
    await _count_pressed_on(query, count, state, session, principal, clock, rubric)


@router.message(RecordEvidence.count, F.text, ~F.text.startswith("/"))
async def count_typed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    data = await state.get_data()
    fix = bool(data.get("fix"))
    if data.get("ratio"):
        match = RATIO.match(typed(message.text))
        if not match:
            raise ServiceError("evidence.ratio_needs_total")
        count, of = int(match.group(1)), int(match.group(2))
        evidence.check_count(count, of, correcting=fix)
        await state.update_data(count=count, of=of)
    else:
        # Digits of any length are a number, and too long a one is out of range; anything
        # else ("two", "²", "3 times") is not a number at all, and is told so.
        count = typed_count(message.text, digits=len(message.text))
        if count is None:
            raise ServiceError("evidence.count_not_number")
        evidence.check_count(count, correcting=fix)
        if evidence.unusual_count(count) and data.get("unusual") != count:
            # Typed again after the question, the same number is its confirmation.
            await state.update_data(unusual=count)
            text, markup = _unusual(count)
            await message.answer(text, reply_markup=markup)
            return
        await state.update_data(count=count)
    text, markup = await _counted(state, session, principal, clock, rubric)
    await message.answer(text, reply_markup=markup)


def _unusual(count: int):
    text = _(
        "{n} times in one month is more than once a day. Is that right? Confirm it, or "
        "type the right number:"
    ).format(n=count)
    sure = Button(
        text=_("✔ Yes, {n}").format(n=count),
        callback_data=EvidenceStep(act="sure", value=str(count)).pack(),
    )
    return text, keyboard([[sure], _nav()])


@router.callback_query(EvidenceStep.filter(F.act == "sure"), RecordEvidence.count)
async def unusual_confirmed(
    query: CallbackQuery,
    callback_data: EvidenceStep,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    """The unusual count asked about, confirmed: only the one asked about last (a
    number typed since asks again), never a value the question did not show."""
    count = typed_count(callback_data.value, digits=len(callback_data.value))
    if count is None or count != (await state.get_data()).get("unusual"):
        raise ServiceError("stale")
    await _count_pressed_on(query, count, state, session, principal, clock, rubric)


async def _count_pressed_on(
    query: CallbackQuery,
    count: int,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    """A count taken from a button (a number, or an unusual one confirmed): the draft goes
    on from the message that showed it."""
    await state.update_data(count=count)
    text, markup = await _counted(state, session, principal, clock, rubric)
    await query.answer()
    await query.message.edit_text(text, reply_markup=markup)


async def _counted(
    state: FSMContext, session: AsyncSession, principal: Principal, clock: Clock, rubric
):
    """After the count step: a correction is saved at once, a recording goes on."""
    if (await state.get_data()).get("fix"):
        return await _save_fix(state, session, principal, clock, rubric), None
    return await _after_count(state, session, principal, clock, rubric)


async def _save_fix(
    state: FSMContext, session: AsyncSession, principal: Principal, clock: Clock, rubric
) -> str:
    """Correct the month's figures; the reply is spoken after the commit (bot.db.unit)."""
    data = await state.get_data()
    branch = await orgs.require_org(session, data["org_id"])
    try:
        before, after = await evidence.correct_count(
            session,
            rubric,
            principal,
            clock.now(),
            branch.id,
            data["item"],
            count=data["count"],
            of=data.get("of"),
            month=data["month"],
            version=data["version"],
        )
    except ServiceError as err:
        if err.code != "record.stale":
            raise
        await state.clear()
        shown = await evidence.recorded(session, rubric, branch, data["item"], data["month"])
        return (
            error_text(err, _, html=True)
            + "\n"
            + _("Recorded this month now: {figures}.").format(figures=figures(shown))
        )
    await state.clear()
    await state.update_data(recorded=data["item"])
    cl, entry = await _entry(session, rubric, branch, data["month"], data["item"])
    return _(
        "✏️ Corrected: {item}, this month {before} → {after}. Checklist {done}/{total}, "
        "score {score}."
    ).format(
        item=html.quote(named(entry)),
        before=figures(before),
        after=figures(after),
        done=cl.done,
        total=cl.total,
        score=fmt_number(cl.score, get_i18n().current_locale),
    )


async def _after_count(
    state: FSMContext, session: AsyncSession, principal: Principal, clock: Clock, rubric
):
    """The note step, unless a photo sent with a caption at the count step already gave
    both the proof and the note: then the record is complete and saved."""
    data = await state.get_data()
    if data.get("file_id") and data.get("note"):
        text, _saved = await _save(state, session, principal, clock, rubric, None, None)
        return text, None
    await state.set_state(RecordEvidence.note)
    return _("Type a short note on what was done:"), keyboard([_nav(skip=True)])


@router.message(RecordEvidence.note, F.text, ~F.text.startswith("/"))
async def note(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    if not typed_skip(message.text):
        await state.update_data(note=message.text.strip())
    text, markup = await _after_note(state, session, principal, clock, rubric)
    await message.answer(text, reply_markup=markup)


@router.callback_query(EvidenceStep.filter(F.act == "skip"), RecordEvidence.note)
async def skip_note(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    text, markup = await _after_note(state, session, principal, clock, rubric)
    await query.answer()
    await query.message.edit_text(text, reply_markup=markup)


async def _after_note(
    state: FSMContext, session: AsyncSession, principal: Principal, clock: Clock, rubric
):
    """The proof step, unless the proof came earlier (a photo sent at the count step):
    then the record is complete and saved."""
    if (await state.get_data()).get("file_id"):
        text, _saved = await _save(state, session, principal, clock, rubric, None, None)
        return text, None
    await state.set_state(RecordEvidence.file)
    return _("Send a photo or a document as proof, or skip:"), keyboard([_nav(skip=True)])


@router.message(StateFilter(RecordEvidence.count, RecordEvidence.note), F.photo | F.document)
async def early_proof(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    """A photo or document sent before the step that asks for it is the proof, sent
    early: it is kept (its caption as the note), never dropped with a hint to send it
    again at the right step."""
    data = await state.get_data()
    if data.get("fix"):
        # A correction changes the figures only; its rows carry no proof.
        await message.answer(
            _("A correction changes the figures only; to add a photo, record the item.")
            + "\n"
            + count_hint(data)
        )
        return
    file_id, kind = _file_of(message)
    caption = (message.caption or "").strip()
    replaced = data.get("file_id") is not None
    # The newest proof (and caption) is the record's; the reply says when it replaced one.
    await state.update_data(file_id=file_id, file_kind=kind)
    if caption:
        await state.update_data(note=caption)
    if await state.get_state() == RecordEvidence.note.state:
        # The note was asked for and the proof came instead: the note is optional, the
        # proof was the last step, so the record is complete.
        kept = (
            _("Your photo or document is kept as the proof, and its caption as the note.")
            if caption
            else _("Your photo or document is kept as the proof; no note was added.")
        )
        text, _saved = await _save(state, session, principal, clock, rubric, None, None)
        await message.answer(kept + "\n" + text)
        return
    kept = (
        _("📎 This replaces the photo or document sent before: a record keeps one.")
        if replaced
        else _("📎 Kept as the proof of this record.")
    )
    await message.answer(kept + "\n" + count_hint(data))


def count_hint(data: dict) -> str:
    """What the count step asks for, as its draft stands (also handlers/hints.py's)."""
    if data.get("fix"):
        if data.get("ratio"):
            return _("Type the right figures for the whole month, e.g. “18/20”:")
        return _("Type the right number for the whole month (0 if there were none):")
    if data.get("kind") == "grade":
        return _("Please use the buttons above, or send /cancel to stop.")
    if data.get("ratio"):
        return _("How many out of how many? Type e.g. “18/20”:")
    return _("Type a number, or tap one of the buttons above.")


def _file_of(message: Message) -> tuple[str, str]:
    if message.photo:
        return message.photo[-1].file_id, "photo"
    return message.document.file_id, "document"


@router.message(RecordEvidence.file, F.photo | F.document)
async def attachment(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    file_id, kind = _file_of(message)
    text, _saved = await _save(state, session, principal, clock, rubric, file_id, kind)
    await message.answer(text)


@router.callback_query(EvidenceStep.filter(F.act == "skip"), RecordEvidence.file)
async def skip_file(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    text, saved = await _save(state, session, principal, clock, rubric, None, None)
    await query.answer(_("Saved.") if saved else None)
    await query.message.edit_text(text)


@router.callback_query(EvidenceStep.filter(F.act == "grade"), RecordEvidence.count)
async def grade(
    query: CallbackQuery,
    callback_data: EvidenceStep,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
) -> None:
    # A grade press on another kind of item has no grades to index: refused, not failed.
    grades = getattr(rubric.item((await state.get_data())["item"]).rule, "grades", ())
    index = typed_count(callback_data.value)
    if index is None or index >= len(grades):
        raise ServiceError("stale")
    await state.update_data(grade=grades[index][0])
    text, saved = await _save(state, session, principal, clock, rubric, None, None)
    await query.answer(_("Saved.") if saved else None)
    await query.message.edit_text(text)


@router.callback_query(EvidenceStep.filter(F.act.in_({"grade", "skip"})), StateFilter(None))
async def recorded_already(query: CallbackQuery, state: FSMContext) -> None:
    if (await state.get_data()).get("recorded") is None:
        raise ServiceError("stale")
    await query.answer(
        _("Already recorded: it is stored once. /month shows the checklist."), show_alert=True
    )


async def _save(
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric,
    file_id: str | None,
    file_kind: str | None,
) -> tuple[str, bool]:
    """Record the draft; the reply, and whether it was recorded (False: someone else
    recorded the item meanwhile, and the reply shows how it stands now)."""
    data = await state.get_data()
    branch = await orgs.require_org(session, data["org_id"])
    period = data.get("month") or clock.today().strftime("%Y-%m")
    try:
        await evidence.record_evidence(
            session,
            rubric,
            principal,
            clock.now(),
            branch.id,
            data["item"],
            count=data["count"],
            of=data.get("of"),
            note=data.get("note"),
            # A proof sent early (at the count or note step) is kept in the draft.
            file_id=file_id or data.get("file_id"),
            file_kind=file_kind or data.get("file_kind"),
            grade=data.get("grade"),
            month=data.get("month"),
            version=data.get("version"),
        )
    except ServiceError as err:
        if err.code != "record.stale":
            raise
        stale = err
    else:
        stale = None
    await state.clear()
    if stale is None:
        # A second tap of the same last button (queued behind the first) is told it was
        # recorded, not that the button expired.
        await state.update_data(recorded=data["item"])
    cl, entry = await _entry(session, rubric, branch, period, data["item"])
    mark = "✅" if entry.done else "⬜"
    if stale is not None:
        now = _("Now: {mark} {item}, {earned} of {possible} points. Checklist {done}/{total}.")
        return error_text(stale, _, html=True) + "\n" + now.format(
            mark=mark,
            item=html.quote(named(entry)),
            earned=entry.earned,
            possible=entry.possible,
            done=cl.done,
            total=cl.total,
        ), False
    return _("📎 Recorded: {mark} {item}. Checklist {done}/{total}, score {score}.").format(
        mark=mark,
        item=html.quote(named(entry)),
        done=cl.done,
        total=cl.total,
        score=fmt_number(cl.score, get_i18n().current_locale),
    ), True
