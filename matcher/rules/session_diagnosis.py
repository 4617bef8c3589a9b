"""Why a seat an attendance wish asks for is not in the plan (`matcher.models.SeatReason`).

The first of these that holds is the reason, from the wish's own circumstances to the plan's:

1. `no_venue_open`: no candidate venue has a time the service may be held that fits it;
2. `cannot_walk`: the recipient does not walk to sessions (`rules.sessions.walking_limit_m`);
3. `too_far_to_walk`: every candidate venue is beyond their limit or has steps they cannot take;
4. `no_shared_window`: at no slot of a venue they can reach are they free (home windows);
5. `busy_with_visits`: every such slot overlaps their own home visits or their other seats
   (or falls on a day a seat of the same wish already has);
6. `session_full` (a held session they could join is full, or has as many as its helpers
   allow), or `no_escort` (it has room but
   they need an escort), or `not_planned` (it has room);
7. `held_elsewhere`: the service already holds its sessions a week, where or when they cannot
   come;
8. `below_minimum`: at every slot they could attend, fewer wishers could attend than the
   service's minimum;
9. `no_lead_free`: otherwise: a session could have been held, but nobody could lead it then.
`not_planned` also when the solver stopped before planning sessions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher.models import (
    WEEKDAYS,
    AttendanceWish,
    GroupService,
    Problem,
    Recipient,
    SeatReason,
    Session,
    Venue,
    Visit,
)
from matcher.rules.intervals import Interval
from matcher.rules.sessions import (
    attendee_span,
    attendee_windows,
    candidate_venues,
    inside,
    most_attendees_with,
    overlaps,
    seats_at,
    session_windows,
    slot_starts,
    walk_problem,
    walking_limit_m,
)

if TYPE_CHECKING:
    from matcher.travel import TravelModel


@dataclass(frozen=True)
class MissingSeat:
    """A seat of a wish that is not in the plan, and why."""

    recipient: str
    wish: str
    group_service: str
    occurrence: int
    reason: SeatReason


class SeatDiagnoser:
    """The reasons of every missing seat of one plan."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        visits: Sequence[Visit],
        sessions: Sequence[Session],
    ) -> None:
        self.problem = problem
        self.travel = travel
        self.sessions = list(sessions)
        self.busy: dict[tuple[str, int], list[Interval]] = defaultdict(list)
        for visit in visits:
            self.busy[(visit.recipient, WEEKDAYS.index(visit.day))].append((visit.start, visit.end))
        self._counts: dict[tuple[str, str, int, int], int] = {}
        self._by_service: dict[str, list[tuple[Recipient, AttendanceWish]]] | None = None
        self._home: dict[str, dict[int, list[Interval]]] = {}
        self._windows: dict[tuple[str, str], dict[int, list[Interval]]] = {}
        self.seat_days: dict[str, set[int]] = defaultdict(set)
        self.seated: dict[str, set[int]] = defaultdict(set)
        for session in sessions:
            venue_place = travel.venue_place[session.venue]
            for seat in session.attendees:
                day = WEEKDAYS.index(session.day)
                self.seat_days[seat.wish].add(day)
                self.seated[seat.wish].add(seat.occurrence)
                distance = travel.distance(travel.recipient_place[seat.recipient], venue_place)
                self.busy[(seat.recipient, day)].append(
                    attendee_span(problem, distance, session.start, session.end)
                )

    def missing(self, *, stopped: bool = False) -> list[MissingSeat]:
        """Every seat wished and not planned, in problem order, with its reason."""
        found: list[MissingSeat] = []
        for recipient in self.problem.recipients:
            for wish in recipient.attends:
                occurrences = [
                    number
                    for number in range(1, wish.sessions_per_week + 1)
                    if number not in self.seated[wish.id]
                ]
                if not occurrences:
                    continue
                reason: SeatReason = "not_planned" if stopped else self.reason(recipient, wish)
                found += [
                    MissingSeat(recipient.id, wish.id, wish.group_service, number, reason)
                    for number in occurrences
                ]
        return found

    def session_windows(self, service: GroupService, venue: Venue) -> dict[int, list[Interval]]:
        """`rules.sessions.session_windows`, once per service and venue."""
        key = (service.id, venue.id)
        if key not in self._windows:
            self._windows[key] = session_windows(self.problem, service, venue)
        return self._windows[key]

    def distance(self, recipient: Recipient, venue: Venue) -> float:
        return self.travel.distance(
            self.travel.recipient_place[recipient.id], self.travel.venue_place[venue.id]
        )

    def reason(self, recipient: Recipient, wish: AttendanceWish) -> SeatReason:
        problem = self.problem
        service = problem.group_service_by_id[wish.group_service]
        venues = candidate_venues(problem, service)
        windows = {venue.id: self.session_windows(service, venue) for venue in venues}
        open_venues = [
            venue
            for venue in venues
            if any(slot_starts(spans, service.duration_min) for spans in windows[venue.id].values())
        ]
        if not open_venues:
            return "no_venue_open"
        if walking_limit_m(problem, recipient, escorted=wish.escort) is None:
            return "cannot_walk"
        reachable = [
            venue
            for venue in open_venues
            if walk_problem(
                problem, recipient, venue, self.distance(recipient, venue), escorted=wish.escort
            )
            is None
        ]
        if not reachable:
            return "too_far_to_walk"
        home = self.home_windows(recipient)
        fitting: list[tuple[Venue, int, int]] = []
        for venue in reachable:
            distance = self.distance(recipient, venue)
            for day, spans in windows[venue.id].items():
                for start in slot_starts(spans, service.duration_min):
                    leaves, back = attendee_span(
                        problem, distance, start, start + service.duration_min
                    )
                    if inside(home.get(day, []), leaves, back):
                        fitting.append((venue, day, start))
        if not fitting:
            return "no_shared_window"
        free = [
            (venue, day, start)
            for venue, day, start in fitting
            if day not in self.seat_days[wish.id]
            and not overlaps(
                self.busy[(recipient.id, day)],
                *attendee_span(
                    problem,
                    self.distance(recipient, venue),
                    start,
                    start + service.duration_min,
                ),
            )
        ]
        if not free:
            return "busy_with_visits"
        joinable = self.joinable(recipient, wish, service, reachable)
        if joinable:
            if any(
                len(session.attendees)
                < min(
                    seats_at(service, problem.venue_by_id[session.venue]),
                    most_attendees_with(service, len(set(session.helpers))),
                )
                for session in joinable
            ):
                return "no_escort" if wish.escort else "not_planned"
            return "session_full"
        held = sum(session.group_service == service.id for session in self.sessions)
        if held >= service.sessions_per_week:
            return "held_elsewhere"
        most = max(self.wishers_at(service, venue, day, start) for venue, day, start in free)
        if most < service.min_attendees:
            return "below_minimum"
        return "no_lead_free"

    def joinable(
        self,
        recipient: Recipient,
        wish: AttendanceWish,
        service: GroupService,
        reachable: list[Venue],
    ) -> list[Session]:
        """Held sessions of the service the recipient could have sat in."""
        problem = self.problem
        home = self.home_windows(recipient)
        names = {venue.id for venue in reachable}
        found = []
        for session in self.sessions:
            if session.group_service != service.id or session.venue not in names:
                continue
            day = WEEKDAYS.index(session.day)
            if day in self.seat_days[wish.id]:
                continue
            venue = problem.venue_by_id[session.venue]
            leaves, back = attendee_span(
                problem, self.distance(recipient, venue), session.start, session.end
            )
            if inside(home.get(day, []), leaves, back) and not overlaps(
                self.busy[(recipient.id, day)], leaves, back
            ):
                found.append(session)
        return found

    def wishers_at(self, service: GroupService, venue: Venue, day: int, start: int) -> int:
        """How many wishers of the service could sit in a session at this slot (their walk and
        windows only), worked out once per slot."""
        key = (service.id, venue.id, day, start)
        if key not in self._counts:
            problem = self.problem
            count = 0
            for recipient, wish in self._wishers(service.id):
                distance = self.distance(recipient, venue)
                if walk_problem(problem, recipient, venue, distance, escorted=wish.escort):
                    continue
                leaves, back = attendee_span(problem, distance, start, start + service.duration_min)
                if inside(self.home_windows(recipient).get(day, []), leaves, back):
                    count += 1
            self._counts[key] = count
        return self._counts[key]

    def _wishers(self, service_id: str) -> list[tuple[Recipient, AttendanceWish]]:
        if self._by_service is None:
            self._by_service = defaultdict(list)
            for recipient in self.problem.recipients:
                for wish in recipient.attends:
                    self._by_service[wish.group_service].append((recipient, wish))
        return self._by_service.get(service_id, [])

    def home_windows(self, recipient: Recipient) -> dict[int, list[Interval]]:
        """`rules.sessions.attendee_windows`, once per recipient."""
        if recipient.id not in self._home:
            self._home[recipient.id] = attendee_windows(self.problem, recipient)
        return self._home[recipient.id]


def missing_seats(
    problem: Problem,
    travel: TravelModel,
    visits: Sequence[Visit],
    sessions: Sequence[Session],
    *,
    stopped: bool = False,
) -> list[MissingSeat]:
    """Every seat wished and not in the plan, with its reason."""
    return SeatDiagnoser(problem, travel, visits, sessions).missing(stopped=stopped)


__all__ = ["MissingSeat", "SeatDiagnoser", "missing_seats"]
