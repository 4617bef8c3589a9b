"""The week through the floating-routes engine: each day's routes re-optimised with visit times
that float, and the result written back as visits.

A plan is given as greedy's placements, `(need, day, start, volunteers)` with needs indexed as
in greedy's `Setup`, which holds every rule in the form the solvers use (`matcher.rules`:
qualification, windows and lateness, outings, limits, continuity points). For each day, and for
each travel speed among that day's volunteers (one `DayRoutes` holds one matrix of travel
minutes; an explicit matrix makes one), `day_routes` builds:

- a vehicle per outing of each volunteer that day (start place, home, opens, closes, the
  longest leg and outing walk) and a group per volunteer-day (capacity, visits a day, the
  week's minutes net of their other days);
- a floating stop per visit made by one volunteer whose recipient has no other visit that day:
  its windows that day (a soft window late up to `max_lateness_min`, due at its last on-time
  start), the volunteers who qualify and could reach it that day (greedy's candidates), and
  none who would give up continuity points the visit has or cost more an hour on site;
- two floating stops joined by a `Link` for a linked pair (greedy's `NeedInfo.partner` and
  `leader`, the gap `NeedInfo.gap` from `VisitDependency.gap_range`) that is its recipient's
  only visits that day, each made by one volunteer, neither pinned, both volunteers in this
  day's routes (one travel speed), with nothing left out of the recipient's to add; the link
  keeps the two with different volunteers;
- a fixed stop for everything else: team visits (in each member's route), pinned visits, the
  other linked visits, every other visit of a recipient with several that day, group-session
  stops;
- an optional stop (prize: the objective's coverage points less the dearest eligible
  volunteer's time on site) per recipient-day for a left-out occurrence that may go on that day
  (`rules.days.far_enough` from the need's planned days, one a recipient-day), its windows clear
  of the recipient's visits that day. Linked and team occurrences are never added.

Costs are the objective's (`travel_per_km` per km, `lateness_per_min` a late minute, and
`max_lateness_per_min` a minute of the week's largest lateness: the day's model pays for its
stops' largest lateness above the largest of every visit it does not move, on the week's other
days or fixed this day, recomputed model by model as days are polished). Days are
solved one after another, each with a share of the time in proportion to its visits: the week's
minutes and the needs' planned days are brought up to date between them. The new plan is kept
only when the checker accepts it and it loses neither mandatory occurrences nor weighted
coverage nor policy objective (`objective_breakdown`, fairness left out as `lns.plan_score`
does); else the incoming placements come back unchanged.

A volunteer-day with a visit outside every outing (a pinned visit the checker will refuse) is
left out of the day's model: its visits stay, and its recipients' visits are fixed.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.models import WEEKDAYS, Plan, Visit
from matcher.rules import far_enough, number_occurrences, outing_index, subtract_busy, walk_outing
from matcher.rules.intervals import Interval, Intervals
from matcher.rules.outings import trips_by_outing
from matcher.rules.pinned import pinned_keys
from matcher.rules.visits import visit_of
from matcher.solvers.floating.model import (
    DayRoutes,
    Group,
    Link,
    Stop,
    Vehicle,
    Weights,
    Window,
    feasible,
)
from matcher.solvers.floating.search import SearchLimits, improve
from matcher.solvers.greedy.setup import EPS, NO_GAP_LIMIT, NeedInfo, Setup
from matcher.solvers.greedy.state import FixedStop
from matcher.solvers.objective import objective_breakdown

ACCEPT_S_PER_VISIT = 0.0006
"""Seconds kept back per visit of the plan, up to a quarter of the time, for judging the polished
plan at the end (the objective twice and the checker: about 2 s for 3,000 visits here)."""

OPTIONAL_PER_VISIT = 0.25
MIN_OPTIONAL = 20
"""A day's routes are offered at most this many left-out occurrences per visit of the day (and
at least `MIN_OPTIONAL`), the most valuable first: the engine tries each at every step, and on a
1,500-recipient week a thousand a day (most of which fit nowhere) slowed it tenfold."""

NO_WAY_M = 1e12
NO_WAY_MIN = 1e9
"""Where no path joins two places (an infinite distance), these stand for it: longer than any
day, so no route takes that leg, and finite for the engine's arithmetic."""

Placement = tuple[int, int, int, tuple[str, ...]]
"""(need index in `Setup.needs`, weekday index, start minute, volunteer ids)."""


