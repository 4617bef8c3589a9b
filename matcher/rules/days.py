"""Which days the visits of one need may use: at most one a day, `min_gap_days` apart.

`min_gap_days` is the least number of days between two visits of a need (1 allows consecutive
days). A need linked to another by a dependency also keeps the other's gap from the other's days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def far_enough(day: int, taken: Iterable[int], min_gap_days: int) -> bool:
    """Whether a visit on `day` keeps the gap from every day already taken (and is not one)."""
    return all(abs(day - other) >= max(1, min_gap_days) for other in taken)


def too_close(first_day: int, second_day: int, min_gap_days: int) -> bool:
    """Whether two visits of one need on these days break the gap (the same day included)."""
    return abs(first_day - second_day) < max(1, min_gap_days)


def open_days(candidate_days: Iterable[int], taken: Iterable[int], min_gap_days: int) -> list[int]:
    """The candidate days a further visit may still use, given the days taken."""
    chosen = list(taken)
    return sorted(day for day in set(candidate_days) if far_enough(day, chosen, min_gap_days))


def most_visits(candidate_days: Iterable[int], min_gap_days: int) -> int:
    """The most visits that fit these days, one a day and the gap apart (earliest first is
    optimal for a single gap)."""
    count, last = 0, None
    for day in sorted(set(candidate_days)):
        if last is None or day - last >= max(1, min_gap_days):
            count, last = count + 1, day
    return count


def room_for_more(
    taken: Sequence[int], candidate_days: Iterable[int], min_gap_days: int, wanted: int
) -> bool:
    """Whether `wanted` more days can still be chosen from the candidates, keeping the gap from
    every day taken and from each other."""
    if wanted <= 0:
        return True
    return most_visits(open_days(candidate_days, taken, min_gap_days), min_gap_days) >= wanted
