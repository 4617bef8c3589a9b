"""Recommendations for a new need: an elder calls and asks when someone could come.

Given the week's plan and one new need, `recommend` lists the slots (day, start, volunteer) that
could take one visit of it now, with every planned visit left where it is, cheapest first (the
fewest minutes added to the volunteer's outing). Each slot comes from the rules the explanations
judge with (`matcher.explain.verdicts.Judge`: the need's open days, qualification, reach, the
volunteer's week and the insertions of `matcher.rules.volunteer_week`) and is then confirmed by
the independent checker with the visit added to the plan.

When no slot takes it as the plan stands (or the service needs a team), the answer is the
smallest change that would: `replan` with the need as an urgent new need, which keeps every
visit it can and releases the nearest volunteers' overlapping visits only if it must; the
recommendation then carries that diff and new plan.
"""

from __future__ import annotations

import math

from pydantic import Field

from matcher.explain.verdicts import Judge, Voice, known_visits
from matcher.messages import checked_language
from matcher.models import WEEKDAYS, Need, Plan, Problem, Visit
from matcher.models.common import ClockTime, DayOfWeek, StrictModel
from matcher.replan.changes import ChangeList, NewNeed, changed_problem
from matcher.replan.diff import PlanDiff
from matcher.replan.planner import replan
from matcher.rules import Diagnoser, PlanIndex, need_facts
from matcher.rules.outings import EPSILON
from matcher.rules.volunteer_week import can_carry, insertions, visits_allowed
from matcher.solvers.base import SolverError, assemble_plan
from matcher.travel import TravelModel

DEFAULT_SLOT_LIMIT = 10
"""Slots listed unless the caller asks for another number."""


class Slot(StrictModel):
    """One time a volunteer could make the visit, nothing else moved."""

    day: DayOfWeek
    start: ClockTime
    end: ClockTime
    latest_start: ClockTime = Field(description="the same slot still fits up to this start")
    volunteers: list[str]
    added_min: float = Field(description="minutes the volunteer's outing grows by")


class Recommendation(StrictModel):
    """When the new need could be met: slots that fit now, else the smallest change."""

    need: str
    recipient: str
    fits_now: bool = Field(description="some slot takes it without moving any planned visit")
    slots: list[Slot] = Field(description="cheapest first, each confirmed by the checker")
    change: PlanDiff | None = Field(
        default=None, description="when nothing fits now: what re-planning would change"
    )
    placed: list[Slot] = Field(
        default_factory=list, description="when nothing fits now: where re-planning put it"
    )
    plan: Plan | None = Field(default=None, description="when nothing fits now: the new plan")


def _candidates(changed: Problem, plan: Plan, need_id: str, travel: TravelModel) -> list[Slot]:
    """Every insertion that takes one visit of the need, as the explanations' judge sees it."""
    facts = need_facts(changed, travel)
    diagnoser = Diagnoser(changed, travel, facts)
    visits = known_visits(changed, plan)
    index = PlanIndex.of(visits)
    judge = Judge(changed, travel, diagnoser, index, Voice(checked_language("en")))
    need_facts_ = facts[need_id]
    if need_facts_.service.team_size > 1:
        return []
    days = diagnoser.open_days(need_id, index)
    stages = diagnoser.stages(need_id, days)
    slots: list[Slot] = []
    for volunteer in changed.volunteers:
        cap = volunteer.max_minutes_per_week
        left = math.inf if cap is None else cap - judge.minutes_used(volunteer)
        outings = diagnoser.outings[volunteer.id]
        for day in stages.reaching_days.get(volunteer.id, ()):
            if not visits_allowed(volunteer, len(judge.planned(volunteer, day))):
                continue
            if not can_carry(volunteer, need_facts_.need.load, judge.load_carried(volunteer, day)):
                continue
            for insertion in insertions(
                travel,
                volunteer,
                outings.get(day, []),
                judge.planned(volunteer, day),
                need_facts_.place,
                need_facts_.duration,
            ):
                if not insertion.fits or insertion.added_min > left + EPSILON:
                    continue
                for low, high in judge.fitting_starts(need_facts_, day, insertion):
                    slots.append(
                        Slot(
                            day=WEEKDAYS[day],
                            start=low,
                            end=low + need_facts_.duration,
                            latest_start=high,
                            volunteers=[volunteer.id],
                            added_min=round(insertion.added_min, 3),
                        )
                    )
    slots.sort(
        key=lambda slot: (slot.added_min, WEEKDAYS.index(slot.day), slot.start, slot.volunteers)
    )
    return slots


def _confirmed(changed: Problem, plan: Plan, need_id: str, slot: Slot, travel: TravelModel) -> bool:
    """Whether the checker accepts the plan with the slot's visit added."""
    recipient = changed.recipient_of_need[need_id].id
    added = Visit(
        need=need_id,
        recipient=recipient,
        service=changed.need_by_id[need_id].service,
        occurrence=1,
        day=slot.day,
        start=slot.start,
        end=slot.end,
        volunteers=slot.volunteers,
    )
    try:
        assemble_plan(
            changed, travel, [*known_visits(changed, plan), added], solver="recommend", check=True
        )
    except SolverError:
        return False
    return True


def recommend(
    problem: Problem,
    plan: Plan,
    recipient: str,
    need: Need,
    *,
    urgent: bool = False,
    limit: int = DEFAULT_SLOT_LIMIT,
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
) -> Recommendation:
    """The slots that could take a visit of a new need of `recipient` now, cheapest first, or
    the smallest change that would.

    Raises pydantic's ValidationError (every problem with its path, as `replan` reports them)
    for an unknown recipient, a need id already taken or a need the problem refuses, and
    ValueError for an unknown solver. `solver`, `time_limit_s` and `seed` are those of the
    re-plan made when no slot fits now.
    """
    if limit < 1:
        raise ValueError(f"limit: at least 1 slot, not {limit}")
    change = NewNeed(recipient=recipient, need=need, urgent=urgent)
    changed = changed_problem(problem, ChangeList(changes=[change]))
    travel = TravelModel(changed)
    slots: list[Slot] = []
    for slot in _candidates(changed, plan, need.id, travel):
        if len(slots) >= limit:
            break
        if _confirmed(changed, plan, need.id, slot, travel):
            slots.append(slot)
    if slots:
        return Recommendation(need=need.id, recipient=recipient, fits_now=True, slots=slots)
    result = replan(
        problem,
        plan,
        [change.model_copy(update={"urgent": True})],
        solver=solver,
        time_limit_s=time_limit_s,
        seed=seed,
    )
    placed = [
        Slot(
            day=visit.day,
            start=visit.start,
            end=visit.end,
            latest_start=visit.start,
            volunteers=visit.volunteers,
            added_min=0.0,
        )
        for visit in result.plan.visits
        if visit.need == need.id
    ]
    return Recommendation(
        need=need.id,
        recipient=recipient,
        fits_now=False,
        slots=[],
        change=result.diff,
        placed=placed,
        plan=result.plan,
    )


__all__ = ["DEFAULT_SLOT_LIMIT", "Recommendation", "Slot", "recommend"]
