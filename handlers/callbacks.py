"""Callback data: short ids only (Telegram allows 64 bytes), parsed strictly on every press.

Every class here derives from `Press`, the one place that decides what a press may
carry: a field is an `Id`, a `Page`, a `Word`, a `Key`, a `Period`, a `bool` or a
`Literal` (a class with any other field type fails at import), and `Press.unpack`
accepts only the exact text `pack` would have produced — no signs, spaces, leading
zeros or Unicode digits, every number in its range. A press that does not parse
matches no handler and reaches the fallback's "this button has expired" alert, so a
forged id never reaches a query (PostgreSQL's integer ends at 2³¹−1, SQLite's at 2⁶³−1).
"""

from __future__ import annotations

import typing
from contextvars import ContextVar
from typing import Annotated, Any, Literal, Self

from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData, CallbackQueryFilter
from aiogram.types import CallbackQuery
from magic_filter import MagicFilter
from pydantic import Field


class _Bounded:
    """Marks the field types below: each carries its range or pattern."""


BOUNDED = _Bounded()
MAX_ID = 2**31 - 1  # integer primary keys: PostgreSQL's `integer` ends here

Id = Annotated[int, Field(ge=0, le=MAX_ID), BOUNDED]
"""A row id; 0 where a class documents it as "the principal's own"."""
Page = Annotated[int, Field(ge=0, le=99_999), BOUNDED]
Small = Annotated[int, Field(ge=0, le=999), BOUNDED]
"""A small number chosen from a keyboard (a star level, a count)."""
FIRST_YEAR, LAST_YEAR = 2000, 2999
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR), BOUNDED]
Month12 = Annotated[int, Field(ge=1, le=12), BOUNDED]
Day = Annotated[int, Field(ge=0, le=31), BOUNDED]
Word = Annotated[str, Field(pattern=r"^[a-z_]{0,20}$"), BOUNDED]
"""An action or an enum value: lower-case ASCII letters and underscores."""
Key = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{0,40}$"), BOUNDED]
"""A rubric item key, a language code, a short value."""
Period = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$"), BOUNDED]
"""A month, YYYY-MM."""


def _checked(annotation: Any, metadata: list[Any]) -> bool:
    """bool, a Literal, or a number with both bounds / a text with a pattern."""
    if annotation is bool or typing.get_origin(annotation) is Literal:
        return True
    if annotation is int:
        kinds = {type(m).__name__ for m in metadata}
        return bool(kinds & {"Ge", "Gt"}) and bool(kinds & {"Le", "Lt"})
    if annotation is str:
        return any(getattr(m, "pattern", None) for m in metadata)
    return False


class PressFilter(CallbackQueryFilter):
    """aiogram's filter for a button class, rejecting other classes' presses by prefix.

    A press meets the filter of every callback handler registered before its own, and
    aiogram's `unpack` answers each with a raised exception: tens per press.
    """

    __slots__ = ("head",)

    def __init__(self, *, callback_data: type[Press], rule: MagicFilter | None = None) -> None:
        super().__init__(callback_data=callback_data, rule=rule)
        self.head = callback_data.__prefix__ + callback_data.__separator__

    async def __call__(self, query: Any) -> Any:
        data = query.data if isinstance(query, CallbackQuery) else None
        if not data or not (data.startswith(self.head) or data == self.callback_data.__prefix__):
            return False
        # A press may meet its class's filter twice: a group's RSVP meets the group
        # guard's `~Rsvp.filter()` before the RSVP handler's. It is read once.
        seen = _read.get()
        if seen is not None and seen[0] is query and seen[1] is self.callback_data:
            pressed = seen[2]
        else:
            try:
                pressed = self.callback_data.unpack(data)
            except (TypeError, ValueError):
                pressed = None
            _read.set((query, self.callback_data, pressed))
        if pressed is None or (self.rule is not None and not self.rule.resolve(pressed)):
            return False
        return {"callback_data": pressed}


# The last press read in this update's context: the query, its class, what it read as.
_read: ContextVar[tuple[Any, type[Press], Press | None] | None] = ContextVar(
    "branchbot_press_read", default=None
)


class Press(CallbackData, prefix="_"):
    """The base of every button's data: a strict schema, checked in one place."""

    @classmethod
    def filter(cls, rule: MagicFilter | None = None) -> PressFilter:
        return PressFilter(callback_data=cls, rule=rule)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for name, field in cls.model_fields.items():
            bounded = any(m is BOUNDED for m in field.metadata)
            if not (bounded or _checked(field.annotation, field.metadata)):
                raise TypeError(
                    f"{cls.__name__}.{name}: use a bounded type of handlers.callbacks "
                    "(Id, Page, Word, Key, …), bool or a Literal: every press is parsed "
                    "with its range"
                )

    @classmethod
    def unpack(cls, value: str) -> Self:
        printable = value.isascii() and value.isprintable()
        if len(value.encode()) > MAX_CALLBACK_LENGTH or not printable:
            raise ValueError("not a button of ours")
        data = super().unpack(value)
        if data.pack() != value:
            # "007", "+7", " 7", "true" parse, but no button of ours says them.
            raise ValueError("not in canonical form")
        return data


