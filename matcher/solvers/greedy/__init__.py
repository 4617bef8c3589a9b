"""The greedy planner: places one occurrence of a need at a time, where it costs least.

An insertion puts the visit into one outing of one volunteer's day (or, for a team service,
into outings of `team_size` volunteers at one common start) between two visits already there,
which keep their times; it gets the earliest whole minute that keeps every rule: travel from
the previous stop and to the next, leaving the start place after the outing opens and home by
its close, the need's windows and the recipient's other visits, visits a day and the day's load,
minutes a week (every leg of every outing), the longest leg and the longest outing walk. A soft
window may be missed at its end by up to `max_lateness_min`: a late start costs
`lateness_per_min` a minute (and `max_lateness_per_min` for each minute it adds to the plan's
largest lateness), so among the insertions the least costly start wins.

Two needs linked by a dependency are planned as one: each visit of the first is inserted
together with a visit of the second on the same day, by another volunteer, at the required gap
(both or neither). A need linked to more than one other need, or a linked team visit, is left
out with a warning.

The package, along its seams:

- `setup`: parameters, per-volunteer and per-need numbers and numpy masks built from the shared
  facts of `matcher.rules` (qualification, windows, outings, hourly cost), pruned candidates;
- `state`: each volunteer's outings with their visits, weekly minutes, recipients' busy times;
- `insertion`: positions in an outing, start intervals, costs, single, team and pair insertions;
- `cache`: cached insertions per (volunteer, day), what each watches and when it goes stale;
- `planner`: the run (order, regret, commit) and the plan, assembled by `assemble_plan`.
"""

from matcher.solvers.greedy.planner import GreedySolver, GreedyStart, greedy_start, solve_greedy
from matcher.solvers.greedy.setup import GreedyParameters

__all__ = ["GreedyParameters", "GreedySolver", "GreedyStart", "greedy_start", "solve_greedy"]
