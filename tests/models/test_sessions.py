"""Group sessions in the problem: venues, group services, attendance wishes, walking limits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from matcher.models import Problem, WalkingPolicy
from matcher.rules.sessions import walking_limit_m
from tests.helpers import error_paths, tiny_problem
from tests.sessions_data import attendee, group_service, session_data, session_problem, venue


def test_a_session_problem_validates_and_looks_up_its_parts() -> None:
    problem = session_problem()
    assert problem.has_sessions
    assert problem.venue_by_id["room"].capacity == 10
    assert problem.group_service_by_id["class"].min_attendees == 2
    assert problem.recipient_of_wish["bo-class"].id == "bo"


def test_a_problem_without_sessions_has_none() -> None:
    problem = tiny_problem([{"id": "chat", "duration_min": 30}], [], [])
    assert not problem.has_sessions
    assert problem.venues == [] and problem.group_services == []


def test_every_session_problem_is_reported_at_once() -> None:
    data = session_data(
        recipients=[attendee("ann", 100, "dance")],
        group_services=[
            group_service(min_attendees=12, max_attendees=8, venues=["hall", "room"]),
        ],
        lead_history=[{"group_service": "choir", "volunteer": "nobody"}],
    )
    paths = error_paths(data)
    assert "unknown venue 'hall'" in paths["group_services.0.venues.0"]
    assert "below the minimum" in paths["group_services.0.venues.1"]
    assert "below the minimum" in paths["group_services.0.max_attendees"]
    assert "unknown group service 'dance'" in paths["recipients.0.attends.0.group_service"]
    assert "unknown group service" in paths["lead_history.0.group_service"]
    assert "unknown volunteer" in paths["lead_history.0.volunteer"]


def test_a_venue_of_the_wrong_kind_and_duplicate_ids_are_errors() -> None:
    data = session_data(
        venues=[venue(), venue()],
        group_services=[group_service(venues=["room"], venue_kinds=["outdoor"])],
    )
    paths = error_paths(data)
    assert "duplicate venue id 'room'" in paths["venues.1.id"]
    assert "not one of the service's kinds" in paths["group_services.0.venues.0"]


def test_a_child_wishing_for_an_elders_class_is_an_error() -> None:
    data = session_data(recipients=[attendee("kid", 100, kind="child")])
    assert "serves elder, not a child" in error_paths(data)["recipients.0.attends.0.group_service"]


def test_a_group_service_nobody_can_lead_is_a_warning() -> None:
    problem = session_problem(volunteers=[{"id": "v", "home": {"x_m": 0, "y_m": 0}}])
    assert any("'class' needs 1 lead(s) but 0" in warning for warning in problem.warnings())
    children = session_problem(
        recipients=[attendee("kid", 100, "care", kind="child")],
        group_services=[group_service("care", recipient_kinds=["child"])],
    )
    assert any("'care' needs 1 lead(s)" in warning for warning in children.warnings())


def test_a_venue_in_a_travel_matrix_needs_its_place() -> None:
    data = session_data(
        recipients=[],
        volunteers=[],
        travel={"method": "matrix", "matrix": {"places": ["a"], "distance_m": [[0]]}},
    )
    assert "needs a place name" in error_paths(data)["venues.0.location"]


def test_walking_limits_follow_the_disability_level_and_can_be_overridden() -> None:
    problem = session_problem(
        recipients=[
            attendee("fit", 100),
            attendee("slow", 100, disability_level=1),
            attendee("severe", 100, disability_level=2),
            attendee("bed", 100, disability_level=3, walking_limit_m=500),
            attendee("own", 100, disability_level=1, walking_limit_m=50),
        ]
    )
    policy = WalkingPolicy()
    limits = {r.id: walking_limit_m(problem, r, escorted=False) for r in problem.recipients}
    assert limits == {
        "fit": policy.level_0_m,
        "slow": policy.level_1_m,
        "severe": None,
        "bed": None,
        "own": 50,
    }
    escorted = {r.id: walking_limit_m(problem, r, escorted=True) for r in problem.recipients}
    assert escorted["severe"] == policy.escorted_m and escorted["bed"] is None


def test_the_default_attendance_weight_lets_a_high_priority_visit_outweigh_a_seat() -> None:
    problem = session_problem()
    weights, threshold = problem.policy.weights, problem.policy.high_priority_threshold
    assert weights.coverage * threshold > weights.attendance * 2 * threshold


def test_the_schema_has_the_session_models() -> None:
    schema = Problem.model_json_schema()
    assert {"Venue", "GroupService", "AttendanceWish", "WalkingPolicy"} <= set(schema["$defs"])


def test_a_bad_walking_policy_names_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        session_problem(policy={"walking": {"speed_m_per_min": 0}})
    assert "policy.walking.speed_m_per_min" in str(caught.value)


def test_the_readme_session_example_is_a_valid_problem_part() -> None:
    """README's group-session JSON, with a week, is a problem that validates."""
    import json
    import re

    from tests.helpers import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(
        found
        for found in re.findall(r"```json\n(.*?)```", text, flags=re.S)
        if '"group_services"' in found
    )
    problem = Problem.model_validate({"week_start": "2026-11-30", **json.loads(block)})
    assert problem.has_sessions and problem.wish_by_id["e1-bench"].escort
