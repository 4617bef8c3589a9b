"""Nothing lost: kill -9 the server with jobs finished, solving and queued, start it again."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from matcher.service.jobs import RESTART_REASON
from tests.service.conftest import Server, add_tenant, example, wait_for


def test_a_restart_keeps_finished_plans_byte_for_byte_fails_the_running_and_runs_the_queued(
    tmp_path: Path,
) -> None:
    """kill -9 with a job done, one solving and one queued: at the next start the done job is
    there byte for byte, the solving one failed with the documented reason, the queued one is
    solved; finished jobs older than the expiry are gone at the start after that."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key = add_tenant(data_dir, "alpha")
    server = Server(data_dir, "--workers", "1").start()
    try:
        with server.client(key) as client:
            finished = client.post("/v1/plans", json={"problem": example("community")}).json()
            wait_for(client, finished["id"])
            plan_bytes = client.get(f"/v1/plans/{finished['id']}/plan").content
            view = client.get(f"/v1/plans/{finished['id']}").json()
            long = {"problem": example("community"), "solver": "lns", "time_limit_s": 60}
            running = client.post("/v1/plans", json=long).json()
            wait_for(client, running["id"], ("solving",))
            queued = client.post("/v1/plans", json={"problem": example("small")}).json()
            assert client.get(f"/v1/plans/{queued['id']}").json()["status"] == "queued"
        server.kill9()
        server.start()
        with server.client(key) as client:
            assert client.get(f"/v1/plans/{finished['id']}/plan").content == plan_bytes
            assert client.get(f"/v1/plans/{finished['id']}").json() == view
            failed = client.get(f"/v1/plans/{running['id']}").json()
            assert failed["status"] == "failed"
            assert failed["error"] == RESTART_REASON
            assert wait_for(client, queued["id"])["status"] == "done"
        # Told to keep finished jobs 0.36 s, the server deletes them at its next start.
        server.stop()
        time.sleep(0.5)
        server = Server(data_dir, "--workers", "1", "--expire-after-h", "0.0001").start()
        with server.client(key) as client:
            assert client.get(f"/v1/plans/{finished['id']}").status_code == 404
            assert client.get("/v1/plans").json()["total"] == 0
    finally:
        server.stop()


def _worker_pids(server_pid: int) -> list[int]:
    """The server's worker processes (spawned children running `spawn_main`)."""
    children = [
        child
        for task in Path(f"/proc/{server_pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    pids = []
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in command:
            pids.append(int(child))
    return pids


def test_a_dead_worker_fails_its_job_and_is_replaced(tmp_path: Path) -> None:
    """kill -9 of the worker alone: its job is failed with the exit code, the server keeps
    serving and a new worker solves the next job."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key = add_tenant(data_dir, "alpha")
    server = Server(data_dir, "--workers", "1").start()
    try:
        assert server.process is not None
        with server.client(key) as client:
            long = {"problem": example("community"), "solver": "lns", "time_limit_s": 60}
            running = client.post("/v1/plans", json=long).json()
            wait_for(client, running["id"], ("solving",))
            (worker,) = _worker_pids(server.process.pid)
            os.kill(worker, signal.SIGKILL)
            failed = wait_for(client, running["id"])
            assert failed["status"] == "failed"
            assert failed["error"] == "the solver's process died (exit code -9)"
            after = client.post("/v1/plans", json={"problem": example("small")}).json()
            assert wait_for(client, after["id"])["status"] == "done"
            (replacement,) = _worker_pids(server.process.pid)
            assert replacement != worker
    finally:
        server.stop()
