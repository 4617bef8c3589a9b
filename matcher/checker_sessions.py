"""The checker's rules of group sessions (docs/rules.md, "Group sessions"), recomputed from the
plan's sessions alone; part of the independent checker, so it reads only the models and the
travel model and shares no code with the solvers or `matcher.rules`.

Each lead and helper of a session has a stop at the venue from its start to its end; each escort
has a stop at the attendee's home from when the attendee leaves to when they are back, and walks
with them to the venue and back. `SessionChecker.stops` hands those stops to the main checker,
which checks them with the volunteer's home visits (outings, travel, overlaps, visits a day,
weekly minutes, trip and outing distances).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from matcher.models import (
    GroupService,
    Plan,
    Problem,
    Recipient,
    Seat,
    Session,
    SessionMetrics,
    Venue,
    format_clock,
)
from matcher.travel import TravelModel

EPSILON = 1e-6

SESSION_RULE_CODES: tuple[str, ...] = (
    "session_reference",
    "session_mismatch",
    "venue_kind",
    "venue_closed",
    "venue_double_booked",
    "sessions_per_week",
    "session_capacity",
    "session_minimum",
    "session_lead",
    "session_background_check",
    "session_helpers",
    "walking_limit",
    "attendee_window",
    "attendee_overlap",
    "escort",
)
"""The rule codes of group sessions, in the order docs/rules.md lists them."""


@dataclass(frozen=True)
class SessionStop:
    """A volunteer's stop for a session: at the venue (lead, helper) or at the attendee's home
    for the whole time they are away (escort), with the escorted walk (`extra_m`)."""

    volunteer: str
    day: str
    start: float
    end: float
    place: int
    label: str
    session: str
    extra_m: float = 0.0


@dataclass(frozen=True)
class SessionFinding:
    """A broken rule of a session, for the main checker's report."""

    rule: str
    message: str
    volunteer: str | None = None
    day: str | None = None


def _who(name: str, identifier: str) -> str:
    return f"{name} ({identifier})" if name else identifier


def _times(start: float, end: float) -> str:
    return f"{format_clock(start)}-{format_clock(end)}"


def _windows(windows: Iterable[tuple[int, int]]) -> str:
    return ", ".join(_times(low, high) for low, high in windows) or "no time"


def _by_day(
    windows: Iterable[tuple[str, int, int]], day_length_min: int
) -> dict[str, list[tuple[int, int]]] | None:
    """Windows per weekday; None for an empty list (no restriction)."""
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    empty = True
    for day, start, end in windows:
        empty = False
        found[day].append((start, end))
    return None if empty else found


def _inside(windows: list[tuple[int, int]] | None, start: float, end: float) -> bool:
    if windows is None:
        return True
    return any(low <= start + EPSILON and end <= high + EPSILON for low, high in windows)


