"""Tables of the scheduler and of delivery: the outbox, unreachable people, the
scheduler's lock and job runs, notification preferences, broadcasts.

Import them from `bot.db.models` (which loads this module on first use).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    String,
    Text,
)
from sqlmodel import Field, SQLModel

from bot.db.models import _enum_col
from bot.db.types import UTCDateTime


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
