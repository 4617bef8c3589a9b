"""What every solver is: one protocol, one registry, one way a plan is put together.

A solver takes a `SolveRequest` (a checked problem, its travel matrices, its own parameters as a
pydantic model, a seed, a time limit, an optional warm start and the language of the messages)
and returns a `Plan` made by `assemble_plan`: the visits numbered, the routes walked, every
left-out occurrence diagnosed by the one diagnosis of `matcher.rules`, the metrics computed by
the checker, `solver.objective` set to the weighted coverage. Nothing after the solver changes
the plan. The bundled solvers are `SearchSolver`s: each only searches (`search` returns a
`SearchOutcome`) and `SearchSolver.solve` assembles the plan, the same way for all of them.
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from matcher.models import Plan, Problem, Session, SolverInfo, Visit
from matcher.rules import Diagnoser, NeedFacts, need_facts, number_occurrences

if TYPE_CHECKING:
    from matcher.travel import TravelModel


class SolverError(RuntimeError):
    """A solver returned a plan that breaks a hard rule: a bug, never a user error."""


STOP_POLL_S = 0.1
"""How often (seconds) a search that hands the work to OR-Tools asks the caller's `stop`."""


@dataclass(frozen=True)
class Progress:
    """How a solve stands: what `matcher.solve(progress=...)` hears on every improvement of the
    best plan and at the start and end of each phase."""

    elapsed_s: float
    """Seconds since the solve began."""
    time_limit_s: float | None
    """The time limit in force (the solver's default when none was asked for)."""
    phase: str
    """`start`, `greedy`, `search`, `polish` or `done`."""
    visits_planned: int
    """Visits in the best plan so far."""
    visits_wanted: int
    """Visits the needs ask for this week."""
    weighted_coverage: float
    """The sum of the priorities of the planned visits (what `solver.objective` reports)."""
    bound: float | None = None
    """An upper bound on the weighted coverage, once the solver has one."""
    gap: float | None = None
    """The relative gap between the coverage and the bound."""
    build_plan: Callable[[], Plan | None] | None = field(default=None, repr=False, compare=False)

    def plan(self) -> Plan | None:
        """The plan so far, assembled and checked now (costly on big weeks: not in a loop)."""
        return self.build_plan() if self.build_plan is not None else None


ProgressCallback = Callable[[Progress], None]
StopCheck = Callable[[], bool]


