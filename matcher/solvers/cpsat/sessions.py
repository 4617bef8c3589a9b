"""Group sessions in the CP-SAT model: candidate sessions as optional intervals, with literals
for their leads, helpers, attendees and escorts.

A *candidate* is a group service at one of its venues on a day at a start of the shared grid
(`matcher.rules.sessions.slot_starts`, every `SLOT_STEP_MIN` in the venue's and the service's
windows), at most `STARTS_PER_VENUE_DAY` of them per service, venue and day (those most wishers
can sit in, and always the starts of the plan the model is hinted with). Each candidate has

- `held`: the session takes place; then it has exactly `leads` leads among the volunteers who
  may lead it (`lead_failures`), at least `min_attendees` and at most `seats_at` attendees, one
  helper per full `attendees_per_helper` (`helpers_needed`, as `seats <= N * helpers + N - 1`),
  and, when a child sits in it, only background-checked staff and escorts;
- a seat literal per wish that can sit in it: the recipient walks there (`walk_problem`), is
  free at home for the whole time away (`attendee_span` inside `attendee_windows`), and that
  span is an optional interval in the recipient's day next to their home visits and other
  seats (no overlap); a wish has at most its `sessions_per_week` seats, one a day;
- an escort literal per volunteer who may walk a wisher who comes only with one (the nearest
  `ESCORTS_PER_SEAT`): a stop at the attendee's home for their whole span, with the walk there
  and back counted in the outing's distance.

Every lead, helper and escort literal is a stop of that volunteer's day in the routing circuit
of `model.py`, exactly like a home visit (travel to the venue, outings, visits a day, weekly
minutes, trip and outing distances). A venue holds one session at a time; a service holds at
most its `sessions_per_week`.

The objective adds what the plan's objective counts (`session_plan.session_terms`): each seat
`attendance` times the attendee's priority less their walk at `walking_per_km`, `stable_lead`
per session led by one of the service's earlier leads; the travel to venues and the escorts'
walks are in the routing arcs' travel term.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ortools.sat.python import cp_model

from matcher.models import (
    WEEKDAYS,
    AttendanceWish,
    GroupService,
    Recipient,
    Seat,
    Session,
    Venue,
    Visit,
)
from matcher.rules import number_occurrences, outing_index
from matcher.rules.intervals import Interval
from matcher.rules.sessions import (
    Duty,
    attendee_span,
    attendee_windows,
    candidate_venues,
    day_minutes,
    helper_failures,
    helpers_needed,
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

if TYPE_CHECKING:
    from matcher.models import Plan
    from matcher.rules import NeedFacts
    from matcher.solvers.base import SolveRequest
    from matcher.solvers.cpsat.model import WeekModel, _Stop, _WeekBuilder
    from matcher.solvers.greedy import GreedyStart

STARTS_PER_VENUE_DAY = 6
"""The most candidate starts of one group service at one venue on one day (those the most
wishers can sit in), besides the starts of the plan the model is hinted with."""
HELPERS_PER_SESSION = 6
"""Helper candidates of a session: the nearest volunteers free then (and its hinted helpers)."""
ESCORTS_PER_SEAT = 4
"""Escort candidates of a seat: the volunteers nearest the attendee's home free then."""


@dataclass(frozen=True)
class SessionScope:
    """Which group sessions a model decides.

    `venue_days` and `services` (None: all) limit the candidates to those venue-days and group
    services; `fixed` sessions stay exactly as they are (their staff's stops and attendees'
    time away are fixed in the model); `keep` sessions (of the plan being re-optimised) stay
    representable as candidates whatever the grid."""

    venue_days: frozenset[tuple[str, int]] | None = None
    services: frozenset[str] | None = None
    fixed: tuple[Session, ...] = ()
    keep: tuple[Session, ...] = ()


@dataclass
class SeatOption:
    """A wish's possible seat in a candidate session."""

    wish: AttendanceWish
    recipient: Recipient
    literal: cp_model.IntVar
    distance_m: float
    span: Interval
    escorts: dict[str, cp_model.IntVar] = field(default_factory=dict)


