"""The optimizers: exact CP-SAT with bounds, the coverage relaxation, LNS and `auto`.

Every plan goes through the independent checker.
"""

from __future__ import annotations

from typing import Any

import pytest

from matcher import check_plan
from matcher.api import choose_solver
from matcher.generator import generate_community
from matcher.models import Problem
from matcher.solvers.bounds import coverage_upper_bound
from matcher.solvers.cpsat import CpSatParameters, solve_cpsat
from matcher.solvers.greedy import solve_greedy
from matcher.solvers.lns import STALE_ITERATIONS_AFTER_FULL_COVERAGE, LnsParameters, solve_lns
from matcher.travel import TravelModel
from tests.helpers import checked, load, recipient, solved, tiny_problem, volunteer, window


def one_volunteer_problem(recipients: list[dict[str, Any]], **fields: Any) -> Problem:
    """Recipients all at the volunteer's door (no travel), one 60-minute service; the volunteer
    is free on Monday 09:00-11:00 unless `fields` say otherwise."""
    return tiny_problem(
        [{"id": "visit", "duration_min": 60}],
        recipients,
        [volunteer("v", **{"availability": [window("mon", "09:00", "11:00")], **fields})],
    )


def elder(name: str, priority: float, start: str, end: str) -> dict[str, Any]:
    """A recipient at the origin needing one 60-minute visit inside [start, end] on Monday."""
    need = {"id": f"{name}-visit", "service": "visit", "windows": [window("mon", start, end)]}
    return recipient(name, need, priority=priority)


def near_and_far() -> Problem:
    """Two 30-minute visits 100 m and 300 m east of the volunteer's home: one 600 m round walk
    at 100 m a minute, free Monday morning."""
    return tiny_problem(
        [{"id": "visit", "duration_min": 30}],
        [
            recipient(name, {"id": f"{name}-visit", "service": "visit"}, x_m=x_m)
            for name, x_m in (("near", 100), ("far", 300))
        ],
        [volunteer("v", speed_m_per_min=100)],
        travel={"detour_factor": 1.0},
    )


def blocking_problem() -> Problem:
    """A (priority 3) sits across the middle of the morning and blocks B and C (2.5 each).

    Worked out by hand: only two one-hour visits fit in 09:00-11:00; A with either B or C is
    impossible (A takes 09:30-10:30), so the best plan is B at 09:00 and C at 10:00 for a
    weighted coverage of 5, not A alone for 3.
    """
    return one_volunteer_problem(
        [
            elder("a", 3, "09:30", "10:30"),
            elder("b", 2.5, "09:00", "10:00"),
            elder("c", 2.5, "10:00", "11:00"),
        ]
    )


def test_cpsat_finds_the_hand_worked_optimum() -> None:
    """CP-SAT plans B and C (5), proves it, and says why A is left out."""
    problem = blocking_problem()
    plan = checked(problem, solve_cpsat(problem, time_limit_s=20))
    assert sorted((visit.need, visit.start) for visit in plan.visits) == [
        ("b-visit", 9 * 60),
        ("c-visit", 10 * 60),
    ]
    assert plan.solver.status == "OPTIMAL"
    assert plan.solver.objective == pytest.approx(5.0)
    assert plan.solver.bound == pytest.approx(5.0)
    assert plan.solver.gap == pytest.approx(0.0)
    assert [(item.need, item.reason) for item in plan.unassigned] == [
        ("a-visit", "volunteers_full")
    ]


def test_greedy_is_beaten_on_the_blocking_instance() -> None:
    """Greedy takes A first (3); the exact model is strictly better (5)."""
    problem = blocking_problem()
    greedy = checked(problem, solve_greedy(problem))
    exact = checked(problem, solve_cpsat(problem, time_limit_s=20))
    greedy_value = sum(problem.priority_of(problem.need_by_id[v.need]) for v in greedy.visits)
    assert greedy_value == pytest.approx(3.0)
    assert exact.solver.objective is not None and exact.solver.objective > greedy_value


