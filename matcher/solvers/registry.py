"""The solvers by name, loaded only when asked for (portals that only validate never load
OR-Tools)."""

from __future__ import annotations

import importlib

from matcher.solvers.base import REGISTRY, Solver

_WHERE: dict[str, tuple[str, str]] = {
    "greedy": ("matcher.solvers.greedy", "GreedySolver"),
    "cpsat": ("matcher.solvers.cpsat", "CpSatSolver"),
    "lns": ("matcher.solvers.lns", "LnsSolver"),
    "routing": ("matcher.solvers.routing", "RoutingSolver"),
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
