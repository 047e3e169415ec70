"""Tables. Every schema change goes through an Alembic migration in bot/db/migrations."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
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


# ---------------------------------------------------------------- the secretary's month


class Meeting(SQLModel, table=True):
    __tablename__ = "meeting"
    __table_args__ = (
        # Covers month close's GROUP BY (see migration 0003); also serves (org_id, held_on).
        Index("ix_meeting_facts", "org_id", "held_on", "kind", "counts", "attended", "expected"),
        Index("ix_meeting_held_kind", "held_on", "kind"),
        # The same meeting logged twice (a second tap, two secretaries at once) collides here.
        UniqueConstraint("org_id", "kind", "held_on", "topic_key", name="uq_meeting_identity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    kind: str = Field(sa_column=Column(String(24), nullable=False))
    held_on: date = Field()
    time: str | None = Field(default=None, sa_column=Column(String(5)))
    place: str | None = Field(default=None, sa_column=Column(String(200)))
    topic: str = Field(sa_column=Column(String(200), nullable=False))
    topic_key: str = Field(sa_column=Column(String(200), nullable=False))
    notes: str | None = Field(default=None, sa_column=Column(Text))
    attended: int = Field(default=0)
    expected: int = Field(default=0)
    counts: bool = Field(default=True)
    content_id: int | None = Field(default=None, foreign_key="education_content.id")
    notice_id: int | None = Field(default=None, foreign_key="meeting_notice.id")
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # Bumped by every edit; an edit names the version it started from (item 13).
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class MeetingAttendee(SQLModel, table=True):
    __tablename__ = "meeting_attendee"
    __table_args__ = (Index("ix_attendee_member", "member_id"),)

    meeting_id: int = Field(
        sa_column=Column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(foreign_key="member.id", primary_key=True)


class MeetingPhoto(SQLModel, table=True):
    __tablename__ = "meeting_photo"
    __table_args__ = (Index("ix_photo_meeting", "meeting_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(sa_column=Column(ForeignKey("meeting.id", ondelete="CASCADE")))
    file_id: str = Field(sa_column=Column(String(255), nullable=False))


class Evidence(SQLModel, table=True):
    """A fact that is not a meeting: an event count, a task done, a flag, a superior's grade."""

    __tablename__ = "evidence"
    __table_args__ = (
        # Covers month close's GROUP BY (see migration 0003); also serves (org_id, month).
        Index("ix_evidence_facts", "org_id", "month", "kind", "key", "grade", "count"),
        Index("ix_evidence_month", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    month: str = Field(sa_column=Column(String(7), nullable=False))  # YYYY-MM
    kind: str = Field(sa_column=Column(String(12), nullable=False))  # event|task|flag|grade
    key: str = Field(sa_column=Column(String(64), nullable=False))
    count: int = Field(default=1)
    grade: str | None = Field(default=None, sa_column=Column(String(32)))
    note: str | None = Field(default=None, sa_column=Column(Text))
    file_id: str | None = Field(default=None, sa_column=Column(String(255)))
    file_kind: str | None = Field(default=None, sa_column=Column(String(12)))
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class BranchFeatured(SQLModel, table=True):
    """The featured ("X") items a branch has taken on."""

    __tablename__ = "branch_featured"

    org_id: int = Field(foreign_key="organisation.id", primary_key=True)
    item_key: str = Field(sa_column=Column(String(64), primary_key=True))


class EducationContent(SQLModel, table=True):
    """The month's education videos, model micro lessons and practice prompt for a subtree."""

    __tablename__ = "education_content"
    __table_args__ = (Index("ix_content_month", "month", "org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    month: str = Field(sa_column=Column(String(7), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    url: str | None = Field(default=None, sa_column=Column(String(500)))
    file_id: str | None = Field(default=None, sa_column=Column(String(255)))
    domains: str = Field(default="", sa_column=Column(String(64), nullable=False))  # "" = all
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class MeetingNotice(SQLModel, table=True):
    """A meeting announced in the branch group, with RSVP buttons."""

    __tablename__ = "meeting_notice"
    __table_args__ = (Index("ix_notice_org", "org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    kind: str = Field(sa_column=Column(String(24), nullable=False))
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    place: str | None = Field(default=None, sa_column=Column(String(200)))
    topic: str = Field(sa_column=Column(String(200), nullable=False))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    message_id: int | None = None
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Rsvp(SQLModel, table=True):
    __tablename__ = "rsvp"

    notice_id: int = Field(foreign_key="meeting_notice.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    coming: bool = Field()
    reason: str | None = Field(default=None, sa_column=Column(String(200)))
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class PeriodSnapshot(SQLModel, table=True):
    """A branch's result frozen at month close: the history trends and ledgers use."""

    __tablename__ = "period_snapshot"
    __table_args__ = (
        UniqueConstraint("org_id", "period", name="uq_snapshot_org_period"),
        Index("ix_snapshot_period", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    period: str = Field(sa_column=Column(String(7), nullable=False))
    score: Decimal = Field(sa_column=Column(Numeric(8, 2), nullable=False))
    max_score: Decimal = Field(sa_column=Column(Numeric(8, 2), nullable=False))
    proposed_star: int = Field()
    confirmed_star: int | None = None
    adjust_reason: str | None = Field(default=None, sa_column=Column(Text))
    meets_standard: bool = Field()
    rubric_version: str = Field(sa_column=Column(String(64), nullable=False))
    breakdown: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    confirmed_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Bumped by every decision; a decision names the version it was shown (item 13).
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


# ---------------------------------------------------------------- democratic evaluation
# The Vanguard Index procedure (see docs/ballot-secrecy.md for why the vote is shaped so).


class EvalStage(enum.StrEnum):
    """In order; a campaign moves one stage at a time."""

    self_assessment = "self"
    vote = "vote"
    review = "review"
    notice = "notice"
    approval = "approval"
    final = "final"


class EvalCampaign(SQLModel, table=True):
    """A branch's democratic evaluation for one period (a year, or a half-year)."""

    __tablename__ = "eval_campaign"
    __table_args__ = (
        UniqueConstraint("org_id", "period", name="uq_eval_campaign_org_period"),
        Index("ix_eval_campaign_period_stage", "period", "stage"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    period: str = Field(sa_column=Column(String(8), nullable=False))  # 2026 | 2026-H1
    stage: str = Field(sa_column=Column(String(12), nullable=False))
    min_voters: int = Field(default=5)
    # The last day (local date) of each stage.
    self_due: date = Field()
    vote_due: date = Field()
    review_due: date = Field()
    notice_due: date = Field()
    approval_due: date = Field()
    version: int = Field(default=1)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class EvalSelf(SQLModel, table=True):
    """A member's self-assessment: answers per variant item (a vote option index), a summary."""

    __tablename__ = "eval_self"

    campaign_id: int = Field(
        sa_column=Column(ForeignKey("eval_campaign.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    score: Decimal = Field(sa_column=Column(Numeric(5, 2), nullable=False))
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class EvalVoter(SQLModel, table=True):
    """THAT a member voted, and nothing else: the key stops a second ballot.

    No timestamp, no surrogate key; WITHOUT ROWID on SQLite so rows sit in key order,
    not in the order people voted.
    """

    __tablename__ = "eval_voter"
    __table_args__ = {"sqlite_with_rowid": False}

    campaign_id: int = Field(
        sa_column=Column(ForeignKey("eval_campaign.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(sa_column=Column(ForeignKey("member.id"), primary_key=True))


class EvalTally(SQLModel, table=True):
    """WHAT was voted, as counts only: one row per candidate and grade band.

    The rows exist before the first ballot and every ballot rewrites all of a
    campaign's rows (see ballots.submit_ballot), so no row's position, version or
    transaction id belongs to one voter.
    """

    __tablename__ = "eval_tally"
    __table_args__ = {"sqlite_with_rowid": False}

    campaign_id: int = Field(
        sa_column=Column(ForeignKey("eval_campaign.id", ondelete="CASCADE"), primary_key=True)
    )
    candidate_id: int = Field(sa_column=Column(ForeignKey("member.id"), primary_key=True))
    band: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    n: int = Field(default=0)


class EvalResult(SQLModel, table=True):
    """A member's result in the branch review: computed, proposed, decided."""

    __tablename__ = "eval_result"

    campaign_id: int = Field(
        sa_column=Column(ForeignKey("eval_campaign.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    total: Decimal = Field(sa_column=Column(Numeric(6, 2), nullable=False))
    computed_grade: str = Field(sa_column=Column(String(24), nullable=False))  # before the cap
    proposed_grade: str = Field(sa_column=Column(String(24), nullable=False))  # after the cap
    grade: str = Field(sa_column=Column(String(24), nullable=False))  # decided
    review_band: int | None = None  # the branch's own assessment (a vote option)
    deductions: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    override_reason: str | None = Field(default=None, sa_column=Column(Text))
    breakdown: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    mentor_id: int | None = Field(default=None, foreign_key="member.id")
    disposal_steps: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class EvalCheckin(SQLModel, table=True):
    """A month of paired mentoring confirmed by one side: the mentored member or the
    mentor (`by_mentor`). The key makes a second press of the same month a no-op."""

    __tablename__ = "eval_checkin"

    campaign_id: int = Field(
        sa_column=Column(ForeignKey("eval_campaign.id", ondelete="CASCADE"), primary_key=True)
    )
    member_id: int = Field(sa_column=Column(ForeignKey("member.id"), primary_key=True))
    month: str = Field(sa_column=Column(String(7), primary_key=True))  # YYYY-MM
    by_mentor: bool = Field(sa_column=Column(Boolean, primary_key=True))
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class EvalObjection(SQLModel, table=True):
    """An objection raised during the public notice, named or anonymous."""

    __tablename__ = "eval_objection"
    __table_args__ = (Index("ix_eval_objection_campaign", "campaign_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(
        sa_column=Column(ForeignKey("eval_campaign.id", ondelete="CASCADE"), nullable=False)
    )
    author_id: int | None = Field(default=None, foreign_key="member.id")  # None: anonymous
    text: str = Field(sa_column=Column(Text, nullable=False))
    answer: str | None = Field(default=None, sa_column=Column(Text))
    answered_by: str | None = Field(default=None, sa_column=Column(String(100)))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# ---------------------------------------------------------------- scheduler and delivery


class OutboxStatus(enum.StrEnum):
    pending = "pending"
    sending = "sending"  # claimed by the sender; back to pending if it dies (in flight)
    sent = "sent"
    failed = "failed"  # a final error, or retries used up
    unreachable = "unreachable"  # 403: the person blocked the bot or is gone


class Outbox(SQLModel, table=True):
    """One message to one chat, rendered in the recipient's language, waiting to be sent.

    Jobs and handlers only insert here (a duplicate `dedupe_key` is ignored); the sender
    is the only one that talks to Telegram for these messages.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        # The sender's claim: ready rows, oldest first.
        Index("ix_outbox_ready", "status", "not_before", "id"),
        Index("ix_outbox_broadcast", "broadcast_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(sa_column=Column(String(160), unique=True, nullable=False))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    markup: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    file_id: str | None = Field(default=None, sa_column=Column(String(255)))
    file_kind: str | None = Field(default=None, sa_column=Column(String(12)))
    broadcast_id: int | None = Field(default=None)
    status: str = Field(default=OutboxStatus.pending, sa_column=_enum_col(OutboxStatus))
    attempts: int = Field(default=0)
    not_before: datetime = Field(sa_type=UTCDateTime, nullable=False)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_column=Column(String(200)))


class Unreachable(SQLModel, table=True):
    """Telegram users the bot cannot write to (403) until they write to it again."""

    __tablename__ = "unreachable"

    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    since: datetime = Field(sa_type=UTCDateTime, nullable=False)


class SchedulerLock(SQLModel, table=True):
    """On SQLite, the one running scheduler holds this row and renews its lease.

    (PostgreSQL uses a session advisory lock instead, released when the process dies.)
    """

    __tablename__ = "scheduler_lock"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    holder: str = Field(sa_column=Column(String(200), nullable=False))
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class JobRun(SQLModel, table=True):
    """Each scheduled job's last and next run, for `branchbot status` and for catching up
    after downtime."""

    __tablename__ = "job_run"

    job_id: str = Field(sa_column=Column(String(64), primary_key=True))
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_column=Column(String(200)))


class NotificationPref(SQLModel, table=True):
    """Optional reminders a person has muted (a row per muted topic)."""

    __tablename__ = "notification_pref"

    telegram_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    topic: str = Field(sa_column=Column(String(32), primary_key=True))


class Broadcast(SQLModel, table=True):
    """An announcement by the superior's staff to part of its subtree."""

    __tablename__ = "broadcast"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organisation.id")
    roles: str = Field(sa_column=Column(String(64), nullable=False))  # "" = everyone
    text: str = Field(sa_column=Column(Text, nullable=False))
    file_id: str | None = Field(default=None, sa_column=Column(String(255)))
    file_kind: str | None = Field(default=None, sa_column=Column(String(12)))
    recipients: int = Field(default=0)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
