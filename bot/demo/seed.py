"""The demo city: enough people and history that every feature can be tried at once."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import MemberStatus, Organisation, Role, Staff
from bot.demo import city as city_extra
from bot.services import content, evidence, meetings, members, onboarding, orgs, periods, rsvp
from bot.services.audit import Actor
from bot.services.members import Principal
from scoring import FortressRubric, checklist_items, load_fortress_rubric
from scoring.model import EvidenceKind


@dataclass(frozen=True)
class Persona:
    telegram_id: int
    name: str
    role_zh: str
    role_en: str
    phone: str | None = None


# Telegram ids of the people the browser chat lets you act as.
STAFF = Persona(9001, "周组织", "市委组织部工作人员", "city organisation department staff")
SECRETARY = Persona(
    1001, "李春梅", "书记 · 红旗村党支部", "secretary, Hongqi Village branch", "13800000001"
)
ORGANISER = Persona(
    1002, "王建国", "组织委员 · 红旗村党支部", "organising member, Hongqi Village", "13800000002"
)
MEMBER = Persona(
    1003, "张伟", "党员 · 红旗村党支部", "member, Hongqi Village branch", "13800000003"
)
NEWCOMER = Persona(
    2001,
    "陈晓",
    "新用户（名册中有，未绑定）",
    "new user (on the roster, not linked)",
    "13800000011",
)
PERSONAS = (SECRETARY, ORGANISER, MEMBER, STAFF, NEWCOMER)

CITY = "冷水江市委"
TOWN_A = "沙塘湾街道党工委"
TOWN_B = "市直机关工委"

BRANCHES = [
    # (parent, name, domain, [(name, role, status, phone)])
    (
        TOWN_A,
        "红旗村党支部",
        "village",
        [
            ("李春梅", "secretary", "active", SECRETARY.phone),
            ("王建国", "organiser", "active", ORGANISER.phone),
            ("张伟", "member", "active", MEMBER.phone),
            ("陈晓", "member", "active", NEWCOMER.phone),
            ("刘洋", "member", "active", "13800000012"),
            ("杨秀英", "member", "on_leave", None),
            ("赵磊", "member", "mobile", "13800000014"),
            ("黄丽", "member", "active", None),
            ("周强", "member", "active", "13800000016"),
            ("吴敏", "member", "active", None),
            ("徐静", "member", "active", "13800000018"),
            ("孙浩", "member", "active", None),
        ],
    ),
    (
        TOWN_A,
        "锑都社区党支部",
        "community",
        [
            ("胡晓燕", "secretary", "active", "13800000021"),
            ("朱志强", "organiser", "active", "13800000022"),
            ("高洁", "member", "active", None),
            ("林峰", "member", "active", "13800000024"),
            ("何娟", "member", "active", None),
            ("郭鹏", "member", "on_leave", None),
            ("马丽娜", "member", "active", "13800000027"),
            ("罗斌", "member", "active", None),
            ("梁雪", "member", "active", None),
            ("宋涛", "member", "active", "13800000030"),
        ],
    ),
    (
        TOWN_B,
        "市财政局机关党支部",
        "agency",
        [
            ("郑红", "secretary", "active", "13800000031"),
            ("谢军", "organiser", "active", "13800000032"),
            ("韩梅", "member", "active", None),
            ("唐磊", "member", "active", "13800000034"),
            ("冯雪", "member", "active", None),
            ("于洋", "member", "active", None),
            ("董芳", "member", "active", "13800000037"),
            ("萧然", "member", "active", None),
            ("程刚", "member", "active", None),
        ],
    ),
    (
        TOWN_B,
        "新材料科技公司党支部",
        "two_new",
        [
            ("曹颖", "secretary", "active", "13800000041"),
            ("袁野", "organiser", "active", "13800000042"),
            ("邓超", "member", "active", None),
            ("许娜", "member", "active", "13800000044"),
            ("傅强", "member", "mobile", None),
            ("沈悦", "member", "active", None),
            ("曾毅", "member", "active", "13800000047"),
            ("彭丹", "member", "active", None),
            ("吕博", "member", "active", None),
        ],
    ),
]

CATEGORY_OF = {
    "village": "rural_community",
    "community": "rural_community",
    "agency": "agency",
    "two_new": "two_new",
}


TZ = ZoneInfo("Asia/Shanghai")
# The 红旗村党支部 group. bot/demo/run.py creates it in the emulator with this id.
GROUP_CHAT_ID = -1001000000101
GROUP_TITLE = "红旗村党支部群"


@dataclass(frozen=True)
class Habits:
    """How a branch keeps its month, so that the city's star levels differ."""

    place: str
    time: str
    absent: tuple[int, int]  # how many counted members miss a theme party day, at most
    skip: float  # the chance a monthly task (group meeting, volunteer service…) is not done
    grade: str  # what the superior usually grades its work
    featured: tuple[str, ...] = ()


