"""The problem: a week of needs, the volunteers and staff who can meet them, and the policy.

Objects refer to each other by id. `Problem` validates every field and every cross-reference
and reports all problems together, each with its path (see `matcher.models.validation`).
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from matcher.models.common import (
    MAX_DAY_LENGTH_MIN,
    MINUTES_PER_DAY,
    WEEKDAYS,
    ClockTime,
    DayOfWeek,
    InputModel,
    Language,
    Location,
    RecipientKind,
    TimeWindow,
    Weekday,
    published,
)
from matcher.models.limits import (
    MAX_COST_PER_HOUR,
    MAX_COUNT,
    MAX_CREDITS,
    MAX_DETOUR_FACTOR,
    MAX_DISTANCE_M,
    MAX_PRIORITY,
    MAX_SPEED_M_PER_MIN,
    MAX_TRAVEL_MIN,
    MAX_WEEK_MIN,
    MAX_WEIGHT,
    check_limits,
)
from matcher.models.sessions import (
    AttendanceWish,
    GroupService,
    HistoricLead,
    Venue,
    WalkingPolicy,
)

VolunteerKind = Literal["volunteer", "staff"]
TravelMode = Literal["walk", "bike", "ebike", "car", "transit"]
Gender = Literal["female", "male", "other"]

DEFAULT_SPEEDS_M_PER_MIN: dict[str, float] = {
    "walk": 67.0,
    "bike": 200.0,
    "ebike": 300.0,
    "car": 333.0,
    "transit": 250.0,
}
"""Default door-to-door speeds: walking 4 km/h (the "young-old" on foot), bicycle 12 km/h,
e-bike 18 km/h, car 20 km/h in town traffic, transit 15 km/h including waiting."""


def _elders_only() -> list[RecipientKind]:
    return ["elder"]


class Service(InputModel):
    """Something a volunteer does for a recipient: deliver a meal, cut hair, pay a bill."""

    id: str = Field(min_length=1)
    name: str = ""
    required_skills: list[str] = Field(default_factory=list)
    duration_min: int = Field(gt=0, le=MINUTES_PER_DAY, description="minutes on site")
    team_size: int = Field(
        default=1, ge=1, le=10, description="people needed at the same time (2 for bathing)"
    )
    requires_verified: bool = Field(
        default=False, description="money, bank documents or medicine: verified helpers only"
    )
    recipient_kinds: list[RecipientKind] = Field(default_factory=_elders_only, min_length=1)


class Need(InputModel):
    """A recipient's need for a service, some times a week, in some windows."""

    id: str = Field(min_length=1)
    service: str = Field(min_length=1, description="id of a service")
    visits_per_week: int = Field(default=1, ge=1, le=7)
    duration_min: int | None = Field(
        default=None, gt=0, le=MINUTES_PER_DAY, description="overrides the service's duration"
    )
    windows: list[TimeWindow] = Field(
        default_factory=list,
        description="when the visit may take place; empty means whenever the recipient is home",
    )
    min_gap_days: int = Field(
        default=1,
        ge=1,
        le=6,
        description="days between two visits of this need: 1 allows consecutive days",
    )
    same_volunteer: bool = Field(
        default=False, description="prefer one volunteer for all visits of this need"
    )
    preferred_gender: Gender | None = None
    language: str | None = Field(default=None, description="preferred language of the helper")
    priority: float | None = Field(
        default=None, ge=0, le=MAX_PRIORITY, description="overrides the policy"
    )
    mandatory: bool = Field(
        default=False, description="must be planned; the plan says so if it cannot be"
    )
    soft_window: bool = Field(
        default=False,
        description="a visit may start late (never early), at the policy's cost per minute late",
    )
    max_lateness_min: int | None = Field(
        default=None,
        ge=0,
        le=MAX_WEEK_MIN,
        description="with a soft window, the most minutes late; none: no limit",
    )
    load: int = Field(
        default=0,
        ge=0,
        le=MAX_COUNT,
        description="what one visit takes from the volunteer's daily capacity",
    )


