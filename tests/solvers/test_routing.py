"""The OR-Tools routing solver: hand-worked optima, every modelled rule, bound and gap, `solve`,
repeatability, the command line and a published Mankowska instance.

Every plan goes through the independent checker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matcher import check_plan, solve
from matcher.cli import EXIT_OK, main
from matcher.generator import generate_community
from matcher.io import load_plan
from matcher.models import Plan, Problem
from matcher.rules import walk_outing
from matcher.solvers.routing import RoutingParameters, solve_routing
from matcher.travel import TravelModel
from tests.helpers import (
    checked,
    minutes,
    outing_stops,
    recipient,
    tiny_problem,
    visit,
    volunteer,
    window,
)

QUICK = RoutingParameters(solution_limit=200)
"""Tiny instances: a fixed number of solutions, so runs are short and repeatable."""


def person(name: str, x_m: float = 0, y_m: float = 0, **fields: Any) -> dict[str, Any]:
    """A volunteer at (x, y) walking 100 m a minute, free on Monday 08:00-18:00 by default."""
    defaults = {"speed_m_per_min": 100, "availability": [window("mon", "08:00", "18:00")]}
    return volunteer(name, x_m, y_m, **{**defaults, **fields})


def elder(name: str, x_m: float = 0, y_m: float = 0, **need: Any) -> dict[str, Any]:
    """A recipient at (x, y) with one need `<name>-visit` of the `visit` service on Monday."""
    windows = [window("mon", "08:00", "18:00")]
    visit_need = {"id": f"{name}-visit", "service": "visit", "windows": windows, **need}
    return recipient(name, visit_need, x_m=x_m, y_m=y_m)


def week(
    recipients: list[dict[str, Any]],
    volunteers: list[dict[str, Any]],
    duration_min: int = 30,
    **extra: Any,
) -> Problem:
    """A problem with one `visit` service, straight-line travel and these people."""
    travel = {"method": "coordinates", "detour_factor": 1.0}
    services = [{"id": "visit", "duration_min": duration_min}]
    return tiny_problem(services, recipients, volunteers, **{"travel": travel, **extra})


def routed(problem: Problem, **options: Any) -> Plan:
    """The routing plan under the quick repeatable settings, checked."""
    options.setdefault("time_limit_s", 20)
    options.setdefault("parameters", QUICK)
    return checked(problem, solve_routing(problem, **options))


def blocking_week() -> Problem:
    """Only two one-hour visits fit in 09:00-11:00 and A (priority 3, 09:30-10:30) blocks both
    B (2.5, 09:00-10:00) and C (2.5, 10:00-11:00)."""
    return week(
        [
            elder("a", priority=3, windows=[window("mon", "09:30", "10:30")]),
            elder("b", priority=2.5, windows=[window("mon", "09:00", "10:00")]),
            elder("c", priority=2.5, windows=[window("mon", "10:00", "11:00")]),
        ],
        [person("v", availability=[window("mon", "09:00", "11:00")])],
        duration_min=60,
    )


def test_blocking_instance_drops_the_visit_worked_out_by_hand() -> None:
    """Only two one-hour visits fit in 09:00-11:00 and A (priority 3, 09:30-10:30) blocks both
    others: the optimum plans B at 09:00 and C at 10:00 (2.5 + 2.5 = 5), not A alone (3)."""
    problem = blocking_week()
    plan = routed(problem)
    assert [(visit.need, visit.start) for visit in plan.visits] == [
        ("b-visit", minutes("09:00")),
        ("c-visit", minutes("10:00")),
    ]
    assert plan.solver.objective == pytest.approx(5.0)
    assert [(item.need, item.reason) for item in plan.unassigned] == [
        ("a-visit", "volunteers_full")
    ]


def test_route_order_takes_the_shortest_tour() -> None:
    """Homes on three corners of a 1 km square, the volunteer on the fourth: going round the
    square walks 4 km; any tour across a diagonal walks 2 + 2 x 1.414 = 4.83 km."""
    problem = week(
        [elder("a", 0, 1000), elder("b", 1000, 1000), elder("c", 1000, 0)],
        [person("v")],
    )
    plan = routed(problem)
    assert len(plan.visits) == 3
    assert [route.distance_m for route in plan.routes] == [pytest.approx(4000.0)]
    order = [visit.need for visit in sorted(plan.visits, key=lambda visit: visit.start)]
    assert order in (["a-visit", "b-visit", "c-visit"], ["c-visit", "b-visit", "a-visit"])


def soft_pair(max_lateness_min: int) -> Problem:
    """Two one-hour visits at the volunteer's door, soft windows 09:00-10:30 (on time up to a
    09:30 start), the volunteer free 09:00-11:30: one of them starts at 10:00 or later."""
    soft = {
        "windows": [window("mon", "09:00", "10:30")],
        "soft_window": True,
        "max_lateness_min": max_lateness_min,
    }
    return week(
        [elder("a", **soft), elder("b", **soft)],
        [person("v", availability=[window("mon", "09:00", "11:30")])],
        duration_min=60,
    )


def test_soft_window_plans_a_late_visit_within_the_limit() -> None:
    """Allowed 30 minutes late: both visits, 09:00 and 10:00, the second 30 minutes late."""
    problem = soft_pair(max_lateness_min=30)
    plan = routed(problem)
    assert sorted(visit.start for visit in plan.visits) == [minutes("09:00"), minutes("10:00")]
    metrics = check_plan(problem, plan).metrics
    assert metrics.total_lateness_min == pytest.approx(30.0)
    assert metrics.max_lateness_min == pytest.approx(30.0)


def test_soft_window_limit_leaves_a_visit_out() -> None:
    """Allowed only 20 minutes late, the second visit cannot be made at all."""
    plan = routed(soft_pair(max_lateness_min=20))
    assert len(plan.visits) == 1 and len(plan.unassigned) == 1


def linked(kind: str, **gaps: int) -> Problem:
    """Ann's nursing (first) and lifting help (second), linked; two volunteers."""
    return Problem.model_validate(
        {
            "week_start": "2026-11-30",
            "travel": {"method": "coordinates", "detour_factor": 1.0},
            "services": [
                {"id": "nurse", "duration_min": 20},
                {"id": "help", "duration_min": 20},
            ],
            "recipients": [
                {
                    "id": "ann",
                    "location": {"x_m": 500, "y_m": 0},
                    "needs": [
                        {
                            "id": need_id,
                            "service": service,
                            "windows": [window("mon", "09:00", "12:00")],
                        }
                        for need_id, service in (("ann-nurse", "nurse"), ("ann-help", "help"))
                    ],
                }
            ],
            "volunteers": [person("vic"), person("wes")],
            "dependencies": [{"first": "ann-nurse", "second": "ann-help", "kind": kind, **gaps}],
        }
    )


