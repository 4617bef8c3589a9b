"""Every solver plans group sessions with the home visits (or, `routing`, declines them), on the
feature-named instances of tests/data/sessions; every plan goes through the checker."""

from __future__ import annotations

import json
from functools import cache

import pytest

import matcher
from matcher.io import load_problem
from matcher.models import Plan, Problem
from matcher.solvers.session_plan import SessionsNotSupported
from tests.helpers import DATA, checked, example, minutes, window
from tests.sessions_data import attendee, group_service, session_problem, teacher

SESSION_DATA = DATA / "sessions"
SOLVERS = ("greedy", "cpsat", "lns", "ruin", "auto")


@cache
def instance(name: str) -> Problem:
    return load_problem(SESSION_DATA / f"{name}.json")


@cache
def plan_of(name: str, solver: str) -> Plan:
    return checked(instance(name), matcher.solve(instance(name), solver=solver, time_limit_s=5))


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_red_bench_goes_where_most_can_walk(solver: str) -> None:
    plan = plan_of("popup_placed_where_most_can_walk", solver)
    assert plan.sessions is not None and plan.unseated is not None
    (session,) = plan.sessions
    assert session.venue == "bench-square"
    assert {seat.recipient for seat in session.attendees} == {f"square-{k}" for k in range(1, 6)}
    assert {item.recipient: item.reason for item in plan.unseated} == dict.fromkeys(
        ("west-1", "west-2", "east-1"), "held_elsewhere"
    )


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_class_below_its_minimum_is_not_held(solver: str) -> None:
    plan = plan_of("class_not_held_below_minimum", solver)
    assert plan.sessions == []
    assert plan.unseated is not None
    assert [item.reason for item in plan.unseated] == ["below_minimum"] * 3


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_bedridden_elder_gets_a_home_visit_and_no_seat(solver: str) -> None:
    plan = plan_of("bedridden_home_visit_not_seat", solver)
    assert [visit.need for visit in plan.visits] == ["bedridden-meal"]
    assert plan.sessions is not None and plan.unseated is not None
    (choir,) = plan.sessions
    assert {seat.recipient for seat in choir.attendees} == {"singer-1", "singer-2"}
    (unseated,) = plan.unseated
    assert (unseated.recipient, unseated.reason) == ("bedridden", "cannot_walk")


@pytest.mark.parametrize("solver", SOLVERS)
def test_childrens_care_gets_a_background_checked_lead(solver: str) -> None:
    plan = plan_of("child_care_background_checked_lead", solver)
    assert plan.sessions is not None
    (care,) = plan.sessions
    assert care.leads == ["far-checked"]
    assert len(care.attendees) == 3


def test_routing_declines_group_sessions_with_a_clear_error() -> None:
    with pytest.raises(SessionsNotSupported, match="'routing' does not plan group sessions"):
        matcher.solve(instance("class_not_held_below_minimum"), solver="routing", time_limit_s=5)


def test_a_week_without_group_services_is_planned_as_before() -> None:
    plan = matcher.solve(example("small"), solver="greedy")
    assert plan.sessions is None and plan.unseated is None and plan.session_metrics is None
    written = json.loads(plan.model_dump_json(exclude_none=True))
    assert not {"sessions", "unseated", "session_metrics"} & set(written)
    assert "sessions:" not in plan.summary()
    assert all(stop.kind in ("start", "visit", "home") for r in plan.routes for stop in r.stops)


def test_the_plan_reports_sessions_seats_and_routes_to_the_venue() -> None:
    plan = plan_of("child_care_background_checked_lead", "greedy")
    assert "sessions: 1 held, seats 3 of 3 (100.0%)" in plan.summary()
    assert plan.session_metrics is not None
    assert plan.session_metrics.seats_planned == 3
    (route,) = plan.routes
    assert [stop.kind for stop in route.stops] == ["start", "session", "home"]
    assert route.stops[1].session == plan.sessions[0].id if plan.sessions else False
    assert plan.solver.objective_breakdown["attendance"] > 0


def test_a_visit_and_a_session_share_the_lead_s_morning() -> None:
    problem = session_problem(
        recipients=[
            attendee(
                "ann",
                100,
                "class",
                {"id": "ann-chat", "service": "chat", "windows": [window("mon", "09:00", "10:00")]},
            ),
            attendee("bo", 200),
            attendee("cy", 300),
        ],
    )
    plan = checked(problem, matcher.solve(problem, solver="greedy"))
    assert [visit.need for visit in plan.visits] == ["ann-chat"]
    assert plan.sessions is not None
    (session,) = plan.sessions
    # ann is away during the class, so it does not overlap her own visit.
    assert {seat.recipient for seat in session.attendees} == {"ann", "bo", "cy"}
    assert session.start >= plan.visits[0].end
    kinds = [stop.kind for stop in plan.routes[0].stops]
    assert kinds == ["start", "visit", "session", "home"]


def test_an_escort_walks_a_wisher_who_needs_one() -> None:
    problem = session_problem(
        recipients=[
            attendee("ann", 100),
            attendee("bo", 400, disability_level=2, wish={"escort": True}),
        ],
        volunteers=[teacher(), teacher("walker", x_m=500, skills=[])],
    )
    plan = checked(problem, matcher.solve(problem, solver="greedy"))
    assert plan.sessions is not None
    (session,) = plan.sessions
    seat = next(seat for seat in session.attendees if seat.recipient == "bo")
    assert seat.escort == "walker"
    walker = next(route for route in plan.routes if route.volunteer == "walker")
    assert [stop.kind for stop in walker.stops] == ["start", "escort", "home"]
    assert plan.session_metrics is not None and plan.session_metrics.escorts == 1


