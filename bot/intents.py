"""What a free-text question in a private chat is asking for: `detect_intent(text)`.

People type "我们支部现在几颗星？", "請問一下我們支部這個月幾星了呀", "what's my star
rating", "my 星级?" or "tsaks left". The detector is deliberately small and local (no
network, no model): the text is normalised, then matched against keyword rules per
intent, each rule with a weight; the heaviest intent wins and ties go to the more
specific intent (the order of `Intent`).

Normalising: NFKC folds full-width letters, digits and punctuation (ＡＢＣ，？ → ABC,?);
traditional characters are mapped to simplified ones (OpenCC's character table,
shipped in `bot/assets/t2s.tsv`); emoji,
punctuation and spaces are dropped for the Chinese rules; English words are kept as
tokens and a token within one or two edits of a known word is read as that word
("raiting" → "rating", "meting" → "meeting").
"""

from __future__ import annotations

import re
import unicodedata
from difflib import get_close_matches
from enum import StrEnum
from functools import lru_cache
from pathlib import Path


class Intent(StrEnum):
    # Order matters: on equal weight, the earlier (more specific) intent wins.
    NEXT_STAR = "next_star"
    GRADE = "grade"
    MEETING = "meeting"
    TASKS = "tasks"
    DASHBOARD = "dashboard"
    RATING = "rating"
    HELP = "help"
    UNKNOWN = "unknown"


T2S = Path(__file__).parent / "assets" / "t2s.tsv"  # from OpenCC (Apache-2.0)
_TYPOS = {"棵": "颗"}  # "几棵星": the tree classifier typed for the star one


@lru_cache(maxsize=1)
def _traditional() -> dict[int, str]:
    """Every traditional character OpenCC knows → its simplified one (~3,000), read on
    the first question rather than at import."""
    table = dict(_TYPOS)
    for line in T2S.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            old, new = line.split("\t")
            table[old] = new
    return str.maketrans(table)


# Chinese rules: (regular expression over the squeezed text, weight).
_ZH: dict[Intent, list[tuple[str, int]]] = {
    Intent.NEXT_STAR: [
        (r"下一?[颗个级]星", 5),
        (r"(升|提|涨|加|评|拿|得|达|到|上)[到上成为了]?[一二三四五六12345]?[颗个]?星", 4),
        (r"(还差|差)多少分", 5),
        (r"(怎么|怎样|如何|咋).{0,6}(升星|星级|[几多五四三二]星|更多星|[多加升]一?[颗个]星)", 5),
        (r"[多加升]一[颗个]星", 5),
        (r"差.{0,4}[颗个]?星", 4),
        (r"(升级|晋级|提升).{0,4}(星|等级|星级)", 4),
        (r"(要|需要)做.{0,6}(才能|可以|能).{0,6}星", 5),
    ],
    Intent.GRADE: [
        (r"先锋指数", 6),
        (
            r"(我|本人|自己)的?(考核|年度)?(等次|评议结果|测评结果|评价结果|评定|等级|分数|得分|成绩|评分)",
            5,
        ),
        (r"我(是|被评为|评上|算)?(不)?(优秀|合格|基本合格)", 4),
        (r"(民主评议|民主测评).{0,4}(结果|等次|情况)", 4),
        (r"(等次|评议结果)", 3),
    ],
    Intent.MEETING: [
        (
            r"(下次|下一次|下个|下回|最近|近期|哪天|什么时候|几号|几点|啥时候|何时).{0,6}"
            r"(开会|会议|主题党日|党课|支委会|党小组会|党员大会|组织生活会)",
            5,
        ),
        (
            r"(开会|会议|主题党日|党课|支委会|党小组会|党员大会|组织生活会).{0,6}"
            r"(什么时候|哪天|几号|几点|啥时候|时间|何时|安排)",
            5,
        ),
        (r"什么时候开", 3),
    ],
    Intent.TASKS: [
        (r"(待办|未完成|没完成|没做|还没做|未做|欠着|落下|漏了|缺什么|缺哪些|没弄)", 4),
        (
            r"(还有|还剩|剩下|剩|有).{0,4}(什么|哪些|啥|多少).{0,4}(任务|事|事项|工作|要做|没做|清单)",
            5,
        ),
        (r"(任务|事项|清单|工作).{0,4}(还有|还剩|剩|哪些|多少|没)", 4),
        (r"(任务清单|待办事项|要做什么|该做什么|做些什么|做什么)", 3),
        (r"还要做", 3),
        (r"(完成|做完|落实|搞完|弄完)了?(吗|没有?|么)", 3),
    ],
    Intent.DASHBOARD: [
        (
            r"(各|所有|全部|下属|下面|辖区|全市|全镇|我管的|管辖的|下辖)[个些]?(的)?(支部|党组织|单位)",
            5,
        ),
        (r"(总览|概览|驾驶舱|看板|仪表盘|统计|分布|达标率|排名|排行)", 4),
        (r"[一五1-5]星支部(有)?(哪些|名单|有几个|多少)", 5),
        (r"(软弱涣散|后进)", 4),
    ],
    Intent.RATING: [
        (r"[几多]颗?星", 5),
        (r"(几|多少|什么|啥)(个)?(星级|星)", 5),
        (r"星级", 4),
        (r"堡垒指数", 5),
        (r"(支部|我们|咱们|本支部).{0,8}(评分|得分|分数|多少分|几分|排名|评级|等级)", 4),
        (r"(评分|得分|分数|多少分|几分)", 2),
        (r"[一二三四五12345]星", 2),
        (r"评星(情况|结果|结论)", 5),
        (r"(我们|咱们|本|我的)支部.{0,4}(怎么样|如何|咋样|情况|表现)", 3),
    ],
    Intent.HELP: [
        (
            r"(帮助|帮忙|怎么用|如何使用|使用说明|说明书|菜单|功能|能做什么|能干什么|会什么|"
            r"能干啥|能做啥|有什么用|可以做什么|你是谁|指令|命令)",
            4,
        ),
        (r"^(帮|救命)$", 4),
    ],
}

