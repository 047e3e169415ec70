"""Members: who someone is, their record, roles, and the link to a Telegram account."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, bindparam, exists, insert, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import (
    Category,
    Member,
    MemberStatus,
    Organisation,
    OrgKind,
    ProcessedUpdate,
    Role,
    Staff,
    Unreachable,
    UserPref,
)
from bot.db.rows import Columns, Prepared, attach, current_transaction, fetch, fetch_first
from bot.services import audit, versions
from bot.services.audit import Actor
from bot.services.errors import ServiceError
from bot.services.orgs import PATH_SEP, clean_name, is_within, require_org
from bot.services.paging import PAGE_SIZE, Page, paginate

RECORD_FIELDS = ("name", "category", "role", "status", "phone", "roster_no", "joined_on", "org_id")


def normalize_phone(raw: str | None) -> str | None:
    """Chinese mobile numbers as 11 digits; +86 / 86 prefixes and separators dropped.

    Returns None for an empty value; raises for a malformed one.
    """
    if raw is None or not str(raw).strip():
        return None
    digits = re.sub(r"[\s\-()（）]", "", str(raw))
    digits = digits.removeprefix("+")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not re.fullmatch(r"1\d{10}", digits):
        raise ServiceError("member.phone_malformed", value=str(raw))
    return digits


def same_phone(a: str | None, b: str | None) -> bool:
    try:
        na, nb = normalize_phone(a), normalize_phone(b)
    except ServiceError:
        return False
    return na is not None and na == nb


@dataclass
class Principal:
    """Everything the bot knows about who sent an update, loaded once per update."""

    telegram_id: int
    member: Member | None = None
    branch: Organisation | None = None
    staff_orgs: list[Organisation] = field(default_factory=list)
    is_superuser: bool = False
    saved_locale: str | None = None  # the language stored for this Telegram account
    left_branch: Organisation | None = None  # the branch of a member who left it
    unreachable: bool = False  # the bot could not write to them (they had blocked it)
    # The branch's "city/town/branch" names, read in the principal's own statement (this
    # update's transaction); None when there is no branch.
    branch_path: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.is_superuser or bool(self.staff_orgs)

    @property
    def is_branch_leader(self) -> bool:
        return self.member is not None and self.member.role in (Role.secretary, Role.organiser)

    @property
    def actor(self) -> Actor:
        label = self.member.name if self.member else f"tg:{self.telegram_id}"
        return Actor(self.telegram_id, label)

    def led_branch_id(self) -> int:
        """The branch this person is secretary or organising member of; refused otherwise."""
        if self.branch is None or not self.is_branch_leader:
            raise ServiceError("access.denied")
        return self.branch.id

    def can_manage(self, org: Organisation) -> bool:
        """Act for the superior over `org`: superusers, or staff of an ancestor committee."""
        return self.is_superuser or any(is_within(org, root) for root in self.staff_orgs)

    def can_see(self, branch: Organisation) -> bool:
        """Read a branch's records: its own members, or the superior's staff."""
        own = self.branch is not None and self.branch.id == branch.id
        return own or self.can_manage(branch)

    def can_lead(self, branch: Organisation) -> bool:
        """Act inside a branch: its secretary or organising member, or the superior's staff."""
        own = self.branch is not None and self.branch.id == branch.id and self.is_branch_leader
        return own or self.can_manage(branch)


# Built once: constructing a statement costs more than running it (SQLAlchemy coerces
# every clause), and these run for every update. `:tg` is the sender's Telegram id.
_TG = bindparam("tg")
_SAVED_LOCALE = select(UserPref.locale).where(UserPref.telegram_id == _TG).scalar_subquery()
_IS_STAFF = exists().where(Staff.telegram_id == _TG)
_UNREACHABLE = exists().where(Unreachable.telegram_id == _TG)
_MEMBER = Columns(Member)
_ORG = Columns(Organisation)
# Columns, not entities: the ORM's loading of two objects from a row cost about as much
# as the rest of the statement; `attach` makes the same persistent objects.
# The names of the branch's path ("/1/7/42/" → "city/town/branch"), read with the
# principal: `/me` shows them, and a query of their own cost a round trip (PostgreSQL)
# or as much as the principal's statement (SQLite). PostgreSQL: each ancestor found by
# its primary key, in path order. SQLite (3.40, no ordered aggregate): the names joined
# while climbing from the branch to the top, so their order is the climb's.
_PATH_NAMES = literal_column(
    f"(SELECT string_agg(a.name, '{PATH_SEP}' ORDER BY p.n)"
    f" FROM unnest(string_to_array(btrim(organisation.path, '{PATH_SEP}'), '{PATH_SEP}')"
    "::integer[]) WITH ORDINALITY AS p(id, n)"
    " JOIN organisation AS a ON a.id = p.id)",
    String,
)


