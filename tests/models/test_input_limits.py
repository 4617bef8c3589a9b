"""Input limits (`matcher.models.limits.InputLimits`): a crafted input is refused before any work
with its path and the limit; nesting and ids of the wrong type are validation problems, never
tracebacks; the largest real community passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from matcher.generator import generate_community, problem_json
from matcher.io import InputError, load_plan, load_problem
from matcher.models import Problem
from matcher.models.limits import InputLimits, limit_issues
from matcher.replan.changes import ChangeList, load_changes
from tests.helpers import EXAMPLES, ROOT, error_paths


def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "small.json").read_text())
    return data


def _windows(count: int) -> list[dict[str, str]]:
    return [{"day": "mon", "start": "09:00", "end": "10:00"} for _ in range(count)]


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _matcher(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "matcher", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_a_need_with_2000_windows_is_refused_with_the_limit() -> None:
    data = _data()
    data["recipients"][0]["needs"][0]["windows"] = _windows(2000)
    data["recipients"][0]["home_windows"] = _windows(2000)
    errors = error_paths(data)
    assert errors == {
        "recipients.0.needs.0.windows": "2,000 windows: more than the limit of 100 "
        "(InputLimits.max_windows_per_need)",
        "recipients.0.home_windows": "2,000 home windows: more than the limit of 100 "
        "(InputLimits.max_home_windows)",
    }


def test_every_limit_is_reported_together() -> None:
    data = _data()
    data["volunteers"][0]["availability"] = _windows(101)
    data["volunteers"][1]["id"] = "v" * 201
    data["name"] = "n" * 10_001
    data["travel"] = {"method": "graph", "walkways": [{"a": "x", "b": "y", "distance_m": 1}] * 3}
    limits = InputLimits(max_walkway_edges=2)
    issues = dict(limit_issues(data, limits))
    assert set(issues) == {
        ("volunteers", 0, "availability"),
        ("volunteers", 1, "id"),
        ("name",),
        ("travel", "walkways"),
    }
    assert "InputLimits.max_id_chars" in issues[("volunteers", 1, "id")]


def test_limits_are_configurable() -> None:
    data = _data()
    assert Problem.model_validate(data, context={"limits": InputLimits()})
    with pytest.raises(ValidationError, match="max_recipients"):
        Problem.model_validate(data, context={"limits": InputLimits(max_recipients=1)})
    matrix = {"places": ["a", "b", "c"], "distance_m": [[0, 1, 1], [1, 0, 1], [1, 1, 0]]}
    issues = limit_issues({"travel": {"matrix": matrix}}, InputLimits(max_matrix_places=2))
    assert ("travel", "matrix", "places") in dict(issues)
    assert ("travel", "matrix", "distance_m") in dict(issues)


def test_the_largest_real_community_passes(tmp_path: Path) -> None:
    problem = generate_community(recipients=1500, volunteers=300, buildings=8, seed=0)
    path = tmp_path / "week.json"
    path.write_text(problem_json(problem), encoding="utf-8")
    assert len(load_problem(path).recipients) == 1500


def test_nesting_1000_deep_is_a_validation_problem_with_its_path() -> None:
    data = _data()
    data["recipients"][0]["name"] = _nested(1000)
    errors = error_paths(data)
    (path,) = errors
    assert path.startswith("recipients.0.name.0.0")
    assert "InputLimits.max_depth" in errors[path]


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_json_files_are_input_errors(tmp_path: Path, depth: int) -> None:
    data = _data()
    data["recipients"][1]["needs"] = "PLACEHOLDER"
    text = json.dumps(data).replace('"PLACEHOLDER"', "[" * depth + "]" * depth)
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="utf-8")
    for loader in (load_problem, load_plan, load_changes):
        with pytest.raises(InputError, match=r"recipients\.1\.needs\.0\.0.*max_depth.*line 1"):
            loader(path)


@pytest.mark.parametrize("bad", [["a"], {"a": 1}, 5])
def test_ids_and_references_of_the_wrong_type_are_reported_with_their_path(bad: Any) -> None:
    data = _data()
    data["recipients"][0]["needs"][0]["service"] = bad
    data["recipients"][0]["needs"][0]["id"] = bad
    data["volunteers"][0]["id"] = bad
    data["services"][0]["id"] = bad
    data["recipients"][1]["preferred_volunteers"] = [bad]
    data["pinned"] = [{"need": bad, "day": "mon", "start": "09:00", "volunteers": [bad]}]
    data["dependencies"] = [{"first": bad, "second": bad, "kind": "simultaneous"}]
    errors = error_paths(data)
    assert {
        "recipients.0.needs.0.service",
        "recipients.0.needs.0.id",
        "volunteers.0.id",
        "services.0.id",
        "recipients.1.preferred_volunteers.0",
        "pinned.0.need",
        "pinned.0.volunteers.0",
        "dependencies.0.first",
    } <= set(errors)


def test_places_and_walkway_ends_of_the_wrong_type_are_reported() -> None:
    data = _data()
    data["recipients"][0]["location"] = {"place": ["a"]}
    data["travel"] = {"method": "graph", "walkways": [{"a": {"x": 1}, "b": "y", "distance_m": 1}]}
    errors = error_paths(data)
    assert {"recipients.0.location.place", "travel.walkways.0.a"} <= set(errors)


def test_changes_are_limited_too() -> None:
    change = {"kind": "window_change", "need": "n1", "windows": _windows(2000)}
    with pytest.raises(ValidationError, match="max_windows_per_need"):
        ChangeList.model_validate([change])


def test_the_command_line_prints_these_errors_with_exit_2(tmp_path: Path) -> None:
    data = _data()
    data["recipients"][0]["needs"][0]["windows"] = _windows(2000)
    data["recipients"][1]["needs"][0]["service"] = ["x"]
    data["recipients"][1]["priority"] = 1e308
    wide = tmp_path / "wide.json"
    wide.write_text(json.dumps(data), encoding="utf-8")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    for path, expected in ((wide, "max_windows_per_need"), (deep, "max_depth")):
        plan = tmp_path / "plan.json"
        for command in (["validate", str(path)], ["solve", str(path), "-o", str(plan)]):
            result = _matcher(*command)
            assert result.returncode == 2, result.stderr
            assert expected in result.stderr + result.stdout
            assert "Traceback" not in result.stderr
            assert not plan.exists()
    data = _data()
    data["recipients"][1]["needs"][0]["service"] = ["x"]
    data["recipients"][1]["priority"] = 1e308
    wide.write_text(json.dumps(data), encoding="utf-8")
    result = _matcher("validate", str(wide))
    assert result.returncode == 2
    assert "recipients.1.needs.0.service" in result.stderr
    assert "recipients.1.priority" in result.stderr


def test_a_long_text_among_numbers_is_still_reported() -> None:
    """The limit walk skips lists of plain numbers (a matrix row: 9 million cells took 20 s
    cell by cell), but a row holding anything else is walked as before."""
    from matcher.models.limits import InputLimits, limit_issues

    limits = InputLimits(max_text_chars=10)
    assert limit_issues({"rows": [[1.0, 2, None, True]]}, limits) == []
    issues = limit_issues({"rows": [[1.0, "x" * 11, 3.0]]}, limits)
    assert [path for path, _ in issues] == [("rows", 0, 1)]


@pytest.mark.parametrize(
    "text",
    [
        '{"a": [1, 2.5, -0.0, 1e-7, 12345678901234567890123], "b": "\\u00e9\\ud83d\\ude00"}',
        '{"x": NaN, "y": Infinity, "z": -Infinity}',
        '{"big": 1e400, "dup": 1, "dup": 2}',
        "[" * 500 + "]" * 500,
    ],
)
def test_the_fast_reader_gives_what_the_standard_reader_gives(text: str) -> None:
    """Strict JSON goes through orjson, anything else through the standard reader: the value
    (NaN compared as NaN) is the standard reader's either way."""
    from matcher.io import parse_json

    limits = InputLimits(max_depth=5000)
    assert json.dumps(parse_json(text, "t.json", limits)) == json.dumps(json.loads(text))