@dataclass(frozen=True)
class SolveRequest:
    """One solve asked of a solver: what to plan, with what, for how long.

    The clock starts when the request is made (`started_at`, `time.perf_counter()` seconds):
    the time limit, the deadline and the plan's `wall_time_s` all count from there, so a solver
    that hands the request on (`auto`) hands its clock on too.
    """

    problem: Problem
    """The checked week."""
    travel: TravelModel
    """Its travel matrices."""
    parameters: BaseModel
    """The solver's parameters: an instance of its `parameters_type`."""
    seed: int = 0
    """Breaks ties; the same request gives the same plan unless a time limit stops a search."""
    time_limit_s: float | None = None
    """Seconds for the whole solve, positive and finite; None: the solver's default."""
    warm_start: Plan | None = None
    """A plan to start from, for the solvers that take one (others ignore it)."""
    language: str | None = None
    """Of the unplanned visits' sentences; None: the policy's."""
    check: bool = True
    """Have the checker compute the metrics and refuse a plan that breaks a rule; internal warm
    starts may skip it."""
    started_at: float = field(default_factory=time.perf_counter)
    """When the solve began (`time.perf_counter()` seconds)."""
    progress: ProgressCallback | None = None
    """Told how the solve stands on every improvement and at each phase (`Progress`)."""
    stop: StopCheck | None = None
    """Asked while the solver searches; once it answers True, the solver ends as at its time
    limit with the best plan found (`solver.status` STOPPED)."""
    max_memory_mib: float | None = None
    """The memory budget of the models the solver builds; None: its parameters' own
    (`DEFAULT_MAX_MEMORY_MIB`)."""
    _stopped: list[bool] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "time_limit_s", checked_time_limit(self.time_limit_s))
        object.__setattr__(self, "max_memory_mib", checked_memory_budget(self.max_memory_mib))

    def memory_budget_mib(self, own_mib: float) -> float:
        """The memory budget in force: the request's, else the solver's parameter."""
        return own_mib if self.max_memory_mib is None else self.max_memory_mib

    def stop_requested(self) -> bool:
        """Whether the caller asked the solve to stop (once asked, always asked)."""
        if self._stopped:
            return True
        if self.stop is not None and self.stop():
            self._stopped.append(True)
            return True
        return False

    def past(self, deadline: float | None) -> bool:
        """Whether the deadline (a `time.perf_counter()` time; None: none) has passed or the
        caller asked to stop: the one question a search loop asks before its next step."""
        if deadline is not None and time.perf_counter() > deadline:
            return True
        return self.stop_requested()

    @contextmanager
    def watch(self, cancel: Callable[[], None]) -> Iterator[None]:
        """While OR-Tools searches, call `cancel` (e.g. `CpSolver.stop_search`) once the caller
        asks to stop, checking every `STOP_POLL_S` seconds; nothing runs without a `stop`."""
        if self.stop is None:
            yield
            return
        finished = threading.Event()

        def poll() -> None:
            while not finished.wait(STOP_POLL_S):
                if self.stop_requested():
                    cancel()
                    return

        watcher = threading.Thread(target=poll, name="matcher-stop-watch", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            finished.set()
            watcher.join()

    def report_done(self, plan: Plan, default_limit_s: float | None = None) -> None:
        """Tell the caller's `progress` the solve is done, with the plan it returns."""
        if self.progress is None:
            return
        self.progress(
            Progress(
                elapsed_s=round(self.elapsed_s(), 3),
                time_limit_s=default_limit_s if self.time_limit_s is None else self.time_limit_s,
                phase="done",
                visits_planned=len(plan.visits),
                visits_wanted=visits_wanted(self.problem),
                weighted_coverage=plan.solver.objective or 0.0,
                bound=plan.solver.bound,
                gap=plan.solver.gap,
                build_plan=lambda: plan,
            )
        )

    def report(
        self,
        phase: str,
        visits: list[Visit],
        facts: dict[str, NeedFacts],
        *,
        solver: str,
        default_limit_s: float | None = None,
        bound: float | None = None,
    ) -> None:
        """Tell the caller's `progress` how the solve stands (nothing without one)."""
        if self.progress is None:
            return
        value = weighted_coverage(facts, visits)
        checked_bound, gap = bound_and_gap(bound, value)
        kept = list(visits)

        def build() -> Plan | None:
            return assemble_plan(
                self.problem,
                self.travel,
                kept,
                solver=solver,
                bound=bound,
                wall_time_s=self.elapsed_s(),
                seed=self.seed,
                time_limit_s=self.time_limit_s,
                facts=facts or None,
                language=self.language,
            )

        self.progress(
            Progress(
                elapsed_s=round(self.elapsed_s(), 3),
                time_limit_s=default_limit_s if self.time_limit_s is None else self.time_limit_s,
                phase=phase,
                visits_planned=len(kept),
                visits_wanted=visits_wanted(self.problem),
                weighted_coverage=value,
                bound=checked_bound,
                gap=gap,
                build_plan=build,
            )
        )

    def limit_s(self, default_s: float) -> float:
        """The time limit asked for, else the solver's default."""
        return self.time_limit_s if self.time_limit_s is not None else default_s

    def elapsed_s(self) -> float:
        """Seconds since the solve began."""
        return time.perf_counter() - self.started_at


class Solver(Protocol):
    """A way of planning the week."""

    @property
    def name(self) -> str:
        """The name `matcher.solve(solver=...)` and `matcher solve --solver` take (a class
        attribute will do)."""
        ...

    @property
    def parameters_type(self) -> type[BaseModel]:
        """The solver's parameters; `parameters_type()` holds every default."""
        ...

    def solve(self, request: SolveRequest) -> Plan:
        """Plan the week within the time limit; the plan is assembled by `assemble_plan`."""
        ...


ParametersT = TypeVar("ParametersT", bound=BaseModel)


def parameters_of(
    request: SolveRequest, parameters_type: type[ParametersT], solver: str
) -> ParametersT:
    """The request's parameters, which must be the solver's type (TypeError naming both)."""
    if not isinstance(request.parameters, parameters_type):
        raise TypeError(
            f"{solver} takes {parameters_type.__name__}, not {type(request.parameters).__name__}"
        )
    return request.parameters


@dataclass
class SearchOutcome:
    """What a search found, for `assemble_plan`: the visits and how the search ended."""

    visits: list[Visit]
    status: str = "FEASIBLE"
    """`TIME_LIMIT` when the time limit stopped the search, `OPTIMAL` when proven."""
    bound: float | None = None
    """An upper bound on the weighted coverage, if the search has one."""
    statistics: dict[str, Any] = field(default_factory=dict)
    """What happened (iterations, progress, search status, fallbacks)."""
    facts: dict[str, NeedFacts] | None = None
    """The rule facts the search used (computed again when None)."""
    stopped: bool = False
    """The search stopped before trying every occurrence (they are `not_planned` where
    volunteers could come)."""
    warnings: list[str] = field(default_factory=list)
    """Warnings of the search, after the problem's own."""
    sessions: list[Session] | None = None
    """Group sessions the search planned; None: the greedy session planner plans them around
    the visits (`matcher.solvers.session_plan`)."""


class SearchSolver(ABC, Generic[ParametersT]):
    """A solver whose work is a search: `solve` checks the parameters, runs `search` and
    assembles the plan, once for every bundled solver."""

    name: str
    parameters_type: type[ParametersT]
    declines_sessions: bool = False
    """Refuse a problem with group services (a clear error) rather than plan them."""
    plans_sessions: bool = False
    """The search plans group sessions itself (`SearchOutcome.sessions`); else they are planned
    around its visits, against greedy's plan with sessions (`matcher.solvers.session_plan`)."""

    def solve(self, request: SolveRequest) -> Plan:
        """Search within the request's time limit and assemble the plan (`assemble_plan`)."""
        from matcher.solvers.session_plan import (
            prepare_sessions,
            refuse_sessions,
            sessions_of_search,
        )

        refuse_sessions(self.name, request.problem, self.declines_sessions)
        parameters = parameters_of(request, self.parameters_type, self.name)
        default_limit_s = getattr(parameters, "default_time_limit_s", None)
        if request.progress is not None:
            request.report("start", [], {}, solver=self.name, default_limit_s=default_limit_s)
        search, greedy = prepare_sessions(request, self.plans_sessions)
        outcome = self.search(search, parameters)
        sessions = sessions_of_search(request, outcome, greedy)
        limit_s = request.time_limit_s if request.time_limit_s is not None else default_limit_s
        diagnosis_deadline = (
            None
            if limit_s is None
            else request.started_at + limit_s - assembly_reserve_s(request.problem)
        )
        status = outcome.status
        if request.stop_requested() and status in ("FEASIBLE", "TIME_LIMIT"):
            status = "STOPPED"
        plan = assemble_plan(
            request.problem,
            request.travel,
            outcome.visits,
            solver=self.name,
            status=status,
            bound=outcome.bound,
            wall_time_s=request.elapsed_s(),
            seed=request.seed,
            time_limit_s=request.time_limit_s,
            parameters=parameters.model_dump(mode="json"),
            statistics=(
                outcome.statistics
                if limit_s is None
                else {
                    **outcome.statistics,
                    "effective_time_limit_s": limit_s,
                    "finishing_reserve_s": round(finishing_reserve_s(request.problem, limit_s), 3),
                }
            ),
            stopped=outcome.stopped,
            warnings=outcome.warnings,
            facts=outcome.facts,
            language=request.language,
            check=request.check,
            sessions=sessions,
            diagnosis_deadline=diagnosis_deadline,
        )
        request.report_done(plan, default_limit_s)
        return plan

    @abstractmethod
    def search(self, request: SolveRequest, parameters: ParametersT) -> SearchOutcome:
        """The solver's own work: the visits to plan and how the search ended."""


def run_solver(
    solver: Solver,
    problem: Problem,
    travel: TravelModel | None,
    seed: int,
    time_limit_s: float | None,
    parameters: BaseModel | None,
    warm_start: Plan | None = None,
    language: str | None = None,
    *,
    check: bool = True,
    progress: ProgressCallback | None = None,
    stop: StopCheck | None = None,
    started_at: float | None = None,
    max_memory_mib: float | None = None,
) -> Plan:
    """Run a solver on one `SolveRequest`: what `matcher.solve`, `solve_greedy`, `solve_cpsat`,
    `solve_lns` and `solve_routing` do. The clock starts now, or at `started_at` (a
    `time.perf_counter()` time, e.g. when a command began reading its input). The travel model
    is built when None, inside the clock (the time limit and `wall_time_s` count it), the
    solver's default parameters taken when None."""
    from matcher.travel import TravelModel

    started_at = time.perf_counter() if started_at is None else started_at
    request = SolveRequest(
        problem=problem,
        travel=travel if travel is not None else TravelModel(problem),
        started_at=started_at,
        parameters=parameters if parameters is not None else solver.parameters_type(),
        seed=seed,
        time_limit_s=time_limit_s,
        warm_start=warm_start,
        language=language,
        check=check,
        progress=progress,
        stop=stop,
        max_memory_mib=max_memory_mib,
    )
    return solver.solve(request)


def usable_visits(request: SolveRequest, plan: Plan | None) -> list[Visit] | None:
    """The visits of a plan (a warm start) that keeps every rule, else None: the checker
    decides, so a search never starts from or falls back to a broken plan."""
    from matcher.checker import check_plan

    if plan is None or not check_plan(request.problem, plan, request.travel).ok:
        return None
    return list(plan.visits)


BOUND_MET_S = "bound_met_s"
"""The `SolverInfo.statistics` key under which a solver that knows it records when (seconds into
the solve) its coverage met the bound; the contract (tests/test_contract.py) holds it to stop
within a second of that moment."""

REGISTRY: dict[str, Solver] = {}
"""Every solver by name, in the order they registered."""


def register(solver: Solver) -> Solver:
    """Add a solver to the registry (a new solver joins the contract tests by registering)."""
    REGISTRY[solver.name] = solver
    return solver


def parameter_problems(parameters_type: type[BaseModel], error: ValidationError) -> list[str]:
    """Each problem with a solver's parameters in a sentence; an unknown key is named, with the
    keys the parameters type takes."""
    problems: list[str] = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        if item["type"] == "extra_forbidden":
            problems.append(
                f"unknown key {where!r} ({parameters_type.__name__} takes: "
                f"{', '.join(parameters_type.model_fields)})"
            )
        else:
            problems.append(f"{where}: {item['msg']}" if where else item["msg"])
    return problems


def checked_parameters(parameters_type: type[ParametersT], data: Mapping[str, Any]) -> ParametersT:
    """The solver's parameters from a mapping, or a ValueError that names every problem (an
    unknown key, a value out of range)."""
    try:
        return parameters_type.model_validate(dict(data))
    except ValidationError as error:
        problems = "; ".join(parameter_problems(parameters_type, error))
        raise ValueError(f"{parameters_type.__name__}: {problems}") from None


DEFAULT_MAX_MEMORY_MIB = 4096.0
"""The memory budget of a solver's models unless told otherwise: a sixth of a 24 GiB machine."""


def checked_memory_budget(max_memory_mib: float | None) -> float | None:
    """The memory budget, or a ValueError that says what is wrong with it: positive, finite."""
    if max_memory_mib is None:
        return None
    if isinstance(max_memory_mib, bool) or not isinstance(max_memory_mib, (int, float)):
        raise ValueError("max_memory_mib must be a number of MiB")
    if not math.isfinite(max_memory_mib) or max_memory_mib <= 0:
        raise ValueError(
            f"max_memory_mib must be a positive, finite number of MiB, not {max_memory_mib}"
        )
    return float(max_memory_mib)


def checked_time_limit(time_limit_s: float | None) -> float | None:
    """The time limit, or a ValueError that says what is wrong with it: positive and finite."""
    if time_limit_s is None:
        return None
    if isinstance(time_limit_s, bool) or not isinstance(time_limit_s, (int, float)):
        raise ValueError("time_limit_s must be a number of seconds")
    if not math.isfinite(time_limit_s) or time_limit_s <= 0:
        raise ValueError(
            f"time_limit_s must be a positive, finite number of seconds, not {time_limit_s}"
        )
    return float(time_limit_s)


def visits_wanted(problem: Problem) -> int:
    """The visits the week's needs ask for."""
    return sum(need.visits_per_week for recipient in problem.recipients for need in recipient.needs)


ASSEMBLY_S_PER_OCCURRENCE = 0.00025
"""Seconds per visit wanted that assembling a plan takes besides the diagnosis (routes, the
objective's terms, the checker): about 0.12 ms on the 1,500-recipient week on a 2-core machine,
doubled for a busy one."""
DIAGNOSIS_S_PER_OCCURRENCE = 0.0003
"""Seconds per visit wanted that a search keeps back for diagnosing the left-out visits: about
0.3 ms on the same week with greedy's plan (1.3 s for 4,866 visits); on a busier machine the
diagnosis gives way to the limit (`Diagnoser.unassigned(deadline=...)`) rather than the search."""
ASSEMBLY_FIXED_S = 0.05
"""What assembling any plan takes, however small."""
MAX_RESERVE_SHARE = 0.35
"""A search never keeps back more than this share of its time limit."""


def assembly_reserve_s(problem: Problem) -> float:
    """Seconds kept back at the end of the time limit for what follows the diagnosis."""
    return ASSEMBLY_FIXED_S + ASSEMBLY_S_PER_OCCURRENCE * visits_wanted(problem)


def finishing_reserve_s(problem: Problem, limit_s: float) -> float:
    """Seconds a search keeps back from its time limit for assembling the plan (the diagnosis
    and the rest), growing with the week and at most `MAX_RESERVE_SHARE` of the limit."""
    wanted = visits_wanted(problem)
    reserve = assembly_reserve_s(problem) + DIAGNOSIS_S_PER_OCCURRENCE * wanted
    return min(MAX_RESERVE_SHARE * limit_s, reserve)


def weighted_coverage(facts: dict[str, NeedFacts], visits: Iterable[Visit]) -> float:
    """The sum of the priorities of the planned visits: what `solver.objective` reports."""
    return sum(facts[visit.need].priority for visit in visits if visit.need in facts)


BOUND_TOLERANCE_RELATIVE = 1e-6
"""The bound is padded for the LP solver's tolerance (`bounds.py`); a coverage within this share
of the bound (plus `BOUND_TOLERANCE_ABSOLUTE`) meets it."""
BOUND_TOLERANCE_ABSOLUTE = 1e-5


def meets_bound(value: float, bound: float | None) -> bool:
    """Whether a weighted coverage reaches the bound, within the bound's padding."""
    if bound is None or not math.isfinite(bound):
        return False
    return value >= bound - (abs(bound) * BOUND_TOLERANCE_RELATIVE + BOUND_TOLERANCE_ABSOLUTE)


def bound_and_gap(bound: float | None, value: float) -> tuple[float | None, float | None]:
    """The bound lifted to at least the value reached (to the value itself when it meets the
    bound within its padding), and the relative gap to it."""
    if bound is None or not math.isfinite(bound):
        return None, None
    if meets_bound(value, bound):
        return value, 0.0
    bound = max(bound, value)
    return bound, 0.0 if bound <= 0 else max(0.0, (bound - value) / bound)


def assemble_plan(
    problem: Problem,
    travel: TravelModel,
    visits: Iterable[Visit],
    *,
    solver: str,
    status: str = "FEASIBLE",
    bound: float | None = None,
    wall_time_s: float = 0.0,
    seed: int = 0,
    time_limit_s: float | None = None,
    parameters: dict[str, Any] | None = None,
    statistics: dict[str, Any] | None = None,
    stopped: bool = False,
    warnings: Iterable[str] = (),
    facts: dict[str, NeedFacts] | None = None,
    language: str | None = None,
    check: bool = True,
    sessions: Sequence[Session] | None = None,
    diagnosis_deadline: float | None = None,
) -> Plan:
    """The plan of these visits (and group sessions), put together once.

    Numbers the occurrences, walks the routes, diagnoses every left-out occurrence (`stopped`:
    the solver stopped before trying them, so `not_planned` where volunteers could come), sets
    `objective` to the weighted coverage with its bound and gap, scores the policy objective
    term by term and, with `check`, has the checker compute the metrics and refuse a plan that
    breaks a hard rule (SolverError). With a history, the pairing report is attached. Messages
    are in `language` (default: the policy's). Past `diagnosis_deadline` (what the time limit
    leaves), the needs not yet diagnosed are `not_planned` (`Diagnoser.unassigned`). With group
    services, the plan carries the sessions, the unseated wishes with their reasons and the
    session metrics (`matcher.solvers.session_plan`).
    """
    from matcher.checker import check_plan
    from matcher.continuity import pairing_report
    from matcher.messages import checked_language, message
    from matcher.solvers.objective import objective_breakdown
    from matcher.solvers.routes import build_routes
    from matcher.solvers.session_plan import (
        session_plan_fields,
        session_terms,
        with_session_terms,
    )

    facts = facts if facts is not None else need_facts(problem, travel)
    numbered = number_occurrences(visits)
    unassigned = Diagnoser(problem, travel, facts).unassigned(
        numbered, stopped=stopped, deadline=diagnosis_deadline
    )
    message_language = checked_language(language or problem.policy.language)
    if message_language != "en":
        unassigned = [
            item.model_copy(update={"message": message(item.reason, message_language)})
            for item in unassigned
        ]
    value = weighted_coverage(facts, numbered)
    checked_bound, gap = bound_and_gap(bound, value)
    session_fields = session_plan_fields(
        problem, travel, numbered, sessions, stopped=stopped, language=message_language
    )
    breakdown = objective_breakdown(problem, travel, facts, numbered)
    if session_fields:
        breakdown = with_session_terms(
            breakdown, session_terms(problem, travel, numbered, session_fields["sessions"])
        )
    plan = Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=numbered,
        routes=build_routes(problem, travel, numbered, session_fields.get("sessions", ())),
        unassigned=unassigned,
        solver=SolverInfo(
            solver=solver,
            status=status,
            objective=value,
            bound=checked_bound,
            gap=gap,
            wall_time_s=wall_time_s,
            seed=seed,
            time_limit_s=time_limit_s,
            objective_breakdown=breakdown,
            parameters=parameters or {},
            statistics=statistics or {},
        ),
        warnings=[*problem.warnings(), *warnings],
        **session_fields,
    )
    if not check:
        return plan
    report = check_plan(problem, plan, travel)
    if not report.ok:
        broken = "; ".join(violation.message for violation in report.violations[:5])
        raise SolverError(f"solver {solver!r} broke {len(report.violations)} rule(s): {broken}")
    update: dict[str, Any] = {"metrics": report.metrics}
    if report.sessions is not None and session_fields:
        update["session_metrics"] = report.sessions
    if problem.history:
        update["pairings"] = pairing_report(problem, plan, travel, facts)
    return plan.model_copy(update=update)
