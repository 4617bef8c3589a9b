"""One day's routes with floating visit times: the data and the reference evaluator.

Each stop starts at its earliest feasible whole minute (forward scheduling, waiting allowed),
so every cost (distance, work, lateness) depends only on the order of the stops. The functions
here are slow and obvious on purpose: the search's incremental checks are tested against them.

Readings of the contract where it is silent:
- an empty `Stop.vehicles` means every vehicle may take the stop;
- an empty route is an outing not made: no legs, no cost, always feasible;
- a fixed stop starts at its fixed minute whatever its windows say; arriving earlier is waiting,
  arriving later is infeasible; its lateness counts against the window holding its start;
- `schedule` checks windows, fixed starts, opens/closes and `max_leg_m` of one route on its
  own; `schedule_day` times every route together under the links; `feasible` adds
  `max_route_m`, the stop bookkeeping, the group limits and the links;
- a link joins two stops (a recipient's two services): the second starts between `min_gap_min`
  and `max_gap_min` after the first, on a vehicle of another group (another volunteer); both are
  routed or neither. Under links a stop may wait past its arrival for its partner, so the
  routes are timed together: each stop at the least start that every route and link allows
  (the least fixed point; none when a cycle of waits has no end, as when two routes visit two
  linked pairs in opposite orders);
- the largest lateness of the day costs `per_max_late_min` a minute above
  `max_late_floor_min` (the largest lateness of the week's other days, already paid for).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

TOLERANCE = 1e-9
"""Slack on arrivals before the ceiling to whole minutes, and on the closing time."""


@dataclass(frozen=True, slots=True)
class Window:
    """A start window: start within [earliest, latest]; after due_min the minutes are late."""

    earliest_min: int
    due_min: int
    latest_min: int


@dataclass(frozen=True, slots=True)
class Stop:
    """A visit to be (or that may be) placed in one route."""

    place: int
    duration_min: int
    windows: tuple[Window, ...]
    load: int = 0
    prize: float = 0.0
    required: bool = True
    vehicles: frozenset[int] = frozenset()
    fixed: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One outing: leaves start_place at or after opens_min, back at end_place by closes_min."""

    start_place: int
    end_place: int
    opens_min: int
    closes_min: int
    group: int
    max_leg_m: float | None = None
    max_route_m: float | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """One volunteer-day: limits shared by all its outings."""

    capacity: int | None = None
    max_stops: int | None = None
    max_work_min: float | None = None


@dataclass(frozen=True, slots=True)
class Link:
    """Two stops that go together: `second` starts `min_gap_min` to `max_gap_min` (None: no
    limit) minutes after `first` (0 and 0: at the same minute), by another group."""

    first: int
    second: int
    min_gap_min: int = 0
    max_gap_min: int | None = 0


@dataclass(frozen=True, slots=True)
class Weights:
    """Cost per metre, per minute of work (durations + travel), per minute late, and per minute
    of the day's largest lateness above `max_late_floor_min`."""

    per_m: float = 1.0
    per_work_min: float = 0.0
    per_late_min: float = 0.0
    per_max_late_min: float = 0.0
    max_late_floor_min: float = 0.0


@dataclass
class DayRoutes:
    """The day: stops, vehicles, groups, the matrices and the incoming (feasible) routes."""

    stops: list[Stop]
    vehicles: list[Vehicle]
    groups: list[Group]
    distance_m: np.ndarray
    travel_min: np.ndarray
    weights: Weights
    routes: list[list[int]]
    links: list[Link] = field(default_factory=list)


def whole_minute(arrival_min: float) -> int:
    """The first whole minute at or after an arrival (with the tolerance)."""
    return math.ceil(arrival_min - TOLERANCE)


def start_in_windows(stop: Stop, arrival: int) -> int | None:
    """The earliest start at or after a whole-minute arrival inside one of the windows."""
    for window in stop.windows:
        if arrival <= window.latest_min:
            return max(window.earliest_min, arrival)
    return None


def lateness_min(stop: Stop, start: int) -> int:
    """Minutes past the due time of the window that holds the start (0 outside any window)."""
    for window in stop.windows:
        if window.earliest_min <= start <= window.latest_min:
            return max(0, start - window.due_min)
    return 0


