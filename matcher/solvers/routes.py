"""Each volunteer's day as a route: from the start place to every visit in time order and home.

Routes are derived from the visits alone, so any solver (or a hand-made plan) can describe its
days the same way. Stop times are whole minutes: the start stop says when to leave (rounded
down, never later than needed), a visit stop says when the volunteer arrives (rounded up, never
after the visit starts) and the home stop when they are back (rounded up).
"""

from __future__ import annotations

import math
from collections import defaultdict

from matcher.models import WEEKDAYS, Problem, Route, RouteStop, Visit
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


def _day_order(visit: Visit) -> tuple[int, int, str, int]:
    """Time order within a day, with fixed ties so routes never depend on input order."""
    return (visit.start, visit.end, visit.need, visit.occurrence)


def build_routes(problem: Problem, travel: TravelModel, visits: list[Visit]) -> list[Route]:
    """One route per volunteer and day with visits, in problem order of volunteers, then day.

    Visits naming an unknown volunteer or recipient are left out of the routes (the checker
    reports them); everything else is recomputed from the travel model.
    """
    by_volunteer_day: dict[tuple[str, int], list[Visit]] = defaultdict(list)
    for visit in visits:
        if visit.recipient not in travel.recipient_place:
            continue
        for volunteer in dict.fromkeys(visit.volunteers):
            if volunteer in travel.start_place:
                by_volunteer_day[(volunteer, WEEKDAYS.index(visit.day))].append(visit)

    volunteer_order = {volunteer.id: index for index, volunteer in enumerate(problem.volunteers)}
    routes: list[Route] = []
    for volunteer, day_index in sorted(
        by_volunteer_day, key=lambda key: (volunteer_order[key[0]], key[1])
    ):
        day_visits = sorted(by_volunteer_day[(volunteer, day_index)], key=_day_order)
        routes.append(_route(problem, travel, volunteer, day_index, day_visits))
    return routes


def _route(
    problem: Problem, travel: TravelModel, volunteer: str, day_index: int, visits: list[Visit]
) -> Route:
    """The stops of one volunteer's day: start, each visit, home."""
    day = WEEKDAYS[day_index]
    start_place = travel.start_place[volunteer]
    first_place = travel.recipient_place[visits[0].recipient]
    first_travel = travel.travel_min(volunteer, start_place, first_place)
    departure = _round_down(visits[0].start - first_travel, visits[0].start)
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

    previous_place, previous_end = start_place, departure
    total_distance, total_travel = 0.0, 0.0
    for visit in visits:
        place = travel.recipient_place[visit.recipient]
        distance = travel.distance(previous_place, place)
        minutes = travel.travel_min(volunteer, previous_place, place)
        arrival = min(visit.start, _round_up(previous_end + minutes, visit.start))
        stops.append(
            RouteStop(
                kind="visit",
                need=visit.need,
                occurrence=visit.occurrence,
                recipient=visit.recipient,
                arrival=arrival,
                start=visit.start,
                end=visit.end,
                distance_m=distance,
                travel_min=minutes,
            )
        )
        total_distance += distance
        total_travel += minutes
        previous_place, previous_end = place, visit.end

    home_place = travel.home_place[volunteer]
    distance = travel.distance(previous_place, home_place)
    minutes = travel.travel_min(volunteer, previous_place, home_place)
    back = _round_up(previous_end + minutes, previous_end)
    stops.append(
        RouteStop(
            kind="home",
            arrival=back,
            start=back,
            end=back,
            distance_m=distance,
            travel_min=minutes,
        )
    )
    total_distance += distance
    total_travel += minutes

    return Route(
        volunteer=volunteer,
        day=day,
        date=problem.date_of(day),
        stops=stops,
        distance_m=total_distance,
        travel_min=total_travel,
        visit_min=sum(visit.end - visit.start for visit in visits),
    )