def test_simultaneous_dependency_starts_together_with_two_volunteers() -> None:
    plan = routed(linked("simultaneous"))
    nurse, help_ = (
        next(v for v in plan.visits if v.need == need) for need in ("ann-nurse", "ann-help")
    )
    assert nurse.start == help_.start
    assert nurse.volunteers != help_.volunteers


def test_sequential_dependency_keeps_its_gap_with_two_volunteers() -> None:
    plan = routed(linked("sequential", min_gap_min=30, max_gap_min=45))
    nurse, help_ = (
        next(v for v in plan.visits if v.need == need) for need in ("ann-nurse", "ann-help")
    )
    assert 30 <= help_.start - nurse.start <= 45
    assert nurse.volunteers != help_.volunteers


def test_capacity_per_day_keeps_the_more_important_load() -> None:
    """Meals weigh 2 boxes; the only volunteer carries 3 a day: one meal, Bob's (priority 2)."""
    problem = week(
        [elder("ann", 100, 0, load=2, priority=1), elder("bob", 200, 0, load=2, priority=2)],
        [person("v", capacity=3)],
    )
    plan = routed(problem)
    assert [visit.need for visit in plan.visits] == ["bob-visit"]
    assert [item.need for item in plan.unassigned] == ["ann-visit"]


def test_team_visit_sends_two_volunteers_at_once() -> None:
    """A team_size 2 service: both volunteers at the same start; one volunteer is not enough."""
    data: dict[str, Any] = {
        "week_start": "2026-11-30",
        "travel": {"method": "coordinates", "detour_factor": 1.0},
        "services": [{"id": "lift", "duration_min": 30, "team_size": 2}],
        "recipients": [
            {
                "id": "ann",
                "location": {"x_m": 300, "y_m": 400},
                "needs": [{"id": "ann-lift", "service": "lift"}],
            }
        ],
        "volunteers": [person("vic"), person("wes", 600, 0)],
    }
    problem = Problem.model_validate(data)
    plan = routed(problem)
    assert len(plan.visits) == 1 and sorted(plan.visits[0].volunteers) == ["vic", "wes"]
    data["volunteers"] = [person("vic")]
    alone = Problem.model_validate(data)
    assert routed(alone).visits == []


