"""A small Fortress rubric whose numbers are easy to check by hand, and fact builders."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from scoring import BranchFacts, Meeting, load_fortress_rubric, load_vanguard_rubric
from scoring.model import BranchResult, PoolResult

COMMON = """
[rubric]
kind = "fortress"
part = "common"
version = "t1"
name_zh = "测试通用"
name_en = "Test common"

[total]
max_points = 20
common_points = 10
domain_points = 5
featured_points = 5
bonus_cap = 3
deduction_cap = 4

[quorum]
committee = 0.5

[[dimensions]]
key = "a"
name_zh = "甲"
name_en = "A"

[[dimensions]]
key = "b"
name_zh = "乙"
name_en = "B"

[[items]]
key = "meet"
dimension = "a"
name_zh = "支委会"
name_en = "Committee"
period = "month"
evidence = { kind = "meetings", meeting = "committee" }
score = { rule = "done", points = 4 }

[[items]]
key = "vol"
dimension = "a"
name_zh = "志愿"
name_en = "Volunteer"
period = "month"
evidence = { kind = "events", key = "volunteer" }
score = { rule = "per_event", points = 1, cap = 3 }

[[items]]
key = "att"
dimension = "b"
name_zh = "参学率"
name_en = "Attendance"
period = "month"
evidence = { kind = "attendance", meeting = "theme_day" }
score = { rule = "proportional", points = 3 }

[[bonus]]
key = "award"
name_zh = "表彰"
name_en = "Award"
period = "year"
evidence = { kind = "events", key = "awards" }
score = { rule = "per_event", points = 2, cap = 4 }

[[deductions]]
key = "late"
name_zh = "迟交"
name_en = "Late"
period = "year"
evidence = { kind = "events", key = "late" }
score = { rule = "deduction", points = 3, cap = 6 }
"""

DOMAIN = """
[rubric]
kind = "fortress"
part = "domain"
domain = "{domain}"
version = "t1"
name_zh = "测试{domain}"
name_en = "Test {domain}"

[[items]]
key = "{domain}_task"
dimension = "b"
name_zh = "任务"
name_en = "Task"
period = "quarter"
evidence = {{ kind = "task", key = "{domain}_task" }}
score = {{ rule = "done", points = 5 }}
"""

FEATURED = """
[rubric]
kind = "fortress"
part = "featured"
version = "t1"
name_zh = "特色"
name_en = "Featured"

[[items]]
key = "feat1"
dimension = "b"
name_zh = "品牌"
name_en = "Brand"
period = "year"
evidence = { kind = "task" }
score = { rule = "done", points = 3 }

[[items]]
key = "feat2"
dimension = "a"
name_zh = "共建"
name_en = "Joint"
period = "month"
evidence = { kind = "events", key = "joint" }
score = { rule = "per_event", points = 2, cap = 4 }
"""

STARS = """
default_scheme = "m"

[rubric]
kind = "fortress"
part = "stars"
version = "t1"
name_zh = "星级"
name_en = "Stars"

[compliance]
min_points = 10

[[schemes]]
key = "m"
name_zh = "月"
name_en = "Monthly"
method = "threshold"
period = "month"
levels = [
  { stars = 5, name_zh = "五星", name_en = "5", min_points = 18, featured_done = 1 },
  { stars = 4, name_zh = "四星", name_en = "4", min_points = 15 },
  { stars = 3, name_zh = "三星", name_en = "3", min_points = 10 },
  { stars = 2, name_zh = "二星", name_en = "2", min_points = 5 },
  { stars = 1, name_zh = "一星", name_en = "1", min_points = 0 },
]

[[schemes]]
key = "q"
name_zh = "年"
name_en = "Yearly"
method = "quota"
period = "year"
ties = "{ties}"
levels = [
  { stars = 3, name_zh = "三星", name_en = "3", share = 0.2 },
  { stars = 2, name_zh = "二星", name_en = "2", share = 0.5 },
  { stars = 1, name_zh = "一星", name_en = "1", share = 0.3 },
]
"""


def write_mini(folder: Path, extra_common: str = "", ties: str = "lower") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "common.toml").write_text(COMMON + extra_common, encoding="utf-8")
    for domain in ("village", "community", "agency", "two_new"):
        (folder / f"{domain}.toml").write_text(DOMAIN.format(domain=domain), encoding="utf-8")
    (folder / "featured.toml").write_text(FEATURED, encoding="utf-8")
    (folder / "stars.toml").write_text(STARS.replace("{ties}", ties), encoding="utf-8")
    return folder


@pytest.fixture
def mini(tmp_path: Path):
    return load_fortress_rubric(write_mini(tmp_path / "mini"))


@pytest.fixture(scope="session")
def fortress():
    return load_fortress_rubric()


@pytest.fixture(scope="session")
def vanguard():
    return load_vanguard_rubric()


def meeting(kind: str, month: str, attended: int = 10, expected: int = 10, day: int = 10):
    year, mon = map(int, month.split("-"))
    return Meeting(kind, date(year, mon, day), attended, expected)


def facts(period: str = "2026-07", domain: str = "village", **kw) -> BranchFacts:
    return BranchFacts("b1", domain, period, **kw)


def bare_result(branch_id, total, vetoes=(), meets=True) -> BranchResult:
    """A result with only a total (and vetoes): what ratings and rates look at."""
    pool = PoolResult(D(0), D(0), D(0))
    return BranchResult(
        branch_id,
        "village",
        "2026-12",
        D(total),
        D(20),
        (),
        (),
        pool,
        pool,
        pool,
        (),
        tuple(vetoes),
        None,
        meets,
    )
