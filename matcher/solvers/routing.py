"""A solver on OR-Tools' vehicle routing library, finished by an exact timing pass in CP-SAT.

The routing model:

- a *vehicle* is a volunteer's day with availability: it leaves their start place and ends at
  home; its time cumul starts after the first availability window opens and ends before the
  last one closes;
- a *node* is a possible visit: a need on one of its allowed days (a team visit is one node per
  member, the members' start times tied together). A need with V visits a week is a disjunction
  over its day nodes with at most V active and a penalty of coverage x priority per missing
  visit (mandatory needs a hundred times more), so coverage dominates travel;
- the time dimension counts minutes of the day: the transit of an arc is the visit's duration
  plus the volunteer's travel time rounded up to a whole minute (visits start on whole minutes,
  so rounding up is exact, not a buffer); a node's cumul is its start, restricted to the need's
  windows and to the availability of the vehicles allowed to make it;
- qualification (skills, checks, exclusions) and availability choose each node's allowed
  vehicles; `max_trip_distance_m` forbids a vehicle's long arcs (they take longer than a day);
  `capacity` and `max_visits_per_day` are dimensions; `max_minutes_per_week` is a dimension of
  centi-minutes per day plus a constraint on the sum of a volunteer's days;
- soft windows: a soft upper bound on the start at `window end - duration` costs
  `lateness_per_min` per minute late; `max_lateness_min` is a hard upper bound;
- dependencies: both nodes of a day active or neither (`ActiveVar`), the start gap through two
  node precedences of the time dimension (which the routing filters understand), different
  volunteers through visit types that are incompatible on one route; visits of one recipient on
  one day that are not linked by a dependency do not overlap (a constraint on the cumuls);
- `min_gap_days`: two day nodes of a need too close together are never both active;
- the arc cost is distance x `travel_per_km`, plus paid time x the hourly cost.

A day with several availability windows is modelled conservatively: every visit of such a day
keeps the travel from the start place and back home inside its own window, which makes the
first and last visit rules of docs/rules.md hold wherever the visit falls in the route. A soft
window may run late only after the day's last allowed window opens.

The search runs from the cheapest of several first solutions (the warm start, by default the
greedy plan, the configured first solution strategy and a small portfolio of others) and from
the warm start, the time split between the two, and keeps the better. Visits tied together
(teams, dependencies) are hard for the local search to move, so the start decides much of the
result, and neither start is the better one on every instance. Guided local search cannot
escape a plan whose dropped visits would each cost more than the one blocking them where arcs
cost nothing; the inactive-node LNS operator, switched on by default, makes that exchange.

The finishing pass takes the routes as the routing search left them and solves the timing
exactly in CP-SAT (every start inside its windows, travel between consecutive visits, team
members and dependencies together, no recipient overlaps, lateness and the plan's largest
lateness at their policy cost, then starts as early as possible). The routing search cannot
see the largest lateness across routes (it is a global maximum); the finishing pass optimises
it exactly for the routes found, so it is approximated by the search and exact in the timing.
With `weekly_caps="repair"` the weekly minute caps are left out of the routing model and the
finishing pass drops the least valuable visits of a volunteer over the cap (the remaining visits
keep their order); with the default `"model"` they are constraints of the routing model.

Every plan carries a bound on priority-weighted coverage and the gap to it, like `lns`: the
linear relaxation of `matcher.solvers.bounds` runs in a second thread beside the search.

Determinism: the same problem, seed, parameters and limits give the same model; OR-Tools stops
on wall time, so a run stopped by its time limit may differ from machine to machine. Setting
`solution_limit` stops after a fixed number of improving solutions instead.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_parameters_pb2
from ortools.sat.python import cp_model
from ortools.util import optional_boolean_pb2
from pydantic import BaseModel, ConfigDict, Field, field_validator

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
from matcher.solvers.bounds import BackgroundBound, bound_and_gap, requested_coverage
from matcher.solvers.candidates import (
    Intervals,
    NeedFacts,
    ceil_minutes,
    intersect,
    need_facts,
    normalise,
    start_set,
)
from matcher.solvers.cpsat import unplanned_occurrences, weighted_coverage
from matcher.solvers.greedy import solve_greedy
from matcher.solvers.objective import objective_breakdown
from matcher.solvers.routes import build_routes
from matcher.travel import TravelModel

FIRST_SOLUTION_STRATEGIES = tuple(
    name
    for name in routing_enums_pb2.FirstSolutionStrategy.Value.keys()  # noqa: SIM118
    if name != "UNSET"
)
LOCAL_SEARCH_METAHEURISTICS = tuple(
    name
    for name in routing_enums_pb2.LocalSearchMetaheuristic.Value.keys()  # noqa: SIM118
    if name != "UNSET"
)
_SEARCH_PARAMETERS = routing_parameters_pb2.RoutingSearchParameters
LOCAL_SEARCH_OPERATORS = tuple(
    descriptor.name
    for descriptor in _SEARCH_PARAMETERS.LocalSearchNeighborhoodOperators.DESCRIPTOR.fields
)
MANDATORY_FACTOR = 100.0
"""A missing visit of a mandatory need costs this many times its coverage points."""
TARGET_ARC_COST = 1e5
"""Points are scaled so that a typical arc costs about this many integer units (precision)."""
MAX_TOTAL_COST = 1e15
"""The scaled penalties of all nodes together stay below this (int64 has room to spare)."""
MAX_MATRIX_ENTRIES = 30_000_000
"""Transit matrices handed to OR-Tools hold at most this many numbers together; beyond it, trip
limits are rounded down to fewer classes (conservative: a shorter limit is never broken)."""
WORK_UNITS_PER_MIN = 100
"""The weekly-minutes dimension counts centi-minutes, each leg's travel rounded up."""
FINISH_UNITS_PER_MIN = 1000
"""The finishing pass counts weekly minutes in milli-minutes, each leg rounded up."""
FINISH_POINT_SCALE = 1000
"""The finishing pass counts objective points in thousandths."""
TEAM_MEMBER_PENALTY = 1
"""A team member's node is optional at a nominal cost; its lead node carries the coverage."""
NOT_MODELLED_TEAM = (
    "The routing solver does not plan team visits (more than one volunteer at once) with these "
    "parameters; use another solver or plan_team_visits=True."
)