class Lang(Press, prefix="lg"):
    code: Key


# Joining steps carry no branch: it comes from the invite kept in the conversation.
class JoinPage(Press, prefix="jp"):
    page: Page


class JoinPick(Press, prefix="jk"):
    member: Id


class JoinNew(Press, prefix="jn"):
    pass


class JoinAsk(Press, prefix="ja"):
    member: Id


class Decide(Press, prefix="dc"):
    request: Id
    ok: bool


# The list of pending join requests (/requests): its pages, and a decision taken there,
# which redraws the same page.
class Requests(Press, prefix="rq"):
    page: Page = 0


class RequestDecide(Press, prefix="rd"):
    request: Id
    ok: bool
    page: Page = 0


class OrgView(Press, prefix="ov"):
    org: Id  # 0: the principal's own top level
    page: Page = 0


class OrgAct(Press, prefix="oa"):
    org: Id
    act: Word  # new | invite | revoke | staff | roster


class NewKind(Press, prefix="nk"):
    kind: Word


class NewDomain(Press, prefix="nd"):
    domain: Word


class RosterPage(Press, prefix="rp"):
    org: Id
    page: Page


class MemberCard(Press, prefix="mc"):
    member: Id


class MemberAct(Press, prefix="ma"):
    member: Id
    act: Word  # secretary | organiser | member | name | phone | status | category | unlink
    v: Id = 0  # the member's version the card showed


class MemberSet(Press, prefix="ms"):
    member: Id
    field: Word  # status | category
    value: Key
    v: Id = 0  # the member's version the card showed


class Noop(Press, prefix="no"):
    pass


class Month(Press, prefix="mo"):
    """The checklist of a branch (0: the principal's own) for a month, one page of it."""

    org: Id = 0
    page: Page = 0


class ItemView(Press, prefix="iv"):
    org: Id
    item: Key  # rubric item key


class LogStep(Press, prefix="lm"):
    """A press inside the meeting-log conversation: act names the step's action."""

    act: Word
    value: Key = ""


class Att(Press, prefix="at"):
    act: Word  # t(oggle) | all | page | done | rsvp
    member: Id = 0
    page: Page = 0


class MeetingOpen(Press, prefix="mt"):
    meeting: Id
    act: Word = "view"  # view | edit | delete | delete_yes
    v: Id = 0  # the meeting's version shown (delete_yes refuses a stale one)


class MeetingList(Press, prefix="ml"):
    org: Id
    page: Page = 0


class Rsvp(Press, prefix="rv"):
    notice: Id
    coming: bool


class GroupMove(Press, prefix="gm"):
    """Confirm (or not) a /linkgroup that moves a link; pressed in the group itself."""

    branch: Id
    ok: bool


class Announce(Press, prefix="an"):
    act: Word  # kind | back | cancel
    value: Key = ""


class StarList(Press, prefix="sl"):
    period: Period
    page: Page = 0


class StarAct(Press, prefix="sa"):
    snapshot: Id
    act: Word  # view | ok | set
    star: Small = 0
    v: Id = 0  # the snapshot's version the decision was shown


class StarAll(Press, prefix="sx"):
    period: Period
    act: Word = "confirm"  # confirm | close: ask; confirm_sure | close_sure: act
    n: Id = 0  # what the confirmation step named: branches to close / proposals waiting
    last: Id = 0  # confirm_sure: the newest proposal waiting (periods.Pending)


class EvidenceStep(Press, prefix="ev"):
    act: Word  # count | sure | grade | skip | cancel
    value: Key = ""


class ContentStep(Press, prefix="ct"):
    act: Word  # add | kind | domain | month | save | cancel
    value: Key = ""


class NewMeeting(Press, prefix="nm"):
    org: Id
    kind: Word = ""


class RecordItem(Press, prefix="ri"):
    org: Id
    item: Key


class FixItem(Press, prefix="fx"):
    """Correct the count recorded for an item this month, as the item view showed it."""

    org: Id
    item: Key
    v: Id  # the item's version (newest row) the view showed: anything since refuses it


# ---------------------------------------------------------------- democratic evaluation
# Ranges are part of the parse: a value outside them does not match, and the press
# falls through to the "expired button" alert with nothing written.


