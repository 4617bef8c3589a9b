"""Upper bounds on the seats of group sessions without a solver (no SciPy import), and the
sessions a plan could hold, for the relaxation (`matcher.solvers.bounds.session_upper_bounds`)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from matcher.models import AttendanceWish, GroupService, Problem, Recipient, Venue
from matcher.rules.intervals import Intervals, intersect, normalise, start_set
from matcher.travel import TravelModel


def seat_upper_bound(problem: Problem, travel: TravelModel) -> tuple[int, float]:
    """An upper bound on the seats any plan gives (count, and priority-weighted).

    Per group service, a wish counts at most its seats a week and at most one seat on each day
    some candidate venue has a slot the wisher can walk to and be away for (their walking limit,
    steps, home windows: `matcher.rules.sessions`); the service holds at most `sessions_per_week`
    sessions of at most its largest venue's seats, and none without anyone who can lead it. The
    weighted bound fills those seats with the highest priorities first. Staff time, travel,
    home visits and the minimum of attendees are relaxed away.
    """
    from matcher.rules.sessions import (
        attendee_span,
        attendee_windows,
        candidate_venues,
        inside,
        lead_failures,
        seats_at,
        serves_children,
        session_windows,
        slot_starts,
        walk_problem,
    )

    seats_total, weighted_total = 0, 0.0
    for service in problem.group_services:
        children = serves_children(service)
        if not any(not lead_failures(service, v, children=children) for v in problem.volunteers):
            continue
        venues = candidate_venues(problem, service)
        if not venues:
            continue
        cap = service.sessions_per_week * max(seats_at(service, venue) for venue in venues)
        windows = {venue.id: session_windows(problem, service, venue) for venue in venues}
        offers: list[float] = []
        for recipient in problem.recipients:
            home = travel.recipient_place[recipient.id]
            free = attendee_windows(problem, recipient)
            for wish in recipient.attends:
                if wish.group_service != service.id:
                    continue
                days: set[int] = set()
                for venue in venues:
                    distance = travel.distance(home, travel.venue_place[venue.id])
                    if walk_problem(problem, recipient, venue, distance, escorted=wish.escort):
                        continue
                    for day, spans in windows[venue.id].items():
                        if day in days:
                            continue
                        for start in slot_starts(spans, service.duration_min):
                            span = attendee_span(
                                problem, distance, start, start + service.duration_min
                            )
                            if inside(free.get(day, []), *span):
                                days.add(day)
                                break
                seats = min(wish.sessions_per_week, len(days), service.sessions_per_week)
                offers += [problem.wish_priority(wish)] * seats
        offers.sort(reverse=True)
        taken = offers[:cap]
        seats_total += len(taken)
        weighted_total += sum(taken)
    return seats_total, weighted_total


@dataclass(frozen=True)
class SeatOption:
    """A wish that could take a seat in a session option, and what a seat of it is worth."""

    wish: AttendanceWish
    recipient: Recipient
    priority: float


@dataclass(frozen=True)
class SessionOption:
    """Sessions of one group service at one venue on one day that a plan could hold, with who
    could lead, help and sit in them (`session_options`)."""

    service: GroupService
    venue: Venue
    day: int
    most: int
    """Sessions of it a plan holds at most that day."""
    spans: Intervals
    """Where such sessions lie, from their start to their end (whole minutes)."""
    leads: tuple[str, ...]
    helpers: tuple[str, ...]
    seats: tuple[SeatOption, ...]


def _at_least(sets: Iterable[Intervals], count: int) -> Intervals:
    """The whole minutes lying in at least `count` of these interval sets."""
    events: list[tuple[int, int]] = []
    for intervals in sets:
        for low, high in intervals:
            events += [(low, 1), (high + 1, -1)]
    found: list[tuple[int, int]] = []
    depth, opened = 0, 0
    for moment, change in sorted(events):
        before = depth
        depth += change
        if before < count <= depth:
            opened = moment
        elif depth < count <= before and moment > opened:
            found.append((opened, moment - 1))
    return normalise(found)


def _sessions_fitting(starts: Intervals, duration_min: int) -> int:
    """How many sessions of `duration_min` starting in `starts` one venue holds one after the
    other."""
    return sum((high - low) // duration_min + 1 for low, high in starts)


def session_options(
    problem: Problem, travel: TravelModel, deadline: float | None = None
) -> list[SessionOption] | None:
    """Every (group service, venue, day) at which a plan could hold a session, each with the
    starts where one could: inside the venue's and the service's windows
    (`rules.sessions.session_starts`), where at least the service's `leads` qualified leads have
    an outing holding it (`lead_failures`, `outings_by_day`) and at least `min_attendees`
    wishers can walk there (`walk_problem`) and be away from home (`seat_starts`). A session
    held needs `min_attendees` distinct wishes, each with at most one seat a day, so at most
    `len(seats) // min_attendees` sessions, and no more than the venue fits one after the other
    nor than `most_sessions_a_week`. Travel, the volunteers' other duties and the attendees'
    home visits are not looked at (the relaxation counts the minutes). None past `deadline`
    (a `time.perf_counter()` value).
    """
    from matcher.rules.outings import outings_by_day
    from matcher.rules.sessions import (
        candidate_venues,
        helper_failures,
        lead_failures,
        most_sessions_a_week,
        seat_starts,
        serves_children,
        session_starts,
        walk_problem,
    )

    outings = {volunteer.id: outings_by_day(volunteer) for volunteer in problem.volunteers}
    wishes: dict[str, list[tuple[Recipient, AttendanceWish]]] = {}
    for recipient in problem.recipients:
        for wish in recipient.attends:
            wishes.setdefault(wish.group_service, []).append((recipient, wish))
    found: list[SessionOption] = []
    for service in problem.group_services:
        if deadline is not None and time.perf_counter() > deadline:
            return None
        children = serves_children(service)
        duration = service.duration_min
        leaders = [
            volunteer.id
            for volunteer in problem.volunteers
            if not lead_failures(service, volunteer, children=children)
        ]
        helpers = (
            [
                volunteer.id
                for volunteer in problem.volunteers
                if not helper_failures(volunteer, children=children)
            ]
            if service.attendees_per_helper is not None
            else []
        )
        if len(leaders) < service.leads:
            continue
        for venue in candidate_venues(problem, service):
            venue_place = travel.venue_place[venue.id]
            reach: list[tuple[Recipient, AttendanceWish, dict[int, Intervals]]] = []
            for recipient, wish in wishes.get(service.id, []):
                distance = travel.distance(travel.recipient_place[recipient.id], venue_place)
                if walk_problem(problem, recipient, venue, distance, escorted=wish.escort):
                    continue
                reach.append((recipient, wish, seat_starts(problem, recipient, distance, duration)))
            for day, starts in sorted(session_starts(problem, service, venue).items()):
                sitting = [
                    (recipient, wish, intersect(starts, seats.get(day, [])))
                    for recipient, wish, seats in reach
                ]
                sitting = [item for item in sitting if item[2]]
                if len(sitting) < service.min_attendees:
                    continue
                free = {
                    volunteer_id: intersect(
                        starts, start_set(outings[volunteer_id].get(day, []), duration)
                    )
                    for volunteer_id in dict.fromkeys([*leaders, *helpers])
                }
                good = intersect(
                    _at_least((seats for _, _, seats in sitting), service.min_attendees),
                    _at_least((free[volunteer_id] for volunteer_id in leaders), service.leads),
                )
                if not good:
                    continue
                seated = tuple(
                    SeatOption(wish, recipient, problem.wish_priority(wish))
                    for recipient, wish, seats in sitting
                    if intersect(seats, good)
                )
                most = min(
                    most_sessions_a_week(service),
                    len(seated) // service.min_attendees,
                    _sessions_fitting(good, duration),
                )
                if most < 1:
                    continue
                found.append(
                    SessionOption(
                        service=service,
                        venue=venue,
                        day=day,
                        most=most,
                        spans=normalise((low, high + duration) for low, high in good),
                        leads=tuple(v for v in leaders if intersect(free[v], good)),
                        helpers=tuple(v for v in helpers if intersect(free[v], good)),
                        seats=seated,
                    )
                )
    return found


__all__ = ["SeatOption", "SessionOption", "seat_upper_bound", "session_options"]
