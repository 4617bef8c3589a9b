"""Writing the desk's outputs whole or not at all: bytes files and folders of files."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from matcher.io import OutputError


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write the bytes to a temporary file beside the target, then rename it over the target."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    temporary: str | None = None
    try:
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".matcher-tmp", dir=folder
        )
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        raise OutputError(f"cannot write {target}: {error.strerror or error}") from error
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def write_folder(folder: str | Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write every file into the folder (created if missing): each is written in full into a
    fresh sibling folder first, and moved in (a rename each) only when every one is complete,
    so a failure while writing leaves the folder as it was."""
    target = Path(folder)
    parent = target.parent if str(target.parent) else Path(".")
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    except OSError as error:
        raise OutputError(f"cannot write {target}: {error.strerror or error}") from error
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        written = []
        for name in files:
            os.replace(staging / name, target / name)
            written.append(target / name)
        return written
    except OSError as error:
        raise OutputError(f"cannot write {target}: {error.strerror or error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
