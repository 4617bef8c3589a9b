"""The plan: the week's visits, each volunteer's daily routes, what could not be planned and why,
metrics, and facts about the solver run that produced it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, model_validator

from matcher.models.common import ClockTime, DayOfWeek, InputModel, StrictModel, published
from matcher.models.limits import check_limits

ReasonCode = Literal[
    "no_qualified_volunteer",
    "no_shared_window",
    "too_far",
    "volunteers_full",
    "not_planned",
]
"""Why a visit could not be planned:

- `no_qualified_volunteer`: nobody has the skills, the verification, the background check, or
  everyone qualified is excluded by the recipient;
- `no_shared_window`: qualified volunteers exist but none is available while the visit may happen;
- `too_far`: the ones available cannot get there (single-trip distance or travel time);
- `volunteers_full`: every qualified volunteer's week is already full (minutes, visits a day,
  or their free time does not fit the visit);
- `not_planned`: the solver left it out for another reason (e.g. a time limit).

The one source of the reason codes: the message catalogue (`matcher.messages.REASON_CODES`,
`REASON_MESSAGES`) derives its codes from this type.
"""


class Visit(InputModel):
    """One occurrence of a need: who goes, on which day, from when to when."""

    need: str
    recipient: str
    service: str
    occurrence: int = Field(ge=1, description="1 for the first visit of this need this week")
    day: DayOfWeek
    date: dt.date | None = None
    start: ClockTime
    end: ClockTime
    volunteers: list[str] = Field(min_length=1)


class RouteStop(StrictModel):
    """A stop of a volunteer's day: the start, a visit, a group session they lead or help at,
    an escort (from the attendee's home to the session and back), or the way back home."""

    kind: Literal["start", "visit", "session", "escort", "home"]
    session: str | None = Field(default=None, description="id of the session (session, escort)")
    need: str | None = None
    occurrence: int | None = None
    recipient: str | None = None
    arrival: ClockTime
    start: ClockTime
    end: ClockTime
    distance_m: float = Field(ge=0, description="from the previous stop")
    travel_min: float = Field(ge=0, description="from the previous stop")


class Route(StrictModel):
    """A volunteer's day in order: per outing, from the start place to its visits and home."""

    volunteer: str
    day: DayOfWeek
    date: dt.date | None = None
    stops: list[RouteStop]
    distance_m: float = Field(ge=0)
    travel_min: float = Field(ge=0)
    visit_min: int = Field(ge=0)


SeatReason = Literal[
    "cannot_walk",
    "too_far_to_walk",
    "no_venue_open",
    "no_shared_window",
    "busy_with_visits",
    "no_lead_free",
    "no_escort",
    "below_minimum",
    "session_full",
    "held_elsewhere",
    "not_planned",
]
"""Why a seat an attendance wish asks for is not in the plan:

- `cannot_walk`: the recipient does not walk to sessions (bedridden, or severely disabled
  without an escort wished), whatever the venue;
- `too_far_to_walk`: every venue of the group service is beyond their walking limit (or has
  steps they cannot take);
- `no_venue_open`: no venue of the service is open while the service may be held;
- `no_shared_window`: no time a venue they can reach is open is one they are free;
- `busy_with_visits`: the times they could attend are taken by their own home visits or seats;
- `no_lead_free`: no qualified lead (or helper) is free then;
- `no_escort`: no volunteer is free to escort them;
- `below_minimum`: a session they could attend would have fewer attendees than its minimum;
- `session_full`: the sessions they could attend are full;
- `held_elsewhere`: the week's sessions of the service are held where or when they cannot come
  (a pop-up placed where more can walk, a class at a time they are busy);
- `not_planned`: the solver left it out for another reason (e.g. a time limit).

Sentences in each language: `matcher.messages.SEAT_MESSAGES`.
"""


class Seat(InputModel):
    """One attendee of a session: whose wish, which occurrence of it, and how they come."""

    recipient: str
    wish: str
    occurrence: int = Field(ge=1, description="1 for the first seat of this wish this week")
    escort: str | None = Field(default=None, description="the volunteer who walks them there")
    walk_m: float = Field(default=0.0, ge=0, description="one way, home to venue")


class Session(InputModel):
    """A group session held: which service, where, when, who leads and helps, who attends."""

    id: str
    group_service: str
    venue: str
    day: DayOfWeek
    date: dt.date | None = None
    start: ClockTime
    end: ClockTime
    leads: list[str] = Field(min_length=1)
    helpers: list[str] = Field(default_factory=list)
    attendees: list[Seat] = Field(default_factory=list)


class UnseatedWish(InputModel):
    """A seat an attendance wish asks for that is not in the plan, with the reason."""

    recipient: str
    wish: str
    group_service: str
    occurrence: int = Field(ge=1)
    reason: SeatReason
    message: str


class SessionMetrics(StrictModel):
    """What the plan does with group sessions, recomputed by the checker."""

    sessions_held: int = 0
    sessions_wanted: int = 0
    seats_wished: int = 0
    seats_planned: int = 0
    seats_pct: float = 100.0
    weighted_seats_wished: float = 0.0
    weighted_seats_planned: float = 0.0
    escorts: int = 0
    attendee_walk_m: float = Field(default=0.0, description="attendees' walking, both ways")
    session_volunteer_min: float = Field(
        default=0.0, description="volunteer minutes at sessions and escorts (travel excluded)"
    )
    visit_volunteer_min: float = Field(
        default=0.0, description="volunteer minutes at home visits (travel excluded)"
    )
    session_share_pct: float = Field(
        default=0.0, description="share of volunteer minutes on site that went to sessions"
    )


class UnassignedVisit(InputModel):
    """An occurrence of a need that is not in the plan, with the reason and a sentence."""

    need: str
    recipient: str
    service: str
    occurrence: int = Field(ge=1)
    reason: ReasonCode
    message: str


class VolunteerLoad(StrictModel):
    """Minutes a volunteer gives this week (visits and travel)."""

    volunteer: str
    visits: int
    visit_min: float
    travel_min: float
    total_min: float
    offered_min: float = Field(
        default=0.0,
        description="minutes they offered: their availability, capped by max_minutes_per_week",
    )


class Metrics(StrictModel):
    """What a plan achieves, recomputed by the checker from the visits alone (so, like the
    routes and loads, it may hold Infinity: the travel to a place that cannot be reached, in
    the report of a plan that breaks that rule)."""

    visits_requested: int = 0
    visits_planned: int = 0
    coverage_pct: float = 0.0
    weighted_requested: float = 0.0
    weighted_planned: float = 0.0
    weighted_coverage_pct: float = 0.0
    travel_distance_m: float = 0.0
    travel_min: float = 0.0
    total_lateness_min: float = Field(
        default=0.0, description="minutes late summed over visits (soft windows start late)"
    )
    max_lateness_min: float = Field(default=0.0, description="the latest visit's minutes late")
    recipients_visited: int = 0
    distinct_volunteers_per_recipient: float = Field(
        default=0.0, description="mean over recipients with at least one visit"
    )
    continuity_pct: float = Field(
        default=0.0, description="share of visits made by a preferred or historic volunteer"
    )
    load_min_minutes: float = 0.0
    load_median_minutes: float = 0.0
    load_max_minutes: float = 0.0
    load_gini: float = Field(default=0.0, description="0 even, 1 all on one volunteer")
    load_vs_offer_gini: float = Field(
        default=0.0,
        description="Gini of load / minutes offered among volunteers with availability: 0 when "
        "each gives the same share of what they offered",
    )
    pairings_standing: int = Field(
        default=0, description="standing pairings: history pairs whose recipient is in the week"
    )
    pairings_kept: int = Field(default=0, description="standing pairings with a visit this week")
    pairings_kept_pct: float = Field(
        default=100.0, description="kept / standing (100 when there is no standing pairing)"
    )
    pairings_new: int = Field(
        default=0, description="recipient-volunteer pairs visiting this week, not in the history"
    )
    pairings_broken: int = Field(
        default=0, description="standing pairings without any visit this week"
    )
    loads: list[VolunteerLoad] = Field(default_factory=list)


SolverStatus = Literal["FEASIBLE", "OPTIMAL", "TIME_LIMIT", "STOPPED", "NO_SOLUTION", "MANUAL"]
"""How a solve ended (`SolverInfo.status`)."""


class SolverInfo(InputModel):
    """Which solver made the plan, how it ended and what it knows about the optimum."""

    solver: str
    status: SolverStatus = Field(
        default="FEASIBLE",
        description="OPTIMAL: proven best; FEASIBLE: keeps every rule, the search ended on its "
        "own; TIME_LIMIT: keeps every rule, the time limit stopped the search; STOPPED: keeps "
        "every rule, the caller stopped the search; NO_SOLUTION; MANUAL: made by hand",
    )
    objective: float | None = Field(
        default=None,
        description="priority-weighted coverage: the sum of the priorities of the planned "
        "visits, the primary objective that `bound` and `gap` refer to",
    )
    bound: float | None = None
    gap: float | None = None
    wall_time_s: float = 0.0
    seed: int = 0
    time_limit_s: float | None = None
    objective_breakdown: dict[str, float] = Field(
        default_factory=dict,
        description="the policy objective term by term (coverage, continuity, travel, cost, "
        "lateness, fairness) and its total, in points",
    )
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="what was asked: the solver's parameters, in full"
    )
    statistics: dict[str, Any] = Field(
        default_factory=dict,
        description="what happened: iterations, progress over time, search status, what `auto` "
        "chose and why",
    )


