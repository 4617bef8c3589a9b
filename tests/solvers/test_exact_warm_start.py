"""The exact model warm-started from ruin and recreate, and what helps it prove (issue 14):
`auto` at the exact size, the complete hint, the phases a warm start proves, the volunteer
symmetry, the redundant outing minutes and the coverage cut."""

from __future__ import annotations

import pytest

import matcher
from matcher.generator import generate_community
from matcher.models import Plan, Problem
from matcher.rules import need_facts
from matcher.solvers.auto import plan_rank
from matcher.solvers.base import assemble_plan
from matcher.solvers.cpsat import CpSatParameters, build_week_model, solve_cpsat
from matcher.solvers.cpsat.hints import complete_hint, hint_from_visits, hinted_values
from matcher.solvers.cpsat.strengthen import (
    add_coverage_cut,
    interchangeable_volunteers,
    strengthen,
)
from matcher.solvers.ruin import RuinParameters
from matcher.travel import TravelModel
from tests.helpers import checked, recipient, tiny_problem, visit, volunteer, window
from tests.solvers.test_optimizers import blocking_problem, near_and_far

RUIN_ITERATIONS = 300


def twins(*, preferred_by_first: bool = False, second_until: str = "12:00") -> Problem:
    """Two volunteers alike in everything (unless the first is preferred, or the second free
    only until `second_until`), at the recipients' door, free Monday from 09:00; three
    45-minute visits that one of them alone could make."""
    extra = {"preferred_volunteers": ["a"]} if preferred_by_first else {}
    second = volunteer("b", availability=[window("mon", "09:00", second_until)])
    return tiny_problem(
        [{"id": "visit", "duration_min": 45}],
        [
            recipient(
                name,
                {"id": f"{name}-visit", "service": "visit"},
                **(extra if name == "r1" else {}),
            )
            for name in ("r1", "r2", "r3")
        ],
        [volunteer("a"), second],
    )


def all_on(problem: Problem, helper: str) -> Plan:
    """The three visits back to back by one volunteer, as a checked plan."""
    visits = [
        visit(problem, f"{name}-visit", start, helper)
        for name, start in (("r1", "09:00"), ("r2", "09:45"), ("r3", "10:30"))
    ]
    return checked(problem, assemble_plan(problem, TravelModel(problem), visits, solver="test"))


def test_auto_at_the_exact_size_is_at_least_as_good_as_ruin_alone() -> None:
    """Same seed and iteration budget: auto's plan (ruin, then the exact model from its plan)
    plans at least the mandatory occurrences and the weighted coverage of ruin's own plan, and
    keeps every rule."""
    problem = generate_community(recipients=12, volunteers=4, buildings=1, seed=3)
    ruin = checked(
        problem,
        matcher.solve(
            problem,
            solver="ruin",
            time_limit_s=30,
            parameters=RuinParameters(iterations=RUIN_ITERATIONS),
        ),
    )
    auto = checked(
        problem,
        matcher.solve(
            problem,
            solver="auto",
            time_limit_s=30,
            parameters={"ruin": {"iterations": RUIN_ITERATIONS}},
        ),
    )
    summary = auto.solver.statistics["auto"]
    assert summary["chosen"] == "cpsat" and summary["warm_start"] == "ruin"
    assert summary["found_by"] in ("ruin", "cpsat")
    assert plan_rank(problem, auto)[:2] >= plan_rank(problem, ruin)[:2]
    assert summary["ruin_weighted_coverage"] == pytest.approx(ruin.solver.objective)
    assert summary["ruin_stop_reason"] == ruin.solver.statistics["stop_reason"]
    assert summary["ruin_polish"] == ruin.solver.statistics["polish"]["kept"]
    assert auto.solver.bound is not None and auto.solver.objective is not None
    assert auto.solver.objective <= auto.solver.bound + 1e-6
    assert summary["coverage_proven"] == (auto.solver.gap == 0)


def test_the_ruin_plan_as_a_hint_is_complete_and_kept_within_a_tiny_limit() -> None:
    """Hinted the ruin plan, the exact model with a one-second limit covers at least as much:
    the hint is complete (every variable), so it is CP-SAT's first solution."""
    problem = generate_community(recipients=30, volunteers=10, buildings=2, seed=1)
    ruin = matcher.solve(
        problem, solver="ruin", time_limit_s=30, parameters=RuinParameters(iterations=400)
    )
    plan = checked(problem, solve_cpsat(problem, time_limit_s=2.0, warm_start=ruin))
    assert plan.solver.objective is not None and ruin.solver.objective is not None
    assert plan.solver.objective >= ruin.solver.objective - 1e-9
    built_s = plan.solver.statistics["timeline_s"]["built"]
    if built_s < 0.4 * 2.0:  # a busy machine can leave too little time to complete it
        assert plan.solver.statistics["hint"] == "complete"