def schedule(
    day: DayRoutes, vehicle: int, route: Sequence[int], floors: Sequence[int] | None = None
) -> list[int] | None:
    """Earliest start of each stop (whole minutes: ceil of the arrival, and no earlier than the
    stop's floor when floors are given, by stop index) or None if infeasible (windows, fixed
    starts, opens/closes, legs). The REFERENCE evaluator: slow, obvious, tested; the search's
    fast checks are tested against it. Links are not looked at: `schedule_day` does that."""
    outing = day.vehicles[vehicle]
    max_leg = math.inf if outing.max_leg_m is None else outing.max_leg_m
    starts: list[int] = []
    if not route:
        return starts
    place = outing.start_place
    ready = float(outing.opens_min)
    for index in route:
        stop = day.stops[index]
        if day.distance_m[place, stop.place] > max_leg + TOLERANCE:
            return None
        arrival = whole_minute(ready + day.travel_min[place, stop.place])
        if floors is not None:
            arrival = max(arrival, floors[index])
        if stop.fixed is not None:
            if stop.fixed[0] != vehicle or arrival > stop.fixed[1]:
                return None
            start: int | None = stop.fixed[1]
        else:
            start = start_in_windows(stop, arrival)
        if start is None:
            return None
        starts.append(start)
        place = stop.place
        ready = float(start + stop.duration_min)
    if day.distance_m[place, outing.end_place] > max_leg + TOLERANCE:
        return None
    if ready + day.travel_min[place, outing.end_place] > outing.closes_min + TOLERANCE:
        return None
    return starts


def schedule_day(day: DayRoutes, routes: Sequence[Sequence[int]]) -> list[list[int]] | None:
    """Every route's starts timed together under the links (module docstring), or None.

    The REFERENCE: rounds of scheduling every route with each stop's floor, then raising the
    floors the links ask for, until nothing moves. Each round carries a wait one link further;
    a cycle of waits grows every round, so more rounds than links (plus one) mean there is no
    end to it."""
    floors = [0] * len(day.stops)
    where: dict[int, int] = {
        index: vehicle for vehicle, route in enumerate(routes) for index in route
    }
    active = [link for link in day.links if link.first in where and link.second in where]
    for _ in range(len(active) + 2):
        timed: list[list[int]] = []
        start_of: dict[int, int] = {}
        for vehicle, route in enumerate(routes):
            starts = schedule(day, vehicle, route, floors)
            if starts is None:
                return None
            timed.append(starts)
            start_of.update(zip(route, starts, strict=True))
        moved = False
        for link in active:
            first, second = start_of[link.first], start_of[link.second]
            if second < first + link.min_gap_min:
                floors[link.second] = first + link.min_gap_min
                moved = True
            if link.max_gap_min is not None and second > first + link.max_gap_min:
                floors[link.first] = max(floors[link.first], second - link.max_gap_min)
                moved = True
        if not moved:
            return timed
    return None


def route_places(day: DayRoutes, vehicle: int, route: Sequence[int]) -> list[int]:
    """The places an outing passes, start and end included (empty for an empty route)."""
    if not route:
        return []
    outing = day.vehicles[vehicle]
    return [outing.start_place, *(day.stops[index].place for index in route), outing.end_place]


def route_distance_m(day: DayRoutes, vehicle: int, route: Sequence[int]) -> float:
    """Metres of the outing's legs."""
    places = route_places(day, vehicle, route)
    return float(sum(day.distance_m[a, b] for a, b in itertools.pairwise(places)))


def route_work_min(day: DayRoutes, vehicle: int, route: Sequence[int]) -> float:
    """Stop durations plus every leg's travel minutes (waiting is not work)."""
    places = route_places(day, vehicle, route)
    travel = sum(day.travel_min[a, b] for a, b in itertools.pairwise(places))
    return float(travel) + sum(day.stops[index].duration_min for index in route)


