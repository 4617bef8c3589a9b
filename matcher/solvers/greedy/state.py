"""The changing side of one greedy run: each volunteer's outings with their visits, the week's
minutes, the recipients' busy times and the visits placed so far.

A volunteer's day is a list of outings (`matcher.rules.outings`): each leaves the start place at
or after it opens, makes its visits in order and is back home by its close. The legs of an
outing run from the start place through its visits to home; weekly minutes count every leg of
every outing. Visits a day and what a volunteer carries are counted per day, over its outings.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from matcher.rules import outing_index
from matcher.rules.intervals import Interval
from matcher.solvers.greedy.setup import EPS, NeedInfo, Setup


@dataclass(slots=True)
class Outing:
    """One outing: when it may leave and must be back, its visits in time order and its legs.

    legs[i] is the distance into the i-th visit (legs[0] from the start place) and legs[-1] the
    way home, with leg_minutes the travel minutes of each; an outing without visits has no legs.
    """

    opens: int
    closes: int
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    places: list[int] = field(default_factory=list)
    legs: list[float] = field(default_factory=list)
    leg_minutes: list[float] = field(default_factory=list)
    minutes: float = 0.0
    """Minutes of the outing's visits and all its travel."""
    distance_m: float = 0.0
    """The whole walk of the outing."""
    extra_m: float = 0.0
    """Metres walked within its stops (an escort's walk with the attendee), in `distance_m`."""


@dataclass(slots=True)
class Day:
    """A volunteer's outings on one day, with the visits and the load of the whole day."""

    outings: list[Outing]
    visits: int = 0
    carried: int = 0


@dataclass(slots=True)
class Placed:
    """A visit in the plan, before `assemble_plan` numbers its occurrence."""

    need: int
    day: int
    start: int
    volunteers: tuple[str, ...]


