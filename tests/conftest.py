"""Fixtures shared by the whole suite (plain helpers live in `tests.helpers`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from tests.helpers import JsonWriter


@pytest.fixture
def write_json(tmp_path: Path) -> JsonWriter:
    """`write_json(name, data)` writes a model (as its JSON) or JSON-like data to `name` in the
    test's temporary folder and returns the path: the input files of a command-line test."""

    def write(name: str, data: Any) -> Path:
        path = tmp_path / name
        if isinstance(data, BaseModel):
            path.write_text(data.model_dump_json(), encoding="utf-8")
        else:
            path.write_text(json.dumps(data, default=str), encoding="utf-8")
        return path

    return write
