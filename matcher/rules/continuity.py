"""Continuity: the volunteers a recipient knows, whether one of them could visit at all this
week, and whether one does.

A recipient's *familiar* volunteers are those they prefer (`Recipient.preferred_volunteers`)
and those of a standing pairing (an entry of `Problem.history`): the volunteers whose visits the
objective rewards (`PolicyWeights.continuity_points`). A familiar volunteer *could* visit when no
hard rule rules them out of every one of the recipient's needs before anything is planned
(`alone_ruled_out_by`: qualification, load, visits a day, weekly minutes, a shared time, getting
there and back home within one of their outings). The share of recipients with a familiar
volunteer who could is the *ceiling* of continuity (`continuity_shares`): no plan keeps more,
and every solver is measured against it.

`matcher.continuity` explains broken pairings with the same `alone_ruled_out_by`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher.models import Problem, Visit, Volunteer
from matcher.rules.facts import NeedFacts, reachable_starts, shared_starts
from matcher.rules.intervals import Intervals
from matcher.rules.outings import outings_by_day
from matcher.rules.qualification import Unqualified, qualification_failures
from matcher.rules.volunteer_week import alone_problems, can_carry, visits_allowed

if TYPE_CHECKING:
    from matcher.travel import TravelModel

RULE_ORDER = (
    "recipient_kind",
    "skill",
    "verified",
    "background_check",
    "excluded_volunteer",
    "capacity",
    "max_visits_per_day",
    "max_minutes_per_week",
    "volunteer_window",
    "trip_distance",
    "outing_distance",
    "travel_time",
)
"""The hard rules (docs/rules.md codes) that can rule a volunteer out of a need before any
visit is planned, in the order they are judged."""

QUALIFICATION_CODES: dict[Unqualified, str] = {
    "recipient_kind": "recipient_kind",
    "skills": "skill",
    "verified": "verified",
    "background_check": "background_check",
    "excluded": "excluded_volunteer",
}
"""`rules.qualification` failures by their docs/rules.md codes."""


def alone_ruled_out_by(
    travel: TravelModel, facts: NeedFacts, volunteer: Volunteer, outings: dict[int, Intervals]
) -> str | None:
    """The first hard rule (of `RULE_ORDER`) that rules the volunteer out of every visit of the
    need before anything is planned, or None when they could make one as an outing of its own:
    qualification (`rules.qualification`), the load, visits a day and weekly minutes they allow,
    a time they share with it (`shared_starts`), and getting there and back within an outing
    (`alone_problems`, `reachable_starts`). `outings` are the volunteer's (`outings_by_day`)."""
    need = facts.need
    failures = {
        QUALIFICATION_CODES[failure]
        for failure in qualification_failures(facts.service, facts.recipient, volunteer)
    }
    if not can_carry(volunteer, need.load):
        failures.add("capacity")
    if not visits_allowed(volunteer, 0):
        failures.add("max_visits_per_day")
    cap = volunteer.max_minutes_per_week
    if cap is not None and cap < facts.duration:
        failures.add("max_minutes_per_week")
    first = next((rule for rule in RULE_ORDER if rule in failures), None)
    if first is not None:
        return first
    shared = [
        day
        for day in sorted(facts.late_windows_by_day)
        if shared_starts(facts, day, outings.get(day, []))
    ]
    if not shared:
        return "volunteer_window"
    problems = alone_problems(travel, volunteer, facts.place)
    for problem_code, rule in (
        ("trip_distance", "trip_distance"),
        ("outing_distance", "outing_distance"),
        ("unreachable", "travel_time"),
    ):
        if problem_code in problems:
            return rule
    if not any(
        reachable_starts(travel, facts, volunteer, day, outings.get(day, [])) for day in shared
    ):
        return "travel_time"
    return None


def familiar_volunteers(problem: Problem) -> dict[str, set[str]]:
    """Per recipient with a need, the volunteers they prefer or have a standing pairing with
    (named in the history), whether or not those volunteers are in this week; recipients with
    none are left out."""
    found: dict[str, set[str]] = {}
    for recipient in problem.recipients:
        if recipient.needs and recipient.preferred_volunteers:
            found.setdefault(recipient.id, set()).update(recipient.preferred_volunteers)
    for entry in problem.history:
        paired = problem.recipient_by_id.get(entry.recipient)
        if paired is not None and paired.needs:
            found.setdefault(paired.id, set()).add(entry.volunteer)
    return found


def possible_familiar(
    problem: Problem, travel: TravelModel, facts: dict[str, NeedFacts]
) -> dict[str, set[str]]:
    """Per recipient with a familiar volunteer (`familiar_volunteers`), those of them in this
    week who could make at least one of the recipient's visits on their own
    (`alone_ruled_out_by` is None for one of the recipient's needs)."""
    outings: dict[str, dict[int, Intervals]] = {}
    result: dict[str, set[str]] = {}
    for recipient_id, volunteers in familiar_volunteers(problem).items():
        recipient = problem.recipient_by_id[recipient_id]
        able: set[str] = set()
        for volunteer_id in sorted(volunteers):
            volunteer = problem.volunteer_by_id.get(volunteer_id)
            if volunteer is None:
                continue
            if volunteer_id not in outings:
                outings[volunteer_id] = outings_by_day(volunteer)
            if any(
                alone_ruled_out_by(travel, facts[need.id], volunteer, outings[volunteer_id]) is None
                for need in recipient.needs
            ):
                able.add(volunteer_id)
        result[recipient_id] = able
    return result


def kept_familiar(problem: Problem, visits: Iterable[Visit]) -> set[str]:
    """Recipients with a familiar volunteer who get at least one visit by one of them (alone
    or in a team)."""
    familiar = familiar_volunteers(problem)
    kept: set[str] = set()
    for visit in visits:
        recipient = problem.recipient_of_need.get(visit.need)
        if recipient is None or recipient.id in kept:
            continue
        if familiar.get(recipient.id, set()) & set(visit.volunteers):
            kept.add(recipient.id)
    return kept


@dataclass(frozen=True)
class ContinuityShares:
    """How many recipients have a familiar volunteer, how many could be visited by one (the
    ceiling) and how many are, in one plan."""

    recipients: int
    could: int
    kept: int

    @property
    def ceiling_pct(self) -> float:
        """Share of recipients with a familiar volunteer who could be visited by one."""
        return 100.0 * self.could / self.recipients if self.recipients else 100.0

    @property
    def kept_pct(self) -> float:
        """Share of recipients with a familiar volunteer who are visited by one."""
        return 100.0 * self.kept / self.recipients if self.recipients else 100.0

    @property
    def of_ceiling_pct(self) -> float:
        """Recipients visited by a familiar volunteer, per hundred who could be."""
        return 100.0 * self.kept / self.could if self.could else 100.0


def continuity_shares(
    problem: Problem,
    travel: TravelModel,
    facts: dict[str, NeedFacts],
    visits: Iterable[Visit],
) -> ContinuityShares:
    """The recipients with a familiar volunteer, those who could be visited by one and those
    who are, in these visits."""
    possible = possible_familiar(problem, travel, facts)
    return ContinuityShares(
        recipients=len(possible),
        could=sum(1 for able in possible.values() if able),
        kept=len(kept_familiar(problem, visits)),
    )
