"""The incremental evaluation `ruin` steps on: greedy's cached insertions, judged by versions and
given back from the move's journal on undo, equal a full recomputation after random steps,
accepted or undone."""

from __future__ import annotations

import random

import pytest

from matcher.models import Problem
from matcher.solvers.greedy.cache import combined
from matcher.solvers.greedy.insertion import Option
from matcher.solvers.greedy.setup import EPS
from matcher.solvers.ruin.solver import RuinSearch
from tests.solvers.test_ruin import linked_week, search, week


def usable(run: RuinSearch, option: Option) -> bool:
    """Whether greedy would weigh the option now: every volunteer on it has the weekly minutes
    (`scored_options` asks this of every cached insertion, whatever the cache holds)."""
    state, helpers = run.planner.state, run.planner.setup.helpers
    return all(
        state.load[volunteer] + minutes <= helpers[volunteer].max_minutes + EPS
        for volunteer, minutes in zip(option.volunteers, option.added_minutes, strict=True)
    )


def cached(run: RuinSearch, need: int) -> set[Option]:
    return {
        option
        for option in run.planner.cache.options(need)
        if option is not None and usable(run, option)
    }


def recomputed(run: RuinSearch, need: int) -> set[Option]:
    """The need's insertions worked out from scratch on the week as it is now."""
    planner, cache = run.planner, run.planner.cache
    info, insertions = planner.needs[need], planner.insertions
    if not combined(info):
        found = [
            insertions.single_option(info, volunteer, day) for volunteer, day in cache.keys[need]
        ]
    elif info.partner >= 0:
        partner = planner.needs[info.partner]
        found = [
            insertions.pair_option(
                info, partner, day, cache.active[need], cache.active[info.partner]
            )
            for _, day in cache.entries[need]
        ]
    else:
        found = [
            insertions.team_option(info, day, cache.active[need]) for _, day in cache.entries[need]
        ]
    return {option for option in found if option is not None and usable(run, option)}


@pytest.mark.parametrize("problem", [week(), linked_week()], ids=["generated", "linked"])
def test_cached_insertions_equal_a_full_recomputation_after_random_steps(
    problem: Problem,
) -> None:
    run = search(problem, seed=2)
    rng = random.Random(11)
    compared = undone = 0
    for iteration in range(60):
        move = run.step(iteration)
        if rng.random() < 0.6:
            run.engine.undo(move)
            undone += 1
        needs = [
            info.index for info in run.planner.needs if info.leader < 0 and not info.unplannable
        ]
        for need in rng.sample(needs, min(25, len(needs))):
            assert cached(run, need) == recomputed(run, need), (iteration, need)
            compared += 1
    assert undone > 10 and compared > 1000


def test_undo_gives_back_the_cached_insertions_of_before_the_move() -> None:
    """After an undo the cache holds, for every need weighed before the move, the very
    insertions it held then, without working them out again."""
    run = search(week(), seed=4)
    cache, needs = run.planner.cache, run.planner.needs
    singles = [info.index for info in needs if not combined(info) and cache.keys[info.index]]
    for iteration in range(15):
        before = {need: set(cache.options(need)) for need in singles}
        stamps = {need: cache.stamp_day[need].copy() for need in singles}
        run.engine.undo(run.step(iteration))
        for need in singles:
            assert (cache.stamp_day[need] == stamps[need]).all()
            assert set(cache.options(need)) == before[need]
