"""What every export shows, worked out once from a problem and its plan: each volunteer's
visits in order with the recipient, address, service, notes and team partners; the visits not
planned with their reasons; the week's figures; the minutes each volunteer gives and offered.

The exports (workbook, calendars, pages, pictures) only lay these out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from matcher.checker import check_plan
from matcher.desk.text import text
from matcher.messages import day_name, join, message
from matcher.models import Metrics, Plan, Problem
from matcher.models.common import WEEKDAYS, Language, Weekday, format_clock
from matcher.models.problem import Recipient, Volunteer


@dataclass(frozen=True)
class ScheduledVisit:
    """One visit on one volunteer's schedule."""

    volunteer: str
    volunteer_name: str
    day: Weekday
    date: dt.date
    start_min: int
    end_min: int
    need: str
    occurrence: int
    recipient: str
    recipient_name: str
    address: str
    service: str
    service_name: str
    notes: str
    partners: tuple[str, ...]
    """Names of the others on a team visit."""

    @property
    def time(self) -> str:
        return f"{format_clock(self.start_min)}–{format_clock(self.end_min)}"

    @property
    def uid(self) -> str:
        """Stable across re-plans of the same week: volunteer, need and occurrence."""
        return f"{self.volunteer}.{self.need}.{self.occurrence}.{self.date:%G-W%V}@matcher"


@dataclass(frozen=True)
class UnplannedVisit:
    """A visit left out, with its reason code and the sentence in the chosen language."""

    need: str
    occurrence: int
    recipient: str
    recipient_name: str
    service_name: str
    reason: str
    message: str


@dataclass(frozen=True)
class LoadFigure:
    """The minutes a volunteer gives this week against what they offered."""

    volunteer: str
    name: str
    visits: int
    total_min: float
    offered_min: float


@dataclass(frozen=True)
class Schedule:
    """Everything the exports show, in one language."""

    problem: Problem
    plan: Plan
    language: Language
    visits: tuple[ScheduledVisit, ...]
    unplanned: tuple[UnplannedVisit, ...]
    metrics: Metrics
    loads: tuple[LoadFigure, ...]

    def of_volunteer(self, volunteer: str) -> list[ScheduledVisit]:
        return [visit for visit in self.visits if visit.volunteer == volunteer]

    def of_day(self, day: Weekday) -> list[ScheduledVisit]:
        visits = [visit for visit in self.visits if visit.day == day]
        return sorted(visits, key=lambda visit: (visit.start_min, visit.volunteer))

    def days(self) -> list[Weekday]:
        """The weekdays with at least one visit, Monday first."""
        used = {visit.day for visit in self.visits}
        return [day for day in WEEKDAYS if day in used]

    def day_label(self, day: Weekday) -> str:
        return f"{day_name(day, self.language)} {self.problem.date_of(day).isoformat()}"

    def figures(self) -> list[tuple[str, str]]:
        """The week's figures as (label, value) rows."""
        metrics, language = self.metrics, self.language
        busy = len({visit.volunteer for visit in self.visits})
        return [
            (text("visits_planned", language), f"{metrics.visits_planned}"),
            (text("visits_requested", language), f"{metrics.visits_requested}"),
            (text("coverage", language), f"{metrics.coverage_pct:.1f} %"),
            (text("weighted_coverage", language), f"{metrics.weighted_coverage_pct:.1f} %"),
            (text("travel_km", language), f"{metrics.travel_distance_m / 1000:.1f}"),
            (text("travel_min", language), f"{metrics.travel_min:.0f}"),
            (text("recipients_visited", language), f"{metrics.recipients_visited}"),
            (text("volunteers_busy", language), f"{busy} / {len(self.problem.volunteers)}"),
            (text("unplanned", language), f"{len(self.unplanned)}"),
            (text("solver", language), f"{self.plan.solver.solver} ({self.plan.solver.status})"),
        ]


def display_name(name: str, identifier: str) -> str:
    """A person as printed: "Wang Fang (e001)", or the id alone."""
    return f"{name} ({identifier})" if name else identifier