def test_weekly_minute_cap_limits_the_visits() -> None:
    """Three one-hour visits at the door (Mon, Wed, Fri) and a 130-minute week: two of them."""
    days = ("mon", "wed", "fri")
    problem = week(
        [
            elder(
                "ann",
                visits_per_week=3,
                windows=[window(day, "09:00", "12:00") for day in days],
            )
        ],
        [
            person(
                "v",
                availability=[window(day, "09:00", "12:00") for day in days],
                max_minutes_per_week=130,
            )
        ],
        duration_min=60,
    )
    plan = routed(problem)
    assert len(plan.visits) == 2
    assert [item.occurrence for item in plan.unassigned] == [3]


def test_min_gap_days_spaces_the_visits() -> None:
    """Two visits a week, allowed Mon-Wed, at least two days apart: Monday and Wednesday."""
    days = ("mon", "tue", "wed")
    problem = week(
        [
            elder(
                "ann",
                visits_per_week=2,
                min_gap_days=2,
                windows=[window(day, "09:00", "12:00") for day in days],
            )
        ],
        [person("v", availability=[window(day, "09:00", "12:00") for day in days])],
    )
    plan = routed(problem)
    assert [visit.day for visit in plan.visits] == ["mon", "wed"]


def test_unplanned_occurrences_carry_reason_codes() -> None:
    """A skill nobody has, a Tuesday window when the volunteer only comes on Monday, and a
    second one-hour visit in a one-hour morning: each unplanned occurrence says why."""
    problem = Problem.model_validate(
        {
            "week_start": "2026-11-30",
            "services": [
                {"id": "visit", "duration_min": 60},
                {"id": "haircut", "duration_min": 30, "required_skills": ["barber"]},
            ],
            "recipients": [
                {
                    "id": "ann",
                    "location": {"x_m": 0, "y_m": 0},
                    "needs": [
                        {"id": "ann-cut", "service": "haircut"},
                        {
                            "id": "ann-tue",
                            "service": "visit",
                            "windows": [window("tue", "09:00", "12:00")],
                        },
                    ],
                },
                elder("bob", priority=2, windows=[window("mon", "09:00", "10:00")]),
                elder("cy", priority=1, windows=[window("mon", "09:00", "10:00")]),
            ],
            "volunteers": [person("v", availability=[window("mon", "09:00", "12:00")])],
        }
    )
    plan = routed(problem)
    assert [visit.need for visit in plan.visits] == ["bob-visit"]
    reasons = {(item.need, item.occurrence): item.reason for item in plan.unassigned}
    assert reasons == {
        ("ann-cut", 1): "no_qualified_volunteer",
        ("ann-tue", 1): "no_shared_window",
        ("cy-visit", 1): "volunteers_full",
    }
    assert all(item.message for item in plan.unassigned)


def test_solve_front_door_gives_a_checked_plan_with_bound_and_gap() -> None:
    """`solve(..., solver="routing")` on a small generated week: checked, bound >= objective."""
    problem = generate_community(recipients=12, volunteers=5, buildings=2, seed=1)
    plan = checked(problem, solve(problem, solver="routing", time_limit_s=1))
    stopped_by_time = plan.solver.statistics["stopped_by"] == "time limit"
    assert plan.solver.solver == "routing"
    assert plan.solver.status == ("TIME_LIMIT" if stopped_by_time else "FEASIBLE")
    assert plan.metrics is not None and plan.visits
    assert plan.solver.objective == pytest.approx(plan.metrics.weighted_planned)
    assert plan.solver.bound is not None and plan.solver.gap is not None
    assert plan.solver.bound >= plan.solver.objective - 1e-9
    assert 0.0 <= plan.solver.gap <= 1.0


def test_a_model_too_big_for_the_limit_falls_back_to_the_warm_start() -> None:
    """When building the routing model outlasts the time limit, the solver stops building and
    returns its greedy warm start (checked), saying so, instead of overrunning the limit."""
    problem = generate_community(recipients=150, volunteers=40, seed=2)
    plan = checked(problem, solve(problem, solver="routing", time_limit_s=0.01))
    assert plan.solver.statistics["search_status"] == "model build ran out of time"
    assert plan.solver.statistics["fallback"] == "greedy"
    requested = sum(need.visits_per_week for need in problem.need_by_id.values())
    assert len(plan.visits) + len(plan.unassigned) == requested
    assert plan.solver.bound is not None and plan.solver.bound >= plan.solver.objective


