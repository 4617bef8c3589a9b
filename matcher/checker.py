"""The independent plan checker: recomputes every hard rule of docs/rules.md from a plan's visits.

It is the judge in every solver test, so it shares no code with any solver: it reads only the
models and the travel model, trusts nothing the plan says about routes or metrics, and reports
every broken rule rather than the first. A visit that names an unknown need or volunteer is
reported as `unknown_reference` and left out of every other rule, so hand-made plans with typos
get a report instead of a crash.

A volunteer's day is read as outings: each day their availability windows, merged where they
overlap or touch, are outings, each a trip from the start place through its visits and back
home. The checker merges the windows itself (it does not use `matcher.rules.outings`).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from matcher.checker_sessions import SESSION_RULE_CODES, SessionChecker, SessionStop
from matcher.models import (
    WEEKDAYS,
    Metrics,
    Need,
    Plan,
    Problem,
    Recipient,
    Service,
    SessionMetrics,
    UnassignedVisit,
    Visit,
    Volunteer,
    VolunteerLoad,
    format_clock,
)
from matcher.travel import TravelModel

EPSILON = 1e-6
"""Minutes (and metres) of rounding allowed in every comparison."""

RULE_CODES: tuple[str, ...] = (
    "unknown_reference",
    "visit_mismatch",
    "skill",
    "verified",
    "background_check",
    "recipient_kind",
    "recipient_window",
    "volunteer_window",
    "volunteer_overlap",
    "recipient_overlap",
    "dependency",
    "travel_time",
    "team_size",
    "same_day",
    "min_gap",
    "max_visits_per_day",
    "capacity",
    "max_minutes_per_week",
    "trip_distance",
    "outing_distance",
    "excluded_volunteer",
    "pinned_missing",
    "mandatory_missing",
    *SESSION_RULE_CODES,
)
"""Every rule code of docs/rules.md, in the order the document lists them."""

DAY_NAMES: dict[str, str] = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


class Violation(BaseModel):
    """One broken rule, with a sentence a coordinator understands and what it concerns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    message: str
    need: str | None = None
    occurrence: int | None = None
    volunteer: str | None = None
    day: str | None = None


class CheckReport(BaseModel):
    """Everything the checker found: broken rules, notices, and metrics recomputed from visits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    violations: list[Violation]
    notices: list[str]
    metrics: Metrics
    sessions: SessionMetrics | None = None
    """Seats and sessions, when the problem has group services."""

    @property
    def ok(self) -> bool:
        """Whether the plan keeps every hard rule."""
        return not self.violations

    def summary(self) -> str:
        """A readable report: the verdict, the metrics, every violation and every notice."""
        metrics = self.metrics
        if self.ok:
            lines = ["Plan check: OK, every rule is kept."]
        else:
            counts: dict[str, int] = defaultdict(int)
            for violation in self.violations:
                counts[violation.rule] += 1
            by_rule = ", ".join(f"{rule} {count}" for rule, count in sorted(counts.items()))
            lines = [f"Plan check: {len(self.violations)} violation(s) ({by_rule})."]
        lines += [
            f"Visits planned: {metrics.visits_planned} of {metrics.visits_requested} "
            f"({metrics.coverage_pct:.1f}%), priority-weighted coverage "
            f"{metrics.weighted_coverage_pct:.1f}%",
            f"Travel: {metrics.travel_distance_m / 1000:.1f} km, {metrics.travel_min:.0f} min",
            f"Recipients visited: {metrics.recipients_visited}, "
            f"{metrics.distinct_volunteers_per_recipient:.2f} volunteers each on average; "
            f"continuity {metrics.continuity_pct:.1f}%",
            f"Volunteer load (min/median/max): {metrics.load_min_minutes:.0f}/"
            f"{metrics.load_median_minutes:.0f}/{metrics.load_max_minutes:.0f} min, "
            f"Gini {metrics.load_gini:.2f}; load vs offer Gini {metrics.load_vs_offer_gini:.2f}",
            f"Pairings: {metrics.pairings_kept} of {metrics.pairings_standing} kept "
            f"({metrics.pairings_kept_pct:.1f}%), {metrics.pairings_new} new, "
            f"{metrics.pairings_broken} broken",
        ]
        if self.sessions is not None:
            lines.append(
                f"Sessions: {self.sessions.sessions_held} held, seats "
                f"{self.sessions.seats_planned} of {self.sessions.seats_wished} "
                f"({self.sessions.seats_pct:.1f}%), {self.sessions.session_share_pct:.1f}% of "
                "volunteer time on site"
            )
        if self.violations:
            lines.append("Violations:")
            lines += [f"  [{item.rule}] {item.message}" for item in self.violations]
        if self.notices:
            lines.append("Notices:")
            lines += [f"  {notice}" for notice in self.notices]
        return "\n".join(lines)


def gini_coefficient(values: Sequence[float]) -> float:
    """The standard Gini coefficient: mean absolute difference over all ordered pairs divided by
    twice the mean (0 when every value is equal or all are zero, (n-1)/n when one has all)."""
    total = sum(values)
    if not values or total <= 0:
        return 0.0
    count = len(values)
    ordered = sorted(values)
    # Sum over ordered pairs of |x_i - x_j|, computed in O(n log n) from the sorted values:
    # the value at rank i (from 0) exceeds the i values below it.
    pair_differences = 2 * sum((2 * rank - count + 1) * value for rank, value in enumerate(ordered))
    return pair_differences / (2 * count * total)


def offered_minutes(volunteer: Volunteer) -> float:
    """Minutes a volunteer offers in the week (`Volunteer.offered_minutes`)."""
    return volunteer.offered_minutes()


@dataclass
class _CheckedVisit:
    """A visit whose need and volunteers all exist, with the objects its rules look at."""

    visit: Visit
    need: Need
    service: Service
    recipient: Recipient
    volunteers: list[Volunteer]
    """Distinct volunteers, in the order the visit lists them."""
    place: int
    label: str


@dataclass
class _WeekOfVolunteer:
    """Minutes a volunteer gives this week, added up day by day."""

    visits: int = 0
    visit_min: float = 0.0
    travel_min: float = 0.0
    distance_m: float = 0.0


@dataclass
class _DayStop:
    """A stop of a volunteer's day: a home visit, or a session or escort stop
    (`matcher.checker_sessions`), with what the day's rules read of it."""

    start: float
    end: float
    place: int
    label: str
    load: int
    order: tuple[float, float, str, int]
    visit: Visit | None = None
    extra_m: float = 0.0
    """Metres walked within the stop (an escort's walk with the attendee)."""

    @classmethod
    def of_visit(cls, item: _CheckedVisit) -> _DayStop:
        visit = item.visit
        return cls(
            visit.start,
            visit.end,
            item.place,
            item.label,
            item.need.load,
            (visit.start, visit.end, item.need.id, visit.occurrence),
            visit,
        )

    @classmethod
    def of_session(cls, stop: SessionStop) -> _DayStop:
        return cls(
            stop.start,
            stop.end,
            stop.place,
            stop.label,
            0,
            (stop.start, stop.end, "~" + stop.session, 0),
            None,
            stop.extra_m,
        )