@dataclass
class Candidate:
    """A possible session: a group service at a venue on a day at a start."""

    service: GroupService
    venue: Venue
    day: int
    start: int
    held: cp_model.IntVar
    leads: dict[str, cp_model.IntVar] = field(default_factory=dict)
    helpers: dict[str, cp_model.IntVar] = field(default_factory=dict)
    on: dict[str, cp_model.IntVar] = field(default_factory=dict)
    """volunteer id -> they lead or help: their stop at the venue."""
    seats: list[SeatOption] = field(default_factory=list)
    stable: cp_model.IntVar | None = None
    """A lead of an earlier week leads it (for `stable_lead`)."""
    child_in: cp_model.IntVar | None = None
    """A child sits in it (so its staff and escorts are background-checked)."""

    @property
    def end(self) -> int:
        return self.start + self.service.duration_min

    @property
    def key(self) -> str:
        return session_key(self.service.id, self.venue.id, self.day, self.start)


def session_key(service: str, venue: str, day: int, start: int) -> str:
    """The stop key of a session (service, venue, day, start): the same for a candidate and a
    fixed or hinted session, so plans map onto the model."""
    return f"session:{service}@{venue}:{day}:{start}"


def escort_key(session: str, wish: str) -> str:
    """The stop key of an escort of a wish to a session (`session_key`)."""
    return f"escort:{wish}:{session}"


def _key_of(session: Session) -> str:
    return session_key(
        session.group_service, session.venue, WEEKDAYS.index(session.day), session.start
    )


@dataclass
class _Wisher:
    """A wish with seats left, where its recipient can get to and when they are free."""

    wish: AttendanceWish
    recipient: Recipient
    windows: dict[int, list[Interval]]
    distance_m: dict[str, float]
    """Metres from home to each venue they can get to (others are absent)."""
    days: set[int]
    """Days it already has a seat (in a fixed session)."""


