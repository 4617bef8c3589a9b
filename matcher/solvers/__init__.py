"""Solvers: each takes a Problem (and its TravelModel) and returns a Plan that keeps the hard
rules of docs/rules.md, listing every occurrence it could not plan with the reason."""

from matcher.solvers.greedy import GreedyParameters, solve_greedy
from matcher.solvers.routes import build_routes

__all__ = ["GreedyParameters", "build_routes", "solve_greedy"]
