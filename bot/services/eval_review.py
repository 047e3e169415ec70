"""Branch review, public notice, objections and approval (what follows each grade is in
`eval_after`).

Results are computed with `scoring.vanguard` from the members' facts (meetings
attended in the period), their self-assessment, the vote counts (only with at least
k ballots: below that the vote is left out, as if not given) and the branch's own
assessment; the branch may change a grade only with a written reason (看票不唯票).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Row, Select, and_, case, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.db.models import (
    EvalCampaign,
    EvalObjection,
    EvalResult,
    EvalSelf,
    EvalStage,
    EvalTally,
    EvalVoter,
    Meeting,
    MeetingAttendee,
    Member,
    Organisation,
    Staff,
)
from bot.services import audit, members
from bot.services.errors import ServiceError
from bot.services.evaluation import audit_result, led_campaign, require_campaign, require_stage
from bot.services.members import Principal
from bot.services.orgs import ancestor_ids
from bot.services.paging import Page, paginate
from scoring import (
    Grade,
    MemberFacts,
    MemberResult,
    Override,
    OverrideError,
    VanguardRubric,
    grade_branch_members,
    score_members,
)

MAX_TEXT = 1000


def _window(period: str) -> tuple[date, date]:
    year = int(period[:4])
    if period.endswith("-H1"):
        return date(year, 1, 1), date(year, 6, 30)
    if period.endswith("-H2"):
        return date(year, 7, 1), date(year, 12, 31)
    return date(year, 1, 1), date(year, 12, 31)


_ATTENDED = {"theme_day": "theme_days", "lesson": "lessons"}
# Meeting kinds counted per member: those above, and the organisational life meeting
# (a task: attended at all in the period).
_KINDS = (*_ATTENDED, "org_life")
_ORG_LIFE = _KINDS.index("org_life")
_GRADE_KEY = {g: g.key for g in Grade}


def _per_kind(kind, kinds: Sequence[str], count=1) -> list:
    """One column per kind (a pivot: one row per member, not one per member and kind)."""
    return [func.sum(case((kind == k, count), else_=0)).label(f"k{k}") for k in kinds]


async def _load_inputs(
    conn: AsyncConnection, campaigns: Sequence[EvalCampaign], bands: int
) -> Sequence[Row]:
    """The one loader of what grading reads, for any number of campaigns of one period:
    one statement returning one row per candidate — category, self score, the branch's
    inputs, whether the vote counts (≥ k ballots), the counts per band, meetings
    attended and held per kind. No ORM objects, no query per branch or member."""
    ids = [c.id for c in campaigns]
    first, last = _window(campaigns[0].period)
    window = and_(
        Meeting.org_id.in_([c.org_id for c in campaigns]),
        Meeting.held_on >= first,
        Meeting.held_on <= last,
        Meeting.counts.is_(True),
    )
    counts = (
        select(
            EvalTally.campaign_id,
            EvalTally.candidate_id,
            *_per_kind(EvalTally.band, range(bands), EvalTally.n),
        )
        .where(EvalTally.campaign_id.in_(ids))
        .group_by(EvalTally.campaign_id, EvalTally.candidate_id)
        .subquery()
    )
    voters = (
        select(EvalVoter.campaign_id, func.count().label("n"))
        .where(EvalVoter.campaign_id.in_(ids))
        .group_by(EvalVoter.campaign_id)
        .subquery()
    )
    # Only the branch's own meetings count, whoever else's a member attended.
    attended = (
        select(MeetingAttendee.member_id, Meeting.org_id, *_per_kind(Meeting.kind, _KINDS))
        .join(Meeting, Meeting.id == MeetingAttendee.meeting_id)
        .where(window)
        .group_by(MeetingAttendee.member_id, Meeting.org_id)
        .subquery()
    )
    held = (
        select(Meeting.org_id, *_per_kind(Meeting.kind, _ATTENDED))
        .where(window)
        .group_by(Meeting.org_id)
        .subquery()
    )
    zero = [func.coalesce(col, 0) for col in (*list(attended.c)[2:], *list(held.c)[1:])]
    stmt = (
        select(
            counts.c.campaign_id,
            counts.c.candidate_id,
            Member.category,
            EvalSelf.score,
            EvalResult.review_band,
            EvalResult.deductions,
            EvalResult.grade,
            EvalResult.override_reason,
            # Below k ballots the vote is left out, as if not given (docs/ballot-secrecy.md).
            func.coalesce(voters.c.n, 0) >= EvalCampaign.min_voters,
            *list(counts.c)[2:],
            *zero,
        )
        .select_from(counts)
        .join(EvalCampaign, EvalCampaign.id == counts.c.campaign_id)
        .join(Member, Member.id == counts.c.candidate_id)
        .outerjoin(
            EvalSelf,
            and_(
                EvalSelf.campaign_id == counts.c.campaign_id,
                EvalSelf.member_id == counts.c.candidate_id,
            ),
        )
        .outerjoin(
            EvalResult,
            and_(
                EvalResult.campaign_id == counts.c.campaign_id,
                EvalResult.member_id == counts.c.candidate_id,
            ),
        )
        .outerjoin(voters, voters.c.campaign_id == counts.c.campaign_id)
        .outerjoin(
            attended,
            and_(
                attended.c.member_id == counts.c.candidate_id,
                attended.c.org_id == EvalCampaign.org_id,
            ),
        )
        .outerjoin(held, held.c.org_id == EvalCampaign.org_id)
    )
    return (await conn.execute(stmt)).all()


class BreakdownText:
    """A member's breakdown as stored (what the review screen shows of the index): the
    JSON text of ``{"parts": {part: value or null}, "indices": {sub-index: value},
    "basic", "bonus", "deduction", "hard_rules": [key], "zeroed": [key], "places"}``,
    byte for byte what ``json.dumps`` gives that dict, from a template per shape.

    A city is 26,000 of these: building the dicts and encoding them took longer than
    scoring the members. Every member of a rubric variant has the same keys, so the
    text is the template with the numbers put in."""

    def __init__(self) -> None:
        self._templates: dict[tuple, str] = {}

    def __call__(self, r: MemberResult, places: int) -> str:
        shape = (r.part_keys, r.subindex_keys)
        template = self._templates.get(shape)
        if template is None:
            template = self._templates[shape] = self._template(*shape)
        values = r.part_value_c  # integers, or None for a part not given
        if None in values:
            values = ["null" if v is None else v for v in values]
        return template % (
            *values,
            *r.subindex_c,
            r.basic_c,
            r.bonus_c,
            r.deduction_c,
            json.dumps([h.key for h in r.hard_rules]) if r.hard_rules else "[]",
            json.dumps([z.key for z in r.zeroed]) if r.zeroed else "[]",
            places,
        )

    @staticmethod
    def _template(parts: tuple, indices: tuple[str, ...]) -> str:
        def key(k) -> str:
            return json.dumps(str(k)).replace("%", "%%")

        return (
            '{"parts": {'
            + ", ".join(f"{key(k)}: %s" for k in parts)
            + '}, "indices": {'
            + ", ".join(f"{key(k)}: %s" for k in indices)
            + '}, "basic": %s, "bonus": %s, "deduction": %s, "hard_rules": %s, '
            '"zeroed": %s, "places": %s}'
        )


async def compute(session: AsyncSession, campaign: EvalCampaign, rubric: VanguardRubric) -> None:
    await compute_many(session, [campaign], rubric)


# Campaigns per step of a city-wide run (about 4,000 members): small enough that the
# database's work on one step and the scoring of another overlap, large enough that
# the statements stay few.
CHUNK = 200


async def compute_many(
    session: AsyncSession, campaigns: Sequence[EvalCampaign], rubric: VanguardRubric
) -> int:
    """(Re)compute the results of many campaigns at once: set-based reads, one pass of
    scoring over plain rows, bulk writes. The branch's inputs (review assessment,
    deductions, overrides, mentor, disposal steps) are kept. Rows of members no longer
    candidates cannot exist: the electorate is fixed when the vote opens and a counted
    vote is never reopened."""
    periods: dict[str, list[EvalCampaign]] = defaultdict(list)
    for c in campaigns:
        periods[c.period].append(c)
    if len(periods) > 1:  # each period has its own meeting window
        return sum([await compute_many(session, group, rubric) for group in periods.values()])
    if not campaigns:
        return 0
    conn = await session.connection()
    period = campaigns[0].period
    bands = len(rubric.vote_options)
    if len(campaigns) <= CHUNK:  # a branch's review: no threads, no pipeline
        rows = _grade(rubric, period, await _load_inputs(conn, campaigns, bands))
        if rows:
            await _write(conn, rows)
        n = len(rows)
    else:
        n = await _pipeline(conn, campaigns, rubric)
    # The rows were rewritten underneath the ORM: forget the old objects.
    for obj in [o for o in session.identity_map.values() if isinstance(o, EvalResult)]:
        session.expunge(obj)
    return n


async def _pipeline(
    conn: AsyncConnection, campaigns: Sequence[EvalCampaign], rubric: VanguardRubric
) -> int:
    """Many campaigns in steps, the database and the scoring working at once: the
    statements run one at a time on the connection, in the order asked (all reads,
    then each step's write once scored), while a worker thread scores the steps
    already read. The event loop stays free meanwhile (other updates are answered)."""
    period = campaigns[0].period
    bands = len(rubric.vote_options)
    turn = asyncio.Lock()  # first come, first served

    async def read(chunk: Sequence[EvalCampaign]) -> Sequence[Row]:
        async with turn:
            return await _load_inputs(conn, chunk, bands)

    async def write(rows: list[tuple]) -> None:
        if rows:
            async with turn:
                await _write(conn, rows)

    steps = [campaigns[i : i + CHUNK] for i in range(0, len(campaigns), CHUNK)]
    reads = [asyncio.create_task(read(chunk)) for chunk in steps]
    writes: list[asyncio.Task] = []
    n = 0
    try:
        for task in reads:
            rows = await asyncio.to_thread(_grade, rubric, period, await task)
            writes.append(asyncio.create_task(write(rows)))
            n += len(rows)
        await asyncio.gather(*writes)
    finally:
        # On an error, let the statements already asked for finish before the
        # transaction is rolled back (a statement cut off mid-way upsets the driver).
        await asyncio.gather(*reads, *writes, return_exceptions=True)
    return n


def _grade(rubric: VanguardRubric, period: str, inputs: Sequence[Row]) -> list[tuple]:
    """The results of the candidates read by `_load_inputs`, as rows for `_write`:
    facts, the Vanguard Index, each branch's grades with overrides and the cap. Pure
    (no database), so that it can run in a worker thread."""
    bands = len(rubric.vote_options)
    options = rubric.vote_options
    keys = [o.key for o in options]
    flags_of = [(d.key, d.evidence.key) for d in rubric.deductions]
    # Members share their mappings where the values are the same (scoring only reads
    # them): a few hundred distinct ones for a city, not 26,000 of each.
    events: dict[tuple, dict[str, int]] = {}
    tasks = ({"org_life_attended": 0}, {"org_life_attended": 1})
    ballots: dict[tuple, dict[str, int]] = {}
    no_votes: dict[str, int] = {}
    facts = []
    overrides: dict[int, list[Override]] = defaultdict(list)
    for row in inputs:
        cid, mid, category, self_score, band, deductions, grade, reason, counted = row[:9]
        counts, met = row[9 : 9 + bands], row[9 + bands :]
        if reason:
            overrides[cid].append(Override(mid, Grade.from_key(grade), reason))
        seen = events.get(met)
        if seen is None:  # attended per _KINDS, then held per _ATTENDED (_load_inputs)
            attended, held = met[: len(_KINDS)], met[len(_KINDS) :]
            seen = events[met] = {}
            for i, name in enumerate(_ATTENDED.values()):
                seen[f"{name}_attended"] = attended[i]
                seen[f"{name}_held"] = held[i]
        votes = no_votes
        if counted:
            votes = ballots.get(counts)
            if votes is None:
                votes = ballots[counts] = {k: n for k, n in zip(keys, counts, strict=True) if n}
        facts.append(
            MemberFacts(
                member_id=mid,
                branch_id=cid,  # grouped by campaign: one branch per campaign
                category=category,
                period=period,
                events=seen,
                tasks=tasks[1 if met[_ORG_LIFE] else 0],
                flags={f: 1 for k, f in flags_of if k in deductions} if deductions else {},
                self_score=self_score,
                review_score=None if band is None else options[band].value,
                ballots=votes,
            )
        )
    per_branch: dict[int, list] = defaultdict(list)
    for r in score_members(rubric, facts):
        per_branch[r.branch_id].append(r)
    text_of = BreakdownText()
    rows = []
    for cid, results in per_branch.items():
        try:
            grading = grade_branch_members(rubric, results, overrides.get(cid, ()))
        except OverrideError as err:
            raise ServiceError(f"eval.override_{err.code}") from None
        capped = grade_branch_members(rubric, results) if cid in overrides else grading
        decided, proposed, places = grading.grades, capped.grades, grading.places
        for r in results:
            mid = r.member_id
            rows.append(
                (
                    cid,
                    mid,
                    r.total_c,
                    _GRADE_KEY[r.grade],
                    _GRADE_KEY[proposed[mid]],
                    _GRADE_KEY[decided[mid]],
                    text_of(r, places),
                )
            )
    return rows


async def _write(conn: AsyncConnection, rows: list[tuple]) -> None:
    """Write the results in one statement: a new row starts with no branch inputs; an
    existing one keeps them (review band, deductions, override reason, mentor, disposal
    steps) and gets the computed columns.

    A parameter set per row costs SQLAlchemy more than the scoring itself, so the rows
    go past it: to SQLite (in this process) through the driver's executemany, a loop in
    C; to PostgreSQL as one JSON parameter that the server unpacks (one round trip)."""
    if conn.dialect.name == "postgresql":
        # Grade keys are plain words and the breakdown is JSON already.
        payload = ",".join(map(_PG_ROW.__mod__, rows))
        await conn.execute(_WRITE_PG, {"rows": f"[{payload}]"})
        return
    driver = (await conn.get_raw_connection()).driver_connection
    await driver.executemany(
        _WRITE_SQLITE, [(c, m, t / 100, g, p, d, b) for c, m, t, g, p, d, b in rows]
    )


_PG_ROW = '{"c": %d, "m": %d, "t": %d, "g": "%s", "p": "%s", "d": "%s", "b": %s}'
_UPSERT = """
ON CONFLICT (campaign_id, member_id) DO UPDATE SET total = excluded.total,
    computed_grade = excluded.computed_grade, proposed_grade = excluded.proposed_grade,
    grade = excluded.grade, breakdown = excluded.breakdown
"""
_COLUMNS = """INSERT INTO eval_result (campaign_id, member_id, total, computed_grade,
    proposed_grade, grade, breakdown, deductions, disposal_steps)"""
_WRITE_SQLITE = _COLUMNS + " VALUES (?, ?, ?, ?, ?, ?, ?, '{}', '{}')" + _UPSERT
# json_to_recordset parses each row once (->> would parse it again per column).
_WRITE_PG = text(
    _COLUMNS
    + """
SELECT r.c, r.m, r.t / 100.0, r.g, r.p, r.d, r.b, '{}', '{}'
FROM json_to_recordset(CAST(:rows AS json))
    AS r(c int, m int, t int, g text, p text, d text, b json)"""
    + _UPSERT
)


# ---------------------------------------------------------------- the branch review


@dataclass(frozen=True)
class ReviewLine:
    member_id: int
    name: str
    result: EvalResult


def _members_with_results(campaign_id: int) -> Select:
    """A campaign's results with their members: the one loader behind the review list,
    the member card and the published grades (not a query per member)."""
    return (
        select(Member, EvalResult)
        .join(EvalResult, EvalResult.member_id == Member.id)
        .where(EvalResult.campaign_id == campaign_id)
    )


async def review_page(
    session: AsyncSession, principal: Principal, campaign_id: int, page: int = 0
) -> tuple[EvalCampaign, Page]:
    campaign, _org = await led_campaign(session, principal, campaign_id)
    stmt = _members_with_results(campaign.id).order_by(
        EvalResult.total.desc(), Member.name, Member.id
    )
    found = await paginate(session, stmt, page, rows=True)
    lines = [ReviewLine(m.id, m.name, r) for m, r in found.items]
    return campaign, Page(lines, found.page, found.total, found.size)


async def member_result(
    session: AsyncSession, principal: Principal, campaign_id: int, member_id: int
) -> tuple[EvalCampaign, Member, EvalResult, EvalSelf | None]:
    campaign, _org = await led_campaign(session, principal, campaign_id)
    found = (
        await session.execute(
            _members_with_results(campaign.id)
            .where(Member.id == member_id)
            .add_columns(EvalSelf)
            .outerjoin(
                EvalSelf,
                and_(EvalSelf.campaign_id == campaign.id, EvalSelf.member_id == member_id),
            )
        )
    ).first()
    if found is None:
        raise ServiceError("member.not_found")
    member, row, own = found
    return campaign, member, row, own


async def _reviewable(session, principal, campaign_id, member_id):
    campaign, _org = await led_campaign(session, principal, campaign_id)
    require_stage(campaign, EvalStage.review.value)
    row = await session.get(EvalResult, (campaign.id, member_id))
    if row is None:
        raise ServiceError("member.not_found")
    return campaign, row


async def set_review_band(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    campaign_id: int,
    member_id: int,
    band: int,
    rubric: VanguardRubric,
) -> EvalResult:
    """The branch's own assessment of a member (one of the vote options)."""
    if not 0 <= band < len(rubric.vote_options):
        raise ServiceError("ballot.mark_invalid")
    campaign, row = await _reviewable(session, principal, campaign_id, member_id)
    before = row.review_band
    row.review_band = band
    await session.flush()
    await audit_result(
        session, principal, now, campaign.id, member_id, "review", {"review_band": [before, band]}
    )
    await compute(session, campaign, rubric)
    return await session.get(EvalResult, (campaign.id, member_id))


async def toggle_deduction(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    campaign_id: int,
    member_id: int,
    key: str,
    note: str,
    rubric: VanguardRubric,
) -> EvalResult:
    """Apply (with a note of the evidence) or withdraw a deduction from the rubric's list."""
    if key not in {d.key for d in rubric.deductions}:
        raise ServiceError("eval.deduction_unknown")
    campaign, row = await _reviewable(session, principal, campaign_id, member_id)
    deductions = dict(row.deductions)
    if key in deductions:
        removed = deductions.pop(key)
        change = {"deduction": key, "withdrawn": removed}
    else:
        note = " ".join((note or "").split())
        if not note:
            raise ServiceError("eval.note_required")
        if len(note) > MAX_TEXT:
            raise ServiceError("meeting.too_long", max=MAX_TEXT)
        deductions[key] = note
        change = {"deduction": key, "note": note}
    row.deductions = deductions
    await session.flush()
    await audit_result(session, principal, now, campaign.id, member_id, "deduction", change)
    await compute(session, campaign, rubric)
    return await session.get(EvalResult, (campaign.id, member_id))


async def override_grade(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    campaign_id: int,
    member_id: int,
    grade: str,
    reason: str,
    rubric: VanguardRubric,
) -> EvalResult:
    """Change a member's grade, with a written reason; checked against hard rules and
    the excellent cap."""
    try:
        wanted = Grade.from_key(grade)
    except KeyError:
        raise ServiceError("eval.grade_unknown") from None
    reason = " ".join((reason or "").split())
    if not reason:
        raise ServiceError("eval.reason_required")
    if len(reason) > MAX_TEXT:
        raise ServiceError("meeting.too_long", max=MAX_TEXT)
    campaign, row = await _reviewable(session, principal, campaign_id, member_id)
    before = row.grade
    row.grade, row.override_reason = wanted.key, reason
    await session.flush()
    await compute(session, campaign, rubric)
    await audit_result(
        session,
        principal,
        now,
        campaign.id,
        member_id,
        "override",
        {"grade": [before, wanted.key], "reason": reason},
    )
    return await session.get(EvalResult, (campaign.id, member_id))


# ---------------------------------------------------------------- notice and objections


async def grades_of(session: AsyncSession, campaign_id: int) -> list[tuple[Member, EvalResult]]:
    rows = await session.execute(
        _members_with_results(campaign_id).order_by(Member.name, Member.id)
    )
    return [(m, r) for m, r in rows.all()]


async def raise_objection(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    today: date,
    campaign_id: int,
    text: str,
    anonymous: bool,
) -> EvalObjection:
    campaign, org = await require_campaign(session, campaign_id)
    member = principal.member
    if member is None or member.org_id != org.id:
        raise ServiceError("access.denied")
    require_stage(campaign, EvalStage.notice.value)
    if today > campaign.notice_due:
        raise ServiceError("eval.stage_over")
    text = (text or "").strip()
    if not text:
        raise ServiceError("eval.note_required")
    if len(text) > MAX_TEXT:
        raise ServiceError("meeting.too_long", max=MAX_TEXT)
    # An anonymous objection keeps only the day it was raised, not the minute.
    at = now.replace(hour=0, minute=0, second=0, microsecond=0) if anonymous else now
    row = EvalObjection(
        campaign_id=campaign.id,
        author_id=None if anonymous else member.id,
        text=text,
        created_at=at,
    )
    session.add(row)
    await session.flush()
    return row


async def objection_readers(session: AsyncSession, org: Organisation) -> list[int]:
    """Who hears of a new objection: the branch's linked leaders and the superior's staff."""
    leaders = [m.telegram_id for m in await members.leaders(session, org.id) if m.telegram_id]
    staff = await session.execute(
        select(Staff.telegram_id).where(Staff.org_id.in_(ancestor_ids(org))).distinct()
    )
    return sorted({*leaders, *staff.scalars()})


async def open_objections(session: AsyncSession, campaign_id: int) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(EvalObjection)
            .where(EvalObjection.campaign_id == campaign_id, EvalObjection.answer.is_(None))
        )
        or 0
    )


