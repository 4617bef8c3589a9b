"""`cpsat` plans group sessions in its model and `lns` re-plans them in venue-day and group-service
neighbourhoods (matcher/solvers/cpsat/sessions.py); every plan goes through the checker."""

from __future__ import annotations

from functools import cache

import pytest
from ortools.sat.python import cp_model

import matcher
from matcher.generator import generate_community
from matcher.io import load_problem
from matcher.models import Plan, Problem
from matcher.solvers.base import SolveRequest
from matcher.solvers.cpsat import CpSatParameters, build_week_model, hint_from_visits
from matcher.solvers.cpsat.sessions import (
    SessionScope,
    extract_sessions,
    greedy_with_sessions,
    hint_sessions,
    number_sessions,
)
from matcher.solvers.lns import LnsParameters
from matcher.travel import TravelModel
from tests.helpers import DATA, checked, window
from tests.sessions_data import attendee, group_service, session_problem, teacher, venue

SESSION_DATA = DATA / "sessions"
NAMES = sorted(path.stem for path in SESSION_DATA.glob("*.json"))


@cache
def instance(name: str) -> Problem:
    return load_problem(SESSION_DATA / f"{name}.json")


@cache
def plan_of(name: str, solver: str) -> Plan:
    return checked(instance(name), matcher.solve(instance(name), solver=solver, time_limit_s=5))


def seats(plan: Plan) -> int:
    return sum(len(session.attendees) for session in plan.sessions or [])


def seat_points(problem: Problem, plan: Plan) -> float:
    return sum(
        problem.wish_priority(problem.wish_by_id[seat.wish])
        for session in plan.sessions or []
        for seat in session.attendees
    )


@pytest.mark.parametrize("name", NAMES)
def test_cpsat_seats_at_least_what_greedy_seats(name: str) -> None:
    cpsat, greedy = plan_of(name, "cpsat"), plan_of(name, "greedy")
    assert cpsat.solver.statistics["sessions"]["planner"] == "cpsat"
    assert cpsat.solver.statistics["sessions"]["in_model"] is True
    assert seats(cpsat) >= seats(greedy)
    assert seat_points(instance(name), cpsat) >= seat_points(instance(name), greedy) - 1e-9


@pytest.mark.parametrize("solver", ["cpsat", "lns"])
def test_a_class_below_its_minimum_is_not_held(solver: str) -> None:
    plan = plan_of("class_not_held_below_minimum", solver)
    assert plan.sessions == []
    assert plan.unseated and {item.reason for item in plan.unseated} == {"below_minimum"}


@pytest.mark.parametrize("solver", ["cpsat", "lns"])
def test_childrens_care_is_led_and_helped_by_background_checked_volunteers(solver: str) -> None:
    problem = instance("child_care_background_checked_lead")
    plan = plan_of("child_care_background_checked_lead", solver)
    assert plan.sessions
    children = [
        seat
        for session in plan.sessions
        for seat in session.attendees
        if problem.recipient_by_id[seat.recipient].kind == "child"
    ]
    assert children
    for session in plan.sessions:
        for person in [*session.leads, *session.helpers]:
            assert problem.volunteer_by_id[person].background_checked


def _unchecked_lead_nearer() -> Problem:
    """Two children and a lead who is next door but has no background check; the checked lead
    lives 2 km away: only the checked one may lead."""
    return session_problem(
        recipients=[
            attendee("kid1", 100, kind="child"),
            attendee("kid2", 150, kind="child"),
        ],
        group_services=[group_service(recipient_kinds=["child"])],
        volunteers=[
            teacher("near", x_m=10, background_checked=False),
            teacher("far", x_m=2000, background_checked=True),
        ],
    )


def test_cpsat_leaves_out_the_unchecked_lead_when_children_attend() -> None:
    problem = _unchecked_lead_nearer()
    plan = checked(problem, matcher.solve(problem, solver="cpsat", time_limit_s=5))
    assert plan.sessions is not None
    (session,) = plan.sessions
    assert session.leads == ["far"]
    assert len(session.attendees) == 2


