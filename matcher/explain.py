"""Explanations that lead to action.

- `explain_unassigned`: for every unplanned visit, each volunteer and the first rule that rules
  them out, computed from the problem and the plan (not guessed), with an overall reason code
  that uses the solvers' vocabulary;
- `what_if`: which single change (one more volunteer, a wider window, a higher weekly cap, a
  bike instead of walking) would plan the most high-priority visits now left out, found by
  re-solving with `matcher.api.solve`;
- `score_plan`: a coordinator's own plan checked and scored beside the optimizer's.

Sentences come from the catalogue (`matcher.messages`) in the policy's language.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from matcher.api import solve
from matcher.checker import CheckReport, check_plan
from matcher.messages import (
    CATALOGUE,
    LANGUAGES,
    Language,
    checked_language,
    day_name,
    join,
    message,
)
from matcher.models import WEEKDAYS, Plan, Problem, ReasonCode, Volunteer, format_clock
from matcher.models.common import ClockTime, DayOfWeek, StrictModel
from matcher.models.problem import TravelMode
from matcher.solvers.candidates import (
    Intervals,
    NeedFacts,
    availability_by_day,
    intersect,
    need_facts,
    normalise,
    reachable_start_set,
    start_set,
)
from matcher.solvers.objective import objective_breakdown
from matcher.travel import TravelModel

EPSILON = 1e-6
"""Minutes (and metres) of rounding allowed, as in the checker."""

CandidateRule = Literal[
    "lacks_skill",
    "not_verified",
    "no_background_check",
    "excluded",
    "load_too_heavy",
    "not_available",
    "window_too_short",
    "too_far",
    "weekly_minutes",
    "visits_per_day",
    "capacity_used",
    "time_taken",
    "would_fit",
]
"""Why one volunteer cannot make a visit, in the order the rules are checked: a missing skill,
verification, background check, excluded by the recipient, a load they cannot carry; no
availability on the days the visit may take place, availability too short; too far (single trip
or travel there and back); then, against the plan: weekly minutes used up, visits a day used up,
daily carrying capacity used up, free time taken by other visits; and last: the visit would fit
as the plan stands."""

RULE_ORDER: tuple[CandidateRule, ...] = get_args(CandidateRule)
QUALIFICATION_RULES: frozenset[str] = frozenset(RULE_ORDER[:5])
WINDOW_RULES: frozenset[str] = frozenset({"not_available", "window_too_short"})
REACH_RULES: frozenset[str] = frozenset({"too_far"})

DEFAULT_WHAT_IF_LIMIT = 12
"""Candidate changes re-solved by `what_if` unless told otherwise."""
WIDEN_MINUTES = 60
CAP_RAISE_MINUTES = 60
HELPER_MARGIN_MIN = 15
"""An added volunteer is free this many minutes before and after the visits' windows, to walk."""


class VisitRef(StrictModel):
    """A planned visit, named: its need and occurrence, day and times."""

    need: str
    occurrence: int
    day: DayOfWeek
    start: ClockTime
    end: ClockTime

    def label(self, language: str = "en") -> str:
        """'meal #2 (Monday 11:00-11:15)' in the language given."""
        return message(
            "explain.visit",
            language,
            need=self.need,
            occurrence=self.occurrence,
            day=day_name(self.day, language),
            start=format_clock(self.start),
            end=format_clock(self.end),
        )


class CandidateVerdict(StrictModel):
    """One volunteer and the first rule that rules them out of a visit (or `would_fit`)."""

    volunteer: str
    rule: CandidateRule
    detail: str = Field(description="the rule's sentence with its details, in the language")
    detail_code: str = Field(description="the catalogue code of the sentence")
    missing_skills: list[str] = Field(default_factory=list)
    visits: list[VisitRef] = Field(
        default_factory=list,
        description="the visits that use up their day or time (time_taken, visits_per_day, "
        "capacity_used), or that the solver gave them instead (would_fit)",
    )
    day: DayOfWeek | None = Field(default=None, description="would_fit: a day it fits")
    start: ClockTime | None = Field(default=None, description="would_fit: a start that fits")


class Explanation(StrictModel):
    """Why one occurrence of a need is not planned: a reason code, a sentence, and every
    volunteer's verdict."""

    need: str
    recipient: str
    service: str
    occurrence: int
    priority: float
    reason: ReasonCode
    message: str
    plan_reason: ReasonCode | None = Field(
        default=None, description="the reason the plan itself gives, when it lists one"
    )
    candidates: list[CandidateVerdict] = Field(default_factory=list)


@dataclass(frozen=True)
class _PlannedVisit:
    """A visit of the plan with the facts the analysis needs."""

    ref: VisitRef
    recipient: str
    place: int
    load: int