class Recipient(InputModel):
    """An elder (or a child, for tutoring and after-school care) who receives visits."""

    id: str = Field(min_length=1)
    name: str = ""
    kind: RecipientKind = "elder"
    location: Location
    building: str | None = None
    age: int | None = Field(default=None, ge=0, le=130)
    lives_alone: bool = False
    disability_level: int = Field(
        default=0, ge=0, le=3, description="0 none, 1 limited mobility, 2 severe, 3 bedridden"
    )
    low_income: bool = False
    gender: Gender | None = None
    languages: list[str] = Field(default_factory=list)
    home_windows: list[TimeWindow] = Field(
        default_factory=list, description="when they are at home; empty means any time"
    )
    preferred_volunteers: list[str] = Field(default_factory=list)
    excluded_volunteers: list[str] = Field(default_factory=list)
    priority: float | None = Field(
        default=None, ge=0, le=MAX_PRIORITY, description="overrides the policy"
    )
    time_bank_credits: float = Field(
        default=0.0,
        ge=0,
        le=MAX_CREDITS,
        description="time-bank credits this person earned by serving (e.g. as a volunteer in "
        "earlier years); they raise the priority as policy.priority.credits says "
        "(`Ledger.apply_credits` fills them in from the ledger)",
    )
    needs: list[Need] = Field(default_factory=list)
    attends: list[AttendanceWish] = Field(
        default_factory=list, description="group services they want seats in"
    )
    walking_limit_m: float | None = Field(
        default=None,
        ge=0,
        le=MAX_DISTANCE_M,
        description="how far they walk to a session, one way; overrides the policy's default "
        "for their disability level (policy.walking)",
    )


class Volunteer(InputModel):
    """A volunteer or a member of community staff who makes visits."""

    id: str = Field(min_length=1)
    name: str = ""
    kind: VolunteerKind = "volunteer"
    home: Location
    start_location: Location | None = Field(
        default=None, description="where the day starts (staff: the community office); else home"
    )
    skills: list[str] = Field(default_factory=list)
    verified: bool = Field(default=False, description="trusted with money, documents, medicine")
    background_checked: bool = Field(default=False, description="required to serve children")
    gender: Gender | None = None
    languages: list[str] = Field(default_factory=list)
    availability: list[TimeWindow] = Field(default_factory=list)
    max_minutes_per_week: int | None = Field(
        default=None, ge=0, le=MAX_WEEK_MIN, description="visits and travel together"
    )
    max_visits_per_day: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    travel_mode: TravelMode = "walk"
    speed_m_per_min: float | None = Field(
        default=None,
        gt=0,
        le=MAX_SPEED_M_PER_MIN,
        description="overrides the travel mode's default speed",
    )
    max_trip_distance_m: float | None = Field(
        default=None, gt=0, le=MAX_DISTANCE_M, description="longest single trip between two stops"
    )
    max_outing_distance_m: float | None = Field(
        default=None,
        gt=0,
        le=MAX_DISTANCE_M,
        description="longest walk of one outing (an availability window: from the start place "
        "through its visits and back home)",
    )
    cost_per_hour: float | None = Field(
        default=None,
        ge=0,
        le=MAX_COST_PER_HOUR,
        description="overrides the policy's cost for this kind",
    )
    capacity: int | None = Field(
        default=None,
        ge=0,
        le=MAX_COUNT,
        description="what they can carry in one day (e.g. meal boxes): the most load a day",
    )

    @property
    def route_start(self) -> Location:
        """Where this volunteer's day starts."""
        return self.start_location if self.start_location is not None else self.home

    def offered_minutes(self) -> float:
        """Minutes offered in the week: the availability (overlapping windows counted once),
        capped by `max_minutes_per_week`. Fairness spreads load in proportion to it."""
        by_day: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for window in self.availability:
            by_day[window.day].append((window.start, window.end))
        total = 0.0
        for windows in by_day.values():
            reach = -math.inf
            for start, end in sorted(windows):
                total += max(0.0, end - max(start, reach))
                reach = max(reach, end)
        cap = self.max_minutes_per_week
        return total if cap is None else min(total, float(cap))


def offered_shares(volunteers: list[Volunteer]) -> dict[str, float]:
    """Each volunteer's share of all the minutes offered (0 for everyone when nobody offers).

    The fair load of a volunteer is their share of the total load: someone who offers twice
    the hours is expected to carry twice the minutes, and the fairness term of the objective
    counts the minutes each volunteer carries above that.
    """
    offered = {volunteer.id: volunteer.offered_minutes() for volunteer in volunteers}
    total = sum(offered.values())
    return {
        volunteer_id: (minutes / total if total > 0 else 0.0)
        for volunteer_id, minutes in offered.items()
    }


