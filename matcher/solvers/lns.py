"""Large-neighbourhood search for community-sized weeks.

Start from the greedy plan. Repeatedly free part of the plan — one day, a cluster of buildings, a
skill group, or the volunteers around the uncovered needs (mandatory ones first, then by
priority) — and re-optimise that part with CP-SAT while everything else stays as it is. With
group services the search starts from greedy's plan with sessions and plans them itself: two more
neighbourhoods free a venue-day or a group service (its sessions, and the days of their staff
with those volunteers' visits) and the model (`matcher.solvers.cpsat.sessions`) chooses the
sessions there again; the other neighbourhoods keep the sessions fixed. Keep the
best plan and record progress: the best weighted coverage and the bound over time. The bound is
the linear relaxation of `matcher.solvers.bounds`, computed in a second thread.

Mandatory first: a neighbourhood never plans fewer mandatory occurrences than the plan it starts
from, and where a mandatory occurrence is missing and the neighbourhood could plan it, it first
plans as many as it can (a lexicographic step) before the rest of the objective. Plans compare
by mandatory occurrences, then by the policy objective. The bound knows it: it bounds the plans
with at least the warm start's mandatory occurrences, which every plan of the search keeps.

Stopping: at the time limit (status TIME_LIMIT), after `iterations` (which makes runs
repeatable), after `stale_iterations` in a row without improvement, or once coverage meets its
bound (`matcher.solvers.base.meets_bound`; every requested visit, `requested_coverage`, until
the relaxation's bound is ready): from then on the search only polishes the rest of
the objective (continuity, travel, lateness) and stops after
STALE_ITERATIONS_AFTER_FULL_COVERAGE iterations without improvement or `polish_time_s` seconds,
whichever comes first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from ortools.sat.python import cp_model
from pydantic import BaseModel, ConfigDict, Field

from matcher.models import WEEKDAYS, Plan, Problem, Session, Visit
from matcher.rules import NeedFacts, need_facts, outings_by_day, planned_counts
from matcher.rules.mandatory import mandatory_counts, mandatory_planned, ranks_above
from matcher.rules.pinned import pinned_keys, pinned_visits
from matcher.rules.sessions import candidate_venues, lead_failures
from matcher.solvers.base import (
    SearchOutcome,
    SearchSolver,
    SolveRequest,
    finishing_reserve_s,
    meets_bound,
    run_solver,
    usable_visits,
    weighted_coverage,
)
from matcher.solvers.bounds import BackgroundBound, requested_coverage
from matcher.solvers.cpsat import (
    WeekModel,
    build_week_model,
    cp_solver,
    extract_visits,
    hint_from_solution,
    hint_from_visits,
)
from matcher.solvers.cpsat.lateness import LatenessCache
from matcher.solvers.cpsat.sessions import (
    SessionScope,
    extract_sessions,
    greedy_with_sessions,
    hint_sessions,
)
from matcher.solvers.greedy.sessions import plan_sessions
from matcher.solvers.objective import objective_breakdown
from matcher.solvers.session_plan import session_terms
from matcher.travel import TravelModel

STALE_ITERATIONS_AFTER_FULL_COVERAGE = 12
"""Once coverage meets its bound, the search goes on improving the rest of the objective
(continuity, travel, lateness) and stops after this many iterations without improvement (about
three rounds of the neighbourhood kinds), or after `polish_time_s`, whichever comes first."""

NEIGHBOURHOODS = ("uncovered", "day", "cluster", "skill")
SESSION_NEIGHBOURHOODS = ("venue_day", "group_service")
HELD_VENUE_DAY_SHARE = 0.7
"""How often a venue-day neighbourhood frees a venue-day that holds sessions (else any
venue-day, where a session may be started)."""
"""With group services, these join the round: free a venue-day (its sessions, and the days of
their staff with those volunteers' visits) or a group service (all its sessions, the same way),
and let the model choose the sessions again among every candidate of that venue-day or service
(`matcher.solvers.cpsat.sessions`)."""


class LnsParameters(BaseModel):
    """Settings of the large-neighbourhood search."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iterations: int | None = Field(
        default=None, ge=0, description="stop after this many; repeatable runs need it"
    )
    pairs_per_neighbourhood: int = Field(
        default=10, ge=1, description="volunteer-days freed in one iteration"
    )
    iteration_time_limit_s: float = Field(default=2.0, gt=0)
    default_time_limit_s: float = Field(
        default=60.0, gt=0, description="the time limit when the caller gives none"
    )
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
    polish_time_s: float = Field(
        default=0.5,
        ge=0,
        description="once coverage meets its bound, at most this long polishing the rest of the "
        "objective (not applied with an `iterations` budget, to keep such runs repeatable)",
    )
    stale_iterations: int | None = Field(
        default=1000,
        ge=1,
        description="stop after this many iterations in a row without improvement, bound met or "
        "not (on a small week the neighbourhoods have then covered it many times over); None: "
        "search on until the limit",
    )


