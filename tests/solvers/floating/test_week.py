"""`floating.week`: the week's days through the floating-routes engine.

A visit that fixed-time insertion cannot fit but floating times can is covered, and the plan
passes the checker; frozen visits (teams, pinned) keep their times and volunteers; the
day's model carries the rules (eligibility, windows and lateness, volunteer-day and week
limits); the result never ranks below the incoming plan; polished generated weeks all pass the
checker.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

import pytest

import matcher
from matcher.checker import check_plan
from matcher.generator import generate_community
from matcher.models import WEEKDAYS, Plan, Problem
from matcher.rules import need_facts, number_occurrences
from matcher.solvers.base import SolveRequest, finishing_reserve_s
from matcher.solvers.floating import feasible, schedule
from matcher.solvers.floating.week import (
    Placement,
    _apply,
    _DayBuilder,
    _rank,
    _visits,
    _Week,
    polish_week,
    stop_windows,
)
from matcher.solvers.greedy.planner import GreedyPlanner
from matcher.solvers.greedy.setup import GreedyParameters, Setup
from matcher.solvers.greedy.state import FixedStop
from matcher.solvers.ruin import RuinParameters
from matcher.solvers.ruin.solver import RuinSearch
from matcher.travel import TravelModel
from tests.helpers import WEEK, checked, minutes, window

ITERATIONS = 3000
"""The engine's iterations per day's routes in these tests (repeatable runs)."""


def greedy(problem: Problem, seed: int = 0) -> GreedyPlanner:
    """Greedy's week of the problem, planned."""
    travel = TravelModel(problem)
    planner = GreedyPlanner(
        problem, travel, need_facts(problem, travel), seed, GreedyParameters(), None
    )
    planner.run()
    return planner


def placements_of(planner: GreedyPlanner) -> list[Placement]:
    return [
        (placed.need, placed.day, placed.start, placed.volunteers)
        for placed in planner.state.placed
    ]


def plan_of(setup: Setup, placements: list[Placement]) -> Plan:
    problem = setup.problem
    return Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=number_occurrences(_visits(setup, placements)),
    )


def broken(setup: Setup, placements: list[Placement]) -> list[str]:
    """The checker's violations, a mandatory occurrence left out not counted."""
    report = check_plan(setup.problem, plan_of(setup, placements), setup.travel)
    return [
        f"{violation.rule}: {violation.message}"
        for violation in report.violations
        if violation.rule != "mandatory_missing"
    ]


def polished(setup: Setup, placements: list[Placement], **options: Any) -> list[Placement]:
    options.setdefault("iterations", ITERATIONS)
    result = polish_week(setup, placements, options.pop("time_s", 30.0), **options)
    assert broken(setup, result.placements) == []
    return result.placements


# ------------------------------------------------------------------ a crafted week

PLACES = ["depot", "a", "b", "c", "d"]


def matrix(travel_min: float = 5.0) -> dict[str, Any]:
    """Every place `travel_min` minutes (100 m per 5 minutes) from every other."""
    size = len(PLACES)
    minutes_rows = [[0.0 if i == j else travel_min for j in range(size)] for i in range(size)]
    return {
        "method": "matrix",
        "matrix": {
            "places": PLACES,
            "distance_m": [[value * 20 for value in row] for row in minutes_rows],
            "travel_min": minutes_rows,
        },
    }


def person(place: str, *needs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": place,
        "location": {"x_m": 0, "y_m": 0, "place": place},
        "needs": list(needs),
        **fields,
    }


def need(need_id: str, start: str, end: str, priority: float, **fields: Any) -> dict[str, Any]:
    return {
        "id": need_id,
        "service": "visit",
        "windows": [window("mon", start, end)],
        "priority": priority,
        **fields,
    }


def helper(
    volunteer_id: str, start: str = "09:00", end: str = "11:00", **fields: Any
) -> dict[str, Any]:
    return {
        "id": volunteer_id,
        "home": {"x_m": 0, "y_m": 0, "place": "depot"},
        "availability": [window("mon", start, end)],
        **fields,
    }


