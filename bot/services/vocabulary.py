"""The words cities write in their files, and what each one means: one place for all.

A city's roster says 农村和社区党员 where the scheme's four categories are named
rural & community, agency, two-new and mobile; its organisation list says 非公企业 for
the two-new domain. Every table below maps the words found in real files to the stored
value; the first word of each tuple is what an export in Chinese writes, so a file
exported and imported again reads the same. A test checks every word.

Words are compared by `key`: case, spaces, underscores, dashes and bracketed notes
("（必填）") do not count.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from bot.db.enums import Category, Domain, MemberStatus, OrgKind, Role

CATEGORY_WORDS: dict[Category, tuple[str, ...]] = {
    Category.rural_community: (
        "农村社区党员",
        "农村和社区党员",
        "农村及社区党员",
        "农村、社区党员",
        "农村党员",
        "社区党员",
        "城市社区党员",
        "城镇社区党员",
        "村党员",
        "农村社区",
        "农村和社区",
        "农村",
        "城市社区",
        "社区",
        "rural_community",
        "rural",
        "community",
        "rural and community",
        "rural & community",
    ),
    Category.agency: (
        "机关企事业单位党员",
        "机关党员",
        "企事业单位党员",
        "机关事业单位党员",
        "机关和企事业单位党员",
        "事业单位党员",
        "国有企业党员",
        "国企党员",
        "企业党员",
        "机关企事业单位",
        "机关",
        "agency",
    ),
    Category.two_new: (
        "两新组织党员",
        "两新党员",
        "非公企业党员",
        "非公有制企业党员",
        "非公有制经济组织党员",
        "非公经济组织党员",
        "社会组织党员",
        "新经济组织党员",
        "新社会组织党员",
        "民营企业党员",
        "两新组织",
        "两新",
        "two_new",
        "two new",
    ),
    Category.mobile: ("流动党员", "外出流动党员", "外出党员", "流动", "mobile"),
}

DOMAIN_WORDS: dict[Domain, tuple[str, ...]] = {
    Domain.village: ("农村", "农村领域", "村", "行政村", "乡村", "village", "rural"),
    Domain.community: (
        "城市社区",
        "城市社区领域",
        "社区",
        "社区领域",
        "城镇社区",
        "街道社区",
        "community",
        "urban community",
    ),
    Domain.agency: (
        "机关企事业单位",
        "机关企事业单位领域",
        "机关",
        "机关单位",
        "机关事业单位",
        "企事业单位",
        "事业单位",
        "国有企业",
        "国企",
        "agency",
    ),
    Domain.two_new: (
        "两新组织",
        "两新组织领域",
        "两新",
        "非公企业",
        "非公有制企业",
        "非公有制经济组织",
        "非公经济组织",
        "社会组织",
        "新经济组织",
        "新社会组织",
        "民营企业",
        "two_new",
        "two new",
    ),
}

STATUS_WORDS: dict[MemberStatus, tuple[str, ...]] = {
    MemberStatus.active: ("正常", "在岗", "在册", "在职", "正式党员", "预备党员", "active"),
    MemberStatus.on_leave: ("请假", "病假", "长期病假", "因病请假", "on_leave", "on leave"),
    MemberStatus.mobile: ("流动", "外出流动", "流动党员", "外出", "mobile"),
    MemberStatus.left: (
        "已转出",
        "转出",
        "离开",
        "迁出",
        "组织关系转出",
        "关系转出",
        "left",
    ),
}

ROLE_WORDS: dict[Role, tuple[str, ...]] = {
    Role.secretary: ("支部书记", "书记", "党支部书记", "secretary", "branch secretary"),
    Role.organiser: (
        "组织委员",
        "organiser",
        "organizer",
        "organising member",
        "organizing member",
    ),
    Role.member: ("党员", "普通党员", "member"),
}

LANGUAGE_WORDS: dict[str, tuple[str, ...]] = {
    "zh_Hans": ("中文", "简体中文", "汉语", "zh_Hans", "zh", "zh-cn", "chinese"),
    "en": ("English", "英文", "英语", "en"),
}

KIND_WORDS: dict[OrgKind, tuple[str, ...]] = {
    OrgKind.committee: (
        "党委",
        "党工委",
        "党总支",
        "党组",
        "委员会",
        "committee",
    ),
    OrgKind.branch: ("党支部", "支部", "联合党支部", "branch"),
}

# Column headers, roster and organisation list alike.
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "roster_no": ("编号", "党员编号", "id", "roster_no", "roster number", "number"),
    "name": ("姓名", "名字", "name", "full name"),
    "branch": (
        "所在党组织",
        "所在支部",
        "所在党支部",
        "所属支部",
        "所属党支部",
        "所属党组织",
        "党组织",
        "支部",
        "branch",
        "organisation",
        "organization",
    ),
    "domain": ("领域", "所属领域", "domain"),
    "category": ("人员类别", "类别", "党员类别", "党员类型", "category"),
    "role": ("职务", "党内职务", "role", "position"),
    "status": ("状态", "党员状态", "status"),
    "phone": ("手机号码", "手机号", "手机", "电话", "联系电话", "phone", "mobile", "phone number"),
    "joined": ("入党日期", "入党时间", "加入日期", "joined", "joined on", "join date"),
    "language": ("语言", "language", "locale"),
}

ORG_HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "path": ("路径", "完整路径", "党组织路径", "path", "full path"),
    "parent": ("上级党组织", "上级", "上级组织", "parent", "superior"),
    "name": ("名称", "党组织名称", "组织名称", "name"),
    "kind": ("类型", "组织类型", "党组织类型", "kind", "type"),
    "domain": ("领域", "所属领域", "domain"),
    "timezone": ("时区", "time zone", "timezone"),
}

_SPACES = re.compile(r"[\s_\-*·、]+")
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")


def key(text: str) -> str:
    """Compare words ignoring case, spaces, underscores, dashes and '(optional)' notes."""
    return _SPACES.sub("", _BRACKETED.sub("", text)).casefold()


def lookup(words: dict[Any, tuple[str, ...]]) -> dict[str, str]:
    return {key(w): str(value) for value, ws in words.items() for w in ws}


FIELD_WORDS: dict[str, dict[Any, tuple[str, ...]]] = {
    "category": CATEGORY_WORDS,
    "domain": DOMAIN_WORDS,
    "status": STATUS_WORDS,
    "role": ROLE_WORDS,
    "language": LANGUAGE_WORDS,
    "kind": KIND_WORDS,
}
LOOKUPS: dict[str, dict[str, str]] = {name: lookup(words) for name, words in FIELD_WORDS.items()}


def meaning(field_name: str, text: str) -> str | None:
    """The stored value a word means in a column, or None if the word is unknown."""
    return LOOKUPS[field_name].get(key(text))


def did_you_mean(text: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The closest candidate, when one is close enough to be a likely typo.

    Names of one kind end alike ("…村党支部", "…党委"): the ending says what kind of unit
    they are, not which one. A candidate must also be close in what is left once the
    ending both share is set aside, or "新河村党支部" would be offered "某某村党支部"."""
    by_key = {key(c): c for c in candidates}
    typed = key(text)
    close = difflib.get_close_matches(typed, list(by_key), n=max(len(by_key), 1), cutoff=0.6)
    found = [k for k in close if _close_before_the_ending(typed, k)]
    return by_key[found[0]] if found else None


def _close_before_the_ending(a: str, b: str) -> bool:
    shared = 0
    while shared < min(len(a), len(b)) and a[-1 - shared] == b[-1 - shared]:
        shared += 1
    a, b = a[: len(a) - shared], b[: len(b) - shared]
    if not (a and b):
        return len(a) + len(b) <= 1  # a character left out: "某市委" for "某某市委"
    # Half of what is left: "两薪" for "两新" is a typo, "新河" for "某某" another name.
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.5


def closest_word(field_name: str, text: str) -> str | None:
    """The accepted word nearest to an unknown one, as the tables write it."""
    words = [w for ws in FIELD_WORDS[field_name].values() for w in ws]
    return did_you_mean(text, words)
