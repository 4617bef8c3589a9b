"""matcher: plans a community's week of volunteer care.

Who visits which elder, on which day, at what time, in what order, and what could not be covered
and why. Import the models from `matcher.models`, plan with `matcher.solve`, and verify any plan,
whoever made it, with `matcher.check_plan`.

`import matcher` loads the models (pydantic) and nothing else: every other name here (`solve`,
`check_plan`, `replan`, the solvers' `*Parameters`, ...) is imported the first time it is used,
so a portal that only validates input never loads OR-Tools, SciPy, NumPy or NetworkX.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from matcher.models import Plan, Problem

if TYPE_CHECKING:
    from matcher.api import solve as solve
    from matcher.checker import CheckReport as CheckReport
    from matcher.checker import Violation as Violation
    from matcher.checker import check_plan as check_plan
    from matcher.explain import explain_unassigned as explain_unassigned
    from matcher.explain import score_plan as score_plan
    from matcher.explain import what_if as what_if
    from matcher.io import InputError as InputError
    from matcher.io import load_plan as load_plan
    from matcher.io import load_problem as load_problem
    from matcher.replan import replan as replan
    from matcher.solvers.auto import AutoParameters as AutoParameters
    from matcher.solvers.base import Progress as Progress
    from matcher.solvers.base import SolverError as SolverError
    from matcher.solvers.cpsat import CpSatParameters as CpSatParameters
    from matcher.solvers.greedy import GreedyParameters as GreedyParameters
    from matcher.solvers.lns import LnsParameters as LnsParameters
    from matcher.solvers.registry import SOLVERS as SOLVERS
    from matcher.solvers.routing import RoutingParameters as RoutingParameters

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "solve": "matcher.api",
    "CheckReport": "matcher.checker",
    "Violation": "matcher.checker",
    "check_plan": "matcher.checker",
    "explain_unassigned": "matcher.explain",
    "score_plan": "matcher.explain",
    "what_if": "matcher.explain",
    "InputError": "matcher.io",
    "load_plan": "matcher.io",
    "load_problem": "matcher.io",
    "replan": "matcher.replan",
    "SOLVERS": "matcher.solvers.registry",
    "SolverError": "matcher.solvers.base",
    "Progress": "matcher.solvers.base",
    "AutoParameters": "matcher.solvers.auto",
    "CpSatParameters": "matcher.solvers.cpsat",
    "GreedyParameters": "matcher.solvers.greedy",
    "LnsParameters": "matcher.solvers.lns",
    "RoutingParameters": "matcher.solvers.routing",
}
"""Each name `matcher` exports on first use, and the module it comes from."""


def __getattr__(name: str) -> Any:
    """Import a lazily exported name on first use (PEP 562) and keep it."""
    if name not in _LAZY:
        raise AttributeError(f"module 'matcher' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(types.ModuleType):
    """The `matcher` module, so that a submodule never hides the export of the same name.

    Importing `matcher.replan` (the module) binds it as the attribute `replan` of the package;
    `matcher.replan` must stay the function, as it was when the package imported it eagerly.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "SOLVERS",
    "AutoParameters",
    "CheckReport",
    "CpSatParameters",
    "GreedyParameters",
    "InputError",
    "LnsParameters",
    "Plan",
    "Problem",
    "Progress",
    "RoutingParameters",
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