def test_a_complete_hint_sets_every_variable_and_a_broken_one_is_refused() -> None:
    problem = twins()
    travel = TravelModel(problem)
    week = build_week_model(problem, travel)
    hint_from_visits(week, all_on(problem, "a").visits)
    assert complete_hint(week, 5.0) == "complete"
    assert len(hinted_values(week)) == len(week.model.proto.variables)
    late = [
        item.model_copy(update={"start": 11 * 60 + 30, "end": 12 * 60 + 15})
        for item in all_on(problem, "a").visits
    ]
    week = build_week_model(problem, travel)
    hint_from_visits(week, late)
    assert complete_hint(week, 5.0) == "infeasible"


@pytest.mark.parametrize("problem", [near_and_far(), blocking_problem()], ids=["near", "block"])
def test_auto_proves_a_tiny_week_optimal(problem: Problem) -> None:
    """Worked out by hand (tests/solvers/test_optimizers.py): the exact model proves the whole
    objective; auto says so."""
    plan = checked(problem, matcher.solve(problem, solver="auto", time_limit_s=20))
    assert plan.solver.status == "OPTIMAL"
    assert plan.solver.gap == 0
    assert plan.solver.statistics["auto"]["proven"] is True
    assert plan.solver.statistics["auto"]["coverage_proven"] is True


def test_a_warm_start_that_meets_the_bound_proves_coverage_without_a_solve() -> None:
    """The near-and-far week's plan covers both visits: the relaxation's bound; the exact model
    hinted it proves coverage at once and spends its time on the rest of the objective."""
    problem = near_and_far()
    start = matcher.solve(problem, solver="greedy")
    plan = checked(problem, solve_cpsat(problem, time_limit_s=10, warm_start=start))
    assert plan.solver.statistics["proven_by_warm_start"] == ["coverage"]
    assert plan.solver.statistics["phases"]["coverage"] == "OPTIMAL"
    assert plan.solver.status == "OPTIMAL"


def test_interchangeable_volunteers_are_those_nothing_tells_apart() -> None:
    problem = twins()
    assert interchangeable_volunteers(problem, TravelModel(problem)) == [["a", "b"]]
    preferred = twins(preferred_by_first=True)
    assert interchangeable_volunteers(preferred, TravelModel(preferred)) == []
    moved = twins(second_until="11:00")
    assert interchangeable_volunteers(moved, TravelModel(moved)) == []


def test_a_warm_start_against_the_volunteer_order_is_relabelled_not_refused() -> None:
    """All three visits by `b`: the symmetry order wants the first twin to carry at least as
    much, so the hint swaps their weeks; left as it is, the hint breaks the order."""
    problem = twins()
    travel = TravelModel(problem)
    on_b = all_on(problem, "b")
    week = build_week_model(problem, travel)
    strengthened = strengthen(week, problem, travel)
    assert strengthened.statistics()["symmetric_volunteer_pairs"] == 1
    hint_from_visits(week, on_b.visits)
    assert complete_hint(week, 5.0) == "infeasible"
    ordered = strengthened.in_order(list(on_b.visits), hinted_values(week))
    assert {name for item in ordered for name in item.volunteers} == {"a"}
    plan = checked(problem, solve_cpsat(problem, time_limit_s=10, warm_start=on_b))
    assert plan.solver.statistics["hint"] == "complete"
    assert plan.solver.statistics["symmetric_volunteer_pairs"] == 1
    assert plan.solver.objective == pytest.approx(3.0)


@pytest.mark.parametrize("problem", [twins(), blocking_problem()], ids=["twins", "block"])
def test_the_strengthened_model_proves_the_same_coverage(problem: Problem) -> None:
    """The redundant constraints are implied: with and without them the proven coverage is the
    same."""
    plain = solve_cpsat(
        problem,
        time_limit_s=10,
        parameters=CpSatParameters(redundant_constraints=False, coverage_cut=False),
    )
    strong = solve_cpsat(problem, time_limit_s=10)
    assert plain.solver.gap == strong.solver.gap == 0
    assert strong.solver.objective == pytest.approx(plain.solver.objective)
    assert strong.solver.statistics["outing_minutes"] >= 0


def test_the_coverage_cut_bounds_the_model_only_below_what_it_offers() -> None:
    problem = blocking_problem()
    travel = TravelModel(problem)
    facts = need_facts(problem, travel)
    week = build_week_model(problem, travel, facts=facts)
    assert not add_coverage_cut(week, facts, 100.0)
    assert add_coverage_cut(week, facts, 5.0)
    cut = solve_cpsat(problem, time_limit_s=10, parameters=CpSatParameters(coverage_cut=True))
    assert cut.solver.objective == pytest.approx(5.0)
