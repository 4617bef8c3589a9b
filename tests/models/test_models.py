"""Problem and plan models: JSON round trips, policy, and validation reporting every problem."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from matcher.models import (
    Plan,
    PriorityPolicy,
    Problem,
    Recipient,
    TimeWindow,
    Visit,
    format_validation_error,
)
from tests.helpers import WEEK, error_paths


def base_problem() -> dict[str, Any]:
    """A small valid problem as JSON-like data."""
    return {
        "week_start": WEEK.isoformat(),
        "services": [
            {"id": "meal", "duration_min": 20},
            {"id": "tutoring", "duration_min": 60, "recipient_kinds": ["child"]},
        ],
        "recipients": [
            {
                "id": "wang",
                "location": {"x_m": 0, "y_m": 0},
                "needs": [
                    {
                        "id": "wang-meal",
                        "service": "meal",
                        "visits_per_week": 2,
                        "windows": [
                            {"day": "mon", "start": "11:00", "end": "12:30"},
                            {"day": "thu", "start": "11:00", "end": "12:30"},
                        ],
                    }
                ],
            },
            {
                "id": "li-child",
                "kind": "child",
                "location": {"x_m": 100, "y_m": 0},
                "needs": [{"id": "li-tutor", "service": "tutoring"}],
            },
        ],
        "volunteers": [
            {
                "id": "zhao",
                "home": {"x_m": 50, "y_m": 50},
                "availability": [{"day": "mon", "start": "09:00", "end": "13:00"}],
            }
        ],
    }


def test_valid_problem_round_trips_through_json() -> None:
    """A valid problem survives JSON with times written as people write them."""
    problem = Problem.model_validate(base_problem())
    text = problem.model_dump_json()
    assert '"11:00"' in text and '"mon"' in text
    again = Problem.model_validate_json(text)
    assert again == problem
    assert problem.need_by_id["wang-meal"].windows[0].start == 11 * 60


def test_weekday_and_clock_accept_common_spellings() -> None:
    """'Monday' and 'Mon' mean mon; integers are minutes after midnight."""
    window = TimeWindow.model_validate({"day": "Monday", "start": "9:05", "end": 600})
    assert (window.day, window.start, window.end) == ("mon", 545, 600)


def test_duplicate_ids() -> None:
    """Two volunteers with one id are reported at the second one's path."""
    data = base_problem()
    data["volunteers"].append(copy.deepcopy(data["volunteers"][0]))
    assert "duplicate volunteer id 'zhao'" in error_paths(data)["volunteers.1.id"]


def test_unknown_references() -> None:
    """Unknown services and volunteers are named with their paths."""
    data = base_problem()
    data["recipients"][0]["needs"][0]["service"] = "haircut"
    data["recipients"][0]["preferred_volunteers"] = ["nobody"]
    data["pinned"] = [{"need": "ghost", "day": "mon", "start": "09:00", "volunteers": ["zhao"]}]
    errors = error_paths(data)
    assert "unknown service 'haircut'" in errors["recipients.0.needs.0.service"]
    assert "unknown volunteer 'nobody'" in errors["recipients.0.preferred_volunteers.0"]
    assert "unknown need 'ghost'" in errors["pinned.0.need"]


def test_window_end_not_after_start() -> None:
    """A window that ends when it starts is rejected with its path."""
    data = base_problem()
    data["volunteers"][0]["availability"][0]["end"] = "09:00"
    errors = error_paths(data)
    assert "ends" in errors["volunteers.0.availability.0"]


def test_unknown_weekday_and_bad_time() -> None:
    """'Funday' and '25:00' are both reported."""
    data = base_problem()
    data["volunteers"][0]["availability"][0]["day"] = "Funday"
    data["recipients"][0]["needs"][0]["windows"][0]["start"] = "25:00"
    errors = error_paths(data)
    assert "volunteers.0.availability.0.day" in errors
    assert "between 00:00 and 24:00" in errors["recipients.0.needs.0.windows.0.start"]


def test_zero_or_negative_durations() -> None:
    """Durations must be positive, for services and need overrides."""
    data = base_problem()
    data["services"][0]["duration_min"] = 0
    data["recipients"][0]["needs"][0]["duration_min"] = -5
    errors = error_paths(data)
    assert "services.0.duration_min" in errors
    assert "recipients.0.needs.0.duration_min" in errors


def test_more_visits_than_days_with_windows() -> None:
    """Three visits a week cannot fit windows on two days."""
    data = base_problem()
    data["recipients"][0]["needs"][0]["visits_per_week"] = 3
    message = error_paths(data)["recipients.0.needs.0.visits_per_week"]
    assert "3 visits a week" in message and "mon, thu" in message


def test_min_gap_limits_visits() -> None:
    """Two visits at least four days apart do not fit Monday and Thursday."""
    data = base_problem()
    data["recipients"][0]["needs"][0]["min_gap_days"] = 4
    assert "recipients.0.needs.0.visits_per_week" in error_paths(data)


