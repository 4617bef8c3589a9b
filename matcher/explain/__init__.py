"""Explanations that lead to action.

- `explain_unassigned` (`analyst`): for every unplanned visit, the reason of the one diagnosis
  (`matcher.rules.diagnosis`, the reason the plan's solver gives) and each volunteer with the
  first rule that rules them out (`verdicts`), computed from the problem and the plan;
- `what_if` (`whatif`): which single change (one more volunteer, a wider window, a higher weekly
  cap, a bike instead of walking) would plan the most high-priority visits now left out, found
  by re-solving with `matcher.api.solve`;
- `explain_unseated` (`seats`): for every seat an attendance wish asks for and the plan leaves
  out, the reason of the seat diagnosis (`matcher.rules.session_diagnosis`) and the facts
  behind it;
- `score_plan` (`score`): a coordinator's own plan checked and scored beside the optimizer's.

Sentences come from the catalogue (`matcher.messages`) in the policy's language.
"""

from matcher.explain.analyst import explain_unassigned, render_explanations
from matcher.explain.score import PlanScore, score_plan
from matcher.explain.seats import SeatExplanation, explain_unseated, render_seat_explanations
from matcher.explain.verdicts import (
    RULE_ORDER,
    CandidateRule,
    CandidateVerdict,
    Explanation,
    VisitRef,
)
from matcher.explain.whatif import (
    AddVolunteer,
    Change,
    PlannedOccurrence,
    RaiseWeeklyCap,
    SwitchToBike,
    WhatIf,
    WidenWindow,
    apply_change,
    describe_change,
    what_if,
)

__all__ = [
    "RULE_ORDER",
    "AddVolunteer",
    "CandidateRule",
    "CandidateVerdict",
    "Change",
    "Explanation",
    "PlanScore",
    "PlannedOccurrence",
    "RaiseWeeklyCap",
    "SeatExplanation",
    "SwitchToBike",
    "VisitRef",
    "WhatIf",
    "WidenWindow",
    "apply_change",
    "describe_change",
    "explain_unassigned",
    "explain_unseated",
    "render_explanations",
    "render_seat_explanations",
    "score_plan",
    "what_if",
]
