"""The solvers people would pick instead: the week modelled directly in VROOM and in OR-Tools
routing, the way a capable user would, then repaired until matcher's checker accepts the plan.

Both peers see the same model of the week (`build_week_model`):

- every volunteer outing (`matcher.rules.outings`: a day's availability windows merged where
  they overlap or touch) is a vehicle, the way a shift is modelled in either library: it leaves
  the volunteer's start place at or after the outing opens and ends at home by its close, so a
  volunteer free 09:00-12:00 and 14:30-17:00 has two vehicles that day and goes home between
  them; `max_outing_distance_m` is the vehicle's longest route (VROOM `max_distance`, OR-Tools
  a distance dimension);
- every visit is a job, copied once for each day its need allows (a team visit once per team
  member on each day): neither library can say "any V of these seven copies", so all copies go
  in and the best V are kept afterwards (`plan_from_routes`);
- qualification is encoded as skills: the service's skills, `verified` for money and medicine,
  `background_checked` for children, the weekday (a Monday copy only fits Monday's vehicles),
  "welcome at recipient r" held by every volunteer r has not excluded, and an impossible skill
  when the service does not serve the recipient's kind;
- job time windows bound the start of service (the allowed windows shortened by the duration;
  several windows a day are several job windows, OR-Tools: removed intervals), service time is
  the visit's duration, priority is the need's priority (VROOM: scaled to 0-100; OR-Tools: the
  penalty for leaving the copy out), a volunteer's visits a day and carrying capacity are the
  vehicle's `max_tasks` / capacity dimensions (per outing: see below);
- travel is the problem's own `TravelModel`, in whole minutes rounded up: volunteers are grouped
  into profiles by speed and longest single trip (legs longer than the trip limit get an
  unreachable duration), one duration matrix per profile; the arc cost is distance in metres;
- a visit's start is VROOM's arrival plus waiting; for OR-Tools the earliest schedule of the
  route's order (`earliest_starts`).

What neither can express, and what the repair therefore has to enforce afterwards:

- weekly minute caps (`max_minutes_per_week`): a cap spans several vehicles (outings). VROOM
  has no way to say it; OR-Tools lets one add it, with the minimum gap between a need's days, as
  constraints on the routing model's CP solver (`side_constraints`), which its local-search
  filters do not see: every move is then checked by propagation, and on the medium week the
  search routed 92 visits in 30 s instead of 431. The comparison uses them where they pay
  (`ORTOOLS_SIDE_CONSTRAINTS_BY_SIZE`: small weeks) and leaves them to the repair elsewhere;
- visits spread over the week with a minimum gap (`min_gap_days`) and "V visits out of these
  days": copies are independent jobs, so a peer may route more copies than V, or copies on
  adjacent days, and spends volunteers' time on copies that are later discarded;
- team visits (`team_size` > 1): jobs have one vehicle; the team members' copies are routed
  independently and rarely start together;
- visits a day and carrying capacity over a day with several outings: each outing's vehicle
  holds the day's cap, so the outings of one day together may exceed it;
- recipient overlap: two services for one recipient by two vehicles may overlap in time;
- continuity (preferred and earlier volunteers), `same_volunteer`, fairness of load, staff
  cost: there is no per job-and-vehicle reward in either model;
- dependencies between visits, pinned visits, soft windows priced per late minute (the window
  is stretched by the allowed lateness and becomes hard), mandatory needs (only a priority).
Exclusions, skills, checks, recipient kinds, single-trip distances, visits a day and capacity
are expressible, as above.

`repair` counts the raw plan's checker violations, then rebuilds it visit by visit, highest
priority first: a visit is kept when it still fits every hard rule next to the visits already
kept (re-timed inside its slot when its own time breaks a window; a team merged into one visit
at a common start when the members can all make it, and completed with other qualified
volunteers free then when a member is missing, e.g. both members' copies went to one vehicle),
and dropped otherwise; a final pass drops whatever the checker still names, lowest priority
first. The repair walks outings as the checker does: a visit goes into one outing, between the
visits kept there, with the legs from the start place and home inside the outing, every leg
within the trip limit and the outing's walk within `max_outing_distance_m`, and the weekly
minutes count every leg. The repair never adds a visit the peer did not route. Unplanned visits
get the reason of `matcher.rules.Diagnoser` when it is structural, else `not_planned`.

`python -m benchmarks.peers` compares matcher (`solve(..., solver="auto")`) with both at the
optimizer protocol's time limits; see benchmarks/README.md, "Peers: VROOM and OR-Tools routing".
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import os
import statistics
import sys
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from matcher.checker import check_plan
from matcher.io import write_text_atomic
from matcher.messages import REASON_MESSAGES
from matcher.models import (
    WEEKDAYS,
    Plan,
    Problem,
    SolverInfo,
    UnassignedVisit,
    Visit,
    Volunteer,
)
from matcher.rules import (
    Diagnoser,
    Intervals,
    NeedFacts,
    intersect,
    need_facts,
    normalise,
    number_occurrences,
    outing_index,
    outings_by_day,
    start_set,
    walk_outing,
)
from matcher.solvers.routes import build_routes
from matcher.travel import TravelModel

UNREACHABLE_MIN = 1_000_000
"""Duration of a leg a volunteer may not or cannot travel (beyond their longest trip)."""
UNREACHABLE_COST = 100_000_000
"""Arc cost (metres) of a leg with no way through."""
VROOM_MAX_PRIORITY = 100
"""VROOM job priorities are integers from 0 to 100."""
ORTOOLS_PENALTY_PER_PRIORITY = 1_000_000
"""OR-Tools: metres of travel worth leaving out a copy of priority 1 (coverage comes first)."""
VROOM_EXPLORATION_LEVEL = 5
"""VROOM's most thorough search, the default of its command line."""
VROOM_LEVEL_BY_SIZE: dict[str, int] = {"tiny": 5, "small": 5, "medium": 3, "large": 1, "xlarge": 1}
"""The exploration level the comparison gives VROOM per size: the highest that finished within
the size's time limit on seed 0, measured on the busy 2-core benchmark machine (small: every
level in 3 s; medium: level 5 overran 30 s, level 3 took 28 s; large: level 5 took 169 s for a
60 s limit, its construction phase ignores the timeout, and covered less than level 1, which
took 63 s)."""
ORTOOLS_SIDE_CONSTRAINTS_BY_SIZE: dict[str, bool] = {
    "tiny": True,
    "small": True,
    "medium": False,
    "large": False,
    "xlarge": False,
}
"""Whether the comparison gives OR-Tools the weekly caps and day gaps as side constraints per
size: measured on seed 0 at the size's limit, they raised weighted coverage after repair on the
small week (93.5 % against 92.2 %) and ruined the medium one (15.6 % against 85.3 %)."""
VROOM_THREADS = 1
"""One thread, like matcher's single CP-SAT worker and OR-Tools routing's single search."""
EPSILON = 1e-6
"""Minutes of rounding the checker allows."""
STRUCTURAL_REASONS = ("no_qualified_volunteer", "no_shared_window", "too_far")
"""Reasons that hold whatever a solver does; any other unplanned visit is `not_planned`."""
PEERS = ("vroom", "ortools")


