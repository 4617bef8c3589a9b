"""Linked pairs in `ruin`'s recreate: greedy's pair insertion, tried cheapest first, is the one
trying every pair of choices finds, at the least late starts; and a volunteer's remembered
choices are the ones worked out afresh.
"""

from __future__ import annotations

from matcher.solvers.greedy.insertion import Insertions, Option
from matcher.solvers.greedy.setup import NeedInfo
from matcher.solvers.ruin.solver import RuinSearch
from tests.solvers.test_ruin import linked_week, search
from tests.solvers.test_ruin_objective import late_and_paid


def every_pair(
    insertions: Insertions, info: NeedInfo, partner: NeedInfo, day: int, active: int
) -> Option | None:
    """The cheapest linked pair by trying every leader's choice with every partner's (the
    search before it was pruned), earliest on ties, in the candidates' order."""
    leaders = insertions._pair_members(info, day, active)
    followers = insertions._pair_members(partner, day, active)
    low, high = info.gap
    weight = insertions.weights.lateness_per_min
    best: tuple[float, int, int, tuple[int, int]] | None = None
    found: Option | None = None
    for rank, volunteer, choices in leaders:
        for other_rank, other, other_choices in followers:
            if other == volunteer:
                continue
            for first, last, cost, outing, position, added in choices:
                for (
                    other_first,
                    other_last,
                    other_cost,
                    other_outing,
                    other_position,
                    more,
                ) in other_choices:
                    start = max(first, other_first - high)
                    if start > min(last, other_last - low):
                        continue
                    second = max(other_first, start + low)
                    lateness = info.lateness(day, start)
                    other_lateness = partner.lateness(day, second)
                    total = cost + other_cost + weight * (lateness + other_lateness)
                    key = (total, start, second, (rank, other_rank))
                    if best is not None and key >= best:
                        continue
                    best = key
                    found = Option(
                        day=day,
                        start=start,
                        volunteers=(volunteer, other),
                        outings=(outing, other_outing),
                        positions=(position, other_position),
                        added_minutes=(added, more),
                        cost=total,
                        tie=(day,),
                        lateness=max(lateness, other_lateness),
                        second_start=second,
                    )
    return found


def compare_every_pair(run: RuinSearch) -> int:
    """Assert that every pair's insertion on every day is the exhaustive one; how many pairs
    and days had one."""
    planner = run.planner
    compared = 0
    for info in planner.needs:
        if info.partner < 0:
            continue
        partner = planner.needs[info.partner]
        active = len(info.candidates)
        for day in range(7):
            expected = every_pair(planner.insertions, info, partner, day, active)
            got = planner.insertions.pair_option(info, partner, day, active, active)
            assert got == expected
            compared += expected is not None
    return compared


def test_pair_insertions_are_the_exhaustive_ones_through_a_search() -> None:
    """On the linked week, soft and late, after greedy and after steps of ruin."""
    run = search(late_and_paid(linked_week(), slack_min=90))
    compared = compare_every_pair(run)
    for iteration in range(15):
        run.step(iteration)
        compared += compare_every_pair(run)
    assert compared > 0


def test_remembered_choices_are_worked_out_afresh() -> None:
    """After steps of ruin (and undone ones), every volunteer's remembered choices for a pair's
    need are the ones worked out from the week as it is."""
    run = search(linked_week())
    insertions = run.planner.insertions
    for iteration in range(20):
        move = run.step(iteration)
        if iteration % 3 == 0:
            run.engine.undo(move)
        for info in run.planner.needs:
            if info.partner < 0 and info.leader < 0:
                continue
            for volunteer in info.candidates[:5]:
                for day in info.candidate_days[volunteer]:
                    assert insertions.member_choices(
                        info, volunteer, day
                    ) == insertions._member_choices(info, volunteer, day)
