"""The solver protocol: a solver that only searches (`SearchSolver.search`) gets its plan
assembled and checked like every bundled one; a `SolveRequest` refuses a bad time limit, and a
solver refuses another solver's parameters."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

import matcher
from matcher.solvers import base
from matcher.solvers.base import SearchOutcome, SearchSolver, SolveRequest
from matcher.solvers.greedy import GreedyParameters, solve_greedy
from matcher.travel import TravelModel
from tests.helpers import load


class CopyParameters(BaseModel):
    """The knobs of the test's solver."""

    model_config = ConfigDict(extra="forbid")

    note: str = "none"


class CopySolver(SearchSolver[CopyParameters]):
    """Searches by asking greedy, and says so; everything else is `SearchSolver`'s."""

    name = "copy"
    parameters_type = CopyParameters

    def search(self, request: SolveRequest, parameters: CopyParameters) -> SearchOutcome:
        greedy = solve_greedy(request.problem, request.travel, seed=request.seed)
        return SearchOutcome(
            visits=list(greedy.visits),
            statistics={"source": "greedy", "note": parameters.note},
            warnings=["copied from greedy"],
        )


def test_a_search_solver_gets_its_plan_assembled_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Registered, the solver is run by `matcher.solve`: the plan has its name, its parameters
    in full, its statistics and warnings, and the same visits and reasons as greedy's."""
    monkeypatch.setitem(base.REGISTRY, "copy", CopySolver())
    problem = load("ok_small_min_gap")
    plan = matcher.solve(problem, solver="copy", parameters={"note": "hello"}, seed=3)
    greedy = matcher.solve(problem, solver="greedy", seed=3)
    assert matcher.check_plan(problem, plan).ok
    assert plan.solver.solver == "copy"
    assert plan.solver.parameters == {"note": "hello"}
    assert plan.solver.statistics == {"source": "greedy", "note": "hello"}
    assert plan.solver.seed == 3 and plan.solver.status == "FEASIBLE"
    assert plan.warnings[-1] == "copied from greedy"
    assert plan.visits == greedy.visits
    assert [(item.need, item.reason) for item in plan.unassigned] == [
        (item.need, item.reason) for item in greedy.unassigned
    ]
    assert plan.solver.objective == pytest.approx(greedy.solver.objective)


@pytest.mark.parametrize("limit", [0.0, -2.0, float("nan"), float("inf")])
def test_a_request_refuses_a_bad_time_limit(limit: float) -> None:
    problem = load("ok_small_min_gap")
    with pytest.raises(ValueError, match="time_limit_s"):
        SolveRequest(problem, TravelModel(problem), CopyParameters(), time_limit_s=limit)


def test_a_solver_refuses_another_solvers_parameters() -> None:
    problem = load("ok_small_min_gap")
    request = SolveRequest(problem, TravelModel(problem), GreedyParameters())
    with pytest.raises(TypeError, match="copy takes CopyParameters, not GreedyParameters"):
        CopySolver().solve(request)


def test_the_limit_is_the_one_asked_for_else_the_solvers_default() -> None:
    problem = load("ok_small_min_gap")
    travel = TravelModel(problem)
    asked = SolveRequest(problem, travel, CopyParameters(), time_limit_s=2)
    unasked = SolveRequest(problem, travel, CopyParameters())
    assert asked.limit_s(30.0) == 2.0 and unasked.limit_s(30.0) == 30.0
