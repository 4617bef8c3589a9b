"""Reading problems and plans from JSON files, and solver parameters from TOML files, with
readable errors; writing files safely.

Reading checks the input limits (`matcher.models.limits.InputLimits`) before any other work:
the nesting depth as the text is parsed (`parse_json`), then sizes and string
lengths before the fields are validated (`validate_json`); every problem is an InputError.

A file is never left half-written: output goes to a temporary file in the same folder and is
renamed over the target only when complete.
"""

from __future__ import annotations

import glob
import json
import os
import re
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

import orjson
from pydantic import BaseModel, ValidationError

from matcher.models import Plan, Problem, format_validation_error
from matcher.models.limits import DEFAULT_LIMITS, InputLimits

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


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)


def _deepest(text: str) -> int:
    """How deep the JSON text nests arrays and objects at most (brackets inside strings do not
    count), found without parsing it."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _depth_and_huge(data: Any) -> tuple[int, bool]:
    """How deep parsed JSON nests arrays and objects, and whether it holds a number of
    magnitude 2**63 or more (orjson reads an integer beyond 64 bits as a float, which the
    standard reader keeps exact). No recursion; a list of plain numbers, such as a matrix row,
    is passed over at C speed."""
    deepest, huge = 0, False
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, float):
            huge = huge or not abs(value) < _HUGE
            continue
        if isinstance(value, dict):
            items: Any = value.values()
        elif isinstance(value, list):
            types = set(map(type, value))
            if _NUMBER_TYPES.issuperset(types):
                deepest = max(deepest, depth + 1)
                huge = huge or (float in types and not (min(value) > -_HUGE and max(value) < _HUGE))
                continue
            items = value
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((item, depth + 1) for item in items)
    return deepest, huge


_NUMBER_TYPES = frozenset((int, float))
_HUGE = float(2**63)


def _too_deep(text: str, max_depth: int) -> str:
    """Where the JSON text first nests deeper than `max_depth`: its path, line and column."""
    frames: list[list[Any]] = []  # [is_object, key or index, a key comes next]
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            if len(frames) >= max_depth:
                path = ".".join(str(frame[1]) for frame in frames) or "(top level)"
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                return (
                    f"{path}: nested too deep: more than the limit of {max_depth:,} "
                    f"(InputLimits.max_depth), at line {line}, column {column}"
                )
            frames.append([token == "{", None, True] if token == "{" else [False, 0, False])
        elif token in "]}":
            if frames:
                frames.pop()
        elif token == ",":
            if frames and frames[-1][0]:
                frames[-1][2] = True
            elif frames:
                frames[-1][1] += 1
        elif token == ":":
            if frames:
                frames[-1][2] = False
        elif frames and frames[-1][0] and frames[-1][2]:
            try:
                frames[-1][1] = json.loads(token)
            except ValueError:
                frames[-1][1] = token
    return f"(top level): nested too deep: more than the limit of {max_depth:,}"


def parse_json(text: str, source: str | Path, limits: InputLimits | None = None) -> Any:
    """The JSON value of the text, or InputError naming the file: not JSON (with the line and
    column), or nested deeper than the limits allow (with the path, line and column, so a value
    nested a million deep is an input error and not a RecursionError).

    Strict JSON is read by orjson (a 5,000-place matrix in a fifth of the standard reader's
    time); anything orjson refuses (NaN, nesting past its 1,024 levels, a syntax error) or may
    read differently (a number of magnitude 2**63 or more: orjson turns a longer integer into a
    float) is read by the standard reader after the depth is checked on the text, so the value
    and every error are the same as the standard reader's."""
    max_depth = (limits or DEFAULT_LIMITS).max_depth
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        pass  # not strict JSON, or deeper than orjson reads: the standard reader says which
    else:
        depth, huge = _depth_and_huge(data)
        if depth > max_depth:
            raise InputError(
                f"{source}: 1 problem(s) in the input:\n  - {_too_deep(text, max_depth)}"
            )
        if not huge:
            return data
    if _deepest(text) > max_depth:
        raise InputError(f"{source}: 1 problem(s) in the input:\n  - {_too_deep(text, max_depth)}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{source}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise InputError(f"{source}: nested too deep to read") from None
    except ValueError as error:  # e.g. an integer of more than 4,300 digits
        raise InputError(f"{source}: not valid JSON: {error}") from None


def validate_json(
    data: Any, model: type[ModelT], source: str | Path, limits: InputLimits | None = None
) -> ModelT:
    """The model the JSON value describes, or InputError naming the file and listing every
    problem found (the limits first, then every field and reference error)."""
    try:
        return model.model_validate(data, context={"limits": limits or DEFAULT_LIMITS})
    except ValidationError as error:
        raise InputError(f"{source}: {format_validation_error(error)}") from None


def _load(
    path: str | Path, model: type[ModelT], what: str, limits: InputLimits | None = None
) -> ModelT:
    source = Path(path)
    data = parse_json(_read(source, what), source, limits)
    return validate_json(data, model, source, limits)


def load_problem(path: str | Path, limits: InputLimits | None = None) -> Problem:
    """Read and validate a problem file.

    Parameters:
        path: a JSON file holding one problem (`matcher schema problem` gives its schema), or
            a roster workbook (.xlsx) or folder of CSV files (`matcher.desk.load_roster`).
        limits: how large and deep the input may be (`matcher.models.limits.InputLimits`);
            the defaults unless given.

    Raises InputError naming the file and listing every problem found: unreadable, not JSON
    (with the line and column), beyond the input limits, or not a valid problem (every field
    and reference error).
    """
    from matcher.desk.roster import is_roster, load_roster

    if is_roster(path):
        return load_roster(path, limits)
    return _load(path, Problem, "problem", limits)


def load_plan(path: str | Path, limits: InputLimits | None = None) -> Plan:
    """Read and validate a plan file (from any solver, or made by hand).

    Parameters:
        path: a JSON file holding one plan (`matcher schema plan` gives its schema).
        limits: how large and deep the input may be; the defaults unless given.

    Raises InputError naming the file and listing every problem found. A valid plan file may
    still break hard rules: `matcher.check_plan` judges that.
    """
    return _load(path, Plan, "plan", limits)


def load_parameters(path: str | Path, solver: str) -> BaseModel:
    """The parameters a TOML file gives the solver (`matcher solve --config`).

    Parameters:
        path: a TOML file with one table per solver, named after it and holding its
            parameters (`[lns]` then `iterations = 200`); `auto` takes its own keys and, in
            `[auto.cpsat]` and `[auto.ruin]` (or `[auto.lns]`), the parameters of the solver it
            picks. Every table is checked, so a typo in one the run does not use is an error too.
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