class _PlanState:
    """The plan seen per volunteer and day, per recipient and day, and per need."""

    def __init__(self, problem: Problem, plan: Plan, travel: TravelModel) -> None:
        self.by_volunteer_day: dict[tuple[str, int], list[_PlannedVisit]] = defaultdict(list)
        self.by_recipient_day: dict[tuple[str, int], list[_PlannedVisit]] = defaultdict(list)
        self.by_volunteer: dict[str, list[_PlannedVisit]] = defaultdict(list)
        self.need_days: dict[str, list[int]] = defaultdict(list)
        self.need_occurrences: dict[str, set[int]] = defaultdict(set)
        for visit in plan.visits:
            need = problem.need_by_id.get(visit.need)
            if need is None or any(v not in problem.volunteer_by_id for v in visit.volunteers):
                continue
            recipient = problem.recipient_of_need[need.id]
            item = _PlannedVisit(
                ref=VisitRef(
                    need=visit.need,
                    occurrence=visit.occurrence,
                    day=visit.day,
                    start=visit.start,
                    end=visit.end,
                ),
                recipient=recipient.id,
                place=travel.recipient_place[recipient.id],
                load=need.load,
            )
            day = WEEKDAYS.index(visit.day)
            for volunteer_id in visit.volunteers:
                self.by_volunteer_day[(volunteer_id, day)].append(item)
                self.by_volunteer[volunteer_id].append(item)
            self.by_recipient_day[(recipient.id, day)].append(item)
            self.need_days[need.id].append(day)
            self.need_occurrences[need.id].add(visit.occurrence)
        for visits in (*self.by_volunteer_day.values(), *self.by_volunteer.values()):
            visits.sort(key=lambda item: (WEEKDAYS.index(item.ref.day), item.ref.start))
        self.minutes_used: dict[str, float] = defaultdict(float)
        for (volunteer_id, _), visits in self.by_volunteer_day.items():
            place = travel.start_place[volunteer_id]
            total = 0.0
            for item in visits:
                total += travel.travel_min(volunteer_id, place, item.place)
                total += item.ref.end - item.ref.start
                place = item.place
            total += travel.travel_min(volunteer_id, place, travel.home_place[volunteer_id])
            self.minutes_used[volunteer_id] += total


def _subtract_busy(starts: Intervals, busy: Iterable[tuple[int, int]], duration: int) -> Intervals:
    """Starts left once those whose visit would overlap a busy interval are removed."""
    result = list(starts)
    for busy_start, busy_end in busy:
        blocked_low, blocked_high = busy_start - duration + 1, busy_end - 1
        kept: Intervals = []
        for low, high in result:
            if blocked_high < low or blocked_low > high:
                kept.append((low, high))
                continue
            if low < blocked_low:
                kept.append((low, blocked_low - 1))
            if blocked_high < high:
                kept.append((blocked_high + 1, high))
        result = kept
    return normalise(result)


@dataclass(frozen=True)
class _Judged:
    """A verdict with the days the volunteer passed the window and the reach rules on."""

    verdict: CandidateVerdict
    shared_days: tuple[int, ...] = ()
    reachable_days: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Insertion:
    """The visit put into a volunteer's day between two planned visits (or at an end)."""

    starts: Intervals
    added_min: float
    trip_ok: bool


