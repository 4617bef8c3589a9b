"""The command line end to end: solve, check, validate, schema, example, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from matcher.cli import EXIT_INVALID, EXIT_OK, EXIT_VIOLATIONS, example_names, main
from matcher.io import load_plan


@pytest.fixture
def small_problem(tmp_path: Path) -> Path:
    """The bundled small example, written by `matcher example`."""
    path = tmp_path / "small.json"
    assert main(["example", "small", "-o", str(path)]) == EXIT_OK
    return path


def test_examples_are_bundled() -> None:
    """The README's examples are there."""
    assert {"small", "community"} <= set(example_names())


def test_solve_then_check(
    small_problem: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """solve writes a plan that check accepts; the summary names coverage and reasons."""
    plan_path = tmp_path / "plan.json"
    assert main(["solve", str(small_problem), "-o", str(plan_path), "--seed", "3"]) == EXIT_OK
    output = capsys.readouterr().out
    assert "visits planned" in output and "weighted coverage" in output
    plan = load_plan(plan_path)
    assert plan.visits and plan.metrics is not None and plan.solver.seed == 3
    assert main(["check", str(small_problem), str(plan_path)]) == EXIT_OK


def test_check_exits_one_on_a_broken_plan(
    small_problem: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-edited plan whose first visit moves to 03:00 with no duration fails with 1."""
    plan_path = tmp_path / "plan.json"
    assert main(["solve", str(small_problem), "-o", str(plan_path)]) == EXIT_OK
    plan = json.loads(plan_path.read_text())
    first = plan["visits"][0]
    first["start"], first["end"] = "03:00", "03:00"
    plan_path.write_text(json.dumps(plan))
    capsys.readouterr()
    assert main(["check", str(small_problem), str(plan_path)]) == EXIT_VIOLATIONS
    report = capsys.readouterr().out
    assert "visit_mismatch" in report and "volunteer_window" in report


def test_invalid_problem_exit_two_and_no_output(
    small_problem: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every problem is listed on stderr, the exit code is 2 and no plan file appears."""
    data = json.loads(small_problem.read_text())
    data["services"][0]["duration_min"] = -1
    data["volunteers"][0]["availability"] = [{"day": "Funday", "start": "09:00", "end": "10:00"}]
    data["recipients"][0]["needs"][0]["service"] = "no-such-service"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    plan_path = tmp_path / "plan.json"
    assert main(["solve", str(bad), "-o", str(plan_path)]) == EXIT_INVALID
    errors = capsys.readouterr().err
    assert "services.0.duration_min" in errors
    assert "volunteers.0.availability.0.day" in errors
    assert "unknown service 'no-such-service'" in errors
    assert set(tmp_path.iterdir()) == {small_problem, bad}


def test_malformed_json_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Broken JSON names its line; a missing file is named; both exit 2."""
    broken = tmp_path / "broken.json"
    broken.write_text('{"week_start": "2026-11-30",\n  "services": [}')
    assert main(["validate", str(broken)]) == EXIT_INVALID
    assert "line 2" in capsys.readouterr().err
    assert main(["validate", str(tmp_path / "missing.json")]) == EXIT_INVALID
    assert "missing.json" in capsys.readouterr().err


def test_unknown_example_exits_two(capsys: pytest.CaptureFixture[str]) -> None:
    """Asking for an example that does not exist lists the ones that do."""
    assert main(["example", "nowhere"]) == EXIT_INVALID
    assert "small" in capsys.readouterr().err


def test_schema_validates_the_examples(tmp_path: Path) -> None:
    """The published problem schema accepts the bundled examples and rejects a bad weekday."""
    schema_path = tmp_path / "problem.schema.json"
    assert main(["schema", "problem", "-o", str(schema_path)]) == EXIT_OK
    schema = json.loads(schema_path.read_text())
    for name in ("small", "community"):
        example = tmp_path / f"{name}.json"
        assert main(["example", name, "-o", str(example)]) == EXIT_OK
        jsonschema.validate(json.loads(example.read_text()), schema)
    bad = json.loads((tmp_path / "small.json").read_text())
    bad["volunteers"][0]["availability"] = [{"day": "Funday", "start": "09:00", "end": "10:00"}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_plan_schema_accepts_a_solved_plan(small_problem: Path, tmp_path: Path) -> None:
    """The published plan schema accepts what `matcher solve` writes."""
    schema_path = tmp_path / "plan.schema.json"
    plan_path = tmp_path / "plan.json"
    assert main(["schema", "plan", "-o", str(schema_path)]) == EXIT_OK
    assert main(["solve", str(small_problem), "-o", str(plan_path)]) == EXIT_OK
    jsonschema.validate(json.loads(plan_path.read_text()), json.loads(schema_path.read_text()))


def test_unwritable_output_exits_two(small_problem: Path, tmp_path: Path) -> None:
    """An output folder that does not exist is an input error, not a traceback."""
    target = tmp_path / "no-such-folder" / "plan.json"
    assert main(["solve", str(small_problem), "-o", str(target)]) == EXIT_INVALID
    assert not target.exists()


def test_real_process_exit_codes(small_problem: Path, tmp_path: Path) -> None:
    """`python -m matcher` returns the documented codes to the shell."""
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    finished = subprocess.run(
        [sys.executable, "-m", "matcher", "validate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert finished.returncode == EXIT_INVALID
    assert "week_start" in finished.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "matcher", "solve"], capture_output=True, text=True, check=False
    )
    assert usage.returncode == 2
    ok = subprocess.run(
        [sys.executable, "-m", "matcher", "validate", str(small_problem)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == EXIT_OK, ok.stderr


def test_explain_what_if_and_score(
    small_problem: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """explain names the reasons (in Chinese on request), what-if ranks changes, score judges."""
    plan_path = tmp_path / "plan.json"
    assert main(["solve", str(small_problem), "-o", str(plan_path)]) == EXIT_OK
    plan = load_plan(plan_path)
    assert plan.unassigned, "the small example leaves some visits out"
    capsys.readouterr()
    assert main(["explain", str(small_problem), str(plan_path), "--json"]) == EXIT_OK
    explanations = json.loads(capsys.readouterr().out)
    assert {item["need"] for item in explanations} == {item.need for item in plan.unassigned}
    assert main(["explain", str(small_problem), str(plan_path), "--language", "zh"]) == EXIT_OK
    assert any("\u4e00" <= char <= "\u9fff" for char in capsys.readouterr().out)
    assert main(["what-if", str(small_problem), str(plan_path), "--limit", "2", "--json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)
    assert main(["score", str(small_problem), str(plan_path)]) == EXIT_OK
    broken = json.loads(plan_path.read_text())
    broken["visits"][0]["start"], broken["visits"][0]["end"] = "03:00", "03:00"
    broken_path = tmp_path / "broken.json"
    broken_path.write_text(json.dumps(broken))
    capsys.readouterr()
    assert main(["score", str(small_problem), str(broken_path)]) == EXIT_VIOLATIONS
