"""The week as a routing network: vehicles (volunteer outings), groups (possible visits) and
nodes, built from the shared rule facts of `matcher.rules`."""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

from matcher.models import WEEKDAYS, Problem, Volunteer
from matcher.rules import (
    Interval,
    Intervals,
    NeedFacts,
    ceil_minutes,
    far_enough,
    intersect,
    normalise,
    outing_index,
    outings_by_day,
    start_set,
)
from matcher.solvers.routing.parameters import RoutingParameters
from matcher.travel import TravelModel

MANDATORY_FACTOR = 100.0
"""A missing visit of a mandatory need costs this many times its coverage points."""


class OutOfTime(Exception):
    """Building the routing model took the whole time limit."""


def check_time(deadline: float | None) -> None:
    """Raise `OutOfTime` once the deadline (a perf_counter time, None: none) has passed."""
    if deadline is not None and time.perf_counter() > deadline:
        raise OutOfTime


@dataclass
class Vehicle:
    """One outing of a volunteer: it leaves the start place at or after the outing opens and is
    back home by the time it closes; its transit and cost classes."""

    index: int
    volunteer: Volunteer
    day: int
    outing: Interval
    start_place: int
    home_place: int
    time_class: int = 0
    cost_class: int = 0


@dataclass
class Group:
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
class Routed:
    """A group in a routing solution: its vehicles (one per member) and its start."""

    group: Group
    vehicles: list[int]
    start: int


def soft_starts(facts: NeedFacts, day: int) -> tuple[Intervals, int | None]:
    """Starts the routing model allows a need on a day and, for a soft window, the latest start
    that is on time.

    The routing model measures lateness from one due per node, so a visit may start late (in
    the need's stretched windows, `NeedFacts.late_windows_by_day`) only once the day's last
    window has opened: there the lateness of `matcher.rules.windows.lateness_min` is the start
    minus that due, exactly.
    """
    duration = facts.duration
    windows = facts.windows_by_day.get(day, [])
    on_time = start_set(windows, duration)
    stretched = facts.late_windows_by_day.get(day, [])
    if not facts.need.soft_window or not windows or not stretched:
        return on_time, None
    due = max(end for _, end in windows) - duration
    last_opening = max(start for start, _ in stretched)
    late = start_set([(last_opening, max(end for _, end in stretched))], duration)
    return normalise([*on_time, *late]), due