class _Analyst:
    """Works out every volunteer's verdict for the unplanned occurrences of one plan."""

    def __init__(self, problem: Problem, plan: Plan, travel: TravelModel, language: str) -> None:
        self.problem = problem
        self.plan = plan
        self.travel = travel
        self.language = language
        self.facts = need_facts(problem, travel)
        self.state = _PlanState(problem, plan, travel)
        self.availability = {v.id: availability_by_day(v) for v in problem.volunteers}
        self.linked: dict[str, set[str]] = defaultdict(set)
        for dependency in problem.dependencies:
            self.linked[dependency.first].add(dependency.second)
            self.linked[dependency.second].add(dependency.first)

    # ------------------------------------------------------------- sentences

    def _say(self, code: str, **details: object) -> str:
        return message(code, self.language, **details)

    def _days(self, days: Iterable[int]) -> str:
        names = [day_name(WEEKDAYS[day], self.language) for day in days]
        return join(names, self.language) if names else self._say("explain.none")

    def _visits(self, visits: Iterable[VisitRef]) -> str:
        labels = [visit.label(self.language) for visit in visits]
        return join(labels, self.language) if labels else self._say("explain.none")

    def _verdict(
        self,
        volunteer: Volunteer,
        rule: CandidateRule,
        code: str,
        *,
        missing: list[str] | None = None,
        named: list[VisitRef] | None = None,
        fits_at: tuple[int, int] | None = None,
        **details: object,
    ) -> CandidateVerdict:
        """A verdict with its sentence; `missing` skills, `named` visits and where it `fits_at`
        (day index, start) fill the verdict's fields."""
        return CandidateVerdict(
            volunteer=volunteer.id,
            rule=rule,
            detail=self._say(code, **details),
            detail_code=code,
            missing_skills=missing or [],
            visits=named or [],
            day=WEEKDAYS[fits_at[0]] if fits_at is not None else None,
            start=fits_at[1] if fits_at is not None else None,
        )

    # ------------------------------------------------------------- occurrences

    def open_days(self, facts: NeedFacts) -> list[int]:
        """Days a further visit of the need may use: allowed, and far enough from its others."""
        taken = self.state.need_days.get(facts.need.id, [])
        gap = facts.need.min_gap_days
        return [
            day
            for day in sorted(facts.late_windows_by_day)
            if all(abs(day - other) >= gap for other in taken)
        ]

    def unplanned(self) -> list[tuple[str, int, ReasonCode | None]]:
        """(need, occurrence, the plan's reason) of every occurrence the plan leaves out."""
        listed: dict[str, dict[int, ReasonCode]] = defaultdict(dict)
        for entry in self.plan.unassigned:
            listed[entry.need].setdefault(entry.occurrence, entry.reason)
        result: list[tuple[str, int, ReasonCode | None]] = []
        for need_id, need in self.problem.need_by_id.items():
            planned = self.state.need_occurrences.get(need_id, set())
            missing = need.visits_per_week - len(self.state.need_days.get(need_id, []))
            if missing <= 0:
                continue
            numbers = [number for number in sorted(listed[need_id]) if number not in planned]
            free = (
                number
                for number in range(1, need.visits_per_week + 1)
                if number not in planned and number not in listed[need_id]
            )
            while len(numbers) < missing:
                numbers.append(next(free))
            for number in sorted(numbers[:missing]):
                result.append((need_id, number, listed[need_id].get(number)))
        return result

    def explain(self, need_id: str, occurrence: int, plan_reason: ReasonCode | None) -> Explanation:
        """The verdict of every volunteer, the overall reason and its sentence."""
        facts = self.facts[need_id]
        open_days = self.open_days(facts)
        judged = [
            self.verdict(facts, volunteer, open_days, plan_reason)
            for volunteer in self.problem.volunteers
        ]
        verdicts = [item.verdict for item in judged]
        reason = self.overall_reason(facts, judged)
        return Explanation(
            need=need_id,
            recipient=facts.recipient.id,
            service=facts.service.id,
            occurrence=occurrence,
            priority=facts.priority,
            reason=reason,
            message=self.sentence(facts, reason, verdicts),
            plan_reason=plan_reason,
            candidates=verdicts,
        )

    @staticmethod
    def overall_reason(facts: NeedFacts, judged: list[_Judged]) -> ReasonCode:
        """The solvers' reason code: the first stage that leaves fewer volunteers than the team
        (for the window and reach stages, on one and the same day)."""
        team = facts.service.team_size

        def on_one_day(days_of: Callable[[_Judged], tuple[int, ...]]) -> bool:
            per_day: dict[int, int] = defaultdict(int)
            for item in judged:
                for day in days_of(item):
                    per_day[day] += 1
            return any(count >= team for count in per_day.values())

        rules = [item.verdict.rule for item in judged]
        if sum(1 for rule in rules if rule not in QUALIFICATION_RULES) < team:
            return "no_qualified_volunteer"
        if not on_one_day(lambda item: item.shared_days):
            return "no_shared_window"
        if not on_one_day(lambda item: item.reachable_days):
            return "too_far"
        if rules.count("would_fit") >= team:
            return "not_planned"
        return "volunteers_full"

    def sentence(
        self, facts: NeedFacts, reason: ReasonCode, verdicts: list[CandidateVerdict]
    ) -> str:
        """The reason's sentence, how many volunteers each rule rules out, and the closest."""
        parts = [self._say(reason)]
        if facts.service.team_size > 1:
            parts.append(self._say("explain.team", team_size=facts.service.team_size))
        if not verdicts:
            parts.append(self._say("explain.no_volunteers"))
            return " ".join(parts)
        counts: dict[str, int] = defaultdict(int)
        for verdict in verdicts:
            counts[verdict.rule] += 1
        counted = [
            self._say("explain.count", count=counts[rule], rule=self._say(f"rule.{rule}"))
            for rule in RULE_ORDER
            if counts.get(rule)
        ]
        parts.append(
            self._say(
                "explain.counts", considered=len(verdicts), counts=join(counted, self.language)
            )
        )
        furthest = max(RULE_ORDER.index(verdict.rule) for verdict in verdicts)
        closest = next(v for v in verdicts if RULE_ORDER.index(v.rule) == furthest)
        parts.append(
            self._say("explain.closest", volunteer=closest.volunteer, detail=closest.detail)
        )
        return " ".join(parts)

    # ------------------------------------------------------------- one volunteer

    def verdict(
        self,
        facts: NeedFacts,
        volunteer: Volunteer,
        open_days: list[int],
        plan_reason: ReasonCode | None,
    ) -> _Judged:
        """The first rule that rules this volunteer out of the visit, in rule order."""
        qualification = self.qualification(facts, volunteer)
        if qualification is not None:
            return _Judged(qualification)
        availability = self.availability[volunteer.id]
        if not open_days:
            return _Judged(self._verdict(volunteer, "not_available", "candidate.no_open_day"))
        overlapping = [
            day
            for day in open_days
            if any(
                min(end, own_end) > max(start, own_start)
                for start, end in facts.late_windows_by_day[day]
                for own_start, own_end in availability.get(day, [])
            )
        ]
        if not overlapping:
            return _Judged(
                self._verdict(
                    volunteer,
                    "not_available",
                    "candidate.not_available",
                    days=self._days(open_days),
                )
            )
        shared = tuple(
            day
            for day in overlapping
            if intersect(
                start_set(facts.late_windows_by_day[day], facts.duration),
                start_set(availability.get(day, []), facts.duration),
            )
        )
        if not shared:
            return _Judged(
                self._verdict(
                    volunteer,
                    "window_too_short",
                    "candidate.window_too_short",
                    days=self._days(overlapping),
                    duration=facts.duration,
                )
            )
        reach = {
            day: reachable_start_set(self.problem, self.travel, facts, volunteer, day, availability)
            for day in shared
        }
        reachable = tuple(day for day in shared if reach[day])
        if not reachable:
            return _Judged(self.too_far(facts, volunteer, list(shared)), shared)
        return _Judged(
            self.against_plan(facts, volunteer, list(reachable), reach, plan_reason),
            shared,
            reachable,
        )

    def qualification(self, facts: NeedFacts, volunteer: Volunteer) -> CandidateVerdict | None:
        """Skills, verification, background check, exclusion, load. (Whether the service serves
        this kind of recipient is checked when the problem is validated.)"""
        service, recipient = facts.service, facts.recipient
        missing = sorted(set(service.required_skills) - set(volunteer.skills))
        if missing:
            return self._verdict(
                volunteer,
                "lacks_skill",
                "candidate.lacks_skill",
                skills=join(missing, self.language),
                missing=missing,
            )
        if service.requires_verified and not volunteer.verified:
            return self._verdict(volunteer, "not_verified", "candidate.not_verified")
        if recipient.kind == "child" and not volunteer.background_checked:
            return self._verdict(volunteer, "no_background_check", "candidate.no_background_check")
        if volunteer.id in recipient.excluded_volunteers:
            return self._verdict(
                volunteer, "excluded", "candidate.excluded", recipient=recipient.id
            )
        if volunteer.capacity is not None and facts.need.load > volunteer.capacity:
            return self._verdict(
                volunteer,
                "load_too_heavy",
                "candidate.load_too_heavy",
                capacity=volunteer.capacity,
                load=facts.need.load,
            )
        return None

    def too_far(self, facts: NeedFacts, volunteer: Volunteer, days: list[int]) -> CandidateVerdict:
        """Which of single-trip distance and travel time there and back rules them out."""
        travel = self.travel
        start_place, home_place = travel.start_place[volunteer.id], travel.home_place[volunteer.id]
        going = travel.distance(start_place, facts.place)
        coming = travel.distance(facts.place, home_place)
        there = travel.travel_min(volunteer, start_place, facts.place)
        back = travel.travel_min(volunteer, facts.place, home_place)
        if not all(math.isfinite(value) for value in (going, coming, there, back)):
            return self._verdict(volunteer, "too_far", "candidate.no_way")
        limit = volunteer.max_trip_distance_m
        if limit is not None and max(going, coming) > limit + EPSILON:
            return self._verdict(
                volunteer,
                "too_far",
                "candidate.too_far_distance",
                distance_km=f"{max(going, coming) / 1000:.1f}",
                limit_km=f"{limit / 1000:.1f}",
            )
        return self._verdict(
            volunteer,
            "too_far",
            "candidate.too_far_time",
            minutes_there=math.ceil(there - 1e-9),
            minutes_back=math.ceil(back - 1e-9),
            days=self._days(days),
        )

    def insertions(self, facts: NeedFacts, volunteer: Volunteer, day: int) -> list[_Insertion]:
        """Every place in the volunteer's planned day the visit could go, with its starts."""
        travel = self.travel
        here, duration = facts.place, facts.duration
        start_place, home_place = travel.start_place[volunteer.id], travel.home_place[volunteer.id]
        visits = self.state.by_volunteer_day.get((volunteer.id, day), [])
        allowed = start_set(facts.late_windows_by_day[day], duration)
        busy = [
            (item.ref.start, item.ref.end)
            for item in self.state.by_recipient_day.get((facts.recipient.id, day), [])
            if item.ref.need not in self.linked[facts.need.id]
        ]
        limit = volunteer.max_trip_distance_m
        result: list[_Insertion] = []
        for position in range(len(visits) + 1):
            before = visits[position - 1] if position > 0 else None
            after = visits[position] if position < len(visits) else None
            from_place = before.place if before is not None else start_place
            to_place = after.place if after is not None else home_place
            there = travel.travel_min(volunteer, from_place, here)
            onward = travel.travel_min(volunteer, here, to_place)
            added = duration + there + onward - travel.travel_min(volunteer, from_place, to_place)
            trip_ok = limit is None or (
                travel.distance(from_place, here) <= limit + EPSILON
                and travel.distance(here, to_place) <= limit + EPSILON
            )
            spans: Intervals = []
            for window_start, window_end in self.availability[volunteer.id].get(day, []):
                earliest = (before.ref.end if before is not None else window_start) + there
                latest = (after.ref.start if after is not None else window_end) - onward - duration
                earliest, latest = max(earliest, window_start), min(latest, window_end - duration)
                if math.isfinite(earliest) and math.isfinite(latest):
                    low, high = math.ceil(earliest - EPSILON), math.floor(latest + EPSILON)
                    if low <= high:
                        spans.append((low, high))
            starts = _subtract_busy(intersect(normalise(spans), allowed), busy, duration)
            result.append(_Insertion(starts, added, trip_ok))
        return result

    def against_plan(
        self,
        facts: NeedFacts,
        volunteer: Volunteer,
        days: list[int],
        reach: dict[int, Intervals],
        plan_reason: ReasonCode | None,
    ) -> CandidateVerdict:
        """Weekly minutes, visits a day, carrying capacity, free time; else it would fit."""
        state = self.state
        insertions = {day: self.insertions(facts, volunteer, day) for day in days}
        cap = volunteer.max_minutes_per_week
        left = math.inf if cap is None else cap - state.minutes_used.get(volunteer.id, 0.0)
        least = min(item.added_min for items in insertions.values() for item in items)
        if cap is not None and least > left + EPSILON:
            return self._verdict(
                volunteer,
                "weekly_minutes",
                "candidate.weekly_minutes",
                left=max(0, math.floor(left + EPSILON)),
                cap=cap,
                needed=math.ceil(least - EPSILON),
            )

        def planned(day: int) -> list[_PlannedVisit]:
            return state.by_volunteer_day.get((volunteer.id, day), [])

        most = volunteer.max_visits_per_day
        open_days = [day for day in days if most is None or len(planned(day)) < most]
        if not open_days:
            return self._verdict(
                volunteer,
                "visits_per_day",
                "candidate.visits_per_day",
                visits=most,
                days=self._days(days),
                named=[item.ref for day in days for item in planned(day)],
            )
        capacity = volunteer.capacity
        carrying_days = [
            day
            for day in open_days
            if capacity is None
            or sum(item.load for item in planned(day)) + facts.need.load <= capacity
        ]
        if not carrying_days:
            carried = max(sum(item.load for item in planned(day)) for day in open_days)
            return self._verdict(
                volunteer,
                "capacity_used",
                "candidate.capacity_used",
                carried=carried,
                capacity=capacity,
                days=self._days(open_days),
                named=[item.ref for day in open_days for item in planned(day)],
            )
        for day in carrying_days:
            for insertion in insertions[day]:
                if insertion.starts and insertion.trip_ok and insertion.added_min <= left + EPSILON:
                    return self.would_fit(volunteer, day, insertion.starts[0][0], plan_reason)
        blocking = self.blocking_visits(facts, volunteer, carrying_days, reach)
        return self._verdict(
            volunteer,
            "time_taken",
            "candidate.time_taken",
            days=self._days(carrying_days),
            visits=self._visits(blocking),
            named=blocking,
        )

    def blocking_visits(
        self,
        facts: NeedFacts,
        volunteer: Volunteer,
        days: list[int],
        reach: dict[int, Intervals],
    ) -> list[VisitRef]:
        """The planned visits (theirs and the recipient's) in the time the visit could use."""
        travel = self.travel
        found: list[VisitRef] = []
        every: list[VisitRef] = []
        for day in days:
            low = reach[day][0][0]
            high = reach[day][-1][1] + facts.duration
            theirs = self.state.by_volunteer_day.get((volunteer.id, day), [])
            recipients = [
                item
                for item in self.state.by_recipient_day.get((facts.recipient.id, day), [])
                if item.ref.need not in self.linked[facts.need.id]
            ]
            for item in theirs:
                every.append(item.ref)
                margin_before = travel.travel_min(volunteer, item.place, facts.place)
                margin_after = travel.travel_min(volunteer, facts.place, item.place)
                if item.ref.start < high + margin_after and item.ref.end + margin_before > low:
                    found.append(item.ref)
            for item in recipients:
                every.append(item.ref)
                if item.ref.start < high and item.ref.end > low and item.ref not in found:
                    found.append(item.ref)
        return found or list({ref.model_dump_json(): ref for ref in every}.values())

    def would_fit(
        self, volunteer: Volunteer, day: int, start: int, plan_reason: ReasonCode | None
    ) -> CandidateVerdict:
        """It fits as the plan stands: name the visits the solver gave them instead (that day,
        else that week)."""
        given = [item.ref for item in self.state.by_volunteer_day.get((volunteer.id, day), [])] or [
            item.ref for item in self.state.by_volunteer.get(volunteer.id, [])
        ]
        when = day_name(WEEKDAYS[day], self.language)
        if given:
            return self._verdict(
                volunteer,
                "would_fit",
                "candidate.would_fit",
                named=given,
                fits_at=(day, start),
                day=when,
                time=format_clock(start),
                visits=self._visits(given),
            )
        reason = self._say(plan_reason or "not_planned").rstrip("。.")
        return self._verdict(
            volunteer,
            "would_fit",
            "candidate.would_fit_idle",
            fits_at=(day, start),
            day=when,
            time=format_clock(start),
            reason=reason,
        )


