"""Evidence that is not a meeting: events counted, tasks done, flags raised, grades given,
and the featured ("X") items a branch takes on.

Who records what:

- items on the branch's checklist read from events, ratios or tasks: the branch's
  secretary or organising member, or the superior's staff;
- grade items: only the superior's staff, with a grade label the rubric gives points
  for;
- what the checklist leaves out (the deduction sheet, and the flags behind vetoes and
  zeroing clauses, e.g. `complaints_upheld`, `mass_incident`): only the superior's
  staff, by the deduction's, veto's or clause's key;
- meeting items are logged through `meetings.save_meeting`, never here.

A ratio item (dues paid of dues due, households visited of households in the grid)
takes both numbers: `count` for the numerator and `of` for the denominator; it writes
two rows, one per event key, and returns the numerator's.

`choose_featured` takes the rubric too (after the session, as every scoring-aware
service does): unknown featured keys would make the engine refuse the branch.

Refusals (`ServiceError` codes and params):

- `access.denied`;
- `evidence.item_unknown(item)` — not an item this branch answers for;
- `evidence.meeting_item(item)` — logged as a meeting instead;
- `evidence.grade_unknown(grade, choices)` — choices comma-separated;
- `evidence.count_invalid(min, max)`; `evidence.count_not_number` (for the chat's count
  step: what was typed is not a number at all);
- `evidence.ratio_needs_total(item)` — `of` missing for a ratio item;
- `evidence.ratio_invalid(count, of)` — more than the total;
- `evidence.month_malformed(value)`; `evidence.future_month(month)`;
- `evidence.period_closed(period)` — the month has been closed;
- `evidence.too_long(field, max)` — field is note or file_id;
- `evidence.file_kind_unknown(value)` — photo or document;
- `evidence.not_counted(item)` — a correction of an item that is not a count;
- `evidence.unchanged(count)` — a correction to the figures already recorded.

A count is corrected (`correct_count`), not rewritten: a row of the difference is added
(negative when the count was too high), so the month's sum is the corrected figure, the
rows as recorded stay (with their notes and proofs) and the audit names the change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import AuditLog, BranchFeatured, Evidence, Organisation
from bot.services import audit, versions
from bot.services.errors import ServiceError
from bot.services.meetings import led_branch, local_today
from bot.services.members import Principal
from bot.services.periods import is_closed, month_of_day
from scoring import FortressRubric, checklist_items
from scoring.model import EvidenceKind, Part
from scoring.periods import parse_month

MAX_NOTE = 4000
MAX_FILE_ID = 255
MAX_COUNT = 100_000
# More events than days in a month is not refused (a large enterprise's branch may hold
# many), but asked to be confirmed: far more often a slip of the keyboard (999 for 9).
UNUSUAL_COUNT = 31
FILE_KINDS = ("photo", "document")
_ROW_KIND = {
    EvidenceKind.EVENTS: "event",
    EvidenceKind.RATIO: "event",
    EvidenceKind.TASK: "task",
    EvidenceKind.FLAG: "flag",
    EvidenceKind.GRADE: "grade",
}
_MEETING_KINDS = (EvidenceKind.MEETINGS, EvidenceKind.ATTENDANCE, EvidenceKind.MONTHS_WITHOUT)


async def featured_of(session: AsyncSession, org_id: int) -> list[str]:
    rows = await session.execute(
        select(BranchFeatured.item_key)
        .where(BranchFeatured.org_id == org_id)
        .order_by(BranchFeatured.item_key)
    )
    return list(rows.scalars())


def _staff_only_evidence(rubric: FortressRubric, domain: str, key: str):
    """The evidence behind a deduction, veto or zeroing clause called `key`, if any."""
    for item in rubric.deductions:
        if item.key == key and (item.domains is None or domain in item.domains):
            return item.evidence
    for clause in (*rubric.vetoes, *rubric.zeroing):
        if clause.key == key and (clause.domains is None or domain in clause.domains):
            return clause.when.evidence
    return None


def _month(value: str | None, branch: Organisation, now: datetime) -> str:
    current = month_of_day(local_today(branch, now))
    if value is None:
        return current
    try:
        parse_month(value)
    except ValueError:
        raise ServiceError("evidence.month_malformed", value=str(value)) from None
    if value > current:
        raise ServiceError("evidence.future_month", month=value)
    return value


def _attachment(note: str | None, file_id: str | None, file_kind: str | None):
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise ServiceError("evidence.too_long", field="note", max=MAX_NOTE)
    if file_id is not None:
        if len(file_id) > MAX_FILE_ID:
            raise ServiceError("evidence.too_long", field="file_id", max=MAX_FILE_ID)
        if file_kind not in FILE_KINDS:
            raise ServiceError("evidence.file_kind_unknown", value=str(file_kind))
    else:
        file_kind = None
    return note, file_id, file_kind


async def record_evidence(
    session: AsyncSession,
    rubric: FortressRubric,
    principal: Principal,
    now: datetime,
    org_id: int,
    item_key: str,
    *,
    count: int = 1,
    of: int | None = None,
    note: str | None = None,
    file_id: str | None = None,
    file_kind: str | None = None,
    grade: str | None = None,
    month: str | None = None,
    version: int | None = None,
) -> Evidence:
    """Record evidence for `item_key` in `month` (default: this month in the branch).

    `version`: what `item_version` said when the person started (the item as they saw
    it); if someone recorded evidence for the item since, this is refused
    (`record.stale`) rather than adding a second grade or the same event twice."""
    branch = await led_branch(session, principal, org_id)
    month = _month(month, branch, now)
    evidence, staff_only = await _item_evidence(session, rubric, branch, month, item_key)
    if evidence.kind in _MEETING_KINDS:
        raise ServiceError("evidence.meeting_item", item=item_key)
    if staff_only and not principal.can_manage(branch):
        raise ServiceError("access.denied")
    if await is_closed(session, org_id, month):
        raise ServiceError("evidence.period_closed", period=month)
    note, file_id, file_kind = _attachment(note, file_id, file_kind)
    if version is not None:
        await _claim(session, principal, org_id, month, evidence.key, version)

    rows = []
    if evidence.kind is EvidenceKind.GRADE:
        labels = [label for label, _ in rubric.item(item_key).rule.grades]
        if grade not in labels:
            raise ServiceError(
                "evidence.grade_unknown", grade=str(grade), choices=", ".join(labels)
            )
        rows.append((evidence.key, 1, grade))
    elif evidence.kind is EvidenceKind.RATIO:
        if of is None:
            raise ServiceError("evidence.ratio_needs_total", item=item_key)
        check_count(count, of)
        rows += [(evidence.key, count, None), (evidence.den, of, None)]
    else:
        check_count(count)
        rows.append((evidence.key, count, None))

    kind = _ROW_KIND[evidence.kind]
    values = [
        {
            "org_id": org_id,
            "month": month,
            "kind": kind,
            "key": key,
            "count": n,
            "grade": label,
            "note": note,
            "file_id": file_id,
            "file_kind": file_kind,
            "created_by": principal.telegram_id,
            "created_at": now,
        }
        for key, n, label in rows
    ]
    ids = (
        (
            await session.execute(
                insert(Evidence).returning(Evidence.id, sort_by_parameter_order=True), values
            )
        )
        .scalars()
        .all()
    )
    await audit.record_many(
        session,
        principal.actor,
        now,
        [
            (
                "evidence",
                row_id,
                "create",
                {"item": [None, item_key]}
                | {k: [None, v] for k, v in row.items() if v is not None and k != "created_at"},
            )
            for row_id, row in zip(ids, values, strict=True)
        ],
    )
    return await session.get(Evidence, ids[0])


async def _claim(
    session: AsyncSession, principal: Principal, org_id: int, month: str, key: str, version: int
) -> None:
    """Refuse (`record.stale`) unless the item's newest row is still `version`. The
    branch's row lock queues a second recording of the same branch behind this one
    (SQLite writes one transaction at a time anyway), so the check and the insert after
    it are one step: two people saving at once cannot both pass it."""
    await session.execute(
        select(Organisation.id).where(Organisation.id == org_id).with_for_update()
    )
    latest = await _latest(session, org_id, month, key)
    if latest != version:
        mine = await session.scalar(select(Evidence.created_by).where(Evidence.id == latest))
        raise versions.stale(mine == principal.telegram_id)


@dataclass(frozen=True, slots=True)
class RecordedRow:
    """One recording of an item, as it was made (a ratio's two rows as one)."""

    id: int
    count: int
    of: int | None
    grade: str | None
    note: str | None
    file_kind: str | None
    created_at: datetime
    correction: bool  # a row `correct_count` added


@dataclass(frozen=True, slots=True)
class Recorded:
    """What was recorded for an item in a month: its rows, the sums the checklist reads,
    and the version a correction started from names (the newest row's id, 0 for none)."""

    kind: EvidenceKind
    rows: tuple[RecordedRow, ...]
    total: int
    of: int | None
    version: int


async def recorded(
    session: AsyncSession, rubric: FortressRubric, branch: Organisation, item_key: str, month: str
) -> Recorded:
    """The item's rows of `month`, oldest first, for someone who may see the branch."""
    evidence, _staff = await _item_evidence(session, rubric, branch, month, item_key)
    keys = [evidence.key, evidence.den] if evidence.kind is EvidenceKind.RATIO else [evidence.key]
    found = await session.execute(
        select(Evidence)
        .where(Evidence.org_id == branch.id, Evidence.month == month, Evidence.key.in_(keys))
        .order_by(Evidence.id)
    )
    rows, dens, version = [], {}, 0
    fixed = await _corrections(session, branch.id, month, keys)
    waiting: list = []  # a ratio's numerators whose denominator row is still to come
    den_total = 0
    for row in found.scalars():
        if row.key == evidence.key:
            version = max(version, row.id)
            rows.append(row)
            waiting.append(row)
            continue
        den_total += row.count
        # Written by the same insert right after its numerator (same person and time).
        pair = next(
            (
                r
                for r in waiting
                if (r.created_at, r.created_by) == (row.created_at, row.created_by)
            ),
            None,
        )
        if pair is not None:
            waiting.remove(pair)
            dens[pair.id] = row.count
    out = [
        RecordedRow(
            id=r.id,
            count=r.count,
            of=dens.get(r.id),
            grade=r.grade,
            note=r.note,
            file_kind=r.file_kind,
            created_at=r.created_at,
            correction=r.id in fixed,
        )
        for r in rows
    ]
    ratio = evidence.kind is EvidenceKind.RATIO
    return Recorded(
        kind=evidence.kind,
        rows=tuple(out),
        total=sum(r.count for r in out),
        of=den_total if ratio else None,
        version=version,
    )


async def _corrections(session: AsyncSession, org_id: int, month: str, keys: list[str]) -> set:
    """The ids of the rows `correct_count` added (its audit entries name them)."""
    found = await session.execute(
        select(AuditLog.entity_id)
        .join(Evidence, Evidence.id == AuditLog.entity_id)
        .where(
            AuditLog.entity == "evidence",
            AuditLog.action == "correct",
            Evidence.org_id == org_id,
            Evidence.month == month,
            Evidence.key.in_(keys),
        )
    )
    return set(found.scalars())


async def correct_count(
    session: AsyncSession,
    rubric: FortressRubric,
    principal: Principal,
    now: datetime,
    org_id: int,
    item_key: str,
    *,
    count: int,
    of: int | None = None,
    month: str | None = None,
    version: int,
) -> tuple[Recorded, Recorded]:
    """Set the month's figures of a count item (events, or a ratio with `of`) to `count`
    (0: none was held after all) by adding the difference; `version` is what the person
    was shown (`recorded(...).version`): anything recorded since refuses it
    (`record.stale`). Returns the item as recorded before and after."""
    branch = await led_branch(session, principal, org_id)
    month = _month(month, branch, now)
    evidence, staff_only = await _item_evidence(session, rubric, branch, month, item_key)
    if evidence.kind not in (EvidenceKind.EVENTS, EvidenceKind.RATIO):
        raise ServiceError("evidence.not_counted", item=item_key)
    if staff_only and not principal.can_manage(branch):
        raise ServiceError("access.denied")
    if await is_closed(session, org_id, month):
        raise ServiceError("evidence.period_closed", period=month)
    if evidence.kind is EvidenceKind.RATIO:
        if of is None:
            raise ServiceError("evidence.ratio_needs_total", item=item_key)
    else:
        of = None
    check_count(count, of, correcting=True)
    await _claim(session, principal, org_id, month, evidence.key, version)
    before = await recorded(session, rubric, branch, item_key, month)
    changes = [(evidence.key, count - before.total)]
    if of is not None:
        changes.append((evidence.den, of - (before.of or 0)))
    if all(delta == 0 for _key, delta in changes):
        raise ServiceError("evidence.unchanged", count=count)
    values = [
        {
            "org_id": org_id,
            "month": month,
            "kind": _ROW_KIND[evidence.kind],
            "key": key,
            "count": delta,
            "created_by": principal.telegram_id,
            "created_at": now,
        }
        for key, delta in changes
    ]
    ids = (
        (
            await session.execute(
                insert(Evidence).returning(Evidence.id, sort_by_parameter_order=True), values
            )
        )
        .scalars()
        .all()
    )
    olds = [before.total, before.of]
    await audit.record_many(
        session,
        principal.actor,
        now,
        [
            ("evidence", row_id, "correct", {"item": [None, item_key], "total": [old, new]})
            for row_id, old, new in zip(ids, olds, [count, of], strict=False)
        ],
    )
    return before, await recorded(session, rubric, branch, item_key, month)


async def _item_evidence(
    session: AsyncSession, rubric: FortressRubric, branch: Organisation, month: str, item_key: str
):
    """The evidence an item reads, and whether only the superior's staff may record it."""
    domain = branch.domain or ""
    featured = await featured_of(session, branch.id)
    spec = next(
        (s for s in checklist_items(rubric, domain, featured, month) if s.key == item_key), None
    )
    if spec is not None:
        evidence = rubric.item(item_key).evidence
        staff_only = spec.evidence is EvidenceKind.GRADE
    else:
        evidence = _staff_only_evidence(rubric, domain, item_key)
        staff_only = True
    if evidence is None:
        raise ServiceError("evidence.item_unknown", item=item_key)
    return evidence, staff_only


async def _latest(session: AsyncSession, org_id: int, month: str, key: str) -> int:
    found = await session.scalar(
        select(func.max(Evidence.id)).where(
            Evidence.org_id == org_id, Evidence.month == month, Evidence.key == key
        )
    )
    return found or 0


async def item_version(
    session: AsyncSession,
    rubric: FortressRubric,
    branch: Organisation,
    item_key: str,
    month: str,
) -> int:
    """The item's evidence as someone is shown it (the newest row's id, 0 for none): a
    recording started now names it, and is refused if the item was recorded since."""
    evidence, _staff = await _item_evidence(session, rubric, branch, month, item_key)
    return await _latest(session, branch.id, month, evidence.key)


def check_count(count: int, of: int | None = None, *, correcting: bool = False) -> None:
    """The numbers of a recording, alone: an event count (`of` None), or a share of `of`.
    Also for a conversation's count step, so that a number out of range is asked again
    there rather than refused at the save, after the note and the photo. A correction
    may set them to 0 (nothing was held after all)."""
    if of is None:
        _check_count(count, 0 if correcting else 1)
        return
    _check_count(of, 0 if correcting else 1)
    _check_count(count, 0)
    if count > of:
        raise ServiceError("evidence.ratio_invalid", count=count, of=of)


def unusual_count(count: int) -> bool:
    """An event count that is allowed but asked to be confirmed first (see UNUSUAL_COUNT)."""
    return count > UNUSUAL_COUNT


def _check_count(value: int, least: int) -> None:
    if not isinstance(value, int) or not least <= value <= MAX_COUNT:
        raise ServiceError("evidence.count_invalid", min=least, max=MAX_COUNT)


async def choose_featured(
    session: AsyncSession,
    rubric: FortressRubric,
    principal: Principal,
    now: datetime,
    org_id: int,
    item_keys: Iterable[str],
) -> list[str]:
    """Set the branch's featured items to exactly `item_keys`; returns them sorted."""
    branch = await led_branch(session, principal, org_id)
    offered = {
        i.key
        for i in rubric.items
        if i.part is Part.FEATURED and (i.domains is None or branch.domain in i.domains)
    }
    wanted = sorted(set(item_keys))
    for key in wanted:
        if key not in offered:
            raise ServiceError("evidence.item_unknown", item=key)
    before = await featured_of(session, org_id)
    if before == wanted:
        return wanted
    await session.execute(
        delete(BranchFeatured).where(
            BranchFeatured.org_id == org_id, BranchFeatured.item_key.not_in(wanted)
        )
    )
    new = [k for k in wanted if k not in before]
    if new:
        await session.execute(
            insert(BranchFeatured), [{"org_id": org_id, "item_key": k} for k in new]
        )
    await audit.record(
        session,
        principal.actor,
        now,
        "organisation",
        org_id,
        "featured",
        {"featured": [before, wanted]},
    )
    return wanted
