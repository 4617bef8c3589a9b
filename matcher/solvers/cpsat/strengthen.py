"""Constraints the week's model does not need but CP-SAT proves faster with (issue 14).

Each is implied by the model (`model.py`), so no plan is lost; each only helps the linear
relaxation or cuts away mirror images of the same plan:

- `add_outing_minutes`: the minutes of an outing's visits and legs fit between its opening and
  its close. The routing constraints say so leg by leg, through enforced start constraints whose
  linear relaxation is weak; the sum of literals is what the LP needs to bound coverage.
- `add_volunteer_symmetry`: two volunteers whom nothing in the week tells apart (the same
  attributes, places and matrices, and no need, recipient, history, pinned visit or session
  naming either) can swap their weeks; the one listed first carries at least as many minutes.
- `add_coverage_cut`: coverage at most the linear relaxation's bound (`bounds.py`), as a
  constraint the search can prune with.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from matcher.models import WEEKDAYS, Problem, Visit
from matcher.rules import NeedFacts
from matcher.rules.intervals import ceil_minutes
from matcher.solvers.cpsat.model import COVERAGE_SCALE, Key, OutingKey, WeekModel, weighted
from matcher.travel import TravelModel

COVERAGE_CUT_SLACK = 1e-6
"""Priority added to the relaxation's bound before it is turned into whole thousandths."""


@dataclass
class Strengthening:
    """What `strengthen` added: counts, and the volunteer groups ordered by their minutes."""

    outing_minutes: int = 0
    """Outings whose minutes are bounded."""
    ordered_groups: list[list[str]] = field(default_factory=list)
    """Interchangeable volunteers, each carrying at least as many minutes as the next."""
    minutes: dict[str, list[tuple[Any, int]]] = field(default_factory=dict)
    """volunteer id -> (literal, minutes) of every arc of their outings."""

    def statistics(self) -> dict[str, int]:
        return {
            "outing_minutes": self.outing_minutes,
            "symmetric_volunteer_pairs": sum(len(group) - 1 for group in self.ordered_groups),
        }

    def in_order(self, visits: list[Visit], hinted: dict[int, int]) -> list[Visit]:
        """The same plan with interchangeable volunteers' weeks swapped so that it keeps the
        order (`hinted`: the hint of `visits`, by variable index); `visits` when it does."""
        renamed: dict[str, str] = {}
        for group in self.ordered_groups:
            carried = {
                volunteer: sum(hinted.get(literal.index, 0) * minutes for literal, minutes in terms)
                for volunteer in group
                if (terms := self.minutes.get(volunteer)) is not None
            }
            ranked = sorted(group, key=lambda volunteer: -carried.get(volunteer, 0))
            renamed.update((old, new) for old, new in zip(ranked, group, strict=True) if old != new)
        if not renamed:
            return visits
        return [
            visit.model_copy(
                update={"volunteers": sorted(renamed.get(item, item) for item in visit.volunteers)}
            )
            if any(item in renamed for item in visit.volunteers)
            else visit
            for visit in visits
        ]


def strengthen(
    week: WeekModel, problem: Problem, travel: TravelModel, *, symmetry: bool = True
) -> Strengthening:
    """Add the redundant outing minutes and (with `symmetry`) the volunteer order to the model."""
    added = Strengthening(outing_minutes=add_outing_minutes(week, problem, travel))
    if symmetry:
        add_volunteer_symmetry(week, problem, travel, added)
    return added


def _durations(week: WeekModel) -> dict[Key, int]:
    """Minutes of every stop the model may route: its options and its fixed visits."""
    durations = {key: option.duration for key, option in week.options.items()}
    for visit in week.fixed_visits:
        durations[(visit.need, WEEKDAYS.index(visit.day))] = visit.end - visit.start
    return durations


def _places(week: WeekModel, travel: TravelModel) -> dict[Key, int]:
    """The matrix place of every stop the model may route."""
    places = {key: option.place for key, option in week.options.items()}
    for visit in week.fixed_visits:
        places[(visit.need, WEEKDAYS.index(visit.day))] = travel.recipient_place[visit.recipient]
    return places


