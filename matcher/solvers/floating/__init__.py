"""Floating-routes engine: re-optimises one day's routes where visit times float."""

from matcher.solvers.floating.model import (
    DayRoutes,
    Group,
    Stop,
    Vehicle,
    Weights,
    Window,
    cost,
    feasible,
    schedule,
)
from matcher.solvers.floating.search import SearchLimits, SearchResult, construct, improve

__all__ = [
    "DayRoutes",
    "Group",
    "SearchLimits",
    "SearchResult",
    "Stop",
    "Vehicle",
    "Weights",
    "Window",
    "construct",
    "cost",
    "feasible",
    "improve",
    "schedule",
]
