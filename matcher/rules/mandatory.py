"""Mandatory needs come first: an occurrence of a mandatory need is planned before any optional
occurrence takes its place, whatever the priorities.

Plans therefore compare lexicographically: first by how many mandatory occurrences they plan
(`mandatory_planned`), then by weighted coverage. A solver that cannot plan every mandatory
occurrence plans as many as it can, and the plan says which are missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from matcher.models import Need, Visit
from matcher.rules.occurrences import planned_counts


def mandatory_planned(needs: Mapping[str, Need], visits: Iterable[Visit]) -> int:
    """How many occurrences of mandatory needs the visits plan (at most `visits_per_week` of
    each need count)."""
    counts = planned_counts(visits)
    return sum(
        min(counts.get(need_id, 0), need.visits_per_week)
        for need_id, need in needs.items()
        if need.mandatory
    )


def mandatory_requested(needs: Mapping[str, Need]) -> int:
    """How many occurrences of mandatory needs the week asks for."""
    return sum(need.visits_per_week for need in needs.values() if need.mandatory)


def ranks_above(
    first: tuple[int, float], second: tuple[int, float], tolerance: float = 1e-9
) -> bool:
    """Whether a plan ranked `(mandatory occurrences, score)` comes before another: more
    mandatory occurrences, else as many and a score higher by more than `tolerance` (the score
    is the weighted coverage or the policy objective, whichever the caller compares)."""
    return first[0] > second[0] or (first[0] == second[0] and first[1] > second[1] + tolerance)


def mandatory_counts(needs: Mapping[str, Need], visits: Iterable[Visit]) -> dict[str, int]:
    """`mandatory_planned` and `mandatory_requested` under those names: what the mandatory-first
    searches (`cpsat`, `lns`) report in `plan.solver.statistics`."""
    return {
        "mandatory_planned": mandatory_planned(needs, visits),
        "mandatory_requested": mandatory_requested(needs),
    }
