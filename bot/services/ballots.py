"""The secret democratic vote: a split ledger (see docs/ballot-secrecy.md).

- `eval_voter(campaign, member)` records THAT someone voted; its key stops a second
  ballot. It has no timestamp and (SQLite) no rowid.
- `eval_tally(campaign, candidate, band, n)` holds WHAT was voted, as counts only. The
  rows are created when the vote opens, and every ballot rewrites every row of its
  campaign in one statement (n + 1 for the marks, n + 0 for the rest), in the same
  transaction as the voter row. So the row order, a row's transaction id (PostgreSQL
  xmin), its place (ctid) and the pages it sits on say only "the last voter wrote
  everything".
- Old row versions that still carry intermediate counts (PostgreSQL dead tuples, the
  SQLite WAL) are removed when the vote closes: `seal`.
- The marks before submitting live only in the voter's conversation state (FSM).
- Counts are shown only after the vote closed and only with at least `min_voters`
  ballots; nothing is ever logged with a member and a mark together (the engine hides
  statement parameters).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    String,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db.models import (
    EvalCampaign,
    EvalSeat,
    EvalStage,
    EvalTally,
    EvalVoter,
    Member,
    Organisation,
)
from bot.db.rows import Prepared, fetch_first
from bot.services.errors import ServiceError
from bot.services.evaluation import (
    ELIGIBLE,
    check_stage,
    eligible_members,
    require_campaign,
    stage_index,
)
from bot.services.members import Principal
from bot.services.paging import PAGE_SIZE, Page, clamp
from scoring import VanguardRubric

log = logging.getLogger(__name__)


async def prepare_tally(
    session: AsyncSession, campaign: EvalCampaign, rubric: VanguardRubric
) -> int:
    """Create every count row, at zero, before the first ballot; the electorate is
    fixed here (the eligible members of the branch now), and each one's seat on the
    ballot (their place in name order)."""
    members = await eligible_members(session, campaign.org_id)
    if len(members) < 2:
        raise ServiceError("eval.too_few_members")
    bands = range(len(rubric.vote_options))
    rows = [
        {"campaign_id": campaign.id, "candidate_id": m.id, "band": b, "n": 0}
        for m in members
        for b in bands
    ]
    seats = [
        {"campaign_id": campaign.id, "seat": seat, "member_id": m.id}
        for seat, m in enumerate(members)
    ]
    await session.execute(insert(EvalSeat), seats)
    await session.execute(insert(EvalTally), rows)
    return len(members)


async def drop_tally(session: AsyncSession, campaign_id: int) -> None:
    await session.execute(delete(EvalTally).where(EvalTally.campaign_id == campaign_id))
    await session.execute(delete(EvalSeat).where(EvalSeat.campaign_id == campaign_id))


async def candidates(session: AsyncSession, campaign_id: int) -> list[int]:
    """The electorate (every voter is also a candidate), fixed when the vote opened."""
    rows = await session.execute(
        select(EvalTally.candidate_id)
        .where(EvalTally.campaign_id == campaign_id, EvalTally.band == 0)
        .order_by(EvalTally.candidate_id)
    )
    return list(rows.scalars())


async def has_voted(session: AsyncSession, campaign_id: int, member_id: int) -> bool:
    found = await session.get(EvalVoter, (campaign_id, member_id))
    return found is not None


@dataclass(frozen=True)
class Sheet:
    candidates: Page[tuple[int, str]]  # (member id, name), the voter left out, one page


# Built once: every mark pressed on a ballot runs it (a city's evening vote is tens of
# thousands of presses). One statement, one row: what the checks read of the campaign
# (its branch, stage and deadline), beside "has the voter voted", the voter's seat
# (none: not in the electorate), "is the member marked in it", the electorate's size
# (the last seat, from the key) and, as one JSON array, the seats of the page asked for
# (eval_seat) with their names, rather than every name of a large branch ordered again
# on every press.
_CID = bindparam("campaign")


def _sheet(aggregate: Any, entry: Any) -> Any:
    page = (
        select(aggregate(entry(EvalSeat.seat, Member.id, Member.name), type_=JSON))
        .select_from(EvalSeat)
        .join(Member, Member.id == EvalSeat.member_id)
        .where(
            EvalSeat.campaign_id == _CID,
            EvalSeat.seat >= bindparam("low"),
            EvalSeat.seat < bindparam("high"),
        )
        .scalar_subquery()
    )
    return select(
        EvalCampaign.org_id,
        EvalCampaign.stage,
        EvalCampaign.vote_due,
        exists().where(EvalVoter.campaign_id == _CID, EvalVoter.member_id == bindparam("voter")),
        select(EvalSeat.seat)
        .where(EvalSeat.campaign_id == _CID, EvalSeat.member_id == bindparam("voter"))
        .scalar_subquery(),
        exists().where(EvalSeat.campaign_id == _CID, EvalSeat.member_id == bindparam("marked")),
        select(func.max(EvalSeat.seat)).where(EvalSeat.campaign_id == _CID).scalar_subquery(),
        page,
    ).where(EvalCampaign.id == _CID)


_SHEET = Prepared(
    {
        "postgresql": _sheet(func.json_agg, func.json_build_array),
        "sqlite": _sheet(func.json_group_array, func.json_array),
    }
)


def _seats(page: int, size: int, own: int) -> tuple[int, int]:
    """The seats a page of the ballot shows: the voter's own seat is left out, so the
    page's places after it sit one seat further on."""
    first, end = page * size, (page + 1) * size
    return (first + (first >= own), end + (end > own))


