"""An exact model of the week in OR-Tools CP-SAT, with a proven bound on coverage.

Decisions: for each need and allowed day, whether a visit happens (`present`), when it starts
(`start`) and which volunteers make it (`assigned`, as many as the service's team size, all
starting together). Each volunteer's day is a circuit through its visits from the start place
and back home, with travel time between consecutive visits (AddCircuit), so travel is exact, not
a buffer. Every hard rule of `docs/rules.md` is a constraint.

It solves in two phases, because coverage comes first: phase 1 maximises priority-weighted
coverage and proves a bound on it; phase 2 keeps that coverage and optimises the whole policy
objective (coverage, continuity, travel, staff cost, fairness). The plan reports the proven
bound on weighted coverage and the gap.

The builder also serves the large-neighbourhood search: it can fix some visits and free only
some volunteer-days.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model
from pydantic import BaseModel, ConfigDict, Field

from matcher.models import (
    WEEKDAYS,
    Plan,
    Problem,
    SolverInfo,
    UnassignedVisit,
    Visit,
    offered_shares,
)
from matcher.solvers.bounds import bound_and_gap, coverage_upper_bound
from matcher.solvers.candidates import (
    Intervals,
    NeedFacts,
    availability_by_day,
    ceil_minutes,
    diagnose_unplanned,
    intersect,
    need_facts,
    normalise,
    reachable_start_set,
    start_set,
)
from matcher.travel import TravelModel

SCALE = 100
"""Objective points are multiplied by this and rounded, because CP-SAT needs integers."""
COVERAGE_SCALE = 1000
"""Phase 1 counts priority in thousandths."""

FAIRNESS_SHARE_SCALE = 1000
"""Offered shares enter the fairness constraints as whole thousandths."""


class CpSatParameters(BaseModel):
    """Settings of the exact model. One worker and a fixed seed make runs repeatable."""

    model_config = ConfigDict(extra="forbid")

    workers: int = Field(default=1, ge=1, le=64, description="CP-SAT search workers")
    log_progress: bool = False
    coverage_time_share: float = Field(
        default=0.6, gt=0, lt=1, description="share of the time limit for phase 1 (coverage)"
    )
    warm_start: bool = Field(default=True, description="hint the greedy plan")
    default_time_limit_s: float = Field(default=30.0, gt=0)
    linearization_level: int = Field(
        default=2, ge=0, le=2, description="2 gives CP-SAT the LP relaxation it needs for bounds"
    )
    relaxation_bound: bool = Field(
        default=True, description="also bound coverage by the linear relaxation; keep the lower"
    )
    prune_by_reach: bool = Field(
        default=False,
        description="only offer a visit to volunteers who could make it alone from their start "
        "place and back home (smaller models; may lose chains of visits far from home)",
    )


@dataclass
class _Option:
    """A possible visit of a need on a day."""

    need: str
    day: int
    present: cp_model.IntVar
    start: cp_model.IntVar
    duration: int
    place: int
    assigned: dict[str, cp_model.IntVar] = field(default_factory=dict)


@dataclass
class _Node:
    """A visit in a volunteer's day: optional (an option) or fixed (an existing visit)."""

    start: cp_model.LinearExprT
    duration: int
    place: int
    presence: cp_model.IntVar | None
    earliest: int
    latest: int
    starts_alone: Intervals
    key: tuple[str, int]


@dataclass
class WeekModel:
    """The CP-SAT model of a week (or of a neighbourhood of a plan), ready to solve."""

    model: cp_model.CpModel
    options: dict[tuple[str, int], _Option]
    coverage: cp_model.LinearExprT
    objective: cp_model.LinearExprT
    arcs: dict[
        tuple[str, int],
        list[tuple[tuple[str, int] | None, tuple[str, int] | None, cp_model.IntVar]],
    ]
    fixed_visits: list[Visit]
    fixed_coverage: int
    idle: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    serves: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)


def _domain(intervals: Intervals) -> cp_model.Domain:
    return cp_model.Domain.from_intervals([[low, high] for low, high in intervals])


