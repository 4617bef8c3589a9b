"""Nothing lost: kill -9 the server with jobs finished, solving and queued, start it again."""

from __future__ import annotations

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
