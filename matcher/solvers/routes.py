"""Each volunteer's day as a route: per outing, from the start place to its visits in time order
and home (`matcher.rules.outings`).

Routes are derived from the visits alone, so any solver (or a hand-made plan) can describe its
days the same way. A day with two outings has the stops start, visits, home, start, visits,
home; a visit outside every outing (the checker reports it) is a trip of its own. Stop times
are whole minutes: a start stop says when to leave (rounded down, never later than needed), a
visit stop says when the volunteer arrives (rounded up, never after the visit starts) and a home
stop when they are back (rounded up).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from matcher.models import WEEKDAYS, Problem, Route, RouteStop, Session, Visit, Volunteer
from matcher.rules.outings import outings_by_day, trips_by_outing, walk_outing
from matcher.rules.sessions import escort_duty, session_duty
from matcher.travel import TravelModel

ROUNDING_SLACK_MIN = 1e-6
"""Travel minutes are floats; this keeps e.g. 9.9999999 from rounding up to a whole extra minute."""


def _round_down(minutes: float, fallback: int) -> int:
    """Whole minutes, rounded down; `fallback` when the place cannot be reached at all."""
    if not math.isfinite(minutes):
        return fallback
    return max(0, math.floor(minutes + ROUNDING_SLACK_MIN))


def _round_up(minutes: float, fallback: int) -> int:
    """Whole minutes, rounded up; `fallback` when the place cannot be reached at all."""
    if not math.isfinite(minutes):
        return fallback
    return max(0, math.ceil(minutes - ROUNDING_SLACK_MIN))


@dataclass(frozen=True)
class _Item:
    """A stop of a volunteer's day before it is timed: a visit, a session or an escort."""

    start: int
    end: int
    place: int
    kind: Literal["visit", "session", "escort"]
    need: str | None = None
    occurrence: int | None = None
    recipient: str | None = None
    session: str | None = None
    extra_m: float = 0.0

    @property
    def order(self) -> tuple[int, int, str, int]:
        """Time order within a day, with fixed ties so routes never depend on input order."""
        return (self.start, self.end, self.need or "~" + (self.session or ""), self.occurrence or 0)


def _session_items(
    problem: Problem, travel: TravelModel, sessions: Sequence[Session]
) -> dict[tuple[str, int], list[_Item]]:
    """Each volunteer-day's session and escort stops (`matcher.rules.sessions`)."""
    items: dict[tuple[str, int], list[_Item]] = defaultdict(list)
    for session in sessions:
        day = WEEKDAYS.index(session.day)
        for volunteer in dict.fromkeys([*session.leads, *session.helpers]):
            duty = session_duty(travel, session)
            items[(volunteer, day)].append(
                _Item(session.start, session.end, duty.place, "session", session=session.id)
            )
        for seat in session.attendees:
            if seat.escort is None:
                continue
            recipient = problem.recipient_by_id[seat.recipient]
            duty = escort_duty(problem, travel, session, recipient)
            items[(seat.escort, day)].append(
                _Item(
                    int(duty.start),
                    int(duty.end),
                    duty.place,
                    "escort",
                    recipient=recipient.id,
                    session=session.id,
                    extra_m=duty.extra_m,
                )
            )
    return items


def build_routes(
    problem: Problem,
    travel: TravelModel,
    visits: list[Visit],
    sessions: Sequence[Session] = (),
) -> list[Route]:
    """One route per volunteer and day with visits or session stops, in problem order of
    volunteers, then day.

    Visits naming an unknown volunteer or recipient are left out of the routes (the checker
    reports them); everything else is recomputed from the travel model.
    """
    by_volunteer_day: dict[tuple[str, int], list[_Item]] = defaultdict(list)
    for visit in visits:
        if visit.recipient not in travel.recipient_place:
            continue
        for volunteer in dict.fromkeys(visit.volunteers):
            if volunteer in travel.start_place and volunteer in problem.volunteer_by_id:
                by_volunteer_day[(volunteer, WEEKDAYS.index(visit.day))].append(
                    _Item(
                        visit.start,
                        visit.end,
                        travel.recipient_place[visit.recipient],
                        "visit",
                        need=visit.need,
                        occurrence=visit.occurrence,
                        recipient=visit.recipient,
                    )
                )
    for key, items in _session_items(problem, travel, sessions).items():
        by_volunteer_day[key] += items

    volunteer_order = {volunteer.id: index for index, volunteer in enumerate(problem.volunteers)}
    routes: list[Route] = []
    for volunteer_id, day_index in sorted(
        by_volunteer_day, key=lambda key: (volunteer_order[key[0]], key[1])
    ):
        member = problem.volunteer_by_id[volunteer_id]
        day_items = sorted(by_volunteer_day[(volunteer_id, day_index)], key=lambda i: i.order)
        routes.append(_route(problem, travel, member, day_index, day_items))
    return routes


def _trips(volunteer: Volunteer, day_index: int, items: list[_Item]) -> list[list[_Item]]:
    """The day's stops (in day order) cut into trips: one per outing with stops, and one for
    each stop outside every outing; in time order."""
    outings = outings_by_day(volunteer).get(day_index, [])
    trips = trips_by_outing(outings, [(item.start, item.end) for item in items])
    return [[items[index] for index in trip] for trip in trips]


def _route(
    problem: Problem, travel: TravelModel, volunteer: Volunteer, day_index: int, items: list[_Item]
) -> Route:
    """The stops of one volunteer's day: start, the visits and sessions, home, for each outing
    in turn; the distance includes escorted walks."""
    day = WEEKDAYS[day_index]
    stops: list[RouteStop] = []
    total_distance, total_travel = 0.0, 0.0
    for trip in _trips(volunteer, day_index, items):
        trip_stops = _trip_stops(travel, volunteer, trip)
        stops += trip_stops
        total_distance += sum(stop.distance_m for stop in trip_stops)
        total_distance += sum(item.extra_m for item in trip)
        total_travel += sum(stop.travel_min for stop in trip_stops)
    return Route(
        volunteer=volunteer.id,
        day=day,
        date=problem.date_of(day),
        stops=stops,
        distance_m=total_distance,
        travel_min=total_travel,
        visit_min=sum(item.end - item.start for item in items),
    )


def _trip_stops(
    travel: TravelModel, volunteer: Volunteer, items: Sequence[_Item]
) -> list[RouteStop]:
    """The stops of one outing: start, each visit or session, home; each leg from the outing's
    walk."""
    walk = walk_outing(travel, volunteer, [item.place for item in items])
    first_leg, home_leg = walk.legs[0], walk.legs[-1]
    departure = _round_down(items[0].start - first_leg.travel_min, items[0].start)
    stops = [
        RouteStop(
            kind="start",
            arrival=departure,
            start=departure,
            end=departure,
            distance_m=0.0,
            travel_min=0.0,
        )
    ]
    previous_end = departure
    for item, leg in zip(items, walk.legs[:-1], strict=True):
        arrival = min(item.start, _round_up(previous_end + leg.travel_min, item.start))
        stops.append(
            RouteStop(
                kind=item.kind,
                session=item.session,
                need=item.need,
                occurrence=item.occurrence,
                recipient=item.recipient,
                arrival=arrival,
                start=item.start,
                end=item.end,
                distance_m=leg.distance_m,
                travel_min=leg.travel_min,
            )
        )
        previous_end = item.end
    back = _round_up(previous_end + home_leg.travel_min, previous_end)
    stops.append(
        RouteStop(
            kind="home",
            arrival=back,
            start=back,
            end=back,
            distance_m=home_leg.distance_m,
            travel_min=home_leg.travel_min,
        )
    )
    return stops
