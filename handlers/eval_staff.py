"""The superior's staff on the democratic evaluation, beyond the overview (which is in
`handlers.evaluation`): a branch's campaign card, moving a stage back with a reason,
the commendation list as an Excel file, and the disposal checklist of unqualified
members.

Every press is re-checked by the services (the staff member must oversee the branch;
the stage must still be the one shown); success is said after the service returned,
so after the commit.
"""

from __future__ import annotations

import asyncio
import io
from html import escape

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.config import Settings
from bot.db.models import EvalCampaign, EvalStage
from bot.services import ballots, eval_after, evaluation, members
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.orgs import require_org
from bot.texts import category_label, error_text
from handlers.callbacks import (
    Disposal,
    EvalAdvance,
    EvalCard,
    EvalHome,
    EvalReopen,
    EvalView,
)
from handlers.evaluation import grade_label, staff_scope, stage_label, step_data
from handlers.notify import tell_each, zone_of
from handlers.registry import Handlers
from handlers.states import Evaluate
from handlers.views import Button, clip, keyboard, pager, redraw
from scoring import VanguardRubric

router = Handlers("eval_staff")


def _overview_button(org: int = 0) -> list[Button]:
    return [Button(text=_("◀ Back"), callback_data=EvalHome(act="overview", org=org).pack())]


# ---------------------------------------------------------------- a branch's campaign


async def campaign_card(
    session: AsyncSession, principal: Principal, clock: Clock, cid: int, within: int = 0
):
    """A branch's campaign for the superior's staff; `within` is the committee their
    overview was narrowed to (0: none), where Back returns."""
    campaign, org = await evaluation.managed_campaign(session, principal, cid)
    if within:
        await staff_scope(session, principal, within)  # a forged committee: refused
    today = clock.today()
    due = evaluation.due_of(campaign)
    lines = [
        f"<b>{escape(org.name)}</b>",
        _("Democratic evaluation {period}").format(period=campaign.period),
        _("Stage: {stage}").format(stage=stage_label(campaign.stage))
        + (" · " + _("until {date}").format(date=due.isoformat()) if due else ""),
    ]
    if evaluation.is_overdue(campaign, today):
        lines.append(_("⚠️ This stage is overdue."))
    at = evaluation.stage_index(campaign.stage)
    for i, stage in enumerate(evaluation.STAGES[:-1]):
        mark = "✓" if i < at else ("▶" if i == at else "·")
        day = evaluation.due_of(campaign, stage.value)
        lines.append(f"{mark} {stage_label(stage.value)} · {day.isoformat()}")
    if at >= evaluation.stage_index(EvalStage.vote.value):
        seen = await ballots.turnout(session, campaign.id)
        lines.append(
            _("Turnout: {voted} of {total}").format(voted=seen.voted, total=seen.electorate)
        )
    rows = []
    if campaign.stage == EvalStage.approval:
        rows.append(
            [
                Button(
                    text=_("✓ Approve the results"),
                    callback_data=EvalAdvance(
                        campaign=campaign.id, stage="approval", org=within
                    ).pack(),
                )
            ]
        )
    back = evaluation.stage_before(campaign.stage) if at > 0 else None
    if back is EvalStage.self_assessment and seen.voted:
        back = None
        lines.append(_("Ballots have been cast: the self-assessment cannot be reopened."))
    if back is not None:
        rows.append(
            [
                Button(
                    text=_("↩ Move back to the {stage}").format(stage=stage_label(back.value)),
                    callback_data=EvalReopen(
                        campaign=campaign.id, stage=campaign.stage, org=within
                    ).pack(),
                )
            ]
        )
    elif campaign.stage not in (EvalStage.self_assessment, EvalStage.vote, EvalStage.final):
        lines.append(_("The vote has been counted: it cannot be reopened."))
    rows.append(_overview_button(within))
    return "\n".join(lines), keyboard(rows)