async def objections(
    session: AsyncSession, principal: Principal, campaign_id: int
) -> list[tuple[EvalObjection, str | None]]:
    await led_campaign(session, principal, campaign_id)
    rows = await session.execute(
        select(EvalObjection, Member.name)
        .outerjoin(Member, Member.id == EvalObjection.author_id)
        .where(EvalObjection.campaign_id == campaign_id)
        .order_by(EvalObjection.id)
    )
    return [(o, name) for o, name in rows.all()]


async def answer_objection(
    session: AsyncSession, principal: Principal, now: datetime, objection_id: int, answer: str
) -> tuple[EvalObjection, Member | None]:
    row = await session.get(EvalObjection, objection_id)
    if row is None:
        raise ServiceError("eval.objection_not_found")
    await led_campaign(session, principal, row.campaign_id)
    if row.answer is not None:
        raise ServiceError("request.already_decided")
    answer = (answer or "").strip()
    if not answer:
        raise ServiceError("eval.note_required")
    if len(answer) > MAX_TEXT:
        raise ServiceError("meeting.too_long", max=MAX_TEXT)
    row.answer, row.answered_by, row.answered_at = answer, principal.actor.label, now
    await session.flush()
    await audit.record(
        session, principal.actor, now, "eval_objection", row.id, "answer", {"answer": answer}
    )
    author = await session.get(Member, row.author_id) if row.author_id else None
    return row, author


