"""Shared fixtures of the desk's tests: the small example solved once per session."""

from __future__ import annotations

import pytest

from matcher.models import Plan, Problem
from tests.helpers import example, solved


@pytest.fixture(scope="session")
def small_week() -> tuple[Problem, Plan]:
    """The bundled small example and a checked greedy plan of it (with a team visit)."""
    problem = example("small")
    return problem, solved(problem)
