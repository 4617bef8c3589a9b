"""Reading problems and plans from JSON files with readable errors, and writing files safely.

A file is never left half-written: output goes to a temporary file in the same folder and is
renamed over the target only when complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from matcher.models import Plan, Problem, format_validation_error

ModelT = TypeVar("ModelT", bound=BaseModel)


class InputError(ValueError):
    """Input that cannot be used, with every problem found listed in the message."""


def _load(path: str | Path, model: type[ModelT], what: str) -> ModelT:
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"cannot read the {what} file {str(source)!r}: {error.strerror}") from None
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
    """Read and validate a problem file; raises InputError listing every problem found."""
    return _load(path, Problem, "problem")


def load_plan(path: str | Path) -> Plan:
    """Read and validate a plan file; raises InputError listing every problem found."""
    return _load(path, Plan, "plan")


def to_json(model: BaseModel) -> str:
    """JSON as matcher writes it: indented, times as 'HH:MM', no null clutter."""
    return model.model_dump_json(indent=2, exclude_none=True) + "\n"


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write the whole text or nothing: temporary file in the same folder, then rename."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
