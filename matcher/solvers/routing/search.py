"""The routing search: parameters, the warm start as first routes, the first-solution
portfolio, the local search (stopped early once coverage meets the bound), and the groups a
solution performs."""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from matcher.models import WEEKDAYS, Plan, Visit
from matcher.solvers.base import SolveRequest, meets_bound
from matcher.solvers.bounds import BackgroundBound
from matcher.solvers.routing.builder import Group, Network, Routed
from matcher.solvers.routing.dimensions import RouteModel
from matcher.solvers.routing.parameters import RoutingParameters

if TYPE_CHECKING:
    from matcher.checker import Violation

WARM_START_REPAIR_ROUNDS = 8
"""Rounds of the checker over a warm start the model refuses (each drops what it names)."""
Unit = list[tuple[Group, list[tuple[int, int]]]]
"""Groups that must come together (linked by dependencies), each with (vehicle, start) per
member."""


@dataclass
class Start:
    """A solution the search may start from (or return): its routing objective, where it came
    from, a copy of its assignment (OR-Tools reuses a solution's memory on the next solve, and
    reading routes again may meet the limit of an earlier search) and its performed groups."""

    objective: float
    name: str
    assignment: Any
    routed: list[Routed]


def _routed(units: list[Unit]) -> list[Routed]:
    """The groups of these units on their vehicles at their starts."""
    return [
        Routed(group=group, vehicles=[vehicle for vehicle, _ in members], start=members[0][1])
        for unit in units
        for group, members in unit
    ]


def status_name(code: int) -> str:
    """The name of a routing search status."""
    return str(routing_enums_pb2.RoutingSearchStatus.Value.Name(code))


@dataclass
class SearchReport:
    """What the search did, for the plan's statistics."""

    warm_start_used: str = "none"
    first_solutions: dict[str, float | None] = field(default_factory=dict)
    """First solution (strategy or "warm start") -> its routing objective, None: none found."""
    first_solution: str = "none"
    """The first solution the returned search started from."""
    search_objective: float | None = None
    solutions: int = 0
    stopped_by: str = "time limit"
    """"time limit", "coverage met the bound", "solution limit" or "nothing to plan"."""
    bound_met_at: float | None = None
    """When (a perf_counter time) a solution's coverage met the bound, if it did."""