def test_coordinates_out_of_range_and_mixed() -> None:
    """Latitude beyond 90 is out of range; mixing lat/lon and x/y is reported too."""
    data = base_problem()
    data["recipients"][0]["location"] = {"lat": 91.0, "lon": 121.5}
    data["recipients"][1]["location"] = {"lat": 38.9, "lon": 121.5}
    errors = error_paths(data)
    assert "recipients.0.location.lat" in errors
    assert "travel.method" in errors


def test_service_for_wrong_kind_of_recipient() -> None:
    """Tutoring serves children; giving it to an elder is an error."""
    data = base_problem()
    data["recipients"][0]["needs"].append({"id": "wang-tutor", "service": "tutoring"})
    assert "not a elder" in error_paths(data)["recipients.0.needs.1.service"]


def test_unknown_fields_are_errors() -> None:
    """A misspelt field is not silently ignored."""
    data = base_problem()
    data["volunteers"][0]["skils"] = ["haircut"]
    assert "volunteers.0.skils" in error_paths(data)


def test_all_problems_reported_at_once() -> None:
    """Field errors and reference errors arrive together, one line each."""
    data = base_problem()
    data["services"][0]["duration_min"] = 0
    data["volunteers"][0]["availability"][0]["day"] = "Funday"
    data["recipients"][0]["needs"][0]["service"] = "haircut"
    data["recipients"][0]["location"] = {"lat": 95, "lon": 0}
    with pytest.raises(ValidationError) as caught:
        Problem.model_validate(data)
    assert caught.value.error_count() >= 4
    text = format_validation_error(caught.value)
    assert text.count("\n  - ") >= 4
    assert "recipients.0.needs.0.service: unknown service 'haircut'" in text


def test_travel_matrix_must_cover_every_place() -> None:
    """With an explicit matrix, every location needs a place the matrix knows."""
    data = base_problem()
    data["travel"] = {
        "method": "matrix",
        "matrix": {"places": ["a", "b"], "distance_m": [[0, 1], [1, 0], [2, 2]]},
    }
    data["recipients"][0]["location"] = {"place": "a"}
    data["recipients"][1]["location"] = {"place": "zz"}
    data["volunteers"][0]["home"] = {"x_m": 1, "y_m": 1}
    errors = error_paths(data)
    assert "recipients.1.location.place" in errors
    assert "volunteers.0.home" in errors
    assert "travel.matrix.distance_m" in errors


def test_warnings_for_suspicious_input() -> None:
    """A skill nobody has and a team larger than the qualified volunteers are warnings."""
    data = base_problem()
    data["services"].append({"id": "haircut", "duration_min": 30, "required_skills": ["hair"]})
    data["services"].append({"id": "clean", "duration_min": 90, "team_size": 2})
    data["recipients"][0]["needs"].append({"id": "wang-hair", "service": "haircut"})
    data["recipients"][0]["needs"].append({"id": "wang-clean", "service": "clean"})
    warnings = Problem.model_validate(data).warnings()
    assert any("hair" in warning and "no volunteer" in warning for warning in warnings)
    assert any("team of 2" in warning for warning in warnings)


def test_priority_policy() -> None:
    """Lives alone, disability, 80+ and low income each raise priority; explicit wins."""
    policy = PriorityPolicy()
    frail = Recipient.model_validate(
        {
            "id": "r",
            "location": {"x_m": 0, "y_m": 0},
            "lives_alone": True,
            "disability_level": 2,
            "age": 86,
            "low_income": True,
        }
    )
    assert policy.priority_of(frail) == 1 + 1 + 2 + 1 + 1
    young = frail.model_copy(update={"age": 70})
    assert policy.priority_of(young) == 5
    assert policy.priority_of(frail.model_copy(update={"priority": 0.5})) == 0.5


def test_allowed_windows_intersect_home_windows() -> None:
    """A need's windows are cut to when the recipient is at home."""
    data = base_problem()
    data["recipients"][0]["home_windows"] = [{"day": "mon", "start": "11:30", "end": "18:00"}]
    data["recipients"][0]["needs"][0]["visits_per_week"] = 1
    problem = Problem.model_validate(data)
    windows = problem.allowed_windows(problem.need_by_id["wang-meal"])
    assert [(w.day, w.start, w.end) for w in windows] == [("mon", 690, 750)]


def test_dates_follow_the_week_start() -> None:
    """Weekdays map to dates in the planned week."""
    problem = Problem.model_validate(base_problem())
    assert problem.date_of("mon") == dt.date(2026, 11, 30)
    assert problem.date_of("sun") == dt.date(2026, 12, 6)


def test_plan_json_round_trip() -> None:
    """A plan written as JSON reads back equal, times as 'HH:MM'."""
    plan = Plan(
        visits=[
            Visit(
                need="n",
                recipient="r",
                service="s",
                occurrence=1,
                day="tue",
                start=570,
                end=600,
                volunteers=["v"],
            )
        ]
    )
    text = plan.model_dump_json()
    assert '"09:30"' in text
    assert Plan.model_validate_json(text) == plan