def crafted(**changes: Any) -> Problem:
    """One volunteer free 09:00-11:00; a and b open all morning come first (priority 5), c
    must start between 09:35 and 09:40 (priority 1). Greedy puts a at 09:05 and b at 09:40, and
    c then fits nowhere with their times fixed; with times floating a, c, b fit (home 10:50)."""
    data: dict[str, Any] = {
        "week_start": WEEK.isoformat(),
        "services": [{"id": "visit", "name": "Visit", "duration_min": 30}],
        "recipients": [
            person("a", need("na", "09:00", "11:00", 5)),
            person("b", need("nb", "09:00", "11:00", 5)),
            person("c", need("nc", "09:35", "10:10", 1)),
        ],
        "volunteers": [helper("v1")],
        "travel": matrix(),
    }
    data.update(changes)
    return Problem.model_validate(data)


def test_a_visit_fixed_times_cannot_fit_goes_in_with_floating_times() -> None:
    planner = greedy(crafted())
    setup = planner.setup
    before = placements_of(planner)
    assert sorted(setup.needs[placed[0]].need.id for placed in before) == ["na", "nb"]
    after = polished(setup, before)
    plan = plan_of(setup, after)
    assert check_plan(setup.problem, plan).ok
    starts = {visit.need: visit.start for visit in plan.visits}
    assert starts == {"na": minutes("09:05"), "nc": minutes("09:40"), "nb": minutes("10:15")} or (
        starts == {"nb": minutes("09:05"), "nc": minutes("09:40"), "na": minutes("10:15")}
    )
    assert _rank(setup, _visits(setup, after))[1] > _rank(setup, _visits(setup, before))[1]


def test_routes_written_back_are_the_visits_the_checker_accepts() -> None:
    """The day's model with a, c, b in one route (c the optional stop), scheduled by the
    engine's reference evaluator and written back: three visits at 09:05, 09:40, 10:15."""
    planner = greedy(crafted())
    setup = planner.setup
    week = _Week(setup, placements_of(planner), ())
    builder = _DayBuilder(week, 0)
    model = builder.build(builder.classes()[0], set())
    assert model is not None
    by_need = {
        setup.needs[origin.need].need.id: index for index, origin in enumerate(model.origins)
    }
    assert model.origins[by_need["nc"]].kind == "optional"
    assert not model.routes.stops[by_need["nc"]].required
    route = [by_need["na"], by_need["nc"], by_need["nb"]]
    starts = schedule(model.routes, 0, route)
    assert starts == [minutes("09:05"), minutes("09:40"), minutes("10:15")]
    assert _apply(week, model, [route], [starts]) == {model.origins[by_need["nc"]].need}
    plan = plan_of(setup, week.placements)
    assert check_plan(setup.problem, plan).ok
    assert {visit.need: visit.start for visit in plan.visits} == {
        "na": minutes("09:05"),
        "nc": minutes("09:40"),
        "nb": minutes("10:15"),
    }


def test_a_volunteer_who_may_not_visit_gets_no_stop() -> None:
    """c excluded v1: nothing to add, the plan comes back as it was."""
    problem = crafted(
        recipients=[
            person("a", need("na", "09:00", "11:00", 5)),
            person("b", need("nb", "09:00", "11:00", 5)),
            person("c", need("nc", "09:35", "10:10", 1), excluded_volunteers=["v1"]),
        ]
    )
    planner = greedy(problem)
    before = placements_of(planner)
    result = polish_week(planner.setup, before, 10.0, iterations=ITERATIONS)
    assert sorted(result.placements) == sorted(before)
    assert not result.kept


def test_the_days_visits_limit_keeps_the_third_visit_out() -> None:
    problem = crafted(volunteers=[helper("v1", max_visits_per_day=2)])
    planner = greedy(problem)
    before = placements_of(planner)
    after = polished(planner.setup, before)
    assert len(after) == 2


def test_the_days_capacity_keeps_the_third_visit_out() -> None:
    """v1 carries 2 a day and every visit takes 1."""
    problem = crafted(
        recipients=[
            person("a", need("na", "09:00", "11:00", 5, load=1)),
            person("b", need("nb", "09:00", "11:00", 5, load=1)),
            person("c", need("nc", "09:35", "10:10", 1, load=1)),
        ],
        volunteers=[helper("v1", capacity=2)],
    )
    planner = greedy(problem)
    before = placements_of(planner)
    assert len(before) == 2
    assert len(polished(planner.setup, before)) == 2