def _language_of(problem: Problem, language: str | None) -> Language:
    return checked_language(language if language is not None else problem.policy.language)


def explain_unassigned(
    problem: Problem,
    plan: Plan,
    travel: TravelModel | None = None,
    *,
    language: str | None = None,
) -> list[Explanation]:
    """Why each occurrence the plan leaves out is not planned, volunteer by volunteer.

    Every volunteer gets the first rule that rules them out (see `CandidateRule`), computed from
    the problem and the plan's visits; the overall reason is the first stage (qualification,
    shared window, reach) that leaves fewer volunteers than the visit's team, else
    `volunteers_full`, or `not_planned` when enough of them could still make it. A visit linked
    to another need by a dependency is judged on its own (without its partner's visit).
    Explanations come highest priority first, in the policy's language unless `language` says
    otherwise.
    """
    model = travel if travel is not None else TravelModel(problem)
    analyst = _Analyst(problem, plan, model, _language_of(problem, language))
    order = {need_id: index for index, need_id in enumerate(problem.need_by_id)}
    occurrences = sorted(
        analyst.unplanned(),
        key=lambda item: (-analyst.facts[item[0]].priority, order[item[0]], item[1]),
    )
    return [analyst.explain(*item) for item in occurrences]


def render_explanations(explanations: list[Explanation], *, verdicts: bool = True) -> str:
    """The explanations as text: one line per unplanned visit, then one per volunteer."""
    lines: list[str] = []
    for item in explanations:
        lines.append(f"{item.need} #{item.occurrence} [{item.reason}] {item.message}")
        if verdicts:
            lines.extend(
                f"  - {verdict.volunteer}: {verdict.rule}: {verdict.detail}"
                for verdict in item.candidates
            )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- what-if


