"""`ruin`'s `shift` move: a need of several visits a week moved between days, keeping its gap.

Ann needs two walks a week, at least three days apart; Pat is free on Monday, Wednesday and
Thursday mornings. Monday and Thursday take both walks. With one walk on Wednesday, neither other
day keeps the gap, so the second walk cannot be put back on its own: the Wednesday walk must move
too. `shift` takes the need's visits out and puts both occurrences back together.
"""

from __future__ import annotations

import matcher
from matcher.models import Problem
from matcher.solvers.ruin.solver import RuinSearch
from tests.helpers import recipient, tiny_problem, volunteer, window
from tests.solvers.test_ruin import current_plan, search

DAYS = ("mon", "wed", "thu")


def gap_week() -> Problem:
    """The week of the module docstring."""
    mornings = [window(day, "09:00", "12:00") for day in DAYS]
    return tiny_problem(
        [{"id": "walk", "duration_min": 60}],
        [
            recipient(
                "ann",
                {
                    "id": "ann_walk",
                    "service": "walk",
                    "priority": 5,
                    "visits_per_week": 2,
                    "min_gap_days": 3,
                    "windows": mornings,
                },
            )
        ],
        [volunteer("pat", availability=mornings)],
    )


def walk_days(run: RuinSearch) -> list[str]:
    return sorted(visit.day for visit in current_plan(run).visits)


def wednesday_walk(problem: Problem) -> tuple[RuinSearch, int]:
    """A search whose week has Ann's one walk on Wednesday (the other left out)."""
    run = search(problem)
    engine, planner = run.engine, run.planner
    need = planner.setup.need_index["ann_walk"]
    move = engine.begin_move()
    for placed in engine.movable():
        assert engine.remove_unit([placed], move)
    wednesday = next(option for _, _, option in planner.scored_options(need) if option.day == 2)
    engine.insert_at(need, wednesday, move)
    assert walk_days(run) == ["wed"] and engine.missing[need] == 1
    return run, need


def test_greedy_takes_monday_and_thursday() -> None:
    plan = matcher.solve(gap_week(), solver="greedy", seed=0)
    assert sorted(visit.day for visit in plan.visits) == ["mon", "thu"]


def test_the_left_out_walk_cannot_go_back_on_its_own() -> None:
    """Without moving the Wednesday walk no day keeps the gap."""
    run, need = wednesday_walk(gap_week())
    run.engine.recreate([need], run.engine.begin_move(), 0.0, 1)
    assert walk_days(run) == ["wed"]
    assert run.engine.missing[need] == 1


def test_shift_moves_the_walk_and_plans_both() -> None:
    problem = gap_week()
    run, need = wednesday_walk(problem)
    coverage = run.engine.coverage
    ruin = run.ruins.ruin("shift", 5)
    assert ruin.target == need and ruin.together
    assert [(placed.need, placed.day) for placed in ruin.seeds] == [(need, 2)]
    run.step(0, "shift")
    assert walk_days(run) == ["mon", "thu"]
    assert run.engine.coverage == coverage + 5
    assert run.engine.missing[need] == 0
    assert matcher.check_plan(problem, current_plan(run)).ok


def test_shift_has_nothing_to_aim_at_when_every_need_is_planned() -> None:
    """With both walks planned `shift` falls back to `unplanned`, which has no target either."""
    run = search(gap_week())
    ruin = run.ruins.ruin("shift", 5)
    assert ruin.target == -1 and not ruin.together