def build_week_model(
    problem: Problem,
    travel: TravelModel,
    *,
    facts: dict[str, NeedFacts] | None = None,
    fixed_visits: list[Visit] | None = None,
    free_pairs: set[tuple[str, int]] | None = None,
    prune_by_reach: bool = False,
    keep_possible: list[Visit] | None = None,
    pair_needs: dict[tuple[str, int], set[str]] | None = None,
    include_fairness: bool = True,
    weights_scale: int = SCALE,
) -> WeekModel:
    """Build the model. `fixed_visits` stay exactly as they are; new visits may only use the
    volunteer-days in `free_pairs` (all of them when None). Visits in `keep_possible` (the part
    of a plan being re-optimised) stay representable whatever the pruning, so the model can
    always give back the plan it started from. `pair_needs`, when given, limits which needs each
    free volunteer-day may take on (besides its kept visits), to keep neighbourhoods small."""
    facts = facts if facts is not None else need_facts(problem, travel)
    fixed_visits = list(fixed_visits or [])
    weights = problem.policy.weights
    model = cp_model.CpModel()
    volunteers = problem.volunteer_by_id
    availability = {
        volunteer.id: availability_by_day(volunteer) for volunteer in problem.volunteers
    }
    historic = {(item.recipient, item.volunteer) for item in problem.history}

    fixed_by_need: dict[str, list[Visit]] = defaultdict(list)
    fixed_by_pair: dict[tuple[str, int], list[Visit]] = defaultdict(list)
    fixed_by_recipient_day: dict[tuple[str, int], list[Visit]] = defaultdict(list)
    for visit in fixed_visits:
        day = WEEKDAYS.index(visit.day)
        fixed_by_need[visit.need].append(visit)
        fixed_by_recipient_day[(visit.recipient, day)].append(visit)
        for volunteer_id in visit.volunteers:
            fixed_by_pair[(volunteer_id, day)].append(visit)

    kept: dict[tuple[str, int], Visit] = {
        (visit.need, WEEKDAYS.index(visit.day)): visit for visit in keep_possible or []
    }

    def pair_is_free(volunteer_id: str, day: int) -> bool:
        return free_pairs is None or (volunteer_id, day) in free_pairs

    options: dict[tuple[str, int], _Option] = {}
    idle: dict[tuple[str, int], cp_model.IntVar] = {}
    serves_by_helper: dict[tuple[str, str], cp_model.IntVar] = {}
    alone_starts: dict[tuple[str, int, str], Intervals] = {}
    for need_id, need in sorted(facts.items()):
        fixed_days = [WEEKDAYS.index(visit.day) for visit in fixed_by_need.get(need_id, [])]
        remaining = need.need.visits_per_week - len(fixed_days)
        if remaining <= 0:
            continue
        gap = need.need.min_gap_days
        for day, windows in sorted(need.late_windows_by_day.items()):
            if any(abs(day - other) < gap for other in fixed_days):
                continue
            need_starts = start_set(windows, need.duration)
            if not need_starts:
                continue
            candidates: dict[str, Intervals] = {}
            for volunteer_id in need.qualified:
                if not pair_is_free(volunteer_id, day):
                    continue
                previous = kept.get((need_id, day))
                is_kept = previous is not None and volunteer_id in previous.volunteers
                if (
                    pair_needs is not None
                    and not is_kept
                    and need_id not in pair_needs.get((volunteer_id, day), set())
                ):
                    continue
                own = availability[volunteer_id].get(day)
                if not own:
                    continue
                if prune_by_reach:
                    starts = reachable_start_set(
                        problem,
                        travel,
                        need,
                        volunteers[volunteer_id],
                        day,
                        availability[volunteer_id],
                    )
                else:
                    starts = intersect(need_starts, start_set(own, need.duration))
                if is_kept and previous is not None:
                    starts = normalise([*starts, (previous.start, previous.start)])
                if starts:
                    candidates[volunteer_id] = starts
            if len(candidates) < need.service.team_size:
                continue
            union: Intervals = sorted(
                {interval for spans in candidates.values() for interval in spans}
            )
            present = model.new_bool_var(f"present[{need_id},{day}]")
            start = model.new_int_var_from_domain(_domain(_merge(union)), f"start[{need_id},{day}]")
            option = _Option(need_id, day, present, start, need.duration, need.place)
            for volunteer_id, starts in sorted(candidates.items()):
                assigned = model.new_bool_var(f"assigned[{need_id},{day},{volunteer_id}]")
                model.add_implication(assigned, present)
                model.add_linear_expression_in_domain(start, _domain(starts)).only_enforce_if(
                    assigned
                )
                option.assigned[volunteer_id] = assigned
                alone_starts[(need_id, day, volunteer_id)] = starts
            model.add(sum(option.assigned.values()) == need.service.team_size * present)
            options[(need_id, day)] = option

    options_by_need: dict[str, list[_Option]] = defaultdict(list)
    for option in options.values():
        options_by_need[option.need].append(option)
    for need_id, need_options in options_by_need.items():
        need = facts[need_id]
        remaining = need.need.visits_per_week - len(fixed_by_need.get(need_id, []))
        model.add(sum(option.present for option in need_options) <= remaining)
        for first in need_options:
            for second in need_options:
                if first.day < second.day < first.day + need.need.min_gap_days:
                    model.add_bool_or([first.present.Not(), second.present.Not()])

    _link_dependent_visits(problem, model, options, fixed_visits)

    # A recipient receives one visit at a time (linked visits excepted: they may overlap).
    linked = {(link.first, link.second) for link in problem.dependencies}
    linked |= {(second, first) for first, second in linked}
    intervals_by_recipient_day: dict[tuple[str, int], list[tuple[str, cp_model.IntervalVar]]] = (
        defaultdict(list)
    )
    for option in options.values():
        recipient = facts[option.need].recipient.id
        intervals_by_recipient_day[(recipient, option.day)].append(
            (
                option.need,
                model.new_optional_fixed_size_interval_var(
                    option.start, option.duration, option.present, f"at[{option.need},{option.day}]"
                ),
            )
        )
    for (recipient, day), intervals in intervals_by_recipient_day.items():
        for visit in fixed_by_recipient_day.get((recipient, day), []):
            intervals.append(
                (
                    visit.need,
                    model.new_fixed_size_interval_var(
                        visit.start, visit.end - visit.start, "fixed"
                    ),
                )
            )
        if len(intervals) < 2:
            continue
        if not any((a, b) in linked for a, _ in intervals for b, _ in intervals):
            model.add_no_overlap([interval for _, interval in intervals])
            continue
        for index, (first_need, first_interval) in enumerate(intervals):
            for second_need, second_interval in intervals[index + 1 :]:
                if (first_need, second_need) not in linked:
                    model.add_no_overlap([first_interval, second_interval])

    lateness = _lateness_terms(model, options, facts)

    # Each volunteer's day: a circuit from the start place, through its visits, back home.
    arcs_by_pair: dict[
        tuple[str, int],
        list[tuple[tuple[str, int] | None, tuple[str, int] | None, cp_model.IntVar]],
    ] = {}
    travel_cost_terms: list[tuple[cp_model.IntVar, int]] = []
    load_terms: dict[str, list[tuple[Any, int]]] = defaultdict(list)
    fixed_load: dict[str, float] = defaultdict(float)
    options_by_pair: dict[tuple[str, int], list[_Option]] = defaultdict(list)
    for option in options.values():
        for volunteer_id in option.assigned:
            options_by_pair[(volunteer_id, option.day)].append(option)

    pairs = set(options_by_pair) | set(fixed_by_pair)
    for volunteer_id, day in sorted(pairs):
        volunteer = volunteers[volunteer_id]
        fixed_here = sorted(
            fixed_by_pair.get((volunteer_id, day), []), key=lambda visit: visit.start
        )
        if not pair_is_free(volunteer_id, day) or (volunteer_id, day) not in options_by_pair:
            fixed_load[volunteer_id] += _fixed_day_minutes(travel, volunteer_id, fixed_here, facts)
            continue
        times = travel.time_matrix(volunteer_id)
        speed_cost = weights.travel_per_km / 1000.0
        nodes: list[_Node] = []
        for option in options_by_pair[(volunteer_id, day)]:
            starts = alone_starts[(option.need, day, volunteer_id)]
            nodes.append(
                _Node(
                    start=option.start,
                    duration=option.duration,
                    place=option.place,
                    presence=option.assigned[volunteer_id],
                    earliest=starts[0][0],
                    latest=starts[-1][1],
                    starts_alone=starts,
                    key=(option.need, day),
                )
            )
        for visit in fixed_here:
            place = travel.recipient_place[visit.recipient]
            nodes.append(
                _Node(
                    start=visit.start,
                    duration=visit.end - visit.start,
                    place=place,
                    presence=None,
                    earliest=visit.start,
                    latest=visit.start,
                    starts_alone=[(visit.start, visit.start)],
                    key=(visit.need, day),
                )
            )
        own = availability[volunteer_id].get(day, [])
        start_place, home_place = travel.start_place[volunteer_id], travel.home_place[volunteer_id]
        limit = volunteer.max_trip_distance_m
        circuit: list[tuple[int, int, Any]] = []
        pair_arcs: list[tuple[tuple[str, int] | None, tuple[str, int] | None, cp_model.IntVar]] = []
        empty = model.new_bool_var(f"idle[{volunteer_id},{day}]")
        idle[(volunteer_id, day)] = empty
        circuit.append((0, 0, empty))
        true_literal = model.new_constant(1)
        for index, node in enumerate(nodes, start=1):
            presence = node.presence if node.presence is not None else true_literal
            if node.presence is not None:
                circuit.append((index, index, node.presence.Not()))
            model.add_implication(presence, empty.Not())
            for leg_from, leg_to, is_departure in (
                (start_place, node.place, True),
                (node.place, home_place, False),
            ):
                distance = travel.distance(leg_from, leg_to)
                if (limit is not None and distance > limit + 1e-6) or math.isinf(distance):
                    continue
                leg_min = ceil_minutes(float(times[leg_from, leg_to]))
                allowed = (
                    start_set(own, node.duration, before=leg_min)
                    if is_departure
                    else start_set(own, node.duration, after=leg_min)
                )
                allowed = intersect(allowed, node.starts_alone)
                if not allowed:
                    continue
                arc = model.new_bool_var("")
                model.add_implication(arc, presence)
                model.add_linear_expression_in_domain(node.start, _domain(allowed)).only_enforce_if(
                    arc
                )
                if is_departure:
                    circuit.append((0, index, arc))
                    pair_arcs.append((None, node.key, arc))
                else:
                    circuit.append((index, 0, arc))
                    pair_arcs.append((node.key, None, arc))
                travel_cost_terms.append((arc, round(weights_scale * speed_cost * distance)))
                load_terms[volunteer_id].append(
                    (arc, _centi_minutes(float(times[leg_from, leg_to])))
                )
            load_terms[volunteer_id].append((presence, 100 * node.duration))
        for origin_index, origin in enumerate(nodes, start=1):
            for target_index, target in enumerate(nodes, start=1):
                if origin_index == target_index:
                    continue
                distance = travel.distance(origin.place, target.place)
                if (limit is not None and distance > limit + 1e-6) or math.isinf(distance):
                    continue
                leg_min = ceil_minutes(float(times[origin.place, target.place]))
                if origin.earliest + origin.duration + leg_min > target.latest:
                    continue
                arc = model.new_bool_var("")
                circuit.append((origin_index, target_index, arc))
                pair_arcs.append((origin.key, target.key, arc))
                if origin.presence is None and target.presence is None:
                    if not target.earliest >= origin.earliest + origin.duration + leg_min:
                        model.add(arc == 0)
                else:
                    model.add(
                        target.start >= origin.start + origin.duration + leg_min
                    ).only_enforce_if(arc)
                travel_cost_terms.append((arc, round(weights_scale * speed_cost * distance)))
                load_terms[volunteer_id].append(
                    (arc, _centi_minutes(float(times[origin.place, target.place])))
                )
        model.add_circuit(circuit)
        arcs_by_pair[(volunteer_id, day)] = pair_arcs
        if volunteer.max_visits_per_day is not None:
            model.add(
                sum(node.presence if node.presence is not None else 1 for node in nodes)
                <= volunteer.max_visits_per_day
            )
        if volunteer.capacity is not None:
            carried = [
                (node.presence if node.presence is not None else 1) * facts[node.key[0]].need.load
                for node in nodes
                if node.key[0] in facts and facts[node.key[0]].need.load
            ]
            if carried:
                model.add(sum(carried) <= volunteer.capacity)

    for volunteer in problem.volunteers:
        if volunteer.max_minutes_per_week is None or volunteer.id not in load_terms:
            continue
        budget = math.floor(
            100 * (volunteer.max_minutes_per_week - fixed_load[volunteer.id]) + 1e-6
        )
        model.add(sum(literal * minutes for literal, minutes in load_terms[volunteer.id]) <= budget)

    coverage_terms = [
        (option.present, round(COVERAGE_SCALE * facts[option.need].priority))
        for option in options.values()
    ]
    coverage = sum(literal * points for literal, points in coverage_terms)
    fixed_coverage = sum(
        round(COVERAGE_SCALE * facts[visit.need].priority)
        for visit in fixed_visits
        if visit.need in facts
    )

    objective_terms: list[Any] = []
    for option in options.values():
        need = facts[option.need]
        objective_terms.append(
            option.present * round(weights_scale * weights.coverage * need.priority)
        )
        for volunteer_id, assigned in option.assigned.items():
            volunteer = volunteers[volunteer_id]
            points = weights.continuity_points(
                volunteer_id in need.recipient.preferred_volunteers,
                (need.recipient.id, volunteer_id) in historic,
            )
            hourly = volunteer.cost_per_hour
            if hourly is None:
                hourly = (
                    weights.staff_cost_per_hour
                    if volunteer.kind == "staff"
                    else weights.volunteer_cost_per_hour
                )
            points -= hourly * option.duration / 60.0
            if points:
                objective_terms.append(assigned * round(weights_scale * points))
    for literal, cost in travel_cost_terms:
        if cost:
            objective_terms.append(-cost * literal)
    for need_id, need_options in options_by_need.items():
        need = facts[need_id]
        if not need.need.same_volunteer or need.need.visits_per_week < 2:
            continue
        helpers = sorted(
            {volunteer_id for option in need_options for volunteer_id in option.assigned}
        )
        for volunteer_id in helpers:
            serves = model.new_bool_var("")
            serves_by_helper[(need_id, volunteer_id)] = serves
            for option in need_options:
                if volunteer_id in option.assigned:
                    model.add_implication(option.assigned[volunteer_id], serves)
            objective_terms.append(-round(weights_scale * weights.continuity) * serves)
    if include_fairness and weights.fairness > 0 and load_terms:
        loads = {
            volunteer_id: sum(literal * minutes for literal, minutes in terms)
            for volunteer_id, terms in load_terms.items()
        }
        shares = offered_shares(problem.volunteers)
        total = sum(loads.values())
        for volunteer_id, load in loads.items():
            share_permille = round(FAIRNESS_SHARE_SCALE * shares[volunteer_id])
            if share_permille == 0:
                continue
            excess = model.new_int_var(
                0, 7 * problem.day_length_min * 100, f"excess[{volunteer_id}]"
            )
            model.add(
                FAIRNESS_SHARE_SCALE * excess
                >= FAIRNESS_SHARE_SCALE * load - share_permille * total
            )
            objective_terms.append(-max(1, round(weights_scale * weights.fairness / 100)) * excess)
    if lateness:
        late_cost = round(weights_scale * weights.lateness_per_min)
        if late_cost:
            objective_terms.extend(-late_cost * late for late in lateness)
        peak_cost = round(weights_scale * weights.max_lateness_per_min)
        if peak_cost:
            peak = model.new_int_var(0, problem.day_length_min, "largest_lateness")
            for late in lateness:
                model.add(peak >= late)
            objective_terms.append(-peak_cost * peak)
    objective = sum(objective_terms)
    return WeekModel(
        model=model,
        options=options,
        coverage=coverage,
        objective=objective,
        arcs=arcs_by_pair,
        fixed_visits=fixed_visits,
        fixed_coverage=fixed_coverage,
        idle=idle,
        serves=serves_by_helper,
    )


