"""Where the service keeps its tenants, keys and jobs: one small interface (`Storage`) and its
embedded implementation on SQLite (`SqliteStorage`).

Every write is one transaction, committed before the call returns (WAL journal, `synchronous =
FULL`), so a server killed at any moment leaves each job as it was at its last completed write:
a finished plan, once reported done, is on disk byte for byte. A server database can replace
SQLite by implementing `Storage`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

JobStatus = Literal["queued", "solving", "done", "failed", "stopped"]
"""A job's state: waiting for a worker, being solved, finished (with its plan), failed (with the
reason), stopped by its tenant (with the best plan found until then)."""

FINISHED: tuple[JobStatus, ...] = ("done", "failed", "stopped")
"""The states a job never leaves."""


@dataclass(frozen=True)
class Tenant:
    """A community using the service, and its API key (kept as a hash only)."""

    id: str
    key_id: str
    key_hash: str
    created_s: float
    revoked: bool


@dataclass(frozen=True)
class Job:
    """One solve a tenant asked for, as stored."""

    id: str
    tenant: str
    status: JobStatus
    created_s: float
    updated_s: float
    request: str
    """The job's request as JSON: problem, solver, time limit, seed."""
    progress: str | None = None
    """The latest progress as JSON, when the solver reported any."""
    plan: str | None = None
    """The plan (so far, or final) as JSON text, exactly as the solver's worker wrote it."""
    error: str | None = None
    """Why the job failed."""
    stop_requested: bool = False


class Storage(Protocol):
    """What the service needs of a store. Each method is one transaction."""

    def add_tenant(self, tenant: Tenant) -> None:
        """Add a tenant's key; ValueError if the tenant or key id exists."""

    def tenant_by_key_id(self, key_id: str) -> Tenant | None:
        """The tenant whose key has this id, if any."""

    def tenants(self) -> list[Tenant]:
        """Every tenant, oldest first."""

    def revoke_tenant(self, tenant_id: str) -> bool:
        """Revoke the tenant's key; False if there is no such tenant."""

    def add_job(self, job: Job) -> None:
        """Store a new job."""

    def job(self, job_id: str, tenant: str | None = None) -> Job | None:
        """The job, if it exists (and belongs to `tenant`, when given)."""

    def jobs(self, tenant: str, offset: int, limit: int) -> tuple[list[Job], int]:
        """A page of the tenant's jobs, newest first, and how many it has in all."""

    def count_jobs(self, statuses: tuple[JobStatus, ...], tenant: str | None = None) -> int:
        """How many jobs (of `tenant`, when given) are in one of these states."""

    def next_queued(self) -> Job | None:
        """The oldest queued job."""

    def start_job(self, job_id: str) -> bool:
        """Mark a queued job solving; False if it is no longer queued."""

    def update_progress(self, job_id: str, progress: str, plan: str | None) -> None:
        """Record progress (and the plan so far) of a solving job."""

    def finish_job(
        self, job_id: str, status: JobStatus, plan: str | None, error: str | None
    ) -> None:
        """Finish a job that is not finished yet."""

    def request_stop(self, job_id: str) -> JobStatus | None:
        """Ask a job to stop: a queued one stops at once, a solving one is flagged; its status
        after that (None if no such job)."""

    def recover(self, reason: str) -> list[str]:
        """At start-up: mark every job that was solving failed with `reason` (its solver died
        with the server); returns their ids. Queued jobs stay queued."""

    def expire(self, older_than_s: float) -> int:
        """Delete finished jobs last updated before `older_than_s` (epoch seconds)."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL,
    created_s REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    status TEXT NOT NULL,
    created_s REAL NOT NULL,
    updated_s REAL NOT NULL,
    request TEXT NOT NULL,
    progress TEXT,
    plan TEXT,
    error TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobs (tenant, created_s);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_s);
"""

DATABASE_NAME = "matcher-service.sqlite3"
"""The file of the store inside the data directory."""

_JOB_COLUMNS = (
    "id, tenant, status, created_s, updated_s, request, progress, plan, error, stop_requested"
)


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        tenant=row["tenant"],
        status=row["status"],
        created_s=row["created_s"],
        updated_s=row["updated_s"],
        request=row["request"],
        progress=row["progress"],
        plan=row["plan"],
        error=row["error"],
        stop_requested=bool(row["stop_requested"]),
    )


def _tenant(row: sqlite3.Row) -> Tenant:
    return Tenant(
        id=row["id"],
        key_id=row["key_id"],
        key_hash=row["key_hash"],
        created_s=row["created_s"],
        revoked=bool(row["revoked"]),
    )


