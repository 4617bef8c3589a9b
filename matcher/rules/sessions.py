"""What group sessions mean, for everything but the checker: who may lead or help, who can walk
to which venue, when a session may be held and who may sit in it, and how a session (or an
escort) becomes a stop in a volunteer's outing next to their home visits.

- A session of a group service is held at one of its candidate venues (`candidate_venues`), at
  a time inside the venue's open windows and the service's own windows (`session_windows`).
- Leads have the service's lead skills, are verified when the service asks, and have a
  background check when children attend (`lead_failures`); helpers need the background check
  when children attend (`helper_failures`); a session needs `attendees // attendees_per_helper`
  helpers (`helpers_needed`). Nobody leads or helps twice in one session.
- An attendee walks from home to the venue, at most their walking limit (`walking_limit_m`: the
  recipient's own, else the policy's default for their disability level; with an escort up to
  `policy.walking.escorted_m`; the bedridden never attend). Attendees of disability level 1 or
  more only go to step-free venues. They are away from home from `walk_min` before the session
  starts to `walk_min` after it ends (`attendee_span`): that span lies inside their home
  windows and overlaps none of their own home visits or other seats.
- An escort is a volunteer who is at the attendee's home at the start of that span, walks them
  there, stays, and brings them home by its end: a stop at the attendee's home for the whole
  span, plus the escorted walk both ways (`escort_duty`).
- A session is a stop of each lead and helper at the venue (`session_duty`); visits a day,
  outings, trip and outing distances and weekly minutes count these stops like home visits
  (`day_problems`, `day_minutes`).
- A session is held only with at least `min_attendees` and at most `seats_at` attendees (the
  smaller of the service's maximum and the venue's capacity); one wish has at most its
  `sessions_per_week` seats, on different days; a venue holds one session at a time.
- The solvers hold at most `sessions_per_week` sessions of a group service a week
  (`most_sessions_a_week`): what it wants is also what they plan, no more.
- Starts as sets of whole minutes: `session_starts` (a session of the service fits the venue's
  and the service's windows), `seat_starts` (the attendee's span lies inside their home windows).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher.models import (
    WEEKDAYS,
    GroupService,
    Problem,
    Recipient,
    Session,
    TimeWindow,
    Venue,
    Visit,
    Volunteer,
)
from matcher.rules.intervals import Interval, Intervals, intersect, normalise, start_set
from matcher.rules.outings import (
    EPSILON,
    Stop,
    outing_index,
    outing_problems,
    outings_by_day,
    trips_by_outing,
    walk_outing,
)

if TYPE_CHECKING:
    from matcher.travel import TravelModel

SLOT_STEP_MIN = 30
"""Session starts the solvers try: every half hour from a window's opening."""


def candidate_venues(problem: Problem, service: GroupService) -> list[Venue]:
    """The venues a group service may use: those it lists, else every venue of its kinds."""
    if service.venues:
        return [problem.venue_by_id[venue] for venue in service.venues]
    return [venue for venue in problem.venues if venue.kind in service.venue_kinds]


def lead_failures(service: GroupService, volunteer: Volunteer, *, children: bool) -> list[str]:
    """Why the volunteer may not lead the service (empty: they may): `session_lead_skill`,
    `verified`, `background_check` (when children attend)."""
    failures = []
    if not set(service.lead_skills) <= set(volunteer.skills):
        failures.append("session_lead_skill")
    if service.lead_requires_verified and not volunteer.verified:
        failures.append("verified")
    if children and not volunteer.background_checked:
        failures.append("background_check")
    return failures


def helper_failures(volunteer: Volunteer, *, children: bool) -> list[str]:
    """Why the volunteer may not help at (or escort to) a session: `background_check` when
    children attend."""
    return ["background_check"] if children and not volunteer.background_checked else []


def serves_children(service: GroupService) -> bool:
    """Whether children may attend, so leads and helpers are planned with a background check."""
    return "child" in service.recipient_kinds


def helpers_needed(service: GroupService, attendees: int) -> int:
    """Helpers a session of this many attendees needs: one per full `attendees_per_helper`."""
    per_helper = service.attendees_per_helper
    return 0 if per_helper is None else attendees // per_helper


def most_attendees_with(service: GroupService, helpers: int) -> int:
    """The most attendees `helpers` helpers allow (the inverse of `helpers_needed`)."""
    per_helper = service.attendees_per_helper
    return service.max_attendees if per_helper is None else (helpers + 1) * per_helper - 1


def seats_at(service: GroupService, venue: Venue) -> int:
    """The most attendees of one session of the service at the venue."""
    return min(service.max_attendees, venue.capacity)