def _link_dependent_visits(
    problem: Problem,
    model: cp_model.CpModel,
    options: dict[tuple[str, int], _Option],
    fixed_visits: list[Visit],
) -> None:
    """Linked needs: both visited on the same days or neither, the second starting within its
    gap of the first, by different volunteers."""
    fixed_by_key = {(visit.need, WEEKDAYS.index(visit.day)): visit for visit in fixed_visits}
    for link in problem.dependencies:
        low, high = link.min_gap_min, link.max_gap_min
        if link.kind == "simultaneous":
            low, high = 0, 0
        for day in range(7):
            first = options.get((link.first, day))
            second = options.get((link.second, day))
            first_fixed = fixed_by_key.get((link.first, day))
            second_fixed = fixed_by_key.get((link.second, day))
            first_start: Any = (
                first.start if first else (first_fixed.start if first_fixed else None)
            )
            second_start: Any = (
                second.start if second else (second_fixed.start if second_fixed else None)
            )
            first_present: Any = first.present if first else (1 if first_fixed else 0)
            second_present: Any = second.present if second else (1 if second_fixed else 0)
            if first is None and second is None:
                continue
            if first is not None:
                model.add(first.present == second_present)
            if second is not None:
                model.add(second.present == first_present)
            if first_start is None or second_start is None:
                continue
            enforce = [option.present for option in (first, second) if option is not None]
            model.add(second_start - first_start >= low).only_enforce_if(enforce)
            if high is not None:
                model.add(second_start - first_start <= high).only_enforce_if(enforce)
            first_team = (
                set(first.assigned) if first else set(first_fixed.volunteers if first_fixed else [])
            )
            second_team = (
                set(second.assigned)
                if second
                else set(second_fixed.volunteers if second_fixed else [])
            )
            for volunteer_id in sorted(first_team & second_team):
                first_on: Any = first.assigned[volunteer_id] if first else 1
                second_on: Any = second.assigned[volunteer_id] if second else 1
                model.add(first_on + second_on <= 1)


