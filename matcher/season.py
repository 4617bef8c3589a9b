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
from matcher.checker import check_plan
from matcher.continuity import (
    DEFAULT_HISTORY_WEEKS,
    history_from_plan,
    lead_history_from_plan,
    pairing_report,
    plan_week_start,
    rolled_history,
    rolled_lead_history,
    uncovered_two_weeks,
    unvisited_high_priority,
)
from matcher.ledger import CreditEntry, CreditRates, Ledger
from matcher.models import PinnedVisit, Plan, Problem, Visit
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
    same_total = changed_total = added_total = dropped_total = 0
    for need in before.keys() | after.keys():
        earlier, later = before[need], after[need]
        same = sum((earlier & later).values())
        left_before = sum(earlier.values()) - same
        left_after = sum(later.values()) - same
        changed = min(left_before, left_after)
        same_total += same
        changed_total += changed
        added_total += left_after - changed
        dropped_total += left_before - changed
    return VisitChanges(
        same=same_total, changed=changed_total, added=added_total, dropped=dropped_total
    )


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


CARRY_OVER_TOLERANCE = 0.005
"""`keep_previous` gives up at most this share of the week's requested priority-weighted need
to keep last week's visits where they were."""

_RULES_OF_A_PARTIAL_PLAN = frozenset({"pinned_missing", "mandatory_missing"})
"""Rules about visits that are missing: carried-over visits are only part of a plan."""


def carried_visits(
    previous_plan: Plan, problem: Problem, travel: TravelModel | None = None
) -> list[Visit]:
    """Last week's visits that can stand unchanged this week: the same need, weekday, start and
    volunteers, every hard rule of this week's problem kept (the checker decides). A visit the
    checker names is dropped (for a rule of one volunteer's day or week, their least important
    visit there), and the rest checked again, until the checker finds nothing."""
    model_travel = travel if travel is not None else TravelModel(problem)
    pinned = {(pin.need, pin.day, pin.start) for pin in problem.pinned}
    visits = [
        visit.model_copy(update={"date": problem.date_of(visit.day)})
        for visit in previous_plan.visits
        if visit.need in problem.need_by_id
        and all(volunteer in problem.volunteer_by_id for volunteer in visit.volunteers)
        and (visit.need, visit.day, visit.start) not in pinned
    ]
    while visits:
        partial = Plan(week_start=problem.week_start, visits=visits)
        broken = [
            violation
            for violation in check_plan(problem, partial, model_travel).violations
            if violation.rule not in _RULES_OF_A_PARTIAL_PLAN
        ]
        if not broken:
            return visits
        dropped: set[int] = set()
        for violation in broken:
            if violation.need is not None:
                dropped.update(
                    index
                    for index, visit in enumerate(visits)
                    if visit.need == violation.need
                    and violation.occurrence in (None, visit.occurrence)
                )
            elif violation.volunteer is not None:
                theirs = [
                    index
                    for index, visit in enumerate(visits)
                    if violation.volunteer in visit.volunteers
                    and violation.day in (None, visit.day)
                ]
                if theirs:
                    dropped.add(
                        min(
                            theirs,
                            key=lambda index: problem.priority_of(
                                problem.need_by_id[visits[index].need]
                            ),
                        )
                    )
        if not dropped:
            return []
        visits = [visit for index, visit in enumerate(visits) if index not in dropped]
    return visits


def _with_pins(problem: Problem, visits: list[Visit]) -> Problem:
    """The problem with these visits pinned as well."""
    pins = [
        PinnedVisit(
            need=visit.need, day=visit.day, start=visit.start, volunteers=list(visit.volunteers)
        )
        for visit in visits
    ]
    return Problem.model_validate(problem.variant(pinned=[*problem.pinned, *pins]))


RELEASE_ROUNDS = 3
"""How many times `plan_keeping_previous` releases kept visits in a high-priority visit's way."""


def plan_keeping_previous(
    problem: Problem,
    previous_plan: Plan,
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
    language: str | None = None,
) -> Plan:
    """This week's plan keeping last week's visits where they can stand (`carried_visits`).

    A plan made afresh is the yardstick. When it visits a high-priority recipient the kept plan
    leaves out, the kept visits of the volunteers who make that visit in the fresh plan, on that
    day, are released and the week planned again (up to `RELEASE_ROUNDS` times). The kept plan
    is taken when it then visits every high-priority recipient the fresh plan visits and covers
    at most `CARRY_OVER_TOLERANCE` of the requested priority-weighted need less; otherwise the
    fresh plan is. `solver.statistics["keep_previous"]` says how many visits could be carried,
    were kept and were released, and whether the fresh plan was taken instead.

    Parameters:
        problem: this week.
        previous_plan: last week's plan (of last week's problem).
        solver: the solver of every plan made here (`matcher.api.solve`).
        time_limit_s: each solve's time limit in seconds (None: the solver's default).
        seed: each solve's seed.
        language: of the unplanned visits' sentences, `en` or `zh`; default the policy's.
    """
    fresh = solve(problem, solver=solver, time_limit_s=time_limit_s, seed=seed, language=language)
    carried = carried_visits(previous_plan, problem)
    if not carried:
        return fresh
    requested = sum(
        problem.priority_of(need) * need.visits_per_week for need in problem.need_by_id.values()
    )
    assert fresh.metrics is not None
    left_out_afresh = set(unvisited_high_priority(problem, fresh))
    kept = carried
    for _ in range(RELEASE_ROUNDS + 1):
        sticky = solve(
            _with_pins(problem, kept),
            solver=solver,
            time_limit_s=time_limit_s,
            seed=seed,
            language=language,
        )
        assert sticky.metrics is not None
        missing = set(unvisited_high_priority(problem, sticky)) - left_out_afresh
        lost = fresh.metrics.weighted_planned - sticky.metrics.weighted_planned
        if not missing and lost <= CARRY_OVER_TOLERANCE * requested:
            report = {
                "carried": len(carried),
                "kept": len(kept),
                "released": len(carried) - len(kept),
                "declined": False,
            }
            return _with_statistics(sticky, report, warnings=fresh.warnings)
        in_the_way = {
            (volunteer, visit.day)
            for visit in fresh.visits
            if visit.recipient in missing
            for volunteer in visit.volunteers
        }
        released = [
            visit
            for visit in kept
            if any((volunteer, visit.day) in in_the_way for volunteer in visit.volunteers)
        ]
        if not released:
            break
        kept = [visit for visit in kept if visit not in released]
    declined = {"carried": len(carried), "kept": 0, "released": len(carried), "declined": True}
    return _with_statistics(fresh, declined)


