"""Mandatory visits first, in the exact model, in LNS and in `auto`, and a bound that knows it.

`tests/data/ok_small_mandatory_first.json`: one volunteer, one Saturday morning, room for one
of two medicine visits. `important-med` (priority 9) is optional, `must-med` (priority 1) is
mandatory: every solver plans `must-med`, and the coverage bound of the plans that do is 1.
"""

from __future__ import annotations

from typing import Any

import pytest

import matcher
from matcher.models import Plan, Problem
from matcher.solvers.bounds import coverage_upper_bound
from matcher.solvers.cpsat import solve_cpsat
from matcher.solvers.greedy import solve_greedy
from matcher.solvers.lns import LnsParameters, solve_lns
from matcher.travel import TravelModel
from tests.helpers import checked, load


def planned_needs(plan: Plan) -> list[str]:
    return sorted(visit.need for visit in plan.visits)


@pytest.mark.parametrize("solver", ["cpsat", "lns", "auto"])
def test_the_mandatory_visit_is_planned_instead_of_the_more_important_optional_one(
    solver: str,
) -> None:
    """Only one visit fits; the mandatory one is planned, the optional one says why not."""
    problem = load("ok_small_mandatory_first")
    plan = checked(problem, matcher.solve(problem, solver=solver, time_limit_s=5))
    assert planned_needs(plan) == ["must-med"]
    assert [item.need for item in plan.unassigned] == ["important-med"]
    assert plan.solver.statistics["mandatory_planned"] == 1


def test_the_cpsat_bound_is_the_bound_of_plans_that_plan_the_mandatory_visit() -> None:
    """Without the rule the bound would be 9 (the optional visit alone) or 10 (both, for the
    relaxation); the plans that keep the rule cover at most 1, and the exact model proves it."""
    problem = load("ok_small_mandatory_first")
    plan = checked(problem, solve_cpsat(problem, time_limit_s=5))
    assert plan.solver.objective == pytest.approx(1.0)
    assert plan.solver.bound == pytest.approx(1.0)
    assert plan.solver.gap == pytest.approx(0.0)
    assert plan.solver.status == "OPTIMAL"
    assert plan.solver.statistics["bound_mandatory_at_least"] == 1
    assert plan.solver.statistics["phases"]["mandatory"] == "OPTIMAL"


def one_hour(volunteer_window: tuple[str, str], **needs: dict[str, Any]) -> Problem:
    """One volunteer at the recipients' door, free one Monday stretch; one 60-minute service."""
    return Problem.model_validate(
        {
            "week_start": "2026-11-30",
            "services": [{"id": "visit", "duration_min": 60}],
            "recipients": [
                {
                    "id": name,
                    "priority": need.pop("priority"),
                    "location": {"x_m": 0, "y_m": 0},
                    "needs": [{"id": f"{name}-visit", "service": "visit", **need}],
                }
                for name, need in needs.items()
            ],
            "volunteers": [
                {
                    "id": "v",
                    "home": {"x_m": 0, "y_m": 0},
                    "availability": [
                        {"day": "mon", "start": volunteer_window[0], "end": volunteer_window[1]}
                    ],
                }
            ],
        }
    )


def test_the_relaxation_bounds_the_plans_with_the_mandatory_visits() -> None:
    """Worked by hand: an hour of the volunteer, two one-hour needs. Any plan: at most 9 (the
    optional one). Plans with the mandatory visit: the whole hour goes to it, so 1. Asking for
    more mandatory visits than can exist falls back to the plain count (still valid)."""
    problem = one_hour(
        ("09:00", "10:00"),
        optional={"priority": 9},
        must={"priority": 1, "mandatory": True},
    )
    travel = TravelModel(problem)
    assert coverage_upper_bound(problem, travel) == pytest.approx(9.0, abs=1e-4)
    assert coverage_upper_bound(problem, travel, mandatory_at_least=1) == pytest.approx(
        1.0, abs=1e-4
    )
    assert coverage_upper_bound(problem, travel, mandatory_at_least=2) >= 10.0 - 1e-6


def test_lns_gives_up_an_optional_visit_for_a_missing_mandatory_one() -> None:
    """Started from a plan that holds the optional visit (greedy on the same week with nothing
    mandatory), LNS's neighbourhood first plans as many mandatory occurrences as it can."""
    problem = load("ok_small_mandatory_first")
    relaxed = problem.model_copy(
        update={
            "recipients": [
                recipient.model_copy(
                    update={
                        "needs": [
                            need.model_copy(update={"mandatory": False}) for need in recipient.needs
                        ]
                    }
                )
                for recipient in problem.recipients
            ]
        }
    )
    travel = TravelModel(problem)
    start = solve_greedy(relaxed, TravelModel(relaxed))
    assert planned_needs(start) == ["important-med"]
    plan = checked(
        problem,
        solve_lns(
            problem,
            travel,
            time_limit_s=10,
            parameters=LnsParameters(iterations=8),
            warm_start=start,
        ),
    )
    assert planned_needs(plan) == ["must-med"]
    assert plan.solver.statistics["improvements"] >= 1