HABITS = {
    "红旗村党支部": Habits("村部会议室", "19:30", (0, 2), 0.0, "A", ("featured_brand",)),
    "锑都社区党支部": Habits("社区党群服务中心", "15:00", (0, 1), 0.05, "A"),
    "市财政局机关党支部": Habits("局机关三楼会议室", "16:00", (1, 2), 0.15, "B"),
    "新材料科技公司党支部": Habits("公司党建活动室", "17:30", (1, 3), 0.4, "B"),
}

THEME_DAYS = {
    1: "新春走访慰问困难党员和群众",
    2: "学习贯彻中央一号文件精神",
    3: "学雷锋志愿服务进村入户",
    4: "清明祭英烈，传承红色基因",
    5: "重温入党誓词，争当先锋模范",
    6: "安全生产月：党员带头排查隐患",
    7: "庆祝建党节，讲好身边党员故事",
    8: "防汛抗旱，党员先锋岗在行动",
    9: "学习党章党规，强化党员意识",
    10: "我和祖国共成长",
    11: "学习贯彻全会精神",
    12: "年终回顾，为民主评议作准备",
}
LESSONS = {
    1: "党课：坚定理想信念，筑牢思想根基",
    2: "党课：全面从严治党永远在路上",
    3: "党课：践行群众路线，办好民生实事",
    4: "党课：以党建引领基层治理",
}
ORG_LIFE = "年度组织生活会暨民主评议党员"
NOTES = {
    "committee": "传达上级会议精神，研究本月党员教育、党费收缴和志愿服务安排。",
    "group": "党小组成员交流学习体会，收集群众意见建议。",
    "general": "通报支部季度工作，讨论下一阶段重点任务。",
    "theme_day": "集中学习、交流讨论，并开展志愿服务。",
}
CONTENT = [
    ("video", "党员教育片：《村支书的一天》", "https://edu.example.cn/videos/{month}"),
    ("micro_lesson", "示范微党课：小网格里的大民生", "https://edu.example.cn/lessons/{month}"),
    ("practice", "实践活动提示：入户走访，帮办一件实事", "https://edu.example.cn/practice/{month}"),
]
EVERY_MONTH = ("dues_collected",)
FULL_MONTHS = 3
HISTORY = 6  # closed months, the last one included
ADJUST_REASON = "防汛抢险中党员突击队表现突出，经市委组织部研究上调一星"
SHOWN_ABSENT_FROM_COMMITTEE = "王建国外出学习，支委会未达到法定人数，需另行召开。"


def _month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _previous(today: date) -> str:
    return (
        _month_key(today.year, today.month - 1)
        if today.month > 1
        else _month_key(today.year - 1, 12)
    )


def demo_months(now: datetime) -> tuple[list[str], str, str]:
    """(closed-or-past months with history, the previous month, this month), in Shanghai.

    History covers this year's months before this one; in January there are none, so it
    falls back to last December, which is then the previous month too.
    """
    today = now.astimezone(TZ).date()
    past = [_month_key(today.year, m) for m in range(1, today.month)] or [_previous(today)]
    return past, _previous(today), _month_key(today.year, today.month)


def _last_day(year: int, month: int) -> date:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return following - timedelta(days=1)


def _at(day: date, hour: int, now: datetime) -> datetime:
    """That day at `hour` in Shanghai, as the moment something was written; never after now."""
    return min(datetime.combine(day, time(hour), TZ).astimezone(UTC), now)


@dataclass
class _Branch:
    org: Organisation
    habits: Habits
    principal: Principal  # who writes its records (its secretary, or the superior's staff)
    counted: list[int] = field(default_factory=list)
    committee: list[int] = field(default_factory=list)
    done_periods: set[tuple[str, str]] = field(default_factory=set)
    rng: random.Random = field(default_factory=random.Random)