class SessionPart:
    """The sessions of one `WeekModel`, built by `_WeekBuilder.add_sessions`."""

    def __init__(self, builder: _WeekBuilder, scope: SessionScope) -> None:
        self.builder = builder
        self.scope = scope
        self.problem = builder.problem
        self.travel = builder.travel
        self.model = builder.model
        self.candidates: list[Candidate] = []
        self.fixed = list(scope.fixed)
        self.stops: dict[tuple[str, int], list[_Stop]] = defaultdict(list)
        """Optional staff and escort stops per volunteer-day."""
        self.fixed_stops: dict[tuple[str, int], list[_Stop]] = defaultdict(list)
        """Stops of the fixed sessions per volunteer-day."""
        self.seat_intervals: dict[tuple[str, int], list[tuple[str, Any]]] = defaultdict(list)
        """(label, interval) of each seat and fixed seat per recipient-day."""
        self.escort_options = 0
        self._fixed_duties: dict[tuple[str, int], list[Duty]] | None = None

    # --- sizes ---------------------------------------------------------------------------

    def stop_counts(self) -> dict[tuple[str, int], int]:
        """Session and escort stops per volunteer-day (for the memory estimate)."""
        counts = {pair: len(stops) for pair, stops in self.stops.items()}
        for pair, stops in self.fixed_stops.items():
            counts[pair] = counts.get(pair, 0) + len(stops)
        return counts

    def statistics(self) -> dict[str, int]:
        """Sizes of the session part, for `plan.solver.statistics`."""
        return {
            "candidate_sessions": len(self.candidates),
            "lead_literals": sum(len(c.leads) for c in self.candidates),
            "helper_literals": sum(len(c.helpers) for c in self.candidates),
            "seat_literals": sum(len(c.seats) for c in self.candidates),
            "escort_literals": self.escort_options,
            "fixed_sessions": len(self.fixed),
        }

    # --- building ------------------------------------------------------------------------

    def build(self) -> None:
        """Fixed sessions first (what they take), then every candidate and its rules."""
        problem, travel = self.problem, self.travel
        wish_seats: dict[str, int] = defaultdict(int)
        wish_days: dict[str, set[int]] = defaultdict(set)
        venue_busy: dict[tuple[str, int], list[Interval]] = defaultdict(list)
        service_held: dict[str, int] = defaultdict(int)
        for session in self.fixed:
            day = WEEKDAYS.index(session.day)
            venue_busy[(session.venue, day)].append((session.start, session.end))
            service_held[session.group_service] += 1
            self.add_fixed_session(session, day)
            for seat in session.attendees:
                wish_seats[seat.wish] += 1
                wish_days[seat.wish].add(day)
        wishers: dict[str, list[_Wisher]] = defaultdict(list)
        for recipient in problem.recipients:
            place = travel.recipient_place[recipient.id]
            for wish in recipient.attends:
                service = problem.group_service_by_id[wish.group_service]
                if wish.sessions_per_week <= wish_seats[wish.id]:
                    continue
                reachable = {}
                for venue in candidate_venues(problem, service):
                    distance = travel.distance(place, travel.venue_place[venue.id])
                    if walk_problem(problem, recipient, venue, distance, escorted=wish.escort):
                        continue
                    reachable[venue.id] = distance
                if reachable:
                    wishers[service.id].append(
                        _Wisher(
                            wish,
                            recipient,
                            attendee_windows(problem, recipient),
                            reachable,
                            wish_days[wish.id],
                        )
                    )
        kept = {_key_of(session): session for session in self.scope.keep}
        for service in problem.group_services:
            if self.scope.services is not None and service.id not in self.scope.services:
                continue
            held_left = service.sessions_per_week - service_held[service.id]
            if held_left <= 0:
                continue
            found: list[Candidate] = []
            for venue in candidate_venues(problem, service):
                for day, windows in sorted(session_windows(problem, service, venue).items()):
                    if (
                        self.scope.venue_days is not None
                        and (venue.id, day) not in self.scope.venue_days
                    ):
                        continue
                    self.builder.check_time()
                    found += self.add_candidates(
                        service, venue, day, windows, wishers[service.id], venue_busy, kept
                    )
            if found:
                self.model.add(sum(candidate.held for candidate in found) <= held_left)
        self.add_wish_limits()
        self.add_venue_overlaps()

    def add_fixed_session(self, session: Session, day: int) -> None:
        """A session that stays: its staff's and escorts' stops, its attendees' time away."""
        from matcher.solvers.cpsat.model import _Stop

        key = _key_of(session)
        place = self.travel.venue_place[session.venue]
        for volunteer in dict.fromkeys([*session.leads, *session.helpers]):
            self.fixed_stops[(volunteer, day)].append(
                _Stop(
                    key=(key, day),
                    start=session.start,
                    duration=session.end - session.start,
                    place=place,
                    presence=None,
                    starts=[(session.start, session.start)],
                )
            )
        for seat in session.attendees:
            home = self.travel.recipient_place[seat.recipient]
            distance = self.travel.distance(home, place)
            low, high = attendee_span(self.problem, distance, session.start, session.end)
            self.seat_intervals[(seat.recipient, day)].append(
                (f"seat:{seat.wish}", self.model.new_fixed_size_interval_var(low, high - low, ""))
            )
            if seat.escort is not None:
                self.fixed_stops[(seat.escort, day)].append(
                    _Stop(
                        key=(escort_key(key, seat.wish), day),
                        start=low,
                        duration=high - low,
                        place=home,
                        presence=None,
                        starts=[(low, low)],
                        extra_m=2 * distance,
                    )
                )

    def free_at(self, volunteer_id: str, day: int, start: int, end: int) -> bool:
        """Whether the volunteer's day is in the model and one of its outings holds the stop."""
        if not self.builder.pair_is_free(volunteer_id, day):
            return False
        outings = self.builder.outings[volunteer_id].get(day, [])
        return outing_index(outings, start, end) is not None

    def add_candidates(
        self,
        service: GroupService,
        venue: Venue,
        day: int,
        windows: list[Interval],
        wishers: list[_Wisher],
        venue_busy: dict[tuple[str, int], list[Interval]],
        kept: dict[str, Session],
    ) -> list[Candidate]:
        """The candidates of a service at a venue on a day: the starts the most wishers can sit
        in (`STARTS_PER_VENUE_DAY`) that enough volunteers could lead, and the kept sessions'."""
        problem = self.problem
        duration = service.duration_min
        ranked: list[tuple[bool, int, int, list[tuple[_Wisher, float, Interval]], list[str]]] = []
        kept_starts = {
            session.start
            for session in kept.values()
            if session.group_service == service.id
            and session.venue == venue.id
            and WEEKDAYS.index(session.day) == day
        }
        for start in sorted(set(slot_starts(windows, duration)) | kept_starts):
            end = start + duration
            if overlaps(venue_busy[(venue.id, day)], start, end):
                continue
            able = []
            for wisher in wishers:
                if day in wisher.days or venue.id not in wisher.distance_m:
                    continue
                distance = wisher.distance_m[venue.id]
                span = attendee_span(problem, distance, start, end)
                if inside(wisher.windows.get(day, []), *span):
                    able.append((wisher, distance, span))
            is_kept = session_key(service.id, venue.id, day, start) in kept
            if len(able) < service.min_attendees and not is_kept:
                continue
            leads = [
                volunteer.id
                for volunteer in problem.volunteers
                if not lead_failures(service, volunteer, children=False)
                and self.free_at(volunteer.id, day, start, end)
            ]
            if len(leads) < service.leads:
                continue
            ranked.append((is_kept, len(able), start, able, leads))
        ranked.sort(key=lambda item: (not item[0], -item[1], item[2]))
        chosen = [
            item for rank, item in enumerate(ranked) if item[0] or rank < STARTS_PER_VENUE_DAY
        ]
        found = []
        for _, _, start, able, leads in sorted(chosen, key=lambda item: item[2]):
            key = session_key(service.id, venue.id, day, start)
            found.append(self.add_candidate(service, venue, day, start, able, leads, kept.get(key)))
        return found

    def nearest(
        self, place: int, volunteers: Sequence[str], most: int, keep: Sequence[str]
    ) -> list[str]:
        """The `most` volunteers nearest the place (from their start place), and `keep`."""
        travel = self.travel
        ordered = sorted(
            volunteers, key=lambda v: (travel.distance(travel.start_place[v], place), v)
        )
        chosen = ordered[:most]
        return [*chosen, *(v for v in keep if v in volunteers and v not in chosen)]

    def add_candidate(
        self,
        service: GroupService,
        venue: Venue,
        day: int,
        start: int,
        able: list[tuple[_Wisher, float, Interval]],
        leads: list[str],
        kept: Session | None,
    ) -> Candidate:
        """One candidate with its literals and rules (capacity, minimum, leads, helpers,
        children's background check, escorts) and its stops in the volunteers' days."""
        from matcher.solvers.cpsat.model import _Stop

        problem, model = self.problem, self.model
        end = start + service.duration_min
        held = model.new_bool_var("")
        candidate = Candidate(service, venue, day, start, held)
        key = candidate.key
        place = self.travel.venue_place[venue.id]
        volunteers = problem.volunteer_by_id

        def staff_stop(literal: cp_model.IntVar, volunteer_id: str) -> None:
            self.stops[(volunteer_id, day)].append(
                _Stop(
                    key=(key, day),
                    start=start,
                    duration=service.duration_min,
                    place=place,
                    presence=literal,
                    starts=[(start, start)],
                )
            )

        for volunteer_id in leads:
            literal = model.new_bool_var("")
            model.add_implication(literal, held)
            candidate.leads[volunteer_id] = literal
        model.add(sum(candidate.leads.values()) == service.leads * held)

        capacity = seats_at(service, venue)
        per_helper = service.attendees_per_helper
        if per_helper is not None and helpers_needed(service, capacity) > 0:
            free = [
                volunteer.id
                for volunteer in problem.volunteers
                if self.free_at(volunteer.id, day, start, end)
            ]
            keep = kept.helpers if kept is not None else []
            for volunteer_id in self.nearest(place, free, HELPERS_PER_SESSION, keep):
                literal = model.new_bool_var("")
                model.add_implication(literal, held)
                candidate.helpers[volunteer_id] = literal
        # One stop per volunteer at the session, whether they lead or help (never both).
        for volunteer_id in dict.fromkeys([*candidate.leads, *candidate.helpers]):
            roles = [
                staff[volunteer_id]
                for staff in (candidate.leads, candidate.helpers)
                if volunteer_id in staff
            ]
            if len(roles) == 1:
                candidate.on[volunteer_id] = roles[0]
            else:
                on = model.new_bool_var("")
                model.add(on == sum(roles))
                candidate.on[volunteer_id] = on
            staff_stop(candidate.on[volunteer_id], volunteer_id)

        kept_escorts = (
            {seat.wish: seat.escort for seat in kept.attendees if seat.escort}
            if kept is not None
            else {}
        )
        for wisher, distance, span in able:
            literal = model.new_bool_var("")
            model.add_implication(literal, held)
            option = SeatOption(wisher.wish, wisher.recipient, literal, distance, span)
            candidate.seats.append(option)
            self.seat_intervals[(wisher.recipient.id, day)].append(
                (
                    f"seat:{wisher.wish.id}",
                    model.new_optional_fixed_size_interval_var(
                        span[0], span[1] - span[0], literal, ""
                    ),
                )
            )
            if wisher.wish.escort:
                self.add_escorts(candidate, option, kept_escorts.get(wisher.wish.id))
        seats = sum(option.literal for option in candidate.seats)
        model.add(seats <= capacity * held)
        model.add(seats >= service.min_attendees * held)
        if per_helper is not None:
            model.add(seats <= per_helper * sum(candidate.helpers.values()) + per_helper - 1)

        children = [
            option.literal for option in candidate.seats if option.recipient.kind == "child"
        ]
        if children:
            child_in = model.new_bool_var("")
            candidate.child_in = child_in
            for literal in children:
                model.add_implication(literal, child_in)
            unchecked = [
                literal
                for volunteer_id, literal in candidate.leads.items()
                if lead_failures(service, volunteers[volunteer_id], children=True)
            ]
            others = [*candidate.helpers.items()]
            others += [item for option in candidate.seats for item in option.escorts.items()]
            unchecked += [
                literal
                for volunteer_id, literal in others
                if helper_failures(volunteers[volunteer_id], children=True)
            ]
            for literal in unchecked:
                model.add(literal + child_in <= 1)

        led_before = {
            entry.volunteer for entry in problem.lead_history if entry.group_service == service.id
        }
        historic = [literal for v, literal in candidate.leads.items() if v in led_before]
        if historic and problem.policy.weights.stable_lead > 0:
            stable = model.new_bool_var("")
            model.add(stable <= sum(historic))
            candidate.stable = stable
        self.candidates.append(candidate)
        return candidate

    def add_escorts(self, candidate: Candidate, option: SeatOption, kept: str | None) -> None:
        """Escort literals of a seat that needs one: the nearest volunteers free for the whole
        span, none of the session's staff; exactly one when the seat is taken."""
        from matcher.solvers.cpsat.model import _Stop

        model = self.model
        home = self.travel.recipient_place[option.recipient.id]
        low, high = option.span
        free = [
            volunteer.id
            for volunteer in self.problem.volunteers
            if self.free_at(volunteer.id, candidate.day, low, high)
        ]
        for volunteer_id in self.nearest(home, free, ESCORTS_PER_SEAT, [kept] if kept else []):
            literal = model.new_bool_var("")
            option.escorts[volunteer_id] = literal
            self.escort_options += 1
            if volunteer_id in candidate.on:
                model.add(literal + candidate.on[volunteer_id] <= 1)
            self.stops[(volunteer_id, candidate.day)].append(
                _Stop(
                    key=(escort_key(candidate.key, option.wish.id), candidate.day),
                    start=low,
                    duration=high - low,
                    place=home,
                    presence=literal,
                    starts=[(low, low)],
                    extra_m=2 * option.distance_m,
                )
            )
        model.add(sum(option.escorts.values()) == option.literal)

    def add_wish_limits(self) -> None:
        """A wish has at most its seats left this week, at most one a day."""
        by_wish: dict[str, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        left: dict[str, int] = {}
        taken: dict[str, int] = defaultdict(int)
        for session in self.fixed:
            for seat in session.attendees:
                taken[seat.wish] += 1
        for candidate in self.candidates:
            for option in candidate.seats:
                by_wish[option.wish.id].append((candidate.day, option.literal))
                left[option.wish.id] = option.wish.sessions_per_week - taken[option.wish.id]
        for wish_id, seats in by_wish.items():
            if len(seats) > left[wish_id]:
                self.model.add(sum(literal for _, literal in seats) <= left[wish_id])
            per_day: dict[int, list[cp_model.IntVar]] = defaultdict(list)
            for day, literal in seats:
                per_day[day].append(literal)
            for literals in per_day.values():
                if len(literals) > 1:
                    self.model.add_at_most_one(literals)

    def add_venue_overlaps(self) -> None:
        """A venue holds one session at a time."""
        by_venue_day: dict[tuple[str, int], list[Candidate]] = defaultdict(list)
        for candidate in self.candidates:
            by_venue_day[(candidate.venue.id, candidate.day)].append(candidate)
        for candidates in by_venue_day.values():
            if len(candidates) < 2:
                continue
            self.model.add_no_overlap(
                [
                    self.model.new_optional_fixed_size_interval_var(
                        c.start, c.service.duration_min, c.held, ""
                    )
                    for c in candidates
                ]
            )

    # --- objective -----------------------------------------------------------------------

    def objective_terms(self) -> list[tuple[Any, int]]:
        """Each seat's attendance less its walk, each stable lead, in the model's points."""
        weights, scale = self.problem.policy.weights, self.builder.weights_scale
        terms: list[tuple[Any, int]] = []
        for candidate in self.candidates:
            for option in candidate.seats:
                points = weights.attendance * self.problem.wish_priority(option.wish)
                points -= weights.walking_per_km * 2 * option.distance_m / 1000
                if round(scale * points):
                    terms.append((option.literal, round(scale * points)))
            if candidate.stable is not None:
                terms.append((candidate.stable, round(scale * weights.stable_lead)))
        return terms

    def seat_terms(self) -> list[tuple[Any, int]]:
        """Each seat in thousandths of a visit of priority 1 (`COVERAGE_SCALE`): the
        attendee's priority times `attendance / coverage` (coverage and seats in one unit)."""
        from matcher.solvers.cpsat.model import COVERAGE_SCALE

        weights = self.problem.policy.weights
        ratio = weights.attendance / weights.coverage if weights.coverage > 0 else 1.0
        terms: list[tuple[Any, int]] = []
        for candidate in self.candidates:
            for option in candidate.seats:
                value = round(COVERAGE_SCALE * ratio * self.problem.wish_priority(option.wish))
                if value:
                    terms.append((option.literal, value))
        return terms

    # --- days outside the model ------------------------------------------------------------

    def fixed_day_minutes(self, volunteer_id: str, day: int, visits: list[Visit]) -> float:
        """Minutes of a volunteer-day the model leaves alone, its fixed sessions included."""
        duties = visit_duties(self.travel, visits).get((volunteer_id, day), [])
        duties = [*duties, *self.fixed_duties().get((volunteer_id, day), [])]
        volunteer = self.problem.volunteer_by_id[volunteer_id]
        outings = self.builder.outings[volunteer_id].get(day, [])
        return day_minutes(self.travel, volunteer, outings, duties)

    def fixed_duties(self) -> dict[tuple[str, int], list[Duty]]:
        """The fixed sessions' staff and escort duties per volunteer-day (`session_duties`)."""
        if self._fixed_duties is None:
            self._fixed_duties = session_duties(self.problem, self.travel, self.fixed)
        return self._fixed_duties


def extract_sessions(part: SessionPart, solver: cp_model.CpSolver) -> list[Session]:
    """The solution's sessions and the fixed ones, numbered per service by day and start, each
    wish's seats numbered by day."""
    problem = part.problem
    held: list[Session] = list(part.fixed)
    for candidate in part.candidates:
        if not solver.boolean_value(candidate.held):
            continue
        seats = []
        for option in candidate.seats:
            if not solver.boolean_value(option.literal):
                continue
            escort = next(
                (v for v, literal in option.escorts.items() if solver.boolean_value(literal)),
                None,
            )
            seats.append(
                Seat(
                    recipient=option.recipient.id,
                    wish=option.wish.id,
                    occurrence=1,
                    escort=escort,
                    walk_m=option.distance_m,
                )
            )
        day = WEEKDAYS[candidate.day]
        held.append(
            Session(
                id=candidate.key,
                group_service=candidate.service.id,
                venue=candidate.venue.id,
                day=day,
                date=problem.date_of(day),
                start=candidate.start,
                end=candidate.end,
                leads=sorted(v for v, lit in candidate.leads.items() if solver.boolean_value(lit)),
                helpers=sorted(
                    v for v, lit in candidate.helpers.items() if solver.boolean_value(lit)
                ),
                attendees=seats,
            )
        )
    return number_sessions(held)


def number_sessions(sessions: Sequence[Session]) -> list[Session]:
    """Sessions ordered by day, start and venue, named `<service>-<n>` within each service,
    each wish's seats numbered 1, 2, ... by day."""
    ordered = sorted(
        sessions, key=lambda s: (WEEKDAYS.index(s.day), s.start, s.venue, s.group_service)
    )
    per_service: dict[str, int] = defaultdict(int)
    per_wish: dict[str, int] = defaultdict(int)
    result = []
    for session in ordered:
        per_service[session.group_service] += 1
        seats = []
        for seat in sorted(session.attendees, key=lambda seat: seat.recipient):
            per_wish[seat.wish] += 1
            seats.append(seat.model_copy(update={"occurrence": per_wish[seat.wish]}))
        result.append(
            session.model_copy(
                update={
                    "id": f"{session.group_service}-{per_service[session.group_service]}",
                    "attendees": seats,
                }
            )
        )
    return result


def seats_of(session: Session | None) -> list[str]:
    """The attendees of a session (none when there is no session)."""
    return [] if session is None else [seat.recipient for seat in session.attendees]


def hint_sessions(week: WeekModel, visits: Sequence[Visit], sessions: Sequence[Session]) -> None:
    """After `hints.hint_from_visits(week, visits)`: hint the sessions of the same plan too
    (held, staff, seats, escorts) and re-hint each outing's legs, idle and membership with the
    session and escort stops in their place among the visits."""
    part = week.sessions
    if part is None:
        return
    previous = week.model.proto.solution_hint
    values: dict[int, int] = dict(zip(previous.vars, previous.values, strict=True))
    planned = {_key_of(session): session for session in sessions}
    for candidate in part.candidates:
        session = planned.get(candidate.key)
        values[candidate.held.index] = int(session is not None)
        for volunteer_id, literal in candidate.leads.items():
            values[literal.index] = int(session is not None and volunteer_id in session.leads)
        for volunteer_id, literal in candidate.helpers.items():
            values[literal.index] = int(session is not None and volunteer_id in session.helpers)
        for volunteer_id, literal in candidate.on.items():
            values[literal.index] = int(
                session is not None and volunteer_id in {*session.leads, *session.helpers}
            )
        seats = {seat.wish: seat for seat in session.attendees} if session is not None else {}
        for option in candidate.seats:
            seat = seats.get(option.wish.id)
            values[option.literal.index] = int(seat is not None)
            for volunteer_id, literal in option.escorts.items():
                values[literal.index] = int(seat is not None and seat.escort == volunteer_id)
        if candidate.child_in is not None:
            values[candidate.child_in.index] = int(
                any(part.problem.recipient_by_id[r].kind == "child" for r in seats_of(session))
            )
        if candidate.stable is not None:
            led_before = {
                e.volunteer
                for e in part.problem.lead_history
                if e.group_service == candidate.service.id
            }
            values[candidate.stable.index] = int(
                session is not None and bool(led_before & set(session.leads))
            )
    # Each outing's stops in order: the visits and the sessions' stops.
    timed: dict[tuple[str, int, int], list[tuple[int, tuple[str, int]]]] = defaultdict(list)

    def place(volunteer_id: str, day: int, start: int, end: int, key: tuple[str, int]) -> None:
        index = outing_index(week.outings.get(volunteer_id, {}).get(day, []), start, end)
        if index is not None:
            timed[(volunteer_id, day, index)].append((start, key))

    for visit in visits:
        day = WEEKDAYS.index(visit.day)
        for volunteer_id in visit.volunteers:
            place(volunteer_id, day, visit.start, visit.end, (visit.need, day))
    problem, travel = part.problem, part.travel
    for session in sessions:
        day = WEEKDAYS.index(session.day)
        key = _key_of(session)
        for volunteer_id in dict.fromkeys([*session.leads, *session.helpers]):
            place(volunteer_id, day, session.start, session.end, (key, day))
        for seat in session.attendees:
            if seat.escort is None:
                continue
            home = travel.recipient_place[seat.recipient]
            distance = travel.distance(home, travel.venue_place[session.venue])
            low, high = attendee_span(problem, distance, session.start, session.end)
            place(seat.escort, day, low, high, (escort_key(key, seat.wish), day))
    sequences = {
        outing: [key for _, key in sorted(items, key=lambda item: item[0])]
        for outing, items in timed.items()
    }
    for (need_id, day, volunteer_id, index), literal in week.in_outing.items():
        values[literal.index] = int((need_id, day) in sequences.get((volunteer_id, day, index), []))
    for outing, idle in week.idle.items():
        values[idle.index] = int(not sequences.get(outing))
    for outing, arcs in week.arcs.items():
        sequence: list[tuple[str, int] | None] = [None, *sequences.get(outing, []), None]
        used = set(itertools.pairwise(sequence)) if len(sequence) > 2 else set()
        for origin, destination, literal in arcs:
            values[literal.index] = int((origin, destination) in used)
    week.model.clear_hints()  # type: ignore[no-untyped-call]
    hint = week.model.proto.solution_hint
    ordered = sorted(values.items())
    hint.vars.extend(index for index, _ in ordered)
    hint.values.extend(value for _, value in ordered)


def greedy_with_sessions(request: SolveRequest, limit_s: float) -> GreedyStart:
    """Greedy's plan with sessions (`greedy.sessions.search_with_sessions`), the plan a search
    that plans sessions itself starts from and never falls below, given at most
    `GREEDY_SHARE_OF_LIMIT` of the limit."""
    from matcher.models import Plan
    from matcher.solvers.base import finishing_reserve_s
    from matcher.solvers.greedy import GreedyParameters, GreedyStart
    from matcher.solvers.greedy.sessions import search_with_sessions
    from matcher.solvers.session_plan import GREEDY_SHARE_OF_LIMIT

    began = time.perf_counter()
    problem = request.problem
    deadline = request.started_at + GREEDY_SHARE_OF_LIMIT * (
        limit_s - finishing_reserve_s(problem, limit_s)
    )
    outcome = search_with_sessions(request, GreedyParameters(), deadline)
    plan = Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=number_occurrences(outcome.visits),
        sessions=list(outcome.sessions or []),
    )
    return GreedyStart(plan, outcome.stopped, time.perf_counter() - began)