class RoutingParameters(BaseModel):
    """Knobs of the routing solver; the defaults suit a community week and the benchmarks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_solution_strategy: str = Field(
        default="PARALLEL_CHEAPEST_INSERTION",
        description="OR-Tools first solution strategy, e.g. PATH_CHEAPEST_ARC",
    )
    first_solution_portfolio: tuple[str, ...] = Field(
        default=("LOCAL_CHEAPEST_COST_INSERTION", "SAVINGS"),
        description="further first solution strategies tried beside the warm start and "
        "first_solution_strategy; the search starts from the cheapest first solution (on "
        "instances with linked visits the local search barely moves them, so the start matters)",
    )
    portfolio_time_share: float = Field(
        default=0.15, ge=0, lt=1, description="share of the search time for the first solutions"
    )
    local_search_metaheuristic: str = Field(
        default="GUIDED_LOCAL_SEARCH",
        description="OR-Tools metaheuristic, e.g. GUIDED_LOCAL_SEARCH or SIMULATED_ANNEALING",
    )
    default_time_limit_s: float = Field(
        default=10.0, gt=0, description="used when solve_routing gets no time limit"
    )
    solution_limit: int | None = Field(
        default=None,
        ge=1,
        description="stop after this many solutions (repeatable runs whatever the machine)",
    )
    extra_operators: tuple[str, ...] = Field(
        default=("use_inactive_lns",),
        description="OR-Tools local search operators switched on beyond its defaults; "
        "use_inactive_lns lets the search trade one planned visit for several unplanned ones, "
        "which guided local search cannot do where arcs cost nothing",
    )
    guided_local_search_lambda: float = Field(
        default=0.1, gt=0, description="OR-Tools guided_local_search_lambda_coefficient"
    )
    greedy_warm_start: bool = Field(
        default=True,
        description="start the search from the greedy plan when no warm start is given",
    )
    plan_team_visits: bool = Field(
        default=True,
        description="model team visits as tied member nodes; False leaves them unplanned",
    )
    weekly_caps: Literal["model", "repair"] = Field(
        default="model",
        description="weekly minute caps as routing constraints, or repaired after the search",
    )
    finishing_time_share: float = Field(
        default=0.05, gt=0, lt=1, description="share of the time limit for the timing pass"
    )
    max_finishing_time_s: float = Field(
        default=3.0, gt=0, description="the timing pass never takes longer than this"
    )
    compute_bound: bool = Field(
        default=True, description="compute the coverage relaxation bound (in a second thread)"
    )
    bound_time_share: float = Field(
        default=0.8, gt=0, le=1, description="share of the time limit HiGHS gets for the bound"
    )
    log_search: bool = False

    @field_validator("first_solution_strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        if value not in FIRST_SOLUTION_STRATEGIES:
            raise ValueError(f"choose one of: {', '.join(FIRST_SOLUTION_STRATEGIES)}")
        return value

    @field_validator("first_solution_portfolio")
    @classmethod
    def _known_strategies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            cls._known_strategy(name)
        return value

    @field_validator("extra_operators")
    @classmethod
    def _known_operators(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in LOCAL_SEARCH_OPERATORS]
        if unknown:
            raise ValueError(
                f"unknown operator(s) {', '.join(unknown)}; "
                f"choose from: {', '.join(LOCAL_SEARCH_OPERATORS)}"
            )
        return value

    @field_validator("local_search_metaheuristic")
    @classmethod
    def _known_metaheuristic(cls, value: str) -> str:
        if value not in LOCAL_SEARCH_METAHEURISTICS:
            raise ValueError(f"choose one of: {', '.join(LOCAL_SEARCH_METAHEURISTICS)}")
        return value


@dataclass
class _Vehicle:
    """A volunteer's day: where it starts and ends, its windows, its transit classes."""

    index: int
    volunteer: Volunteer
    day: int
    windows: Intervals
    start_place: int
    home_place: int
    time_class: int = 0
    cost_class: int = 0

    @property
    def single_window(self) -> bool:
        """One availability window: the vehicle's start and end cumuls make the rules exact."""
        return len(self.windows) == 1


@dataclass
class _Group:
    """One possible visit: a need on a day, with one node per team member.

    `starts` holds, per allowed vehicle, the start times the model allows it there; `due` is
    the latest start that is not late (soft windows only).
    """

    index: int
    facts: NeedFacts
    day: int
    starts: dict[int, Intervals]
    due: int | None = None
    pinned_volunteers: tuple[str, ...] = ()
    nodes: list[int] = field(default_factory=list)

    @property
    def team_size(self) -> int:
        return len(self.pinned_volunteers) or self.facts.service.team_size

    @property
    def domain(self) -> Intervals:
        """Every start some allowed vehicle could take."""
        return normalise(interval for spans in self.starts.values() for interval in spans)


@dataclass
class _Routed:
    """A group in the routing solution: its vehicles (one per member) and its start."""

    group: _Group
    vehicles: list[int]
    start: int


def solve_routing(
    problem: Problem,
    travel: TravelModel | None = None,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    parameters: RoutingParameters | None = None,
    warm_start: Plan | None = None,
) -> Plan:
    """Plan the week with OR-Tools routing, then time the routes exactly; every planned visit
    keeps the hard rules and every unplanned occurrence says why.

    `warm_start` is a plan whose visits become the first routes (as many as the model accepts);
    without one, the greedy plan is used when `greedy_warm_start` is on. The seed shuffles the
    order of the nodes (ties in the search) and seeds the greedy plan. The plan's bound on
    weighted coverage is the relaxation of `matcher.solvers.bounds`, computed beside the search
    and waited for no longer than the time limit (else every requested visit counts); the status
    stays FEASIBLE because travel and the other terms are never proven optimal.
    """
    began = time.perf_counter()
    if time_limit_s is not None and time_limit_s <= 0:
        raise ValueError("time_limit_s must be positive")
    settings = parameters if parameters is not None else RoutingParameters()
    model_travel = travel if travel is not None else TravelModel(problem)
    limit = time_limit_s if time_limit_s is not None else settings.default_time_limit_s
    facts = need_facts(problem, model_travel)
    pending_bound = (
        BackgroundBound(
            problem, model_travel, facts, time_limit_s=settings.bound_time_share * limit
        )
        if settings.compute_bound
        else None
    )
    if warm_start is None and settings.greedy_warm_start:
        warm_start = solve_greedy(
            problem, model_travel, seed=seed, time_limit_s=max(0.05, 0.1 * limit)
        )
    builder = _RoutingBuilder(problem, model_travel, settings, seed, facts)
    finishing_budget = min(settings.max_finishing_time_s, settings.finishing_time_share * limit)
    routed: list[_Routed] | None
    try:
        builder.build(deadline=began + limit - finishing_budget)
    except _OutOfTime:
        routed, search_status = None, "model build ran out of time"
    else:
        search_budget = max(0.05, limit - (time.perf_counter() - began) - finishing_budget)
        routed, search_status = builder.search(search_budget, warm_start)
    details: dict[str, Any] = {
        "search_status": search_status,
        "nodes": builder.node_count,
        "vehicles": len(builder.vehicles),
        "cost_scale": builder.scale,
        "search_objective": builder.search_objective,
        "warm_start_used": builder.warm_start_used,
        "first_solution": builder.first_solution,
    }
    if routed is None:
        remaining = max(0.05, limit - (time.perf_counter() - began))
        fallback = warm_start or solve_greedy(
            problem, model_travel, seed=seed, time_limit_s=remaining
        )
        visits = list(fallback.visits)
        details["fallback"] = "warm start" if warm_start is not None else "greedy"
        timing_status = "none"
    else:
        remaining = max(0.05, limit - (time.perf_counter() - began))
        finisher = _Finisher(builder, routed, allow_drops=builder.repair_caps)
        placed, timing_status = finisher.solve(min(remaining, max(finishing_budget, 0.05)), seed)
        visits = _visits(problem, builder, placed)
    details["timing_status"] = timing_status
    value = weighted_coverage(facts, visits)
    bound = pending_bound.collect(began + limit) if pending_bound is not None else None
    details["bound_source"] = "relaxation" if bound is not None else "requested"
    if bound is None:
        bound = requested_coverage(facts)
    bound, gap = bound_and_gap(bound, value)
    return Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=visits,
        routes=build_routes(problem, model_travel, visits),
        unassigned=_unassigned(problem, model_travel, builder, visits),
        solver=SolverInfo(
            solver="routing",
            status="FEASIBLE",
            objective=value,
            bound=bound,
            gap=gap,
            objective_breakdown=objective_breakdown(problem, model_travel, facts, visits),
            wall_time_s=time.perf_counter() - began,
            seed=seed,
            time_limit_s=time_limit_s,
            parameters={**settings.model_dump(), **details},
        ),
        warnings=problem.warnings(),
    )