async def seed(
    session: AsyncSession, now: datetime, *, rubric: FortressRubric | None = None
) -> dict[str, object]:
    """Create the demo city with this year's history; returns what the demo prints and uses.

    Everything goes through the services, as the bot itself would write it.
    """
    rubric = rubric or load_fortress_rubric()
    actor = Actor.cli("demo seed")
    city = await orgs.create_org(session, actor, now, name=CITY, kind="committee")
    towns = {}
    for name in (TOWN_A, TOWN_B):
        towns[name] = await orgs.create_org(
            session, actor, now, name=name, kind="committee", parent_id=city.id
        )
    session.add(
        Staff(org_id=city.id, telegram_id=STAFF.telegram_id, name=STAFF.name, created_at=now)
    )
    staff = Principal(telegram_id=STAFF.telegram_id, staff_orgs=[city])
    linked = {p.name: p.telegram_id for p in (SECRETARY, ORGANISER, MEMBER)}
    branches: list[_Branch] = []
    for parent, name, domain, people in BRANCHES:
        branch = await orgs.create_org(
            session,
            actor,
            now,
            name=name,
            kind="branch",
            parent_id=towns[parent].id,
            domain=domain,
        )
        first = not branches
        principal = staff
        for person, role, status, phone in people:
            member = await members.add_member(
                session,
                actor,
                now,
                org_id=branch.id,
                name=person,
                category="mobile" if status == "mobile" else CATEGORY_OF[domain],
                phone=phone,
                joined_on=date(2015, 7, 1),
            )
            if role != "member":
                await members.set_role(session, actor, now, member, Role(role))
            if status != "active":
                member.status = MemberStatus(status).value
            if person in linked and first:
                await members.link_telegram(session, actor, now, member, linked[person])
                if person == SECRETARY.name:
                    principal = Principal(SECRETARY.telegram_id, member=member, branch=branch)
        branches.append(_Branch(branch, HABITS[name], principal, rng=random.Random(name)))
    await session.flush()
    current = demo_months(now)[2]
    added = await city_extra.grow(session, rubric, now, city, list(towns.values()), current)
    root = Principal(telegram_id=0, is_superuser=True)
    hongqi = branches[0]
    invite = await onboarding.create_invite(session, root, now, hongqi.org.id)
    info = await _history(session, rubric, now, city, staff, branches)
    info |= await _evaluations(session, now, staff, hongqi)
    return {
        "branch_id": hongqi.org.id,
        "city_id": city.id,
        "invite": invite.code,
        "group_chat_id": GROUP_CHAT_ID,
        "branches": len(branches) + added,
        **info,
    }


