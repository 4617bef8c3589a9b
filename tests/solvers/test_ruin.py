"""`ruin`: ruin and recreate on greedy's insertion engine.

Deterministic for a seed and an iteration budget; every plan it holds keeps every rule (the
checker judges the week after each step, not only the returned plan); team visits and linked
pairs move as one; never below greedy's coverage; the caller's stop and the time limit end it.
"""

from __future__ import annotations

import random
from collections import Counter
from functools import cache

import pytest

import matcher
from matcher.generator import generate_community
from matcher.io import load_problem
from matcher.models import Need, Plan, Problem
from matcher.rules import number_occurrences
from matcher.solvers.base import SolveRequest
from matcher.solvers.ruin import RuinParameters
from matcher.solvers.ruin.engine import Move
from matcher.solvers.ruin.solver import RuinSearch
from matcher.travel import TravelModel
from tests.helpers import DATA, tiny_problem, window

STEPS = 40
"""Ruin-and-recreate steps of the step-by-step tests (each one checked)."""


@cache
def week(recipients: int = 40, seed: int = 0) -> Problem:
    """A generated week."""
    return generate_community(
        recipients=recipients, volunteers=recipients // 4, buildings=1, seed=seed
    )


def overlap_min(first: Need, second: Need) -> int:
    """The longest overlap of the two needs' windows on one day."""
    return max(
        (
            min(one.end, two.end) - max(one.start, two.start)
            for one in first.windows
            for two in second.windows
            if one.day == two.day
        ),
        default=0,
    )


@cache
def linked_week() -> Problem:
    """A generated week in which, for every recipient with two single-volunteer needs of as
    many visits a week, those two are linked (simultaneous or 30 to 120 minutes apart) where
    their windows overlap an hour, beside the generator's team visits."""
    problem = generate_community(recipients=40, volunteers=14, buildings=1, seed=1)
    teams = {service.id for service in problem.services if service.team_size > 1}
    dependencies = []
    pairs = []
    for person in problem.recipients:
        singles = [need for need in person.needs if need.service not in teams]
        for first in singles:
            seconds = [
                need
                for need in singles
                if need.id > first.id
                and need.visits_per_week == first.visits_per_week
                and overlap_min(first, need) >= 60
            ]
            if seconds:
                pairs.append((first, seconds[0]))
                break
    for number, (first, second) in enumerate(pairs):
        if number % 2:
            dependencies.append({"first": first.id, "second": second.id, "kind": "simultaneous"})
        else:
            dependencies.append(
                {
                    "first": first.id,
                    "second": second.id,
                    "kind": "sequential",
                    "min_gap_min": 30,
                    "max_gap_min": 120,
                }
            )
    data = problem.model_dump(mode="json")
    data["dependencies"] = dependencies
    return Problem.model_validate(data)


def search(problem: Problem, seed: int = 0, **settings: object) -> RuinSearch:
    """A ruin search on the problem, its greedy week built."""
    request = SolveRequest(
        problem=problem,
        travel=TravelModel(problem),
        parameters=RuinParameters(compute_bound=False, **settings),  # type: ignore[arg-type]
        seed=seed,
        time_limit_s=60,
    )
    return RuinSearch(request, request.parameters)  # type: ignore[arg-type]


def current_plan(run: RuinSearch) -> Plan:
    """The week the search holds now, as a plan."""
    problem = run.request.problem
    return Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=number_occurrences(run.visits_of(run.snapshot())),
    )


def linked_days(problem: Problem, plan: Plan) -> list[tuple[str, str, int, int]]:
    """(first, day, its visits, the second's visits) of each dependency and day where the
    counts differ: a pair split apart."""
    per_day = Counter((visit.need, visit.day) for visit in plan.visits)
    split = []
    for link in problem.dependencies:
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            ones, twos = per_day[(link.first, day)], per_day[(link.second, day)]
            if ones != twos:
                split.append((link.first, day, ones, twos))
    return split


def test_linked_week_has_pairs_and_teams_planned() -> None:
    """The test week plans linked pairs and team visits, so the tests below move them."""
    plan = matcher.solve(linked_week(), solver="greedy", seed=0)
    linked = {need for link in linked_week().dependencies for need in (link.first, link.second)}
    assert any(visit.need in linked for visit in plan.visits)
    assert any(len(visit.volunteers) > 1 for visit in plan.visits)