class CreditPolicy(InputModel):
    """How time-bank credits raise a recipient's priority when they need help themselves.

    boost = min(max_boost, credits / 100 * boost_per_100_credits), where `credits` are the
    credits ever earned (`basis="earned"`: what they gave counts even once redeemed) or the
    current balance (`basis="balance"`: redeemed credits are used up); `basis` tells
    `Ledger.apply_credits` which of the two to write on the recipients. With the default rates
    (one credit an hour) and priorities (1 to about 6), 100 hours of service raise a
    recipient's priority by 1, and no amount of service by more than 2, so credits tip the
    balance between similar neighbours without overriding frailty.
    """

    boost_per_100_credits: float = Field(default=1.0, ge=0, le=MAX_PRIORITY)
    max_boost: float = Field(default=2.0, ge=0, le=MAX_PRIORITY)
    basis: Literal["earned", "balance"] = "earned"

    def boost(self, credits: float) -> float:
        """Priority added by credits: proportional, capped, never negative."""
        return min(self.max_boost, max(0.0, credits) / 100 * self.boost_per_100_credits)


class PriorityPolicy(InputModel):
    """How a recipient's priority follows from their circumstances, unless given explicitly.

    priority = base + lives_alone + disability_level * per_disability_level
               + (age >= old_age) * old_age_bonus + low_income
    An explicit `Recipient.priority` replaces that sum. Either way the recipient's time-bank
    credits add `credits.boost(time_bank_credits)` (see `CreditPolicy`), so what a former
    volunteer gave counts when they need help. A need's own priority overrides everything.
    """

    base: float = Field(default=1.0, ge=0, le=MAX_PRIORITY)
    lives_alone: float = Field(default=1.0, ge=0, le=MAX_PRIORITY)
    per_disability_level: float = Field(default=1.0, ge=0, le=MAX_PRIORITY)
    old_age: int = Field(default=80, ge=0, le=200)
    old_age_bonus: float = Field(default=1.0, ge=0, le=MAX_PRIORITY)
    low_income: float = Field(default=1.0, ge=0, le=MAX_PRIORITY)
    credits: CreditPolicy = Field(default_factory=CreditPolicy)

    def priority_of(self, recipient: Recipient) -> float:
        """The recipient's priority under this policy, credit boost included."""
        return self.priority_before_credits(recipient) + self.credits.boost(
            recipient.time_bank_credits
        )

    def priority_before_credits(self, recipient: Recipient) -> float:
        """The explicit priority, else the one that follows from the recipient's circumstances."""
        if recipient.priority is not None:
            return recipient.priority
        value = self.base
        if recipient.lives_alone:
            value += self.lives_alone
        value += recipient.disability_level * self.per_disability_level
        if recipient.age is not None and recipient.age >= self.old_age:
            value += self.old_age_bonus
        if recipient.low_income:
            value += self.low_income
        return value


