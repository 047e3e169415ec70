"""/me's branch path: read with the principal on PostgreSQL, and right after a rename."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.db.models import Staff
from bot.services import members, orgs, tree
from bot.services.members import Principal
from bot.services.prefs import remember_locale
from tests.handlers.conftest import user
from tests.integration.test_hot_path import Statements

NOW = datetime(2026, 7, 1, 8, tzinfo=UTC)
ROOT = Principal(telegram_id=1, is_superuser=True)
MEMBER_TG, STAFF_MEMBER_TG = 10, 11


async def _city(harness):
    async with harness.app.sessions() as s:
        city = await orgs.create_org(s, ROOT.actor, NOW, name="市委", kind="committee")
        town = await orgs.create_org(
            s, ROOT.actor, NOW, name="一镇", kind="committee", parent_id=city.id
        )
        branch = await orgs.create_org(
            s, ROOT.actor, NOW, name="一支部", kind="branch", parent_id=town.id, domain="village"
        )
        for tg, name in ((MEMBER_TG, "张三"), (STAFF_MEMBER_TG, "李四")):
            m = await members.add_member(
                s, ROOT.actor, NOW, org_id=branch.id, name=name, category="rural_community"
            )
            await members.link_telegram(s, ROOT.actor, NOW, m, tg)
            await remember_locale(s, tg, "en")
        s.add(Staff(org_id=town.id, telegram_id=STAFF_MEMBER_TG, name="李四", created_at=NOW))
        await s.commit()
        return town.id


async def test_me_shows_the_path_as_it_is_now_after_a_rename(harness):
    town_id = await _city(harness)
    await harness.text(user(MEMBER_TG, "en"), "/me")
    assert "Branch: 市委/一镇/一支部" in harness.texts()[-1]
    async with harness.app.sessions() as s:
        town = await orgs.require_org(s, town_id)
        await tree.rename_org(s, ROOT.actor, NOW, town, "二镇")
        await s.commit()
    await harness.text(user(MEMBER_TG, "en"), "/me")
    assert "Branch: 市委/二镇/一支部" in harness.texts()[-1]
    # A member who is also staff: the branch's path and the committee's.
    await harness.text(user(STAFF_MEMBER_TG, "en"), "/me")
    shown = harness.texts()[-1]
    assert "Branch: 市委/二镇/一支部" in shown and "• 市委/二镇" in shown


async def test_me_reads_no_names_of_its_own(harness, engine):
    await _city(harness)
    with Statements(engine) as sql:
        await harness.text(user(MEMBER_TG, "en"), "/me")
    assert "Branch: 市委/一镇/一支部" in harness.texts()[-1]
    names_read = [s for s in sql.seen if s.startswith("SELECT organisation.id, organisation.name")]
    assert not names_read
    if engine.dialect.name == "postgresql":
        # The dedupe row, the principal and its path's names: one statement, and nothing
        # else (BEGIN and COMMIT are the transaction's, not statements).
        assert len(sql.seen) == 1 and sql.seen[0].startswith("WITH")
    else:  # SQLite: the dedupe row, then the principal with its path's names
        assert len(sql.seen) == 2


class Begins:
    """Counts the transactions begun on the update's connection (BEGIN IMMEDIATE on
    SQLite, the asyncpg adapter's transaction on PostgreSQL)."""

    def __init__(self, monkeypatch) -> None:
        from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

        from bot.db.engine import InlineSqlite

        self.count = 0
        for cls, name in (
            (InlineSqlite, "begin_immediate"),
            (AsyncAdapt_asyncpg_connection, "_start_transaction"),
        ):
            original = getattr(cls, name)

            def counted(*args, _original=original, **kwargs):
                self.count += 1
                return _original(*args, **kwargs)

            monkeypatch.setattr(cls, name, counted)


async def test_me_reads_without_a_transaction_and_a_write_still_begins_one(
    harness, engine, monkeypatch
):
    """/me writes nothing but its update id (`handlers.writes_nothing`): no BEGIN, typed,
    addressed to the bot or from the menu, in either language; a command that writes
    (the language chosen with /language) still has its transaction."""
    await _city(harness)
    begins = Begins(monkeypatch)
    for said in ("/me", "/me@branchbot", "👤 My details", "👤 我的信息"):
        await harness.text(user(MEMBER_TG, "en"), said)
        assert "Branch: 市委/一镇/一支部" in harness.texts()[-1], said
    assert begins.count == 0
    await harness.text(user(MEMBER_TG, "en"), "/language")
    await harness.press(user(MEMBER_TG, "en"), "lg:zh_Hans")
    assert begins.count >= 1
    await harness.text(user(MEMBER_TG, "en"), "/me")  # in the language the press saved
    assert "支部：市委/一镇/一支部" in harness.texts()[-1]
