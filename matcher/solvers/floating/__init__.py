"""Floating-routes engine: re-optimises one day's routes where visit times float."""

from matcher.solvers.floating.model import (
    DayRoutes,
    Group,
    Link,
    Stop,
    Vehicle,
    Weights,
    Window,
    cost,
    feasible,
    schedule,
    schedule_day,
)
from matcher.solvers.floating.search import SearchLimits, SearchResult, construct, improve

__all__ = [
    "DayRoutes",
    "Group",
    "Link",
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
    "schedule_day",
]
