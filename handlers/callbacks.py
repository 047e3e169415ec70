"""Callback data: short ids only (Telegram allows 64 bytes), re-checked on every press."""

from aiogram.filters.callback_data import CallbackData
from pydantic import Field


class Lang(CallbackData, prefix="lg"):
    code: str


# Joining steps carry no branch: it comes from the invite kept in the conversation.
class JoinPage(CallbackData, prefix="jp"):
    page: int


class JoinPick(CallbackData, prefix="jk"):
    member: int


class JoinNew(CallbackData, prefix="jn"):
    pass


class JoinAsk(CallbackData, prefix="ja"):
    member: int


class Decide(CallbackData, prefix="dc"):
    request: int
    ok: bool


class OrgView(CallbackData, prefix="ov"):
    org: int  # 0: the principal's own top level
    page: int = 0


class OrgAct(CallbackData, prefix="oa"):
    org: int
    act: str  # new | invite | revoke | staff | roster


class NewKind(CallbackData, prefix="nk"):
    kind: str


class NewDomain(CallbackData, prefix="nd"):
    domain: str


class RosterPage(CallbackData, prefix="rp"):
    org: int
    page: int


class MemberCard(CallbackData, prefix="mc"):
    member: int


class MemberAct(CallbackData, prefix="ma"):
    member: int
    act: str  # secretary | organiser | member | name | phone | status | category | unlink


class MemberSet(CallbackData, prefix="ms"):
    member: int
    field: str  # status | category
    value: str


class Noop(CallbackData, prefix="no"):
    pass


class Month(CallbackData, prefix="mo"):
    """The checklist of a branch (0: the principal's own) for a month, one page of it."""

    org: int = 0
    page: int = 0


class ItemView(CallbackData, prefix="iv"):
    org: int
    item: str  # rubric item key (short)


class LogStep(CallbackData, prefix="lm"):
    """A press inside the meeting-log conversation: act names the step's action."""

    act: str
    value: str = ""


class Att(CallbackData, prefix="at"):
    act: str  # t(oggle) | all | page | done | rsvp
    member: int = 0
    page: int = 0


class MeetingOpen(CallbackData, prefix="mt"):
    meeting: int
    act: str = "view"  # view | edit | delete | delete_yes


class MeetingList(CallbackData, prefix="ml"):
    org: int
    page: int = 0


class Rsvp(CallbackData, prefix="rv"):
    notice: int
    coming: bool


class Announce(CallbackData, prefix="an"):
    act: str  # kind | cancel
    value: str = ""


class StarList(CallbackData, prefix="sl"):
    period: str  # YYYY-MM
    page: int = 0


class StarAct(CallbackData, prefix="sa"):
    snapshot: int
    act: str  # view | ok | set
    star: int = 0


class StarAll(CallbackData, prefix="sx"):
    period: str
    act: str = "confirm"  # confirm | close


class EvidenceStep(CallbackData, prefix="ev"):
    act: str  # count | grade | skip | cancel
    value: str = ""


class ContentStep(CallbackData, prefix="ct"):
    act: str  # add | kind | domain | month | save | cancel
    value: str = ""


class NewMeeting(CallbackData, prefix="nm"):
    org: int
    kind: str = ""


class RecordItem(CallbackData, prefix="ri"):
    org: int
    item: str


# ---------------------------------------------------------------- democratic evaluation
# Ranges are part of the parse: a value outside them does not match, and the press
# falls through to the "expired button" alert with nothing written.


def _id():
    return Field(ge=1, le=2**31 - 1)


def _band():
    return Field(ge=0, le=9)


def _page():
    return Field(default=0, ge=0, le=10_000)


class EvalHome(CallbackData, prefix="eh"):
    act: str = Field(pattern=r"^(open|subtree|approve_all|overview|overdue)$")
    page: int = _page()


class EvalAdvance(CallbackData, prefix="es"):
    campaign: int = _id()
    stage: str = Field(pattern=r"^(self|vote|review|notice|approval)$")


class EvalView(CallbackData, prefix="ew"):
    campaign: int = _id()
    act: str = Field(pattern=r"^(home|self|status|vote|review|object|objections|grade)$")
    page: int = _page()


class SelfMark(CallbackData, prefix="sf"):
    campaign: int = _id()
    item: int = Field(ge=0, le=99)
    band: int = _band()


class SelfAct(CallbackData, prefix="sg"):
    campaign: int = _id()
    act: str = Field(pattern=r"^(page|summary|review|submit|cancel)$")
    page: int = Field(ge=0, le=9)


class Mark(CallbackData, prefix="bm"):
    campaign: int = _id()
    cand: int = _id()
    band: int = _band()
    page: int = _page()


class BallotAct(CallbackData, prefix="ba"):
    campaign: int = _id()
    act: str = Field(pattern=r"^(page|submit|confirm|back)$")
    page: int = _page()


class ReviewAct(CallbackData, prefix="rw"):
    campaign: int = _id()
    member: int = _id()
    act: str = Field(pattern=r"^(view|grade|band|ded)$")
    value: int = Field(ge=0, le=99)


class ObjectionAct(CallbackData, prefix="ob"):
    campaign: int = _id()
    objection: int = Field(ge=0, le=2**31 - 1)  # 0: a new objection
    act: str = Field(pattern=r"^(named|anon|answer)$")


class Cast(CallbackData, prefix="bc"):
    act: str  # nav | org | role | text | send | cancel | progress | notify
    org: int = 0
    page: int = 0
    value: str = ""  # a role, or a broadcast id


class Notify(CallbackData, prefix="nf"):
    topic: str


class Ask(CallbackData, prefix="ak"):
    intent: str  # a bot.intents.Intent value, checked on every press


class Dash(CallbackData, prefix="db"):
    """The superior's dashboard: org 0 is the person's own scope; view names a list."""

    org: int = 0
    view: str = "home"  # home | one | five | up | down | late | subs | all
    page: int = 0


class RateBranch(CallbackData, prefix="rb"):
    org: int


class Chart(CallbackData, prefix="ch"):
    kind: str  # b(ranch) | c(ommittee)
    org: int = 0


class ExportLedger(CallbackData, prefix="xl"):
    org: int = 0
