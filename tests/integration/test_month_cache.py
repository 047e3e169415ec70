"""The remembered checklist is never stale: every write to a branch's facts, from this
process or another one (a second engine here, as a second worker), shows at once.

`month_checklist` keeps what it computed per branch and month under the facts tokens
that migration 0012's triggers replace on every write; these tests write the ways the
bot and its operators do (services, plain SQL, another connection, a rollback) and read
the checklist back. Each also checks that an unchanged month is served from memory
(the same `basis`), so a cache that was never used could not pass them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, insert, text, update

from bot.db.engine import create_engine, session_factory
from bot.db.models import (
    BranchFeatured,
    EducationContent,
    Evidence,
    Meeting,
    Organisation,
    PeriodSnapshot,
)
from bot.services import checklist, meetings
from bot.services.members import load_principal
from tests.integration.month_world import NOW, RUBRIC, SECRETARY_TG, build

PERIOD = "2026-07"
TABLES = ("meeting", "evidence", "branch_featured", "period_snapshot", "education_content")


@pytest.fixture
async def worlds(engine):
    """(the reader's sessions, a second engine's sessions, the world's ids)."""
    async with session_factory(engine)() as session:
        w = await build(session)
        ids = {"branch": w.branch.id, "town": w.town.id, "city": w.city.id, "draft": w.draft()}
        await session.commit()
    other = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        yield session_factory(engine), session_factory(other), ids
    finally:
        await other.dispose()


async def _read(sessions, ids):
    async with sessions() as session:
        branch = await session.get(Organisation, ids["branch"])
        cl = await checklist.month_checklist(session, RUBRIC, branch, PERIOD)
        await session.commit()
        return cl


async def _meeting(session, ids, **changes):
    values = {
        "org_id": ids["branch"],
        "kind": "committee",
        "held_on": date(2026, 7, 10),
        "topic": "学习",
        "topic_key": "学习",
        "attended": 5,
        "expected": 6,
        "counts": True,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return (await session.execute(insert(Meeting).values(**values).returning(Meeting.id))).scalar()


def _done(cl, key):
    return cl.entry(key).done


async def test_triggers_are_there_at_head(engine):
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = (
                await conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            ).scalars()
            expected = {f"facts_token_{t}_{op}" for t in TABLES for op in ("ins", "del", "upd")}
        else:
            names = (
                await conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
            ).scalars()
            expected = {f"facts_token_{t}" for t in TABLES}
    assert expected <= set(names)


async def test_unchanged_month_is_served_from_memory(worlds):
    mine, _other, ids = worlds
    first = await _read(mine, ids)
    again = await _read(mine, ids)
    assert first.basis is not None and again.basis is first.basis
    assert again.entries is first.entries and again.score == first.score


async def test_meeting_saved_by_another_worker_shows(worlds):
    mine, other, ids = worlds
    before = await _read(mine, ids)
    assert not _done(before, "committee_meeting")
    async with other() as session:
        sec = await load_principal(session, SECRETARY_TG, frozenset())
        saved = await meetings.save_meeting(session, RUBRIC, sec, NOW, ids["draft"])
        assert saved.created
        await session.commit()
    after = await _read(mine, ids)
    assert after.basis is not before.basis
    assert _done(after, "committee_meeting") and after.done == before.done + 1


@pytest.mark.parametrize("change", ["uncount", "move_month", "delete", "other_branch"])
async def test_meeting_changed_by_plain_sql_shows(worlds, change):
    mine, other, ids = worlds
    async with other() as session:
        meeting_id = await _meeting(session, ids)
        await session.commit()
    before = await _read(mine, ids)
    assert _done(before, "committee_meeting")
    m = Meeting.__table__.c
    async with other() as session:
        if change == "uncount":
            stmt = update(Meeting).where(m.id == meeting_id).values(counts=False)
        elif change == "move_month":
            stmt = update(Meeting).where(m.id == meeting_id).values(held_on=date(2026, 6, 10))
        elif change == "delete":
            stmt = delete(Meeting).where(m.id == meeting_id)
        else:  # logged for the wrong branch: moved to the town committee
            stmt = update(Meeting).where(m.id == meeting_id).values(org_id=ids["town"])
        await session.execute(stmt)
        await session.commit()
    after = await _read(mine, ids)
    assert not _done(after, "committee_meeting")


async def test_attendance_edit_shows(worlds):
    mine, other, ids = worlds
    async with other() as session:
        meeting_id = await _meeting(session, ids, kind="theme_day", attended=1, expected=6)
        await session.commit()
    before = await _read(mine, ids)
    async with other() as session:
        await session.execute(
            update(Meeting).where(Meeting.__table__.c.id == meeting_id).values(attended=6)
        )
        await session.commit()
    after = await _read(mine, ids)
    assert not _done(before, "theme_day_attendance") and _done(after, "theme_day_attendance")


async def test_evidence_and_grades_show(worlds):
    mine, other, ids = worlds
    before = await _read(mine, ids)
    assert not _done(before, "rules_posted") and not _done(before, "collective_economy")
    row = {"org_id": ids["branch"], "month": PERIOD, "created_at": NOW}
    async with other() as session:
        task = (
            await session.execute(
                insert(Evidence)
                .values(**row, kind="task", key="rules_posted", count=1)
                .returning(Evidence.id)
            )
        ).scalar()
        await session.execute(
            insert(Evidence).values(**row, kind="grade", key="collective_economy", grade="A")
        )
        await session.commit()
    graded = await _read(mine, ids)
    assert _done(graded, "rules_posted") and _done(graded, "collective_economy")
    async with other() as session:
        await session.execute(
            update(Evidence)
            .where(Evidence.__table__.c.key == "collective_economy")
            .values(grade="D")
        )
        await session.execute(delete(Evidence).where(Evidence.__table__.c.id == task))
        await session.commit()
    after = await _read(mine, ids)
    assert not _done(after, "rules_posted") and not _done(after, "collective_economy")


async def test_featured_choice_shows(worlds):
    mine, other, ids = worlds
    before = await _read(mine, ids)
    assert "featured_brand" not in {e.key for e in before.entries}
    async with other() as session:
        await session.execute(
            insert(BranchFeatured).values(org_id=ids["branch"], item_key="featured_brand")
        )
        await session.commit()
    chosen = await _read(mine, ids)
    assert "featured_brand" in {e.key for e in chosen.entries}
    async with other() as session:
        await session.execute(delete(BranchFeatured))
        await session.commit()
    assert "featured_brand" not in {e.key for e in (await _read(mine, ids)).entries}


async def test_closing_and_reopening_the_month_shows(worlds):
    mine, other, ids = worlds
    assert not (await _read(mine, ids)).closed
    async with other() as session:
        await session.execute(
            insert(PeriodSnapshot).values(
                org_id=ids["branch"],
                period=PERIOD,
                score=Decimal(0),
                max_score=Decimal(100),
                proposed_star=1,
                meets_standard=False,
                rubric_version=RUBRIC.version,
                breakdown={},
                created_at=NOW,
            )
        )
        await session.commit()
    assert (await _read(mine, ids)).closed
    async with other() as session:
        await session.execute(delete(PeriodSnapshot))
        await session.commit()
    assert not (await _read(mine, ids)).closed


@pytest.mark.parametrize("level", ["city", "town"])
async def test_content_added_above_the_branch_shows(worlds, level):
    mine, other, ids = worlds
    assert (await _read(mine, ids)).content == []
    async with other() as session:
        await session.execute(
            insert(EducationContent).values(
                org_id=ids[level],
                month=PERIOD,
                kind="video",
                title="七月学习视频",
                url="https://example.org/v",
                domains="",
                created_at=NOW,
            )
        )
        await session.commit()
    shown = await _read(mine, ids)
    assert [c.title for c in shown.content] == ["七月学习视频"]
    async with other() as session:
        await session.execute(update(EducationContent).values(title="改过的标题"))
        await session.commit()
    assert [c.title for c in (await _read(mine, ids)).content] == ["改过的标题"]


async def test_domain_change_shows(worlds):
    mine, other, ids = worlds
    assert "grid_visits" in {e.key for e in (await _read(mine, ids)).entries}
    async with other() as session:
        await session.execute(
            update(Organisation)
            .where(Organisation.__table__.c.id == ids["branch"])
            .values(domain="community")
        )
        await session.commit()
    assert "grid_visits" not in {e.key for e in (await _read(mine, ids)).entries}


async def test_rolled_back_write_leaves_no_trace(worlds):
    """A checklist read inside a transaction that then rolls back was filed under a token
    nobody sees again: the next reader gets the committed month."""
    mine, other, ids = worlds
    before = await _read(mine, ids)
    async with mine() as session:
        branch = await session.get(Organisation, ids["branch"])
        await _meeting(session, ids)
        inside = await checklist.month_checklist(session, RUBRIC, branch, PERIOD)
        assert _done(inside, "committee_meeting")
        await session.rollback()
    after = await _read(mine, ids)
    assert not _done(after, "committee_meeting") and after.score == before.score
    async with other() as session:  # and a later write is not mistaken for the rolled-back one
        await _meeting(session, ids, kind="general", held_on=date(2026, 7, 12))
        await session.commit()
    later = await _read(mine, ids)
    assert not _done(later, "committee_meeting") and later.score != before.score


async def test_same_transaction_sees_its_own_write(worlds):
    """The meeting log compares the checklist before and after a save in one transaction."""
    mine, _other, ids = worlds
    async with mine() as session:
        branch = await session.get(Organisation, ids["branch"])
        before = await checklist.month_checklist(session, RUBRIC, branch, PERIOD)
        session.add(
            Meeting(
                org_id=ids["branch"],
                kind="committee",
                held_on=date(2026, 7, 10),
                topic="学习",
                topic_key="学习",
                attended=5,
                expected=6,
                created_at=NOW,
                updated_at=NOW,
            )
        )  # pending: the token read flushes it
        after = await checklist.month_checklist(session, RUBRIC, branch, PERIOD)
        assert not _done(before, "committee_meeting") and _done(after, "committee_meeting")
        await session.commit()
    assert _done(await _read(mine, ids), "committee_meeting")
