"""Per-volunteer verdicts: for one unplanned occurrence, the first rule that rules each volunteer
out, read from `matcher.rules` and the plan as it stands.

The stages are the one diagnosis's (`matcher.rules.diagnosis.Diagnoser.stages`): qualification
(with the load they can carry), a shared time with one of their outings on a day still open, the
reach of an outing of its own; a volunteer who passes all three is then judged against the plan:
weekly minutes, visits a day, carrying capacity, and whether the visit fits into one of their
outings between the visits they already make (`matcher.rules.volunteer_week.insertions`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal, get_args

from pydantic import Field

from matcher.messages import day_name, join, message
from matcher.models import WEEKDAYS, Plan, Problem, ReasonCode, Visit, Volunteer, format_clock
from matcher.models.common import ClockTime, DayOfWeek, StrictModel
from matcher.rules import (
    Diagnoser,
    Intervals,
    NeedFacts,
    PlanIndex,
    ceil_minutes,
    intersect,
    missing_skills,
    qualification_failures,
    reachable_starts,
    start_set,
    subtract_busy,
    walk_outing,
)
from matcher.rules.diagnosis import Stages
from matcher.rules.outings import EPSILON
from matcher.rules.volunteer_week import (
    Insertion,
    alone_problems,
    can_carry,
    insertions,
    visits_allowed,
    week_minutes,
)
from matcher.travel import TravelModel

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
verification, background check, excluded by the recipient, a load they cannot carry; none of
their outings on the days the visit may still take place meets its windows, or not for long
enough; too far (a leg or the outing's walk too long, or no time to get there and back within an
outing); then, against the plan: weekly minutes used up, visits a day used up, daily carrying
capacity used up, free time taken by other visits; and last: the visit would fit as the plan
stands."""

RULE_ORDER: tuple[CandidateRule, ...] = get_args(CandidateRule)

_QUALIFICATION: tuple[tuple[str, CandidateRule], ...] = (
    ("skills", "lacks_skill"),
    ("recipient_kind", "lacks_skill"),
    ("verified", "not_verified"),
    ("background_check", "no_background_check"),
    ("excluded", "excluded"),
)
"""`rules.qualification` failures as verdicts, in the order they are named. (A service that does
not serve the recipient's kind is refused when the problem is validated.)"""


class VisitRef(StrictModel):
    """A planned visit, named: its need and occurrence, day and times."""

    need: str
    occurrence: int
    day: DayOfWeek
    start: ClockTime
    end: ClockTime

    @classmethod
    def of(cls, visit: Visit) -> VisitRef:
        """The reference to a plan's visit."""
        return cls(
            need=visit.need,
            occurrence=visit.occurrence,
            day=visit.day,
            start=visit.start,
            end=visit.end,
        )

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


class Voice:
    """Sentences of the catalogue in one language."""

    def __init__(self, language: str) -> None:
        self.language = language

    def say(self, code: str, **details: object) -> str:
        """The catalogue sentence with its details."""
        return message(code, self.language, **details)

    def days(self, days: Iterable[int]) -> str:
        """'Monday and Tuesday' (or 'none')."""
        names = [day_name(WEEKDAYS[day], self.language) for day in days]
        return join(names, self.language) if names else self.say("explain.none")

    def visits(self, visits: Iterable[VisitRef]) -> str:
        """The visits by label (or 'none')."""
        labels = [visit.label(self.language) for visit in visits]
        return join(labels, self.language) if labels else self.say("explain.none")


def known_visits(problem: Problem, plan: Plan) -> list[Visit]:
    """The plan's visits whose need and volunteers the problem knows (the others are the
    checker's to report)."""
    return [
        visit
        for visit in plan.visits
        if visit.need in problem.need_by_id
        and all(volunteer in problem.volunteer_by_id for volunteer in visit.volunteers)
    ]


