"""`floating.week` with linked needs and the week's largest lateness.

A linked pair that is its recipient's only visits that day floats as two stops joined by a
`Link` at the gap greedy's `Setup` holds; it stays fixed when the recipient has another visit
or a left-out occurrence to add that day, when one of the two is pinned, or when the two
volunteers travel at different speeds (two days' routes). Polished plans pass the checker and
rank no lower, and a pair moves to other volunteers when that saves travel. Where the policy
weighs the largest lateness, the day's model pays for it above the largest lateness of the
visits it does not move, so that its cost's term is the objective's.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from matcher.checker import check_plan
from matcher.models import Problem
from matcher.rules import need_facts
from matcher.solvers.floating.model import Link, cost, feasible, schedule_day
from matcher.solvers.floating.week import (
    DayModel,
    Placement,
    _apply,
    _DayBuilder,
    _rank,
    _visits,
    _Week,
    polish_week,
)
from matcher.solvers.greedy.planner import GreedyPlanner
from matcher.solvers.greedy.setup import GreedyParameters, Setup
from matcher.solvers.objective import objective_breakdown
from matcher.travel import TravelModel
from tests.helpers import WEEK, minutes, window
from tests.solvers.floating.test_week import broken, greedy, placements_of, plan_of

ITERATIONS = 3000

PLACES = ["depot", "h2", "h3", "a", "b", "p"]
"""v1 lives at the depot, v2 at h2 and v3 at h3; a, b and the pair's recipient p."""


def distances() -> list[list[float]]:
    """The depot is 2 km from everything; h2, h3 and p lie within 100-300 m of each other;
    a and b 1 km from all but the depot."""
    near = {("h2", "p"): 100.0, ("h3", "p"): 300.0, ("h2", "h3"): 200.0}
    rows = []
    for one in PLACES:
        row = []
        for other in PLACES:
            if one == other:
                row.append(0.0)
            elif "depot" in (one, other):
                row.append(2000.0)
            else:
                row.append(near.get((one, other), near.get((other, one), 1000.0)))
        rows.append(row)
    return rows


def travel(explicit_minutes: bool = True) -> dict[str, Any]:
    """The places at 100 m a minute (explicit minutes), or at each volunteer's speed."""
    rows = distances()
    matrix: dict[str, Any] = {"places": PLACES, "distance_m": rows}
    if explicit_minutes:
        matrix["travel_min"] = [[value / 100.0 for value in row] for row in rows]
    return {"method": "matrix", "matrix": matrix}


def person(place: str, *needs: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": place,
        "location": {"x_m": 0, "y_m": 0, "place": place},
        "needs": list(needs),
        **fields,
    }


def need(
    need_id: str, start: str = "09:00", end: str = "12:00", priority: float = 5, **fields: Any
) -> dict[str, Any]:
    return {
        "id": need_id,
        "service": "visit",
        "windows": [window("mon", start, end)],
        "priority": priority,
        **fields,
    }


def helper(volunteer_id: str, home: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": volunteer_id,
        "home": {"x_m": 0, "y_m": 0, "place": home},
        "availability": [window("mon", "09:00", "12:00")],
        **fields,
    }


SIMULTANEOUS = {"first": "p1", "second": "p2", "kind": "simultaneous"}
SEQUENTIAL = {
    "first": "p1",
    "second": "p2",
    "kind": "sequential",
    "min_gap_min": 20,
    "max_gap_min": 45,
}


def linked_week(dependency: dict[str, Any] = SIMULTANEOUS, **changes: Any) -> Problem:
    """Three volunteers, a and b with one visit each, p with the linked pair p1, p2."""
    data: dict[str, Any] = {
        "week_start": WEEK.isoformat(),
        "services": [{"id": "visit", "name": "Visit", "duration_min": 30}],
        "recipients": [
            person("a", need("na")),
            person("b", need("nb")),
            person("p", need("p1"), need("p2")),
        ],
        "volunteers": [helper("v1", "depot"), helper("v2", "h2"), helper("v3", "h3")],
        "dependencies": [dependency],
        "travel": travel(),
    }
    data.update(changes)
    return Problem.model_validate(data)


