"""Evidence, featured items, education content and RSVPs on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import AuditLog, Evidence
from bot.services import checklist, content, evidence, meetings, rsvp
from bot.services.errors import ServiceError
from bot.services.members import Principal
from tests.integration.month_world import (
    MEMBER_TG,
    NOW,
    OTHER_SECRETARY_TG,
    OTHER_STAFF_TG,
    ROOT,
    RUBRIC,
    SECRETARY_TG,
    STAFF_TG,
    build,
)
from tests.integration.test_month import _close


async def test_leaders_record_tasks_events_and_ratios(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    row = await evidence.record_evidence(
        session,
        RUBRIC,
        sec,
        NOW,
        w.branch.id,
        "member_records",
        note="花名册已更新",
        file_id="BQAD1",
        file_kind="document",
    )
    assert (row.kind, row.key, row.count, row.month) == ("task", "member_records", 1, "2026-07")
    await evidence.record_evidence(
        session, RUBRIC, sec, NOW, w.branch.id, "volunteer_service", count=2
    )
    paid = await evidence.record_evidence(
        session, RUBRIC, sec, NOW, w.branch.id, "dues_collected", count=7, of=8
    )
    assert (paid.key, paid.count) == ("dues_paid", 7)
    sheet = await checklist.month_checklist(session, RUBRIC, w.branch, "2026-07")
    assert sheet.entry("member_records").done
    assert (
        sheet.entry("volunteer_service").earned == 2 and not sheet.entry("volunteer_service").done
    )
    assert sheet.entry("dues_collected").earned == pytest.approx(3.5)
    logs = (await session.execute(select(AuditLog).where(AuditLog.entity == "evidence"))).scalars()
    assert sorted(log.changes["key"][1] for log in logs) == [
        "dues_due",
        "dues_paid",
        "member_records",
        "volunteer_events",
    ]


@pytest.mark.parametrize(
    ("item", "kwargs", "code"),
    [
        ("no_such_item", {}, "evidence.item_unknown"),
        ("party_neighbour", {}, "evidence.item_unknown"),  # featured, not chosen
        ("central_tasks_x", {}, "evidence.item_unknown"),
        ("committee_meeting", {}, "evidence.meeting_item"),
        ("ledger_kept", {"grade": "A"}, "access.denied"),  # grades are the superior's
        ("complaints_upheld", {}, "access.denied"),  # so is the deduction sheet
        ("volunteer_service", {"count": 0}, "evidence.count_invalid"),
        ("dues_collected", {"count": 3}, "evidence.ratio_needs_total"),
        ("dues_collected", {"count": 9, "of": 8}, "evidence.ratio_invalid"),
        ("member_records", {"month": "2026-13"}, "evidence.month_malformed"),
        ("member_records", {"month": "2026-08"}, "evidence.future_month"),
        ("member_records", {"note": "x" * 4001}, "evidence.too_long"),
        ("member_records", {"file_id": "F", "file_kind": "video"}, "evidence.file_kind_unknown"),
    ],
)
async def test_evidence_refusals(session, item, kwargs, code):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    with pytest.raises(ServiceError) as err:
        await evidence.record_evidence(session, RUBRIC, sec, NOW, w.branch.id, item, **kwargs)
    assert err.value.code == code
    assert (await session.execute(select(Evidence))).first() is None


async def test_grades_and_flags_by_the_superior_s_staff(session):
    w = await build(session)
    staff = await w.principal(session, STAFF_TG)
    with pytest.raises(ServiceError) as err:
        await evidence.record_evidence(
            session, RUBRIC, staff, NOW, w.branch.id, "ledger_kept", grade="E"
        )
    assert err.value.params == {"grade": "E", "choices": "A, B, C, D"}
    row = await evidence.record_evidence(
        session, RUBRIC, staff, NOW, w.branch.id, "ledger_kept", grade="B"
    )
    assert (row.kind, row.grade) == ("grade", "B")
    await evidence.record_evidence(session, RUBRIC, staff, NOW, w.branch.id, "complaints_upheld")
    await evidence.record_evidence(session, RUBRIC, staff, NOW, w.branch.id, "mass_incident")
    sheet = await checklist.month_checklist(session, RUBRIC, w.branch, "2026-07")
    assert sheet.entry("ledger_kept").earned == 2
    assert [v.key for v in sheet.result.vetoes] == ["mass_incident"]
    for tg in (OTHER_STAFF_TG, MEMBER_TG):
        who = await w.principal(session, tg)
        with pytest.raises(ServiceError, match="access.denied"):
            await evidence.record_evidence(session, RUBRIC, who, NOW, w.branch.id, "member_records")


async def test_closed_month_takes_no_evidence(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    await _close(session, w.branch.id, "2026-06")
    with pytest.raises(ServiceError) as err:
        await evidence.record_evidence(
            session, RUBRIC, sec, NOW, w.branch.id, "member_records", month="2026-06"
        )
    assert (err.value.code, err.value.params) == ("evidence.period_closed", {"period": "2026-06"})


async def test_featured_choice_puts_items_on_the_checklist(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    assert await evidence.choose_featured(
        session, RUBRIC, sec, NOW, w.branch.id, ["party_neighbour", "featured_brand"]
    ) == ["featured_brand", "party_neighbour"]
    with pytest.raises(ServiceError, match="evidence.item_unknown"):
        await evidence.choose_featured(session, RUBRIC, sec, NOW, w.branch.id, ["dues_collected"])
    row = await evidence.record_evidence(
        session, RUBRIC, sec, NOW, w.branch.id, "party_neighbour", count=2
    )
    assert row.key == "party_neighbour_activities"
    sheet = await checklist.month_checklist(session, RUBRIC, w.branch, "2026-07")
    assert sheet.entry("party_neighbour").done
    assert await evidence.choose_featured(
        session, RUBRIC, sec, NOW, w.branch.id, ["featured_brand"]
    ) == ["featured_brand"]
    sheet = await checklist.month_checklist(session, RUBRIC, w.branch, "2026-07")
    assert "party_neighbour" not in {e.spec.key for e in sheet.entries}
    member = await w.principal(session, MEMBER_TG)
    with pytest.raises(ServiceError, match="access.denied"):
        await evidence.choose_featured(session, RUBRIC, member, NOW, w.branch.id, [])


async def test_content_reaches_its_subtree_and_domains(session):
    w = await build(session)
    staff = await w.principal(session, STAFF_TG)
    town_all = await content.add_content(
        session,
        staff,
        NOW,
        w.town.id,
        "2026-07",
        "video",
        "  七月 党员 教育片 ",
        url="https://example.org/v/7",
    )
    assert town_all.title == "七月 党员 教育片" and town_all.domains == ""
    village = await content.add_content(
        session,
        ROOT,
        NOW,
        w.city.id,
        "2026-07",
        "micro_lesson",
        "示范微党课",
        file_id="BAAD9",
        domains=["village", "two_new"],
    )
    community = await content.add_content(
        session,
        ROOT,
        NOW,
        w.city.id,
        "2026-07",
        "practice",
        "社区实践",
        url="http://e.org",
        domains=["community"],
    )
    await content.add_content(
        session, ROOT, NOW, w.city.id, "2026-08", "practice", "八月", url="http://e.org"
    )
    got = await content.content_for(session, w.branch, "2026-07")
    assert [c.id for c in got] == [village.id, town_all.id]
    other = await content.content_for(session, w.other, "2026-07")
    assert [c.id for c in other] == [community.id]
    # A secretary may use it in a meeting; another subtree's content is refused.
    sec = await w.principal(session, SECRETARY_TG)
    saved = await meetings.save_meeting(
        session, RUBRIC, sec, NOW, w.draft(kind="lesson", content_id=village.id)
    )
    assert saved.meeting.content_id == village.id
    with pytest.raises(ServiceError, match="content.not_found"):
        await meetings.save_meeting(
            session, RUBRIC, sec, NOW, w.draft(kind="lesson", topic="x", content_id=community.id)
        )


@pytest.mark.parametrize(
    ("org", "kwargs", "code"),
    [
        ("other_town", {}, "access.denied"),
        ("branch", {}, "content.org_not_committee"),
        ("town", {"month": "July"}, "content.month_malformed"),
        ("town", {"kind": "podcast"}, "content.kind_unknown"),
        ("town", {"title": " "}, "content.title_empty"),
        ("town", {"title": "t" * 201}, "content.too_long"),
        ("town", {"url": "javascript:alert(1)"}, "content.url_invalid"),
        ("town", {"url": "https://"}, "content.url_invalid"),
        ("town", {"url": None}, "content.source_required"),
        ("town", {"domains": ["city"]}, "content.domain_unknown"),
    ],
)
async def test_content_refusals(session, org, kwargs, code):
    w = await build(session)
    staff = await w.principal(session, STAFF_TG)
    values = {"month": "2026-07", "kind": "video", "title": "片", "url": "https://e.org/1"}
    values.update(kwargs)
    with pytest.raises(ServiceError) as err:
        await content.add_content(session, staff, NOW, getattr(w, org).id, **values)
    assert err.value.code == code


async def test_group_link_announce_and_rsvp(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    with pytest.raises(ServiceError, match="notice.no_group"):
        await rsvp.announce(
            session, sec, NOW, w.branch.id, "general", NOW + timedelta(days=1), "会议室", "党员大会"
        )
    with pytest.raises(ServiceError, match="group.not_a_group"):
        await rsvp.link_group(session, sec, NOW, w.branch.id, 12345)
    await rsvp.link_group(session, sec, NOW, w.branch.id, -100)
    assert (await rsvp.branch_for_group(session, -100)).id == w.branch.id
    other_sec = await w.principal(session, OTHER_SECRETARY_TG)
    with pytest.raises(ServiceError, match="group.taken"):
        await rsvp.link_group(session, other_sec, NOW, w.other.id, -100)
    member = await w.principal(session, MEMBER_TG)
    with pytest.raises(ServiceError, match="access.denied"):
        await rsvp.link_group(session, member, NOW, w.branch.id, -200)

    notice = await rsvp.announce(
        session, sec, NOW, w.branch.id, "general", NOW + timedelta(days=1), "会议室", " 党员大会 "
    )
    assert (notice.chat_id, notice.topic) == (-100, "党员大会")
    await rsvp.set_notice_message(session, notice.id, -100, 42)
    assert (await rsvp.get_notice(session, notice.id)).message_id == 42

    first = await rsvp.answer(session, NOW, notice.id, MEMBER_TG, False, "出差")
    assert (first.coming, first.reason) == (False, "出差")
    changed = await rsvp.answer(session, NOW, notice.id, MEMBER_TG, True, "ignored")
    assert (changed.coming, changed.reason) == (True, None)
    await rsvp.answer(session, NOW, notice.id, SECRETARY_TG, True)
    ill = await rsvp.answer(session, NOW, notice.id, 101, False, "生病")
    # PostgreSQL reads the counts with the answer: the same as reading them after it.
    assert ill.counts in (None, await rsvp.rsvp_counts(session, notice.id))
    # Someone from another branch pressing the button of a forwarded notice.
    with pytest.raises(ServiceError, match="rsvp.not_member"):
        await rsvp.answer(session, NOW, notice.id, OTHER_SECRETARY_TG, True)
    with pytest.raises(ServiceError, match="notice.not_found"):
        await rsvp.answer(session, NOW, 10**6, MEMBER_TG, True)
    with pytest.raises(ServiceError, match="notice.closed"):
        # Refused, and not written meanwhile (PostgreSQL checks it in the statement).
        await rsvp.answer(session, NOW + timedelta(days=3), notice.id, MEMBER_TG, False)
    coming, not_coming = await rsvp.rsvp_summary(session, notice.id)
    assert sorted(m.name for m in coming) == ["书记", "张三"]
    assert [(m.name, why) for m, why in not_coming] == [("组织委员", "生病")]
    assert await rsvp.attendees_from_notice(session, notice.id) == sorted(m.id for m in coming)
    assert [n.id for n in await rsvp.open_notices(session, w.branch.id, NOW)] == [notice.id]
    assert await rsvp.open_notices(session, w.branch.id, NOW + timedelta(days=20)) == []
    # The notice pre-fills the meeting, which keeps a link to it.
    saved = await meetings.save_meeting(
        session,
        RUBRIC,
        sec,
        NOW + timedelta(days=1),
        w.draft(
            kind="general",
            held_on=NOW.date() + timedelta(days=1),
            notice_id=notice.id,
            attendee_ids=await rsvp.attendees_from_notice(session, notice.id),
        ),
    )
    assert saved.meeting.notice_id == notice.id


async def test_announce_refusals(session):
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    await rsvp.link_group(session, sec, NOW, w.branch.id, -100)
    later = NOW + timedelta(hours=2)
    for args, code in [
        (("picnic", later, None, "t"), "meeting.kind_unknown"),
        (("general", later, None, " "), "meeting.topic_empty"),
        (("general", later, "p" * 201, "t"), "meeting.too_long"),
        (("general", NOW - timedelta(hours=1), None, "t"), "notice.in_past"),
    ]:
        with pytest.raises(ServiceError) as err:
            await rsvp.announce(session, sec, NOW, w.branch.id, *args)
        assert err.value.code == code
    outsider = await w.principal(session, OTHER_SECRETARY_TG)
    with pytest.raises(ServiceError, match="access.denied"):
        await rsvp.announce(session, outsider, NOW, w.branch.id, "general", later, None, "t")


async def test_a_group_link_that_moves_something_waits_for_confirmation(session):
    """/linkgroup never moves a link silently: the branch's old group, or a group of
    another branch, changes only when confirmed, and a group of a branch the leader does
    not lead is refused with its name."""
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    assert (await rsvp.link_group(session, sec, NOW, w.branch.id, -100)).done
    pending = await rsvp.link_group(session, sec, NOW, w.branch.id, -200)
    assert (pending.done, pending.replaces, pending.taken_from) == (False, -100, None)
    assert w.branch.group_chat_id == -100
    assert (await rsvp.link_group(session, sec, NOW, w.branch.id, -200, confirmed=True)).done
    assert w.branch.group_chat_id == -200

    other_sec = await w.principal(session, OTHER_SECRETARY_TG)
    with pytest.raises(ServiceError, match="group.taken") as err:
        await rsvp.link_group(session, other_sec, NOW, w.other.id, -200, confirmed=True)
    assert err.value.params == {"branch": w.branch.name}
    assert (w.branch.group_chat_id, w.other.group_chat_id) == (-200, None)

    # Someone who leads both branches may move the group, once confirmed.
    root = Principal(telegram_id=1, is_superuser=True)
    asked = await rsvp.link_group(session, root, NOW, w.other.id, -200)
    assert (asked.done, asked.taken_from.id) == (False, w.branch.id)
    assert (await rsvp.link_group(session, root, NOW, w.other.id, -200, confirmed=True)).done
    assert (w.branch.group_chat_id, w.other.group_chat_id) == (None, -200)
    moves = await session.execute(
        select(AuditLog.entity_id, AuditLog.changes).where(AuditLog.action == "group")
    )
    assert (w.branch.id, {"group_chat_id": [-200, None]}) in [tuple(r) for r in moves]


async def test_a_count_is_corrected_by_its_difference_and_a_stale_one_refused(session):
    """A correction adds the difference (rows as recorded stay, with their proof), so the
    month's sum is the corrected figure; a ratio's two figures move together; one started
    from an older view of the item is refused, and a correction to the same figures too."""
    w = await build(session)
    sec = await w.principal(session, SECRETARY_TG)
    b = w.branch

    def record(item, **kw):
        return evidence.record_evidence(session, RUBRIC, sec, NOW, b.id, item, **kw)

    await record("dues_collected", count=7, of=80, file_id="p1", file_kind="photo")
    shown = await evidence.recorded(session, RUBRIC, b, "dues_collected", "2026-07")
    assert (shown.total, shown.of, len(shown.rows)) == (7, 80, 1)
    before, after = await evidence.correct_count(session, RUBRIC, sec, NOW, b.id,
                                                 "dues_collected", count=7, of=8,
                                                 version=shown.version)  # fmt: skip
    assert (before.total, before.of, after.total, after.of) == (7, 80, 7, 8)
    assert [(r.count, r.of, r.correction, r.file_kind) for r in after.rows] == [
        (7, 80, False, "photo"),
        (0, -72, True, None),
    ]
    sheet = await checklist.month_checklist(session, RUBRIC, b, "2026-07")
    assert sheet.entry("dues_collected").earned == pytest.approx(3.5)
    for kwargs, code in (
        ({"count": 7, "of": 8, "version": after.version}, "evidence.unchanged"),
        ({"count": 1, "of": 8, "version": shown.version}, "record.stale"),
        ({"count": 9, "of": 8, "version": after.version}, "evidence.ratio_invalid"),
    ):
        with pytest.raises(ServiceError) as err:
            await evidence.correct_count(session, RUBRIC, sec, NOW, b.id, "dues_collected",
                                         **kwargs)  # fmt: skip
        assert err.value.code == code, kwargs
    await record("volunteer_service", count=999)
    shown = await evidence.recorded(session, RUBRIC, b, "volunteer_service", "2026-07")
    _before, after = await evidence.correct_count(session, RUBRIC, sec, NOW, b.id,
                                                  "volunteer_service", count=0,
                                                  version=shown.version)  # fmt: skip
    assert (after.total, after.of) == (0, None)
    with pytest.raises(ServiceError) as err:
        await evidence.correct_count(session, RUBRIC, sec, NOW, b.id, "member_records",
                                     count=2, version=0)  # fmt: skip
    assert err.value.code == "evidence.not_counted"
    assert evidence.unusual_count(32) and not evidence.unusual_count(31)
