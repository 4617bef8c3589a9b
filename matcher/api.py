"""The front door: `solve()` finds the solver in the registry and runs it on one
`SolveRequest`; the plan it returns is assembled once (`matcher.solvers.base.assemble_plan`) and
already checked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from matcher.messages import checked_language
from matcher.models import Plan, Problem
from matcher.solvers.auto import AUTO_EXACT_MAX_VISITS, AUTO_EXACT_MAX_VOLUNTEERS, choose_solver
from matcher.solvers.base import (
    ProgressCallback,
    SolverError,
    StopCheck,
    checked_memory_budget,
    checked_parameters,
    checked_time_limit,
    run_solver,
)
from matcher.solvers.registry import SOLVERS, get_solver

__all__ = [
    "AUTO_EXACT_MAX_VISITS",
    "AUTO_EXACT_MAX_VOLUNTEERS",
    "SOLVERS",
    "SolverError",
    "choose_solver",
    "solve",
]


SEED_MAX = 2**30 - 1
"""The largest seed. CP-SAT takes a signed 32-bit seed and the solvers derive more from it
(`cpsat`'s second phase seed + 1, `lns` seed + iteration), so seeds stop at 2**30 - 1, leaving
room for 2**30 derived ones."""


def checked_seed(seed: object) -> int:
    """`seed` if it is a whole number from 0 to `SEED_MAX`, else ValueError saying so."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed: a whole number from 0 to {SEED_MAX}, not {type(seed).__name__}")
    if not 0 <= seed <= SEED_MAX:
        shown = str(seed) if abs(seed) < 10**40 else f"a {len(str(abs(seed)))}-digit number"
        raise ValueError(f"seed: {shown} is out of range, a seed is from 0 to {SEED_MAX}")
    return seed


def solve(
    problem: Problem | Mapping[str, Any],
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
    language: str | None = None,
    *,
    parameters: BaseModel | Mapping[str, Any] | None = None,
    warm_start: Plan | None = None,
    progress: ProgressCallback | None = None,
    stop: StopCheck | None = None,
    started_at: float | None = None,
    max_memory_mib: float | None = None,
) -> Plan:
    """Plan the week with `solver`; the plan comes back checked, with its metrics.

    Parameters:
        problem: a `Problem`, or its JSON form as a mapping (validated, every problem at once).
        solver: `greedy` (fast constructive), `cpsat` (exact model, proven bound), `lns`
            (large-neighbourhood search for community-sized weeks), `routing` (OR-Tools vehicle
            routing with an exact timing pass) or `auto` (exact when small, warm-started from
            `ruin`; `ruin` otherwise;
            `plan.solver.statistics["auto"]` says which and why), or the name of a solver
            registered with `matcher.solvers.base.register`.
        time_limit_s: seconds for the whole solve, positive and finite; None: the solver's
            default (`plan.solver.parameters` shows it).
        seed: breaks ties, a whole number from 0 to 2**30-1 (`SEED_MAX`); the same problem,
            solver, seed and parameters give the same plan,
            except where a wall-time limit stops the search (`lns`, `cpsat`, `routing`).
        language: of the unplanned visits' sentences, `en` or `zh` (default: the policy's).
        parameters: the solver's parameters: its `*Parameters` model (`GreedyParameters`,
            `CpSatParameters`, `LnsParameters`, `RoutingParameters`, `AutoParameters`, all
            exported by `matcher`), or a mapping of them (unknown keys are errors); None: its
            defaults. `plan.solver.parameters` shows them in full.
        warm_start: a plan to start from, for the solvers that take one (others ignore it).
        progress: called with a `Progress` (elapsed, visits planned, weighted coverage, bound,
            gap, `plan()` for the plan so far) at the start, on every improvement and at the end.
        stop: asked while the solver searches; once it returns True the solver ends as at its
            time limit and returns the best plan found, `solver.status` STOPPED.
        started_at: when the clock started (`time.perf_counter()`), e.g. before the input was
            read, so the time limit covers it too; None: now.
        max_memory_mib: the memory budget of the models `cpsat` and `routing` build (also
            under `auto`), positive and finite; a model estimated over it is shrunk or not built
            (the greedy plan comes back, `plan.solver.statistics` says why); `lns`'s
            neighbourhood models are small and not estimated; None: the solver's parameter
            (`DEFAULT_MAX_MEMORY_MIB`, 4,096 MiB).

    Raises ValueError for an unknown solver, language, parameter, a bad time limit or seed,
    pydantic's ValidationError (every problem listed) for invalid input, and SolverError if a
    solver broke a hard rule (a bug).
    """
    chosen = get_solver(solver)
    limit = checked_time_limit(time_limit_s)
    checked_seed(seed)
    checked_problem = problem if isinstance(problem, Problem) else Problem.model_validate(problem)
    message_language = checked_language(
        language if language is not None else checked_problem.policy.language
    )
    if parameters is None:
        settings: BaseModel = chosen.parameters_type()
    elif isinstance(parameters, chosen.parameters_type):
        settings = parameters
    elif isinstance(parameters, BaseModel):
        raise ValueError(
            f"solver {solver!r} takes {chosen.parameters_type.__name__}, "
            f"not {type(parameters).__name__}"
        )
    else:
        settings = checked_parameters(chosen.parameters_type, parameters)
    return run_solver(
        chosen,
        checked_problem,
        None,
        seed,
        limit,
        settings,
        warm_start,
        message_language,
        progress=progress,
        stop=stop,
        started_at=started_at,
        max_memory_mib=checked_memory_budget(max_memory_mib),
    )
