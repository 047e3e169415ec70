"""/evaluation: the democratic evaluation in chat — self-assessment, the secret ballot,
the branch's stage controls and review, objections, approval and "my grade".

Drafts (self-assessment answers, ballot marks) live only in the conversation state until
submitted; every press is re-checked by the services; replies that report a write are
sent after the service call returned.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from html import escape

from aiogram import F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.clock import Clock
from bot.config import Settings
from bot.db.models import EvalStage, Member
from bot.delivery import shared
from bot.services import ballots, eval_after, eval_review, evaluation
from bot.services.dashboard import scope_roots
from bot.services.errors import ServiceError
from bot.services.members import Principal
from bot.services.orgs import require_org
from bot.services.paging import Page
from handlers.callbacks import (
    BallotAct,
    EvalAdvance,
    EvalCard,
    EvalHome,
    EvalView,
    Mark,
    Noop,
    ObjectionAct,
    ReviewAct,
    SelfAct,
    SelfMark,
)
from handlers.eval_notices import opened_key, stage_opened
from handlers.menu import EVALUATION, MenuButton
from handlers.notify import tell, tell_each, zone_of
from handlers.registry import Handlers
from handlers.states import Evaluate
from handlers.views import Button, clip, keyboard, list_sep, named, pager, redraw
from scoring import VanguardRubric

router = Handlers("evaluation")
log = logging.getLogger(__name__)


BALLOT_PAGE = 8


def stage_label(stage: str) -> str:
    return {
        "self": _("self-assessment"),
        "vote": _("democratic vote"),
        "review": _("branch review"),
        "notice": _("public notice"),
        "approval": _("superior approval"),
        "final": _("final"),
    }[stage]


def grade_label(grade: str) -> str:
    return texts.grade_label(grade, _)


def _close_label(stage: str) -> str:
    return {
        "self": _("Close the self-assessment, open the vote"),
        "vote": _("Close the vote, start the branch review"),
        "review": _("Publish the public notice"),
        "notice": _("Send for the superior's approval"),
        "approval": _("✓ Approve the results"),
    }[stage]


# ---------------------------------------------------------------- the home screen


async def home(
    session: AsyncSession, principal: Principal, clock: Clock, rubric: VanguardRubric
) -> tuple[str, object]:
    today = clock.today()
    if principal.branch is None:
        return await staff_home(session, principal, clock, rubric)
    campaign = await evaluation.latest_campaign(session, principal.branch.id)
    rows: list[list[Button]] = []
    leader = principal.can_lead(principal.branch)
    if campaign is None:
        if leader:
            period = evaluation.period_of(rubric, today)
            rows.append(
                [
                    Button(
                        text=_("Open the evaluation for {period}").format(period=period),
                        callback_data=EvalHome(act="open").pack(),
                    )
                ]
            )
        return _("No democratic evaluation is open for your branch."), keyboard(
            [*rows, _oversee(principal)]
        )
    c = campaign
    due = evaluation.due_of(c)
    lines = [
        "<b>" + _("Democratic evaluation {period}").format(period=c.period) + "</b>",
        _("Stage: {stage}").format(stage=stage_label(c.stage))
        + (" · " + _("until {date}").format(date=due.isoformat()) if due else ""),
    ]
    if due and today > due:
        lines.append(_("⚠️ This stage is overdue."))
    me = principal.member
    if c.stage == EvalStage.self_assessment:
        own = await evaluation.my_self(session, principal, c.id)
        lines.append(
            _("Your self-assessment: submitted (you can change it until the stage closes).")
            if own
            else _("Your self-assessment: not yet submitted.")
        )
        rows.append([Button(text=_("📝 Self-assessment"), callback_data=_v(c, "self"))])
        if leader:
            rows.append([Button(text=_("Who has submitted"), callback_data=_v(c, "status"))])
    elif c.stage == EvalStage.vote:
        seen = await ballots.turnout(session, c.id)
        voted = await ballots.has_voted(session, c.id, me.id)
        lines.append(
            _("Turnout: {voted} of {total}").format(voted=seen.voted, total=seen.electorate)
        )
        if voted:
            lines.append(_("You have voted. Your ballot is secret."))
        else:
            rows.append([Button(text=_("🗳 Vote"), callback_data=_v(c, "vote"))])
    elif c.stage == EvalStage.review and leader:
        rows.append([Button(text=_("Review the members"), callback_data=_v(c, "review"))])
    elif c.stage == EvalStage.notice:
        lines.append(_("Objections can be raised until {date}.").format(date=c.notice_due))
        rows.append([Button(text=_("Raise an objection"), callback_data=_v(c, "object"))])
        if leader:
            rows.append([Button(text=_("Objections"), callback_data=_v(c, "objections"))])
    elif c.stage == EvalStage.final:
        rows.append([Button(text=_("My grade"), callback_data=_v(c, "grade"))])
        if leader:
            rows.append([Button(text=_("🤝 Paired mentoring"), callback_data=_v(c, "mentoring"))])
            if await eval_after.has_unqualified(session, c.id):
                rows.append(
                    [Button(text=_("⚠️ Disposal checklist"), callback_data=_v(c, "disposal"))]
                )
    if leader and c.stage not in (EvalStage.approval, EvalStage.final):
        rows.append(
            [
                Button(
                    text=_close_label(c.stage),
                    callback_data=EvalAdvance(campaign=c.id, stage=c.stage).pack(),
                )
            ]
        )
    if c.stage == EvalStage.approval and principal.can_manage(principal.branch):
        rows.append(
            [
                Button(
                    text=_close_label(c.stage),
                    callback_data=EvalAdvance(campaign=c.id, stage=c.stage).pack(),
                )
            ]
        )
    return "\n".join(lines), keyboard([*rows, _oversee(principal)])


def _oversee(principal: Principal) -> list[Button]:
    """Staff who are members of a branch too reach their overview from its home."""
    if not principal.is_staff:
        return []
    return [Button(text=_("🏛 Branches I oversee"), callback_data=EvalHome(act="overview").pack())]


def _v(c, act: str, page: int = 0) -> str:
    return EvalView(campaign=c.id, act=act, page=page).pack()


async def staff_scope(session: AsyncSession, principal: Principal, org: int):
    """The subtrees a staff screen covers: all the person oversees, or the one committee
    `org` under them (a forged id outside is refused). Returns (roots, that committee)."""
    if not principal.is_staff:
        raise ServiceError("access.denied" if principal.member else "eval.no_branch")
    root = await require_org(session, org) if org else None
    return scope_roots(principal, root), root


async def staff_home(
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    rubric: VanguardRubric,
    page: int = 0,
    overdue: bool = False,
    org: int = 0,
):
    """The superior's overview: every campaign of the period under every committee the
    person serves on (or the whole tree for a superuser), or under one committee below
    them, paged; optionally only those whose stage is overdue."""
    roots, root = await staff_scope(session, principal, org)
    today = clock.today()
    period = evaluation.period_of(rubric, today)
    found, stages, late = await evaluation.subtree_campaigns(
        session, principal, roots, period, today, page, overdue_only=overdue
    )
    graded = await eval_after.after_counts(session, principal, roots, period)
    lines = [f"🏛 <b>{escape(root.name)}</b>"] if root is not None else []
    # No campaign at all: "0 branches" would read as if the subtree had none; say what is
    # missing and lead with the action that opens it.
    none_open = not stages
    if none_open:
        unopened = await evaluation.branches_without_campaign(session, principal, roots, period)
        lines.append(
            "<b>"
            + _("No democratic evaluation {period} is open in your {n} branches yet.").format(
                period=period, n=unopened
            )
            + "</b>"
        )
    else:
        lines += [
            "<b>"
            + _("Democratic evaluation {period}: {n} branches").format(
                period=period, n=sum(stages.values())
            )
            + "</b>",
            " · ".join(f"{stage_label(s)} {n}" for s, n in sorted(stages.items())),
        ]
    if late:
        lines.append(_("⚠️ Overdue: {n}").format(n=late))
    if graded:
        lines.append(
            _("Approved: {excellent} excellent · {unqualified} unqualified").format(
                excellent=graded.get("excellent", 0), unqualified=graded.get("unqualified", 0)
            )
        )
    if overdue:
        lines.append(_("Only branches whose stage is overdue:"))
    lines.append("")
    rows = []
    for line in found.items:
        mark = "⚠️ " if line.overdue else ""
        text = f"{mark}{escape(line.org.name)} · {stage_label(line.campaign.stage)}"
        if line.campaign.stage != EvalStage.self_assessment:
            text += " · " + _("voted {voted}/{total}").format(
                voted=line.voted, total=line.electorate
            )
        lines.append(text)
        card = EvalCard(campaign=line.campaign.id, org=org)
        row = [Button(text=f"{mark}{line.org.name}", callback_data=card.pack())]
        if line.campaign.stage == EvalStage.approval:
            approve = EvalAdvance(campaign=line.campaign.id, stage="approval", org=org)
            row.append(
                Button(
                    text=_("✓ Approve {branch}").format(branch=line.org.name),
                    callback_data=approve.pack(),
                )
            )
        rows.append(row)
    if not found.items and not none_open:
        lines.append(_("None."))

    def at(act: str, page: int = 0) -> str:
        return EvalHome(act=act, page=page, org=org).pack()

    if none_open and unopened:
        rows.insert(
            0,
            [
                Button(
                    text=_("Open it for all {n} branches").format(n=unopened),
                    callback_data=at("subtree_ask"),
                )
            ],
        )

    listing = "overdue" if overdue else "overview"
    rows.append(pager(found, lambda p: EvalHome(act=listing, page=p, org=org)))
    if overdue:
        rows.append([Button(text=_("📋 All branches"), callback_data=at("overview"))])
    elif late:
        rows.append(
            [Button(text=_("⚠️ Overdue only ({n})").format(n=late), callback_data=at("overdue"))]
        )
    rows.append([Button(text=_("🏛 By committee"), callback_data=at("subs"))])
    if not none_open:
        rows.append(
            [
                Button(text=_("Open for every branch"), callback_data=at("subtree_ask")),
                Button(text=_("✓ Approve all waiting"), callback_data=at("approve_ask")),
            ]
        )
    if graded.get("excellent") or graded.get("unqualified"):
        rows.append(
            [
                Button(text=_("🏅 Commendation list"), callback_data=at("commend")),
                Button(text=_("⚠️ Unqualified: disposal"), callback_data=at("unqualified")),
            ]
        )
    # Marks of earlier years' approvals stand until this year's: offered whatever the period.
    rows.append([Button(text=_("⭐ Priority for recommendation"), callback_data=at("priority"))])
    if root is not None:
        rows.append(
            [Button(text=_("◀ All I oversee"), callback_data=EvalHome(act="overview").pack())]
        )
    return clip("\n".join(lines)), keyboard(rows)


async def committees(session: AsyncSession, principal: Principal, org: int, page: int):
    """The committees one level down (or the several a person serves on), to narrow the
    overview to one of them."""
    roots, root = await staff_scope(session, principal, org)
    found = await evaluation.scope_committees(session, principal, roots, page)
    title = escape(root.name) if root is not None else _("All organisations you oversee")
    lines = ["🏛 <b>" + title + "</b>", _("Choose a committee:")]
    if not found.items:
        lines.append(_("None."))
    rows = [
        [Button(text=c.name, callback_data=EvalHome(act="overview", org=c.id).pack())]
        for c in found.items
    ]
    rows.append(pager(found, lambda p: EvalHome(act="subs", page=p, org=org)))
    rows.append([Button(text=_("◀ Back"), callback_data=EvalHome(act="overview", org=org).pack())])
    return "\n".join(lines), keyboard(rows)


async def bulk_confirm(session, principal: Principal, clock: Clock, rubric, act: str, org: int):
    """The summary before a decision for many branches at once."""
    roots, root = await staff_scope(session, principal, org)
    period = evaluation.period_of(rubric, clock.today())
    where = escape(root.name) if root is not None else _("every organisation you oversee")
    if act == "subtree_ask":
        n = await evaluation.branches_without_campaign(session, principal, roots, period)
        text = _(
            "Open the democratic evaluation {period} for the {n} branches under {where} "
            "that have none yet? Their members are told."
        ).format(period=period, n=n, where=where)
        go = "subtree"
    else:
        _page, stages, _late = await evaluation.subtree_campaigns(
            session, principal, roots, period, clock.today(), size=1
        )
        n = stages.get(EvalStage.approval.value, 0)
        text = _(
            "Approve the results of the {n} branches under {where} waiting for approval? "
            "Their grades become final."
        ).format(n=n, where=where)
        go = "approve_all"
    back = Button(text=_("◀ Back"), callback_data=EvalHome(act="overview", org=org).pack())
    confirm = Button(text=_("✓ Confirm"), callback_data=EvalHome(act=go, org=org).pack())
    return text, keyboard([[confirm, back] if n else [back]])


@router.message(Command("evaluation"))
@router.message(MenuButton(EVALUATION))
async def evaluation_cmd(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
) -> None:
    if principal.member is None and not principal.is_staff:
        raise ServiceError("eval.no_branch")
    await state.clear()
    text, markup = await home(session, principal, clock, vrubric)
    await message.answer(text, reply_markup=markup)


@router.callback_query(EvalHome.filter())
async def home_press(
    query: CallbackQuery,
    callback_data: EvalHome,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
    settings: Settings,
    i18n: I18n,
) -> None:
    act, now, today = callback_data.act, clock.now(), clock.today()
    period = evaluation.period_of(vrubric, today)
    note = None
    if act == "open":
        branch = principal.led_branch_id()
        opened = await evaluation.open_campaign(
            session,
            principal,
            now,
            today,
            branch,
            period,
            min_voters=settings.eval_min_voters,
            objection_days=settings.eval_objection_days,
        )
        note = _("Opened. Members can now assess themselves.")
        await tell_members(session, clock, settings, i18n, opened, exclude=principal.telegram_id)
    elif act in ("subtree", "approve_all"):
        roots, _root = await staff_scope(session, principal, callback_data.org)
        if any(r is None for r in roots):  # a superuser's whole tree: one committee at a time
            roots = list(principal.staff_orgs)
        if not roots:
            raise ServiceError("access.denied")
        n = 0
        for root in roots:
            if act == "subtree":
                n += await evaluation.open_for_subtree(
                    session,
                    principal,
                    now,
                    today,
                    root,
                    period,
                    min_voters=settings.eval_min_voters,
                    objection_days=settings.eval_objection_days,
                )
            else:
                n += await eval_review.approve_subtree(session, principal, now, root, period)
        note = (
            _("Opened for {n} branches.") if act == "subtree" else _("Approved {n} branches.")
        ).format(n=n)
    if act in ("subtree_ask", "approve_ask"):
        text, markup = await bulk_confirm(
            session, principal, clock, vrubric, act, callback_data.org
        )
    elif act == "subs":
        text, markup = await committees(session, principal, callback_data.org, callback_data.page)
    elif act in ("overview", "overdue", "subtree", "approve_all"):
        text, markup = await staff_home(
            session,
            principal,
            clock,
            vrubric,
            callback_data.page,
            overdue=act == "overdue",
            org=callback_data.org,
        )
    else:
        text, markup = await home(session, principal, clock, vrubric)
    await redraw(query, text, markup, note)


@router.callback_query(EvalAdvance.filter())
async def advance_press(
    query: CallbackQuery,
    callback_data: EvalAdvance,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
    settings: Settings,
    i18n: I18n,
) -> None:
    c = await evaluation.advance(
        session,
        principal,
        clock.now(),
        clock.today(),
        callback_data.campaign,
        callback_data.stage,
        vrubric,
    )
    if c.stage == EvalStage.notice:
        await publish_notice(session, clock, settings, i18n, c, vrubric)
    elif c.stage == EvalStage.vote:
        await tell_members(session, clock, settings, i18n, c, exclude=principal.telegram_id)
    if principal.branch is not None and principal.branch.id == c.org_id:
        text, markup = await home(session, principal, clock, vrubric)
    else:
        text, markup = await staff_home(session, principal, clock, vrubric, org=callback_data.org)
    done = _("Done: the {stage} has begun.").format(stage=stage_label(c.stage))
    await redraw(query, text, markup, done)


async def tell_members(
    session, clock: Clock, settings: Settings, i18n: I18n, campaign, exclude: int = 0
) -> None:
    """The stage that concerns every member has opened: say so, with its deadline (through
    the outbox, in this update's transaction; the scheduler's `eval.opened` uses the same
    keys for campaigns opened for a whole subtree, so nobody hears it twice)."""
    org = await require_org(session, campaign.org_id)
    people = [
        m.telegram_id
        for m in await evaluation.eligible_members(session, campaign.org_id)
        if m.telegram_id and m.telegram_id != exclude
    ]
    await tell_each(
        session,
        clock,
        settings,
        i18n,
        people,
        lambda _chat: stage_opened(campaign),
        key=opened_key(campaign),
        kind="eval_stage",
        tz=zone_of(settings, org),
    )


async def publish_notice(
    session, clock: Clock, settings: Settings, i18n: I18n, campaign, rubric
) -> None:
    """The public notice: excellent members named in the group (if linked), every member
    told their own grade privately, with the objection window."""
    org = await require_org(session, campaign.org_id)
    tz = zone_of(settings, org)
    results = await eval_review.grades_of(session, campaign.id)
    key = f"eval:{campaign.id}:notice:v{campaign.version}"
    if org.group_chat_id:
        with i18n.use_locale(org.locale or i18n.default_locale):
            names = list_sep().join(escape(m.name) for m, r in results if r.grade == "excellent")
            counts: dict[str, int] = {}
            for _m, r in results:
                counts[r.grade] = counts.get(r.grade, 0) + 1
            text = "\n".join(
                [
                    "<b>"
                    + _("Public notice: democratic evaluation {period}").format(
                        period=campaign.period
                    )
                    + "</b>",
                    _("Excellent: {names}").format(names=names or "—"),
                    " · ".join(f"{grade_label(g)} {n}" for g, n in counts.items()),
                    _("Objections can be raised in private chat with me until {date}.").format(
                        date=campaign.notice_due
                    ),
                ]
            )
        await tell(
            session,
            clock,
            settings,
            org.group_chat_id,
            text,
            key=f"{key}:group",
            kind="eval_notice",
            tz=tz,
        )
    grades = {m.telegram_id: r for m, r in results if m.telegram_id}

    def render(chat: int) -> tuple[str, object]:
        result = grades[chat]
        text = _(
            "The branch proposes your grade for {period}: {grade} ({total} points). "
            "Objections can be raised until {date}."
        ).format(
            period=campaign.period,
            grade=grade_label(result.grade),
            total=result.total,
            date=campaign.notice_due,
        )
        markup = keyboard(
            [[Button(text=_("Raise an objection"), callback_data=_v(campaign, "object"))]]
        )
        return text, markup

    await tell_each(
        session, clock, settings, i18n, grades, render, key=key, kind="eval_notice", tz=tz
    )


# ---------------------------------------------------------------- views of a campaign


@router.callback_query(EvalView.filter())
async def view_press(
    query: CallbackQuery,
    callback_data: EvalView,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
) -> None:
    cid, act = callback_data.campaign, callback_data.act
    if act == "home":
        await state.clear()
        text, markup = await home(session, principal, clock, vrubric)
    elif act == "self":
        text, markup = await start_self(session, principal, state, clock, cid, vrubric)
    elif act == "status":
        text, markup = await self_status(session, principal, cid, callback_data.page)
    elif act == "vote":
        text, markup = await start_ballot(session, principal, state, clock, cid, vrubric)
    elif act == "review":
        text, markup = await review_list(session, principal, cid, callback_data.page)
    elif act == "object":
        campaign, _org = await evaluation.visible_campaign(session, principal, cid)
        evaluation.require_stage(campaign, EvalStage.notice.value)
        text = _("Raise an objection: named, or anonymous (your name is not kept)?")
        markup = keyboard(
            [
                [
                    Button(
                        text=_("Named"),
                        callback_data=ObjectionAct(campaign=cid, objection=0, act="named").pack(),
                    ),
                    Button(
                        text=_("Anonymous"),
                        callback_data=ObjectionAct(campaign=cid, objection=0, act="anon").pack(),
                    ),
                ]
            ]
        )
    elif act == "objections":
        text, markup = await objection_list(session, principal, cid)
    else:  # grade
        text, markup = await my_grade_text(session, principal), None
    await redraw(query, clip(text), markup)


async def self_status(session, principal, cid: int, page: int):
    status = await evaluation.self_status(session, principal, cid, page)
    lines = [
        _("Self-assessments submitted: {done} of {total}").format(
            done=status.submitted, total=status.total
        )
    ]
    lines += [("✅ " if done else "⏳ ") + escape(name) for name, done in status.page.items]
    rows = [pager(status.page, lambda p: EvalView(campaign=cid, act="status", page=p))]
    rows.append([Button(text=_("◀ Back"), callback_data=EvalView(campaign=cid, act="home").pack())])
    return "\n".join(lines), keyboard(rows)


async def my_grade_text(session, principal) -> str:
    found = await eval_review.my_grade(session, principal)
    if found is None:
        return _("You have no approved evaluation result yet.")
    campaign, result = found
    text = _("Your grade for {period}: {grade} ({total} points).").format(
        period=campaign.period, grade=grade_label(result.grade), total=result.total
    )
    return "\n".join([text, *await priority_line(session, principal.member)])


async def priority_line(session, member: Member | None) -> list[str]:
    """The member's priority mark for recommendation, as one line, or none."""
    period = await eval_after.priority_of(session, member) if member else None
    if period is None:
        return []
    text = _("⭐ Priority for recommendation: excellent in the democratic evaluation {period}.")
    return [text.format(period=period)]