@dataclass
class RawFacts:
    """What a peer was given and returned, before any repair."""

    peer: str
    time_limit_s: float
    vehicles: int = 0
    """Volunteer outings (each a vehicle)."""
    profiles: int = 0
    """Duration matrices: volunteers grouped by speed and longest trip."""
    job_copies: int = 0
    """Jobs given to the library: one per visit, allowed day and team member."""
    unservable_copies: int = 0
    """Copies no vehicle has the skills for, left out of the model."""
    copies_routed: int = 0
    copies_discarded: int = 0
    """Routed copies beyond the need's visits a week (or breaking its gap), thrown away."""
    status: str = "FEASIBLE"
    build_s: float = 0.0
    solve_s: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class JobCopy:
    """One copy of a visit for one allowed day (and one team member)."""

    need: str
    day: int
    member: int
    place: int
    duration: int
    starts: Intervals
    """Allowed service starts (minutes after midnight)."""
    skills: frozenset[int]
    priority: float
    load: int


@dataclass(frozen=True)
class VehicleOuting:
    """One volunteer outing as a vehicle: from the start place at or after it opens (`window`
    start), home by its close."""

    volunteer: str
    day: int
    window: tuple[int, int]
    start_place: int
    end_place: int
    skills: frozenset[int]
    profile: int
    max_tasks: int | None
    capacity: int | None
    max_distance_m: float | None


@dataclass
class WeekModel:
    """The week as vehicles, job copies and per-profile matrices, shared by both peers."""

    problem: Problem
    travel: TravelModel
    facts: dict[str, NeedFacts]
    vehicles: list[VehicleOuting]
    jobs: list[JobCopy]
    unservable_copies: int
    profile_minutes: list[np.ndarray]
    """Whole travel minutes per profile (rounded up; UNREACHABLE_MIN where forbidden)."""
    cost_m: np.ndarray
    """Whole metres between places (UNREACHABLE_COST where there is no way)."""
    uses_load: bool


@dataclass(frozen=True)
class RoutedCopy:
    """A job copy a peer put on a vehicle, with its start of service."""

    job: int
    vehicle: int
    start: int


def _profile_key(travel: TravelModel, volunteer: Volunteer) -> tuple[float, float]:
    """Volunteers share a duration matrix when speed and longest trip agree."""
    speed = 0.0 if travel.explicit_time_min is not None else travel.speed_m_per_min(volunteer)
    limit = volunteer.max_trip_distance_m
    return speed, math.inf if limit is None else limit


def _profile_matrix(travel: TravelModel, volunteer: Volunteer) -> np.ndarray:
    """Whole travel minutes for this volunteer, unreachable where a leg is too long."""
    minutes = np.asarray(travel.time_matrix(volunteer), dtype=float)
    forbidden = ~np.isfinite(minutes)
    if volunteer.max_trip_distance_m is not None:
        forbidden |= travel.distance_m > volunteer.max_trip_distance_m + EPSILON
    whole = np.ceil(np.where(forbidden, 0.0, minutes) - 1e-9).clip(min=0)
    return np.where(forbidden, UNREACHABLE_MIN, whole).astype(np.int64)


def build_week_model(problem: Problem, travel: TravelModel | None = None) -> WeekModel:
    """Vehicles per volunteer outing, job copies per visit and day, skills, profiles,
    matrices."""
    travel = travel if travel is not None else TravelModel(problem)
    facts = need_facts(problem, travel)
    skill_ids: dict[str, int] = {}

    def skill(name: str) -> int:
        return skill_ids.setdefault(name, len(skill_ids))

    guarded = [recipient for recipient in problem.recipients if recipient.excluded_volunteers]
    profile_of: dict[tuple[float, float], int] = {}
    profile_minutes: list[np.ndarray] = []
    vehicles: list[VehicleOuting] = []
    for volunteer in problem.volunteers:
        key = _profile_key(travel, volunteer)
        if key not in profile_of:
            profile_of[key] = len(profile_minutes)
            profile_minutes.append(_profile_matrix(travel, volunteer))
        own = {skill(f"skill:{name}") for name in volunteer.skills}
        if volunteer.verified:
            own.add(skill("verified"))
        if volunteer.background_checked:
            own.add(skill("background_checked"))
        own |= {
            skill(f"welcome:{recipient.id}")
            for recipient in guarded
            if volunteer.id not in recipient.excluded_volunteers
        }
        for day, outings in sorted(outings_by_day(volunteer).items()):
            vehicles += [
                VehicleOuting(
                    volunteer=volunteer.id,
                    day=day,
                    window=outing,
                    start_place=travel.start_place[volunteer.id],
                    end_place=travel.home_place[volunteer.id],
                    skills=frozenset(own | {skill(f"day:{day}")}),
                    profile=profile_of[key],
                    max_tasks=volunteer.max_visits_per_day,
                    capacity=volunteer.capacity,
                    max_distance_m=volunteer.max_outing_distance_m,
                )
                for outing in outings
            ]

    jobs: list[JobCopy] = []
    unservable = 0
    for need_id, fact in facts.items():
        service, recipient = fact.service, fact.recipient
        needed = {skill(f"skill:{name}") for name in service.required_skills}
        if service.requires_verified:
            needed.add(skill("verified"))
        if recipient.kind == "child":
            needed.add(skill("background_checked"))
        if recipient.excluded_volunteers:
            needed.add(skill(f"welcome:{recipient.id}"))
        if recipient.kind not in service.recipient_kinds:
            needed.add(skill("impossible"))
        for day in sorted(fact.late_windows_by_day):
            starts = start_set(fact.late_windows_by_day[day], fact.duration)
            if not starts:
                continue
            copy_skills = frozenset(needed | {skill(f"day:{day}")})
            servable = any(copy_skills <= vehicle.skills for vehicle in vehicles)
            for member in range(service.team_size):
                if not servable:
                    unservable += 1
                    continue
                jobs.append(
                    JobCopy(
                        need=need_id,
                        day=day,
                        member=member,
                        place=fact.place,
                        duration=fact.duration,
                        starts=starts,
                        skills=copy_skills,
                        priority=fact.priority,
                        load=fact.need.load,
                    )
                )
    distance = travel.distance_m
    cost = np.where(np.isfinite(distance), np.ceil(distance - 1e-9), UNREACHABLE_COST)
    uses_load = any(job.load for job in jobs) or any(
        volunteer.capacity is not None for volunteer in problem.volunteers
    )
    return WeekModel(
        problem=problem,
        travel=travel,
        facts=facts,
        vehicles=vehicles,
        jobs=jobs,
        unservable_copies=unservable,
        profile_minutes=profile_minutes,
        cost_m=cost.astype(np.int64),
        uses_load=uses_load,
    )


def _raw_facts(peer: str, model: WeekModel, time_limit_s: float) -> RawFacts:
    """The facts of the model every peer shares."""
    return RawFacts(
        peer=peer,
        time_limit_s=time_limit_s,
        vehicles=len(model.vehicles),
        profiles=len(model.profile_minutes),
        job_copies=len(model.jobs),
        unservable_copies=model.unservable_copies,
    )


def _best_days(days: Sequence[int], complete: set[int], visits: int, min_gap: int) -> list[int]:
    """Up to `visits` of these days, pairwise at least `min_gap` apart: days with a complete
    team first, then any, each pass earliest first (the largest such set for one pass)."""
    chosen: list[int] = []
    for pool in (sorted(day for day in days if day in complete), sorted(days)):
        for day in pool:
            if len(chosen) < visits and all(abs(day - other) >= min_gap for other in chosen):
                chosen.append(day)
    return sorted(chosen)


