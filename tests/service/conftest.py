"""The real server for the service's tests: `python -m matcher serve` (uvicorn) in a subprocess
on a free loopback port with its own data directory, talked to over HTTP with httpx."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")

import contextlib

from benchmarks.service_server import add_tenant, free_port
from matcher.service.storage import FINISHED

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STARTUP_S = 60.0
"""How long a server may take to answer `/healthz` (the machine is shared)."""
JOB_WAIT_S = 120.0
"""How long a job may take to finish in a test."""


def example(name: str) -> dict[str, Any]:
    """A bundled example problem as JSON."""
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    return data


class Server:
    """`matcher serve` in its own process group (its worker processes with it)."""

    def __init__(self, data_dir: Path, *flags: str) -> None:
        self.data_dir = data_dir
        self.flags = flags
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log = data_dir.parent / f"{data_dir.name}-server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "matcher",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--log-level",
            "warning",
            *self.flags,
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not start: {self.log.read_text()[-2000:]}")

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120.0)

    def stop(self) -> None:
        """End the server as an operator would (SIGTERM), then anything left (SIGKILL)."""
        if self.process is None or self.process.poll() is not None:
            self._reap()
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=15)
        self._reap()

    def kill9(self) -> None:
        """kill -9 the server and its workers at once, as a crash or an OOM kill would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def _reap(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)


def wait_for(
    client: httpx.Client, job_id: str, statuses: tuple[str, ...] = FINISHED
) -> dict[str, Any]:
    """Poll a job until its status is one of `statuses`."""
    deadline = time.monotonic() + JOB_WAIT_S
    while True:
        response = client.get(f"/v1/plans/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in statuses:
            return job
        assert job["status"] not in FINISHED, job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']}")
        time.sleep(0.1)


class Running:
    """A started server and its tenants' keys."""

    def __init__(self, server: Server, keys: dict[str, str]) -> None:
        self.server = server
        self.keys = keys

    def client(self, tenant: str | None = None) -> httpx.Client:
        return self.server.client(self.keys[tenant] if tenant else None)


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The shared server: two workers, default limits, the plan so far stored every 0.5 s,
    tenants `alpha`, `beta` and `gamma`."""
    data_dir = tmp_path_factory.mktemp("service") / "data"
    data_dir.mkdir()
    keys = {tenant: add_tenant(data_dir, tenant) for tenant in ("alpha", "beta", "gamma")}
    server = Server(data_dir, "--workers", "2", "--plan-interval-s", "0.5").start()
    try:
        yield Running(server, keys)
    finally:
        server.stop()