# ---------------------------------------------------------------- self-assessment


def _pages(rubric: VanguardRubric, category: str) -> list[tuple[object, list]]:
    items = evaluation.self_questions(rubric, category)
    return [(s, [i for i in items if i.dimension == s.key]) for s in rubric.subindices]


async def start_self(session, principal, state: FSMContext, clock: Clock, cid: int, rubric):
    campaign, _org = await evaluation.visible_campaign(session, principal, cid)
    evaluation.require_stage(campaign, EvalStage.self_assessment.value)
    if principal.member is None:
        raise ServiceError("access.denied")
    own = await evaluation.my_self(session, principal, cid)
    draft = {
        "campaign": cid,
        "answers": dict(own.answers) if own else {},
        "summary": own.summary if own else "",
    }
    await state.set_state(Evaluate.self_answers)
    await state.update_data(own=draft)
    return self_page(rubric, principal.member, draft, 0)


def self_page(rubric: VanguardRubric, member: Member, draft: dict, page: int):
    pages = _pages(rubric, member.category)
    items = evaluation.self_questions(rubric, member.category)
    sub, chosen = pages[page]
    cid = draft["campaign"]
    lines = [
        "<b>" + _("Self-assessment: {index}").format(index=named(sub)) + "</b>",
        _("{done}/{total} answered").format(done=len(draft["answers"]), total=len(items)),
    ]
    rows = []
    for item in chosen:
        pos = items.index(item)
        rows.append([Button(text=named(item), callback_data=Noop().pack())])
        mine = draft["answers"].get(item.key)
        rows.append(
            [
                Button(
                    text=("✓ " if mine == b else "") + named(o),
                    callback_data=SelfMark(campaign=cid, item=pos, band=b).pack(),
                )
                for b, o in enumerate(rubric.vote_options)
            ]
        )
    nav = []
    if page > 0:
        nav.append(
            Button(text="◀", callback_data=SelfAct(campaign=cid, act="page", page=page - 1).pack())
        )
    if page + 1 < len(pages):
        nav.append(
            Button(text="▶", callback_data=SelfAct(campaign=cid, act="page", page=page + 1).pack())
        )
    else:
        nav.append(
            Button(
                text=_("Next: summary ▶"),
                callback_data=SelfAct(campaign=cid, act="summary", page=page).pack(),
            )
        )
    rows.append(nav)
    rows.append(
        [
            Button(
                text=_("✖ Cancel"), callback_data=SelfAct(campaign=cid, act="cancel", page=0).pack()
            )
        ]
    )
    return "\n".join(lines), keyboard(rows)