class AddVolunteer(StrictModel):
    """One more volunteer, free on one day, with the skills and checks some visits need."""

    kind: Literal["add_volunteer"] = "add_volunteer"
    volunteer: Volunteer
    near_recipient: str = Field(description="the recipient whose home (building) they start from")
    building: str | None = None


class WidenWindow(StrictModel):
    """A need's windows opened earlier or closed later."""

    kind: Literal["widen_window"] = "widen_window"
    need: str
    earlier_min: int = Field(default=0, ge=0)
    later_min: int = Field(default=0, ge=0)


class RaiseWeeklyCap(StrictModel):
    """A volunteer's weekly minutes raised."""

    kind: Literal["raise_weekly_cap"] = "raise_weekly_cap"
    volunteer: str
    old_min: int
    new_min: int


class SwitchToBike(StrictModel):
    """A volunteer who walks gets a bike."""

    kind: Literal["switch_to_bike"] = "switch_to_bike"
    volunteer: str
    from_mode: TravelMode = "walk"


Change = Annotated[
    AddVolunteer | WidenWindow | RaiseWeeklyCap | SwitchToBike, Field(discriminator="kind")
]


class PlannedOccurrence(StrictModel):
    """An occurrence of a need a change would plan (or drop)."""

    need: str
    recipient: str
    occurrence: int
    priority: float


