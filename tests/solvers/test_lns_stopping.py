"""When LNS stops: soon after its coverage meets its bound, after a bounded polish, at its
limit (and says so), after too many stale iterations; what it asked and what happened apart."""

from __future__ import annotations

import matcher
from matcher.solvers.base import meets_bound
from matcher.solvers.lns import STALE_ITERATIONS_AFTER_FULL_COVERAGE, LnsParameters, solve_lns
from matcher.travel import TravelModel
from tests.helpers import checked, example, load


def test_lns_stops_soon_after_its_coverage_meets_the_padded_bound() -> None:
    """examples/small.json: greedy already covers what the relaxation allows (47 against a bound
    padded to 47.0000057 for HiGHS' tolerance). LNS notices at once, polishes for at most
    STALE_ITERATIONS_AFTER_FULL_COVERAGE stale iterations or `polish_time_s`, and stops: within a
    few seconds of the moment the plan says the bound was met, not at its 60-second limit."""
    problem = example("small")
    parameters = LnsParameters()
    plan = checked(problem, solve_lns(problem, TravelModel(problem), time_limit_s=60))
    info = plan.solver
    assert info.bound is not None and info.objective is not None
    assert meets_bound(info.objective, info.bound) and info.gap == 0
    assert info.statistics["stop_reason"] == "bound met"
    met_s = info.statistics["bound_met_s"]
    assert isinstance(met_s, float)
    assert info.wall_time_s <= met_s + parameters.polish_time_s + 2.0
    iterations = info.statistics["iterations"]
    assert iterations - info.statistics["last_improvement_iteration"] <= (
        STALE_ITERATIONS_AFTER_FULL_COVERAGE
    )
    assert info.status == "FEASIBLE"
    assert any(step["neighbourhood"] == "bound met" for step in info.statistics["progress"])


def test_lns_says_when_its_time_limit_stopped_it() -> None:
    """A week it cannot fully cover and no stale stop: it searches to its limit, says
    TIME_LIMIT, and keeps what was asked (the default limit too) apart from what happened."""
    problem = load("ok_small_mandatory_first")
    plan = checked(
        problem,
        matcher.solve(
            problem,
            solver="lns",
            time_limit_s=1.5,
            parameters={"stale_iterations": None, "compute_bound": True},
        ),
    )
    assert plan.solver.status == "TIME_LIMIT"
    assert plan.solver.statistics["stop_reason"] == "time limit"
    assert plan.solver.parameters["default_time_limit_s"] == 60.0
    assert plan.solver.parameters["stale_iterations"] is None
    assert (
        "improvements" not in plan.solver.parameters
        and plan.solver.parameters["iterations"] is None
    )
    assert plan.solver.statistics["iterations"] > 0


def test_lns_stops_after_its_stale_iterations() -> None:
    """The same week with a stale budget: it stops after that many iterations in a row without
    improvement, long before its limit, and says why."""
    problem = load("ok_small_mandatory_first")
    plan = checked(
        problem,
        matcher.solve(problem, solver="lns", time_limit_s=60, parameters={"stale_iterations": 30}),
    )
    assert plan.solver.status == "FEASIBLE"
    assert plan.solver.statistics["stop_reason"] == "stale"
    assert plan.solver.statistics["iterations"] == 30