_EN_VOCAB = (
    "star stars starred rating ratings rate rated level levels score scores points fortress "
    "index grade grades vanguard evaluation evaluated mark marks excellent qualified "
    "next meeting meetings meet when day date lesson committee "
    "task tasks todo outstanding left remaining pending undone missing open items checklist "
    "help menu commands command can what how do you branch branches our my we us "
    "dashboard overview summary doing subtree compliance weak five one all "
    "need needs get reach upgrade improve earn gain higher more another missing"
).split()
_EN_VOCAB_SET = frozenset(_EN_VOCAB)

# English rules: each a set of words that must all appear (after typo repair), a weight.
_EN: dict[Intent, list[tuple[frozenset[str], int]]] = {}


def _rules(intent: Intent, *rules: tuple[str, int]) -> None:
    _EN[intent] = [(frozenset(words.split()), weight) for words, weight in rules]


_rules(
    Intent.NEXT_STAR,
    ("next star", 6),
    ("next level", 5),
    ("another star", 6),
    ("more stars", 5),
    ("more star", 5),
    ("get star", 4),
    ("get stars", 4),
    ("reach star", 5),
    ("reach stars", 5),
    ("earn star", 5),
    ("gain star", 5),
    ("higher star", 5),
    ("upgrade star", 5),
    ("improve rating", 5),
    ("improve star", 5),
    ("improve score", 4),
    ("need star", 4),
    ("need stars", 4),
    ("five stars how", 4),
)
_rules(
    Intent.GRADE,
    ("my grade", 6),
    ("grade", 4),
    ("vanguard", 6),
    ("my evaluation", 6),
    ("evaluated", 4),
    ("my mark", 5),
    ("excellent", 3),
    ("qualified", 3),
)
_rules(
    Intent.MEETING,
    ("next meeting", 6),
    ("when meeting", 5),
    ("meeting", 3),
    ("meetings when", 5),
    ("next meet", 5),
    ("next lesson", 5),
    ("when lesson", 5),
)
_rules(
    Intent.TASKS,
    ("tasks", 4),
    ("task", 4),
    ("todo", 5),
    ("outstanding", 4),
    ("left do", 4),
    ("what left", 4),
    ("remaining", 4),
    ("pending", 3),
    ("undone", 4),
    ("checklist", 4),
    ("open items", 4),
    ("missing", 3),
)
_rules(
    Intent.DASHBOARD,
    ("dashboard", 6),
    ("overview", 5),
    ("my branches", 6),
    ("branches doing", 6),
    ("all branches", 6),
    ("our branches", 6),
    ("subtree", 5),
    ("compliance", 5),
    ("weak branches", 6),
    ("one star branches", 6),
    ("five star branches", 6),
    ("summary", 3),
)
_rules(
    Intent.RATING,
    ("star rating", 6),
    ("rating", 4),
    ("ratings", 4),
    ("rated", 4),
    ("stars how", 4),
    ("stars our", 4),
    ("stars my", 4),
    ("stars we", 4),
    ("stars branch", 5),
    ("star branch", 5),
    ("star level", 6),
    ("star what", 4),
    ("stars what", 4),
    ("stars do", 3),
    ("fortress", 5),
    ("score my", 4),
    ("score our", 4),
    ("score branch", 4),
    ("points our", 3),
    ("points branch", 3),
    ("level branch", 3),
)
_rules(
    Intent.HELP,
    ("help", 4),
    ("menu", 4),
    ("commands", 4),
    ("command", 3),
    ("what can you do", 5),
    ("how do use", 3),
)

