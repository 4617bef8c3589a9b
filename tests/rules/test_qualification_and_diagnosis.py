"""Who qualifies, and the one diagnosis of an unplanned occurrence."""

from __future__ import annotations

import pytest

import matcher
from matcher.models import Recipient, Service, Volunteer
from matcher.rules.diagnosis import Diagnoser
from matcher.rules.facts import need_facts
from matcher.rules.plan_index import PlanIndex
from matcher.rules.qualification import is_qualified, qualification_failures
from matcher.travel import TravelModel
from tests.helpers import example, load


def test_every_failure_is_named_in_rule_order() -> None:
    service = Service(
        id="bills", duration_min=30, required_skills=["money"], requires_verified=True
    )
    child = Recipient(
        id="c", kind="child", location={"x_m": 0, "y_m": 0}, excluded_volunteers=["v"]
    )
    volunteer = Volunteer(id="v", home={"x_m": 0, "y_m": 0})
    assert qualification_failures(service, child, volunteer) == [
        "excluded",
        "recipient_kind",
        "skills",
        "verified",
        "background_check",
    ]
    elder = Recipient(id="e", location={"x_m": 0, "y_m": 0})
    trusted = Volunteer(id="t", home={"x_m": 0, "y_m": 0}, skills=["money"], verified=True)
    assert is_qualified(service, elder, trusted)


@pytest.mark.parametrize(
    ("instance", "reason"),
    [
        ("unplannable_no_skill", "no_qualified_volunteer"),
        ("unplannable_no_shared_window", "no_shared_window"),
        ("unplannable_too_far", "too_far"),
    ],
)
def test_the_diagnosis_of_an_empty_plan(instance: str, reason: str) -> None:
    problem = load(instance)
    travel = TravelModel(problem)
    diagnoser = Diagnoser(problem, travel, need_facts(problem, travel))
    reasons = {item.reason for item in diagnoser.unassigned([])}
    assert reason in reasons


def test_days_taken_and_the_gap_close_days_for_the_next_occurrence() -> None:
    """examples/small.json: e05-bp_check's first visit takes a day; the gap leaves Sunday only,
    when nobody qualified is free, so the second is `no_shared_window` (not `volunteers_full`)."""
    problem = example("small")
    travel = TravelModel(problem)
    plan = matcher.solve(problem, solver="greedy")
    diagnoser = Diagnoser(problem, travel, need_facts(problem, travel))
    index = PlanIndex.of(plan.visits)
    taken = index.need_days("e05-bp_check")
    assert taken, "the first visit is planned"
    days = diagnoser.open_days("e05-bp_check", index)
    assert all(abs(day - other) >= 1 for day in days for other in taken)
    assert diagnoser.linked_diagnosis("e05-bp_check", index).reason == "no_shared_window"
