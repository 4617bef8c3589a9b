"""The coordinator's pinned visits: each stands in the plan exactly as given."""

from __future__ import annotations

from matcher.models import WEEKDAYS, Problem, Visit
from matcher.rules.facts import NeedFacts
from matcher.rules.occurrences import number_occurrences
from matcher.rules.visits import visit_of


def pinned_visits(problem: Problem, facts: dict[str, NeedFacts]) -> list[Visit]:
    """The pinned visits as plan visits (the need's duration from its start), numbered."""
    return number_occurrences(
        visit_of(
            problem,
            facts[pinned.need],
            WEEKDAYS.index(pinned.day),
            pinned.start,
            sorted(pinned.volunteers),
        )
        for pinned in problem.pinned
    )


def pinned_keys(problem: Problem) -> set[tuple[str, str, int]]:
    """(need, day, start) of every pinned visit: what a search must leave where it is."""
    return {(pin.need, pin.day, pin.start) for pin in problem.pinned}
