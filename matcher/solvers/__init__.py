"""Solvers: each takes a Problem (and its TravelModel) and returns a Plan that keeps the hard
rules of docs/rules.md, listing every occurrence it could not plan with the reason.

Every solver keeps the protocol of `matcher.solvers.base.Solver` (`solve(SolveRequest) -> Plan`;
the bundled ones are `SearchSolver`s, which only search) and is found by name in
`matcher.solvers.registry`; a new one joins with `matcher.solvers.base.register`. The names
below are imported on first use, so `import matcher.solvers.base` loads no solver and no
OR-Tools.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matcher.solvers.auto import AutoParameters as AutoParameters
    from matcher.solvers.base import SearchOutcome as SearchOutcome
    from matcher.solvers.base import SearchSolver as SearchSolver
    from matcher.solvers.base import Solver as Solver
    from matcher.solvers.base import SolveRequest as SolveRequest
    from matcher.solvers.base import SolverError as SolverError
    from matcher.solvers.base import register as register
    from matcher.solvers.cpsat import CpSatParameters as CpSatParameters
    from matcher.solvers.greedy import GreedyParameters as GreedyParameters
    from matcher.solvers.greedy import solve_greedy as solve_greedy
    from matcher.solvers.lns import LnsParameters as LnsParameters
    from matcher.solvers.registry import SOLVERS as SOLVERS
    from matcher.solvers.registry import get_solver as get_solver
    from matcher.solvers.routes import build_routes as build_routes
    from matcher.solvers.routing import RoutingParameters as RoutingParameters
    from matcher.solvers.ruin import RuinParameters as RuinParameters

_LAZY: dict[str, str] = {
    "AutoParameters": "matcher.solvers.auto",
    "SearchOutcome": "matcher.solvers.base",
    "SearchSolver": "matcher.solvers.base",
    "SolveRequest": "matcher.solvers.base",
    "Solver": "matcher.solvers.base",
    "SolverError": "matcher.solvers.base",
    "register": "matcher.solvers.base",
    "CpSatParameters": "matcher.solvers.cpsat",
    "GreedyParameters": "matcher.solvers.greedy",
    "solve_greedy": "matcher.solvers.greedy",
    "LnsParameters": "matcher.solvers.lns",
    "RuinParameters": "matcher.solvers.ruin",
    "SOLVERS": "matcher.solvers.registry",
    "get_solver": "matcher.solvers.registry",
    "build_routes": "matcher.solvers.routes",
    "RoutingParameters": "matcher.solvers.routing",
}
"""Each name `matcher.solvers` exports on first use, and the module it comes from."""


def __getattr__(name: str) -> Any:
    """Import a lazily exported name on first use (PEP 562) and keep it."""
    if name not in _LAZY:
        raise AttributeError(f"module 'matcher.solvers' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "SOLVERS",
    "AutoParameters",
    "CpSatParameters",
    "GreedyParameters",
    "LnsParameters",
    "RoutingParameters",
    "RuinParameters",
    "SearchOutcome",
    "SearchSolver",
    "SolveRequest",
    "Solver",
    "SolverError",
    "build_routes",
    "get_solver",
    "register",
    "solve_greedy",
]