def _greedy_loses_seats() -> Problem:
    """A class twice a week for three at a time. The room is open Monday 09:00-10:00 (one
    slot) and Tuesday morning. Three elders of priority 5 are free both days, three of
    priority 1 only on Monday. Greedy puts the first class where its seats are worth most
    (Monday, the three of priority 5, a tie it breaks by the earlier day), and the second has
    nobody left to seat on Tuesday: three seats. Both classes are full when the Monday-only
    elders take Monday: six seats."""
    both = [window("mon", "08:00", "12:00"), window("tue", "08:00", "12:00")]
    monday = [window("mon", "08:00", "12:00")]
    recipients = [
        *(
            attendee(f"f{k}", 100 + 10 * k, home_windows=both, wish={"priority": 5.0})
            for k in range(3)
        ),
        *(
            attendee(f"m{k}", 200 + 10 * k, home_windows=monday, wish={"priority": 1.0})
            for k in range(3)
        ),
    ]
    return session_problem(
        recipients=recipients,
        venues=[
            venue(open_windows=[window("mon", "09:00", "10:00"), window("tue", "09:00", "12:00")])
        ],
        group_services=[group_service(min_attendees=1, max_attendees=3, sessions_per_week=2)],
        volunteers=[
            teacher(availability=[window("mon", "08:00", "12:00"), window("tue", "08:00", "12:00")])
        ],
    )


def test_cpsat_seats_more_than_greedy_where_greedy_s_order_loses_seats() -> None:
    problem = _greedy_loses_seats()
    greedy = checked(problem, matcher.solve(problem, solver="greedy"))
    cpsat = checked(problem, matcher.solve(problem, solver="cpsat", time_limit_s=10))
    assert seats(greedy) == 3
    assert seats(cpsat) == 6
    # greedy's plan, hinted and completed into a whole solution, was the search's start
    assert cpsat.solver.statistics["hint"] == "complete"
    assert cpsat.session_metrics is not None and cpsat.session_metrics.seats_planned == 6
    monday = next(session for session in cpsat.sessions or [] if session.day == "mon")
    assert {seat.recipient for seat in monday.attendees} == {"m0", "m1", "m2"}


def test_lns_freeing_a_venue_day_improves_a_bad_start() -> None:
    problem = _greedy_loses_seats()
    start = checked(problem, matcher.solve(problem, solver="greedy"))
    assert seats(start) == 3
    plan = checked(
        problem,
        matcher.solve(
            problem,
            solver="lns",
            warm_start=start,
            parameters=LnsParameters(iterations=12, compute_bound=False),
            time_limit_s=20,
        ),
    )
    assert seats(plan) == 6
    assert plan.solver.statistics["improvements"] >= 1
    kinds = {item["neighbourhood"] for item in plan.solver.statistics["progress"]}
    assert kinds & {"venue_day", "group_service"}


def test_a_lead_walks_from_a_home_visit_to_the_class_in_one_outing() -> None:
    """The model routes the lead through her home visit and on to the venue (a stop like a
    home), and the attendee's own visit does not overlap her seat."""
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
    plan = checked(problem, matcher.solve(problem, solver="cpsat", time_limit_s=5))
    assert [visit.need for visit in plan.visits] == ["ann-chat"]
    assert plan.sessions is not None
    (session,) = plan.sessions
    assert {seat.recipient for seat in session.attendees} == {"ann", "bo", "cy"}
    assert session.start >= plan.visits[0].end
    assert [stop.kind for stop in plan.routes[0].stops] == ["start", "visit", "session", "home"]


def test_cpsat_plans_an_escort() -> None:
    problem = session_problem(
        recipients=[
            attendee("ann", 100),
            attendee("bo", 400, disability_level=2, wish={"escort": True}),
        ],
        volunteers=[teacher(), teacher("walker", x_m=500, skills=[])],
    )
    plan = checked(problem, matcher.solve(problem, solver="cpsat", time_limit_s=5))
    assert plan.sessions is not None
    (session,) = plan.sessions
    seat = next(seat for seat in session.attendees if seat.recipient == "bo")
    assert seat.escort == "walker"
    assert plan.solver.statistics["sessions"]["escort_literals"] >= 1


def test_cpsat_keeps_helpers_per_attendees() -> None:
    """Five attendees and one helper for every two: two helpers, or fewer attendees."""
    problem = session_problem(
        recipients=[attendee(f"a{k}", 100 + 20 * k) for k in range(5)],
        group_services=[group_service(attendees_per_helper=2)],
        volunteers=[teacher(), teacher("h1", skills=[]), teacher("h2", skills=[])],
    )
    plan = checked(problem, matcher.solve(problem, solver="cpsat", time_limit_s=5))
    assert plan.sessions is not None
    (session,) = plan.sessions
    assert len(session.attendees) == 5
    assert sorted(session.helpers) == ["h1", "h2"]


