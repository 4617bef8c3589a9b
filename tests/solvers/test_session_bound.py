"""The relaxation of home visits and group sessions together (`bounds.session_upper_bounds`):
seats count in it, leads and helpers take minutes from the volunteers' week like home visits,
and the bound is never below what any solver plans.

The combined points of a plan are `weights.coverage` × its visits' priorities plus
`weights.attendance` × its seats' priorities (`bounds.combined_points`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

import matcher
from benchmarks.generator import generate_community
from matcher.models import Plan, Problem
from matcher.solvers.bounds import (
    SessionBounds,
    combined_points,
    coverage_upper_bound,
    session_upper_bounds,
)
from matcher.solvers.seat_bound import seat_upper_bound
from matcher.travel import TravelModel
from tests.helpers import DATA, chat, checked, example, recipient, window
from tests.sessions_data import attendee, group_service, session_problem, teacher, venue

SOLVERS = ("greedy", "cpsat", "lns", "ruin", "auto")
SESSION_DATA = DATA / "sessions"
NINE_TO_TEN = [window("mon", "09:00", "10:00")]


def seated_priorities(problem: Problem, plan: Plan) -> float:
    """The priorities of the plan's seats."""
    return sum(
        problem.wish_priority(problem.wish_by_id[seat.wish])
        for session in plan.sessions or []
        for seat in session.attendees
    )


def seat_count(plan: Plan) -> int:
    return sum(len(session.attendees) for session in plan.sessions or [])


def plan_points(problem: Problem, plan: Plan) -> float:
    """The plan's combined points: its visits and its seats."""
    return combined_points(problem, plan.solver.objective or 0.0, seated_priorities(problem, plan))


def separate_points(problem: Problem) -> float:
    """The two bounds computed apart, added up: coverage alone and seats alone."""
    travel = TravelModel(problem)
    _, seats = seat_upper_bound(problem, travel)
    return combined_points(problem, coverage_upper_bound(problem, travel), seats)


def a_class_or_a_visit() -> Problem:
    """The teacher is free Monday 09:00-10:00 only: the hour's class of three elders at the
    room, or the hour's chat with Dee, who lives at the room, not both."""
    return session_problem(
        recipients=[
            attendee("ann", 100),
            attendee("bo", 200),
            attendee("cy", 300),
            recipient("dee", chat("dee-chat", NINE_TO_TEN, duration_min=60)),
        ],
        volunteers=[teacher(availability=NINE_TO_TEN)],
        services=[{"id": "chat", "duration_min": 60}],
    )


def test_one_volunteer_choosing_between_a_class_and_visits_tightens_the_bound() -> None:
    problem = a_class_or_a_visit()
    bounds = session_upper_bounds(problem, TravelModel(problem))
    weights = problem.policy.weights
    dee = problem.priority_of(problem.need_by_id["dee-chat"])
    seats = sum(problem.wish_priority(wish) for wish in problem.wish_by_id.values())
    assert separate_points(problem) == pytest.approx(
        weights.coverage * dee + weights.attendance * seats, rel=1e-5
    )
    assert bounds.relaxed
    assert bounds.combined < separate_points(problem) - 1.0
    assert bounds.combined == pytest.approx(
        max(weights.coverage * dee, weights.attendance * seats), rel=1e-5
    )
    for solver in SOLVERS:
        plan = checked(problem, matcher.solve(problem, solver=solver, time_limit_s=5))
        assert plan_points(problem, plan) <= bounds.combined + 1e-6


def test_seats_beside_visits_count_in_the_bound() -> None:
    """The teacher has the whole morning: the chat and the class both fit, so a plan's points
    exceed what the visits alone are worth, and the bound still holds them."""
    problem = session_problem(
        recipients=[
            attendee("ann", 100),
            attendee("bo", 200),
            attendee("cy", 300),
            recipient("dee", chat("dee-chat"), x_m=50),
        ]
    )
    travel = TravelModel(problem)
    bounds = session_upper_bounds(problem, travel)
    plan = checked(problem, matcher.solve(problem, solver="greedy"))
    assert seat_count(plan) == 3 and len(plan.visits) == 1
    visits_alone = problem.policy.weights.coverage * coverage_upper_bound(problem, travel)
    assert plan_points(problem, plan) > visits_alone + 1.0
    assert bounds.combined >= plan_points(problem, plan) - 1e-6