@dataclass(frozen=True, slots=True)
class _Item:
    """Something in a volunteer's day: a placement (`placement` >= 0) or a fixed session stop."""

    start: int
    end: int
    place: int
    load: int
    placement: int = -1
    extra_m: float = 0.0


@dataclass(slots=True)
class _Origin:
    """What a stop of the day's model stands for."""

    kind: str
    """"float" (a placement that may move), "fixed" or "optional" (a left-out occurrence)."""
    placement: int = -1
    need: int = -1


@dataclass
class DayModel:
    """One `DayRoutes` with what its vehicles and stops stand for."""

    day: int
    routes: DayRoutes
    vehicle_volunteers: list[int]
    """The volunteer (index in `Setup.helpers`) of each vehicle."""
    origins: list[_Origin]


@dataclass
class WeekPolish:
    """What `polish_week` returns: the placements and what happened."""

    placements: list[Placement]
    kept: bool
    """Whether the polished placements replaced the incoming ones."""
    statistics: dict[str, Any] = field(default_factory=dict)


class _Week:
    """The placements indexed per volunteer-day and recipient-day, kept up to date day by day."""

    def __init__(
        self, setup: Setup, placements: Sequence[Placement], fixed: Sequence[FixedStop]
    ) -> None:
        self.setup = setup
        self.placements = list(placements)
        self.fixed = list(fixed)
        self.pinned = pinned_keys(setup.problem)
        self.need_days: list[list[int]] = [[] for _ in setup.needs]
        for need, day, _, _ in self.placements:
            self.need_days[need].append(day)
        self.missing = [
            max(0, info.need.visits_per_week - len(self.need_days[info.index]))
            for info in setup.needs
        ]
        self._index: dict[tuple[int, int], list[_Item]] | None = None
        self.minutes: dict[tuple[int, int], float] = {}
        """Each volunteer-day's minutes: visits, session stops and every leg of every outing."""
        for volunteer, day in list(self._items_by_volunteer_day()):
            self.minutes[(volunteer, day)] = self._day_minutes(volunteer, day)

    def place(self, index: int, placement: Placement) -> None:
        """Put a placement at `index` (a new one at the end) and forget the stale index."""
        if index == len(self.placements):
            self.placements.append(placement)
            need, day = placement[0], placement[1]
            self.need_days[need].append(day)
            self.missing[need] -= 1
        else:
            self.placements[index] = placement
        self._index = None

    # ------------------------------------------------------------- indexes

    def _items_by_volunteer_day(self) -> dict[tuple[int, int], list[_Item]]:
        """Each volunteer-day's items in start order (worked out again after a change)."""
        if self._index is not None:
            return self._index
        setup = self.setup
        items: dict[tuple[int, int], list[_Item]] = defaultdict(list)
        for index, (need, day, start, volunteers) in enumerate(self.placements):
            info = setup.needs[need]
            for volunteer_id in volunteers:
                items[(setup.volunteer_index[volunteer_id], day)].append(
                    _Item(start, start + info.duration, info.place, info.need.load, index)
                )
        for stop in self.fixed:
            if stop.volunteer is not None:
                items[(setup.volunteer_index[stop.volunteer], stop.day)].append(
                    _Item(stop.start, stop.end, stop.place, 0, extra_m=stop.extra_m)
                )
        for day_items in items.values():
            day_items.sort(key=lambda item: (item.start, item.end))
        self._index = dict(items)
        return self._index

    def items_of_day(self, day: int) -> dict[int, list[_Item]]:
        """Per volunteer, their items on `day` in start order."""
        return {
            volunteer: items
            for (volunteer, item_day), items in self._items_by_volunteer_day().items()
            if item_day == day
        }

    def recipient_busy(self, day: int) -> dict[int, list[tuple[Interval, int]]]:
        """Per recipient index, their visits and attendee spans on `day`: ((start, end),
        placement or -1)."""
        setup = self.setup
        busy: dict[int, list[tuple[Interval, int]]] = defaultdict(list)
        for index, (need, placed_day, start, _) in enumerate(self.placements):
            if placed_day == day:
                info = setup.needs[need]
                busy[info.recipient_index].append(((start, start + info.duration), index))
        for stop in self.fixed:
            if stop.volunteer is None and stop.recipient is not None and stop.day == day:
                busy[setup.recipient_index[stop.recipient]].append(((stop.start, stop.end), -1))
        return busy

    def _day_minutes(self, volunteer: int, day: int) -> float:
        """The volunteer-day's minutes as the checker counts them (`rules.outings`)."""
        helper = self.setup.helpers[volunteer]
        items = self._items_by_volunteer_day().get((volunteer, day), [])
        spans = [(float(item.start), float(item.end)) for item in items]
        minutes = 0.0
        for trip in trips_by_outing(list(helper.outings[day]), spans):
            places = [items[index].place for index in trip]
            minutes += walk_outing(self.setup.travel, helper.volunteer, places).travel_min
            minutes += sum(items[index].end - items[index].start for index in trip)
        return minutes

    def refresh_minutes(self, day: int, volunteers: set[int]) -> None:
        for volunteer in volunteers:
            self.minutes[(volunteer, day)] = self._day_minutes(volunteer, day)

    def other_days_minutes(self, volunteer: int, day: int) -> float:
        return sum(
            minutes
            for (someone, other_day), minutes in self.minutes.items()
            if someone == volunteer and other_day != day
        )


