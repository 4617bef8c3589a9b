"""The background solves: a fixed pool of worker processes fed from the store's queue.

Each worker is a process of its own (started with `spawn`), so a solve never holds the server's
event loop or interpreter, and a worker that dies takes only its own job with it (the job is
marked failed with the exit code, and the worker replaced). The main process keeps one thread
per worker that hands it the oldest queued job and writes what it reports (progress, the plan so
far, the final plan) to the store, each in one transaction.

A worker solves with `matcher.solve`, exactly as `matcher solve` does, with a `stop` callable
reading a `multiprocessing.Event` that `DELETE /v1/plans/{id}` sets: the solver then ends as at
its time limit and returns the best plan found, which the job keeps (status `stopped`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from typing import Any

from matcher.service.storage import Job, JobStatus, Storage

PROGRESS_INTERVAL_S = 0.5
"""Progress reports are sent at most this often (phase changes always)."""
PLAN_INTERVAL_S = 5.0
"""The plan so far is assembled and stored at most this often unless the server is told
otherwise (`--plan-interval-s`): it is costly on big weeks."""
RESTART_REASON = (
    "the server stopped while this job was solving; its solver process ended with it. "
    "Submit the problem again."
)
"""Why a job that was solving when the server died is failed at the next start."""


def _progress_fields(progress: Any) -> dict[str, Any]:
    """The JSON fields of a `matcher.Progress` report."""
    names = (
        "phase",
        "elapsed_s",
        "time_limit_s",
        "visits_planned",
        "visits_wanted",
        "weighted_coverage",
        "bound",
        "gap",
    )
    if dataclasses.is_dataclass(progress):
        values = {
            field.name: getattr(progress, field.name) for field in dataclasses.fields(progress)
        }
    else:
        values = {name: getattr(progress, name, None) for name in names}
    return {name: values.get(name) for name in names}


@dataclasses.dataclass(frozen=True)
class FinalProgress:
    """The last progress of a job, read from its plan (phase `done`), so that every finished
    job shows its elapsed time, visits and coverage whether or not its solver reported."""

    phase: str
    elapsed_s: float
    time_limit_s: float | None
    visits_planned: int
    visits_wanted: int
    weighted_coverage: float
    bound: float | None
    gap: float | None

    @classmethod
    def of(cls, plan: Any) -> FinalProgress:
        solver = plan.solver
        return cls(
            phase="done",
            elapsed_s=solver.wall_time_s,
            time_limit_s=solver.time_limit_s,
            visits_planned=plan.metrics.visits_planned,
            visits_wanted=plan.metrics.visits_requested,
            weighted_coverage=solver.objective
            if solver.objective is not None
            else plan.metrics.weighted_planned,
            bound=solver.bound,
            gap=solver.gap,
        )


def solve_request(
    request: dict[str, Any],
    stop: Callable[[], bool] | None = None,
    progress: Callable[[Any], None] | None = None,
) -> str:
    """Solve one job's request as `matcher solve` would; the plan as `matcher solve` writes it.
    `stop` and `progress` go to `matcher.solve`."""
    from matcher.api import solve
    from matcher.io import to_json
    from matcher.models import Problem

    problem = Problem.model_validate(request["problem"])
    plan = solve(
        problem,
        solver=request.get("solver", "greedy"),
        time_limit_s=request.get("time_limit_s"),
        seed=request.get("seed", 0),
        language=request.get("language"),
        parameters=request.get("parameters"),
        max_memory_mib=request.get("max_memory_mib"),
        progress=progress,
        stop=stop,
    )
    if progress is not None:
        progress(FinalProgress.of(plan))
    return to_json(plan)


class _Reporter:
    """The `progress` callable of one job: sends what the solver reports, at most every
    `PROGRESS_INTERVAL_S` (each phase change at once), with the plan so far at most every
    `plan_interval_s`."""

    def __init__(self, connection: Connection, job_id: str, plan_interval_s: float) -> None:
        self.connection = connection
        self.job_id = job_id
        self.plan_interval_s = plan_interval_s
        self.sent_s = 0.0
        self.plan_sent_s = 0.0
        self.phase: str | None = None

    def __call__(self, progress: Any) -> None:
        from matcher.io import to_json

        now = time.monotonic()
        fields = _progress_fields(progress)
        final = isinstance(progress, FinalProgress)
        if not final and fields["phase"] == self.phase and now - self.sent_s < PROGRESS_INTERVAL_S:
            return
        self.phase = fields["phase"]
        self.sent_s = now
        plan_text = None
        if now - self.plan_sent_s >= self.plan_interval_s and hasattr(progress, "plan"):
            self.plan_sent_s = now
            try:
                so_far = progress.plan()
            except Exception:
                # A snapshot that cannot be assembled is skipped: the solve goes on, and a
                # report after the next interval tries again.
                so_far = None
            plan_text = to_json(so_far) if so_far is not None else None
        self.connection.send(("progress", self.job_id, json.dumps(fields), plan_text))


def worker_main(connection: Connection, stop_event: Event) -> None:
    """A worker process: solve each job it is sent, reporting over `connection`. A worker
    whose server died (it has another parent now) stops its solve at once."""
    parent = os.getppid()

    def should_stop() -> bool:
        return stop_event.is_set() or os.getppid() != parent

    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        job_id, request_text, plan_interval_s = message
        reporter = _Reporter(connection, job_id, plan_interval_s)
        try:
            plan_text = solve_request(json.loads(request_text), should_stop, reporter)
        except Exception as error:
            detail = f"{type(error).__name__}: {error}".splitlines()[0][:500]
            connection.send(("failed", job_id, None, detail))
            continue
        connection.send(("done", job_id, None, plan_text))


class _Worker:
    """One worker process, its pipe and stop event, and the job it runs."""

    def __init__(self, context: Any) -> None:
        self._context = context
        self.job_id: str | None = None
        self.stop_event: Event = context.Event()
        self.connection: Connection
        self.process: SpawnProcess
        self.start()

    def start(self) -> None:
        parent, child = self._context.Pipe()
        self.connection = parent
        self.process = self._context.Process(
            target=worker_main, args=(child, self.stop_event), daemon=True
        )
        self.process.start()
        child.close()


class WorkerPool:
    """A fixed number of worker processes solving the store's queued jobs, oldest first."""

    def __init__(
        self, storage: Storage, workers: int, plan_interval_s: float = PLAN_INTERVAL_S
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers: at least 1, not {workers}")
        self.storage = storage
        self.size = workers
        self.plan_interval_s = plan_interval_s
        self._context = multiprocessing.get_context("spawn")
        self._wake = threading.Condition()
        self._closing = False
        self._lock = threading.Lock()
        self._workers: list[_Worker] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the workers and their threads."""
        for number in range(self.size):
            worker = _Worker(self._context)
            self._workers.append(worker)
            thread = threading.Thread(
                target=self._run, args=(worker,), name=f"matcher-worker-{number}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def wake(self) -> None:
        """A job was queued: let an idle worker take it."""
        with self._wake:
            self._wake.notify_all()

    def stop(self, job_id: str) -> bool:
        """Ask the worker solving `job_id` to stop with its best plan; False if none is."""
        with self._lock:
            for worker in self._workers:
                if worker.job_id == job_id:
                    worker.stop_event.set()
                    return True
        return False

    def busy(self) -> int:
        """How many workers are solving."""
        with self._lock:
            return sum(1 for worker in self._workers if worker.job_id is not None)

    def close(self) -> None:
        """Stop the workers (their jobs stay `solving` in the store, failed at the next start
        as after a crash) and the threads."""
        self._closing = True
        self.wake()
        for worker in self._workers:
            worker.stop_event.set()
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        for worker in self._workers:
            worker.process.join(timeout=2.0)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=2.0)
        for thread in self._threads:
            thread.join(timeout=2.0)

    # ------------------------------------------------------------- the worker's thread

    def _next_job(self) -> Job | None:
        """Wait for a queued job and claim it (None when closing)."""
        while not self._closing:
            job = self.storage.next_queued()
            if job is not None and self.storage.start_job(job.id):
                return job
            if job is None:
                with self._wake:
                    self._wake.wait(timeout=1.0)
        return None

    def _run(self, worker: _Worker) -> None:
        while not self._closing:
            job = self._next_job()
            if job is None:
                return
            with self._lock:
                worker.stop_event.clear()
                worker.job_id = job.id
            current = self.storage.job(job.id)
            if current is not None and current.stop_requested:
                worker.stop_event.set()
            try:
                worker.connection.send((job.id, job.request, self.plan_interval_s))
                self._follow(worker, job)
            finally:
                with self._lock:
                    worker.job_id = None

    def _follow(self, worker: _Worker, job: Job) -> None:
        """Store the worker's reports on `job` until it ends; a dead worker fails the job and
        is replaced."""
        while True:
            try:
                kind, _, progress, payload = worker.connection.recv()
            except (EOFError, OSError):
                if self._closing:
                    return
                worker.process.join(timeout=5.0)
                code = worker.process.exitcode
                self.storage.finish_job(
                    job.id, "failed", None, f"the solver's process died (exit code {code})"
                )
                worker.start()
                return
            if kind == "progress":
                self.storage.update_progress(job.id, progress, payload)
                continue
            stopped = worker.stop_event.is_set()
            if kind == "done":
                status: JobStatus = "stopped" if stopped else "done"
                error = "stopped on request; the best plan found until then" if stopped else None
                self.storage.finish_job(job.id, status, payload, error)
            else:
                self.storage.finish_job(job.id, "failed", None, payload)
            return


__all__ = ["RESTART_REASON", "WorkerPool", "solve_request", "worker_main"]