def setup_of(problem: Problem) -> Setup:
    """Greedy's `Setup` of the problem (its needs, candidates and links), nothing planned."""
    problem_travel = TravelModel(problem)
    return GreedyPlanner(
        problem, problem_travel, need_facts(problem, problem_travel), 0, GreedyParameters(), None
    ).setup


def monday_model(setup: Setup, placements: list[Placement]) -> tuple[_Week, DayModel]:
    week = _Week(setup, placements, ())
    builder = _DayBuilder(week, 0)
    models = [builder.build(speed, set()) for speed in builder.classes()]
    found = [model for model in models if model is not None]
    assert len(found) == 1
    return week, found[0]


def kinds_by_need(setup: Setup, week: _Week, model: DayModel) -> dict[str, str]:
    return {
        setup.needs[week.placements[origin.placement][0]].need.id: origin.kind
        for origin in model.origins
        if origin.placement >= 0
    }


def stop_of(setup: Setup, week: _Week, model: DayModel, need_id: str) -> int:
    return next(
        index
        for index, origin in enumerate(model.origins)
        if origin.placement >= 0
        and setup.needs[week.placements[origin.placement][0]].need.id == need_id
    )


# ------------------------------------------------------------------ the pair in the model


@pytest.mark.parametrize(
    ("dependency", "gap"),
    [
        (SIMULTANEOUS, (0, 0)),
        (SEQUENTIAL, (20, 45)),
        ({**SEQUENTIAL, "max_gap_min": None}, (20, None)),
    ],
)
def test_a_pair_that_is_the_recipients_only_visits_floats_joined_by_a_link(
    dependency: dict[str, Any], gap: tuple[int, int | None]
) -> None:
    planner = greedy(linked_week(dependency))
    setup = planner.setup
    before = placements_of(planner)
    assert broken(setup, before) == []
    week, model = monday_model(setup, before)
    kinds = kinds_by_need(setup, week, model)
    assert kinds["p1"] == kinds["p2"] == "float"
    first, second = (stop_of(setup, week, model, need_id) for need_id in ("p1", "p2"))
    assert model.routes.links == [Link(first, second, gap[0], gap[1])]
    for index in (first, second):
        stop = model.routes.stops[index]
        assert stop.fixed is None
        assert len(stop.windows) == 1 and stop.windows[0].latest_min > stop.windows[0].earliest_min
    assert feasible(model.routes, model.routes.routes) == []


@pytest.mark.parametrize("dependency", [SIMULTANEOUS, SEQUENTIAL])
def test_polished_plans_with_a_pair_pass_the_checker_and_rank_no_lower(
    dependency: dict[str, Any],
) -> None:
    planner = greedy(linked_week(dependency))
    setup = planner.setup
    before = placements_of(planner)
    result = polish_week(setup, before, 30.0, iterations=ITERATIONS)
    assert check_plan(setup.problem, plan_of(setup, result.placements), setup.travel).ok
    assert result.statistics["linked"] == 2
    assert result.statistics["refused"] == 0
    first, second = (
        _rank(setup, _visits(setup, before)),
        _rank(setup, _visits(setup, result.placements)),
    )
    assert second[0] >= first[0] and second[1] >= first[1] - 1e-9
    assert second[2] >= first[2] - 1e-6


def test_a_pair_moves_to_the_volunteers_next_door_when_that_saves_travel() -> None:
    """By hand, v1 (2 km away at the depot) and v2 make the pair at 09:20; v3 lives 300 m
    from p: the polished plan has v2 and v3 make it, at one minute, with 4 km less travel."""
    problem = linked_week(recipients=[person("p", need("p1"), need("p2"))])
    setup = setup_of(problem)
    index = setup.need_index
    before: list[Placement] = [
        (index["p1"], 0, minutes("09:20"), ("v1",)),
        (index["p2"], 0, minutes("09:20"), ("v2",)),
    ]
    assert broken(setup, before) == []
    week, model = monday_model(setup, before)
    assert model.vehicle_volunteers == [0, 1, 2]
    first, second = (stop_of(setup, week, model, need_id) for need_id in ("p1", "p2"))
    assert model.routes.routes == [[first], [second], []]
    better = [[], [second], [first]]
    assert feasible(model.routes, better) == []
    assert cost(model.routes, better) < cost(model.routes, model.routes.routes) - 1.0
    result = polish_week(setup, before, 30.0, iterations=ITERATIONS)
    assert result.kept
    plan = plan_of(setup, result.placements)
    assert check_plan(setup.problem, plan, setup.travel).ok
    by_need = {visit.need: visit for visit in plan.visits}
    assert {by_need["p1"].volunteers[0], by_need["p2"].volunteers[0]} == {"v2", "v3"}
    assert by_need["p1"].start == by_need["p2"].start
    facts = {info.need.id: info.facts for info in setup.needs}
    travel_before = objective_breakdown(problem, setup.travel, facts, _visits(setup, before))
    travel_after = objective_breakdown(problem, setup.travel, facts, plan.visits)
    saved_km = (
        travel_after["travel"] - travel_before["travel"]
    ) / problem.policy.weights.travel_per_km
    assert saved_km == pytest.approx(4.2 - 0.8)