class WeekState:
    """Who does what so far: days with outings, weekly minutes, recipients' busy times."""

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.days: list[list[Day | None]] = [[None] * 7 for _ in setup.helpers]
        self.load = [0.0] * len(setup.helpers)
        """Each volunteer's minutes over the week: visits and every leg of every outing."""
        self.day_visits = np.zeros((len(setup.helpers), 7), dtype=np.int64)
        self.day_carried = np.zeros((len(setup.helpers), 7), dtype=float)
        """Each volunteer-day's visits and load (`Day.visits`, `Day.carried`), as arrays: the
        cached insertions rule out full days at once."""
        self.busy: dict[tuple[int, int], list[Interval]] = {}
        self.linked_times: dict[tuple[int, int], list[Interval]] = {}
        """Times of the visits of linked needs, by (need index, day): a visit may overlap its
        partner's at the recipient."""
        self.need_days: list[list[int]] = [[] for _ in setup.needs]
        self.need_volunteers: list[set[int]] = [set() for _ in setup.needs]
        self.remaining = [info.need.visits_per_week for info in setup.needs]
        self.placed: list[Placed] = []
        self._positions: dict[int, int] = {}
        """Where each visit (by identity) stands in `placed`, for `unrecord`."""
        self.max_lateness = 0.0
        self.distance_m = 0.0
        """The whole walk of every outing of the week."""

    def day(self, volunteer: int, day: int) -> Day:
        """The volunteer's day, created with its empty outings on first use."""
        state = self.days[volunteer][day]
        if state is None:
            outings = self.setup.helpers[volunteer].outings[day]
            state = Day([Outing(opens, closes) for opens, closes in outings])
            self.days[volunteer][day] = state
        return state

    def outing_for(self, volunteer: int, day: int, start: int, end: int) -> int:
        """The index of the volunteer's outing that holds a visit then (a pinned visit outside
        every outing gets an outing of its own, which the checker will refuse)."""
        state = self.day(volunteer, day)
        found = outing_index([(o.opens, o.closes) for o in state.outings], start, end)
        if found is not None:
            return found
        state.outings.append(Outing(start, end))
        return len(state.outings) - 1

    def insert(
        self,
        volunteer: int,
        day: int,
        outing: int,
        position: int,
        start: int,
        end: int,
        place: int,
        load: int,
    ) -> None:
        """Add a visit to one outing of a volunteer's day and bring its legs, minutes and walk,
        the week's minutes and what the day carries up to date."""
        state = self.day(volunteer, day)
        trip = state.outings[outing]
        trip.starts.insert(position, start)
        trip.ends.insert(position, end)
        trip.places.insert(position, place)
        state.visits += 1
        state.carried += load
        self.day_visits[volunteer, day] += 1
        self.day_carried[volunteer, day] += load
        self._walk(volunteer, trip)

    def _walk(self, volunteer: int, trip: Outing) -> None:
        """Bring the outing's legs, minutes and walk, and the week's minutes and walk, up to date
        with its visits."""
        helper = self.setup.helpers[volunteer]
        if trip.places:
            stops = [helper.start_place, *trip.places, helper.home_place]
            distance = self.setup.travel.distance_m
            trip.legs = [float(distance[a, b]) for a, b in itertools.pairwise(stops)]
            times = self.setup.times
            if times is not None:
                trip.leg_minutes = [float(times[a, b]) for a, b in itertools.pairwise(stops)]
            else:
                trip.leg_minutes = [leg / helper.speed for leg in trip.legs]
        else:
            trip.legs, trip.leg_minutes = [], []
        visiting = sum(finish - begin for begin, finish in zip(trip.starts, trip.ends, strict=True))
        minutes = visiting + sum(trip.leg_minutes)
        self.load[volunteer] += minutes - trip.minutes
        trip.minutes = minutes
        walk = sum(trip.legs) + trip.extra_m
        if math.isfinite(walk) and math.isfinite(trip.distance_m):
            self.distance_m += walk - trip.distance_m
        trip.distance_m = walk

    # ---------------------------------------------------------------- removal

    def removable(self, volunteer: int, day: int, outing: int, position: int) -> bool:
        """Whether the visit at `position` of the outing can leave it with the others keeping
        their times: the leg that joins its neighbours is within the longest leg, the outing's
        walk within its limit, and the travel fits between them (explicit travel minutes need
        not obey the triangle inequality, nor a leg limit the sum of two legs)."""
        helper = self.setup.helpers[volunteer]
        trip = self.day(volunteer, day).outings[outing]
        count = len(trip.places)
        if count == 1:
            return True
        previous = helper.start_place if position == 0 else trip.places[position - 1]
        following = helper.home_place if position == count - 1 else trip.places[position + 1]
        joined = float(self.setup.travel.distance_m[previous, following])
        if joined > helper.max_trip_m:
            return False
        walk = trip.distance_m - trip.legs[position] - trip.legs[position + 1] + joined
        if walk > helper.max_outing_m + EPS:
            return False
        times = self.setup.times
        minutes = float(times[previous, following]) if times is not None else joined / helper.speed
        low = trip.opens if position == 0 else trip.ends[position - 1]
        high = trip.closes if position == count - 1 else trip.starts[position + 1]
        return low + minutes <= high + EPS

    def remove(self, volunteer: int, day: int, outing: int, position: int, load: int) -> None:
        """Take the visit at `position` out of the outing (the inverse of `insert`)."""
        state = self.day(volunteer, day)
        trip = state.outings[outing]
        del trip.starts[position], trip.ends[position], trip.places[position]
        state.visits -= 1
        state.carried -= load
        self.day_visits[volunteer, day] -= 1
        self.day_carried[volunteer, day] -= load
        self._walk(volunteer, trip)

    def unrecord(self, placed: Placed) -> None:
        """Forget a visit recorded with `record`: the recipient's busy time, the need's day and
        the visit itself, whose place in `placed` the last one takes (`need_volunteers` and
        `max_lateness` are kept: they only steer costs)."""
        info = self.setup.needs[placed.need]
        interval = (placed.start, placed.start + info.duration)
        self.busy[(info.recipient_index, placed.day)].remove(interval)
        if info.partner >= 0 or info.leader >= 0:
            self.linked_times[(info.index, placed.day)].remove(interval)
        self.need_days[placed.need].remove(placed.day)
        index = self._positions.pop(id(placed))
        last = self.placed.pop()
        if last is not placed:
            self.placed[index] = last
            self._positions[id(last)] = index

    def mark_busy(self, info: NeedInfo, day: int, start: int, end: int) -> None:
        """Remember that the need's recipient has a visit then (no other visit may overlap it,
        except one of the linked need's)."""
        busy = self.busy.setdefault((info.recipient_index, day), [])
        busy.append((start, end))
        busy.sort()
        if info.partner >= 0 or info.leader >= 0:
            self.linked_times.setdefault((info.index, day), []).append((start, end))

    def busy_for(self, info: NeedInfo, day: int) -> list[Interval]:
        """The recipient's visits on `day` that a visit of this need must not overlap: all but
        those of its linked need."""
        busy = self.busy.get((info.recipient_index, day), [])
        linked = info.partner if info.partner >= 0 else info.leader
        if linked < 0 or (linked, day) not in self.linked_times:
            return busy
        others = list(busy)
        for interval in self.linked_times[(linked, day)]:
            others.remove(interval)
        return others

    def record(self, info: NeedInfo, day: int, start: int, volunteers: tuple[str, ...]) -> None:
        """Count a visit placed: its day, its volunteers, the need's remaining occurrences and
        the largest lateness so far."""
        self.mark_busy(info, day, start, start + info.duration)
        self.need_days[info.index].append(day)
        self.need_volunteers[info.index].update(
            self.setup.volunteer_index[volunteer] for volunteer in volunteers
        )
        self.max_lateness = max(self.max_lateness, info.lateness(day, start))
        placed = Placed(info.index, day, start, volunteers)
        self._positions[id(placed)] = len(self.placed)
        self.placed.append(placed)


@dataclass(frozen=True, slots=True)
class FixedStop:
    """A stop a greedy run starts with: a volunteer's group session or escort
    (`matcher.solvers.greedy.sessions`), or an attendee away from home (volunteer None)."""

    volunteer: str | None
    recipient: str | None
    day: int
    start: int
    end: int
    place: int
    extra_m: float = 0.0


def place_fixed(state: WeekState, stops: list[FixedStop]) -> None:
    """Put fixed stops into the volunteers' outings (they count as visits of the day and in
    the week's minutes) and mark attendees busy, before any visit is placed."""
    setup = state.setup
    for stop in stops:
        if stop.volunteer is None:
            assert stop.recipient is not None
            busy = state.busy.setdefault((setup.recipient_index[stop.recipient], stop.day), [])
            busy.append((stop.start, stop.end))
            busy.sort()
            continue
        volunteer = setup.volunteer_index[stop.volunteer]
        outing = state.outing_for(volunteer, stop.day, stop.start, stop.end)
        trip = state.day(volunteer, stop.day).outings[outing]
        position = sum(
            1
            for start, finish in zip(trip.starts, trip.ends, strict=True)
            if (start, finish) <= (stop.start, stop.end)
        )
        trip.extra_m += stop.extra_m
        state.insert(volunteer, stop.day, outing, position, stop.start, stop.end, stop.place, 0)