_PATH_NAMES_SQLITE = literal_column(
    "(WITH RECURSIVE up(parent_id, names) AS ("
    " SELECT organisation.parent_id, organisation.name"
    " UNION ALL"
    f" SELECT a.parent_id, a.name || '{PATH_SEP}' || up.names"
    " FROM organisation AS a JOIN up ON a.id = up.parent_id)"
    " SELECT names FROM up WHERE parent_id IS NULL)",
    String,
)


def _member_principal(path_names: Any) -> Any:
    return (
        select(*_MEMBER.all, *_ORG.all, _SAVED_LOCALE, _IS_STAFF, _UNREACHABLE, path_names)
        .select_from(Member)
        .join(Organisation, Organisation.id == Member.org_id)
        .where(Member.telegram_id == _TG)
    )


_MEMBER_PRINCIPAL = Prepared(
    {
        "sqlite": _member_principal(_PATH_NAMES_SQLITE),
        "postgresql": _member_principal(_PATH_NAMES),
    }
)
_STAFF_ORGS = Prepared(
    select(*_ORG.all, _SAVED_LOCALE, _UNREACHABLE)
    .join(Staff, Staff.org_id == Organisation.id)
    .where(Staff.telegram_id == _TG)
    .order_by(Organisation.path)
)
_STRANGER = Prepared(select(_SAVED_LOCALE, _UNREACHABLE))
# PostgreSQL: the update's dedupe row (see bot.middlewares.db) and the member's statement
# in one round trip, the INSERT as a data-modifying CTE (run once, to completion, whether
# or not a member is found; a duplicate update id fails the statement as the INSERT
# alone would). Each round trip costs the bot a send, a wake-up and asyncpg's protocol.
_RECORD_THEN_PRINCIPAL = Prepared(
    _MEMBER_PRINCIPAL.statement["postgresql"].add_cte(
        insert(ProcessedUpdate.__table__)
        .values(update_id=bindparam("update_id"), at=bindparam("at"))
        .cte("recorded")
    )
)
_READ_AHEAD = "branchbot_principal_row"  # session.info: (tg, transaction (weak), row)


async def record_update_reading_principal(
    session: AsyncSession, update_id: int, at: datetime, telegram_id: int
) -> None:
    """PostgreSQL: INSERT the update id (IntegrityError if it is there already) and read
    the sender's member row in the same statement; `load_principal` takes the row if
    nothing was written in between."""
    params = {"update_id": update_id, "at": at, "tg": telegram_id}
    row = await fetch_first(session, _RECORD_THEN_PRINCIPAL, params)
    transaction = weakref.ref(current_transaction(session))
    session.info[_READ_AHEAD] = (telegram_id, transaction, row)


def _read_ahead(session: AsyncSession, telegram_id: int) -> tuple[bool, Any]:
    """(True, the member row) if `record_update_reading_principal` read it for this
    person in this transaction and nothing was changed since."""
    held = session.info.pop(_READ_AHEAD, None)
    if held is None or held[0] != telegram_id:
        return False, None
    sync = session.sync_session
    if held[1]() is not current_transaction(session) or not sync._is_clean():
        return False, None
    return True, held[2]


