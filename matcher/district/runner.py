"""Plan a whole district: read it, split the shared helpers' weeks, solve every community on an
executor, re-balance, check, and sum it up.

`solve_district` is the library entry; `matcher district solve` is its front end.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from matcher.checker import check_plan
from matcher.district.check import DistrictCheckReport, check_district
from matcher.district.executors import (
    CommunityExecutor,
    PoolExecutor,
    RayExecutor,
    SolveTask,
    TaskEvent,
    solve_task,
)
from matcher.district.models import District
from matcher.district.split import (
    Allocation,
    Move,
    community_problem,
    first_split,
    metrics_of,
    rebalance,
)
from matcher.district.summary import DistrictSummary, summarise
from matcher.io import (
    InputError,
    OutputError,
    load_problem,
    parse_json,
    to_json,
    validate_json,
    write_text_atomic,
)
from matcher.models import Plan, Problem, format_validation_error


@dataclass(frozen=True)
class DistrictProgress:
    """Where a district solve stands: communities done, running and queued, and the
    priority-weighted coverage over the communities done so far (None before the first)."""

    round: int
    done: int
    running: int
    queued: int
    weighted_coverage_pct: float | None


@dataclass(frozen=True)
class DistrictResult:
    """A district's plans, the problems they were made for, the check and the summary."""

    problems: dict[str, Problem]
    plans: dict[str, Plan]
    check: DistrictCheckReport
    summary: DistrictSummary