def walking_limit_m(problem: Problem, recipient: Recipient, *, escorted: bool) -> float | None:
    """How far the recipient goes to a session, one way; None when they do not attend at all
    (bedridden, or a limit of 0 without an escort)."""
    walking = problem.policy.walking
    if recipient.disability_level >= 3:
        return None
    own = (
        recipient.walking_limit_m
        if recipient.walking_limit_m is not None
        else walking.default_for(recipient.disability_level)
    )
    limit = max(own, walking.escorted_m) if escorted else own
    return limit if limit > 0 else None


def walk_problem(
    problem: Problem, recipient: Recipient, venue: Venue, distance_m: float, *, escorted: bool
) -> str | None:
    """Why the recipient cannot get to the venue (`cannot_walk`, `too_far_to_walk`), or None."""
    limit = walking_limit_m(problem, recipient, escorted=escorted)
    if limit is None:
        return "cannot_walk"
    if not math.isfinite(distance_m) or distance_m > limit + EPSILON:
        return "too_far_to_walk"
    if recipient.disability_level >= 1 and not venue.step_free:
        return "too_far_to_walk"
    return None


def walk_min(problem: Problem, distance_m: float) -> float:
    """Minutes an attendee (and an escort beside them) walks one way."""
    return distance_m / problem.policy.walking.speed_m_per_min


def attendee_span(problem: Problem, distance_m: float, start: float, end: float) -> Interval:
    """When the attendee is away from home for a session from `start` to `end` (whole minutes,
    rounded outward)."""
    walking = walk_min(problem, distance_m)
    return (math.floor(start - walking + EPSILON), math.ceil(end + walking - EPSILON))


def _by_day(windows: Iterable[TimeWindow]) -> dict[int, Intervals]:
    raw: dict[int, list[Interval]] = defaultdict(list)
    for window in windows:
        raw[window.day_index].append((window.start, window.end))
    return {day: normalise(spans) for day, spans in raw.items()}


def _whole_week(problem: Problem) -> dict[int, Intervals]:
    return {day: [(0, problem.day_length_min)] for day in range(len(WEEKDAYS))}


def session_windows(problem: Problem, service: GroupService, venue: Venue) -> dict[int, Intervals]:
    """When a session of the service may run at the venue, per weekday index: the venue's open
    windows and the service's windows (each empty list means no restriction), never on a day
    the venue is closed."""
    venue_open = _by_day(venue.open_windows) if venue.open_windows else _whole_week(problem)
    allowed = _by_day(service.windows) if service.windows else _whole_week(problem)
    result: dict[int, Intervals] = {}
    for day in range(len(WEEKDAYS)):
        if WEEKDAYS[day] in venue.closed_days:
            continue
        both = intersect(venue_open.get(day, []), allowed.get(day, []))
        if both:
            result[day] = both
    return result


def attendee_windows(problem: Problem, recipient: Recipient) -> dict[int, Intervals]:
    """When the recipient may be away at a session, per weekday index: their home windows
    (empty: any time)."""
    if not recipient.home_windows:
        return _whole_week(problem)
    return _by_day(recipient.home_windows)


def inside(windows: Intervals, start: float, end: float) -> bool:
    """Whether [start, end] lies inside one of the windows."""
    return any(low <= start + EPSILON and end <= high + EPSILON for low, high in windows)


def overlaps(busy: Iterable[Interval], start: float, end: float) -> bool:
    """Whether [start, end] overlaps any busy interval (touching is fine)."""
    return any(start < high - EPSILON and low < end - EPSILON for low, high in busy)


def most_sessions_a_week(service: GroupService) -> int:
    """The most sessions of the service the solvers hold in a week: the `sessions_per_week` it
    wants (greedy, the diagnosis and the bounds all stop there)."""
    return service.sessions_per_week


def session_starts(problem: Problem, service: GroupService, venue: Venue) -> dict[int, Intervals]:
    """Every whole-minute start of a session of the service at the venue, per weekday index:
    the session lies inside `session_windows` (`slot_starts` are the ones the solvers try)."""
    found: dict[int, Intervals] = {}
    for day, spans in session_windows(problem, service, venue).items():
        starts = start_set(spans, service.duration_min)
        if starts:
            found[day] = starts
    return found


def seat_starts(
    problem: Problem, recipient: Recipient, distance_m: float, duration_min: int
) -> dict[int, Intervals]:
    """Every whole-minute start of a session of `duration_min` at `distance_m` from the
    recipient's home at which they can sit in it, per weekday index: their span away
    (`attendee_span`, the walk rounded outward to whole minutes) lies inside their home windows
    (`attendee_windows`). Their own home visits and other seats are not looked at."""
    walking = math.ceil(walk_min(problem, distance_m) - EPSILON)
    found: dict[int, Intervals] = {}
    for day, spans in attendee_windows(problem, recipient).items():
        starts = start_set(spans, duration_min, walking, walking)
        if starts:
            found[day] = starts
    return found