class PolicyWeights(InputModel):
    """Weights of the plan's objective, in one currency of points.

    Coverage dominates by default: one planned visit of priority 1 is worth 1,000 points, which
    outweighs 10 km of travel (10 points/km) or a preferred volunteer (50 points).

    Familiarity: a visit by a volunteer the recipient prefers earns `continuity`, a visit that
    keeps a standing pairing (a recipient and volunteer with visits in `Problem.history`) earns
    `pairing`, and a volunteer who is both earns the larger of the two, once
    (`continuity_points`). By default both are 50 points, so a standing pairing is never worth a
    visit of any need left out, but decides between two volunteers who are otherwise equal.
    """

    coverage: float = Field(
        default=1000.0, ge=0, le=MAX_WEIGHT, description="per planned visit, times priority"
    )
    travel_per_km: float = Field(default=10.0, ge=0, le=MAX_WEIGHT)
    continuity: float = Field(
        default=50.0,
        ge=0,
        le=MAX_WEIGHT,
        description="per visit by a preferred or historic volunteer",
    )
    pairing: float = Field(
        default=50.0,
        ge=0,
        le=MAX_WEIGHT,
        description="per visit that keeps a standing pairing (the volunteer visited the "
        "recipient in an earlier week of the history); default 50, the same as continuity",
    )
    fairness: float = Field(
        default=1.0, ge=0, le=MAX_WEIGHT, description="per minute of load above the mean"
    )
    volunteer_cost_per_hour: float = Field(default=0.0, ge=0, le=MAX_WEIGHT)
    staff_cost_per_hour: float = Field(default=20.0, ge=0, le=MAX_WEIGHT)
    lateness_per_min: float = Field(
        default=0.0, ge=0, le=MAX_WEIGHT, description="per minute a soft-window visit starts late"
    )
    max_lateness_per_min: float = Field(
        default=0.0, ge=0, le=MAX_WEIGHT, description="per minute of the plan's largest lateness"
    )
    attendance: float = Field(
        default=250.0,
        ge=0,
        le=MAX_WEIGHT,
        description="per seat in a group session, times the attendee's priority; default 250, "
        "a quarter of a visit of the same priority, so a home visit of a high-priority elder "
        "(priority 4: 4,000 points) outweighs a seat of anyone of priority up to 16",
    )
    stable_lead: float = Field(
        default=50.0,
        ge=0,
        le=MAX_WEIGHT,
        description="per session led by a volunteer who led the group service in an earlier "
        "week (lead_history), or led its other sessions this week",
    )
    walking_per_km: float = Field(
        default=10.0,
        ge=0,
        le=MAX_WEIGHT,
        description="per km attendees walk to sessions and back: nearer venues are preferred",
    )

    def continuity_points(self, preferred: bool, paired: bool) -> float:
        """Points for one volunteer on one visit: `continuity` if the recipient prefers them,
        `pairing` if they have a standing pairing, the larger if both, else nothing."""
        return max(
            self.continuity if preferred else 0.0,
            self.pairing if paired else 0.0,
        )


class Policy(InputModel):
    """The community's policy: how priorities are set and what the plan optimises."""

    priority: PriorityPolicy = Field(default_factory=PriorityPolicy)
    weights: PolicyWeights = Field(default_factory=PolicyWeights)
    language: Language = Field(
        default="en", description="language of explanations and messages: en, or zh (简体中文)"
    )
    walking: WalkingPolicy = Field(
        default_factory=WalkingPolicy,
        description="how far recipients walk to group sessions, by disability level",
    )
    high_priority_threshold: float = Field(
        default=4.0,
        ge=0,
        le=MAX_PRIORITY,
        description="recipients of at least this priority must not go without any visit two "
        "weeks running while a qualified volunteer has time (matcher.continuity)",
    )


class TravelMatrix(InputModel):
    """Explicit distances in metres between named places (row i, column j: from i to j), and
    optionally explicit travel minutes, which then replace every volunteer's speed."""

    places: list[str] = Field(min_length=1)
    distance_m: list[list[Annotated[float, Field(ge=0, le=MAX_DISTANCE_M)]]]
    travel_min: list[list[Annotated[float, Field(ge=0, le=MAX_TRAVEL_MIN)]]] | None = Field(
        default=None,
        description="minutes from place i to place j for everyone; without it, distance / speed",
    )


class WalkwayEdge(InputModel):
    """A walkway between two named places, usable both ways."""

    a: str
    b: str
    distance_m: float = Field(gt=0, le=MAX_DISTANCE_M)


class TravelSettings(InputModel):
    """How distances are measured: straight lines, an explicit matrix, or a walkway graph."""

    method: Literal["coordinates", "matrix", "graph"] = "coordinates"
    detour_factor: float = Field(
        default=1.3,
        ge=1.0,
        le=MAX_DETOUR_FACTOR,
        description="streets are longer than straight lines",
    )
    speeds_m_per_min: dict[TravelMode, Annotated[float, Field(gt=0, le=MAX_SPEED_M_PER_MIN)]] = (
        Field(
            default_factory=lambda: dict(DEFAULT_SPEEDS_M_PER_MIN)  # type: ignore[arg-type]
        )
    )
    matrix: TravelMatrix | None = None
    walkways: list[WalkwayEdge] = Field(default_factory=list)

    def speed_of(self, volunteer: Volunteer) -> float:
        """Metres per minute for this volunteer: their own speed, else their mode's."""
        if volunteer.speed_m_per_min is not None:
            return volunteer.speed_m_per_min
        return self.speeds_m_per_min.get(
            volunteer.travel_mode, DEFAULT_SPEEDS_M_PER_MIN[volunteer.travel_mode]
        )