async def load_principal(
    session: AsyncSession, telegram_id: int, superusers: frozenset[int]
) -> Principal:
    """Who sent an update and the language stored for them: one query for a member.

    Runs for every update, so the common case (a member who is not also staff) reads
    member, branch, stored language, "is staff anywhere" and "was unreachable" in a
    single statement, on the driver (`bot.db.rows.Prepared`).
    """
    params = {"tg": telegram_id}
    read, row = _read_ahead(session, telegram_id)
    if not read:
        row = await fetch_first(session, _MEMBER_PRINCIPAL, params)
    member = branch = locale = unreachable = branch_path = None
    is_staff = True  # not a member: perhaps staff
    if row is not None:
        m, o = len(_MEMBER), len(_ORG)
        member = attach(session, _MEMBER, row[:m])
        branch = attach(session, _ORG, row[m : m + o])
        locale, is_staff, unreachable, branch_path = row[m + o :]
    # Someone who left keeps their record (and its Telegram link, for history) but no
    # right in the branch: not its checklist, roster, invites, nor a role they held.
    # The branch is remembered only to tell them why they are refused.
    left_branch = None
    if member is not None and member.status == MemberStatus.left:
        left_branch, member, branch, branch_path = branch, None, None, None
    staff: list[Organisation] = []
    if is_staff:
        rows = await fetch(session, _STAFF_ORGS, params)
        o = len(_ORG)
        staff = [attach(session, _ORG, r[:o]) for r in rows]
        if row is None:
            if rows:
                locale, unreachable = rows[0][o:]
            else:
                locale, unreachable = (await fetch(session, _STRANGER, params))[0]
    return Principal(
        telegram_id=telegram_id,
        member=member,
        branch=branch,
        staff_orgs=staff,
        is_superuser=telegram_id in superusers,
        saved_locale=locale,
        left_branch=left_branch,
        unreachable=bool(unreachable),
        branch_path=branch_path,
    )


