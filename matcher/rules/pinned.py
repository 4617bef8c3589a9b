"""The coordinator's pinned visits: each stands in the plan exactly as given."""

from __future__ import annotations

from matcher.models import Problem, Visit
from matcher.rules.facts import NeedFacts
from matcher.rules.occurrences import number_occurrences


def pinned_visits(problem: Problem, facts: dict[str, NeedFacts]) -> list[Visit]:
    """The pinned visits as plan visits (the need's duration from its start), numbered."""
    visits = []
    for pinned in problem.pinned:
        need = facts[pinned.need]
        visits.append(
            Visit(
                need=pinned.need,
                recipient=need.recipient.id,
                service=need.service.id,
                occurrence=1,
                day=pinned.day,
                date=problem.date_of(pinned.day),
                start=pinned.start,
                end=pinned.start + need.duration,
                volunteers=sorted(pinned.volunteers),
            )
        )
    return number_occurrences(visits)


def pinned_keys(problem: Problem) -> set[tuple[str, str, int]]:
    """(need, day, start) of every pinned visit: what a search must leave where it is."""
    return {(pin.need, pin.day, pin.start) for pin in problem.pinned}