def test_cpsat_falls_back_to_sessions_around_its_visits_over_the_memory_budget() -> None:
    problem = _greedy_loses_seats()
    plan = checked(
        problem, matcher.solve(problem, solver="cpsat", time_limit_s=5, max_memory_mib=1e-6)
    )
    statistics = plan.solver.statistics["sessions"]
    assert statistics["in_model"] is False
    assert statistics["planner"] == "greedy"
    assert seats(plan) == 3


def test_cpsat_with_sessions_is_repeatable() -> None:
    problem = _greedy_loses_seats()
    first = matcher.solve(problem, solver="cpsat", time_limit_s=10)
    second = matcher.solve(problem, solver="cpsat", time_limit_s=10)
    assert first.sessions == second.sessions


def test_cpsat_holds_one_session_at_a_time_in_a_venue() -> None:
    """One room open for one hour, two classes of an hour with their own teachers and wishers:
    only one is held, the one whose seats are worth more."""
    problem = session_problem(
        recipients=[
            *(attendee(f"a{k}", 100 + 10 * k, "class", wish={"priority": 2.0}) for k in range(3)),
            *(attendee(f"b{k}", 100 + 10 * k, "club") for k in range(3)),
        ],
        venues=[venue(open_windows=[window("mon", "09:00", "10:00")])],
        group_services=[group_service("class"), group_service("club", lead_skills=["sing"])],
        volunteers=[teacher(), teacher("singer", skills=["sing"])],
    )
    plan = checked(problem, matcher.solve(problem, solver="cpsat", time_limit_s=5))
    assert plan.sessions is not None
    assert [session.group_service for session in plan.sessions] == ["class"]
    assert sorted(item.recipient for item in plan.unseated or []) == ["b0", "b1", "b2"]


def test_lns_with_sessions_is_repeatable() -> None:
    problem = _greedy_loses_seats()
    parameters = LnsParameters(iterations=8, compute_bound=False)
    first, second = (
        matcher.solve(problem, solver="lns", parameters=parameters, time_limit_s=20, seed=3)
        for _ in range(2)
    )
    assert first.sessions == second.sessions
    assert first.visits == second.visits


@pytest.mark.parametrize(("recipients", "volunteers", "seed"), [(15, 5, 1), (20, 6, 3), (25, 6, 4)])
def test_greedy_s_plan_with_sessions_is_a_solution_of_the_model(
    recipients: int, volunteers: int, seed: int
) -> None:
    """The model is no stricter than the rules: greedy's plan with sessions (leads, escorts,
    seats beside home visits; on these weeks up to five sessions, three escorts) on a generated
    week, hinted and fixed, is feasible, and reads back as the same sessions."""
    problem = generate_community(
        recipients=recipients, volunteers=volunteers, sessions=True, seed=seed
    )
    travel = TravelModel(problem)
    request = SolveRequest(problem=problem, travel=travel, parameters=CpSatParameters())
    start = greedy_with_sessions(request, 60.0).plan
    checked(problem, start)
    assert start.sessions
    week = build_week_model(
        problem, travel, sessions=SessionScope(keep=tuple(start.sessions or []))
    )
    hint_from_visits(week, start.visits)
    hint_sessions(week, start.visits, start.sessions or [])
    week.model.maximize(week.objective)
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 30
    assert solver.solve(week.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert week.sessions is not None
    assert extract_sessions(week.sessions, solver) == number_sessions(start.sessions or [])


def test_a_warm_start_session_off_the_grid_stays_representable() -> None:
    """A hand-made plan holds the class at 09:10, off the half-hour grid: cpsat's model still
    has it as a candidate, so the warm start is hinted whole and nothing is lost."""
    problem = session_problem()
    greedy = checked(problem, matcher.solve(problem, solver="greedy"))
    assert greedy.sessions
    moved = greedy.model_copy(
        update={
            "sessions": [
                session.model_copy(update={"start": 550, "end": 610}) for session in greedy.sessions
            ]
        }
    )
    checked(problem, moved)
    travel = TravelModel(problem)
    week = build_week_model(
        problem, travel, sessions=SessionScope(keep=tuple(moved.sessions or []))
    )
    assert week.sessions is not None
    assert 550 in {candidate.start for candidate in week.sessions.candidates}
    on_the_grid = build_week_model(problem, travel, sessions=SessionScope()).sessions
    assert on_the_grid is not None
    assert 550 not in {candidate.start for candidate in on_the_grid.candidates}
    plan = checked(
        problem, matcher.solve(problem, solver="cpsat", time_limit_s=5, warm_start=moved)
    )
    assert seats(plan) == seats(greedy) == 3
