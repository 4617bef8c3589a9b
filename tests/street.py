"""The tiny street of the feature tests (tests/test_features.py for the models and the checker,
tests/solvers/test_greedy_features.py for the greedy planner), as JSON-like data ready to be
changed: planar metres, detour factor 1, everyone at 100 m a minute, so 1,000 m is 10 minutes.

    vic, wes home (0,0)     ann (1000,0)     bob (1000,1000)

Ann needs a meal (30 minutes, Monday 10:00-11:00), nursing and lifting help (20 minutes each,
09:00-12:00); Bob a meal (10:00-11:00). Vic and Wes are free on Monday 08:00-18:00.
"""

from __future__ import annotations

from typing import Any

from tests.helpers import WEEK, need_of, window


def street() -> dict[str, Any]:
    """The street, as JSON-like data."""
    return {
        "week_start": WEEK.isoformat(),
        "travel": {"method": "coordinates", "detour_factor": 1.0},
        "services": [
            {"id": "meal", "name": "Meal delivery", "duration_min": 30},
            {"id": "nurse", "name": "Nursing", "duration_min": 20},
            {"id": "help", "name": "Lifting help", "duration_min": 20},
        ],
        "recipients": [
            {
                "id": "ann",
                "location": {"x_m": 1000, "y_m": 0},
                "needs": [
                    {
                        "id": "ann-meal",
                        "service": "meal",
                        "windows": [window("mon", "10:00", "11:00")],
                    },
                    {
                        "id": "ann-nurse",
                        "service": "nurse",
                        "windows": [window("mon", "09:00", "12:00")],
                    },
                    {
                        "id": "ann-help",
                        "service": "help",
                        "windows": [window("mon", "09:00", "12:00")],
                    },
                ],
            },
            {
                "id": "bob",
                "location": {"x_m": 1000, "y_m": 1000},
                "needs": [
                    {
                        "id": "bob-meal",
                        "service": "meal",
                        "windows": [window("mon", "10:00", "11:00")],
                    },
                ],
            },
        ],
        "volunteers": [
            {
                "id": name,
                "home": {"x_m": 0, "y_m": 0},
                "speed_m_per_min": 100,
                "availability": [window("mon", "08:00", "18:00")],
            }
            for name in ("vic", "wes")
        ],
    }


def matrix_problem(travel_min: list[list[float]] | None) -> dict[str, Any]:
    """Three places on a matrix: home, ann, bob; distances 1 km, minutes as given."""
    data = street()
    data["travel"] = {
        "method": "matrix",
        "matrix": {
            "places": ["home", "ann", "bob"],
            "distance_m": [[0, 1000, 1000], [1000, 0, 1000], [1000, 1000, 0]],
            "travel_min": travel_min,
        },
    }
    data["recipients"][0]["location"] = {"place": "ann"}
    data["recipients"][1]["location"] = {"place": "bob"}
    for volunteer in data["volunteers"]:
        volunteer["home"] = {"place": "home"}
    return data


def long_day(day_length: int | None) -> dict[str, Any]:
    """A Solomon C2-like day: the volunteer is available 00:00 to 56:30 (3,390 minutes)."""
    data = street()
    for volunteer in data["volunteers"]:
        volunteer["availability"] = [window("mon", "00:00", "56:30")]
    need_of(data, "bob-meal")["windows"] = [window("mon", "40:00", "41:00")]
    if day_length is not None:
        data["day_length_min"] = day_length
    return data