_EMOJI_STAR = re.compile("[⭐🌟✨★☆]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_CONTRACTIONS = {"what's": "what", "whats": "what", "how's": "how", "hows": "how", "i'm": "i"}


def normalise(text: str) -> str:
    """Full-width → half-width, lower case, traditional → simplified, stars as 星."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_traditional())
    text = text.replace("’", "'").replace("‘", "'")
    return _EMOJI_STAR.sub(" 星 ", text)


def _squeeze(text: str) -> str:
    """Only CJK characters, letters and digits: spaces, punctuation and emoji dropped."""
    return "".join(ch for ch in text if ch.isalnum() and not ch.isspace())


@lru_cache(maxsize=4096)
def _repair(word: str) -> str:
    """A known word for a small typo: within roughly two edits, words of 4+ letters only."""
    if word in _EN_VOCAB_SET or len(word) < 4:
        return word
    found = get_close_matches(word, _EN_VOCAB, n=1, cutoff=0.75)
    return found[0] if found else word


def _words(text: str) -> frozenset[str]:
    out = set()
    for raw in _WORD.findall(text):
        word = _CONTRACTIONS.get(raw, raw.split("'")[0])
        out.add(_repair(word))
        if word.startswith("to") and word[2:] == "do":
            out.add("todo")
    if "to" in out and "do" in out and re.search(r"to[\s-]?do", text):
        out.add("todo")
    return frozenset(out)


def scores(text: str) -> dict[Intent, int]:
    """Each intent's weight for `text` (the heaviest matching rule per language, added)."""
    norm = normalise(text)
    squeezed = _squeeze(norm)
    words = _words(norm)
    result: dict[Intent, int] = {}
    for intent in Intent:
        zh = max(
            (w for pattern, w in _ZH.get(intent, ()) if re.search(pattern, squeezed)), default=0
        )
        en = max((w for need, w in _EN.get(intent, ()) if need <= words), default=0)
        if zh or en:
            result[intent] = zh + en
    return result


MIN_WEIGHT = 3


def detect_intent(text: str | None) -> Intent:
    """The intent of a free-text message, or `Intent.UNKNOWN`.

    Pure and fast (a few regular expressions and set look-ups); `text` may be anything
    a user types: Chinese (simplified or traditional, full-width or not), English with
    small typos, both mixed, emoji and filler words around the question.
    """
    if not text or not text.strip():
        return Intent.UNKNOWN
    found = scores(text[:300])
    if not found:
        return Intent.UNKNOWN
    order = list(Intent)
    best = max(found.items(), key=lambda kv: (kv[1], -order.index(kv[0])))
    return best[0] if best[1] >= MIN_WEIGHT else Intent.UNKNOWN
