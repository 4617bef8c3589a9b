"""Occurrences of a need: the planned visits numbered 1, 2, ... in day order, then the missing.

A need asks for `visits_per_week` occurrences. The planned ones are numbered by day and start
within the need; the occurrences left out carry the numbers after them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from matcher.models import WEEKDAYS, Need, Visit


def visit_order(visit: Visit) -> tuple[int, int, str]:
    """The order of a plan's visits: day, start, need."""
    return WEEKDAYS.index(visit.day), visit.start, visit.need


def number_occurrences(visits: Iterable[Visit]) -> list[Visit]:
    """Occurrence numbers 1, 2, ... in day order within each need; visits sorted by time."""
    by_need: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        by_need[visit.need].append(visit)
    numbered: list[Visit] = []
    for need_visits in by_need.values():
        ordered = sorted(need_visits, key=lambda item: (WEEKDAYS.index(item.day), item.start))
        for number, visit in enumerate(ordered, start=1):
            same = visit.occurrence == number
            numbered.append(visit if same else visit.model_copy(update={"occurrence": number}))
    numbered.sort(key=visit_order)
    return numbered


def planned_counts(visits: Iterable[Visit]) -> dict[str, int]:
    """How many visits of each need a plan holds."""
    counts: dict[str, int] = defaultdict(int)
    for visit in visits:
        counts[visit.need] += 1
    return dict(counts)


def missing_occurrences(
    needs: Mapping[str, Need], visits: Iterable[Visit]
) -> list[tuple[str, int]]:
    """(need id, occurrence number) of every occurrence the visits leave out, in need order."""
    counts = planned_counts(visits)
    return [
        (need_id, number)
        for need_id, need in sorted(needs.items())
        for number in range(counts.get(need_id, 0) + 1, need.visits_per_week + 1)
    ]
