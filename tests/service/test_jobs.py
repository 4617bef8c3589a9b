"""Background solves over real HTTP: submit, poll, stop, list, the same plan as `matcher solve`,
and tenants that cannot see each other's jobs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import matcher
from tests.service.conftest import EXAMPLES, Running, example, wait_for


def _without_wall_time(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan as matcher writes it (no nulls) without the one field that differs between two
    runs: the solver's wall time."""
    copy: dict[str, Any] = matcher.Plan.model_validate(plan).model_dump(
        mode="json", exclude_none=True
    )
    copy["solver"].pop("wall_time_s", None)
    return copy


def test_the_bundled_community_polled_to_done_is_the_plan_matcher_solve_writes(
    service: Running, tmp_path: Path
) -> None:
    """POST the community, poll to done: the plan is `matcher solve`'s for the same solver, seed
    and limit (greedy runs to its end), and it keeps every rule."""
    with service.client("alpha") as client:
        response = client.post("/v1/plans", json={"problem": example("community"), "seed": 3})
        assert response.status_code == 202, response.text
        accepted = response.json()
        assert accepted["status"] == "queued"
        assert response.headers["location"] == accepted["url"] == f"/v1/plans/{accepted['id']}"
        job = wait_for(client, accepted["id"])
        assert job["status"] == "done", job
        assert job["progress"]["phase"] == "done"
        assert job["progress"]["visits_planned"] == job["plan"]["metrics"]["visits_planned"]
        assert job["progress"]["visits_wanted"] == job["plan"]["metrics"]["visits_requested"]
        raw = client.get(job["plan_url"])
    assert raw.status_code == 200
    output = tmp_path / "plan.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "matcher",
            "solve",
            str(EXAMPLES / "community.json"),
            "-o",
            str(output),
            "--seed",
            "3",
        ],
        check=True,
        capture_output=True,
    )
    from_cli = json.loads(output.read_text(encoding="utf-8"))
    assert _without_wall_time(raw.json()) == _without_wall_time(from_cli)
    assert _without_wall_time(job["plan"]) == _without_wall_time(from_cli)
    problem = matcher.Problem.model_validate(example("community"))
    assert matcher.check_plan(problem, matcher.Plan.model_validate_json(raw.content)).ok


def test_stop_keeps_the_best_plan_found(service: Running) -> None:
    """A solving job shows its progress and its plan so far (which keeps every rule); DELETE
    answers 202 and the job ends `stopped` with the best plan found, which keeps every rule."""
    body = {"problem": example("community"), "solver": "lns", "time_limit_s": 20, "seed": 1}
    with service.client("alpha") as client:
        job_id = client.post("/v1/plans", json=body).json()["id"]
        solving = wait_for(client, job_id, ("solving",))
        while solving["progress"] is None or solving["progress"]["visits_planned"] == 0:
            solving = wait_for(client, job_id, ("solving",))
        progress = solving["progress"]
        assert progress["phase"] in ("start", "greedy", "search", "polish")
        assert progress["time_limit_s"] == 20
        assert 0 < progress["visits_planned"] <= progress["visits_wanted"]
        while solving["plan"] is None:
            solving = wait_for(client, job_id, ("solving",))
        so_far = matcher.Plan.model_validate(solving["plan"])
        assert matcher.check_plan(matcher.Problem.model_validate(body["problem"]), so_far).ok
        assert client.get(solving["plan_url"]).status_code == 200
        response = client.delete(f"/v1/plans/{job_id}")
        assert response.status_code in (200, 202), response.text
        job = wait_for(client, job_id)
    assert job["status"] == "stopped", job
    assert job["plan"] is not None
    plan = matcher.Plan.model_validate(job["plan"])
    assert plan.solver.status == "STOPPED"
    assert matcher.check_plan(matcher.Problem.model_validate(body["problem"]), plan).ok


def test_jobs_are_listed_newest_first_a_page_at_a_time(service: Running) -> None:
    """GET /v1/plans pages through the tenant's jobs with `next` links, and only its own."""
    with service.client("gamma") as client:
        made = [
            client.post("/v1/plans", json={"problem": example("small"), "seed": seed}).json()["id"]
            for seed in range(3)
        ]
        for job_id in made:
            wait_for(client, job_id)
        first = client.get("/v1/plans", params={"limit": 2}).json()
        assert first["total"] == 3 and first["limit"] == 2
        assert [item["id"] for item in first["items"]] == made[::-1][:2]
        second = client.get(first["next"]).json()
        assert [item["id"] for item in second["items"]] == made[:1]
        assert second["next"] is None
        assert all(item["status"] == "done" for item in first["items"] + second["items"])
        assert client.get("/v1/plans", params={"limit": 0}).status_code == 422


