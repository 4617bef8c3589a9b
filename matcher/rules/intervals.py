"""Sets of whole minutes as sorted, disjoint closed intervals `[(low, high), ...]`.

A *start set* holds the start times at which something of a given duration fits inside a set of
windows. Every rule that reasons about time in whole minutes builds on these few operations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

Interval = tuple[int, int]
Intervals = list[Interval]


def normalise(intervals: Iterable[Interval]) -> Intervals:
    """Sort and merge overlapping or touching integer intervals; drop empty ones."""
    merged: Intervals = []
    for low, high in sorted(interval for interval in intervals if interval[0] <= interval[1]):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def intersect(first: Intervals, second: Intervals) -> Intervals:
    """Times in both interval sets."""
    result: Intervals = []
    for a_low, a_high in first:
        for b_low, b_high in second:
            low, high = max(a_low, b_low), min(a_high, b_high)
            if low <= high:
                result.append((low, high))
    return normalise(result)


def start_set(
    windows: Iterable[Interval], duration: int, before: int = 0, after: int = 0
) -> Intervals:
    """Starts s with [s - before, s + duration + after] inside one of the windows."""
    return normalise(
        (start + before, end - duration - after)
        for start, end in windows
        if end - start >= duration + before + after
    )


def subtract_busy(starts: Intervals, busy: Iterable[Interval], duration: int) -> Intervals:
    """The starts left once every start whose visit would overlap a busy span is removed.

    A visit of `duration` starting at s overlaps the busy span [b, e) when s < e and
    s + duration > b; touching spans do not overlap.
    """
    result = list(starts)
    for busy_start, busy_end in sorted(busy):
        blocked_low, blocked_high = busy_start - duration + 1, busy_end - 1
        if blocked_low > blocked_high:
            continue
        kept: Intervals = []
        for low, high in result:
            if blocked_high < low or blocked_low > high:
                kept.append((low, high))
                continue
            if low < blocked_low:
                kept.append((low, blocked_low - 1))
            if blocked_high < high:
                kept.append((blocked_high + 1, high))
        result = kept
    return normalise(result)


def measure(intervals: Intervals) -> int:
    """How many whole minutes the interval set holds."""
    return sum(high - low + 1 for low, high in intervals)


def ceil_minutes(value: float) -> int:
    """Travel minutes rounded up to whole minutes (starts are whole minutes)."""
    return math.ceil(value - 1e-9)
