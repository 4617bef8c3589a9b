"""The time budget of the search solvers (issue 10): greedy first, with the time it needs, and
never a plan worse than greedy's or an empty one when a model does not fit the limit.

No timed tests: where a model must be too big for the limit, its build is made to overrun (it
raises what an overrun raises), and the tests assert the fallback and what the statistics say.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

import networkx as nx
import pytest

from matcher.api import solve
from matcher.generator import generate_community
from matcher.models import Problem
from matcher.rules import need_facts
from matcher.solvers.cpsat import CpSatParameters
from matcher.solvers.cpsat.model import SCALE, BuildTimeout, _WeekBuilder, estimated_memory_mib
from matcher.solvers.lns import LnsParameters
from matcher.solvers.routing.builder import OutOfTime
from matcher.travel import TravelModel
from tests.helpers import checked, example


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
    below greedy. Greedy now runs first with the time it needs (up to 90 % of what the limit
    leaves after the time kept for assembling the plan); LNS only improves on it."""
    parameters = LnsParameters(iterations=0, compute_bound=False)
    plan = checked(week, solve(week, solver="lns", time_limit_s=3.0, parameters=parameters))
    assert plan.solver.objective >= greedy_coverage - 1e-9
    assert plan.solver.statistics["greedy_stopped_by_time_limit"] is False
    assert plan.solver.statistics["warm_start"] == "kept"


def _walkway_problem(edges: int, places: int, seed: int) -> Problem:
    """A problem on a random walkway graph: recipients and volunteers at some of its places."""
    rng = random.Random(seed)
    nodes = [f"p{index}" for index in range(places)]
    walkways = [
        {"a": nodes[index - 1], "b": nodes[index], "distance_m": rng.uniform(5, 50)}
        for index in range(1, places)
    ]
    walkways += [
        {"a": rng.choice(nodes), "b": rng.choice(nodes), "distance_m": rng.uniform(5, 500)}
        for _ in range(edges - len(walkways))
    ]
    walkways = [edge for edge in walkways if edge["a"] != edge["b"]]
    return Problem.model_validate(
        {
            "week_start": "2026-11-30",
            "recipients": [
                {"id": f"r{index}", "location": {"place": rng.choice(nodes)}} for index in range(12)
            ],
            "volunteers": [
                {"id": f"v{index}", "home": {"place": rng.choice(nodes)}} for index in range(5)
            ],
            "travel": {"method": "graph", "walkways": walkways},
        }
    )


def test_walkway_distances_are_the_shortest_paths() -> None:
    """Finding 4: the graph distances are one multi-source Dijkstra (SciPy) over the places
    used; they are the shortest paths networkx finds, parallel edges keeping the shortest."""
    problem = _walkway_problem(edges=600, places=200, seed=4)
    travel = TravelModel(problem)
    graph = nx.Graph()
    for edge in problem.travel.walkways:
        if not graph.has_edge(edge.a, edge.b) or graph[edge.a][edge.b]["weight"] > edge.distance_m:
            graph.add_edge(edge.a, edge.b, weight=edge.distance_m)
    for row, origin in enumerate(travel.locations):
        lengths = nx.single_source_dijkstra_path_length(graph, origin.place, weight="weight")
        for column, target in enumerate(travel.locations):
            assert travel.distance_m[row, column] == pytest.approx(lengths[target.place])


def test_the_travel_matrices_count_in_the_solve_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Finding 4: `matcher.solve` built the travel matrices before the clock started, so a slow
    graph took no time in `wall_time_s` and none of the limit. They count now."""
    original = TravelModel._distances

    def slow(self: TravelModel) -> Any:
        time.sleep(0.5)
        return original(self)

    monkeypatch.setattr(TravelModel, "_distances", slow)
    problem = _walkway_problem(edges=50, places=30, seed=1)
    plan = solve(problem, solver="greedy", time_limit_s=30)
    assert plan.solver.wall_time_s >= 0.5


def test_a_time_limit_that_is_not_a_finite_positive_number_is_refused() -> None:
    """`--time-limit-s nan` once made `lns` search forever: every solver refuses it, naming it."""
    problem = _walkway_problem(edges=20, places=10, seed=2)
    for solver in ("greedy", "lns", "cpsat", "routing", "auto"):
        for limit in (math.nan, math.inf, -1.0, 0.0):
            with pytest.raises(ValueError, match="time_limit_s"):
                solve(problem, solver=solver, time_limit_s=limit)


def test_cpsat_refuses_a_model_over_its_memory_budget(
    week: Problem, greedy_coverage: float
) -> None:
    """Finding 1: the model's memory was unbounded (21 GiB on the 1,500-recipient week). It is
    estimated once the options are known, before the arcs: over `max_memory_mib` the candidates
    are pruned by reach, and if still over, the greedy plan comes back, saying why."""
    parameters = CpSatParameters(max_memory_mib=1)
    plan = checked(week, solve(week, solver="cpsat", time_limit_s=5, parameters=parameters))
    statistics = plan.solver.statistics
    assert statistics["fallback"] == "greedy"
    assert "memory budget of 1 MiB" in statistics["search"]
    assert statistics["model_estimate_mib"] > 1
    assert statistics["pruned_for_memory"] is True
    assert plan.solver.objective >= greedy_coverage - 1e-9
    assert plan.solver.parameters["max_memory_mib"] == 1


def test_the_default_memory_budget_builds_the_bundled_community() -> None:
    """The default budget (4096 MiB) is well under the machine and still takes the bundled
    community's model whole (about 2.3 GiB measured), not the 1,500-recipient week's."""
    default = CpSatParameters().max_memory_mib
    community = example("community")
    travel = TravelModel(community)
    builder = _WeekBuilder(
        community,
        travel,
        need_facts(community, travel),
        fixed_visits=[],
        free_pairs=None,
        prune_by_reach=False,
        keep_possible=[],
        pair_needs=None,
        include_fairness=True,
        weights_scale=SCALE,
        lateness_cache=None,
    )
    builder.add_options()
    assert 1024 < estimated_memory_mib(builder.options) < default


def test_routing_refuses_a_model_over_the_memory_budget(
    week: Problem, greedy_coverage: float
) -> None:
    """Finding 2: routing took 10.7 GiB on the 1,500-recipient week. Its model is estimated
    (nodes x vehicles) before it is allocated; over the budget it is not built and greedy's
    plan comes back, saying why."""
    plan = checked(week, solve(week, solver="routing", time_limit_s=5, max_memory_mib=1))
    statistics = plan.solver.statistics
    assert statistics["fallback"] == "greedy"
    assert statistics["model_estimate_mib"] > 1
    assert "over the memory budget of 1 MiB" in statistics["search_status"]
    assert plan.solver.objective >= greedy_coverage - 1e-9


def test_the_memory_budget_of_solve_overrides_the_solvers_parameter(week: Problem) -> None:
    plan = solve(week, solver="cpsat", time_limit_s=5, max_memory_mib=1)
    assert plan.solver.statistics["memory_budget_mib"] == 1
    assert plan.solver.statistics["fallback"] == "greedy"


@pytest.mark.parametrize("budget", [0, -5, math.nan, math.inf])
def test_a_memory_budget_that_is_not_a_positive_finite_number_is_refused(
    week: Problem, budget: float
) -> None:
    with pytest.raises(ValueError, match="max_memory_mib"):
        solve(week, solver="greedy", max_memory_mib=budget)