def test_travel_decides_between_equal_coverage() -> None:
    """Two orders cover the same; the optimum takes the shorter walk (hand-computed)."""
    problem = near_and_far()
    plan = checked(problem, solve_cpsat(problem, time_limit_s=20))
    assert plan.solver.status == "OPTIMAL"
    assert len(plan.visits) == 2
    route = plan.routes[0]
    assert route.distance_m == pytest.approx(600.0)


def test_weekly_cap_counts_travel() -> None:
    """A cap of 130 minutes allows two 60-minute visits only with under 10 minutes of travel."""
    problem = one_volunteer_problem(
        [elder("a", 1, "09:00", "11:00"), elder("b", 1, "09:00", "11:00")],
        max_minutes_per_week=119,
    )
    plan = checked(problem, solve_cpsat(problem, time_limit_s=20))
    assert len(plan.visits) == 1
    assert plan.solver.bound == pytest.approx(1.0)


def small_community(seed: int) -> Problem:
    """A small generated community (the benchmark's 'small' size, smaller still)."""
    return generate_community(recipients=12, volunteers=5, buildings=2, seed=seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cpsat_never_worse_than_greedy_and_bound_above(seed: int) -> None:
    """On generated communities: checked, at least greedy's coverage, bound >= objective."""
    problem = small_community(seed)
    travel = TravelModel(problem)
    greedy = checked(problem, solve_greedy(problem, travel))
    exact = checked(problem, solve_cpsat(problem, travel, time_limit_s=4))
    greedy_report = check_plan(problem, greedy)
    exact_report = check_plan(problem, exact)
    assert exact_report.metrics.weighted_planned >= greedy_report.metrics.weighted_planned - 1e-9
    assert exact.solver.bound is not None and exact.solver.objective is not None
    assert exact.solver.bound >= exact.solver.objective - 1e-9
    assert exact.solver.objective == pytest.approx(exact_report.metrics.weighted_planned)
    assert 0.0 <= (exact.solver.gap or 0.0) <= 1.0


def test_relaxation_bound_is_valid_and_tight_where_worked_out() -> None:
    """The LP bound: 5.5 on the blocking instance (A plus half of B and C), above any plan."""
    problem = blocking_problem()
    bound = coverage_upper_bound(problem, TravelModel(problem))
    assert bound == pytest.approx(5.5, abs=1e-4)
    community = small_community(3)
    travel = TravelModel(community)
    greedy = checked(community, solve_greedy(community, travel))
    assert (
        coverage_upper_bound(community, travel)
        >= check_plan(community, greedy).metrics.weighted_planned - 1e-6
    )


def test_same_seed_one_worker_same_plan() -> None:
    """Deterministic: one worker, fixed seed, solved to optimality twice, identical visits."""
    problem = blocking_problem()
    parameters = CpSatParameters(workers=1)
    first = solve_cpsat(problem, seed=7, time_limit_s=20, parameters=parameters)
    second = solve_cpsat(problem, seed=7, time_limit_s=20, parameters=parameters)
    assert first.visits == second.visits
    assert first.routes == second.routes


def test_one_second_limit_returns_a_checked_plan() -> None:
    """A 1-second limit on a medium week still returns a checked plan with a bound."""
    problem = generate_community(recipients=60, volunteers=15, buildings=4, seed=5)
    plan = checked(problem, solve_cpsat(problem, time_limit_s=1.0))
    assert plan.visits
    assert plan.solver.bound is not None and plan.solver.gap is not None
    assert plan.solver.wall_time_s < 30


def test_lns_goes_on_after_full_coverage_then_stops_when_stale() -> None:
    """A week that greedy covers fully: the coverage bound is met at once, yet LNS keeps
    searching the rest of the objective until STALE_ITERATIONS_AFTER_FULL_COVERAGE rounds bring
    nothing, and then stops well before its limit instead of running on."""
    problem = generate_community(recipients=8, volunteers=8, buildings=2, seed=3)
    travel = TravelModel(problem)
    greedy = checked(problem, solve_greedy(problem, travel))
    assert not greedy.unassigned
    plan = checked(problem, solve_lns(problem, travel, time_limit_s=120, warm_start=greedy))
    assert not plan.unassigned and plan.solver.gap == 0
    iterations = plan.solver.statistics["iterations"]
    assert (
        STALE_ITERATIONS_AFTER_FULL_COVERAGE
        <= iterations
        < 10 * STALE_ITERATIONS_AFTER_FULL_COVERAGE
    )


def test_lns_improves_on_greedy() -> None:
    """LNS on a generated medium week covers more priority-weighted need than greedy."""
    problem = generate_community(recipients=80, volunteers=20, buildings=4, seed=0)
    travel = TravelModel(problem)
    greedy = checked(problem, solve_greedy(problem, travel))
    improved = checked(
        problem,
        solve_lns(
            problem,
            travel,
            time_limit_s=60,
            parameters=LnsParameters(iterations=12),
            warm_start=greedy,
        ),
    )
    before = check_plan(problem, greedy).metrics.weighted_planned
    after = check_plan(problem, improved).metrics.weighted_planned
    assert after > before
    assert improved.solver.statistics["improvements"] >= 1
    progress = improved.solver.statistics["progress"]
    assert progress[0]["neighbourhood"] == "greedy" and len(progress) >= 2
    assert improved.solver.bound is not None and improved.solver.bound >= after - 1e-6


def test_auto_chooses_by_size_and_says_so() -> None:
    """Small weeks get the exact model, community-sized ones ruin and recreate; the plan records
    the choice."""
    small = blocking_problem()
    assert choose_solver(small)[0] == "cpsat"
    assert choose_solver(generate_community(recipients=150, volunteers=40, seed=0))[0] == "ruin"
    plan = solved(small, "auto")
    assert plan.solver.statistics["auto"]["chosen"] == "cpsat"
    assert plan.metrics is not None and plan.metrics.weighted_planned == pytest.approx(5.0)


def test_objective_breakdown_by_term() -> None:
    """solve() reports the policy objective term by term, worked out by hand.

    Two 30-minute visits 100 m and 300 m from home on one 600 m round walk: coverage
    2 x 1,000 points, travel 0.6 km x 10 points, no continuity, cost or lateness, one volunteer
    so no load above the mean.
    """
    problem = near_and_far()
    plan = solved(problem, "cpsat", time_limit_s=20)
    terms = plan.solver.objective_breakdown
    assert terms["coverage"] == pytest.approx(2000.0)
    assert terms["travel"] == pytest.approx(-6.0)
    assert terms["continuity"] == terms["cost"] == terms["lateness"] == terms["fairness"] == 0
    assert terms["total"] == pytest.approx(1994.0)
    assert plan.solver.objective == pytest.approx(2.0)


def test_pooled_relaxation_is_looser_but_still_valid() -> None:
    """Pooling volunteers by qualification never lowers the bound below the exact relaxation."""
    community = small_community(4)
    travel = TravelModel(community)
    exact_bound = coverage_upper_bound(community, travel, aggregate=False)
    pooled_bound = coverage_upper_bound(community, travel, aggregate=True)
    planned = check_plan(community, solve_greedy(community, travel)).metrics.weighted_planned
    assert pooled_bound >= exact_bound - 1e-6 >= planned - 2e-6


def test_cpsat_spreads_load_in_proportion_to_what_each_volunteer_offered() -> None:
    """The weekly-cap week: the neighbour offers 100 of 1,600 minutes. Shared against the plain
    mean, two visits each would be fairest; in proportion to the offer the neighbour carries
    one and the volunteer a kilometre away three, and CP-SAT proves that optimal (given the time
    to: by default it polishes the rest of the objective for only half a second once coverage is
    proven)."""
    problem = load("ok_small_weekly_cap")
    plan = solved(problem, "cpsat", parameters={"polish_time_s": 10})
    assert plan.solver.status == "OPTIMAL"
    carried = sorted(volunteer for visit in plan.visits for volunteer in visit.volunteers)
    assert carried == ["capped", "uncapped", "uncapped", "uncapped"]