async def step_data(state: FSMContext, kind: str, cid: int | None = None) -> dict:
    """What this update's step kept in the conversation: a draft (`own`, `ballot`) or a
    pending typed step (`review`, `objection`, `reopen`). Gone (submitted, left, the
    conversation restarted) or of another campaign than the press names: stale."""
    data = (await state.get_data()).get(kind)
    if not data:
        await state.clear()
        raise ServiceError("stale")
    if cid is not None and data["campaign"] != cid:
        raise ServiceError("stale")
    return data


@router.callback_query(SelfMark.filter())
async def self_mark(
    query: CallbackQuery,
    callback_data: SelfMark,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    vrubric: VanguardRubric,
) -> None:
    draft = await step_data(state, "own", callback_data.campaign)
    campaign, _org = await evaluation.visible_campaign(session, principal, callback_data.campaign)
    evaluation.require_stage(campaign, EvalStage.self_assessment.value)
    items = evaluation.self_questions(vrubric, principal.member.category)
    if callback_data.item >= len(items) or callback_data.band >= len(vrubric.vote_options):
        raise ServiceError("stale")
    item = items[callback_data.item]
    draft["answers"][item.key] = callback_data.band
    await state.update_data(own=draft)
    page = [s.key for s in vrubric.subindices].index(item.dimension)
    text, markup = self_page(vrubric, principal.member, draft, page)
    await redraw(query, text, markup)