def stop_windows(
    info: NeedInfo, day: int, busy: Sequence[Interval], lateness_cap_min: float | None
) -> tuple[Window, ...]:
    """The start windows of a visit of the need on `day` (`NeedFacts.starts`, clear of the busy
    spans), each with its due minute: the lateness of a start is the least over the windows
    already open (`NeedFacts.lateness`), so it is cut where a window opens; a soft window is
    cut where it would be later than `lateness_cap_min`."""
    facts, duration = info.facts, info.duration
    starts: Intervals = list(facts.starts(day))
    if busy:
        starts = subtract_busy(starts, busy, duration)
    if not info.need.soft_window:
        return tuple(Window(first, last, last) for first, last in starts)
    spans = facts.windows_by_day.get(day, [])
    opens = sorted({window_start for window_start, _ in spans})
    pieces: list[Window] = []
    for first, last in starts:
        cuts = [first, *(moment for moment in opens if first < moment <= last)]
        for position, low in enumerate(cuts):
            high = cuts[position + 1] - 1 if position + 1 < len(cuts) else last
            dues = [end - duration for window_start, end in spans if window_start <= low]
            due = max(dues) if dues else high
            if lateness_cap_min is not None:
                high = min(high, due + math.floor(lateness_cap_min + EPS))
            if high < low:
                continue
            if pieces and pieces[-1].due_min == due and pieces[-1].latest_min + 1 == low:
                pieces[-1] = Window(pieces[-1].earliest_min, due, high)
            else:
                pieces.append(Window(low, due, high))
    return tuple(pieces)


