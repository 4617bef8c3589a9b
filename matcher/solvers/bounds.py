"""A fast upper bound on priority-weighted coverage, for weeks too large to prove optimal.

A linear relaxation (GLOP) of the weekly problem: each need spreads at most its visits a week
over its allowed days (respecting the minimum gap), each visit takes team-size volunteers who are
qualified and free long enough that day, and no volunteer gives more minutes than their windows,
their weekly cap and their visits a day allow. Travel and the order of visits are relaxed away,
so any plan's weighted coverage is at most this bound.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.linear_solver import pywraplp

from matcher.models import Problem
from matcher.solvers.candidates import (
    NeedFacts,
    availability_by_day,
    intersect,
    need_facts,
    normalise,
    start_set,
)
from matcher.travel import TravelModel


def coverage_upper_bound(
    problem: Problem, travel: TravelModel, facts: dict[str, NeedFacts] | None = None
) -> float:
    """An upper bound on the sum of priorities of the visits any plan can make."""
    facts = facts if facts is not None else need_facts(problem, travel)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:
        raise RuntimeError("OR-Tools' GLOP linear solver is not available")
    availability = {
        volunteer.id: availability_by_day(volunteer) for volunteer in problem.volunteers
    }
    objective = solver.Objective()
    day_minutes: dict[tuple[str, int], list[tuple[pywraplp.Variable, int]]] = defaultdict(list)
    week_minutes: dict[str, list[tuple[pywraplp.Variable, int]]] = defaultdict(list)
    recipient_minutes: dict[tuple[str, int], list[tuple[pywraplp.Variable, int]]] = defaultdict(
        list
    )
    for _, need in sorted(facts.items()):
        team = need.service.team_size
        day_vars: dict[int, pywraplp.Variable] = {}
        for day, windows in sorted(need.windows_by_day.items()):
            need_starts = start_set(windows, need.duration)
            helpers = [
                volunteer_id
                for volunteer_id in need.qualified
                if intersect(
                    need_starts, start_set(availability[volunteer_id].get(day, []), need.duration)
                )
            ]
            if len(helpers) < team:
                continue
            present = solver.NumVar(0.0, 1.0, "")
            day_vars[day] = present
            objective.SetCoefficient(present, need.priority)
            crew = solver.Constraint(0.0, 0.0)
            crew.SetCoefficient(present, -team)
            for volunteer_id in helpers:
                share = solver.NumVar(0.0, 1.0, "")
                crew.SetCoefficient(share, 1.0)
                solver.Add(share <= present)
                day_minutes[(volunteer_id, day)].append((share, need.duration))
                week_minutes[volunteer_id].append((share, need.duration))
            recipient_minutes[(need.recipient.id, day)].append((present, need.duration))
        if not day_vars:
            continue
        solver.Add(sum(day_vars.values()) <= need.need.visits_per_week)
        for day, present in day_vars.items():
            close = [
                other
                for other_day, other in day_vars.items()
                if day < other_day < day + need.need.min_gap_days
            ]
            for other in close:
                solver.Add(present + other <= 1)
    for (volunteer_id, day), terms in day_minutes.items():
        volunteer = problem.volunteer_by_id[volunteer_id]
        free = sum(end - start for start, end in availability[volunteer_id].get(day, []))
        solver.Add(sum(share * minutes for share, minutes in terms) <= free)
        if volunteer.max_visits_per_day is not None:
            solver.Add(sum(share for share, _ in terms) <= volunteer.max_visits_per_day)
    for volunteer_id, terms in week_minutes.items():
        cap = problem.volunteer_by_id[volunteer_id].max_minutes_per_week
        if cap is not None:
            solver.Add(sum(share * minutes for share, minutes in terms) <= cap)
    for (recipient_id, day), terms in recipient_minutes.items():
        if len(terms) < 2:
            continue
        home = problem.recipient_by_id[recipient_id]
        windows = normalise(
            (window.start, window.end)
            for need in home.needs
            for window in problem.allowed_windows(need)
            if window.day_index == day
        )
        solver.Add(
            sum(present * minutes for present, minutes in terms) <= sum(b - a for a, b in windows)
        )
    objective.SetMaximization()
    status = solver.Solve()
    if status != pywraplp.Solver.OPTIMAL:
        raise RuntimeError(f"the coverage relaxation ended with status {status}")
    return float(objective.Value()) * (1 + 1e-7) + 1e-6  # GLOP tolerance: stay above