def test_the_weeks_minutes_net_of_other_days_keep_the_third_visit_out() -> None:
    """v1 also works on Tuesday (one visit, 40 minutes with travel): 149 minutes a week leave
    Monday 109, short of the 30 + 30 + 30 + 4 x 5 that three visits need."""
    problem = crafted(
        recipients=[
            person("a", need("na", "09:00", "11:00", 5)),
            person("b", need("nb", "09:00", "11:00", 5)),
            person("c", need("nc", "09:35", "10:10", 1)),
            person(
                "d",
                {**need("nd", "09:00", "11:00", 5), "windows": [window("tue", "09:00", "11:00")]},
            ),
        ],
        volunteers=[
            helper(
                "v1",
                availability=[window("mon", "09:00", "11:00"), window("tue", "09:00", "11:00")],
                max_minutes_per_week=149,
            )
        ],
    )
    planner = greedy(problem)
    before = placements_of(planner)
    assert len(before) == 3
    week = _Week(planner.setup, before, ())
    builder = _DayBuilder(week, 0)
    model = builder.build(builder.classes()[0], set())
    assert model is not None
    assert model.routes.groups[0].max_work_min == pytest.approx(149 - 40, abs=1e-6)
    after = polished(planner.setup, before)
    assert len(after) == 3


def test_frozen_visits_keep_their_times_and_volunteers() -> None:
    """A team visit and a pinned visit are fixed stops: they come back as they were, while the
    floating ones may move; the linked pair (b's only visits) floats, joined by a link."""
    problem = crafted(
        services=[
            {"id": "visit", "name": "Visit", "duration_min": 30},
            {"id": "pair", "name": "Pair visit", "duration_min": 30, "team_size": 2},
        ],
        recipients=[
            person("a", need("na", "09:00", "11:00", 5)),
            person("b", need("nb", "09:00", "11:00", 5), need("nb2", "09:00", "11:00", 5)),
            person("c", need("nc", "09:35", "10:10", 1)),
            person("d", {**need("nd", "09:00", "11:00", 5), "service": "pair"}),
        ],
        volunteers=[helper("v1"), helper("v2"), helper("v3")],
        dependencies=[{"first": "nb", "second": "nb2", "kind": "sequential", "min_gap_min": 30}],
        pinned=[{"need": "na", "day": "mon", "start": minutes("09:50"), "volunteers": ["v3"]}],
    )
    planner = greedy(problem)
    setup = planner.setup
    before = placements_of(planner)
    assert broken(setup, before) == []
    frozen = {"na", "nd"}
    ids = {placed: setup.needs[placed[0]].need.id for placed in before}
    assert frozen | {"nb", "nb2"} <= set(ids.values())
    week = _Week(setup, before, ())
    builder = _DayBuilder(week, 0)
    model = builder.build(builder.classes()[0], set())
    assert model is not None
    kinds = Counter(
        (setup.needs[week.placements[origin.placement][0]].need.id, origin.kind)
        for origin in model.origins
        if origin.placement >= 0
    )
    for need_id in frozen:
        assert kinds[(need_id, "float")] == 0
    assert kinds[("nd", "fixed")] == 2
    assert kinds[("nb", "float")] == kinds[("nb2", "float")] == 1
    assert len(model.routes.links) == 1
    after = polished(setup, before)
    for placed in before:
        if ids[placed] in frozen:
            assert placed in after


# ------------------------------------------------------------------ the rules in the model


