from datetime import UTC, datetime

import pytest

from bot.db.models import OrgKind
from bot.services import orgs
from bot.services.audit import Actor
from bot.services.errors import ServiceError

NOW = datetime(2026, 7, 1, tzinfo=UTC)
ACTOR = Actor(1, "tester")


async def test_tree_paths_and_listing(session):
    city = await orgs.create_org(session, ACTOR, NOW, name="冷水江市委", kind=OrgKind.committee)
    town = await orgs.create_org(
        session, ACTOR, NOW, name="沙塘湾街道党工委", kind="committee", parent_id=city.id
    )
    for i in range(10):
        await orgs.create_org(
            session,
            ACTOR,
            NOW,
            name=f"第{i}支部",
            kind="branch",
            parent_id=town.id,
            domain="community",
        )
    await session.commit()
    assert town.path == f"/{city.id}/{town.id}/"
    page = await orgs.children_page(session, town.id, page=1, size=8)
    assert page.total == 10 and len(page.items) == 2 and page.pages == 2 and not page.has_next
    # A page past the end is clamped to the last one rather than empty.
    assert (await orgs.children_page(session, town.id, page=9, size=8)).page == 1
    found = await orgs.find_by_path(session, "冷水江市委/沙塘湾街道党工委/第3支部")
    assert found is not None and found.name == "第3支部"
    assert await orgs.display_path(session, found) == "冷水江市委/沙塘湾街道党工委/第3支部"
    assert len(await orgs.subtree_branch_ids(session, city)) == 10


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"name": "  ", "kind": "committee"}, "org.name_empty"),
        ({"name": "A/B", "kind": "committee"}, "org.name_has_slash"),
        ({"name": "支部", "kind": "branch"}, "org.domain_required"),
        ({"name": "支部", "kind": "branch", "domain": "village"}, "org.branch_needs_parent"),
    ],
)
async def test_create_refusals(session, kwargs, code):
    with pytest.raises(ServiceError) as err:
        await orgs.create_org(session, ACTOR, NOW, **kwargs)
    assert err.value.code == code


async def test_duplicate_name_and_branch_parent(session):
    city = await orgs.create_org(session, ACTOR, NOW, name="市委", kind="committee")
    branch = await orgs.create_org(
        session, ACTOR, NOW, name="一支部", kind="branch", parent_id=city.id, domain="village"
    )
    with pytest.raises(ServiceError) as err:
        await orgs.create_org(
            session, ACTOR, NOW, name="一支部", kind="committee", parent_id=city.id
        )
    assert err.value.code == "org.name_taken"
    with pytest.raises(ServiceError) as err:
        await orgs.create_org(
            session, ACTOR, NOW, name="x", kind="branch", parent_id=branch.id, domain="village"
        )
    assert err.value.code == "org.parent_is_branch"
