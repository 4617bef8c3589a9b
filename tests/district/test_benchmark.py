"""The district benchmark's arithmetic: the schedule on paper and the sizes it draws."""

from __future__ import annotations

import pytest

from benchmarks.district import (
    LARGEST,
    SMALLEST,
    buildings_for,
    community_sizes,
    fit_line,
    longest_first_makespan,
    volunteers_for,
)


def test_longest_first_puts_the_long_jobs_apart() -> None:
    assert longest_first_makespan([5, 4, 3, 3, 3], 2) == 10  # the best is 9: LPT is a rule
    assert longest_first_makespan([5, 4, 3], 100) == 5
    assert longest_first_makespan([1.0] * 10, 1) == 10


def test_the_line_is_fitted_by_least_squares() -> None:
    intercept, slope = fit_line([100, 200, 300], [1.5, 2.5, 3.5])
    assert intercept == pytest.approx(0.5) and slope == pytest.approx(0.01)
    assert fit_line([100, 100], [2.0, 4.0]) == (3.0, 0.0)


def test_sizes_are_in_the_seed_range_and_repeatable() -> None:
    sizes = community_sizes(40, 0)
    assert sizes == community_sizes(40, 0) and sizes != community_sizes(40, 1)
    assert all(SMALLEST <= size <= LARGEST for size in sizes)
    assert (volunteers_for(SMALLEST), volunteers_for(LARGEST)) == (30, 120)
    assert (buildings_for(SMALLEST), buildings_for(LARGEST)) == (3, 8)