def test_soft_windows_are_due_at_their_last_on_time_start_and_late_up_to_the_allowance() -> None:
    problem = crafted(
        recipients=[
            person("a", need("na", "09:00", "11:00", 5)),
            person("b", need("nb", "09:00", "11:00", 5)),
            person(
                "c",
                {
                    **need("nc", "09:35", "10:10", 1),
                    "windows": [window("mon", "09:35", "10:10"), window("mon", "10:20", "10:55")],
                    "soft_window": True,
                    "max_lateness_min": 15,
                },
            ),
        ]
    )
    planner = greedy(problem)
    info = next(info for info in planner.setup.needs if info.need.id == "nc")
    windows = stop_windows(info, 0, (), None)
    assert [(w.earliest_min, w.due_min, w.latest_min) for w in windows] == [
        (minutes("09:35"), minutes("09:40"), minutes("09:55")),
        (minutes("10:20"), minutes("10:25"), minutes("10:40")),
    ]
    for window_ in windows:
        for start in range(window_.earliest_min, window_.latest_min + 1):
            assert info.lateness(0, start) == max(0, start - window_.due_min)
    capped = stop_windows(info, 0, (), 5)
    assert [w.latest_min for w in capped] == [minutes("09:45"), minutes("10:30")]
    busy = stop_windows(info, 0, [(minutes("09:30"), minutes("10:30"))], None)
    assert [(w.earliest_min, w.latest_min) for w in busy] == [(minutes("10:30"), minutes("10:40"))]


def test_a_stop_only_goes_to_volunteers_greedy_allows_and_keeps_continuity() -> None:
    """v2 lacks the skill; v3 is the recipient's preferred volunteer: a's visit by v3 may go
    to nobody else, b's to v1 or v3."""
    problem = crafted(
        services=[
            {"id": "visit", "name": "Visit", "duration_min": 30, "required_skills": ["care"]}
        ],
        recipients=[
            person("a", need("na", "09:00", "11:00", 5), preferred_volunteers=["v3"]),
            person("b", need("nb", "09:00", "11:00", 5)),
        ],
        volunteers=[
            helper("v1", skills=["care"]),
            helper("v2"),
            helper("v3", skills=["care"]),
        ],
    )
    planner = greedy(problem)
    setup = planner.setup
    week = _Week(setup, placements_of(planner), ())
    builder = _DayBuilder(week, 0)
    model = builder.build(builder.classes()[0], set())
    assert model is not None
    names = [setup.helpers[v].volunteer.id for v in model.vehicle_volunteers]
    for stop, origin in zip(model.routes.stops, model.origins, strict=True):
        need_id = setup.needs[origin.need].need.id
        allowed = {names[vehicle] for vehicle in stop.vehicles}
        current = week.placements[origin.placement][3][0]
        if need_id == "na" and current == "v3":
            assert allowed == {"v3"}
        else:
            assert allowed <= {"v1", "v3"} and current in allowed
    assert feasible(model.routes, model.routes.routes) == []


# ------------------------------------------------------------------ generated weeks