def _lateness_terms(
    model: cp_model.CpModel, options: dict[tuple[str, int], _Option], facts: dict[str, NeedFacts]
) -> list[cp_model.IntVar]:
    """Minutes late of every soft-window option: measured against the window it starts in
    (the one that makes it least late), zero when absent."""
    lateness: list[cp_model.IntVar] = []
    for (need_id, day), option in sorted(options.items()):
        need = facts[need_id]
        if not need.need.soft_window:
            continue
        windows = need.windows_by_day.get(day, [])
        late = model.new_int_var(0, 7 * 24 * 60 * 10, f"late[{need_id},{day}]")
        if len(windows) == 1:
            model.add(late >= option.start - (windows[0][1] - option.duration))
        else:
            choices = []
            for window_start, window_end in windows:
                chosen = model.new_bool_var("")
                model.add(option.start >= window_start).only_enforce_if(chosen)
                model.add(late >= option.start - (window_end - option.duration)).only_enforce_if(
                    chosen
                )
                choices.append(chosen)
            model.add(sum(choices) == option.present)
        lateness.append(late)
    return lateness


def _centi_minutes(minutes: float) -> int:
    """Hundredths of a minute, rounded up, so that the model's weekly minutes never undercount
    the checker's (which adds exact travel minutes)."""
    return math.ceil(100 * minutes - 1e-6)