def test_every_example_reads_the_same_through_the_fast_reader() -> None:
    from matcher.io import parse_json

    for path in sorted(EXAMPLES.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert parse_json(text, path) == json.loads(text), path.name


@pytest.mark.parametrize("text", ['{"a": [1, 2,]}', '{"a": 1', "[1, 2] x"])
def test_broken_json_is_reported_with_line_and_column(text: str) -> None:
    from matcher.io import parse_json

    with pytest.raises(InputError, match=r"not valid JSON at line 1, column \d+"):
        parse_json(text, "t.json")


def test_a_matrix_nested_too_deep_is_refused_by_the_fast_reader_with_its_line() -> None:
    """Shallow enough for orjson, deeper than the limit: the same message as the standard
    path, with the path, line and column."""
    from matcher.io import parse_json

    text = '{"travel": {"matrix": {"distance_m": [[0, [[[1]]]]]}}}'
    with pytest.raises(InputError, match=r"travel\.matrix\.distance_m\.0\.1.*max_depth.*line 1"):
        parse_json(text, "t.json", InputLimits(max_depth=6))


def test_the_longest_day_holds_solomon_c2_at_tenths_of_a_minute() -> None:
    from benchmarks.external import finest_time_scale
    from matcher.models.common import MAX_DAY_LENGTH_MIN
    from matcher.models.limits import MAX_WEEK_MIN

    assert MAX_WEEK_MIN == 7 * MAX_DAY_LENGTH_MIN
    assert finest_time_scale(3390, 10) == 10
    data = _data()
    data["day_length_min"] = MAX_DAY_LENGTH_MIN
    assert Problem.model_validate(data).day_length_min == MAX_DAY_LENGTH_MIN
    data["day_length_min"] = MAX_DAY_LENGTH_MIN + 1
    assert "day_length_min" in error_paths(data)