def test_without_an_escort_the_wish_says_so() -> None:
    problem = session_problem(
        recipients=[
            attendee("ann", 100),
            attendee("bo", 200),
            attendee("cy", 400, disability_level=2, wish={"escort": True}),
        ],
    )
    plan = checked(problem, matcher.solve(problem, solver="greedy"))
    assert plan.unseated is not None
    assert [(item.recipient, item.reason) for item in plan.unseated] == [("cy", "no_escort")]


def test_helpers_are_planned_for_a_large_class_or_the_class_shrinks() -> None:
    recipients = [attendee(f"e{k}", 50 * k) for k in range(1, 8)]
    with_helper = session_problem(
        recipients=recipients,
        group_services=[group_service(attendees_per_helper=3)],
        volunteers=[teacher(), teacher("hal", skills=[])],
    )
    plan = checked(with_helper, matcher.solve(with_helper, solver="greedy"))
    assert plan.sessions is not None
    (session,) = plan.sessions
    assert len(session.attendees) == 5 and session.helpers == ["hal"]
    alone = session_problem(
        recipients=recipients, group_services=[group_service(attendees_per_helper=3)]
    )
    plan = checked(alone, matcher.solve(alone, solver="greedy"))
    assert plan.sessions is not None
    assert len(plan.sessions[0].attendees) == 2 and plan.sessions[0].helpers == []
    assert plan.unseated is not None
    assert {item.reason for item in plan.unseated} == {"session_full"}


def test_a_lead_from_last_week_is_kept() -> None:
    volunteers = [teacher(), teacher("usual", x_m=150)]
    fresh = session_problem(volunteers=volunteers)
    plan = checked(fresh, matcher.solve(fresh, solver="greedy"))
    assert plan.sessions is not None and plan.sessions[0].leads == ["teacher"]
    stable = session_problem(
        volunteers=volunteers, lead_history=[{"group_service": "class", "volunteer": "usual"}]
    )
    plan = checked(stable, matcher.solve(stable, solver="greedy"))
    assert plan.sessions is not None and plan.sessions[0].leads == ["usual"]
    assert plan.solver.objective_breakdown["stable_lead"] == 50


def test_sessions_stay_inside_the_service_windows() -> None:
    problem = session_problem(
        group_services=[group_service(windows=[window("mon", "11:00", "12:00")])]
    )
    plan = checked(problem, matcher.solve(problem, solver="greedy"))
    assert plan.sessions is not None
    assert plan.sessions[0].start == minutes("11:00")


def test_the_same_problem_gives_the_same_sessions() -> None:
    first = plan_of("popup_placed_where_most_can_walk", "greedy")
    again = matcher.solve(instance("popup_placed_where_most_can_walk"), solver="greedy")
    assert first.sessions == again.sessions


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("name", sorted(path.stem for path in SESSION_DATA.glob("*.json")))
def test_seats_stay_within_their_upper_bound(name: str, solver: str) -> None:
    plan = plan_of(name, solver)
    statistics = plan.solver.statistics["sessions"]
    seats = sum(len(session.attendees) for session in plan.sessions or [])
    assert statistics["seats"] == seats <= statistics["seat_bound"]
    assert statistics["weighted_seats"] <= statistics["weighted_seat_bound"] + 1e-9
    assert 0 <= statistics["weighted_seat_gap"] <= 1


def test_the_bundled_community_plans_visits_and_sessions_together() -> None:
    problem = example("community")
    plan = checked(problem, matcher.solve(problem, solver="greedy"))
    assert plan.sessions and len(plan.sessions) >= 5
    assert plan.session_metrics is not None
    assert plan.session_metrics.seats_planned >= plan.session_metrics.seats_wished / 2
    assert plan.metrics is not None and plan.metrics.coverage_pct > 70
    statistics = plan.solver.statistics["sessions"]
    assert statistics["seats"] <= statistics["seat_bound"]


def test_a_service_crowded_out_of_its_lead_is_tried_first() -> None:
    """One lead, one hour: two seats of priority 5 (the most wished-for service) or four of
    priority 3; greedy frees each service in turn and keeps the most seat points."""
    high = {"priority": 5.0}
    problem = session_problem(
        recipients=[
            attendee("a1", 100, "duo", wish=high),
            attendee("a2", 120, "duo", wish=high),
            attendee("a3", 140, "duo", wish=high),
            *(attendee(f"b{k}", 100 + 10 * k, "club", wish={"priority": 3.0}) for k in range(4)),
        ],
        group_services=[
            group_service("duo", min_attendees=1, max_attendees=2),
            group_service("club", min_attendees=1, max_attendees=10),
        ],
        volunteers=[teacher(availability=[window("mon", "09:00", "10:00")])],
    )
    plan = checked(problem, matcher.solve(problem, solver="greedy"))
    assert plan.sessions is not None
    assert [session.group_service for session in plan.sessions] == ["club"]
    assert len(plan.sessions[0].attendees) == 4
