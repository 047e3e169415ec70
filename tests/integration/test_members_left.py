"""Someone who left holds no role and no right (issue 8, item 3)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import Member, MemberStatus, Organisation, Role
from bot.services import members, onboarding, roster
from bot.services.audit import Actor
from bot.services.errors import ServiceError
from tests.integration.test_roster import HEADER, VILLAGE, csv_file

NOW = datetime(2026, 7, 1, tzinfo=UTC)
ACTOR = Actor(None, "test")


async def _import(session, path: Path) -> None:
    await roster.import_roster(session, roster.read_roster(path), actor=ACTOR, now=NOW)
    await session.commit()


async def _by_name(session, name: str) -> Member:
    session.expire_all()
    return (await session.execute(select(Member).where(Member.name == name))).scalar_one()


async def test_reimport_marking_the_secretary_left_removes_role_and_rights(session, tmp_path):
    await _import(
        session,
        csv_file(tmp_path, f"{HEADER}\nA001,张三,{VILLAGE},农村,农村社区党员,支部书记,正常,,\n"),
    )
    zhang = await _by_name(session, "张三")
    await members.link_telegram(session, ACTOR, NOW, zhang, 7001)
    await session.commit()
    assert (await members.load_principal(session, 7001, frozenset())).is_branch_leader

    await _import(
        session,
        csv_file(tmp_path, f"{HEADER}\nA001,张三,{VILLAGE},,农村社区党员,,转出,,\n", name="b.csv"),
    )
    zhang = await _by_name(session, "张三")
    assert (zhang.status, zhang.role) == (MemberStatus.left, Role.member)
    principal = await members.load_principal(session, 7001, frozenset())
    assert principal.member is None and principal.branch is None
    branch = await session.get(Organisation, zhang.org_id)
    assert not principal.can_see(branch) and not principal.can_lead(branch)


async def test_staff_can_remove_a_role_from_someone_who_left(session, tmp_path):
    await _import(
        session,
        csv_file(tmp_path, f"{HEADER}\nA001,张三,{VILLAGE},农村,农村社区党员,组织委员,正常,,\n"),
    )
    zhang = await _by_name(session, "张三")
    # An old record: left, but still carrying the role (as data from before this fix does).
    zhang.status = MemberStatus.left.value
    await session.commit()
    zhang = await _by_name(session, "张三")
    assert zhang.role == Role.organiser
    with pytest.raises(ServiceError) as refused:
        await members.set_role(session, ACTOR, NOW, zhang, Role.secretary)
    assert refused.value.code == "member.has_left"
    await members.set_role(session, ACTOR, NOW, zhang, Role.member)
    await session.commit()
    assert (await _by_name(session, "张三")).role == Role.member
    assert await members.leaders(session, zhang.org_id) == []
    assert await onboarding.approvers(session, zhang.org_id) == []
