"""Outings in the exact model: each of a volunteer's windows is a trip out from the start place
and back home; weekly minutes count every leg, `max_trip_distance_m` bounds each leg and
`max_outing_distance_m` each outing's walk.

Every week here is worked out by hand on a straight line, volunteers walking 100 m a minute with
no detour, so a kilometre is ten minutes.
"""

from __future__ import annotations

from typing import Any

import pytest

from matcher.models import Plan, Problem
from matcher.solvers.cpsat import solve_cpsat
from matcher.solvers.cpsat.lateness import Piece, linear_pieces
from matcher.solvers.lns import LnsParameters, solve_lns
from tests.helpers import checked, recipient, tiny_problem, volunteer, window


def week(
    recipients: dict[str, tuple[float, list[tuple[str, str]]]],
    windows: list[tuple[str, str]],
    duration_min: int = 60,
    **fields: Any,
) -> Problem:
    """Recipients at (x metres, 0) with their Monday need windows; one volunteer at home at the
    origin, 100 m a minute, free on Monday in `windows`, with these other fields."""
    return tiny_problem(
        [{"id": "visit", "duration_min": duration_min}],
        [
            recipient(
                name,
                {
                    "id": f"{name}-visit",
                    "service": "visit",
                    "windows": [window("mon", start, end) for start, end in need_windows],
                },
                x_m=x_m,
            )
            for name, (x_m, need_windows) in recipients.items()
        ],
        [
            volunteer(
                "v",
                speed_m_per_min=100,
                availability=[window("mon", start, end) for start, end in windows],
                **fields,
            )
        ],
        travel={"detour_factor": 1.0},
    )


def exact(problem: Problem) -> Plan:
    """CP-SAT's plan, `checked` (the checker and, outing by outing, the outing rule)."""
    return checked(problem, solve_cpsat(problem, time_limit_s=10))


def planned(plan: Plan) -> list[tuple[str, int]]:
    return sorted((visit.need, visit.start) for visit in plan.visits)


def test_weekly_minutes_count_the_walk_home_between_outings() -> None:
    """Free 09:00-11:00 and 15:00-17:00, two one-hour visits in one building a kilometre away,
    one each window. Each outing walks 10 minutes out and 10 back: 160 minutes for both. A day
    walked as one trip would be 140, inside a cap of 150; with outings only one visit fits."""
    recipients = {
        "morning": (1000.0, [("09:00", "11:00")]),
        "afternoon": (1000.0, [("15:00", "17:00")]),
    }
    windows = [("09:00", "11:00"), ("15:00", "17:00")]
    capped = exact(week(recipients, windows, max_minutes_per_week=150))
    assert len(capped.visits) == 1
    assert capped.solver.bound == pytest.approx(1.0)
    both = exact(week(recipients, windows, max_minutes_per_week=160))
    assert len(both.visits) == 2


def test_an_outing_ends_at_home_by_its_close() -> None:
    """Free 09:00-11:00 and 11:30-13:00; A and B a little apart, both about 20 minutes from
    home. A fits the morning (out by 09:10, home by 11:00). B's hour in the second outing
    would need 20 minutes out and 20 back inside 90 minutes: it does not fit, though going
    straight from A to B would."""
    problem = week(
        {"a": (2000.0, [("09:30", "11:00")]), "b": (2100.0, [("11:30", "13:00")])},
        [("09:00", "11:00"), ("11:30", "13:00")],
    )
    plan = exact(problem)
    assert [need for need, _ in planned(plan)] == ["a-visit"]
    assert [item.need for item in plan.unassigned] == ["b-visit"]
    start = plan.visits[0].start
    assert start >= 9 * 60 + 20 and start + 60 + 20 <= 11 * 60


