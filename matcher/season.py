"""Week after week: from one week's plan to the next week's problem.

- `plan_week` plans a week with `matcher.solve` and adds what only the sequence of weeks knows:
  the pairings kept, new and broken (`Plan.pairings`), the high-priority recipients left without
  any visit this week and the last (`Plan.uncovered_two_weeks`), the credits the volunteers earn
  in the time bank, and how the visits changed from the week before (`visit_changes`).
- `next_week_problem` turns this week's problem and plan into next week's problem: the plan joins
  the history (the last `keep_weeks` weeks are kept), and every recipient of high priority left
  without any visit this week is raised above everyone else, so the solver covers them before
  they go two weeks running without one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from matcher.api import solve
from matcher.continuity import (
    DEFAULT_HISTORY_WEEKS,
    history_from_plan,
    pairing_report,
    plan_week_start,
    rolled_history,
    uncovered_two_weeks,
    unvisited_high_priority,
)
from matcher.ledger import CreditEntry, CreditRates, Ledger
from matcher.models import Plan, Problem
from matcher.models.common import StrictModel
from matcher.travel import TravelModel

DEFAULT_PRIORITY_BUMP = 1.0
"""A raised recipient's needs get the week's highest need priority plus this."""

VisitKey = tuple[str, int, frozenset[str]]
"""What makes two visits of one need the same: day, start and volunteers."""


class VisitChanges(StrictModel):
    """This week's visits against last week's, matched need by need.

    Within a need, a visit on the same day, at the same start, with the same volunteers is the
    same visit; the rest are paired off as changed (moved, or given to someone else), and what
    is left over is added (this week only) or dropped (last week only). Needs that exist in one
    week only count as added or dropped.
    """

    same: int = Field(default=0, ge=0)
    changed: int = Field(default=0, ge=0)
    added: int = Field(default=0, ge=0)
    dropped: int = Field(default=0, ge=0)


def visit_changes(previous_plan: Plan, plan: Plan) -> VisitChanges:
    """How many visits stayed the same, changed, were added or dropped (see `VisitChanges`)."""
    before: dict[str, Counter[VisitKey]] = defaultdict(Counter)
    after: dict[str, Counter[VisitKey]] = defaultdict(Counter)
    for visits, into in ((previous_plan.visits, before), (plan.visits, after)):
        for visit in visits:
            into[visit.need][(visit.day, visit.start, frozenset(visit.volunteers))] += 1
    changes = VisitChanges()
    for need in before.keys() | after.keys():
        earlier, later = before[need], after[need]
        same = sum((earlier & later).values())
        left_before = sum(earlier.values()) - same
        left_after = sum(later.values()) - same
        changed = min(left_before, left_after)
        changes.same += same
        changes.changed += changed
        changes.added += left_after - changed
        changes.dropped += left_before - changed
    return changes


@dataclass
class WeekOutcome:
    """A planned week: the plan (with its pairings, and the two-weeks rule when the previous
    week is known), the credits it earned and its changes from the previous week."""

    plan: Plan
    credits: list[CreditEntry] = field(default_factory=list)
    changes: VisitChanges | None = None

    @property
    def credits_earned(self) -> float:
        """Credits the week's visits earned in the time bank."""
        return sum(entry.credits for entry in self.credits)


def plan_week(
    problem: Problem,
    previous_plan: Plan | None = None,
    *,
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
    ledger: Ledger | None = None,
    rates: CreditRates | None = None,
) -> WeekOutcome:
    """Plan the week with `matcher.solve` (the checker verifies the plan and fills its metrics,
    pairing counts included), attach the pairing report and, given last week's plan, the
    recipients uncovered two weeks running; credit the visits to `ledger` at `rates` (one
    credit an hour by default) when a ledger is given."""
    plan = solve(problem, solver=solver, time_limit_s=time_limit_s, seed=seed)
    plan.week_start = plan_week_start(plan, problem)
    travel = TravelModel(problem)
    if plan.pairings is None:
        plan.pairings = pairing_report(problem, plan, travel)
    if previous_plan is not None:
        plan.uncovered_two_weeks = uncovered_two_weeks(previous_plan, plan, problem, travel)
    credits = (
        ledger.earn_from_plan(plan, problem, rates if rates is not None else CreditRates())
        if ledger is not None
        else []
    )
    changes = visit_changes(previous_plan, plan) if previous_plan is not None else None
    return WeekOutcome(plan=plan, credits=credits, changes=changes)


def raised_priorities(
    problem: Problem,
    plan: Plan,
    upcoming: Problem,
    priority_bump: float = DEFAULT_PRIORITY_BUMP,
) -> dict[str, float]:
    """The priority each at-risk recipient's needs get in `upcoming`: recipients of `problem`
    with a need and a priority of at least `policy.high_priority_threshold` whom `plan` leaves
    without any visit (`unvisited_high_priority`) and who still have a need in `upcoming`. They
    get the highest need priority of `upcoming` plus `priority_bump`."""
    if priority_bump < 0:
        raise ValueError("priority_bump must not be negative")
    at_risk = [
        recipient_id
        for recipient_id in unvisited_high_priority(problem, plan)
        if recipient_id in upcoming.recipient_by_id and upcoming.recipient_by_id[recipient_id].needs
    ]
    if not at_risk:
        return {}
    top = max(upcoming.priority_of(need) for need in upcoming.need_by_id.values())
    return dict.fromkeys(at_risk, top + priority_bump)


def next_week_problem(
    problem: Problem,
    plan: Plan,
    upcoming: Problem | None = None,
    *,
    keep_weeks: int = DEFAULT_HISTORY_WEEKS,
    priority_bump: float = DEFAULT_PRIORITY_BUMP,
) -> Problem:
    """Next week's problem, knowing this week's problem and plan.

    `upcoming` is next week as the coordinators describe it (needs come and go, volunteers are
    away); without it, this week's problem one week later. Its history becomes this week's
    history, `upcoming`'s own entries and this week's visits (`history_from_plan`), keeping the
    last `keep_weeks` weeks (`rolled_history`). Every recipient of high priority
    (`policy.high_priority_threshold`) whom the plan leaves without any visit is raised: each of
    their needs gets the week's highest need priority plus `priority_bump` (`raised_priorities`),
    so every solver covers them first if any qualified volunteer can come. The raise is written
    on next week's problem only: with a fresh `upcoming` each week it lasts one week; without,
    it carries over with the rest of this week's problem.
    """
    if upcoming is None:
        week_start = plan_week_start(plan, problem) + dt.timedelta(days=7)
        base = problem
    else:
        week_start, base = upcoming.week_start, upcoming
    data: dict[str, Any] = base.model_dump()
    data["week_start"] = week_start
    earlier = [*problem.history, *(upcoming.history if upcoming is not None else [])]
    history = rolled_history(earlier, history_from_plan(plan, problem), week_start, keep_weeks)
    data["history"] = [entry.model_dump() for entry in history]
    raised = raised_priorities(problem, plan, base, priority_bump)
    for recipient in data["recipients"]:
        if recipient["id"] in raised:
            for need in recipient["needs"]:
                need["priority"] = raised[recipient["id"]]
    return Problem.model_validate(data)


__all__ = [
    "DEFAULT_PRIORITY_BUMP",
    "VisitChanges",
    "WeekOutcome",
    "next_week_problem",
    "plan_week",
    "raised_priorities",
    "visit_changes",
]