def slot_starts(windows: Intervals, duration_min: int) -> list[int]:
    """The starts the solvers try in these windows: every `SLOT_STEP_MIN` from each opening,
    and the latest start of each window."""
    starts: list[int] = []
    for low, high in windows:
        latest = high - duration_min
        if latest < low:
            continue
        starts += list(range(low, latest + 1, SLOT_STEP_MIN))
        if starts[-1] != latest:
            starts.append(latest)
    return sorted(set(starts))


@dataclass(frozen=True)
class Duty:
    """A stop of a volunteer's day: a home visit, a session at a venue, or an escort at the
    attendee's home; `extra_m` is walked within the stop (the escort's walk there and back)."""

    start: float
    end: float
    place: int
    kind: str = "visit"
    ref: str = ""
    extra_m: float = 0.0


def visit_duties(travel: TravelModel, visits: Iterable[Visit]) -> dict[tuple[str, int], list[Duty]]:
    """Every volunteer-day's home visits as duties."""
    duties: dict[tuple[str, int], list[Duty]] = defaultdict(list)
    for visit in visits:
        place = travel.recipient_place[visit.recipient]
        for volunteer in dict.fromkeys(visit.volunteers):
            duties[(volunteer, WEEKDAYS.index(visit.day))].append(
                Duty(visit.start, visit.end, place, "visit", visit.need)
            )
    return duties


def session_duty(travel: TravelModel, session: Session) -> Duty:
    """A lead's or a helper's stop at the session's venue."""
    return Duty(
        session.start, session.end, travel.venue_place[session.venue], "session", session.id
    )


def escort_duty(
    problem: Problem, travel: TravelModel, session: Session, recipient: Recipient
) -> Duty:
    """An escort's stop at the attendee's home for the attendee's whole span, with the walk to
    the venue and back."""
    home = travel.recipient_place[recipient.id]
    distance = travel.distance(home, travel.venue_place[session.venue])
    start, end = attendee_span(problem, distance, session.start, session.end)
    return Duty(start, end, home, "escort", session.id, 2 * distance)


def session_duties(
    problem: Problem, travel: TravelModel, sessions: Iterable[Session]
) -> dict[tuple[str, int], list[Duty]]:
    """Every volunteer-day's session and escort stops."""
    duties: dict[tuple[str, int], list[Duty]] = defaultdict(list)
    for session in sessions:
        day = WEEKDAYS.index(session.day)
        for volunteer in dict.fromkeys([*session.leads, *session.helpers]):
            duties[(volunteer, day)].append(session_duty(travel, session))
        for seat in session.attendees:
            if seat.escort is not None:
                recipient = problem.recipient_by_id[seat.recipient]
                duties[(seat.escort, day)].append(escort_duty(problem, travel, session, recipient))
    return duties


def day_problems(
    travel: TravelModel, volunteer: Volunteer, outings: Intervals, duties: Sequence[Duty]
) -> list[str]:
    """What breaks a rule in a volunteer's day with these duties (empty: it works): `overlap`,
    `max_visits_per_day`, `volunteer_window`, and the outing codes of
    `outings.outing_problems` (the escorted walk counts toward the outing's distance)."""
    ordered = sorted(duties, key=lambda duty: (duty.start, duty.end))
    problems: list[str] = []
    for earlier, later in itertools.pairwise(ordered):
        if later.start < earlier.end - EPSILON:
            problems.append("overlap")
            break
    most = volunteer.max_visits_per_day
    if most is not None and len(ordered) > most:
        problems.append("max_visits_per_day")
    for trip in trips_by_outing(outings, [(duty.start, duty.end) for duty in ordered]):
        stops = [ordered[index] for index in trip]
        index = outing_index(outings, stops[0].start, stops[0].end)
        if index is None:
            problems.append("volunteer_window")
            continue
        found = outing_problems(
            travel, volunteer, outings[index], [Stop(d.place, d.start, d.end) for d in stops]
        )
        problems += [code for code in found if code != "outing_distance"]
        limit = volunteer.max_outing_distance_m
        if limit is not None:
            walked = walk_outing(travel, volunteer, [d.place for d in stops]).distance_m
            if walked + sum(d.extra_m for d in stops) > limit + EPSILON:
                problems.append("outing_distance")
    return problems