# ---------------------------------------------------------------- approval


async def approve_subtree(
    session: AsyncSession, principal: Principal, now: datetime, root: Organisation, period: str
) -> int:
    """Approve every campaign of the period under `root` waiting for approval: one UPDATE."""
    if not principal.can_manage(root):
        raise ServiceError("access.denied")
    under = select(Organisation.id).where(Organisation.path.startswith(root.path, autoescape=True))
    result = await session.execute(
        update(EvalCampaign)
        .where(
            EvalCampaign.period == period,
            EvalCampaign.stage == EvalStage.approval.value,
            EvalCampaign.org_id.in_(under),
        )
        .values(stage=EvalStage.final.value, version=EvalCampaign.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    n = result.rowcount or 0
    await audit.record(
        session,
        principal.actor,
        now,
        "eval_campaign",
        root.id,
        "approve_subtree",
        {"period": period, "approved": n},
    )
    return n


# ---------------------------------------------------------------- a member's grade and after


async def my_grade(
    session: AsyncSession, principal: Principal
) -> tuple[EvalCampaign, EvalResult] | None:
    """The member's grade in their latest approved evaluation."""
    if principal.member is None:
        return None
    row = (
        await session.execute(
            select(EvalCampaign, EvalResult)
            .join(EvalResult, EvalResult.campaign_id == EvalCampaign.id)
            .where(
                EvalResult.member_id == principal.member.id,
                EvalCampaign.stage == EvalStage.final.value,
            )
            .order_by(EvalCampaign.period.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None
