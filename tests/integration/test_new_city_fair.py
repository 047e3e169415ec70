"""A new city starts fair (issue 8, item 0): months before a branch was under the scheme
and the month still in progress are never counted as missed, and every deduction the
checklist applies says what it is for. Set up as an administrator would: roster import
and today's date, no demo seed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select, update

from bot.db.models import Organisation, PeriodSnapshot
from bot.services import checklist, meetings, orgs, periods, roster
from bot.services.audit import Actor
from bot.services.meetings import MeetingDraft
from bot.services.members import Principal
from scoring import load_fortress_rubric
from tests.integration.test_roster import ROSTER, VILLAGE, csv_file

RUBRIC = load_fortress_rubric()
TODAY = datetime(2026, 11, 20, 2, tzinfo=UTC)  # imported today, mid-November
STAFF = Principal(telegram_id=1, is_superuser=True)


async def _fresh_city(session, tmp_path) -> Organisation:
    await roster.import_roster(
        session, roster.read_roster(csv_file(tmp_path, ROSTER)), actor=Actor(1, "admin"), now=TODAY
    )
    await session.commit()
    return await orgs.find_by_path(session, VILLAGE)


async def test_a_freshly_imported_branch_owes_nothing_and_a_meeting_raises_its_score(
    session, tmp_path
):
    branch = await _fresh_city(session, tmp_path)
    before = await checklist.month_checklist(session, RUBRIC, branch, "2026-11")
    assert before.deductions == [] and before.result.deductions.counted == 0
    draft = MeetingDraft(branch.id, "theme_day", date(2026, 11, 18), "学习贯彻会议精神")
    await meetings.save_meeting(session, RUBRIC, STAFF, TODAY, draft)
    await session.commit()
    after = await checklist.month_checklist(session, RUBRIC, branch, "2026-11")
    assert after.score > before.score
    assert after.score > Decimal(0)


async def test_only_months_under_the_scheme_and_over_are_missed(session, tmp_path):
    branch_id = (await _fresh_city(session, tmp_path)).id
    # The branch has been in branchbot since September; it never held a theme party day.
    await session.execute(
        update(Organisation)
        .where(Organisation.id == branch_id)
        .values(created_at=datetime(2026, 9, 3, tzinfo=UTC))
    )
    await session.commit()
    session.expire_all()
    branch = await session.get(Organisation, branch_id)
    cl = await checklist.month_checklist(session, RUBRIC, branch, "2026-11")
    [line] = [d for d in cl.deductions if d.key == "months_without_theme_day"]
    assert line.months == ("2026-09", "2026-10") and line.points == Decimal("-4")
    assert line.name_en == "Month without a theme party day"

    # Once November is over and closed, it counts too (and only it is added).
    await periods.close_period(session, RUBRIC, datetime(2026, 12, 1, 2, tzinfo=UTC), "2026-11")
    await session.commit()
    snap = (
        await session.execute(select(PeriodSnapshot).where(PeriodSnapshot.org_id == branch.id))
    ).scalar_one()
    assert Decimal(snap.breakdown["items"]["months_without_theme_day"][0]) == Decimal("-6")
    closed = await checklist.month_checklist(session, RUBRIC, branch, "2026-11")
    [line] = [d for d in closed.deductions if d.key == "months_without_theme_day"]
    assert line.months == ("2026-09", "2026-10", "2026-11")


async def test_history_brought_in_from_before_counts_from_its_first_month(session, tmp_path):
    branch = await _fresh_city(session, tmp_path)
    # A committee meeting from August, entered now: the branch was working then.
    draft = MeetingDraft(branch.id, "committee", date(2026, 8, 12), "补录：八月支委会")
    await meetings.save_meeting(session, RUBRIC, STAFF, TODAY, draft)
    await session.commit()
    cl = await checklist.month_checklist(session, RUBRIC, branch, "2026-11")
    [line] = [d for d in cl.deductions if d.key == "months_without_theme_day"]
    assert line.months == ("2026-08", "2026-09", "2026-10")


async def test_a_branch_set_up_after_midnight_in_its_city_owes_nothing_for_the_month_before(
    session, tmp_path
):
    """Set up at 03:30 on 1 December in Beijing, which is still 30 November in UTC: in
    the branch's city November was over before it existed, so it never missed one."""
    branch_id = (await _fresh_city(session, tmp_path)).id
    set_up = datetime(2026, 11, 30, 19, 30, tzinfo=UTC)
    await session.execute(
        update(Organisation).where(Organisation.id == branch_id).values(created_at=set_up)
    )
    await session.commit()
    session.expire_all()
    branch = await session.get(Organisation, branch_id)
    december = await checklist.month_checklist(session, RUBRIC, branch, "2026-12")
    assert december.deductions == []

    await periods.close_period(session, RUBRIC, datetime(2026, 12, 1, 2, tzinfo=UTC), "2026-11")
    await session.commit()
    snap = (
        await session.execute(select(PeriodSnapshot).where(PeriodSnapshot.org_id == branch_id))
    ).scalar_one()
    assert Decimal(snap.breakdown["items"]["months_without_theme_day"][0]) == 0
    assert Decimal(snap.breakdown["pools"]["deductions"][2]) == 0

    # A branch that keeps London time was set up on 30 November: November is its own.
    await session.execute(
        update(Organisation).where(Organisation.id == branch_id).values(timezone="Europe/London")
    )
    await session.commit()
    session.expire_all()
    branch = await session.get(Organisation, branch_id)
    december = await checklist.month_checklist(session, RUBRIC, branch, "2026-12")
    [line] = [d for d in december.deductions if d.key == "months_without_theme_day"]
    assert line.months == ("2026-11",)