class HistoricVisit(InputModel):
    """Who visited whom in an earlier week, for continuity of care."""

    recipient: str
    volunteer: str
    need: str | None = None
    week_start: dt.date | None = None
    visits: int = Field(default=1, ge=1, le=MAX_COUNT)


class VisitDependency(InputModel):
    """Two needs of one recipient whose visits go together, by different volunteers.

    On every day one of them is visited, so is the other, and the second starts between
    `min_gap_min` and `max_gap_min` minutes after the first (`simultaneous`: at the same minute).
    """

    first: str = Field(min_length=1, description="id of a need")
    second: str = Field(min_length=1, description="id of a need of the same recipient")
    kind: Literal["simultaneous", "sequential"]
    min_gap_min: int = Field(
        default=0, ge=0, le=MAX_WEEK_MIN, description="least minutes from first to second"
    )
    max_gap_min: int | None = Field(
        default=None,
        ge=0,
        le=MAX_WEEK_MIN,
        description="most minutes from first to second; none: no limit",
    )

    @property
    def gap_range(self) -> tuple[int, float]:
        """The least and most minutes from the first start to the second (inf: no limit)."""
        if self.kind == "simultaneous":
            return 0, 0
        return self.min_gap_min, math.inf if self.max_gap_min is None else self.max_gap_min


class PinnedVisit(InputModel):
    """A visit a coordinator fixed: it must appear in the plan exactly like this."""

    need: str
    day: DayOfWeek
    start: ClockTime
    volunteers: list[str] = Field(min_length=1)