class _DayBuilder:
    """Builds the `DayModel`s of one day (one per travel speed) from the week so far."""

    def __init__(self, week: _Week, day: int) -> None:
        self.week = week
        self.setup = week.setup
        self.day = day
        self.items = week.items_of_day(day)
        helpers = self.setup.helpers
        self.unexpressible = {
            volunteer
            for volunteer, items in self.items.items()
            if any(
                outing_index(list(helpers[volunteer].outings[day]), item.start, item.end) is None
                for item in items
            )
        }
        self.busy = week.recipient_busy(day)
        self._day_candidates: dict[int, list[int]] = {}
        self._dearest: dict[int, float] = {}
        self.optional = self._optional_needs()
        self.frozen_recipients = {
            recipient
            for recipient, spans in self.busy.items()
            if len(spans) > 1 or recipient in self.optional
        }
        self.partner_of = self._floating_pairs()
        """Each placement of a linked pair that floats, with its partner's placement."""

    def _floating_pairs(self) -> dict[int, int]:
        """The linked pairs that float (module docstring), both ways round: a recipient's only
        two visits this day, a leader's and its partner's, each by one volunteer of one travel
        speed in the day's routes, neither pinned, and nothing of the recipient's to add."""
        setup, week = self.setup, self.week
        pairs: dict[int, int] = {}
        for recipient, spans in self.busy.items():
            if len(spans) != 2 or recipient in self.optional:
                continue
            first, second = (placement for _, placement in spans)
            if first < 0 or second < 0:
                continue
            leader = setup.needs[week.placements[first][0]]
            if leader.partner != week.placements[second][0]:
                first, second = second, first
                leader = setup.needs[week.placements[first][0]]
                if leader.partner != week.placements[second][0]:
                    continue
            if not (self._movable(first) and self._movable(second)):
                continue
            volunteers = [
                setup.volunteer_index[week.placements[placement][3][0]]
                for placement in (first, second)
            ]
            if any(volunteer in self.unexpressible for volunteer in volunteers):
                continue
            if self.speed_class(volunteers[0]) != self.speed_class(volunteers[1]):
                continue
            pairs[first], pairs[second] = second, first
        return pairs

    def _optional_needs(self) -> dict[int, int]:
        """Per recipient index, the left-out need (the most points) that may go on this day;
        the most valuable few when there are many (`OPTIONAL_PER_VISIT`)."""
        setup, week = self.setup, self.week
        best: dict[int, tuple[float, int]] = {}
        for info in setup.needs:
            if week.missing[info.index] <= 0 or not self._may_add(info):
                continue
            prize = self.prize(info)
            if prize <= 0:
                continue
            current = best.get(info.recipient_index)
            if current is None or prize > current[0]:
                best[info.recipient_index] = (prize, info.index)
        wanted = max(MIN_OPTIONAL, int(OPTIONAL_PER_VISIT * sum(map(len, self.items.values()))))
        chosen = sorted(best.items(), key=lambda entry: (-entry[1][0], entry[1][1]))[:wanted]
        return {recipient: need for recipient, (_, need) in chosen}

    def _may_add(self, info: NeedInfo) -> bool:
        """Whether one more occurrence of the need may go on this day (days rules), and the
        engine can express it (one volunteer, not linked)."""
        if info.unplannable or info.team_size != 1 or info.partner >= 0 or info.leader >= 0:
            return False
        if not info.allowed[self.day]:
            return False
        taken = self.week.need_days[info.index]
        return far_enough(self.day, taken, info.need.min_gap_days) and bool(self.eligible(info, -1))

    def eligible(self, info: NeedInfo, current: int) -> list[int]:
        """The volunteers who may make a visit of the need this day: greedy's candidates for
        it (qualified, able to reach it that day), none with fewer continuity points for the
        recipient nor a dearer hour on site than the current volunteer (the engine weighs
        neither)."""
        found = self._day_candidates.get(info.index)
        if found is None:
            found = [
                volunteer
                for volunteer in info.candidates
                if self.day in info.candidate_days[volunteer]
                and volunteer not in self.unexpressible
            ]
            self._day_candidates[info.index] = found
        if current < 0:
            return found
        familiarity = self.setup.familiarity[info.recipient_index]
        helpers = self.setup.helpers
        floor = familiarity.get(current, 0.0)
        dearest = helpers[current].cost_per_hour
        kept = [
            volunteer
            for volunteer in found
            if helpers[volunteer].cost_per_hour <= dearest + EPS
            and (floor <= 0 or familiarity.get(volunteer, 0.0) >= floor - EPS)
        ]
        if current not in kept:
            kept.append(current)
        return kept

    def prize(self, info: NeedInfo) -> float:
        """The objective's points for one more visit of the need: its coverage, less the time
        on site of the dearest volunteer who could make it."""
        dearest = self._dearest.get(info.index)
        if dearest is None:
            dearest = max(
                (self.setup.helpers[volunteer].cost_per_hour for volunteer in info.candidates),
                default=0.0,
            )
            self._dearest[info.index] = dearest
        return self.setup.weights.coverage * info.priority - dearest * info.duration / 60.0

    def speed_class(self, volunteer: int) -> float:
        return 0.0 if self.setup.times is not None else self.setup.helpers[volunteer].speed

    def class_size(self, speed: float) -> int:
        """How much the volunteers of this speed have to route this day: their visits, and one
        more (the left-out occurrences are shared by all)."""
        return 1 + sum(
            len(items)
            for volunteer, items in self.items.items()
            if volunteer not in self.unexpressible and self.speed_class(volunteer) == speed
        )

    def classes(self) -> list[float]:
        """The travel speeds of the volunteers out this day, slowest first."""
        return sorted(
            {
                self.speed_class(index)
                for index, helper in enumerate(self.setup.helpers)
                if helper.outings[self.day] and index not in self.unexpressible
            }
        )

    def build(self, speed: float, added: set[int]) -> DayModel | None:
        """The day's model for the volunteers of this speed (None: nothing to move or add);
        `added` holds the needs already added this day."""
        setup, day = self.setup, self.day
        helpers = setup.helpers
        volunteers = [
            index
            for index, helper in enumerate(helpers)
            if helper.outings[day]
            and index not in self.unexpressible
            and self.speed_class(index) == speed
        ]
        if not volunteers:
            return None
        places: dict[int, int] = {}

        def local(place: int) -> int:
            return places.setdefault(place, len(places))

        vehicles: list[Vehicle] = []
        groups: list[Group] = []
        vehicle_volunteers: list[int] = []
        outings_of: dict[int, list[int]] = {}
        extra_by_outing: dict[tuple[int, int], float] = defaultdict(float)
        for volunteer in volunteers:
            for item in self.items.get(volunteer, []):
                if item.extra_m:
                    found = outing_index(
                        list(helpers[volunteer].outings[day]), item.start, item.end
                    )
                    assert found is not None
                    extra_by_outing[(volunteer, found)] += item.extra_m
        for volunteer in volunteers:
            helper = helpers[volunteer]
            person = helper.volunteer
            room: float | None = None
            if math.isfinite(helper.max_minutes):
                room = helper.max_minutes - self.week.other_days_minutes(volunteer, day) + EPS
            groups.append(
                Group(
                    capacity=person.capacity,
                    max_stops=person.max_visits_per_day,
                    max_work_min=room,
                )
            )
            outings_of[volunteer] = []
            for number, (opens, closes) in enumerate(helper.outings[day]):
                route_limit = person.max_outing_distance_m
                if route_limit is not None:
                    route_limit -= extra_by_outing[(volunteer, number)]
                outings_of[volunteer].append(len(vehicles))
                vehicles.append(
                    Vehicle(
                        start_place=local(helper.start_place),
                        end_place=local(helper.home_place),
                        opens_min=opens,
                        closes_min=closes,
                        group=len(groups) - 1,
                        max_leg_m=person.max_trip_distance_m,
                        max_route_m=route_limit,
                    )
                )
                vehicle_volunteers.append(volunteer)
        stops: list[Stop] = []
        origins: list[_Origin] = []
        routes: list[list[int]] = [[] for _ in vehicles]
        stop_of: dict[int, int] = {}
        """The stop of each floating placement."""
        moving = 0
        for volunteer in volunteers:
            for item in self.items.get(volunteer, []):
                found = outing_index(list(helpers[volunteer].outings[day]), item.start, item.end)
                assert found is not None
                vehicle = outings_of[volunteer][found]
                place = local(item.place)
                if item.placement >= 0 and self._floats(item.placement):
                    need = self.week.placements[item.placement][0]
                    info = setup.needs[need]
                    stop_of[item.placement] = len(stops)
                    allowed = frozenset(
                        vehicle_index
                        for other in self.eligible(info, volunteer)
                        for vehicle_index in outings_of.get(other, ())
                    )
                    stop = Stop(
                        place=place,
                        duration_min=item.end - item.start,
                        windows=stop_windows(info, day, (), None),
                        load=item.load,
                        vehicles=allowed | {vehicle},
                    )
                    origins.append(_Origin("float", item.placement, need))
                    moving += 1
                else:
                    stop = Stop(
                        place=place,
                        duration_min=item.end - item.start,
                        windows=(Window(item.start, item.start, item.start),),
                        load=item.load,
                        vehicles=frozenset({vehicle}),
                        fixed=(vehicle, item.start),
                    )
                    origins.append(_Origin("fixed", item.placement))
                routes[vehicle].append(len(stops))
                stops.append(stop)
        for recipient, need in sorted(self.optional.items()):
            if need in added:
                continue
            info = setup.needs[need]
            allowed = frozenset(
                vehicle_index
                for other in self.eligible(info, -1)
                for vehicle_index in outings_of.get(other, ())
            )
            if not allowed:
                continue
            busy = [span for span, _ in self.busy.get(recipient, [])]
            windows = stop_windows(info, day, busy, None)
            if not windows:
                continue
            stops.append(
                Stop(
                    place=local(info.place),
                    duration_min=info.duration,
                    windows=windows,
                    load=info.need.load,
                    prize=self.prize(info),
                    required=False,
                    vehicles=allowed,
                )
            )
            origins.append(_Origin("optional", need=need))
            moving += 1
        if not moving:
            return None
        links = self._links(stop_of)
        order = np.array(sorted(places, key=places.__getitem__), dtype=int)
        distance = np.asarray(setup.travel.distance_m, dtype=float)[np.ix_(order, order)]
        if setup.times is not None:
            minutes = np.asarray(setup.times, dtype=float)[np.ix_(order, order)]
        else:
            with np.errstate(invalid="ignore"):
                minutes = distance / speed
        distance = np.where(np.isfinite(distance), distance, NO_WAY_M)
        minutes = np.where(np.isfinite(minutes), minutes, NO_WAY_MIN)
        weights = setup.weights
        return DayModel(
            day=day,
            routes=DayRoutes(
                stops=stops,
                vehicles=vehicles,
                groups=groups,
                distance_m=distance,
                travel_min=minutes,
                weights=Weights(
                    per_m=weights.travel_per_km / 1000.0,
                    per_work_min=0.0,
                    per_late_min=weights.lateness_per_min,
                    per_max_late_min=weights.max_lateness_per_min,
                    max_late_floor_min=self._lateness_floor(set(stop_of)),
                ),
                routes=routes,
                links=links,
            ),
            vehicle_volunteers=vehicle_volunteers,
            origins=origins,
        )

    def _links(self, stop_of: dict[int, int]) -> list[Link]:
        """A link per floating pair, leader first, at the gap greedy's `Setup` holds."""
        setup, week = self.setup, self.week
        links: list[Link] = []
        for placement, stop in sorted(stop_of.items()):
            info = setup.needs[week.placements[placement][0]]
            partner = self.partner_of.get(placement)
            if partner is None or info.partner < 0:
                continue
            low, high = info.gap
            links.append(
                Link(
                    first=stop,
                    second=stop_of[partner],
                    min_gap_min=low,
                    max_gap_min=None if high >= NO_GAP_LIMIT else high,
                )
            )
        return links

    def _lateness_floor(self, moving: set[int]) -> float:
        """The week's largest lateness over the placements the model does not move (the
        other days', and this day's fixed ones and other routes'): already paid for."""
        return _largest_lateness(
            self.setup,
            [placed for index, placed in enumerate(self.week.placements) if index not in moving],
        )

    def _movable(self, placement: int) -> bool:
        """One volunteer, team size 1, not pinned."""
        need, day, start, volunteers = self.week.placements[placement]
        info = self.setup.needs[need]
        if len(volunteers) != 1 or info.team_size != 1:
            return False
        return (info.need.id, WEEKDAYS[day], start) not in self.week.pinned

    def _floats(self, placement: int) -> bool:
        """Whether the placement may move: a placement of a floating linked pair, or one that
        is `_movable`, not linked, and its recipient's only visit this day with nothing left out
        to add."""
        if placement in self.partner_of:
            return True
        info = self.setup.needs[self.week.placements[placement][0]]
        if info.partner >= 0 or info.leader >= 0 or not self._movable(placement):
            return False
        return info.recipient_index not in self.frozen_recipients


