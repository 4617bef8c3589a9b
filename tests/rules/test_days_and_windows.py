"""The min-gap rule and the windows of a need, as matcher.rules states them once."""

from __future__ import annotations

import pytest

from matcher.models import Need, Problem
from matcher.rules.days import far_enough, most_visits, open_days, room_for_more, too_close
from matcher.rules.intervals import start_set, subtract_busy
from matcher.rules.windows import lateness_allowance_min, lateness_min, stretched_windows_by_day


@pytest.mark.parametrize(
    ("day", "taken", "gap", "expected"),
    [(2, [0], 2, True), (1, [0], 2, False), (0, [0], 1, False), (3, [1, 5], 2, True)],
)
def test_far_enough_keeps_the_gap_from_every_day_taken(
    day: int, taken: list[int], gap: int, expected: bool
) -> None:
    assert far_enough(day, taken, gap) is expected
    assert any(too_close(day, other, gap) for other in taken) is not expected


def test_the_same_day_is_always_too_close_even_with_no_gap() -> None:
    """Two visits of a need never share a day, whatever `min_gap_days` says."""
    assert too_close(3, 3, 0)
    assert not far_enough(3, [3], 0)


def test_open_days_and_room_for_more() -> None:
    assert open_days(range(7), [2], 2) == [0, 4, 5, 6]
    assert most_visits(range(7), 3) == 3  # mon, thu, sun
    assert most_visits([0, 1, 2], 2) == 2
    assert room_for_more([0], range(7), 3, 2)
    assert not room_for_more([0], range(7), 3, 3)


def test_start_sets_and_busy_spans() -> None:
    """Starts of a 30-minute visit inside 9:00-10:00, then with 9:20-9:40 taken."""
    starts = start_set([(540, 600)], 30)
    assert starts == [(540, 570)]
    assert subtract_busy(starts, [(560, 580)], 30) == []
    assert subtract_busy(start_set([(540, 660)], 30), [(580, 600)], 30) == [(540, 550), (600, 630)]


def test_a_soft_window_stretches_by_its_allowance_and_counts_lateness() -> None:
    problem = Problem.model_validate(
        {
            "week_start": "2026-11-30",
            "services": [{"id": "s", "duration_min": 60}],
            "recipients": [
                {
                    "id": "r",
                    "location": {"x_m": 0, "y_m": 0},
                    "needs": [
                        {
                            "id": "n",
                            "service": "s",
                            "windows": [{"day": "mon", "start": "09:00", "end": "10:30"}],
                            "soft_window": True,
                            "max_lateness_min": 20,
                        }
                    ],
                }
            ],
        }
    )
    need: Need = problem.need_by_id["n"]
    assert lateness_allowance_min(need, problem.day_length_min) == 20
    assert stretched_windows_by_day(problem, need) == {0: [(540, 650)]}
    windows = {0: [(540, 630)]}
    assert lateness_min(windows, 60, 0, 570) == 0.0
    assert lateness_min(windows, 60, 0, 585) == 15.0
    hard = need.model_copy(update={"soft_window": False})
    assert lateness_allowance_min(hard, problem.day_length_min) == 0
