"""`ruin` ranks and anneals by the policy objective's own points.

The engine's running terms (continuity, travel, hourly cost, lateness and the largest lateness)
are the objective's (`objective_breakdown`) of the week it holds after any number of steps,
kept or undone; a plan ruin ranks higher at equal coverage is one the objective ranks higher;
the annealing judges a step at equal coverage by its cost points at the cost temperature.
"""

from __future__ import annotations

import random
from functools import cache

import pytest

import matcher
from benchmarks.external import default_data_folder, finest_time_scale, mankowska
from matcher.generator import generate_community
from matcher.models import Plan, Problem
from matcher.rules import need_facts, number_occurrences
from matcher.solvers.objective import objective_breakdown
from matcher.solvers.ruin import RuinParameters
from matcher.solvers.ruin.solver import _better
from matcher.travel import TravelModel
from tests.solvers.test_ruin import linked_week, search

RUNNING_TERMS = ("coverage", "continuity", "travel", "cost", "lateness")
MANKOWSKA = default_data_folder() / "hhcrsp-mankowska"
SMALLEST_MANKOWSKA = "InstanzCPLEX_HCSRP_10_1"


def late_and_paid(problem: Problem, slack_min: int = 15) -> Problem:
    """The week with every window soft and only `slack_min` minutes longer than its visit
    (many visits late), lateness and the largest lateness weighed, and every second volunteer
    paid by the hour."""
    data = problem.model_dump()
    for person in data["recipients"]:
        for need in person["needs"]:
            need["soft_window"] = True
            length = problem.duration_of(problem.need_by_id[need["id"]])
            for window in need["windows"]:
                window["end"] = min(window["end"], window["start"] + length + slack_min)
    for number, person in enumerate(data["volunteers"]):
        if number % 2:
            person["cost_per_hour"] = 12.5
    weights = data["policy"]["weights"]
    weights.update(lateness_per_min=2.0, max_lateness_per_min=7.0)
    return Problem.model_validate(data)


@cache
def late_week() -> Problem:
    """A generated week made late and paid (`late_and_paid`)."""
    return late_and_paid(generate_community(recipients=40, volunteers=10, buildings=1, seed=4))


@cache
def late_linked_week() -> Problem:
    """The linked week of `test_ruin` (pairs and teams) made late and paid."""
    return late_and_paid(linked_week(), slack_min=90)


@pytest.mark.parametrize("which", ["late_week", "late_linked_week"])
def test_the_running_terms_are_the_objectives_after_random_steps(which: str) -> None:
    """After every step, kept or undone at random, each running term equals the objective's
    term of the plan the engine holds, and the cost points are their sum less coverage."""
    problem = late_week() if which == "late_week" else late_linked_week()
    travel = TravelModel(problem)
    facts = need_facts(problem, travel)
    run = search(problem)
    coin = random.Random(7)
    seen_late = seen_paid = False
    for iteration in range(50):
        move = run.step(iteration)
        if coin.random() < 0.5:
            run.engine.undo(move)
        visits = run.visits_of(run.snapshot())
        expected = objective_breakdown(problem, travel, facts, visits)
        running = run.engine.cost_terms()
        for name in RUNNING_TERMS:
            assert running[name] == pytest.approx(expected[name], abs=1e-6), name
        assert run.engine.cost_points() == pytest.approx(
            sum(expected[name] for name in RUNNING_TERMS if name != "coverage"), abs=1e-6
        )
        seen_late |= expected["lateness"] < 0
        seen_paid |= expected["cost"] < 0
    assert seen_late and seen_paid


def test_the_largest_lateness_comes_back_down_when_the_latest_visit_leaves() -> None:
    """Taking out the latest visit lowers the running largest lateness to the next latest, and
    greedy's insertions are priced against it (`WeekState.max_lateness`)."""
    run = search(late_week())
    engine = run.engine
    lateness = {
        id(placed): engine.needs[placed.need].lateness(placed.day, placed.start)
        for placed in engine.state.placed
    }
    latest = max(engine.movable(), key=lambda placed: lateness[id(placed)])
    assert lateness[id(latest)] == engine.max_late_min > 0
    unit = engine.unit_of(latest)
    move = engine.begin_move()
    assert engine.remove_unit(unit, move)
    left = [lateness[id(placed)] for placed in engine.state.placed]
    assert engine.max_late_min == max(left, default=0.0)
    assert engine.state.max_lateness == engine.max_late_min
    engine.undo(move)
    assert engine.max_late_min == lateness[id(latest)]


def test_rank_at_equal_coverage_follows_the_objective() -> None:
    """Of the plans a run passes through with the same mandatory visits and coverage, the one
    ruin ranks higher always has the higher objective (fairness left out)."""
    problem = late_week()
    travel = TravelModel(problem)
    facts = need_facts(problem, travel)
    run = search(problem)
    seen: list[tuple[tuple[int, float, float], float]] = []
    for iteration in range(40):
        run.step(iteration)
        terms = objective_breakdown(problem, travel, facts, run.visits_of(run.snapshot()))
        seen.append((run.rank(), terms["total"] - terms["fairness"]))
    compared = 0
    for rank, total in seen:
        for other_rank, other_total in seen:
            same = rank[0] == other_rank[0] and abs(rank[1] - other_rank[1]) < 1e-9
            if same and _better(rank, other_rank):
                assert total > other_total
                compared += 1
    assert compared > 0