def test_another_tenants_job_is_not_found(service: Running) -> None:
    """beta gets 404 for alpha's job (view, plan, stop) and never sees it listed."""
    with service.client("alpha") as alpha:
        job_id = alpha.post("/v1/plans", json={"problem": example("small")}).json()["id"]
        wait_for(alpha, job_id)
    with service.client("beta") as beta:
        for response in (
            beta.get(f"/v1/plans/{job_id}"),
            beta.get(f"/v1/plans/{job_id}/plan"),
            beta.delete(f"/v1/plans/{job_id}"),
        ):
            assert response.status_code == 404
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "visits" not in response.text
        listed = beta.get("/v1/plans", params={"limit": 100}).json()
        assert job_id not in {item["id"] for item in listed["items"]}
    with service.client("alpha") as alpha:
        assert alpha.get(f"/v1/plans/{job_id}").json()["status"] == "done"


def test_every_endpoint_but_healthz_needs_a_valid_key(service: Running) -> None:
    """No key, a made-up key, or a key of the right shape with a wrong secret: 401."""
    alpha_key = service.keys["alpha"]
    key_id = alpha_key.split(".")[1]
    wrong = [None, "nonsense", f"mk.{key_id}.not-the-secret", "mk..", alpha_key + "x"]
    for key in wrong:
        with service.server.client(key) as client:
            for method, path in (
                ("GET", "/v1/plans"),
                ("POST", "/v1/validate"),
                ("GET", "/v1/schema/problem"),
            ):
                response = client.request(method, path, json={"problem": {}})
                assert response.status_code == 401, (key, path, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
                assert response.json()["status"] == 401
    with service.server.client() as client:
        assert client.get("/healthz").json()["status"] == "ok"


def test_a_revoked_key_is_refused(service: Running) -> None:
    """`matcher serve keys add`, the key works; `matcher serve keys revoke`, it answers 401."""
    data_dir = str(service.server.data_dir)
    added = subprocess.run(
        [sys.executable, "-m", "matcher", "serve", "keys", "add", "delta", "--data-dir", data_dir],
        check=True,
        capture_output=True,
        text=True,
    )
    key = added.stdout.strip().splitlines()[-1]
    with service.server.client(key) as client:
        assert client.get("/v1/plans").status_code == 200
        listed = subprocess.run(
            [sys.executable, "-m", "matcher", "serve", "keys", "list", "--data-dir", data_dir],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert "delta" in listed and "active" in listed
        assert key.split(".")[2] not in listed
        subprocess.run(
            [
                sys.executable,
                "-m",
                "matcher",
                "serve",
                "keys",
                "revoke",
                "delta",
                "--data-dir",
                data_dir,
            ],
            check=True,
            capture_output=True,
        )
        assert client.get("/v1/plans").status_code == 401
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "matcher",
            "serve",
            "keys",
            "revoke",
            "nobody",
            "--data-dir",
            data_dir,
        ],
        capture_output=True,
        text=True,
    )
    assert again.returncode == 2 and "nobody" in again.stderr


def test_an_invalid_job_is_refused_with_every_problem_and_no_job_is_made(
    service: Running,
) -> None:
    """A bad problem, solver, seed, time limit or parameter: 422 problem details naming each
    problem's path; nothing is queued."""
    broken = example("small")
    broken["volunteers"][0]["id"] = broken["volunteers"][1]["id"]
    broken["recipients"][0]["age"] = -5
    with service.client("beta") as client:
        before = client.get("/v1/plans").json()["total"]
        response = client.post(
            "/v1/plans", json={"problem": broken, "solver": "nope", "seed": -1, "extra": 1}
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["status"] == 422 and problem["title"]
        paths = {error["path"] for error in problem["errors"]}
        assert {"/solver", "/seed", "/extra"} <= paths
        assert any(path.startswith("/problem") for path in paths)
        too_long = client.post(
            "/v1/plans", json={"problem": example("small"), "time_limit_s": 10_000}
        )
        assert too_long.status_code == 422
        assert too_long.json()["errors"][0]["path"] == "/time_limit_s"
        parameters = client.post(
            "/v1/plans",
            json={"problem": example("small"), "solver": "lns", "parameters": {"nope": 1}},
        )
        assert parameters.status_code == 422
        assert parameters.json()["errors"][0]["path"] == "/parameters"
        not_json = client.post(
            "/v1/plans", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert not_json.status_code == 422
        assert client.get("/v1/plans").json()["total"] == before