def test_every_step_keeps_every_rule_and_moves_pairs_and_teams_as_one() -> None:
    """After each step (accepted, or undone) the checker accepts the week, no linked pair is
    split, and each team visit still has all its volunteers; some steps did move linked and
    team visits."""
    problem = linked_week()
    run = search(problem)
    rng = random.Random(5)
    linked = {need for link in problem.dependencies for need in (link.first, link.second)}
    moved_linked = moved_team = 0
    for iteration in range(STEPS):
        move = run.step(iteration)
        moved_linked += sum(
            1
            for removed in move.removed
            if run.planner.needs[removed.placed.need].need.id in linked
        )
        moved_team += sum(1 for removed in move.removed if len(removed.placed.volunteers) > 1)
        if rng.random() < 0.5:
            run.engine.undo(move)
        plan = current_plan(run)
        report = matcher.check_plan(problem, plan)
        assert report.ok, [violation.message for violation in report.violations]
        assert not linked_days(problem, plan)
        team_sizes = {service.id: service.team_size for service in problem.services}
        assert all(len(visit.volunteers) == team_sizes[visit.service] for visit in plan.visits)
    assert moved_linked > 0
    assert moved_team > 0


def test_a_linked_visit_takes_its_partner_out_with_it() -> None:
    """Taking out the second visit of a linked pair takes out the first too; undo puts both
    back where they were."""
    problem = linked_week()
    run = search(problem)
    engine = run.engine
    follower = next(p for p in engine.movable() if run.planner.needs[p.need].leader >= 0)
    before = sorted(run.snapshot())
    unit = engine.unit_of(follower)
    assert len(unit) == 2 and unit[1] is follower
    assert run.planner.needs[unit[0].need].partner == follower.need
    move = Move([], [])
    assert engine.remove_unit(unit, move)
    left = {(need, day, start) for need, day, start, _ in run.snapshot()}
    assert all((p.need, p.day, p.start) not in left for p in unit)
    engine.undo(move)
    assert sorted(run.snapshot()) == before


def test_undo_restores_the_week_exactly() -> None:
    """A step undone leaves the same visits, walk and weekly minutes as before it."""
    run = search(week())
    for iteration in range(10):
        before = (sorted(run.snapshot()), run.engine.state.distance_m, list(run.engine.state.load))
        run.engine.undo(run.step(iteration))
        after = (sorted(run.snapshot()), run.engine.state.distance_m, list(run.engine.state.load))
        assert after[0] == before[0]
        assert after[1] == pytest.approx(before[1])
        assert after[2] == pytest.approx(before[2])


def test_the_running_coverage_is_the_weeks() -> None:
    """The engine's running coverage and mandatory count match the week it holds."""
    problem = week()
    run = search(problem)
    for iteration in range(STEPS):
        run.step(iteration)
        visits = run.visits_of(run.snapshot())
        coverage = sum(problem.priority_of(problem.need_by_id[visit.need]) for visit in visits)
        mandatory = sum(1 for visit in visits if problem.need_by_id[visit.need].mandatory)
        assert run.engine.coverage == pytest.approx(coverage)
        assert run.engine.mandatory == mandatory


def solve(problem: Problem, seed: int = 0, **settings: object) -> Plan:
    return matcher.solve(
        problem,
        solver="ruin",
        seed=seed,
        time_limit_s=60,
        parameters=RuinParameters(compute_bound=False, **settings),  # type: ignore[arg-type]
    )


def test_deterministic_for_a_seed_and_an_iteration_budget() -> None:
    """The same seed and iterations give the same plan; another seed searches differently."""
    first = solve(week(), seed=3, iterations=150)
    second = solve(week(), seed=3, iterations=150)
    assert first.visits == second.visits
    assert first.solver.statistics["iterations"] == 150
    assert first.solver.statistics["stop_reason"] == "iterations"


@pytest.mark.parametrize("seed", [0, 1])
def test_never_below_greedy_and_better_on_a_generated_week(seed: int) -> None:
    """At least greedy's coverage and mandatory visits, and some iterations improve on it."""
    problem = week(60, seed=seed)
    greedy = matcher.solve(problem, solver="greedy", seed=0)
    plan = solve(problem, iterations=400)
    assert matcher.check_plan(problem, plan).ok
    assert plan.solver.objective is not None and greedy.solver.objective is not None
    assert plan.solver.objective >= greedy.solver.objective - 1e-9
    assert plan.solver.statistics["mandatory_planned"] >= sum(
        1 for visit in greedy.visits if problem.need_by_id[visit.need].mandatory
    )
    assert plan.solver.statistics["greedy_weighted_coverage"] == pytest.approx(
        greedy.solver.objective
    )
    assert plan.solver.statistics["improvements"] > 0


@pytest.mark.parametrize("path", sorted(DATA.glob("*.json")), ids=lambda path: path.stem)
def test_never_below_greedy_on_the_test_instances(path: object) -> None:
    problem = load_problem(path)  # type: ignore[arg-type]
    greedy = matcher.solve(problem, solver="greedy", seed=0)
    plan = solve(problem, iterations=200)
    assert matcher.check_plan(problem, plan).ok
    assert (plan.solver.objective or 0) >= (greedy.solver.objective or 0) - 1e-9


