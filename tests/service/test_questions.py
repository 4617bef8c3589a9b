"""The synchronous endpoints over real HTTP, each answering what the library answers."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

import matcher
from matcher.models import Need
from matcher.replan.recommend import recommend
from tests.service.conftest import Running, example


@pytest.fixture(scope="module")
def week() -> tuple[dict[str, Any], dict[str, Any]]:
    """The small example and its greedy plan, as JSON."""
    problem = example("small")
    plan = matcher.solve(problem, seed=0)
    return problem, json.loads(plan.model_dump_json(exclude_none=True))


def test_validate_counts_a_valid_problem_and_lists_every_problem_of_a_bad_one(
    service: Running,
) -> None:
    problem = example("small")
    with service.client("alpha") as client:
        response = client.post("/v1/validate", json={"problem": problem})
        assert response.status_code == 200
        assert response.json() == {
            "valid": True,
            "recipients": len(problem["recipients"]),
            "needs": sum(len(r["needs"]) for r in problem["recipients"]),
            "volunteers": len(problem["volunteers"]),
            "warnings": list(matcher.Problem.model_validate(problem).warnings()),
        }
        problem["recipients"][0]["needs"][0]["service"] = "no-such-service"
        problem["volunteers"][0]["availability"][0]["start"] = "25:99"
        bad = client.post("/v1/validate", json={"problem": problem})
    assert bad.status_code == 422
    errors = bad.json()["errors"]
    assert len(errors) >= 2
    assert any(error["path"].startswith("/problem/volunteers/0/availability/0") for error in errors)
    assert any("no-such-service" in error["message"] for error in errors)
    for error in errors:
        assert error["location"] == ".".join(error["path"].strip("/").split("/"))


def test_check_judges_a_plan_as_the_checker_does(
    service: Running, week: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    problem, plan = week
    broken = json.loads(json.dumps(plan))
    first = broken["visits"][0]
    broken["visits"].append({**first, "volunteers": first["volunteers"]})
    with service.client("alpha") as client:
        good = client.post("/v1/check", json={"problem": problem, "plan": plan}).json()
        bad = client.post("/v1/check", json={"problem": problem, "plan": broken}).json()
    assert good["ok"] is True and good["report"]["violations"] == []
    expected = matcher.check_plan(
        matcher.Problem.model_validate(problem), matcher.Plan.model_validate(broken)
    )
    assert bad["ok"] is False
    assert [v["rule"] for v in bad["report"]["violations"]] == [v.rule for v in expected.violations]


def test_score_explain_and_what_if_answer_as_the_library(
    service: Running, week: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    problem, plan = week
    model_problem = matcher.Problem.model_validate(problem)
    model_plan = matcher.Plan.model_validate(plan)
    with service.client("beta") as client:
        scored = client.post("/v1/score", json={"problem": problem, "plan": plan})
        explained = client.post("/v1/explain", json={"problem": problem, "plan": plan})
        what_if = client.post("/v1/what-if", json={"problem": problem, "plan": plan, "limit": 2})
    assert scored.status_code == explained.status_code == what_if.status_code == 200
    score = matcher.score_plan(model_problem, model_plan)
    assert scored.json()["ok"] is True
    assert scored.json()["score"]["objective"] == pytest.approx(score.objective)
    explanations = matcher.explain_unassigned(model_problem, model_plan)
    assert [item["need"] for item in explained.json()["explanations"]] == [
        item.need for item in explanations
    ]
    assert [item["reason"] for item in explained.json()["explanations"]] == [
        item.reason for item in explanations
    ]
    changes = what_if.json()["changes"]
    assert len(changes) <= 2
    expected = matcher.what_if(model_problem, model_plan, limit=2)
    assert [item["visits_gained"] for item in changes] == [item.visits_gained for item in expected]


def test_replan_gives_the_new_plan_and_the_diff(
    service: Running, week: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    problem, plan = week
    busy = plan["visits"][0]["volunteers"][0]
    changes = {"changes": [{"kind": "volunteer_unavailable", "volunteer": busy}]}
    with service.client("alpha") as client:
        response = client.post(
            "/v1/replan", json={"problem": problem, "plan": plan, "changes": changes}
        )
        unknown = client.post(
            "/v1/replan",
            json={
                "problem": problem,
                "plan": plan,
                "changes": {"changes": [{"kind": "volunteer_unavailable", "volunteer": "zz"}]},
            },
        )
    assert response.status_code == 200, response.text
    result = response.json()
    new_plan = matcher.Plan.model_validate(result["plan"])
    changed = matcher.Problem.model_validate(result["problem"])
    assert matcher.check_plan(changed, new_plan).ok
    assert all(busy not in visit.volunteers for visit in new_plan.visits)
    diff = result["diff"]
    assert diff["changes"] and diff["moved"] + diff["reassigned"] + diff["dropped"]
    assert unknown.status_code == 422
    assert any("zz" in error["message"] for error in unknown.json()["errors"])


def test_recommend_lists_the_slots_the_library_finds(
    service: Running, week: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    problem, plan = week
    recipient = problem["recipients"][0]["id"]
    need = {"id": "new-meal", "service": "meal"}
    with service.client("alpha") as client:
        response = client.post(
            "/v1/recommend",
            json={"problem": problem, "plan": plan, "recipient": recipient, "need": need},
        )
        unknown = client.post(
            "/v1/recommend",
            json={"problem": problem, "plan": plan, "recipient": "nobody", "need": need},
        )
    assert response.status_code == 200, response.text
    expected = recommend(
        matcher.Problem.model_validate(problem),
        matcher.Plan.model_validate(plan),
        recipient,
        Need.model_validate(need),
    )
    assert response.json() == json.loads(expected.model_dump_json())
    assert unknown.status_code == 422
    assert any("nobody" in error["message"] for error in unknown.json()["errors"])


@pytest.mark.parametrize("kind", ["problem", "plan", "changes"])
def test_the_schemas_are_those_matcher_schema_writes(service: Running, kind: str) -> None:
    written = subprocess.run(
        [sys.executable, "-m", "matcher", "schema", kind], check=True, capture_output=True
    ).stdout
    with service.client("gamma") as client:
        response = client.get(f"/v1/schema/{kind}")
        assert response.status_code == 200
        assert response.json() == json.loads(written)
        assert client.get("/v1/schema/other").status_code == 422


def test_the_openapi_document_is_matcher_schema_openapi(service: Running) -> None:
    """`matcher schema openapi` writes the document the server publishes, versioned under /v1,
    with the problem's schema from the same model."""
    written = json.loads(
        subprocess.run(
            [sys.executable, "-m", "matcher", "schema", "openapi"],
            check=True,
            capture_output=True,
        ).stdout
    )
    with service.server.client() as client:
        served = client.get("/openapi.json").json()
    assert served == written
    assert all(path.startswith("/v1/") or path == "/healthz" for path in served["paths"])
    components = served["components"]["schemas"]
    assert "Problem" in components
    assert set(matcher.Problem.model_json_schema()["properties"]) == set(
        components["Problem"]["properties"]
    )
