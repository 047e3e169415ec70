"""Tables of the democratic evaluation (the Vanguard Index procedure).

Import them from `bot.db.models` (which loads this module on first use). See
docs/ballot-secrecy.md for why the vote is shaped so.
"""

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
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from bot.db import models  # noqa: F401  (the tree and the members these tables refer to)
from bot.db.types import UTCDateTime


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
        # The scheduler's hourly look at the campaigns still running, of any period.
        Index("ix_eval_campaign_stage", "stage"),
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


class EvalSeat(SQLModel, table=True):
    """The electorate in ballot order (by name), fixed when the vote opens: a ballot's
    page is a range of seats. Nothing of any ballot is here (the counts stay alone in
    eval_tally)."""

    __tablename__ = "eval_seat"
    __table_args__ = (
        # The voter's own seat, and "is this member in the electorate".
        UniqueConstraint("campaign_id", "member_id", name="uq_eval_seat_member"),
        {"sqlite_with_rowid": False},
    )

    campaign_id: int = Field(
        sa_column=Column(ForeignKey("eval_campaign.id", ondelete="CASCADE"), primary_key=True)
    )
    seat: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    member_id: int = Field(foreign_key="member.id")


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
    # A member's own results ("my grade", the priority mark), across campaigns.
    __table_args__ = (Index("ix_eval_result_member", "member_id"),)

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