async def require_member(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise ServiceError("member.not_found")
    return member


async def roster_page(
    session: AsyncSession,
    org_id: int,
    query: str = "",
    page: int = 0,
    *,
    unlinked_only: bool = False,
    size: int = PAGE_SIZE,
) -> Page[Member]:
    """A branch's roster, optionally filtered by a name fragment, in pages."""
    stmt = select(Member).where(Member.org_id == org_id, Member.status != MemberStatus.left.value)
    query = " ".join(query.split())
    if query:
        stmt = stmt.where(Member.name.contains(query, autoescape=True))
    if unlinked_only:
        stmt = stmt.where(Member.telegram_id.is_(None))
    return await paginate(session, stmt.order_by(Member.name, Member.id), page, size)


async def add_member(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    *,
    org_id: int,
    name: str,
    category: str,
    role: str = Role.member,
    phone: str | None = None,
    telegram_id: int | None = None,
    joined_on: date | None = None,
) -> Member:
    org = await require_org(session, org_id)
    if org.kind != OrgKind.branch:
        raise ServiceError("member.org_not_branch")
    member = Member(
        org_id=org_id,
        name=clean_name(name),
        category=Category(category).value,
        role=Role(role).value,
        status=MemberStatus.active.value,
        phone=normalize_phone(phone),
        telegram_id=telegram_id,
        joined_on=joined_on,
        created_at=now,
        updated_at=now,
    )
    await _check_unique_phone(session, member.phone, None)
    session.add(member)
    await session.flush()
    await audit.record(
        session,
        actor,
        now,
        "member",
        member.id,
        "create",
        {f: [None, v] for f, v in audit.snapshot(member, RECORD_FIELDS).items() if v is not None},
    )
    return member


async def _check_unique_phone(session: AsyncSession, phone: str | None, member_id: int | None):
    if phone is None:
        return
    stmt = select(Member.id).where(Member.phone == phone)
    if member_id is not None:
        stmt = stmt.where(Member.id != member_id)
    if (await session.execute(stmt)).first() is not None:
        raise ServiceError("member.phone_taken", value=phone)


EDITABLE = {"name", "category", "status", "phone", "roster_no"}


async def _next_version(
    session: AsyncSession, member: Member, shown: int | None, by: int | None = None
) -> None:
    """Claim the member's next version: refused (`record.stale`) when the card the change
    was made on showed an older one; `shown` None (no card: the CLI, an import) just moves
    it on, so every card shown before is stale."""
    if shown is None:
        member.version = await versions.bump(session, Member, member.id)
    else:
        member.version = await versions.claim(session, Member, member.id, shown, by=by)


async def update_member(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    member: Member,
    *,
    version: int | None = None,
    **changes: object,
) -> dict[str, list]:
    """Change a member's record; returns {field: [old, new]} for what really changed.

    `version`: the one the card showed; a change made on an older card is refused."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ServiceError("member.field_unknown", field=", ".join(sorted(unknown)))
    if version is not None:
        await _next_version(session, member, version, actor.telegram_id)
    before = audit.snapshot(member, RECORD_FIELDS)
    for key, value in changes.items():
        if key == "name":
            value = clean_name(str(value))
        elif key == "category":
            value = _enum(Category, value, "member.category_unknown")
        elif key == "status":
            value = _enum(MemberStatus, value, "member.status_unknown")
        elif key == "phone":
            value = normalize_phone(value)  # type: ignore[arg-type]
            await _check_unique_phone(session, value, member.id)
        elif key == "roster_no":
            value = (str(value).strip() or None) if value is not None else None
        setattr(member, key, value)
    if member.status == MemberStatus.left and member.role != Role.member:
        # A secretary who leaves is no longer secretary; recorded as a change of role,
        # so that an old button of theirs is explained as one.
        await audit.record(
            session, actor, now, "member", member.id, "role", {"role": [member.role, "member"]}
        )
        member.role = Role.member.value
    delta = audit.diff(before, audit.snapshot(member, RECORD_FIELDS))
    if delta:
        if version is None:
            await _next_version(session, member, None)
        member.updated_at = now
        await session.flush()
        await audit.record(session, actor, now, "member", member.id, "update", delta)
    return delta


def _enum(kind: type, value: object, code: str) -> str:
    try:
        return kind(value).value
    except ValueError:
        raise ServiceError(code, value=str(value)) from None


async def set_role(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    member: Member,
    role: Role | str,
    *,
    version: int | None = None,
) -> Member | None:
    """Appoint or remove a secretary / organising member.

    A branch has one secretary and one organising member: appointing a new one
    makes the previous holder an ordinary member (returned, so they can be told).
    `version`: the one the member's card showed; a press on an older card is refused
    (`record.stale`) instead of undoing someone else's change.
    """
    role = Role(role)
    # Someone who left can still be relieved of a role, never given one.
    if member.status == MemberStatus.left and role is not Role.member:
        raise ServiceError("member.has_left")
    await _next_version(session, member, version, actor.telegram_id)
    previous = None
    if role is not Role.member:
        previous = (
            await session.execute(
                select(Member).where(
                    Member.org_id == member.org_id,
                    Member.role == role.value,
                    Member.id != member.id,
                )
            )
        ).scalar_one_or_none()
        if previous is not None:
            await _next_version(session, previous, None)
            previous.role = Role.member.value
            previous.updated_at = now
            await audit.record(
                session,
                actor,
                now,
                "member",
                previous.id,
                "role",
                {"role": [role.value, Role.member.value]},
            )
    if member.role != role.value:
        await audit.record(
            session, actor, now, "member", member.id, "role", {"role": [member.role, role.value]}
        )
        member.role = role.value
        member.updated_at = now
    await session.flush()
    return previous


async def leaders(session: AsyncSession, org_id: int) -> list[Member]:
    """The branch's secretary and organising member (linked or not), secretary first."""
    rows = await session.execute(
        select(Member)
        .where(
            Member.org_id == org_id,
            Member.role.in_([Role.secretary.value, Role.organiser.value]),
            Member.status != MemberStatus.left.value,
        )
        .order_by(Member.role.desc())
    )
    return list(rows.scalars())


async def link_telegram(
    session: AsyncSession, actor: Actor, now: datetime, member: Member, telegram_id: int
) -> None:
    """Tie one Telegram account to one member; refuse a second account or a second member."""
    if member.telegram_id == telegram_id:
        return
    if member.telegram_id is not None:
        raise ServiceError("member.already_linked", name=member.name)
    other = (
        await session.execute(select(Member.id).where(Member.telegram_id == telegram_id))
    ).first()
    if other is not None:
        raise ServiceError("member.account_in_use")
    await _next_version(session, member, None)
    member.telegram_id = telegram_id
    member.updated_at = now
    await session.flush()
    await audit.record(
        session, actor, now, "member", member.id, "link", {"telegram_id": [None, telegram_id]}
    )


async def unlink_telegram(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    member: Member,
    *,
    version: int | None = None,
):
    await _next_version(session, member, version, actor.telegram_id)
    if member.telegram_id is None:
        return
    await audit.record(
        session,
        actor,
        now,
        "member",
        member.id,
        "unlink",
        {"telegram_id": [member.telegram_id, None]},
    )
    member.telegram_id = None
    member.updated_at = now
    await session.flush()