class Judge:
    """Works out each volunteer's verdict for the unplanned occurrences of one plan."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        diagnoser: Diagnoser,
        index: PlanIndex,
        voice: Voice,
    ) -> None:
        self.problem = problem
        self.travel = travel
        self.diagnoser = diagnoser
        self.index = index
        self.voice = voice
        self._minutes_used: dict[str, float] = {}

    # ------------------------------------------------------------- the plan

    def minutes_used(self, volunteer: Volunteer) -> float:
        """The minutes of the volunteer's planned week (`rules.volunteer_week.week_minutes`)."""
        if volunteer.id not in self._minutes_used:
            self._minutes_used[volunteer.id] = week_minutes(
                self.travel, volunteer, self.index, self.diagnoser.outings[volunteer.id]
            )
        return self._minutes_used[volunteer.id]

    def planned(self, volunteer: Volunteer, day: int) -> list[Visit]:
        """The volunteer's visits that day, in start order."""
        return self.index.volunteer_day(volunteer.id, day)

    def recipient_visits(self, facts: NeedFacts, day: int) -> list[Visit]:
        """The recipient's planned visits that day a visit of the need may not overlap (all but
        those of needs linked to it)."""
        linked = set(self.diagnoser.partners.get(facts.need.id, []))
        return [
            visit
            for visit in self.index.by_recipient_day.get((facts.recipient.id, day), [])
            if visit.need not in linked
        ]

    def load_carried(self, volunteer: Volunteer, day: int) -> int:
        """The load of the volunteer's planned visits that day."""
        need_by_id = self.problem.need_by_id
        return sum(need_by_id[visit.need].load for visit in self.planned(volunteer, day))

    # ------------------------------------------------------------- one volunteer

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
            detail=self.voice.say(code, **details),
            detail_code=code,
            missing_skills=missing or [],
            visits=named or [],
            day=WEEKDAYS[fits_at[0]] if fits_at is not None else None,
            start=fits_at[1] if fits_at is not None else None,
        )

    def verdict(
        self,
        facts: NeedFacts,
        volunteer: Volunteer,
        days: Sequence[int],
        stages: Stages,
        plan_reason: ReasonCode | None,
    ) -> CandidateVerdict:
        """The first rule that rules this volunteer out of the visit, stage by stage as the one
        diagnosis sees them on the days still open (`days`)."""
        if volunteer.id not in stages.qualified:
            return self.qualification(facts, volunteer)
        if volunteer.id not in stages.sharing_days:
            return self.no_shared_time(facts, volunteer, days)
        if volunteer.id not in stages.reaching_days:
            return self.too_far(facts, volunteer, list(stages.sharing_days[volunteer.id]))
        return self.against_plan(
            facts, volunteer, list(stages.reaching_days[volunteer.id]), plan_reason
        )

    def qualification(self, facts: NeedFacts, volunteer: Volunteer) -> CandidateVerdict:
        """Skills, verification, background check, exclusion (`rules.qualification`), then the
        load they can carry (`rules.volunteer_week.can_carry`)."""
        service, recipient = facts.service, facts.recipient
        failures = set(qualification_failures(service, recipient, volunteer))
        rule = next((rule for failure, rule in _QUALIFICATION if failure in failures), None)
        if rule == "lacks_skill":
            missing = missing_skills(service, volunteer)
            return self._verdict(
                volunteer,
                "lacks_skill",
                "candidate.lacks_skill",
                skills=join(missing, self.voice.language),
                missing=missing,
            )
        if rule == "not_verified":
            return self._verdict(volunteer, "not_verified", "candidate.not_verified")
        if rule == "no_background_check":
            return self._verdict(volunteer, "no_background_check", "candidate.no_background_check")
        if rule == "excluded":
            return self._verdict(
                volunteer, "excluded", "candidate.excluded", recipient=recipient.id
            )
        return self._verdict(
            volunteer,
            "load_too_heavy",
            "candidate.load_too_heavy",
            capacity=volunteer.capacity,
            load=facts.need.load,
        )

    def no_shared_time(
        self, facts: NeedFacts, volunteer: Volunteer, days: Sequence[int]
    ) -> CandidateVerdict:
        """No day left, no outing meeting the visit's windows, or none for long enough."""
        if not days:
            return self._verdict(volunteer, "not_available", "candidate.no_open_day")
        outings = self.diagnoser.outings[volunteer.id]
        overlapping = [
            day
            for day in days
            if intersect(
                start_set(facts.late_windows_by_day.get(day, []), 1),
                start_set(outings.get(day, []), 1),
            )
        ]
        if not overlapping:
            return self._verdict(
                volunteer,
                "not_available",
                "candidate.not_available",
                days=self.voice.days(days),
            )
        return self._verdict(
            volunteer,
            "window_too_short",
            "candidate.window_too_short",
            days=self.voice.days(overlapping),
            duration=facts.duration,
        )

    def too_far(self, facts: NeedFacts, volunteer: Volunteer, days: list[int]) -> CandidateVerdict:
        """No way there, a leg or the outing's walk longer than their limit
        (`rules.volunteer_week.alone_problems`), else no time there and back within an
        outing."""
        problems = alone_problems(self.travel, volunteer, facts.place)
        walk = walk_outing(self.travel, volunteer, [facts.place])
        if "unreachable" in problems:
            return self._verdict(volunteer, "too_far", "candidate.no_way")
        measured = {
            "trip_distance": (
                max(leg.distance_m for leg in walk.legs),
                volunteer.max_trip_distance_m,
            ),
            "outing_distance": (walk.distance_m, volunteer.max_outing_distance_m),
        }
        for code, (distance_m, limit_m) in measured.items():
            if code in problems and limit_m is not None:
                return self._verdict(
                    volunteer,
                    "too_far",
                    "candidate.too_far_distance",
                    distance_km=f"{distance_m / 1000:.1f}",
                    limit_km=f"{limit_m / 1000:.1f}",
                )
        there, back = walk.legs
        return self._verdict(
            volunteer,
            "too_far",
            "candidate.too_far_time",
            minutes_there=ceil_minutes(there.travel_min),
            minutes_back=ceil_minutes(back.travel_min),
            days=self.voice.days(days),
        )

    def fitting_starts(self, facts: NeedFacts, day: int, insertion: Insertion) -> Intervals:
        """The starts of an insertion inside the need's windows and clear of the recipient's
        other visits."""
        inside = intersect(insertion.starts, facts.starts(day))
        busy = [(visit.start, visit.end) for visit in self.recipient_visits(facts, day)]
        return subtract_busy(inside, busy, facts.duration)

    def against_plan(
        self,
        facts: NeedFacts,
        volunteer: Volunteer,
        days: list[int],
        plan_reason: ReasonCode | None,
    ) -> CandidateVerdict:
        """Weekly minutes, visits a day, carrying capacity, free time in an outing; else it
        would fit."""
        outings = self.diagnoser.outings[volunteer.id]
        ways = {
            day: insertions(
                self.travel,
                volunteer,
                outings.get(day, []),
                self.planned(volunteer, day),
                facts.place,
                facts.duration,
            )
            for day in days
        }
        cap = volunteer.max_minutes_per_week
        left = math.inf if cap is None else cap - self.minutes_used(volunteer)
        least = min((item.added_min for items in ways.values() for item in items), default=math.inf)
        if cap is not None and least > left + EPSILON:
            return self._verdict(
                volunteer,
                "weekly_minutes",
                "candidate.weekly_minutes",
                left=max(0, math.floor(left + EPSILON)),
                cap=cap,
                needed=ceil_minutes(least),
            )
        open_days = [
            day for day in days if visits_allowed(volunteer, len(self.planned(volunteer, day)))
        ]
        if not open_days:
            return self._verdict(
                volunteer,
                "visits_per_day",
                "candidate.visits_per_day",
                visits=volunteer.max_visits_per_day,
                days=self.voice.days(days),
                named=[
                    VisitRef.of(visit) for day in days for visit in self.planned(volunteer, day)
                ],
            )
        carrying_days = [
            day
            for day in open_days
            if can_carry(volunteer, facts.need.load, self.load_carried(volunteer, day))
        ]
        if not carrying_days:
            return self._verdict(
                volunteer,
                "capacity_used",
                "candidate.capacity_used",
                carried=max(self.load_carried(volunteer, day) for day in open_days),
                capacity=volunteer.capacity,
                days=self.voice.days(open_days),
                named=[
                    VisitRef.of(visit)
                    for day in open_days
                    for visit in self.planned(volunteer, day)
                ],
            )
        for day in carrying_days:
            for insertion in ways[day]:
                starts = self.fitting_starts(facts, day, insertion)
                if starts and insertion.fits and insertion.added_min <= left + EPSILON:
                    return self.would_fit(volunteer, day, starts[0][0], plan_reason)
        blocking = self.blocking_visits(facts, volunteer, carrying_days)
        return self._verdict(
            volunteer,
            "time_taken",
            "candidate.time_taken",
            days=self.voice.days(carrying_days),
            visits=self.voice.visits(blocking),
            named=blocking,
        )

    def blocking_visits(
        self, facts: NeedFacts, volunteer: Volunteer, days: list[int]
    ) -> list[VisitRef]:
        """The planned visits (theirs and the recipient's) in the time the visit could use:
        from its first start they could reach to its last end, give or take the travel."""
        travel = self.travel
        outings = self.diagnoser.outings[volunteer.id]
        found: list[VisitRef] = []
        every: list[VisitRef] = []
        for day in days:
            reach = reachable_starts(travel, facts, volunteer, day, outings.get(day, []))
            if not reach:
                continue
            low, high = reach[0][0], reach[-1][1] + facts.duration
            for visit in self.planned(volunteer, day):
                ref = VisitRef.of(visit)
                every.append(ref)
                place = travel.recipient_place[visit.recipient]
                margin_before = travel.travel_min(volunteer, place, facts.place)
                margin_after = travel.travel_min(volunteer, facts.place, place)
                if visit.start < high + margin_after and visit.end + margin_before > low:
                    found.append(ref)
            for visit in self.recipient_visits(facts, day):
                ref = VisitRef.of(visit)
                every.append(ref)
                if visit.start < high and visit.end > low and ref not in found:
                    found.append(ref)
        return found or list({ref.model_dump_json(): ref for ref in every}.values())

    def would_fit(
        self, volunteer: Volunteer, day: int, start: int, plan_reason: ReasonCode | None
    ) -> CandidateVerdict:
        """It fits as the plan stands: name the visits the solver gave them instead (that day,
        else that week)."""
        given = [VisitRef.of(visit) for visit in self.planned(volunteer, day)] or [
            VisitRef.of(visit) for visit in self.index.visits_of_volunteer.get(volunteer.id, [])
        ]
        when = day_name(WEEKDAYS[day], self.voice.language)
        if given:
            return self._verdict(
                volunteer,
                "would_fit",
                "candidate.would_fit",
                named=given,
                fits_at=(day, start),
                day=when,
                time=format_clock(start),
                visits=self.voice.visits(given),
            )
        reason = self.voice.say(plan_reason or "not_planned").rstrip("。.")
        return self._verdict(
            volunteer,
            "would_fit",
            "candidate.would_fit_idle",
            fits_at=(day, start),
            day=when,
            time=format_clock(start),
            reason=reason,
        )


__all__ = [
    "RULE_ORDER",
    "CandidateRule",
    "CandidateVerdict",
    "Explanation",
    "Judge",
    "VisitRef",
    "Voice",
    "known_visits",
]
