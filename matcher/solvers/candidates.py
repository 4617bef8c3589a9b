"""Who could make which visit, and when: the candidate analysis shared by the optimizing solvers.

Time sets are lists of closed integer intervals of minutes after midnight, `[(low, high), ...]`,
sorted and disjoint. A *start set* holds the start times at which a visit of a given duration
fits inside a set of windows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from matcher.models import (
    REASON_MESSAGES,
    WEEKDAYS,
    Need,
    Problem,
    Recipient,
    Service,
    Volunteer,
)
from matcher.travel import TravelModel

Intervals = list[tuple[int, int]]


def normalise(intervals: Iterable[tuple[int, int]]) -> Intervals:
    """Sort and merge overlapping or touching integer intervals; drop empty ones."""
    merged: Intervals = []
    for low, high in sorted(interval for interval in intervals if interval[0] <= interval[1]):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def intersect(first: Intervals, second: Intervals) -> Intervals:
    """Times in both interval sets."""
    result: Intervals = []
    for a_low, a_high in first:
        for b_low, b_high in second:
            low, high = max(a_low, b_low), min(a_high, b_high)
            if low <= high:
                result.append((low, high))
    return normalise(result)


def start_set(
    windows: Iterable[tuple[int, int]], duration: int, before: int = 0, after: int = 0
) -> Intervals:
    """Starts s with [s - before, s + duration + after] inside one of the windows."""
    return normalise(
        (start + before, end - duration - after)
        for start, end in windows
        if end - start >= duration + before + after
    )


def ceil_minutes(value: float) -> int:
    """Travel minutes rounded up to whole minutes (starts are whole minutes)."""
    return math.ceil(value - 1e-9)


@dataclass
class NeedFacts:
    """What every solver needs to know about one need, computed once."""

    need: Need
    recipient: Recipient
    service: Service
    duration: int
    priority: float
    place: int
    windows_by_day: dict[int, Intervals]
    qualified: list[str] = field(default_factory=list)
    late_windows_by_day: dict[int, Intervals] = field(default_factory=dict)
    """The windows stretched by the lateness a soft window allows (the visit may end that much
    later); the same as `windows_by_day` for a hard window."""

    def lateness(self, day: int, start: int) -> float:
        """Minutes late for a visit starting then: the least over the windows already open."""
        late = [
            max(0, start - (end - self.duration))
            for window_start, end in self.windows_by_day.get(day, [])
            if window_start <= start
        ]
        return float(min(late)) if late else 0.0


def is_qualified(
    problem: Problem, service: Service, recipient: Recipient, volunteer: Volunteer
) -> bool:
    """Skills, verification, background check, kind of recipient, not excluded."""
    if volunteer.id in recipient.excluded_volunteers:
        return False
    if recipient.kind not in service.recipient_kinds:
        return False
    if not set(service.required_skills) <= set(volunteer.skills):
        return False
    if service.requires_verified and not volunteer.verified:
        return False
    return not (recipient.kind == "child" and not volunteer.background_checked)


def availability_by_day(volunteer: Volunteer) -> dict[int, Intervals]:
    """The volunteer's availability windows per weekday index, sorted, never merged (a visit
    must lie inside one window, not across two that touch)."""
    result: dict[int, Intervals] = {}
    for window in volunteer.availability:
        result.setdefault(window.day_index, []).append((window.start, window.end))
    return {day: sorted(set(intervals)) for day, intervals in result.items()}


def need_facts(problem: Problem, travel: TravelModel) -> dict[str, NeedFacts]:
    """Facts for every need, with the volunteers qualified for it."""
    facts: dict[str, NeedFacts] = {}
    for recipient in problem.recipients:
        for need in recipient.needs:
            service = problem.service_by_id[need.service]
            windows: dict[int, Intervals] = {}
            late_windows: dict[int, Intervals] = {}
            for window in problem.allowed_windows(need):
                windows.setdefault(window.day_index, []).append((window.start, window.end))
                stretch = 0
                if need.soft_window:
                    stretch = (
                        need.max_lateness_min
                        if need.max_lateness_min is not None
                        else problem.day_length_min
                    )
                late_windows.setdefault(window.day_index, []).append(
                    (window.start, min(problem.day_length_min, window.end + stretch))
                )
            facts[need.id] = NeedFacts(
                need=need,
                recipient=recipient,
                service=service,
                duration=problem.duration_of(need),
                priority=problem.priority_of(need),
                place=travel.recipient_place[recipient.id],
                windows_by_day={day: sorted(set(spans)) for day, spans in windows.items()},
                late_windows_by_day={
                    day: sorted(set(spans)) for day, spans in late_windows.items()
                },
                qualified=[
                    volunteer.id
                    for volunteer in problem.volunteers
                    if is_qualified(problem, service, recipient, volunteer)
                ],
            )
    return facts


def reachable_start_set(
    problem: Problem,
    travel: TravelModel,
    facts: NeedFacts,
    volunteer: Volunteer,
    day: int,
    availability: dict[int, Intervals],
) -> Intervals:
    """Starts at which this volunteer could make this visit alone on this day: inside the
    need's windows and their availability, leaving their start place and getting home in time,
    within their single-trip distance."""
    windows = facts.late_windows_by_day.get(day)
    own = availability.get(day)
    if not windows or not own:
        return []
    start_place, home_place = travel.start_place[volunteer.id], travel.home_place[volunteer.id]
    limit = volunteer.max_trip_distance_m
    if limit is not None and (
        travel.distance(start_place, facts.place) > limit + 1e-6
        or travel.distance(facts.place, home_place) > limit + 1e-6
    ):
        return []
    out_min = travel.travel_min(volunteer, start_place, facts.place)
    back_min = travel.travel_min(volunteer, facts.place, home_place)
    if math.isinf(out_min) or math.isinf(back_min):
        return []
    own_starts = start_set(own, facts.duration, ceil_minutes(out_min), ceil_minutes(back_min))
    return intersect(start_set(windows, facts.duration), own_starts)


def diagnose_unplanned(problem: Problem, travel: TravelModel, facts: NeedFacts) -> tuple[str, str]:
    """Why a need's visit could not be planned: the first rule that rules out everyone.

    Returns (reason code, sentence). Checks, in order: qualification (skills, checks,
    exclusions), a shared window of availability long enough, reach (single trip distance and
    travel time there and back), and otherwise the qualified volunteers are full.
    """
    service = facts.service
    if len(facts.qualified) < service.team_size:
        missing = sorted(
            set(service.required_skills)
            - {skill for volunteer in problem.volunteers for skill in volunteer.skills}
        )
        detail = f" (nobody has: {', '.join(missing)})" if missing else ""
        return "no_qualified_volunteer", REASON_MESSAGES["no_qualified_volunteer"] + detail
    shared: list[str] = []
    reachable: list[str] = []
    for volunteer_id in facts.qualified:
        volunteer = problem.volunteer_by_id[volunteer_id]
        availability = availability_by_day(volunteer)
        days = [
            day
            for day in facts.late_windows_by_day
            if intersect(
                start_set(facts.late_windows_by_day[day], facts.duration),
                start_set(availability.get(day, []), facts.duration),
            )
        ]
        if not days:
            continue
        shared.append(volunteer_id)
        if any(
            reachable_start_set(problem, travel, facts, volunteer, day, availability)
            for day in days
        ):
            reachable.append(volunteer_id)
    if len(shared) < service.team_size:
        day_names = ", ".join(WEEKDAYS[day] for day in sorted(facts.windows_by_day)) or "no day"
        return (
            "no_shared_window",
            REASON_MESSAGES["no_shared_window"] + f" (the visit can take place on: {day_names})",
        )
    if len(reachable) < service.team_size:
        return "too_far", REASON_MESSAGES["too_far"]
    return "volunteers_full", REASON_MESSAGES["volunteers_full"]