@router.callback_query(SelfAct.filter())
async def self_act(
    query: CallbackQuery,
    callback_data: SelfAct,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
) -> None:
    act, cid = callback_data.act, callback_data.campaign
    if act == "cancel":
        await state.clear()
        await redraw(query, _("Self-assessment left; nothing was changed."))
        return
    draft = await step_data(state, "own", cid)
    if act == "page":
        pages = _pages(vrubric, principal.member.category)
        text, markup = self_page(
            vrubric, principal.member, draft, min(callback_data.page, len(pages) - 1)
        )
    elif act == "summary":
        await state.set_state(Evaluate.self_summary)
        text = _(
            "Write a short summary of your year (one message), or send “-” to keep {what}."
        ).format(what=_("the current one") if draft["summary"] else _("it empty"))
        markup = None
    elif act == "review":
        text, markup = self_review(vrubric, principal.member, draft)
    else:  # submit
        await evaluation.save_self(
            session,
            principal,
            clock.now(),
            clock.today(),
            cid,
            draft["answers"],
            draft["summary"],
            vrubric,
        )
        await state.clear()
        text, markup = (
            _("✅ Self-assessment saved. You can change it until the stage closes."),
            None,
        )
    await redraw(query, clip(text), markup)


def self_review(rubric: VanguardRubric, member: Member, draft: dict):
    items = evaluation.self_questions(rubric, member.category)
    cid = draft["campaign"]
    lines = ["<b>" + _("Your self-assessment") + "</b>"]
    for item in items:
        band = draft["answers"].get(item.key)
        answer = named(rubric.vote_options[band]) if band is not None else _("not answered")
        lines.append(f"• {named(item)}: {answer}")
    lines.append(_("Summary: {text}").format(text=escape(draft["summary"]) or "—"))
    rows = [
        [
            Button(
                text=_("💾 Submit"),
                callback_data=SelfAct(campaign=cid, act="submit", page=0).pack(),
            )
        ],
        [
            Button(
                text=_("◀ Change"), callback_data=SelfAct(campaign=cid, act="page", page=0).pack()
            ),
            Button(
                text=_("✖ Cancel"), callback_data=SelfAct(campaign=cid, act="cancel", page=0).pack()
            ),
        ],
    ]
    return "\n".join(lines), keyboard(rows)