class SqliteStorage:
    """`Storage` in one SQLite file under the data directory, safe to share between threads."""

    def __init__(self, data_dir: str | Path) -> None:
        folder = Path(data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / DATABASE_NAME
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._connection.row_factory = sqlite3.Row
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute("PRAGMA synchronous = FULL")
        with self._lock:
            self._connection.executescript(SCHEMA)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._connection.close()

    # ------------------------------------------------------------- tenants

    def add_tenant(self, tenant: Tenant) -> None:
        with self._transaction() as cursor:
            found = cursor.execute(
                "SELECT 1 FROM tenants WHERE id = ? OR key_id = ?", (tenant.id, tenant.key_id)
            ).fetchone()
            if found:
                raise ValueError(f"a tenant {tenant.id!r} exists already")
            cursor.execute(
                "INSERT INTO tenants (id, key_id, key_hash, created_s, revoked) "
                "VALUES (?, ?, ?, ?, ?)",
                (tenant.id, tenant.key_id, tenant.key_hash, tenant.created_s, int(tenant.revoked)),
            )

    def tenant_by_key_id(self, key_id: str) -> Tenant | None:
        with self._transaction() as cursor:
            row = cursor.execute("SELECT * FROM tenants WHERE key_id = ?", (key_id,)).fetchone()
        return _tenant(row) if row else None

    def tenants(self) -> list[Tenant]:
        with self._transaction() as cursor:
            rows = cursor.execute("SELECT * FROM tenants ORDER BY created_s, id").fetchall()
        return [_tenant(row) for row in rows]

    def revoke_tenant(self, tenant_id: str) -> bool:
        with self._transaction() as cursor:
            changed = cursor.execute(
                "UPDATE tenants SET revoked = 1 WHERE id = ?", (tenant_id,)
            ).rowcount
        return changed > 0

    # ------------------------------------------------------------- jobs

    def add_job(self, job: Job) -> None:
        with self._transaction() as cursor:
            cursor.execute(
                f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job.id,
                    job.tenant,
                    job.status,
                    job.created_s,
                    job.updated_s,
                    job.request,
                    job.progress,
                    job.plan,
                    job.error,
                    int(job.stop_requested),
                ),
            )

    def job(self, job_id: str, tenant: str | None = None) -> Job | None:
        with self._transaction() as cursor:
            row = cursor.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
        if row is None or (tenant is not None and row["tenant"] != tenant):
            return None
        return _job(row)

    def jobs(self, tenant: str, offset: int, limit: int) -> tuple[list[Job], int]:
        with self._transaction() as cursor:
            total = cursor.execute(
                "SELECT COUNT(*) FROM jobs WHERE tenant = ?", (tenant,)
            ).fetchone()[0]
            rows = cursor.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE tenant = ? "
                "ORDER BY created_s DESC, id DESC LIMIT ? OFFSET ?",
                (tenant, limit, offset),
            ).fetchall()
        return [_job(row) for row in rows], int(total)

    def count_jobs(self, statuses: tuple[JobStatus, ...], tenant: str | None = None) -> int:
        marks = ", ".join("?" for _ in statuses)
        query = f"SELECT COUNT(*) FROM jobs WHERE status IN ({marks})"
        values: list[str] = list(statuses)
        if tenant is not None:
            query += " AND tenant = ?"
            values.append(tenant)
        with self._transaction() as cursor:
            return int(cursor.execute(query, values).fetchone()[0])

    def next_queued(self) -> Job | None:
        with self._transaction() as cursor:
            row = cursor.execute(
                f"SELECT {_JOB_COLUMNS} FROM jobs WHERE status = 'queued' "
                "ORDER BY created_s, id LIMIT 1"
            ).fetchone()
        return _job(row) if row else None

    def start_job(self, job_id: str) -> bool:
        with self._transaction() as cursor:
            changed = cursor.execute(
                "UPDATE jobs SET status = 'solving', updated_s = ? "
                "WHERE id = ? AND status = 'queued'",
                (time.time(), job_id),
            ).rowcount
        return changed > 0

    def update_progress(self, job_id: str, progress: str, plan: str | None) -> None:
        with self._transaction() as cursor:
            if plan is None:
                cursor.execute(
                    "UPDATE jobs SET progress = ?, updated_s = ? "
                    "WHERE id = ? AND status = 'solving'",
                    (progress, time.time(), job_id),
                )
            else:
                cursor.execute(
                    "UPDATE jobs SET progress = ?, plan = ?, updated_s = ? "
                    "WHERE id = ? AND status = 'solving'",
                    (progress, plan, time.time(), job_id),
                )

    def finish_job(
        self, job_id: str, status: JobStatus, plan: str | None, error: str | None
    ) -> None:
        marks = ", ".join("?" for _ in FINISHED)
        with self._transaction() as cursor:
            cursor.execute(
                "UPDATE jobs SET status = ?, plan = COALESCE(?, plan), error = ?, updated_s = ? "
                f"WHERE id = ? AND status NOT IN ({marks})",
                (status, plan, error, time.time(), job_id, *FINISHED),
            )

    def request_stop(self, job_id: str) -> JobStatus | None:
        with self._transaction() as cursor:
            row = cursor.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            status: JobStatus = row["status"]
            if status == "queued":
                cursor.execute(
                    "UPDATE jobs SET status = 'stopped', stop_requested = 1, updated_s = ?, "
                    "error = 'stopped before it started' WHERE id = ?",
                    (time.time(), job_id),
                )
                return "stopped"
            if status == "solving":
                cursor.execute("UPDATE jobs SET stop_requested = 1 WHERE id = ?", (job_id,))
            return status

    def recover(self, reason: str) -> list[str]:
        with self._transaction() as cursor:
            rows = cursor.execute("SELECT id FROM jobs WHERE status = 'solving'").fetchall()
            cursor.execute(
                "UPDATE jobs SET status = 'failed', error = ?, updated_s = ? "
                "WHERE status = 'solving'",
                (reason, time.time()),
            )
        return [row["id"] for row in rows]

    def expire(self, older_than_s: float) -> int:
        marks = ", ".join("?" for _ in FINISHED)
        with self._transaction() as cursor:
            return int(
                cursor.execute(
                    f"DELETE FROM jobs WHERE status IN ({marks}) AND updated_s < ?",
                    (*FINISHED, older_than_s),
                ).rowcount
            )


__all__ = ["DATABASE_NAME", "FINISHED", "Job", "JobStatus", "SqliteStorage", "Storage", "Tenant"]