BrokenReason = Literal[
    "no_need",
    "volunteer_unavailable",
    "volunteer_unqualified",
    "volunteer_busy",
    "given_to_other",
    "not_planned",
]
"""Why a standing pairing has no visit this week (`matcher.continuity.pairing_report`):

- `no_need`: the recipient needs nothing this week;
- `volunteer_unavailable`: the volunteer is away, or free at no time the visits may happen;
- `volunteer_unqualified`: a hard rule rules the volunteer out of every need (`rules` names it);
- `volunteer_busy`: the volunteer's time went to visits of higher or equal priority (named);
- `given_to_other`: the volunteer could have come; the recipient's visits went to others (named);
- `not_planned`: the volunteer could have come, but the visits they could make are not planned.
"""


class Pairing(InputModel):
    """A recipient and a volunteer, with the visits the volunteer makes to them this week."""

    recipient: str
    volunteer: str
    visits: int = Field(default=0, ge=0)


class CompetingVisit(InputModel):
    """A visit that took a paired volunteer's time this week, with its priority."""

    need: str
    recipient: str
    occurrence: int = Field(ge=1)
    day: DayOfWeek
    start: ClockTime
    end: ClockTime
    priority: float


class BrokenPairing(InputModel):
    """A standing pairing without a visit this week, and why."""

    recipient: str
    volunteer: str
    reason: BrokenReason
    message: str
    rules: list[str] = Field(
        default_factory=list,
        description="the hard rules (docs/rules.md codes) that rule the volunteer out",
    )
    busy_with: list[CompetingVisit] = Field(
        default_factory=list, description="visits that took the volunteer's time instead"
    )
    replaced_by: list[str] = Field(
        default_factory=list, description="volunteers who made the recipient's visits instead"
    )