def test_at_equal_coverage_a_worse_step_is_kept_by_the_cost_temperature() -> None:
    """A step at equal coverage that costs points is kept about as often as the annealing at
    the cost temperature says, never once the temperature is spent; any gain of coverage is
    kept whatever it costs."""
    run = search(late_week(), cost_start_temperature=1.0, cost_end_temperature=1e-12)
    current = (100.0, -500.0)
    worse = (100.0, -500.0 - run.cost_start_temperature)
    kept = sum(run.accept(current, worse, 0.0) for _ in range(2000))
    assert 0.3 < kept / 2000 < 0.45
    assert not any(run.accept(current, worse, 1.0) for _ in range(200))
    assert run.accept(current, (101.0, -1e9), 1.0)
    assert not run.accept(current, (99.0, 1e9), 1.0)


def test_ruin_lowers_the_objective_cost_of_a_late_week_at_no_loss_of_coverage() -> None:
    """Within an iteration budget ruin's plan covers at least greedy's and costs fewer points
    of the objective; the checker accepts it."""
    problem = late_week()
    greedy = matcher.solve(problem, solver="greedy", seed=0)
    plan = matcher.solve(
        problem,
        solver="ruin",
        seed=0,
        time_limit_s=60,
        parameters=RuinParameters(compute_bound=False, iterations=300),
    )
    travel = TravelModel(problem)
    facts = need_facts(problem, travel)
    before = objective_breakdown(problem, travel, facts, greedy.visits)
    after = objective_breakdown(problem, travel, facts, plan.visits)
    assert after["coverage"] >= before["coverage"]
    cost_before, cost_after = (
        sum(terms[name] for name in RUNNING_TERMS if name != "coverage")
        for terms in (before, after)
    )
    assert after["coverage"] > before["coverage"] or cost_after > cost_before
    assert after["total"] - after["fairness"] > before["total"] - before["fairness"]
    assert matcher.check_plan(problem, plan).ok


@pytest.mark.skipif(
    not (MANKOWSKA / "instances" / f"{SMALLEST_MANKOWSKA}.json").is_file(),
    reason="the Mankowska reference data is not on this machine",
)
def test_ruin_reaches_the_best_known_cost_of_the_smallest_mankowska_instance() -> None:
    """Ten patients, three caregivers, within an iteration budget: the official cost of ruin's
    plan (timed at the earliest exact minutes) is the best known."""
    instance = mankowska.load_instance(MANKOWSKA / "instances" / f"{SMALLEST_MANKOWSKA}.json")
    scale = finest_time_scale(instance.horizon_min, 10)
    problem = mankowska.to_problem(instance, scale)
    plan = matcher.solve(
        problem,
        solver="ruin",
        seed=0,
        time_limit_s=120,
        parameters=RuinParameters(compute_bound=False, stale_iterations=None, iterations=800),
    )
    assert not plan.unassigned
    solution = mankowska.parse_solution(
        mankowska.plan_to_solution(instance, plan, scale, retime=True)
    )
    assert not mankowska.solution_violations(instance, solution)
    best = mankowska.load_best_known(MANKOWSKA / "best.md")[SMALLEST_MANKOWSKA]
    cost = mankowska.official_cost(instance, solution.routes).total
    assert cost == pytest.approx(best.total_cost, abs=0.01)


def test_compact_starts_a_late_visit_sooner_once_the_visit_before_it_leaves() -> None:
    """With the visit before a late visit taken out, `compact` starts it sooner and less late
    at the same place in the route; the week keeps every rule, and undo gives it back."""
    problem = late_week()
    run = search(problem)
    engine = run.engine
    state = engine.state
    found = None
    for placed in engine.movable():
        info = engine.needs[placed.need]
        if len(placed.volunteers) != 1 or info.partner >= 0 or info.leader >= 0:
            continue
        if info.lateness(placed.day, placed.start) <= 0:
            continue
        slots = engine.slots_of(placed)
        assert slots is not None
        volunteer, day, outing, position = slots[0]
        trip = state.day(volunteer, day).outings[outing]
        if position == 0:
            continue
        earlier = [
            other
            for other in engine.movable()
            if other.day == day
            and other.start == trip.starts[position - 1]
            and placed.volunteers[0] in other.volunteers
        ]
        if earlier and len(engine.unit_of(earlier[0])) == 1:
            found = (placed, earlier[0], volunteer, day)
            break
    assert found is not None, "the late week has a late visit after another visit"
    placed, earlier, volunteer, day = found
    lateness = engine.needs[placed.need].lateness(placed.day, placed.start)
    snapshot = sorted(run.snapshot())
    move = engine.begin_move()
    assert engine.remove_unit([earlier], move)
    assert engine.compact({(volunteer, day)}, move) >= 1
    now = [
        other
        for other in state.placed
        if other.need == placed.need
        and other.day == placed.day
        and other.volunteers == placed.volunteers
    ]
    assert len(now) == 1 and now[0].start < placed.start
    assert engine.needs[placed.need].lateness(now[0].day, now[0].start) < lateness
    plan = Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=number_occurrences(run.visits_of(run.snapshot())),
    )
    assert matcher.check_plan(problem, plan).ok
    engine.undo(move)
    assert sorted(run.snapshot()) == snapshot
