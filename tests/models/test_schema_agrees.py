"""The published JSON Schema (`matcher schema problem|plan|changes`) and the validator agree:
every instance of tests/data and examples/, and changes and plans, pass both."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

from matcher.models import Plan, Problem
from matcher.replan.changes import ChangeList
from tests.helpers import DATA, EXAMPLES, solved

INSTANCES = sorted(DATA.glob("*.json")) + sorted(EXAMPLES.glob("*.json"))

CHANGES: list[Any] = [
    {"changes": [{"kind": "volunteer_unavailable", "volunteer": "v1", "days": ["Tuesday"]}]},
    [
        {"kind": "volunteer_unavailable", "volunteer": "v1", "from_time": 600, "to_time": "12:00"},
        {"kind": "recipient_away", "recipient": "r1", "until": "2026-12-02"},
        {
            "kind": "window_change",
            "need": "n1",
            "windows": [{"day": "Monday", "start": 540, "end": "11:00"}],
        },
    ],
]


def _schema(model: type[BaseModel], mode: str = "validation") -> dict[str, Any]:
    schema = model.model_json_schema(mode=mode)  # type: ignore[arg-type]
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _agree(model: type[BaseModel], instance: Any, mode: str = "validation") -> None:
    """Both the validator and the schema accept the instance."""
    model.model_validate(instance)
    jsonschema.validate(instance, _schema(model, mode), cls=jsonschema.Draft202012Validator)


def test_published_schemas_name_their_dialect_and_id() -> None:
    for model, mode in (
        (Problem, "validation"),
        (Plan, "serialization"),
        (ChangeList, "validation"),
    ):
        schema = _schema(model, mode)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].startswith("urn:matcher:schema:")


@pytest.mark.parametrize("path", INSTANCES, ids=lambda path: path.name)
def test_every_instance_passes_schema_and_validator(path: Path) -> None:
    _agree(Problem, json.loads(path.read_text(encoding="utf-8")))


def test_day_names_and_integer_minutes_pass_both() -> None:
    data = json.loads((EXAMPLES / "small.json").read_text(encoding="utf-8"))
    written = copy.deepcopy(data)
    for volunteer in written["volunteers"]:
        for window in volunteer["availability"]:
            window["day"] = {"mon": "Monday", "tue": "TUES"}.get(window["day"], window["day"])
            hours, minutes = window["start"].split(":")
            window["start"] = int(hours) * 60 + int(minutes)
    _agree(Problem, written)


@pytest.mark.parametrize("changes", CHANGES, ids=["object", "bare list"])
def test_change_files_pass_both(changes: Any) -> None:
    _agree(ChangeList, changes)


def test_a_written_plan_passes_both() -> None:
    problem = Problem.model_validate(json.loads((DATA / "ok_small_pinned.json").read_text()))
    plan = solved(problem)
    _agree(Plan, json.loads(plan.model_dump_json(exclude_none=True)), "serialization")


def test_schema_refuses_what_the_validator_refuses() -> None:
    schema = _schema(Problem)
    data = json.loads((EXAMPLES / "small.json").read_text(encoding="utf-8"))
    data["volunteers"][0]["availability"][0]["start"] = "9:75"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    data["volunteers"][0]["availability"][0]["start"] = "09:00"
    data["volunteers"][0]["availability"][0]["day"] = "someday"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