def plan_from_routes(
    model: WeekModel, routed: Sequence[RoutedCopy], solver: str
) -> tuple[Plan, int]:
    """The raw plan: for each need the best V routed days, one visit per day (a team visit
    lists every member who went, at the earliest member's start); returns the plan and how
    many routed copies were discarded."""
    problem = model.problem
    by_need_day: dict[str, dict[int, list[RoutedCopy]]] = defaultdict(lambda: defaultdict(list))
    for item in routed:
        job = model.jobs[item.job]
        by_need_day[job.need][job.day].append(item)
    visits: list[Visit] = []
    kept = 0
    for need_id, days in by_need_day.items():
        fact = model.facts[need_id]
        team_size = fact.service.team_size
        members = {
            day: sorted(items, key=lambda item: (item.start, item.vehicle))
            for day, items in days.items()
        }
        complete = {
            day
            for day, items in members.items()
            if len({model.vehicles[item.vehicle].volunteer for item in items}) >= team_size
        }
        chosen = _best_days(
            list(members), complete, fact.need.visits_per_week, fact.need.min_gap_days
        )
        for occurrence, day in enumerate(chosen, start=1):
            items = members[day]
            kept += len(items)
            volunteers = list(
                dict.fromkeys(model.vehicles[item.vehicle].volunteer for item in items)
            )
            start = items[0].start
            visits.append(
                Visit(
                    need=need_id,
                    recipient=fact.recipient.id,
                    service=fact.service.id,
                    occurrence=occurrence,
                    day=WEEKDAYS[day],
                    date=problem.date_of(WEEKDAYS[day]),
                    start=start,
                    end=start + fact.duration,
                    volunteers=volunteers,
                )
            )
    visits.sort(key=lambda visit: (WEEKDAYS.index(visit.day), visit.start, visit.need))
    plan = Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=visits,
        routes=build_routes(problem, model.travel, visits),
        unassigned=unassigned_visits(problem, model.travel, visits, model.facts),
        solver=SolverInfo(solver=solver, status="FEASIBLE", seed=0),
        warnings=problem.warnings(),
    )
    return plan, len(routed) - kept


def unassigned_visits(
    problem: Problem,
    travel: TravelModel,
    visits: Sequence[Visit],
    facts: dict[str, NeedFacts] | None = None,
) -> list[UnassignedVisit]:
    """Every occurrence not in `visits`, with the reason of the one diagnosis
    (`matcher.rules.Diagnoser`) when it is structural, else `not_planned`."""
    facts = facts if facts is not None else need_facts(problem, travel)
    diagnosed = Diagnoser(problem, travel, facts).unassigned(visits)
    return [
        item
        if item.reason in STRUCTURAL_REASONS
        else item.model_copy(
            update={"reason": "not_planned", "message": REASON_MESSAGES["not_planned"]}
        )
        for item in diagnosed
    ]


def _finish(
    model: WeekModel, routed: list[RoutedCopy], facts: RawFacts, began: float
) -> tuple[Plan, RawFacts]:
    """The raw plan with its solver information and the facts."""
    plan, discarded = plan_from_routes(model, routed, facts.peer)
    facts.copies_routed = len(routed)
    facts.copies_discarded = discarded
    info = plan.solver.model_copy(
        update={
            "status": "FEASIBLE" if facts.status != "NO_SOLUTION" else "NO_SOLUTION",
            "wall_time_s": time.perf_counter() - began,
            "time_limit_s": facts.time_limit_s,
            "parameters": {"raw": asdict(facts)},
        }
    )
    return plan.model_copy(update={"solver": info}), facts


def _search_seconds(time_limit_s: float, began: float) -> float:
    """What is left of the time limit for the search once the model is built (at least 1 s)."""
    return max(1.0, time_limit_s - (time.perf_counter() - began))


def solve_with_vroom(
    problem: Problem,
    time_limit_s: float,
    threads: int = VROOM_THREADS,
    exploration_level: int = VROOM_EXPLORATION_LEVEL,
) -> tuple[Plan, RawFacts]:
    """The week in VROOM (pyvroom): vehicles per volunteer outing, jobs per visit copy, skills,
    windows, priorities, one duration matrix per profile and the distances an outing's
    `max_distance` counts; the best V copies kept."""
    import vroom  # type: ignore[import-untyped]

    began = time.perf_counter()
    model = build_week_model(problem)
    facts = _raw_facts("vroom", model, time_limit_s)
    top_priority = max((job.priority for job in model.jobs), default=0.0)
    solver_input = vroom.Input()
    for profile, minutes in enumerate(model.profile_minutes):
        solver_input.set_durations_matrix(f"p{profile}", minutes.astype(np.uint32))
        solver_input.set_costs_matrix(f"p{profile}", model.cost_m.astype(np.uint32))
        solver_input.set_distances_matrix(f"p{profile}", model.cost_m.astype(np.uint32))
    for number, vehicle in enumerate(model.vehicles):
        capacity = [vehicle.capacity if vehicle.capacity is not None else 10**6]
        options: dict[str, Any] = {}
        if vehicle.max_tasks is not None:
            options["max_tasks"] = vehicle.max_tasks
        if vehicle.max_distance_m is not None:
            options["max_distance"] = math.floor(vehicle.max_distance_m + EPSILON)
        solver_input.add_vehicle(
            vroom.Vehicle(
                number,
                start=vehicle.start_place,
                end=vehicle.end_place,
                profile=f"p{vehicle.profile}",
                capacity=capacity if model.uses_load else (),
                skills=set(vehicle.skills),
                time_window=vroom.TimeWindow(*vehicle.window),
                **options,
            )
        )
    for number, job in enumerate(model.jobs):
        priority = round(VROOM_MAX_PRIORITY * job.priority / top_priority) if top_priority else 0
        solver_input.add_job(
            vroom.Job(
                number,
                location=job.place,
                default_service=job.duration,
                delivery=[job.load] if model.uses_load else [],
                skills=set(job.skills),
                priority=min(VROOM_MAX_PRIORITY, priority),
                time_windows=[vroom.TimeWindow(low, high) for low, high in job.starts],
            )
        )
    facts.build_s = time.perf_counter() - began
    routed: list[RoutedCopy] = []
    if model.jobs and model.vehicles:
        remaining = _search_seconds(time_limit_s, began)
        solved_at = time.perf_counter()
        solution = solver_input.solve(
            exploration_level=exploration_level,
            nb_threads=threads,
            timeout=dt.timedelta(seconds=remaining),
        )
        facts.solve_s = time.perf_counter() - solved_at
        facts.notes.append(f"exploration level {exploration_level}, {threads} thread(s)")
        for route in solution.to_dict().get("routes", []):
            for step in route["steps"]:
                if step["type"] == "job":
                    routed.append(
                        RoutedCopy(
                            job=int(step["id"]),
                            vehicle=int(route["vehicle"]),
                            start=int(step["arrival"]) + int(step["waiting_time"]),
                        )
                    )
    return _finish(model, routed, facts, began)