def test_bound_of_the_blocking_instance_is_the_relaxation() -> None:
    """A worked bound: the relaxation allows A plus half of B and C, 5.5, so the gap is 1/11."""
    problem = blocking_week()
    plan = routed(problem)
    assert plan.solver.bound == pytest.approx(5.5, abs=1e-4)
    assert plan.solver.gap == pytest.approx(0.5 / 5.5, abs=1e-4)


def test_same_seed_and_solution_limit_give_the_same_plan() -> None:
    problem = generate_community(recipients=12, volunteers=5, buildings=2, seed=2)
    parameters = RoutingParameters(solution_limit=30)
    first = routed(problem, seed=4, time_limit_s=60, parameters=parameters)
    second = routed(problem, seed=4, time_limit_s=60, parameters=parameters)
    assert first.visits == second.visits
    assert first.routes == second.routes


def test_cli_solves_with_the_routing_solver(tmp_path: Path) -> None:
    problem_path, plan_path = tmp_path / "small.json", tmp_path / "plan.json"
    assert main(["example", "small", "-o", str(problem_path)]) == EXIT_OK
    arguments = ["solve", str(problem_path), "-o", str(plan_path), "--solver", "routing"]
    assert main([*arguments, "--time-limit-s", "2"]) == EXIT_OK
    plan = load_plan(plan_path)
    assert plan.solver.solver == "routing" and plan.visits
    assert main(["check", str(problem_path), str(plan_path)]) == EXIT_OK
    assert json.loads(plan_path.read_text())["solver"]["bound"] is not None


MORNING_AND_AFTERNOON = [window("mon", "09:00", "11:00"), window("mon", "15:00", "17:00")]
"""A retired walker's Monday: home for lunch between two outings."""


def test_two_windows_are_two_outings_and_weekly_minutes_count_the_walk_home() -> None:
    """An hour's visit 1 km from home in the morning and one in the afternoon, 10 minutes'
    walk each way: home between them, the week is 120 visiting + 4 x 10 walking = 160 minutes
    (one trip from visit to visit would walk 20). A 150-minute week holds only one of them."""
    recipients = [
        elder("am", 1000, 0, windows=[window("mon", "09:00", "11:00")]),
        elder("pm", 1000, 0, priority=2, windows=[window("mon", "15:00", "17:00")]),
    ]

    def walker(**limits: Any) -> Problem:
        return week(recipients, [person("v", availability=MORNING_AND_AFTERNOON, **limits)], 60)

    both = routed(walker(max_minutes_per_week=160))
    assert sorted(visit.need for visit in both.visits) == ["am-visit", "pm-visit"]
    travel = TravelModel(walker())
    outings = outing_stops(walker(), both, travel)
    assert [outing for _, _, outing, _ in outings] == [
        (minutes("09:00"), minutes("11:00")),
        (minutes("15:00"), minutes("17:00")),
    ]
    walked = [
        walk_outing(travel, walker().volunteers[0], [stop.place for stop in stops])
        for *_, stops in outings
    ]
    assert [walk.distance_m for walk in walked] == [pytest.approx(2000.0)] * 2
    one = routed(walker(max_minutes_per_week=150))
    assert [visit.need for visit in one.visits] == ["pm-visit"]


def test_a_warm_start_breaking_a_rule_is_cut_to_what_the_checker_accepts() -> None:
    """A warm start with both walks of the 150-minute week (160 minutes, counted as one trip it
    would be 140): the checker names the volunteer's week, the least valuable visit goes, and
    the search starts from the rest."""
    problem = week(
        [
            elder("am", 1000, 0, windows=[window("mon", "09:00", "11:00")]),
            elder("pm", 1000, 0, priority=2, windows=[window("mon", "15:00", "17:00")]),
        ],
        [person("v", availability=MORNING_AND_AFTERNOON, max_minutes_per_week=150)],
        60,
    )
    both = [visit(problem, "am-visit", "09:10", "v"), visit(problem, "pm-visit", "15:10", "v")]
    assert [item.rule for item in check_plan(problem, Plan(visits=both)).violations] == [
        "max_minutes_per_week"
    ]
    plan = routed(problem, warm_start=Plan(visits=both))
    assert plan.solver.statistics["warm_start_used"] == "1 of 2"
    assert [visit.need for visit in plan.visits] == ["pm-visit"]


