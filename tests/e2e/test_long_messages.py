"""Long messages are split at safe HTML boundaries, never cut (issue 8, item 6)."""

from __future__ import annotations

import pytest

from bot.db.models import EducationContent
from handlers.views import clip, names_list, split_html, tg_length
from tests.e2e.test_month import SECRETARY, _branch

ITEMS = 50


async def _branch_with_material(session, now):
    branch_id = await _branch(session, now)
    for i in range(ITEMS):
        title = f"第{i:02d}讲 " + "学习贯彻党的二十届三中全会精神&基层党组织建设" * 4
        session.add(
            EducationContent(
                org_id=branch_id,
                month="2026-11",
                kind="video",
                title=title[:200],
                url=f"https://example.org/v/{i}?a=1&b=" + "x" * 380,
                created_at=now,
            )
        )
    return branch_id


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_checklist_with_fifty_long_items_arrives_whole(world, lang):
    await world.seed(_branch_with_material)
    secretary = await world.emu.create_user(
        "李书记", user_id=SECRETARY, language_code="zh-hans" if lang == "zh" else "en"
    )
    await secretary.send("/month")
    first = await secretary.expect()
    assert first.buttons  # the checklist itself, with its items, still one message
    messages = [first]
    links = 0
    while links < ITEMS:  # the material follows in as many messages as it needs
        messages.append(await secretary.expect())
        links += sum(e["type"] == "text_link" for e in messages[-1].entities)
    texts = [m.text for m in messages]
    assert len(messages) >= 3  # the material did not fit in one message
    for m in messages:
        assert tg_length(m.text) < 4096
        for entity in m.entities:  # every link survived whole
            if entity["type"] == "text_link":
                assert entity["url"].startswith("https://example.org/v/") and entity[
                    "url"
                ].endswith("x" * 380)
    links = [e for m in messages for e in m.entities if e["type"] == "text_link"]
    assert len(links) == ITEMS
    joined = "\n".join(texts)
    assert all(f"第{i:02d}讲" in joined for i in range(ITEMS))


def test_split_html_keeps_tags_and_entities_whole():
    blocks = [
        f'• <a href="https://x.org/?a=1&amp;b={i}">t&amp;{i} ' + "字" * 90 + "</a>"
        for i in range(200)
    ]
    chunks = split_html(blocks, limit=1000)
    assert "\n".join(chunks) == "\n".join(blocks)
    assert all(tg_length(c) <= 1000 for c in chunks)
    assert all(c.count("<a ") == c.count("</a>") for c in chunks)
    # One block longer than a message: sent as escaped plain text, no entity cut.
    huge = "<b>" + "&amp;" * 900 + "</b>"
    parts = split_html(["head", huge, "tail"], limit=1000)
    assert parts[0] == "head" and parts[-1] == "tail"
    assert all(tg_length(p) <= 1000 for p in parts)
    assert "".join(parts[1:-1]) == "&amp;" * 900
    assert all(p.startswith("&amp;") and p.endswith(";") for p in parts[1:-1])


def test_clip_cuts_between_lines_and_names_list_bounds_a_long_roll():
    lines = [f'<a href="https://x.org/{i}">名字&amp;{i}</a>' for i in range(400)]
    cut = clip("\n".join(lines), limit=1000)
    assert tg_length(cut) <= 1000 and cut.endswith("\n…")
    assert all(line in lines for line in cut.split("\n")[:-1])
    names = [f"<王{i:03d}>" + "名" * 60 for i in range(100)]
    listed = names_list(names, budget=1500)
    assert len(listed) < 1600 and listed.endswith(")") and "&lt;王000&gt;" in listed
    assert names_list(["甲", "乙"]) == "甲、乙"