def _check_voter(member: Member | None, org_id: int, stage: str, vote_due: date, today: date):
    """A member of the campaign's branch (`org_id`), who may vote, while the vote runs."""
    if member is None or member.org_id != org_id or member.status not in ELIGIBLE:
        raise ServiceError("ballot.not_voter")
    check_stage(stage, EvalStage.vote.value)
    if today > vote_due:
        raise ServiceError("eval.stage_over")


async def ballot_sheet(
    session: AsyncSession,
    principal: Principal,
    campaign_id: int,
    today: date,
    page: int = 0,
    size: int = PAGE_SIZE,
    *,
    marked: int | None = None,
) -> Sheet:
    """The checks every ballot press and the submit go through, and one page of the
    ballot, in one statement (two for a page past the end): the campaign exists and is
    voting, before its deadline; the person is a member of that branch, was in the
    electorate when the vote opened and has not voted yet; `marked`, if given, is in the
    electorate and not the voter. A page past the end (a button older than the list)
    shows the last one."""
    member = principal.member
    voter = member.id if member is not None else -1
    params = {"campaign": campaign_id, "voter": voter, "marked": -1 if marked is None else marked}

    async def read(page: int) -> tuple | None:
        # Every seat the page can show, whichever side of it the voter's own seat is.
        low = page * size
        return await fetch_first(session, _SHEET, {**params, "low": low, "high": low + size + 1})

    row = await read(page)
    if row is None:
        raise ServiceError("eval.not_found")
    org_id, stage, vote_due, voted, own_seat, marked_in, last_seat, seats = row
    _check_voter(member, org_id, stage, vote_due, today)
    if own_seat is None:
        raise ServiceError("ballot.not_voter")
    if voted:
        raise ServiceError("ballot.already_voted")
    if marked is not None:
        if marked == voter:
            raise ServiceError("ballot.self")
        if not marked_in:
            raise ServiceError("ballot.mark_invalid")
    total = last_seat  # seats 0..last, the voter's own left out
    shown_page = clamp(page, total, size)
    if shown_page != page:  # a page past the end (an old button): the last one, read again
        page = shown_page
        row = await read(page)
        seats = row[-1] if row is not None else None
    first, end = _seats(page, size, own_seat)
    items = [
        (mid, name)
        for seat, mid, name in sorted(seats or ())
        if first <= seat < end and mid != voter
    ]
    shown = Page(items, page, total, size)
    return Sheet(shown)


