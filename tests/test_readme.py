"""The README's JSON example is a valid problem (its Python example runs as a doctest)."""

from __future__ import annotations

import re
from pathlib import Path

from matcher.models import Problem

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_json_example_validates() -> None:
    """The problem shown in the README's JSON section validates as written."""
    blocks = re.findall(r"```json\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "the README should show a problem in JSON"
    problem = Problem.model_validate_json(blocks[0])
    assert problem.pinned[0].volunteers == ["v1", "s1"]
    assert problem.service_by_id["clean"].team_size == 2
