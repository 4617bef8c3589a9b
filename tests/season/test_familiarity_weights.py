"""The policy says what familiarity is worth: `continuity` for a preferred volunteer, `pairing`
for a standing pairing (a volunteer in the history), and every solver and the objective follow.

The week: Mei needs one visit on Monday. Pat, whom she asked for, lives next door; Sam, who
visited her for the last two weeks, lives 2 km away. A visit by Sam costs 40 more points of
travel (4 km more at 10 points a km). With a pairing worth more than that above the preference,
Sam comes; otherwise Pat.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from matcher import check_plan, solve
from matcher.models import Problem

WEEK = dt.date(2026, 11, 30)


def mei_week(**weights: float) -> Problem:
    """The week of the module docstring, with these policy weights."""
    history: list[dict[str, Any]] = [
        {
            "week_start": (WEEK - dt.timedelta(days=7 * weeks)).isoformat(),
            "recipient": "mei",
            "volunteer": "sam",
            "need": "mei_visit",
        }
        for weeks in (1, 2)
    ]
    monday = [{"day": "mon", "start": "09:00", "end": "12:00"}]
    return Problem.model_validate(
        {
            "week_start": WEEK.isoformat(),
            "services": [{"id": "visit", "duration_min": 60}],
            "recipients": [
                {
                    "id": "mei",
                    "location": {"x_m": 0, "y_m": 0},
                    "preferred_volunteers": ["pat"],
                    "needs": [{"id": "mei_visit", "service": "visit"}],
                }
            ],
            "volunteers": [
                {"id": "pat", "home": {"x_m": 10, "y_m": 0}, "availability": monday},
                {"id": "sam", "home": {"x_m": 2000, "y_m": 0}, "availability": monday},
            ],
            "history": history,
            "policy": {"weights": {"fairness": 0, **weights}},
        }
    )


@pytest.mark.parametrize("solver", ["greedy", "cpsat"])
@pytest.mark.parametrize(
    ("weights", "chosen"),
    [
        ({}, "pat"),
        ({"pairing": 200}, "sam"),
        ({"pairing": 200, "continuity": 180}, "pat"),
        ({"pairing": 0, "continuity": 0}, "pat"),
    ],
)
def test_the_policy_weighs_preference_against_pairing(
    solver: str, weights: dict[str, float], chosen: str
) -> None:
    """Equal weights: the shorter walk wins; a pairing worth 200 beats a preference worth 50
    and 40 points of travel, but not one worth 180."""
    problem = mei_week(**weights)
    plan = solve(problem, solver=solver, time_limit_s=10)
    assert check_plan(problem, plan).ok
    assert [visit.volunteers for visit in plan.visits] == [[chosen]]
    familiarity = plan.solver.objective_breakdown["continuity"]
    expected = problem.policy.weights.continuity_points(chosen == "pat", chosen == "sam")
    assert familiarity == pytest.approx(expected)
