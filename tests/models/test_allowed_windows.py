"""`intersect_windows`: the windows a visit may lie inside are exactly the maximal intersections
of a need's windows with the recipient's home windows (a window inside another adds nothing), and
many overlapping windows do not multiply into every pair (issue 10, finding 4: 2,000 by 2,000
windows gave 213,000 allowed windows and planned nothing in the time limit)."""

from __future__ import annotations

import random

import pytest

from matcher.models import WEEKDAYS, TimeWindow, intersect_windows
from matcher.rules.intervals import start_set


def _random_windows(rng: random.Random, count: int) -> list[TimeWindow]:
    windows = []
    for _ in range(count):
        start = rng.randrange(0, 600)
        windows.append(
            TimeWindow(day=rng.choice(WEEKDAYS[:2]), start=start, end=start + rng.randrange(1, 200))
        )
    return windows


def _maximal_pairs(
    first: list[TimeWindow], second: list[TimeWindow], day: str
) -> list[tuple[int, int]]:
    """Every pairwise intersection on the day, less those inside another (the brute force)."""
    pairs = {
        (max(a.start, b.start), min(a.end, b.end))
        for a in first
        for b in second
        if a.day == b.day == day and min(a.end, b.end) > max(a.start, b.start)
    }
    return sorted(
        span
        for span in pairs
        if not any(other != span and other[0] <= span[0] and span[1] <= other[1] for other in pairs)
    )


@pytest.mark.parametrize("seed", range(6))
def test_allowed_windows_are_the_maximal_pairwise_intersections(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(200):
        first = _random_windows(rng, rng.randrange(1, 9))
        second = _random_windows(rng, rng.randrange(1, 9))
        found = intersect_windows(first, second)
        assert found == sorted(found, key=lambda window: (window.day_index, window.start))
        for day in WEEKDAYS[:2]:
            spans = [(window.start, window.end) for window in found if window.day == day]
            assert spans == _maximal_pairs(first, second, day)
            pairs = [
                (max(a.start, b.start), min(a.end, b.end))
                for a in first
                for b in second
                if a.day == b.day == day
            ]
            for duration in (1, 30, 90):
                assert start_set(spans, duration) == start_set(pairs, duration)


def test_an_empty_side_stands_for_the_whole_week() -> None:
    windows = [TimeWindow(day="tue", start=600, end=660)]
    assert intersect_windows(windows, []) == windows
    assert intersect_windows([], windows) == windows
    assert len(intersect_windows([], [])) == 7


def test_two_thousand_overlapping_windows_on_each_side_do_not_multiply() -> None:
    """Hour-long windows a minute apart on both sides: every pair within the hour overlaps
    (about 235,000 pairs), but each intersection lies inside one of the 2,000 windows the two
    sides share."""
    windows = [
        TimeWindow(day=WEEKDAYS[index % 7], start=360 + index // 7, end=420 + index // 7)
        for index in range(2_000)
    ]
    found = intersect_windows(windows, list(reversed(windows)))
    assert len(found) == 2_000
    assert {(w.day, w.start, w.end) for w in found} == {(w.day, w.start, w.end) for w in windows}