def test_stop_ends_the_search_with_the_best_plan() -> None:
    """A stop asked right after the greedy start ends a search that would run for minutes."""
    asked: list[bool] = []

    def progress(report: matcher.Progress) -> None:
        if report.phase == "greedy":
            asked.append(True)

    plan = matcher.solve(
        week(60),
        solver="ruin",
        time_limit_s=300,
        parameters=RuinParameters(stale_iterations=None),
        progress=progress,
        stop=lambda: bool(asked),
    )
    assert plan.solver.status == "STOPPED"
    assert plan.solver.statistics["stop_reason"] == "stopped"
    assert plan.solver.wall_time_s < 60
    assert matcher.check_plan(week(60), plan).ok


def test_the_time_limit_ends_the_search() -> None:
    """Without an iteration budget or staleness the search runs until its time limit, keeping
    back the finishing reserve: status TIME_LIMIT, within the limit (with a generous margin for
    a busy machine)."""
    plan = matcher.solve(
        week(60),
        solver="ruin",
        time_limit_s=3,
        parameters=RuinParameters(stale_iterations=None, compute_bound=False),
    )
    assert plan.solver.status == "TIME_LIMIT"
    assert plan.solver.statistics["stop_reason"] == "time limit"
    assert plan.solver.wall_time_s < 3 + 2.0


def test_adaptive_operators_are_deterministic_and_follow_success() -> None:
    """Drawn by adaptive weights, the same seed and budget give the same plan; the weights have
    moved apart, and the per-operator statistics count every step once."""
    first = solve(week(60), seed=1, iterations=300, adaptive_operators=True)
    second = solve(week(60), seed=1, iterations=300, adaptive_operators=True)
    assert first.visits == second.visits
    statistics = first.solver.statistics
    assert len(set(statistics["operator_weights"].values())) > 1
    operators = statistics["operators"]
    assert sum(counts["steps"] for counts in operators.values()) == 300
    assert sum(counts["best"] for counts in operators.values()) == statistics["improvements"]
    assert all(counts["kept"] <= counts["steps"] for counts in operators.values())


class _SlowBound:
    """A relaxation that never finishes within the run (as on a loaded machine)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def ready(self) -> float | None:
        return None

    def collect(self, deadline: float, at_least_s: float = 0.0) -> float | None:
        return None


def every_visit_fits() -> Problem:
    """Vic free Monday 09:00-12:00 at home; Ann and Bob, 200 m either side, each want a
    30-minute meal that morning: greedy plans both."""
    return tiny_problem(
        services=[{"id": "meal", "name": "Meal", "duration_min": 30}],
        recipients=[
            {
                "id": name,
                "location": {"x_m": x_m, "y_m": 0},
                "needs": [
                    {
                        "id": f"{name}-meal",
                        "service": "meal",
                        "windows": [window("mon", "09:00", "12:00")],
                    }
                ],
            }
            for name, x_m in (("ann", 200), ("bob", -200))
        ],
        volunteers=[
            {
                "id": "vic",
                "home": {"x_m": 0, "y_m": 0},
                "speed_m_per_min": 100,
                "availability": [window("mon", "09:00", "12:00")],
            }
        ],
        travel={"method": "coordinates", "detour_factor": 1.0},
    )


@pytest.mark.parametrize("solver", ["ruin", "lns"])
def test_every_requested_visit_meets_the_bound_before_the_relaxation_is_ready(
    solver: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan with every requested visit is at the loosest bound: the search stops at once
    (`bound met`) and ruin gives the polish its `polish_time_s`, although the relaxation
    never finishes; the bound reported is every requested visit, with no gap."""
    module = "matcher.solvers.ruin.solver" if solver == "ruin" else "matcher.solvers.lns"
    monkeypatch.setattr(f"{module}.BackgroundBound", _SlowBound)
    parameters = {"polish_time_s": 5.0} if solver == "ruin" else {"polish_time_s": 0.2}
    plan = matcher.solve(
        every_visit_fits(), solver=solver, seed=0, time_limit_s=30, parameters=parameters
    )
    statistics = plan.solver.statistics
    assert len(plan.visits) == 2
    assert plan.solver.bound == pytest.approx(2.0)
    assert plan.solver.gap == pytest.approx(0.0)
    if solver == "ruin":
        assert statistics["stop_reason"] == "bound met"
        assert statistics["polish"]["budget_s"] == pytest.approx(5.0)
    assert statistics["bound_met_s"] is not None
    assert statistics["bound_met_s"] < 10
