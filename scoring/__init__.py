"""Pure scoring: rubrics as data, the Fortress and Vanguard indices, stars and grades.

Nothing here touches a database, a bot or the network; the only I/O is reading rubric
files. Results carry keys, enums and ``Decimal`` numbers; names for people are in the
rubric (``name_zh``/``name_en``), so handlers render in the user's language.

Typical use by a service::

    rubric = load_fortress_rubric()                 # once, at start-up
    result = score_branch(rubric, facts)            # BranchFacts → BranchResult
    ratings = rate_branches(rubric, results, "yearly_quota")
    gap = gap_analysis(rubric, facts)               # what it takes for the next star

    vrubric = load_vanguard_rubric()
    member = score_member(vrubric, member_facts)    # MemberFacts → MemberResult
    grading = grade_branch_members(vrubric, members_of_branch, overrides)
"""

from scoring.checklist import ItemSpec, checklist_items
from scoring.errors import PROBLEMS, Problem, RubricError, RubricInvalid
from scoring.fortress import missed_months_of, score_branch, score_branches
from scoring.gap import Change, ChangeKind, GapResult, GapStep, LevelGap, gap_analysis, what_if
from scoring.model import (
    BranchFacts,
    BranchGrading,
    BranchResult,
    CapDecision,
    CapMove,
    ComplianceRate,
    DecidedBy,
    DimensionResult,
    Domain,
    FortressRubric,
    Grade,
    ItemResult,
    Meeting,
    MeetingKind,
    MemberCategory,
    MemberFacts,
    MemberResult,
    Override,
    StarRating,
    VanguardPart,
    VanguardRubric,
)
from scoring.periods import Period, due_date, period_bounds, period_key, window
from scoring.rubric import check_files, load_fortress_rubric, load_vanguard_rubric
from scoring.stars import compliance_rate, rate_branches
from scoring.vanguard import OverrideError, grade_branch_members, score_member, score_members

__all__ = [
    "PROBLEMS",
    "BranchFacts",
    "BranchGrading",
    "BranchResult",
    "CapDecision",
    "CapMove",
    "Change",
    "ChangeKind",
    "ComplianceRate",
    "DecidedBy",
    "DimensionResult",
    "Domain",
    "FortressRubric",
    "GapResult",
    "GapStep",
    "Grade",
    "ItemResult",
    "ItemSpec",
    "LevelGap",
    "Meeting",
    "MeetingKind",
    "MemberCategory",
    "MemberFacts",
    "MemberResult",
    "Override",
    "OverrideError",
    "Period",
    "Problem",
    "RubricError",
    "RubricInvalid",
    "StarRating",
    "VanguardPart",
    "VanguardRubric",
    "check_files",
    "checklist_items",
    "compliance_rate",
    "due_date",
    "gap_analysis",
    "grade_branch_members",
    "load_fortress_rubric",
    "load_vanguard_rubric",
    "missed_months_of",
    "period_bounds",
    "period_key",
    "rate_branches",
    "score_branch",
    "score_branches",
    "score_member",
    "score_members",
    "what_if",
    "window",
]
