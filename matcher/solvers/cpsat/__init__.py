"""An exact model of the week in OR-Tools CP-SAT, with a proven bound on coverage.

- `model`: the week as a CP-SAT model, built in named steps from the shared rule facts
  (options per need-day, assignment, gaps, dependencies, recipient overlaps, routing arcs per
  outing, weekly minutes, objective terms); it also serves the large-neighbourhood search, which
  fixes some visits and frees only some volunteer-days.
- `sessions`: group sessions in the model: candidate sessions as optional intervals with
  lead, helper, seat and escort literals, their hints and their extraction.
- `lateness`: the lateness rule as linear pieces of a visit's start.
- `hints`: a plan as a hint, one phase's solution as the next one's, a solution as visits.
- `solve`: the phases (mandatory visits, coverage, the whole objective) and `CpSatSolver`.
"""

from __future__ import annotations

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
]