def _largest_lateness(setup: Setup, placements: Sequence[Placement]) -> float:
    """The largest lateness of the placed visits (0 without soft windows)."""
    return max(
        (setup.needs[need].lateness(day, start) for need, day, start, _ in placements),
        default=0.0,
    )


def _apply(
    week: _Week, model: DayModel, routes: list[list[int]], starts: list[list[int]]
) -> set[int]:
    """Write the day's routes back into the week; the needs of the occurrences added."""
    helpers = week.setup.helpers
    added: set[int] = set()
    for vehicle, (route, times) in enumerate(zip(routes, starts, strict=True)):
        volunteer_id = helpers[model.vehicle_volunteers[vehicle]].volunteer.id
        for stop, start in zip(route, times, strict=True):
            origin = model.origins[stop]
            if origin.kind == "float":
                week.place(origin.placement, (origin.need, model.day, start, (volunteer_id,)))
            elif origin.kind == "optional":
                week.place(len(week.placements), (origin.need, model.day, start, (volunteer_id,)))
                added.add(origin.need)
    week.refresh_minutes(model.day, set(model.vehicle_volunteers))
    return added


def polish_week(
    setup: Setup,
    placements: Sequence[Placement],
    time_s: float,
    *,
    seed: int = 0,
    iterations: int | None = None,
    fixed: Sequence[FixedStop] = (),
    stop: Callable[[], bool] | None = None,
) -> WeekPolish:
    """Each day's routes through the floating engine (module docstring), within `time_s`
    seconds (days share it in proportion to their visits; `iterations` per day's model for
    repeatable runs); the polished placements when the checker accepts them and they rank no
    lower, else the incoming ones."""
    began = time.monotonic()
    reserve = min(0.25 * time_s, ACCEPT_S_PER_VISIT * len(placements))
    deadline = began + max(0.0, time_s - reserve)
    week = _Week(setup, placements, fixed)
    shares = [1 + sum(1 for placed in placements if placed[1] == day) for day in range(7)]
    statistics: dict[str, Any] = {
        "models": 0,
        "skipped": 0,
        "iterations": 0,
        "floating": 0,
        "linked": 0,
        "offered": 0,
        "added": 0,
        "refused": 0,
    }
    for day in range(7):
        if stop is not None and stop():
            break
        now = time.monotonic()
        if now >= deadline:
            break
        day_deadline = now + (deadline - now) * shares[day] / sum(shares[day:])
        builder = _DayBuilder(week, day)
        added: set[int] = set()
        classes = builder.classes()
        sizes = [builder.class_size(speed) for speed in classes]
        for position, speed in enumerate(classes):
            model = builder.build(speed, added)
            if model is None:
                continue
            if feasible(model.routes, model.routes.routes):
                statistics["skipped"] += 1
                continue
            now = time.monotonic()
            share = sizes[position] / max(1, sum(sizes[position:]))
            limits = SearchLimits(
                deadline=now + max(0.0, day_deadline - now) * share,
                iterations=iterations,
                seed=(seed * 7 + day) * 16 + position,
            )
            result = improve(model.routes, limits, stop)
            statistics["models"] += 1
            kinds = Counter(origin.kind for origin in model.origins)
            statistics["floating"] += kinds["float"]
            statistics["linked"] += 2 * len(model.routes.links)
            statistics["offered"] += kinds["optional"]
            statistics["iterations"] += result.iterations
            statistics["refused"] += result.refused
            if result.cost < result.initial_cost - 1e-9:
                inserted = _apply(week, model, result.routes, result.starts)
                statistics["added"] += len(inserted)
                added |= inserted
    statistics["seconds"] = round(time.monotonic() - began, 3)
    kept = _accept(setup, list(placements), week.placements, statistics)
    return WeekPolish(week.placements if kept else list(placements), kept, statistics)