class WhatIf(StrictModel):
    """One change, what it would plan, and what that is worth."""

    change: Change
    language: Language = "en"
    description: str = Field(description="in `language`, the policy's")
    descriptions: dict[Language, str] = Field(description="in every language of the catalogue")
    visits_gained: int = Field(description="visits planned with the change minus without")
    weighted_gain: float = Field(description="the same, each visit weighted by its priority")
    plans: list[PlannedOccurrence] = Field(
        default_factory=list, description="occurrences planned with the change, not without"
    )
    drops: list[PlannedOccurrence] = Field(
        default_factory=list, description="occurrences planned without the change, not with"
    )

    def summary(self, language: str | None = None) -> str:
        """One line: the change, how many more visits, and which."""
        lang = checked_language(language) if language is not None else self.language
        description = self.descriptions[lang]
        planned = [f"{item.need} #{item.occurrence}" for item in self.plans]
        return message(
            "whatif.result",
            lang,
            description=description,
            visits=self.visits_gained,
            weighted=f"{self.weighted_gain:g}",
            planned=join(planned, lang) if planned else message("explain.none", lang),
        )


def apply_change(problem: Problem, change: Change) -> Problem:
    """A new problem with the change made (the original is left as it is)."""
    data = problem.model_dump()
    if isinstance(change, AddVolunteer):
        data["volunteers"].append(change.volunteer.model_dump())
    elif isinstance(change, WidenWindow):
        for recipient in data["recipients"]:
            for need in recipient["needs"]:
                if need["id"] != change.need:
                    continue
                for window in need["windows"]:
                    window["start"] = max(0, window["start"] - change.earlier_min)
                    window["end"] = min(problem.day_length_min, window["end"] + change.later_min)
    else:
        for volunteer in data["volunteers"]:
            if volunteer["id"] != change.volunteer:
                continue
            if isinstance(change, RaiseWeeklyCap):
                volunteer["max_minutes_per_week"] = change.new_min
            else:
                volunteer["travel_mode"] = "bike"
                volunteer["speed_m_per_min"] = None
    return Problem.model_validate(data)


def describe_change(change: Change, language: str) -> str:
    """The change in a sentence of the catalogue."""
    if isinstance(change, AddVolunteer):
        volunteer = change.volunteer
        pieces = list(volunteer.skills)
        if volunteer.verified:
            pieces.append(message("qualification.verified", language))
        if volunteer.background_checked:
            pieces.append(message("qualification.background_checked", language))
        window = volunteer.availability[0]
        place = (
            message("whatif.building", language, building=change.building)
            if change.building is not None
            else message("whatif.home_of", language, recipient=change.near_recipient)
        )
        return message(
            "whatif.add_volunteer",
            language,
            qualifications=join(pieces, language)
            if pieces
            else message("qualification.none", language),
            day=day_name(window.day, language),
            start=format_clock(window.start),
            end=format_clock(window.end),
            place=place,
        )
    if isinstance(change, WidenWindow):
        sentences = [
            message(code, language, need=change.need, minutes=minutes)
            for code, minutes in (
                ("whatif.widen_earlier", change.earlier_min),
                ("whatif.widen_later", change.later_min),
            )
            if minutes
        ]
        return "; ".join(sentences)
    if isinstance(change, RaiseWeeklyCap):
        return message(
            "whatif.raise_weekly_cap",
            language,
            volunteer=change.volunteer,
            old=change.old_min,
            new=change.new_min,
        )
    return message("whatif.switch_to_bike", language, volunteer=change.volunteer)


@dataclass
class _Candidate:
    """A change worth re-solving, with the weight of the left-out visits it might plan."""

    change: Change
    weight: float
    covers: frozenset[tuple[str, int]]


def _new_volunteer_id(problem: Problem) -> str:
    taken = set(problem.volunteer_by_id)
    name, number = "new-volunteer", 1
    while name in taken:
        number += 1
        name = f"new-volunteer-{number}"
    return name


def _volunteer_candidates(
    problem: Problem, explanations: list[Explanation], facts: dict[str, NeedFacts]
) -> list[_Candidate]:
    """One more volunteer per (qualifications, building, day) of the left-out visits: free in
    the span of their windows that day, starting from the building of the most urgent one."""
    groups: dict[tuple[Any, ...], list[Explanation]] = defaultdict(list)
    for item in explanations:
        need = facts[item.need]
        service, recipient = need.service, need.recipient
        where = recipient.building if recipient.building is not None else f"@{recipient.id}"
        for day in sorted(need.windows_by_day):
            key = (
                tuple(sorted(service.required_skills)),
                service.requires_verified,
                recipient.kind == "child",
                where,
                day,
            )
            groups[key].append(item)
    new_id = _new_volunteer_id(problem)
    result: list[_Candidate] = []
    for (skills, verified, child, _, day), members in groups.items():
        lead = members[0]
        lead_recipient = problem.recipient_by_id[lead.recipient]
        spans = [span for item in members for span in facts[item.need].windows_by_day[day]]
        start = max(0, min(low for low, _ in spans) - HELPER_MARGIN_MIN)
        end = min(problem.day_length_min, max(high for _, high in spans) + HELPER_MARGIN_MIN)
        volunteer = Volunteer.model_validate(
            {
                "id": new_id,
                "home": lead_recipient.location.model_dump(),
                "skills": list(skills),
                "verified": verified,
                "background_checked": child,
                "availability": [{"day": WEEKDAYS[day], "start": start, "end": end}],
            }
        )
        change = AddVolunteer(
            volunteer=volunteer, near_recipient=lead.recipient, building=lead_recipient.building
        )
        covers = frozenset((item.need, item.occurrence) for item in members)
        result.append(_Candidate(change, sum(item.priority for item in members), covers))
    return result