def cost(day: DayRoutes, routes: list[list[int]]) -> float:
    """per_m * distance + per_work_min * work + per_late_min * lateness + per_max_late_min *
    (the largest lateness above max_late_floor_min) - sum of prizes.

    Infinite when the routes cannot be timed (together, under the links)."""
    weights = day.weights
    timed = schedule_day(day, routes)
    if timed is None:
        return math.inf
    total = 0.0
    largest = 0.0
    for vehicle, (route, starts) in enumerate(zip(routes, timed, strict=True)):
        lates = [lateness_min(day.stops[i], s) for i, s in zip(route, starts, strict=True)]
        largest = max([largest, *lates])
        total += weights.per_m * route_distance_m(day, vehicle, route)
        total += weights.per_work_min * route_work_min(day, vehicle, route)
        total += weights.per_late_min * sum(lates)
        total -= sum(day.stops[index].prize for index in route)
    total += weights.per_max_late_min * max(0.0, largest - weights.max_late_floor_min)
    return total


def feasible(day: DayRoutes, routes: list[list[int]]) -> list[str]:
    """Every broken rule (empty when feasible): each required stop once, fixed stops at their
    vehicle and start, eligibility, schedule, capacity / max_stops / max_work_min per group,
    max_leg_m, max_route_m, links (both routed or neither, other groups, timed together)."""
    problems: list[str] = []
    if len(routes) != len(day.vehicles):
        problems.append(f"{len(routes)} routes for {len(day.vehicles)} vehicles")
    seen: dict[int, int] = {}
    load = [0] * len(day.groups)
    count = [0] * len(day.groups)
    work = [0.0] * len(day.groups)
    for vehicle, route in enumerate(routes[: len(day.vehicles)]):
        outing = day.vehicles[vehicle]
        unknown = [index for index in route if not 0 <= index < len(day.stops)]
        if unknown:
            problems.append(f"vehicle {vehicle}: unknown stops {unknown}")
            continue
        for index in route:
            seen[index] = seen.get(index, 0) + 1
            stop = day.stops[index]
            if stop.vehicles and vehicle not in stop.vehicles:
                problems.append(f"stop {index} is not allowed on vehicle {vehicle}")
            if stop.fixed is not None and stop.fixed[0] != vehicle:
                problems.append(f"fixed stop {index} is on vehicle {vehicle}, not {stop.fixed[0]}")
        starts = schedule(day, vehicle, route)
        if starts is None:
            problems.append(f"vehicle {vehicle}: route {route} cannot be scheduled")
        if route and outing.max_route_m is not None:
            distance = route_distance_m(day, vehicle, route)
            if distance > outing.max_route_m + TOLERANCE:
                problems.append(f"vehicle {vehicle}: {distance} m > max_route_m")
        load[outing.group] += sum(day.stops[index].load for index in route)
        count[outing.group] += len(route)
        work[outing.group] += route_work_min(day, vehicle, route)
    for index, stop in enumerate(day.stops):
        times = seen.get(index, 0)
        if times > 1:
            problems.append(f"stop {index} is routed {times} times")
        if times == 0 and (stop.required or stop.fixed is not None):
            problems.append(f"required stop {index} is not routed")
    for number, group in enumerate(day.groups):
        if group.capacity is not None and load[number] > group.capacity:
            problems.append(f"group {number}: load {load[number]} > capacity {group.capacity}")
        if group.max_stops is not None and count[number] > group.max_stops:
            problems.append(f"group {number}: {count[number]} stops > max_stops")
        if group.max_work_min is not None and work[number] > group.max_work_min + TOLERANCE:
            problems.append(f"group {number}: {work[number]:.3f} work minutes > max_work_min")
    problems.extend(_link_problems(day, routes))
    return problems


def _link_problems(day: DayRoutes, routes: list[list[int]]) -> list[str]:
    """The links' rules: both stops routed or neither, by vehicles of two groups, and every
    route timed together (`schedule_day`)."""
    if not day.links:
        return []
    problems: list[str] = []
    where = {index: vehicle for vehicle, route in enumerate(routes) for index in route}
    for link in day.links:
        first, second = where.get(link.first), where.get(link.second)
        if (first is None) != (second is None):
            problems.append(f"link {link.first}-{link.second}: only one stop is routed")
        elif (
            first is not None
            and second is not None
            and (day.vehicles[first].group == day.vehicles[second].group)
        ):
            problems.append(f"link {link.first}-{link.second}: both stops in one group")
    routes_time_alone = len(routes) == len(day.vehicles) and all(
        schedule(day, vehicle, route) is not None for vehicle, route in enumerate(routes)
    )
    if not problems and routes_time_alone and schedule_day(day, routes) is None:
        problems.append("the routes cannot be timed together under the links")
    return problems
