"""The README's JSON example is a valid problem and its parameters file is read as written (its
Python example runs as a doctest)."""

from __future__ import annotations

import re
from pathlib import Path

from matcher import AutoParameters, GreedyParameters, LnsParameters
from matcher.io import load_parameters
from matcher.models import Problem
from matcher.solvers.registry import SOLVERS
from tests.helpers import ROOT

README = ROOT / "README.md"


def test_readme_json_example_validates() -> None:
    """The problem shown in the README's JSON section validates as written."""
    blocks = re.findall(r"```json\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "the README should show a problem in JSON"
    problem = Problem.model_validate_json(blocks[0])
    assert problem.pinned[0].volunteers == ["v1", "s1"]
    assert problem.service_by_id["clean"].team_size == 2


def test_readme_parameters_file_is_valid(tmp_path: Path) -> None:
    """The `--config` file the README shows is read as written, for the solvers it names."""
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "the README should show a parameters file"
    config = tmp_path / "params.toml"
    config.write_text(blocks[0], encoding="utf-8")
    lns = load_parameters(config, "lns")
    assert isinstance(lns, LnsParameters) and lns != LnsParameters()
    auto = load_parameters(config, "auto")
    assert isinstance(auto, AutoParameters) and auto.cpsat["workers"] == 2
    assert load_parameters(config, "greedy") == GreedyParameters()


def test_readme_names_every_registered_solver() -> None:
    """The README's solver table has a row for each bundled solver."""
    text = README.read_text(encoding="utf-8")
    for name in SOLVERS:
        assert f"| `{name}` |" in text