@router.message(StateFilter(Evaluate.self_summary), F.text, ~F.text.startswith("/"))
async def self_summary(message: Message, state: FSMContext, principal: Principal, vrubric) -> None:
    draft = await step_data(state, "own")
    text = message.text.strip()
    if text != "-":
        if len(text) > evaluation.MAX_SUMMARY:
            raise ServiceError("meeting.too_long", max=evaluation.MAX_SUMMARY)
        draft["summary"] = text
    await state.update_data(own=draft)
    await state.set_state(Evaluate.self_answers)
    reply, markup = self_review(vrubric, principal.member, draft)
    await message.answer(clip(reply), reply_markup=markup)


# ---------------------------------------------------------------- the ballot


async def start_ballot(session, principal, state: FSMContext, clock: Clock, cid: int, rubric):
    shown = await _ballot_people(session, principal, clock, cid, 0)
    await state.set_state(Evaluate.ballot)
    await state.update_data(ballot={"campaign": cid, "marks": {}})
    return ballot_page(rubric, shown, cid, {})


# A ballot page is 8 names and 32 grade buttons, drawn again on every mark pressed (a
# city's evening vote is tens of thousands of presses), and aiogram's buttons and button
# data cost tens of microseconds each to build. They repeat (every voter of a branch sees
# the same names and grades), so each candidate's row is built once, in both its forms
# for every grade: unmarked, and marked (✓). What is kept is the same whoever chose what,
# so no cache in the process says anything of a choice. The unmarked buttons' JSON is
# written once (`shared`); a marked one's is written for its request only, as whether it
# was ever sent would say that someone chose it.
@lru_cache(maxsize=4096)
def _grade_data(cid: int, member_id: int, band: int, page: int) -> str:
    return Mark(campaign=cid, cand=member_id, band=band, page=page).pack()


