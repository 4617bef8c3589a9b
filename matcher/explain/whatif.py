"""What-if: which single change (one more volunteer, a wider window, a higher weekly cap, a bike
instead of walking) would plan the most high-priority visits now left out, found by re-solving
with `matcher.api.solve`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from matcher.api import solve
from matcher.explain.analyst import explain_unassigned, language_of
from matcher.explain.verdicts import Explanation
from matcher.messages import LANGUAGES, Language, checked_language, day_name, join, message
from matcher.models import WEEKDAYS, Plan, Problem, TimeWindow, Volunteer, format_clock
from matcher.models.common import StrictModel
from matcher.models.problem import TravelMode
from matcher.rules import NeedFacts, need_facts, planned_counts
from matcher.rules.outings import EPSILON
from matcher.travel import TravelModel

DEFAULT_WHAT_IF_LIMIT = 12
"""Candidate changes re-solved by `what_if` unless told otherwise."""
WIDEN_MINUTES = 60
CAP_RAISE_MINUTES = 60
HELPER_MARGIN_MIN = 15
"""An added volunteer's outing opens this many minutes before the visits' windows and closes
this many after them: time to walk to the first visit and home from the last."""


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
        """One line: the change, how many more visits, which, and which it would drop."""
        lang = checked_language(language) if language is not None else self.language
        description = self.descriptions[lang]
        planned = [f"{item.need} #{item.occurrence}" for item in self.plans]
        dropped = [f"{item.need} #{item.occurrence}" for item in self.drops]
        result = message(
            "whatif.result",
            lang,
            description=description,
            visits=self.visits_gained,
            weighted=f"{self.weighted_gain:g}",
            planned=join(planned, lang) if planned else message("explain.none", lang),
        )
        if dropped:
            return result + message(
                "whatif.drops", lang, visits=len(dropped), dropped=join(dropped, lang)
            )
        return result + message("whatif.no_drops", lang)


def apply_change(problem: Problem, change: Change) -> Problem:
    """A new problem with the change made (the original is left as it is), validated."""
    if isinstance(change, AddVolunteer):
        changed = problem.add_volunteer(change.volunteer)
    elif isinstance(change, WidenWindow):
        need = problem.need_by_id[change.need]
        windows = [
            TimeWindow(
                day=window.day,
                start=max(0, window.start - change.earlier_min),
                end=min(problem.day_length_min, window.end + change.later_min),
            )
            for window in need.windows
        ]
        changed = problem.replace_need(need.model_copy(update={"windows": windows}))
    else:
        volunteer = problem.volunteer_by_id[change.volunteer]
        if isinstance(change, RaiseWeeklyCap):
            update: dict[str, Any] = {"max_minutes_per_week": change.new_min}
        else:
            update = {"travel_mode": "bike", "speed_m_per_min": None}
        changed = problem.replace_volunteer(volunteer.model_copy(update=update))
    return Problem.model_validate(changed)


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
    """One more volunteer per (qualifications, building, day) of the left-out visits, living in
    the building of the most urgent one: one outing that day, from `HELPER_MARGIN_MIN` before
    their windows open to as long after they close (time to walk out and be home again)."""
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
    total_time_limit_s: float | None = None,
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

    Parameters:
        problem: the week.
        plan: its plan; the visits it leaves out (`explain_unassigned`) suggest the changes.
        solver: the solver that re-solves the week with and without each change.
        limit: how many candidate changes are re-solved (0: none); not negative.
        time_limit_s: each re-solve's time limit in seconds (None: the solver's default).
        seed: each re-solve's seed.
        travel: the problem's travel model, to reuse its matrices (built when not given).
        language: of the descriptions, `en` or `zh`; default the policy's.
        total_time_limit_s: all the re-solves together in seconds (None: no total): the total
            is shared evenly by the unchanged week and the `limit` changes (each re-solve gets
            at most its share, and at most `time_limit_s`), so a portal's request has a
            predictable run time however many changes it asks for.
    """
    if limit < 0:
        raise ValueError("limit must not be negative")
    if total_time_limit_s is not None and not total_time_limit_s > 0:
        raise ValueError("total_time_limit_s must be a positive number of seconds")
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
    if total_time_limit_s is not None:
        share_s = total_time_limit_s / (len(chosen) + 1)
        time_limit_s = share_s if time_limit_s is None else min(time_limit_s, share_s)
    baseline = planned_counts(
        solve(problem, solver=solver, time_limit_s=time_limit_s, seed=seed).visits
    )
    chosen_language = language_of(problem, language)
    results: list[tuple[int, WhatIf]] = []
    for order, candidate in enumerate(chosen):
        changed = apply_change(problem, candidate.change)
        counts = planned_counts(
            solve(changed, solver=solver, time_limit_s=time_limit_s, seed=seed).visits
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
