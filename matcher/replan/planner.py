"""Re-planning: the old visits still valid pinned, the solver filling in around them, and room
made for urgent needs."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from matcher.api import SolverError, solve
from matcher.checker import DAY_NAMES
from matcher.models import WEEKDAYS, PinnedVisit, Plan, Problem, Visit, format_clock
from matcher.replan.broken import SlotKey, broken_visits, pin_key, slot_key
from matcher.replan.changes import (
    Change,
    ChangeList,
    Issue,
    NewNeed,
    Touch,
    as_change_list,
    changed_problem,
    validation_error,
    visit_of_pin,
    without_impossible_pins,
)
from matcher.replan.diff import PlanDiff, plan_diff
from matcher.replan.session_diff import session_diff
from matcher.rules import facts_of, outings_by_day, shared_starts, windows_by_day
from matcher.travel import TravelModel

ROOM_ROUNDS: tuple[int, ...] = (3, 12)
"""How many of the nearest qualified volunteers give up overlapping visits, round by round, to
make room for an urgent need that found none."""
ROOM_MARGIN_MIN = 30
"""Visits that end or start within this many minutes of an urgent need's window are released
with it: the volunteer must also travel there."""


class Replan(BaseModel):
    """The result of `replan`: the new plan, what changed and why, and the changed problem the
    plan answers (`matcher check` it against that problem)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: Plan
    diff: PlanDiff
    problem: Problem


def _plan_issues(problem: Problem, plan: Plan) -> list[Issue]:
    """What makes the old plan not a plan of this problem."""
    issues: list[Issue] = []
    if plan.week_start is not None and plan.week_start != problem.week_start:
        issues.append(
            (
                ("plan", "week_start"),
                f"the plan is for the week of {plan.week_start.isoformat()}, the problem for "
                f"{problem.week_start.isoformat()}",
            )
        )
    for index, visit in enumerate(plan.visits):
        if visit.need not in problem.need_by_id:
            issues.append((("plan", "visits", index, "need"), f"unknown need {visit.need!r}"))
        for v_index, volunteer in enumerate(visit.volunteers):
            if volunteer not in problem.volunteer_by_id:
                issues.append(
                    (
                        ("plan", "visits", index, "volunteers", v_index),
                        f"unknown volunteer {volunteer!r}",
                    )
                )
    return issues


@dataclass
class _Outcome:
    """One solve of the changed problem with some old visits pinned."""

    plan: Plan
    why_changed: dict[int, str]
    """Old visits (by index) not pinned, and why."""


def replan(
    problem: Problem,
    plan: Plan,
    changes: ChangeList | Sequence[Change | Mapping[str, Any]],
    *,
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
) -> Replan:
    """Re-plan the week after the changes, keeping every old visit that is still valid exactly.

    Raises pydantic's ValidationError listing every problem with the changes (`changes.1.need:
    unknown need 'x'`) and with the plan (`plan.visits.3.need: ...`), and ValueError for an
    unknown solver. The new plan has been through the checker (`matcher.api.solve`);
    `plan.solver.statistics["replan"]` says how many changes were applied, the diff's counts
    and the wall time of the whole re-plan.

    Parameters:
        problem: the week as it was planned.
        plan: its plan (any plan of the problem; visits the changes do not explain but that
            break a rule are re-planned too).
        changes: a `ChangeList`, or a list of changes (models or their JSON-like dicts), applied
            in order.
        solver: the solver that fills in around the kept visits (`matcher.api.solve`).
        time_limit_s: each solve's time limit in seconds (None: the solver's default).
        seed: each solve's seed.

    Returns:
        The new plan, the diff from the old one, and the changed problem the plan answers.
    """
    began = time.perf_counter()
    change_list = as_change_list(changes)
    plan_issues = _plan_issues(problem, plan)
    try:
        changed = changed_problem(problem, change_list)
    except ValidationError as error:
        raise validation_error(
            plan_issues
            + [
                (tuple(item["loc"]), item["msg"].removeprefix("Value error, "))
                for item in error.errors(include_url=False)
            ]
        ) from None
    if plan_issues:
        raise validation_error(plan_issues)
    changed = without_impossible_pins(problem, changed, change_list)
    touch = Touch(problem, changed, change_list)
    old_visits = list(plan.visits)
    travel = TravelModel(changed)
    suspects = [index for index, visit in enumerate(old_visits) if touch.cause(visit) is not None]
    try:
        outcome = _solve_keeping(
            changed, old_visits, suspects, touch, travel, solver, time_limit_s, seed
        )
    except SolverError:
        # An old visit the changes do not explain broke a rule: check them all.
        outcome = _solve_keeping(
            changed,
            old_visits,
            list(range(len(old_visits))),
            touch,
            travel,
            solver,
            time_limit_s,
            seed,
        )
    diff = plan_diff(problem, changed, plan, outcome.plan, outcome.why_changed, touch)
    sessions = session_diff(problem, change_list, plan, outcome.plan)
    if sessions is not None:
        diff = diff.model_copy(update={"sessions": sessions})
    solved = outcome.plan
    statistics = {
        **solved.solver.statistics,
        "replan": {
            "changes": len(change_list.changes),
            **diff.counts(),
            "wall_time_s": round(time.perf_counter() - began, 3),
        },
    }
    new_plan = solved.model_copy(
        update={
            "warnings": [*solved.warnings, *_unpinned_warnings(problem, changed, touch)],
            "solver": solved.solver.model_copy(update={"statistics": statistics}),
        }
    )
    return Replan(plan=new_plan, diff=diff, problem=changed)


