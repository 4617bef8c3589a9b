"""`recommend`: the slots that take a new need without moving anything, each one real (the
solver plans the need there with every other visit pinned, and the checker agrees), else the
smallest change (`replan` with the need urgent)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from matcher.models import WEEKDAYS, Need, PinnedVisit, Plan, Problem
from matcher.replan.changes import ChangeList, NewNeed, changed_problem
from matcher.replan.recommend import Slot, recommend
from tests.helpers import checked, example, solved


@pytest.fixture(scope="module")
def week() -> tuple[Problem, Plan]:
    problem = example("small")
    return problem, solved(problem, seed=0)


def _with_need(problem: Problem, recipient: str, need: Need, urgent: bool = False) -> Problem:
    change = NewNeed(recipient=recipient, need=need, urgent=urgent)
    return changed_problem(problem, ChangeList(changes=[change]))


def _planned_at(problem: Problem, plan: Plan, need: Need, slot: Slot) -> Plan:
    """The solver's plan with every old visit and the slot pinned, checked."""
    pins = [
        PinnedVisit(need=visit.need, day=visit.day, start=visit.start, volunteers=visit.volunteers)
        for visit in plan.visits
    ]
    pins.append(
        PinnedVisit(need=need.id, day=slot.day, start=slot.start, volunteers=slot.volunteers)
    )
    return solved(problem.variant(pinned=pins))


def test_every_slot_is_one_the_solver_plans_with_nothing_else_moved(
    week: tuple[Problem, Plan],
) -> None:
    problem, plan = week
    need = Need(id="new-meal", service="meal")
    recipient = problem.recipients[0].id
    result = recommend(problem, plan, recipient, need, limit=4)
    assert result.fits_now and result.change is None and result.plan is None
    assert 1 <= len(result.slots) <= 4
    costs = [slot.added_min for slot in result.slots]
    assert costs == sorted(costs)
    changed = _with_need(problem, recipient, need)
    old = {(v.need, v.occurrence, v.day, v.start, tuple(v.volunteers)) for v in plan.visits}
    for slot in result.slots:
        assert slot.start <= slot.latest_start
        new_plan = _planned_at(changed, plan, need, slot)
        placed = [visit for visit in new_plan.visits if visit.need == need.id]
        assert [(v.day, v.start, v.volunteers) for v in placed] == [
            (slot.day, slot.start, slot.volunteers)
        ]
        kept = {
            (v.need, v.occurrence, v.day, v.start, tuple(v.volunteers))
            for v in new_plan.visits
            if v.need != need.id
        }
        assert old <= kept


def test_a_slot_is_inside_the_needs_windows(week: tuple[Problem, Plan]) -> None:
    problem, plan = week
    recipient = problem.recipients[1].id
    window = {"day": "wed", "start": "14:00", "end": "16:00"}
    need = Need.model_validate({"id": "new-visit", "service": "visit", "windows": [window]})
    result = recommend(problem, plan, recipient, need)
    assert result.fits_now and result.slots
    for slot in result.slots:
        assert slot.day == "wed"
        assert slot.start >= 14 * 60 and slot.end <= 16 * 60


def test_a_team_need_gets_the_smallest_change_that_plans_it(week: tuple[Problem, Plan]) -> None:
    """Cleaning needs two volunteers: no single slot; the answer is replan's, with the need
    urgent: a checked plan, its diff, and where the need went."""
    problem, plan = week
    need = Need(id="new-cleaning", service="cleaning")
    recipient = problem.recipients[0].id
    result = recommend(problem, plan, recipient, need)
    assert not result.fits_now and result.slots == []
    assert result.change is not None and result.plan is not None
    changed = _with_need(problem, recipient, need, urgent=True)
    checked(changed, result.plan)
    planned = [visit for visit in result.plan.visits if visit.need == need.id]
    assert planned
    assert [(v.day, v.start, v.volunteers) for v in planned] == [
        (slot.day, slot.start, slot.volunteers) for slot in result.placed
    ]
    assert all(slot.day in WEEKDAYS for slot in result.placed)


def test_bad_requests_name_the_field(week: tuple[Problem, Plan]) -> None:
    problem, plan = week
    with pytest.raises(ValidationError) as caught:
        recommend(problem, plan, "nobody", Need(id="n", service="meal"))
    assert any("nobody" in error["msg"] for error in caught.value.errors())
    taken = problem.recipients[0].needs[0].id
    with pytest.raises(ValidationError):
        recommend(problem, plan, problem.recipients[0].id, Need(id=taken, service="meal"))
    with pytest.raises(ValueError, match="limit"):
        recommend(problem, plan, problem.recipients[0].id, Need(id="n", service="meal"), limit=0)
