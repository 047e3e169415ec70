"""The list of pending join requests (/requests): whose, in what order, a page at a time,
and a decision from it refused as the notice's buttons are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from bot.db.models import Staff
from bot.services import members, onboarding, orgs
from bot.services.errors import ServiceError
from bot.services.members import Principal, load_principal
from bot.services.paging import PAGE_SIZE

NOW = datetime(2026, 7, 1, 8, tzinfo=UTC)
ROOT = Principal(telegram_id=1, is_superuser=True)


async def _tree(session):
    city = await orgs.create_org(session, ROOT.actor, NOW, name="市委", kind="committee")
    town = await orgs.create_org(
        session, ROOT.actor, NOW, name="镇党委", kind="committee", parent_id=city.id
    )
    one = await orgs.create_org(
        session, ROOT.actor, NOW, name="一支部", kind="branch", parent_id=town.id, domain="village"
    )
    two = await orgs.create_org(
        session, ROOT.actor, NOW, name="二支部", kind="branch", parent_id=city.id, domain="village"
    )
    return city, town, one, two


async def _ask(session, branch, tg, name, minutes, member=None):
    """A request nobody could confirm when it was made (no leader linked, no staff)."""
    inv = (await onboarding.create_invite(session, ROOT, NOW, branch.id)).id
    at = NOW + timedelta(minutes=minutes)
    if member is None:
        out = await onboarding.request_as_new(session, at, inv, tg, name)
    else:
        out = await onboarding.request_approval_for(session, at, inv, member.id, tg, name)
    assert out.notify == []
    return out.request


async def _leader(session, branch, tg, role="secretary"):
    m = await members.add_member(
        session, ROOT.actor, NOW, org_id=branch.id, name=f"书记{tg}", category="rural_community"
    )
    await members.set_role(session, ROOT.actor, NOW, m, role)
    await members.link_telegram(session, ROOT.actor, NOW, m, tg)
    return await load_principal(session, tg, frozenset())


async def _staff(session, org, tg):
    session.add(Staff(org_id=org.id, telegram_id=tg, name=f"staff{tg}", created_at=NOW))
    await session.flush()
    return await load_principal(session, tg, frozenset())


async def test_each_sees_the_requests_they_may_decide_newest_first(session):
    city, town, one, two = await _tree(session)
    wang = await members.add_member(
        session, ROOT.actor, NOW, org_id=one.id, name="王五", category="rural_community"
    )
    a = await _ask(session, one, 501, "Wang on Telegram", 1, member=wang)
    b = await _ask(session, one, 502, "赵六", 3)
    c = await _ask(session, two, 503, "钱七", 2)
    await _ask(session, one, 504, "孙八", 4)
    await onboarding.request_as_new(  # asked again elsewhere: the first is withdrawn
        session, NOW, (await onboarding.create_invite(session, ROOT, NOW, two.id)).id, 504, "孙八"
    )

    secretary = await _leader(session, one, 601)
    page = await onboarding.pending_requests(session, secretary, 0)
    assert [w.id for w in page.items] == [b.id, a.id] and page.total == 2
    listed = page.items[1]
    assert (listed.name, listed.member, listed.branch) == ("Wang on Telegram", "王五", "一支部")
    assert page.items[0].member is None and page.items[0].name == "赵六"
    assert await onboarding.pending_count(session, secretary) == 2

    organiser = await _leader(session, two, 602, role="organiser")
    assert [w.name for w in (await onboarding.pending_requests(session, organiser, 0)).items] == [
        "钱七",
        "孙八",
    ]
    town_staff = await _staff(session, town, 701)
    assert [w.id for w in (await onboarding.pending_requests(session, town_staff, 0)).items] == [
        b.id,
        a.id,
    ]
    city_staff = await _staff(session, city, 702)
    everything = await onboarding.pending_requests(session, city_staff, 0)
    assert [w.name for w in everything.items] == ["赵六", "钱七", "Wang on Telegram", "孙八"]
    assert everything.total == 4 and everything.items[1].id == c.id


async def test_members_without_rights_are_refused_and_nothing_is_an_empty_page(session):
    _, town, one, _ = await _tree(session)
    member = await _leader(session, one, 610, role="member")
    with pytest.raises(ServiceError, match="access.denied"):
        await onboarding.pending_requests(session, member, 0)
    assert await onboarding.pending_count(session, member) == 0
    nobody = await load_principal(session, 611, frozenset())
    with pytest.raises(ServiceError, match="access.denied"):
        await onboarding.pending_requests(session, nobody, 0)
    staff = await _staff(session, town, 612)
    empty = await onboarding.pending_requests(session, staff, 3)
    assert (empty.items, empty.total, empty.page) == ([], 0, 0)


async def test_pages_are_one_statement_each(session, engine):
    _, _, one, _ = await _tree(session)
    n = PAGE_SIZE + 3
    for i in range(n):
        await _ask(session, one, 800 + i, f"人{i:02d}", i)
    secretary = await _leader(session, one, 620)
    statements = []

    def count(*args, **kw):
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        first = await onboarding.pending_requests(session, secretary, 0)
        assert len(statements) == 1
        second = await onboarding.pending_requests(session, secretary, 1)
        assert len(statements) == 2
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert (first.total, first.pages, len(first.items), len(second.items)) == (n, 2, PAGE_SIZE, 3)
    assert [w.name for w in first.items][:2] == [f"人{n - 1:02d}", f"人{n - 2:02d}"]
    assert second.items[-1].name == "人00"
    # A page past the end (a stale pager) shows the last one.
    stale = await onboarding.pending_requests(session, secretary, 7)
    assert stale.page == 1 and [w.id for w in stale.items] == [w.id for w in second.items]


async def test_a_listed_request_is_decided_once_and_refused_when_out_of_date(session):
    _, _, one, _ = await _tree(session)
    wang = await members.add_member(
        session, ROOT.actor, NOW, org_id=one.id, name="王五", category="rural_community"
    )
    taken = await _ask(session, one, 901, "Wang", 1, member=wang)
    new = await _ask(session, one, 902, "赵六", 2)
    gone = await _ask(session, one, 903, "钱七", 3)
    secretary = await _leader(session, one, 630)
    done = await onboarding.decide(session, secretary, NOW, new.id, True)
    assert done.member.telegram_id == 902
    with pytest.raises(ServiceError, match="request.already_decided"):
        await onboarding.decide(session, secretary, NOW, new.id, False)
    await onboarding.request_as_new(  # withdrawn by asking again elsewhere
        session, NOW, (await onboarding.create_invite(session, ROOT, NOW, one.id)).id, 903, "钱八"
    )
    with pytest.raises(ServiceError, match="request.withdrawn"):
        await onboarding.decide(session, secretary, NOW, gone.id, True)
    await members.link_telegram(session, ROOT.actor, NOW, wang, 904)
    with pytest.raises(ServiceError, match="request.member_taken"):
        await onboarding.decide(session, secretary, NOW, taken.id, True)
    left = await onboarding.pending_requests(session, secretary, 0)
    assert [w.name for w in left.items] == ["Wang", "钱八"]