def _unpinned_warnings(original: Problem, changed: Problem, touch: Touch) -> list[str]:
    """A sentence for each of the coordinator's pinned visits the changes made impossible."""
    still = {pin_key(pin) for pin in changed.pinned}
    warnings = []
    for pin in original.pinned:
        if pin_key(pin) in still:
            continue
        cause = touch.cause(visit_of_pin(original, pin))
        why = touch.descriptions[cause] if cause is not None else "the changes"
        warnings.append(
            f"the pinned visit of need {pin.need!r} on {DAY_NAMES[pin.day]} at "
            f"{format_clock(pin.start)} with {', '.join(pin.volunteers)} is no longer possible "
            f"({why}) and is unpinned"
        )
    return warnings


def _solve_keeping(
    changed: Problem,
    old_visits: list[Visit],
    suspects: list[int],
    touch: Touch,
    travel: TravelModel,
    solver: str,
    time_limit_s: float | None,
    seed: int,
) -> _Outcome:
    """Pin every old visit that keeps the rules, solve, and make room for urgent needs."""
    broken = broken_visits(changed, old_visits, suspects, travel)
    why_changed: dict[int, str] = {}
    linked: list[int] = []
    for index, violation in broken.items():
        cause = touch.cause(old_visits[index])
        if cause is not None:
            why_changed[index] = touch.descriptions[cause]
        elif violation.rule == "dependency":
            linked.append(index)
        else:
            why_changed[index] = f"it broke the rule {violation.rule}: {violation.message}"
    for index in linked:
        why_changed[index] = _why_linked(changed, old_visits, index, why_changed)
    kept = [index for index in range(len(old_visits)) if index not in broken]
    new_plan = _solve_pinned(changed, old_visits, kept, solver, time_limit_s, seed)
    outcome = _Outcome(plan=new_plan, why_changed=why_changed)
    return _make_room(changed, old_visits, kept, outcome, touch, travel, solver, time_limit_s, seed)


def _why_linked(
    changed: Problem, old_visits: list[Visit], index: int, why_changed: dict[int, str]
) -> str:
    """Why a visit linked to a re-planned one is re-planned with it: its partner's reason."""
    visit = old_visits[index]
    partners = {
        dependency.second if dependency.first == visit.need else dependency.first
        for dependency in changed.dependencies
        if visit.need in (dependency.first, dependency.second)
    }
    for other, why in sorted(why_changed.items()):
        partner = old_visits[other]
        if partner.need in partners and partner.day == visit.day:
            return f"it goes with need {partner.need}, whose visit was re-planned: {why}"
    return "its linked visit was re-planned"


