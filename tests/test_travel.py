"""Travel: distances and times against values worked out by hand."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from matcher.models import Problem
from matcher.travel import TravelModel, great_circle_m


def problem_with(
    recipients: list[dict[str, Any]],
    volunteers: list[dict[str, Any]],
    travel: dict[str, Any] | None = None,
) -> Problem:
    """A problem holding just these places."""
    return Problem.model_validate(
        {
            "week_start": "2026-11-30",
            "recipients": recipients,
            "volunteers": volunteers,
            "travel": travel or {},
        }
    )


def test_planar_distance_times_detour_and_speed() -> None:
    """A 3-4-5 triangle: 500 m straight, 650 m with detour 1.3, 10 min at 65 m/min."""
    problem = problem_with(
        [{"id": "r", "location": {"x_m": 300, "y_m": 400}}],
        [{"id": "v", "home": {"x_m": 0, "y_m": 0}, "speed_m_per_min": 65}],
    )
    travel = TravelModel(problem)
    home, elder = travel.home_place["v"], travel.recipient_place["r"]
    assert travel.distance(home, elder) == pytest.approx(650.0)
    assert travel.travel_min("v", home, elder) == pytest.approx(10.0)
    assert travel.travel_min("v", elder, elder) == 0.0


def test_travel_mode_default_speeds() -> None:
    """A walker at 67 m/min is slower than an e-bike at 300 m/min over the same 1,340 m."""
    problem = problem_with(
        [{"id": "r", "location": {"x_m": 1000, "y_m": 0}}],
        [
            {"id": "walker", "home": {"x_m": 0, "y_m": 0}, "travel_mode": "walk"},
            {"id": "rider", "home": {"x_m": 0, "y_m": 0}, "travel_mode": "ebike"},
        ],
        {"detour_factor": 1.34},
    )
    travel = TravelModel(problem)
    home, elder = travel.home_place["walker"], travel.recipient_place["r"]
    assert travel.home_place["rider"] == home
    assert travel.travel_min("walker", home, elder) == pytest.approx(20.0)
    assert travel.travel_min("rider", home, elder) == pytest.approx(1340 / 300)


def test_great_circle_one_degree_of_latitude() -> None:
    """One degree of latitude is about 111.2 km on the mean Earth sphere."""
    assert great_circle_m(38.0, 121.0, 39.0, 121.0) == pytest.approx(
        math.pi / 180 * 6_371_008.8, rel=1e-9
    )


def test_geographic_matrix_matches_haversine() -> None:
    """The vectorised matrix agrees with the scalar formula, times the detour factor."""
    problem = problem_with(
        [
            {"id": "a", "location": {"lat": 38.99, "lon": 121.55}},
            {"id": "b", "location": {"lat": 38.995, "lon": 121.556}},
        ],
        [{"id": "v", "home": {"lat": 38.991, "lon": 121.552}}],
        {"detour_factor": 1.2},
    )
    travel = TravelModel(problem)
    a, b = travel.recipient_place["a"], travel.recipient_place["b"]
    assert travel.distance(a, b) == pytest.approx(
        1.2 * great_circle_m(38.99, 121.55, 38.995, 121.556)
    )
    assert np.allclose(travel.distance_m, travel.distance_m.T)


def test_explicit_matrix_is_used_as_given() -> None:
    """An explicit matrix, even asymmetric, is used without a detour factor."""
    problem = problem_with(
        [{"id": "r", "location": {"place": "block-3"}}],
        [{"id": "v", "home": {"place": "home"}, "speed_m_per_min": 50}],
        {
            "method": "matrix",
            "matrix": {
                "places": ["home", "block-3"],
                "distance_m": [[0, 400], [500, 0]],
            },
        },
    )
    travel = TravelModel(problem)
    home, elder = travel.home_place["v"], travel.recipient_place["r"]
    assert travel.distance(home, elder) == 400
    assert travel.distance(elder, home) == 500
    assert travel.travel_min("v", elder, home) == pytest.approx(10.0)


def test_walkway_graph_shortest_paths() -> None:
    """Through the courtyard (100 + 150) beats the street (400)."""
    problem = problem_with(
        [{"id": "r", "location": {"place": "B"}}],
        [{"id": "v", "home": {"place": "A"}}],
        {
            "method": "graph",
            "walkways": [
                {"a": "A", "b": "B", "distance_m": 400},
                {"a": "A", "b": "courtyard", "distance_m": 100},
                {"a": "courtyard", "b": "B", "distance_m": 150},
            ],
        },
    )
    travel = TravelModel(problem)
    assert travel.distance(travel.home_place["v"], travel.recipient_place["r"]) == 250
    assert travel.distance(travel.recipient_place["r"], travel.home_place["v"]) == 250


def test_unreachable_graph_places_are_infinitely_far() -> None:
    """Two walkway islands: no path, infinite distance."""
    problem = problem_with(
        [{"id": "r", "location": {"place": "C"}}],
        [{"id": "v", "home": {"place": "A"}}],
        {
            "method": "graph",
            "walkways": [
                {"a": "A", "b": "B", "distance_m": 10},
                {"a": "C", "b": "D", "distance_m": 10},
            ],
        },
    )
    travel = TravelModel(problem)
    assert math.isinf(travel.distance(travel.home_place["v"], travel.recipient_place["r"]))


def test_start_location_differs_from_home() -> None:
    """Staff start at the office and go home at the end."""
    problem = problem_with(
        [{"id": "r", "location": {"x_m": 0, "y_m": 100}}],
        [
            {
                "id": "staff",
                "kind": "staff",
                "home": {"x_m": 0, "y_m": 0},
                "start_location": {"x_m": 0, "y_m": 300},
            }
        ],
        {"detour_factor": 1.0},
    )
    travel = TravelModel(problem)
    elder = travel.recipient_place["r"]
    assert travel.distance(travel.start_place["staff"], elder) == pytest.approx(200)
    assert travel.distance(elder, travel.home_place["staff"]) == pytest.approx(100)


def test_a_matrix_with_places_nobody_is_at_reads_only_the_places_in_use() -> None:
    """Rows and columns of unused places are left out, and the used ones keep their entries in
    place-index order (the travel model converts only the rows it needs)."""
    problem = problem_with(
        [{"id": "r", "location": {"place": "c"}}],
        [{"id": "v", "home": {"place": "a"}, "speed_m_per_min": 50}],
        {
            "method": "matrix",
            "matrix": {
                "places": ["a", "unused", "c", "also-unused"],
                "distance_m": [
                    [0, 1, 300, 2],
                    [3, 0, 4, 5],
                    [700, 6, 0, 7],
                    [8, 9, 10, 0],
                ],
                "travel_min": [
                    [0, 1, 11, 2],
                    [3, 0, 4, 5],
                    [13, 6, 0, 7],
                    [8, 9, 10, 0],
                ],
            },
        },
    )
    travel = TravelModel(problem)
    home, elder = travel.home_place["v"], travel.recipient_place["r"]
    assert travel.distance_m.shape[0] == len(travel.locations) == 2
    assert travel.distance(home, elder) == 300
    assert travel.distance(elder, home) == 700
    assert travel.travel_min("v", home, elder) == 11
    assert travel.travel_min("v", elder, home) == 13