@cache
def generated(recipients: int, seed: int) -> Problem:
    return generate_community(recipients=recipients, volunteers=recipients // 3, seed=seed)


def ruin_week(problem: Problem, iterations: int = 200) -> tuple[Setup, list[Placement]]:
    request = SolveRequest(
        problem=problem,
        travel=TravelModel(problem),
        parameters=RuinParameters(compute_bound=False, polish_share=0),
        seed=0,
        time_limit_s=60,
    )
    search = RuinSearch(
        request, RuinParameters(iterations=iterations, compute_bound=False, polish_share=0)
    )
    search.run()
    return search.planner.setup, search.snapshot()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_polished_generated_weeks_pass_the_checker_and_rank_no_lower(seed: int) -> None:
    setup, before = ruin_week(generated(45, seed), iterations=100)
    result = polish_week(setup, before, 30.0, seed=seed, iterations=150)
    assert broken(setup, result.placements) == []
    first, second = (
        _rank(setup, _visits(setup, before)),
        _rank(setup, _visits(setup, result.placements)),
    )
    assert second[0] >= first[0]
    assert second[1] >= first[1] - 1e-9
    assert second[2] >= first[2] - 1e-6
    assert result.statistics["models"] > 0


def test_every_days_incoming_routes_are_feasible_in_the_model() -> None:
    """The day's model reads the plan as it is: its incoming routes keep every rule of the
    engine (a model that did not would be skipped, and the week not polished)."""
    setup, before = ruin_week(generated(60, 5), iterations=50)
    week = _Week(setup, before, ())
    built = 0
    for day in range(len(WEEKDAYS)):
        builder = _DayBuilder(week, day)
        for speed in builder.classes():
            model = builder.build(speed, set())
            if model is None:
                continue
            built += 1
            assert feasible(model.routes, model.routes.routes) == []
    assert built > 0


def test_deterministic_for_a_seed_and_an_iteration_budget() -> None:
    setup, before = ruin_week(generated(45, 1), iterations=50)
    first = polish_week(setup, before, 60.0, seed=2, iterations=100)
    second = polish_week(setup, before, 60.0, seed=2, iterations=100)
    assert first.placements == second.placements


def test_no_time_returns_the_plan_unchanged() -> None:
    setup, before = ruin_week(generated(45, 1), iterations=20)
    result = polish_week(setup, before, 0.0)
    assert result.placements == before and not result.kept
    assert result.statistics["models"] == 0


# ------------------------------------------------------------------ the hook in ruin


def test_ruin_polishes_its_best_plan_and_never_ranks_lower_for_it() -> None:
    """The same seed and iterations with and without the polish: the same search, then the
    polished plan, checked, ranking no lower by coverage and the policy objective."""
    problem = generated(60, 4)
    plans = {
        share: checked(
            problem,
            matcher.solve(
                problem,
                solver="ruin",
                time_limit_s=60,
                parameters={"iterations": 150, "polish_share": share, "compute_bound": False},
            ),
        )
        for share in (0.0, 0.1)
    }
    without, polished_plan = plans[0.0], plans[0.1]
    assert without.solver.statistics["polish"] == {"kept": "no time"}
    polish = polished_plan.solver.statistics["polish"]
    assert polish["models"] > 0 and polish["kept"] in ("polished", "unchanged", "worse")
    assert polished_plan.solver.objective >= without.solver.objective - 1e-9
    assert policy(polished_plan) >= policy(without) - 1e-6
    if polish["kept"] == "polished":
        assert policy(polished_plan) > policy(without)


def policy(plan: Plan) -> float:
    """The plan's policy objective without fairness (what `ruin` and `lns` rank by)."""
    terms = plan.solver.objective_breakdown
    return terms["total"] - terms["fairness"]


def test_polish_time_s_gives_the_engine_the_rest_of_the_limit_once_coverage_is_complete() -> None:
    """Every visit is planned at once (the bound is met): with `polish_time_s` the engine gets
    the rest of the limit, without it its share."""
    problem = crafted()
    timed = matcher.solve(problem, solver="ruin", time_limit_s=4, parameters={"polish_time_s": 4})
    short = matcher.solve(problem, solver="ruin", time_limit_s=4)
    checked(problem, timed)
    assert timed.solver.statistics["stop_reason"] == "bound met"
    limit = 4 - finishing_reserve_s(problem, 4)
    assert timed.solver.statistics["polish"]["budget_s"] > 0.5 * limit
    assert short.solver.statistics["polish"]["budget_s"] == pytest.approx(0.1 * 4, abs=1e-3)


def test_a_session_stop_is_fixed_and_the_visits_go_around_it() -> None:
    """v1 leads a session at d's place from 10:00 to 10:30 (a fixed stop of greedy's week): it
    stays a fixed stop of v1's route, and the polished visits keep clear of it with travel."""
    problem = crafted(
        volunteers=[helper("v1", end="12:00")],
    )
    travel = TravelModel(problem)
    session = FixedStop("v1", None, 0, minutes("10:00"), minutes("10:30"), travel.home_place["v1"])
    planner = GreedyPlanner(
        problem, travel, need_facts(problem, travel), 0, GreedyParameters(), None, fixed=[session]
    )
    planner.run()
    setup = planner.setup
    before = placements_of(planner)
    week = _Week(setup, before, [session])
    builder = _DayBuilder(week, 0)
    model = builder.build(builder.classes()[0], set())
    assert model is not None
    fixed = [
        stop
        for stop, origin in zip(model.routes.stops, model.origins, strict=True)
        if origin.kind == "fixed" and origin.placement < 0
    ]
    assert [stop.fixed for stop in fixed] == [(0, minutes("10:00"))]
    result = polish_week(setup, before, 10.0, iterations=ITERATIONS, fixed=[session])
    for need, _day, start, _ in result.placements:
        end = start + setup.needs[need].duration
        assert end + 5 <= minutes("10:00") or start >= minutes("10:30") + 5
