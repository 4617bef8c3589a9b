"""A volunteer's outings: each stretch of availability is one trip out and back.

On each day, a volunteer's availability windows, merged where they overlap or touch, are their
*outings*. An outing leaves the start place (home, or the start location such as the community
office) at or after the outing opens, makes its visits in order, and is back home by the time it
closes; between two outings the volunteer goes home. A visit lies inside one outing. Weekly
minutes count every leg of every outing; `max_trip_distance_m` bounds each leg and
`max_outing_distance_m` the whole walk of an outing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from matcher.models import Volunteer
from matcher.rules.intervals import Interval, Intervals

if TYPE_CHECKING:
    from matcher.travel import TravelModel

EPSILON = 1e-6


def merge_windows(windows: Sequence[Interval]) -> Intervals:
    """Windows merged where they overlap or touch, sorted."""
    merged: Intervals = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def outings_by_day(volunteer: Volunteer) -> dict[int, Intervals]:
    """The volunteer's outings per weekday index: [(leaves at or after, back by), ...]."""
    raw: dict[int, list[Interval]] = {}
    for window in volunteer.availability:
        if window.end > window.start:
            raw.setdefault(window.day_index, []).append((window.start, window.end))
    return {day: merge_windows(spans) for day, spans in raw.items()}


def outing_index(outings: Intervals, start: float, end: float) -> int | None:
    """The index of the outing that holds a visit from `start` to `end`, or None."""
    for index, (low, high) in enumerate(outings):
        if low <= start + EPSILON and end <= high + EPSILON:
            return index
    return None


@dataclass(frozen=True)
class Leg:
    """One leg of an outing: from one place index to the next."""

    origin: int
    destination: int
    distance_m: float
    travel_min: float


@dataclass(frozen=True)
class OutingWalk:
    """The legs of an outing from the start place through its visits and back home."""

    legs: tuple[Leg, ...] = field(default_factory=tuple)

    @property
    def distance_m(self) -> float:
        return sum(leg.distance_m for leg in self.legs)

    @property
    def travel_min(self) -> float:
        return sum(leg.travel_min for leg in self.legs)


def walk_outing(travel: TravelModel, volunteer: Volunteer, places: Sequence[int]) -> OutingWalk:
    """The walk of an outing visiting `places` in order: start place, each visit, home."""
    stops = [travel.start_place[volunteer.id], *places, travel.home_place[volunteer.id]]
    return OutingWalk(
        tuple(
            Leg(
                origin,
                destination,
                travel.distance(origin, destination),
                travel.travel_min(volunteer, origin, destination),
            )
            for origin, destination in itertools.pairwise(stops)
        )
    )


@dataclass(frozen=True)
class Stop:
    """A visit of an outing: where, and from when to when (minutes after midnight)."""

    place: int
    start: float
    end: float


def outing_problems(
    travel: TravelModel, volunteer: Volunteer, outing: Interval, stops: Sequence[Stop]
) -> list[str]:
    """What breaks a rule in one outing with these visits in time order (empty: it works).

    The codes: `leave_early` (the first visit cannot be reached after the outing opens),
    `travel` (no time to get from one visit to the next), `home_late` (home after the outing
    closes), `trip_distance` (a leg longer than `max_trip_distance_m`), `outing_distance` (the
    whole walk longer than `max_outing_distance_m`), `unreachable` (no way there at all).
    """
    if not stops:
        return []
    walk = walk_outing(travel, volunteer, [stop.place for stop in stops])
    problems: list[str] = []
    if any(not math.isfinite(leg.travel_min) for leg in walk.legs):
        return ["unreachable"]
    if stops[0].start - walk.legs[0].travel_min < outing[0] - EPSILON:
        problems.append("leave_early")
    for index in range(1, len(stops)):
        if stops[index].start + EPSILON < stops[index - 1].end + walk.legs[index].travel_min:
            problems.append("travel")
            break
    if stops[-1].end + walk.legs[-1].travel_min > outing[1] + EPSILON:
        problems.append("home_late")
    trip_limit = volunteer.max_trip_distance_m
    if trip_limit is not None and any(leg.distance_m > trip_limit + EPSILON for leg in walk.legs):
        problems.append("trip_distance")
    outing_limit = volunteer.max_outing_distance_m
    if outing_limit is not None and walk.distance_m > outing_limit + EPSILON:
        problems.append("outing_distance")
    return problems


def alone_reach(
    travel: TravelModel, volunteer: Volunteer, place: int
) -> tuple[float, float] | None:
    """Travel minutes (out, back) of an outing that makes just this one visit, or None when the
    volunteer cannot make such an outing at all (no way, a leg or the walk too long): the two
    legs of `walk_outing(travel, volunteer, [place])`, read straight from the matrices (the
    diagnosis asks this for every volunteer and need of a week)."""
    start, home = travel.start_place[volunteer.id], travel.home_place[volunteer.id]
    out_min = travel.travel_min(volunteer, start, place)
    back_min = travel.travel_min(volunteer, place, home)
    if not (math.isfinite(out_min) and math.isfinite(back_min)):
        return None
    out_m, back_m = travel.distance(start, place), travel.distance(place, home)
    trip_limit = volunteer.max_trip_distance_m
    if trip_limit is not None and max(out_m, back_m) > trip_limit + EPSILON:
        return None
    outing_limit = volunteer.max_outing_distance_m
    if outing_limit is not None and out_m + back_m > outing_limit + EPSILON:
        return None
    return out_min, back_min


def trips_by_outing(outings: Intervals, spans: Sequence[tuple[float, float]]) -> list[list[int]]:
    """A volunteer-day's visits (given as (start, end) spans) cut into trips, in time order: the
    indices of the visits of each outing with visits, in start order, and a trip of its own for
    each visit outside every outing (a plan that breaks `volunteer_window`; its travel still
    counts)."""
    by_outing: dict[int, list[int]] = {}
    trips: list[list[int]] = []
    for position in sorted(range(len(spans)), key=lambda index: spans[index]):
        index = outing_index(outings, *spans[position])
        if index is None:
            trips.append([position])
        else:
            by_outing.setdefault(index, []).append(position)
    trips += by_outing.values()
    return sorted(trips, key=lambda trip: spans[trip[0]])
