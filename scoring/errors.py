"""Problems found in rubric files, as codes with arguments.

The engine returns codes, not sentences. ``PROBLEMS`` holds the English source text of
each problem; it doubles as the gettext message id, so a front end translates with
``_(PROBLEMS[code]).format(**args)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Problem(StrEnum):
    TOML_SYNTAX = "toml_syntax"
    NOT_FOUND = "not_found"
    NOT_UTF8 = "not_utf8"
    UNREADABLE = "unreadable"
    WRONG_KIND = "wrong_kind"
    MISSING_KEY = "missing_key"
    UNKNOWN_KEY = "unknown_key"
    EXPECTED_TEXT = "expected_text"
    EXPECTED_NUMBER = "expected_number"
    EXPECTED_INTEGER = "expected_integer"
    EXPECTED_BOOLEAN = "expected_boolean"
    EXPECTED_TABLE = "expected_table"
    EXPECTED_LIST = "expected_list"
    NOT_ONE_OF = "not_one_of"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    DUPLICATE = "duplicate"
    UNKNOWN_REFERENCE = "unknown_reference"
    SUM_MISMATCH = "sum_mismatch"
    WEIGHTS_SUM = "weights_sum"
    SHARES_SUM = "shares_sum"
    CAP_BELOW_POINTS = "cap_below_points"
    LEVELS_ORDER = "levels_order"
    LOWEST_LEVEL = "lowest_level"
    STEPS_ORDER = "steps_order"
    MISSING_PART = "missing_part"
    INCOMPATIBLE = "incompatible"
    NEEDS_THRESHOLD = "needs_threshold"


def N_(text: str) -> str:
    """Marks a message id for `pybabel extract` (keyword N_) without translating it here."""
    return text


PROBLEMS: dict[Problem, str] = {
    Problem.TOML_SYNTAX: N_("not valid TOML: {detail}"),
    Problem.NOT_FOUND: N_("file not found"),
    Problem.NOT_UTF8: N_("not text in UTF-8: save the file again as UTF-8"),
    Problem.UNREADABLE: N_("cannot be read: {detail}"),
    Problem.WRONG_KIND: N_("this is a '{kind}' rubric where a '{expected}' rubric is needed"),
    Problem.MISSING_KEY: N_("missing required key"),
    Problem.UNKNOWN_KEY: N_("unknown key"),
    Problem.EXPECTED_TEXT: N_("expected text"),
    Problem.EXPECTED_NUMBER: N_("expected a number"),
    Problem.EXPECTED_INTEGER: N_("expected a whole number"),
    Problem.EXPECTED_BOOLEAN: N_("expected true or false"),
    Problem.EXPECTED_TABLE: N_("expected a table"),
    Problem.EXPECTED_LIST: N_("expected a list"),
    Problem.NOT_ONE_OF: N_("'{value}' is not one of: {choices}"),
    Problem.TOO_SMALL: N_("must be at least {minimum}"),
    Problem.TOO_LARGE: N_("must be at most {maximum}"),
    Problem.DUPLICATE: N_("'{key}' is already defined in {first}"),
    Problem.UNKNOWN_REFERENCE: N_("'{name}' is not defined"),
    Problem.SUM_MISMATCH: N_("items add up to {actual} points, but {declared} are declared"),
    Problem.WEIGHTS_SUM: N_("weights add up to {actual}, not 1"),
    Problem.SHARES_SUM: N_("shares add up to {actual}, not 1"),
    Problem.CAP_BELOW_POINTS: N_("the cap ({cap}) is below the points for one unit ({points})"),
    Problem.LEVELS_ORDER: N_("levels must be listed best first, with falling thresholds"),
    Problem.LOWEST_LEVEL: N_("the last level must start at 0 points, so every branch gets one"),
    Problem.STEPS_ORDER: N_("steps must be listed highest first, with points not rising"),
    Problem.MISSING_PART: N_("no '{part}' rubric part among the files given"),
    Problem.INCOMPATIBLE: N_("rule '{rule}' cannot be used with evidence '{evidence}' here"),
    Problem.NEEDS_THRESHOLD: N_("needs a threshold star scheme, but '{scheme}' uses quotas"),
}

SUGGESTION = N_("did you mean '{suggestion}'?")


@dataclass(frozen=True, slots=True)
class RubricError:
    """One problem: which file, where in it (``items[key].score.cap``), what, and a hint."""

    file: str
    path: str
    problem: Problem
    args: dict[str, Any] = field(default_factory=dict)
    suggestion: str | None = None

    def __str__(self) -> str:
        text = PROBLEMS[self.problem].format(**self.args)
        if self.suggestion:
            text += " (" + SUGGESTION.format(suggestion=self.suggestion) + ")"
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {text}"


class RubricInvalid(ValueError):
    """Raised by the loaders; ``errors`` lists every problem found, not just the first."""

    def __init__(self, errors: list[RubricError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