@lru_cache(maxsize=2048)
def _grade_row(
    cid: int, member_id: int, page: int, labels: tuple[str, ...]
) -> tuple[tuple[Button, ...], tuple[Button, ...]]:
    """A candidate's grade buttons on a page: unmarked, and marked, for every band."""
    pairs = [(t, _grade_data(cid, member_id, b, page)) for b, t in enumerate(labels)]
    plain = tuple(shared(Button(text=t, callback_data=d)) for t, d in pairs)
    marked = tuple(Button(text="✓ " + t, callback_data=d) for t, d in pairs)
    return plain, marked


@lru_cache(maxsize=1024)
def _name_button(name: str) -> Button:
    return shared(Button(text=name, callback_data=Noop().pack()))


def ballot_page(rubric, shown: Page[tuple[int, str]], cid: int, marks: dict):
    """One page of the voter's ballot; `shown.total` is everyone they may mark."""
    lines = [
        "<b>" + _("Secret ballot") + "</b>",
        _("Choose one grade for each member. Unmarked members count as abstentions."),
        _("{done}/{total} marked").format(done=len(marks), total=shown.total),
    ]
    rows = []
    labels = tuple(named(o) for o in rubric.vote_options)
    for member_id, name in shown.items:
        rows.append([_name_button(name)])
        plain, marked = _grade_row(cid, member_id, shown.page, labels)
        mine = marks.get(str(member_id))
        row = list(plain)
        if mine is not None and 0 <= mine < len(row):
            row[mine] = marked[mine]
        rows.append(row)
    rows.extend(_ballot_tail(cid, shown.page, shown.pages, _("Submit ballot ▶")))
    return "\n".join(lines), keyboard(rows)


@lru_cache(maxsize=1024)
def _ballot_tail(cid: int, page: int, pages: int, submit: str) -> tuple[list[Button], ...]:
    """The pager and the submit button under a ballot page (shared, as the grades are)."""
    where = Page([], page, pages, 1)  # only its page and page count are read
    pages_row = pager(where, lambda p: BallotAct(campaign=cid, act="page", page=p))
    submit_button = Button(
        text=submit, callback_data=BallotAct(campaign=cid, act="submit", page=page).pack()
    )
    return [shared(b) for b in pages_row], [shared(submit_button)]


async def _ballot_people(session, principal, clock, cid, page: int) -> Page[tuple[int, str]]:
    sheet = await ballots.ballot_sheet(session, principal, cid, clock.today(), page, BALLOT_PAGE)
    return sheet.candidates


@router.callback_query(Mark.filter())
async def mark(
    query: CallbackQuery,
    callback_data: Mark,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
) -> None:
    cid = callback_data.campaign
    # The ballot's checks first: a member who has voted is told so, not that the
    # (submitted, so gone) draft expired.
    sheet = await ballots.check_mark(
        session,
        principal,
        cid,
        callback_data.cand,
        callback_data.band,
        clock.today(),
        vrubric,
        callback_data.page,
        BALLOT_PAGE,
    )
    draft = await step_data(state, "ballot", cid)
    key = str(callback_data.cand)
    note = None
    if draft["marks"].get(key) == callback_data.band:
        draft["marks"].pop(key)  # the same choice again takes the mark away
        # Said, so that a second tap meant to confirm doesn't leave an abstention unseen.
        note = _("Mark removed: unmarked counts as an abstention.")
    else:
        draft["marks"][key] = callback_data.band
    await state.update_data(ballot=draft)
    text, markup = ballot_page(vrubric, sheet.candidates, cid, draft["marks"])
    await redraw(query, text, markup, note)


@router.callback_query(BallotAct.filter())
async def ballot_act(
    query: CallbackQuery,
    callback_data: BallotAct,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
) -> None:
    cid, act = callback_data.campaign, callback_data.act
    # The ballot's checks before the draft's, as for a mark.
    shown = await _ballot_people(session, principal, clock, cid, callback_data.page)
    draft = await step_data(state, "ballot", cid)
    if act == "confirm":
        marks = {int(k): v for k, v in draft["marks"].items()}
        await ballots.submit_ballot(session, principal, clock.today(), cid, marks, vrubric)
        await state.clear()
        receipt = _(
            "✅ Your ballot has been counted. It is secret: nobody, the secretary "
            "included, can see how you voted."
        )
        await redraw(query, receipt)
        return
    if act == "submit":
        left = shown.total - len(draft["marks"])
        text = _("Submit your ballot? You marked {done} of {total}.").format(
            done=len(draft["marks"]), total=shown.total
        )
        if left:
            text += "\n" + _("{n} unmarked will count as abstentions.").format(n=left)
        text += "\n" + _("After submitting, your ballot cannot be changed.")
        markup = keyboard(
            [
                [
                    Button(
                        text=_("✓ Yes, submit"),
                        callback_data=BallotAct(campaign=cid, act="confirm").pack(),
                    ),
                    Button(
                        text=_("◀ Back"),
                        callback_data=BallotAct(
                            campaign=cid, act="back", page=callback_data.page
                        ).pack(),
                    ),
                ]
            ]
        )
    else:  # page, back
        text, markup = ballot_page(vrubric, shown, cid, draft["marks"])
    await redraw(query, text, markup)


