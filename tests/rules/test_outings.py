"""Outings: a volunteer's windows merged where they overlap or touch, each a trip home to home."""

from __future__ import annotations

from matcher.models import Problem
from matcher.rules.outings import (
    Stop,
    alone_reach,
    merge_windows,
    outing_index,
    outing_problems,
    outings_by_day,
    walk_outing,
)
from matcher.travel import TravelModel


def walker_week(**volunteer: object) -> Problem:
    """A walker at the origin, free 09:00-11:00 and 15:00-17:00 on Monday, and two elders 670 m
    and 1,340 m away (10 and 20 minutes' walk, no detour)."""
    return Problem.model_validate(
        {
            "week_start": "2026-11-30",
            "services": [{"id": "chat", "duration_min": 30}],
            "recipients": [
                {"id": "near", "location": {"x_m": 670, "y_m": 0}},
                {"id": "far", "location": {"x_m": 1340, "y_m": 0}},
            ],
            "volunteers": [
                {
                    "id": "w",
                    "home": {"x_m": 0, "y_m": 0},
                    "availability": [
                        {"day": "mon", "start": "09:00", "end": "11:00"},
                        {"day": "mon", "start": "15:00", "end": "17:00"},
                    ],
                    **volunteer,
                }
            ],
            "travel": {"detour_factor": 1.0},
        }
    )


def test_windows_merge_where_they_overlap_or_touch() -> None:
    assert merge_windows([(600, 660), (540, 600), (900, 960), (950, 1000)]) == [
        (540, 660),
        (900, 1000),
    ]
    assert outing_index([(540, 660), (900, 1000)], 630, 660) == 0
    assert outing_index([(540, 660), (900, 1000)], 640, 700) is None


def test_two_windows_are_two_outings_each_home_by_its_close() -> None:
    problem = walker_week()
    travel = TravelModel(problem)
    volunteer = problem.volunteers[0]
    outings = outings_by_day(volunteer)[0]
    assert outings == [(540, 660), (900, 1020)]
    near = travel.recipient_place["near"]
    # 10:20-10:50 is fine (home by 11:00); 10:30-11:00 is not: the walk home ends at 11:10.
    assert outing_problems(travel, volunteer, outings[0], [Stop(near, 620, 650)]) == []
    assert outing_problems(travel, volunteer, outings[0], [Stop(near, 630, 660)]) == ["home_late"]
    # The afternoon outing leaves home at 15:00 at the earliest.
    assert outing_problems(travel, volunteer, outings[1], [Stop(near, 900, 930)]) == ["leave_early"]


def test_the_walk_of_an_outing_and_its_distance_limits() -> None:
    problem = walker_week(max_outing_distance_m=2000, max_trip_distance_m=1000)
    travel = TravelModel(problem)
    volunteer = problem.volunteers[0]
    near, far = travel.recipient_place["near"], travel.recipient_place["far"]
    walk = walk_outing(travel, volunteer, [near])
    assert round(walk.distance_m) == 1340
    assert round(walk.travel_min) == 20
    assert alone_reach(travel, volunteer, near) is not None
    assert alone_reach(travel, volunteer, far) is None  # a leg of 1,340 m
    problems = outing_problems(
        travel, volunteer, (540, 660), [Stop(near, 560, 590), Stop(far, 610, 640)]
    )
    assert "trip_distance" in problems  # far -> home is 1,340 m
    assert "outing_distance" in problems  # 670 + 670 + 1340 = 2,680 m