def _merge(intervals: Intervals) -> Intervals:
    merged: Intervals = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _fixed_day_minutes(
    travel: TravelModel, volunteer_id: str, visits: list[Visit], facts: dict[str, NeedFacts]
) -> float:
    """Visit and travel minutes of a fixed day of this volunteer, in start order."""
    if not visits:
        return 0.0
    minutes = 0.0
    place = travel.start_place[volunteer_id]
    for visit in visits:
        here = travel.recipient_place[visit.recipient]
        minutes += travel.travel_min(volunteer_id, place, here) + (visit.end - visit.start)
        place = here
    return minutes + travel.travel_min(volunteer_id, place, travel.home_place[volunteer_id])


@dataclass
class PhaseResult:
    """What one CP-SAT solve found."""

    status: str
    objective: float | None
    bound: float | None
    wall_time_s: float


def _solver(seed: int, time_limit_s: float, parameters: CpSatParameters) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    solver.parameters.num_workers = parameters.workers
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = parameters.log_progress
    solver.parameters.linearization_level = parameters.linearization_level
    return solver


def hint_from_visits(week: WeekModel, visits: list[Visit], travel: TravelModel) -> None:
    """Hint CP-SAT with a whole existing plan, fixed visits included (e.g. the greedy plan):
    presence, starts, teams, idle days and the arcs of every volunteer's day."""
    planned: dict[tuple[str, int], Visit] = {}
    for visit in visits:
        planned[(visit.need, WEEKDAYS.index(visit.day))] = visit
    model = week.model
    for key, option in week.options.items():
        found = planned.get(key)
        model.add_hint(option.present, found is not None)
        model.add_hint(
            option.start, found.start if found is not None else option.start.proto.domain[0]
        )
        for volunteer_id, assigned in option.assigned.items():
            model.add_hint(assigned, found is not None and volunteer_id in found.volunteers)
    sequence_by_pair: dict[tuple[str, int], list[tuple[str, int] | None]] = defaultdict(list)
    for visit in sorted(visits, key=lambda item: item.start):
        day = WEEKDAYS.index(visit.day)
        for volunteer_id in visit.volunteers:
            sequence_by_pair[(volunteer_id, day)].append((visit.need, day))
    for pair, empty in week.idle.items():
        model.add_hint(empty, not sequence_by_pair.get(pair))
    serving = {(visit.need, volunteer_id) for visit in visits for volunteer_id in visit.volunteers}
    for helper, serves in week.serves.items():
        model.add_hint(serves, helper in serving)
    for pair, arcs in week.arcs.items():
        sequence = sequence_by_pair.get(pair, [])
        used = set(zip([None, *sequence], [*sequence, None], strict=True)) if sequence else set()
        for origin, destination, literal in arcs:
            model.add_hint(literal, (origin, destination) in used)


