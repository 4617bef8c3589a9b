"""Every number that means a quantity is finite and within its documented range
(`matcher.models.limits`); each bad one is reported with its path, all together."""

from __future__ import annotations

import json
import math
from typing import Any

from matcher.models.limits import MAX_PRIORITY, MAX_WEIGHT
from tests.helpers import DATA, error_paths


def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "ok_small_travel_tight.json").read_text())
    return data


def _matrix_data() -> dict[str, Any]:
    data = _data()
    places = []
    for index, recipient in enumerate(data["recipients"]):
        recipient["location"] = {"place": f"r{index}"}
        places.append(f"r{index}")
    for index, volunteer in enumerate(data["volunteers"]):
        volunteer["home"] = {"place": f"v{index}"}
        volunteer.pop("start_location", None)
        places.append(f"v{index}")
    size = len(places)
    data["travel"] = {
        "method": "matrix",
        "matrix": {
            "places": places,
            "distance_m": [[0.0 if i == j else 100.0 for j in range(size)] for i in range(size)],
            "travel_min": [[0.0 if i == j else 2.0 for j in range(size)] for i in range(size)],
        },
    }
    return data


def test_the_matrix_problem_is_valid() -> None:
    assert error_paths({**_matrix_data(), "name": 1}) == {"name": "Input should be a valid string"}


def test_non_finite_and_huge_priorities_and_weights_are_refused_all_at_once() -> None:
    data = _data()
    data["recipients"][0]["priority"] = math.inf
    data["recipients"][0]["needs"][0]["priority"] = 1e308
    data["recipients"][1]["priority"] = math.nan
    data["policy"] = {"weights": {"coverage": math.inf, "travel_per_km": 1e308}}
    errors = error_paths(data)
    assert set(errors) >= {
        "recipients.0.priority",
        "recipients.0.needs.0.priority",
        "recipients.1.priority",
        "policy.weights.coverage",
        "policy.weights.travel_per_km",
    }
    assert "finite" in errors["recipients.0.priority"]
    assert "less than or equal to 1000000" in errors["recipients.0.needs.0.priority"]
    assert "less than or equal to 1000000" in errors["policy.weights.travel_per_km"]
    assert MAX_PRIORITY == MAX_WEIGHT == 1e6


def test_non_finite_coordinates_are_refused() -> None:
    data = _data()
    data["recipients"][0]["location"] = {"x_m": math.nan, "y_m": 0}
    data["volunteers"][0]["home"] = {"x_m": 0, "y_m": math.inf}
    data["recipients"][1]["location"] = {"x_m": 1e308, "y_m": 0}
    errors = error_paths(data)
    assert {
        "recipients.0.location.x_m",
        "volunteers.0.home.y_m",
        "recipients.1.location.x_m",
    } <= set(errors)


def test_nan_in_the_travel_matrix_is_refused_with_its_cell() -> None:
    data = _matrix_data()
    data["travel"]["matrix"]["distance_m"][0][1] = math.nan
    data["travel"]["matrix"]["travel_min"][1][0] = math.inf
    errors = error_paths(data)
    assert "travel.matrix.distance_m.0.1" in errors
    assert "travel.matrix.travel_min.1.0" in errors


def test_speeds_detour_and_walkways_must_be_finite() -> None:
    data = _data()
    data["travel"] = {
        "detour_factor": math.inf,
        "speeds_m_per_min": {"walk": math.nan},
    }
    data["volunteers"][0]["speed_m_per_min"] = math.inf
    errors = error_paths(data)
    assert {
        "travel.detour_factor",
        "travel.speeds_m_per_min.walk",
        "volunteers.0.speed_m_per_min",
    } <= set(errors)
    graph = _data()
    graph["travel"] = {
        "method": "graph",
        "walkways": [{"a": "x", "b": "y", "distance_m": math.nan}],
    }
    assert "travel.walkways.0.distance_m" in error_paths(graph)


def test_credits_and_huge_counts_are_refused() -> None:
    data = _data()
    data["recipients"][0]["time_bank_credits"] = math.nan
    data["volunteers"][0]["max_minutes_per_week"] = 10**30
    data["recipients"][0]["needs"][0]["load"] = 10**30
    errors = error_paths(data)
    assert {
        "recipients.0.time_bank_credits",
        "volunteers.0.max_minutes_per_week",
        "recipients.0.needs.0.load",
    } <= set(errors)


def test_non_finite_numbers_in_changes_are_refused() -> None:
    import pytest
    from pydantic import ValidationError

    from matcher.replan.changes import ChangeList

    volunteer = _data()["volunteers"][0]
    volunteer["speed_m_per_min"] = math.nan
    with pytest.raises(ValidationError) as caught:
        ChangeList.model_validate([{"kind": "new_volunteer", "volunteer": volunteer}])
    paths = {".".join(map(str, item["loc"])) for item in caught.value.errors()}
    assert any(path.endswith("speed_m_per_min") for path in paths)


def test_non_finite_numbers_in_a_plan_are_refused_with_their_paths() -> None:
    """A plan read back (`matcher check`, `replan`, `explain`) is input too: NaN or Infinity in
    its solver figures or an unplanned visit's priority is an error naming the field."""
    import pytest
    from pydantic import ValidationError

    import matcher
    from matcher.io import load_problem
    from matcher.models import Plan

    problem = load_problem(DATA / "ok_small_travel_tight.json")
    data = json.loads(matcher.solve(problem).model_dump_json())
    data["solver"]["objective"] = math.nan
    data["solver"]["wall_time_s"] = math.inf
    with pytest.raises(ValidationError) as caught:
        Plan.model_validate(data)
    paths = {".".join(map(str, item["loc"])) for item in caught.value.errors()}
    assert {"solver.objective", "solver.wall_time_s"} <= paths