def test_a_lead_wanted_by_two_classes_at_once_holds_one() -> None:
    """Two classes in two rooms of one centre, both Monday 09:00-10:00, and one teacher free
    then: the count bound seats both, the relaxation (the teacher's minutes) one, which is what
    is planned."""
    problem = session_problem(
        recipients=[
            attendee("ann", 100, "early"),
            attendee("bo", 200, "early"),
            attendee("cy", 100, "late", wish={"priority": 4.0}),
            attendee("di", 200, "late", wish={"priority": 4.0}),
        ],
        volunteers=[teacher(availability=NINE_TO_TEN)],
        venues=[venue("room"), venue("annex")],
        group_services=[
            group_service("early", venues=["room"], windows=NINE_TO_TEN),
            group_service("late", venues=["annex"], windows=NINE_TO_TEN),
        ],
    )
    travel = TravelModel(problem)
    count, weighted = seat_upper_bound(problem, travel)
    assert count == 4
    bounds = session_upper_bounds(problem, travel)
    assert bounds.seats == 2 and bounds.seats_from == "relaxation"
    assert bounds.weighted_seats == pytest.approx(8.0, abs=1e-4)
    assert weighted == pytest.approx(10.0)
    plan = checked(problem, matcher.solve(problem, solver="greedy"))
    statistics = plan.solver.statistics["sessions"]
    assert statistics["seat_bound"] == 2
    assert statistics["weighted_seat_bound"] == pytest.approx(8.0, abs=1e-4)
    assert statistics["weighted_seats"] == pytest.approx(8.0)
    assert statistics["seat_bound_from"] == "relaxation"


def test_helpers_take_minutes_too() -> None:
    """Eight attendees need two helpers (one per four); only one helper is free: at most seven
    attendees, one helper's worth."""
    problem = session_problem(
        recipients=[attendee(f"e{number}", 50 + 10 * number) for number in range(8)],
        volunteers=[teacher(), teacher("helper", skills=[])],
        group_services=[group_service(attendees_per_helper=4, max_attendees=10)],
    )
    travel = TravelModel(problem)
    bounds = session_upper_bounds(problem, travel)
    assert seat_upper_bound(problem, travel)[0] == 8
    assert bounds.seats == 7
    plan = checked(problem, matcher.solve(problem, solver="greedy"))
    assert seat_count(plan) == 7


def test_no_time_gives_the_plain_bounds() -> None:
    problem = a_class_or_a_visit()
    travel = TravelModel(problem)
    count, weighted = seat_upper_bound(problem, travel)
    plain = session_upper_bounds(problem, travel, time_limit_s=0.0)
    assert plain == SessionBounds(
        combined=combined_points(problem, 1.0 * sum_of_requested(problem), weighted),
        weighted_seats=weighted,
        seats=count,
        seats_from="count",
        relaxed=False,
    )


def sum_of_requested(problem: Problem) -> float:
    return sum(
        problem.priority_of(need) * need.visits_per_week
        for recipient in problem.recipients
        for need in recipient.needs
    )


@cache
def bounds_of(path: Path) -> tuple[Problem, SessionBounds]:
    problem = matcher.load_problem(path)
    return problem, session_upper_bounds(problem, TravelModel(problem))


SESSION_INSTANCES = sorted(SESSION_DATA.glob("*.json"))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("path", SESSION_INSTANCES, ids=lambda path: path.stem)
def test_no_solver_beats_the_bound_on_the_session_instances(path: Path, solver: str) -> None:
    problem, bounds = bounds_of(path)
    plan = checked(problem, matcher.solve(problem, solver=solver, time_limit_s=5))
    assert plan_points(problem, plan) <= bounds.combined + 1e-6
    assert seated_priorities(problem, plan) <= bounds.weighted_seats + 1e-6
    assert seat_count(plan) <= bounds.seats
    statistics = plan.solver.statistics["sessions"]
    assert statistics["combined"] == pytest.approx(plan_points(problem, plan))
    assert statistics["combined"] <= statistics["combined_bound"]
    assert 0.0 <= statistics["combined_gap"] <= 1.0


@pytest.mark.parametrize("solver", SOLVERS)
def test_no_solver_beats_the_bound_on_the_bundled_community(solver: str) -> None:
    problem = example("community")
    bounds = community_bounds()
    assert bounds.relaxed
    plan = checked(problem, matcher.solve(problem, solver=solver, time_limit_s=6, seed=0))
    assert plan_points(problem, plan) <= bounds.combined + 1e-6
    assert seated_priorities(problem, plan) <= bounds.weighted_seats + 1e-6
    assert seat_count(plan) <= bounds.seats


@cache
def community_bounds() -> SessionBounds:
    problem = example("community")
    return session_upper_bounds(problem, TravelModel(problem))


def test_the_community_bound_is_below_the_two_bounds_added_up() -> None:
    problem = example("community")
    assert community_bounds().combined < separate_points(problem)


def test_pooling_volunteers_keeps_a_valid_looser_bound() -> None:
    """On a generated week with sessions, the pooled relaxation is never below the exact one,
    and neither is below greedy's plan."""
    problem = generate_community(recipients=30, volunteers=10, buildings=2, seed=1, sessions=True)
    travel = TravelModel(problem)
    exact = session_upper_bounds(problem, travel, aggregate=False)
    pooled = session_upper_bounds(problem, travel, aggregate=True)
    assert exact.relaxed and pooled.relaxed
    assert pooled.combined >= exact.combined - 1e-6
    assert pooled.weighted_seats >= exact.weighted_seats - 1e-6
    plan = checked(problem, matcher.solve(problem, solver="greedy"))
    assert plan_points(problem, plan) <= exact.combined + 1e-6
    assert seated_priorities(problem, plan) <= exact.weighted_seats + 1e-6
