"""The command line end to end: solve, check, validate, schema, example, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel, ConfigDict

from matcher import GreedyParameters, check_plan, solve
from matcher.cli import EXIT_INVALID, EXIT_OK, EXIT_VIOLATIONS, example_names, main
from matcher.generator import generate_community, problem_json
from matcher.io import load_plan, load_problem
from matcher.models import Plan
from matcher.solvers.base import REGISTRY, SolveRequest
from matcher.solvers.registry import get_solver, registered_names

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


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


DATA = Path(__file__).resolve().parent / "data"


class EchoParameters(BaseModel):
    """The parameters of a solver registered by a test: one knob and a default time limit."""

    model_config = ConfigDict(extra="forbid")

    note: str = "none"
    default_time_limit_s: float = 7.5


class EchoSolver:
    """A solver that joins by registering: greedy's plan under another name."""

    name = "echo"
    parameters_type = EchoParameters

    def solve(self, request: SolveRequest) -> Plan:
        assert isinstance(request.parameters, EchoParameters)
        greedy = get_solver("greedy")
        plan = greedy.solve(replace(request, parameters=greedy.parameters_type()))
        info = plan.solver.model_copy(
            update={"solver": self.name, "parameters": request.parameters.model_dump()}
        )
        return plan.model_copy(update={"solver": info})


@pytest.fixture
def echo_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The echo solver in the registry for one test."""
    monkeypatch.setitem(REGISTRY, "echo", EchoSolver())


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_config_gives_the_chosen_solver_its_parameters(tmp_path: Path) -> None:
    """The table named after the solver reaches it; another solver's valid table is unused."""
    config = _write(
        tmp_path / "params.toml", "[greedy]\nregret_candidates = 2\n\n[lns]\niterations = 3\n"
    )
    plan_path = tmp_path / "plan.json"
    problem = str(DATA / "ok_small_min_gap.json")
    assert main(["solve", problem, "-o", str(plan_path), "--config", str(config)]) == EXIT_OK
    plan = load_plan(plan_path)
    assert plan.solver.parameters["regret_candidates"] == 2
    assert plan.solver.parameters["team_candidates"] == GreedyParameters().team_candidates
    assert "iterations" not in plan.solver.parameters


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[greedy]\nregret_candidatez = 2\n", "'regret_candidatez'"),
        ("[lns]\nneighbourhood_sise = 30\n", "'neighbourhood_sise'"),
        ("[greedy]\nregret_candidates = 0\n", "regret_candidates"),
        ("[gredy]\nregret_candidates = 2\n", "[gredy]"),
        ("[auto.cpsat]\nworkerz = 1\n", "'workerz'"),
        ("regret_candidates = 2\n", "'regret_candidates'"),
        ("[greedy\n", "not valid TOML"),
    ],
)
def test_config_problems_exit_two_naming_the_key(
    text: str, named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown key, table or bad value anywhere in the file exits 2, names it, writes
    nothing."""
    config = _write(tmp_path / "params.toml", text)
    plan_path = tmp_path / "plan.json"
    problem = str(DATA / "ok_small_min_gap.json")
    assert main(["solve", problem, "-o", str(plan_path), "--config", str(config)]) == EXIT_INVALID
    error = capsys.readouterr().err
    assert named in error and "params.toml" in error
    assert not plan_path.exists()


def test_auto_passes_its_table_on_and_the_cli_prints_its_choice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`[auto.cpsat]` reaches the solver auto picks, and `matcher solve` prints what
    `plan.solver.statistics["auto"]` says."""
    config = _write(tmp_path / "params.toml", "[auto.cpsat]\ncoverage_time_share = 0.5\n")
    plan_path = tmp_path / "plan.json"
    problem = str(DATA / "ok_small_min_gap.json")
    arguments = ["solve", problem, "-o", str(plan_path), "--solver", "auto"]
    assert main([*arguments, "--config", str(config)]) == EXIT_OK
    plan = load_plan(plan_path)
    chosen = plan.solver.statistics["auto"]
    assert plan.solver.parameters["coverage_time_share"] == 0.5
    assert f"auto chose {chosen['chosen']}: {chosen['reason']}" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "soon"])