@router.callback_query(EvalCard.filter())
@router.callback_query(EvalView.filter(F.act == "card"))
async def card_press(
    query: CallbackQuery,
    callback_data: EvalCard | EvalView,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    within = getattr(callback_data, "org", 0)  # an older EvalView button has none
    text, markup = await campaign_card(session, principal, clock, callback_data.campaign, within)
    await redraw(query, text, markup)


# ---------------------------------------------------------------- moving a stage back


@router.callback_query(EvalReopen.filter(F.act == "ask"))
async def reopen_ask(
    query: CallbackQuery,
    callback_data: EvalReopen,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
) -> None:
    campaign, org, back = await evaluation.reopenable(
        session, principal, callback_data.campaign, callback_data.stage
    )
    await state.set_state(Evaluate.reopen)
    await state.update_data(
        reopen={"campaign": campaign.id, "stage": campaign.stage, "org": callback_data.org}
    )
    cancel = EvalReopen(campaign=campaign.id, stage=callback_data.stage, act="cancel")
    await query.answer()
    await query.message.answer(
        _(
            "Move {branch} back from the {stage} to the {back}? Write the reason "
            "(one message); it is kept in the audit log and the branch is told."
        ).format(
            branch=escape(org.name),
            stage=stage_label(campaign.stage),
            back=stage_label(back.value),
        ),
        reply_markup=keyboard([[Button(text=_("✖ Cancel"), callback_data=cancel.pack())]]),
    )


@router.callback_query(EvalReopen.filter(F.act == "cancel"))
async def reopen_cancel(query: CallbackQuery, state: FSMContext) -> None:
    if await state.get_state() == Evaluate.reopen.state:
        await state.clear()
    await redraw(query, _("Cancelled. Nothing was changed."))


@router.message(StateFilter(Evaluate.reopen), F.text, ~F.text.startswith("/"))
async def reopen_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    data = await step_data(state, "reopen")
    campaign = await evaluation.reopen(
        session,
        principal,
        clock.now(),
        data["campaign"],
        data["stage"],
        message.text,
        today=clock.today(),
    )
    await state.clear()
    reason = " ".join(message.text.split())
    await tell_branch_reopened(session, clock, settings, i18n, campaign, reason)
    text, markup = await campaign_card(session, principal, clock, campaign.id, data.get("org", 0))
    done = _("↩ Moved back to the {stage}; the reason is recorded.").format(
        stage=stage_label(campaign.stage)
    )
    await message.answer(clip(done + "\n\n" + text), reply_markup=markup)


async def tell_branch_reopened(
    session, clock: Clock, settings: Settings, i18n: I18n, campaign: EvalCampaign, reason: str
) -> None:
    """The branch's leaders hear it through the outbox, in the update's transaction."""
    org = await require_org(session, campaign.org_id)
    leaders = await members.leaders(session, campaign.org_id)

    def render(_chat: int):
        text = _(
            "The superior organisation moved your branch's democratic evaluation "
            "{period} back to the {stage}. Reason: {reason}"
        ).format(period=campaign.period, stage=stage_label(campaign.stage), reason=escape(reason))
        return text, None

    await tell_each(
        session,
        clock,
        settings,
        i18n,
        [m.telegram_id for m in leaders],
        render,
        key=f"eval:{campaign.id}:reopen:v{campaign.version}",
        kind="eval_stage",
        tz=zone_of(settings, org),
    )


# ---------------------------------------------------------------- the commendation list


def commendation_xlsx(rows: list[eval_after.Commended], period: str) -> bytes:
    from bot.services.ledgers import _number
    from bot.services.xlsx import Workbook, cell

    out = io.BytesIO()
    book = Workbook(out)
    header = [
        _("No."),
        _("Branch"),
        _("Name"),
        _("Category"),
        _("Vanguard Index"),
        _("Priority for recommendation"),
    ]
    title = _("Excellent members {period}").format(period=period)
    sheet = book.sheet(title, header, [6, 30, 16, 30, 14, 16])
    marked = _("yes")
    for n, r in enumerate(rows, start=1):
        sheet.append(
            [
                n,
                cell(r.branch),
                cell(r.name),
                category_label(r.category, _),
                _number(r.total),
                marked if r.priority else None,
            ]
        )
    book.save()
    return out.getvalue()


@router.callback_query(EvalHome.filter(F.act == "commend"))
async def commend_press(
    query: CallbackQuery,
    callback_data: EvalHome,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
) -> None:
    period = evaluation.period_of(vrubric, clock.today())
    roots, _root = await staff_scope(session, principal, callback_data.org)
    rows = await eval_after.commendation_list(session, principal, roots, period)
    if not rows:
        await query.answer(_("No excellent members in approved results yet."), show_alert=True)
        return
    zh = get_i18n().current_locale == "zh_Hans"
    name = f"{'优秀党员名单' if zh else 'commendation'}-{period}.xlsx"
    branches = len({r.branch for r in rows})
    caption = _(
        "Commendation list {period}: {n} excellent members in {branches} branches, "
        "from approved results."
    ).format(period=period, n=len(rows), branches=branches)
    data = await asyncio.to_thread(commendation_xlsx, rows, period)  # a city's: off the loop
    await query.answer()
    await query.message.answer_document(BufferedInputFile(data, filename=name), caption=caption)


# ---------------------------------------------------------------- priority for recommendation


async def priority_list(session, principal: Principal, page: int, org: int = 0):
    roots, _root = await staff_scope(session, principal, org)
    found = await eval_after.priority_page(session, principal, roots, page)
    lines = [
        "<b>" + _("⭐ Priority for recommendation: {n}").format(n=found.total) + "</b>",
        _(
            "Excellent in their branch's latest approved evaluation and still members of "
            "it: recommend them first. The mark ends when a newer evaluation is approved."
        ),
        "",
    ]
    lines += [
        f"• {escape(m.name)} · {escape(m.branch)} · {m.period} · {m.total}" for m in found.items
    ]
    if not found.items:
        lines.append(_("None."))
    rows = [pager(found, lambda p: EvalHome(act="priority", page=p, org=org))]
    rows.append(_overview_button(org))
    return clip("\n".join(lines)), keyboard(rows)


@router.callback_query(EvalHome.filter(F.act == "priority"))
async def priority_press(
    query: CallbackQuery, callback_data: EvalHome, session: AsyncSession, principal: Principal
) -> None:
    text, markup = await priority_list(session, principal, callback_data.page, callback_data.org)
    await redraw(query, text, markup)


# ---------------------------------------------------------------- the disposal checklist


def step_label(step: str) -> str:
    return {
        "talk": _("Talk with the member"),
        "deadline_set": _("Deadline for correction set"),
        "review_again": _("Reviewed again when the deadline ends"),
        "decision": _("Decision taken and the member told"),
        "reported": _("Reported to the superior organisation"),
    }[step]


def _disposal_screen(period, found, intro: str, turn, back: list[Button], org: int | None = 0):
    """Unqualified members with how far each one's disposal has got: the staff's list
    (across branches, `org` set) and a branch's leaders' read-only one draw alike."""
    total = len(eval_after.DISPOSAL_STEPS)
    lines = [
        "<b>"
        + _("Unqualified members {period}: {n}").format(period=period, n=found.total)
        + "</b>",
        intro,
    ]
    rows = []
    for line in found.items:
        done = sum(1 for s in eval_after.DISPOSAL_STEPS if line.steps.get(s))
        mark = "✅" if done == total else "⏳"
        where = f" · {line.branch}" if org is not None else ""
        rows.append(
            [
                Button(
                    text=f"{mark} {line.name}{where} · {done}/{total}",
                    callback_data=Disposal(
                        campaign=line.campaign_id,
                        member=line.member_id,
                        page=found.page,
                        org=org or 0,
                    ).pack(),
                )
            ]
        )
    if not found.items:
        lines.append(_("None."))
    rows.append(pager(found, turn))
    rows.append(back)
    return "\n".join(lines), keyboard(rows)


async def unqualified_list(
    session, principal: Principal, clock: Clock, rubric, page: int, org: int = 0
):
    period = evaluation.period_of(rubric, clock.today())
    roots, _root = await staff_scope(session, principal, org)
    found = await eval_after.unqualified_page(session, principal, roots, period, page)
    return _disposal_screen(
        period,
        found,
        _("The disposal procedure for each, as a checklist. Press a member to tick steps."),
        lambda p: EvalHome(act="unqualified", page=p, org=org),
        _overview_button(org),
        org=org,
    )


@router.callback_query(EvalHome.filter(F.act == "unqualified"))
async def unqualified_press(
    query: CallbackQuery,
    callback_data: EvalHome,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
) -> None:
    text, markup = await unqualified_list(
        session, principal, clock, vrubric, callback_data.page, callback_data.org
    )
    await redraw(query, text, markup)


async def branch_disposal_list(session, principal: Principal, cid: int, page: int):
    """The branch's leaders follow their unqualified members' disposal, read-only."""
    campaign, found = await eval_after.branch_unqualified(session, principal, cid, page)
    return _disposal_screen(
        campaign.period,
        found,
        _(
            "The superior organisation's staff tick the steps of the disposal procedure; "
            "here you follow where each stands."
        ),
        lambda p: EvalView(campaign=cid, act="disposal", page=p),
        [Button(text=_("◀ Back"), callback_data=EvalView(campaign=cid, act="home").pack())],
        org=None,
    )


@router.callback_query(EvalView.filter(F.act == "disposal"))
async def branch_disposal_press(
    query: CallbackQuery, callback_data: EvalView, session: AsyncSession, principal: Principal
) -> None:
    text, markup = await branch_disposal_list(
        session, principal, callback_data.campaign, callback_data.page
    )
    await redraw(query, text, markup)


async def disposal_view(session, principal: Principal, d: Disposal):
    cid, mid, page = d.campaign, d.member, d.page
    campaign, org, member, result = await eval_after.disposal_card(session, principal, cid, mid)
    staff = principal.can_manage(org)  # ticks the steps; the branch's leaders only read
    lines = [
        f"<b>{escape(member.name)}</b> · {escape(org.name)}",
        _("Democratic evaluation {period}: {grade} ({total} points)").format(
            period=campaign.period, grade=grade_label(result.grade), total=result.total
        ),
    ]
    if result.override_reason:
        lines.append(
            _("Changed by the branch: {reason}").format(reason=escape(result.override_reason))
        )
    lines.append("")
    rows = []
    for i, step in enumerate(eval_after.DISPOSAL_STEPS):
        day = result.disposal_steps.get(step)
        label = f"{i + 1}. {step_label(step)}"
        lines.append(("✅ " if day else "⬜ ") + label + (f" · {day}" if day else ""))
        if staff:
            rows.append(
                [
                    Button(
                        text=("✅ " if day else "⬜ ") + label,
                        callback_data=d.model_copy(
                            update={"act": "set", "step": i, "done": not day}
                        ).pack(),
                    )
                ]
            )
    back = (
        EvalHome(act="unqualified", page=page, org=d.org)
        if staff
        else EvalView(campaign=cid, act="disposal", page=page)
    )
    rows.append([Button(text=_("◀ Back"), callback_data=back.pack())])
    return "\n".join(lines), keyboard(rows)


@router.callback_query(Disposal.filter())
async def disposal_press(
    query: CallbackQuery,
    callback_data: Disposal,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
) -> None:
    d = callback_data
    note, alert = None, False
    if d.act == "set":
        if d.step >= len(eval_after.DISPOSAL_STEPS):
            raise ServiceError("stale")
        step = eval_after.DISPOSAL_STEPS[d.step]
        try:
            await eval_after.set_disposal_step(
                session, principal, clock.now(), clock.today(), d.campaign, d.member, step, d.done
            )
            note = _("Saved.")
        except ServiceError as err:
            if err.code != "record.stale":
                raise
            note, alert = error_text(err, _), True  # ticked meanwhile: show it as it is
    text, markup = await disposal_view(session, principal, d)
    await redraw(query, text, markup, note, alert=alert)
