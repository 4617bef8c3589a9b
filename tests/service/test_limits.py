"""Limits over real HTTP: body size, recipients per problem, jobs per tenant, a full queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.conftest import Running, Server, add_tenant, example, wait_for


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A server with one worker, one waiting job, one job per tenant, 100 recipients and
    400 kB bodies at most."""
    data_dir = tmp_path_factory.mktemp("tight") / "data"
    data_dir.mkdir()
    keys = {tenant: add_tenant(data_dir, tenant) for tenant in ("one", "two", "three")}
    flags = ("--workers", "1", "--queue-size", "1", "--max-jobs-per-tenant", "1")
    limits = ("--max-recipients", "100", "--max-body-bytes", "400000", "--max-time-limit-s", "60")
    server = Server(data_dir, *flags, *limits).start()
    try:
        yield Running(server, keys)
    finally:
        server.stop()


def test_a_body_over_the_limit_is_refused_413(tight: Running) -> None:
    padding = "x" * 500_000
    with tight.client("one") as client:
        response = client.post("/v1/validate", json={"problem": {"name": padding}})
        chunked = client.post(
            "/v1/validate",
            content=iter([b'{"problem": "', padding.encode(), b'"}']),
            headers={"content-type": "application/json"},
        )
    for answer in (response, chunked):
        assert answer.status_code == 413
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "400,000" in answer.json()["detail"]


def test_more_recipients_than_the_limit_are_refused_with_the_path(tight: Running) -> None:
    community = example("community")
    assert len(community["recipients"]) > 100
    small_body = len(json.dumps({"problem": community}).encode())
    assert small_body < 400_000
    with tight.client("one") as client:
        for path in ("/v1/validate", "/v1/plans"):
            response = client.post(path, json={"problem": community})
            assert response.status_code == 422, response.text
            errors = response.json()["errors"]
            assert [error["path"] for error in errors] == ["/problem/recipients"]
            assert "InputLimits.max_recipients" in errors[0]["message"]
            assert errors[0]["type"] == "limit"
        assert client.get("/v1/plans").json()["total"] == 0


def test_a_tenant_over_its_jobs_and_a_full_queue_get_429_with_retry_after(
    tight: Running, tmp_path: Path
) -> None:
    """One solving and one queued fill the server: the tenant's second job and a third tenant's
    job are refused with Retry-After; a queued job stops at once when asked."""
    long = {"problem": example("small"), "solver": "lns", "time_limit_s": 8, "seed": 0}
    with tight.client("one") as one, tight.client("two") as two, tight.client("three") as three:
        running = one.post("/v1/plans", json=long)
        assert running.status_code == 202
        wait_for(one, running.json()["id"], ("solving",))
        again = one.post("/v1/plans", json={"problem": example("small")})
        assert again.status_code == 429
        assert again.json()["type"].endswith("tenant-jobs")
        assert int(again.headers["retry-after"]) > 0
        queued = two.post("/v1/plans", json={"problem": example("small")})
        assert queued.status_code == 202
        full = three.post("/v1/plans", json={"problem": example("small")})
        assert full.status_code == 429
        assert full.json()["type"].endswith("queue-full")
        assert int(full.headers["retry-after"]) > 0
        stopped = two.delete(f"/v1/plans/{queued.json()['id']}")
        assert stopped.status_code == 200
        assert stopped.json()["status"] == "stopped" and stopped.json()["plan"] is None
        one.delete(f"/v1/plans/{running.json()['id']}")
        assert wait_for(one, running.json()["id"])["status"] == "stopped"
        accepted = three.post("/v1/plans", json={"problem": example("small")})
        assert accepted.status_code == 202
        assert wait_for(three, accepted.json()["id"])["status"] == "done"


def test_malformed_bodies_get_a_4xx_problem_never_a_5xx(tight: Running) -> None:
    """Nested beyond the parser, not JSON, not UTF-8, a number too long, the wrong shape."""
    bodies = {
        "deep": b"[" * 100_000 + b"]" * 100_000,
        "deep object": b'{"problem": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001,
        "not json": b"{not json",
        "not utf-8": b'{"problem": "' + bytes([0xFF, 0xFE]) + b'"}',
        "long number": b'{"problem": {}, "seed": ' + b"9" * 5_000 + b"}",
        "a list": b"[1, 2]",
        "empty": b"",
    }
    with tight.client("one") as client:
        for name, body in bodies.items():
            response = client.post(
                "/v1/validate", content=body, headers={"content-type": "application/json"}
            )
            assert 400 <= response.status_code < 500, (name, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["status"] == response.status_code
        deep = client.post(
            "/v1/validate", content=bodies["deep"], headers={"content-type": "application/json"}
        )
        assert deep.status_code == 422
        assert "InputLimits.max_depth" in deep.json()["errors"][0]["message"]
