"""When a visit of a need may take place: its windows, the recipient's, and a soft window's
stretch.

A need's visits happen inside its windows while the recipient is at home. A soft window lets a
visit end after its window closes (never start before it opens), by at most `max_lateness_min`
(no limit: to the end of the day); each minute past the window is a minute late.
"""

from __future__ import annotations

from matcher.models import Need, Problem
from matcher.rules.intervals import Intervals, start_set


def lateness_allowance_min(need: Need, day_length_min: int) -> int:
    """How many minutes past its window a visit of this need may end: 0 for a hard window."""
    if not need.soft_window:
        return 0
    return need.max_lateness_min if need.max_lateness_min is not None else day_length_min


def windows_by_day(problem: Problem, need: Need) -> dict[int, Intervals]:
    """The need's allowed windows (its own while the recipient is at home) per weekday index."""
    result: dict[int, set[tuple[int, int]]] = {}
    for window in problem.allowed_windows(need):
        result.setdefault(window.day_index, set()).add((window.start, window.end))
    return {day: sorted(spans) for day, spans in result.items()}


def stretched_windows_by_day(problem: Problem, need: Need) -> dict[int, Intervals]:
    """The allowed windows stretched by the lateness a soft window allows, capped by the day;
    the same as `windows_by_day` for a hard window."""
    return stretch_windows(windows_by_day(problem, need), need, problem.day_length_min)


def stretch_windows(
    windows: dict[int, Intervals], need: Need, day_length_min: int
) -> dict[int, Intervals]:
    """`stretched_windows_by_day` from the need's allowed windows already worked out."""
    stretch = lateness_allowance_min(need, day_length_min)
    return {
        day: sorted({(start, min(day_length_min, end + stretch)) for start, end in spans})
        for day, spans in windows.items()
    }


def visit_starts(stretched: dict[int, Intervals], duration_min: int, day: int) -> Intervals:
    """Start minutes on `day` at which a visit of `duration_min` fits the stretched windows."""
    return start_set(stretched.get(day, []), duration_min)


def lateness_min(windows: dict[int, Intervals], duration_min: int, day: int, start: int) -> float:
    """Minutes late for a visit starting then: the least over the windows already open."""
    late = [
        max(0, start - (end - duration_min))
        for window_start, end in windows.get(day, [])
        if window_start <= start
    ]
    return float(min(late)) if late else 0.0


def days_with_room(problem: Problem, need: Need, duration_min: int) -> list[int]:
    """Weekday indices on which one visit of the need fits its (stretched) windows."""
    return days_fitting(
        windows_by_day(problem, need),
        duration_min,
        lateness_allowance_min(need, problem.day_length_min),
        problem.day_length_min,
    )


def days_fitting(
    allowed: dict[int, Intervals], duration_min: int, allowance_min: float, day_length_min: int
) -> list[int]:
    """Weekday indices on which a visit of `duration_min` fits the allowed windows stretched by
    `allowance_min` minutes of lateness (capped by the day): the form validation uses on input
    that is not a Problem yet."""
    return sorted(
        day
        for day, spans in allowed.items()
        if start_set(
            [(start, int(min(day_length_min, end + allowance_min))) for start, end in spans],
            duration_min,
        )
    )