def test_trip_limit_per_leg_and_outing_limit_per_walk() -> None:
    """A 500 m east and B 500 m west, half-hour visits. In one window (09:00-12:00) the walk
    home-A-B-home is 2,000 m with a 1,000 m leg between them; in two windows each outing walks
    1,000 m in 500 m legs. A leg limit of 800 m or an outing limit of 1,500 m allows one visit
    in a single window and both in two."""
    recipients = {"a": (500.0, [("09:00", "12:30")]), "b": (-500.0, [("09:00", "12:30")])}
    one_window = [("09:00", "12:00")]
    two_windows = [("09:00", "10:30"), ("11:00", "12:30")]
    for limit in ({"max_trip_distance_m": 800}, {"max_outing_distance_m": 1500}):
        assert len(exact(week(recipients, one_window, 30, **limit)).visits) == 1
        split = exact(week(recipients, two_windows, 30, **limit))
        assert len(split.visits) == 2
        assert len({visit.start < 10 * 60 + 30 for visit in split.visits}) == 2


def test_windows_that_touch_make_one_outing() -> None:
    """09:00-10:00 and 10:00-11:00 are one outing: a 90-minute visit a kilometre out fits across
    the seam (out by 09:10, visit until 10:40, home by 10:50), though it fits neither window."""
    plan = exact(
        week({"a": (1000.0, [("09:00", "11:00")])}, [("09:00", "10:00"), ("10:00", "11:00")], 90)
    )
    assert len(plan.visits) == 1
    assert 9 * 60 + 10 <= plan.visits[0].start <= 9 * 60 + 20


def test_lateness_pieces_follow_the_rule() -> None:
    """Late after 10 and again after 40 once a later window opens at 30: four linear pieces."""

    def late(start: int) -> float:
        return float(min(max(0, start - 10), 10**6 if start < 30 else max(0, start - 40)))

    assert linear_pieces(late, [(0, 50)]) == [
        Piece(0, 10, 0, 0),
        Piece(11, 29, 1, 1),
        Piece(30, 40, 0, 0),
        Piece(41, 50, 1, 1),
    ]


def test_a_soft_window_visit_is_as_late_as_the_rule_says() -> None:
    """A soft window 09:00-10:00 for an hour's visit, the volunteer free only from 09:30: the
    visit starts 09:30 and ends half an hour late; the model pays exactly 30 late minutes."""
    problem = week({"a": (0.0, [("09:00", "10:00")])}, [("09:30", "12:00")])
    soft = problem.model_copy(
        update={
            "recipients": [
                recipient.model_copy(
                    update={
                        "needs": [
                            need.model_copy(update={"soft_window": True})
                            for need in recipient.needs
                        ]
                    }
                )
                for recipient in problem.recipients
            ]
        }
    )
    plan = exact(soft)
    assert planned(plan) == [("a-visit", 9 * 60 + 30)]
    weights = soft.policy.weights
    assert plan.solver.objective_breakdown["lateness"] == pytest.approx(
        -30 * (weights.lateness_per_min + weights.max_lateness_per_min)
    )


def test_lns_neighbourhoods_walk_outings_too() -> None:
    """LNS from an empty plan on two of the weeks above: one visit under the 150-minute cap
    (the walks home count), both visits in separate outings under the outing limit."""
    capped = week(
        {
            "morning": (1000.0, [("09:00", "11:00")]),
            "afternoon": (1000.0, [("15:00", "17:00")]),
        },
        [("09:00", "11:00"), ("15:00", "17:00")],
        max_minutes_per_week=150,
    )
    split = week(
        {"a": (500.0, [("09:00", "12:30")]), "b": (-500.0, [("09:00", "12:30")])},
        [("09:00", "10:30"), ("11:00", "12:30")],
        30,
        max_outing_distance_m=1500,
    )
    for problem, visits in ((capped, 1), (split, 2)):
        empty = Plan(week_start=problem.week_start, visits=[])
        plan = solve_lns(
            problem, time_limit_s=10, parameters=LnsParameters(iterations=12), warm_start=empty
        )
        assert len(checked(problem, plan).visits) == visits