class Search:
    """The OR-Tools search of one routing model."""

    def __init__(
        self,
        model: RouteModel,
        settings: RoutingParameters,
        bound: BackgroundBound | None,
        request: SolveRequest | None = None,
    ) -> None:
        self.model = model
        self.network: Network = model.network
        self.routing = model.routing
        self.settings = settings
        self.bound = bound
        self.report = SearchReport()
        self._best_cost: int | None = None
        self._best_coverage = 0.0
        self.repeatable = settings.solution_limit is not None
        """With a solution limit the run repeats: no stop on the bound (a thread's timing)."""
        self._bound_met_at: float | None = None
        self._phase_began = time.perf_counter()
        self._lead_indices = [
            (model.index(group.nodes[0]), group.facts.priority) for group in self.network.groups
        ]
        self.request = request
        """Whose caller may ask the search to stop (`SolveRequest.stop_requested`)."""
        self.routing.AddAtSolutionCallback(self._at_solution)

    def _stop_requested(self) -> bool:
        return self.request is not None and self.request.stop_requested()

    def _solve(self, parameters: Any, start: Any = None) -> Any:
        """One OR-Tools search (from `start` when given), cancelled once the caller asks to
        stop; none at all when they already have."""
        if self._stop_requested():
            return start
        request = self.request
        with request.watch(self.routing.CancelSearch) if request is not None else nullcontext():
            if start is None:
                return self.routing.SolveWithParameters(parameters)
            return self.routing.SolveFromAssignmentWithParameters(start, parameters)

    def _coverage(self) -> float:
        """Weighted coverage of the solution being reported (inside a solution callback)."""
        routing = self.routing
        return sum(
            priority
            for index, priority in self._lead_indices
            if routing.NextVar(index).Value() != index
        )

    def _at_solution(self) -> None:
        """Note a better solution and its coverage and, once the bound is known, whether the
        best coverage meets it; stop the search once it has for `polish_after_bound_s` of this
        phase (checked here, at each solution: a search limit would be asked at every move)."""
        self.report.solutions += 1
        cost = int(self.routing.CostVar().Value())
        if self._best_cost is None or cost < self._best_cost:
            self._best_cost = cost
            self._best_coverage = self._coverage()
        if self._bound_met_at is None and self.bound is not None and not self.repeatable:
            bound = self.bound.ready()
            if bound is not None and meets_bound(self._best_coverage, bound):
                self._bound_met_at = self.report.bound_met_at = time.perf_counter()
        if self._bound_met_at is None:
            return
        since = max(self._bound_met_at, self._phase_began)
        if time.perf_counter() - since >= self.settings.polish_after_bound_s:
            self.routing.solver().FinishCurrentSearch()

    def parameters(self, time_limit_s: float) -> Any:
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

    # ------------------------------------------------------------------ the warm start

    def warm_placements(self, plan: Plan) -> list[Unit]:
        """The plan's visits the model has, as units of groups that must come together, each
        visit's members on the vehicle of the outing that holds it."""
        network = self.network
        placed: dict[int, list[tuple[int, int]]] = {}
        for visit in plan.visits:
            group = network.group_of.get((visit.need, WEEKDAYS.index(visit.day)))
            if group is None or group.index in placed or len(visit.volunteers) != len(group.nodes):
                continue
            vehicles = [
                network.vehicle_for(volunteer, group.day, visit.start, visit.end)
                for volunteer in visit.volunteers
            ]
            if all(vehicle is not None and vehicle in group.starts for vehicle in vehicles):
                placed[group.index] = [
                    (vehicle, visit.start) for vehicle in vehicles if vehicle is not None
                ]
        partners: dict[int, set[int]] = defaultdict(set)
        for first, second, _ in network.partners():
            partners[first.index].add(second.index)
            partners[second.index].add(first.index)
        units: list[Unit] = []
        seen: set[int] = set()
        for index in sorted(placed, key=lambda index: not network.groups[index].pinned_volunteers):
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
                units.append([(network.groups[member], placed[member]) for member in unit])
        return units

    def routes_of(self, units: list[Unit]) -> list[list[int]]:
        """Routes of node indices, each vehicle's visits in start order."""
        routes: list[list[tuple[int, int]]] = [[] for _ in self.network.vehicles]
        for unit in units:
            for group, members in unit:
                for node, (vehicle, start) in zip(group.nodes, members, strict=True):
                    routes[vehicle].append((start, self.model.index(node)))
        return [[index for _, index in sorted(route)] for route in routes]

    def initial_assignment(self, plan: Plan, deadline: float) -> tuple[Any, list[Unit]]:
        """The plan as a first solution: all of it if the model accepts it; else without the
        visits the checker finds breaking a rule (a plan made under other rules); else the
        largest part found by adding it a volunteer at a time, then a unit at a time within a
        volunteer the model refuses (until the deadline)."""
        units = self.warm_placements(plan)
        assignment = self._read(units)
        if assignment is not None:
            self.report.warm_start_used = f"all {len(units)}"
            return assignment, units
        kept = self._without_broken(plan, units, deadline)
        assignment = self._read(kept) if len(kept) < len(units) else None
        if assignment is None:
            kept, _ = self._grown(units, deadline)
            assignment = self._read(kept) if kept else None
        self.report.warm_start_used = f"{len(kept)} of {len(units)}"
        return assignment, kept

    def _read(self, units: list[Unit]) -> Any:
        """The assignment of these units' routes, or None when the model refuses it."""
        return self.routing.ReadAssignmentFromRoutes(self.routes_of(units), True)

    def _without_broken(self, plan: Plan, units: list[Unit], deadline: float) -> list[Unit]:
        """The units left once the visits the checker finds breaking a rule are dropped: the
        visit a violation names, else the least valuable visit of the volunteer (and day) it
        names, checked again until nothing is named (a few rounds, until the deadline)."""
        from matcher.checker import check_plan

        network = self.network
        visits = list(plan.visits)
        for _ in range(WARM_START_REPAIR_ROUNDS):
            if time.perf_counter() > deadline:
                break
            checked = Plan(visits=visits, unassigned=plan.unassigned)
            report = check_plan(network.problem, checked, network.travel)
            victims = {
                victim
                for violation in report.violations
                if violation.rule != "mandatory_missing"
                and (victim := self._victim(visits, violation)) is not None
            }
            if not victims:
                break
            visits = [visit for position, visit in enumerate(visits) if position not in victims]
        kept = {
            group.index
            for visit in visits
            if (group := network.group_of.get((visit.need, WEEKDAYS.index(visit.day)))) is not None
        }
        return [unit for unit in units if all(group.index in kept for group, _ in unit)]

    def _victim(self, visits: list[Visit], violation: Violation) -> int | None:
        """The position of the visit a violation names, else of the least valuable visit of
        the volunteer (on the day) it names."""
        if violation.need is not None and violation.occurrence is not None:
            return next(
                (
                    position
                    for position, visit in enumerate(visits)
                    if (visit.need, visit.occurrence) == (violation.need, violation.occurrence)
                ),
                None,
            )
        if violation.volunteer is None:
            return None
        facts = self.network.facts
        theirs = [
            position
            for position, visit in enumerate(visits)
            if violation.volunteer in visit.volunteers
            and violation.day in (None, visit.day)
            and visit.need in facts
        ]
        return min(theirs, key=lambda position: facts[visits[position].need].priority, default=None)

    def _grown(self, units: list[Unit], deadline: float) -> tuple[list[Unit], Any]:
        """The units the model accepts, found by halving: the volunteers' units in halves
        until a volunteer's alone, then that volunteer's units in halves (until the
        deadline)."""
        by_volunteer: dict[str, list[Unit]] = defaultdict(list)
        for unit in units:
            vehicle = unit[0][1][0][0]
            by_volunteer[self.network.vehicles[vehicle].volunteer.id].append(unit)
        pieces = list(by_volunteer.values())
        half = len(pieces) // 2
        kept, assignment = self._grow([], None, pieces[:half], deadline)
        return self._grow(kept, assignment, pieces[half:], deadline)

    def _grow(
        self, kept: list[Unit], assignment: Any, pieces: list[list[Unit]], deadline: float
    ) -> tuple[list[Unit], Any]:
        """`kept` with as many of the pieces as the model accepts beside them."""
        if not pieces or time.perf_counter() > deadline:
            return kept, assignment
        units = [unit for piece in pieces for unit in piece]
        trial = self._read([*kept, *units])
        if trial is not None:
            return [*kept, *units], trial
        if len(units) == 1:
            return kept, assignment
        if len(pieces) == 1:
            pieces = [[unit] for unit in units]
        half = len(pieces) // 2
        kept, assignment = self._grow(kept, assignment, pieces[:half], deadline)
        return self._grow(kept, assignment, pieces[half:], deadline)

    # ------------------------------------------------------------------ the search

    def run(self, time_limit_s: float, warm_start: Plan | None) -> tuple[list[Routed] | None, str]:
        """Search from the cheapest first solution (of the warm start, the configured strategy
        and the portfolio) and, when that is not the warm start, from the warm start too, the
        time split between them; the best result's performed groups with vehicles and starts
        (a first solution itself when no search improves on it), or None when no solution was
        found. Once a solution's coverage meets the bound, the search polishes it for
        `polish_after_bound_s` and stops."""
        began = time.perf_counter()
        report = self.report
        if not self.network.vehicles or not self.network.groups:
            report.stopped_by = "nothing to plan"
            return [], "EMPTY"
        parameters = self.parameters(time_limit_s)
        self.routing.CloseModelWithParameters(parameters)
        starts: list[Start] = []
        if warm_start is not None:
            initial, kept = self.initial_assignment(warm_start, began + 0.2 * time_limit_s)
            objective = None if initial is None else float(initial.ObjectiveValue())
            report.first_solutions["warm start"] = self._points(objective)
            if initial is not None and objective is not None:
                starts.append(Start(objective, "warm start", self._copy(initial), _routed(kept)))
        self._portfolio(starts, time_limit_s)
        if not starts:
            remaining = max(0.05, time_limit_s - (time.perf_counter() - began))
            parameters.time_limit.FromMilliseconds(max(1, int(remaining * 1000)))
            self._phase_began = time.perf_counter()
            solution = self._solve(parameters)
            if solution is not None:
                report.search_objective = self._points(solution.ObjectiveValue())
            return self.extract(solution), self._finished()
        chosen = [min(starts, key=lambda start: start.objective)]
        if starts[0].name == "warm start" and chosen[0] is not starts[0]:
            chosen.append(starts[0])
        best = min(chosen, key=lambda start: start.objective)
        for number, start in enumerate(chosen):
            if (
                number > 0
                and self._bound_met_at is not None
                and time.perf_counter() - self._bound_met_at >= self.settings.polish_after_bound_s
            ):
                break  # the polishing time after meeting the bound is over
            left = time_limit_s - (time.perf_counter() - began)
            parameters.time_limit.FromMilliseconds(
                max(1, int(max(0.05, left / (len(chosen) - number)) * 1000))
            )
            self._phase_began = time.perf_counter()
            solution = self._solve(parameters, start.assignment)
            if solution is not None and solution.ObjectiveValue() < best.objective:
                routed = self.extract(solution)
                assert routed is not None
                best = Start(float(solution.ObjectiveValue()), start.name, None, routed)
        report.first_solution = best.name
        report.search_objective = self._points(best.objective)
        return best.routed, self._finished()

    def _portfolio(self, starts: list[Start], time_limit_s: float) -> None:
        """First solutions of the configured strategy and the portfolio, within their share of
        the time (a strategy that overruns its share leaves the next ones out, except with a
        solution limit, which keeps runs repeatable)."""
        strategies = [self.settings.first_solution_strategy]
        strategies += [
            name for name in self.settings.first_solution_portfolio if name not in strategies
        ]
        budget = self.settings.portfolio_time_share * time_limit_s
        deadline = time.perf_counter() + budget
        for strategy in strategies:
            # Every strategy of the portfolio is tried even once one meets the coverage bound
            # (they differ in travel, and the cheapest start decides much of the result), as
            # long as the polishing time after meeting it lasts.
            if (not self.repeatable and time.perf_counter() >= deadline) or self._stop_requested():
                break
            if (
                not self.repeatable
                and self._bound_met_at is not None
                and time.perf_counter() - self._bound_met_at >= self.settings.polish_after_bound_s
            ):
                break
            first = self.parameters(budget / len(strategies))
            first.first_solution_strategy = getattr(
                routing_enums_pb2.FirstSolutionStrategy, strategy
            )
            first.solution_limit = 1
            self._phase_began = time.perf_counter()
            solution = self._solve(first)
            objective = None if solution is None else float(solution.ObjectiveValue())
            self.report.first_solutions[strategy] = self._points(objective)
            if solution is not None and objective is not None:
                routed = self.extract(solution)
                assert routed is not None
                starts.append(Start(objective, strategy, self._copy(solution), routed))

    def _copy(self, assignment: Any) -> Any:
        """A copy of an assignment that later solves leave alone."""
        return self.routing.solver().Assignment(assignment)

    def _points(self, objective: float | None) -> float | None:
        """A routing objective in the policy's points."""
        return None if objective is None else objective / self.model.scale

    def _finished(self) -> str:
        """The routing status of the last search, and what stopped it in the report."""
        status = status_name(self.routing.status())
        limit = self.settings.solution_limit
        if self._bound_met_at is not None:
            self.report.stopped_by = "coverage met the bound"
        elif status == "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED" and limit is not None:
            self.report.stopped_by = "solution limit"
        return status

    def extract(self, solution: Any) -> list[Routed] | None:
        """The performed groups of a routing solution with their vehicles and starts."""
        if solution is None:
            return None
        routing, manager = self.routing, self.model.manager
        time_dimension = self.model.time_dimension
        vehicle_of_node: dict[int, int] = {}
        start_of_node: dict[int, int] = {}
        for vehicle in self.network.vehicles:
            index = solution.Value(routing.NextVar(routing.Start(vehicle.index)))
            while not routing.IsEnd(index):
                node = int(manager.IndexToNode(index))
                vehicle_of_node[node] = vehicle.index
                start_of_node[node] = int(solution.Min(time_dimension.CumulVar(index)))
                index = solution.Value(routing.NextVar(index))
        return [
            Routed(
                group=group,
                vehicles=[vehicle_of_node[node] for node in group.nodes],
                start=start_of_node[group.nodes[0]],
            )
            for group in self.network.groups
            if all(node in vehicle_of_node for node in group.nodes)
        ]