def _other_candidates(
    problem: Problem, explanations: list[Explanation]
) -> dict[str, list[_Candidate]]:
    """Wider windows, higher weekly caps and bikes, from the verdicts of the left-out visits."""
    widen: dict[str, list[Explanation]] = defaultdict(list)
    caps: dict[str, list[Explanation]] = defaultdict(list)
    bikes: dict[str, list[Explanation]] = defaultdict(list)
    for item in explanations:
        if problem.need_by_id[item.need].windows:
            widen[item.need].append(item)
        for verdict in item.candidates:
            volunteer = problem.volunteer_by_id[verdict.volunteer]
            if verdict.rule == "weekly_minutes" and volunteer.max_minutes_per_week is not None:
                caps[volunteer.id].append(item)
            slower = verdict.rule in {"weekly_minutes", "time_taken"} or (
                verdict.detail_code == "candidate.too_far_time"
            )
            if slower and volunteer.travel_mode == "walk":
                bikes[volunteer.id].append(item)

    def covers(items: list[Explanation]) -> frozenset[tuple[str, int]]:
        return frozenset((item.need, item.occurrence) for item in items)

    def weight(items: list[Explanation]) -> float:
        return sum(item.priority for item in items)

    widening: list[_Candidate] = []
    for need_id, items in widen.items():
        boost = 2.0 if any(item.reason == "no_shared_window" for item in items) else 1.0
        for earlier, later in ((WIDEN_MINUTES, 0), (0, WIDEN_MINUTES)):
            widening.append(
                _Candidate(
                    WidenWindow(need=need_id, earlier_min=earlier, later_min=later),
                    boost * weight(items),
                    covers(items),
                )
            )
    raising = [
        _Candidate(
            RaiseWeeklyCap(
                volunteer=volunteer_id,
                old_min=cap,
                new_min=cap + CAP_RAISE_MINUTES,
            ),
            weight(items),
            covers(items),
        )
        for volunteer_id, items in caps.items()
        if (cap := problem.volunteer_by_id[volunteer_id].max_minutes_per_week) is not None
    ]
    biking = [
        _Candidate(SwitchToBike(volunteer=volunteer_id), weight(items), covers(items))
        for volunteer_id, items in bikes.items()
    ]
    return {"widen_window": widening, "raise_weekly_cap": raising, "switch_to_bike": biking}


def _most_promising(kinds: list[list[_Candidate]], limit: int) -> list[_Candidate]:
    """Up to `limit` candidates, the kinds taking turns, each kind's heaviest first. Of two added
    volunteers who would serve the same left-out visits (other days), only the first is kept."""
    queues = [
        [pair[1] for pair in sorted(enumerate(group), key=lambda pair: (-pair[1].weight, pair[0]))]
        for group in kinds
    ]
    seen: set[object] = set()
    chosen: list[_Candidate] = []
    while len(chosen) < limit and any(queues):
        for queue in queues:
            while queue and len(chosen) < limit:
                candidate = queue.pop(0)
                change = candidate.change
                key = (
                    (change.kind, candidate.covers)
                    if isinstance(change, AddVolunteer)
                    else change.model_dump_json()
                )
                if key not in seen:
                    seen.add(key)
                    chosen.append(candidate)
                    break
    return chosen


def _planned_counts(plan: Plan) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for visit in plan.visits:
        counts[visit.need] += 1
    return counts


def _difference(
    facts: dict[str, NeedFacts], before: dict[str, int], after: dict[str, int]
) -> tuple[list[PlannedOccurrence], list[PlannedOccurrence], float]:
    """Occurrences planned after and not before, those planned before and not after, and the
    priority-weighted difference in visits."""
    plans: list[PlannedOccurrence] = []
    drops: list[PlannedOccurrence] = []
    weighted = 0.0
    for need_id, need in facts.items():
        old, new = before.get(need_id, 0), after.get(need_id, 0)
        weighted += need.priority * (new - old)
        for number in (*range(old + 1, new + 1), *range(new + 1, old + 1)):
            (plans if new > old else drops).append(
                PlannedOccurrence(
                    need=need_id,
                    recipient=need.recipient.id,
                    occurrence=number,
                    priority=need.priority,
                )
            )
    return plans, drops, weighted


def what_if(
    problem: Problem,
    plan: Plan,
    *,
    solver: str = "greedy",
    limit: int = DEFAULT_WHAT_IF_LIMIT,
    time_limit_s: float | None = None,
    seed: int = 0,
    travel: TravelModel | None = None,
    language: str | None = None,
) -> list[WhatIf]:
    """Single changes that would plan more of the visits the plan leaves out, best first.

    Candidate changes come from the left-out visits and their verdicts: one more volunteer with
    their service's skills and checks, free on one of their days in the span of their windows,
    starting from the recipient's building; a need's windows opened an hour earlier or closed an
    hour later; a weekly cap raised by an hour for a volunteer whose minutes ran out; a bike for
    a walker who was too slow or too busy. The `limit` most promising (the kinds taking turns)
    are re-solved with `matcher.api.solve(solver, time_limit_s, seed)` and compared with the
    unchanged problem solved the same way. Returned: the changes that gain, ranked by
    priority-weighted visits gained, described in the policy's language unless `language` says
    otherwise.
    """
    if limit < 0:
        raise ValueError("limit must not be negative")
    model = travel if travel is not None else TravelModel(problem)
    explanations = explain_unassigned(problem, plan, model, language="en")
    if not explanations or limit == 0:
        return []
    facts = need_facts(problem, model)
    others = _other_candidates(problem, explanations)
    chosen = _most_promising(
        [
            _volunteer_candidates(problem, explanations, facts),
            others["widen_window"],
            others["raise_weekly_cap"],
            others["switch_to_bike"],
        ],
        limit,
    )
    baseline = _planned_counts(solve(problem, solver=solver, time_limit_s=time_limit_s, seed=seed))
    chosen_language = _language_of(problem, language)
    results: list[tuple[int, WhatIf]] = []
    for order, candidate in enumerate(chosen):
        changed = apply_change(problem, candidate.change)
        counts = _planned_counts(
            solve(changed, solver=solver, time_limit_s=time_limit_s, seed=seed)
        )
        plans, drops, weighted = _difference(facts, baseline, counts)
        if weighted <= EPSILON:
            continue
        descriptions = {lang: describe_change(candidate.change, lang) for lang in LANGUAGES}
        results.append(
            (
                order,
                WhatIf(
                    change=candidate.change,
                    language=chosen_language,
                    description=descriptions[chosen_language],
                    descriptions=descriptions,
                    visits_gained=len(plans) - len(drops),
                    weighted_gain=round(weighted, 9),
                    plans=plans,
                    drops=drops,
                ),
            )
        )
    results.sort(key=lambda pair: (-pair[1].weighted_gain, -pair[1].visits_gained, pair[0]))
    return [what for _, what in results]