def solve_with_ortools_routing(
    problem: Problem,
    time_limit_s: float,
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION",
    per_need_disjunction: bool = True,
    side_constraints: bool = False,
) -> tuple[Plan, RawFacts]:
    """The week in OR-Tools routing used directly: vehicles per volunteer outing with their own
    start and end, allowed vehicles from the skills, a time dimension with one transit per
    profile, visits a day, capacity and the outing's distance as dimensions, guided local
    search.

    Copies are optional: with `per_need_disjunction` one disjunction per need takes at most V
    of its copies (V × team size), each one missing priced by priority; without it each copy is
    its own disjunction, as VROOM must have it. The best V routed copies are kept.

    `side_constraints` adds the weekly minute caps, the visits and load of a day over its
    outings and the minimum gap between a need's days as constraints on the routing model's CP
    solver; they make the search much slower (see the
    module's docstring)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    began = time.perf_counter()
    model = build_week_model(problem)
    facts = _raw_facts("ortools", model, time_limit_s)
    if not model.jobs or not model.vehicles:
        return _finish(model, [], facts, began)
    job_count = len(model.jobs)
    depot_places = sorted(
        {vehicle.start_place for vehicle in model.vehicles}
        | {vehicle.end_place for vehicle in model.vehicles}
    )
    depot_node = {place: job_count + offset for offset, place in enumerate(depot_places)}
    node_place = [job.place for job in model.jobs] + depot_places
    manager = pywrapcp.RoutingIndexManager(
        len(node_place),
        len(model.vehicles),
        [depot_node[vehicle.start_place] for vehicle in model.vehicles],
        [depot_node[vehicle.end_place] for vehicle in model.vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    index_count = routing.Size() + routing.vehicles()
    index_node = [manager.IndexToNode(index) for index in range(index_count)]
    index_place = [node_place[node] for node in index_node]
    index_service = [model.jobs[node].duration if node < job_count else 0 for node in index_node]
    cost_rows = model.cost_m.tolist()

    def arc_cost(from_index: int, to_index: int) -> int:
        return int(cost_rows[index_place[from_index]][index_place[to_index]])

    metres = routing.RegisterTransitCallback(arc_cost)
    routing.SetArcCostEvaluatorOfAllVehicles(metres)
    if any(vehicle.max_distance_m is not None for vehicle in model.vehicles):
        routing.AddDimensionWithVehicleCapacity(
            metres,
            0,
            [
                UNREACHABLE_COST * (job_count + 1)
                if vehicle.max_distance_m is None
                else math.floor(vehicle.max_distance_m + EPSILON)
                for vehicle in model.vehicles
            ],
            True,
            "outing_distance",
        )

    def time_transit(rows: list[list[int]]) -> Callable[[int, int], int]:
        def transit(from_index: int, to_index: int) -> int:
            return int(
                index_service[from_index] + rows[index_place[from_index]][index_place[to_index]]
            )

        return transit

    callbacks = [time_transit(minutes.tolist()) for minutes in model.profile_minutes]
    transits = [routing.RegisterTransitCallback(callback) for callback in callbacks]
    horizon = problem.day_length_min
    routing.AddDimensionWithVehicleTransits(
        [transits[vehicle.profile] for vehicle in model.vehicles], horizon, horizon, False, "time"
    )
    time_dimension = routing.GetDimensionOrDie("time")
    for number, vehicle in enumerate(model.vehicles):
        low, high = vehicle.window
        time_dimension.CumulVar(routing.Start(number)).SetRange(low, high)
        time_dimension.CumulVar(routing.End(number)).SetRange(low, high)

    def one_per_visit(index: int) -> int:
        return 1 if index_node[index] < job_count else 0

    def load_of(index: int) -> int:
        node = index_node[index]
        return model.jobs[node].load if node < job_count else 0

    visit_count = routing.RegisterUnaryTransitCallback(one_per_visit)
    routing.AddDimensionWithVehicleCapacity(
        visit_count,
        0,
        [
            job_count if vehicle.max_tasks is None else vehicle.max_tasks
            for vehicle in model.vehicles
        ],
        True,
        "visits",
    )
    if model.uses_load:
        load = routing.RegisterUnaryTransitCallback(load_of)
        routing.AddDimensionWithVehicleCapacity(
            load,
            0,
            [10**6 if vehicle.capacity is None else vehicle.capacity for vehicle in model.vehicles],
            True,
            "load",
        )

    copies_of_need: dict[str, list[int]] = defaultdict(list)
    for node, job in enumerate(model.jobs):
        index = manager.NodeToIndex(node)
        cumul = time_dimension.CumulVar(index)
        cumul.SetRange(job.starts[0][0], job.starts[-1][1])
        for (_, earlier_high), (later_low, _) in itertools.pairwise(job.starts):
            cumul.RemoveInterval(earlier_high + 1, later_low - 1)
        allowed = [
            number for number, vehicle in enumerate(model.vehicles) if job.skills <= vehicle.skills
        ]
        routing.VehicleVar(index).SetValues([-1, *allowed])
        copies_of_need[job.need].append(index)
    for need_id, indices in copies_of_need.items():
        fact = model.facts[need_id]
        penalty = round(ORTOOLS_PENALTY_PER_PRIORITY * fact.priority)
        if not per_need_disjunction:
            for index in indices:
                routing.AddDisjunction([index], penalty)
            continue
        wanted = min(len(indices), fact.need.visits_per_week * fact.service.team_size)
        routing.AddDisjunction(indices, penalty, wanted, routing.PENALIZE_PER_INACTIVE)

    side_callbacks = (
        _add_week_constraints(routing, manager, model, node_place, copies_of_need)
        if side_constraints
        else []
    )

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, first_solution
    )
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    remaining = _search_seconds(time_limit_s, began)
    parameters.time_limit.FromMilliseconds(round(1000 * remaining))
    facts.build_s = time.perf_counter() - began
    solved_at = time.perf_counter()
    solution = routing.SolveWithParameters(parameters)
    facts.solve_s = time.perf_counter() - solved_at
    del side_callbacks  # the transit callbacks had to live through the search
    facts.notes.append(
        f"first solution {first_solution}, guided local search, {remaining:.1f} s for the search, "
        + ("one disjunction per need" if per_need_disjunction else "one disjunction per copy")
        + (", weekly caps and day gaps as side constraints" if side_constraints else "")
    )
    routed: list[RoutedCopy] = []
    if solution is None:
        facts.status = "NO_SOLUTION"
        facts.notes.append(f"no solution within the time limit (routing status {routing.status()})")
        return _finish(model, routed, facts, began)
    for number in range(len(model.vehicles)):
        route: list[int] = []
        index = solution.Value(routing.NextVar(routing.Start(number)))
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        routed += [
            RoutedCopy(job=node, vehicle=number, start=start)
            for node, start in zip(route, earliest_starts(model, number, route), strict=True)
        ]
    return _finish(model, routed, facts, began)


def earliest_starts(model: WeekModel, vehicle_number: int, route: Sequence[int]) -> list[int]:
    """Service starts along a route of job copies, read as its earliest schedule: leave at the
    start of the vehicle's window, travel, wait for each job's window. Computed from the route
    rather than read from the solution's time cumuls, whose ranges are only as narrow as the
    final propagation made them."""
    vehicle = model.vehicles[vehicle_number]
    minutes = model.profile_minutes[vehicle.profile]
    place, clock = vehicle.start_place, vehicle.window[0]
    starts = []
    for number in route:
        job = model.jobs[number]
        arrival = clock + int(minutes[place, job.place])
        start = next((max(arrival, low) for low, high in job.starts if arrival <= high), arrival)
        starts.append(start)
        place, clock = job.place, start + job.duration
    return starts


def _add_week_constraints(
    routing: Any,
    manager: Any,
    model: WeekModel,
    node_place: Sequence[int],
    copies_of_need: dict[str, list[int]],
) -> list[Callable[[int, int], int]]:
    """Constraints on the routing model's underlying CP solver: each volunteer's weekly minutes
    (visits and travel over all their vehicles, a `work` dimension without slack), the visits
    and load of a day over its outings, and no two copies of a need on days closer than its
    minimum gap. Returns the transit callbacks, which must outlive the search."""
    solver = routing.solver()
    work_callbacks: list[Callable[[int, int], int]] = []
    work_transits = []
    for minutes in model.profile_minutes:
        rows = minutes.tolist()

        def work(from_index: int, to_index: int, rows: list[list[int]] = rows) -> int:
            from_node, to_node = manager.IndexToNode(from_index), manager.IndexToNode(to_index)
            service = model.jobs[from_node].duration if from_node < len(model.jobs) else 0
            return int(service + rows[node_place[from_node]][node_place[to_node]])

        work_callbacks.append(work)
        work_transits.append(routing.RegisterTransitCallback(work))
    week_length = 7 * model.problem.day_length_min
    routing.AddDimensionWithVehicleTransits(
        [work_transits[vehicle.profile] for vehicle in model.vehicles],
        0,
        week_length,
        True,
        "work",
    )
    work_dimension = routing.GetDimensionOrDie("work")
    vehicles_of: dict[str, list[int]] = defaultdict(list)
    for number, vehicle in enumerate(model.vehicles):
        vehicles_of[vehicle.volunteer].append(number)
    for volunteer in model.problem.volunteers:
        if volunteer.max_minutes_per_week is None or not vehicles_of[volunteer.id]:
            continue
        ends = [
            work_dimension.CumulVar(routing.End(number)) for number in vehicles_of[volunteer.id]
        ]
        solver.Add(solver.Sum(ends) <= volunteer.max_minutes_per_week)
    outings_of: dict[tuple[str, int], list[int]] = defaultdict(list)
    for number, vehicle in enumerate(model.vehicles):
        outings_of[(vehicle.volunteer, vehicle.day)].append(number)
    day_caps: tuple[tuple[str, Callable[[Volunteer], int | None]], ...] = (
        ("visits", lambda volunteer: volunteer.max_visits_per_day),
        ("load", lambda volunteer: volunteer.capacity),
    )
    for name, cap_of in day_caps:
        if name == "load" and not model.uses_load:
            continue
        dimension = routing.GetDimensionOrDie(name)
        for (volunteer_id, _), numbers in outings_of.items():
            cap = cap_of(model.problem.volunteer_by_id[volunteer_id])
            if cap is not None and len(numbers) > 1:
                ends = [dimension.CumulVar(routing.End(number)) for number in numbers]
                solver.Add(solver.Sum(ends) <= cap)
    for need_id, indices in copies_of_need.items():
        gap = model.facts[need_id].need.min_gap_days
        if gap <= 1:
            continue
        day_of = {index: model.jobs[manager.IndexToNode(index)].day for index in indices}
        for first, second in itertools.combinations(indices, 2):
            if 0 < abs(day_of[first] - day_of[second]) < gap:
                solver.Add(routing.ActiveVar(first) + routing.ActiveVar(second) <= 1)
    return work_callbacks


# --- repair ----------------------------------------------------------------------------------


@dataclass
class _Kept:
    """A visit kept by the repair, with what its neighbours need to know."""

    visit: Visit
    place: int
    priority: float
    load: int


class _Repairer:
    """Rebuilds a plan visit by visit, keeping only what fits every hard rule."""

    def __init__(self, problem: Problem, travel: TravelModel) -> None:
        self.problem = problem
        self.travel = travel
        self.facts = need_facts(problem, travel)
        self.outings = {volunteer.id: outings_by_day(volunteer) for volunteer in problem.volunteers}
        self.days: dict[tuple[str, int], list[_Kept]] = defaultdict(list)
        self.week_minutes: dict[str, float] = defaultdict(float)
        self.need_days: dict[str, list[int]] = defaultdict(list)
        self.recipient_days: dict[tuple[str, int], list[_Kept]] = defaultdict(list)
        self.linked = {
            frozenset((dependency.first, dependency.second)) for dependency in problem.dependencies
        }
        self.kept: list[_Kept] = []
        self.retimed = 0

    def by_outing(self, volunteer: str, day: int, day_visits: Sequence[_Kept]) -> list[list[_Kept]]:
        """A day's visits cut into its outings, each in start order (a visit outside every
        outing, such as a pinned one, is an outing of its own)."""
        outings = self.outings[volunteer].get(day, [])
        cut: dict[int, list[_Kept]] = defaultdict(list)
        alone: list[list[_Kept]] = []
        for item in sorted(day_visits, key=lambda kept: kept.visit.start):
            index = outing_index(outings, item.visit.start, item.visit.end)
            if index is None:
                alone.append([item])
            else:
                cut[index].append(item)
        return [cut[index] for index in sorted(cut)] + alone

    def day_minutes(self, volunteer: str, day: int, day_visits: Sequence[_Kept]) -> float:
        """Visit minutes plus every leg of every outing of a day, from the start place and back
        home (`matcher.rules.walk_outing`)."""
        person = self.problem.volunteer_by_id[volunteer]
        legs = sum(
            walk_outing(self.travel, person, [item.place for item in outing]).travel_min
            for outing in self.by_outing(volunteer, day, day_visits)
        )
        return legs + sum(item.visit.end - item.visit.start for item in day_visits)

    def volunteer_starts(
        self, volunteer: Volunteer, day: int, place: int, duration: int
    ) -> Intervals:
        """Starts at which this volunteer could add the visit to their day as it stands: in one
        outing, in a gap between the visits kept there, with the travel in and out (from the
        start place after the outing opens, home before it closes), every new leg within their
        longest trip and the outing's walk within `max_outing_distance_m`."""
        travel = self.travel
        day_visits = self.days[(volunteer.id, day)]
        if (
            volunteer.max_visits_per_day is not None
            and len(day_visits) >= volunteer.max_visits_per_day
        ):
            return []
        limit = volunteer.max_trip_distance_m
        outing_limit = volunteer.max_outing_distance_m
        starts: list[tuple[int, int]] = []
        outings = self.outings[volunteer.id].get(day, [])
        for index, (opens, closes) in enumerate(outings):
            kept = [
                item
                for item in day_visits
                if outing_index(outings, item.visit.start, item.visit.end) == index
            ]
            walked = walk_outing(travel, volunteer, [item.place for item in kept]).distance_m
            for slot in range(len(kept) + 1):
                previous = kept[slot - 1] if slot > 0 else None
                following = kept[slot] if slot < len(kept) else None
                origin = previous.place if previous else travel.start_place[volunteer.id]
                destination = following.place if following else travel.home_place[volunteer.id]
                distance_in = travel.distance(origin, place)
                distance_out = travel.distance(place, destination)
                if limit is not None and max(distance_in, distance_out) > limit + EPSILON:
                    continue
                detour = distance_in + distance_out - travel.distance(origin, destination)
                if outing_limit is not None and walked + detour > outing_limit + EPSILON:
                    continue
                minutes_in = travel.travel_min(volunteer, origin, place)
                minutes_out = travel.travel_min(volunteer, place, destination)
                if not (math.isfinite(minutes_in) and math.isfinite(minutes_out)):
                    continue
                low = (previous.visit.end if previous is not None else opens) + minutes_in
                high = (following.visit.start if following is not None else closes) - minutes_out
                low_whole = math.ceil(low - EPSILON)
                high_whole = math.floor(high - duration + EPSILON)
                if low_whole <= high_whole:
                    starts.append((low_whole, high_whole))
        return normalise(starts)

    def recipient_starts(self, need: str, recipient: str, day: int, duration: int) -> Intervals:
        """Starts at which the visit overlaps none of the recipient's kept visits that day
        (visits of a linked need may overlap)."""
        free: Intervals = [(0, self.problem.day_length_min)]
        for item in self.recipient_days[(recipient, day)]:
            if frozenset((need, item.visit.need)) in self.linked:
                continue
            blocked = (item.visit.start - duration + 1, item.visit.end - 1)
            free = [
                piece
                for low, high in free
                for piece in ((low, min(high, blocked[0] - 1)), (max(low, blocked[1] + 1), high))
                if piece[0] <= piece[1]
            ]
        return normalise(free)

    def week_after(self, volunteer: Volunteer, day: int, candidate: _Kept) -> float:
        """The volunteer's week in minutes with the candidate added to that day."""
        day_visits = self.days[(volunteer.id, day)]
        grown = sorted([*day_visits, candidate], key=lambda item: item.visit.start)
        change = self.day_minutes(volunteer.id, day, grown) - self.day_minutes(
            volunteer.id, day, day_visits
        )
        return self.week_minutes[volunteer.id] + change

    def keep(self, item: _Kept) -> None:
        """Record a kept visit everywhere its neighbours will look."""
        visit, day = item.visit, WEEKDAYS.index(item.visit.day)
        for volunteer_id in dict.fromkeys(visit.volunteers):
            day_visits = self.days[(volunteer_id, day)]
            before = self.day_minutes(volunteer_id, day, day_visits)
            day_visits.append(item)
            day_visits.sort(key=lambda kept: kept.visit.start)
            after = self.day_minutes(volunteer_id, day, day_visits)
            self.week_minutes[volunteer_id] += after - before
        self.need_days[visit.need].append(day)
        self.recipient_days[(visit.recipient, day)].append(item)
        self.kept.append(item)

    def can_carry(self, volunteer: Volunteer, day: int, load: int) -> bool:
        """Whether the volunteer's day has room for this much more load."""
        carried = sum(item.load for item in self.days[(volunteer.id, day)])
        return volunteer.capacity is None or carried + load <= volunteer.capacity

    def try_keep(self, visit: Visit) -> bool:
        """Keep the visit (re-timed when needed) if it fits every rule next to the kept ones; a
        team visit short of members (the peer routed two members' copies on one vehicle, or
        only one of them) is completed with qualified volunteers free at a common start."""
        problem = self.problem
        fact = self.facts.get(visit.need)
        names = list(dict.fromkeys(visit.volunteers))
        if fact is None or any(name not in problem.volunteer_by_id for name in names):
            return False
        if len(names) > fact.service.team_size or not set(names) <= set(fact.qualified):
            return False
        day = WEEKDAYS.index(visit.day)
        need = fact.need
        taken = self.need_days[need.id]
        if len(taken) >= need.visits_per_week:
            return False
        if any(abs(day - other) < need.min_gap_days for other in taken):
            return False
        volunteers = [problem.volunteer_by_id[name] for name in names]
        if not all(self.can_carry(volunteer, day, need.load) for volunteer in volunteers):
            return False
        starts = intersect(
            start_set(fact.late_windows_by_day.get(day, []), fact.duration),
            self.recipient_starts(need.id, fact.recipient.id, day, fact.duration),
        )
        for volunteer in volunteers:
            if not starts:
                return False
            starts = intersect(
                starts, self.volunteer_starts(volunteer, day, fact.place, fact.duration)
            )
        for name in fact.qualified:
            if len(names) == fact.service.team_size or not starts:
                break
            extra = problem.volunteer_by_id[name]
            if name in names or not self.can_carry(extra, day, need.load):
                continue
            together = intersect(
                starts, self.volunteer_starts(extra, day, fact.place, fact.duration)
            )
            if together:
                names.append(name)
                volunteers.append(extra)
                starts = together
        if len(names) < fact.service.team_size:
            return False
        nearest = sorted(
            {min(max(visit.start, low), high) for low, high in starts},
            key=lambda start: (abs(start - visit.start), start),
        )
        for start in nearest:
            candidate = _Kept(
                visit=visit.model_copy(
                    update={
                        "start": start,
                        "end": start + fact.duration,
                        "volunteers": names,
                        "recipient": fact.recipient.id,
                        "service": fact.service.id,
                        "date": problem.date_of(visit.day),
                    }
                ),
                place=fact.place,
                priority=fact.priority,
                load=need.load,
            )
            if all(
                volunteer.max_minutes_per_week is None
                or self.week_after(volunteer, day, candidate)
                <= volunteer.max_minutes_per_week + 1e-7
                for volunteer in volunteers
            ):
                self.retimed += start != visit.start
                self.keep(candidate)
                return True
        return False

    def force(self, visit: Visit) -> None:
        """Keep a pinned visit as the coordinator fixed it."""
        fact = self.facts[visit.need]
        self.keep(_Kept(visit=visit, place=fact.place, priority=math.inf, load=fact.need.load))