class Problem(InputModel):
    """A community's week: services, recipients and their needs, volunteers, policy."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, json_schema_extra=published("problem")
    )

    name: str = ""
    week_start: dt.date = Field(description="the Monday (or first day) of the week planned")
    services: list[Service] = Field(default_factory=list)
    recipients: list[Recipient] = Field(default_factory=list)
    volunteers: list[Volunteer] = Field(default_factory=list)
    policy: Policy = Field(default_factory=Policy)
    history: list[HistoricVisit] = Field(default_factory=list)
    pinned: list[PinnedVisit] = Field(default_factory=list)
    travel: TravelSettings = Field(default_factory=TravelSettings)
    dependencies: list[VisitDependency] = Field(default_factory=list)
    venues: list[Venue] = Field(default_factory=list, description="where group sessions are held")
    group_services: list[GroupService] = Field(
        default_factory=list, description="classes, clinics, clubs and care groups"
    )
    lead_history: list[HistoricLead] = Field(
        default_factory=list, description="who led each group service in earlier weeks"
    )
    day_length_min: int = Field(
        default=MINUTES_PER_DAY,
        ge=60,
        le=MAX_DAY_LENGTH_MIN,
        description="minutes in a planning day; every time of the problem lies inside it",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _validate_all_at_once(cls, data: Any, handler: Any, info: ValidationInfo) -> Problem:
        """Input limits first (`matcher.models.limits`, before any other work), then field
        errors and cross-reference errors, reported together with their paths."""
        from matcher.models.validation import combined_error, cross_reference_issues

        check_limits(cls.__name__, data, info.context)
        try:
            problem: Problem = handler(data)
        except ValidationError as error:
            issues = cross_reference_issues(data) if isinstance(data, dict) else []
            raise combined_error(cls.__name__, error, issues) from None
        issues = cross_reference_issues(problem)
        if issues:
            raise combined_error(cls.__name__, None, issues)
        return problem

    # Lookups, computed once per problem.
    @cached_property
    def service_by_id(self) -> dict[str, Service]:
        return {service.id: service for service in self.services}

    @cached_property
    def recipient_by_id(self) -> dict[str, Recipient]:
        return {recipient.id: recipient for recipient in self.recipients}

    @cached_property
    def volunteer_by_id(self) -> dict[str, Volunteer]:
        return {volunteer.id: volunteer for volunteer in self.volunteers}

    @cached_property
    def need_by_id(self) -> dict[str, Need]:
        return {need.id: need for recipient in self.recipients for need in recipient.needs}

    @cached_property
    def recipient_of_need(self) -> dict[str, Recipient]:
        return {need.id: recipient for recipient in self.recipients for need in recipient.needs}

    @cached_property
    def venue_by_id(self) -> dict[str, Venue]:
        return {venue.id: venue for venue in self.venues}

    @cached_property
    def group_service_by_id(self) -> dict[str, GroupService]:
        return {service.id: service for service in self.group_services}

    @cached_property
    def wish_by_id(self) -> dict[str, AttendanceWish]:
        return {wish.id: wish for recipient in self.recipients for wish in recipient.attends}

    @cached_property
    def recipient_of_wish(self) -> dict[str, Recipient]:
        return {wish.id: recipient for recipient in self.recipients for wish in recipient.attends}

    @property
    def has_sessions(self) -> bool:
        """Whether the week has group services to plan."""
        return bool(self.group_services)

    def wish_priority(self, wish: AttendanceWish) -> float:
        """A wish's priority: its own override, else its recipient's under the policy."""
        if wish.priority is not None:
            return wish.priority
        return self.policy.priority.priority_of(self.recipient_of_wish[wish.id])

    def duration_of(self, need: Need) -> int:
        """Minutes on site for one visit of this need."""
        if need.duration_min is not None:
            return need.duration_min
        return self.service_by_id[need.service].duration_min

    def priority_of(self, need: Need) -> float:
        """The need's priority: its own override, else its recipient's under the policy."""
        if need.priority is not None:
            return need.priority
        return self.policy.priority.priority_of(self.recipient_of_need[need.id])

    def allowed_windows(self, need: Need) -> list[TimeWindow]:
        """When a visit of this need may take place: the need's windows while the recipient is
        at home (each list empty means no restriction from that side)."""
        known = self.allowed_windows_by_need.get(need.id)
        if known is None or known[0] is not need:
            recipient = self.recipient_of_need[need.id]
            windows = intersect_windows(need.windows, recipient.home_windows, self.day_length_min)
            known = self.allowed_windows_by_need[need.id] = (need, windows)
        return list(known[1])

    @cached_property
    def allowed_windows_by_need(self) -> dict[str, tuple[Need, list[TimeWindow]]]:
        """`allowed_windows` worked out once per need (keyed by id, with the need it was worked
        out for: a variant of the need under the same id is worked out afresh)."""
        return {}

    def date_of(self, day: Weekday) -> dt.date:
        """The calendar date of a weekday within the planned week."""
        offset = (WEEKDAYS.index(day) - self.week_start.weekday()) % 7
        return self.week_start + dt.timedelta(days=offset)

    def warnings(self) -> list[str]:
        """Legal but suspicious facts a coordinator should hear about."""
        from matcher.models.validation import problem_warnings

        return problem_warnings(self)

    # Variants: each a new Problem (`model_copy(update=...)`), this one left as it is. They are
    # not validated again: `Problem.model_validate(variant)` checks the cross-references.
    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Problem:
        """A copy (with `update` applied) whose lookups (`need_by_id` and the like) are worked
        out afresh: pydantic's copy would carry this problem's cached ones over."""
        copied = super().model_copy(update=update, deep=deep)
        for name, attribute in vars(Problem).items():
            if isinstance(attribute, cached_property):
                copied.__dict__.pop(name, None)
        return copied

    def without_sessions(self) -> Problem:
        """A copy with no venues, group services, attendance wishes or lead history: the home
        visits alone (for a solver that declines group sessions, such as `routing`)."""
        return self.variant(
            venues=[],
            group_services=[],
            lead_history=[],
            recipients=[
                recipient.model_copy(update={"attends": []}) if recipient.attends else recipient
                for recipient in self.recipients
            ],
        )

    def variant(self, **update: Any) -> Problem:
        """A copy with these fields replaced."""
        return self.model_copy(update=update)

    def with_volunteers(self, volunteers: list[Volunteer]) -> Problem:
        """A copy with these volunteers."""
        return self.variant(volunteers=list(volunteers))

    def with_recipients(self, recipients: list[Recipient]) -> Problem:
        """A copy with these recipients."""
        return self.variant(recipients=list(recipients))

    def replace_volunteer(self, volunteer: Volunteer) -> Problem:
        """A copy with the volunteer of the same id replaced by this one (KeyError if none)."""
        if volunteer.id not in self.volunteer_by_id:
            raise KeyError(volunteer.id)
        return self.with_volunteers(
            [volunteer if other.id == volunteer.id else other for other in self.volunteers]
        )

    def add_volunteer(self, volunteer: Volunteer) -> Problem:
        """A copy with one more volunteer, after the others."""
        return self.with_volunteers([*self.volunteers, volunteer])

    def replace_recipient(self, recipient: Recipient) -> Problem:
        """A copy with the recipient of the same id replaced by this one (KeyError if none)."""
        if recipient.id not in self.recipient_by_id:
            raise KeyError(recipient.id)
        return self.with_recipients(
            [recipient if other.id == recipient.id else other for other in self.recipients]
        )

    def replace_need(self, need: Need) -> Problem:
        """A copy with the need of the same id replaced by this one in its recipient (KeyError
        if none)."""
        recipient = self.recipient_of_need[need.id]
        needs = [need if other.id == need.id else other for other in recipient.needs]
        return self.replace_recipient(recipient.model_copy(update={"needs": needs}))

    def add_need(self, recipient_id: str, need: Need) -> Problem:
        """A copy with one more need of this recipient, after their others (KeyError if the
        recipient is unknown)."""
        recipient = self.recipient_by_id[recipient_id]
        return self.replace_recipient(
            recipient.model_copy(update={"needs": [*recipient.needs, need]})
        )


def whole_week(day_length_min: int = MINUTES_PER_DAY) -> list[TimeWindow]:
    """Every day, all day (a day of `day_length_min` minutes)."""
    return [TimeWindow(day=day, start=0, end=day_length_min) for day in WEEKDAYS]


def intersect_windows(
    first: list[TimeWindow], second: list[TimeWindow], day_length_min: int = MINUTES_PER_DAY
) -> list[TimeWindow]:
    """The times inside both lists of windows, as the windows a visit may lie inside (a visit
    lies inside one window of each list, so inside one of their intersections); an empty list
    stands for the whole week. A window inside another is left out: whatever fits inside it fits
    inside the other, which is kept. Sorted by day and start."""
    left = first or whole_week(day_length_min)
    right = second or whole_week(day_length_min)
    left_by_day, right_by_day = _spans_by_day(left), _spans_by_day(right)
    result: list[TimeWindow] = []
    for day in WEEKDAYS:
        if day in left_by_day and day in right_by_day:
            spans = _overlaps(left_by_day[day], right_by_day[day])
            result += [TimeWindow(day=day, start=start, end=end) for start, end in spans]
    return result


def _spans_by_day(windows: list[TimeWindow]) -> dict[str, list[tuple[int, int]]]:
    """Each day's windows as (start, end) minutes, none inside another (`_maximal`)."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for window in windows:
        spans[window.day].append((window.start, window.end))
    return {day: _maximal(day_spans) for day, day_spans in spans.items()}


