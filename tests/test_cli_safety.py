"""The command line is bounded and safe (issue 10): no traceback reaches a user (exit 3 for an
internal error, `--debug` shows it), seeds are range-checked, no output overwrites an input,
output folders are checked before any work, and no temporary file is left behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import matcher.io
from matcher import solve
from matcher.api import SEED_MAX
from matcher.cli import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, main
from matcher.io import (
    STALE_TEMPORARY_S,
    TEMPORARY_SUFFIX,
    OutputError,
    load_problem,
    write_text_atomic,
)

HUGE_SEED = str(10**30)


@pytest.fixture
def small_problem(tmp_path: Path) -> Path:
    """The bundled small example, written by `matcher example`."""
    path = tmp_path / "small.json"
    assert main(["example", "small", "-o", str(path)]) == EXIT_OK
    return path


@pytest.fixture
def small_plan(small_problem: Path, tmp_path: Path) -> Path:
    """A greedy plan of the small example."""
    path = tmp_path / "plan.json"
    assert main(["solve", str(small_problem), "-o", str(path)]) == EXIT_OK
    return path


@pytest.fixture
def changes(tmp_path: Path) -> Path:
    """An empty list of changes."""
    path = tmp_path / "changes.json"
    path.write_text('{"changes": []}', encoding="utf-8")
    return path


def _leftovers(folder: Path) -> list[Path]:
    """Hidden temporary files in `folder` (old style `.name.XXXX` and the new suffix)."""
    return [path for path in folder.iterdir() if path.name.startswith(".")]


def _explode(*_arguments: object, **_keywords: object) -> object:
    raise ZeroDivisionError("the solver divided by zero")


# --- No traceback ever reaches a user ---------------------------------------------------------


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_an_internal_error_exits_three_in_one_line(
    debug: list[str],
    small_problem: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A solver that raises an unexpected exception: exit 3, one line asking to report it, no
    traceback unless `--debug` (global, before the command); nothing written. Old code: the
    exception escaped main."""
    monkeypatch.setattr("matcher.cli.solve", _explode)
    target = tmp_path / "out.json"
    assert main([*debug, "solve", str(small_problem), "-o", str(target)]) == EXIT_INTERNAL
    error = capsys.readouterr().err
    lines = [line for line in error.splitlines() if line.startswith("matcher: ")]
    assert len(lines) == 1
    assert "internal error" in lines[0] and "report" in lines[0]
    assert "ZeroDivisionError" in lines[0]
    assert ("Traceback" in error) == bool(debug)
    assert not target.exists() and not _leftovers(tmp_path)


def test_debug_after_the_command_shows_the_traceback(
    small_problem: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`matcher solve ... --debug` works too."""
    monkeypatch.setattr("matcher.cli.solve", _explode)
    target = tmp_path / "out.json"
    assert main(["solve", str(small_problem), "-o", str(target), "--debug"]) == EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err


def test_an_internal_error_through_a_real_process(small_problem: Path, tmp_path: Path) -> None:
    """`python -m matcher` with a solver patched to raise (through a sitecustomize on the
    path): exit 3 and no stack dump; with --debug the stack dump. Old code: exit 1 and a
    traceback."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import matcher.api\n"
        "def _explode(*arguments, **keywords):\n"
        "    raise ZeroDivisionError('the solver divided by zero')\n"
        "matcher.api.solve = _explode\n",
        encoding="utf-8",
    )
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(hook), str(Path(__file__).resolve().parent.parent), environment.get("PYTHONPATH", "")]
    )
    target = tmp_path / "out.json"
    command = [sys.executable, "-m", "matcher", "solve", str(small_problem), "-o", str(target)]
    finished = subprocess.run(command, capture_output=True, text=True, check=False, env=environment)
    assert finished.returncode == EXIT_INTERNAL, finished.stderr
    assert "Traceback" not in finished.stderr
    assert "internal error" in finished.stderr and "report" in finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1
    debugged = subprocess.run(
        [*command, "--debug"], capture_output=True, text=True, check=False, env=environment
    )
    assert debugged.returncode == EXIT_INTERNAL
    assert "Traceback" in debugged.stderr and "ZeroDivisionError" in debugged.stderr
    assert not target.exists()