def _visits(setup: Setup, placements: Sequence[Placement]) -> list[Visit]:
    problem = setup.problem
    return [
        visit_of(problem, setup.needs[need].facts, day, start, volunteers)
        for need, day, start, volunteers in placements
    ]


def _rank(setup: Setup, visits: list[Visit]) -> tuple[int, float, float]:
    """(mandatory occurrences, weighted coverage, policy objective without fairness)."""
    facts = {info.need.id: info.facts for info in setup.needs}
    terms = objective_breakdown(setup.problem, setup.travel, facts, visits)
    mandatory = sum(1 for visit in visits if facts[visit.need].need.mandatory)
    coverage = sum(facts[visit.need].priority for visit in visits)
    return mandatory, coverage, terms["total"] - terms["fairness"]


def _broken(setup: Setup, visits: list[Visit]) -> int:
    """The checker's violations of these visits, a mandatory occurrence left out not counted
    (the plan's `unassigned` says why, once assembled)."""
    from matcher.checker import check_plan

    problem = setup.problem
    plan = Plan(
        problem_name=problem.name, week_start=problem.week_start, visits=number_occurrences(visits)
    )
    report = check_plan(problem, plan, setup.travel)
    return sum(1 for violation in report.violations if violation.rule != "mandatory_missing")


def _accept(
    setup: Setup,
    incoming: list[Placement],
    polished: list[Placement],
    statistics: dict[str, Any],
) -> bool:
    """Whether the polished placements replace the incoming ones: changed, no more broken rules
    by the checker, and no lower (mandatory, coverage) nor policy objective."""
    if sorted(incoming) == sorted(polished):
        statistics["kept"] = "unchanged"
        return False
    before_visits, after_visits = _visits(setup, incoming), _visits(setup, polished)
    before, after = _rank(setup, before_visits), _rank(setup, after_visits)
    statistics["objective_before"] = round(before[2], 6)
    statistics["objective_after"] = round(after[2], 6)
    if after[0] < before[0] or after[1] < before[1] - 1e-9 or after[2] < before[2] - 1e-6:
        statistics["kept"] = "worse"
        return False
    broken = _broken(setup, after_visits)
    if broken and broken > _broken(setup, before_visits):
        statistics["kept"] = "refused by the checker"
        return False
    statistics["kept"] = "polished"
    return True
