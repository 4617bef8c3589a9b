"""The time budget of the search solvers (issue 10): greedy first, with the time it needs, and
never a plan worse than greedy's or an empty one when a model does not fit the limit.

No timed tests: where a model must be too big for the limit, its build is made to overrun (it
raises what an overrun raises), and the tests assert the fallback and what the statistics say.
"""

from __future__ import annotations

from typing import Any

import pytest

from matcher.api import solve
from matcher.generator import generate_community
from matcher.models import Problem
from matcher.solvers.cpsat.model import BuildTimeout
from matcher.solvers.lns import LnsParameters
from matcher.solvers.routing.builder import OutOfTime
from tests.helpers import checked


@pytest.fixture(scope="module")
def week() -> Problem:
    """A week greedy plans in well under a second, but in more than a tenth of 3 s."""
    return generate_community(recipients=150, volunteers=40, seed=2)


@pytest.fixture(scope="module")
def greedy_coverage(week: Problem) -> float:
    """The weighted coverage of greedy's full plan of the week."""
    plan = solve(week, solver="greedy")
    assert plan.solver.status == "FEASIBLE"
    return plan.solver.objective


def _overrun(*_: Any, **__: Any) -> None:
    raise OutOfTime


def _build_timeout(*_: Any, **__: Any) -> None:
    raise BuildTimeout("the model of the week could not be built in time")


def test_routing_whose_model_overruns_returns_greedys_full_plan(
    week: Problem, greedy_coverage: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 2: a routing model too big for the limit gave the greedy warm start cut at a tenth
    of the limit (on the 1,500-recipient week: nothing at all). Greedy now runs first with the
    time it needs, and its whole plan comes back, saying so."""
    monkeypatch.setattr("matcher.solvers.routing.solver.Network.build", _overrun)
    plan = checked(week, solve(week, solver="routing", time_limit_s=3))
    assert plan.visits and plan.solver.objective >= greedy_coverage
    statistics = plan.solver.statistics
    assert statistics["search_status"] == "model build ran out of time"
    assert statistics["fallback"] == "greedy"
    assert statistics["greedy_stopped_by_time_limit"] is False


def test_cpsat_whose_model_overruns_returns_greedys_full_plan(
    week: Problem, greedy_coverage: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Findings 1 and 2 for cpsat: the week's model not built within the limit gives greedy's
    whole plan (not one cut at a tenth of the limit), the statistics saying why."""
    monkeypatch.setattr("matcher.solvers.cpsat.solve.build_week_model", _build_timeout)
    plan = checked(week, solve(week, solver="cpsat", time_limit_s=3))
    assert plan.visits and plan.solver.objective >= greedy_coverage
    statistics = plan.solver.statistics
    assert statistics["fallback"] == "greedy"
    assert "could not be built" in statistics["search"]
    assert plan.solver.status == "TIME_LIMIT"


def test_a_search_never_returns_less_coverage_than_greedy(
    week: Problem, greedy_coverage: float
) -> None:
    """Whatever the search finds, a solver that starts from greedy returns at least greedy's
    weighted coverage when greedy finishes within the limit."""
    for solver in ("routing", "cpsat"):
        plan = checked(week, solve(week, solver=solver, time_limit_s=3))
        assert plan.solver.objective >= greedy_coverage - 1e-9, solver


def test_lns_at_a_short_limit_starts_from_greedys_full_plan(
    week: Problem, greedy_coverage: float
) -> None:
    """Finding 3: at a short limit `lns` started from greedy cut at 30 % of the limit and ended
    below greedy. Greedy now runs first with the time it needs; LNS only improves on it."""
    parameters = LnsParameters(iterations=0, compute_bound=False)
    plan = checked(week, solve(week, solver="lns", time_limit_s=1.0, parameters=parameters))
    assert plan.solver.objective >= greedy_coverage - 1e-9
    assert plan.solver.statistics["greedy_stopped_by_time_limit"] is False
    assert plan.solver.statistics["warm_start"] == "kept"
