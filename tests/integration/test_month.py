"""The secretary's month on the real database: checklists, meetings, quorum, periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from bot.db.models import AuditLog, Meeting, MeetingAttendee, MeetingPhoto, PeriodSnapshot
from bot.services import checklist, meetings
from bot.services.errors import ServiceError
from tests.integration.month_world import (
    MEMBER_TG,
    NOW,
    OTHER_SECRETARY_TG,
    OTHER_STAFF_TG,
    RUBRIC,
    SECRETARY_TG,
    STAFF_TG,
    TODAY,
    build,
)


async def _close(session, org_id, period):
    """Freeze a month by hand (month close itself is tested in test_month_close.py)."""
    await session.execute(
        insert(PeriodSnapshot).values(
            org_id=org_id,
            period=period,
            score=Decimal(0),
            max_score=Decimal(100),
            proposed_star=1,
            meets_standard=False,
            rubric_version=RUBRIC.version,
            breakdown={},
            created_at=NOW,
        )
    )


async def test_checklist_items_due_dates_and_points(session):
    w = await build(session)
    sheet = await checklist.month_checklist(session, RUBRIC, w.branch, "2026-07")
    by_key = {e.spec.key: e for e in sheet.entries}
    monthly = by_key["committee_meeting"]
    assert monthly.spec.period_key == "2026-07" and monthly.spec.due == date(2026, 7, 31)
    assert monthly.possible == Decimal(4) and monthly.earned == 0 and not monthly.done
    assert monthly.recordable_by == "meeting" and monthly.evidence_key == "committee"
    quarterly = by_key["general_meeting"]
    assert quarterly.spec.period_key == "2026-Q3" and quarterly.spec.due == date(2026, 9, 30)
    yearly = by_key["committee_term_on_time"]
    assert yearly.spec.period_key == "2026" and yearly.spec.due == date(2026, 12, 31)
    assert yearly.recordable_by == "leader"
    assert by_key["ledger_kept"].recordable_by == "staff"
    assert by_key["collective_economy"].name_en == "Growing the village collective economy"
    # Village items are there, other domains' are not; deductions are no tasks.
    assert "grid_visits" in by_key and "months_without_theme_day" not in by_key
    assert sheet.total == len(sheet.entries) and sheet.done == 0 and not sheet.closed
    assert sheet.star == 1 and sheet.gap is not None and sheet.gap.levels[0].stars == 2


async def test_saving_a_meeting_ticks_the_checklist(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    # A theme day every month keeps the deduction sheet (and the clamp at 0) out of the way.
    for month in range(1, 8):
        day = w.draft(kind="theme_day", held_on=date(2026, month, 5), attendee_ids=[])
        await meetings.save_meeting(session, RUBRIC, sec, NOW, day)
    before = await checklist.month_checklist(session, RUBRIC, w.branch, "2026-07")
    assert before.score > 0 and before.entry("theme_day").done
    saved = await meetings.save_meeting(session, RUBRIC, sec, NOW, w.draft())
    assert saved.created and saved.quorum.met and saved.meeting.counts
    after = await checklist.month_checklist(session, RUBRIC, w.branch, "2026-07")
    change = checklist.compare(before, after)
    assert [e.spec.key for e in change.newly_done] == ["committee_meeting"]
    assert change.score_delta == Decimal(4) and after.done == before.done + 1


async def test_quorum_leaves_out_members_on_leave_and_mobile(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    roster = await meetings.attendance_roster(session, w.branch.id)
    assert [e.member.name for e in roster if not e.counted] == ["外出", "请假"] or [
        e.member.name for e in roster if not e.counted
    ] == ["请假", "外出"]
    assert len(roster) == 8
    p = w.people
    # 6 counted members: more than half is 4. Leave/mobile attendees do not count.
    three = [p[n].id for n in ("书记", "组织委员", "张三", "请假", "外出")]
    saved = await meetings.save_meeting(
        session, RUBRIC, sec, NOW, w.draft(kind="general", attendee_ids=three, topic="不足")
    )
    q = saved.quorum
    assert (q.attended_counted, q.expected, q.needed, q.met) == (3, 6, 4, False)
    assert q.share == Decimal("0.5")
    assert (saved.meeting.attended, saved.meeting.expected, saved.meeting.counts) == (3, 6, False)
    four = [*three, p["李四"].id]
    saved = await meetings.save_meeting(
        session, RUBRIC, sec, NOW, w.draft(kind="general", attendee_ids=four, topic="足够")
    )
    assert saved.quorum.met and saved.meeting.counts
    # A committee meeting counts the committee (secretary and organising member).
    saved = await meetings.save_meeting(
        session, RUBRIC, sec, NOW, w.draft(attendee_ids=[p["书记"].id, p["张三"].id])
    )
    assert (saved.quorum.attended_counted, saved.quorum.expected, saved.quorum.met) == (1, 2, False)
    assert (
        not (await checklist.month_checklist(session, RUBRIC, w.branch, "2026-07"))
        .entry("committee_meeting")
        .done
    )
    saved = await meetings.save_meeting(
        session, RUBRIC, sec, NOW, w.draft(topic="第二次支委会", attendee_ids=three)
    )
    assert (saved.quorum.attended_counted, saved.quorum.expected, saved.quorum.met) == (2, 2, True)
    # Group meetings have no quorum rule: they always count.
    saved = await meetings.save_meeting(
        session, RUBRIC, sec, NOW, w.draft(kind="group", attendee_ids=[p["张三"].id])
    )
    assert saved.quorum.share is None and saved.meeting.counts
    sheet = await checklist.month_checklist(session, RUBRIC, w.branch, "2026-07")
    assert sheet.entry("committee_meeting").done


def test_quorum_arithmetic():
    assert meetings.quorum(RUBRIC, "general", 2, 4).needed == 3
    assert not meetings.quorum(RUBRIC, "general", 2, 4).met
    assert meetings.quorum(RUBRIC, "general", 3, 5).met
    assert not meetings.quorum(RUBRIC, "committee", 0, 0).met


@pytest.mark.parametrize(
    ("changes", "code", "params"),
    [
        ({"kind": "picnic"}, "meeting.kind_unknown", {"kind": "picnic"}),
        ({"held_on": TODAY + timedelta(days=1)}, "meeting.future_date", {}),
        ({"topic": "  \n "}, "meeting.topic_empty", {}),
        ({"topic": "题" * 201}, "meeting.too_long", {"field": "topic", "max": 200}),
        ({"place": "地" * 201}, "meeting.too_long", {"field": "place", "max": 200}),
        ({"notes": "记" * 4001}, "meeting.too_long", {"field": "notes", "max": 4000}),
        ({"time": "25:00"}, "meeting.time_malformed", {"value": "25:00"}),
        ({"time": "noon"}, "meeting.time_malformed", {}),
        ({"content_id": 999}, "content.not_found", {}),
        ({"notice_id": 999}, "notice.not_found", {}),
    ],
)
async def test_bad_drafts_are_refused_and_nothing_is_written(session, changes, code, params):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    with pytest.raises(ServiceError) as err:
        await meetings.save_meeting(session, RUBRIC, sec, NOW, w.draft(**changes))
    assert err.value.code == code
    assert params.items() <= err.value.params.items()
    assert (await session.execute(select(func.count()).select_from(Meeting))).scalar() == 0


async def test_today_is_the_branch_s_day_and_time_is_normalised(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    late = datetime(2026, 7, 15, 17, tzinfo=UTC)  # already the 16th in Shanghai
    saved = await meetings.save_meeting(
        session, RUBRIC, sec, late, w.draft(held_on=date(2026, 7, 16), time="9:05")
    )
    assert saved.meeting.time == "09:05"


async def test_only_leaders_and_the_superior_s_staff_log_meetings(session):
    w = await build(session)
    for tg in (MEMBER_TG, OTHER_SECRETARY_TG, OTHER_STAFF_TG, 999):
        who = await w.principal(session, tg)
        with pytest.raises(ServiceError, match="access.denied"):
            await meetings.save_meeting(session, RUBRIC, who, NOW, w.draft())
    staff = await w.principal(session, STAFF_TG)
    assert (await meetings.save_meeting(session, RUBRIC, staff, NOW, w.draft())).created


async def test_attendee_from_another_branch(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    draft = w.draft(attendee_ids=[w.people["书记"].id, w.outsider.id])
    with pytest.raises(ServiceError) as err:
        await meetings.save_meeting(session, RUBRIC, sec, NOW, draft)
    assert err.value.code == "meeting.attendee_foreign"
    assert err.value.params == {"member_id": w.outsider.id}
    with pytest.raises(ServiceError, match="meeting.attendee_foreign"):
        await meetings.save_meeting(session, RUBRIC, sec, NOW, w.draft(attendee_ids=[10**9]))


async def test_closed_month_needs_staff_and_a_reason(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    staff = await w.principal(session, STAFF_TG)
    june = w.draft(held_on=date(2026, 6, 20))
    await _close(session, w.branch.id, "2026-06")
    with pytest.raises(ServiceError) as err:
        await meetings.save_meeting(session, RUBRIC, sec, NOW, june, reason="补录")
    assert (err.value.code, err.value.params) == ("meeting.period_closed", {"period": "2026-06"})
    with pytest.raises(ServiceError, match="meeting.reason_required"):
        await meetings.save_meeting(session, RUBRIC, staff, NOW, june, reason="  ")
    saved = await meetings.save_meeting(session, RUBRIC, staff, NOW, june, reason="补录纸质记录")
    log = (await session.execute(select(AuditLog).where(AuditLog.entity == "meeting"))).scalar_one()
    assert log.changes["reason"] == [None, "补录纸质记录"] and log.actor_id == STAFF_TG
    # Moving a July meeting into the closed June, or deleting June's, is refused too.
    july = await meetings.save_meeting(session, RUBRIC, sec, NOW, w.draft())
    with pytest.raises(ServiceError, match="meeting.period_closed"):
        await meetings.save_meeting(
            session, RUBRIC, sec, NOW, w.draft(held_on=date(2026, 6, 21)), july.meeting.id
        )
    with pytest.raises(ServiceError, match="meeting.period_closed"):
        await meetings.delete_meeting(session, sec, NOW, saved.meeting.id)
    with pytest.raises(ServiceError, match="meeting.reason_required"):
        await meetings.delete_meeting(session, staff, NOW, saved.meeting.id)
    await meetings.delete_meeting(session, staff, NOW, saved.meeting.id, reason="重复录入")


async def test_second_save_is_a_duplicate_and_the_session_survives(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    first = await meetings.save_meeting(session, RUBRIC, sec, NOW, w.draft())
    # Width, case and spacing do not make a different topic.
    again = w.draft(topic=" 学习贯彻党章 ")
    with pytest.raises(ServiceError) as err:
        await meetings.save_meeting(session, RUBRIC, sec, NOW, again)
    assert err.value.code == "meeting.duplicate"
    assert err.value.params == {"meeting_id": first.meeting.id}
    await session.commit()
    assert (await session.execute(select(func.count()).select_from(Meeting))).scalar() == 1


async def test_concurrent_duplicate_is_caught_by_the_constraint(session, monkeypatch):
    """Two secretaries at once: both pass the SELECT, the second hits the unique key."""
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    await meetings.save_meeting(session, RUBRIC, sec, NOW, w.draft())

    async def nobody(*args, **kwargs):
        return None

    monkeypatch.setattr(meetings, "_find_same", nobody)
    with pytest.raises(ServiceError) as err:
        await meetings.save_meeting(session, RUBRIC, sec, NOW, w.draft(topic="学习贯彻党章"))
    assert err.value.code == "meeting.duplicate"
    # The surrounding transaction is intact: more work and a commit go through.
    other = await meetings.save_meeting(session, RUBRIC, sec, NOW, w.draft(topic="另一议题"))
    await session.commit()
    assert (await session.execute(select(func.count()).select_from(Meeting))).scalar() == 2
    attendees = await session.execute(
        select(func.count()).where(MeetingAttendee.meeting_id == other.meeting.id)
    )
    assert attendees.scalar() == 3


async def test_edit_keeps_old_and_new_values_in_the_audit(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    p = w.people
    saved = await meetings.save_meeting(
        session, RUBRIC, sec, NOW, w.draft(photo_file_ids=["AgAD1", "AgAD2"])
    )
    meeting, attendee_ids, photos = await meetings.get_meeting(session, saved.meeting.id)
    assert photos == ["AgAD1", "AgAD2"] and len(attendee_ids) == 3
    draft = meetings.draft_from_meeting(meeting, attendee_ids, photos)
    draft.topic = "学习新修订的条例"
    draft.attendee_ids = [p["书记"].id]
    draft.photo_file_ids = ["AgAD3"]
    edited = await meetings.save_meeting(session, RUBRIC, sec, NOW, draft, meeting.id)
    assert not edited.created and not edited.meeting.counts
    logs = (
        (
            await session.execute(
                select(AuditLog).where(AuditLog.entity == "meeting").order_by(AuditLog.id)
            )
        )
        .scalars()
        .all()
    )
    assert [log.action for log in logs] == ["create", "update"]
    change = logs[1].changes
    assert change["topic"] == ["学习贯彻党章", "学习新修订的条例"]
    assert change["attendees"] == [sorted(attendee_ids), [p["书记"].id]]
    assert change["photos"] == [["AgAD1", "AgAD2"], ["AgAD3"]]
    assert change["counts"] == [True, False] and "kind" not in change
    _, ids, photos = await meetings.get_meeting(session, meeting.id)
    assert ids == [p["书记"].id] and photos == ["AgAD3"]
    # Another branch's id in the draft cannot move the meeting over there.
    draft.org_id = w.other.id
    with pytest.raises(ServiceError, match="meeting.not_found"):
        await meetings.save_meeting(session, RUBRIC, sec, NOW, draft, meeting.id)


async def test_delete_keeps_the_record_in_the_audit(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    saved = await meetings.save_meeting(session, RUBRIC, sec, NOW, w.draft(photo_file_ids=["F"]))
    member = await w.principal(session, MEMBER_TG)
    with pytest.raises(ServiceError, match="access.denied"):
        await meetings.delete_meeting(session, member, NOW, saved.meeting.id)
    await meetings.delete_meeting(session, sec, NOW, saved.meeting.id)
    with pytest.raises(ServiceError, match="meeting.not_found"):
        await meetings.get_meeting(session, saved.meeting.id)
    for table in (Meeting, MeetingAttendee, MeetingPhoto):
        assert (await session.execute(select(func.count()).select_from(table))).scalar() == 0
    log = (await session.execute(select(AuditLog).where(AuditLog.action == "delete"))).scalar_one()
    assert log.changes["topic"] == ["学习贯彻党章", None]
    assert log.changes["photos"] == [["F"], None] and len(log.changes["attendees"][0]) == 3
    # The same meeting can be logged again after a delete.
    assert (await meetings.save_meeting(session, RUBRIC, sec, NOW, w.draft())).created


async def test_meetings_page_lists_the_month_latest_first(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    for day in (3, 9, 1):
        await meetings.save_meeting(
            session, RUBRIC, sec, NOW, w.draft(held_on=date(2026, 7, day), topic=f"议题{day}")
        )
    await meetings.save_meeting(
        session, RUBRIC, sec, NOW, w.draft(held_on=date(2026, 6, 30), topic="六月")
    )
    page = await meetings.meetings_page(session, w.branch.id, "2026-07", 0)
    assert [m.held_on.day for m in page.items] == [9, 3, 1] and page.total == 3