@pytest.mark.parametrize("command", ["solve", "replan", "what-if", "score"])
def test_bad_time_limit_is_a_usage_error(
    value: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--time-limit-s` is checked as `matcher.solve` checks it: exit 2 with a clear message."""
    files = {"solve": ["p.json", "-o", "x.json"], "replan": ["p.json", "q.json", "c.json"]}
    positional = files.get(command, ["p.json", "q.json"])
    if command == "replan":
        positional += ["-o", "x.json"]
    with pytest.raises(SystemExit) as stopped:
        main([command, *positional, f"--time-limit-s={value}"])
    assert stopped.value.code == EXIT_INVALID
    error = capsys.readouterr().err
    assert "--time-limit-s" in error
    assert "positive, finite" in error or "not a number of seconds" in error


def test_solve_help_lists_the_registry_with_default_time_limits(
    echo_registered: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """--solver offers every registered solver, each with its parameters type's default time
    limit (or none of its own)."""
    with pytest.raises(SystemExit) as stopped:
        main(["solve", "--help"])
    assert stopped.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--config" in text
    for name in registered_names():
        field = get_solver(name).parameters_type.model_fields.get("default_time_limit_s")
        expected = f"{name} ({field.default:g} s)" if field else f"{name} (none of its own)"
        assert expected in text
    assert "echo (7.5 s)" in text


def test_a_registered_solver_joins_the_api_and_the_cli(
    echo_registered: None, tmp_path: Path
) -> None:
    """A solver registered with `base.register` is taken by `matcher.solve` and `--solver`."""
    problem = load_problem(DATA / "ok_small_min_gap.json")
    plan = solve(problem, solver="echo", parameters={"note": "hello"})
    assert plan.solver.solver == "echo" and plan.solver.parameters["note"] == "hello"
    assert check_plan(problem, plan).ok
    with pytest.raises(ValueError, match="'colour'"):
        solve(problem, solver="echo", parameters={"colour": "red"})
    plan_path = tmp_path / "plan.json"
    arguments = ["solve", str(DATA / "ok_small_min_gap.json"), "-o", str(plan_path)]
    assert main([*arguments, "--solver", "echo"]) == EXIT_OK
    assert load_plan(plan_path).solver.solver == "echo"


def test_register_adds_to_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """`base.register` is how a new solver joins; its name is then one of the choices."""
    monkeypatch.setattr("matcher.solvers.base.REGISTRY", dict(REGISTRY))
    from matcher.solvers import base, registry

    monkeypatch.setattr(registry, "REGISTRY", base.REGISTRY)
    solver = EchoSolver()
    assert base.register(solver) is solver
    assert "echo" in registry.registered_names()
    assert registry.get_solver("echo") is solver


def test_example_community_generates_a_week_of_any_size(tmp_path: Path) -> None:
    """`matcher example community --recipients 600 --volunteers 120 --seed 3` writes the
    generator's week of that size, valid, exactly as `generate_community` makes it."""
    output = tmp_path / "out.json"
    arguments = ["example", "community", "--recipients", "600", "--volunteers", "120"]
    assert main([*arguments, "--seed", "3", "-o", str(output)]) == EXIT_OK
    problem = load_problem(output)
    assert len(problem.recipients) == 600 and len(problem.volunteers) == 120
    expected = generate_community(recipients=600, volunteers=120, seed=3)
    assert output.read_text(encoding="utf-8") == problem_json(expected)


def test_example_community_without_options_is_the_bundled_file(tmp_path: Path) -> None:
    """`matcher example community -o out.json` (what CI runs) still copies the bundled week."""
    output = tmp_path / "community.json"
    assert main(["example", "community", "-o", str(output)]) == EXIT_OK
    assert output.read_bytes() == (EXAMPLES / "community.json").read_bytes()


def test_generator_options_need_the_community_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The generator's options with another example, or a bad size, exit 2 and write
    nothing."""
    output = tmp_path / "out.json"
    assert main(["example", "small", "--recipients", "30", "-o", str(output)]) == EXIT_INVALID
    assert "--recipients" in capsys.readouterr().err
    assert main(["example", "community", "--buildings", "0", "-o", str(output)]) == EXIT_INVALID
    assert "building" in capsys.readouterr().err
    assert not output.exists()
