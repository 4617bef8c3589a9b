"""The exact model solved lexicographically, mandatory visits first, with a bound on coverage.

Phase 0 (only when the week has mandatory needs) plans as many occurrences of mandatory needs as
it can and fixes that count: a mandatory occurrence is planned before any optional one takes its
place, whatever the priorities (`matcher.rules.mandatory`). A lexicographic phase rather than a
large weight on mandatory visits, because it keeps phase 1's bound a bound on weighted coverage
itself (a weighted objective would only bound the mix) and keeps the coefficients small, which
CP-SAT's linear relaxation needs to prove bounds. Phase 1 maximises priority-weighted coverage
and proves a bound on it; it stops as soon as its coverage meets the linear relaxation's bound
(`matcher.solvers.bounds`, which knows the mandatory count too). Phase 2 keeps that coverage
and optimises the whole policy objective (continuity, travel, staff cost, fairness, lateness);
once coverage is proven it has at most `polish_time_s`.

With group services the model plans the sessions too (`matcher.solvers.cpsat.sessions`): phase
1 then maximises coverage and seats together (a seat counts `attendance / coverage` of a visit
of the same priority, the points `greedy.sessions.plan_rank` ranks plans by) and does not stop
early on coverage alone, phase 2 adds the session terms, and the warm start is greedy's plan
with sessions. CP-SAT's bound on phase 1 then bounds coverage plus seats, so still coverage.

The bound reported bounds the weighted coverage of every plan that plans at least as many
mandatory occurrences as phase 0 found (and keeps the pinned visits): every plan this solver may
return does.
"""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from matcher.models import Plan, Problem, Session, Visit
from matcher.rules import NeedFacts, need_facts
from matcher.rules.mandatory import mandatory_counts, mandatory_planned, ranks_above
from matcher.rules.pinned import pinned_visits
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
from matcher.solvers.bounds import coverage_upper_bound, requested_coverage
from matcher.solvers.cpsat.hints import (
    complete_hint,
    extract_visits,
    hint_from_solution,
    hint_from_visits,
    hint_values,
    hinted_values,
)
from matcher.solvers.cpsat.model import (
    COVERAGE_SCALE,
    BuildTimeout,
    ModelTooLarge,
    WeekModel,
    build_week_model,
)
from matcher.solvers.cpsat.parameters import CpSatParameters
from matcher.solvers.cpsat.sessions import (
    SessionScope,
    extract_sessions,
    greedy_with_sessions,
    hint_sessions,
    sessions_around,
    usable_sessions,
)
from matcher.solvers.cpsat.strengthen import Strengthening, add_coverage_cut, strengthen
from matcher.solvers.greedy import GreedyStart, greedy_start
from matcher.solvers.greedy.sessions import plan_rank
from matcher.travel import TravelModel

FOUND = (cp_model.OPTIMAL, cp_model.FEASIBLE)
RELAXATION_TIME_SHARE = 0.2
"""Share of the time left given to the linear relaxation (milliseconds on the weeks `cpsat`
is meant for)."""
STRENGTHEN_MAX_VARIABLES = 100_000
"""Models with more variables get no implied constraints and no hint completion (a small week
has about 10,000; the bundled community example over a million)."""
STRENGTHEN_MIN_LEFT_SHARE = 0.5
"""... nor do models built with less than this share of the time limit left."""
PROVEN = "OPTIMAL"
"""A phase's status when the complete hint already meets its bound: proven without a solve
(`statistics["proven_by_warm_start"]` names the phase)."""
FINISH_RESERVE_SHARE = 0.1
HINT_COMPLETION_SHARE = 0.1
"""Share of the time left for completing the warm start's hint with sessions
(`hints.complete_hint`), done only when a solve's loading fits in it."""
SOLVE_LOAD_S_PER_VARIABLE = 4e-6
"""Seconds CP-SAT takes to load and presolve a model, per variable, whatever its time limit:
about 3 s for the bundled community's 737,000 variables (measured at load 3 on 2 cores)."""
SEARCH_NEEDS_S_PER_VARIABLE = 16e-6
"""Seconds hinting a model (about 8 µs a variable in Python) and two of its solves take, per
variable: a model with sessions built with less time than this left is not searched (the warm
start with its sessions comes back), so the limit holds."""
"""Share of the time limit kept back, when building the model, for the bound and the plan."""