def test_an_outing_walks_no_further_than_its_limit() -> None:
    """Two elders 1 km from home on opposite sides: an outing to both walks 4 km, more than the
    2.5 km the volunteer walks in one outing; one window makes one of them, a morning and an
    afternoon make both, one an outing, each leg within the 1 km trip limit."""
    recipients = [
        elder("west", -1000, 0, windows=MORNING_AND_AFTERNOON),
        elder("east", 1000, 0, priority=2, windows=MORNING_AND_AFTERNOON),
    ]
    limits = {"max_outing_distance_m": 2500, "max_trip_distance_m": 1000}
    one_window = week(
        recipients, [person("v", availability=[window("mon", "09:00", "17:00")], **limits)]
    )
    assert [visit.need for visit in routed(one_window).visits] == ["east-visit"]
    two_outings = week(recipients, [person("v", availability=MORNING_AND_AFTERNOON, **limits)])
    plan = routed(two_outings)
    assert sorted(visit.need for visit in plan.visits) == ["east-visit", "west-visit"]
    outings = outing_stops(two_outings, plan, TravelModel(two_outings))
    assert [len(stops) for *_, stops in outings] == [1, 1]


@pytest.mark.parametrize("limit", [{"max_visits_per_day": 1}, {"capacity": 3}])
def test_a_days_cap_holds_over_all_its_outings(limit: dict[str, int]) -> None:
    """One visit in the morning outing, one in the afternoon; one visit a day (or a capacity of
    3 against loads of 2) keeps only the more important, though each outing alone has room."""
    problem = week(
        [
            elder("am", 100, 0, load=2, windows=[window("mon", "09:00", "11:00")]),
            elder("pm", 100, 0, load=2, priority=2, windows=[window("mon", "15:00", "17:00")]),
        ],
        [person("v", availability=MORNING_AND_AFTERNOON, **limit)],
    )
    plan = routed(problem)
    assert [visit.need for visit in plan.visits] == ["pm-visit"]
    assert [item.need for item in plan.unassigned] == ["am-visit"]


def test_linked_visits_need_two_volunteers_even_across_outings() -> None:
    """Nursing in the morning and lifting help at least four hours later, in the afternoon:
    one volunteer's two outings could hold both, but linked visits need different volunteers,
    so vic alone plans neither and with wes the two share them."""

    def linked_week(names: tuple[str, ...]) -> Problem:
        data = linked("sequential", min_gap_min=240).model_dump(mode="json", exclude_none=True)
        afternoon = [{"day": "mon", "start": "14:00", "end": "17:00"}]
        data["recipients"][0]["needs"][1]["windows"] = afternoon
        data["volunteers"] = [person(name, availability=MORNING_AND_AFTERNOON) for name in names]
        return Problem.model_validate(data)

    assert routed(linked_week(("vic",))).visits == []
    plan = routed(linked_week(("vic", "wes")))
    nurse, help_ = (
        next(v for v in plan.visits if v.need == need) for need in ("ann-nurse", "ann-help")
    )
    assert help_.start - nurse.start >= 240
    assert nurse.volunteers != help_.volunteers


def test_coverage_meeting_the_bound_stops_the_search_early() -> None:
    """Three visits anyone can make: once a solution plans them all (the bound), the search
    polishes for half a second and stops, long before its 60-second limit; the plan says so and
    keeps FEASIBLE (not TIME_LIMIT)."""
    problem = week(
        [elder("a", 0, 1000), elder("b", 1000, 1000), elder("c", 1000, 0)], [person("v")]
    )
    plan = checked(problem, solve_routing(problem, time_limit_s=60))
    assert len(plan.visits) == 3
    assert plan.solver.statistics["stopped_by"] == "coverage met the bound"
    assert plan.solver.status == "FEASIBLE"
    assert plan.solver.wall_time_s < 20


def test_time_limit_status_when_the_bound_is_out_of_reach() -> None:
    """The blocking instance cannot reach its bound (5 of 5.5): the search runs to its limit
    and the status says the time limit stopped it; statistics say what happened, parameters
    what was asked."""
    problem = blocking_week()
    plan = checked(problem, solve(problem, solver="routing", time_limit_s=1))
    assert plan.solver.status == "TIME_LIMIT"
    assert plan.solver.statistics["stopped_by"] == "time limit"
    assert plan.solver.parameters == RoutingParameters().model_dump(mode="json")
    assert {"search_status", "first_solutions", "timing_status"} <= set(plan.solver.statistics)
    assert not set(plan.solver.statistics) & set(plan.solver.parameters)
