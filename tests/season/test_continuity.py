"""Tests of continuity across weeks (pairings kept, new and broken, with reasons), fairness on
both sides (load against what volunteers offered, nobody of high priority left out two weeks
running). The simulated season is tested with the benchmarks (tests/benchmarks/test_season.py).

Every person lives at the same address on the site plan, so travel takes no time and each case
turns on the rule it is about. Every plan, hand-made or solved, goes through the checker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest

from matcher.checker import check_plan, offered_minutes
from matcher.continuity import (
    history_from_plan,
    pairing_report,
    rolled_history,
    uncovered_two_weeks,
)
from matcher.models import HistoricVisit, Plan, Problem, Visit
from matcher.season import next_week_problem, plan_week, visit_changes
from tests.editing import edit
from tests.helpers import (
    MONDAY_MORNING,
    WEEK,
    chat,
    checked,
    recipient,
    solved,
    tiny_problem,
    unplanned,
    visit,
    volunteer,
    window,
)

WEEK_2 = WEEK + dt.timedelta(days=7)
SERVICES = [
    {"id": "chat", "duration_min": 30},
    {"id": "haircut", "duration_min": 30, "required_skills": ["haircut"]},
]


def problem_of(
    week: dt.date, recipients: list[dict[str, Any]], volunteers: list[dict[str, Any]], **fields: Any
) -> Problem:
    """A problem of the week with the two services."""
    return tiny_problem(SERVICES, recipients, volunteers, week_start=week, **fields)


def hand_made(problem: Problem, *visits: Visit, unassigned: Sequence[str] = ()) -> Plan:
    """A plan of these visits (and these needs listed as unplanned) made by hand, `checked`,
    with the checker's metrics, as a solver's plan has them."""
    left_out = [
        unplanned(problem, need, "volunteers_full", "left out by the coordinator")
        for need in unassigned
    ]
    plan = checked(
        problem, Plan(week_start=problem.week_start, visits=list(visits), unassigned=left_out)
    )
    edit(plan, metrics=check_plan(problem, plan).metrics)
    return plan


# --------------------------------------------------------------------------- continuity


@pytest.mark.parametrize("solver", ["greedy", "cpsat"])
@pytest.mark.parametrize("paired", ["v1", "v2"])
def test_history_decides_between_two_equal_volunteers(solver: str, paired: str) -> None:
    """Two volunteers alike in every way: the visit goes to the one who came last week."""
    problem = problem_of(
        WEEK_2,
        [recipient("r1", chat("r1-chat"))],
        [volunteer("v1"), volunteer("v2")],
        history=[{"recipient": "r1", "volunteer": paired, "week_start": WEEK}],
    )
    plan = solved(problem, solver)
    assert [item.volunteers for item in plan.visits] == [[paired]]
    assert plan.metrics is not None
    assert (plan.metrics.pairings_kept, plan.metrics.pairings_new) == (1, 0)


def test_pairing_weight_defaults_to_continuity() -> None:
    """A standing pairing is worth 50 points a visit, as a preferred volunteer, never twice."""
    weights = Problem.model_validate({"week_start": WEEK}).policy.weights
    assert weights.pairing == weights.continuity == 50
    assert weights.continuity_points(preferred=False, paired=True) == 50
    assert weights.continuity_points(preferred=True, paired=True) == 50
    assert weights.continuity_points(preferred=False, paired=False) == 0


def two_week_sequence() -> tuple[Problem, Plan, Problem, Plan]:
    """Week 1: seven recipients, each visited by their own volunteer (vk visits both rk and
    rn). Week 2, hand-made: rn needs nothing, va is away, ru now needs a haircut vu cannot
    give, vb's one free half hour goes to rh (priority 5, new), rg's chat goes to vd although vg
    is free, rp's chat is not planned although vp is free; rk keeps vk."""
    recipients_1 = [
        recipient("rk", chat("rk-chat")),
        recipient("rn", chat("rn-chat")),
        recipient("ra", chat("ra-chat")),
        recipient("ru", chat("ru-chat")),
        recipient("rb", chat("rb-chat"), priority=1),
        recipient("rg", chat("rg-chat")),
        recipient("rp", chat("rp-chat")),
    ]
    helpers = ["vk", "va", "vu", "vb", "vg", "vd", "vp"]
    week_1 = problem_of(WEEK, recipients_1, [volunteer(v) for v in helpers])
    plan_1 = hand_made(
        week_1,
        visit(week_1, "rk-chat", "10:00", "vk"),
        visit(week_1, "rn-chat", "11:00", "vk"),
        visit(week_1, "ra-chat", "10:00", "va"),
        visit(week_1, "ru-chat", "10:00", "vu"),
        visit(week_1, "rb-chat", "10:00", "vb"),
        visit(week_1, "rg-chat", "10:00", "vg"),
        visit(week_1, "rp-chat", "10:00", "vp"),
    )
    recipients_2 = [
        recipient("rk", chat("rk-chat")),
        recipient("rn"),
        recipient("ra", chat("ra-chat")),
        recipient("ru", {"id": "ru-haircut", "service": "haircut", "windows": MONDAY_MORNING}),
        recipient("rb", chat("rb-chat"), priority=1),
        recipient("rg", chat("rg-chat")),
        recipient("rp", chat("rp-chat")),
        recipient("rh", chat("rh-chat"), priority=5),
    ]
    volunteers_2 = [
        volunteer("vk"),
        volunteer("va", availability=[]),
        volunteer("vu"),
        volunteer("vb", availability=[window("mon", "10:00", "10:40")]),
        volunteer("vg"),
        volunteer("vd"),
        volunteer("vp"),
    ]
    upcoming = problem_of(WEEK_2, recipients_2, volunteers_2)
    week_2 = next_week_problem(week_1, plan_1, upcoming)
    plan_2 = hand_made(
        week_2,
        visit(week_2, "rk-chat", "10:00", "vk"),
        visit(week_2, "rh-chat", "10:00", "vb"),
        visit(week_2, "rg-chat", "10:00", "vd"),
    )
    return week_1, plan_1, week_2, plan_2


