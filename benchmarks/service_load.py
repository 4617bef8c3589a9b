"""Load benchmark of the service: concurrent clients over real HTTP, a mix of validate, check
and small solves (submitted, then polled to done), against `matcher serve` in a subprocess.

    python -m benchmarks.service_load [--clients 16] [--requests 24] [--workers 2]

Prints requests per second, p50/p95/p99 latency by kind, the 5xx count (must be 0), the 429s
(retried after their Retry-After) and the peak resident memory of the server and its workers.
Not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from benchmarks.service_server import EXAMPLES, Server, add_tenant

KINDS = ("validate", "check", "validate", "check", "solve")
"""The mix, in turn per client: 40 % validate, 40 % check, 20 % small solves."""


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of the values."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


class Tally:
    """Latencies by kind and status counts, shared by the clients."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[int, int] = defaultdict(int)
        self.requests = 0

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[status] += 1
            self.requests += 1


def timed(client: httpx.Client, tally: Tally, kind: str, method: str, url: str, **kw: Any) -> Any:
    """One request, its latency tallied under `kind`; 429s wait their Retry-After and retry."""
    while True:
        began = time.perf_counter()
        response = client.request(method, url, **kw)
        tally.add(kind, time.perf_counter() - began, response.status_code)
        if response.status_code != 429:
            return response
        time.sleep(float(response.headers.get("retry-after", "1")))


def client_run(url: str, key: str, count: int, bodies: dict[str, Any], tally: Tally) -> None:
    """One client: `count` requests of the mix, each solve polled to done."""
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as client:
        for number in range(count):
            kind = KINDS[number % len(KINDS)]
            if kind != "solve":
                timed(client, tally, kind, "POST", f"/v1/{kind}", json=bodies[kind])
                continue
            began = time.perf_counter()
            accepted = timed(client, tally, "submit", "POST", "/v1/plans", json=bodies["solve"])
            job = accepted.json()
            while True:
                response = timed(client, tally, "poll", "GET", job["url"])
                if response.json()["status"] in ("done", "failed", "stopped"):
                    break
                time.sleep(0.05)
            with tally.lock:
                tally.latencies["solve (submit to done)"].append(time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=24, help="mix requests per client")
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    import matcher

    small = json.loads((EXAMPLES / "small.json").read_text(encoding="utf-8"))
    plan = json.loads(matcher.solve(small, seed=0).model_dump_json(exclude_none=True))
    bodies = {
        "validate": {"problem": small},
        "check": {"problem": small, "plan": plan},
        "solve": {"problem": small, "solver": "greedy", "seed": 0},
    }
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        data_dir.mkdir()
        keys = [add_tenant(data_dir, f"tenant-{n}") for n in range(arguments.clients)]
        server = Server(data_dir, "--workers", str(arguments.workers), "--queue-size", "64")
        server.start()
        peak = [server.group_rss_kib()]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.1):
                peak[0] = max(peak[0], server.group_rss_kib())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        tally = Tally()
        threads = [
            threading.Thread(
                target=client_run, args=(server.url, key, arguments.requests, bodies, tally)
            )
            for key in keys
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        sampling.set()
        sampler.join()
        server.stop()
    server_errors = sum(count for status, count in tally.statuses.items() if status >= 500)
    print(
        f"{arguments.clients} clients x {arguments.requests} mix requests, "
        f"{arguments.workers} workers: {tally.requests} HTTP requests in {elapsed:.1f} s, "
        f"{tally.requests / elapsed:.1f} req/s; 5xx: {server_errors}; "
        f"429 (retried): {tally.statuses.get(429, 0)}; "
        f"peak RSS of server and workers: {peak[0] / 1024:.0f} MiB"
    )
    print()
    print("| request | count | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in ("validate", "check", "submit", "poll", "solve (submit to done)"):
        values = tally.latencies.get(kind, [])
        if not values:
            continue
        cells = [percentile(values, share) * 1000 for share in (0.5, 0.95, 0.99)]
        print(
            f"| {kind} | {len(values)} | "
            + " | ".join(f"{cell:.0f}" for cell in cells)
            + f" | {max(values) * 1000:.0f} |"
        )
    print()
    print("statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items())))


if __name__ == "__main__":
    main()
