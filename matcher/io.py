"""Reading problems and plans from JSON files, and solver parameters from TOML files, with
readable errors; writing files safely.

A file is never left half-written: output goes to a temporary file in the same folder and is
renamed over the target only when complete.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML with the tomli backport
    import tomli as tomllib

from pydantic import BaseModel, ValidationError

from matcher.models import Plan, Problem, format_validation_error

ModelT = TypeVar("ModelT", bound=BaseModel)


class InputError(ValueError):
    """Input that cannot be used, with every problem found listed in the message."""


def _read(source: Path, what: str) -> str:
    try:
        return source.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read the {what} file {str(source)!r}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{source}: not UTF-8 text") from None


def _load(path: str | Path, model: type[ModelT], what: str) -> ModelT:
    source = Path(path)
    text = _read(source, what)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{source}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InputError(f"{source}: {format_validation_error(error)}") from None


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem file.

    Parameters:
        path: a JSON file holding one problem (`matcher schema problem` gives its schema).

    Raises InputError naming the file and listing every problem found: unreadable, not JSON
    (with the line and column), or not a valid problem (every field and reference error).
    """
    return _load(path, Problem, "problem")


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file (from any solver, or made by hand).

    Parameters:
        path: a JSON file holding one plan (`matcher schema plan` gives its schema).

    Raises InputError naming the file and listing every problem found. A valid plan file may
    still break hard rules: `matcher.check_plan` judges that.
    """
    return _load(path, Plan, "plan")


def load_parameters(path: str | Path, solver: str) -> BaseModel:
    """The parameters a TOML file gives the solver (`matcher solve --config`).

    Parameters:
        path: a TOML file with one table per solver, named after it and holding its
            parameters (`[lns]` then `iterations = 200`); `auto` takes its own keys and, in
            `[auto.cpsat]` and `[auto.lns]`, the parameters of the solver it picks. Every table
            is checked, so a typo in one the run does not use is an error too.
        solver: the registered name of the solver about to run; without a table of its own it
            gets its defaults.

    Raises InputError naming the file, the table and every unknown key or bad value, and
    ValueError for an unknown solver.
    """
    from matcher.solvers.base import parameter_problems
    from matcher.solvers.registry import get_solver, registered_names

    source = Path(path)
    parameters_type = get_solver(solver).parameters_type
    try:
        tables: dict[str, Any] = tomllib.loads(_read(source, "parameters"))
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{source}: not valid TOML: {error}") from None
    names = registered_names()
    problems: list[str] = []
    chosen: BaseModel | None = None
    for name, table in tables.items():
        if not isinstance(table, dict):
            problems.append(
                f"key {name!r} outside any table; parameters go in the table of their solver, "
                f"one of: {', '.join(f'[{solver}]' for solver in names)}"
            )
            continue
        if name not in names:
            problems.append(
                f"unknown table [{name}]; the tables are named after the solvers: "
                f"{', '.join(names)}"
            )
            continue
        table_type = get_solver(name).parameters_type
        try:
            parameters = table_type.model_validate(table)
        except ValidationError as error:
            problems += [f"[{name}] {item}" for item in parameter_problems(table_type, error)]
            continue
        if name == solver:
            chosen = parameters
    if problems:
        listed = "".join(f"\n  - {problem}" for problem in problems)
        raise InputError(f"{source}: {len(problems)} problem(s) in the parameters:{listed}")
    return chosen if chosen is not None else parameters_type()


def to_json(model: BaseModel) -> str:
    """JSON as matcher writes it: indented, times as 'HH:MM', no null clutter."""
    return model.model_dump_json(indent=2, exclude_none=True) + "\n"


TEMPORARY_SUFFIX = ".matcher-tmp"
"""How matcher's temporary files end: `.<target name>.<writer pid>.<random>.matcher-tmp`, beside
the target, so that those a killed run left behind can be found and removed."""

STALE_TEMPORARY_S = 3600.0
"""A temporary file older than this (seconds) is stale even if its writer's pid is alive (the
pid may have been reused)."""


class OutputError(InputError, OSError):
    """An output file that cannot be written, named as the user gave it (an OSError too, for
    callers that catch those)."""


def _writer_alive(pid: int) -> bool:
    """Whether a process with this id exists (one we may not signal exists too)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temporaries(target: str | Path, now_s: float | None = None) -> list[Path]:
    """Remove the temporary files of `target` that an earlier, killed writer left behind: those
    whose writer pid is gone, or older than `STALE_TEMPORARY_S`; returns the removed paths.
    The current process's own files are left unless stale by age."""
    path = Path(target)
    folder = path.parent if str(path.parent) else Path(".")
    clock_s = time.time() if now_s is None else now_s
    removed: list[Path] = []
    try:
        candidates = list(folder.glob(f".{glob.escape(path.name)}.*{TEMPORARY_SUFFIX}"))
    except OSError:
        return removed
    for candidate in candidates:
        middle = candidate.name[len(path.name) + 2 : -len(TEMPORARY_SUFFIX)]
        pid_text, _, _ = middle.partition(".")
        if not pid_text.isdigit():
            continue
        pid = int(pid_text)
        try:
            age_s = clock_s - candidate.stat().st_mtime
        except OSError:
            continue
        gone = pid != os.getpid() and not _writer_alive(pid)
        if gone or age_s > STALE_TEMPORARY_S:
            try:
                candidate.unlink()
            except OSError:
                continue
            removed.append(candidate)
    return removed


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write the whole text or nothing: temporary file in the same folder, then rename.

    The temporary file is removed on every exit path (errors, KeyboardInterrupt, SystemExit);
    one left by a killed earlier run of the same target is removed first
    (`remove_stale_temporaries`). Raises OutputError naming `path` when it cannot be written.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    remove_stale_temporaries(target)
    temporary: str | None = None
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=TEMPORARY_SUFFIX, dir=folder
        )
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputError(f"cannot write {target}: {reason}") from error
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _same_file(first: Path, second: Path) -> bool:
    if first.resolve() == second.resolve():
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def output_path_problems(
    outputs: Sequence[tuple[str, str | Path | None]],
    inputs: Sequence[str | Path | None],
) -> list[str]:
    """Every reason the outputs cannot be written, found before any work: an output that is one
    of the inputs (resolved, through symlinks and hard links), two outputs that are one file, an
    output that is a folder, a folder that does not exist or is not writable.

    Parameters:
        outputs: (option, path) pairs, e.g. ("-o", "plan.json"); None paths are skipped.
        inputs: the command's input files; None paths are skipped.
    """
    problems: list[str] = []
    given_inputs = [Path(item) for item in inputs if item is not None]
    seen: list[tuple[str, Path]] = []
    for option, value in outputs:
        if value is None:
            continue
        path = Path(value)
        for source in given_inputs:
            if _same_file(path, source):
                problems.append(
                    f"{option} {path}: that is the input file {source}; "
                    "writing it would destroy the input, choose another output file"
                )
                break
        for other_option, other in seen:
            if _same_file(path, other):
                problems.append(
                    f"{option} {path}: the same file as {other_option} {other}; "
                    "the output files must be different files"
                )
        seen.append((option, path))
        folder = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            problems.append(f"{option} {path}: that is a folder, not a file")
        elif not folder.is_dir():
            problems.append(f"{option} {path}: the folder {folder} does not exist")
        elif not os.access(folder, os.W_OK | os.X_OK):
            problems.append(f"{option} {path}: the folder {folder} is not writable")
    return problems