class Network:
    """Vehicles, groups and nodes of one problem (the routing model is built on top)."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        settings: RoutingParameters,
        seed: int,
        facts: dict[str, NeedFacts],
    ) -> None:
        self.problem = problem
        self.travel = travel
        self.settings = settings
        self.seed = seed
        self.facts = facts
        self.day_length = problem.day_length_min
        self.weights = problem.policy.weights
        self.metric = problem.travel.method != "matrix"
        """Travel keeps the triangle inequality: a visit's direct trips bound any route's."""
        self.outings = {volunteer.id: outings_by_day(volunteer) for volunteer in problem.volunteers}
        self.vehicles: list[Vehicle] = []
        self.vehicles_of: dict[tuple[str, int], list[int]] = defaultdict(list)
        """(volunteer id, weekday index) -> the volunteer's vehicles (outings) that day."""
        self.groups: list[Group] = []
        self.group_of: dict[tuple[str, int], Group] = {}
        self.pinned_count: dict[str, int] = defaultdict(int)
        self.left_out_teams: set[str] = set()
        self.linked: set[frozenset[str]] = {
            frozenset((dependency.first, dependency.second)) for dependency in problem.dependencies
        }
        self.node_group: list[int] = []
        self.node_place: list[int] = []
        self.node_service: list[int] = []
        self.depot_node: dict[int, int] = {}
        self.visit_node_count = 0
        self.node_count = 0

    def build(self, deadline: float | None = None) -> None:
        """Vehicles, groups (possible visits) and nodes; `OutOfTime` past the deadline."""
        for volunteer in self.problem.volunteers:
            for day, outings in sorted(self.outings[volunteer.id].items()):
                for outing in outings:
                    vehicle = Vehicle(
                        index=len(self.vehicles),
                        volunteer=volunteer,
                        day=day,
                        outing=outing,
                        start_place=self.travel.start_place[volunteer.id],
                        home_place=self.travel.home_place[volunteer.id],
                    )
                    self.vehicles_of[(volunteer.id, day)].append(vehicle.index)
                    self.vehicles.append(vehicle)
        self._pinned_groups()
        for need_id in sorted(self.facts):
            check_time(deadline)
            self._need_groups(self.facts[need_id])
        self._drop_unpaired_dependents()
        order = list(range(len(self.groups)))
        random.Random(self.seed).shuffle(order)
        self.groups = [self.groups[position] for position in order]
        for position, group in enumerate(self.groups):
            group.index = position
        self._number_nodes()

    def vehicle_for(self, volunteer_id: str, day: int, start: int, end: int) -> int | None:
        """The volunteer's vehicle (outing) that holds a visit from `start` to `end`, if any."""
        outings = self.outings.get(volunteer_id, {}).get(day, [])
        index = outing_index(outings, start, end)
        return None if index is None else self.vehicles_of[(volunteer_id, day)][index]

    def points(self, group: Group) -> float:
        """Coverage points of one visit of the group's need (mandatory needs count more)."""
        facts = group.facts
        points = max(self.weights.coverage, 1.0) * max(facts.priority, 1e-3)
        return points * MANDATORY_FACTOR if facts.need.mandatory else points

    def _pinned_groups(self) -> None:
        """The coordinator's pinned visits: fixed start, fixed volunteers, always performed."""
        for pinned in self.problem.pinned:
            facts = self.facts[pinned.need]
            day = WEEKDAYS.index(pinned.day)
            end = pinned.start + facts.duration
            vehicles = [
                self.vehicle_for(volunteer, day, pinned.start, end)
                for volunteer in pinned.volunteers
            ]
            self.pinned_count[pinned.need] += 1
            if any(vehicle is None for vehicle in vehicles) or (pinned.need, day) in self.group_of:
                continue
            group = Group(
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
        """One group per allowed day of the need that enough qualified volunteers could make
        in one of their outings."""
        need = facts.need
        if facts.service.team_size > 1 and not self.settings.plan_team_visits:
            self.left_out_teams.add(need.id)
            return
        remaining = need.visits_per_week - self.pinned_count[need.id]
        if remaining <= 0:
            return
        pinned_days = [day for (need_id, day) in self.group_of if need_id == need.id]
        for day in sorted(facts.late_windows_by_day):
            if not far_enough(day, pinned_days, need.min_gap_days):
                continue
            need_starts, due = soft_starts(facts, day)
            if not need_starts:
                continue
            starts: dict[int, Intervals] = {}
            able: set[str] = set()
            for volunteer_id in facts.qualified:
                for vehicle_index in self.vehicles_of.get((volunteer_id, day), []):
                    allowed = intersect(
                        need_starts, self._own_starts(self.vehicles[vehicle_index], facts)
                    )
                    if allowed:
                        starts[vehicle_index] = allowed
                        able.add(volunteer_id)
            if len(able) < facts.service.team_size:
                continue
            group = Group(index=len(self.groups), facts=facts, day=day, starts=starts, due=due)
            self.groups.append(group)
            self.group_of[(need.id, day)] = group

    def _own_starts(self, vehicle: Vehicle, facts: NeedFacts) -> Intervals:
        """Starts at which the vehicle's outing could hold the visit.

        Inside the outing (the route's start and end cumuls do the rest). With metric travel
        the trips straight from the start place and straight home are counted too, and the
        walk of an outing with only this visit must keep `max_outing_distance_m`: any outing
        with the visit takes at least as long and walks at least as far (a pruning, not a rule).
        """
        duration = facts.duration
        if not self.metric:
            return start_set([vehicle.outing], duration)
        travel, volunteer = self.travel, vehicle.volunteer
        minutes = travel.time_matrix(volunteer)
        going = float(minutes[vehicle.start_place, facts.place])
        coming = float(minutes[facts.place, vehicle.home_place])
        if not (math.isfinite(going) and math.isfinite(coming)):
            return []
        limit = volunteer.max_outing_distance_m
        if limit is not None:
            walked = travel.distance_m[vehicle.start_place, facts.place]
            walked += travel.distance_m[facts.place, vehicle.home_place]
            if walked > limit + 1e-6:
                return []
        return start_set([vehicle.outing], duration, ceil_minutes(going), ceil_minutes(coming))

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

    def partners(self) -> list[tuple[Group, Group, tuple[float, float]]]:
        """Linked groups on one day: (first, second, the start gap range of the second)."""
        pairs: list[tuple[Group, Group, tuple[float, float]]] = []
        for dependency in self.problem.dependencies:
            for day in range(len(WEEKDAYS)):
                first = self.group_of.get((dependency.first, day))
                second = self.group_of.get((dependency.second, day))
                if first is not None and second is not None:
                    pairs.append((first, second, dependency.gap_range))
        return pairs