def _merged_teams(problem: Problem, visits: Sequence[Visit]) -> list[Visit]:
    """Team visits of one need on one day split over several visits become one visit with
    every member (the repair then looks for a common start)."""
    merged: list[Visit] = []
    partial: dict[tuple[str, str], Visit] = {}
    for visit in visits:
        need = problem.need_by_id.get(visit.need)
        team_size = problem.service_by_id[need.service].team_size if need is not None else 1
        if team_size == 1 or len(set(visit.volunteers)) >= team_size:
            merged.append(visit)
            continue
        key = (visit.need, visit.day)
        if key in partial:
            earlier = partial[key]
            partial[key] = earlier.model_copy(
                update={
                    "volunteers": list(dict.fromkeys([*earlier.volunteers, *visit.volunteers])),
                    "start": min(earlier.start, visit.start),
                    "end": min(earlier.start, visit.start) + (earlier.end - earlier.start),
                }
            )
        else:
            partial[key] = visit
    return merged + list(partial.values())


def _victim(
    problem: Problem, visits: Sequence[Visit], report_violations: Sequence[Any]
) -> int | None:
    """The position of the lowest-priority visit a remaining violation names, if any."""
    named: set[int] = set()
    for violation in report_violations:
        for position, visit in enumerate(visits):
            if violation.need is not None and visit.need != violation.need:
                continue
            if violation.occurrence is not None and visit.occurrence != violation.occurrence:
                continue
            if violation.volunteer is not None and violation.volunteer not in visit.volunteers:
                continue
            if violation.day is not None and visit.day != violation.day:
                continue
            if violation.need is None and violation.volunteer is None:
                continue
            named.add(position)
    pinned = {(item.need, item.day, item.start) for item in problem.pinned}

    def priority(position: int) -> float:
        visit = visits[position]
        if (visit.need, visit.day, visit.start) in pinned:
            return math.inf
        need = problem.need_by_id.get(visit.need)
        return problem.priority_of(need) if need is not None else -math.inf

    candidates = [position for position in named if math.isfinite(priority(position))]
    return min(candidates, key=lambda position: (priority(position), -position), default=None)