@pytest.mark.parametrize(
    ("command", "patched"),
    [
        ("check", "check_plan"),
        ("validate", "load_problem"),
        ("explain", "explain_unassigned"),
        ("what-if", "what_if"),
        ("score", "score_plan"),
        ("next-week", "next_week_problem"),
        ("replan", "replan"),
        ("credits-record", "LedgerStore"),
        ("schema", "json.dumps"),
        ("example", "example_names"),
    ],
)
def test_every_command_reports_an_internal_error_as_exit_three(
    command: str,
    patched: str,
    small_problem: Path,
    small_plan: Path,
    changes: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Whatever the command, an unexpected exception (here an unhashable-type TypeError like
    the fuzzed ids gave) is exit 3 in one line, not a traceback."""

    def unhashable(*_arguments: object, **_keywords: object) -> object:
        raise TypeError("unhashable type: 'list'")

    monkeypatch.setattr(f"matcher.cli.{patched}", unhashable)
    problem, plan = str(small_problem), str(small_plan)
    out = str(tmp_path / "out.json")
    argv = {
        "check": ["check", problem, plan],
        "validate": ["validate", problem],
        "explain": ["explain", problem, plan],
        "what-if": ["what-if", problem, plan],
        "score": ["score", problem, plan],
        "next-week": ["next-week", problem, plan, "-o", out],
        "replan": ["replan", problem, plan, str(changes), "-o", out],
        "credits-record": ["credits", "record", problem, plan, "--ledger", out],
        "schema": ["schema"],
        "example": ["example", "--list"],
    }[command]
    capsys.readouterr()
    assert main(argv) == EXIT_INTERNAL
    error = capsys.readouterr().err
    assert "Traceback" not in error and "unhashable type" in error
    assert len(error.strip().splitlines()) == 1
    assert not Path(out).exists()


def test_an_interrupt_is_not_a_traceback(
    small_problem: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C while solving: exit 130 and a one-line notice, nothing written."""

    def interrupted(*_arguments: object, **_keywords: object) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr("matcher.cli.solve", interrupted)
    target = tmp_path / "out.json"
    assert main(["solve", str(small_problem), "-o", str(target)]) == EXIT_INTERRUPTED
    assert "interrupted" in capsys.readouterr().err
    assert not target.exists()


def test_solve_lists_every_input_and_output_problem_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing problem, a missing ledger and a missing output folder: all three reported."""
    argv = [
        "solve",
        str(tmp_path / "missing.json"),
        "--ledger",
        str(tmp_path / "no-ledger.json"),
        "-o",
        str(tmp_path / "nowhere" / "plan.json"),
    ]
    assert main(argv) == EXIT_INVALID
    error = capsys.readouterr().err
    assert "missing.json" in error and "no-ledger.json" in error and "nowhere" in error


# --- Finding 5: huge seeds --------------------------------------------------------------------


@pytest.mark.parametrize("seed", [HUGE_SEED, "-1", str(2**30), str(2**31)])
@pytest.mark.parametrize("command", ["solve", "replan", "what-if", "score"])
def test_a_seed_out_of_range_is_a_usage_error(
    seed: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--seed 10**30` (old code: cpsat crashed with a traceback; greedy took it): exit 2
    naming the option and the range, before any file is read."""
    positional = {
        "solve": ["p.json", "-o", "x.json"],
        "replan": ["p.json", "q.json", "c.json", "-o", "x.json"],
    }.get(command, ["p.json", "q.json"])
    with pytest.raises(SystemExit) as stopped:
        main([command, *positional, f"--seed={seed}"])
    assert stopped.value.code == EXIT_INVALID
    error = capsys.readouterr().err
    assert "--seed" in error and str(SEED_MAX) in error


@pytest.mark.parametrize("solver", ["greedy", "cpsat", "lns"])
def test_the_largest_seed_is_taken_by_every_solver(
    solver: str, small_problem: Path, tmp_path: Path
) -> None:
    """SEED_MAX leaves room for the seeds the solvers derive (2**31-1 crashed cpsat's second
    phase, seed + 1)."""
    target = tmp_path / "out.json"
    argv = ["solve", str(small_problem), "-o", str(target), "--seed", str(SEED_MAX)]
    assert main([*argv, "--solver", solver, "--time-limit-s", "2"]) == EXIT_OK


@pytest.mark.parametrize("seed", [10**30, -1, 2**30, 2**31, 1.5, "3", True])
def test_solve_checks_the_seed(seed: object, small_problem: Path) -> None:
    """`matcher.solve` range-checks its seed too (old code took 10**30 with greedy)."""
    problem = load_problem(small_problem)
    with pytest.raises(ValueError, match="seed"):
        solve(problem, seed=seed)  # type: ignore[arg-type]


# --- Finding 7: output over input -------------------------------------------------------------


def _command_writing_over_an_input(
    name: str, problem: Path, plan: Path, changes: Path, ledger: Path
) -> tuple[list[str], Path]:
    """A command whose output is one of its inputs, and that input."""
    commands = {
        "solve": (["solve", str(problem), "-o", str(problem)], problem),
        "solve-ledger": (
            ["solve", str(problem), "--ledger", str(ledger), "-o", str(ledger)],
            ledger,
        ),
        "solve-previous": (
            ["solve", str(problem), "--previous-plan", str(plan), "-o", str(plan)],
            plan,
        ),
        "replan": (["replan", str(problem), str(plan), str(changes), "-o", str(plan)], plan),
        "replan-diff": (
            [
                "replan",
                str(problem),
                str(plan),
                str(changes),
                "-o",
                str(problem.parent / "new.json"),
                "--diff",
                str(changes),
            ],
            changes,
        ),
        "replan-problem-out": (
            [
                "replan",
                str(problem),
                str(plan),
                str(changes),
                "-o",
                str(problem.parent / "new.json"),
                "--problem-out",
                str(problem),
            ],
            problem,
        ),
        "next-week": (["next-week", str(problem), str(plan), "-o", str(problem)], problem),
        "next-week-plan": (["next-week", str(problem), str(plan), "-o", str(plan)], plan),
        "credits-record": (
            ["credits", "record", str(problem), str(plan), "--ledger", str(plan)],
            plan,
        ),
    }
    return commands[name]


@pytest.mark.parametrize(
    "name",
    [
        "solve",
        "solve-ledger",
        "solve-previous",
        "replan",
        "replan-diff",
        "replan-problem-out",
        "next-week",
        "next-week-plan",
        "credits-record",
    ],
)
def test_an_output_that_is_an_input_is_refused(
    name: str,
    small_problem: Path,
    small_plan: Path,
    changes: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Old code overwrote the input and exited 0; now exit 2 naming the option, nothing
    written (the input keeps its bytes)."""
    ledger = tmp_path / "ledger.json"
    assert (
        main(["credits", "record", str(small_problem), str(small_plan), "--ledger", str(ledger)])
        == 0
    )
    argv, victim = _command_writing_over_an_input(name, small_problem, small_plan, changes, ledger)
    before = victim.read_bytes()
    capsys.readouterr()
    assert main(argv) == EXIT_INVALID
    error = capsys.readouterr().err
    assert "input" in error and str(victim) in error
    assert victim.read_bytes() == before
    assert not (tmp_path / "new.json").exists()


@pytest.mark.parametrize("link", ["symlink", "hardlink", "dotted"])
def test_an_output_reaching_an_input_another_way_is_refused(
    link: str, small_problem: Path, tmp_path: Path
) -> None:
    """The same file through a symlink, a hard link or `./sub/../`: still refused."""
    if link == "symlink":
        alias = tmp_path / "alias.json"
        alias.symlink_to(small_problem)
    elif link == "hardlink":
        alias = tmp_path / "alias.json"
        os.link(small_problem, alias)
    else:
        (tmp_path / "sub").mkdir()
        alias = tmp_path / "sub" / ".." / small_problem.name
    before = small_problem.read_bytes()
    assert main(["solve", str(small_problem), "-o", str(alias)]) == EXIT_INVALID
    assert small_problem.read_bytes() == before


# --- Finding 10 (part): output folders before any work, the user's path in write errors -----


def test_a_missing_output_folder_is_found_before_solving(
    small_problem: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`solve` checks the output folder before it plans (old code planned first)."""
    monkeypatch.setattr("matcher.cli.solve", _explode)
    target = tmp_path / "no-such-folder" / "plan.json"
    assert main(["solve", str(small_problem), "-o", str(target)]) == EXIT_INVALID
    error = capsys.readouterr().err
    assert "does not exist" in error and "-o" in error


@pytest.mark.parametrize("command", ["solve", "next-week", "schema", "example", "credits"])
def test_every_writing_command_checks_its_output_folder(
    command: str,
    small_problem: Path,
    small_plan: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every command that writes refuses a missing folder or a folder as the output, exit 2."""
    missing = str(tmp_path / "nowhere" / "out.json")
    argv = {
        "solve": ["solve", str(small_problem), "-o", missing],
        "next-week": ["next-week", str(small_problem), str(small_plan), "-o", missing],
        "schema": ["schema", "-o", missing],
        "example": ["example", "small", "-o", missing],
        "credits": ["credits", "record", str(small_problem), str(small_plan), "--ledger", missing],
    }[command]
    assert main(argv) == EXIT_INVALID
    assert "does not exist" in capsys.readouterr().err
    folder_argv = [str(tmp_path) if item == missing else item for item in argv]
    assert main(folder_argv) == EXIT_INVALID
    assert "folder" in capsys.readouterr().err


def test_a_write_error_names_the_users_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error names the target, not the random temporary file (old code: the temporary)."""
    target = tmp_path / "plan.json"

    def failing_replace(source: object, destination: object) -> None:
        raise PermissionError(13, "Permission denied", str(source))

    monkeypatch.setattr(matcher.io.os, "replace", failing_replace)
    with pytest.raises(OutputError) as raised:
        write_text_atomic(target, "{}")
    assert str(target) in str(raised.value) and "Permission denied" in str(raised.value)
    assert TEMPORARY_SUFFIX not in str(raised.value)
    assert not _leftovers(tmp_path) and not target.exists()


# --- Finding 9: temporary files ---------------------------------------------------------------


@pytest.mark.parametrize("failure", [OSError(28, "No space left"), KeyboardInterrupt()])
@pytest.mark.parametrize("stage", ["chmod", "fsync", "replace"])
def test_a_failure_mid_write_leaves_no_temporary_file(
    stage: str, failure: BaseException, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whichever step fails (old code left the file when chmod failed), the temporary file is
    gone and the old target is untouched."""
    target = tmp_path / "plan.json"
    target.write_text("old", encoding="utf-8")

    def fail(*_arguments: object) -> None:
        raise failure

    monkeypatch.setattr(matcher.io.os, stage, fail)
    with pytest.raises((OutputError, KeyboardInterrupt)):
        write_text_atomic(target, "new")
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["plan.json"]


def _dead_pid() -> int:
    """A process id that no process has (a finished child's)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporary_files_are_removed_by_the_next_write(tmp_path: Path) -> None:
    """A killed run's temporary file (its writer gone, or older than an hour) is removed by the
    next write of the same target; a live writer's fresh file and other targets' files stay."""
    target = tmp_path / "plan.json"
    dead = tmp_path / f".plan.json.{_dead_pid()}.abc123{TEMPORARY_SUFFIX}"
    old = tmp_path / f".plan.json.{os.getppid()}.def456{TEMPORARY_SUFFIX}"
    live = tmp_path / f".plan.json.{os.getppid()}.ghi789{TEMPORARY_SUFFIX}"
    other = tmp_path / f".other.json.{_dead_pid()}.jkl012{TEMPORARY_SUFFIX}"
    for path in (dead, old, live, other):
        path.write_text('{"partial', encoding="utf-8")
    long_ago_s = time.time() - STALE_TEMPORARY_S - 60
    os.utime(old, (long_ago_s, long_ago_s))
    write_text_atomic(target, "{}\n")
    assert target.read_text(encoding="utf-8") == "{}\n"
    assert not dead.exists() and not old.exists()
    assert live.exists() and other.exists()


def test_a_killed_write_is_cleaned_by_the_next_command(small_problem: Path, tmp_path: Path) -> None:
    """A real process killed (SIGKILL) while writing leaves its temporary file; the next
    `matcher solve` to that target removes it."""
    target = tmp_path / "plan.json"
    script = (
        "import os, signal, matcher.io\n"
        "def stop(*arguments):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "matcher.io.os.fsync = stop\n"
        f"matcher.io.write_text_atomic({str(target)!r}, 'partial')\n"
    )
    subprocess.run([sys.executable, "-c", script], check=False)
    assert _leftovers(tmp_path), "the killed writer should have left its temporary file"
    assert main(["solve", str(small_problem), "-o", str(target)]) == EXIT_OK
    assert not _leftovers(tmp_path)


def test_a_terminated_command_removes_its_temporary_file(tmp_path: Path) -> None:
    """SIGTERM in the middle of a write ends the command through its cleanup (old code: the
    default SIGTERM killed the process and left the temporary file); the target is untouched."""
    target = tmp_path / "schema.json"
    target.write_text("old", encoding="utf-8")
    script = (
        "import os, signal, sys, matcher.io\n"
        "from matcher.cli import main\n"
        "def stop(*arguments):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "matcher.io.os.fsync = stop\n"
        f"sys.exit(main(['schema', '-o', {str(target)!r}]))\n"
    )
    finished = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True)
    assert finished.returncode == 128 + 15
    assert target.read_text(encoding="utf-8") == "old"
    assert not _leftovers(tmp_path)
