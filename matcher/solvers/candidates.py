"""Transitional: the candidate analysis moved to `matcher.rules`; this module is deleted once no
solver imports it."""

from __future__ import annotations

from matcher.models import Problem, Recipient, Service, Volunteer
from matcher.rules import (
    Diagnoser,
    Intervals,
    NeedFacts,
    ceil_minutes,
    intersect,
    need_facts,
    normalise,
    reachable_starts,
    start_set,
)
from matcher.rules import is_qualified as _is_qualified
from matcher.rules.plan_index import PlanIndex
from matcher.travel import TravelModel

__all__ = [
    "Intervals",
    "NeedFacts",
    "availability_by_day",
    "ceil_minutes",
    "diagnose_unplanned",
    "intersect",
    "is_qualified",
    "need_facts",
    "normalise",
    "reachable_start_set",
    "start_set",
]


def is_qualified(
    problem: Problem, service: Service, recipient: Recipient, volunteer: Volunteer
) -> bool:
    """Skills, verification, background check, kind of recipient, not excluded."""
    return _is_qualified(service, recipient, volunteer)


def availability_by_day(volunteer: Volunteer) -> dict[int, Intervals]:
    """The volunteer's availability windows per weekday index, sorted."""
    result: dict[int, Intervals] = {}
    for window in volunteer.availability:
        result.setdefault(window.day_index, []).append((window.start, window.end))
    return {day: sorted(set(intervals)) for day, intervals in result.items()}


def reachable_start_set(
    problem: Problem,
    travel: TravelModel,
    facts: NeedFacts,
    volunteer: Volunteer,
    day: int,
    availability: dict[int, Intervals],
) -> Intervals:
    """Starts at which this volunteer could make this visit alone on this day."""
    return reachable_starts(travel, facts, volunteer, day, availability.get(day, []))


def diagnose_unplanned(problem: Problem, travel: TravelModel, facts: NeedFacts) -> tuple[str, str]:
    """Why a need's visit could not be planned, ignoring the plan (transitional)."""
    diagnoser = Diagnoser(problem, travel, {facts.need.id: facts})
    diagnoser.partners = {}
    diagnosis = diagnoser.diagnose(facts.need.id, diagnoser.open_days(facts.need.id, PlanIndex()))
    return diagnosis.reason, diagnosis.message