def repair(problem: Problem, plan: Plan) -> tuple[Plan, int]:
    """Make a peer's plan one the checker accepts; returns it and the raw plan's violation
    count. Visits are kept highest priority first when they still fit (re-timed inside their
    slot if needed, team members merged at a common start), dropped otherwise."""
    travel = TravelModel(problem)
    violations_before = len(check_plan(problem, plan, travel).violations)
    repairer = _Repairer(problem, travel)
    pinned = {
        (item.need, item.day, item.start, frozenset(item.volunteers)) for item in problem.pinned
    }
    for item in problem.pinned:
        need = problem.need_by_id[item.need]
        recipient = problem.recipient_of_need[item.need]
        repairer.force(
            Visit(
                need=item.need,
                recipient=recipient.id,
                service=need.service,
                occurrence=1,
                day=item.day,
                start=item.start,
                end=item.start + problem.duration_of(need),
                volunteers=list(item.volunteers),
            )
        )
    candidates = [
        visit
        for visit in _merged_teams(problem, plan.visits)
        if (visit.need, visit.day, visit.start, frozenset(visit.volunteers)) not in pinned
    ]

    def order(position_and_visit: tuple[int, Visit]) -> tuple[float, int]:
        position, visit = position_and_visit
        need = problem.need_by_id.get(visit.need)
        return (-problem.priority_of(need) if need is not None else math.inf, position)

    for _, visit in sorted(enumerate(candidates), key=order):
        repairer.try_keep(visit)

    visits = number_occurrences(item.visit for item in repairer.kept)
    dropped_by_checker = 0
    while True:
        unassigned = unassigned_visits(problem, travel, visits, repairer.facts)
        report = check_plan(problem, Plan(visits=visits, unassigned=unassigned), travel)
        victim = _victim(problem, visits, report.violations)
        if report.ok or victim is None:
            break
        visits = number_occurrences(visits[:victim] + visits[victim + 1 :])
        dropped_by_checker += 1

    repaired = plan.model_copy(
        update={
            "visits": visits,
            "routes": build_routes(problem, travel, visits),
            "unassigned": unassigned,
            "metrics": report.metrics,
            "solver": plan.solver.model_copy(
                update={
                    "solver": f"{plan.solver.solver}+repair",
                    "objective": report.metrics.weighted_planned,
                    "parameters": {
                        **plan.solver.parameters,
                        "repair": {
                            "violations_before": violations_before,
                            "visits_before": len(plan.visits),
                            "visits_after": len(visits),
                            "retimed": repairer.retimed,
                            "dropped_by_final_check": dropped_by_checker,
                        },
                    },
                }
            ),
        }
    )
    return repaired, violations_before


