"""Group sessions planned greedily into the week the home visits leave free.

The home visits come first (by default a visit outweighs a seat: `policy.weights.attendance`),
then, group service by group service (the most wished-for first), each session wanted in turn:
every candidate slot (venue, day, start every `SLOT_STEP_MIN`) is scored by the seats it would
fill (each wisher who can walk there, is free then and has no home visit or other seat then,
worth `attendance` times their priority, less their walk at `walking_per_km`), and the best
slots are tried until one can be staffed: leads (stable leads first), helpers, escorts, each a
stop in their outing that keeps their day and week (`matcher.rules.sessions.VolunteerDays`).
A slot with fewer seats than the service's minimum is never held. A pop-up session (candidate
venues at outdoor gathering points) so lands where most wishers can walk.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matcher.models import (
    WEEKDAYS,
    AttendanceWish,
    GroupService,
    PinnedVisit,
    Problem,
    Recipient,
    Seat,
    Session,
    Venue,
    Visit,
)
from matcher.rules.costs import hourly_cost
from matcher.rules.facts import NeedFacts, need_facts
from matcher.rules.intervals import Interval, Intervals
from matcher.rules.sessions import (
    Duty,
    VolunteerDays,
    attendee_span,
    attendee_windows,
    candidate_venues,
    helper_failures,
    helpers_needed,
    inside,
    lead_failures,
    most_attendees_with,
    overlaps,
    seats_at,
    session_duties,
    session_windows,
    slot_starts,
    visit_duties,
    walk_problem,
)
from matcher.solvers.base import SearchOutcome, SolveRequest
from matcher.solvers.greedy.setup import GreedyParameters
from matcher.solvers.greedy.state import FixedStop
from matcher.travel import TravelModel

SLOTS_TRIED = 40
"""How many of the best-scored slots a session tries to staff before it is given up."""
RESTART_BUDGET_FACTOR = 2.0
RESTART_MIN_S = 1.0
"""Restarts of the session planner take at most this many times the first pass (and at least
this many seconds), so a large week does not spend its limit on them."""
STAFFED_COMPARED = 6
"""How many staffed slots a session compares (seats' value less staff cost) before it picks."""


@dataclass
class _Wisher:
    """An attendance wish with what the planner reads of it again and again."""

    wish: AttendanceWish
    recipient: Recipient
    priority: float
    windows: dict[int, Intervals]
    distance_m: dict[str, float]
    """Metres from home to each venue they can get to (others are absent)."""
    left: int
    days: set[int]


@dataclass
class _Slot:
    venue: Venue
    day: int
    start: int
    seats: list[_Wisher]
    value: float


class SessionPlanner:
    """One greedy pass over the group services, into the week the visits leave free."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        visits: Sequence[Visit],
        deadline: float | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.problem = problem
        self.travel = travel
        self.deadline = deadline
        self.should_stop = should_stop
        self.days = VolunteerDays(problem, travel, visit_duties(travel, visits))
        self.busy: dict[tuple[str, int], list[Interval]] = defaultdict(list)
        for visit in visits:
            self.busy[(visit.recipient, WEEKDAYS.index(visit.day))].append((visit.start, visit.end))
        self.venue_busy: dict[tuple[str, int], list[Interval]] = defaultdict(list)
        self.led: dict[str, set[str]] = defaultdict(set)
        for entry in problem.lead_history:
            self.led[entry.group_service].add(entry.volunteer)
        self.sessions: list[Session] = []
        self.stopped = False
        self.wishers: dict[str, list[_Wisher]] = defaultdict(list)
        for recipient in problem.recipients:
            place = travel.recipient_place[recipient.id]
            for wish in recipient.attends:
                service = problem.group_service_by_id[wish.group_service]
                reachable = {}
                for venue in candidate_venues(problem, service):
                    distance = travel.distance(place, travel.venue_place[venue.id])
                    if walk_problem(problem, recipient, venue, distance, escorted=wish.escort):
                        continue
                    reachable[venue.id] = distance
                self.wishers[service.id].append(
                    _Wisher(
                        wish,
                        recipient,
                        problem.wish_priority(wish),
                        attendee_windows(problem, recipient),
                        reachable,
                        wish.sessions_per_week,
                        set(),
                    )
                )

    def run(self, first: str | None = None) -> list[Session]:
        """Plan every group service, most wished-for first (`first`, a group service's id,
        before all); the sessions held."""
        weights = self.problem.policy.weights
        order = sorted(
            self.problem.group_services,
            key=lambda service: (
                service.id != first,
                -sum(w.priority * w.left for w in self.wishers[service.id]) * weights.attendance,
                service.id,
            ),
        )
        for service in order:
            for _ in range(service.sessions_per_week):
                late = self.deadline is not None and time.perf_counter() > self.deadline
                if late or (self.should_stop is not None and self.should_stop()):
                    self.stopped = True
                    return self.sessions
                if not self.place_one(service):
                    break
        return self.sessions

    # --- slots -----------------------------------------------------------------------------

    def seat_value(self, wisher: _Wisher, venue: Venue) -> float:
        weights = self.problem.policy.weights
        walked_km = 2 * wisher.distance_m[venue.id] / 1000
        return weights.attendance * wisher.priority - weights.walking_per_km * walked_km

    def can_sit(self, wisher: _Wisher, venue: Venue, day: int, start: int, end: int) -> bool:
        if wisher.left <= 0 or day in wisher.days or venue.id not in wisher.distance_m:
            return False
        leaves, back = attendee_span(self.problem, wisher.distance_m[venue.id], start, end)
        if not inside(wisher.windows.get(day, []), leaves, back):
            return False
        return not overlaps(self.busy[(wisher.recipient.id, day)], leaves, back)

    def slots(self, service: GroupService) -> list[_Slot]:
        """Every slot of the service with enough seats, best first."""
        found: list[_Slot] = []
        duration = service.duration_min
        for venue in candidate_venues(self.problem, service):
            capacity = seats_at(service, venue)
            for day, windows in sorted(session_windows(self.problem, service, venue).items()):
                for start in slot_starts(windows, duration):
                    end = start + duration
                    if overlaps(self.venue_busy[(venue.id, day)], start, end):
                        continue
                    able = [
                        wisher
                        for wisher in self.wishers[service.id]
                        if self.can_sit(wisher, venue, day, start, end)
                    ]
                    if len(able) < service.min_attendees:
                        continue
                    able.sort(key=lambda w: (-self.seat_value(w, venue), w.wish.id))
                    seats = able[:capacity]
                    value = sum(self.seat_value(w, venue) for w in seats)
                    found.append(_Slot(venue, day, start, seats, value))
        found.sort(key=lambda slot: (-slot.value, slot.day, slot.start, slot.venue.id))
        return found

    # --- staffing --------------------------------------------------------------------------

    def place_one(self, service: GroupService) -> bool:
        """Hold the best of the first `STAFFED_COMPARED` slots that can be staffed (their seats'
        value less what their staff cost, stable leads' bonus included); whether one could."""
        best: tuple[float, int, _Slot, Session, dict[str, list[Duty]]] | None = None
        staffed_count = 0
        for rank, slot in enumerate(self.slots(service)[:SLOTS_TRIED]):
            staffed = self.staff(service, slot)
            if staffed is None:
                continue
            session, escorts, staff_points = staffed
            value = sum(
                self.seat_value(w, slot.venue)
                for w in slot.seats
                if w.wish.id in {seat.wish for seat in session.attendees}
            )
            candidate = (-(value - staff_points), rank, slot, session, escorts)
            if best is None or candidate[:2] < best[:2]:
                best = candidate
            staffed_count += 1
            if staffed_count >= STAFFED_COMPARED:
                break
        if best is None:
            return False
        _, _, slot, session, escorts = best
        self.commit(service, slot, session, escorts)
        return True

    def staff(
        self, service: GroupService, slot: _Slot
    ) -> tuple[Session, dict[str, list[Duty]], float] | None:
        """The session of the slot with its leads, helpers and escorts, each escort's stops and
        the points the leads cost (less stable leads' bonus); None when it cannot be staffed
        with at least the minimum of attendees."""
        problem, day = self.problem, slot.day
        end = slot.start + service.duration_min
        duty = Duty(slot.start, end, self.travel.venue_place[slot.venue.id], "session")
        seats = list(slot.seats)
        children = any(w.recipient.kind == "child" for w in seats)
        stable = self.led[service.id]
        weights = problem.policy.weights

        def cost(volunteer_id: str, added: float) -> tuple[float, str]:
            """Points the stop costs (travel, hourly cost) less a stable lead's bonus."""
            volunteer = problem.volunteer_by_id[volunteer_id]
            points = weights.travel_per_km * self.days.added_m(volunteer_id, day, duty) / 1000
            points += hourly_cost(volunteer, weights) * added / 60
            bonus = weights.stable_lead if volunteer_id in stable else 0.0
            return points - bonus, volunteer_id

        leads: list[tuple[tuple[float, str], str]] = []
        for volunteer in problem.volunteers:
            if lead_failures(service, volunteer, children=children):
                continue
            added = self.days.added_min(volunteer.id, day, duty)
            if added is not None:
                leads.append((cost(volunteer.id, added), volunteer.id))
        if len(leads) < service.leads:
            return None
        chosen_leads = sorted(leads)[: service.leads]
        chosen = [volunteer for _, volunteer in chosen_leads]
        staff_points = sum(points for (points, _), _ in chosen_leads)

        helpers: list[str] = []
        wanted = helpers_needed(service, len(seats))
        if wanted:
            options = []
            for volunteer in problem.volunteers:
                if volunteer.id in chosen or helper_failures(volunteer, children=children):
                    continue
                added = self.days.added_min(volunteer.id, day, duty)
                if added is not None:
                    options.append((added, volunteer.id))
            helpers = [volunteer for _, volunteer in sorted(options)[:wanted]]
            seats = seats[: most_attendees_with(service, len(helpers))]

        escorts: dict[str, str] = {}
        taken: dict[str, list[Duty]] = defaultdict(list)
        staff = set(chosen) | set(helpers)
        kept: list[_Wisher] = []
        for wisher in seats:
            if not wisher.wish.escort:
                kept.append(wisher)
                continue
            escort = self.escort_for(wisher, slot, end, staff, taken, children)
            if escort is not None:
                escorts[wisher.wish.id] = escort
                kept.append(wisher)
        if len(kept) < service.min_attendees:
            return None
        if len(kept) < len(seats):
            helpers = helpers[: max(helpers_needed(service, len(kept)), 0)]
        session = Session(
            id=f"{service.id}-{sum(s.group_service == service.id for s in self.sessions) + 1}",
            group_service=service.id,
            venue=slot.venue.id,
            day=WEEKDAYS[day],
            date=problem.date_of(WEEKDAYS[day]),
            start=slot.start,
            end=end,
            leads=chosen,
            helpers=helpers,
            attendees=[
                Seat(
                    recipient=w.recipient.id,
                    wish=w.wish.id,
                    occurrence=w.wish.sessions_per_week - w.left + 1,
                    escort=escorts.get(w.wish.id),
                    walk_m=w.distance_m[slot.venue.id],
                )
                for w in kept
            ],
        )
        return session, taken, staff_points

    def escort_duty(self, wisher: _Wisher, slot: _Slot, end: int) -> Duty:
        distance = wisher.distance_m[slot.venue.id]
        leaves, back = attendee_span(self.problem, distance, slot.start, end)
        home = self.travel.recipient_place[wisher.recipient.id]
        return Duty(leaves, back, home, "escort", wisher.wish.id, 2 * distance)

    def escort_for(
        self,
        wisher: _Wisher,
        slot: _Slot,
        end: int,
        staff: set[str],
        taken: dict[str, list[Duty]],
        children: bool,
    ) -> str | None:
        """The volunteer who adds least to their week to walk this attendee there and back."""
        duty = self.escort_duty(wisher, slot, end)
        best: tuple[float, str] | None = None
        for volunteer in self.problem.volunteers:
            if volunteer.id in staff or helper_failures(volunteer, children=children):
                continue
            added = self.days.added_min(volunteer.id, slot.day, *taken[volunteer.id], duty)
            if added is not None and (best is None or (added, volunteer.id) < best):
                best = (added, volunteer.id)
        if best is None:
            return None
        taken[best[1]].append(duty)
        return best[1]

    def commit(
        self,
        service: GroupService,
        slot: _Slot,
        session: Session,
        escort_duties: dict[str, list[Duty]],
    ) -> None:
        """Put the session in the week: its staff's stops, the venue, the seats."""
        day = slot.day
        duty = Duty(session.start, session.end, self.travel.venue_place[slot.venue.id], "session")
        for volunteer in [*session.leads, *session.helpers]:
            self.days.add(volunteer, day, duty)
        for volunteer, duties in escort_duties.items():
            for escort in duties:
                self.days.add(volunteer, day, escort)
        self.led[service.id].update(session.leads if service.same_lead else ())
        self.venue_busy[(slot.venue.id, day)].append((session.start, session.end))
        seated = {seat.wish for seat in session.attendees}
        for wisher in slot.seats:
            if wisher.wish.id not in seated:
                continue
            wisher.left -= 1
            wisher.days.add(day)
            leaves, back = attendee_span(
                self.problem, wisher.distance_m[slot.venue.id], session.start, session.end
            )
            self.busy[(wisher.recipient.id, day)].append((leaves, back))
        self.sessions.append(session)


def fixed_stops(
    problem: Problem, travel: TravelModel, sessions: Sequence[Session]
) -> list[FixedStop]:
    """The sessions as stops a greedy run starts with: leads', helpers' and escorts' stops, and
    each attendee away from home."""
    stops: list[FixedStop] = []
    for (volunteer, day), duties in sorted(session_duties(problem, travel, sessions).items()):
        stops += [
            FixedStop(volunteer, None, day, int(d.start), int(d.end), d.place, d.extra_m)
            for d in duties
        ]
    for session in sessions:
        day = WEEKDAYS.index(session.day)
        venue = travel.venue_place[session.venue]
        for seat in session.attendees:
            home = travel.recipient_place[seat.recipient]
            leaves, back = attendee_span(
                problem, travel.distance(home, venue), session.start, session.end
            )
            stops.append(FixedStop(None, seat.recipient, day, leaves, back, home))
    return stops


def _important(problem: Problem, facts: dict[str, NeedFacts]) -> Problem:
    """The week with only its mandatory, high-priority (at least
    `policy.high_priority_threshold`) and pinned needs, the pins and links among them."""
    threshold = problem.policy.high_priority_threshold
    pinned = {pin.need for pin in problem.pinned}
    kept = {
        need_id
        for need_id, fact in facts.items()
        if fact.need.mandatory or fact.priority >= threshold or need_id in pinned
    }
    recipients = [
        recipient.model_copy(
            update={"needs": [need for need in recipient.needs if need.id in kept]}
        )
        for recipient in problem.recipients
    ]
    return problem.variant(
        recipients=recipients,
        pinned=[pin for pin in problem.pinned if pin.need in kept],
        dependencies=[
            link for link in problem.dependencies if link.first in kept and link.second in kept
        ],
    )


def plan_rank(
    problem: Problem,
    facts: dict[str, NeedFacts],
    visits: Sequence[Visit],
    sessions: Sequence[Session],
) -> tuple[int, float]:
    """How a plan ranks: mandatory visits planned, then coverage and attendance points."""
    weights = problem.policy.weights
    mandatory = sum(facts[visit.need].need.mandatory for visit in visits)
    points = sum(weights.coverage * facts[visit.need].priority for visit in visits)
    points += sum(
        weights.attendance * problem.wish_priority(problem.wish_by_id[seat.wish])
        for session in sessions
        for seat in session.attendees
    )
    return mandatory, points


def search_with_sessions(
    request: SolveRequest, parameters: GreedyParameters, deadline: float | None
) -> SearchOutcome:
    """Greedy for a week with group services: the better of two plans, by mandatory visits
    then coverage and attendance points.

    - visits first: every home visit, then the sessions in the time left;
    - important visits first: the mandatory and high-priority visits, then the sessions around
      them, then the other visits around both (a session of many seats can outweigh a few
      low-priority visits, never a high-priority one, which is already placed).
    """
    from matcher.solvers.greedy.planner import GreedyPlanner

    problem, travel = request.problem, request.travel
    stop = request.stop_requested
    facts = need_facts(problem, travel)
    first = GreedyPlanner(problem, travel, facts, request.seed, parameters, deadline, stop)
    first.run()
    visits_first = first.visits()
    sessions_first, sessions_stopped = plan_sessions(problem, travel, visits_first, deadline, stop)
    best = (visits_first, sessions_first, first.stopped or sessions_stopped, "visits_first")
    warnings = first.setup.warnings

    important = _important(problem, facts)
    if not (first.stopped or sessions_stopped):
        core = GreedyPlanner(
            important,
            travel,
            need_facts(important, travel),
            request.seed,
            parameters,
            deadline,
            stop,
        )
        core.run()
        core_visits = core.visits()
        sessions, stopped = plan_sessions(
            problem, travel, core_visits, deadline, stop, restarts=True
        )
        pins = [
            PinnedVisit(need=v.need, day=v.day, start=v.start, volunteers=v.volunteers)
            for v in core_visits
        ]
        pinned = problem.variant(pinned=pins)
        rest = GreedyPlanner(
            pinned,
            travel,
            facts,
            request.seed,
            parameters,
            deadline,
            stop,
            fixed_stops(problem, travel, sessions),
        )
        rest.run()
        visits = rest.visits()
        stopped = stopped or core.stopped or rest.stopped
        if not stopped and plan_rank(problem, facts, visits, sessions) > plan_rank(
            problem, facts, visits_first, sessions_first
        ):
            best = (visits, sessions, False, "important_visits_first")
    visits, sessions, stopped, order = best
    return SearchOutcome(
        visits=visits,
        status="TIME_LIMIT" if stopped else "FEASIBLE",
        statistics={
            "visits_placed": len(visits),
            "pinned": len(problem.pinned),
            "stopped_by_time_limit": stopped,
            "sessions": {"planner": "greedy", "held": len(sessions), "order": order},
        },
        facts=facts,
        stopped=stopped,
        warnings=warnings,
        sessions=sessions,
    )


def seat_points(problem: Problem, travel: TravelModel, sessions: Sequence[Session]) -> float:
    """The seats' points: each attendee's priority times `attendance`, less their walk."""
    weights = problem.policy.weights
    return sum(
        weights.attendance * problem.wish_priority(problem.wish_by_id[seat.wish])
        - weights.walking_per_km * 2 * seat.walk_m / 1000
        for session in sessions
        for seat in session.attendees
    )


def plan_sessions(
    problem: Problem,
    travel: TravelModel,
    visits: Sequence[Visit],
    deadline: float | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    restarts: bool = False,
) -> tuple[list[Session], bool]:
    """The sessions greedy holds around these visits, and whether the deadline (or
    `should_stop`) stopped it.

    With `restarts`, each group service in turn is also freed and planned first (a service
    that the most wished-for ones would crowd out of a shared lead or venue may seat more), and
    the sessions with the most seat points (`seat_points`) are kept, for at most
    `RESTART_BUDGET_FACTOR` times the first pass's time (at least `RESTART_MIN_S`).
    """
    began = time.perf_counter()
    planner = SessionPlanner(problem, travel, visits, deadline, should_stop)
    best = planner.run()
    stopped = planner.stopped
    if not restarts or stopped or len(problem.group_services) < 2:
        return best, stopped
    first_s = time.perf_counter() - began
    budget_end = time.perf_counter() + max(RESTART_BUDGET_FACTOR * first_s, RESTART_MIN_S)
    best_points = seat_points(problem, travel, best)
    for service in problem.group_services:
        if time.perf_counter() > budget_end:
            break
        trial = SessionPlanner(problem, travel, visits, deadline, should_stop)
        sessions = trial.run(first=service.id)
        if trial.stopped:
            break
        points = seat_points(problem, travel, sessions)
        if points > best_points + 1e-9:
            best, best_points = sessions, points
    return best, stopped


__all__ = [
    "SLOTS_TRIED",
    "STAFFED_COMPARED",
    "SessionPlanner",
    "fixed_stops",
    "plan_sessions",
    "search_with_sessions",
    "seat_points",
]
