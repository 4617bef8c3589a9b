"""The search over one day's floating routes (first version: returns the incoming routes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matcher.solvers.floating.model import DayRoutes, cost, feasible, schedule


@dataclass(frozen=True)
class SearchLimits:
    """When to stop: a monotonic deadline, optionally an iteration budget; the random seed."""

    deadline: float
    iterations: int | None = None
    seed: int = 0


@dataclass
class SearchResult:
    """The routes found, their starts, their cost and how the search went."""

    routes: list[list[int]]
    starts: list[list[int]]
    cost: float
    initial_cost: float
    iterations: int
    improvements: int


def _result(
    day: DayRoutes, routes: list[list[int]], initial: float, iterations: int, improvements: int
) -> SearchResult:
    starts = []
    for vehicle, route in enumerate(routes):
        times = schedule(day, vehicle, route)
        if times is None:
            raise ValueError(f"vehicle {vehicle}: route {route} cannot be scheduled")
        starts.append(times)
    return SearchResult(
        routes=[list(route) for route in routes],
        starts=starts,
        cost=cost(day, routes),
        initial_cost=initial,
        iterations=iterations,
        improvements=improvements,
    )


def construct(day: DayRoutes) -> list[list[int]]:
    """Routes built from day.routes by cheapest insertion of the stops not yet routed."""
    return [list(route) for route in day.routes]


def improve(
    day: DayRoutes, limits: SearchLimits, stop: Callable[[], bool] | None = None
) -> SearchResult:
    """Never returns a worse or infeasible solution than day.routes (return the incoming one
    when nothing better was found). Deterministic for a seed and an iteration budget."""
    problems = feasible(day, day.routes)
    if problems:
        raise ValueError("the incoming routes are infeasible: " + "; ".join(problems))
    initial = cost(day, day.routes)
    return _result(day, day.routes, initial, 0, 0)
