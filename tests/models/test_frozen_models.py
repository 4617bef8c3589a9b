"""The models are frozen: variants are copies, and a copy's lookups follow its own data."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from matcher.io import load_problem
from matcher.models import Volunteer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "small.json"


def test_a_model_cannot_be_changed_in_place() -> None:
    problem = load_problem(EXAMPLE)
    with pytest.raises(ValidationError, match="frozen"):
        problem.volunteers[0].max_minutes_per_week = 10  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        problem.name = "other"  # type: ignore[misc]


def test_a_copy_works_out_its_own_lookups() -> None:
    """`volunteer_by_id` is cached; a copy with other volunteers must not see the old cache."""
    problem = load_problem(EXAMPLE)
    assert problem.volunteer_by_id  # fills the cache
    newcomer = Volunteer(id="newcomer", home={"x_m": 0, "y_m": 0})
    variant = problem.model_copy(update={"volunteers": [newcomer]})
    assert list(variant.volunteer_by_id) == ["newcomer"]
    assert "newcomer" not in problem.volunteer_by_id
    assert (
        variant.replace_volunteer(newcomer.model_copy(update={"name": "Li"}))
        .volunteer_by_id["newcomer"]
        .name
        == "Li"
    )
