"""Where a district's community solves run: a local process pool (the default) or Ray.

Both run the same task (`solve_task`: one community's problem in, its plan out, as JSON so any
worker anywhere can take it) and report the same events, so the plans do not depend on the
executor: a solve's result depends only on its problem, solver, seed, parameters and limit.

A task is tried twice. On the pool a task that raises is submitted once more, and a worker
lost mid-solve (the pool breaks) restarts the pool and submits every unfinished task again;
on Ray, Ray's own retries do it (`max_retries=1` covers a lost worker, `retry_exceptions=True`
an error). A result is kept once per community however many attempts ran; a community that
failed twice comes back with its error, for the caller's fallback.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

ATTEMPTS = 2
"""Tries per community before its error is reported (the first and one retry)."""


class InjectedFailure(RuntimeError):
    """The failure a test asks for (`SolveTask.inject_failure`): a solver error on purpose."""


@dataclass(frozen=True)
class SolveTask:
    """One community's solve, in a form any worker can take."""

    community: str
    problem_json: str
    solver: str
    time_limit_s: float | None
    seed: int
    parameters: Mapping[str, Any] | None = None
    inject_failure: bool = False
    """Test-only hook: the task raises `InjectedFailure` instead of solving."""
    crash_marker: str | None = None
    """Test-only hook: unless this file exists, the task creates it and kills its own worker
    process (a worker lost mid-solve), so the first attempt dies and the next one solves."""


@dataclass(frozen=True)
class TaskResult:
    """A community's plan (JSON), or the error of its last attempt."""

    community: str
    plan_json: str | None
    error: str | None
    attempts: int | None
    """Attempts made; None where the executor retries on its own and does not say (Ray)."""


@dataclass(frozen=True)
class TaskEvent:
    """A task finished (or failed for good): what progress displays show."""

    community: str
    ok: bool
    plan_json: str | None = None
    outstanding: int = 0
    """Tasks submitted and not finished yet, after this one."""


EventSink = Callable[[TaskEvent], None]


def solve_task(task: SolveTask) -> str:
    """Solve one community and return its checked plan as JSON (runs in a worker)."""
    if task.inject_failure:
        raise InjectedFailure(f"injected solver failure in community {task.community}")
    if task.crash_marker is not None and not os.path.exists(task.crash_marker):
        with open(task.crash_marker, "w", encoding="utf-8") as marker:
            marker.write(f"{os.getpid()}\n")
        os._exit(70)
    import matcher
    from matcher.models import Problem

    problem = Problem.model_validate_json(task.problem_json)
    plan = matcher.solve(
        problem,
        solver=task.solver,
        time_limit_s=task.time_limit_s,
        seed=task.seed,
        parameters=dict(task.parameters) if task.parameters is not None else None,
    )
    return plan.model_dump_json()


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0][:500]


class CommunityExecutor(Protocol):
    """Runs community solves; `workers` is how many at once."""

    name: str
    workers: int

    def run(self, tasks: Sequence[SolveTask], report: EventSink) -> dict[str, TaskResult]: ...

    def close(self) -> None: ...


@dataclass
class PoolExecutor:
    """A local process pool of `workers` processes (default: the cores), started per `run`."""

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    name: str = "pool"

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers: at least 1, not {self.workers}")

    def run(self, tasks: Sequence[SolveTask], report: EventSink) -> dict[str, TaskResult]:
        """Every task's result, each community once; a task is tried `ATTEMPTS` times."""
        attempts = {task.community: 0 for task in tasks}
        errors: dict[str, str] = {}
        results: dict[str, TaskResult] = {}
        pending = list(tasks)
        context = multiprocessing.get_context("spawn")
        while pending:
            retry: list[SolveTask] = []
            with concurrent.futures.ProcessPoolExecutor(
                max_workers=min(self.workers, len(pending)), mp_context=context
            ) as pool:
                futures = {pool.submit(solve_task, task): task for task in pending}
                for task in pending:
                    attempts[task.community] += 1
                outstanding = len(futures)
                broken = False
                for future in concurrent.futures.as_completed(futures):
                    task = futures[future]
                    outstanding -= 1
                    try:
                        plan_json = future.result()
                    except BrokenProcessPool as error:
                        broken = True
                        errors[task.community] = _error_text(error)
                        retry.append(task)
                        continue
                    except Exception as error:
                        errors[task.community] = _error_text(error)
                        retry.append(task)
                        continue
                    results[task.community] = TaskResult(
                        task.community, plan_json, None, attempts[task.community]
                    )
                    report(TaskEvent(task.community, True, plan_json, outstanding))
                if broken:
                    pool.shutdown(wait=False, cancel_futures=True)
            pending = []
            for task in retry:
                if attempts[task.community] < ATTEMPTS:
                    pending.append(task)
                else:
                    results[task.community] = TaskResult(
                        task.community, None, errors[task.community], attempts[task.community]
                    )
                    report(TaskEvent(task.community, False, None, len(pending)))
        return {task.community: results[task.community] for task in tasks}

    def close(self) -> None:
        """Nothing to release: each `run` starts and ends its own pool."""


@dataclass
class RayExecutor:
    """Ray tasks, on a local Ray started on demand or on the cluster at `address`."""

    address: str | None = None
    workers: int = 0
    name: str = "ray"
    _started: bool = False

    def __post_init__(self) -> None:
        try:
            import ray
        except ImportError:
            raise ValueError("--ray needs Ray: pip install 'matcher-care[district]'") from None
        if not ray.is_initialized():
            if self.address is None:
                ray.init(
                    num_cpus=self.workers or None,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
            else:
                ray.init(address=self.address, log_to_driver=False, configure_logging=False)
            self._started = True
        if not self.workers:
            resources = ray.cluster_resources()  # type: ignore[no-untyped-call]
            self.workers = max(1, int(resources.get("CPU", 1)))

    def run(self, tasks: Sequence[SolveTask], report: EventSink) -> dict[str, TaskResult]:
        """Every task's result, each community once; Ray retries a lost worker or an error."""
        import ray

        remote = ray.remote(max_retries=ATTEMPTS - 1, retry_exceptions=True)(solve_task)
        references = {remote.remote(task): task for task in tasks}
        results: dict[str, TaskResult] = {}
        waiting = list(references)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            for reference in done:
                task = references[reference]
                try:
                    plan_json = ray.get(reference)
                except Exception as error:
                    cause = getattr(error, "cause", None)
                    shown = cause if isinstance(cause, BaseException) else error
                    results[task.community] = TaskResult(
                        task.community, None, _error_text(shown), ATTEMPTS
                    )
                    report(TaskEvent(task.community, False, None, len(waiting)))
                    continue
                results[task.community] = TaskResult(task.community, plan_json, None, None)
                report(TaskEvent(task.community, True, plan_json, len(waiting)))
        return {task.community: results[task.community] for task in tasks}

    def close(self) -> None:
        """Shut down the local Ray this executor started (a cluster or a caller's Ray stays)."""
        if self._started:
            import ray

            ray.shutdown()
            self._started = False


__all__ = [
    "ATTEMPTS",
    "CommunityExecutor",
    "InjectedFailure",
    "PoolExecutor",
    "RayExecutor",
    "SolveTask",
    "TaskEvent",
    "TaskResult",
    "solve_task",
]
