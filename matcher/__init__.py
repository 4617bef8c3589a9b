"""matcher: plans a community's week of volunteer care.

Who visits which elder, on which day, at what time, in what order, and what could not be covered
and why. Import the models from `matcher.models`, plan with `matcher.solve`, and verify any plan,
whoever made it, with `matcher.check_plan`.
"""

from matcher.api import SOLVERS, SolverError, solve
from matcher.checker import CheckReport, Violation, check_plan
from matcher.explain import explain_unassigned, score_plan, what_if
from matcher.io import InputError, load_plan, load_problem
from matcher.models import Plan, Problem
from matcher.replan import replan

__version__ = "0.1.0"

__all__ = [
    "SOLVERS",
    "CheckReport",
    "InputError",
    "Plan",
    "Problem",
    "SolverError",
    "Violation",
    "__version__",
    "check_plan",
    "explain_unassigned",
    "load_plan",
    "load_problem",
    "replan",
    "score_plan",
    "solve",
    "what_if",
]
