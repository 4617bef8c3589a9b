"""The OR-Tools routing model of a network: arc costs, dimensions, disjunctions, constraints.

Each step builds the routing form of a rule from the network's facts: the time dimension holds
the outing (start cumul at or after it opens, end cumul at home by its close) and each leg's
`max_trip_distance_m`; a distance dimension caps the walk of an outing; visits and load a day
are per-vehicle dimensions plus a sum over the outings of one day; weekly minutes a dimension
plus a sum over all the volunteer's outings.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
from ortools.constraint_solver import pywrapcp

from matcher.models import Volunteer
from matcher.rules import hourly_cost, too_close
from matcher.solvers.routing.builder import Group, Network, check_time

TARGET_ARC_COST = 1e5
"""Points are scaled so that a typical arc costs about this many integer units (precision)."""
MAX_TOTAL_COST = 1e15
"""The scaled penalties of all nodes together stay below this (int64 has room to spare)."""
MAX_MATRIX_ENTRIES = 30_000_000
"""Transit matrices handed to OR-Tools hold at most this many numbers together; beyond it, trip
limits are rounded down to fewer classes (conservative: a shorter limit is never broken)."""
WORK_UNITS_PER_MIN = 100
"""The weekly-minutes dimension counts centi-minutes, each leg's travel rounded up."""
DISTANCE_UNITS_PER_M = 10
"""The outing-distance dimension counts decimetres, each leg rounded up."""
TEAM_MEMBER_PENALTY = 1
"""A team member's node is optional at a nominal cost; its lead node carries the coverage."""


def ceil_matrix(values: np.ndarray, units: int, impossible: int) -> np.ndarray:
    """Values as whole units rounded up (tolerant of float noise); no path is `impossible`."""
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.ceil(values * units - 1e-9 * units)
    scaled = np.where(np.isfinite(scaled), scaled, impossible)
    return np.minimum(scaled, impossible).astype(np.int64)


