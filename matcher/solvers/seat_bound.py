"""An upper bound on the seats of group sessions, without a solver (no SciPy import)."""

from __future__ import annotations

from matcher.models import Problem
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


__all__ = ["seat_upper_bound"]
