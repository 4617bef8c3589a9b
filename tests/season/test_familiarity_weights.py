"""The policy says what familiarity is worth: `continuity` for a preferred volunteer, `pairing`
for a standing pairing (a volunteer in the history), and every solver and the objective follow.

The week: Mei needs one visit on Monday. Pat, whom she asked for, lives next door; Sam, who
visited her for the last two weeks, lives 2 km away. A visit by Sam costs 40 more points of
travel (4 km more at 10 points a km). With a pairing worth more than that above the preference,
Sam comes; otherwise Pat.
"""

from __future__ import annotations

import datetime as dt

import pytest

from matcher.models import Problem
from tests.helpers import WEEK, recipient, solved
from tests.season.weeks import mei_week


def familiar_week(**weights: float) -> Problem:
    """Mei's week (`tests.season.weeks.mei_week`) with Pat preferred, Sam in the history of the
    last two weeks, and these policy weights."""
    history = [
        {
            "week_start": (WEEK - dt.timedelta(days=7 * weeks)).isoformat(),
            "recipient": "mei",
            "volunteer": "sam",
            "need": "mei_visit",
        }
        for weeks in (1, 2)
    ]
    mei = recipient("mei", {"id": "mei_visit", "service": "visit"}, preferred_volunteers=["pat"])
    return mei_week(
        recipients=[mei], history=history, policy={"weights": {"fairness": 0, **weights}}
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
    problem = familiar_week(**weights)
    plan = solved(problem, solver)
    assert [visit.volunteers for visit in plan.visits] == [[chosen]]
    familiarity = plan.solver.objective_breakdown["continuity"]
    expected = problem.policy.weights.continuity_points(chosen == "pat", chosen == "sam")
    assert familiarity == pytest.approx(expected)
