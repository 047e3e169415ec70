"""Star levels (by thresholds or by quotas), vetoes, and the compliance rule and rate.

Quota schemes rank the branches by total, best first. With ``n`` branches and shares
s₁…s_k (best level first), the first ``round_half_up(n × (s₁+…+s_j))`` places get level
j or better, so the counts always add up to ``n``. Branches with equal totals form a
tied group; the tie rule gives the whole group the level of its first place
(``higher``) or of its last place (``lower``). Vetoes apply after the ranking: a
vetoed branch keeps its place (nobody moves up into it) but gets the lowest or capped
level.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from scoring.model import (
    ZERO,
    BranchResult,
    ComplianceRate,
    DecidedBy,
    FortressRubric,
    Part,
    StarMethod,
    StarRating,
    StarScheme,
    TieRule,
    VetoEffect,
    VetoHit,
    ZeroTarget,
)

_SCORED_PARTS = (Part.COMMON, Part.DOMAIN, Part.FEATURED)


def full_items(result: BranchResult) -> tuple[set[str], int]:
    """Keys of items done in full (and not zeroed), and how many of them are featured.

    Done in full is ``ItemResult.met``: a zero-point item counts only once its evidence
    is there, never because the branch chose it."""
    gone_items = {z.target_key for z in result.zeroed if z.target is ZeroTarget.ITEM}
    gone_dims = {z.target_key for z in result.zeroed if z.target is ZeroTarget.DIMENSION}
    full = {
        r.key
        for r in result.items
        if r.part in _SCORED_PARTS
        and r.met
        and r.key not in gone_items
        and r.dimension not in gone_dims
    }
    featured = sum(1 for r in result.items if r.part is Part.FEATURED and r.key in full)
    return full, featured


def threshold_rating(scheme: StarScheme, result: BranchResult) -> StarRating:
    """The best level whose points and extra conditions the branch meets, then vetoes."""
    # Items at full points are worked out only when a level reached has conditions.
    full: set[str] = set()
    featured_done, known = 0, False
    unmet: list[int] = []
    stars = scheme.lowest
    for level in scheme.levels:
        if level.share is not None or result.total < level.min_points:
            continue  # quota levels are given by rank, in ``rate_branches``
        if not known and (level.featured_done or level.items_full):
            (full, featured_done), known = full_items(result), True
        if (
            featured_done >= level.featured_done
            and all(k in full for k in level.items_full)
            and not (level.no_veto and result.vetoes)
        ):
            stars = level.stars
            break
        unmet.append(level.stars)
    rating = StarRating(
        result.branch_id,
        scheme.key,
        stars,
        DecidedBy.THRESHOLD,
        str(stars),
        result.total,
        tuple(unmet),
    )
    return apply_vetoes(rating, scheme, result.vetoes)


def apply_vetoes(rating: StarRating, scheme: StarScheme, vetoes: Iterable[VetoHit]) -> StarRating:
    """The harshest veto wins; a veto that would not lower the level changes nothing."""
    for veto in vetoes:
        level = scheme.lowest if veto.effect is VetoEffect.LOWEST else veto.level
        if level < rating.stars:
            rating = replace(rating, stars=level, decided_by=DecidedBy.VETO, rule=veto.key)
    return rating


def quota_levels(scheme: StarScheme, totals: Sequence[Decimal]) -> list[tuple[int, int]]:
    """(stars, 1-based rank) for each total, in the order given.

    Stars are 0 for a place beyond the quota levels of a scheme whose other levels go
    by points: ``rate_branches`` rates those branches by the thresholds.
    """
    n = len(totals)
    order = sorted(range(n), key=lambda i: -totals[i])
    bounds: list[int] = []  # bounds[j]: places taken by levels 0..j
    running = ZERO
    for _, share in scheme.shares:
        running += share
        bounds.append(int((running * n).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
    by_points = any(lv.share is None for lv in scheme.levels)
    if bounds and not by_points:
        bounds[-1] = n
    stars_by_share = [stars for stars, _ in scheme.shares]

    def level_at(place: int) -> int:
        for j, bound in enumerate(bounds):
            if place < bound:
                return stars_by_share[j]
        return 0 if by_points else stars_by_share[-1]

    out: list[tuple[int, int]] = [(0, 0)] * n
    start = 0
    while start < n:
        end = start
        while end + 1 < n and totals[order[end + 1]] == totals[order[start]]:
            end += 1
        stars = level_at(start if scheme.ties is TieRule.HIGHER else end)
        for place in range(start, end + 1):
            out[order[place]] = (stars, start + 1)
        start = end + 1
    return out


def rate_branches(
    rubric: FortressRubric, results: Iterable[BranchResult], scheme: str | None = None
) -> dict[Any, StarRating]:
    """Star ratings of a set of branches (all rated together, for quota schemes).

    A quota scheme whose lower levels go by points rates the branches beyond the quota
    places by those thresholds (and their conditions), as a threshold scheme would.
    """
    sc = rubric.schemes[scheme or rubric.default_scheme]
    results = list(results)
    if sc.method is StarMethod.THRESHOLD:
        return {r.branch_id: threshold_rating(sc, r) for r in results}
    levels = quota_levels(sc, [r.total for r in results])
    ratings = {}
    for r, (stars, rank) in zip(results, levels, strict=True):
        if stars:
            rating = StarRating(
                r.branch_id, sc.key, stars, DecidedBy.QUOTA, str(stars), r.total, rank=rank
            )
            rating = apply_vetoes(rating, sc, r.vetoes)
        else:
            rating = replace(threshold_rating(sc, r), rank=rank)
        ratings[r.branch_id] = rating
    return ratings


def meets_standard(rubric: FortressRubric, result: BranchResult) -> bool:
    rule = rubric.compliance
    if result.total < rule.min_points or (rule.veto_fails and result.vetoes):
        return False
    return not rule.min_stars or (result.stars is not None and result.stars.stars >= rule.min_stars)


def compliance_rate(results: Iterable[BranchResult]) -> ComplianceRate:
    """The share of branches that meet the standard (规范达标率), to 4 places."""
    met = total = 0
    for r in results:
        total += 1
        met += r.meets_standard
    rate = (
        (Decimal(met) / Decimal(total)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        if total
        else ZERO
    )
    return ComplianceRate(met, total, rate)
