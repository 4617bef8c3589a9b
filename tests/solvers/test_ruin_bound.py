"""The tighter coverage bound (`matcher.solvers.bounds`): each visit takes at least the travel
from its nearest possible neighbour or start place (`travel_floors_min`), and a volunteer-day's
visits fit in the minutes of its outings inside their windows.

Tight where the old bound is loose on tiny streets, and still valid: never below the coverage of
any plan a solver finds on the test instances and on generated weeks.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

import matcher
from matcher.generator import generate_community
from matcher.io import load_problem
from matcher.models import Problem
from matcher.rules import need_facts
from matcher.solvers.bounds import coverage_upper_bound, travel_floors_min
from matcher.solvers.ruin import RuinParameters
from matcher.travel import TravelModel
from tests.helpers import DATA, WEEK, window


def two_visits(east_m: int, west_m: int, windows: list[dict[str, str]]) -> dict[str, Any]:
    """Vic at (0,0), 100 m a minute, free Monday 09:00-10:00; Ann `east_m` east and Bob
    `west_m` west each want a 30-minute meal in `windows`."""
    return {
        "week_start": WEEK.isoformat(),
        "travel": {"method": "coordinates", "detour_factor": 1.0},
        "services": [{"id": "meal", "name": "Meal", "duration_min": 30}],
        "recipients": [
            {
                "id": name,
                "location": {"x_m": x_m, "y_m": 0},
                "needs": [{"id": f"{name}-meal", "service": "meal", "windows": windows}],
            }
            for name, x_m in (("ann", east_m), ("bob", -west_m))
        ],
        "volunteers": [
            {
                "id": "vic",
                "home": {"x_m": 0, "y_m": 0},
                "speed_m_per_min": 100,
                "availability": [window("mon", "09:00", "10:00")],
            }
        ],
    }


def bounds(problem: Problem) -> tuple[float, float]:
    """(the old bound, the new one)."""
    travel = TravelModel(problem)
    facts = need_facts(problem, travel)
    old = coverage_upper_bound(problem, travel, facts, with_travel=False, with_windows=False)
    return old, coverage_upper_bound(problem, travel, facts)


def test_travel_makes_the_bound_tight() -> None:
    """Vic starts at (0,0) and ends at home (3000,0), free 09:00-10:00; Ann lives next to his
    home, Bob at (0,3000): each is 30 minutes from his start and Bob 42 from Ann and from his
    home. Only Ann's visit fits (30 minutes out, 30 there); the old bound counts both (60
    minutes of visits in the hour), the new one gives each visit its 30 minutes in: one."""
    data = two_visits(3000, 0, [window("mon", "09:00", "10:00")])
    data["recipients"][1]["location"] = {"x_m": 0, "y_m": 3000}
    data["volunteers"][0].update(home={"x_m": 3000, "y_m": 0}, start_location={"x_m": 0, "y_m": 0})
    problem = Problem.model_validate(data)
    old, new = bounds(problem)
    assert old == pytest.approx(2.0, abs=1e-4)
    assert new == pytest.approx(1.0, abs=1e-4)
    for solver in ("greedy", "cpsat", "ruin"):
        plan = matcher.solve(problem, solver=solver, time_limit_s=5)
        assert plan.solver.objective == pytest.approx(1.0)


def test_the_travel_floors_are_the_shortest_ways_in_and_out() -> None:
    """Ann, 15 minutes east of Vic's home, Bob 15 west: in from the start (15) or from Bob
    (30), out home (15) or to Bob (30); with Bob next door to Ann, 0 both ways."""
    far = Problem.model_validate(two_visits(1500, 1500, [window("mon", "09:00", "10:00")]))
    travel = TravelModel(far)
    inward, outward = travel_floors_min(far, travel, need_facts(far, travel))[("ann-meal", 0)]
    assert (inward[0], outward[0]) == pytest.approx((15.0, 15.0))
    data = two_visits(1500, 0, [window("mon", "09:00", "10:00")])
    data["recipients"][1]["location"] = {"x_m": 1500, "y_m": 0}
    near = Problem.model_validate(data)
    travel = TravelModel(near)
    inward, outward = travel_floors_min(near, travel, need_facts(near, travel))[("ann-meal", 0)]
    assert (inward[0], outward[0]) == pytest.approx((0.0, 0.0))


def test_windows_make_the_bound_tight() -> None:
    """Vic is free 08:00-12:00 but both meals (next door to him, no travel) must lie in
    09:00-09:40: only one fits, though the old bound counts Vic's four hours."""
    data = two_visits(0, 0, [window("mon", "09:00", "09:40")])
    data["volunteers"][0]["availability"] = [window("mon", "08:00", "12:00")]
    problem = Problem.model_validate(data)
    old, new = bounds(problem)
    assert old == pytest.approx(2.0, abs=1e-4)
    assert new == pytest.approx(40 / 30, abs=1e-4)
    assert matcher.solve(problem, solver="cpsat", time_limit_s=5).solver.objective == 1.0


@cache
def generated(recipients: int, seed: int) -> Problem:
    return generate_community(
        recipients=recipients, volunteers=recipients // 4, buildings=2, seed=seed
    )


def best_coverage(problem: Problem) -> float:
    """The best weighted coverage of greedy, lns and ruin (short runs)."""
    found = [
        matcher.solve(problem, solver="greedy").solver.objective or 0.0,
        matcher.solve(
            problem,
            solver="ruin",
            time_limit_s=30,
            parameters=RuinParameters(iterations=300, compute_bound=False),
        ).solver.objective
        or 0.0,
    ]
    return max(found)


@pytest.mark.parametrize(("recipients", "seed"), [(40, 0), (60, 1), (80, 2)])
def test_the_bound_holds_on_generated_weeks(recipients: int, seed: int) -> None:
    problem = generated(recipients, seed)
    _, new = bounds(problem)
    assert new >= best_coverage(problem) - 1e-6


@pytest.mark.parametrize("path", sorted(DATA.glob("*.json")), ids=lambda path: path.stem)
def test_the_bound_holds_on_the_test_instances(path: Path) -> None:
    problem = load_problem(path)
    old, new = bounds(problem)
    assert new <= old + 1e-6
    for solver in ("greedy", "cpsat"):
        plan = matcher.solve(problem, solver=solver, time_limit_s=5)
        assert new >= (plan.solver.objective or 0.0) - 1e-6
    assert new >= best_coverage(problem) - 1e-6
