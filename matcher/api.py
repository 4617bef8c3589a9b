"""The front door: `solve()` picks a solver, runs it, checks the plan and fills its metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matcher.checker import check_plan
from matcher.models import Plan, Problem
from matcher.solvers import solve_greedy
from matcher.travel import TravelModel

SOLVERS = ("greedy",)


class SolverError(RuntimeError):
    """A solver returned a plan that breaks a hard rule: a bug, never a user error."""


def solve(
    problem: Problem | Mapping[str, Any],
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
) -> Plan:
    """Plan the week: run `solver`, verify the plan with the independent checker, attach metrics.

    The same problem, solver, seed and time limit give the same plan. Raises ValueError for an
    unknown solver and pydantic's ValidationError (listing every problem) for invalid input.
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of: {', '.join(SOLVERS)}")
    if time_limit_s is not None and time_limit_s <= 0:
        raise ValueError("time_limit_s must be positive")
    checked_problem = problem if isinstance(problem, Problem) else Problem.model_validate(problem)
    travel = TravelModel(checked_problem)
    plan = solve_greedy(checked_problem, travel, seed=seed, time_limit_s=time_limit_s)
    report = check_plan(checked_problem, plan, travel)
    if not report.ok:
        broken = "; ".join(violation.message for violation in report.violations[:5])
        raise SolverError(f"solver {solver!r} broke {len(report.violations)} rule(s): {broken}")
    plan.metrics = report.metrics
    return plan
