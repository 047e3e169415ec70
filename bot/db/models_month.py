"""Tables of the secretary's month: meetings, their notices and replies, evidence,
education content, period snapshots.

Import them from `bot.db.models` (which loads this module on first use); the
foreign keys to organisations and members name tables defined there.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from bot.db import models  # noqa: F401  (the tree and the members these tables refer to)
from bot.db.types import UTCDateTime


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
    # Required items left undone whose period ended in the month, counted from the
    # breakdown at close (the dashboard's "overdue"); NULL: closed before it was kept.
    overdue: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    confirmed_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Bumped by every decision; a decision names the version it was shown (item 13).
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class FactsToken(SQLModel, table=True):
    """Replaced by database triggers on every write to an organisation's month facts
    (its meetings, evidence, featured choices, snapshots, and the education content it
    offers): a checklist computed under the same tokens is still true (migration 0012)."""

    __tablename__ = "facts_token"

    org_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    token: int = Field(sa_column=Column(BigInteger, nullable=False))
