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
    ENCODING = "encoding"
    FULL_WIDTH = "full_width"
    LEVEL_MISSING = "level_missing"
    LEVEL_ORDER = "level_order"
    LEVELS_OVERLAP = "levels_overlap"
    SHARE_PERCENT = "share_percent"
    SHARES_OVER = "shares_over"
    QUOTA_AFTER_THRESHOLD = "quota_after_threshold"
    BAND_TWICE = "band_twice"
    BAND_ORDER = "band_order"
    BAND_MISSING = "band_missing"
    BANDS_OVERLAP = "bands_overlap"
    BAND_LOWEST = "band_lowest"
    NOT_SHARED = "not_shared"
    INCLUDE_LOOP = "include_loop"
    NOT_INCLUDED = "not_included"


def N_(text: str) -> str:
    """Marks a message id for `pybabel extract` (keyword N_) without translating it here."""
    return text


PROBLEMS: dict[Problem, str] = {
    Problem.TOML_SYNTAX: N_("not valid TOML: {detail}"),
    Problem.NOT_FOUND: N_("file not found"),
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
    Problem.ENCODING: N_(
        "the file is not UTF-8 text (first unreadable byte at line {line}, column {column}): "
        "open it in your editor and save it as UTF-8"
    ),
    Problem.FULL_WIDTH: N_(
        "Chinese full-width '{char}' outside quotes: TOML needs the English '{ascii}' here "
        "(switch the input method to English punctuation and retype it)"
    ),
    Problem.LEVEL_MISSING: N_(
        "there is no {stars}-star level: every level from {best} stars down to {lowest} "
        "must be listed"
    ),
    Problem.LEVEL_ORDER: N_(
        "level '{level}' must come before '{after}': list the best level first"
    ),
    Problem.LEVELS_OVERLAP: N_(
        "levels '{upper}' ({upper_points}) and '{lower}' ({lower_points}) overlap: "
        "each level must start at more points than the level below it"
    ),
    Problem.SHARE_PERCENT: N_(
        "a share of {value} is more than the whole: shares are fractions, "
        "write {fraction} for {value}%"
    ),
    Problem.SHARES_OVER: N_("the quota shares add up to {actual}, more than 1"),
    Problem.QUOTA_AFTER_THRESHOLD: N_(
        "level '{level}' has a share but comes after a level with points: "
        "list the quota levels (share) first, then the levels with min_points"
    ),
    Problem.BAND_TWICE: N_("the grade '{grade}' is listed twice"),
    Problem.BAND_ORDER: N_(
        "the grade '{grade}' must come before '{after}': list grades best first "
        "(excellent, qualified, basically_qualified, unqualified)"
    ),
    Problem.BAND_MISSING: N_("there is no '{grade}' grade among the grades of [[grades]]"),
    Problem.BANDS_OVERLAP: N_(
        "grades '{upper}' ({upper_points}) and '{lower}' ({lower_points}) overlap: "
        "each grade must start at more points than the grade below it"
    ),
    Problem.BAND_LOWEST: N_(
        "the last grade ('{grade}') must start at 0 points, so every member gets a grade"
    ),
    Problem.NOT_SHARED: N_(
        "'{name}' is not a shared part: only a file with part = \"shared\" can be included"
    ),
    Problem.INCLUDE_LOOP: N_("'{name}' includes itself (directly or through another file)"),
    Problem.NOT_INCLUDED: N_("'{name}' is not among the items of the included files"),
}

SUGGESTION = N_("did you mean '{suggestion}'?")

# The TOML reader's own words for a syntax error, so that they too can be translated.
TOML_DETAILS = frozenset(
    {
        N_("Invalid value"),
        N_("Invalid statement"),
        N_("Unclosed array"),
        N_("Unclosed inline table"),
        N_("Unterminated string"),
        N_("Invalid date or datetime"),
        N_("Invalid initial character for a key part"),
        N_("Cannot overwrite a value"),
        N_("Expected '=' after a key in a key/value pair"),
        N_("Expected ']' at the end of a table declaration"),
        N_("Expected ']]' at the end of an array declaration"),
        N_("Expected newline or end of document after a statement"),
    }
)


@dataclass(frozen=True, slots=True)
class RubricError:
    """One problem: which file, where in it (``items[key].score.cap``), what, and a hint."""

    file: str
    path: str
    problem: Problem
    args: dict[str, Any] = field(default_factory=dict)
    suggestion: str | None = None
    line: int | None = None  # 1-based, where the key (or its nearest table) is written
    column: int | None = None

    @property
    def place(self) -> str:
        """``file:line:column: key.path`` (what is known of it)."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.path}" if self.path else where

    def __str__(self) -> str:
        text = PROBLEMS[self.problem].format(**self.args)
        if self.suggestion:
            text += " (" + SUGGESTION.format(suggestion=self.suggestion) + ")"
        return f"{self.place}: {text}"


class RubricInvalid(ValueError):
    """Raised by the loaders; ``errors`` lists every problem found, not just the first."""

    def __init__(self, errors: list[RubricError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
