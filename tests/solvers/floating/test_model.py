"""The reference evaluator: schedule, cost and feasible on small hand-made days."""

from __future__ import annotations

import numpy as np

from matcher.solvers.floating.model import (
    DayRoutes,
    Group,
    Stop,
    Vehicle,
    Weights,
    Window,
    cost,
    feasible,
    schedule,
)


def line_day(stops: list[Stop], routes: list[list[int]], **vehicle: object) -> DayRoutes:
    """Places on a line 0..4 (place 0 the depot), 1 km and 10.5 minutes apart per step."""
    positions = np.arange(5, dtype=np.float64)
    steps = np.abs(positions[:, None] - positions[None, :])
    settings: dict[str, object] = {"opens_min": 0, "closes_min": 600, "group": 0} | vehicle
    return DayRoutes(
        stops=stops,
        vehicles=[Vehicle(start_place=0, end_place=0, **settings)],  # type: ignore[arg-type]
        groups=[Group(capacity=10, max_stops=3, max_work_min=200.0)],
        distance_m=steps * 1000.0,
        travel_min=steps * 10.5,
        weights=Weights(per_m=1.0, per_work_min=2.0, per_late_min=5.0),
        routes=routes,
    )


def hard(earliest: int, latest: int) -> tuple[Window, ...]:
    return (Window(earliest, latest, latest),)


def test_starts_are_the_ceiling_of_arrival_or_the_window_opening() -> None:
    stops = [Stop(1, 5, hard(0, 100)), Stop(2, 5, hard(40, 100))]
    day = line_day(stops, [[0, 1]])
    # 10.5 -> 11; then 11 + 5 + 10.5 = 26.5 -> 27 but the window opens at 40
    assert schedule(day, 0, [0, 1]) == [11, 40]
    assert schedule(day, 0, []) == []


def test_a_start_picks_the_first_window_it_can_still_reach() -> None:
    windows = (Window(0, 5, 5), Window(30, 30, 35), Window(50, 50, 60))
    day = line_day([Stop(1, 0, windows)], [[0]])
    assert schedule(day, 0, [0]) == [30]
    late_windows = (Window(0, 5, 5), Window(20, 20, 25))
    assert schedule(line_day([Stop(1, 0, late_windows)], [[0]]), 0, [0]) == [20]
    closed = (Window(0, 5, 5), Window(6, 8, 10))
    assert schedule(line_day([Stop(1, 0, closed)], [[0]]), 0, [0]) is None


def test_fixed_stops_keep_their_start_and_may_not_be_reached_late() -> None:
    stops = [Stop(1, 5, hard(0, 100)), Stop(3, 5, hard(0, 600), fixed=(0, 60))]
    day = line_day(stops, [[0, 1]])
    assert schedule(day, 0, [0, 1]) == [11, 60]
    early = [Stop(1, 5, hard(0, 100)), Stop(3, 5, hard(0, 600), fixed=(0, 30))]
    assert schedule(line_day(early, [[0, 1]]), 0, [0, 1]) is None


def test_opening_closing_and_leg_limits() -> None:
    stops = [Stop(4, 10, hard(0, 600))]
    assert schedule(line_day(stops, [[0]], opens_min=100), 0, [0]) == [142]
    # 42 + 10 + 42 = 94: back at 94
    assert schedule(line_day(stops, [[0]], closes_min=94), 0, [0]) == [42]
    assert schedule(line_day(stops, [[0]], closes_min=93), 0, [0]) is None
    assert schedule(line_day(stops, [[0]], max_leg_m=3999.0), 0, [0]) is None


def test_cost_adds_distance_work_lateness_and_takes_prizes() -> None:
    soft = (Window(0, 5, 100),)
    stops = [Stop(1, 5, soft, prize=50.0, required=False)]
    day = line_day(stops, [[0]])
    # 2 km, work 5 + 21 min, late 11 - 5 = 6 min, prize 50
    assert cost(day, [[0]]) == 2000.0 + 2.0 * 26.0 + 5.0 * 6 - 50.0
    assert cost(day, [[]]) == 0.0


def test_feasible_lists_every_broken_rule() -> None:
    stops = [
        Stop(1, 5, hard(0, 600), load=6),
        Stop(2, 5, hard(0, 600), load=6),
        Stop(3, 5, hard(0, 600), vehicles=frozenset({1})),
        Stop(4, 5, hard(0, 600)),
    ]
    day = line_day(stops, [[0, 1, 2, 0]], max_route_m=5000.0)
    problems = feasible(day, [[0, 1, 2, 0]])
    text = "\n".join(problems)
    assert "stop 2 is not allowed on vehicle 0" in text
    assert "stop 0 is routed 2 times" in text
    assert "required stop 3 is not routed" in text
    assert "capacity" in text and "max_stops" in text and "max_route_m" in text
    assert feasible(day, [[1]]) == [
        "required stop 0 is not routed",
        "required stop 2 is not routed",
        "required stop 3 is not routed",
    ]


def test_work_limit_counts_durations_and_travel_not_waiting() -> None:
    stops = [Stop(2, 50, hard(300, 600))]
    day = line_day(stops, [[0]])
    assert feasible(day, [[0]]) == []
    # 50 + 21 + 21 = 92 work minutes; the 279 minutes of waiting before 300 do not count
    day.groups = [Group(max_work_min=92.0)]
    assert feasible(day, [[0]]) == []
    day.groups = [Group(max_work_min=91.0)]
    assert feasible(day, [[0]]) == ["group 0: 92.000 work minutes > max_work_min"]
