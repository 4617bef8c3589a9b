"""A volunteer's planned week as the rules read it: its trips, its minutes, its visits and load a
day, and where one more visit could still go.

Each day a volunteer's visits fall into their outings (`outings.outing_index`). A visit outside
every outing (a plan that breaks `volunteer_window`, such as a hand-made one) is counted as a
trip of its own, as the checker counts it, so its travel is not lost from the week's minutes.
`max_visits_per_day` and `capacity` hold per day, over all outings of the day.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher.models import WEEKDAYS, Visit, Volunteer
from matcher.rules.intervals import Interval, Intervals
from matcher.rules.outings import (
    EPSILON,
    Stop,
    outing_index,
    outing_problems,
    trips_by_outing,
    walk_outing,
)
from matcher.rules.plan_index import PlanIndex

if TYPE_CHECKING:
    from matcher.travel import TravelModel

Trip = tuple[Interval | None, list[Visit]]
"""An outing (None for a visit outside every outing) and its visits in start order."""

DISTANCE_PROBLEMS = frozenset({"trip_distance", "outing_distance", "unreachable"})
"""The codes of `outings.outing_problems` that no choice of start time can mend."""


def _start_order(visit: Visit) -> tuple[int, int, str, int]:
    return visit.start, visit.end, visit.need, visit.occurrence


def day_trips(outings: Intervals, visits: Sequence[Visit]) -> list[Trip]:
    """A volunteer's visits of one day as trips (`outings.trips_by_outing`), in time order: the
    visits of each outing in start order, and each visit outside every outing a trip of its
    own."""
    ordered = sorted(visits, key=_start_order)
    trips: list[Trip] = []
    for trip in trips_by_outing(outings, [(visit.start, visit.end) for visit in ordered]):
        first = ordered[trip[0]]
        index = outing_index(outings, first.start, first.end)
        trips.append((outings[index] if index is not None else None, [ordered[i] for i in trip]))
    return trips


def trip_minutes(travel: TravelModel, volunteer: Volunteer, visits: Sequence[Visit]) -> float:
    """Minutes one trip takes: its visits and every leg, from the start place and back home."""
    places = [travel.recipient_place[visit.recipient] for visit in visits]
    walk = walk_outing(travel, volunteer, places)
    return walk.travel_min + sum(visit.end - visit.start for visit in visits)


def week_minutes(
    travel: TravelModel,
    volunteer: Volunteer,
    index: PlanIndex,
    outings: dict[int, Intervals],
) -> float:
    """Minutes the volunteer's planned week takes (what `max_minutes_per_week` bounds): every
    visit and every leg of every trip."""
    return sum(
        trip_minutes(travel, volunteer, visits)
        for day in range(len(WEEKDAYS))
        for _, visits in day_trips(outings.get(day, []), index.volunteer_day(volunteer.id, day))
    )


def visits_allowed(volunteer: Volunteer, visits_that_day: int) -> bool:
    """Whether `max_visits_per_day` allows one more visit on a day that already has these."""
    most = volunteer.max_visits_per_day
    return most is None or visits_that_day < most


def can_carry(volunteer: Volunteer, load: int, carried: int = 0) -> bool:
    """Whether the volunteer's daily `capacity` holds `load` more on a day they already carry
    `carried` (with nothing carried: whether they can carry the visit at all)."""
    return volunteer.capacity is None or carried + load <= volunteer.capacity


def alone_problems(travel: TravelModel, volunteer: Volunteer, place: int) -> tuple[str, ...]:
    """What keeps the volunteer from an outing that makes just this one visit, whatever its
    times (the distance codes of `outings.outing_problems`: `unreachable`, `trip_distance`,
    `outing_distance`); empty when only time could stand in the way (`outings.alone_reach`
    then gives the travel minutes)."""
    unbounded: Interval = (-sys.maxsize, sys.maxsize)
    return tuple(outing_problems(travel, volunteer, unbounded, [Stop(place, 0.0, 0.0)]))


@dataclass(frozen=True)
class Insertion:
    """One more visit put into an outing at `position` (before the planned visit of that index,
    or after the last), the planned visits unmoved."""

    outing: Interval
    position: int
    starts: Intervals
    """Whole-minute starts at which the outing still keeps its times: leaving after it opens,
    time for every leg, home by its close."""
    added_min: float
    """Minutes the outing grows by: the visit and the extra travel."""
    problems: tuple[str, ...] = ()
    """What still breaks at those starts (`outings.outing_problems`): a leg or the walk too
    long, no way there. Empty when the visit fits."""

    @property
    def fits(self) -> bool:
        """Whether the visit fits here at some start."""
        return bool(self.starts) and not self.problems


def insertions(
    travel: TravelModel,
    volunteer: Volunteer,
    outings: Intervals,
    day_visits: Sequence[Visit],
    place: int,
    duration_min: int,
) -> list[Insertion]:
    """Every place in the volunteer's outings of one day where a visit of `duration_min` at
    `place` could go between their planned visits (or at an end), with its starts, the minutes
    it adds and what it breaks. The starts are checked with `outings.outing_problems`."""
    trips = {
        outing: visits for outing, visits in day_trips(outings, day_visits) if outing is not None
    }
    result: list[Insertion] = []
    for outing in outings:
        planned = trips.get(outing, [])
        stops = [
            Stop(travel.recipient_place[visit.recipient], visit.start, visit.end)
            for visit in planned
        ]
        before = walk_outing(travel, volunteer, [stop.place for stop in stops])
        for position in range(len(stops) + 1):
            places = [stop.place for stop in stops]
            places.insert(position, place)
            walk = walk_outing(travel, volunteer, places)
            there, onward = walk.legs[position].travel_min, walk.legs[position + 1].travel_min
            opens = stops[position - 1].end if position > 0 else outing[0]
            closes = stops[position].start if position < len(stops) else outing[1]
            earliest, latest = opens + there, closes - onward - duration_min
            starts: Intervals = []
            if math.isfinite(earliest) and math.isfinite(latest):
                low, high = math.ceil(earliest - EPSILON), math.floor(latest + EPSILON)
                if low <= high:
                    starts = [(low, high)]
            problems: tuple[str, ...] = ()
            if starts:
                start = starts[0][0]
                trial = [*stops]
                trial.insert(position, Stop(place, start, start + duration_min))
                found = outing_problems(travel, volunteer, outing, trial)
                if any(code not in DISTANCE_PROBLEMS for code in found):
                    starts = []
                problems = tuple(code for code in found if code in DISTANCE_PROBLEMS)
            added = walk.travel_min - before.travel_min + duration_min
            result.append(Insertion(outing, position, starts, added, problems))
    return result


__all__ = [
    "DISTANCE_PROBLEMS",
    "Insertion",
    "Trip",
    "alone_problems",
    "can_carry",
    "day_trips",
    "insertions",
    "trip_minutes",
    "visits_allowed",
    "week_minutes",
]