def test_history_from_plan_feeds_the_next_week() -> None:
    """Last week's visits become this week's history, one entry per pair and need."""
    week_1, plan_1, week_2, _ = two_week_sequence()
    entries = history_from_plan(plan_1, week_1)
    assert len(entries) == 7 and {entry.week_start for entry in entries} == {WEEK}
    assert {(e.recipient, e.volunteer) for e in week_2.history} == {
        (e.recipient, e.volunteer) for e in entries
    }


def test_rolled_history_keeps_the_last_weeks_and_undated_entries() -> None:
    """Entries older than the weeks kept drop out; undated pairings stay."""
    old = HistoricVisit(recipient="r", volunteer="v", week_start=WEEK - dt.timedelta(days=28))
    recent = HistoricVisit(recipient="r", volunteer="w", week_start=WEEK - dt.timedelta(days=7))
    undated = HistoricVisit(recipient="r", volunteer="x")
    kept = rolled_history([old, recent, undated], [], WEEK, keep_weeks=3)
    assert [entry.volunteer for entry in kept] == ["w", "x"]
    assert len(rolled_history([old, recent], [], WEEK, keep_weeks=4)) == 2


def test_pairing_report_kept_new_and_broken_with_reasons() -> None:
    """Each standing pairing of the two-week sequence is kept or broken for its own reason."""
    _, _, week_2, plan_2 = two_week_sequence()
    report = pairing_report(week_2, plan_2)
    assert [(p.recipient, p.volunteer, p.visits) for p in report.kept] == [("rk", "vk", 1)]
    assert {(p.recipient, p.volunteer) for p in report.new} == {("rg", "vd"), ("rh", "vb")}
    broken = {(item.recipient, item.volunteer): item for item in report.broken}
    assert {pair: item.reason for pair, item in broken.items()} == {
        ("rn", "vk"): "no_need",
        ("ra", "va"): "volunteer_unavailable",
        ("ru", "vu"): "volunteer_unqualified",
        ("rb", "vb"): "volunteer_busy",
        ("rg", "vg"): "given_to_other",
        ("rp", "vp"): "not_planned",
    }
    assert broken[("ru", "vu")].rules == ["skill"]
    busy = broken[("rb", "vb")]
    assert [(item.need, item.priority) for item in busy.busy_with] == [("rh-chat", 5)]
    assert "rh-chat #1 (priority 5)" in busy.message
    assert broken[("rg", "vg")].replaced_by == ["vd"]
    assert report.kept_pct == pytest.approx(100 / 7)
    metrics = check_plan(week_2, plan_2).metrics
    assert (
        metrics.pairings_standing,
        metrics.pairings_kept,
        metrics.pairings_new,
        metrics.pairings_broken,
    ) == (7, 1, 2, 6)


def test_visit_changes_matched_per_need() -> None:
    """rk's chat stays, rg's changes hands, rh's is added, the other five are dropped."""
    _, plan_1, _, plan_2 = two_week_sequence()
    changes = visit_changes(plan_1, plan_2)
    assert (changes.same, changes.changed, changes.added, changes.dropped) == (1, 1, 1, 5)


# --------------------------------------------------------------------------- fairness


def test_load_vs_offer_gini_by_hand() -> None:
    """v1 gives 30 of the 60 minutes offered, v2 30 of 120 (its weekly cap): Gini 1/6."""
    problem = problem_of(
        WEEK,
        [recipient("r1", chat("r1-chat")), recipient("r2", chat("r2-chat"))],
        [
            volunteer("v1", availability=[window("mon", "10:00", "11:00")]),
            volunteer(
                "v2",
                max_minutes_per_week=120,
                availability=[*MONDAY_MORNING, window("mon", "10:00", "11:00")],
            ),
        ],
    )
    assert [offered_minutes(v) for v in problem.volunteers] == [60, 120]
    plan = hand_made(
        problem, visit(problem, "r1-chat", "10:00", "v1"), visit(problem, "r2-chat", "10:00", "v2")
    )
    assert plan.metrics is not None
    assert plan.metrics.load_vs_offer_gini == pytest.approx(0.25 / 1.5)
    assert plan.metrics.load_gini == 0


