"""The breakdown stored with each result is written from a template for speed; it must
be exactly the JSON the plain dict gives, whatever the member's result holds."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.eval_review import BreakdownText
from scoring import Grade, MemberFacts, load_vanguard_rubric, score_members
from scoring.model import HardRuleHit, ZeroingHit, ZeroTarget

RUBRIC = load_vanguard_rubric()
CATEGORIES = sorted(RUBRIC.variants)


def _results():
    facts = [
        MemberFacts(
            member_id=i,
            branch_id=1,
            category=CATEGORIES[i % len(CATEGORIES)],
            period="2026",
            events={"theme_days_attended": i % 13, "theme_days_held": 12},
            tasks={"org_life_attended": i % 2},
            self_score=None if i % 3 == 0 else Decimal(60 + i),
            review_score=None if i % 4 else Decimal(80),
            ballots={} if i % 5 == 0 else {RUBRIC.vote_options[0].key: i},
        )
        for i in range(12)
    ]
    return score_members(RUBRIC, facts)


RESULTS = _results()


def breakdown(r, places: int) -> dict:
    """The stored breakdown as a plain dict, encoded the plain way below."""
    return {
        "parts": {str(p): v for p, v in zip(r.part_keys, r.part_value_c, strict=True)},
        "indices": dict(zip(r.subindex_keys, r.subindex_c, strict=True)),
        "basic": r.basic_c,
        "bonus": r.bonus_c,
        "deduction": r.deduction_c,
        "hard_rules": [h.key for h in r.hard_rules],
        "zeroed": [z.key for z in r.zeroed],
        "places": places,
    }


small = st.integers(min_value=0, max_value=10_000)


@settings(max_examples=200, deadline=None)
@given(
    which=st.integers(min_value=0, max_value=len(RESULTS) - 1),
    missing=st.lists(st.booleans(), min_size=4, max_size=4),
    numbers=st.lists(small, min_size=3, max_size=3),
    rules=st.lists(st.sampled_from(["missed_org_life", 'a "quoted" 100% rule']), max_size=2),
    zeroed=st.lists(st.sampled_from(["absent", "零分"]), max_size=2),
    places=small,
    odd_keys=st.booleans(),
)
def test_the_template_writes_what_json_dumps_writes(
    which, missing, numbers, rules, zeroed, places, odd_keys
):
    r = RESULTS[which]
    values = tuple(None if gone else v for v, gone in zip(r.part_value_c, missing, strict=False))
    r = replace(
        r,
        part_value_c=values + r.part_value_c[len(values) :],
        basic_c=numbers[0],
        bonus_c=numbers[1],
        deduction_c=numbers[2],
        hard_rules=tuple(HardRuleHit(k, Grade.QUALIFIED) for k in rules),
        zeroed=tuple(ZeroingHit(k, ZeroTarget.TOTAL, "", Decimal(0)) for k in zeroed),
    )
    if odd_keys:  # keys a rubric file might hold: quotes, percent signs, Chinese
        r = replace(r, subindex_keys=('政治"素质"', "50%", *r.subindex_keys[2:]))
    text = BreakdownText()
    assert text(r, places) == json.dumps(breakdown(r, places))
    assert json.loads(text(r, places)) == breakdown(r, places)
