"""The free-text detector against a table of what people actually type."""

from __future__ import annotations

import pytest

from bot.intents import Intent, detect_intent, normalise

R, T, N, G, M, H, D, U = (
    Intent.RATING,
    Intent.TASKS,
    Intent.NEXT_STAR,
    Intent.GRADE,
    Intent.MEETING,
    Intent.HELP,
    Intent.DASHBOARD,
    Intent.UNKNOWN,
)

TABLE = [
    # The star rating
    ("我们支部现在几颗星？", R),
    ("请问一下我们支部这个月几星了呀", R),
    ("請問一下我們支部這個月幾星了呀", R),
    ("我们支部几颗星", R),
    ("我们几星", R),
    ("支部星级", R),
    ("现在是几星级？？？", R),
    ("我們支部現在幾顆星", R),
    ("ＷＨＡＴ'Ｓ ＭＹ ＳＴＡＲ ＲＡＴＩＮＧ", R),
    ("支部評星情況", R),
    ("我们支部怎么样", R),
    # Traditional characters beyond the rules' own (the whole OpenCC table)
    ("組織生活會什麼時候開", M),
    ("下屬支部怎麼樣", D),
    ("各個支部的情況", D),
    ("我的考核成績", G),
    ("三會一課完成了嗎", T),
    ("轄區各支部表現如何", D),
    ("我们支部　现在　几颗星　？", R),
    ("我们现在多少星⭐", R),
    ("几⭐了", R),
    ("堡垒指数多少", R),
    ("我们支部得分多少", R),
    ("我们支部几棵星", R),
    ("what's my star rating", R),
    ("What is our star rating?", R),
    ("how many stars does our branch have", R),
    ("whats our raiting", R),
    ("star level of my branch please", R),
    ("our fortress index?", R),
    ("my 星级?", R),
    ("what's 我们的 rating", R),
    ("branch rating 🙏", R),
    # Outstanding tasks
    ("还有什么任务没做", T),
    ("还有哪些事项没完成？", T),
    ("我们支部还剩哪些工作", T),
    ("待办", T),
    ("本月任务清单", T),
    ("還有什麼任務沒做", T),
    ("what tasks are left", T),
    ("outstanding tasks?", T),
    ("what's left to do", T),
    ("my to-do", T),
    ("tsaks", T),
    ("pending items", T),
    # The next star
    ("怎么才能升星", N),
    ("下一颗星还差什么", N),
    ("还差多少分升到五星", N),
    ("要做什么才能拿到五星？", N),
    ("怎樣才能升到四星", N),
    ("我们支部怎样才能多一颗星", N),
    ("how do we get the next star", N),
    ("what do we need for another star", N),
    ("how to reach 5 stars", N),
    ("next star plz!!", N),
    ("nxet star", N),
    ("升星要做什么 next star", N),
    # My own grade
    ("我的等次是什么", G),
    ("我的先锋指数多少", G),
    ("我是优秀党员吗", G),
    ("民主评议结果出来了吗", G),
    ("我的評議結果", G),
    ("what's my grade", G),
    ("my vanguard index", G),
    ("grdae?", G),
    ("am I excellent this year", G),
    # The next meeting
    ("下次开会是什么时候", M),
    ("主题党日哪天", M),
    ("下個月主題黨日什麼時候", M),
    ("支委会几号开", M),
    ("最近有什么会议", M),
    ("when is the next meeting", M),
    ("next meting?", M),
    ("when's the party lesson", M),
    # Help
    ("帮助", H),
    ("你能做什么", H),
    ("怎么用", H),
    ("help", H),
    ("HELP!!!", H),
    ("what can you do", H),
    ("hlep", H),
    ("菜单", H),
    # The superior's dashboard
    ("各支部情况怎么样", D),
    ("全市支部星级分布", D),
    ("一星支部有哪些", D),
    ("how are my branches doing", D),
    ("dashboard", D),
    ("compliance rate this month", D),
    ("all branches overview", D),
    # Not a question for the bot
    ("你好", U),
    ("谢谢", U),
    ("今天天气怎么样", U),
    ("我们今天开会了", U),
    ("收到", U),
    ("好的👍", U),
    ("hello", U),
    ("thanks!", U),
    ("star wars tonight?", U),
    ("ok", U),
    ("🙂🙂🙂", U),
    ("   ", U),
    ("12345", U),
    ("the weather is nice", U),
    ("lol", U),
    ("我爱学习", U),
]


def test_table_is_large_and_covers_every_intent() -> None:
    assert len(TABLE) >= 60
    assert {intent for _, intent in TABLE} == set(Intent)
    assert sum(1 for _, i in TABLE if i is U) >= 10


@pytest.mark.parametrize(("text", "expected"), TABLE)
def test_phrasing(text: str, expected: Intent) -> None:
    assert detect_intent(text) is expected


def test_normalise_folds_width_and_traditional_forms() -> None:
    assert normalise("ＡＢＣ，幾顆星？") == "abc,几颗星?"
    assert normalise("組織屬區轄們") == "组织属区辖们"  # not in any rule: the full table


def test_empty_and_huge_inputs() -> None:
    assert detect_intent(None) is U
    assert detect_intent("") is U
    assert detect_intent("几颗星" * 10_000) is R
