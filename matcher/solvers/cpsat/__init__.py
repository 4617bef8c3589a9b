"""An exact model of the week in OR-Tools CP-SAT, with a proven bound on coverage.

- `model`: the week as a CP-SAT model, built in named steps from the shared rule facts
  (options per need-day, assignment, gaps, dependencies, recipient overlaps, routing arcs per
  outing, weekly minutes, objective terms); it also serves the large-neighbourhood search, which
  fixes some visits and frees only some volunteer-days.
- `lateness`: the lateness rule as linear pieces of a visit's start.
- `hints`: a plan as a hint, one phase's solution as the next one's, a solution as visits.
- `solve`: the phases (mandatory visits, coverage, the whole objective) and `CpSatSolver`.
"""

from __future__ import annotations

from collections.abc import Iterable

from matcher.models import Problem, UnassignedVisit, Visit
from matcher.rules import Diagnoser, NeedFacts
from matcher.solvers.base import weighted_coverage
from matcher.solvers.cpsat.hints import extract_visits, hint_from_solution, hint_from_visits
from matcher.solvers.cpsat.model import (
    COVERAGE_SCALE,
    SCALE,
    Option,
    WeekModel,
    build_week_model,
)
from matcher.solvers.cpsat.parameters import CpSatParameters
from matcher.solvers.cpsat.solve import CpSatSolver, cp_solver, search_cpsat, solve_cpsat
from matcher.travel import TravelModel

__all__ = [
    "COVERAGE_SCALE",
    "SCALE",
    "CpSatParameters",
    "CpSatSolver",
    "Option",
    "WeekModel",
    "build_week_model",
    "cp_solver",
    "extract_visits",
    "hint_from_solution",
    "hint_from_visits",
    "search_cpsat",
    "solve_cpsat",
    "unplanned_occurrences",
    "weighted_coverage",
]


def unplanned_occurrences(
    problem: Problem, travel: TravelModel, facts: dict[str, NeedFacts], visits: Iterable[Visit]
) -> list[UnassignedVisit]:
    """Transitional, for `routing` until it assembles its plan with `assemble_plan`: the one
    diagnosis of `matcher.rules` for every occurrence the visits leave out."""
    return Diagnoser(problem, travel, facts).unassigned(list(visits))