def load_district(path: str | Path) -> District:
    """Read a district file and every community file it names (relative to it), validated
    across communities; InputError lists every problem of every file at once."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"cannot read the district file {str(source)!r}: {error.strerror}"
        ) from None
    data = parse_json(text, source)
    if not isinstance(data, dict) or not isinstance(data.get("communities"), list):
        return validate_json(data, District, source)
    problems: list[str] = []
    communities: list[Any] = []
    for index, community in enumerate(data["communities"]):
        if isinstance(community, dict) and isinstance(community.get("file"), str):
            try:
                problem = load_problem(source.parent / community["file"])
            except InputError as error:
                problems.append(f"communities.{index}.file: {error}")
                communities.append(community)
                continue
            resolved = {key: value for key, value in community.items() if key != "file"}
            communities.append({**resolved, "problem": problem})
        else:
            communities.append(community)
    if problems:
        raise InputError(
            f"{source}: {len(problems)} community file(s) cannot be used:\n" + "\n".join(problems)
        )
    try:
        return District.model_validate({**data, "communities": communities})
    except ValueError as error:
        from pydantic import ValidationError

        if isinstance(error, ValidationError):
            raise InputError(f"{source}: {format_validation_error(error)}") from None
        raise


def _weighted(plan: Plan) -> tuple[float, float]:
    metrics = metrics_of(plan)
    return metrics.weighted_planned, metrics.weighted_requested


def _recheck(problem: Problem, plan: Plan) -> Plan | None:
    """The plan with metrics recomputed for this problem, or None if it breaks a rule there."""
    report = check_plan(problem, plan)
    if not report.ok:
        return None
    return plan.model_copy(update={"metrics": report.metrics})


def make_executor(
    executor: str | CommunityExecutor, workers: int | None, ray_address: str | None
) -> tuple[CommunityExecutor, bool]:
    """The executor asked for, and whether this call made it (and must close it)."""
    if not isinstance(executor, str):
        return executor, False
    if executor == "pool":
        return (PoolExecutor(workers) if workers else PoolExecutor()), True
    if executor == "ray":
        return RayExecutor(address=ray_address, workers=workers or 0), True
    raise ValueError(f"executor: 'pool' or 'ray', not {executor!r}")


def solve_district(
    district: District | str | Path,
    *,
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
    parameters: Mapping[str, Any] | BaseModel | None = None,
    executor: str | CommunityExecutor = "pool",
    workers: int | None = None,
    ray_address: str | None = None,
    output_dir: str | Path | None = None,
    progress: Callable[[DistrictProgress], None] | None = None,
    inject_failures: Collection[str] = (),
    inject_crashes: Mapping[str, str | Path] | None = None,
) -> DistrictResult:
    """Plan every community of the district, sharing the shared helpers' weeks.

    Parameters:
        district: a `District` (every community's problem inline) or a district file.
        solver, time_limit_s, seed, parameters: as `matcher.solve`, for every community (use an
            iteration-bounded solver, e.g. greedy or lns with `iterations`, for plans that do
            not depend on the machine; a wall-time limit may stop a search elsewhere).
        executor: "pool" (local processes, `workers` of them, default the cores), "ray" (Ray
            tasks on a local Ray started on demand, or the cluster at `ray_address`), or an
            executor object (`matcher.district.executors`), left open.
        output_dir: where to write `<community>.plan.json`, `<community>.problem.json` (the
            problem the plan was made for: the shared helpers' days and minutes there) and
            `district-summary.json`, each atomically; None: nothing written.
        progress: called after each community's solve with a `DistrictProgress`.
        inject_failures: test-only hook: these communities' solves raise, so their fallback
            (greedy) plan and the error show in the summary.
        inject_crashes: test-only hook: community id -> marker file; the first attempt of that
            community's solve (while the file does not exist) creates it and kills its worker.

    A community whose solve fails twice gets its greedy plan and the error in the summary; the
    others carry on. Returns the plans, the problems, the district check and the summary.
    """
    started = time.perf_counter()
    if not isinstance(district, District):
        district = load_district(district)
    base = district.problems()
    if output_dir is not None:
        prepare_output(output_dir)
    settings = (
        parameters.model_dump(mode="json") if isinstance(parameters, BaseModel) else parameters
    )
    failing = set(inject_failures)
    crashes = {name: str(path) for name, path in (inject_crashes or {}).items()}
    unknown = sorted((failing | set(crashes)) - set(base))
    if unknown:
        raise ValueError(f"inject_failures, inject_crashes: no community {', '.join(unknown)}")
    chosen, made_here = make_executor(executor, workers, ray_address)
    allocation: Allocation = first_split(district, base)
    first_allocation = allocation
    problems = {name: community_problem(district, name, base[name], allocation) for name in base}
    plans: dict[str, Plan] = {}
    errors: dict[str, str] = {}
    moves: list[Move] = []
    try:
        plans = _solve_round(
            chosen,
            problems,
            list(problems),
            solver,
            time_limit_s,
            seed,
            settings,
            failing,
            crashes,
            errors,
            progress,
            0,
        )
        for round_number in range(1, district.rebalance_rounds + 1):
            allocation_next, round_moves = rebalance(
                district, base, allocation, plans, round_number, frozenset(errors)
            )
            if not round_moves:
                break
            allocation = allocation_next
            moves += round_moves
            receivers = sorted(
                {move.to_community for move in round_moves},
                key=list(base).index,
            )
            changed = {move.from_community for move in round_moves} | set(receivers)
            problems.update(
                {
                    name: community_problem(district, name, base[name], allocation)
                    for name in changed
                }
            )
            for name in sorted(changed - set(receivers), key=list(base).index):
                kept = _recheck(problems[name], plans[name])
                if kept is None:
                    receivers.append(name)
                else:
                    plans[name] = kept
            fresh = _solve_round(
                chosen,
                problems,
                receivers,
                solver,
                time_limit_s,
                seed,
                settings,
                failing,
                crashes,
                errors,
                progress,
                round_number,
            )
            for name, plan in fresh.items():
                old = _recheck(problems[name], plans[name])
                better = old is None or _weighted(plan)[0] >= _weighted(old)[0] - 1e-9
                plans[name] = plan if better else old  # type: ignore[assignment]
    finally:
        if made_here:
            chosen.close()
    report = check_district(district, {name: (problems[name], plans[name]) for name in base})
    summary = summarise(
        district,
        problems,
        plans,
        report,
        first_allocation=first_allocation,
        allocation=allocation,
        moves=moves,
        errors=errors,
        solver=solver,
        seed=seed,
        executor=chosen.name,
        workers=chosen.workers,
        wall_time_s=time.perf_counter() - started,
    )
    if output_dir is not None:
        write_outputs(output_dir, problems, plans, summary)
    return DistrictResult(problems=problems, plans=plans, check=report, summary=summary)


def _solve_round(
    executor: CommunityExecutor,
    problems: Mapping[str, Problem],
    names: list[str],
    solver: str,
    time_limit_s: float | None,
    seed: int,
    parameters: Mapping[str, Any] | None,
    failing: set[str],
    crashes: Mapping[str, str],
    errors: dict[str, str],
    progress: Callable[[DistrictProgress], None] | None,
    round_number: int,
) -> dict[str, Plan]:
    """Solve these communities on the executor; a community that fails twice gets its greedy
    plan (solved here, without the injected failure) and its error in `errors`."""
    tasks = [
        SolveTask(
            community=name,
            problem_json=problems[name].model_dump_json(),
            solver=solver,
            time_limit_s=time_limit_s,
            seed=seed,
            parameters=parameters,
            inject_failure=name in failing,
            crash_marker=crashes.get(name),
        )
        for name in names
    ]
    planned: dict[str, tuple[float, float]] = {}
    parsed: dict[str, Plan] = {}
    done = 0

    def on_event(event: TaskEvent) -> None:
        nonlocal done
        done += 1
        if event.plan_json is not None:
            parsed[event.community] = Plan.model_validate_json(event.plan_json)
            metrics = metrics_of(parsed[event.community])
            planned[event.community] = (metrics.weighted_planned, metrics.weighted_requested)
        if progress is not None:
            running = min(executor.workers, event.outstanding)
            got = sum(value[0] for value in planned.values())
            wanted = sum(value[1] for value in planned.values())
            progress(
                DistrictProgress(
                    round=round_number,
                    done=done,
                    running=running,
                    queued=max(0, len(tasks) - done - running),
                    weighted_coverage_pct=100.0 * got / wanted if wanted else None,
                )
            )

    if progress is not None:
        running = min(executor.workers, len(tasks))
        progress(DistrictProgress(round_number, 0, running, len(tasks) - running, None))
    results = executor.run(tasks, on_event)
    plans: dict[str, Plan] = {}
    for name in names:
        result = results[name]
        if result.plan_json is not None:
            plans[name] = parsed.get(name) or Plan.model_validate_json(result.plan_json)
            continue
        errors[name] = result.error or "failed"
        fallback = SolveTask(name, tasks[names.index(name)].problem_json, "greedy", None, seed)
        plans[name] = Plan.model_validate_json(solve_task(fallback))
    return plans


def prepare_output(output_dir: str | Path) -> Path:
    """Create the output folder before any solve, so that a folder that cannot be written is
    an error at once and not after the district is planned (OutputError names it)."""
    folder = Path(output_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot write {folder}: {error.strerror or error}") from None
    if not os.access(folder, os.W_OK):
        raise OutputError(f"cannot write {folder}: not writable")
    return folder


def write_outputs(
    output_dir: str | Path,
    problems: Mapping[str, Problem],
    plans: Mapping[str, Plan],
    summary: DistrictSummary,
) -> list[Path]:
    """Write each community's plan and problem, then the summary, each atomically."""
    folder = prepare_output(output_dir)
    written: list[Path] = []
    for name, plan in plans.items():
        for suffix, text in (
            (
                "problem.json",
                problems[name].model_dump_json(indent=2, exclude_defaults=True) + "\n",
            ),
            ("plan.json", to_json(plan)),
        ):
            target = folder / f"{name}.{suffix}"
            write_text_atomic(target, text if text.endswith("\n") else text + "\n")
            written.append(target)
    target = folder / "district-summary.json"
    write_text_atomic(target, to_json(summary))
    written.append(target)
    return written


__all__ = [
    "DistrictProgress",
    "DistrictResult",
    "load_district",
    "make_executor",
    "prepare_output",
    "solve_district",
    "write_outputs",
]