def test_written_back_starts_keep_a_sequential_pairs_gap() -> None:
    """Every order of the day's routes the reference can time, written back: the pair's
    second visit starts 20 to 45 minutes after the first, and the checker agrees."""
    planner = greedy(linked_week(SEQUENTIAL))
    setup = planner.setup
    before = placements_of(planner)
    week, model = monday_model(setup, before)
    first, second = (stop_of(setup, week, model, need_id) for need_id in ("p1", "p2"))
    routed = [stop for route in model.routes.routes for stop in route]
    tried = 0
    for order in itertools.permutations(routed):
        for cut_one, cut_two in itertools.combinations_with_replacement(range(len(order) + 1), 2):
            routes = [list(order[:cut_one]), list(order[cut_one:cut_two]), list(order[cut_two:])]
            if feasible(model.routes, routes):
                continue
            starts = schedule_day(model.routes, routes)
            assert starts is not None
            start_of = dict(zip(itertools.chain(*routes), itertools.chain(*starts), strict=True))
            assert 20 <= start_of[second] - start_of[first] <= 45
            copy = _Week(setup, list(week.placements), ())
            _apply(copy, model, routes, starts)
            assert broken(setup, copy.placements) == []
            tried += 1
    assert tried > 10


@pytest.mark.parametrize("case", ["third visit", "left out", "pinned", "speeds"])
def test_a_pair_stays_fixed(case: str) -> None:
    """The pair stays fixed when its recipient has a third visit that day, or a left-out one
    the day's model would offer, when one of the two is pinned, or when its volunteers travel
    at different speeds."""
    recipients = [
        person("a", need("na")),
        person("b", need("nb")),
        person("p", need("p1"), need("p2"), need("p3")),
    ]
    changes: dict[str, Any] = {"recipients": recipients}
    if case == "pinned":
        changes = {
            "pinned": [
                {"need": "p1", "day": "mon", "start": minutes("09:30"), "volunteers": ["v2"]}
            ]
        }
    if case == "speeds":
        changes = {
            "travel": travel(explicit_minutes=False),
            "volunteers": [
                helper("v1", "depot", speed_m_per_min=100.0),
                helper("v2", "h2", speed_m_per_min=100.0),
                helper("v3", "h3", speed_m_per_min=50.0),
            ],
        }
    problem = linked_week(**changes)
    setup = setup_of(problem)
    index = setup.need_index
    placements: list[Placement] = [
        (index["p1"], 0, minutes("09:30"), ("v2",)),
        (index["p2"], 0, minutes("09:30"), ("v3",)),
    ]
    if case == "third visit":
        placements.append((index["p3"], 0, minutes("10:30"), ("v2",)))
    placements += [
        (index["na"], 0, minutes("10:30"), ("v1",)),
        (index["nb"], 0, minutes("10:30"), ("v3",)),
    ]
    assert broken(setup, placements) == []
    week = _Week(setup, placements, ())
    builder = _DayBuilder(week, 0)
    if case == "left out":
        assert builder.optional.get(setup.needs[index["p3"]].recipient_index) == index["p3"]
    models = [builder.build(speed, set()) for speed in builder.classes()]
    assert any(model is not None for model in models)
    for model in models:
        if model is None:
            continue
        assert model.routes.links == []
        kinds = kinds_by_need(setup, week, model)
        assert kinds.get("p1", "fixed") == kinds.get("p2", "fixed") == "fixed"
    result = polish_week(setup, placements, 10.0, iterations=ITERATIONS)
    assert result.statistics["linked"] == 0
    assert broken(setup, result.placements) == []
    for placed in placements[:2]:
        assert placed in result.placements


