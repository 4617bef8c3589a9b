"""`ruin` keeps recipients with the volunteers they know: coverage first, then continuity (the
objective's `continuity_points`), then travel.

The swap week: Pat and Sam each make one visit on Monday morning. Xu (priority 5) lives next
door to Pat, Ann (priority 1, who prefers Pat) 100 m away, next door to Sam. Greedy places Xu
first (the larger regret: Sam is 2 points of travel dearer for Xu), with Pat, so Ann gets Sam.
Swapping them costs 4 points of travel and earns Ann's preference (50 points), at the same
coverage. Four nurse's visits (Tuesday to Sunday, only Kim can make them) keep Ann out of
greedy's regret window until Xu is placed.
"""

from __future__ import annotations

import pytest

import matcher
from matcher.generator import generate_community
from matcher.models import Plan, Problem
from matcher.rules import need_facts
from matcher.rules.continuity import continuity_shares
from matcher.solvers.base import SolveRequest
from matcher.solvers.objective import objective_breakdown
from matcher.solvers.ruin import RuinParameters
from matcher.solvers.ruin.solver import RuinSearch
from matcher.travel import TravelModel
from tests.helpers import recipient, tiny_problem, volunteer, window

LATER_DAYS = ("tue", "wed", "thu", "fri", "sat", "sun")


def swap_week() -> Problem:
    """The week of the module docstring."""
    mornings = [window(day, "09:00", "12:00") for day in LATER_DAYS]
    monday = [window("mon", "09:00", "12:00")]
    return tiny_problem(
        [
            {"id": "visit", "duration_min": 60},
            {"id": "care", "duration_min": 60, "required_skills": ["nurse"]},
        ],
        [
            recipient(
                "xu", {"id": "xu_visit", "service": "visit", "priority": 5, "windows": monday}
            ),
            recipient(
                "ann",
                {"id": "ann_visit", "service": "visit", "priority": 1, "windows": monday},
                x_m=100,
                preferred_volunteers=["pat"],
            ),
            *(
                recipient(
                    f"f{number}",
                    {
                        "id": f"f{number}_care",
                        "service": "care",
                        "priority": 5,
                        "windows": mornings,
                    },
                )
                for number in range(4)
            ),
        ],
        [
            volunteer("pat", max_visits_per_day=1),
            volunteer("sam", 100, max_visits_per_day=1),
            volunteer("kim", skills=["nurse"], availability=mornings),
        ],
        policy={"weights": {"fairness": 0}},
    )


def volunteer_of(plan: Plan, need: str) -> list[str]:
    """The volunteers of the need's one visit."""
    (visit,) = [visit for visit in plan.visits if visit.need == need]
    return list(visit.volunteers)


def ruin(problem: Problem, seed: int = 0, **settings: object) -> Plan:
    return matcher.solve(
        problem,
        solver="ruin",
        seed=seed,
        time_limit_s=60,
        parameters=RuinParameters(compute_bound=False, **settings),  # type: ignore[arg-type]
    )


def test_greedy_gives_ann_the_wrong_volunteer() -> None:
    """The premise: greedy covers everything, but with Pat at Xu's."""
    problem = swap_week()
    plan = matcher.solve(problem, solver="greedy", seed=0)
    assert matcher.check_plan(problem, plan).ok
    assert not plan.unassigned
    assert volunteer_of(plan, "xu_visit") == ["pat"]
    assert volunteer_of(plan, "ann_visit") == ["sam"]


def test_ruin_swaps_them_at_the_same_coverage() -> None:
    problem = swap_week()
    greedy = matcher.solve(problem, solver="greedy", seed=0)
    plan = ruin(problem, iterations=30)
    assert matcher.check_plan(problem, plan).ok
    assert plan.solver.objective == pytest.approx(greedy.solver.objective)
    assert volunteer_of(plan, "ann_visit") == ["pat"]
    assert volunteer_of(plan, "xu_visit") == ["sam"]
    travel = TravelModel(problem)
    facts = need_facts(problem, travel)
    assert objective_breakdown(problem, travel, facts, plan.visits)["continuity"] == 50
    assert continuity_shares(problem, travel, facts, plan.visits).of_ceiling_pct == 100


def search(problem: Problem, seed: int = 0) -> RuinSearch:
    """A ruin search on the problem, its greedy week built."""
    request = SolveRequest(
        problem=problem,
        travel=TravelModel(problem),
        parameters=RuinParameters(compute_bound=False),
        seed=seed,
        time_limit_s=60,
    )
    return RuinSearch(request, request.parameters)  # type: ignore[arg-type]


def test_the_running_continuity_is_the_objectives() -> None:
    """After every step, accepted or not, the engine's continuity is the objective's term of
    the week it holds, and its count of familiar visits per recipient agrees."""
    problem = generate_community(recipients=40, volunteers=10, buildings=1, seed=2)
    travel = TravelModel(problem)
    facts = need_facts(problem, travel)
    run = search(problem)
    for iteration in range(60):
        move = run.step(iteration)
        if iteration % 2:
            run.engine.undo(move)
        visits = run.visits_of(run.snapshot())
        terms = objective_breakdown(problem, travel, facts, visits)
        assert run.engine.continuity == pytest.approx(terms["continuity"])
        counted = sum(1 for count in run.engine.familiar_visits if count > 0)
        kept = continuity_shares(problem, travel, facts, visits).kept
        assert counted == kept


def test_continuity_on_a_generated_week_rises_at_no_loss_of_coverage() -> None:
    """On a generated week, a short run keeps more recipients with their volunteers than
    greedy, never at less coverage; the plan passes the checker."""
    problem = generate_community(recipients=60, volunteers=15, buildings=2, seed=1)
    travel = TravelModel(problem)
    facts = need_facts(problem, travel)
    greedy = matcher.solve(problem, solver="greedy", seed=0)
    plan = ruin(problem, iterations=300)
    assert matcher.check_plan(problem, plan).ok
    assert plan.solver.objective is not None and greedy.solver.objective is not None
    assert plan.solver.objective >= greedy.solver.objective - 1e-9
    before = continuity_shares(problem, travel, facts, greedy.visits)
    after = continuity_shares(problem, travel, facts, plan.visits)
    assert after.kept > before.kept


def test_deterministic_with_the_familiar_ruin() -> None:
    """The same seed and iteration budget give the same plan on a week where the `familiar`
    ruin has recipients to aim at (greedy leaves some without their volunteer)."""
    problem = generate_community(recipients=60, volunteers=15, buildings=2, seed=1)
    travel = TravelModel(problem)
    greedy = matcher.solve(problem, solver="greedy", seed=0)
    shares = continuity_shares(problem, travel, need_facts(problem, travel), greedy.visits)
    assert shares.kept < shares.could
    first = ruin(problem, seed=4, iterations=120)
    second = ruin(problem, seed=4, iterations=120)
    assert matcher.check_plan(problem, first).ok
    assert first.visits == second.visits
    assert first.solver.statistics["iterations"] == 120
