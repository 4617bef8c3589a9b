"""Fuzzing matcher's inputs: mutated problems, plans, changes and ledgers, through the library
loaders and through the command line as a real subprocess.

The library raises only its documented input errors (pydantic ValidationError, InputError,
ValueError); the command line exits 0, 1 or 2 (never 3), prints no traceback, writes no output
on exit 2 and leaves no `*.matcher-tmp` file. Bounded, derandomized examples for CI;
`python -m benchmarks.fuzz` runs the same checks with many more.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from matcher.io import InputError, load_plan, load_problem
from matcher.ledger import LedgerStore
from matcher.replan.changes import load_changes
from tests.fuzz import strategies as fuzz

LIBRARY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CLI = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DOCUMENTED_ERRORS = (ValidationError, InputError, ValueError)
CLI_TIMEOUT_S = 120


def load_ledger(path: Path) -> Any:
    """The ledger loader `matcher credits show` uses."""
    return LedgerStore(path).load()


def library_outcome(loader: Callable[[Path], Any], text: str) -> str:
    """Load `text` from a file with `loader`; 'ok' or the documented error's name. Any other
    exception propagates (and fails the property)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.json"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            loader(path)
        except DOCUMENTED_ERRORS as error:
            return type(error).__name__
        return "ok"


def run_cli(arguments: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    """`python -m matcher ARGUMENTS` in `folder`."""
    return subprocess.run(
        [sys.executable, "-m", "matcher", *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def cli_run(
    files: dict[str, str], arguments: list[str], output: str | None = None
) -> tuple[int, list[str]]:
    """Write `files` into a fresh folder and run the command; its exit code and every breach
    of the documented contract (exit 0, 1 or 2; no traceback; nothing written on exit 2; no
    temporary file left)."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for file_name, text in files.items():
            (folder / file_name).write_text(text, encoding="utf-8", errors="surrogatepass")
        result = run_cli(arguments, folder)
        breaches = []
        if result.returncode not in (0, 1, 2):
            breaches.append(f"exit {result.returncode}: {result.stderr[-500:]}")
        if "Traceback" in result.stderr:
            breaches.append(f"traceback: {result.stderr[-1500:]}")
        if output is not None and result.returncode == 2 and (folder / output).exists():
            breaches.append(f"exit 2 but {output} was written")
        leftovers = sorted(path.name for path in folder.iterdir() if "matcher-tmp" in path.name)
        if leftovers:
            breaches.append(f"temporary files left: {leftovers}")
        return result.returncode, breaches


CLI_COMMANDS: dict[str, tuple[list[str], str, str | None]] = {
    "validate": (["validate", "problem.json"], "problem.json", None),
    "solve": (
        ["solve", "problem.json", "-o", "out.json", "--time-limit-s", "2"],
        "problem.json",
        "out.json",
    ),
    "check": (["check", "problem.json", "plan.json"], "plan.json", None),
    "replan": (
        ["replan", "problem.json", "plan.json", "changes.json", "-o", "new.json"],
        "changes.json",
        "new.json",
    ),
    "credits show": (["credits", "show", "--ledger", "ledger.json"], "ledger.json", None),
}
"""Each command fuzzed: its arguments, the file that gets the mutated text, its output file."""


def cli_files(command: str, text: str) -> dict[str, str]:
    """The files `command` reads: valid seeds, with `text` in the fuzzed one."""
    files = {
        "problem.json": fuzz.SMALL.read_text(encoding="utf-8"),
        "plan.json": fuzz.plan_text(),
    }
    _, fuzzed, output = CLI_COMMANDS[command]
    files[fuzzed] = text
    assert output not in files, "an output must not be one of the seed files"
    return files


def cli_command(command: str, text: str) -> tuple[int, list[str]]:
    """Run `command` on its seeds with `text` in the fuzzed file."""
    arguments, _, output = CLI_COMMANDS[command]
    return cli_run(cli_files(command, text), arguments, output)


# ------------------------------------------------------------------------ the library


@LIBRARY
@given(fuzz.mutated_problem())
def test_load_problem_raises_only_input_errors(text: str) -> None:
    library_outcome(load_problem, text)


@LIBRARY
@given(fuzz.mutated_plan())
def test_load_plan_raises_only_input_errors(text: str) -> None:
    library_outcome(load_plan, text)


@LIBRARY
@given(fuzz.mutated_changes())
def test_load_changes_raises_only_input_errors(text: str) -> None:
    library_outcome(load_changes, text)


@LIBRARY
@given(fuzz.mutated_ledger())
def test_load_ledger_raises_only_input_errors(text: str) -> None:
    library_outcome(load_ledger, text)


# ------------------------------------------------------------------- the command line


def assert_cli(command: str, text: str) -> None:
    """The contract holds for `command` with `text` in its fuzzed file."""
    _, breaches = cli_command(command, text)
    assert not breaches, breaches


@CLI
@given(fuzz.mutated_problem())
def test_cli_validate(text: str) -> None:
    assert_cli("validate", text)


@CLI
@given(fuzz.mutated_problem())
def test_cli_solve(text: str) -> None:
    assert_cli("solve", text)


@CLI
@given(fuzz.mutated_plan())
def test_cli_check(text: str) -> None:
    assert_cli("check", text)


@CLI
@given(fuzz.mutated_changes())
def test_cli_replan(text: str) -> None:
    assert_cli("replan", text)


@CLI
@given(fuzz.mutated_ledger())
def test_cli_credits_show(text: str) -> None:
    assert_cli("credits show", text)


def test_the_seeds_are_valid() -> None:
    """Every seed loads and the CLI accepts it, so mutations start from valid input."""
    for text in fuzz.problem_texts():
        assert library_outcome(load_problem, text) == "ok"
    assert library_outcome(load_plan, fuzz.plan_text()) == "ok"
    assert library_outcome(load_changes, fuzz.changes_text()) == "ok"
    assert library_outcome(load_ledger, fuzz.ledger_text()) == "ok"
    assert cli_command("replan", fuzz.changes_text()) == (0, [])
    assert cli_command("credits show", fuzz.ledger_text()) == (0, [])