# ------------------------------------------------------------------ the largest lateness


def late_week(pinned: bool) -> Problem:
    """Monday: v1 makes a (wide window) and c (soft, due 09:15, late up to 60 minutes), in
    either order; Tuesday: v1 makes t, due 09:10, but is free only from 09:20 and 2 minutes
    away: 12 minutes late. With `pinned`, v2 makes q on Monday at 09:30, due 09:10 and pinned
    there: 20 minutes late. Lateness costs 2 a minute and 7 a minute of the largest."""
    soft = {"soft_window": True, "max_lateness_min": 60}
    recipients = [
        person("a", need("na", "09:00", "12:00", 1)),
        person("b", need("nc", "09:00", "09:45", 5, **soft)),
        person(
            "h3",
            {
                **need("nt", "09:00", "09:40", 5, **soft),
                "windows": [window("tue", "09:00", "09:40")],
            },
        ),
    ]
    volunteers = [
        {
            **helper("v1", "h2"),
            "availability": [window("mon", "09:00", "12:00"), window("tue", "09:20", "12:00")],
        }
    ]
    extra: dict[str, Any] = {}
    if pinned:
        recipients.append(person("p", need("nq", "09:00", "09:40", 5, **soft)))
        volunteers.append(helper("v2", "h2"))
        extra["pinned"] = [
            {"need": "nq", "day": "mon", "start": minutes("09:30"), "volunteers": ["v2"]}
        ]
    return Problem.model_validate(
        {
            "week_start": WEEK.isoformat(),
            "services": [{"id": "visit", "name": "Visit", "duration_min": 30}],
            "recipients": recipients,
            "volunteers": volunteers,
            "travel": travel(),
            "policy": {"weights": {"lateness_per_min": 2.0, "max_lateness_per_min": 7.0}},
            **extra,
        }
    )


@pytest.mark.parametrize("pinned", [False, True])
def test_the_models_largest_lateness_term_is_the_objectives(pinned: bool) -> None:
    """The day's weights are the policy's, the floor is the largest lateness of the visits the
    model does not move (Tuesday's, or Monday's pinned one), and for every order of v1's
    Monday the model's lateness terms plus the price of the unmoved visits' lateness (each
    minute, and the floor) are the objective's lateness term of the week written back."""
    problem = late_week(pinned)
    setup = setup_of(problem)
    index = setup.need_index
    placements: list[Placement] = [
        (index["na"], 0, minutes("09:10"), ("v1",)),
        (index["nc"], 0, minutes("09:50"), ("v1",)),
        (index["nt"], 1, minutes("09:22"), ("v1",)),
    ]
    if pinned:
        placements.append((index["nq"], 0, minutes("09:30"), ("v2",)))
    assert broken(setup, placements) == []
    unmoved = [setup.needs[need].lateness(day, start) for need, day, start, _ in placements[2:]]
    assert unmoved == ([12, 20] if pinned else [12])
    week, model = monday_model(setup, placements)
    weights = model.routes.weights
    assert weights.per_late_min == 2.0 and weights.per_max_late_min == 7.0
    assert weights.max_late_floor_min == max(unmoved)
    unweighted = dataclasses.replace(
        model.routes, weights=dataclasses.replace(weights, per_late_min=0, per_max_late_min=0)
    )
    facts = {info.need.id: info.facts for info in setup.needs}
    seen = set()
    for route in itertools.permutations(model.routes.routes[0]):
        routes = [list(route), *model.routes.routes[1:]]
        starts = schedule_day(model.routes, routes)
        assert starts is not None
        model_lateness = cost(model.routes, routes) - cost(unweighted, routes)
        copy = _Week(setup, list(week.placements), ())
        _apply(copy, model, routes, starts)
        terms = objective_breakdown(problem, setup.travel, facts, _visits(setup, copy.placements))
        unmoved_price = 2.0 * sum(unmoved) + 7.0 * max(unmoved)
        assert -terms["lateness"] == pytest.approx(model_lateness + unmoved_price)
        seen.add(model_lateness)
    assert len(seen) == 2 and min(seen) == 0