def _with_statistics(
    plan: Plan, keep_previous: dict[str, Any], warnings: list[str] | None = None
) -> Plan:
    """A copy of the plan whose statistics say what keeping last week did (the plan a solver
    returned is not changed)."""
    statistics = {**plan.solver.statistics, "keep_previous": keep_previous}
    update: dict[str, Any] = {"solver": plan.solver.model_copy(update={"statistics": statistics})}
    if warnings is not None:
        update["warnings"] = list(warnings)
    return plan.model_copy(update=update)


def plan_week(
    problem: Problem,
    previous_plan: Plan | None = None,
    *,
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
    ledger: Ledger | None = None,
    rates: CreditRates | None = None,
    keep_previous: bool = False,
) -> WeekOutcome:
    """Plan the week with `matcher.solve` (the checker verifies the plan and fills its metrics,
    pairing counts included), attach the pairing report and, given last week's plan, the
    recipients uncovered two weeks running; credit the visits to `ledger` at `rates` (one
    credit an hour by default) when a ledger is given.

    With `keep_previous` and last week's plan, last week's visits that still keep every rule
    stay exactly where they were and the solver plans around them, releasing those in the way
    of a high-priority recipient a fresh plan would visit (`plan_keeping_previous`)."""
    if keep_previous and previous_plan is not None:
        solved = plan_keeping_previous(problem, previous_plan, solver, time_limit_s, seed)
    else:
        solved = solve(problem, solver=solver, time_limit_s=time_limit_s, seed=seed)
    travel = TravelModel(problem)
    update: dict[str, Any] = {"week_start": plan_week_start(solved, problem)}
    if solved.pairings is None:
        update["pairings"] = pairing_report(problem, solved, travel)
    if previous_plan is not None:
        update["uncovered_two_weeks"] = uncovered_two_weeks(previous_plan, solved, problem, travel)
    plan = solved.model_copy(update=update)
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
    last `keep_weeks` weeks (`rolled_history`); its lead history likewise gains this week's
    session leads (`lead_history_from_plan`), so next week prefers the same leads. Every
    recipient of high priority (`policy.high_priority_threshold`) whom the plan leaves without
    any visit is raised: each of
    their needs gets the week's highest need priority plus `priority_bump` (`raised_priorities`),
    so every solver covers them first if any qualified volunteer can come. The raise is written
    on next week's problem only: with a fresh `upcoming` each week it lasts one week; without,
    it carries over with the rest of this week's problem.

    Parameters:
        problem: this week.
        plan: this week's plan.
        upcoming: next week as described (None: this week one week later).
        keep_weeks: weeks of history kept, at least 1.
        priority_bump: how far above the week's highest need priority the at-risk recipients'
            needs are raised; not negative.
    """
    if upcoming is None:
        week_start = plan_week_start(plan, problem) + dt.timedelta(days=7)
        base = problem
    else:
        week_start, base = upcoming.week_start, upcoming
    earlier = [*problem.history, *(upcoming.history if upcoming is not None else [])]
    history = rolled_history(earlier, history_from_plan(plan, problem), week_start, keep_weeks)
    earlier_leads = [*problem.lead_history, *(upcoming.lead_history if upcoming else [])]
    lead_history = rolled_lead_history(
        earlier_leads, lead_history_from_plan(plan, problem), week_start, keep_weeks
    )
    raised = raised_priorities(problem, plan, base, priority_bump)
    recipients = [
        recipient.model_copy(
            update={
                "needs": [
                    need.model_copy(update={"priority": raised[recipient.id]})
                    for need in recipient.needs
                ]
            }
        )
        if recipient.id in raised
        else recipient
        for recipient in base.recipients
    ]
    return Problem.model_validate(
        base.variant(
            week_start=week_start,
            history=history,
            lead_history=lead_history if base.group_services else [],
            recipients=recipients,
        )
    )


__all__ = [
    "CARRY_OVER_TOLERANCE",
    "DEFAULT_PRIORITY_BUMP",
    "VisitChanges",
    "WeekOutcome",
    "carried_visits",
    "next_week_problem",
    "plan_keeping_previous",
    "plan_week",
    "raised_priorities",
    "visit_changes",
]