async def check_mark(
    session: AsyncSession,
    principal: Principal,
    campaign_id: int,
    candidate_id: int,
    band: int,
    today: date,
    rubric: VanguardRubric,
    page: int = 0,
    size: int = PAGE_SIZE,
) -> Sheet:
    """A single mark pressed on the ballot: re-checked in full, nothing written. Returns
    the sheet's page, for it to be drawn again."""
    bands = len(rubric.vote_options)
    if not 0 <= band < bands:
        raise ServiceError("ballot.mark_invalid")
    return await ballot_sheet(
        session, principal, campaign_id, today, page, size, marked=candidate_id
    )


async def _voter(
    session: AsyncSession, principal: Principal, campaign_id: int, today: date
) -> tuple[EvalCampaign, Organisation, int]:
    """The submit's checks before its own: the campaign exists and is voting, before its
    deadline; the person is a member of that branch and was in the electorate."""
    campaign, org = await require_campaign(session, campaign_id)
    _check_voter(principal.member, org.id, campaign.stage, campaign.vote_due, today)
    return campaign, org, principal.member.id


def _insert_voter(dialect: str):
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    return make(EvalVoter).on_conflict_do_nothing(index_elements=["campaign_id", "member_id"])


# One statement rewrites all the campaign's rows; the marks travel as one parameter
# (",candidate:band," items) so neither the statement nor the row order carries them.
_KEY = "," + cast(EvalTally.candidate_id, String) + ":" + cast(EvalTally.band, String) + ","
_MARKS = bindparam("marks", type_=String)


async def submit_ballot(
    session: AsyncSession,
    principal: Principal,
    today: date,
    campaign_id: int,
    marks: Mapping[int, int],
    rubric: VanguardRubric,
) -> int:
    """Cast the ballot: record that the voter voted and add the marks to the counts,
    atomically. Candidates left unmarked are abstentions: counted in no band. Returns
    the number of marks counted."""
    campaign, _org, voter = await _voter(session, principal, campaign_id, today)
    people = set(await candidates(session, campaign.id))
    if voter not in people:
        raise ServiceError("ballot.not_voter")
    bands = len(rubric.vote_options)
    for candidate, band in marks.items():
        if candidate == voter:
            raise ServiceError("ballot.self")
        if candidate not in people or not 0 <= band < bands:
            raise ServiceError("ballot.mark_invalid")
    dialect = session.bind.dialect.name
    inserted = await session.execute(
        _insert_voter(dialect).values(campaign_id=campaign.id, member_id=voter)
    )
    if inserted.rowcount != 1:
        raise ServiceError("ballot.already_voted")
    encoded = "," + ",".join(f"{c}:{b}" for c, b in sorted(marks.items())) + ","
    await session.execute(
        EvalTally.__table__.update()
        .where(EvalTally.campaign_id == campaign.id)
        .values(n=EvalTally.n + case((_MARKS.like("%" + _KEY + "%"), 1), else_=0)),
        {"marks": encoded},
    )
    return len(marks)


@dataclass(frozen=True)
class Turnout:
    voted: int
    electorate: int


async def turnout(session: AsyncSession, campaign_id: int) -> Turnout:
    voted = await session.scalar(
        select(func.count()).select_from(EvalVoter).where(EvalVoter.campaign_id == campaign_id)
    )
    electorate = await session.scalar(
        select(func.count())
        .select_from(EvalTally)
        .where(EvalTally.campaign_id == campaign_id, EvalTally.band == 0)
    )
    return Turnout(voted or 0, electorate or 0)


@dataclass(frozen=True)
class Results:
    voters: int
    electorate: int
    counts: dict[int, tuple[int, ...]]  # candidate → ballots per band


