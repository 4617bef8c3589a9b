"""Ruin and recreate with simulated annealing over one day's floating routes.

The search is SISR (Christiaens and Vanden Berghe, "Slack induction by string removals"):
each iteration removes strings of consecutive stops from routes near a random seed stop (now
and then random stops, stops related in place and time, or a whole short route instead), puts
the removed stops back one by one at their cheapest feasible position (skipping a position now
and then: blinks) in one of SISR's orders, and accepts the result by simulated annealing, the
temperature falling geometrically from 10 to 0.02 times the incoming mean leg cost over the
iteration budget (or the time). Fixed stops are never removed; a removal that would break a
rule of its route (a leg limit, travel that breaks the triangle inequality) is not made.
Optional stops (prize > 0) go back only where their prize exceeds their cost increase, and a
few unrouted ones are offered to every recreate; a move that cannot put every required stop
back is rejected. One iteration in ten instead exchanges the tails of two nearby routes at
their best cut (2-opt*).

An insertion is checked in O(1) per position, for all positions of all routes at once with
numpy: each route keeps the earliest start of every stop (forward) and the latest start that
keeps the rest of the route feasible (backward, Savelsbergh), so a stop fits between two others
when it can start in one of its windows after the first and the second is still reached by its
latest start. The latest start of a stop with several windows is the latest minute of the union
that the rest allows, which is exact because starting earlier never hurts a route. Lateness
after the inserted stop is the only cost that depends on the times downstream: where it can
change (soft windows and a lateness weight), the candidates are re-scheduled in Python in order
of their lower bound until none can beat the best.

Linked stops (a recipient's two services, `Link`) and the day's largest lateness make the
routes' times depend on each other: a stop may wait for its partner on another route, and one
late stop anywhere costs more. The routes are then timed together (`joint`): after a ruin
every route is re-timed from scratch as the reference `schedule_day` does (rounds until the
links' waits settle); an insertion only adds waits, so its exact cost comes from pushing the
starts after it later along its route and across links until each route absorbs the delay
(`_push`; a cycle of waits back to the inserted stop makes it infeasible). The numpy screen
gives each position a lower bound (distance, the stop's own lateness after its partner's
floor, and the late stops the delay must pass through without waiting), the positions are
pushed in order of it, each push gives up as soon as it is dearer than the best so far, and
a delay within a stop's forward slack (no lateness, no partner moved, to the end of the
route) ends there. A ruin takes linked partners with the stops it removes, so a pair moves as
one unit; recreate puts the first back, then the second at the partner's time, pushing the
first when the gap asks for it. The partner's group (volunteer) is never offered.

Where the time goes (Mankowska's 300-patient G1, 400 stops, half of them linked, 40
caregivers, cProfile): about 55 % in the pushes (some 35 starts moved per feasible push, six
pushes an insertion), 10 % in the forward slack, 10 % in re-timing after a ruin, 5 % in the
numpy screen; 55-70 iterations a second.

Where the time goes (cProfile, Solomon R201/RC101, 100 customers, 25 vehicles): about 30 % in
the numpy insertion checks (some 25 array operations a stop, 30-60 us), 25 % in putting a stop
in (the incremental schedule and the shifted position rows), 10 % in re-scheduling the routes a
ruin shortens, the rest in the loop. That is 600-1,200 iterations a second on the shared 2-core
machine (load 2.5-3), about ten insertions each.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.solvers.floating.model import TOLERANCE, DayRoutes, Stop, cost, feasible, schedule_day

INFEASIBLE = -np.inf
"""The latest arrival at a padding position: nothing fits there."""

MEAN_REMOVED = 10.0
"""SISR's c-bar: the mean number of stops a ruin removes."""
MAX_STRING = 10
"""SISR's L-max: the longest string removed from one route."""
SPLIT_RATE = 0.5
"""Share of ruins of one route that keep a middle part of the string (split string)."""
BLINK_RATE = 0.01
"""Share of feasible positions a recreate skips at random."""
START_TEMPERATURE_SHARE = 10.0
FINAL_TEMPERATURE_SHARE = 0.02
"""Annealing temperatures as shares of the incoming solution's mean leg cost."""
RANDOM_OPTIONAL = 2
"""Unrouted optional stops offered to each recreate at random, besides those near the ruin."""
RANDOM_RUIN_SHARE = 0.05
RELATED_RUIN_SHARE = 0.05
ROUTE_RUIN_SHARE = 0.03
"""Shares of ruins that remove random stops, stops related to a seed (place and time), or a
whole route; the rest are SISR's strings."""
TWO_OPT_SHARE = 0.1
"""Share of iterations that exchange two routes' tails (2-opt*) instead of ruin and recreate."""
TWO_OPT_NEIGHBOURS = 10
"""How many of the seed's nearest stops are looked at for the second route of a 2-opt*."""
NEIGHBOURS = 100
"""Each stop's nearest stops kept for SISR's ruin (a day of thousands of stops stays small)."""
ORDER_WEIGHTS = (4, 4, 2, 1)
"""SISR's orders of the removed stops: random, by load, far from the depot, close to it."""


@dataclass(frozen=True)
class SearchLimits:
    """When to stop: a monotonic deadline, optionally an iteration budget; the random seed."""

    deadline: float
    iterations: int | None = None
    seed: int = 0


@dataclass
class SearchResult:
    """The routes found, their starts, their cost and how the search went."""

    routes: list[list[int]]
    starts: list[list[int]]
    cost: float
    initial_cost: float
    iterations: int
    improvements: int
    refused: bool = False
    """The search's best routes failed the reference (`feasible`, `cost`), so the incoming
    ones were returned: a disagreement between the engine and the reference, never expected."""


@dataclass(frozen=True, slots=True)
class _Push:
    """An insertion timed across routes: the new starts (those beyond a stop's forward slack
    are not followed: nothing there costs more), the lateness it adds, the day's largest
    lateness after it, what that costs more, and the vehicles whose times change."""

    changes: dict[int, int]
    late_min: float
    largest_late_min: float
    max_late_cost: float
    touched: set[int]


@dataclass(frozen=True, slots=True)
class _Route:
    """One route's schedule: stops, earliest starts, latest starts, totals and cost."""

    stops: tuple[int, ...]
    starts: tuple[int, ...]
    latest: tuple[int, ...]
    distance_m: float
    work_min: float
    load: int
    late_min: float
    prize: float
    cost: float


def _latest_in(windows: Sequence[tuple[int, int, int]], bound: int) -> int | None:
    """The latest start at or before bound inside one of the (earliest, due, latest) windows."""
    for earliest, _, latest in reversed(windows):
        if earliest <= bound:
            return min(latest, bound)
    return None


def _start_or_none(windows: Sequence[tuple[int, int, int]], arrival: int) -> int | None:
    """The earliest start at or after the arrival inside one of the windows, or None."""
    for earliest, _, latest in windows:
        if arrival <= latest:
            return max(earliest, arrival)
    return None


def _start_in(windows: Sequence[tuple[int, int, int]], arrival: int) -> int:
    """The earliest start at or after a whole-minute arrival (the window must exist)."""
    start = _start_or_none(windows, arrival)
    if start is None:
        raise AssertionError(f"no window takes an arrival at {arrival}")
    return start


def _partners(day: DayRoutes) -> list[tuple[int, int, int | None, bool] | None]:
    """Per stop, its link: (the other stop, least gap, most gap, whether it is the first).

    A stop is in at most one link, both stops required and distinct (ValueError otherwise)."""
    partner: list[tuple[int, int, int | None, bool] | None] = [None] * len(day.stops)
    problems: list[str] = []
    for link in day.links:
        ends = (link.first, link.second)
        if link.first == link.second or not all(0 <= end < len(day.stops) for end in ends):
            problems.append(f"link {link.first}-{link.second}: two distinct known stops needed")
            continue
        if any(partner[end] is not None for end in ends):
            problems.append(f"link {link.first}-{link.second}: a stop is in two links")
            continue
        if not all(day.stops[end].required for end in ends):
            problems.append(f"link {link.first}-{link.second}: linked stops must be required")
            continue
        if link.max_gap_min is not None and link.max_gap_min < link.min_gap_min:
            problems.append(f"link {link.first}-{link.second}: most gap below least gap")
            continue
        partner[link.first] = (link.second, link.min_gap_min, link.max_gap_min, True)
        partner[link.second] = (link.first, link.min_gap_min, link.max_gap_min, False)
    if problems:
        raise ValueError("; ".join(problems))
    return partner


def _late_at(windows: Sequence[tuple[int, int, int]], start: int) -> int:
    """Minutes past the due time of the window holding the start."""
    for earliest, due, latest in windows:
        if earliest <= start <= latest:
            return max(0, start - due)
    return 0


