"""Tests of `matcher.solvers`: each solver, the optimizers and the contract they all keep."""
