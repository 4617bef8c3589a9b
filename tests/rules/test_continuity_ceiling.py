"""The continuity ceiling (`matcher.rules.continuity`): a recipient counts in it when a volunteer
they prefer or have a standing pairing with could make one of their visits on their own.

The week: one hour's visit on Monday morning for each of Ann, Bo, Cy and Dee, all at the
origin; everyone is free on Monday morning.
- Ann prefers Pat, who lives 5 km away and goes at most 500 m from home: not in the ceiling;
- Bo prefers Sam, next door: in it;
- Cy was visited by Kim last week, but Cy's visit needs a nurse and Kim is not one: not in it;
- Dee knows nobody: not counted at all.
"""

from __future__ import annotations

import datetime as dt

import matcher
from matcher.continuity import pairing_report
from matcher.models import Problem
from matcher.rules import need_facts, outings_by_day
from matcher.rules.continuity import (
    alone_ruled_out_by,
    continuity_shares,
    familiar_volunteers,
    kept_familiar,
    possible_familiar,
)
from matcher.travel import TravelModel
from tests.helpers import WEEK, recipient, tiny_problem, volunteer


def ceiling_week() -> Problem:
    """The week of the module docstring."""
    return tiny_problem(
        [
            {"id": "visit", "duration_min": 60},
            {"id": "care", "duration_min": 60, "required_skills": ["nurse"]},
        ],
        [
            recipient("ann", {"id": "ann_visit", "service": "visit"}, preferred_volunteers=["pat"]),
            recipient("bo", {"id": "bo_visit", "service": "visit"}, preferred_volunteers=["sam"]),
            recipient("cy", {"id": "cy_care", "service": "care"}),
            recipient("dee", {"id": "dee_visit", "service": "visit"}),
        ],
        [
            volunteer("pat", 5000, max_trip_distance_m=500),
            volunteer("sam", 10),
            volunteer("kim", 20),
            volunteer("nia", 30, skills=["nurse"]),
        ],
        history=[
            {
                "week_start": (WEEK - dt.timedelta(days=7)).isoformat(),
                "recipient": "cy",
                "volunteer": "kim",
                "need": "cy_care",
            }
        ],
        policy={"weights": {"fairness": 0}},
    )


def test_familiar_volunteers_are_the_preferred_and_the_standing() -> None:
    assert familiar_volunteers(ceiling_week()) == {"ann": {"pat"}, "bo": {"sam"}, "cy": {"kim"}}


def test_a_familiar_volunteer_who_cannot_reach_is_not_in_the_ceiling() -> None:
    """Pat's trip limit rules him out of Ann's visit, Kim's skills out of Cy's; Sam could."""
    problem = ceiling_week()
    travel = TravelModel(problem)
    facts = need_facts(problem, travel)
    people = problem.volunteer_by_id
    rule_of = {
        (need, person): alone_ruled_out_by(
            travel, facts[need], people[person], outings_by_day(people[person])
        )
        for need, person in (("ann_visit", "pat"), ("bo_visit", "sam"), ("cy_care", "kim"))
    }
    assert rule_of == {
        ("ann_visit", "pat"): "trip_distance",
        ("bo_visit", "sam"): None,
        ("cy_care", "kim"): "skill",
    }
    assert possible_familiar(problem, travel, facts) == {"ann": set(), "bo": {"sam"}, "cy": set()}
    plan = matcher.solve(problem, solver="greedy", seed=0)
    assert matcher.check_plan(problem, plan).ok
    shares = continuity_shares(problem, travel, facts, plan.visits)
    assert (shares.recipients, shares.could) == (3, 1)
    assert shares.ceiling_pct == 100 / 3


def test_the_plan_keeps_who_gets_a_familiar_volunteer() -> None:
    """Greedy sends Sam to Bo (the one recipient who could have a familiar volunteer), so the
    plan reaches its ceiling."""
    problem = ceiling_week()
    travel = TravelModel(problem)
    plan = matcher.solve(problem, solver="greedy", seed=0)
    assert matcher.check_plan(problem, plan).ok
    assert kept_familiar(problem, plan.visits) == {"bo"}
    shares = continuity_shares(problem, travel, need_facts(problem, travel), plan.visits)
    assert shares.kept == 1 and shares.of_ceiling_pct == 100.0


def test_the_pairing_report_gives_the_same_rule() -> None:
    """`matcher.continuity` explains Kim's broken pairing with the rule the ceiling uses."""
    problem = ceiling_week()
    plan = matcher.solve(problem, solver="greedy", seed=0)
    assert matcher.check_plan(problem, plan).ok
    broken = pairing_report(problem, plan).broken
    assert [(item.volunteer, item.reason, item.rules) for item in broken] == [
        ("kim", "volunteer_unqualified", ["skill"])
    ]