class PairingReport(InputModel):
    """Standing pairings kept and broken this week, and pairings that are new."""

    kept: list[Pairing] = Field(default_factory=list)
    new: list[Pairing] = Field(default_factory=list)
    broken: list[BrokenPairing] = Field(default_factory=list)

    @property
    def standing(self) -> int:
        """Standing pairings: those kept and those broken."""
        return len(self.kept) + len(self.broken)

    @property
    def kept_pct(self) -> float:
        """Share of standing pairings kept (100 when there is none)."""
        return 100.0 * len(self.kept) / self.standing if self.standing else 100.0


class UncoveredRecipient(InputModel):
    """A recipient of high priority left without any visit two weeks running."""

    recipient: str
    priority: float
    needs: list[str] = Field(description="the needs left out this week")
    volunteer: str | None = Field(
        default=None,
        description="a qualified volunteer who had free time for one of the needs this week; "
        "none when nobody had (then the rule is not broken)",
    )
    free_min: float | None = Field(
        default=None, description="that volunteer's minutes offered but not planned this week"
    )
    message: str


class Plan(InputModel):
    """A weekly plan, from any solver or made by hand."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, json_schema_extra=published("plan")
    )

    problem_name: str = ""
    week_start: dt.date | None = None
    visits: list[Visit] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    unassigned: list[UnassignedVisit] = Field(default_factory=list)
    metrics: Metrics | None = None
    solver: SolverInfo = Field(default_factory=lambda: SolverInfo(solver="manual", status="MANUAL"))
    warnings: list[str] = Field(default_factory=list)
    pairings: PairingReport | None = Field(
        default=None, description="pairings kept, new and broken (matcher.continuity)"
    )
    sessions: list[Session] | None = Field(
        default=None, description="group sessions held; none when the week has no group service"
    )
    unseated: list[UnseatedWish] | None = Field(
        default=None, description="seats wished but not planned, with reasons"
    )
    session_metrics: SessionMetrics | None = None
    uncovered_two_weeks: list[UncoveredRecipient] | None = Field(
        default=None,
        description="high-priority recipients without a visit this week and the last; filled "
        "when the previous week's plan is known (matcher.season)",
    )

    @model_validator(mode="before")
    @classmethod
    def _within_limits(cls, data: Any, info: ValidationInfo) -> Any:
        """Input limits (`matcher.models.limits`) before any field is validated."""
        check_limits(cls.__name__, data, info.context)
        return data

    def _sessions_line(self) -> str:
        """'sessions: 5 held, seats 40 of 52 (76.9%); unseated: too_far_to_walk 3, ...'."""
        sessions = self.sessions or []
        seats = sum(len(session.attendees) for session in sessions)
        unseated = self.unseated or []
        wished = seats + len(unseated)
        pct = 100.0 * seats / wished if wished else 100.0
        line = f"sessions: {len(sessions)} held, seats {seats} of {wished} ({pct:.1f}%)"
        if self.session_metrics is not None:
            line += f", {self.session_metrics.session_share_pct:.1f}% of volunteer time on site"
        if unseated:
            counts: dict[str, int] = {}
            for item in unseated:
                counts[item.reason] = counts.get(item.reason, 0) + 1
            line += "; unseated: " + ", ".join(
                f"{reason} {count}" for reason, count in sorted(counts.items())
            )
        return line

    def summary(self) -> str:
        """A few lines a coordinator can read: coverage, travel, what is left and why."""
        lines = []
        metrics = self.metrics
        if metrics is not None:
            lines.append(
                f"visits planned: {metrics.visits_planned} of {metrics.visits_requested} "
                f"({metrics.coverage_pct:.1f}%), priority-weighted coverage "
                f"{metrics.weighted_coverage_pct:.1f}%"
            )
            lines.append(
                f"travel: {metrics.travel_distance_m / 1000:.1f} km, "
                f"{metrics.travel_min:.0f} min; load Gini {metrics.load_gini:.2f}"
            )
        else:
            lines.append(f"visits planned: {len(self.visits)}")
        if self.unassigned:
            counts: dict[str, int] = {}
            for item in self.unassigned:
                counts[item.reason] = counts.get(item.reason, 0) + 1
            reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(counts.items()))
            lines.append(f"not planned: {len(self.unassigned)} ({reasons})")
        else:
            lines.append("not planned: none")
        if self.sessions is not None:
            lines.append(self._sessions_line())
        if self.pairings is not None:
            report = self.pairings
            lines.append(
                f"pairings: {len(report.kept)} of {report.standing} kept "
                f"({report.kept_pct:.1f}%), {len(report.new)} new, {len(report.broken)} broken"
            )
        info = self.solver
        lines.append(
            f"solver: {info.solver}, {info.status}, {info.wall_time_s:.2f} s, seed {info.seed}"
        )
        return "\n".join(lines)