def _solve_pinned(
    changed: Problem,
    old_visits: list[Visit],
    kept: list[int],
    solver: str,
    time_limit_s: float | None,
    seed: int,
) -> Plan:
    """Solve the changed problem with the kept old visits and the coordinator's pins pinned."""
    pins: dict[SlotKey, PinnedVisit] = {}
    for pin in changed.pinned:
        pins[pin_key(pin)] = pin
    for index in kept:
        visit = old_visits[index]
        pins.setdefault(
            slot_key(visit),
            PinnedVisit(
                need=visit.need, day=visit.day, start=visit.start, volunteers=visit.volunteers
            ),
        )
    pinned_problem = changed.variant(pinned=list(pins.values()))
    return solve(pinned_problem, solver=solver, time_limit_s=time_limit_s, seed=seed)


def _urgent_needs(changed: Problem, touch: Touch) -> list[str]:
    """The urgent new needs, in the order of their changes."""
    return [
        need_id
        for need_id, index in touch.new_needs.items()
        if isinstance(change := touch.changes[index], NewNeed)
        and change.urgent
        and need_id in changed.need_by_id
    ]


def _unplanned(plan: Plan, need_id: str) -> int:
    return sum(1 for entry in plan.unassigned if entry.need == need_id)


def _make_room(
    changed: Problem,
    old_visits: list[Visit],
    kept: list[int],
    outcome: _Outcome,
    touch: Touch,
    travel: TravelModel,
    solver: str,
    time_limit_s: float | None,
    seed: int,
) -> _Outcome:
    """Release the nearest qualified volunteers' overlapping visits for each urgent need still
    unplanned, re-solve, and keep the result when more urgent visits are planned."""
    waiting = [
        need_id for need_id in _urgent_needs(changed, touch) if _unplanned(outcome.plan, need_id)
    ]
    if not waiting:
        return outcome
    coordinator_pins = {pin_key(pin) for pin in changed.pinned}
    best = outcome
    before = sum(_unplanned(outcome.plan, need_id) for need_id in waiting)
    for count in ROOM_ROUNDS:
        released: dict[int, str] = {}
        for need_id in waiting:
            why = f"made room for {touch.descriptions[touch.new_needs[need_id]]}"
            for index in _in_the_way(changed, old_visits, kept, need_id, count, travel):
                if slot_key(old_visits[index]) not in coordinator_pins:
                    released.setdefault(index, why)
        if not released:
            continue
        still_kept = [index for index in kept if index not in released]
        attempt = _solve_pinned(changed, old_visits, still_kept, solver, time_limit_s, seed)
        after = sum(_unplanned(attempt, need_id) for need_id in waiting)
        if after < before:
            best = _Outcome(plan=attempt, why_changed={**outcome.why_changed, **released})
            break
    return best


def _in_the_way(
    changed: Problem,
    old_visits: list[Visit],
    kept: list[int],
    need_id: str,
    count: int,
    travel: TravelModel,
) -> list[int]:
    """Kept visits of the `count` nearest volunteers who qualify for the urgent need and share a
    time with it (`rules.facts`) that overlap its windows (give or take the travel margin) and
    are neither mandatory nor as urgent."""
    need = changed.need_by_id[need_id]
    facts = facts_of(changed, travel, changed.recipient_of_need[need_id], need)
    priority = facts.priority
    allowed = windows_by_day(changed, need)
    qualified = [changed.volunteer_by_id[volunteer_id] for volunteer_id in facts.qualified]
    candidates = [
        volunteer
        for volunteer in qualified
        if any(
            shared_starts(facts, day, outings) for day, outings in outings_by_day(volunteer).items()
        )
    ]
    candidates.sort(
        key=lambda volunteer: (
            travel.distance(travel.start_place[volunteer.id], facts.place),
            volunteer.id,
        )
    )
    nearest = {volunteer.id for volunteer in candidates[:count]}
    in_the_way = []
    for index in kept:
        visit = old_visits[index]
        other = changed.need_by_id[visit.need]
        if nearest.isdisjoint(visit.volunteers) or other.mandatory:
            continue
        if changed.priority_of(other) >= priority:
            continue
        if any(
            visit.start < end + ROOM_MARGIN_MIN and visit.end > start - ROOM_MARGIN_MIN
            for start, end in allowed.get(WEEKDAYS.index(visit.day), [])
        ):
            in_the_way.append(index)
    return in_the_way


__all__ = ["Replan", "replan"]