def extract_visits(
    problem: Problem, week: WeekModel, solver: cp_model.CpSolver, facts: dict[str, NeedFacts]
) -> list[Visit]:
    """The solution's new visits and the fixed ones, numbered by day within each need."""
    visits = list(week.fixed_visits)
    for option in week.options.values():
        if not solver.boolean_value(option.present):
            continue
        need = facts[option.need]
        start = int(solver.value(option.start))
        visits.append(
            Visit(
                need=option.need,
                recipient=need.recipient.id,
                service=need.service.id,
                occurrence=1,
                day=WEEKDAYS[option.day],
                date=problem.date_of(WEEKDAYS[option.day]),
                start=start,
                end=start + option.duration,
                volunteers=sorted(
                    volunteer_id
                    for volunteer_id, assigned in option.assigned.items()
                    if solver.boolean_value(assigned)
                ),
            )
        )
    return number_occurrences(visits)


def number_occurrences(visits: list[Visit]) -> list[Visit]:
    """Occurrence numbers 1, 2, ... in day order within each need; visits sorted by time."""
    by_need: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_need[visit.need].append(visit)
    numbered: list[Visit] = []
    for need_visits in by_need.values():
        for number, visit in enumerate(
            sorted(need_visits, key=lambda item: (WEEKDAYS.index(item.day), item.start)), start=1
        ):
            numbered.append(visit.model_copy(update={"occurrence": number}))
    numbered.sort(key=lambda item: (WEEKDAYS.index(item.day), item.start, item.need))
    return numbered


