"""Large-neighbourhood search for community-sized weeks.

Start from the greedy plan. Repeatedly free part of the plan — one day, a cluster of buildings, a
skill group, or the volunteers around the uncovered high-priority needs — and re-optimise that
part with CP-SAT while everything else stays as it is. Keep the best plan, stop at the time limit
(or after a number of iterations, which makes runs repeatable), and record progress: the best
weighted coverage and the bound over time. The bound comes from the linear relaxation in
`matcher.solvers.bounds`.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict

from ortools.sat.python import cp_model
from pydantic import BaseModel, ConfigDict, Field

from matcher.models import WEEKDAYS, Plan, Problem, SolverInfo, Visit
from matcher.solvers.bounds import BackgroundBound, bound_and_gap
from matcher.solvers.candidates import NeedFacts, availability_by_day, need_facts
from matcher.solvers.cpsat import (
    build_week_model,
    extract_visits,
    hint_from_visits,
    unplanned_occurrences,
    weighted_coverage,
)
from matcher.solvers.objective import objective_breakdown
from matcher.travel import TravelModel

STALE_ITERATIONS_AFTER_FULL_COVERAGE = 12
"""Once coverage meets its bound, the search goes on improving the rest of the objective
(continuity, travel, lateness) and stops early only after this many iterations without
improvement: about three rounds of the neighbourhood kinds."""

NEIGHBOURHOODS = ("uncovered", "day", "cluster", "skill")


class LnsParameters(BaseModel):
    """Settings of the large-neighbourhood search."""

    model_config = ConfigDict(extra="forbid")

    iterations: int | None = Field(
        default=None, ge=0, description="stop after this many; repeatable runs need it"
    )
    pairs_per_neighbourhood: int = Field(
        default=10, ge=1, description="volunteer-days freed in one iteration"
    )
    iteration_time_limit_s: float = Field(default=2.0, gt=0)
    default_time_limit_s: float = Field(default=60.0, gt=0)
    workers: int = Field(default=1, ge=1, le=64)
    prune_by_reach: bool = Field(
        default=True, description="offer visits only to volunteers who can reach them alone"
    )
    candidates_per_pair: int = Field(
        default=12, ge=1, description="unplanned needs offered to each freed volunteer-day"
    )
    compute_bound: bool = Field(
        default=True, description="compute the coverage relaxation bound (in a second thread)"
    )


def plan_score(
    problem: Problem, travel: TravelModel, facts: dict[str, NeedFacts], visits: list[Visit]
) -> float:
    """The policy objective of a set of visits, fairness left to the sub-models."""
    terms = objective_breakdown(problem, travel, facts, visits)
    return terms["total"] - terms["fairness"]


class _Neighbourhoods:
    """Chooses which volunteer-days to free in each iteration."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        facts: dict[str, NeedFacts],
        rng: random.Random,
        size: int,
        candidates_per_pair: int = 12,
    ) -> None:
        self.candidates_per_pair = candidates_per_pair
        self.problem, self.travel, self.facts, self.rng, self.size = (
            problem,
            travel,
            facts,
            rng,
            size,
        )
        self.available_days = {
            volunteer.id: sorted(availability_by_day(volunteer)) for volunteer in problem.volunteers
        }
        self.all_pairs = sorted(
            (volunteer_id, day)
            for volunteer_id, days in self.available_days.items()
            for day in days
        )

    def _limit(self, pairs: list[tuple[str, int]]) -> set[tuple[str, int]]:
        unique = sorted(set(pairs))
        if len(unique) > self.size:
            unique = self.rng.sample(unique, self.size)
        return set(unique)

    def _pairs_for_need(self, need: NeedFacts) -> list[tuple[str, int]]:
        return [
            (volunteer_id, day)
            for volunteer_id in need.qualified
            for day in need.late_windows_by_day
            if day in self.available_days.get(volunteer_id, [])
        ]

    def needs_for_pairs(
        self, free_pairs: set[tuple[str, int]], visits: list[Visit]
    ) -> dict[tuple[str, int], set[str]]:
        """For each freed volunteer-day, the unplanned needs it may take on: the highest
        priority first, then the nearest to the volunteer's start."""
        planned: dict[str, int] = defaultdict(int)
        for visit in visits:
            planned[visit.need] += 1
        open_needs = [
            need
            for need_id, need in sorted(self.facts.items())
            if planned[need_id] < need.need.visits_per_week
        ]
        result: dict[tuple[str, int], set[str]] = {}
        for volunteer_id, day in free_pairs:
            start = self.travel.start_place[volunteer_id]
            fitting = [
                need
                for need in open_needs
                if day in need.late_windows_by_day and volunteer_id in need.qualified
            ]
            fitting.sort(key=lambda need: (-need.priority, self.travel.distance(start, need.place)))
            result[(volunteer_id, day)] = {
                need.need.id for need in fitting[: self.candidates_per_pair]
            }
        return result

    def choose(self, kind: str, visits: list[Visit]) -> set[tuple[str, int]]:
        planned: dict[str, int] = defaultdict(int)
        for visit in visits:
            planned[visit.need] += 1
        uncovered = [
            need
            for need_id, need in sorted(self.facts.items())
            if planned[need_id] < need.need.visits_per_week and need.qualified
        ]
        if kind == "uncovered" and uncovered:
            uncovered.sort(key=lambda need: -need.priority)
            top = uncovered[: max(1, len(uncovered) // 4)]
            chosen = self.rng.sample(top, min(3, len(top)))
            return self._limit([pair for need in chosen for pair in self._pairs_for_need(need)])
        if kind == "day":
            day = self.rng.randrange(7)
            return self._limit([pair for pair in self.all_pairs if pair[1] == day])
        if kind == "cluster" and self.problem.recipients:
            centre = self.travel.recipient_place[self.rng.choice(self.problem.recipients).id]
            near = sorted(
                self.facts.values(), key=lambda need: self.travel.distance(centre, need.place)
            )[:12]
            return self._limit([pair for need in near for pair in self._pairs_for_need(need)])
        services = sorted({need.service.id for need in (uncovered or list(self.facts.values()))})
        if not services:
            return self._limit(self.all_pairs)
        service = self.rng.choice(services)
        group = [need for need in self.facts.values() if need.service.id == service]
        return self._limit([pair for need in group for pair in self._pairs_for_need(need)])


def solve_lns(
    problem: Problem,
    travel: TravelModel | None = None,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    parameters: LnsParameters | None = None,
    warm_start: Plan | None = None,
) -> Plan:
    """Improve a greedy plan by re-optimising neighbourhoods with CP-SAT until the limit."""
    from matcher.solvers.greedy import solve_greedy
    from matcher.solvers.routes import build_routes

    clock = time.perf_counter()
    parameters = parameters or LnsParameters()
    travel = travel or TravelModel(problem)
    limit = time_limit_s if time_limit_s is not None else parameters.default_time_limit_s
    deadline = clock + limit
    finish_reserve = max(0.5, 0.12 * limit)
    """Time kept back for the last model, the routes, the reasons and the checker."""
    facts = need_facts(problem, travel)
    if warm_start is None:
        warm_start = solve_greedy(problem, travel, seed=seed, time_limit_s=max(0.1, 0.3 * limit))
    best = list(warm_start.visits)
    best_score = plan_score(problem, travel, facts, best)
    bound: float | None = None
    pending_bound = (
        BackgroundBound(problem, travel, facts, time_limit_s=max(5.0, 0.6 * limit))
        if parameters.compute_bound
        else None
    )
    rng = random.Random(seed)
    neighbourhoods = _Neighbourhoods(
        problem,
        travel,
        facts,
        rng,
        parameters.pairs_per_neighbourhood,
        parameters.candidates_per_pair,
    )
    progress: list[dict[str, float | str | None]] = [
        {
            "time_s": round(time.perf_counter() - clock, 3),
            "weighted_coverage": weighted_coverage(facts, best),
            "bound": bound,
            "neighbourhood": "greedy",
        }
    ]
    pinned_keys = {(pin.need, pin.day, pin.start) for pin in problem.pinned}
    iteration = improved = last_improvement = 0
    last_build_s = 0.0
    while True:
        remaining = deadline - finish_reserve - time.perf_counter()
        if remaining < max(0.2, last_build_s) or (
            parameters.iterations is not None and iteration >= parameters.iterations
        ):
            break
        if bound is None and pending_bound is not None:
            bound = pending_bound.ready()
        if (
            bound is not None
            and weighted_coverage(facts, best) >= bound - 1e-9
            and iteration - last_improvement >= STALE_ITERATIONS_AFTER_FULL_COVERAGE
        ):
            break
        kind = NEIGHBOURHOODS[iteration % len(NEIGHBOURHOODS)]
        iteration += 1
        free_pairs = neighbourhoods.choose(kind, best)
        if not free_pairs:
            continue
        fixed = [
            visit
            for visit in best
            if (visit.need, visit.day, visit.start) in pinned_keys
            or not all(
                (volunteer_id, WEEKDAYS.index(visit.day)) in free_pairs
                for volunteer_id in visit.volunteers
            )
        ]
        build_started = time.perf_counter()
        week = build_week_model(
            problem,
            travel,
            facts=facts,
            fixed_visits=fixed,
            pair_needs=neighbourhoods.needs_for_pairs(free_pairs, best),
            free_pairs=free_pairs,
            prune_by_reach=parameters.prune_by_reach,
            keep_possible=[visit for visit in best if visit not in fixed],
            include_fairness=False,
        )
        hint_from_visits(week, best, travel)
        last_build_s = time.perf_counter() - build_started
        remaining = deadline - finish_reserve - time.perf_counter()
        if remaining < 0.1:
            break
        week.model.maximize(week.objective)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(
            0.05, min(parameters.iteration_time_limit_s, remaining - 0.1)
        )
        solver.parameters.num_workers = parameters.workers
        solver.parameters.random_seed = seed + iteration
        status = solver.solve(week.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        candidate = extract_visits(problem, week, solver, facts)
        score = plan_score(problem, travel, facts, candidate)
        if score > best_score + 1e-6:
            best, best_score = candidate, score
            improved += 1
            last_improvement = iteration
            progress.append(
                {
                    "time_s": round(time.perf_counter() - clock, 3),
                    "weighted_coverage": weighted_coverage(facts, best),
                    "bound": bound,
                    "neighbourhood": kind,
                }
            )
    if bound is None and pending_bound is not None:
        bound = pending_bound.collect(deadline + 0.05 * limit, at_least_s=0.5)
    value = weighted_coverage(facts, best)
    bound, gap = bound_and_gap(bound, value)
    return Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=best,
        routes=build_routes(problem, travel, best),
        unassigned=unplanned_occurrences(problem, travel, facts, best),
        solver=SolverInfo(
            solver="lns",
            status="FEASIBLE",
            objective=value,
            bound=bound,
            gap=gap,
            wall_time_s=time.perf_counter() - clock,
            seed=seed,
            time_limit_s=time_limit_s,
            parameters={
                **parameters.model_dump(),
                "iterations_run": iteration,
                "improvements": improved,
                "progress": progress,
            },
        ),
        warnings=problem.warnings(),
    )


class LnsSolver:
    """`lns` behind the solver protocol (`matcher.solvers.base.Solver`)."""

    name = "lns"
    parameters_type = LnsParameters

    def solve(
        self,
        problem: Problem,
        travel: TravelModel,
        parameters: BaseModel,
        *,
        seed: int,
        time_limit_s: float | None,
        warm_start: Plan | None,
        language: str,
    ) -> Plan:
        from matcher.solvers.base import reassemble

        assert isinstance(parameters, LnsParameters)
        plan = solve_lns(
            problem,
            travel,
            seed=seed,
            time_limit_s=time_limit_s,
            parameters=parameters,
            warm_start=warm_start,
        )
        return reassemble(problem, travel, plan, parameters, language)
