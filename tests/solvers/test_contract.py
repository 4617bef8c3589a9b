"""The contract every solver keeps, on every instance in tests/data and on examples/small.json.

For each registered solver (`matcher.solvers.registry.registered_names()`: the bundled ones and
any registered with `matcher.solvers.base.register` before collection) and each instance:

1. the independent checker accepts the plan;
2. every mandatory need has at least as many visits planned as greedy plans for it;
3. the reason of each unplanned occurrence is the one `matcher.explain_unassigned` gives for the
   same plan, and both list the same occurrences;
4. `plan.solver.objective` is the weighted coverage: the sum of the priorities
   (`Problem.priority_of`) of the planned visits, which is also the checker's `weighted_planned`;
5. a solver whose coverage meets its bound (`plan.solver.gap == 0`) stops soon after.

Reading of clause 5 (no timed test beyond this generous one): every solver runs with a time
limit of `TIME_LIMIT_S`. When the plan says its coverage met the bound and the solver recorded
when (`statistics["bound_met_s"]`, seconds into the solve; `matcher.solvers.base.BOUND_MET_S`),
its `wall_time_s` must be at most that moment plus `STOP_SLACK_S` (one second). A solver that
does not record the moment must have stopped before half the time limit: the instances are tiny,
so a solver that stops when the bound is met takes a fraction of a second, and one that searches
on until the limit takes all of it.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest

import matcher
from matcher.io import load_problem
from matcher.models import Plan, Problem
from matcher.solvers.base import BOUND_MET_S
from matcher.solvers.registry import registered_names
from tests.helpers import DATA, EXAMPLES

INSTANCES = {
    **{path.stem: path for path in sorted(DATA.glob("*.json"))},
    "examples_small": EXAMPLES / "small.json",
}
"""Every instance of the contract: tests/data and the bundled small example."""
SOLVERS = registered_names()
TIME_LIMIT_S = 8.0
"""The time limit every solver gets; the instances are tiny, so a solver that stops when its
coverage meets the bound uses a small share of it."""
STOP_SLACK_S = 1.0
"""How long after meeting its bound a solver that records the moment may still run."""
CASES = [
    pytest.param(solver, instance, id=f"{solver}-{instance}")
    for solver in SOLVERS
    for instance in INSTANCES
]


@cache
def problem_of(instance: str) -> Problem:
    """The instance's problem, read once."""
    return load_problem(INSTANCES[instance])


@cache
def plan_of(solver: str, instance: str) -> Plan:
    """The solver's plan of the instance (seed 0, `TIME_LIMIT_S`), made once for all clauses."""
    return matcher.solve(problem_of(instance), solver=solver, time_limit_s=TIME_LIMIT_S, seed=0)


def planned_counts(plan: Plan) -> Counter[str]:
    """Visits planned per need."""
    return Counter(visit.need for visit in plan.visits)


@pytest.mark.parametrize(("solver", "instance"), CASES)
def test_checker_accepts_the_plan(solver: str, instance: str) -> None:
    """Clause 1: the plan keeps every hard rule."""
    report = matcher.check_plan(problem_of(instance), plan_of(solver, instance))
    assert report.ok, [violation.message for violation in report.violations]


@pytest.mark.parametrize(("solver", "instance"), CASES)
def test_mandatory_needs_planned_wherever_greedy_plans_them(solver: str, instance: str) -> None:
    """Clause 2: a mandatory occurrence greedy plans is planned by every solver (an optional
    visit never takes its place)."""
    problem = problem_of(instance)
    mandatory = [need.id for need in problem.need_by_id.values() if need.mandatory]
    greedy = planned_counts(plan_of("greedy", instance))
    planned = planned_counts(plan_of(solver, instance))
    short = {
        need: (planned[need], greedy[need]) for need in mandatory if planned[need] < greedy[need]
    }
    assert not short, f"mandatory need: (planned, greedy plans) {short}"


@pytest.mark.parametrize(("solver", "instance"), CASES)
def test_reasons_are_what_explain_says(solver: str, instance: str) -> None:
    """Clause 3: the plan's reason for each unplanned occurrence is `explain_unassigned`'s."""
    problem = problem_of(instance)
    plan = plan_of(solver, instance)
    stated = {(item.need, item.occurrence): item.reason for item in plan.unassigned}
    explained = {
        (item.need, item.occurrence): item.reason
        for item in matcher.explain_unassigned(problem, plan)
    }
    assert stated == explained


@pytest.mark.parametrize(("solver", "instance"), CASES)
def test_objective_is_weighted_coverage(solver: str, instance: str) -> None:
    """Clause 4: `solver.objective` is the sum of the planned visits' priorities."""
    problem = problem_of(instance)
    plan = plan_of(solver, instance)
    coverage = sum(problem.priority_of(problem.need_by_id[visit.need]) for visit in plan.visits)
    assert plan.solver.objective == pytest.approx(coverage)
    report = matcher.check_plan(problem, plan)
    assert report.metrics is not None
    assert report.metrics.weighted_planned == pytest.approx(coverage)


@pytest.mark.parametrize(("solver", "instance"), CASES)
def test_stops_once_coverage_meets_the_bound(solver: str, instance: str) -> None:
    """Clause 5 (see the module docstring for the reading): gap 0 means the search stops."""
    info = plan_of(solver, instance).solver
    if info.gap != 0:
        pytest.skip(f"{solver} does not meet its bound on {instance} (gap {info.gap})")
    met_s = info.statistics.get(BOUND_MET_S)
    if isinstance(met_s, (int, float)):
        assert info.wall_time_s <= met_s + STOP_SLACK_S, (info.wall_time_s, met_s)
    else:
        assert info.wall_time_s < TIME_LIMIT_S / 2, info.wall_time_s


def test_every_solver_and_instance_is_in_the_contract() -> None:
    """The contract covers every bundled solver and the instances the issue names."""
    assert {"greedy", "cpsat", "lns", "routing", "auto"} <= set(SOLVERS)
    assert "examples_small" in INSTANCES and "ok_small_mandatory_first" in INSTANCES
    assert len(CASES) == len(SOLVERS) * len(INSTANCES)


@pytest.mark.parametrize("limit", [float("nan"), float("inf"), 0.0, -1.0])
@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_refuses_a_bad_time_limit(solver: str, limit: float) -> None:
    """One check of the time limit for every solver, before any work: positive and finite."""
    with pytest.raises(ValueError, match="positive, finite"):
        matcher.solve(problem_of("ok_small_min_gap"), solver=solver, time_limit_s=limit)
