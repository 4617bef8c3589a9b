"""Between plans and the model: hint a plan to CP-SAT, complete the hint, hint one solution to the
next phase, read the visits of a solution.

A hint CP-SAT can use at once must be complete (every variable) and feasible: then it is the
search's first solution ("complete_hint" in CP-SAT's log), before presolve's cost. A plan fixes
the decisions (presence, starts, teams, outings, legs); `complete_hint` finds the rest (weekly
minutes, fairness excess, lateness) by solving the model with those decisions fixed.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

from ortools.sat.python import cp_model

from matcher.models import WEEKDAYS, Problem, Visit
from matcher.rules import NeedFacts, number_occurrences, outing_index
from matcher.rules.visits import visit_of
from matcher.solvers.cpsat.model import Key, OutingKey, WeekModel


def hint_from_visits(week: WeekModel, visits: list[Visit]) -> None:
    """Hint CP-SAT with a whole existing plan, fixed visits included (e.g. the greedy plan):
    presence, starts, teams, the outing of each visit, idle outings and the legs of each."""
    planned = {(visit.need, WEEKDAYS.index(visit.day)): visit for visit in visits}
    model = week.model
    model.clear_hints()  # type: ignore[no-untyped-call]
    for key, option in week.options.items():
        found = planned.get(key)
        model.add_hint(option.present, found is not None)
        model.add_hint(
            option.start, found.start if found is not None else option.start.proto.domain[0]
        )
        for volunteer_id, assigned in option.assigned.items():
            model.add_hint(assigned, found is not None and volunteer_id in found.volunteers)
    sequences: dict[OutingKey, list[Key]] = defaultdict(list)
    for visit in sorted(visits, key=lambda item: item.start):
        day = WEEKDAYS.index(visit.day)
        for volunteer_id in visit.volunteers:
            index = outing_index(
                week.outings.get(volunteer_id, {}).get(day, []), visit.start, visit.end
            )
            if index is not None:
                sequences[(volunteer_id, day, index)].append((visit.need, day))
    for (need_id, day, volunteer_id, index), inside in week.in_outing.items():
        model.add_hint(inside, (need_id, day) in sequences.get((volunteer_id, day, index), []))
    for outing, idle in week.idle.items():
        model.add_hint(idle, not sequences.get(outing))
    serving = {(visit.need, volunteer_id) for visit in visits for volunteer_id in visit.volunteers}
    for helper, serves in week.serves.items():
        model.add_hint(serves, helper in serving)
    for outing, arcs in week.arcs.items():
        sequence: list[Key | None] = [None, *sequences.get(outing, []), None]
        used = set(itertools.pairwise(sequence)) if len(sequence) > 2 else set()
        for origin, destination, literal in arcs:
            model.add_hint(literal, (origin, destination) in used)


HINT_COMPLETION_MAX_S = 5.0
"""At most this long to complete a hint (milliseconds on the weeks `cpsat` is meant for)."""


def hinted_values(week: WeekModel) -> dict[int, int]:
    """Variable index -> hinted value, of the model's current hint."""
    hint = week.model.proto.solution_hint
    return dict(zip(hint.vars, hint.values, strict=True))


def complete_hint(week: WeekModel, time_limit_s: float, seed: int = 0) -> str:
    """Extend the model's hint to every variable: the hinted variables fixed, the others found
    by CP-SAT. `complete` (the hint is now a whole feasible solution), `infeasible` (the hinted
    decisions break the model, e.g. a plan the pruned model cannot represent: the hint is left as
    it was) or `unknown` (not found within the time)."""
    values = hinted_values(week)
    if not values:
        return "unknown"
    fixed = week.model.clone()
    fixed.clear_hints()  # type: ignore[no-untyped-call]
    fixed.clear_objective()  # type: ignore[no-untyped-call]
    for index, value in values.items():
        domain = fixed.proto.variables[index].domain
        domain.clear()
        domain.extend([value, value])
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, min(HINT_COMPLETION_MAX_S, time_limit_s))
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.stop_after_first_solution = True
    status = solver.solve(fixed)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        hint_from_solution(week, solver)
        return "complete"
    return "infeasible" if status == cp_model.INFEASIBLE else "unknown"


def hint_from_solution(week: WeekModel, solver: cp_model.CpSolver) -> None:
    """Hint every variable with its value in the solver's last solution (the next phase starts
    from it)."""
    values = list(solver.response_proto.solution)
    hint_values(week, dict(enumerate(values)))


def hint_values(week: WeekModel, values: dict[int, int]) -> None:
    """Hint these values (by variable index), in place of the model's hint."""
    model = week.model
    model.clear_hints()  # type: ignore[no-untyped-call]
    hint = model.proto.solution_hint
    hint.vars.extend(list(values))
    hint.values.extend(list(values.values()))


def extract_visits(
    problem: Problem, week: WeekModel, solver: cp_model.CpSolver, facts: dict[str, NeedFacts]
) -> list[Visit]:
    """The solution's new visits and the fixed ones, numbered by day within each need."""
    visits = list(week.fixed_visits)
    for option in week.options.values():
        if not solver.boolean_value(option.present):
            continue
        volunteers = sorted(
            volunteer_id
            for volunteer_id, assigned in option.assigned.items()
            if solver.boolean_value(assigned)
        )
        start = int(solver.value(option.start))
        visits.append(visit_of(problem, facts[option.need], option.day, start, volunteers))
    return number_occurrences(visits)
