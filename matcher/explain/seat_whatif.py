"""What-if for unseated wishes: another session of a group service at another venue or time.

For each group service with wishes left unseated, every candidate slot (venue, day, start, as
the solvers try them: `matcher.rules.sessions.slot_starts`) is scored by the unseated wishers
who could sit in it (walking limit and steps, home windows, their own visits and seats), capped
by the slot's seats; a slot is proposed only when it reaches the service's minimum and a
qualified lead has room for it in their outings and week as planned
(`rules.sessions.VolunteerDays`). The best slots come first. Nothing is re-solved: each
proposal is one more session a coordinator could add by hand, then check.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from pydantic import BaseModel, ConfigDict

from matcher.messages import checked_language, message
from matcher.models import WEEKDAYS, Plan, Problem, format_clock
from matcher.rules.intervals import Interval
from matcher.rules.sessions import (
    Duty,
    VolunteerDays,
    attendee_span,
    attendee_windows,
    candidate_venues,
    inside,
    lead_failures,
    overlaps,
    seats_at,
    session_duties,
    session_windows,
    slot_starts,
    visit_duties,
    walk_problem,
)
from matcher.travel import TravelModel


class SeatSuggestion(BaseModel):
    """One more session that would seat unseated wishes, and who could lead it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group_service: str
    venue: str
    day: str
    start: int
    end: int
    lead: str
    wishes: list[str]
    message: str
    sessions_per_week: int
    """The sessions of the service the week then holds; above the service's own
    `sessions_per_week` (the most a plan may hold), that is raised to hold this one too."""


def seat_suggestions(
    problem: Problem,
    plan: Plan,
    *,
    limit: int = 5,
    language: str | None = None,
    travel: TravelModel | None = None,
) -> list[SeatSuggestion]:
    """Up to `limit` extra sessions, the most unseated wishes seated first."""
    travel = travel if travel is not None else TravelModel(problem)
    voice = checked_language(language if language is not None else problem.policy.language)
    sessions = plan.sessions or []
    duties = visit_duties(travel, plan.visits)
    for key, items in session_duties(problem, travel, sessions).items():
        duties[key] = [*duties.get(key, []), *items]
    days = VolunteerDays(problem, travel, duties)
    busy: dict[tuple[str, int], list[Interval]] = defaultdict(list)
    for visit in plan.visits:
        busy[(visit.recipient, WEEKDAYS.index(visit.day))].append((visit.start, visit.end))
    venue_busy: dict[tuple[str, int], list[Interval]] = defaultdict(list)
    seated_days: dict[str, set[int]] = defaultdict(set)
    for session in sessions:
        day = WEEKDAYS.index(session.day)
        venue_busy[(session.venue, day)].append((session.start, session.end))
        place = travel.venue_place[session.venue]
        for seat in session.attendees:
            seated_days[seat.wish].add(day)
            distance = travel.distance(travel.recipient_place[seat.recipient], place)
            busy[(seat.recipient, day)].append(
                attendee_span(problem, distance, session.start, session.end)
            )
    waiting: dict[str, list[str]] = defaultdict(list)
    for item in plan.unseated or []:
        if item.wish not in waiting[item.group_service]:
            waiting[item.group_service].append(item.wish)

    held = Counter(session.group_service for session in sessions)
    found: list[tuple[int, str, int, int, SeatSuggestion]] = []
    for service_id, wishes in waiting.items():
        service = problem.group_service_by_id.get(service_id)
        if service is None:
            continue
        children = any(problem.recipient_of_wish[wish].kind == "child" for wish in wishes)
        leads = [v for v in problem.volunteers if not lead_failures(service, v, children=children)]
        best: tuple[int, str, int, int, SeatSuggestion] | None = None
        for venue in candidate_venues(problem, service):
            place = travel.venue_place[venue.id]
            for day, spans in sorted(session_windows(problem, service, venue).items()):
                for start in slot_starts(spans, service.duration_min):
                    end = start + service.duration_min
                    if overlaps(venue_busy[(venue.id, day)], start, end):
                        continue
                    able = []
                    for wish_id in wishes:
                        recipient = problem.recipient_of_wish[wish_id]
                        wish = problem.wish_by_id[wish_id]
                        distance = travel.distance(travel.recipient_place[recipient.id], place)
                        if day in seated_days[wish_id] or walk_problem(
                            problem, recipient, venue, distance, escorted=wish.escort
                        ):
                            continue
                        leaves, back = attendee_span(problem, distance, start, end)
                        if inside(
                            attendee_windows(problem, recipient).get(day, []), leaves, back
                        ) and not overlaps(busy[(recipient.id, day)], leaves, back):
                            able.append(wish_id)
                    able = able[: seats_at(service, venue)]
                    if len(able) < service.min_attendees:
                        continue
                    if best is not None and len(able) <= len(best[4].wishes):
                        continue
                    duty = Duty(start, end, place, "session")
                    lead = next(
                        (v.id for v in leads if days.added_min(v.id, day, duty) is not None),
                        None,
                    )
                    if lead is None:
                        continue
                    suggestion = SeatSuggestion(
                        sessions_per_week=held[service_id] + 1,
                        group_service=service_id,
                        venue=venue.id,
                        day=WEEKDAYS[day],
                        start=start,
                        end=end,
                        lead=lead,
                        wishes=able,
                        message=message(
                            "seat.suggestion",
                            voice,
                            service=service.name or service.id,
                            venue=venue.name or venue.id,
                            day=message(f"day.{WEEKDAYS[day]}", voice),
                            start=format_clock(start),
                            seats=len(able),
                            lead=lead,
                        ),
                    )
                    best = (-len(able), service_id, day, start, suggestion)
        if best is not None:
            found.append(best)
    found.sort(key=lambda item: item[:4])
    return [item[4] for item in found[:limit]]


__all__ = ["SeatSuggestion", "seat_suggestions"]