# ----------------------------------------------------------------------------- plan mode


class PlanScore(StrictModel):
    """A coordinator's plan checked and scored beside a reference (the optimizer's) plan."""

    language: Language = "en"
    reference_solver: str
    report: CheckReport
    reference_report: CheckReport
    objective: dict[str, float] = Field(description="the policy objective term by term, total")
    reference_objective: dict[str, float]

    @property
    def ok(self) -> bool:
        """Whether the coordinator's plan keeps every hard rule."""
        return self.report.ok

    def summary(self) -> str:
        """The two plans side by side, the difference in visits, and every broken rule."""
        say = self._say
        mine, theirs = self.report.metrics, self.reference_report.metrics
        rows: list[tuple[str, str, str]] = [
            ("", say("score.yours"), say("score.optimizer")),
            (
                say("score.rules_broken"),
                str(len(self.report.violations)),
                str(len(self.reference_report.violations)),
            ),
            (
                say("score.visits_planned"),
                f"{mine.visits_planned}/{mine.visits_requested}",
                f"{theirs.visits_planned}/{theirs.visits_requested}",
            ),
            (
                say("score.weighted_coverage"),
                f"{mine.weighted_coverage_pct:.1f}",
                f"{theirs.weighted_coverage_pct:.1f}",
            ),
            (
                say("score.travel_km"),
                f"{mine.travel_distance_m / 1000:.1f}",
                f"{theirs.travel_distance_m / 1000:.1f}",
            ),
            (
                say("score.continuity"),
                f"{mine.continuity_pct:.1f}",
                f"{theirs.continuity_pct:.1f}",
            ),
            (say("score.load_gini"), f"{mine.load_gini:.2f}", f"{theirs.load_gini:.2f}"),
        ]
        rows.extend(
            (
                say(
                    "score.objective",
                    term=say(f"term.{term}") if f"term.{term}" in CATALOGUE else term,
                ),
                f"{self.objective.get(term, 0.0):.0f}",
                f"{self.reference_objective.get(term, 0.0):.0f}",
            )
            for term in self.objective
        )
        widths = [max(_width(row[column]) for row in rows) for column in range(3)]
        lines = [say("score.title", solver=self.reference_solver)]
        for label, first, second in rows:
            lines.append(
                _pad(label, widths[0])
                + "  "
                + _pad(first, widths[1], right=True)
                + "  "
                + _pad(second, widths[2], right=True)
            )
        more = theirs.visits_planned - mine.visits_planned
        weighted = theirs.weighted_planned - mine.weighted_planned
        if more > 0:
            lines.append(say("score.more_visits", visits=more, weighted=weighted))
        elif more < 0:
            lines.append(say("score.fewer_visits", visits=-more, weighted=weighted))
        else:
            lines.append(say("score.same_visits", weighted=weighted))
        if self.report.ok:
            lines.append(say("score.ok"))
        lines.extend(
            say("score.violation", rule=violation.rule, message=violation.message)
            for violation in self.report.violations
        )
        return "\n".join(lines)

    def _say(self, code: str, **details: object) -> str:
        return message(code, self.language, **details)


def _width(text: str) -> int:
    """Columns a text takes in a terminal (CJK characters take two)."""
    return sum(2 if ord(character) >= 0x1100 else 1 for character in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    padding = " " * max(0, width - _width(text))
    return padding + text if right else text + padding


def _objective(problem: Problem, travel: TravelModel, plan: Plan) -> dict[str, float]:
    """The policy objective of the plan's visits that name a known need and volunteers."""
    facts = need_facts(problem, travel)
    known = [
        visit
        for visit in plan.visits
        if visit.need in facts and all(v in problem.volunteer_by_id for v in visit.volunteers)
    ]
    return objective_breakdown(problem, travel, facts, known)


def score_plan(
    problem: Problem,
    plan: Plan,
    reference: Plan | None = None,
    *,
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
    language: str | None = None,
) -> PlanScore:
    """Check a coordinator's plan and score it beside a reference plan.

    Without a reference, the optimizer plans the week (`matcher.api.solve` with `solver`,
    `time_limit_s` and `seed`). Both plans are checked against every hard rule and scored by
    the checker's metrics and the policy objective term by term.
    """
    model = TravelModel(problem)
    if reference is None:
        reference = solve(problem, solver=solver, time_limit_s=time_limit_s, seed=seed)
    return PlanScore(
        language=_language_of(problem, language),
        reference_solver=reference.solver.solver,
        report=check_plan(problem, plan, model),
        reference_report=check_plan(problem, reference, model),
        objective=_objective(problem, model, plan),
        reference_objective=_objective(problem, model, reference),
    )


__all__ = [
    "AddVolunteer",
    "CandidateRule",
    "CandidateVerdict",
    "Change",
    "Explanation",
    "PlanScore",
    "PlannedOccurrence",
    "RaiseWeeklyCap",
    "SwitchToBike",
    "VisitRef",
    "WhatIf",
    "WidenWindow",
    "apply_change",
    "describe_change",
    "explain_unassigned",
    "render_explanations",
    "score_plan",
    "what_if",
]