def check_plan(problem: Problem, plan: Plan, travel: TravelModel | None = None) -> CheckReport:
    """Check a plan against every hard rule of docs/rules.md and recompute its metrics.

    `travel` may be passed to reuse matrices already computed for this problem.
    """
    return _Checker(problem, plan, travel if travel is not None else TravelModel(problem)).run()


def _person(name: str, identifier: str) -> str:
    """'Anna (anna)' when there is a name, else the id."""
    return f"{name} ({identifier})" if name else identifier


def _times(start: float, end: float) -> str:
    """'09:00-09:30'."""
    return f"{format_clock(start)}-{format_clock(end)}"


def _window_list(windows: Iterable[tuple[int, int]]) -> str:
    """'09:00-12:00, 14:00-17:00'."""
    return ", ".join(_times(start, end) for start, end in windows)


def _inside(start: float, end: float, window: tuple[int, int]) -> bool:
    """Whether [start, end] lies inside the window, allowing rounding."""
    return window[0] <= start + EPSILON and end <= window[1] + EPSILON


def _travel_text(minutes: float) -> str:
    """'10 min of travel', with a decimal when under a minute so it never reads '0 min'."""
    return f"{minutes:.1f} min of travel" if minutes < 1 else f"{minutes:.0f} min of travel"