# --- the comparison --------------------------------------------------------------------------

COMPARED = ("matcher", *PEERS)
SOLVER_LABELS = {
    "matcher": "matcher auto",
    "vroom": "VROOM + repair",
    "ortools": "OR-Tools routing + repair",
}


@dataclass
class ComparisonRun:
    """One solver on one generated week."""

    size: str
    seed: int
    solver: str
    time_limit_s: float
    status: str = "ok"
    chosen: str | None = None
    visits_requested: int = 0
    visits_planned: int = 0
    weighted_planned: float = 0.0
    weighted_coverage_pct: float = 0.0
    travel_km: float = 0.0
    continuity_pct: float = 0.0
    violations_before: int = 0
    violations_by_rule: dict[str, int] = field(default_factory=dict)
    visits_before_repair: int = 0
    violations_after: int = 0
    wall_time_s: float = 0.0
    """Model building and solving (for peers also the repair)."""
    raw: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def compare_one(
    problem: Problem,
    size: str,
    seed: int,
    solver: str,
    time_limit_s: float,
    vroom_level: int = VROOM_EXPLORATION_LEVEL,
    ortools_side_constraints: bool = False,
) -> ComparisonRun:
    """Plan the week with one solver at the time limit; peers are repaired, every plan checked."""
    import matcher

    run = ComparisonRun(size=size, seed=seed, solver=solver, time_limit_s=time_limit_s)
    began = time.perf_counter()
    try:
        if solver == "matcher":
            plan = matcher.solve(problem, solver="auto", time_limit_s=time_limit_s, seed=0)
            auto = plan.solver.statistics.get("auto")
            run.chosen = auto["chosen"] if isinstance(auto, dict) else None
            run.visits_before_repair = len(plan.visits)
        else:
            if solver == "vroom":
                raw_plan, facts = solve_with_vroom(
                    problem, time_limit_s, exploration_level=vroom_level
                )
            else:
                raw_plan, facts = solve_with_ortools_routing(
                    problem, time_limit_s, side_constraints=ortools_side_constraints
                )
            run.raw = asdict(facts)
            run.visits_before_repair = len(raw_plan.visits)
            raw_report = check_plan(problem, raw_plan)
            run.violations_by_rule = dict(Counter(item.rule for item in raw_report.violations))
            plan, run.violations_before = repair(problem, raw_plan)
        run.wall_time_s = time.perf_counter() - began
        report = check_plan(problem, plan)
        metrics = report.metrics
        run.violations_after = len(report.violations)
        run.visits_requested = metrics.visits_requested
        run.visits_planned = metrics.visits_planned
        run.weighted_planned = metrics.weighted_planned
        run.weighted_coverage_pct = metrics.weighted_coverage_pct
        run.travel_km = metrics.travel_distance_m / 1000
        run.continuity_pct = metrics.continuity_pct
        if report.violations:
            run.status = "error"
            run.error = "; ".join(item.message for item in report.violations[:3])
    except Exception:
        run.status = "error"
        run.error = traceback.format_exc()
        run.wall_time_s = time.perf_counter() - began
    return run


def _mean_worst(
    values: Sequence[float], worst: Callable[[Sequence[float]], float], digits: int
) -> str:
    """'mean (worst)' over seeds, or the value alone for one seed."""
    if not values:
        return "-"
    text = f"{statistics.fmean(values):.{digits}f}"
    return text if len(values) == 1 else f"{text} ({worst(values):.{digits}f})"


TABLE_HEADERS = (
    "size",
    "solver",
    "limit s",
    "visits planned / requested",
    "weighted coverage %",
    "travel km",
    "continuity %",
    "violations before repair",
    "visits before repair",
    "copies kept / routed",
    "wall time s",
)


def _copies_cell(runs: Sequence[ComparisonRun]) -> str:
    """Mean routed job copies kept as visits / routed ('-' for matcher, which routes none)."""
    routed = [run.raw["copies_routed"] for run in runs if run.raw]
    if not routed:
        return "-"
    discarded = [run.raw["copies_discarded"] for run in runs if run.raw]
    kept = statistics.fmean(routed) - statistics.fmean(discarded)
    return f"{kept:.0f} / {statistics.fmean(routed):.0f}"


def comparison_rows(runs: Sequence[ComparisonRun]) -> list[list[str]]:
    """One row per size and solver, aggregated over seeds: mean (worst seed)."""
    groups: dict[tuple[str, str], list[ComparisonRun]] = {}
    for run in runs:
        groups.setdefault((run.size, run.solver), []).append(run)
    rows = []
    for (size, solver), group in groups.items():
        ok = [run for run in group if run.status == "ok"]
        label = SOLVER_LABELS[solver]
        chosen = sorted({run.chosen for run in ok if run.chosen})
        if chosen:
            label += f" ({', '.join(chosen)})"
        if len(ok) < len(group):
            label += f" [{len(group) - len(ok)} failed]"

        def values(name: str, runs: Sequence[ComparisonRun] = ok) -> list[float]:
            return [float(getattr(run, name)) for run in runs]

        planned, requested = values("visits_planned"), values("visits_requested")
        rows.append(
            [
                size,
                label,
                f"{group[0].time_limit_s:g}",
                f"{statistics.fmean(planned):.0f} / {statistics.fmean(requested):.0f}"
                if ok
                else "-",
                _mean_worst(values("weighted_coverage_pct"), min, 1),
                _mean_worst(values("travel_km"), max, 1),
                _mean_worst(values("continuity_pct"), min, 1),
                _mean_worst(values("violations_before"), max, 0),
                _mean_worst(values("visits_before_repair"), min, 0),
                _copies_cell(ok),
                _mean_worst(values("wall_time_s"), max, 1),
            ]
        )
    return rows


