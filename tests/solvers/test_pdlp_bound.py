"""The relaxation solved by PDLP and bounded through its dual prices (`matcher.solvers.bounds`).

Weak duality makes any prices of the rows an upper bound, so the bound holds however early PDLP
stops; these tests hold it to that against HiGHS' exact optimum, on random programs and on a
generated week's relaxation, and check that the large relaxations take the PDLP path.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import csc_matrix
from scipy.sparse import random as sparse_random

from matcher.generator import generate_community
from matcher.models import Problem
from matcher.rules import NeedFacts, need_facts
from matcher.solvers import bounds
from matcher.travel import TravelModel


def _random_program(seed: int) -> tuple[np.ndarray, np.ndarray, csc_matrix, np.ndarray]:
    """A random packing program: max c x, A x <= b, 0 <= x <= u (A, b, c, u >= 0)."""
    rng = np.random.default_rng(seed)
    columns, rows = int(rng.integers(5, 40)), int(rng.integers(2, 15))
    matrix = csc_matrix(sparse_random(rows, columns, density=0.4, random_state=seed) * 5)
    return (
        rng.uniform(0, 3, columns),
        rng.uniform(0.5, 2, columns),
        matrix,
        rng.uniform(1, 10, rows),
    )


def _optimum(values: np.ndarray, limits: np.ndarray, matrix: csc_matrix, caps: np.ndarray) -> float:
    box = list(zip(0 * limits, limits, strict=True))
    result = linprog(-values, A_ub=matrix, b_ub=caps, bounds=box)
    assert result.status == 0
    return float(-result.fun)


@pytest.mark.parametrize("seed", range(40))
def test_any_prices_bound_the_optimum(seed: int) -> None:
    values, limits, matrix, caps = _random_program(seed)
    optimum = _optimum(values, limits, matrix, caps)
    no_rows = (csc_matrix((0, len(values))), np.zeros(0))
    rng = np.random.default_rng(1000 + seed)
    for _ in range(20):
        prices = rng.uniform(-1, 2, len(caps))
        bound = bounds._dual_bound(values, limits, (matrix, caps), no_rows, prices, np.zeros(0))
        assert bound >= optimum - 1e-9


@pytest.mark.parametrize("seed", range(15))
def test_pdlp_is_at_or_above_the_optimum_and_close_to_it(seed: int) -> None:
    values, limits, matrix, caps = _random_program(seed)
    optimum = _optimum(values, limits, matrix, caps)
    no_rows = (csc_matrix((0, len(values))), np.zeros(0))
    bound = bounds._pdlp_bound(values, limits, (matrix, caps), no_rows, time_limit_s=10.0)
    assert bound is not None
    assert bound >= optimum
    assert bound <= optimum * (1 + 1e-3) + 1e-3


def _week() -> tuple[Problem, TravelModel, dict[str, NeedFacts]]:
    """A generated week whose relaxation is below the plain count (so it says something)."""
    problem = generate_community(recipients=60, volunteers=20, buildings=3, seed=4)
    travel = TravelModel(problem)
    return problem, travel, need_facts(problem, travel)


def test_on_a_week_pdlp_bounds_the_exact_relaxation_even_when_cut_short() -> None:
    problem, travel, facts = _week()
    relaxation = bounds._build(
        problem,
        travel,
        facts,
        aggregate=False,
        give_up_at=None,
        with_travel=True,
        with_windows=True,
    )
    assert relaxation is not None
    values = np.asarray(relaxation.visit_values)
    exact = relaxation.solve(values, None, method="highs-ipm")
    converged = relaxation.solve(values, None, method="pdlp")
    cut_short = relaxation.solve(values, 0.001, method="pdlp")
    assert exact is not None and converged is not None and cut_short is not None
    assert exact < relaxation.trivial
    assert converged >= exact
    assert converged <= exact * (1 + 1e-3)
    assert cut_short >= exact


def test_large_relaxations_take_pdlp(monkeypatch: pytest.MonkeyPatch) -> None:
    problem, travel, facts = _week()
    highs = bounds.coverage_upper_bound(problem, travel, facts, aggregate=False)
    called: list[float | None] = []
    original = bounds._pdlp_bound

    def spy(*arguments: object, **keywords: object) -> float | None:
        value = original(*arguments, **keywords)  # type: ignore[arg-type]
        called.append(value)
        return value

    monkeypatch.setattr(bounds, "_pdlp_bound", spy)
    assert bounds.coverage_upper_bound(problem, travel, facts, aggregate=False) == highs
    assert not called
    monkeypatch.setattr(bounds, "PDLP_FROM_COLUMNS", 1)
    through_pdlp = bounds.coverage_upper_bound(problem, travel, facts, aggregate=False)
    assert called
    assert highs < bounds.requested_coverage(facts)
    assert highs <= through_pdlp <= highs * (1 + 1e-3) + 1e-3