def usable_sessions(
    request: SolveRequest, warm_start: Plan | None, visits: Sequence[Visit]
) -> list[Session] | None:
    """The warm start's sessions when the plan kept is the warm start's (its visits), else None:
    the greedy session planner then plans them around the visits kept."""
    if warm_start is None or warm_start.sessions is None:
        return None
    if sorted(warm_start.visits, key=_visit_order) != sorted(visits, key=_visit_order):
        return None
    return list(warm_start.sessions)


def _visit_order(visit: Visit) -> tuple[str, str, int]:
    return visit.need, visit.day, visit.start


def sessions_around(
    request: SolveRequest,
    visits: list[Visit],
    warm_start: Plan | None,
    facts: dict[str, NeedFacts],
    deadline: float,
) -> tuple[list[Visit], list[Session], dict[str, object]]:
    """When the model leaves sessions out: greedy's sessions around the search's visits, or
    the warm start's plan with its sessions when that ranks higher (`plan_rank`); the visits
    and sessions kept and what happened, for the statistics."""
    from matcher.solvers.base import usable_visits
    from matcher.solvers.greedy.sessions import plan_rank, plan_sessions

    problem, travel = request.problem, request.travel
    sessions, stopped = plan_sessions(problem, travel, visits, deadline, request.stop_requested)
    statistics: dict[str, object] = {
        "planner": "greedy",
        "in_model": False,
        "order": "after_the_search",
        "stopped_by_time_limit": stopped,
    }
    if warm_start is not None and warm_start.sessions is not None:
        warm_visits = usable_visits(request, warm_start)
        if warm_visits is not None and plan_rank(
            problem, facts, warm_visits, warm_start.sessions
        ) > plan_rank(problem, facts, visits, sessions):
            statistics["order"] = "greedy_plan_kept"
            return warm_visits, list(warm_start.sessions), statistics
    return visits, sessions, statistics


__all__ = [
    "ESCORTS_PER_SEAT",
    "HELPERS_PER_SESSION",
    "STARTS_PER_VENUE_DAY",
    "Candidate",
    "SeatOption",
    "SessionPart",
    "SessionScope",
    "escort_key",
    "extract_sessions",
    "greedy_with_sessions",
    "hint_sessions",
    "number_sessions",
    "session_key",
    "sessions_around",
    "usable_sessions",
]