class RouteModel:
    """The OR-Tools model of one network (built by `build`, step by step)."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.impossible = 4 * network.day_length + 1
        """A transit no outing can hold: forbidden arcs take this long."""
        self.scale = 1.0
        places = np.array(network.node_place, dtype=np.int64)
        self.distances = network.travel.distance_m[np.ix_(places, places)]
        depots = np.zeros(network.node_count, dtype=bool)
        depots[network.visit_node_count :] = True
        self.depot_pairs = np.outer(depots, depots)
        self.services = np.array(network.node_service, dtype=np.int64)
        vehicles = network.vehicles
        self.manager = pywrapcp.RoutingIndexManager(
            network.node_count,
            len(vehicles),
            [network.depot_node[vehicle.start_place] for vehicle in vehicles],
            [network.depot_node[vehicle.home_place] for vehicle in vehicles],
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.time: pywrapcp.RoutingDimension | None = None
        self._minutes_by_source: dict[float, np.ndarray] = {}

    def build(self, deadline: float | None) -> None:
        """Every step, checking the deadline between them (`OutOfTime` past it)."""
        steps: Sequence[Callable[[], None]] = (
            self._arc_costs,
            self._time_dimension,
            self._count_dimensions,
            self._outing_distance_dimension,
            self._weekly_dimension,
            self._nodes_and_disjunctions,
            self._dependencies,
            self._recipient_overlaps,
        )
        for step in steps:
            check_time(deadline)
            step()
        check_time(deadline)

    def index(self, node: int) -> int:
        """The routing index of a node."""
        return int(self.manager.NodeToIndex(node))

    @property
    def time_dimension(self) -> pywrapcp.RoutingDimension:
        assert self.time is not None
        return self.time

    def _time_source(self, volunteer: Volunteer) -> float:
        """Vehicles with the same travel times share matrices: the explicit ones, or a speed."""
        travel = self.network.travel
        if travel.explicit_time_min is not None:
            return 0.0
        return travel.speed_m_per_min(volunteer)

    def _minutes(self, source: float, volunteer: Volunteer) -> np.ndarray:
        """Travel minutes between the nodes' places for this time source."""
        if source not in self._minutes_by_source:
            full = self.network.travel.time_matrix(volunteer)
            places = np.array(self.network.node_place, dtype=np.int64)
            self._minutes_by_source[source] = full[np.ix_(places, places)]
        return self._minutes_by_source[source]

    def _arc_costs(self) -> None:
        """Distance x travel_per_km plus minutes on site x hourly cost (charged on the arc
        leaving a visit), scaled to integers."""
        network = self.network
        per_metre = network.weights.travel_per_km / 1000.0
        classes: dict[float, int] = {}
        class_points: list[np.ndarray] = []
        finite_distances = np.where(np.isfinite(self.distances), self.distances, 0.0)
        for vehicle in network.vehicles:
            hourly = hourly_cost(vehicle.volunteer, network.weights)
            if hourly not in classes:
                points = finite_distances * per_metre + self.services[:, None] * hourly / 60.0
                classes[hourly] = len(class_points)
                class_points.append(np.where(self.depot_pairs, 0.0, points))
            vehicle.cost_class = classes[hourly]
        typical = [float(np.median(points[points > 0])) for points in class_points if points.any()]
        reference = min(typical) if typical else 1.0
        scale = 10.0 ** round(math.log10(TARGET_ARC_COST / reference))
        total_penalty = sum(
            network.points(group) * group.team_size * group.facts.need.visits_per_week
            for group in network.groups
        )
        largest_arcs = sum(float(points.max()) for points in class_points) * (
            network.node_count + 1
        )
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
            for vehicle in network.vehicles:
                self.routing.SetArcCostEvaluatorOfVehicle(
                    evaluators[vehicle.cost_class], vehicle.index
                )

    def _trip_limits(self) -> dict[float, float]:
        """Each volunteer's trip limit, rounded down to fewer classes if the matrices would not
        fit (a shorter limit is conservative)."""
        network = self.network
        limits = sorted(
            {v.max_trip_distance_m for v in network.problem.volunteers if v.max_trip_distance_m}
        )
        sources = {self._time_source(vehicle.volunteer) for vehicle in network.vehicles}
        room = max(1, MAX_MATRIX_ENTRIES // max(1, network.node_count**2) - 2 * len(sources) - 3)
        allowed = max(1, room // max(1, len(sources)) - 1)
        if len(limits) <= allowed:
            return {limit: limit for limit in limits}
        kept = [limits[round(k * (len(limits) - 1) / max(1, allowed - 1))] for k in range(allowed)]
        return {limit: max(k for k in kept if k <= limit) for limit in limits}

    def _time_dimension(self) -> None:
        """Minutes of the day: visit duration plus travel rounded up, long legs forbidden; each
        vehicle leaves at or after its outing opens and is home by its close."""
        network = self.network
        rounded = self._trip_limits()
        classes: dict[tuple[float, float], int] = {}
        evaluators: list[int] = []
        for vehicle in network.vehicles:
            limit = vehicle.volunteer.max_trip_distance_m
            limit_class = rounded[limit] if limit else math.inf
            source = self._time_source(vehicle.volunteer)
            key = (source, limit_class)
            if key not in classes:
                minutes = self._minutes(source, vehicle.volunteer)
                transit = ceil_matrix(minutes, 1, self.impossible) + self.services[:, None]
                if math.isfinite(limit_class):
                    transit = np.where(
                        self.distances > limit_class + 1e-6, self.impossible, transit
                    )
                transit = np.where(self.depot_pairs, 0, np.minimum(transit, self.impossible))
                classes[key] = len(evaluators)
                evaluators.append(self.routing.RegisterTransitMatrix(transit.tolist()))
            vehicle.time_class = classes[key]
        self.routing.AddDimensionWithVehicleTransits(
            [evaluators[vehicle.time_class] for vehicle in network.vehicles],
            network.day_length,
            network.day_length,
            False,
            "time",
        )
        self.time = self.routing.GetDimensionOrDie("time")
        for vehicle in network.vehicles:
            opens, closes = vehicle.outing
            self.time.CumulVar(self.routing.Start(vehicle.index)).SetRange(opens, closes)
            self.time.CumulVar(self.routing.End(vehicle.index)).SetRange(opens, closes)

    def _per_day(self, dimension_name: str, cap: Callable[[Volunteer], int | None]) -> None:
        """A day's cap over all the outings of the day: the sum of their dimension ends (each
        vehicle's own capacity already holds the cap where a day has one outing)."""
        dimension = self.routing.GetDimensionOrDie(dimension_name)
        solver = self.routing.solver()
        for (volunteer_id, _), indices in sorted(self.network.vehicles_of.items()):
            limit = cap(self.network.problem.volunteer_by_id[volunteer_id])
            if limit is None or len(indices) < 2:
                continue
            ends = [dimension.CumulVar(self.routing.End(index)) for index in indices]
            solver.Add(solver.Sum(ends) <= limit)

    def _count_dimensions(self) -> None:
        """Visits a day and load a day, when anyone has a limit: per outing, and summed over
        the outings of a day."""
        network = self.network
        vehicles = network.vehicles
        depots = network.node_count - network.visit_node_count
        if any(vehicle.volunteer.max_visits_per_day is not None for vehicle in vehicles):
            ones = [1] * network.visit_node_count + [0] * depots
            self.routing.AddDimensionWithVehicleCapacity(
                self.routing.RegisterUnaryTransitVector(ones),
                0,
                [
                    vehicle.volunteer.max_visits_per_day
                    if vehicle.volunteer.max_visits_per_day is not None
                    else network.node_count
                    for vehicle in vehicles
                ],
                True,
                "visits",
            )
            self._per_day("visits", lambda volunteer: volunteer.max_visits_per_day)
        loads = [network.groups[group].facts.need.load for group in network.node_group]
        if any(vehicle.volunteer.capacity is not None for vehicle in vehicles) and any(loads):
            total = sum(loads)
            self.routing.AddDimensionWithVehicleCapacity(
                self.routing.RegisterUnaryTransitVector(loads + [0] * depots),
                0,
                [
                    vehicle.volunteer.capacity if vehicle.volunteer.capacity is not None else total
                    for vehicle in vehicles
                ],
                True,
                "load",
            )
            self._per_day("load", lambda volunteer: volunteer.capacity)

    def _outing_distance_dimension(self) -> None:
        """Decimetres walked per outing, legs rounded up, capped by `max_outing_distance_m`."""
        network = self.network
        limits = [vehicle.volunteer.max_outing_distance_m for vehicle in network.vehicles]
        if all(limit is None for limit in limits):
            return
        finite = self.distances[np.isfinite(self.distances)]
        unbounded = int(
            DISTANCE_UNITS_PER_M * (float(finite.max()) if finite.size else 1.0) + 1
        ) * (network.node_count + 1)
        legs = ceil_matrix(self.distances, DISTANCE_UNITS_PER_M, unbounded)
        evaluator = self.routing.RegisterTransitMatrix(np.where(self.depot_pairs, 0, legs).tolist())
        self.routing.AddDimensionWithVehicleCapacity(
            evaluator,
            0,
            [
                unbounded
                if limit is None
                else math.floor(limit * DISTANCE_UNITS_PER_M + 1e-9 * DISTANCE_UNITS_PER_M)
                for limit in limits
            ],
            True,
            "outing_distance",
        )

    def _weekly_dimension(self) -> None:
        """Centi-minutes of visiting and travel per outing (every leg, from the start place and
        back home), summed over all the volunteer's outings of the week."""
        network = self.network
        capped = [v for v in network.vehicles if v.volunteer.max_minutes_per_week is not None]
        if not capped or network.settings.weekly_caps != "model":
            return
        unbounded = WORK_UNITS_PER_MIN * network.day_length * (network.node_count + 1)
        classes: dict[float, int] = {}
        evaluators: list[int] = []
        for vehicle in network.vehicles:
            source = self._time_source(vehicle.volunteer)
            if source not in classes:
                minutes = self._minutes(source, vehicle.volunteer)
                work = ceil_matrix(minutes, WORK_UNITS_PER_MIN, self.impossible * 100)
                work = work + WORK_UNITS_PER_MIN * self.services[:, None]
                classes[source] = len(evaluators)
                evaluators.append(
                    self.routing.RegisterTransitMatrix(np.where(self.depot_pairs, 0, work).tolist())
                )
        capacities = [
            WORK_UNITS_PER_MIN * vehicle.volunteer.max_minutes_per_week
            if vehicle.volunteer.max_minutes_per_week is not None
            else unbounded
            for vehicle in network.vehicles
        ]
        self.routing.AddDimensionWithVehicleTransitAndCapacity(
            [
                evaluators[classes[self._time_source(vehicle.volunteer)]]
                for vehicle in network.vehicles
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
            cap = network.problem.volunteer_by_id[volunteer_id].max_minutes_per_week
            assert cap is not None
            ends = [work_dimension.CumulVar(self.routing.End(index)) for index in indices]
            solver.Add(solver.Sum(ends) <= WORK_UNITS_PER_MIN * cap)

    def _nodes_and_disjunctions(self) -> None:
        """Start domains, allowed vehicles, lateness, team ties, coverage disjunctions, gaps."""
        network = self.network
        routing, solver, time_dimension = self.routing, self.routing.solver(), self.time_dimension
        weights = network.weights
        late_points = weights.lateness_per_min + weights.max_lateness_per_min
        lateness_cost = round(late_points * self.scale)
        by_need: dict[str, list[Group]] = defaultdict(list)
        for group in network.groups:
            domain = group.domain
            lead = self.index(group.nodes[0])
            for node in group.nodes:
                index = self.index(node)
                cumul = time_dimension.CumulVar(index)
                cumul.SetRange(domain[0][0], domain[-1][1])
                for (_, high), (low, _) in itertools.pairwise(domain):
                    cumul.RemoveInterval(high + 1, low - 1)
                routing.VehicleVar(index).SetValues([-1, *sorted(group.starts)])
                if node != group.nodes[0]:
                    time_dimension.AddNodePrecedence(lead, index, 0)
                    time_dimension.AddNodePrecedence(index, lead, 0)
                    solver.Add(routing.ActiveVar(index) == routing.ActiveVar(lead))
                    if not group.pinned_volunteers:
                        routing.AddDisjunction([index], TEAM_MEMBER_PENALTY)
            if group.pinned_volunteers:
                for node, volunteer in zip(group.nodes, group.pinned_volunteers, strict=True):
                    own = [
                        vehicle
                        for vehicle in group.starts
                        if network.vehicles[vehicle].volunteer.id == volunteer
                    ]
                    routing.VehicleVar(self.index(node)).SetValues([-1, *own])
                continue
            if group.due is not None and lateness_cost > 0:
                time_dimension.SetCumulVarSoftUpperBound(lead, group.due, lateness_cost)
            by_need[group.facts.need.id].append(group)
        for need_id, groups in sorted(by_need.items()):
            need = network.facts[need_id].need
            wanted = min(need.visits_per_week - network.pinned_count[need_id], len(groups))
            penalty = round(network.points(groups[0]) * self.scale)
            routing.AddDisjunction(
                [self.index(group.nodes[0]) for group in groups],
                max(1, penalty),
                wanted,
                routing.PENALIZE_PER_INACTIVE,
            )
            for first, second in itertools.combinations(groups, 2):
                if too_close(first.day, second.day, need.min_gap_days):
                    solver.Add(
                        routing.ActiveVar(self.index(first.nodes[0]))
                        + routing.ActiveVar(self.index(second.nodes[0]))
                        <= 1
                    )

    def _volunteer_vehicles(self, group: Group) -> dict[str, list[int]]:
        """The group's allowed vehicles by volunteer."""
        result: dict[str, list[int]] = defaultdict(list)
        for vehicle in sorted(group.starts):
            result[self.network.vehicles[vehicle].volunteer.id].append(vehicle)
        return result

    def _not_one_volunteer(
        self, first_node: int, second_node: int, pairs: list[tuple[int, int]]
    ) -> None:
        """The two nodes are never on these pairs of vehicles (outings of one volunteer)."""
        routing, solver = self.routing, self.routing.solver()
        first_var = routing.VehicleVar(self.index(first_node))
        second_var = routing.VehicleVar(self.index(second_node))
        for first_vehicle, second_vehicle in pairs:
            solver.Add(
                solver.IsEqualCstVar(first_var, first_vehicle)
                + solver.IsEqualCstVar(second_var, second_vehicle)
                <= 1
            )

    @staticmethod
    def _cross_outing_pairs(
        first: dict[str, list[int]], second: dict[str, list[int]]
    ) -> list[tuple[int, int]]:
        """Pairs of different vehicles of one volunteer, one allowed for each side."""
        return [
            (a, b)
            for volunteer, vehicles in first.items()
            for a in vehicles
            for b in second.get(volunteer, [])
            if a != b
        ]

    def _dependencies(self) -> None:
        """Linked visits: performed together, at the right gap, by different volunteers (each
        linked node gets its own visit type, and linked types may not share a route; two
        outings of one volunteer may not carry one each)."""
        routing, solver, time_dimension = self.routing, self.routing.solver(), self.time_dimension
        type_of: dict[int, int] = {}

        def visit_type(index: int) -> int:
            if index not in type_of:
                type_of[index] = len(type_of)
                routing.SetVisitType(index, type_of[index], routing.TYPE_ADDED_TO_VEHICLE)
            return type_of[index]

        for first, second, (low, high) in self.network.partners():
            first_index = self.index(first.nodes[0])
            second_index = self.index(second.nodes[0])
            time_dimension.AddNodePrecedence(first_index, second_index, int(low))
            if math.isfinite(high):
                time_dimension.AddNodePrecedence(second_index, first_index, -int(high))
            solver.Add(routing.ActiveVar(first_index) == routing.ActiveVar(second_index))
            pairs = self._cross_outing_pairs(
                self._volunteer_vehicles(first), self._volunteer_vehicles(second)
            )
            for node_a in first.nodes:
                for node_b in second.nodes:
                    routing.AddHardTypeIncompatibility(
                        visit_type(self.index(node_a)), visit_type(self.index(node_b))
                    )
                    self._not_one_volunteer(node_a, node_b, pairs)

    def _recipient_overlaps(self) -> None:
        """Two visits of one recipient on one day (not linked) never overlap."""
        routing, solver, time_dimension = self.routing, self.routing.solver(), self.time_dimension
        by_recipient_day: dict[tuple[str, int], list[Group]] = defaultdict(list)
        for group in self.network.groups:
            by_recipient_day[(group.facts.recipient.id, group.day)].append(group)
        for groups in by_recipient_day.values():
            for first, second in itertools.combinations(groups, 2):
                pair = frozenset((first.facts.need.id, second.facts.need.id))
                if pair in self.network.linked:
                    continue
                a, b = self.index(first.nodes[0]), self.index(second.nodes[0])
                a_cumul, b_cumul = time_dimension.CumulVar(a), time_dimension.CumulVar(b)
                a_first = solver.IsLessOrEqualVar(a_cumul + first.facts.duration, b_cumul)
                b_first = solver.IsLessOrEqualVar(b_cumul + second.facts.duration, a_cumul)
                solver.Add(a_first + b_first >= routing.ActiveVar(a) + routing.ActiveVar(b) - 1)
