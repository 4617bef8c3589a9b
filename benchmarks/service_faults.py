"""Fault benchmark of the service: kill -9 the server (with its workers) during solves, again
and again, and count the finished plans lost.

    python -m benchmarks.service_faults [--rounds 20] [--seed 0]

Each round starts the server on the same data directory, submits a few small solves and one
longer one, waits a random moment (seeded), records every job the server has reported done
with its plan's bytes, and kills the process group with SIGKILL. At the next start every
recorded job must still be done with the same bytes (a lost plan otherwise), and no job may be
left `solving`. Not a test: prints a table.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.service_server import EXAMPLES, Server, add_tenant
from matcher.service.jobs import RESTART_REASON
from matcher.service.storage import FINISHED


def _jobs(client: httpx.Client) -> list[dict[str, object]]:
    """Every job of the tenant, page by page."""
    jobs: list[dict[str, object]] = []
    offset, total = 0, 1
    while offset < total:
        page = client.get("/v1/plans", params={"offset": offset, "limit": 100}).json()
        total = page["total"]
        offset += len(page["items"])
        jobs += page["items"]
    return jobs


def _settled(client: httpx.Client, wait_s: float = 90.0) -> list[dict[str, object]]:
    """Every job once none is queued or solving any more (or after `wait_s`)."""
    deadline = time.monotonic() + wait_s
    while True:
        jobs = _jobs(client)
        if time.monotonic() > deadline or all(job["status"] in FINISHED for job in jobs):
            return jobs
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    chance = random.Random(arguments.seed)
    small = json.loads((EXAMPLES / "small.json").read_text(encoding="utf-8"))
    community = json.loads((EXAMPLES / "community.json").read_text(encoding="utf-8"))
    finished: dict[str, bytes] = {}
    lost = changed = unfinished = failed_by_restart = solved_after = kills_mid_solve = 0
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        data_dir.mkdir()
        key = add_tenant(data_dir, "faults")
        server = Server(data_dir, "--workers", "2", "--max-jobs-per-tenant", "16")
        for round_number in range(arguments.rounds + 1):
            server.start()
            with httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60
            ) as client:
                for job_id, plan in finished.items():
                    now = client.get(f"/v1/plans/{job_id}/plan")
                    if now.status_code != 200:
                        lost += 1
                    elif now.content != plan:
                        changed += 1
                if round_number == arguments.rounds:
                    jobs_now = _settled(client)
                    unfinished = sum(job["status"] not in FINISHED for job in jobs_now)
                    failed_by_restart = sum(job["error"] == RESTART_REASON for job in jobs_now)
                    solved_after = sum(job["status"] == "done" for job in jobs_now)
                    break
                jobs = [
                    client.post("/v1/plans", json={"problem": small, "seed": n}).json()["id"]
                    for n in range(3)
                ]
                long = {"problem": community, "solver": "lns", "time_limit_s": 5}
                jobs.append(client.post("/v1/plans", json=long).json()["id"])
                time.sleep(chance.uniform(0.3, 1.5))
                solving = False
                for job_id in jobs:
                    view = client.get(f"/v1/plans/{job_id}").json()
                    solving = solving or view["status"] == "solving"
                    if view["status"] == "done":
                        finished[job_id] = client.get(f"/v1/plans/{job_id}/plan").content
                kills_mid_solve += solving
            server.kill9()
        server.stop()
    elapsed = time.perf_counter() - began
    print(
        f"{arguments.rounds} kill -9 rounds in {elapsed:.0f} s ({kills_mid_solve} while a job "
        "was solving)"
    )
    print()
    print(
        "| jobs | finished plans recorded before a kill | lost | changed | done in the end "
        "| failed by a restart | never finished |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {4 * arguments.rounds} | {len(finished)} | {lost} | {changed} | {solved_after} "
        f"| {failed_by_restart} | {unfinished} |"
    )
    print()
    print(
        "lost and changed are summed over every restart (each start checks every plan recorded "
        "so far); a job solving at a kill is failed with the restart reason, a queued one is "
        "solved after the restart."
    )


if __name__ == "__main__":
    main()