def _id():
    return Field(ge=1, le=2**31 - 1)


def _band():
    return Field(ge=0, le=9)


def _page():
    return Field(default=0, ge=0, le=10_000)


class EvalHome(Press, prefix="eh"):
    """The branch's home (open) and the superior's overview and lists; `org` narrows the
    superior's scope to one committee under them (0: all they oversee)."""

    act: str = Field(
        pattern=r"^(open|subtree|subtree_ask|approve_all|approve_ask|overview|overdue|subs"
        r"|commend|unqualified|priority)$"
    )
    page: int = _page()
    org: Id = 0


class EvalAdvance(Press, prefix="es"):
    campaign: int = _id()
    stage: str = Field(pattern=r"^(self|vote|review|notice|approval)$")
    org: Id = 0  # the committee the staff overview was narrowed to, to go back to


class EvalView(Press, prefix="ew"):
    campaign: int = _id()
    act: str = Field(
        pattern=r"^(home|self|status|vote|review|object|objections|grade|card|mentoring"
        r"|disposal)$"
    )
    page: int = _page()


class EvalCard(Press, prefix="ek"):
    """A branch's campaign card for the superior's staff; `org` is the committee their
    overview was narrowed to (0: none), where Back returns. (EvalView's "card" is the
    older button, still answered, without the committee.)"""

    campaign: int = _id()
    org: Id = 0


class SelfMark(Press, prefix="sf"):
    campaign: int = _id()
    item: int = Field(ge=0, le=99)
    band: int = _band()


class SelfAct(Press, prefix="sg"):
    campaign: int = _id()
    act: str = Field(pattern=r"^(page|summary|review|submit|cancel)$")
    page: int = Field(ge=0, le=9)


class Mark(Press, prefix="bm"):
    campaign: int = _id()
    cand: int = _id()
    band: int = _band()
    page: int = _page()


class BallotAct(Press, prefix="ba"):
    campaign: int = _id()
    act: str = Field(pattern=r"^(page|submit|confirm|back)$")
    page: int = _page()


class ReviewAct(Press, prefix="rw"):
    campaign: int = _id()
    member: int = _id()
    act: str = Field(pattern=r"^(view|grade|band|ded)$")
    value: int = Field(ge=0, le=99)


class ObjectionAct(Press, prefix="ob"):
    campaign: int = _id()
    objection: int = Field(ge=0, le=2**31 - 1)  # 0: a new objection
    act: str = Field(pattern=r"^(named|anon|answer)$")


class EvalReopen(Press, prefix="er"):
    """The superior's staff move a campaign back from `stage` (the one they saw)."""

    campaign: Id
    stage: Literal["vote", "notice", "approval", "final"]
    act: Literal["ask", "cancel"] = "ask"
    org: Id = 0  # the committee the staff overview was narrowed to, to go back to


class Mentor(Press, prefix="mn"):
    """Paired mentoring: pick a member, choose a mentor (paged), confirm. `shown` is the
    member's mentor when the choice was offered (0: none), so a stale choice is refused."""

    campaign: Id
    member: Id
    act: Literal["pick", "choose", "confirm"]
    mentor: Id = 0
    shown: Id = 0
    page: Page = 0


class MentorCheck(Press, prefix="mk"):
    """One side of a pairing says they met in `month` (from the monthly prompt)."""

    campaign: Id
    member: Id  # the one mentored
    month: Period


class Disposal(Press, prefix="dp"):
    """The disposal checklist of an unqualified member: `done` is what the step becomes,
    so a press made on an old view (the step already so) is refused."""

    campaign: Id
    member: Id
    act: Literal["view", "set"] = "view"
    step: Small = 0
    done: bool = False
    page: Page = 0  # the list page to go back to
    org: Id = 0  # and the committee it was narrowed to


class Cast(Press, prefix="bc"):
    act: Word  # nav | org | role | text | send | cancel | progress | notify
    org: Id = 0
    page: Page = 0
    value: Key = ""  # a role, or a broadcast id


class Notify(Press, prefix="nf"):
    topic: Key


class Ask(Press, prefix="ak"):
    intent: Word  # a bot.intents.Intent value, checked on every press


class Dash(Press, prefix="db"):
    """The superior's dashboard: org 0 is the person's own scope; view names a list."""

    org: Id = 0
    view: Word = "home"  # home | one | five | up | down | late | subs | all
    page: Page = 0


class RateBranch(Press, prefix="rb"):
    org: Id


class Chart(Press, prefix="ch"):
    kind: Word  # b(ranch) | c(ommittee)
    org: Id = 0


class ExportLedger(Press, prefix="xl"):
    org: Id = 0
