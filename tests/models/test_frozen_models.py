"""The models are frozen: variants are copies, and a copy's lookups follow its own data."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from matcher.models import Volunteer
from tests.helpers import example


def test_a_model_cannot_be_changed_in_place() -> None:
    problem = example("small")
    with pytest.raises(ValidationError, match="frozen"):
        problem.volunteers[0].max_minutes_per_week = 10  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        problem.name = "other"  # type: ignore[misc]


def test_a_copy_works_out_its_own_lookups() -> None:
    """`volunteer_by_id` is cached; a copy with other volunteers must not see the old cache."""
    problem = example("small")
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