class SessionChecker:
    """Every session rule of one plan; `findings` lists what is broken, `stops` the volunteers'
    stops the main checker adds to their days."""

    def __init__(
        self,
        problem: Problem,
        plan: Plan,
        travel: TravelModel,
        visit_spans: dict[tuple[str, str], list[tuple[float, float, str]]],
    ) -> None:
        """`visit_spans`: each recipient-day's home visits as (start, end, label)."""
        self.problem = problem
        self.plan = plan
        self.travel = travel
        self.visit_spans = visit_spans
        self.findings: list[SessionFinding] = []
        self.stops: list[SessionStop] = []
        self.valid: list[Session] = []

    def report(
        self, rule: str, message: str, *, volunteer: str | None = None, day: str | None = None
    ) -> None:
        self.findings.append(SessionFinding(rule, message, volunteer, day))

    def label(self, session: Session, service: GroupService | None, venue: Venue | None) -> str:
        what = service.name or service.id if service is not None else session.group_service
        where = venue.name or venue.id if venue is not None else session.venue
        return (
            f"{what} at {where} on {session.day} {_times(session.start, session.end)} "
            f"[session '{session.id}']"
        )

    def run(self) -> None:
        """Every rule of every session, then the rules across sessions."""
        sessions = self.plan.sessions or []
        seen_ids: set[str] = set()
        for session in sessions:
            if session.id in seen_ids:
                self.report("session_mismatch", f"Two sessions have the id '{session.id}'.")
            seen_ids.add(session.id)
            self.check_session(session)
        self.check_venues()
        self.check_sessions_per_week()
        self.check_seats()

    # --- one session ---------------------------------------------------------------------

    def check_session(self, session: Session) -> None:
        problem = self.problem
        service = problem.group_service_by_id.get(session.group_service)
        venue = problem.venue_by_id.get(session.venue)
        label = self.label(session, service, venue)
        unknown = [
            f"group service '{session.group_service}'" if service is None else "",
            f"venue '{session.venue}'" if venue is None else "",
            *(
                f"volunteer '{person}'"
                for person in dict.fromkeys(
                    [
                        *session.leads,
                        *session.helpers,
                        *(seat.escort for seat in session.attendees if seat.escort),
                    ]
                )
                if person not in problem.volunteer_by_id
            ),
            *(
                f"attendance wish '{seat.wish}'"
                for seat in session.attendees
                if seat.wish not in problem.wish_by_id
            ),
        ]
        unknown = [item for item in unknown if item]
        if unknown:
            self.report(
                "session_reference",
                f"{label} refers to {', '.join(unknown)}, not in the problem.",
                day=session.day,
            )
            return
        assert service is not None and venue is not None
        self.valid.append(session)
        day = session.day
        if abs((session.end - session.start) - service.duration_min) > EPSILON:
            self.report(
                "session_mismatch",
                f"{label} lasts {session.end - session.start} minutes, but the service takes "
                f"{service.duration_min}.",
                day=day,
            )
        staff = [*session.leads, *session.helpers]
        if len(set(staff)) != len(staff):
            self.report(
                "session_mismatch", f"{label} names one volunteer twice among leads and helpers."
            )
        if len(set(session.leads)) != service.leads:
            self.report(
                "session_mismatch",
                f"{label} has {len(set(session.leads))} lead(s); the service needs "
                f"{service.leads}.",
                day=day,
            )
        for seat in session.attendees:
            wish = problem.wish_by_id[seat.wish]
            owner = problem.recipient_of_wish[seat.wish]
            if wish.group_service != service.id or owner.id != seat.recipient:
                self.report(
                    "session_mismatch",
                    f"{label}: seat of wish '{seat.wish}' names {seat.recipient}, but the wish is "
                    f"{owner.id}'s, for '{wish.group_service}'.",
                    day=day,
                )
            elif not 1 <= seat.occurrence <= wish.sessions_per_week:
                self.report(
                    "session_mismatch",
                    f"{label}: seat {seat.occurrence} of wish '{seat.wish}' does not exist; it "
                    f"asks for {wish.sessions_per_week} a week.",
                    day=day,
                )

        candidates = (
            set(service.venues)
            if service.venues
            else {v.id for v in problem.venues if v.kind in service.venue_kinds}
        )
        if venue.id not in candidates or venue.kind not in service.venue_kinds:
            self.report(
                "venue_kind",
                f"{label}: {venue.name or venue.id} is not one of the venues the service may use.",
                day=day,
            )
        length = problem.day_length_min
        opened = _by_day(((w.day, w.start, w.end) for w in venue.open_windows), length)
        allowed = _by_day(((w.day, w.start, w.end) for w in service.windows), length)
        if day in venue.closed_days:
            self.report(
                "venue_closed",
                f"{label}: {venue.name or venue.id} is closed that day.",
                day=day,
            )
        elif not _inside(
            None if opened is None else opened.get(day, []), session.start, session.end
        ):
            self.report(
                "venue_closed",
                f"{label}: {venue.name or venue.id} is open only "
                f"{_windows(opened.get(day, []) if opened else [])} that day.",
                day=day,
            )
        if not _inside(
            None if allowed is None else allowed.get(day, []), session.start, session.end
        ):
            self.report(
                "venue_closed",
                f"{label}: the service may be held only "
                f"{_windows(allowed.get(day, []) if allowed else [])} that day.",
                day=day,
            )

        seats = min(service.max_attendees, venue.capacity)
        if len(session.attendees) > seats:
            self.report(
                "session_capacity",
                f"{label} has {len(session.attendees)} attendees; it holds {seats} (the "
                f"service's maximum {service.max_attendees}, the venue's capacity "
                f"{venue.capacity}).",
                day=day,
            )
        if len(session.attendees) < service.min_attendees:
            self.report(
                "session_minimum",
                f"{label} has {len(session.attendees)} attendee(s); it is held only with at "
                f"least {service.min_attendees}.",
                day=day,
            )
        children = any(
            problem.recipient_by_id[seat.recipient].kind == "child"
            for seat in session.attendees
            if seat.recipient in problem.recipient_by_id
        )
        for lead_id in session.leads:
            lead = problem.volunteer_by_id[lead_id]
            missing = [skill for skill in service.lead_skills if skill not in lead.skills]
            if missing:
                self.report(
                    "session_lead",
                    f"{label}: lead {_who(lead.name, lead.id)} lacks {', '.join(missing)}.",
                    volunteer=lead.id,
                    day=day,
                )
            if service.lead_requires_verified and not lead.verified:
                self.report(
                    "session_lead",
                    f"{label}: lead {_who(lead.name, lead.id)} is not verified.",
                    volunteer=lead.id,
                    day=day,
                )
        if children:
            people = [*staff, *(seat.escort for seat in session.attendees if seat.escort)]
            for person_id in dict.fromkeys(people):
                person = problem.volunteer_by_id[person_id]
                if not person.background_checked:
                    self.report(
                        "session_background_check",
                        f"{label}: children attend, but {_who(person.name, person.id)} has no "
                        "background check.",
                        volunteer=person.id,
                        day=day,
                    )
        per_helper = service.attendees_per_helper
        needed = 0 if per_helper is None else len(session.attendees) // per_helper
        if len(set(session.helpers)) < needed:
            self.report(
                "session_helpers",
                f"{label} has {len(session.attendees)} attendees and {len(set(session.helpers))} "
                f"helper(s); one helper for every {per_helper} makes {needed}.",
                day=day,
            )

        venue_place = self.travel.venue_place[venue.id]
        for person_id in dict.fromkeys(staff):
            self.stops.append(
                SessionStop(
                    person_id, day, session.start, session.end, venue_place, label, session.id
                )
            )
        for seat in session.attendees:
            self.check_attendee(session, service, venue, seat, label)

    def walking_limit(self, recipient: Recipient, escorted: bool) -> float | None:
        """How far they go to a session, one way (None: they do not attend)."""
        walking = self.problem.policy.walking
        if recipient.disability_level >= 3:
            return None
        own = recipient.walking_limit_m
        if own is None:
            own = (walking.level_0_m, walking.level_1_m, walking.level_2_m)[
                recipient.disability_level
            ]
        limit = max(own, walking.escorted_m) if escorted else own
        return limit if limit > 0 else None

    def span(self, recipient: Recipient, venue: Venue, session: Session) -> tuple[int, int, float]:
        """When the attendee leaves home and is back (whole minutes, outward), and the walk."""
        distance = self.travel.distance(
            self.travel.recipient_place[recipient.id], self.travel.venue_place[venue.id]
        )
        walking = distance / self.problem.policy.walking.speed_m_per_min
        return (
            math.floor(session.start - walking + EPSILON),
            math.ceil(session.end + walking - EPSILON),
            distance,
        )

    def check_attendee(
        self, session: Session, service: GroupService, venue: Venue, seat: Seat, label: str
    ) -> None:
        problem = self.problem
        recipient = problem.recipient_by_id.get(seat.recipient)
        if recipient is None:
            self.report("session_reference", f"{label}: unknown attendee '{seat.recipient}'.")
            return
        who = _who(recipient.name, recipient.id)
        wish = problem.wish_by_id[seat.wish]
        leaves, back, distance = self.span(recipient, venue, session)
        escorted = seat.escort is not None
        if wish.escort and not escorted:
            self.report(
                "escort",
                f"{label}: {who} comes only with an escort, and the seat names none.",
                day=session.day,
            )
        limit = self.walking_limit(recipient, escorted)
        if limit is None:
            self.report(
                "walking_limit",
                f"{label}: {who} does not walk to sessions (disability level "
                f"{recipient.disability_level}{', no escort' if not escorted else ''}).",
                day=session.day,
            )
        elif not math.isfinite(distance) or distance > limit + EPSILON:
            self.report(
                "walking_limit",
                f"{label}: {who} lives {distance:.0f} m away and walks at most {limit:.0f} m.",
                day=session.day,
            )
        elif recipient.disability_level >= 1 and not venue.step_free:
            self.report(
                "walking_limit",
                f"{label}: {who} has limited mobility and {venue.name or venue.id} has steps.",
                day=session.day,
            )
        home = None
        if recipient.home_windows:
            home = [(w.start, w.end) for w in recipient.home_windows if w.day == session.day]
        if not _inside(home, leaves, back):
            self.report(
                "attendee_window",
                f"{label}: {who} would be away {_times(leaves, back)}, outside the times they "
                f"are free that day ({_windows(home or [])}).",
                day=session.day,
            )
        for start, end, visit_label in self.visit_spans.get((recipient.id, session.day), []):
            if start < back - EPSILON and leaves < end - EPSILON:
                self.report(
                    "attendee_overlap",
                    f"{label}: {who} is away {_times(leaves, back)}, during {visit_label}.",
                    day=session.day,
                )
        if seat.escort is not None:
            escort = problem.volunteer_by_id[seat.escort]
            self.stops.append(
                SessionStop(
                    escort.id,
                    session.day,
                    leaves,
                    back,
                    self.travel.recipient_place[recipient.id],
                    f"escort of {who} to {label}",
                    session.id,
                    2 * distance,
                )
            )

    # --- across sessions -----------------------------------------------------------------

    def check_venues(self) -> None:
        """A venue holds one session at a time."""
        by_venue_day: dict[tuple[str, str], list[Session]] = defaultdict(list)
        for session in self.valid:
            by_venue_day[(session.venue, session.day)].append(session)
        for (venue_id, day), sessions in sorted(by_venue_day.items()):
            ordered = sorted(sessions, key=lambda item: (item.start, item.end, item.id))
            for index, first in enumerate(ordered):
                for second in ordered[index + 1 :]:
                    if second.start < first.end - EPSILON:
                        self.report(
                            "venue_double_booked",
                            f"Venue '{venue_id}' holds sessions '{first.id}' "
                            f"({_times(first.start, first.end)}) and '{second.id}' "
                            f"({_times(second.start, second.end)}) at once on {day}.",
                            day=day,
                        )

    def check_sessions_per_week(self) -> None:
        """A group service holds at most the sessions a week it wants."""
        held: dict[str, list[Session]] = defaultdict(list)
        for session in self.valid:
            held[session.group_service].append(session)
        for service_id, sessions in sorted(held.items()):
            most = self.problem.group_service_by_id[service_id].sessions_per_week
            if len(sessions) > most:
                names = ", ".join(f"'{session.id}'" for session in sessions)
                self.report(
                    "sessions_per_week",
                    f"Group service '{service_id}' holds {len(sessions)} sessions this week "
                    f"({names}); it wants at most {most}.",
                )

    def check_seats(self) -> None:
        """A seat occurrence once; a wish seated at most once a day; an attendee's seats do
        not overlap each other."""
        occurrences: dict[tuple[str, int], int] = defaultdict(int)
        wish_days: dict[tuple[str, str], int] = defaultdict(int)
        spans: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
        for session in self.valid:
            venue = self.problem.venue_by_id[session.venue]
            for seat in session.attendees:
                recipient = self.problem.recipient_by_id.get(seat.recipient)
                if recipient is None:
                    continue
                occurrences[(seat.wish, seat.occurrence)] += 1
                if occurrences[(seat.wish, seat.occurrence)] > 1:
                    continue  # the same seat again: reported once, as session_mismatch
                wish_days[(seat.wish, session.day)] += 1
                leaves, back, _ = self.span(recipient, venue, session)
                spans[(recipient.id, session.day)].append((leaves, back, session.id))
        for (wish, occurrence), count in sorted(occurrences.items()):
            if count > 1:
                self.report(
                    "session_mismatch",
                    f"Seat {occurrence} of wish '{wish}' is in {count} sessions.",
                )
        for (wish, day), count in sorted(wish_days.items()):
            if count > 1:
                self.report(
                    "session_mismatch",
                    f"Wish '{wish}' has {count} seats on {day}; at most one a day.",
                    day=day,
                )
        for (recipient_id, day), items in sorted(spans.items()):
            ordered = sorted(items)
            for index, first in enumerate(ordered):
                for second in ordered[index + 1 :]:
                    if second[0] < first[1] - EPSILON:
                        self.report(
                            "attendee_overlap",
                            f"{recipient_id} is in sessions '{first[2]}' and '{second[2]}' at "
                            f"once on {day}.",
                            day=day,
                        )

    # --- metrics -------------------------------------------------------------------------

    def metrics(self, visit_min: float) -> SessionMetrics:
        """Seats, sessions, escorts, walking and the share of volunteer minutes on site."""
        problem = self.problem
        seats_wished = sum(wish.sessions_per_week for wish in problem.wish_by_id.values())
        weighted_wished = sum(
            wish.sessions_per_week * problem.wish_priority(wish)
            for wish in problem.wish_by_id.values()
        )
        counted: dict[str, int] = defaultdict(int)
        weighted_planned = 0.0
        walk = 0.0
        escorts = 0
        session_min = 0.0
        for session in self.valid:
            staff = len(set([*session.leads, *session.helpers]))
            session_min += staff * (session.end - session.start)
            venue = problem.venue_by_id[session.venue]
            for seat in session.attendees:
                wish = problem.wish_by_id[seat.wish]
                recipient = problem.recipient_by_id.get(seat.recipient)
                if recipient is None or counted[wish.id] >= wish.sessions_per_week:
                    continue
                counted[wish.id] += 1
                weighted_planned += problem.wish_priority(wish)
                leaves, back, distance = self.span(recipient, venue, session)
                walk += 2 * distance
                if seat.escort is not None:
                    escorts += 1
                    session_min += back - leaves
        planned = sum(counted.values())
        on_site = session_min + visit_min
        return SessionMetrics(
            sessions_held=len(self.valid),
            sessions_wanted=sum(service.sessions_per_week for service in problem.group_services),
            seats_wished=seats_wished,
            seats_planned=planned,
            seats_pct=100.0 * planned / seats_wished if seats_wished else 100.0,
            weighted_seats_wished=weighted_wished,
            weighted_seats_planned=weighted_planned,
            escorts=escorts,
            attendee_walk_m=walk,
            session_volunteer_min=session_min,
            visit_volunteer_min=visit_min,
            session_share_pct=100.0 * session_min / on_site if on_site > 0 else 0.0,
        )


__all__ = ["SESSION_RULE_CODES", "SessionChecker", "SessionFinding", "SessionStop"]
