"""A planned visit of a need: what a solver's (need, day, start, volunteers) stands for."""

from __future__ import annotations

from collections.abc import Iterable

from matcher.models import WEEKDAYS, Problem, Visit
from matcher.rules.facts import NeedFacts


def visit_of(
    problem: Problem, facts: NeedFacts, day: int, start: int, volunteers: Iterable[str]
) -> Visit:
    """The visit of the need on weekday `day` (0 = Monday) from `start`, by these volunteers in
    the order given: it lasts the need's duration and falls on that day's date of the week.
    Occurrence 1 until `number_occurrences` numbers the plan's visits."""
    weekday = WEEKDAYS[day]
    return Visit(
        need=facts.need.id,
        recipient=facts.recipient.id,
        service=facts.service.id,
        occurrence=1,
        day=weekday,
        date=problem.date_of(weekday),
        start=start,
        end=start + facts.duration,
        volunteers=list(volunteers),
    )
