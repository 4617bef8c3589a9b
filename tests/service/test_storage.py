"""The SQLite store and the API keys, read back with an independent reader (sqlite3 itself)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from matcher.service.keys import add_key, secret_hash, tenant_of_key
from matcher.service.storage import DATABASE_NAME, Job, SqliteStorage


def _job(job_id: str, tenant: str = "a", created_s: float | None = None) -> Job:
    now = time.time() if created_s is None else created_s
    return Job(
        id=job_id, tenant=tenant, status="queued", created_s=now, updated_s=now, request="{}"
    )


def test_a_key_is_kept_as_the_hash_of_its_secret_only(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path)
    made = add_key(storage, "quanrui")
    _, key_id, secret = made.key.split(".")
    rows = sqlite3.connect(tmp_path / DATABASE_NAME).execute("SELECT * FROM tenants").fetchall()
    assert len(rows) == 1
    assert secret not in repr(rows) and secret_hash(secret) in rows[0]
    assert tenant_of_key(storage, made.key) is not None
    assert tenant_of_key(storage, f"mk.{key_id}.{secret[:-1]}") is None
    assert tenant_of_key(storage, f"mk.{key_id}") is None
    assert storage.revoke_tenant("quanrui") and tenant_of_key(storage, made.key) is None
    assert not storage.revoke_tenant("nobody")


def test_a_finished_job_is_never_finished_again(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path)
    storage.add_job(_job("j1"))
    assert storage.start_job("j1") and not storage.start_job("j1")
    storage.finish_job("j1", "done", '{"plan": 1}', None)
    storage.finish_job("j1", "failed", None, "late")
    storage.update_progress("j1", "{}", '{"plan": 2}')
    job = storage.job("j1")
    assert job is not None and (job.status, job.plan, job.error) == ("done", '{"plan": 1}', None)
    assert storage.job("j1", tenant="b") is None


def test_recover_fails_the_solving_and_keeps_the_queued(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path)
    for job_id in ("solving", "queued", "done"):
        storage.add_job(_job(job_id))
    storage.start_job("solving")
    storage.start_job("done")
    storage.finish_job("done", "done", "{}", None)
    storage.close()
    reopened = SqliteStorage(tmp_path)
    assert reopened.recover("the server died") == ["solving"]
    statuses = {job_id: reopened.job(job_id) for job_id in ("solving", "queued", "done")}
    assert {job_id: job.status for job_id, job in statuses.items() if job} == {
        "solving": "failed",
        "queued": "queued",
        "done": "done",
    }
    assert statuses["solving"] is not None and statuses["solving"].error == "the server died"


def test_stop_a_queued_job_at_once_and_flag_a_solving_one(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path)
    storage.add_job(_job("q"))
    storage.add_job(_job("s"))
    storage.start_job("s")
    assert storage.request_stop("q") == "stopped"
    assert storage.request_stop("s") == "solving"
    solving = storage.job("s")
    assert solving is not None and solving.stop_requested and solving.status == "solving"
    assert storage.request_stop("none") is None
    assert not storage.start_job("q")


def test_expiry_deletes_only_old_finished_jobs(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path)
    storage.add_job(_job("old"))
    storage.add_job(_job("waiting"))
    storage.start_job("old")
    storage.finish_job("old", "done", "{}", None)
    assert storage.expire(time.time() - 3600) == 0
    assert storage.expire(time.time() + 1) == 1
    assert storage.job("old") is None and storage.job("waiting") is not None


def test_pages_are_newest_first_and_counted(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path)
    for number in range(5):
        storage.add_job(_job(f"j{number}", created_s=1000.0 + number))
    storage.add_job(_job("other", tenant="b"))
    page, total = storage.jobs("a", 1, 2)
    assert total == 5 and [job.id for job in page] == ["j3", "j2"]
    assert storage.count_jobs(("queued",), "a") == 5
    assert storage.count_jobs(("queued",)) == 6