def cp_solver(
    seed: int,
    time_limit_s: float,
    workers: int,
    *,
    log_progress: bool = False,
    linearization_level: int | None = None,
) -> cp_model.CpSolver:
    """A CP-SAT solver with this seed, workers, logging and linearization (None: CP-SAT's
    default), given at least 0.05 s (the phases of `cpsat` and the neighbourhoods of `lns`)."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = log_progress
    if linearization_level is not None:
        solver.parameters.linearization_level = linearization_level
    return solver


def phase_solver(
    seed: int, time_limit_s: float, parameters: CpSatParameters, *, objective: bool = False
) -> cp_model.CpSolver:
    """A CP-SAT solver for one phase of `cpsat`: the parameters' workers, logging,
    linearization and probing (`objective`: phase 2's)."""
    solver = cp_solver(
        seed,
        time_limit_s,
        parameters.workers,
        log_progress=parameters.log_progress,
        linearization_level=parameters.linearization_level,
    )
    solver.parameters.cp_model_probing_level = (
        parameters.objective_probing_level if objective else parameters.probing_level
    )
    return solver


class _CoverageTarget(cp_model.CpSolverSolutionCallback):
    """Stops phase 1 as soon as a solution's weighted coverage meets the relaxation's bound."""

    def __init__(
        self, week: WeekModel, facts: dict[str, NeedFacts], fixed: float, bound: float | None
    ) -> None:
        super().__init__()
        self.week, self.facts, self.fixed, self.bound = week, facts, fixed, bound
        self.met = False

    def on_solution_callback(self) -> None:
        if self.bound is None:
            return
        value = self.fixed + sum(
            self.facts[option.need].priority
            for option in self.week.options.values()
            if self.boolean_value(option.present)
        )
        if meets_bound(value, self.bound):
            self.met = True
            self.stop_search()


def _unbuilt(
    request: SolveRequest,
    facts: dict[str, NeedFacts],
    warm_start: Plan | None,
    greedy: GreedyStart | None,
    pinned: list[Visit],
    parameters: CpSatParameters,
    limit: float,
) -> SearchOutcome:
    """The week was too large to build within the limit: the warm start if it keeps every rule,
    else the greedy plan (never an empty one), with the relaxation's bound if time is left, the
    time limit named as the reason."""
    needs = {need_id: need.need for need_id, need in facts.items()}
    usable = usable_visits(request, warm_start)
    if usable is None:
        if greedy is None:
            greedy = greedy_start(request, facts, limit, solver="cpsat")
        usable = usable_visits(request, greedy.plan)
    visits = usable if usable is not None else list(pinned)
    mandatory = mandatory_planned(needs, visits)
    relaxed = None
    left_s = limit - finishing_reserve_s(request.problem, limit) - request.elapsed_s()
    if parameters.relaxation_bound and left_s > 0.1 and not request.stop_requested():
        relaxed = coverage_upper_bound(
            request.problem,
            request.travel,
            facts,
            time_limit_s=left_s,
            mandatory_at_least=mandatory,
        )
    return SearchOutcome(
        visits=visits,
        status="TIME_LIMIT",
        bound=relaxed if relaxed is not None else requested_coverage(facts),
        facts=facts,
        stopped=greedy is not None and greedy.stopped,
        statistics={
            "phases": {},
            "search": "the model could not be built within the time limit: "
            + ("greedy plan kept" if greedy is not None else "warm start kept"),
            "fallback": "greedy" if greedy is not None else "warm start",
            "greedy_stopped_by_time_limit": greedy is not None and greedy.stopped,
            **mandatory_counts(needs, visits),
            "bound_mandatory_at_least": mandatory,
            "coverage_bound_cpsat": None,
            "coverage_bound_relaxation": relaxed,
            "bound_met_s": None,
            "warm_start_kept": usable is not None,
            "effective_time_limit_s": limit,
        },
    )


def search_cpsat(request: SolveRequest, parameters: CpSatParameters) -> SearchOutcome:
    """Run the phases within the time limit (`solve_cpsat` describes the parameters)."""
    problem, travel, seed = request.problem, request.travel, request.seed
    limit = request.limit_s(parameters.default_time_limit_s)
    deadline = request.started_at + limit - finishing_reserve_s(problem, limit)
    """When the search must be done: the rest of the limit is for assembling the plan."""

    def left() -> float:
        return max(0.0, deadline - time.perf_counter())

    facts = need_facts(problem, travel)
    needs = {need_id: need.need for need_id, need in facts.items()}
    pinned = pinned_visits(problem, facts)
    warm_start = request.warm_start
    greedy: GreedyStart | None = None
    if warm_start is None and parameters.warm_start:
        if problem.has_sessions:
            greedy = greedy_with_sessions(request, limit)
        else:
            greedy = greedy_start(request, facts, limit, solver="cpsat")
        warm_start = greedy.plan
    warm_sessions = list(warm_start.sessions or []) if warm_start is not None else []
    scope = SessionScope(keep=tuple(warm_sessions)) if problem.has_sessions else None
    pruned = parameters.prune_by_reach
    budget_mib = request.memory_budget_mib(parameters.max_memory_mib)
    memory: dict[str, object] = {"memory_budget_mib": budget_mib}
    build_deadline = deadline - FINISH_RESERVE_SHARE * limit
    try:
        if greedy is not None and greedy.stopped:
            raise BuildTimeout("greedy took the whole time limit")
        week, pruned, scope = _build_within_budget(
            request, facts, pinned, pruned, scope, parameters, build_deadline, memory
        )
        variables = len(week.model.proto.variables)
        if week.sessions is not None and left() < SEARCH_NEEDS_S_PER_VARIABLE * variables:
            memory["model_variables"] = variables
            raise BuildTimeout(
                "the model with sessions was built too late to be hinted and searched within "
                "the time limit"
            )
    except BuildTimeout as error:
        outcome = _unbuilt(request, facts, warm_start, greedy, pinned, parameters, limit)
        outcome.statistics.update(memory)
        if isinstance(error, ModelTooLarge):
            outcome.statistics["model_estimate_mib"] = round(error.estimate_mib)
            outcome.statistics["search"] = f"{error}: " + (
                "greedy plan kept" if greedy is not None else "warm start kept"
            )
        if problem.has_sessions:
            outcome.sessions = usable_sessions(request, warm_start, outcome.visits)
            outcome.statistics["sessions"] = {
                "planner": "greedy",
                "in_model": False,
                "why": "the model was not built: " + str(error),
            }
        return outcome
    variables = len(week.model.proto.variables)
    small = variables <= STRENGTHEN_MAX_VARIABLES and left() > STRENGTHEN_MIN_LEFT_SHARE * limit
    """The extras (implied constraints, hint completion) pay on small models only: on a
    community-sized week they cost more than the time the build leaves."""
    with_seats = week.sessions is not None
    strengthened = (
        strengthen(week, problem, travel, symmetry=parameters.symmetry_breaking)
        # Not with sessions: their stops are not visits in the outing minutes, and volunteers
        # alike in their visits may differ as leads.
        if parameters.redundant_constraints and small and not with_seats
        else Strengthening()
    )
    timeline: dict[str, float] = {"built": round(request.elapsed_s(), 3)}
    hint = "none"
    if warm_start is not None:
        hint_from_visits(week, warm_start.visits)
        if with_seats:
            hint_sessions(week, warm_start.visits, warm_sessions)
        if strengthened.ordered_groups:
            given = list(warm_start.visits)
            ordered = strengthened.in_order(given, hinted_values(week))
            if ordered is not given:
                hint_from_visits(week, ordered)
        hint = "partial"
        if with_seats:
            # The larger model with sessions otherwise often spends its first phase completing
            # the hint; done when a solve's loading fits in its share of the time left.
            budget_s = HINT_COMPLETION_SHARE * left()
            if SOLVE_LOAD_S_PER_VARIABLE * variables <= budget_s:
                hint = complete_hint(week, budget_s, seed)
        elif parameters.complete_hint and small:
            hint = complete_hint(week, left(), seed)
    hint_complete = hint == "complete"
    timeline["hinted"] = round(request.elapsed_s(), 3)
    # The warm start proves a phase on coverage alone: not with seats in the objective.
    hinted = hinted_values(week) if hint_complete and not with_seats else {}
    phases: dict[str, str] = {}
    by_warm_start: list[str] = []
    timed_out = False

    # Phase 0: as many mandatory occurrences as possible, then never fewer.
    floor, mandatory_proven = 0, True
    hinted_mandatory = sum(
        hinted.get(option.present.index, 0) for option in week.options.values() if option.mandatory
    )
    if (
        week.mandatory_possible > 0
        and hint_complete
        and hinted_mandatory >= week.mandatory_possible
    ):
        floor = hinted_mandatory
        phases["mandatory"] = PROVEN
        by_warm_start.append("mandatory")
        week.model.add(week.mandatory >= floor)
    elif week.mandatory_possible > 0:
        week.model.maximize(week.mandatory)
        solver = phase_solver(seed, parameters.mandatory_time_share * left(), parameters)
        with request.watch(solver.stop_search):
            status = solver.solve(week.model)
        phases["mandatory"] = solver.status_name(status)
        if status in FOUND:
            floor = round(solver.objective_value)
            hint_from_solution(week, solver)
        mandatory_proven = status == cp_model.OPTIMAL
        timed_out |= status in (cp_model.FEASIBLE, cp_model.UNKNOWN)
        week.model.add(week.mandatory >= floor)
    mandatory_total = week.fixed_mandatory + floor
    timeline["mandatory"] = round(request.elapsed_s(), 3)

    # Phase 1: weighted coverage, stopped once it meets the relaxation's bound (at once when the
    # complete hint meets it).
    relaxed = None
    if parameters.relaxation_bound and not request.stop_requested():
        relaxed = coverage_upper_bound(
            problem,
            travel,
            facts,
            time_limit_s=max(0.1, RELAXATION_TIME_SHARE * left()),
            mandatory_at_least=mandatory_total,
        )
    timeline["relaxation"] = round(request.elapsed_s(), 3)
    fixed_value = weighted_coverage(facts, week.fixed_visits)
    if relaxed is not None and parameters.coverage_cut:
        add_coverage_cut(week, facts, relaxed)
    hinted_value = fixed_value + sum(
        facts[option.need].priority * hinted.get(option.present.index, 0)
        for option in week.options.values()
    )
    # With sessions in the model, phase 1 maximises coverage and seats together: stopping once
    # coverage alone meets its bound would leave seats unplanned.
    primary = cp_model.LinearExpr.sum([week.coverage, week.seats]) if with_seats else week.coverage
    cp_bound = None
    visits: list[Visit] | None
    proven_start = (
        usable_visits(request, warm_start)
        if hint_complete
        and not with_seats
        and hinted_mandatory >= floor
        and meets_bound(hinted_value, relaxed)
        else None
    )
    if proven_start is not None:
        phases["coverage"] = PROVEN
        by_warm_start.append("coverage")
        hint_values(week, hinted)
        found = coverage_met = True
        coverage_floor = sum(
            round(COVERAGE_SCALE * facts[option.need].priority)
            * hinted.get(option.present.index, 0)
            for option in week.options.values()
        )
        visits = proven_start
        first: cp_model.CpSolver | None = None
    else:
        target = _CoverageTarget(week, facts, fixed_value, None if with_seats else relaxed)
        week.model.maximize(primary)
        first = phase_solver(seed, parameters.coverage_time_share * left(), parameters)
        with request.watch(first.stop_search):
            status_one = first.solve(week.model, target)
        phases["coverage"] = first.status_name(status_one)
        found = status_one in FOUND
        coverage_met = status_one == cp_model.OPTIMAL or target.met
        timed_out |= not coverage_met and status_one in (cp_model.FEASIBLE, cp_model.UNKNOWN)
        if found and not pruned:
            cp_bound = (
                fixed_value + first.best_objective_bound / COVERAGE_SCALE + week.coverage_rounding
            )
        coverage_floor = round(first.objective_value) if found else 0
        visits = extract_visits(problem, week, first, facts) if found else None
    bound_met_s = request.elapsed_s() if coverage_met else None
    sessions = (
        extract_sessions(week.sessions, first)
        if found and week.sessions is not None and first is not None
        else None
    )
    timeline["coverage"] = round(request.elapsed_s(), 3)
    if visits is not None:
        request.report(
            "search", visits, facts, solver="cpsat", default_limit_s=limit, bound=relaxed
        )

    # Phase 2: keep that coverage, optimise the whole objective from phase 1's solution.
    stopping = request.stop_requested()
    if found and not stopping and not (coverage_met and parameters.polish_time_s <= 0):
        if first is not None:
            hint_from_solution(week, first)
        week.model.add(primary >= coverage_floor)
        week.model.maximize(week.objective)
        budget = left()
        polishing = coverage_met and parameters.polish_time_s < budget
        if coverage_met:
            budget = min(budget, parameters.polish_time_s)
        second = phase_solver(seed + 1, budget, parameters, objective=True)
        with request.watch(second.stop_search):
            status_two = second.solve(week.model)
        phases["objective"] = second.status_name(status_two)
        if status_two in FOUND:
            visits = extract_visits(problem, week, second, facts)
            if week.sessions is not None:
                sessions = extract_sessions(week.sessions, second)
        timed_out |= status_two != cp_model.OPTIMAL and not polishing

    warm_kept = False
    if visits is None or (
        not (mandatory_proven and coverage_met)
        and warm_start is not None
        and ranks_above(
            _rank(problem, facts, warm_start.visits, warm_sessions, with_seats),
            _rank(problem, facts, visits, sessions or [], with_seats),
        )
    ):
        fallback = usable_visits(request, warm_start)
        if fallback is not None:
            visits, warm_kept = fallback, True
            sessions = warm_sessions if with_seats else None
        elif visits is None:
            visits = list(pinned)
            sessions = [] if with_seats else None
    bounds = [value for value in (cp_bound, relaxed) if value is not None]
    bound = min(bounds) if bounds else None
    optimal = (
        not warm_kept and mandatory_proven and coverage_met and phases.get("objective") == "OPTIMAL"
    )
    session_statistics: dict[str, object] = {}
    if problem.has_sessions:
        if week.sessions is not None:
            session_statistics = {
                "planner": "cpsat",
                "in_model": True,
                "kept": "warm start" if warm_kept else "model",
                **week.sessions.statistics(),
            }
        else:
            visits, sessions, session_statistics = sessions_around(
                request, visits, warm_start, facts, deadline
            )
            session_statistics["why"] = "the model with sessions was over the memory budget"
    return SearchOutcome(
        visits=visits,
        status="OPTIMAL" if optimal else "TIME_LIMIT" if timed_out else "FEASIBLE",
        bound=bound,
        facts=facts,
        statistics={
            "phases": phases,
            **mandatory_counts(needs, visits),
            "bound_mandatory_at_least": mandatory_total,
            "coverage_bound_cpsat": cp_bound,
            "coverage_bound_relaxation": relaxed,
            "bound_met_s": None if bound_met_s is None else round(bound_met_s, 3),
            "warm_start_kept": warm_kept,
            "hint": hint,
            "proven_by_warm_start": by_warm_start,
            "timeline_s": timeline,
            **strengthened.statistics(),
            "effective_time_limit_s": limit,
            **memory,
            **({"sessions": session_statistics} if session_statistics else {}),
        },
        sessions=sessions,
    )


def _rank(
    problem: Problem,
    facts: dict[str, NeedFacts],
    visits: list[Visit],
    sessions: list[Session],
    with_seats: bool,
) -> tuple[int, float]:
    """How a plan ranks for the fallback to the warm start: mandatory visits, then weighted
    coverage, or with sessions in the model coverage and attendance points together
    (`greedy.sessions.plan_rank`, what greedy keeps its better plan by)."""
    if with_seats:
        return plan_rank(problem, facts, visits, sessions)
    needs = {need_id: need.need for need_id, need in facts.items()}
    return mandatory_planned(needs, visits), weighted_coverage(facts, visits)


def _build_within_budget(
    request: SolveRequest,
    facts: dict[str, NeedFacts],
    pinned: list[Visit],
    pruned: bool,
    scope: SessionScope | None,
    parameters: CpSatParameters,
    deadline: float,
    memory: dict[str, object],
) -> tuple[WeekModel, bool, SessionScope | None]:
    """The model within the memory budget: as asked, else pruned by reach, else (with group
    sessions) pruned without the sessions, which are then planned around its visits; what it
    took is noted in `memory`. Raises `ModelTooLarge` when nothing fits, `BuildTimeout` when
    the deadline passes."""
    attempts: list[tuple[bool, SessionScope | None]] = [(pruned, scope)]
    if not pruned:
        attempts.append((True, scope))
    if scope is not None:
        attempts.append((True, None))
    for number, (prune, session_scope) in enumerate(attempts):
        if prune and not pruned:
            memory["pruned_for_memory"] = True
        if scope is not None and session_scope is None:
            memory["sessions_left_out_for_memory"] = True
        try:
            return (
                _build(request, facts, pinned, prune, parameters, deadline, session_scope),
                prune,
                session_scope,
            )
        except ModelTooLarge as error:
            memory["model_estimate_mib"] = round(error.estimate_mib)
            if number == len(attempts) - 1:
                raise
    raise AssertionError("unreachable")


def _build(
    request: SolveRequest,
    facts: dict[str, NeedFacts],
    pinned: list[Visit],
    prune_by_reach: bool,
    parameters: CpSatParameters,
    deadline: float,
    sessions: SessionScope | None = None,
) -> WeekModel:
    """The week's model within the deadline and the memory budget."""
    return build_week_model(
        request.problem,
        request.travel,
        facts=facts,
        fixed_visits=pinned,
        prune_by_reach=prune_by_reach,
        deadline=deadline,
        max_memory_mib=request.memory_budget_mib(parameters.max_memory_mib),
        stop=request.stop_requested,
        sessions=sessions,
    )


def solve_cpsat(
    problem: Problem,
    travel: TravelModel | None = None,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    parameters: CpSatParameters | None = None,
    warm_start: Plan | None = None,
    language: str | None = None,
) -> Plan:
    """Solve the week exactly (given time): mandatory visits first, then coverage with a proven
    bound, then the whole objective.

    Parameters:
        problem: the checked week.
        travel: its travel matrices (built when None).
        seed: CP-SAT's random seed (one worker and the same seed give the same plan, except
            where the time limit stops a phase).
        time_limit_s: seconds for the whole solve; None: `parameters.default_time_limit_s`.
        parameters: `CpSatParameters` (workers, time shares of the phases, polish time, warm
            start, linearization, relaxation bound, pruning).
        warm_start: a feasible plan to hint (the greedy plan when None and
            `parameters.warm_start`); if CP-SAT finds nothing better (more mandatory visits,
            else more weighted coverage) within the limit, that plan is returned with the bound.
        language: of the unplanned visits' sentences (default: the policy's).

    The plan's `solver.status` is OPTIMAL when every phase is proven, TIME_LIMIT when the limit
    stopped one, else FEASIBLE; `solver.statistics` holds each phase's CP-SAT status, the
    mandatory occurrences planned, both bounds and when coverage met its bound.
    """
    return run_solver(
        CpSatSolver(), problem, travel, seed, time_limit_s, parameters, warm_start, language
    )


class CpSatSolver(SearchSolver[CpSatParameters]):
    """`cpsat` behind the solver protocol (`matcher.solvers.base.Solver`)."""

    name = "cpsat"
    parameters_type = CpSatParameters
    plans_sessions = True

    def search(self, request: SolveRequest, parameters: CpSatParameters) -> SearchOutcome:
        """The phases (`search_cpsat`)."""
        return search_cpsat(request, parameters)
