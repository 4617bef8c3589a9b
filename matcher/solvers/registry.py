"""The solvers by name.

Each bundled solver is a module and a class, imported only when asked for (portals that only
validate never load OR-Tools). A new solver joins with `matcher.solvers.base.register(solver)`:
`get_solver` then finds it, `registered_names()` lists it, and `matcher.solve(solver=...)`, the
command line's `--solver` and the contract tests (tests/test_contract.py) take it.
"""

from __future__ import annotations

import importlib

from matcher.solvers.base import REGISTRY, Solver

_WHERE: dict[str, tuple[str, str]] = {
    "greedy": ("matcher.solvers.greedy", "GreedySolver"),
    "cpsat": ("matcher.solvers.cpsat", "CpSatSolver"),
    "lns": ("matcher.solvers.lns", "LnsSolver"),
    "routing": ("matcher.solvers.routing", "RoutingSolver"),
    "ruin": ("matcher.solvers.ruin", "RuinSolver"),
    "auto": ("matcher.solvers.auto", "AutoSolver"),
}
"""Where each bundled solver lives: module and class."""

SOLVERS: tuple[str, ...] = tuple(_WHERE)
"""The names of the bundled solvers; `registered_names()` adds any registered at run time."""


def registered_names() -> tuple[str, ...]:
    """Every solver name: the bundled ones, then those registered with `base.register`."""
    return (*SOLVERS, *(name for name in REGISTRY if name not in _WHERE))


def get_solver(name: str) -> Solver:
    """The solver of that name; ValueError naming the choices for an unknown one."""
    if name in REGISTRY:
        return REGISTRY[name]
    if name not in _WHERE:
        raise ValueError(f"unknown solver {name!r}; choose one of: {', '.join(registered_names())}")
    module, attribute = _WHERE[name]
    solver: Solver = getattr(importlib.import_module(module), attribute)()
    REGISTRY[name] = solver
    return solver


def default_time_limit_s(name: str) -> float | None:
    """The time limit the solver takes when given none: its parameters type's
    `default_time_limit_s` field, or None where it has no such field (it runs to the end, or,
    for `auto`, takes the limit of the solver it picks)."""
    field = get_solver(name).parameters_type.model_fields.get("default_time_limit_s")
    if field is None or not isinstance(field.default, (int, float)):
        return None
    return float(field.default)