def _merged(windows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Windows merged where they overlap or touch, in time order: a volunteer's outings of a
    day (an empty window is no outing)."""
    outings: list[tuple[int, int]] = []
    for start, end in sorted(window for window in windows if window[1] > window[0]):
        if outings and start <= outings[-1][1]:
            outings[-1] = (outings[-1][0], max(outings[-1][1], end))
        else:
            outings.append((start, end))
    return outings


def _outing_of(outings: Sequence[tuple[int, int]], start: float, end: float) -> int | None:
    """The index of the outing that holds [start, end], or None when none does."""
    return next(
        (index for index, outing in enumerate(outings) if _inside(start, end, outing)), None
    )


class _Checker:
    """One run of the checker over one plan; collects violations and notices as it goes."""

    def __init__(self, problem: Problem, plan: Plan, travel: TravelModel) -> None:
        self.problem = problem
        self.plan = plan
        self.travel = travel
        self.violations: list[Violation] = []
        self.notices: list[str] = []
        self.outings: dict[str, dict[str, list[tuple[int, int]]]] = {}
        """Each volunteer's outings by day: their availability windows merged."""
        for volunteer in problem.volunteers:
            by_day: dict[str, list[tuple[int, int]]] = defaultdict(list)
            for window in volunteer.availability:
                by_day[window.day].append((window.start, window.end))
            self.outings[volunteer.id] = defaultdict(
                list, {day: _merged(windows) for day, windows in by_day.items()}
            )
        self._allowed: dict[str, dict[str, list[tuple[int, int]]]] = {}
        self.linked_needs = {
            frozenset((dependency.first, dependency.second)) for dependency in problem.dependencies
        }
        self.weeks: dict[str, _WeekOfVolunteer] = defaultdict(_WeekOfVolunteer)
        self.session_stops: list[SessionStop] = []
        self.on_site_min: dict[str, float] = defaultdict(float)

    def report(
        self,
        rule: str,
        message: str,
        *,
        visit: Visit | None = None,
        volunteer: str | None = None,
        day: str | None = None,
    ) -> None:
        """Record a violation; the visit, if given, supplies need, occurrence and day."""
        self.violations.append(
            Violation(
                rule=rule,
                message=message,
                need=visit.need if visit is not None else None,
                occurrence=visit.occurrence if visit is not None else None,
                volunteer=volunteer,
                day=day if day is not None else (visit.day if visit is not None else None),
            )
        )

    def run(self) -> CheckReport:
        """Every rule in turn, then the metrics."""
        checked = self.resolve_references()
        sessions = self.check_sessions(checked)
        for item in checked:
            self.check_visit(item)
        self.check_needs(checked)
        self.check_recipient_days(checked)
        self.check_dependencies(checked)
        self.check_volunteer_days(checked)
        self.check_volunteer_weeks()
        self.check_pinned(checked)
        self.check_mandatory()
        return CheckReport(
            violations=self.violations,
            notices=self.notices,
            metrics=self.metrics(checked),
            sessions=None
            if sessions is None
            else sessions.metrics(visit_min=self.on_site_min["visit"]),
        )

    def check_sessions(self, checked: list[_CheckedVisit]) -> SessionChecker | None:
        """The rules of group sessions (`matcher.checker_sessions`); their volunteers' stops
        join the volunteers' days. None when the problem has no group service and the plan
        no session."""
        if not self.problem.group_services and not self.plan.sessions:
            return None
        spans: dict[tuple[str, str], list[tuple[float, float, str]]] = defaultdict(list)
        for item in checked:
            spans[(item.recipient.id, item.visit.day)].append(
                (item.visit.start, item.visit.end, item.label)
            )
        sessions = SessionChecker(self.problem, self.plan, self.travel, spans)
        sessions.run()
        for finding in sessions.findings:
            self.report(finding.rule, finding.message, volunteer=finding.volunteer, day=finding.day)
        self.session_stops = sessions.stops
        return sessions

    # --- unknown_reference ---------------------------------------------------------------

    def resolve_references(self) -> list[_CheckedVisit]:
        """Look up each visit's need and volunteers; report and drop visits naming unknown ones."""
        problem = self.problem
        checked: list[_CheckedVisit] = []
        for visit in self.plan.visits:
            raw_label = (
                f"Visit {visit.occurrence} of need '{visit.need}' on {DAY_NAMES[visit.day]} "
                f"{_times(visit.start, visit.end)}"
            )
            need = problem.need_by_id.get(visit.need)
            unknown_volunteers = [
                volunteer_id
                for volunteer_id in dict.fromkeys(visit.volunteers)
                if volunteer_id not in problem.volunteer_by_id
            ]
            if need is None:
                self.report(
                    "unknown_reference",
                    f"{raw_label} refers to need '{visit.need}', which is not in the problem.",
                    visit=visit,
                )
            for volunteer_id in unknown_volunteers:
                self.report(
                    "unknown_reference",
                    f"{raw_label} names volunteer '{volunteer_id}', who is not in the problem.",
                    visit=visit,
                    volunteer=volunteer_id,
                )
            if need is None or unknown_volunteers:
                continue
            service = problem.service_by_id[need.service]
            recipient = problem.recipient_of_need[need.id]
            volunteers = [
                problem.volunteer_by_id[volunteer_id]
                for volunteer_id in dict.fromkeys(visit.volunteers)
            ]
            label = (
                f"{service.name or service.id} for {_person(recipient.name, recipient.id)} on "
                f"{DAY_NAMES[visit.day]} {_times(visit.start, visit.end)} "
                f"[need '{need.id}', visit {visit.occurrence}]"
            )
            if visit.date is not None and visit.date != problem.date_of(visit.day):
                self.notices.append(
                    f"{label} is dated {visit.date}, but {DAY_NAMES[visit.day]} of the planned "
                    f"week is {problem.date_of(visit.day)}."
                )
            checked.append(
                _CheckedVisit(
                    visit=visit,
                    need=need,
                    service=service,
                    recipient=recipient,
                    volunteers=volunteers,
                    place=self.travel.recipient_place[recipient.id],
                    label=label,
                )
            )
        return checked

    # --- rules about one visit -----------------------------------------------------------

    def allowed_windows(self, need: Need) -> dict[str, list[tuple[int, int]]]:
        """The need's allowed windows by day, computed once per need."""
        if need.id not in self._allowed:
            by_day: dict[str, list[tuple[int, int]]] = defaultdict(list)
            for window in self.problem.allowed_windows(need):
                by_day[window.day].append((window.start, window.end))
            self._allowed[need.id] = by_day
        return self._allowed[need.id]

    def check_visit(self, item: _CheckedVisit) -> None:
        """Every rule that looks at a single visit."""
        visit, need, service, recipient = item.visit, item.need, item.service, item.recipient
        label, day_name = item.label, DAY_NAMES[visit.day]

        if visit.recipient != recipient.id:
            self.report(
                "visit_mismatch",
                f"{label}: the visit names recipient '{visit.recipient}', but the need belongs "
                f"to {_person(recipient.name, recipient.id)}.",
                visit=visit,
            )
        if visit.service != service.id:
            self.report(
                "visit_mismatch",
                f"{label}: the visit names service '{visit.service}', but the need is for "
                f"'{service.id}'.",
                visit=visit,
            )
        duration = self.problem.duration_of(need)
        if abs((visit.end - visit.start) - duration) > EPSILON:
            self.report(
                "visit_mismatch",
                f"{label}: the visit lasts {visit.end - visit.start} minutes, but this need "
                f"takes {duration}.",
                visit=visit,
            )
        if not 1 <= visit.occurrence <= need.visits_per_week:
            self.report(
                "visit_mismatch",
                f"{label}: occurrence {visit.occurrence} does not exist; the need asks for "
                f"{need.visits_per_week} visit(s) a week.",
                visit=visit,
            )

        if recipient.kind not in service.recipient_kinds:
            self.report(
                "recipient_kind",
                f"{label}: {service.name or service.id} serves "
                f"{' and '.join(service.recipient_kinds)} recipients, but "
                f"{_person(recipient.name, recipient.id)} is a {recipient.kind}.",
                visit=visit,
            )

        allowed = self.allowed_windows(need).get(visit.day, [])
        when = f"only {_window_list(allowed)}" if allowed else "at no time"
        if need.soft_window:
            self.check_soft_window(item, allowed, when)
        elif not any(_inside(visit.start, visit.end, window) for window in allowed):
            self.report(
                "recipient_window",
                f"{label}: the visit is outside the times it may take place; on {day_name} "
                f"that is {when}.",
                visit=visit,
            )

        if len(item.volunteers) != service.team_size:
            self.report(
                "team_size",
                f"{label}: {service.name or service.id} needs {service.team_size} different "
                f"volunteer(s), but the visit has {len(item.volunteers)}.",
                visit=visit,
            )

        for volunteer in item.volunteers:
            who = _person(volunteer.name, volunteer.id)
            missing_skills = [
                skill for skill in service.required_skills if skill not in volunteer.skills
            ]
            if missing_skills:
                self.report(
                    "skill",
                    f"{label}: {who} lacks the required skill(s) {', '.join(missing_skills)}.",
                    visit=visit,
                    volunteer=volunteer.id,
                )
            if service.requires_verified and not volunteer.verified:
                self.report(
                    "verified",
                    f"{label}: {who} is not verified, but {service.name or service.id} may only "
                    "be done by verified volunteers.",
                    visit=visit,
                    volunteer=volunteer.id,
                )
            if recipient.kind == "child" and not volunteer.background_checked:
                self.report(
                    "background_check",
                    f"{label}: {who} has no background check, but "
                    f"{_person(recipient.name, recipient.id)} is a child.",
                    visit=visit,
                    volunteer=volunteer.id,
                )
            outings = self.outings[volunteer.id][visit.day]
            if _outing_of(outings, visit.start, visit.end) is None:
                when = (
                    f"out only {_window_list(outings)} (a visit lies inside one outing)"
                    if outings
                    else "not available at all"
                )
                self.report(
                    "volunteer_window",
                    f"{label}: {who} is {when} on {day_name}.",
                    visit=visit,
                    volunteer=volunteer.id,
                )
            if volunteer.id in recipient.excluded_volunteers:
                self.report(
                    "excluded_volunteer",
                    f"{label}: {_person(recipient.name, recipient.id)} has asked not to be "
                    f"visited by {who}.",
                    visit=visit,
                    volunteer=volunteer.id,
                )

    def lateness(self, item: _CheckedVisit) -> float | None:
        """Minutes the visit starts after the latest on-time start of the allowed window that
        has opened by then and makes it least late; None when no window has opened yet."""
        duration = self.problem.duration_of(item.need)
        start = item.visit.start
        late_by = [
            max(0.0, start - (window_end - duration))
            for window_start, window_end in self.allowed_windows(item.need).get(item.visit.day, [])
            if window_start <= start + EPSILON
        ]
        return min(late_by, default=None)

    def check_soft_window(
        self, item: _CheckedVisit, allowed: list[tuple[int, int]], when: str
    ) -> None:
        """A soft window: the visit starts once a window has opened, at most the allowed minutes
        late; it may run past the window's end."""
        visit, need = item.visit, item.need
        late_by = self.lateness(item)
        day_name = DAY_NAMES[visit.day]
        if late_by is None:
            self.report(
                "recipient_window",
                f"{item.label}: the visit starts before any of its windows opens; on {day_name} "
                f"it may start {when}, or later at a cost.",
                visit=visit,
            )
        elif need.max_lateness_min is not None and late_by > need.max_lateness_min + EPSILON:
            self.report(
                "recipient_window",
                f"{item.label}: the visit starts {late_by:.0f} min late; on {day_name} its "
                f"window is {when}, and it may be at most {need.max_lateness_min} min late.",
                visit=visit,
            )

    # --- rules about the visits of one need ----------------------------------------------

    def check_needs(self, checked: list[_CheckedVisit]) -> None:
        """Duplicate occurrences, two visits on one day, and visits too close together."""
        by_need: dict[str, list[_CheckedVisit]] = defaultdict(list)
        for item in checked:
            by_need[item.need.id].append(item)
        for visits in by_need.values():
            seen_occurrences: set[int] = set()
            for item in visits:
                if item.visit.occurrence in seen_occurrences:
                    self.report(
                        "visit_mismatch",
                        f"{item.label}: another visit of this need has the same occurrence "
                        f"number {item.visit.occurrence}.",
                        visit=item.visit,
                    )
                seen_occurrences.add(item.visit.occurrence)
            # Consecutive visits in day order are the closest pairs: if any two visits are too
            # close, two consecutive ones are, so checking neighbours finds every broken need.
            in_day_order = sorted(
                visits, key=lambda item: (WEEKDAYS.index(item.visit.day), item.visit.start)
            )
            for earlier, later in itertools.pairwise(in_day_order):
                gap_days = WEEKDAYS.index(later.visit.day) - WEEKDAYS.index(earlier.visit.day)
                need = later.need
                if gap_days == 0:
                    self.report(
                        "same_day",
                        f"Need '{need.id}', {later.service.name or later.service.id} for "
                        f"{_person(later.recipient.name, later.recipient.id)}, has two visits on "
                        f"{DAY_NAMES[later.visit.day]}: visit {earlier.visit.occurrence} and "
                        f"visit {later.visit.occurrence}.",
                        visit=later.visit,
                    )
                elif gap_days < need.min_gap_days:
                    self.report(
                        "min_gap",
                        f"Need '{need.id}', {later.service.name or later.service.id} for "
                        f"{_person(later.recipient.name, later.recipient.id)}: visit "
                        f"{earlier.visit.occurrence} on {DAY_NAMES[earlier.visit.day]} and "
                        f"visit {later.visit.occurrence} on {DAY_NAMES[later.visit.day]} are "
                        f"{gap_days} day(s) apart; the need asks for at least "
                        f"{need.min_gap_days}.",
                        visit=later.visit,
                    )

    # --- overlaps ------------------------------------------------------------------------

    @staticmethod
    def overlapping_pairs(
        visits: list[_CheckedVisit],
    ) -> list[tuple[_CheckedVisit, _CheckedVisit]]:
        """Every pair of visits whose times overlap (touching is fine), by a sweep over start
        times: each visit overlaps exactly the earlier-starting ones still running."""
        ordered = sorted(visits, key=lambda item: (item.visit.start, item.visit.end))
        pairs: list[tuple[_CheckedVisit, _CheckedVisit]] = []
        running: list[_CheckedVisit] = []
        for item in ordered:
            running = [other for other in running if other.visit.end > item.visit.start + EPSILON]
            pairs += [(other, item) for other in running]
            running.append(item)
        return pairs

    def check_recipient_days(self, checked: list[_CheckedVisit]) -> None:
        """A recipient's visits on one day do not overlap."""
        by_recipient_day: dict[tuple[str, str], list[_CheckedVisit]] = defaultdict(list)
        for item in checked:
            by_recipient_day[(item.recipient.id, item.visit.day)].append(item)
        for (_, day), visits in by_recipient_day.items():
            for first, second in self.overlapping_pairs(visits):
                if frozenset((first.need.id, second.need.id)) in self.linked_needs:
                    continue
                self.report(
                    "recipient_overlap",
                    f"{_person(second.recipient.name, second.recipient.id)} has two visits at "
                    f"once on {DAY_NAMES[day]}: {first.label} and {second.label}.",
                    visit=second.visit,
                )

    def check_dependencies(self, checked: list[_CheckedVisit]) -> None:
        """Linked needs are visited on the same days, at the right gap, by different people."""
        by_need_day: dict[tuple[str, str], list[_CheckedVisit]] = defaultdict(list)
        for item in checked:
            by_need_day[(item.need.id, item.visit.day)].append(item)
        for dependency in self.problem.dependencies:
            first_need = self.problem.need_by_id[dependency.first]
            second_need = self.problem.need_by_id[dependency.second]
            low, high = dependency.gap_range
            if dependency.kind == "simultaneous":
                wanted = "at the same time as"
            elif math.isfinite(high):
                wanted = f"{low} to {high:.0f} minutes after"
            else:
                wanted = f"at least {low} minutes after"
            for day in WEEKDAYS:
                firsts = by_need_day.get((first_need.id, day), [])
                seconds = by_need_day.get((second_need.id, day), [])
                for present, missing, other in (
                    (firsts, seconds, second_need),
                    (seconds, firsts, first_need),
                ):
                    if missing:
                        continue
                    for item in present:
                        self.report(
                            "dependency",
                            f"{item.label} goes together with need '{other.id}', but that "
                            f"need has no visit on {DAY_NAMES[day]}.",
                            visit=item.visit,
                        )
                for first, second in itertools.product(firsts, seconds):
                    gap = second.visit.start - first.visit.start
                    if not low - EPSILON <= gap <= high + EPSILON:
                        actual = f"{gap} minutes after" if gap >= 0 else f"{-gap} minutes before"
                        self.report(
                            "dependency",
                            f"{second.label} must start {wanted} {first.label}, but starts "
                            f"{actual} it.",
                            visit=second.visit,
                        )
                    shared = sorted(set(first.visit.volunteers) & set(second.visit.volunteers))
                    for volunteer_id in shared:
                        volunteer = self.problem.volunteer_by_id[volunteer_id]
                        self.report(
                            "dependency",
                            f"{_person(volunteer.name, volunteer.id)} is on both {first.label} "
                            f"and {second.label}, which need different volunteers.",
                            visit=second.visit,
                            volunteer=volunteer_id,
                        )

    # --- a volunteer's day and week ------------------------------------------------------

    def check_volunteer_days(self, checked: list[_CheckedVisit]) -> None:
        """Overlaps, travel time, trip distance and visits a day, per volunteer and day, over
        their home visits and their session and escort stops together."""
        by_volunteer_day: dict[tuple[str, str], list[_DayStop]] = defaultdict(list)
        for item in checked:
            for volunteer in item.volunteers:
                by_volunteer_day[(volunteer.id, item.visit.day)].append(_DayStop.of_visit(item))
        for stop in self.session_stops:
            by_volunteer_day[(stop.volunteer, stop.day)].append(_DayStop.of_session(stop))
        for (volunteer_id, day), stops in by_volunteer_day.items():
            self.check_volunteer_day(self.problem.volunteer_by_id[volunteer_id], day, stops)

    def check_volunteer_day(self, volunteer: Volunteer, day: str, stops: list[_DayStop]) -> None:
        """One volunteer's day: overlaps, visits and load a day, then each outing's trip."""
        who, day_name = _person(volunteer.name, volunteer.id), DAY_NAMES[day]
        ordered = sorted(stops, key=lambda item: item.order)
        outings = self.outings[volunteer.id][day]

        for first, second in self.overlapping_stops(ordered):
            self.report(
                "volunteer_overlap",
                f"{who} has two visits at once on {day_name}: {first.label} and {second.label}.",
                visit=second.visit,
                volunteer=volunteer.id,
                day=day,
            )
        for item in ordered:
            if item.visit is None and _outing_of(outings, item.start, item.end) is None:
                when = f"out only {_window_list(outings)}" if outings else "not available at all"
                self.report(
                    "volunteer_window",
                    f"{item.label}: {who} is {when} on {day_name}.",
                    volunteer=volunteer.id,
                    day=day,
                )

        if volunteer.max_visits_per_day is not None and len(ordered) > volunteer.max_visits_per_day:
            self.report(
                "max_visits_per_day",
                f"{who} has {len(ordered)} visits on {day_name}, more than the "
                f"{volunteer.max_visits_per_day} allowed a day.",
                volunteer=volunteer.id,
                day=day,
            )

        carried = sum(item.load for item in ordered)
        if volunteer.capacity is not None and carried > volunteer.capacity:
            self.report(
                "capacity",
                f"{who} would carry {carried} on {day_name} (the loads of their visits), more "
                f"than their capacity of {volunteer.capacity}.",
                volunteer=volunteer.id,
                day=day,
            )

        week = self.weeks[volunteer.id]
        week.visits += len(ordered)
        week.visit_min += sum(max(0.0, item.end - item.start) for item in ordered)
        self.on_site_min["visit"] += sum(
            max(0.0, item.end - item.start) for item in ordered if item.visit is not None
        )

        # Each outing of the day is one trip; a stop outside every outing (a volunteer_window
        # violation) is counted as a trip of its own, so its travel is not lost from the totals.
        in_outing: dict[int, list[_DayStop]] = defaultdict(list)
        for item in ordered:
            index = _outing_of(outings, item.start, item.end)
            if index is None:
                self.check_trip(volunteer, day, None, [item])
            else:
                in_outing[index].append(item)
        for index, outing_stops in sorted(in_outing.items()):
            self.check_trip(volunteer, day, outings[index], outing_stops)

    @staticmethod
    def overlapping_stops(stops: list[_DayStop]) -> list[tuple[_DayStop, _DayStop]]:
        """Every pair of a volunteer-day's stops whose times overlap (touching is fine)."""
        ordered = sorted(stops, key=lambda item: (item.start, item.end))
        pairs: list[tuple[_DayStop, _DayStop]] = []
        running: list[_DayStop] = []
        for item in ordered:
            running = [other for other in running if other.end > item.start + EPSILON]
            pairs += [(other, item) for other in running]
            running.append(item)
        return pairs

    def check_trip(
        self,
        volunteer: Volunteer,
        day: str,
        outing: tuple[int, int] | None,
        ordered: list[_DayStop],
    ) -> None:
        """One trip, stops in start order: from the start place, between stops, back home.

        Every leg counts toward the week and is bounded by `max_trip_distance_m`; in an outing
        the trip leaves at or after it opens, has time for each leg, is home by its close, and
        its legs (with any escorted walk) together are at most `max_outing_distance_m`.
        """
        travel, who, day_name = self.travel, _person(volunteer.name, volunteer.id), DAY_NAMES[day]
        start_place, home_place = travel.start_place[volunteer.id], travel.home_place[volunteer.id]
        stops = [start_place, *(item.place for item in ordered), home_place]
        names = [
            "home" if volunteer.start_location is None else "their start location",
            *(item.label for item in ordered),
            "home",
        ]
        week = self.weeks[volunteer.id]
        leg_minutes: list[float] = []
        leg_metres: list[float] = []
        for index in range(len(stops) - 1):
            distance = travel.distance(stops[index], stops[index + 1])
            leg_metres.append(distance)
            leg_minutes.append(travel.travel_min(volunteer, stops[index], stops[index + 1]))
            week.distance_m += distance
            week.travel_min += leg_minutes[-1]
            limit = volunteer.max_trip_distance_m
            if limit is not None and distance > limit + EPSILON:
                concerned = ordered[min(index, len(ordered) - 1)]
                trip = (
                    f"travels {distance:.0f} m"
                    if math.isfinite(distance)
                    else "has no way to travel"
                )
                self.report(
                    "trip_distance",
                    f"{who} {trip} on {day_name} from {names[index]} to {names[index + 1]}; "
                    f"one trip may be at most {limit:.0f} m.",
                    visit=concerned.visit,
                    volunteer=volunteer.id,
                    day=day,
                )
        if outing is None:
            return

        opens, closes = outing
        outing_name = f"their outing of {day_name} {_times(opens, closes)}"
        first, last = ordered[0], ordered[-1]
        leave_at = first.start - leg_minutes[0]
        if leave_at < opens - EPSILON:
            self.report(
                "travel_time",
                f"{who} has no way to get from {names[0]} to {first.label}."
                if not math.isfinite(leave_at)
                else f"{who} would have to leave {names[0]} by "
                f"{format_clock(math.floor(leave_at))} ({_travel_text(leg_minutes[0])}) to "
                f"reach {first.label}, before "
                f"{outing_name} opens at {format_clock(opens)}.",
                visit=first.visit,
                volunteer=volunteer.id,
                day=day,
            )
        for index, (earlier, later) in enumerate(itertools.pairwise(ordered)):
            if later.start < earlier.end - EPSILON:
                continue  # an overlap, reported as volunteer_overlap
            needed = leg_minutes[index + 1]
            if later.start + EPSILON < earlier.end + needed:
                self.report(
                    "travel_time",
                    f"{who} has no way to get from {earlier.label} to {later.label}."
                    if not math.isfinite(needed)
                    else f"{who} cannot get from {earlier.label} to {later.label}: the trip "
                    f"takes {needed:.0f} min, but there are only "
                    f"{later.start - earlier.end:g} min between them.",
                    visit=later.visit,
                    volunteer=volunteer.id,
                    day=day,
                )
        home_at = last.end + leg_minutes[-1]
        if home_at > closes + EPSILON:
            self.report(
                "travel_time",
                f"{who} has no way to get home from {last.label}."
                if not math.isfinite(home_at)
                else f"{who} gets home at {format_clock(math.ceil(home_at))} "
                f"({_travel_text(leg_minutes[-1])}) after {last.label}, but {outing_name} ends at "
                f"{format_clock(closes)}: they are home by the end of each outing.",
                visit=last.visit,
                volunteer=volunteer.id,
                day=day,
            )
        outing_limit = volunteer.max_outing_distance_m
        escorted = sum(item.extra_m for item in ordered)
        week.distance_m += escorted
        walked = sum(leg_metres) + escorted
        if outing_limit is not None and walked > outing_limit + EPSILON:
            how_far = (
                f"travels {walked:.0f} m in {outing_name}"
                if math.isfinite(walked)
                else f"has no way to make {outing_name}"
            )
            self.report(
                "outing_distance",
                f"{who} {how_far} (from {names[0]} through {len(ordered)} visit(s) and back "
                f"home); one outing may be at most {outing_limit:.0f} m.",
                visit=last.visit,
                volunteer=volunteer.id,
                day=day,
            )

    def check_volunteer_weeks(self) -> None:
        """Each volunteer's visit minutes plus travel fit their weekly limit."""
        for volunteer_id, week in self.weeks.items():
            volunteer = self.problem.volunteer_by_id[volunteer_id]
            limit = volunteer.max_minutes_per_week
            total = week.visit_min + week.travel_min
            if limit is not None and total > limit + EPSILON:
                self.report(
                    "max_minutes_per_week",
                    f"{_person(volunteer.name, volunteer.id)} is planned for {total:.0f} minutes "
                    f"this week ({week.visit_min:.0f} visiting, {week.travel_min:.0f} "
                    f"travelling), more than the {limit} allowed.",
                    volunteer=volunteer_id,
                )

    # --- pinned and mandatory visits -----------------------------------------------------

    def check_pinned(self, checked: list[_CheckedVisit]) -> None:
        """Every pinned visit appears with the same need, day, start and set of volunteers."""
        present = {
            (item.need.id, item.visit.day, item.visit.start, frozenset(item.visit.volunteers))
            for item in checked
        }
        for pinned in self.problem.pinned:
            key = (pinned.need, pinned.day, pinned.start, frozenset(pinned.volunteers))
            if key not in present:
                self.violations.append(
                    Violation(
                        rule="pinned_missing",
                        message=f"The pinned visit of need '{pinned.need}' on "
                        f"{DAY_NAMES[pinned.day]} at {format_clock(pinned.start)} with "
                        f"{', '.join(pinned.volunteers)} is not in the plan.",
                        need=pinned.need,
                        day=pinned.day,
                    )
                )

    def check_mandatory(self) -> None:
        """Planned visits plus unassigned entries of each mandatory need reach its visits a week.

        Occurrence numbers are interchangeable, so the check counts; unplanned occurrences the
        plan lists as unassigned become notices, the rest violations.
        """
        planned: dict[str, list[int]] = defaultdict(list)
        for visit in self.plan.visits:
            planned[visit.need].append(visit.occurrence)
        listed: dict[str, dict[int, UnassignedVisit]] = defaultdict(dict)
        for entry in self.plan.unassigned:
            if entry.need not in self.problem.need_by_id:
                self.notices.append(
                    f"The plan lists visit {entry.occurrence} of need '{entry.need}' as "
                    "unassigned, but the problem has no such need."
                )
                continue
            listed[entry.need].setdefault(entry.occurrence, entry)

        for recipient in self.problem.recipients:
            for need in recipient.needs:
                if not need.mandatory:
                    continue
                planned_count = min(len(planned[need.id]), need.visits_per_week)
                missing = need.visits_per_week - planned_count
                if missing <= 0:
                    continue
                service = self.problem.service_by_id[need.service]
                what = (
                    f"mandatory need '{need.id}', {service.name or service.id} for "
                    f"{_person(recipient.name, recipient.id)},"
                )
                entries = sorted(listed[need.id].values(), key=lambda entry: entry.occurrence)
                for entry in entries[:missing]:
                    self.notices.append(
                        f"Visit {entry.occurrence} of {what} is not planned ({entry.reason}): "
                        f"{entry.message}"
                    )
                shortfall = missing - len(entries)
                if shortfall <= 0:
                    continue
                # Name occurrences the plan neither lists nor plans first.
                candidates = sorted(
                    (
                        occurrence
                        for occurrence in range(1, need.visits_per_week + 1)
                        if occurrence not in listed[need.id]
                    ),
                    key=lambda occurrence: (occurrence in planned[need.id], occurrence),
                )
                for occurrence in candidates[:shortfall]:
                    self.violations.append(
                        Violation(
                            rule="mandatory_missing",
                            message=f"Visit {occurrence} of {what} is neither planned nor "
                            "listed as unassigned with a reason.",
                            need=need.id,
                            occurrence=occurrence,
                        )
                    )

    # --- metrics -------------------------------------------------------------------------

    def metrics(self, checked: list[_CheckedVisit]) -> Metrics:
        """Coverage, travel, lateness, continuity, pairings and load, recomputed from the visits
        alone."""
        problem = self.problem
        visits_of_need: dict[str, int] = defaultdict(int)
        volunteers_of_recipient: dict[str, set[str]] = defaultdict(set)
        continuous_visits = 0
        known_need_visits = 0
        historic = {(entry.recipient, entry.volunteer) for entry in problem.history}
        pairs_visiting: set[tuple[str, str]] = set()
        for visit in self.plan.visits:
            need = problem.need_by_id.get(visit.need)
            if need is None:
                continue
            recipient = problem.recipient_of_need[need.id]
            known_need_visits += 1
            visits_of_need[need.id] += 1
            volunteers_of_recipient[recipient.id].update(visit.volunteers)
            pairs_visiting.update((recipient.id, volunteer) for volunteer in visit.volunteers)
            if any(
                volunteer in recipient.preferred_volunteers or (recipient.id, volunteer) in historic
                for volunteer in visit.volunteers
            ):
                continuous_visits += 1

        visits_requested = visits_planned = 0
        weighted_requested = weighted_planned = 0.0
        for need in problem.need_by_id.values():
            planned = min(visits_of_need[need.id], need.visits_per_week)
            priority = problem.priority_of(need)
            visits_requested += need.visits_per_week
            visits_planned += planned
            weighted_requested += need.visits_per_week * priority
            weighted_planned += planned * priority

        loads = [
            VolunteerLoad(
                volunteer=volunteer.id,
                visits=self.weeks[volunteer.id].visits,
                visit_min=self.weeks[volunteer.id].visit_min,
                travel_min=self.weeks[volunteer.id].travel_min,
                total_min=self.weeks[volunteer.id].visit_min + self.weeks[volunteer.id].travel_min,
                offered_min=offered_minutes(volunteer),
            )
            for volunteer in problem.volunteers
            if volunteer.availability
        ]
        totals = [load.total_min for load in loads]
        shares_of_offer = [load.total_min / load.offered_min for load in loads if load.offered_min]
        # A standing pairing: a recipient of this week and a volunteer who visited them before.
        standing = {pair for pair in historic if pair[0] in problem.recipient_by_id}
        kept_pairs = len(standing & pairs_visiting)
        late_by = [self.lateness(item) or 0.0 for item in checked]

        def percent(part: float, whole: float, when_empty: float = 100.0) -> float:
            return 100.0 * part / whole if whole > 0 else when_empty

        return Metrics(
            visits_requested=visits_requested,
            visits_planned=visits_planned,
            coverage_pct=percent(visits_planned, visits_requested),
            weighted_requested=weighted_requested,
            weighted_planned=weighted_planned,
            weighted_coverage_pct=percent(weighted_planned, weighted_requested),
            travel_distance_m=sum(week.distance_m for week in self.weeks.values()),
            travel_min=sum(week.travel_min for week in self.weeks.values()),
            total_lateness_min=sum(late_by),
            max_lateness_min=max(late_by, default=0.0),
            recipients_visited=len(volunteers_of_recipient),
            distinct_volunteers_per_recipient=(
                statistics.fmean(len(people) for people in volunteers_of_recipient.values())
                if volunteers_of_recipient
                else 0.0
            ),
            # No visit at all: full continuity only if nothing was asked for either.
            continuity_pct=percent(
                continuous_visits, known_need_visits, 100.0 if visits_requested == 0 else 0.0
            ),
            load_min_minutes=min(totals, default=0.0),
            load_median_minutes=statistics.median(totals) if totals else 0.0,
            load_max_minutes=max(totals, default=0.0),
            load_gini=gini_coefficient(totals),
            load_vs_offer_gini=gini_coefficient(shares_of_offer),
            pairings_standing=len(standing),
            pairings_kept=kept_pairs,
            pairings_kept_pct=percent(kept_pairs, len(standing)),
            pairings_new=len(pairs_visiting - historic),
            pairings_broken=len(standing) - kept_pairs,
            loads=loads,
        )