async def _history(
    session: AsyncSession,
    rubric: FortressRubric,
    now: datetime,
    city: Organisation,
    staff: Principal,
    branches: list[_Branch],
) -> dict[str, object]:
    past, previous, current = demo_months(now)
    today = now.astimezone(TZ).date()
    month_start = today.replace(day=1)
    material = {}
    for kind, title, url in CONTENT:
        item = await content.add_content(
            session,
            staff,
            _at(month_start, 9, now),
            city.id,
            current,
            kind,
            title,
            url=url.format(month=current),
        )
        material[kind] = item.id
    for b in branches:
        roster = await meetings.attendance_roster(session, b.org.id)
        b.counted = [e.member.id for e in roster if e.counted]
        b.committee = [e.member.id for e in roster if e.member.role in meetings.COMMITTEE_ROLES]
        if b.habits.featured:
            first = date.fromisoformat(f"{past[0]}-02")
            await evidence.choose_featured(
                session, rubric, b.principal, _at(first, 10, now), b.org.id, b.habits.featured
            )
        quarters_seen: set[tuple[int, int]] = set()
        for i, month in enumerate(past):
            year, number = int(month[:4]), int(month[5:])
            quarter = (year, (number - 1) // 3 + 1)
            quarterly = quarter not in quarters_seen
            quarters_seen.add(quarter)
            # Dues every month; the other items and the party group meetings in the
            # months the previous month's score and this month's checklist read (fast).
            full = i >= len(past) - FULL_MONTHS
            await _past_month(session, rubric, now, b, year, number, quarterly, i == 0, full)
            only = None if full else EVERY_MONTH
            await _evidence(session, rubric, staff, now, b, month, _last_day(year, number), only)
        demo_branch = b is branches[0]
        await _this_month(session, rubric, now, b, today, material["video"], demo_branch)
    # Half a year closed, so charts, the compliance trend and movers have a history; the
    # months before last were confirmed as proposed, last month the demo way (one raised).
    earlier = [m for m in past if m < previous][-(HISTORY - 1) :]
    for month in earlier:
        await periods.close_period(session, rubric, now, month)
    await city_extra.confirm_history(session, earlier, STAFF.telegram_id, now)
    await periods.close_period(session, rubric, now, previous)
    await _confirm(session, staff, now, previous)
    hongqi = branches[0]
    await rsvp.link_group(session, hongqi.principal, now, hongqi.org.id, GROUP_CHAT_ID)
    starts = datetime.combine(today + timedelta(days=3), time(19, 30), TZ)
    notice = await rsvp.announce(
        session,
        hongqi.principal,
        now,
        hongqi.org.id,
        "group",
        starts,
        hongqi.habits.place,
        "党小组会：学习贯彻全会精神，交流心得体会",
    )
    for who in (SECRETARY, ORGANISER):
        await rsvp.answer(session, now, notice.id, who.telegram_id, True)
    return {"previous": previous, "period": current, "notice_id": notice.id}


def _some(b: _Branch, people: list[int], absent: tuple[int, int]) -> list[int]:
    """Most of `people`: a few (between absent[0] and absent[1]) stayed away."""
    away = b.rng.randint(*absent)
    return sorted(b.rng.sample(people, max(0, len(people) - away)))


async def _log(
    session: AsyncSession,
    rubric: FortressRubric,
    now: datetime,
    b: _Branch,
    kind: str,
    day: date,
    topic: str,
    attendees: list[int],
    *,
    notes: str | None = None,
    content_id: int | None = None,
) -> meetings.SavedMeeting:
    draft = meetings.MeetingDraft(
        org_id=b.org.id,
        kind=kind,
        held_on=day,
        topic=topic,
        time=b.habits.time,
        place=b.habits.place,
        notes=notes if notes is not None else NOTES.get(kind),
        attendee_ids=attendees,
        content_id=content_id,
    )
    return await meetings.save_meeting(session, rubric, b.principal, _at(day, 21, now), draft)


async def _past_month(
    session: AsyncSession,
    rubric: FortressRubric,
    now: datetime,
    b: _Branch,
    year: int,
    month: int,
    quarterly: bool,
    first: bool,
    group: bool,
) -> None:
    """A month the branch kept: the committee meeting and theme party day; usually a party
    group meeting (logged in the recent months only, to keep the seed fast); the general
    meeting and party lesson in the quarter's first month seen; the organisational-life
    meeting in the first month."""
    h = b.habits
    await _log(
        session,
        rubric,
        now,
        b,
        "committee",
        date(year, month, 3),
        f"{month}月支委会：研究部署本月重点工作",
        b.committee,
    )
    await _log(
        session,
        rubric,
        now,
        b,
        "theme_day",
        date(year, month, 10),
        f"主题党日：{THEME_DAYS[month]}",
        _some(b, b.counted, h.absent),
    )
    if group and b.rng.random() >= h.skip:
        await _log(
            session,
            rubric,
            now,
            b,
            "group",
            date(year, month, 18),
            f"{month}月党小组会：学习交流",
            _some(b, b.counted, (1, 3)),
        )
    if quarterly:
        q = (month - 1) // 3 + 1
        await _log(
            session,
            rubric,
            now,
            b,
            "general",
            date(year, month, 22),
            f"第{q}季度支部党员大会",
            _some(b, b.counted, h.absent),
        )
        await _log(
            session,
            rubric,
            now,
            b,
            "lesson",
            date(year, month, 22),
            LESSONS[q],
            _some(b, b.counted, h.absent),
            notes="书记讲党课，党员交流发言。",
        )
    if first:
        await _log(
            session,
            rubric,
            now,
            b,
            "org_life",
            date(year, month, 25),
            ORG_LIFE,
            _some(b, b.counted, (0, 1)),
            notes="开展批评与自我批评，民主评议党员。",
        )


async def _evidence(
    session: AsyncSession,
    rubric: FortressRubric,
    staff: Principal,
    now: datetime,
    b: _Branch,
    month: str,
    day: date,
    only: tuple[str, ...] | None = None,
    partly: bool = False,
) -> None:
    """What a branch records besides meetings in `month` (only these items, if given);
    items of a quarter, half or year once in their period; grades by the superior."""
    at = _at(day, 18, now)
    featured = list(b.habits.featured)
    for spec in checklist_items(rubric, b.org.domain, featured, month):
        if only is not None and spec.key not in only:
            continue
        if spec.evidence in (EvidenceKind.MEETINGS, EvidenceKind.ATTENDANCE):
            continue
        if spec.part.value == "bonus":
            continue
        if (spec.key, spec.period_key) in b.done_periods:
            continue
        monthly = spec.period.value == "month"
        if only is None and spec.key != "dues_collected" and b.rng.random() < b.habits.skip:
            continue
        b.done_periods.add((spec.key, spec.period_key))
        kwargs: dict[str, object] = {"month": month}
        writer = b.principal
        if spec.evidence is EvidenceKind.GRADE:
            writer = staff
            kwargs["grade"] = b.habits.grade
        elif spec.evidence is EvidenceKind.RATIO:
            of = len(b.counted) + 2 if spec.key == "dues_collected" else 40
            kwargs["of"] = of
            kwargs["count"] = of if b.habits.skip < 0.1 else of - b.rng.randint(0, 3)
        elif spec.evidence is EvidenceKind.EVENTS:
            kwargs["count"] = 1 if partly else b.rng.randint(2, 3) if monthly else 2
        await evidence.record_evidence(session, rubric, writer, at, b.org.id, spec.key, **kwargs)


async def _this_month(
    session: AsyncSession,
    rubric: FortressRubric,
    now: datetime,
    b: _Branch,
    today: date,
    video_id: int,
    demo_branch: bool,
) -> None:
    """The month in progress: some done, some open; the demo branch's committee meeting
    missed its quorum (one of the two committee members came)."""
    year, month = today.year, today.month
    committee_day = min(date(year, month, 3), today)
    theme_day = min(date(year, month, 10), today)
    committee = b.committee[:1] if demo_branch else b.committee
    await _log(
        session,
        rubric,
        now,
        b,
        "committee",
        committee_day,
        f"{month}月支委会：研究部署本月重点工作",
        committee,
        notes=SHOWN_ABSENT_FROM_COMMITTEE if demo_branch else None,
    )
    await _log(
        session,
        rubric,
        now,
        b,
        "theme_day",
        theme_day,
        f"主题党日：{THEME_DAYS[month]}",
        _some(b, b.counted, (1, 1)),
        content_id=video_id,
    )
    items = ("dues_collected", "volunteer_service") if demo_branch else EVERY_MONTH
    current = _month_key(year, month)
    await _evidence(session, rubric, b.principal, now, b, current, today, only=items, partly=True)


async def _confirm(session: AsyncSession, staff: Principal, now: datetime, period: str) -> None:
    """The superior confirms the proposed levels, raising one branch with a reason."""
    page = await periods.proposals(session, staff, period)
    raised = next(
        (s for s, org in page.items if org.name == BRANCHES[1][1] and s.proposed_star < 5),
        None,
    )
    if raised is not None:
        await periods.confirm(
            session, staff, now, raised.id, star=raised.proposed_star + 1, reason=ADJUST_REASON
        )
    await periods.confirm_all(session, staff, now, period)


async def _evaluations(
    session: AsyncSession, now: datetime, staff: Principal, branch: _Branch
) -> dict[str, object]:
    """Last year's democratic evaluation, approved; this year's, with the vote open.

    The demo's linked people (secretary, organising member, member) have not voted yet
    this year, so they can try the ballot."""
    from bot.services import ballots, evaluation
    from scoring import load_vanguard_rubric

    vrubric = load_vanguard_rubric()
    today = now.astimezone(TZ).date()
    people = await evaluation.eligible_members(session, branch.org.id)
    linked = {p.telegram_id for p in (SECRETARY, ORGANISER, MEMBER)}
    rng = random.Random("evaluation")

    def as_member(m) -> Principal:
        return Principal(telegram_id=m.telegram_id or 0, member=m, branch=branch.org)

    async def run(period: str, start: date, voters: list) -> object:
        c = await evaluation.open_campaign(
            session, branch.principal, now, start, branch.org.id, period
        )
        for m in people:
            items = evaluation.self_questions(vrubric, m.category)
            answers = {i.key: rng.choice((0, 1, 1, 1)) for i in items}
            await evaluation.save_self(
                session, as_member(m), now, start, c.id, answers, "", vrubric
            )
        await evaluation.advance(session, branch.principal, now, start, c.id, "self", vrubric)
        for m in voters:
            marks = {o.id: rng.choice((0, 1, 1, 1, 2)) for o in people if o.id != m.id}
            await ballots.submit_ballot(session, as_member(m), start, c.id, marks, vrubric)
        return c

    last = str(today.year - 1)
    c = await run(last, date(today.year - 1, 12, 1), people)
    after = date(today.year, 1, 20)  # past every deadline of last year's campaign
    for stage, who in (("vote", branch.principal), ("review", branch.principal)):
        await evaluation.advance(session, who, now, after, c.id, stage, vrubric)
    await evaluation.advance(session, branch.principal, now, after, c.id, "notice", vrubric)
    await evaluation.advance(session, staff, now, after, c.id, "approval", vrubric)
    # This year's: opened 16 days ago, so the self-assessment is over and the vote runs.
    others = [m for m in people if m.telegram_id not in linked]
    current = await run(str(today.year), today - timedelta(days=16), others)
    return {"evaluation_id": current.id}