async def counted(session: AsyncSession, campaign: EvalCampaign) -> Results | None:
    """The counts, or None while the vote is open or with fewer than k ballots."""
    if stage_index(campaign.stage) <= stage_index(EvalStage.vote.value):
        return None
    seen = await turnout(session, campaign.id)
    if seen.voted < campaign.min_voters:
        return None
    rows = await session.execute(
        select(EvalTally.candidate_id, EvalTally.band, EvalTally.n)
        .where(EvalTally.campaign_id == campaign.id)
        .order_by(EvalTally.candidate_id, EvalTally.band)
    )
    counts: dict[int, list[int]] = {}
    for candidate, band, n in rows:
        row = counts.setdefault(candidate, [])
        row.extend([0] * (band + 1 - len(row)))
        row[band] = n
    return Results(seen.voted, seen.electorate, {c: tuple(v) for c, v in counts.items()})


async def results(session: AsyncSession, principal: Principal, campaign_id: int) -> Results:
    campaign, org = await require_campaign(session, campaign_id)
    if not principal.can_lead(org):
        raise ServiceError("access.denied")
    found = await counted(session, campaign)
    if found is None:
        if stage_index(campaign.stage) <= stage_index(EvalStage.vote.value):
            raise ServiceError("ballot.still_open")
        raise ServiceError("ballot.too_few_voters", k=campaign.min_voters)
    return found


# ---------------------------------------------------------------- sealing a closed vote


def seal_after_commit(session: AsyncSession) -> None:
    """Ask the transaction owner to `seal` once this update's writes are committed."""
    hooks = session.info.setdefault("after_commit", [])
    if seal not in hooks:
        hooks.append(seal)


async def seal(engine: AsyncEngine) -> bool:
    """Remove old copies of the counts: every version but the current one.

    SQLite: old page images live only in the WAL (freed space is zeroed by
    secure_delete); VACUUM rebuilds the pages and a checkpoint that truncates the WAL
    leaves one copy. PostgreSQL: CLUSTER rewrites eval_tally in key order without its
    dead row versions. True when done;
    False when readers kept the WAL busy (the next seal or checkpoint finishes it).
    """
    url = engine.url
    if url.get_backend_name() == "sqlite":
        path = make_url(url).database
        if not path or path == ":memory:":
            return True
        return await asyncio.to_thread(_checkpoint, path)
    # A row version can be removed only when no transaction could still see it: a
    # snapshot held elsewhere (an auto-analyze, a report, pg_dump) keeps it. VACUUM says
    # how many it had to keep; try again briefly, then leave it for the next seal.
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        driver = (await auto.get_raw_connection()).driver_connection
        said: list[str] = []

        def listen(_conn, message) -> None:
            said.append(f"{message.message} {getattr(message, 'detail', '') or ''}")

        driver.add_log_listener(listen)
        try:
            for attempt in range(SEAL_TRIES):
                said.clear()
                # CLUSTER is VACUUM FULL that also writes the rows in key order, so
                # their places (ctid) follow the key, never the history of the updates.
                await auto.execute(text("CLUSTER VERBOSE eval_tally USING eval_tally_pkey"))
                kept = sum(int(n) for n in _KEPT.findall(" ".join(said)))
                if not kept:
                    return True
                await asyncio.sleep(0.05 * 2**attempt)
        finally:
            driver.remove_log_listener(listen)
    log.warning("vote sealed only in part: other transactions held old snapshots")
    return False


SEAL_TRIES = 7  # about six seconds of waiting in all
_KEPT = re.compile(r"(\d+) dead row versions cannot be removed yet")


def _checkpoint(path: str) -> bool:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA secure_delete=ON")
        # VACUUM rebuilds every page in key order: where a count's record sits in its
        # page would otherwise tell when it grew a byte (the second mark in a band).
        conn.execute("VACUUM")
        busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    if busy:
        log.warning("vote sealed only in part: the database had readers; retried at next close")
    return not busy