def unplanned_occurrences(
    problem: Problem, travel: TravelModel, facts: dict[str, NeedFacts], visits: list[Visit]
) -> list[UnassignedVisit]:
    """Every occurrence not in the plan, with its computed reason."""
    planned: dict[str, int] = defaultdict(int)
    for visit in visits:
        planned[visit.need] += 1
    unassigned: list[UnassignedVisit] = []
    for need_id, need in sorted(facts.items()):
        missing = need.need.visits_per_week - planned[need_id]
        if missing <= 0:
            continue
        reason, message = diagnose_unplanned(problem, travel, need)
        for occurrence in range(planned[need_id] + 1, need.need.visits_per_week + 1):
            unassigned.append(
                UnassignedVisit(
                    need=need_id,
                    recipient=need.recipient.id,
                    service=need.service.id,
                    occurrence=occurrence,
                    reason=reason,
                    message=message,
                )
            )
    return unassigned


def weighted_coverage(facts: dict[str, NeedFacts], visits: list[Visit]) -> float:
    """Sum of the priorities of the planned visits."""
    return sum(facts[visit.need].priority for visit in visits if visit.need in facts)


def solve_cpsat(
    problem: Problem,
    travel: TravelModel | None = None,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    parameters: CpSatParameters | None = None,
    warm_start: Plan | None = None,
) -> Plan:
    """Solve the week exactly (given time), coverage first, and report the proven bound.

    `warm_start` is a feasible plan to hint (the greedy plan when None and warm_start is on);
    if CP-SAT finds nothing better within the limit, that plan is returned with the bound.
    """
    from matcher.solvers.routes import build_routes

    clock = time.perf_counter()
    parameters = parameters or CpSatParameters()
    travel = travel or TravelModel(problem)
    limit = time_limit_s if time_limit_s is not None else parameters.default_time_limit_s
    facts = need_facts(problem, travel)
    pinned = pinned_visits(problem, facts)
    if warm_start is None and parameters.warm_start:
        from matcher.solvers.greedy import solve_greedy

        warm_start = solve_greedy(problem, travel, seed=seed, time_limit_s=max(0.1, 0.1 * limit))
    week = build_week_model(
        problem, travel, facts=facts, fixed_visits=pinned, prune_by_reach=parameters.prune_by_reach
    )
    if warm_start is not None:
        hint_from_visits(week, warm_start.visits, travel)

    # Phase 1: coverage, with its proven bound.
    week.model.maximize(week.coverage)
    elapsed = time.perf_counter() - clock
    phase_one = _solver(seed, (limit - elapsed) * parameters.coverage_time_share, parameters)
    status_one = phase_one.solve(week.model)
    found = status_one in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    bound_points = week.fixed_coverage + (
        phase_one.best_objective_bound if status_one != cp_model.UNKNOWN else math.inf
    )
    proven_one = status_one == cp_model.OPTIMAL
    visits = extract_visits(problem, week, phase_one, facts) if found else None
    status_two = None
    if found:
        # Phase 2: keep that coverage, optimise the whole objective from phase 1's solution.
        achieved = round(phase_one.objective_value)
        week.model.clear_hints()  # type: ignore[no-untyped-call]
        for option in week.options.values():
            week.model.add_hint(option.present, phase_one.boolean_value(option.present))
            week.model.add_hint(option.start, phase_one.value(option.start))
            for assigned in option.assigned.values():
                week.model.add_hint(assigned, phase_one.boolean_value(assigned))
        for arcs in week.arcs.values():
            for _, _, literal in arcs:
                week.model.add_hint(literal, phase_one.boolean_value(literal))
        week.model.add(week.coverage >= achieved)
        week.model.maximize(week.objective)
        elapsed = time.perf_counter() - clock
        phase_two = _solver(seed + 1, limit - elapsed, parameters)
        status_two = phase_two.solve(week.model)
        if status_two in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            visits = extract_visits(problem, week, phase_two, facts)
    if visits is None or (
        warm_start is not None
        and weighted_coverage(facts, warm_start.visits) > weighted_coverage(facts, visits) + 1e-9
    ):
        visits = list(warm_start.visits) if warm_start is not None else list(pinned)
    value = weighted_coverage(facts, visits)
    bound = bound_points / COVERAGE_SCALE if math.isfinite(bound_points) else None
    if parameters.relaxation_bound:
        relaxed = coverage_upper_bound(problem, travel, facts, time_limit_s=max(5.0, 0.5 * limit))
        bound = relaxed if bound is None else min(bound, relaxed)
    bound, gap = bound_and_gap(bound, value)
    optimal = proven_one and status_two == cp_model.OPTIMAL
    return Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=visits,
        routes=build_routes(problem, travel, visits),
        unassigned=unplanned_occurrences(problem, travel, facts, visits),
        solver=SolverInfo(
            solver="cpsat",
            status="OPTIMAL" if optimal else "FEASIBLE",
            objective=value,
            bound=bound,
            gap=gap,
            wall_time_s=time.perf_counter() - clock,
            seed=seed,
            time_limit_s=time_limit_s,
            parameters={
                **parameters.model_dump(),
                "phase_1_status": phase_one.status_name(status_one),
                "phase_2_status": None if status_two is None else phase_two.status_name(status_two),
            },
        ),
        warnings=problem.warnings(),
    )


