"""What each rule means, in one place, for everything that is not the checker.

The checker (`matcher.checker`) is the judge and reads the models on its own. Every other part
that needs a rule (the solvers, the bound, explanations, re-planning, continuity, validation)
asks here and builds its own form (numpy masks, CP-SAT literals, routing dimensions) from these
facts, never from its own reading of the models:

- who qualifies for a need: `qualification`;
- when a visit of a need may start (windows, home windows, soft windows and lateness):
  `windows`, and per need in `facts.NeedFacts`;
- which days are still open for an occurrence (at most one a day, `min_gap_days`): `days`;
- a volunteer's outings and the walk of one (start place, visits, home): `outings`;
- a volunteer's planned week (trips, minutes, visits and load a day) and where one more visit
  could go in it: `volunteer_week`;
- the hourly cost of a volunteer: `costs`;
- occurrence numbering and the occurrences left out: `occurrences`;
- a plan indexed per volunteer-day, need and recipient-day: `plan_index`;
- why an occurrence is unplanned: `diagnosis`.
"""

from matcher.rules.costs import hourly_cost
from matcher.rules.days import far_enough, most_visits, open_days, room_for_more, too_close
from matcher.rules.diagnosis import Diagnoser, Diagnosis
from matcher.rules.facts import NeedFacts, facts_of, need_facts, reachable_starts, shared_starts
from matcher.rules.intervals import (
    Interval,
    Intervals,
    ceil_minutes,
    intersect,
    measure,
    normalise,
    start_set,
    subtract_busy,
)
from matcher.rules.occurrences import (
    missing_occurrences,
    number_occurrences,
    planned_counts,
    visit_order,
)
from matcher.rules.outings import (
    Leg,
    OutingWalk,
    Stop,
    alone_reach,
    merge_windows,
    outing_index,
    outing_problems,
    outings_by_day,
    walk_outing,
)
from matcher.rules.plan_index import PlanIndex
from matcher.rules.qualification import (
    is_qualified,
    missing_skills,
    qualification_failures,
    qualified_volunteers,
    skills_nobody_has,
)
from matcher.rules.windows import (
    days_with_room,
    lateness_allowance_min,
    lateness_min,
    stretched_windows_by_day,
    visit_starts,
    windows_by_day,
)

__all__ = [
    "Diagnoser",
    "Diagnosis",
    "Interval",
    "Intervals",
    "Leg",
    "NeedFacts",
    "OutingWalk",
    "PlanIndex",
    "Stop",
    "alone_reach",
    "ceil_minutes",
    "days_with_room",
    "facts_of",
    "far_enough",
    "hourly_cost",
    "intersect",
    "is_qualified",
    "lateness_allowance_min",
    "lateness_min",
    "measure",
    "merge_windows",
    "missing_occurrences",
    "missing_skills",
    "most_visits",
    "need_facts",
    "normalise",
    "number_occurrences",
    "open_days",
    "outing_index",
    "outing_problems",
    "outings_by_day",
    "planned_counts",
    "qualification_failures",
    "qualified_volunteers",
    "reachable_starts",
    "room_for_more",
    "shared_starts",
    "skills_nobody_has",
    "start_set",
    "stretched_windows_by_day",
    "subtract_busy",
    "too_close",
    "visit_order",
    "visit_starts",
    "walk_outing",
    "windows_by_day",
]