def left_out_twice(spare: bool) -> tuple[Problem, Plan, Plan]:
    """rx (priority 4, the threshold) is left out two Mondays running while ra (priority 6) has
    v1's only free half hour; v2, qualified and free all morning, is there only if `spare`."""
    helpers = [
        volunteer("v1", availability=[window("mon", "10:00", "10:30")]),
        *([volunteer("v2")] if spare else []),
    ]
    week = problem_of(
        WEEK,
        [
            recipient("ra", chat("ra-chat"), priority=6),
            recipient("rx", chat("rx-chat"), priority=4),
        ],
        helpers,
    )
    plan_1 = hand_made(week, visit(week, "ra-chat", "10:00", "v1"), unassigned=["rx-chat"])
    week_2 = week.model_copy(update={"week_start": WEEK_2})
    plan_2 = hand_made(week_2, visit(week_2, "ra-chat", "10:00", "v1"), unassigned=["rx-chat"])
    return week_2, plan_1, plan_2


def test_uncovered_two_weeks_running_names_a_volunteer_who_had_time() -> None:
    """rx is named, with v2, who had the whole morning (180 minutes) free."""
    week_2, plan_1, plan_2 = left_out_twice(spare=True)
    found = uncovered_two_weeks(plan_1, plan_2, week_2)
    assert [(item.recipient, item.volunteer, item.free_min) for item in found] == [
        ("rx", "v2", 180)
    ]
    assert "two weeks running" in found[0].message


def test_uncovered_two_weeks_when_nobody_had_time() -> None:
    """Without v2, rx is still reported, with no volunteer: the rule itself is not broken."""
    week_2, plan_1, plan_2 = left_out_twice(spare=False)
    found = uncovered_two_weeks(plan_1, plan_2, week_2)
    assert [(item.recipient, item.volunteer) for item in found] == [("rx", None)]
    assert "no qualified volunteer had time" in found[0].message


def test_a_volunteer_who_cannot_walk_there_and_back_in_time_had_no_time() -> None:
    """v2 lives 1 km away (19.4 minutes' walk) and is out only 10:00-10:40: the half-hour visit
    and the walk there and home do not fit that outing, so nobody had time for rx."""
    week_2, plan_1, plan_2 = left_out_twice(spare=False)
    walker = volunteer(
        "v2",
        home={"x_m": 1000, "y_m": 0},
        availability=[window("mon", "10:00", "10:40")],
    )
    week_2 = Problem.model_validate(
        {**week_2.model_dump(), "volunteers": [*week_2.model_dump()["volunteers"], walker]}
    )
    found = uncovered_two_weeks(plan_1, plan_2, week_2)
    assert [(item.recipient, item.volunteer) for item in found] == [("rx", None)]


def test_a_recipient_visited_the_week_before_is_not_uncovered_two_weeks() -> None:
    """Left out this week only: nothing to report."""
    week_2, _, plan_2 = left_out_twice(spare=True)
    visited_first = hand_made(week_2, visit(week_2, "rx-chat", "10:00", "v2"))
    assert uncovered_two_weeks(visited_first, plan_2, week_2) == []


def test_next_week_raises_the_recipient_left_out_and_the_solver_covers_them() -> None:
    """After two weeks without a visit, rx's need outranks everyone's, and greedy plans it."""
    week_2, _, plan_2 = left_out_twice(spare=True)
    week_3 = next_week_problem(week_2, plan_2)
    assert week_3.week_start == WEEK_2 + dt.timedelta(days=7)
    assert week_3.priority_of(week_3.need_by_id["rx-chat"]) == 7
    assert week_3.priority_of(week_3.need_by_id["ra-chat"]) == 6
    outcome = plan_week(week_3, plan_2)
    checked(week_3, outcome.plan)
    assert "rx" in {item.recipient for item in outcome.plan.visits}
    assert outcome.plan.uncovered_two_weeks == []


def test_the_only_free_half_hour_goes_to_the_raised_recipient() -> None:
    """v1 alone, room for one visit: ra gets it, and the week after, rx (raised) gets it."""
    week_2, _, _ = left_out_twice(spare=False)
    first = plan_week(week_2)
    assert [item.recipient for item in first.plan.visits] == ["ra"]
    week_3 = next_week_problem(week_2, first.plan)
    second = plan_week(week_3, first.plan)
    checked(week_3, second.plan)
    assert [item.recipient for item in second.plan.visits] == ["rx"]
