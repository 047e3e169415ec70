"""Tables. Every schema change goes through an Alembic migration in bot/db/migrations.

Import every table from here. The organisation tree, members, staff, invitations, the
audit log and the dedupe table are defined in this module; the others live in
`models_month`, `models_eval` and `models_delivery` and are loaded when one of their
names is first imported from here, so that a command which touches only the tree (most
of the command line: `branchbot org add` is called a thousand times to build a city)
does not build thirty table classes it never uses. Whatever reads the whole schema
(migrations, `tree`'s reference count, tests) calls `load_all()` first.
"""

from __future__ import annotations

import enum
import importlib
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

# Re-exported: the rest of the code imports the enumerations from here.
from bot.db.enums import (
    Category,
    Domain,
    InviteKind,
    MemberStatus,
    OrgKind,
    RequestStatus,
    Role,
)
from bot.db.enums import (
    ContentKind as ContentKind,
)
from bot.db.enums import (
    MeetingKind as MeetingKind,
)
from bot.db.types import UTCDateTime


def _enum_col(values: type[enum.StrEnum], nullable: bool = False) -> Column:
    # Plain strings rather than native enums: the same migration works on SQLite and
    # PostgreSQL, and adding a value later needs no ALTER TYPE.
    return Column(String(24), nullable=nullable)


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    __table_args__ = (
        UniqueConstraint("parent_id", "name", name="uq_org_parent_name"),
        Index("ix_org_path", "path"),
        Index("ix_org_parent", "parent_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="organisation.id")
    # Materialised path "/1/7/42/": a whole subtree is one indexed prefix query.
    path: str = Field(default="", sa_column=Column(String(255), nullable=False))
    kind: str = Field(sa_column=_enum_col(OrgKind))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    domain: str | None = Field(default=None, sa_column=_enum_col(Domain, nullable=True))
    timezone: str | None = Field(default=None, sa_column=Column(String(64)))
    locale: str | None = Field(default=None, sa_column=Column(String(16)))
    group_chat_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, unique=True, nullable=True)
    )
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Member(SQLModel, table=True):
    __tablename__ = "member"
    __table_args__ = (
        Index("ix_member_org_name", "org_id", "name"),
        Index("ix_member_org_status", "org_id", "status"),
        Index(
            "uq_member_phone",
            "phone",
            unique=True,
            sqlite_where=text("phone IS NOT NULL"),
            postgresql_where=text("phone IS NOT NULL"),
        ),
        Index(
            "uq_member_roster_no",
            "roster_no",
            unique=True,
            sqlite_where=text("roster_no IS NOT NULL"),
            postgresql_where=text("roster_no IS NOT NULL"),
        ),
        Index(
            "uq_member_telegram",
            "telegram_id",
            unique=True,
            sqlite_where=text("telegram_id IS NOT NULL"),
            postgresql_where=text("telegram_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    name: str = Field(sa_column=Column(String(100), nullable=False))
    category: str = Field(sa_column=_enum_col(Category))
    role: str = Field(default=Role.member, sa_column=_enum_col(Role))
    status: str = Field(default=MemberStatus.active, sa_column=_enum_col(MemberStatus))
    phone: str | None = Field(default=None, sa_column=Column(String(20)))
    roster_no: str | None = Field(default=None, sa_column=Column(String(64)))
    telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    locale: str | None = Field(default=None, sa_column=Column(String(16)))
    joined_on: date | None = None
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Bumped by every change of role or record; a change names the version it was shown.
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class Staff(SQLModel, table=True):
    """A person acting for a committee over its whole subtree."""

    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("org_id", "telegram_id", name="uq_staff_org_user"),
        Index("ix_staff_telegram", "telegram_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class UserPref(SQLModel, table=True):
    """Language of Telegram users who are not (yet) members: staff, newcomers."""

    __tablename__ = "user_pref"

    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    locale: str = Field(sa_column=Column(String(16), nullable=False))


class Invite(SQLModel, table=True):
    __tablename__ = "invite"
    __table_args__ = (Index("ix_invite_org", "org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    org_id: int = Field(foreign_key="organisation.id")
    kind: str = Field(default=InviteKind.member, sa_column=_enum_col(InviteKind))
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JoinRequest(SQLModel, table=True):
    __tablename__ = "join_request"
    __table_args__ = (
        Index("ix_join_request_org_status", "org_id", "status"),
        Index("ix_join_request_user", "telegram_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    telegram_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    name: str = Field(sa_column=Column(String(100), nullable=False))
    member_id: int | None = Field(default=None, foreign_key="member.id")
    status: str = Field(default=RequestStatus.pending, sa_column=_enum_col(RequestStatus))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    decided_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_entity", "entity", "entity_id"),
        Index("ix_audit_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    actor: str = Field(sa_column=Column(String(100), nullable=False))
    entity: str = Field(sa_column=Column(String(32), nullable=False))
    entity_id: int = Field()
    action: str = Field(sa_column=Column(String(32), nullable=False))
    changes: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ProcessedUpdate(SQLModel, table=True):
    """Update ids already handled: webhook retries must not act twice."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)


# ---------------------------------------------------------------- the other tables

_ELSEWHERE = {
    "bot.db.models_month": (
        "Meeting",
        "MeetingAttendee",
        "MeetingPhoto",
        "Evidence",
        "BranchFeatured",
        "EducationContent",
        "MeetingNotice",
        "Rsvp",
        "PeriodSnapshot",
        "FactsToken",
    ),
    "bot.db.models_eval": (
        "EvalStage",
        "EvalCampaign",
        "EvalSelf",
        "EvalVoter",
        "EvalSeat",
        "EvalTally",
        "EvalResult",
        "EvalCheckin",
        "EvalObjection",
    ),
    "bot.db.models_delivery": (
        "OutboxStatus",
        "Outbox",
        "Unreachable",
        "SchedulerLock",
        "JobRun",
        "NotificationPref",
        "Broadcast",
    ),
}
_MODULE_OF = {name: module for module, names in _ELSEWHERE.items() for name in names}


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def load_all():
    """Put every table on the metadata (and return it): for what reads the whole schema."""
    for module in _ELSEWHERE:
        importlib.import_module(module)
    return SQLModel.metadata