def verdict_lines(runs: Sequence[ComparisonRun]) -> list[str]:
    """Per size: does matcher cover at least as much priority-weighted need as the better peer,
    with zero violations, seed by seed?"""
    by_size_seed: dict[tuple[str, int], dict[str, ComparisonRun]] = defaultdict(dict)
    for run in runs:
        by_size_seed[(run.size, run.seed)][run.solver] = run
    sizes = list(dict.fromkeys(run.size for run in runs))
    lines = []
    for size in sizes:
        wins, total, margins = 0, 0, []
        for (run_size, _), solvers in sorted(by_size_seed.items()):
            mine = solvers.get("matcher")
            peers = [
                solvers[name] for name in PEERS if name in solvers and solvers[name].status == "ok"
            ]
            if run_size != size or mine is None or mine.status != "ok" or not peers:
                continue
            best = max(peer.weighted_planned for peer in peers)
            total += 1
            margins.append(
                mine.weighted_coverage_pct - max(peer.weighted_coverage_pct for peer in peers)
            )
            wins += mine.weighted_planned >= best - 1e-9 and mine.violations_after == 0
        if total:
            lines.append(
                f"{size}: matcher covers at least as much priority-weighted need as the better "
                f"peer, with zero violations, on {wins} of {total} seed(s); mean margin "
                f"{statistics.fmean(margins):+.1f} points of weighted coverage"
            )
    return lines


def violation_lines(runs: Sequence[ComparisonRun]) -> list[str]:
    """Per size and peer: the raw plans' violations by rule, summed over seeds."""
    totals: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for run in runs:
        if run.solver != "matcher":
            totals[(run.size, run.solver)].update(run.violations_by_rule)
    return [
        f"{size} {SOLVER_LABELS[solver].split(' +')[0]}: "
        + (", ".join(f"{rule} {count}" for rule, count in counts.most_common()) or "none")
        for (size, solver), counts in totals.items()
    ]


def load_average() -> float:
    """The machine's load average over the last minute (NaN where unknown)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def render(
    runs: Sequence[ComparisonRun],
    seeds: Sequence[int],
    markdown: bool,
    load_at_start: float = float("nan"),
) -> str:
    """The machine, the settings, the table, the verdicts and the raw violations by rule."""
    from benchmarks.run import format_markdown_table, format_text_table, machine_lines

    levels = ", ".join(
        f"{size} {VROOM_LEVEL_BY_SIZE.get(size, VROOM_EXPLORATION_LEVEL)}"
        for size in dict.fromkeys(run.size for run in runs)
    )
    sides = ", ".join(
        size
        for size in dict.fromkeys(run.size for run in runs)
        if ORTOOLS_SIDE_CONSTRAINTS_BY_SIZE.get(size, False)
    )
    sides = sides or "none"
    preamble = [
        *machine_lines(),
        f"peers: pyvroom {_version('pyvroom')}, {VROOM_THREADS} thread, exploration level by "
        f"size: {levels}; OR-Tools routing: parallel cheapest insertion, guided local search, "
        f"weekly caps and day gaps as side constraints on: {sides}",
        f"generator seeds {','.join(map(str, seeds))}; solver seed 0; one process, runs one "
        f"after another; load average {load_at_start:.2f} at the start, {load_average():.2f} "
        "at the end; cells are mean (worst seed)",
    ]
    rows = comparison_rows(runs)
    verdicts = verdict_lines(runs)
    by_rule = violation_lines(runs)
    failures = [
        f"{run.size} seed {run.seed} {run.solver}: {(run.error or '').strip().splitlines()[-1]}"
        for run in runs
        if run.status != "ok"
    ]
    if markdown:
        parts = ["\n".join(f"- {line}" for line in preamble)]
        parts.append(format_markdown_table(TABLE_HEADERS, rows))
        parts.append("\n".join(f"- {line}" for line in verdicts))
        parts.append(
            "Raw violations by rule (summed over seeds):\n\n"
            + "\n".join(f"- {line}" for line in by_rule)
        )
        if failures:
            parts.append("Failed runs:\n\n" + "\n".join(f"- {line}" for line in failures))
        return "\n\n".join(parts) + "\n"
    lines = [*preamble, "", format_text_table(TABLE_HEADERS, rows), "", *verdicts, ""]
    lines += ["raw violations by rule (summed over seeds):", *(f"  {line}" for line in by_rule)]
    if failures:
        lines += ["", "failed runs:", *(f"  {line}" for line in failures)]
    return "\n".join(lines) + "\n"


def _version(package: str) -> str:
    """An installed package's version, or 'not installed'."""
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: every size, seed and solver in turn, then the table."""
    from benchmarks.generator import generate_community
    from benchmarks.run import SIZES, machine_lines

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.peers",
        description="Compare matcher with VROOM and OR-Tools routing (repaired) on generated "
        "weeks.",
    )
    parser.add_argument("--sizes", type=_csv, default=["small", "medium", "large"])
    parser.add_argument(
        "--seeds", type=lambda text: [int(part) for part in _csv(text)], default=[0, 1, 2]
    )
    parser.add_argument(
        "--solvers", type=_csv, default=list(COMPARED), help="matcher,vroom,ortools"
    )
    parser.add_argument(
        "--time-limit-s",
        type=float,
        default=None,
        help="default: the optimizer protocol's per size",
    )
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--json", default=None, help="also write every run's numbers to this file")
    arguments = parser.parse_args(argv)
    machine_lines()  # the commit the run starts from, for the report
    unknown = [name for name in arguments.sizes if name not in SIZES] + [
        name for name in arguments.solvers if name not in COMPARED
    ]
    if unknown:
        parser.error(f"unknown size or solver: {', '.join(unknown)}")
    if "vroom" in arguments.solvers and _version("pyvroom") == "not installed":
        parser.error(
            'pyvroom is not installed: pip install -e ".[peers]", or --solvers matcher,ortools'
        )
    runs: list[ComparisonRun] = []
    load_at_start = load_average()
    for size_name in arguments.sizes:
        size = SIZES[size_name]
        limit = arguments.time_limit_s if arguments.time_limit_s is not None else size.time_limit_s
        for seed in arguments.seeds:
            problem = generate_community(
                recipients=size.recipients,
                volunteers=size.volunteers,
                buildings=size.buildings,
                seed=seed,
            )
            for solver in arguments.solvers:
                print(f"{size_name} seed {seed} {solver} ...", file=sys.stderr, flush=True)
                level = VROOM_LEVEL_BY_SIZE.get(size_name, VROOM_EXPLORATION_LEVEL)
                side = ORTOOLS_SIDE_CONSTRAINTS_BY_SIZE.get(size_name, False)
                run = compare_one(problem, size_name, seed, solver, limit, level, side)
                runs.append(run)
                print(
                    f"    {run.status}: {run.visits_planned}/{run.visits_requested} visits, "
                    f"{run.weighted_coverage_pct:.1f}% weighted, {run.violations_before} raw "
                    f"violations, {run.wall_time_s:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
                if run.error:
                    print(run.error, file=sys.stderr, flush=True)
    if arguments.json is not None:
        write_text_atomic(
            arguments.json, json.dumps([asdict(run) for run in runs], indent=1) + "\n"
        )
    sys.stdout.write(render(runs, arguments.seeds, arguments.markdown, load_at_start))
    return 0 if all(run.status == "ok" for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
