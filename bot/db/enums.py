"""The enumerations the tables store, without SQLAlchemy: the command line builds its
options from them and should not pay for the ORM to print `--help`."""

from __future__ import annotations

import enum


class OrgKind(enum.StrEnum):
    committee = "committee"
    branch = "branch"


class Domain(enum.StrEnum):
    """The four domains a branch belongs to (same strings as scoring/)."""

    village = "village"
    community = "community"
    agency = "agency"
    two_new = "two_new"


class Category(enum.StrEnum):
    """The four member categories of the Vanguard Index."""

    rural_community = "rural_community"
    agency = "agency"
    two_new = "two_new"
    mobile = "mobile"


class Role(enum.StrEnum):
    secretary = "secretary"
    organiser = "organiser"
    member = "member"


class MemberStatus(enum.StrEnum):
    active = "active"
    on_leave = "on_leave"
    mobile = "mobile"
    left = "left"


class InviteKind(enum.StrEnum):
    member = "member"
    staff = "staff"


class RequestStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    # Replaced by a later request of the same person, or made moot by their joining
    # another way: nobody decided it, and its old buttons must not act.
    withdrawn = "withdrawn"


class MeetingKind(enum.StrEnum):
    """Same strings as scoring's meeting kinds."""

    committee = "committee"
    group = "group"
    general = "general"
    lesson = "lesson"
    theme_day = "theme_day"
    org_life = "org_life"
    other = "other"


class ContentKind(enum.StrEnum):
    video = "video"
    micro_lesson = "micro_lesson"
    practice = "practice"