def _arc_minutes(
    week: WeekModel, problem: Problem, travel: TravelModel
) -> dict[OutingKey, list[tuple[Any, int]]]:
    """Per outing, each arc with the whole minutes it takes: the leg (rounded up, as the routing
    constraints count it) and the visit it arrives at (none for the way home)."""
    durations, places = _durations(week), _places(week, travel)
    minutes: dict[OutingKey, list[tuple[Any, int]]] = {}
    for outing, arcs in week.arcs.items():
        volunteer_id = outing[0]
        matrix = travel.time_matrix(problem.volunteer_by_id[volunteer_id])
        start, home = travel.start_place[volunteer_id], travel.home_place[volunteer_id]
        terms = []
        for origin, destination, literal in arcs:
            here = start if origin is None else places[origin]
            there = home if destination is None else places[destination]
            leg = ceil_minutes(float(matrix[here, there]))
            terms.append((literal, leg + (0 if destination is None else durations[destination])))
        minutes[outing] = terms
    return minutes


def add_outing_minutes(week: WeekModel, problem: Problem, travel: TravelModel) -> int:
    """Every outing's legs and visits within its opening hours; the number of outings bounded."""
    added = 0
    for outing, terms in _arc_minutes(week, problem, travel).items():
        volunteer_id, day, index = outing
        opens, closes = week.outings[volunteer_id][day][index]
        if terms and sum(max(0, minutes) for _, minutes in terms) > closes - opens:
            week.model.add(weighted(terms) <= closes - opens)
            added += 1
    return added


def interchangeable_volunteers(problem: Problem, travel: TravelModel) -> list[list[str]]:
    """Groups (two or more, in the week's order) of volunteers nothing in the week tells apart."""
    text = problem.model_dump_json()
    groups: dict[str, list[str]] = defaultdict(list)
    for volunteer in problem.volunteers:
        if text.count(json.dumps(volunteer.id, ensure_ascii=False)) != 1:
            continue  # named somewhere besides their own id: not free to swap
        attributes = volunteer.model_dump(mode="json", exclude={"id", "name"})
        signature = json.dumps(
            [
                attributes,
                travel.start_place[volunteer.id],
                travel.home_place[volunteer.id],
            ],
            sort_keys=True,
        )
        groups[signature].append(volunteer.id)
    order = {volunteer.id: number for number, volunteer in enumerate(problem.volunteers)}
    found = [sorted(members, key=order.__getitem__) for members in groups.values()]
    return [members for members in found if len(members) > 1]


def add_volunteer_symmetry(
    week: WeekModel, problem: Problem, travel: TravelModel, added: Strengthening
) -> None:
    """Order interchangeable volunteers by their modelled minutes (visits and legs): the first
    of each group carries at least as many as the next. A volunteer with fixed visits (pinned, or
    kept by a neighbourhood), whose week is not free to swap, is left out; the groups ordered go
    to `added`."""
    fixed = {volunteer for visit in week.fixed_visits for volunteer in visit.volunteers}
    minutes: dict[str, list[tuple[Any, int]]] = defaultdict(list)
    for outing, terms in _arc_minutes(week, problem, travel).items():
        minutes[outing[0]].extend(terms)
    for group in interchangeable_volunteers(problem, travel):
        free = [
            volunteer for volunteer in group if volunteer not in fixed and minutes.get(volunteer)
        ]
        if len(free) < 2:
            continue
        for first, second in itertools.pairwise(free):
            week.model.add(weighted(minutes[first]) >= weighted(minutes[second]))
        added.ordered_groups.append(free)
        added.minutes.update((volunteer, minutes[volunteer]) for volunteer in free)


def add_coverage_cut(week: WeekModel, facts: dict[str, NeedFacts], bound: float) -> bool:
    """Coverage (thousandths of the new visits' priority) at most what the bound on the whole
    week's weighted coverage leaves after the fixed visits, with the rounding of priorities to
    thousandths allowed for; whether the cut was added (a bound above all the options is none)."""
    fixed = sum(facts[visit.need].priority for visit in week.fixed_visits if visit.need in facts)
    priorities = [facts[option.need].priority for option in week.options.values()]
    excess = sum(
        max(0.0, round(COVERAGE_SCALE * priority) / COVERAGE_SCALE - priority)
        for priority in priorities
    )
    limit = math.floor(COVERAGE_SCALE * (bound - fixed + excess + COVERAGE_CUT_SLACK))
    most = sum(max(0, round(COVERAGE_SCALE * priority)) for priority in priorities)
    if limit >= most:
        return False
    week.model.add(week.coverage <= limit)
    return True
