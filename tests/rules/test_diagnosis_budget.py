"""The diagnosis within a time limit (`Diagnoser.unassigned(deadline=...)`): past the deadline
the needs not yet diagnosed are `not_planned` with the sentence that says why, highest priority
first diagnosed; with time to spare the reasons are the full diagnosis."""

from __future__ import annotations

import time

from matcher.io import load_problem
from matcher.rules import Diagnoser, need_facts
from matcher.rules.diagnosis import UNDIAGNOSED
from matcher.travel import TravelModel
from tests.helpers import EXAMPLES


def _diagnoser() -> Diagnoser:
    problem = load_problem(EXAMPLES / "small.json")
    travel = TravelModel(problem)
    return Diagnoser(problem, travel, need_facts(problem, travel))


def test_a_deadline_already_past_leaves_every_need_undiagnosed() -> None:
    reasons = _diagnoser().unassigned([], deadline=time.perf_counter() - 1)
    assert reasons
    assert {item.reason for item in reasons} == {"not_planned"}
    assert {item.message for item in reasons} == {UNDIAGNOSED.message}


def test_with_time_to_spare_the_reasons_are_the_full_diagnosis() -> None:
    unlimited = _diagnoser().unassigned([])
    limited = _diagnoser().unassigned([], deadline=time.perf_counter() + 3600)
    assert limited == unlimited
    assert any(item.reason != "not_planned" for item in unlimited)