# ---------------------------------------------------------------- branch review


async def review_list(session, principal, cid: int, page: int):
    campaign, found = await eval_review.review_page(session, principal, cid, page)
    lines = [
        "<b>" + _("Branch review {period}").format(period=campaign.period) + "</b>",
        _("Proposed grades, the excellent cap applied. Press a member for details."),
    ]
    rows = []
    for line in found.items:
        r = line.result
        mark = " ✎" if r.override_reason else ""
        rows.append(
            [
                Button(
                    text=f"{line.name} · {r.total} · {grade_label(r.grade)}{mark}",
                    callback_data=ReviewAct(
                        campaign=cid, member=line.member_id, act="view", value=0
                    ).pack(),
                )
            ]
        )
    rows.append(pager(found, lambda p: EvalView(campaign=cid, act="review", page=p)))
    rows.append([Button(text=_("◀ Back"), callback_data=EvalView(campaign=cid, act="home").pack())])
    return "\n".join(lines), keyboard(rows)


async def member_card(session, principal, cid: int, member_id: int, rubric: VanguardRubric):
    campaign, member, r, own = await eval_review.member_result(session, principal, cid, member_id)
    counts = await ballots.counted(session, campaign)
    b = r.breakdown
    lines = [f"<b>{escape(member.name)}</b>"]
    lines.append(
        _("Self-assessment: {score}").format(score=own.score if own else "—")
        + (f"\n<i>{escape(own.summary)}</i>" if own and own.summary else "")
    )
    if counts is None:
        lines.append(_("Vote: not shown (fewer than {k} ballots).").format(k=campaign.min_voters))
    else:
        row = counts.counts.get(member.id, ())
        lines.append(
            _("Vote: {spread} of {voters} ballots").format(
                spread=" · ".join(
                    f"{named(o)} {n}" for o, n in zip(rubric.vote_options, row, strict=False)
                ),
                voters=counts.voters,
            )
        )
    parts = " · ".join(
        f"{k} {'—' if v is None else v / 100}" for k, v in b.get("parts", {}).items()
    )
    lines.append(_("Vanguard Index: {total} ({parts})").format(total=r.total, parts=parts))
    for key in b.get("hard_rules", []):
        rule = next((h for h in rubric.hard_rules if h.key == key), None)
        lines.append("⚠️ " + (named(rule) if rule else key))
    for key, note in r.deductions.items():
        item = next((d for d in rubric.deductions if d.key == key), None)
        lines.append("− " + (named(item) if item else key) + f": {escape(note)}")
    lines.append(
        _(
            "Computed: {computed}; proposed after the excellent cap ({places} places): {proposed}"
        ).format(
            computed=grade_label(r.computed_grade),
            places=b.get("places", "—"),
            proposed=grade_label(r.proposed_grade),
        )
    )
    lines.append(_("Grade: {grade}").format(grade=grade_label(r.grade)))
    if r.override_reason:
        lines.append(_("Changed by the branch: {reason}").format(reason=escape(r.override_reason)))
    rows = []
    if campaign.stage == EvalStage.review:
        rows.append(
            [
                Button(
                    text=grade_label(g),
                    callback_data=ReviewAct(
                        campaign=cid, member=member.id, act="grade", value=i
                    ).pack(),
                )
                for i, g in enumerate(GRADES)
            ]
        )
        rows.append(
            [
                Button(
                    text=_("Branch: {option}").format(option=named(o)),
                    callback_data=ReviewAct(
                        campaign=cid, member=member.id, act="band", value=i
                    ).pack(),
                )
                for i, o in enumerate(rubric.vote_options)
            ]
        )
        for i, d in enumerate(rubric.deductions):
            on = "✓ " if d.key in r.deductions else ""
            rows.append(
                [
                    Button(
                        text=on + "− " + named(d),
                        callback_data=ReviewAct(
                            campaign=cid, member=member.id, act="ded", value=i
                        ).pack(),
                    )
                ]
            )
    rows.append(
        [Button(text=_("◀ Back"), callback_data=EvalView(campaign=cid, act="review").pack())]
    )
    return clip("\n".join(lines)), keyboard(rows)


GRADES = ("excellent", "qualified", "basically_qualified", "unqualified")


@router.callback_query(ReviewAct.filter())
async def review_press(
    query: CallbackQuery,
    callback_data: ReviewAct,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
) -> None:
    cid, mid, act, value = (
        callback_data.campaign,
        callback_data.member,
        callback_data.act,
        callback_data.value,
    )
    if act == "band":
        await eval_review.set_review_band(session, principal, clock.now(), cid, mid, value, vrubric)
    elif act in ("grade", "ded"):
        limit = len(GRADES) if act == "grade" else len(vrubric.deductions)
        if value >= limit:
            raise ServiceError("stale")
        await eval_review.member_result(session, principal, cid, mid)  # may they?
        ded = vrubric.deductions[value].key if act == "ded" else None
        current = await eval_review.member_result(session, principal, cid, mid)
        if act == "ded" and ded in current[2].deductions:
            await eval_review.toggle_deduction(
                session, principal, clock.now(), cid, mid, ded, "", vrubric
            )
        else:
            await state.set_state(Evaluate.reason if act == "grade" else Evaluate.note)
            await state.update_data(
                review={
                    "campaign": cid,
                    "member": mid,
                    "grade": GRADES[value] if act == "grade" else None,
                    "ded": ded,
                }
            )
            await query.answer()
            prompt = (
                _("Why {grade}? Write the reason (it is kept in the record).").format(
                    grade=grade_label(GRADES[value])
                )
                if act == "grade"
                else _("Note the evidence for this deduction (one message).")
            )
            await query.message.answer(prompt)
            return
    text, markup = await member_card(session, principal, cid, mid, vrubric)
    await redraw(query, text, markup)


