"""`ruin`: ruin and recreate on greedy's insertion engine (SISR strings and other ruins, greedy
regret insertion with blinks, simulated annealing).

- `engine`: taking units (a visit, a team visit, a linked pair) out of greedy's week state and
  putting occurrences back with greedy's cached insertions; exact undo;
- `operators`: which visits a step takes out;
- `solver`: the annealing loop, the ranking and `RuinSolver`.
"""

from matcher.solvers.ruin.solver import RuinParameters, RuinSolver

__all__ = ["RuinParameters", "RuinSolver"]