def address_of(recipient: Recipient) -> str:
    """Where to go: the building and unit the roster gave, else the building, else the place."""
    location = recipient.location
    if location.place:
        return location.place
    if recipient.building:
        return recipient.building
    if location.lat is not None:
        return f"{location.lat:.5f}, {location.lon:.5f}"
    return f"x {location.x_m:.0f} m, y {location.y_m:.0f} m"


def notes_of(problem: Problem, recipient: Recipient, need_id: str, language: Language) -> str:
    """What the volunteer should know before ringing the bell."""
    need = problem.need_by_id[need_id]
    notes = []
    if recipient.kind == "child":
        notes.append(text("child", language))
    if recipient.lives_alone:
        notes.append(text("lives_alone", language))
    if recipient.disability_level:
        notes.append(text("disability", language, level=recipient.disability_level))
    if recipient.languages:
        notes.append(text("speaks", language, languages=", ".join(recipient.languages)))
    if need.mandatory:
        notes.append(text("mandatory", language))
    if need.soft_window:
        notes.append(text("may_be_late", language))
    return "; ".join(notes) if language == "en" else "；".join(notes)


def _volunteer_name(volunteers: dict[str, Volunteer], identifier: str) -> str:
    volunteer = volunteers.get(identifier)
    return display_name(volunteer.name if volunteer else "", identifier)


def build_schedule(problem: Problem, plan: Plan, language: Language | None = None) -> Schedule:
    """The schedule of a plan in a language (default: the problem's policy)."""
    chosen: Language = language or problem.policy.language
    volunteers = problem.volunteer_by_id
    visits: list[ScheduledVisit] = []
    for visit in plan.visits:
        recipient = problem.recipient_by_id[visit.recipient]
        service = problem.service_by_id.get(visit.service)
        service_name = service.name if service and service.name else visit.service
        notes = notes_of(problem, recipient, visit.need, chosen)
        for volunteer in visit.volunteers:
            partners = tuple(
                _volunteer_name(volunteers, other)
                for other in visit.volunteers
                if other != volunteer
            )
            visits.append(
                ScheduledVisit(
                    volunteer=volunteer,
                    volunteer_name=_volunteer_name(volunteers, volunteer),
                    day=visit.day,
                    date=visit.date or problem.date_of(visit.day),
                    start_min=visit.start,
                    end_min=visit.end,
                    need=visit.need,
                    occurrence=visit.occurrence,
                    recipient=recipient.id,
                    recipient_name=display_name(recipient.name, recipient.id),
                    address=address_of(recipient),
                    service=visit.service,
                    service_name=service_name,
                    notes=notes,
                    partners=partners,
                )
            )
    visits.sort(key=lambda item: (item.volunteer, WEEKDAYS.index(item.day), item.start_min))
    unplanned = []
    for item in plan.unassigned:
        known = problem.recipient_by_id.get(item.recipient)
        service = problem.service_by_id.get(item.service)
        unplanned.append(
            UnplannedVisit(
                need=item.need,
                occurrence=item.occurrence,
                recipient=item.recipient,
                recipient_name=display_name(known.name if known else "", item.recipient),
                service_name=service.name if service and service.name else item.service,
                reason=item.reason,
                message=message(item.reason, chosen)
                if chosen != problem.policy.language
                else item.message,
            )
        )
    metrics = plan.metrics if plan.metrics is not None else check_plan(problem, plan).metrics
    given = {load.volunteer: load for load in metrics.loads}
    loads = tuple(
        LoadFigure(
            volunteer=volunteer.id,
            name=display_name(volunteer.name, volunteer.id),
            visits=given[volunteer.id].visits if volunteer.id in given else 0,
            total_min=given[volunteer.id].total_min if volunteer.id in given else 0.0,
            offered_min=volunteer.offered_minutes(),
        )
        for volunteer in problem.volunteers
    )
    return Schedule(problem, plan, chosen, tuple(visits), tuple(unplanned), metrics, loads)


def partner_text(visit: ScheduledVisit, language: Language) -> str:
    """The team partners of a visit as one line (empty when alone)."""
    return join(visit.partners, language) if visit.partners else ""