class _Engine:
    """The day's data as arrays, the current routes and their insertion positions."""

    def __init__(self, day: DayRoutes) -> None:
        self.day = day
        self.distance = np.ascontiguousarray(day.distance_m, dtype=np.float64)
        self.travel = np.ascontiguousarray(day.travel_min, dtype=np.float64)
        self.distance_to = np.ascontiguousarray(self.distance.T)
        self.travel_to = np.ascontiguousarray(self.travel.T)
        self.distance_rows: list[list[float]] = self.distance.tolist()
        self.travel_rows: list[list[float]] = self.travel.tolist()
        self.weights = day.weights
        stops = day.stops
        self.place = [stop.place for stop in stops]
        self.duration = [stop.duration_min for stop in stops]
        self.load = [stop.load for stop in stops]
        self.prize = [stop.prize for stop in stops]
        self.windows = [self._effective_windows(stop) for stop in stops]
        self.soft = self.weights.per_late_min > 0 and any(
            due < latest for windows in self.windows for _, due, latest in windows
        )
        self.late_only_grows = not any(
            len(windows) > 1 and any(due < latest for _, due, latest in windows)
            for windows in self.windows
        )
        """Pushing a stop later never lowers its lateness (no soft window after another one),
        so the lateness pushed downstream is never negative."""
        vehicles = day.vehicles
        count = len(vehicles)
        self.vehicle_count = count
        self.group_of = np.array([vehicle.group for vehicle in vehicles], dtype=np.int64)
        self.max_leg = np.array(
            [math.inf if v.max_leg_m is None else v.max_leg_m for v in vehicles]
        )[:, None]
        self.max_route = np.array(
            [math.inf if v.max_route_m is None else v.max_route_m for v in vehicles]
        )
        self.max_route_list: list[float] = self.max_route.tolist()
        groups = day.groups
        self.capacity = np.array([math.inf if g.capacity is None else g.capacity for g in groups])
        self.max_stops = np.array(
            [math.inf if g.max_stops is None else g.max_stops for g in groups]
        )
        self.max_work = np.array(
            [math.inf if g.max_work_min is None else g.max_work_min for g in groups]
        )
        self.limit_groups = bool(
            np.isfinite(self.capacity).any()
            or np.isfinite(self.max_stops).any()
            or np.isfinite(self.max_work).any()
        )
        self.limit_work = bool(np.isfinite(self.max_work).any())
        self.need_travel = self.limit_work or self.weights.per_work_min != 0
        self.limit_legs = bool(np.isfinite(self.max_leg).any())
        self.limit_routes = bool(np.isfinite(self.max_route).any())
        self.eligible = [self._eligible(stop) for stop in stops]
        self.width = 8
        self.routes: list[_Route] = []
        self._allocate(self.width)
        self.group_load = np.zeros(len(groups))
        self.group_stops = np.zeros(len(groups))
        self.group_work = np.zeros(len(groups))
        self.partner = _partners(day)
        self.links = [
            (link.first, link.second, link.min_gap_min, link.max_gap_min) for link in day.links
        ]
        self.per_max_late = self.weights.per_max_late_min
        self.max_late_floor = self.weights.max_late_floor_min
        self.joint = bool(self.links) or self.per_max_late > 0
        """The routes are timed together (links) or the day's largest lateness costs: every
        insertion is then timed exactly across routes (`_push`)."""
        self.start_of: dict[int, int] = {}
        self.vehicle_of: dict[int, int] = {}
        self.max_late = 0.0
        self._pushed: tuple[int, int, int, _Push] | None = None
        self.stale_slack = [True] * self.vehicle_count
        """Routes whose slack must be computed again before it is read (their own times or a
        partner's changed)."""
        self.slack = [-1] * len(stops)
        """Per routed stop without a link and with one window, how much later it may start
        with no cost and no change to any linked stop downstream (forward slack): a push that
        stays within it ends there. -1 for the others."""
        self.single_window = [windows[0] if len(windows) == 1 else None for windows in self.windows]
        """Each stop's one (earliest, due, latest) window, None with several: the push's fast
        path."""

    def _effective_windows(self, stop: Stop) -> tuple[tuple[int, int, int], ...]:
        """(earliest, due, latest) windows; a fixed stop's one minute, with its lateness."""
        if stop.fixed is not None:
            minute = stop.fixed[1]
            due = minute
            for window in stop.windows:
                if window.earliest_min <= minute <= window.latest_min:
                    due = min(minute, window.due_min)
                    break
            return ((minute, due, minute),)
        return tuple((w.earliest_min, w.due_min, w.latest_min) for w in stop.windows)

    def _eligible(self, stop: Stop) -> np.ndarray:
        """The vehicles that may take the stop, as a column of booleans."""
        allowed = np.ones(self.vehicle_count, dtype=bool)
        if stop.vehicles:
            allowed[:] = False
            allowed[[v for v in stop.vehicles if 0 <= v < self.vehicle_count]] = True
        if stop.fixed is not None:
            fixed = stop.fixed[0]
            allowed[:] = False
            if 0 <= fixed < self.vehicle_count:
                allowed[fixed] = True
        return allowed

    def _allocate(self, width: int) -> None:
        """Position arrays [vehicle, position]: position i inserts before the route's stop i."""
        shape = (self.vehicle_count, width)
        self.width = width
        self.prev_place = np.zeros(shape, dtype=np.int64)
        self.next_place = np.zeros(shape, dtype=np.int64)
        self.prev_end_early = np.zeros(shape)
        self.next_bound = np.full(shape, INFEASIBLE)
        self.base_distance = np.zeros(shape)
        self.base_travel = np.zeros(shape)
        self.route_distance = np.zeros(self.vehicle_count)
        self.lengths = [0] * self.vehicle_count
        self.next_start = np.full(shape, np.inf)
        """[vehicle, position]: the start of the stop the position inserts before (joint)."""
        self.late_run = np.zeros(shape)
        """[vehicle, position]: how many late stops from the one the position inserts before
        on are reached with no wait between them, so that any delay passes to all of them."""

    # ----- one route -------------------------------------------------------------------------

    def evaluate(
        self, vehicle: int, stops: Sequence[int], floors: dict[int, int] | None = None
    ) -> _Route | None:
        """The route's schedule and totals, or None when it breaks a rule of its own; with
        floors (by stop), no stop starts before its floor (the links' waits)."""
        outing = self.day.vehicles[vehicle]
        if not stops:
            return _Route((), (), (), 0.0, 0.0, 0, 0.0, 0.0, 0.0)
        distance, travel, place_of = self.distance_rows, self.travel_rows, self.place
        max_leg = float(self.max_leg[vehicle, 0])
        place = outing.start_place
        ready = float(outing.opens_min)
        starts: list[int] = []
        metres = minutes = late = prize = 0.0
        load = 0
        for index in stops:
            here = place_of[index]
            leg = distance[place][here]
            if leg > max_leg + TOLERANCE:
                return None
            metres += leg
            minutes += travel[place][here] + self.duration[index]
            arrival = math.ceil(ready + travel[place][here] - TOLERANCE)
            if floors is not None:
                arrival = max(arrival, floors.get(index, 0))
            for earliest, due, latest in self.windows[index]:
                if arrival <= latest:
                    start = max(earliest, arrival)
                    late += max(0, start - due)
                    break
            else:
                return None
            starts.append(start)
            load += self.load[index]
            prize += self.prize[index]
            place = here
            ready = float(start + self.duration[index])
        leg = distance[place][outing.end_place]
        if leg > max_leg + TOLERANCE:
            return None
        metres += leg
        minutes += travel[place][outing.end_place]
        if ready + travel[place][outing.end_place] > outing.closes_min + TOLERANCE:
            return None
        if metres > self.max_route_list[vehicle] + TOLERANCE:
            return None
        latest_starts = [0] * len(stops)
        bound = outing.closes_min - travel[place][outing.end_place]
        for position in range(len(stops) - 1, -1, -1):
            index = stops[position]
            at_latest = _latest_in(
                self.windows[index], math.floor(bound - self.duration[index] + TOLERANCE)
            )
            if at_latest is None:
                return None
            latest_starts[position] = at_latest
            if position:
                bound = at_latest - travel[place_of[stops[position - 1]]][place_of[index]]
        weights = self.weights
        total = (
            weights.per_m * metres
            + weights.per_work_min * minutes
            + weights.per_late_min * late
            - prize
        )
        return _Route(
            tuple(stops),
            tuple(starts),
            tuple(latest_starts),
            metres,
            minutes,
            load,
            late,
            prize,
            total,
        )

    def install(self, vehicle: int, route: _Route) -> None:
        """Make the route current: its positions and its group's totals."""
        if vehicle < len(self.routes):
            old = self.routes[vehicle]
            self.routes[vehicle] = route
        else:
            old = _Route((), (), (), 0.0, 0.0, 0, 0.0, 0.0, 0.0)
            self.routes.append(route)
        group = self.group_of[vehicle]
        self.group_load[group] += route.load - old.load
        self.group_stops[group] += len(route.stops) - len(old.stops)
        self.group_work[group] += route.work_min - old.work_min
        self.route_distance[vehicle] = route.distance_m
        if self.joint:
            self._track(vehicle, old, route)
        count = len(route.stops)
        if self.joint and count + 1 <= self.width:
            self._late_runs(vehicle, route, len(old.stops))
        self.lengths[vehicle] = count
        if count + 1 > self.width:
            self._grow(max(2 * self.width, count + 1))
            return
        outing = self.day.vehicles[vehicle]
        size = count + 1
        places = [self.place[index] for index in route.stops]
        self.prev_place[vehicle, :size] = [outing.start_place, *places]
        self.next_place[vehicle, :size] = [*places, outing.end_place]
        duration = self.duration
        self.prev_end_early[vehicle, :size] = [
            outing.opens_min - TOLERANCE,
            *[
                start + duration[index] - TOLERANCE
                for start, index in zip(route.starts, route.stops, strict=True)
            ],
        ]
        self.next_bound[vehicle, :size] = [*route.latest, outing.closes_min]
        if len(old.stops) > count:
            self.next_bound[vehicle, size : len(old.stops) + 1] = INFEASIBLE
        if count:
            prev = self.prev_place[vehicle, :size]
            following = self.next_place[vehicle, :size]
            self.base_distance[vehicle, :size] = self.distance[prev, following]
            if self.need_travel:
                self.base_travel[vehicle, :size] = self.travel[prev, following]
        else:
            self.base_distance[vehicle, 0] = 0.0
            self.base_travel[vehicle, 0] = 0.0

    def _grow(self, width: int) -> None:
        """Wider position arrays, every route re-installed."""
        routes = self.routes
        self._allocate(width)
        self.routes = []
        self.group_load[:] = 0
        self.group_stops[:] = 0
        self.group_work[:] = 0
        for vehicle, route in enumerate(routes):
            self.install(vehicle, route)

    # ----- inserting one stop ----------------------------------------------------------------

    def best_insertion(self, index: int, blinks: list[int] | None) -> tuple[float, int, int] | None:
        """The cheapest feasible (cost increase, vehicle, position) for the stop, or None.

        The cost increase is net of the stop's prize; blinks (flat indexes into [vehicle,
        position]) are positions skipped."""
        found = self.insertion_costs(index, blinks)
        if found is None:
            return None
        delta, start = found
        if self.joint:
            return self._best_joint(index, delta, start)
        if not self.soft:
            flat = int(delta.argmin())
            vehicle, position = divmod(flat, delta.shape[1])
            return float(delta[vehicle, position]) - self.prize[index], vehicle, position
        return self._best_with_lateness(index, delta, start)

    def insertion_costs(
        self, index: int, blinks: list[int] | None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Per [vehicle, position] (up to the longest route): the cost increase of inserting
        the stop there (infinite where it breaks a rule; before its prize and the lateness
        pushed downstream) and its start; None when it fits nowhere."""
        place = self.place[index]
        duration = self.duration[index]
        used = self.used_width()
        prev_place = self.prev_place[:, :used]
        next_place = self.next_place[:, :used]
        travel_in = self.travel_to[place][prev_place]
        arrival = np.ceil(travel_in + self.prev_end_early[:, :used])
        windows = self.windows[index]
        if len(windows) == 1:
            earliest, due, latest = windows[0]
            start = np.maximum(arrival, earliest)
            ok = arrival <= latest
            late = np.maximum(start - due, 0.0) if due < latest else None
        else:
            start = np.full(arrival.shape, np.inf)
            late_at = np.zeros(arrival.shape)
            for earliest, due, latest in reversed(windows):
                reach = arrival <= latest
                start = np.where(reach, np.maximum(arrival, earliest), start)
                late_at = np.where(reach, np.maximum(start - due, 0.0), late_at)
            ok = np.isfinite(start)
            late = late_at
        travel_out = self.travel[place][next_place]
        ok &= start + travel_out <= self.next_bound[:, :used] - (duration - TOLERANCE)
        allowed = self.eligible[index]
        if self.limit_groups:
            fits = (self.group_load + self.load[index] <= self.capacity) & (
                self.group_stops < self.max_stops
            )
            allowed = allowed & fits[self.group_of]
        ok &= allowed[:, None]
        distance_in = self.distance_to[place][prev_place]
        distance_out = self.distance[place][next_place]
        added_distance = distance_in + distance_out - self.base_distance[:, :used]
        added_travel = (
            travel_in + travel_out - self.base_travel[:, :used] if self.need_travel else None
        )
        if self.limit_legs:
            ok &= (distance_in <= self.max_leg + TOLERANCE) & (
                distance_out <= self.max_leg + TOLERANCE
            )
        if self.limit_routes:
            ok &= (
                self.route_distance[:, None] + added_distance <= self.max_route[:, None] + TOLERANCE
            )
        if added_travel is not None and self.limit_work:
            spare = self.max_work - self.group_work + (TOLERANCE - duration)
            ok &= added_travel <= spare[self.group_of][:, None]
        if blinks is not None:
            ok.ravel()[blinks] = False
        if not ok.any():
            return None
        weights = self.weights
        delta = added_distance if weights.per_m == 1.0 else weights.per_m * added_distance
        if added_travel is not None and weights.per_work_min:
            delta = delta + weights.per_work_min * (added_travel + duration)
        if late is not None and weights.per_late_min:
            delta = delta + weights.per_late_min * late
        return np.where(ok, delta, np.inf), start

    def _best_with_lateness(
        self, index: int, delta: np.ndarray, start: np.ndarray
    ) -> tuple[float, int, int] | None:
        """Add the lateness the insertion pushes downstream, best lower bound first."""
        order = np.argsort(delta, axis=None)
        best: tuple[float, int, int] | None = None
        for flat in order:
            vehicle, position = divmod(int(flat), delta.shape[1])
            bound = float(delta[vehicle, position])
            if not math.isfinite(bound):
                break
            if best is not None and bound >= best[0] and self.late_only_grows:
                break
            exact = bound + self.weights.per_late_min * self.pushed_lateness(
                index, vehicle, position, int(start[vehicle, position])
            )
            if best is None or exact < best[0]:
                best = (exact, vehicle, position)
        if best is None:
            return None
        return best[0] - self.prize[index], best[1], best[2]

    def pushed_lateness(self, index: int, vehicle: int, position: int, start: int) -> float:
        """Extra lateness of the stops after the position when the stop starts there."""
        route = self.routes[vehicle]
        extra = 0.0
        place = self.place[index]
        ready = float(start + self.duration[index])
        for at in range(position, len(route.stops)):
            following = route.stops[at]
            here = self.place[following]
            arrival = math.ceil(ready + self.travel_rows[place][here] - TOLERANCE)
            old = route.starts[at]
            windows = self.windows[following]
            new = _start_in(windows, arrival)
            if new == old:
                break
            extra += _late_at(windows, new) - _late_at(windows, old)
            place = here
            ready = float(new + self.duration[following])
        return extra

    def insert(
        self, index: int, vehicle: int, position: int, changed: dict[int, _Route] | None = None
    ) -> None:
        """Put the stop into the route at the position (checked by best_insertion); changed
        gets the routes as they were before, the routes the stop pushes across links included,
        so that undoing the step restores every one.

        Incremental: the starts after the stop change only until one keeps its start, the
        latest starts before it only until one keeps its latest start."""
        if changed is not None:
            changed.setdefault(vehicle, self.routes[vehicle])
        if self.joint:
            self._insert_joint(index, vehicle, position, changed)
            return
        old = self.routes[vehicle]
        if not old.stops:
            fresh = self.evaluate(vehicle, [index])
            if fresh is None:
                raise AssertionError(f"stop {index} does not fit vehicle {vehicle}")
            self.install(vehicle, fresh)
            return
        outing = self.day.vehicles[vehicle]
        travel, place_of, duration = self.travel_rows, self.place, self.duration
        stops = list(old.stops)
        stops.insert(position, index)
        starts = list(old.starts)
        here = place_of[index]
        if position:
            before = stops[position - 1]
            ready = float(starts[position - 1] + duration[before])
            previous = place_of[before]
        else:
            ready = float(outing.opens_min)
            previous = outing.start_place
        windows = self.windows[index]
        start = _start_in(windows, math.ceil(ready + travel[previous][here] - TOLERANCE))
        late = old.late_min + _late_at(windows, start)
        starts.insert(position, start)
        place = here
        ready = float(start + duration[index])
        last_start = position
        for at in range(position + 1, len(stops)):
            following = stops[at]
            there = place_of[following]
            arrival = math.ceil(ready + travel[place][there] - TOLERANCE)
            was = starts[at]
            windows = self.windows[following]
            new = _start_in(windows, arrival)
            if new == was:
                break
            late += _late_at(windows, new) - _late_at(windows, was)
            starts[at] = new
            last_start = at
            place = there
            ready = float(new + duration[following])
        latest = list(old.latest)
        if position < len(old.stops):
            bound = latest[position] - travel[here][place_of[stops[position + 1]]]
        else:
            bound = outing.closes_min - travel[here][outing.end_place]
        mine = _latest_in(self.windows[index], math.floor(bound - duration[index] + TOLERANCE))
        if mine is None:
            raise AssertionError(f"stop {index} does not fit vehicle {vehicle} at {position}")
        latest.insert(position, mine)
        first_latest = position
        for at in range(position - 1, -1, -1):
            current = stops[at]
            bound = latest[at + 1] - travel[place_of[current]][place_of[stops[at + 1]]]
            value = _latest_in(
                self.windows[current], math.floor(bound - duration[current] + TOLERANCE)
            )
            if value is None:
                raise AssertionError(f"stop {index} does not fit vehicle {vehicle} at {position}")
            if value == latest[at]:
                break
            latest[at] = value
            first_latest = at
        start_place = outing.start_place if position == 0 else place_of[stops[position - 1]]
        end_place = (
            outing.end_place if position == len(old.stops) else place_of[stops[position + 1]]
        )
        distances = self.distance_rows
        metres = (
            old.distance_m
            + distances[start_place][here]
            + distances[here][end_place]
            - distances[start_place][end_place]
        )
        minutes = (
            old.work_min
            + travel[start_place][here]
            + travel[here][end_place]
            - travel[start_place][end_place]
            + duration[index]
        )
        prize = old.prize + self.prize[index]
        weights = self.weights
        total = (
            weights.per_m * metres
            + weights.per_work_min * minutes
            + weights.per_late_min * late
            - prize
        )
        route = _Route(
            tuple(stops),
            tuple(starts),
            tuple(latest),
            metres,
            minutes,
            old.load + self.load[index],
            late,
            prize,
            total,
        )
        if len(stops) + 1 > self.width:
            self.install(vehicle, route)
        else:
            self._install_insertion(vehicle, route, position, first_latest, last_start)

    def _install_insertion(
        self, vehicle: int, route: _Route, position: int, first_latest: int, last_start: int
    ) -> None:
        """install() after one insertion: shift the row's positions after it, write what changed
        (latest starts from first_latest to the stop, ends from the stop to last_start)."""
        old = self.routes[vehicle]
        self.routes[vehicle] = route
        if self.joint:
            self._track(vehicle, old, route)
        group = self.group_of[vehicle]
        self.group_load[group] += route.load - old.load
        self.group_stops[group] += 1
        self.group_work[group] += route.work_min - old.work_min
        self.route_distance[vehicle] = route.distance_m
        count = len(old.stops)
        self.lengths[vehicle] = count + 1
        at = position
        here = self.place[route.stops[at]]
        prev_place = self.prev_place[vehicle]
        next_place = self.next_place[vehicle]
        prev_place[at + 2 : count + 2] = prev_place[at + 1 : count + 1]
        prev_place[at + 1] = here
        next_place[at + 1 : count + 2] = next_place[at : count + 1]
        next_place[at] = here
        ends = self.prev_end_early[vehicle]
        ends[at + 2 : count + 2] = ends[at + 1 : count + 1]
        duration = self.duration
        ends[at + 1 : last_start + 2] = [
            route.starts[k] + duration[route.stops[k]] - TOLERANCE
            for k in range(at, last_start + 1)
        ]
        bounds = self.next_bound[vehicle]
        bounds[at + 1 : count + 2] = bounds[at : count + 1]
        bounds[first_latest : at + 1] = route.latest[first_latest : at + 1]
        before, after = int(prev_place[at]), int(next_place[at + 1])
        for row, matrix in (
            (self.base_distance[vehicle], self.distance_rows),
            (self.base_travel[vehicle], self.travel_rows),
        ):
            row[at + 2 : count + 2] = row[at + 1 : count + 1]
            row[at] = matrix[before][here]
            row[at + 1] = matrix[here][after]

    def used_width(self) -> int:
        """Positions in the longest route: the columns an insertion looks at."""
        return max(self.lengths) + 1

    def groups_within_limits(self, group: int) -> bool:
        """The group's stops, load and work within its limits."""
        return bool(
            self.group_load[group] <= self.capacity[group]
            and self.group_stops[group] <= self.max_stops[group]
            and self.group_work[group] <= self.max_work[group] + TOLERANCE
        )

    def total(self) -> float:
        """The current cost (routes minus the prizes they collect, and the largest lateness
        above its floor)."""
        routes = sum(route.cost for route in self.routes)
        if self.per_max_late:
            routes += self.per_max_late * max(0.0, self.max_late - self.max_late_floor)
        return routes

    # ----- the routes timed together (links, the largest lateness) ----------------------------

    def _track(self, vehicle: int, old: _Route, route: _Route) -> None:
        """Keep each routed stop's vehicle, start and forward slack (another route may hold it
        now); the routes of the route's partners get their slack again (it counts on the
        partners' starts)."""
        vehicle_of, start_of, slack = self.vehicle_of, self.start_of, self.slack
        for stop in old.stops:
            if vehicle_of.get(stop) == vehicle:
                del vehicle_of[stop]
                del start_of[stop]
                slack[stop] = -1
        for stop, start in zip(route.stops, route.starts, strict=True):
            vehicle_of[stop] = vehicle
            start_of[stop] = start
        stale = self.stale_slack
        stale[vehicle] = True
        if self.links:
            for stop in route.stops:
                link = self.partner[stop]
                if link is not None and link[0] in vehicle_of:
                    stale[vehicle_of[link[0]]] = True

    def _late_runs(self, vehicle: int, route: _Route, old_count: int) -> None:
        """The route's next starts and late runs (the insertion bound's rows)."""
        count = len(route.stops)
        self.next_start[vehicle, : count + 1] = [*route.starts, math.inf]
        if old_count > count:
            self.next_start[vehicle, count + 1 : old_count + 1] = math.inf
            self.late_run[vehicle, count + 1 : old_count + 1] = 0.0
        runs = [0.0] * (count + 1)
        travel, place_of, duration = self.travel_rows, self.place, self.duration
        stops, starts = route.stops, route.starts
        for position in range(count - 1, -1, -1):
            stop = stops[position]
            single = self.single_window[stop]
            late = 1.0 if single is not None and starts[position] >= single[1] else 0.0
            if position + 1 < count:
                arrival = math.ceil(
                    starts[position]
                    + duration[stop]
                    + travel[place_of[stop]][place_of[stops[position + 1]]]
                    - TOLERANCE
                )
                if arrival >= starts[position + 1]:
                    late += runs[position + 1]
            runs[position] = late
        self.late_run[vehicle, : count + 1] = runs

    def _fresh_slack(self, vehicle: int) -> list[int]:
        """The slack list, with the vehicle's route's entries brought up to date."""
        if self.stale_slack[vehicle]:
            self.stale_slack[vehicle] = False
            self._slack_of(vehicle, self.routes[vehicle])
        return self.slack

    def _slack_of(self, vehicle: int, route: _Route) -> None:
        """Each stop's forward slack on the route: how much later it may start with no more
        lateness on the route, no start out of its windows, no outing ending too late, and no
        partner that must move (backward: the least of its own room and the next stop's slack
        plus its wait)."""
        slack = self.slack
        if not route.stops:
            return
        outing = self.day.vehicles[vehicle]
        travel, place_of, duration = self.travel_rows, self.place, self.duration
        last = route.stops[-1]
        after = (
            outing.closes_min
            - route.starts[-1]
            - duration[last]
            - travel[place_of[last]][outing.end_place]
        )
        for position in range(len(route.stops) - 1, -1, -1):
            stop = route.stops[position]
            start = route.starts[position]
            single = self.single_window[stop]
            if single is None:
                room = 0.0
            else:
                room = float(max(0, min(single[1], single[2]) - start))
                link = self.partner[stop]
                if link is not None:
                    room = min(room, self._link_room(stop, start, link))
            own = min(room, after)
            slack[stop] = int(own) if own >= 0 else -1
            if position:
                before = route.stops[position - 1]
                arrival = math.ceil(
                    route.starts[position - 1]
                    + duration[before]
                    + travel[place_of[before]][place_of[stop]]
                    - TOLERANCE
                )
                after = own + (start - arrival)

    def _link_room(self, stop: int, start: int, link: tuple[int, int, int | None, bool]) -> float:
        """How much later the stop may start before its routed partner must move."""
        other, low, high, first = link
        at = self.start_of.get(other)
        if at is None:
            return math.inf
        if first:
            return float(max(0, at - start - low))
        if high is None:
            return math.inf
        return float(max(0, at + high - start))

    def snapshot(self) -> float:
        """What undoing a step must restore besides the routes: the largest lateness."""
        return self.max_late

    def restore(self, saved: float) -> None:
        """Undo to a snapshot (after the routes are re-installed)."""
        self.max_late = saved

    def resync(self, changed: dict[int, _Route]) -> bool:
        """Time every route together from scratch (after stops left, when starts may fall):
        rounds of scheduling with the floors, raising the floors the links ask for, as the
        reference `schedule_day` does; False when it has no end (a cycle of waits) or a route
        breaks a rule. The routes whose times changed are installed (and noted in changed)."""
        stops_of = [route.stops for route in self.routes]
        vehicle_of = {stop: vehicle for vehicle, stops in enumerate(stops_of) for stop in stops}
        active = [link for link in self.links if link[0] in vehicle_of and link[1] in vehicle_of]
        floors: dict[int, int] = {}
        timed: dict[int, list[int]] = {}
        start_of: dict[int, int] = {}
        dirty: Sequence[int] = range(self.vehicle_count)
        for _ in range(len(active) + 2):
            for vehicle in dirty:
                starts = self._forward(vehicle, stops_of[vehicle], floors)
                if starts is None:
                    return False
                timed[vehicle] = starts
                start_of.update(zip(stops_of[vehicle], starts, strict=True))
            raised: set[int] = set()
            for first, second, low, high in active:
                at_first, at_second = start_of[first], start_of[second]
                if at_second < at_first + low:
                    floors[second] = at_first + low
                    raised.add(vehicle_of[second])
                if high is not None and at_second > at_first + high:
                    floors[first] = max(floors.get(first, 0), at_second - high)
                    raised.add(vehicle_of[first])
            if not raised:
                break
            dirty = sorted(raised)
        else:
            return False
        for vehicle, starts in timed.items():
            current = self.routes[vehicle]
            if tuple(starts) == current.starts:
                continue
            route = self.evaluate(vehicle, stops_of[vehicle], floors)
            if route is None:
                return False
            changed.setdefault(vehicle, current)
            self.install(vehicle, route)
        self.max_late = max(
            (float(_late_at(self.windows[stop], start)) for stop, start in start_of.items()),
            default=0.0,
        )
        return True

    def _forward(
        self, vehicle: int, stops: Sequence[int], floors: dict[int, int]
    ) -> list[int] | None:
        """The route's starts with the floors (evaluate's timing alone), or None when a start
        leaves its windows or the outing ends too late."""
        if not stops:
            return []
        outing = self.day.vehicles[vehicle]
        travel, place_of, duration = self.travel_rows, self.place, self.duration
        place = outing.start_place
        ready = float(outing.opens_min)
        starts: list[int] = []
        for index in stops:
            here = place_of[index]
            arrival = math.ceil(ready + travel[place][here] - TOLERANCE)
            floor = floors.get(index)
            if floor is not None and floor > arrival:
                arrival = floor
            start = _start_or_none(self.windows[index], arrival)
            if start is None:
                return None
            starts.append(start)
            place = here
            ready = float(start + duration[index])
        if ready + travel[place][outing.end_place] > outing.closes_min + TOLERANCE:
            return None
        return starts

    def _partner_floor(self, index: int) -> int:
        """The least start the stop's routed partner allows it (0 without one)."""
        partner = self.partner[index]
        return 0 if partner is None else self._floor_from(partner, {})

    def _floor_from(
        self, partner: tuple[int, int, int | None, bool], changes: dict[int, int]
    ) -> int:
        """The least start a stop's link allows it, its partner at its start in changes, else
        at its current start (0 when the partner is not routed)."""
        other, low, high, first = partner
        at = changes.get(other)
        if at is None:
            at = self.start_of.get(other)
            if at is None:
                return 0
        if first:
            return 0 if high is None else at - high
        return at + low

    def _best_joint(
        self, index: int, delta: np.ndarray, start: np.ndarray
    ) -> tuple[float, int, int] | None:
        """The cheapest insertion timed across routes: a lower bound for every position in numpy
        (the partner's floor, the largest lateness), then exact timings (`_push`), best bound
        first, until no bound can beat the best."""
        windows = self.windows[index]
        partner = self.partner[index]
        bound = delta
        if partner is not None and partner[0] in self.vehicle_of:
            group = self.group_of[self.vehicle_of[partner[0]]]
            bound = np.where((self.group_of == group)[:, None], np.inf, bound)
        if len(windows) == 1 and self.late_only_grows:
            _, due, _ = windows[0]
            floor = self._partner_floor(index)
            late = np.maximum(start - due, 0.0)
            floored_start = np.maximum(start, floor) if floor else start
            floored = np.maximum(floored_start - due, 0.0)
            if floor:
                bound = bound + self.weights.per_late_min * (floored - late)
            used = bound.shape[1]
            runs = self.late_run[:, :used]
            if runs.any():
                # the stops after the position that are late and do not wait are pushed by all
                # of the next stop's delay: lateness the insertion adds for sure
                arrival = np.ceil(
                    floored_start
                    + (self.duration[index] - TOLERANCE)
                    + self.travel[self.place[index]][self.next_place[:, :used]]
                )
                delay = np.maximum(arrival - self.next_start[:, :used], 0.0)
                bound = bound + self.weights.per_late_min * delay * runs
            if self.per_max_late:
                paid = max(self.max_late, self.max_late_floor)
                bound = bound + self.per_max_late * np.maximum(floored - paid, 0.0)
        order = np.argsort(bound, axis=None)
        width = bound.shape[1]
        best: tuple[float, int, int, _Push] | None = None
        flat_bound = bound.ravel()
        per_late = self.weights.per_late_min
        for flat in order.tolist():
            low = float(flat_bound[flat])
            if not math.isfinite(low):
                break
            if best is not None and low >= best[0] and self.late_only_grows:
                break
            vehicle, position = divmod(flat, width)
            screened_late = _late_at(windows, int(start[vehicle, position]))
            settled = float(delta[vehicle, position]) - per_late * screened_late
            pushed = self._push(
                index, vehicle, position, settled, math.inf if best is None else best[0]
            )
            if pushed is None:
                continue
            exact = settled + per_late * pushed.late_min + pushed.max_late_cost
            if best is None or exact < best[0]:
                best = (exact, vehicle, position, pushed)
        if best is None:
            return None
        self._pushed = (index, best[1], best[2], best[3])
        return best[0] - self.prize[index], best[1], best[2]

    def _push(
        self,
        index: int,
        vehicle: int,
        position: int,
        settled: float = 0.0,
        limit: float = math.inf,
    ) -> _Push | None:
        """The stop inserted at the position, and every start it pushes later (along routes,
        across links), or None when a start leaves its windows, a route ends too late, or the
        waits go round a cycle back to the stop. Inserting only adds waits, so starts only
        rise: the propagation stops on each route where a start keeps its value.

        Also None as soon as the insertion's cost (settled, the part that does not depend on
        the times, plus the lateness so far) reaches limit, where lateness only grows: most
        candidates of an insertion are given up after a few stops."""
        routes, windows, duration = self.routes, self.windows, self.duration
        travel, place_of = self.travel_rows, self.place
        start_of, vehicle_of, partner_of = self.start_of, self.vehicle_of, self.partner
        per_late, per_max_late = self.weights.per_late_min, self.per_max_late
        single_window = self.single_window
        paid = max(self.max_late, self.max_late_floor)
        may_stop = self.late_only_grows and math.isfinite(limit)
        changes: dict[int, int] = {}
        sequence = list(routes[vehicle].stops)
        sequence.insert(position, index)
        if position:
            before = sequence[position - 1]
            ready = float(start_of[before] + duration[before])
            place = place_of[before]
        else:
            outing = self.day.vehicles[vehicle]
            ready, place = float(outing.opens_min), outing.start_place
        arrival = math.ceil(ready + travel[place][place_of[index]] - TOLERANCE)
        floor = self._partner_floor(index)
        start = _start_or_none(windows[index], max(arrival, floor))
        if start is None:
            return None
        changes[index] = start
        late = float(_late_at(windows[index], start))
        largest = max(self.max_late, late)
        work: list[tuple[int, int]] = [(vehicle, position)]
        touched = {vehicle}
        # the slack on the partner's route counts on the partner's room, which the stop being
        # inserted takes: no shortcut there
        own_link = partner_of[index]
        partner_vehicle = -1 if own_link is None else vehicle_of.get(own_link[0], -1)
        budget = 8 * (len(start_of) + 2)

        def too_dear() -> bool:
            """The lateness so far already makes the insertion cost the limit."""
            total = settled + per_late * late
            if per_max_late and largest > paid:
                total += per_max_late * (largest - paid)
            return total >= limit

        def linked(stop: int, start: int) -> bool:
            """The partner's wait for the stop's new start; False when it cannot be kept."""
            nonlocal late, largest
            partner = partner_of[stop]
            if partner is None:
                return True
            other, low, high, first = partner
            if other == index and stop != index:
                at = changes[index]
            elif other in vehicle_of:
                at = changes.get(other, start_of[other])
            else:
                return True
            if first:
                need = start + low
            elif high is None:
                return True
            else:
                need = start - high
            if at >= need:
                return True
            if other == index:
                return False
            single = single_window[other]
            if single is not None:
                earliest, due, latest = single
                raised = need if need > earliest else earliest
                if raised > latest:
                    return False
                now = raised - due if raised > due else 0
                late += now - (at - due if at > due else 0)
            else:
                found = _start_or_none(windows[other], need)
                if found is None:
                    return False
                raised = found
                now = _late_at(windows[other], raised)
                late += now - _late_at(windows[other], at)
            changes[other] = raised
            if now > largest:
                largest = now
            other_vehicle = vehicle_of[other]
            if other_vehicle == vehicle:
                work.append((vehicle, sequence.index(other)))
            else:
                work.append((other_vehicle, routes[other_vehicle].stops.index(other)))
            return True

        if not linked(index, start) or (may_stop and too_dear()):
            return None
        while work:
            budget -= 1
            if budget < 0:
                return None
            at_vehicle, at = work.pop()
            stops = sequence if at_vehicle == vehicle else routes[at_vehicle].stops
            # the slack before the inserted stop counts on the stops after it without the stop:
            # no shortcut there (and the partner's route's, as above)
            shortcut = at_vehicle != partner_vehicle and (at_vehicle != vehicle or at >= position)
            current = stops[at]
            ready = float(changes[current] + duration[current])
            place = place_of[current]
            for following in stops[at + 1 :]:
                here = place_of[following]
                arrival = math.ceil(ready + travel[place][here] - TOLERANCE)
                old = changes.get(following)
                if old is None:
                    old = start_of[following]
                    if arrival <= old:
                        break
                    if shortcut and arrival - old <= self._fresh_slack(at_vehicle)[following]:
                        touched.add(at_vehicle)
                        break
                elif arrival <= old:
                    break
                if following == index:
                    return None
                # the partner's floor (`_floor_from`) and the start in the window below are
                # inlined, as in `linked`, on purpose: this loop is the engine's hottest path
                link = partner_of[following]
                if link is not None:
                    other, low, high, first = link
                    at_other = changes.get(other)
                    if at_other is None:
                        at_other = start_of.get(other)
                    if at_other is not None:
                        if not first:
                            if at_other + low > arrival:
                                arrival = at_other + low
                        elif high is not None and at_other - high > arrival:
                            arrival = at_other - high
                single = single_window[following]
                if single is not None:
                    earliest, due, latest = single
                    new = arrival if arrival > earliest else earliest
                    if new > latest:
                        return None
                    now = new - due if new > due else 0
                    late += now - (old - due if old > due else 0)
                else:
                    stop_windows = windows[following]
                    found = _start_or_none(stop_windows, arrival)
                    if found is None:
                        return None
                    new = found
                    now = _late_at(stop_windows, new)
                    late += now - _late_at(stop_windows, old)
                changes[following] = new
                if now > largest:
                    largest = now
                if link is not None and not linked(following, new):
                    return None
                if may_stop:
                    total = settled + per_late * late
                    if per_max_late and largest > paid:
                        total += per_max_late * (largest - paid)
                    if total >= limit:
                        return None
                ready = float(new + duration[following])
                place = here
            else:
                outing = self.day.vehicles[at_vehicle]
                if ready + travel[place][outing.end_place] > outing.closes_min + TOLERANCE:
                    return None
        max_late_cost = 0.0
        if per_max_late:
            floor_min = self.max_late_floor
            max_late_cost = per_max_late * (
                max(0.0, largest - floor_min) - max(0.0, self.max_late - floor_min)
            )
        return _Push(changes, late, largest, max_late_cost, touched)

    def _insert_joint(
        self, index: int, vehicle: int, position: int, changed: dict[int, _Route] | None
    ) -> None:
        """Insert the stop and re-time the routes it pushes (the push best_insertion found),
        noting each route as it was in changed."""
        pushed = self._pushed
        if pushed is not None and pushed[:3] == (index, vehicle, position):
            push = pushed[3]
        else:
            found = self._push(index, vehicle, position)
            if found is None:
                raise AssertionError(f"stop {index} does not fit vehicle {vehicle} at {position}")
            push = found
        self._pushed = None
        touched = push.touched | {self.vehicle_of[stop] for stop in push.changes if stop != index}
        for at_vehicle in sorted(touched):
            stops = list(self.routes[at_vehicle].stops)
            if at_vehicle == vehicle:
                stops.insert(position, index)
            floors = {
                stop: self._floor_from(link, push.changes)
                for stop in stops
                if (link := self.partner[stop]) is not None
            }
            route = self.evaluate(at_vehicle, stops, floors)
            if route is None:
                raise AssertionError(f"vehicle {at_vehicle} cannot be re-timed after a push")
            if changed is not None:
                changed.setdefault(at_vehicle, self.routes[at_vehicle])
            self.install(at_vehicle, route)
        self.max_late = push.largest_late_min


def _result(
    day: DayRoutes, routes: list[list[int]], initial: float, iterations: int, improvements: int
) -> SearchResult:
    starts = schedule_day(day, routes)
    if starts is None:
        raise ValueError(f"the routes {routes} cannot be scheduled")
    return SearchResult(
        routes=[list(route) for route in routes],
        starts=starts,
        cost=cost(day, routes),
        initial_cost=initial,
        iterations=iterations,
        improvements=improvements,
    )


def _load(engine: _Engine, routes: Sequence[Sequence[int]]) -> None:
    """Install routes given as stop lists (they must be feasible on their own)."""
    for vehicle in range(engine.vehicle_count):
        stops = routes[vehicle] if vehicle < len(routes) else []
        route = engine.evaluate(vehicle, stops)
        if route is None:
            raise ValueError(f"vehicle {vehicle}: route {list(stops)} cannot be scheduled")
        engine.install(vehicle, route)
    if engine.joint and not engine.resync({}):
        raise ValueError("the routes cannot be timed together under the links")


def construct(day: DayRoutes) -> list[list[int]]:
    """day.routes with every stop not yet routed put in by cheapest feasible insertion.

    Required stops go first, farthest from the start places first; optional stops go in where
    their prize exceeds their cost. A stop that fits nowhere stays out (feasible() says so)."""
    engine = _Engine(day)
    _load(engine, day.routes)
    routed = {index for route in day.routes for index in route}
    far = _depot_distance(engine)
    waiting = [index for index in range(len(day.stops)) if index not in routed]
    waiting.sort(key=lambda index: (not day.stops[index].required, -far[index]))
    for index in waiting:
        found = engine.best_insertion(index, None)
        if found is None:
            continue
        if not day.stops[index].required and found[0] >= 0:
            continue
        engine.insert(index, found[1], found[2])
    return [list(route.stops) for route in engine.routes]


def _depot_distance(engine: _Engine) -> list[float]:
    """Each stop's distance from the nearest start place (SISR's far and close orders)."""
    starts = sorted({vehicle.start_place for vehicle in engine.day.vehicles})
    if not starts:
        return [0.0] * len(engine.place)
    column = engine.distance[starts].min(axis=0)
    return [float(column[place]) for place in engine.place]


def _nearest(distance: np.ndarray, count: int) -> list[list[int]]:
    """Per row, the columns of the count smallest distances, nearest first (itself first)."""
    size = distance.shape[0]
    if size <= count:
        everything: list[list[int]] = np.argsort(distance, axis=1, kind="stable").tolist()
        return everything
    near = np.argpartition(distance, count - 1, axis=1)[:, :count]
    rows = np.arange(size)[:, None]
    order = np.argsort(distance[rows, near], axis=1, kind="stable")
    nearest: list[list[int]] = near[rows, order].tolist()
    return nearest


class _Search:
    """SISR's ruin and recreate with annealing on one engine."""

    def __init__(self, engine: _Engine, limits: SearchLimits) -> None:
        self.engine = engine
        self.rng = random.Random(limits.seed)
        self.blink_rng = np.random.default_rng(limits.seed)
        self.blink_draw = random.Random(limits.seed + 1)
        day = engine.day
        self.movable = [
            index
            for index, stop in enumerate(day.stops)
            if stop.fixed is None and (stop.required or stop.prize > 0)
        ]
        places = np.array(engine.place, dtype=np.int64)
        self.neighbours = _nearest(engine.distance[places][:, places], NEIGHBOURS)
        self.far = _depot_distance(engine)
        self.fixed = [stop.fixed is not None for stop in day.stops]
        self.required = [stop.required for stop in day.stops]
        self.optional = [
            not stop.required and stop.fixed is None and stop.prize > 0 for stop in day.stops
        ]
        self.optional_pool = [index for index, wanted in enumerate(self.optional) if wanted]
        self.where: dict[int, int] = {}
        self.refresh_where()

    def refresh_where(self) -> None:
        """Which vehicle holds each routed stop."""
        self.where = {
            index: vehicle
            for vehicle, route in enumerate(self.engine.routes)
            for index in route.stops
        }

    def ruin(self, changed: dict[int, _Route]) -> list[int]:
        """Remove stops: SISR's strings mostly, now and then random or related ones."""
        routed = [index for index in self.movable if index in self.where]
        if not routed:
            return []
        draw = self.rng.random()
        if draw < RANDOM_RUIN_SHARE:
            removed = self._ruin_random(routed, changed)
        elif draw < RANDOM_RUIN_SHARE + RELATED_RUIN_SHARE:
            removed = self._ruin_related(routed, changed)
        elif draw < RANDOM_RUIN_SHARE + RELATED_RUIN_SHARE + ROUTE_RUIN_SHARE:
            removed = self._ruin_route(changed)
        else:
            removed = self._ruin_strings(routed, changed)
        if self.engine.links:
            removed.extend(self._partners_of(removed, changed))
        return removed

    def _partners_of(self, removed: list[int], changed: dict[int, _Route]) -> list[int]:
        """The routed, movable partners of the removed stops, removed too: a linked pair moves
        as one unit, so both can find a new time together."""
        partner_of = self.engine.partner
        partners = []
        for index in removed:
            partner = partner_of[index]
            if partner is not None and partner[0] in self.where and not self.fixed[partner[0]]:
                partners.append(partner[0])
        return self._take(partners, changed) if partners else []

    def _count(self, routed: list[int]) -> int:
        """How many stops a random or related ruin takes: about MEAN_REMOVED."""
        return min(len(routed), max(1, round(self.rng.uniform(0.5, 1.5) * MEAN_REMOVED)))

    def _ruin_random(self, routed: list[int], changed: dict[int, _Route]) -> list[int]:
        """Remove stops chosen at random."""
        return self._take(self.rng.sample(routed, self._count(routed)), changed)

    def _ruin_related(self, routed: list[int], changed: dict[int, _Route]) -> list[int]:
        """Remove a random stop and the stops most related to it: near in place and in time
        (Shaw), each measured against its mean over the routed stops."""
        engine = self.engine
        start_of = {
            index: start
            for route in engine.routes
            for index, start in zip(route.stops, route.starts, strict=True)
        }
        seed = self.rng.choice(routed)
        place = engine.place[seed]
        row = engine.distance_rows[place]
        far = [row[engine.place[index]] for index in routed]
        late = [abs(start_of[index] - start_of[seed]) for index in routed]
        far_scale = max(sum(far) / len(far), 1e-9)
        late_scale = max(sum(late) / len(late), 1e-9)
        ranked = sorted(range(len(routed)), key=lambda k: far[k] / far_scale + late[k] / late_scale)
        return self._take([routed[k] for k in ranked[: self._count(routed)]], changed)

    def _ruin_route(self, changed: dict[int, _Route]) -> list[int]:
        """Empty the shorter of two random routes: the way to fewer, fuller routes."""
        engine = self.engine
        used = [vehicle for vehicle, route in enumerate(engine.routes) if route.stops]
        pair = [self.rng.choice(used), self.rng.choice(used)]
        vehicle = min(pair, key=lambda v: len(engine.routes[v].stops))
        stops = [index for index in engine.routes[vehicle].stops if not self.fixed[index]]
        return self._take(stops, changed)

    def _take(self, chosen: list[int], changed: dict[int, _Route]) -> list[int]:
        """Remove the chosen stops route by route; a route they would break keeps them."""
        engine = self.engine
        by_vehicle: dict[int, set[int]] = {}
        for index in chosen:
            by_vehicle.setdefault(self.where[index], set()).add(index)
        removed: list[int] = []
        for vehicle in sorted(by_vehicle):
            taken = by_vehicle[vehicle]
            route = engine.routes[vehicle]
            new = engine.evaluate(vehicle, [stop for stop in route.stops if stop not in taken])
            if new is None:
                continue
            changed.setdefault(vehicle, route)
            engine.install(vehicle, new)
            for stop in route.stops:
                if stop in taken:
                    del self.where[stop]
                    removed.append(stop)
        return removed

    def _ruin_strings(self, routed: list[int], changed: dict[int, _Route]) -> list[int]:
        """Remove strings of stops from routes near a random seed stop (SISR)."""
        engine, rng = self.engine, self.rng
        lengths = [len(route.stops) for route in engine.routes if route.stops]
        string_max = min(MAX_STRING, sum(lengths) / len(lengths))
        strings_max = 4 * MEAN_REMOVED / (1 + string_max) - 1
        strings = int(rng.uniform(1, strings_max + 1))
        seed = rng.choice(routed)
        removed: list[int] = []
        ruined: set[int] = set()
        for index in self.neighbours[seed]:
            if len(ruined) >= strings:
                break
            vehicle = self.where.get(index)
            if vehicle is None or vehicle in ruined:
                continue
            route = engine.routes[vehicle]
            size = len(route.stops)
            length = int(rng.uniform(1, min(size, string_max) + 1))
            ruined.add(vehicle)
            taken = self._string(route.stops, route.stops.index(index), length)
            taken = [stop for stop in taken if not self.fixed[stop]]
            if not taken:
                continue
            keep = [stop for stop in route.stops if stop not in taken]
            new = engine.evaluate(vehicle, keep)
            if new is None:
                continue
            changed.setdefault(vehicle, route)
            engine.install(vehicle, new)
            for stop in taken:
                del self.where[stop]
            removed.extend(taken)
        return removed

    def _string(self, stops: tuple[int, ...], at: int, length: int) -> list[int]:
        """A string of the length holding position at, or a split string keeping its middle."""
        rng = self.rng
        size = len(stops)
        if length >= 2 and length < size and rng.random() < SPLIT_RATE:
            kept = 1
            while length + kept < size and rng.random() < 0.5:
                kept += 1
            span = length + kept
            first = rng.randint(max(0, at - span + 1), min(at, size - span))
            middle = rng.randint(first + 1, first + span - kept - 1) if span - kept > 1 else first
            window = list(stops[first : first + span])
            cut = middle - first
            del window[cut : cut + kept]
            return window
        first = rng.randint(max(0, at - length + 1), min(at, size - length))
        return list(stops[first : first + length])

    def recreate(self, removed: list[int], changed: dict[int, _Route]) -> bool:
        """Insert the removed stops back in one of SISR's orders; False if a required one fails."""
        engine, rng = self.engine, self.rng
        order = rng.choices(range(4), weights=ORDER_WEIGHTS)[0]
        if order == 0:
            rng.shuffle(removed)
        elif order == 1:
            removed.sort(key=lambda index: -engine.load[index])
        elif order == 2:
            removed.sort(key=lambda index: -self.far[index])
        else:
            removed.sort(key=lambda index: self.far[index])
        for index in removed:
            size = engine.vehicle_count * engine.used_width()
            skipped = int(self.blink_rng.binomial(size, BLINK_RATE))
            blinks = [self.blink_draw.randrange(size) for _ in range(skipped)] if skipped else None
            found = engine.best_insertion(index, blinks)
            if found is None and blinks is not None:
                found = engine.best_insertion(index, None)
            if found is None:
                if self.required[index]:
                    return False
                continue
            gain, vehicle, position = found
            if not self.required[index] and gain >= 0:
                continue
            engine.insert(index, vehicle, position, changed)
            self.where[index] = vehicle
        return True

    def two_opt_star(self, changed: dict[int, _Route]) -> bool:
        """Exchange the tails of a random stop's route and a nearby route at the best pair of
        cut points (2-opt*); False when no exchange fits (nothing changed then, or the caller
        undoes it). Candidates are screened in numpy by the junction legs' times, eligibility
        and loads; the chosen one is scheduled exactly (its rules, its cost, lateness
        included) before it counts."""
        engine, rng = self.engine, self.rng
        routed = [index for index in self.movable if index in self.where]
        if not routed:
            return False
        seed = rng.choice(routed)
        first = self.where[seed]
        second = None
        for other in self.neighbours[seed][1 : 1 + TWO_OPT_NEIGHBOURS]:
            vehicle = self.where.get(other)
            if vehicle is not None and vehicle != first:
                second = vehicle
                break
        if second is None:
            return False
        a, b = engine.routes[first], engine.routes[second]
        size_a, size_b = len(a.stops), len(b.stops)
        prev_a = engine.prev_place[first, : size_a + 1]
        prev_b = engine.prev_place[second, : size_b + 1]
        next_a = engine.next_place[first, : size_a + 1]
        next_b = engine.next_place[second, : size_b + 1]
        # [i, j]: the first keeps its stops before i and takes the second's from j on
        ok = (
            engine.prev_end_early[first, : size_a + 1, None] + engine.travel[prev_a][:, next_b]
            <= engine.next_bound[second, None, : size_b + 1]
        )
        ok &= (
            engine.prev_end_early[second, : size_b + 1, None] + engine.travel[prev_b][:, next_a]
            <= engine.next_bound[first, None, : size_a + 1]
        ).T
        ok &= self._tail_allowed(b.stops, first)[None, :]
        ok &= self._tail_allowed(a.stops, second)[:, None]
        group_a, group_b = engine.group_of[first], engine.group_of[second]
        if group_a != group_b and engine.limit_groups:
            loads_a = np.cumsum([0, *(engine.load[index] for index in a.stops)])
            loads_b = np.cumsum([0, *(engine.load[index] for index in b.stops)])
            room_a = engine.capacity[group_a] - (engine.group_load[group_a] - a.load)
            room_b = engine.capacity[group_b] - (engine.group_load[group_b] - b.load)
            ok &= loads_a[:, None] + (b.load - loads_b)[None, :] <= room_a
            ok &= loads_b[None, :] + (a.load - loads_a)[:, None] <= room_b
            count_a = engine.max_stops[group_a] - (engine.group_stops[group_a] - size_a)
            count_b = engine.max_stops[group_b] - (engine.group_stops[group_b] - size_b)
            cuts_a = np.arange(size_a + 1)[:, None]
            cuts_b = np.arange(size_b + 1)[None, :]
            ok &= cuts_a + (size_b - cuts_b) <= count_a
            ok &= cuts_b + (size_a - cuts_a) <= count_b
        for i, j in ((size_a, size_b), (0, 0), (0, size_b), (size_a, 0)):
            ok[i, j] = False
        if not ok.any():
            return False
        delta = (
            engine.distance[prev_a][:, next_b]
            + engine.distance[prev_b][:, next_a].T
            - engine.base_distance[first, : size_a + 1, None]
            - engine.base_distance[second, None, : size_b + 1]
        )
        delta = np.where(ok, delta, np.inf)
        i, j = divmod(int(np.argmin(delta)), size_b + 1)
        new_a = engine.evaluate(first, [*a.stops[:i], *b.stops[j:]])
        new_b = engine.evaluate(second, [*b.stops[:j], *a.stops[i:]])
        if new_a is None or new_b is None:
            return False
        changed.setdefault(first, a)
        changed.setdefault(second, b)
        engine.install(first, new_a)
        engine.install(second, new_b)
        for index in new_a.stops:
            self.where[index] = first
        for index in new_b.stops:
            self.where[index] = second
        if engine.joint and not (
            self._links_apart([*a.stops[i:], *b.stops[j:]]) and engine.resync(changed)
        ):
            return False
        return engine.groups_within_limits(group_a) and engine.groups_within_limits(group_b)

    def _links_apart(self, moved: list[int]) -> bool:
        """The moved stops' partners are on vehicles of other groups."""
        engine = self.engine
        for index in moved:
            partner = engine.partner[index]
            if partner is None or partner[0] not in self.where:
                continue
            mine, theirs = self.where[index], self.where[partner[0]]
            if engine.group_of[mine] == engine.group_of[theirs]:
                return False
        return True

    def _tail_allowed(self, stops: tuple[int, ...], vehicle: int) -> np.ndarray:
        """[k]: every stop from position k on may go to the vehicle (k = len: none left)."""
        allowed = [bool(self.engine.eligible[index][vehicle]) for index in stops]
        tails = np.ones(len(stops) + 1, dtype=bool)
        tails[:-1] = np.logical_and.accumulate(allowed[::-1])[::-1] if allowed else []
        return tails

    def undo(self, changed: dict[int, _Route], saved: float | None = None) -> None:
        """Put the changed routes back as they were (and the joint timing's state)."""
        for vehicle, route in changed.items():
            self.engine.install(vehicle, route)
        if saved is not None:
            self.engine.restore(saved)
        self.refresh_where()

    def optional_out(self, removed: list[int]) -> list[int]:
        """Unrouted optional stops near the removed ones, and a few at random: they get a
        chance to go in."""
        chosen: list[int] = []
        seen = set(removed)
        for index in removed[:3]:
            for other in self.neighbours[index][:10]:
                if other not in self.where and other not in seen and self.optional[other]:
                    chosen.append(other)
                    seen.add(other)
        pool = [index for index in self.optional_pool if index not in self.where]
        for index in self.rng.sample(pool, min(RANDOM_OPTIONAL, len(pool))):
            if index not in seen:
                chosen.append(index)
                seen.add(index)
        return chosen


def improve(
    day: DayRoutes, limits: SearchLimits, stop: Callable[[], bool] | None = None
) -> SearchResult:
    """Never returns a worse or infeasible solution than day.routes (return the incoming one
    when nothing better was found). Deterministic for a seed and an iteration budget."""
    problems = feasible(day, day.routes)
    if problems:
        raise ValueError("the incoming routes are infeasible: " + "; ".join(problems))
    initial = cost(day, day.routes)
    began = time.monotonic()
    engine = _Engine(day)
    _load(engine, day.routes)
    search = _Search(engine, limits)
    current = engine.total()
    best_cost = current
    best_routes = [list(route.stops) for route in engine.routes]
    legs = sum(len(route.stops) + 1 for route in engine.routes if route.stops)
    spent = sum(
        route.cost + sum(engine.prize[index] for index in route.stops) for route in engine.routes
    )
    leg_cost = spent / legs if legs and spent > 0 else 1.0
    hot = max(leg_cost * START_TEMPERATURE_SHARE, 1e-6)
    cold = max(leg_cost * FINAL_TEMPERATURE_SHARE, 1e-9)
    iterations = improvements = 0
    span = max(limits.deadline - began, 1e-9)
    while search.movable:
        if limits.iterations is not None and iterations >= limits.iterations:
            break
        now = time.monotonic()
        if now >= limits.deadline or (stop is not None and stop()):
            break
        if limits.iterations is not None:
            progress = iterations / limits.iterations
        else:
            progress = (now - began) / span
        temperature = hot * (cold / hot) ** min(progress, 1.0)
        iterations += 1
        changed: dict[int, _Route] = {}
        saved = engine.snapshot() if engine.joint else None
        if search.rng.random() < TWO_OPT_SHARE:
            if not search.two_opt_star(changed):
                search.undo(changed, saved)
                continue
        else:
            removed = search.ruin(changed)
            if engine.joint and not engine.resync(changed):
                search.undo(changed, saved)
                continue
            removed.extend(search.optional_out(removed))
            if not removed or not search.recreate(removed, changed):
                search.undo(changed, saved)
                continue
        candidate = engine.total()
        threshold = current - temperature * math.log(1.0 - search.rng.random())
        if candidate < threshold:
            current = candidate
            if candidate < best_cost - 1e-9:
                best_cost = candidate
                best_routes = [list(route.stops) for route in engine.routes]
                improvements += 1
        else:
            search.undo(changed, saved)
    if improvements and not feasible(day, best_routes) and cost(day, best_routes) < initial:
        return _result(day, best_routes, initial, iterations, improvements)
    incoming = _result(day, [list(route) for route in day.routes], initial, iterations, 0)
    incoming.refused = improvements > 0
    return incoming