def day_minutes(
    travel: TravelModel, volunteer: Volunteer, outings: Intervals, duties: Sequence[Duty]
) -> float:
    """Minutes of a volunteer's day: every duty and every leg of every trip (what
    `max_minutes_per_week` adds up)."""
    ordered = sorted(duties, key=lambda duty: (duty.start, duty.end))
    total = 0.0
    for trip in trips_by_outing(outings, [(duty.start, duty.end) for duty in ordered]):
        stops = [ordered[index] for index in trip]
        walk = walk_outing(travel, volunteer, [duty.place for duty in stops])
        total += walk.travel_min + sum(duty.end - duty.start for duty in stops)
    return total


def day_distance_m(
    travel: TravelModel, volunteer: Volunteer, outings: Intervals, duties: Sequence[Duty]
) -> float:
    """Metres a volunteer covers in a day: every leg of every trip and every escorted walk."""
    ordered = sorted(duties, key=lambda duty: (duty.start, duty.end))
    total = 0.0
    for trip in trips_by_outing(outings, [(duty.start, duty.end) for duty in ordered]):
        stops = [ordered[index] for index in trip]
        total += walk_outing(travel, volunteer, [duty.place for duty in stops]).distance_m
        total += sum(duty.extra_m for duty in stops)
    return total


class VolunteerDays:
    """Every volunteer's duties by day, with each day's minutes, for placing one more stop."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        duties: dict[tuple[str, int], list[Duty]],
    ) -> None:
        self.problem = problem
        self.travel = travel
        self.duties: dict[tuple[str, int], list[Duty]] = defaultdict(list)
        for key, items in duties.items():
            self.duties[key] = list(items)
        self.outings = {volunteer.id: outings_by_day(volunteer) for volunteer in problem.volunteers}
        self.minutes: dict[tuple[str, int], float] = {}
        self.week: dict[str, float] = defaultdict(float)
        for (volunteer_id, day), items in self.duties.items():
            minutes = self._minutes(volunteer_id, day, items)
            self.minutes[(volunteer_id, day)] = minutes
            self.week[volunteer_id] += minutes

    def _minutes(self, volunteer_id: str, day: int, items: Sequence[Duty]) -> float:
        volunteer = self.problem.volunteer_by_id[volunteer_id]
        return day_minutes(self.travel, volunteer, self.outings[volunteer_id].get(day, []), items)

    def added_min(self, volunteer_id: str, day: int, *duties: Duty) -> float | None:
        """Minutes the volunteer's week grows by with these duties more, or None when they do
        not fit their day or week."""
        volunteer = self.problem.volunteer_by_id[volunteer_id]
        outings = self.outings[volunteer_id].get(day, [])
        if any(outing_index(outings, duty.start, duty.end) is None for duty in duties):
            return None
        trial = [*self.duties[(volunteer_id, day)], *duties]
        if day_problems(self.travel, volunteer, outings, trial):
            return None
        minutes = day_minutes(self.travel, volunteer, outings, trial)
        added = minutes - self.minutes.get((volunteer_id, day), 0.0)
        limit = volunteer.max_minutes_per_week
        if limit is not None and self.week[volunteer_id] + added > limit + EPSILON:
            return None
        return added

    def added_m(self, volunteer_id: str, day: int, *duties: Duty) -> float:
        """Metres the volunteer's day grows by with these duties more (`day_distance_m`)."""
        volunteer = self.problem.volunteer_by_id[volunteer_id]
        outings = self.outings[volunteer_id].get(day, [])
        planned = self.duties[(volunteer_id, day)]
        before = day_distance_m(self.travel, volunteer, outings, planned) if planned else 0.0
        return day_distance_m(self.travel, volunteer, outings, [*planned, *duties]) - before

    def add(self, volunteer_id: str, day: int, duty: Duty) -> None:
        """Put one more duty in the volunteer's day."""
        items = self.duties[(volunteer_id, day)]
        items.append(duty)
        minutes = self._minutes(volunteer_id, day, items)
        self.week[volunteer_id] += minutes - self.minutes.get((volunteer_id, day), 0.0)
        self.minutes[(volunteer_id, day)] = minutes


__all__ = [
    "SLOT_STEP_MIN",
    "Duty",
    "VolunteerDays",
    "attendee_span",
    "attendee_windows",
    "candidate_venues",
    "day_distance_m",
    "day_minutes",
    "day_problems",
    "escort_duty",
    "helper_failures",
    "helpers_needed",
    "inside",
    "lead_failures",
    "most_attendees_with",
    "most_sessions_a_week",
    "overlaps",
    "seat_starts",
    "seats_at",
    "serves_children",
    "session_duties",
    "session_duty",
    "session_starts",
    "session_windows",
    "slot_starts",
    "visit_duties",
    "walk_min",
    "walk_problem",
    "walking_limit_m",
]