@router.message(StateFilter(Evaluate.reason, Evaluate.note), F.text, ~F.text.startswith("/"))
async def review_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    vrubric: VanguardRubric,
) -> None:
    data = await step_data(state, "review")
    cid, mid = data["campaign"], data["member"]
    if data["grade"]:
        await eval_review.override_grade(
            session, principal, clock.now(), cid, mid, data["grade"], message.text, vrubric
        )
    else:
        await eval_review.toggle_deduction(
            session, principal, clock.now(), cid, mid, data["ded"], message.text, vrubric
        )
    await state.clear()
    text, markup = await member_card(session, principal, cid, mid, vrubric)
    await message.answer(_("Saved.") + "\n\n" + text, reply_markup=markup)


# ---------------------------------------------------------------- objections


async def objection_list(session, principal, cid: int):
    found = await eval_review.objections(session, principal, cid)
    lines = ["<b>" + _("Objections") + "</b>"]
    rows = []
    for o, author in found:
        who = escape(author) if author else _("anonymous")
        status = _("answered") if o.answer else _("open")
        lines.append(f"#{o.id} · {who} · {status}\n{escape(o.text)}")
        if o.answer is None:
            rows.append(
                [
                    Button(
                        text=_("Answer #{id}").format(id=o.id),
                        callback_data=ObjectionAct(
                            campaign=cid, objection=o.id, act="answer"
                        ).pack(),
                    )
                ]
            )
    if not found:
        lines.append(_("None so far."))
    rows.append([Button(text=_("◀ Back"), callback_data=EvalView(campaign=cid, act="home").pack())])
    return clip("\n\n".join(lines)), keyboard(rows)


@router.callback_query(ObjectionAct.filter())
async def objection_press(
    query: CallbackQuery,
    callback_data: ObjectionAct,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
) -> None:
    cid = callback_data.campaign
    if callback_data.act == "answer":
        await eval_review.objections(session, principal, cid)  # leaders and staff only
        await state.set_state(Evaluate.answer)
        await state.update_data(objection={"campaign": cid, "id": callback_data.objection})
        prompt = _("Write the answer to objection #{id}.").format(id=callback_data.objection)
    else:
        campaign, _org = await evaluation.visible_campaign(session, principal, cid)
        evaluation.require_stage(campaign, EvalStage.notice.value)
        await state.set_state(Evaluate.objection)
        await state.update_data(
            objection={"campaign": cid, "anonymous": callback_data.act == "anon"}
        )
        prompt = _("Write your objection (one message).")
    await query.answer()
    await query.message.answer(prompt)


@router.message(StateFilter(Evaluate.objection, Evaluate.answer), F.text, ~F.text.startswith("/"))
async def objection_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    principal: Principal,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
) -> None:
    current = await state.get_state()
    data = await step_data(state, "objection")
    if current == Evaluate.answer.state:
        row, author = await eval_review.answer_objection(
            session, principal, clock.now(), data["id"], message.text
        )
        await state.clear()
        if author is not None and author.telegram_id:
            _campaign, org = await evaluation.require_campaign(session, row.campaign_id)
            await tell_each(
                session,
                clock,
                settings,
                i18n,
                [author.telegram_id],
                lambda _chat: (
                    _("Answer to your objection: {answer}").format(answer=escape(row.answer)),
                    None,
                ),
                key=f"eval-objection:{row.id}:answer:{clock.now():%Y%m%d%H%M%S}",
                kind="eval_objection",
                tz=zone_of(settings, org),
            )
        await message.answer(_("Answer saved."))
        return
    row = await eval_review.raise_objection(
        session,
        principal,
        clock.now(),
        clock.today(),
        data["campaign"],
        message.text,
        data["anonymous"],
    )
    await state.clear()
    await tell_about_objection(session, clock, settings, i18n, row)
    await message.answer(
        _("Your objection has been passed to the branch and the superior organisation.")
    )


async def tell_about_objection(session, clock: Clock, settings: Settings, i18n: I18n, row):
    """The branch's leaders and the superior's staff hear of a new objection (never who
    raised an anonymous one: the text is all they get)."""
    campaign, org = await evaluation.require_campaign(session, row.campaign_id)

    def render(_chat: int) -> tuple[str, object]:
        text = _("New objection #{id} in {branch}: {text}").format(
            id=row.id, branch=escape(org.name), text=escape(row.text)
        )
        answer = ObjectionAct(campaign=campaign.id, objection=row.id, act="answer")
        label = _("Answer #{id}").format(id=row.id)
        return text, keyboard([[Button(text=label, callback_data=answer.pack())]])

    await tell_each(
        session,
        clock,
        settings,
        i18n,
        await eval_review.objection_readers(session, org),
        render,
        key=f"eval-objection:{row.id}:raised",
        kind="eval_objection",
        tz=zone_of(settings, org),
    )


# Not a command: /rating or /mygrade mid-step is answered by its own router (later in
# the order) and the step goes on; an unknown one gets the step hint (handlers/hints.py).
@router.message(StateFilter(Evaluate), ~F.text.startswith("/"))
async def not_text(message: Message, state: FSMContext) -> None:
    """A photo, sticker or file where the step expects words or buttons."""
    await message.answer(step_hint(await state.get_state()))


def step_hint(state: str | None) -> str:
    """What an evaluation step expects (also for an unknown command, in handlers/hints.py)."""
    if state in (Evaluate.self_answers.state, Evaluate.ballot.state):
        return _("Please use the buttons above, or /cancel.")
    return _("Please send it as a text message, or /cancel.")