def _maximal(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans not inside another, sorted by start; their starts and their ends both rise."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(set(spans), key=lambda span: (span[0], -span[1])):
        if not kept or end > kept[-1][1]:
            kept.append((start, end))
    return kept


def _overlaps(left: list[tuple[int, int]], right: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The maximal non-empty intersections of two `_maximal` span lists. In such a list the ends
    rise with the starts, so of the right spans meeting a left one, only three kinds can give a
    maximal intersection: the last one starting no later (it reaches furthest), those inside
    it (each is its own intersection), and the first one reaching past its end."""
    starts = [span[0] for span in right]
    found: list[tuple[int, int]] = []
    for start, end in left:
        index = bisect_right(starts, start)
        if index and right[index - 1][1] > start:
            found.append((start, min(end, right[index - 1][1])))
        while index < len(right) and right[index][1] < end:
            found.append(right[index])
            index += 1
        if index < len(right) and right[index][0] < end:
            found.append((right[index][0], end))
    return _maximal(found)


__all__ = [
    "DEFAULT_SPEEDS_M_PER_MIN",
    "AttendanceWish",
    "ClockTime",
    "Gender",
    "GroupService",
    "HistoricLead",
    "HistoricVisit",
    "Need",
    "PinnedVisit",
    "Policy",
    "PolicyWeights",
    "PriorityPolicy",
    "Problem",
    "Recipient",
    "RecipientKind",
    "Service",
    "TravelMatrix",
    "TravelMode",
    "TravelSettings",
    "Venue",
    "VisitDependency",
    "Volunteer",
    "VolunteerKind",
    "WalkingPolicy",
    "WalkwayEdge",
    "intersect_windows",
    "whole_week",
]
