"""`matcher.solve(progress=..., stop=...)`: every solver tells its caller how the solve stands and
ends with the best plan found when the caller asks it to stop.

The stop tests give each solver a long time limit (`LONG_LIMIT_S`) and stop it at once or right
after its greedy start: a solver that ignored `stop` would search for the whole limit, so the
generous `wall_time_s` ceiling (`STOPPED_WITHIN_S`, a small share of the limit) tells the two
apart without timing anything closely.
"""

from __future__ import annotations

import pytest

import matcher
from matcher.io import load_problem
from matcher.models import Problem
from matcher.solvers.base import Progress
from tests.helpers import EXAMPLES

SOLVERS = ("greedy", "cpsat", "lns", "routing", "auto")
LONG_LIMIT_S = 120.0
STOPPED_WITHIN_S = 30.0


def small() -> Problem:
    return load_problem(EXAMPLES / "small.json")


@pytest.mark.parametrize("solver", SOLVERS)
def test_progress_starts_reports_and_ends_with_the_plan(solver: str) -> None:
    """The first report is `start`, the last `done` with the returned plan and its figures; the
    visits wanted are the week's; every report's gap agrees with its bound."""
    heard: list[Progress] = []
    plan = matcher.solve(small(), solver=solver, time_limit_s=5, progress=heard.append)
    assert heard[0].phase == "start"
    assert heard[0].visits_planned == 0
    start_plan = heard[0].plan()
    assert start_plan is not None and not start_plan.visits
    assert heard[-1].phase == "done"
    assert heard[-1].plan() is plan
    assert heard[-1].visits_planned == len(plan.visits)
    assert heard[-1].weighted_coverage == pytest.approx(plan.solver.objective)
    wanted = sum(need.visits_per_week for person in small().recipients for need in person.needs)
    assert {report.visits_wanted for report in heard} == {wanted}
    assert [report.elapsed_s for report in heard] == sorted(report.elapsed_s for report in heard)
    for report in heard:
        assert report.time_limit_s == 5
        if report.bound is not None:
            assert report.gap is not None and report.weighted_coverage <= report.bound + 1e-6


@pytest.mark.parametrize("solver", ("cpsat", "lns", "routing"))
def test_a_search_reports_its_greedy_start_and_the_plan_so_far_checks(solver: str) -> None:
    """The searches report their greedy start; its `plan()` is a checked plan of those visits."""
    heard: list[Progress] = []
    matcher.solve(small(), solver=solver, time_limit_s=5, progress=heard.append)
    greedy = next(report for report in heard if report.phase == "greedy")
    so_far = greedy.plan()
    assert so_far is not None
    assert len(so_far.visits) == greedy.visits_planned
    assert matcher.check_plan(small(), so_far).ok


@pytest.mark.parametrize("solver", SOLVERS)
def test_stop_at_once_returns_a_checked_plan_marked_stopped(solver: str) -> None:
    problem = small()
    plan = matcher.solve(problem, solver=solver, time_limit_s=LONG_LIMIT_S, stop=lambda: True)
    assert plan.solver.status == "STOPPED"
    assert plan.solver.wall_time_s < STOPPED_WITHIN_S
    assert matcher.check_plan(problem, plan).ok


@pytest.mark.parametrize("solver", ("cpsat", "lns", "routing"))
def test_stop_after_the_greedy_start_keeps_at_least_its_coverage(solver: str) -> None:
    """Stopped right after greedy, a search returns a plan at least as good as its start."""
    problem = load_problem(EXAMPLES / "community.json")
    heard: list[Progress] = []

    def stop() -> bool:
        return any(report.phase == "greedy" for report in heard)

    plan = matcher.solve(
        problem, solver=solver, time_limit_s=LONG_LIMIT_S, progress=heard.append, stop=stop
    )
    greedy = next(report for report in heard if report.phase == "greedy")
    assert plan.solver.status == "STOPPED"
    assert plan.solver.wall_time_s < STOPPED_WITHIN_S + greedy.elapsed_s
    assert (plan.solver.objective or 0) >= greedy.weighted_coverage - 1e-6
    assert matcher.check_plan(problem, plan).ok


def test_without_stop_the_status_is_never_stopped() -> None:
    plan = matcher.solve(small(), solver="lns", time_limit_s=2, stop=lambda: False)
    assert plan.solver.status != "STOPPED"