def plan_score(
    problem: Problem,
    travel: TravelModel,
    facts: dict[str, NeedFacts],
    visits: list[Visit],
    sessions: Sequence[Session] | None = None,
) -> float:
    """The policy objective of a set of visits (and sessions: `session_plan.session_terms`),
    fairness left to the sub-models."""
    terms = objective_breakdown(problem, travel, facts, visits)
    score = terms["total"] - terms["fairness"]
    if sessions is not None:
        score += sum(session_terms(problem, travel, visits, sessions).values())
    return score


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
        self.problem, self.travel, self.facts, self.rng, self.size = (
            problem,
            travel,
            facts,
            rng,
            size,
        )
        self.candidates_per_pair = candidates_per_pair
        self.available_days = {
            volunteer.id: sorted(outings_by_day(volunteer)) for volunteer in problem.volunteers
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

    def _open_needs(self, visits: list[Visit]) -> list[NeedFacts]:
        """Needs with occurrences left out, mandatory ones first, then by priority."""
        planned = planned_counts(visits)
        open_needs = [
            need
            for need_id, need in sorted(self.facts.items())
            if planned.get(need_id, 0) < need.need.visits_per_week and need.qualified
        ]
        open_needs.sort(key=lambda need: (not need.need.mandatory, -need.priority))
        return open_needs

    def needs_for_pairs(
        self, free_pairs: set[tuple[str, int]], visits: list[Visit]
    ) -> dict[tuple[str, int], set[str]]:
        """For each freed volunteer-day, the unplanned needs it may take on: mandatory ones
        first, then the highest priority, then the nearest to the volunteer's start."""
        open_needs = self._open_needs(visits)
        result: dict[tuple[str, int], set[str]] = {}
        for volunteer_id, day in free_pairs:
            start = self.travel.start_place[volunteer_id]
            fitting = [
                need
                for need in open_needs
                if day in need.late_windows_by_day and volunteer_id in need.qualified
            ]
            fitting.sort(
                key=lambda need: (
                    not need.need.mandatory,
                    -need.priority,
                    self.travel.distance(start, need.place),
                )
            )
            result[(volunteer_id, day)] = {
                need.need.id for need in fitting[: self.candidates_per_pair]
            }
        return result

    def choose_sessions(
        self, kind: str, sessions: Sequence[Session]
    ) -> tuple[set[tuple[str, int]], SessionScope]:
        """A session neighbourhood (`SESSION_NEIGHBOURHOODS`): the volunteer-days it frees (the
        staff and escorts of the sessions it frees, then volunteers who could lead there, up
        to the neighbourhood's size) and the scope of the model's sessions."""
        problem = self.problem
        if kind == "venue_day":
            held = sorted({(s.venue, WEEKDAYS.index(s.day)) for s in sessions})
            if not held and not problem.venues:
                return set(), SessionScope(fixed=tuple(sessions))
            if held and (self.rng.random() < HELD_VENUE_DAY_SHARE or not problem.venues):
                venue_day = self.rng.choice(held)
            else:
                venue_day = (self.rng.choice(problem.venues).id, self.rng.randrange(7))
            freed = [s for s in sessions if (s.venue, WEEKDAYS.index(s.day)) == venue_day]
            scope_days: frozenset[tuple[str, int]] | None = frozenset([venue_day])
            scope_services: frozenset[str] | None = None
            services = [
                service
                for service in problem.group_services
                if venue_day[0] in {v.id for v in candidate_venues(problem, service)}
            ]
            days = [venue_day[1]]
        else:
            service = self.rng.choice(problem.group_services)
            freed = [s for s in sessions if s.group_service == service.id]
            scope_days, scope_services = None, frozenset([service.id])
            services = [service]
            days = list(range(7))
        staff = {
            (volunteer, WEEKDAYS.index(session.day))
            for session in freed
            for volunteer in [
                *session.leads,
                *session.helpers,
                *(seat.escort for seat in session.attendees if seat.escort),
            ]
        }
        could_lead = sorted(
            (volunteer.id, day)
            for volunteer in problem.volunteers
            for day in days
            if day in self.available_days.get(volunteer.id, [])
            and any(not lead_failures(s, volunteer, children=False) for s in services)
        )
        room = max(0, self.size - len(staff))
        extra = self.rng.sample(could_lead, min(room, len(could_lead)))
        kept = tuple(s for s in sessions if s not in freed)
        scope = SessionScope(
            venue_days=scope_days, services=scope_services, fixed=kept, keep=tuple(freed)
        )
        return staff | set(extra), scope

    def choose(self, kind: str, visits: list[Visit]) -> set[tuple[str, int]]:
        uncovered = self._open_needs(visits)
        if kind == "uncovered" and uncovered:
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


def _solve_neighbourhood(
    week: WeekModel,
    *,
    seed: int,
    time_limit_s: float,
    workers: int,
    mandatory_floor: int,
    mandatory_missing: set[str],
) -> cp_model.CpSolver | None:
    """Re-optimise one neighbourhood: never fewer mandatory occurrences than `mandatory_floor`;
    when it offers a need with a mandatory occurrence missing, first as many as it can."""

    model = week.model
    floor = mandatory_floor - week.fixed_mandatory
    if floor > 0:
        model.add(week.mandatory >= floor)
    budget = time_limit_s
    if any(
        option.mandatory and option.need in mandatory_missing for option in week.options.values()
    ):
        model.maximize(week.mandatory)
        first = cp_solver(seed, budget / 2, workers)
        if first.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            found = round(first.objective_value)
            if found > floor:
                model.add(week.mandatory >= found)
            hint_from_solution(week, first)
        budget /= 2
    model.maximize(week.objective)
    solver = cp_solver(seed + 1, budget, workers)
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return solver


def search_lns(request: SolveRequest, parameters: LnsParameters) -> SearchOutcome:
    """Run the search within the time limit (`solve_lns` describes the parameters)."""
    problem, travel, seed = request.problem, request.travel, request.seed
    clock = request.started_at
    limit = request.limit_s(parameters.default_time_limit_s)
    deadline = clock + limit
    finish_reserve = max(min(0.5, 0.5 * limit), 0.12 * limit, finishing_reserve_s(problem, limit))
    """Time kept back for the last model, the routes, the reasons and the checker."""
    facts = need_facts(problem, travel)
    needs = {need_id: need.need for need_id, need in facts.items()}
    warm_start = request.warm_start
    greedy_stopped: bool | None = None
    with_sessions = problem.has_sessions
    if warm_start is None:
        from matcher.solvers.greedy import greedy_start

        greedy = (
            greedy_with_sessions(request, limit)
            if with_sessions
            else greedy_start(request, facts, limit, solver="lns")
        )
        warm_start, greedy_stopped = greedy.plan, greedy.stopped
    warm_start_note = "kept"
    usable = usable_visits(request, warm_start)
    if usable is not None:
        best = usable
    else:
        best = pinned_visits(problem, facts)
        warm_start_note = "broke a rule: the search started from the pinned visits"
    best_sessions: list[Session] | None = None
    if with_sessions:
        best_sessions = (
            list(warm_start.sessions)
            if usable is not None and warm_start.sessions is not None
            else plan_sessions(problem, travel, best, deadline, request.stop_requested)[0]
        )
    best_rank = (
        mandatory_planned(needs, best),
        plan_score(problem, travel, facts, best, best_sessions),
    )
    bound: float | None = None
    pending_bound = (
        BackgroundBound(
            problem,
            travel,
            facts,
            time_limit_s=max(5.0, 0.6 * limit),
            mandatory_at_least=best_rank[0],
        )
        if parameters.compute_bound
        else None
    )
    ceiling = requested_coverage(facts) if parameters.compute_bound else None
    rng = random.Random(seed)
    neighbourhoods = _Neighbourhoods(
        problem,
        travel,
        facts,
        rng,
        parameters.pairs_per_neighbourhood,
        parameters.candidates_per_pair,
    )

    def elapsed() -> float:
        return round(time.perf_counter() - clock, 3)

    progress: list[dict[str, float | str | None]] = [
        {
            "time_s": elapsed(),
            "weighted_coverage": weighted_coverage(facts, best),
            "bound": bound,
            "neighbourhood": "greedy",
        }
    ]
    pinned = pinned_keys(problem)
    lateness_cache: LatenessCache = {}
    outings = {volunteer.id: outings_by_day(volunteer) for volunteer in problem.volunteers}
    iteration = improved = last_improvement = 0
    last_build_s = 0.0
    bound_met_at: float | None = None
    polish_deadline = float("inf")
    stop_reason = "time limit"
    while True:
        remaining = deadline - finish_reserve - time.perf_counter()
        if remaining < max(0.2, last_build_s):
            break
        if parameters.iterations is not None and iteration >= parameters.iterations:
            stop_reason = "iterations"
            break
        if request.stop_requested():
            stop_reason = "stopped"
            break
        if bound is None and pending_bound is not None:
            bound = pending_bound.ready()
        if bound_met_at is None and meets_bound(
            weighted_coverage(facts, best), ceiling if bound is None else bound
        ):
            bound_met_at = time.perf_counter()
            if parameters.iterations is None:
                polish_deadline = bound_met_at + parameters.polish_time_s
            progress.append(
                {
                    "time_s": elapsed(),
                    "weighted_coverage": weighted_coverage(facts, best),
                    "bound": bound,
                    "neighbourhood": "bound met",
                }
            )
        if bound_met_at is not None and (
            iteration - last_improvement >= STALE_ITERATIONS_AFTER_FULL_COVERAGE
            or time.perf_counter() >= polish_deadline
        ):
            stop_reason = "bound met"
            break
        if (
            parameters.stale_iterations is not None
            and iteration - last_improvement >= parameters.stale_iterations
        ):
            stop_reason = "stale"
            break
        kinds = NEIGHBOURHOODS + SESSION_NEIGHBOURHOODS if with_sessions else NEIGHBOURHOODS
        kind = kinds[iteration % len(kinds)]
        iteration += 1
        scope: SessionScope | None = None
        if best_sessions is not None and kind in SESSION_NEIGHBOURHOODS:
            free_pairs, scope = neighbourhoods.choose_sessions(kind, best_sessions)
        else:
            free_pairs = neighbourhoods.choose(kind, best)
            if best_sessions is not None:
                scope = SessionScope(
                    venue_days=frozenset(), services=frozenset(), fixed=tuple(best_sessions)
                )
        if not free_pairs:
            continue
        stays = [
            (visit.need, visit.day, visit.start) in pinned
            or not all(
                (volunteer_id, WEEKDAYS.index(visit.day)) in free_pairs
                for volunteer_id in visit.volunteers
            )
            for visit in best
        ]
        fixed = [visit for visit, stay in zip(best, stays, strict=True) if stay]
        freed = [visit for visit, stay in zip(best, stays, strict=True) if not stay]
        build_started = time.perf_counter()
        week = build_week_model(
            problem,
            travel,
            facts=facts,
            fixed_visits=fixed,
            pair_needs=neighbourhoods.needs_for_pairs(free_pairs, best),
            free_pairs=free_pairs,
            prune_by_reach=parameters.prune_by_reach,
            keep_possible=freed,
            include_fairness=False,
            lateness_cache=lateness_cache,
            outings=outings,
            sessions=scope,
        )
        hint_from_visits(week, best)
        if best_sessions is not None:
            hint_sessions(week, best, best_sessions)
        last_build_s = time.perf_counter() - build_started
        remaining = min(
            deadline - finish_reserve - time.perf_counter(), polish_deadline - time.perf_counter()
        )
        if remaining < 0.1 and bound_met_at is None:
            break
        planned = planned_counts(best)
        solver = _solve_neighbourhood(
            week,
            seed=seed + iteration,
            time_limit_s=min(parameters.iteration_time_limit_s, remaining - 0.05),
            workers=parameters.workers,
            mandatory_floor=best_rank[0],
            mandatory_missing={
                need_id
                for need_id, need in needs.items()
                if need.mandatory and planned.get(need_id, 0) < need.visits_per_week
            },
        )
        if solver is None:
            continue
        candidate = extract_visits(problem, week, solver, facts)
        candidate_sessions = (
            extract_sessions(week.sessions, solver) if week.sessions is not None else best_sessions
        )
        rank = (
            mandatory_planned(needs, candidate),
            plan_score(problem, travel, facts, candidate, candidate_sessions),
        )
        if ranks_above(rank, best_rank, tolerance=1e-6):
            best, best_rank, best_sessions = candidate, rank, candidate_sessions
            improved += 1
            last_improvement = iteration
            progress.append(
                {
                    "time_s": elapsed(),
                    "weighted_coverage": weighted_coverage(facts, best),
                    "bound": bound,
                    "neighbourhood": kind,
                }
            )
            request.report(
                "polish" if bound_met_at is not None else "search",
                best,
                facts,
                solver="lns",
                default_limit_s=limit,
                bound=bound,
            )
    if bound is None and pending_bound is not None and not request.stop_requested():
        bound = pending_bound.collect(deadline - finishing_reserve_s(problem, limit))
    if bound is None:
        bound = ceiling
    if bound_met_at is None and meets_bound(weighted_coverage(facts, best), bound):
        bound_met_at = time.perf_counter()
    return SearchOutcome(
        visits=best,
        status="TIME_LIMIT" if stop_reason == "time limit" else "FEASIBLE",
        bound=bound,
        facts=facts,
        statistics={
            "iterations": iteration,
            "improvements": improved,
            "last_improvement_iteration": last_improvement,
            "stop_reason": stop_reason,
            "bound_met_s": None if bound_met_at is None else round(bound_met_at - clock, 3),
            "warm_start": warm_start_note,
            "greedy_stopped_by_time_limit": greedy_stopped,
            **mandatory_counts(needs, best),
            "progress": progress,
            "effective_time_limit_s": limit,
            **(
                {"sessions": {"planner": "lns", "neighbourhoods": list(SESSION_NEIGHBOURHOODS)}}
                if with_sessions
                else {}
            ),
        },
        sessions=best_sessions,
    )


def solve_lns(
    problem: Problem,
    travel: TravelModel | None = None,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    parameters: LnsParameters | None = None,
    warm_start: Plan | None = None,
    language: str | None = None,
) -> Plan:
    """Improve a greedy plan by re-optimising neighbourhoods with CP-SAT.

    Parameters:
        problem: the checked week.
        travel: its travel matrices (built when None).
        seed: chooses the neighbourhoods and seeds CP-SAT; with `parameters.iterations` the
            same seed gives the same plan (unless the time limit comes first).
        time_limit_s: seconds for the whole search; None: `parameters.default_time_limit_s`.
        parameters: `LnsParameters` (iterations, neighbourhood size, time per iteration,
            pruning, candidates per volunteer-day, the bound, polish time).
        warm_start: the plan to start from (the greedy plan when None); one the checker
            rejects is set aside and the search starts from the pinned visits.
        language: of the unplanned visits' sentences (default: the policy's).

    The plan's `solver.status` is TIME_LIMIT when the limit stopped the search, else FEASIBLE;
    `solver.statistics` holds the iterations, improvements, why it stopped, when coverage met
    its bound and the progress over time.
    """
    return run_solver(
        LnsSolver(), problem, travel, seed, time_limit_s, parameters, warm_start, language
    )


class LnsSolver(SearchSolver[LnsParameters]):
    """`lns` behind the solver protocol (`matcher.solvers.base.Solver`)."""

    name = "lns"
    parameters_type = LnsParameters
    plans_sessions = True

    def search(self, request: SolveRequest, parameters: LnsParameters) -> SearchOutcome:
        """The large-neighbourhood search (`search_lns`)."""
        return search_lns(request, parameters)