def _day_windows(volunteer: Volunteer, day: int) -> Intervals:
    """The volunteer's availability windows on a day, without windows inside another one."""
    spans = sorted(
        {(window.start, window.end) for window in volunteer.availability if window.day_index == day}
    )
    return [
        span
        for span in spans
        if not any(other != span and other[0] <= span[0] and span[1] <= other[1] for other in spans)
    ]


def _ceil_matrix(minutes: np.ndarray, units_per_min: int, impossible: int) -> np.ndarray:
    """Minutes as whole units rounded up (tolerant of float noise); no path is `impossible`."""
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.ceil(minutes * units_per_min - 1e-9 * units_per_min)
    scaled = np.where(np.isfinite(scaled), scaled, impossible)
    return np.minimum(scaled, impossible).astype(np.int64)


class _OutOfTime(Exception):
    """Building the routing model took the whole time limit."""


class _RoutingBuilder:
    """Vehicles, nodes and the OR-Tools routing model of one problem."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        settings: RoutingParameters,
        seed: int,
        facts: dict[str, NeedFacts] | None = None,
    ) -> None:
        self.problem = problem
        self.travel = travel
        self.settings = settings
        self.seed = seed
        self.day_length = problem.day_length_min
        self.impossible = 4 * self.day_length + 1
        """A transit no day can hold: forbidden arcs take this long."""
        self.facts = facts if facts is not None else need_facts(problem, travel)
        self.weights = problem.policy.weights
        self.vehicles: list[_Vehicle] = []
        self.vehicle_of: dict[tuple[str, int], int] = {}
        self.groups: list[_Group] = []
        self.group_of: dict[tuple[str, int], _Group] = {}
        self.pinned_count: dict[str, int] = defaultdict(int)
        self.left_out_teams: set[str] = set()
        self.linked: set[frozenset[str]] = {
            frozenset((dependency.first, dependency.second)) for dependency in problem.dependencies
        }
        self.metric = problem.travel.method != "matrix"
        self.repair_caps = settings.weekly_caps == "repair" and any(
            volunteer.max_minutes_per_week is not None for volunteer in problem.volunteers
        )
        self.scale = 1.0
        self.search_objective: float | None = None
        self.warm_start_used = "none"
        self.first_solution = "none"
        self.node_count = 0
        self.node_group: list[int] = []
        self.node_place: list[int] = []
        self.node_service: list[int] = []
        self.depot_node: dict[int, int] = {}
        self.deadline: float | None = None
        """perf_counter time by which the model must be built (None: no limit)."""

    def _check_time(self) -> None:
        """Stop building when the deadline has passed: the caller falls back to its warm start."""
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise _OutOfTime

    # ------------------------------------------------------------------ vehicles and nodes

    def build(self, deadline: float | None = None) -> None:
        """Vehicles, groups (possible visits), nodes, then the OR-Tools model; raises
        `_OutOfTime` when `deadline` (a perf_counter time) passes while building."""
        self.deadline = deadline
        for volunteer in self.problem.volunteers:
            for day in range(len(WEEKDAYS)):
                windows = _day_windows(volunteer, day)
                if not windows:
                    continue
                vehicle = _Vehicle(
                    index=len(self.vehicles),
                    volunteer=volunteer,
                    day=day,
                    windows=windows,
                    start_place=self.travel.start_place[volunteer.id],
                    home_place=self.travel.home_place[volunteer.id],
                )
                self.vehicle_of[(volunteer.id, day)] = vehicle.index
                self.vehicles.append(vehicle)
        self._pinned_groups()
        for need_id in sorted(self.facts):
            self._check_time()
            self._need_groups(self.facts[need_id])
        self._drop_unpaired_dependents()
        order = list(range(len(self.groups)))
        random.Random(self.seed).shuffle(order)
        self.groups = [self.groups[position] for position in order]
        for position, group in enumerate(self.groups):
            group.index = position
        self._number_nodes()
        if self.vehicles and self.groups:
            self._build_model()

    def _pinned_groups(self) -> None:
        """The coordinator's pinned visits: fixed start, fixed volunteers, always performed."""
        for pinned in self.problem.pinned:
            facts = self.facts[pinned.need]
            day = WEEKDAYS.index(pinned.day)
            vehicles = [self.vehicle_of.get((volunteer, day)) for volunteer in pinned.volunteers]
            self.pinned_count[pinned.need] += 1
            if any(vehicle is None for vehicle in vehicles) or (pinned.need, day) in self.group_of:
                continue
            group = _Group(
                index=len(self.groups),
                facts=facts,
                day=day,
                starts={
                    vehicle: [(pinned.start, pinned.start)]
                    for vehicle in vehicles
                    if vehicle is not None
                },
                pinned_volunteers=tuple(pinned.volunteers),
            )
            self.groups.append(group)
            self.group_of[(pinned.need, day)] = group

    def _need_groups(self, facts: NeedFacts) -> None:
        """One group per allowed day of the need that some qualified volunteers could make."""
        need = facts.need
        if facts.service.team_size > 1 and not self.settings.plan_team_visits:
            self.left_out_teams.add(need.id)
            return
        remaining = need.visits_per_week - self.pinned_count[need.id]
        if remaining <= 0:
            return
        pinned_days = [day for (need_id, day) in self.group_of if need_id == need.id]
        for day, windows in sorted(facts.windows_by_day.items()):
            if any(abs(day - pinned) < need.min_gap_days for pinned in pinned_days):
                continue
            need_starts, due = self._need_starts(facts, windows)
            starts: dict[int, Intervals] = {}
            for volunteer_id in facts.qualified:
                vehicle_index = self.vehicle_of.get((volunteer_id, day))
                if vehicle_index is None:
                    continue
                allowed = intersect(
                    need_starts, self._own_starts(self.vehicles[vehicle_index], facts)
                )
                if allowed:
                    starts[vehicle_index] = allowed
            if len(starts) < facts.service.team_size:
                continue
            group = _Group(index=len(self.groups), facts=facts, day=day, starts=starts, due=due)
            self.groups.append(group)
            self.group_of[(need.id, day)] = group

    def _need_starts(self, facts: NeedFacts, windows: Intervals) -> tuple[Intervals, int | None]:
        """Starts the need allows on a day and, for a soft window, the latest start on time.

        A soft window may start late only once the day's last window has opened (then every
        window has opened and lateness is measured from the latest on-time start of any)."""
        duration = facts.duration
        on_time = start_set(windows, duration)
        latest = self.day_length - duration
        if not facts.need.soft_window:
            return on_time, None
        due = max(end for _, end in windows) - duration
        allowance = facts.need.max_lateness_min
        last_opening = max(start for start, _ in windows)
        late_until = latest if allowance is None else min(latest, due + allowance)
        late = [(last_opening, late_until)] if last_opening <= late_until else []
        return normalise([*on_time, *late]), due

    def _own_starts(self, vehicle: _Vehicle, facts: NeedFacts) -> Intervals:
        """Starts at which the vehicle's availability could hold the visit.

        One window: inside it (the route's start and end cumuls do the rest; with metric travel
        the trips from the start place and back home are counted too, which prunes). Several
        windows: the trips from the start place and back home fit inside the visit's window."""
        duration = facts.duration
        if vehicle.single_window and not self.metric:
            return start_set(vehicle.windows, duration)
        minutes = self.travel.time_matrix(vehicle.volunteer)
        going = float(minutes[vehicle.start_place, facts.place])
        coming = float(minutes[facts.place, vehicle.home_place])
        if not (math.isfinite(going) and math.isfinite(coming)):
            return []
        return start_set(vehicle.windows, duration, ceil_minutes(going), ceil_minutes(coming))

    def _drop_unpaired_dependents(self) -> None:
        """A day of a dependent need whose partner cannot be visited that day cannot be used."""
        changed = True
        while changed:
            changed = False
            for dependency in self.problem.dependencies:
                for need_id, other_id in (
                    (dependency.first, dependency.second),
                    (dependency.second, dependency.first),
                ):
                    for day in range(len(WEEKDAYS)):
                        group = self.group_of.get((need_id, day))
                        if (
                            group is not None
                            and not group.pinned_volunteers
                            and (other_id, day) not in self.group_of
                        ):
                            del self.group_of[(need_id, day)]
                            changed = True
        kept = {id(group) for group in self.group_of.values()}
        self.groups = [group for group in self.groups if id(group) in kept]

    def _number_nodes(self) -> None:
        """Visit nodes first (one per team member), then one depot node per start or home place."""
        for group in self.groups:
            for _ in range(group.team_size):
                group.nodes.append(len(self.node_group))
                self.node_group.append(group.index)
                self.node_place.append(group.facts.place)
                self.node_service.append(group.facts.duration)
        visit_nodes = len(self.node_group)
        for vehicle in self.vehicles:
            for place in (vehicle.start_place, vehicle.home_place):
                if place not in self.depot_node:
                    self.depot_node[place] = visit_nodes + len(self.depot_node)
                    self.node_place.append(place)
                    self.node_service.append(0)
        self.visit_node_count = visit_nodes
        self.node_count = len(self.node_place)

    # ------------------------------------------------------------------ the routing model

    def _points(self, group: _Group) -> float:
        """Coverage points of one visit of the group's need (mandatory needs count more)."""
        facts = group.facts
        points = max(self.weights.coverage, 1.0) * max(facts.priority, 1e-3)
        return points * MANDATORY_FACTOR if facts.need.mandatory else points

    def _hourly_cost(self, volunteer: Volunteer) -> float:
        """Points per hour of this volunteer's time under the policy."""
        if volunteer.cost_per_hour is not None:
            return volunteer.cost_per_hour
        if volunteer.kind == "staff":
            return self.weights.staff_cost_per_hour
        return self.weights.volunteer_cost_per_hour

    def _time_source(self, volunteer: Volunteer) -> float:
        """Vehicles with the same travel times share matrices: the explicit ones, or a speed."""
        if self.travel.explicit_time_min is not None:
            return 0.0
        return self.travel.speed_m_per_min(volunteer)

    def _build_model(self) -> None:
        """The OR-Tools model: index manager, transits, dimensions, disjunctions, constraints."""
        places = np.array(self.node_place, dtype=np.int64)
        self.distances = self.travel.distance_m[np.ix_(places, places)]
        depots = np.zeros(self.node_count, dtype=bool)
        depots[self.visit_node_count :] = True
        self.depot_pairs = np.outer(depots, depots)
        self.services = np.array(self.node_service, dtype=np.int64)
        self.manager = pywrapcp.RoutingIndexManager(
            self.node_count,
            len(self.vehicles),
            [self.depot_node[vehicle.start_place] for vehicle in self.vehicles],
            [self.depot_node[vehicle.home_place] for vehicle in self.vehicles],
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self._minutes_by_source: dict[float, np.ndarray] = {}
        for step in (
            self._arc_costs,
            self._time_dimension,
            self._count_dimensions,
            self._weekly_dimension,
            self._nodes_and_disjunctions,
            self._dependencies,
            self._recipient_overlaps,
        ):
            self._check_time()
            step()
        self._check_time()

    def _minutes(self, source: float, volunteer: Volunteer) -> np.ndarray:
        """Travel minutes between the nodes' places for this time source."""
        if source not in self._minutes_by_source:
            full = self.travel.time_matrix(volunteer)
            places = np.array(self.node_place, dtype=np.int64)
            self._minutes_by_source[source] = full[np.ix_(places, places)]
        return self._minutes_by_source[source]

    def _arc_costs(self) -> None:
        """Distance x travel_per_km plus minutes on site x hourly cost (charged on the arc
        leaving a visit), scaled to integers."""
        per_metre = self.weights.travel_per_km / 1000.0
        classes: dict[float, int] = {}
        class_points: list[np.ndarray] = []
        finite_distances = np.where(np.isfinite(self.distances), self.distances, 0.0)
        for vehicle in self.vehicles:
            hourly = self._hourly_cost(vehicle.volunteer)
            if hourly not in classes:
                points = finite_distances * per_metre + self.services[:, None] * hourly / 60.0
                classes[hourly] = len(class_points)
                class_points.append(np.where(self.depot_pairs, 0.0, points))
            vehicle.cost_class = classes[hourly]
        typical = [float(np.median(points[points > 0])) for points in class_points if points.any()]
        reference = min(typical) if typical else 1.0
        scale = 10.0 ** round(math.log10(TARGET_ARC_COST / reference))
        total_penalty = sum(
            self._points(group) * group.team_size * group.facts.need.visits_per_week
            for group in self.groups
        )
        largest_arcs = sum(float(points.max()) for points in class_points) * (self.node_count + 1)
        self.scale = min(scale, MAX_TOTAL_COST / max(1.0, total_penalty + largest_arcs))
        evaluators = [
            self.routing.RegisterTransitMatrix(
                np.rint(points * self.scale).astype(np.int64).tolist()
            )
            for points in class_points
        ]
        if len(evaluators) == 1:
            self.routing.SetArcCostEvaluatorOfAllVehicles(evaluators[0])
        else:
            for vehicle in self.vehicles:
                self.routing.SetArcCostEvaluatorOfVehicle(
                    evaluators[vehicle.cost_class], vehicle.index
                )

    def _trip_limits(self) -> dict[float, float]:
        """Each volunteer's trip limit, rounded down to fewer classes if the matrices would not
        fit (a shorter limit is conservative)."""
        limits = sorted(
            {v.max_trip_distance_m for v in self.problem.volunteers if v.max_trip_distance_m}
        )
        sources = {self._time_source(vehicle.volunteer) for vehicle in self.vehicles}
        room = max(1, MAX_MATRIX_ENTRIES // max(1, self.node_count**2) - 2 * len(sources) - 2)
        allowed = max(1, room // max(1, len(sources)) - 1)
        if len(limits) <= allowed:
            return {limit: limit for limit in limits}
        kept = [limits[round(k * (len(limits) - 1) / max(1, allowed - 1))] for k in range(allowed)]
        return {limit: max(k for k in kept if k <= limit) for limit in limits}

    def _time_dimension(self) -> None:
        """Minutes of the day: visit duration plus travel rounded up; long trips forbidden."""
        rounded = self._trip_limits()
        classes: dict[tuple[float, float], int] = {}
        evaluators: list[int] = []
        for vehicle in self.vehicles:
            limit = vehicle.volunteer.max_trip_distance_m
            limit_class = rounded[limit] if limit else math.inf
            source = self._time_source(vehicle.volunteer)
            key = (source, limit_class)
            if key not in classes:
                minutes = self._minutes(source, vehicle.volunteer)
                transit = _ceil_matrix(minutes, 1, self.impossible) + self.services[:, None]
                if math.isfinite(limit_class):
                    transit = np.where(
                        self.distances > limit_class + 1e-6, self.impossible, transit
                    )
                transit = np.where(self.depot_pairs, 0, np.minimum(transit, self.impossible))
                classes[key] = len(evaluators)
                evaluators.append(self.routing.RegisterTransitMatrix(transit.tolist()))
            vehicle.time_class = classes[key]
        self.routing.AddDimensionWithVehicleTransits(
            [evaluators[vehicle.time_class] for vehicle in self.vehicles],
            self.day_length,
            self.day_length,
            False,
            "time",
        )
        self.time = self.routing.GetDimensionOrDie("time")
        for vehicle in self.vehicles:
            opens, closes = vehicle.windows[0][0], max(end for _, end in vehicle.windows)
            self.time.CumulVar(self.routing.Start(vehicle.index)).SetRange(opens, closes)
            self.time.CumulVar(self.routing.End(vehicle.index)).SetRange(opens, closes)

    def _count_dimensions(self) -> None:
        """Visits a day and load a day, when anyone has a limit."""
        vehicles = self.vehicles
        if any(vehicle.volunteer.max_visits_per_day is not None for vehicle in vehicles):
            ones = [1] * self.visit_node_count + [0] * (self.node_count - self.visit_node_count)
            self.routing.AddDimensionWithVehicleCapacity(
                self.routing.RegisterUnaryTransitVector(ones),
                0,
                [
                    vehicle.volunteer.max_visits_per_day
                    if vehicle.volunteer.max_visits_per_day is not None
                    else self.node_count
                    for vehicle in vehicles
                ],
                True,
                "visits",
            )
        loads = [self.groups[group].facts.need.load for group in self.node_group]
        if any(vehicle.volunteer.capacity is not None for vehicle in vehicles) and any(loads):
            total = sum(loads)
            self.routing.AddDimensionWithVehicleCapacity(
                self.routing.RegisterUnaryTransitVector(
                    loads + [0] * (self.node_count - self.visit_node_count)
                ),
                0,
                [
                    vehicle.volunteer.capacity if vehicle.volunteer.capacity is not None else total
                    for vehicle in vehicles
                ],
                True,
                "load",
            )

    def _weekly_dimension(self) -> None:
        """Centi-minutes of visiting and travel per day, summed over a volunteer's week."""
        capped = [v for v in self.vehicles if v.volunteer.max_minutes_per_week is not None]
        if not capped or self.settings.weekly_caps != "model":
            return
        unbounded = WORK_UNITS_PER_MIN * self.day_length * (self.node_count + 1)
        classes: dict[float, int] = {}
        evaluators: list[int] = []
        for vehicle in self.vehicles:
            source = self._time_source(vehicle.volunteer)
            if source not in classes:
                minutes = self._minutes(source, vehicle.volunteer)
                work = _ceil_matrix(minutes, WORK_UNITS_PER_MIN, self.impossible * 100)
                work = work + WORK_UNITS_PER_MIN * self.services[:, None]
                classes[source] = len(evaluators)
                evaluators.append(
                    self.routing.RegisterTransitMatrix(np.where(self.depot_pairs, 0, work).tolist())
                )
        capacities = [
            WORK_UNITS_PER_MIN * vehicle.volunteer.max_minutes_per_week
            if vehicle.volunteer.max_minutes_per_week is not None
            else unbounded
            for vehicle in self.vehicles
        ]
        self.routing.AddDimensionWithVehicleTransitAndCapacity(
            [
                evaluators[classes[self._time_source(vehicle.volunteer)]]
                for vehicle in self.vehicles
            ],
            0,
            capacities,
            True,
            "work",
        )
        work_dimension = self.routing.GetDimensionOrDie("work")
        by_volunteer: dict[str, list[int]] = defaultdict(list)
        for vehicle in capped:
            by_volunteer[vehicle.volunteer.id].append(vehicle.index)
        solver = self.routing.solver()
        for volunteer_id, indices in by_volunteer.items():
            if len(indices) < 2:
                continue
            cap = self.problem.volunteer_by_id[volunteer_id].max_minutes_per_week
            assert cap is not None
            ends = [work_dimension.CumulVar(self.routing.End(index)) for index in indices]
            solver.Add(solver.Sum(ends) <= WORK_UNITS_PER_MIN * cap)

    def _index(self, node: int) -> int:
        return int(self.manager.NodeToIndex(node))

    def _nodes_and_disjunctions(self) -> None:
        """Start domains, allowed vehicles, lateness, team ties, coverage disjunctions, gaps."""
        routing, solver = self.routing, self.routing.solver()
        lateness_cost = round(
            (self.weights.lateness_per_min + self.weights.max_lateness_per_min) * self.scale
        )
        by_need: dict[str, list[_Group]] = defaultdict(list)
        for group in self.groups:
            domain = group.domain
            lead = self._index(group.nodes[0])
            for node in group.nodes:
                index = self._index(node)
                cumul = self.time.CumulVar(index)
                cumul.SetRange(domain[0][0], domain[-1][1])
                for (_, high), (low, _) in itertools.pairwise(domain):
                    cumul.RemoveInterval(high + 1, low - 1)
                routing.VehicleVar(index).SetValues([-1, *sorted(group.starts)])
                self._vehicle_specific_starts(group, index, domain)
                if node != group.nodes[0]:
                    self.time.AddNodePrecedence(lead, index, 0)
                    self.time.AddNodePrecedence(index, lead, 0)
                    solver.Add(routing.ActiveVar(index) == routing.ActiveVar(lead))
                    if not group.pinned_volunteers:
                        routing.AddDisjunction([index], TEAM_MEMBER_PENALTY)
            if group.pinned_volunteers:
                for node, volunteer in zip(group.nodes, group.pinned_volunteers, strict=True):
                    vehicle = self.vehicle_of[(volunteer, group.day)]
                    routing.VehicleVar(self._index(node)).SetValues([-1, vehicle])
                continue
            if group.due is not None and lateness_cost > 0:
                self.time.SetCumulVarSoftUpperBound(lead, group.due, lateness_cost)
            by_need[group.facts.need.id].append(group)
        for need_id, groups in sorted(by_need.items()):
            need = self.facts[need_id].need
            wanted = min(need.visits_per_week - self.pinned_count[need_id], len(groups))
            penalty = round(self._points(groups[0]) * self.scale)
            routing.AddDisjunction(
                [self._index(group.nodes[0]) for group in groups],
                max(1, penalty),
                wanted,
                routing.PENALIZE_PER_INACTIVE,
            )
            if need.min_gap_days > 1:
                for first in groups:
                    for second in groups:
                        if 0 < second.day - first.day < need.min_gap_days:
                            solver.Add(
                                routing.ActiveVar(self._index(first.nodes[0]))
                                + routing.ActiveVar(self._index(second.nodes[0]))
                                <= 1
                            )

    def _vehicle_specific_starts(self, group: _Group, index: int, domain: Intervals) -> None:
        """Forbid, for a vehicle with several windows, the starts only other vehicles allow."""
        routing, solver = self.routing, self.routing.solver()
        for vehicle_index, allowed in group.starts.items():
            if self.vehicles[vehicle_index].single_window or group.pinned_volunteers:
                continue
            outside = _subtract(domain, allowed)
            if not outside:
                continue
            on_vehicle = solver.IsEqualCstVar(routing.VehicleVar(index), vehicle_index)
            cumul = self.time.CumulVar(index)
            for low, high in outside:
                solver.Add(solver.IsBetweenVar(cumul, low, high) + on_vehicle <= 1)

    def _dependencies(self) -> None:
        """Linked visits: performed together, at the right gap, by different volunteers (each
        linked node gets its own visit type; linked types may not share a route)."""
        routing, solver = self.routing, self.routing.solver()
        type_of: dict[int, int] = {}

        def visit_type(index: int) -> int:
            if index not in type_of:
                type_of[index] = len(type_of)
                routing.SetVisitType(index, type_of[index], routing.TYPE_ADDED_TO_VEHICLE)
            return type_of[index]

        for dependency in self.problem.dependencies:
            low, high = dependency.gap_range
            for day in range(len(WEEKDAYS)):
                first = self.group_of.get((dependency.first, day))
                second = self.group_of.get((dependency.second, day))
                if first is None or second is None:
                    continue
                first_index = self._index(first.nodes[0])
                second_index = self._index(second.nodes[0])
                self.time.AddNodePrecedence(first_index, second_index, int(low))
                if math.isfinite(high):
                    self.time.AddNodePrecedence(second_index, first_index, -int(high))
                solver.Add(routing.ActiveVar(first_index) == routing.ActiveVar(second_index))
                for node_a in first.nodes:
                    for node_b in second.nodes:
                        routing.AddHardTypeIncompatibility(
                            visit_type(self._index(node_a)), visit_type(self._index(node_b))
                        )

    def _recipient_overlaps(self) -> None:
        """Two visits of one recipient on one day (not linked) never overlap."""
        routing, solver = self.routing, self.routing.solver()
        by_recipient_day: dict[tuple[str, int], list[_Group]] = defaultdict(list)
        for group in self.groups:
            by_recipient_day[(group.facts.recipient.id, group.day)].append(group)
        for groups in by_recipient_day.values():
            for position, first in enumerate(groups):
                for second in groups[position + 1 :]:
                    pair = frozenset((first.facts.need.id, second.facts.need.id))
                    if pair in self.linked:
                        continue
                    a, b = self._index(first.nodes[0]), self._index(second.nodes[0])
                    a_cumul, b_cumul = self.time.CumulVar(a), self.time.CumulVar(b)
                    a_first = solver.IsLessOrEqualVar(a_cumul + first.facts.duration, b_cumul)
                    b_first = solver.IsLessOrEqualVar(b_cumul + second.facts.duration, a_cumul)
                    solver.Add(a_first + b_first >= routing.ActiveVar(a) + routing.ActiveVar(b) - 1)

    # ------------------------------------------------------------------ search

    def search_parameters(self, time_limit_s: float) -> Any:
        """OR-Tools search parameters from the settings and the time left."""
        settings = self.settings
        parameters = pywrapcp.DefaultRoutingSearchParameters()
        parameters.first_solution_strategy = getattr(
            routing_enums_pb2.FirstSolutionStrategy, settings.first_solution_strategy
        )
        parameters.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, settings.local_search_metaheuristic
        )
        parameters.guided_local_search_lambda_coefficient = settings.guided_local_search_lambda
        for operator in settings.extra_operators:
            setattr(parameters.local_search_operators, operator, optional_boolean_pb2.BOOL_TRUE)
        parameters.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
        if settings.solution_limit is not None:
            parameters.solution_limit = settings.solution_limit
        parameters.log_search = settings.log_search
        return parameters

    def _warm_placements(self, plan: Plan) -> list[list[tuple[_Group, list[tuple[int, int]]]]]:
        """The plan's visits the model has, as units of groups that must come together (linked
        by dependencies), each group with its (vehicle, start) per member."""
        placed: dict[int, list[tuple[int, int]]] = {}
        for visit in plan.visits:
            group = self.group_of.get((visit.need, WEEKDAYS.index(visit.day)))
            if group is None or group.index in placed or len(visit.volunteers) != len(group.nodes):
                continue
            vehicles = [
                self.vehicle_of.get((volunteer, group.day)) for volunteer in visit.volunteers
            ]
            if all(vehicle is not None and vehicle in group.starts for vehicle in vehicles):
                placed[group.index] = [
                    (vehicle, visit.start) for vehicle in vehicles if vehicle is not None
                ]
        partners: dict[int, set[int]] = defaultdict(set)
        for dependency in self.problem.dependencies:
            for day in range(len(WEEKDAYS)):
                first = self.group_of.get((dependency.first, day))
                second = self.group_of.get((dependency.second, day))
                if first is not None and second is not None:
                    partners[first.index].add(second.index)
                    partners[second.index].add(first.index)
        units: list[list[tuple[_Group, list[tuple[int, int]]]]] = []
        seen: set[int] = set()
        for index in sorted(placed, key=lambda index: not self.groups[index].pinned_volunteers):
            if index in seen:
                continue
            unit, stack = [], [index]
            seen.add(index)
            while stack:
                current = stack.pop()
                unit.append(current)
                for other in partners[current] - seen:
                    seen.add(other)
                    stack.append(other)
            if all(member in placed for member in unit):
                units.append([(self.groups[member], placed[member]) for member in unit])
        return units

    def _routes_of(
        self, units: list[list[tuple[_Group, list[tuple[int, int]]]]]
    ) -> list[list[int]]:
        """Routes of node indices, each vehicle's visits in start order."""
        routes: list[list[tuple[int, int]]] = [[] for _ in self.vehicles]
        for unit in units:
            for group, members in unit:
                for node, (vehicle, start) in zip(group.nodes, members, strict=True):
                    routes[vehicle].append((start, self._index(node)))
        return [[index for _, index in sorted(route)] for route in routes]

    def initial_assignment(self, plan: Plan, deadline: float) -> tuple[Any, str]:
        """The plan as a first solution: all of it if the model accepts it, else the largest
        part found by adding its visits one unit at a time (until the deadline)."""
        units = self._warm_placements(plan)
        assignment = self.routing.ReadAssignmentFromRoutes(self._routes_of(units), True)
        if assignment is not None:
            return assignment, f"all {len(units)}"
        kept: list[list[tuple[_Group, list[tuple[int, int]]]]] = []
        assignment = None
        for unit in units:
            if time.perf_counter() > deadline:
                break
            trial = self.routing.ReadAssignmentFromRoutes(self._routes_of([*kept, unit]), True)
            if trial is not None:
                kept.append(unit)
                assignment = trial
        return assignment, f"{len(kept)} of {len(units)}"

    def search(
        self, time_limit_s: float, warm_start: Plan | None
    ) -> tuple[list[_Routed] | None, str]:
        """Run the routing search from the cheapest first solution (of the warm start, the
        configured strategy and the portfolio) and, when that is not the warm start, from the
        warm start too, the time split between them; the better result's performed groups with
        vehicles and starts, or None when no solution was found."""
        began = time.perf_counter()
        if not self.vehicles or not self.groups:
            return [], "EMPTY"
        parameters = self.search_parameters(time_limit_s)
        self.routing.CloseModelWithParameters(parameters)
        starts: list[tuple[float, str, list[list[int]]]] = []
        if warm_start is not None:
            deadline = began + 0.2 * time_limit_s
            initial, self.warm_start_used = self.initial_assignment(warm_start, deadline)
            if initial is not None:
                starts.append((initial.ObjectiveValue(), "warm start", self._routes(initial)))
        strategies = [self.settings.first_solution_strategy]
        strategies += [
            name for name in self.settings.first_solution_portfolio if name not in strategies
        ]
        share = self.settings.portfolio_time_share * time_limit_s / len(strategies)
        for strategy in strategies:
            first = self.search_parameters(share)
            first.first_solution_strategy = getattr(
                routing_enums_pb2.FirstSolutionStrategy, strategy
            )
            first.solution_limit = 1
            solution = self.routing.SolveWithParameters(first)
            if solution is not None:
                starts.append((solution.ObjectiveValue(), strategy, self._routes(solution)))
        if not starts:
            remaining = max(0.05, time_limit_s - (time.perf_counter() - began))
            parameters.time_limit.FromMilliseconds(max(1, int(remaining * 1000)))
            return self._extract(self.routing.SolveWithParameters(parameters))
        chosen = [min(starts, key=lambda start: start[0])]
        if starts[0][1] == "warm start" and chosen[0] is not starts[0]:
            chosen.append(starts[0])
        best: tuple[float, str, list[_Routed] | None, str] | None = None
        for number, (_, name, routes) in enumerate(chosen):
            left = time_limit_s - (time.perf_counter() - began)
            parameters.time_limit.FromMilliseconds(
                max(1, int(max(0.05, left / (len(chosen) - number)) * 1000))
            )
            initial = self.routing.ReadAssignmentFromRoutes(routes, True)
            solution = self.routing.SolveFromAssignmentWithParameters(initial, parameters)
            if solution is not None and (best is None or solution.ObjectiveValue() < best[0]):
                best = (solution.ObjectiveValue(), name, *self._extract(solution))
        if best is None:
            return None, str(self.routing.status())
        objective, self.first_solution, routed, status = best
        self.search_objective = objective / self.scale
        return routed, status

    def _routes(self, solution: Any) -> list[list[int]]:
        """The node indices of each vehicle's route in a solution (copied: OR-Tools reuses
        the solution's memory on the next solve)."""
        routes: list[list[int]] = []
        for vehicle in self.vehicles:
            route: list[int] = []
            index = solution.Value(self.routing.NextVar(self.routing.Start(vehicle.index)))
            while not self.routing.IsEnd(index):
                route.append(int(index))
                index = solution.Value(self.routing.NextVar(index))
            routes.append(route)
        return routes

    def _extract(self, solution: Any) -> tuple[list[_Routed] | None, str]:
        """The performed groups of a routing solution with their vehicles and starts."""
        status = str(self.routing.status())
        if solution is None:
            return None, status
        self.search_objective = solution.ObjectiveValue() / self.scale
        vehicle_of_node: dict[int, int] = {}
        start_of_node: dict[int, int] = {}
        for vehicle in self.vehicles:
            index = solution.Value(self.routing.NextVar(self.routing.Start(vehicle.index)))
            while not self.routing.IsEnd(index):
                node = int(self.manager.IndexToNode(index))
                vehicle_of_node[node] = vehicle.index
                start_of_node[node] = int(solution.Min(self.time.CumulVar(index)))
                index = solution.Value(self.routing.NextVar(index))
        routed: list[_Routed] = []
        for group in self.groups:
            if not all(node in vehicle_of_node for node in group.nodes):
                continue
            routed.append(
                _Routed(
                    group=group,
                    vehicles=[vehicle_of_node[node] for node in group.nodes],
                    start=start_of_node[group.nodes[0]],
                )
            )
        return routed, status


def _subtract(domain: Intervals, allowed: Intervals) -> Intervals:
    """The parts of `domain` outside `allowed` (closed integer intervals)."""
    result: Intervals = []
    for low, high in domain:
        cursor = low
        for allowed_low, allowed_high in allowed:
            if allowed_high < cursor or allowed_low > high:
                continue
            if allowed_low > cursor:
                result.append((cursor, allowed_low - 1))
            cursor = max(cursor, allowed_high + 1)
        if cursor <= high:
            result.append((cursor, high))
    return result


class _Finisher:
    """The exact timing of the routes found, in CP-SAT (optionally dropping visits)."""

    def __init__(self, builder: _RoutingBuilder, routed: list[_Routed], allow_drops: bool) -> None:
        self.builder = builder
        self.routed = routed
        self.allow_drops = allow_drops

    def solve(self, time_limit_s: float, seed: int) -> tuple[list[_Routed], str]:
        """Time the routes (or drop visits to meet weekly caps); the routing times if CP-SAT
        finds nothing in time."""
        if not self.routed:
            return [], "EMPTY"
        builder = self.builder
        model = cp_model.CpModel()
        present: list[cp_model.IntVar] = []
        starts: list[cp_model.IntVar] = []
        late: list[cp_model.IntVar] = []
        for position, item in enumerate(self.routed):
            group = item.group
            domain: Intervals | None = None
            for vehicle in item.vehicles:
                allowed = group.starts[vehicle]
                domain = allowed if domain is None else intersect(domain, allowed)
            spans = domain or [(item.start, item.start)]
            start = model.new_int_var_from_domain(
                cp_model.Domain.from_intervals([[low, high] for low, high in spans]),
                f"start_{position}",
            )
            starts.append(start)
            model.add_hint(start, item.start)
            if self.allow_drops and not group.pinned_volunteers:
                literal = model.new_bool_var(f"present_{position}")
                model.add_hint(literal, True)
            else:
                literal = model.new_constant(1)
            present.append(literal)
            if group.due is not None:
                allowance = self.builder.day_length
                lateness = model.new_int_var(0, allowance, f"late_{position}")
                model.add(lateness >= start - group.due).only_enforce_if(literal)
                late.append(lateness)
        self._dependencies(model, present, starts)
        self._recipient_overlaps(model, present, starts)
        leg_points = self._routes(model, present, starts)
        weights = builder.weights
        coverage = sum(
            round(builder._points(item.group) * FINISH_POINT_SCALE) * literal
            for item, literal in zip(self.routed, present, strict=True)
            if self.allow_drops
        )
        largest_late = model.new_int_var(0, builder.day_length, "largest_late")
        for lateness in late:
            model.add(largest_late >= lateness)
        cost = (
            round(weights.lateness_per_min * FINISH_POINT_SCALE) * sum(late)
            + round(weights.max_lateness_per_min * FINISH_POINT_SCALE) * largest_late
            + leg_points
        )
        model.maximize(coverage - cost)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        solver.parameters.max_time_in_seconds = max(0.01, 0.7 * time_limit_s)
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return self.routed, f"routing ({solver.status_name(status)})"
        first_status = solver.status_name(status)
        values = [solver.value(start) for start in starts]
        kept = [bool(solver.value(literal)) for literal in present]
        model.clear_hints()  # type: ignore[no-untyped-call]
        for start, value in zip(starts, values, strict=True):
            model.add_hint(start, value)
        for literal, keep in zip(present, kept, strict=True):
            model.add(literal == int(keep))
        model.add(coverage - cost >= round(solver.objective_value))
        model.minimize(sum(starts))
        second = cp_model.CpSolver()
        second.parameters.num_workers = 1
        second.parameters.random_seed = seed
        second.parameters.max_time_in_seconds = max(0.01, 0.3 * time_limit_s)
        second_status = second.solve(model)
        if second_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = [second.value(start) for start in starts]
        result = [
            _Routed(group=item.group, vehicles=item.vehicles, start=value)
            for item, value, keep in zip(self.routed, values, kept, strict=True)
            if keep
        ]
        return result, f"{first_status}/{second.status_name(second_status)}"

    def _routes(
        self, model: cp_model.CpModel, present: list[Any], starts: list[cp_model.IntVar]
    ) -> Any:
        """Each vehicle's visits in the routing order with travel between them, and the weekly
        minutes of capped volunteers when visits may drop; returns the legs' travel points
        (constant when no visit drops)."""
        builder = self.builder
        travel = builder.travel
        per_vehicle: dict[int, list[int]] = defaultdict(list)
        for position, item in enumerate(self.routed):
            for vehicle in item.vehicles:
                per_vehicle[vehicle].append(position)
        week_terms: dict[str, list[Any]] = defaultdict(list)
        leg_points: list[Any] = []
        per_metre = builder.weights.travel_per_km / 1000.0
        for vehicle_index, positions in sorted(per_vehicle.items()):
            route_vehicle = builder.vehicles[vehicle_index]
            volunteer = route_vehicle.volunteer
            positions.sort(key=lambda position: self.routed[position].start)
            minutes = travel.time_matrix(volunteer)
            facts = [self.routed[position].group.facts for position in positions]
            places = [
                route_vehicle.start_place,
                *(need.place for need in facts),
                route_vehicle.home_place,
            ]
            count = len(positions)
            capped = volunteer.max_minutes_per_week is not None
            for first in range(count + 1):
                for last in range(first + 1, count + 2):
                    if last != first + 1 and not self.allow_drops:
                        continue
                    leg = self._leg(model, present, positions, first, last)
                    origin, destination = places[first], places[last]
                    gap = ceil_minutes(float(minutes[origin, destination]))
                    constraint = None
                    if first > 0 and last <= count:
                        constraint = model.add(
                            starts[positions[last - 1]]
                            >= starts[positions[first - 1]] + facts[first - 1].duration + gap
                        )
                    elif first == 0 and last <= count and route_vehicle.single_window:
                        constraint = model.add(
                            starts[positions[last - 1]] >= route_vehicle.windows[0][0] + gap
                        )
                    elif first > 0 and last == count + 1 and route_vehicle.single_window:
                        constraint = model.add(
                            starts[positions[first - 1]] + facts[first - 1].duration + gap
                            <= route_vehicle.windows[0][1]
                        )
                    if leg is None:
                        continue
                    if constraint is not None:
                        constraint.only_enforce_if(leg)
                    if first == 0 and last == count + 1:
                        continue
                    metres = float(travel.distance_m[origin, destination])
                    if math.isfinite(metres):
                        leg_points.append(round(metres * per_metre * FINISH_POINT_SCALE) * leg)
                    if capped:
                        leg_minutes = float(minutes[origin, destination])
                        units = math.ceil(leg_minutes * FINISH_UNITS_PER_MIN - 1e-6)
                        week_terms[volunteer.id].append(units * leg)
            if capped and self.allow_drops:
                for position, need in zip(positions, facts, strict=True):
                    week_terms[volunteer.id].append(
                        need.duration * FINISH_UNITS_PER_MIN * present[position]
                    )
        for volunteer_id, terms in week_terms.items():
            cap = builder.problem.volunteer_by_id[volunteer_id].max_minutes_per_week
            assert cap is not None
            model.add(sum(terms) <= cap * FINISH_UNITS_PER_MIN)
        return sum(leg_points)

    def _leg(
        self,
        model: cp_model.CpModel,
        present: list[Any],
        positions: list[int],
        first: int,
        last: int,
    ) -> Any:
        """Whether the route goes straight from stop `first` to stop `last` (0 is the start
        place, len + 1 home): both present and every stop between dropped. None when no visit
        may drop (every consecutive leg is then taken)."""
        if not self.allow_drops:
            return None
        ends = [
            present[positions[stop - 1]] for stop in (first, last) if 0 < stop <= len(positions)
        ]
        skipped = [present[positions[stop - 1]] for stop in range(first + 1, last)]
        leg = model.new_bool_var(f"leg_{positions[0]}_{first}_{last}")
        for literal in ends:
            model.add_implication(leg, literal)
        for literal in skipped:
            model.add_implication(leg, literal.Not())
        model.add_bool_or([leg, *(literal.Not() for literal in ends), *skipped])
        return leg

    def _dependencies(
        self, model: cp_model.CpModel, present: list[Any], starts: list[cp_model.IntVar]
    ) -> None:
        """Team members share the group's start; linked visits keep their gap and go together."""
        position_of = {id(item.group): position for position, item in enumerate(self.routed)}
        for dependency in self.builder.problem.dependencies:
            low, high = dependency.gap_range
            for day in range(len(WEEKDAYS)):
                first = self.builder.group_of.get((dependency.first, day))
                second = self.builder.group_of.get((dependency.second, day))
                if first is None or second is None:
                    continue
                a, b = position_of.get(id(first)), position_of.get(id(second))
                if a is None or b is None:
                    continue
                model.add(present[a] == present[b])
                model.add(starts[b] - starts[a] >= int(low)).only_enforce_if(present[a])
                if math.isfinite(high):
                    model.add(starts[b] - starts[a] <= int(high)).only_enforce_if(present[a])

    def _recipient_overlaps(
        self, model: cp_model.CpModel, present: list[Any], starts: list[cp_model.IntVar]
    ) -> None:
        """A recipient's visits on one day do not overlap, except linked ones."""
        by_recipient_day: dict[tuple[str, int], list[int]] = defaultdict(list)
        for position, item in enumerate(self.routed):
            group = item.group
            by_recipient_day[(group.facts.recipient.id, group.day)].append(position)
        for positions in by_recipient_day.values():
            for index, a in enumerate(positions):
                for b in positions[index + 1 :]:
                    group_a, group_b = self.routed[a].group, self.routed[b].group
                    pair = frozenset((group_a.facts.need.id, group_b.facts.need.id))
                    if pair in self.builder.linked:
                        continue
                    a_first = model.new_bool_var(f"order_{a}_{b}")
                    model.add(starts[a] + group_a.facts.duration <= starts[b]).only_enforce_if(
                        a_first, present[a], present[b]
                    )
                    model.add(starts[b] + group_b.facts.duration <= starts[a]).only_enforce_if(
                        a_first.Not(), present[a], present[b]
                    )


def _visits(problem: Problem, builder: _RoutingBuilder, placed: list[_Routed]) -> list[Visit]:
    """Plan visits, numbered 1, 2, ... in day order within each need, sorted by time."""
    by_need: dict[str, list[_Routed]] = defaultdict(list)
    for item in placed:
        by_need[item.group.facts.need.id].append(item)
    visits: list[Visit] = []
    for need_id, items in by_need.items():
        facts = builder.facts[need_id]
        items.sort(key=lambda item: (item.group.day, item.start))
        for occurrence, item in enumerate(items, start=1):
            day = WEEKDAYS[item.group.day]
            visits.append(
                Visit(
                    need=need_id,
                    recipient=facts.recipient.id,
                    service=facts.service.id,
                    occurrence=occurrence,
                    day=day,
                    date=problem.date_of(day),
                    start=item.start,
                    end=item.start + facts.duration,
                    volunteers=sorted(
                        builder.vehicles[vehicle].volunteer.id for vehicle in item.vehicles
                    ),
                )
            )
    visits.sort(key=lambda visit: (WEEKDAYS.index(visit.day), visit.start, visit.need))
    return visits


def _unassigned(
    problem: Problem, travel: TravelModel, builder: _RoutingBuilder, visits: list[Visit]
) -> list[UnassignedVisit]:
    """Every occurrence not in the plan with its computed reason (`unplanned_occurrences`);
    those of team needs the model left out say so."""
    left_out = f"{REASON_MESSAGES['not_planned']} {NOT_MODELLED_TEAM}"
    return [
        item.model_copy(update={"reason": "not_planned", "message": left_out})
        if item.need in builder.left_out_teams
        else item
        for item in unplanned_occurrences(problem, travel, builder.facts, visits)
    ]


__all__ = ["RoutingParameters", "solve_routing"]


class RoutingSolver:
    """`routing` behind the solver protocol (`matcher.solvers.base.Solver`)."""

    name = "routing"
    parameters_type = RoutingParameters

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

        assert isinstance(parameters, RoutingParameters)
        plan = solve_routing(
            problem,
            travel,
            seed=seed,
            time_limit_s=time_limit_s,
            parameters=parameters,
            warm_start=warm_start,
        )
        return reassemble(problem, travel, plan, parameters, language)
