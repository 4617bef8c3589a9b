"""Which visits of a plan break a rule of a (changed) problem: the checker decides, a few visits
at a time."""

from __future__ import annotations

from collections import defaultdict

from matcher.checker import Violation, check_plan
from matcher.models import WEEKDAYS, PinnedVisit, Plan, Problem, Visit
from matcher.rules import number_occurrences
from matcher.travel import TravelModel

IGNORED_RULES = frozenset({"pinned_missing", "mandatory_missing"})
"""Rules about the plan as a whole, not about a visit: not a reason to drop an old visit."""

SlotKey = tuple[str, str, int, frozenset[str]]
"""What makes a visit the same visit: its need, day, start and volunteers."""


def slot_key(visit: Visit) -> SlotKey:
    """The need, day, start and volunteers of a visit."""
    return visit.need, visit.day, visit.start, frozenset(visit.volunteers)


def pin_key(pin: PinnedVisit) -> SlotKey:
    """The need, day, start and volunteers of a pinned visit (`slot_key` of its visit)."""
    return pin.need, pin.day, pin.start, frozenset(pin.volunteers)


def broken_visits(
    problem: Problem,
    visits: list[Visit],
    suspects: list[int],
    travel: TravelModel,
    ignored: frozenset[str] = IGNORED_RULES,
) -> dict[int, Violation]:
    """Which visits break a rule of the problem (rules in `ignored` aside), with the first
    rule each breaks.

    Only the suspects, the other visits on their volunteers' weeks and the visits of needs
    linked to theirs are checked together: dropping visits from a valid plan keeps every other
    visit valid except its linked partner's. Dropping one visit may break another (its linked
    partner), so this repeats until the rest keep every rule.
    """
    unpinned = problem.variant(pinned=[])
    volunteers = {volunteer for index in suspects for volunteer in visits[index].volunteers}
    needs = {visits[index].need for index in suspects}
    for dependency in problem.dependencies:
        if dependency.first in needs or dependency.second in needs:
            needs |= {dependency.first, dependency.second}
    scope = [
        index
        for index, visit in enumerate(visits)
        if visit.need in needs or not volunteers.isdisjoint(visit.volunteers)
    ]
    broken: dict[int, Violation] = {}
    for _ in range(len(scope) + 1):
        alive = [index for index in scope if index not in broken]
        subset = number_occurrences(visits[index] for index in alive)
        slots: dict[SlotKey, list[int]] = defaultdict(list)
        for position in alive:
            slots[slot_key(visits[position])].append(position)
        by_key = {(visit.need, visit.occurrence): slots[slot_key(visit)].pop(0) for visit in subset}
        report = check_plan(unpinned, Plan(visits=subset), travel)
        found: dict[int, Violation] = {}
        for violation in report.violations:
            if violation.rule in ignored:
                continue
            index = _violating_visit(violation, by_key, visits, alive)
            if index is not None and index not in broken:
                found.setdefault(index, violation)
        if not found:
            break
        broken.update(found)
    return broken


def _violating_visit(
    violation: Violation,
    by_key: dict[tuple[str, int], int],
    visits: list[Visit],
    alive: list[int],
) -> int | None:
    """The visit a violation is about; for a rule about a volunteer's day or week (visits a day,
    capacity, minutes a week) the volunteer's latest visit of that day or week."""
    if violation.need is not None and violation.occurrence is not None:
        return by_key.get((violation.need, violation.occurrence))
    if violation.volunteer is None:
        return None
    theirs = [
        index
        for index in alive
        if violation.volunteer in visits[index].volunteers
        and (violation.day is None or visits[index].day == violation.day)
    ]
    if not theirs:
        return None
    return max(theirs, key=lambda index: (WEEKDAYS.index(visits[index].day), visits[index].start))


__all__ = ["IGNORED_RULES", "SlotKey", "broken_visits", "pin_key", "slot_key"]