def pinned_visits(problem: Problem, facts: dict[str, NeedFacts]) -> list[Visit]:
    """The coordinator's pinned visits as plan visits."""
    visits = []
    for pinned in problem.pinned:
        need = facts[pinned.need]
        visits.append(
            Visit(
                need=pinned.need,
                recipient=need.recipient.id,
                service=need.service.id,
                occurrence=1,
                day=pinned.day,
                date=problem.date_of(pinned.day),
                start=pinned.start,
                end=pinned.start + need.duration,
                volunteers=sorted(pinned.volunteers),
            )
        )
    return number_occurrences(visits)


class CpSatSolver:
    """`cpsat` behind the solver protocol (`matcher.solvers.base.Solver`)."""

    name = "cpsat"
    parameters_type = CpSatParameters

    def solve(
        self,
        problem: Problem,
        travel: TravelModel,
        parameters: BaseModel,
        *,
        seed: int,
        time_limit_s: float | None,
        warm_start: Plan | None,
        language: str,
    ) -> Plan:
        from matcher.solvers.base import reassemble

        assert isinstance(parameters, CpSatParameters)
        plan = solve_cpsat(
            problem,
            travel,
            seed=seed,
            time_limit_s=time_limit_s,
            parameters=parameters,
            warm_start=warm_start,
        )
        return reassemble(problem, travel, plan, parameters, language)
