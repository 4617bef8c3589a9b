"""Re-planning after a change: a volunteer cancels, an elder goes to hospital, snow falls.

A coordinator has a plan for the week and something changes. `apply_changes` (`changes`) turns
the problem and a list of changes into the changed problem; `replan` (`planner`) turns the old
plan into a new one that changes as little as possible, and says what changed and why:

1. Every old visit a change touches (the cancelling volunteer's visits on those days, the away
   recipient's visits, the visits of a need whose windows changed) is checked against the changed
   problem with the independent checker (`broken`); those that break a rule are re-planned,
   together with the visits linked to them by a dependency. Every other old visit is kept
   exactly: it is pinned.
2. The solver (`matcher.api.solve`, which checks the plan and fills its metrics) places the
   pinned visits first and fills in what the changes freed or added.
3. An urgent new need that still finds no room gets it: the visits of the nearest qualified
   volunteers that overlap its windows (not mandatory, not pinned by the coordinator, of lower
   priority) are released and re-planned after it, a few volunteers first, a few more if that
   is not enough.
4. `PlanDiff` (`diff`) compares the plans need by need: kept, moved (same volunteers, other time
   or day), reassigned (other volunteers), dropped (with the new plan's reason) and added, each
   with a sentence naming the change that caused it.

`recommend` (`recommend`) answers an elder who calls with a new need: the slots that take it
without moving anything, else the smallest change that would (the re-plan of step 3).

If the old plan breaks a rule the changes do not explain (a hand-edited plan), the new plan would
fail the checker; `replan` then checks every old visit and re-plans the broken ones too.
"""

from matcher.replan.changes import (
    Change,
    ChangeList,
    NewNeed,
    NewVolunteer,
    RecipientAway,
    VolunteerUnavailable,
    WindowChange,
    apply_changes,
    load_changes,
)
from matcher.replan.diff import DiffEntry, PlanDiff, VisitSlot
from matcher.replan.planner import Replan, replan
from matcher.replan.recommend import Recommendation, Slot, recommend

__all__ = [
    "Change",
    "ChangeList",
    "DiffEntry",
    "NewNeed",
    "NewVolunteer",
    "PlanDiff",
    "RecipientAway",
    "Recommendation",
    "Replan",
    "Slot",
    "VisitSlot",
    "VolunteerUnavailable",
    "WindowChange",
    "apply_changes",
    "load_changes",
    "recommend",
    "replan",
]
