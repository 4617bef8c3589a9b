"""A solver on OR-Tools' vehicle routing library, finished by an exact timing pass in CP-SAT.

The model (`builder` for the network, `dimensions` for the OR-Tools model):

- a *vehicle* is one outing of a volunteer (`matcher.rules.outings`): it leaves their start
  place at or after the outing opens and ends at home by the time it closes, so a volunteer free
  09:00-11:00 and 15:00-17:00 has two vehicles that day and goes home between them;
- a *node* is a possible visit: a need on one of its allowed days (a team visit is one node per
  member, the members' start times tied together). A need with V visits a week is a disjunction
  over its day nodes with at most V active and a penalty of coverage x priority per missing
  visit (mandatory needs a hundred times more), so coverage dominates travel;
- the time dimension counts minutes of the day: the transit of an arc is the visit's duration
  plus the volunteer's travel time rounded up to a whole minute (visits start on whole minutes,
  so rounding up is exact, not a buffer); a node's cumul is its start, restricted to the need's
  windows and to the outings of the vehicles allowed to make it;
- qualification (`NeedFacts.qualified`) and the outings choose each node's allowed vehicles;
  `max_trip_distance_m` forbids a vehicle's long legs (they take longer than a day);
  `max_outing_distance_m` caps a distance dimension per vehicle; `capacity` and
  `max_visits_per_day` are dimensions per vehicle plus a constraint on the sum over the outings
  of a day; `max_minutes_per_week` is a dimension of centi-minutes (every leg of an outing)
  plus a constraint on the sum over all the volunteer's outings;
- soft windows (`NeedFacts.late_windows_by_day`): a soft upper bound on the start at
  `window end - duration` costs `lateness_per_min` per minute late; a visit may start late only
  once the day's last window has opened, where one due measures its lateness exactly;
- dependencies: both nodes of a day active or neither (`ActiveVar`), the start gap through two
  node precedences of the time dimension (which the routing filters understand), different
  volunteers through visit types that are incompatible on one route and a constraint against
  two outings of one volunteer; visits of one recipient on one day that are not linked by a
  dependency do not overlap (a constraint on the cumuls);
- `min_gap_days` (`matcher.rules.days`): two day nodes of a need too close together are never
  both active;
- the arc cost is distance x `travel_per_km`, plus paid time x the hourly cost
  (`matcher.rules.costs`).

The search (`search`) runs from the cheapest of several first solutions (the warm start, by
default the greedy plan, the configured first solution strategy and a small portfolio of
others) and from the warm start, the time split between the two, and keeps the better. Visits
tied together (teams, dependencies) are hard for the local search to move, so the start decides
much of the result, and neither start is the better one on every instance. Guided local search
cannot escape a plan whose dropped visits would each cost more than the one blocking them where
arcs cost nothing; the inactive-node LNS operator, switched on by default, makes that exchange.
Once a solution's coverage meets the bound, the search polishes it for `polish_after_bound_s`
and stops.

The finishing pass (`finisher`) takes the routes as the routing search left them and solves
the timing of every outing exactly in CP-SAT (every start inside its windows, travel from the
start place after the outing opens, between consecutive visits and home before it closes, team
members and dependencies together, no recipient overlaps, lateness and the plan's largest
lateness at their policy cost, then starts as early as possible). The routing search cannot see
the largest lateness across routes (it is a global maximum); the finishing pass optimises it
exactly for the routes found. With `weekly_caps="repair"` the weekly minute caps are left out
of the routing model and the finishing pass drops the least valuable visits of a volunteer over
the cap (keeping the visits and load of each day within their caps, the remaining visits in
their order); with the default `"model"` they are constraints of the routing model.

The plan is put together by `matcher.solvers.base.assemble_plan`: occurrence numbers, routes,
the one diagnosis of unplanned occurrences, weighted coverage as the objective and, beside the
search, the linear relaxation of `matcher.solvers.bounds` as its bound.

Determinism: the same problem, seed, parameters and limits give the same model; OR-Tools stops
on wall time, so a run stopped by its time limit may differ from machine to machine. Setting
`solution_limit` stops after a fixed number of improving solutions instead.
"""

from matcher.solvers.routing.parameters import RoutingParameters
from matcher.solvers.routing.solver import RoutingSolver, solve_routing

__all__ = ["RoutingParameters", "RoutingSolver", "solve_routing"]
