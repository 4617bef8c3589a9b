"""The greedy planner keeps the home-care benchmark features: carrying capacity, soft windows
and lateness, linked visits, explicit travel minutes and days longer than 24 hours, on the tiny
street of `tests.street` (the same features in the models and the checker: tests/test_features.py).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from matcher.checker import CheckReport, check_plan
from matcher.models import Plan, Problem
from matcher.rules import Diagnoser, need_facts
from matcher.solvers.greedy import solve_greedy
from matcher.travel import TravelModel
from tests.helpers import checked, minutes, need_of, visits_of, volunteer_of, window
from tests.street import long_day, matrix_problem, street


def planned(problem: Problem) -> tuple[Plan, CheckReport]:
    """The greedy plan, `checked`, and the checker's report on it."""
    plan = checked(problem, solve_greedy(problem, seed=0))
    return plan, check_plan(problem, plan)


def only(data: dict[str, Any], needs: set[str], volunteers: set[str]) -> dict[str, Any]:
    """The street with only these needs (recipients left without needs go) and volunteers."""
    for recipient in data["recipients"]:
        recipient["needs"] = [need for need in recipient["needs"] if need["id"] in needs]
    data["recipients"] = [recipient for recipient in data["recipients"] if recipient["needs"]]
    data["volunteers"] = [v for v in data["volunteers"] if v["id"] in volunteers]
    return data


def test_greedy_respects_capacity() -> None:
    """Three meals of 2 boxes, one volunteer who carries 4: two are planned, one is not."""
    data = only(street(), {"ann-meal", "bob-meal"}, {"vic"})
    data["recipients"].append(
        {
            "id": "cid",
            "location": {"x_m": 0, "y_m": 1000},
            "needs": [{"id": "cid-meal", "service": "meal"}],
        }
    )
    for recipient in data["recipients"]:
        for need in recipient["needs"]:
            need.update(load=2, windows=[window("mon", "10:00", "13:00")])
    unlimited, _ = planned(Problem.model_validate(copy.deepcopy(data)))
    assert len(unlimited.visits) == 3
    volunteer_of(data, "vic")["capacity"] = 4
    plan, _ = planned(Problem.model_validate(data))
    assert len(plan.visits) == 2
    (left_out,) = plan.unassigned
    assert left_out.reason == "volunteers_full"


def test_greedy_capacity_smaller_than_one_load_is_explained() -> None:
    """A meal of 5 boxes for a volunteer who carries 4 is not planned, and the reason says why."""
    data = only(street(), {"ann-meal"}, {"vic"})
    need_of(data, "ann-meal")["load"] = 5
    volunteer_of(data, "vic")["capacity"] = 4
    plan, _ = planned(Problem.model_validate(data))
    (left_out,) = plan.unassigned
    assert left_out.reason == "no_qualified_volunteer"
    assert "load of 5" in left_out.message


def late_street(soft: bool) -> dict[str, Any]:
    """Ann's mandatory meal may start 10:00 on time (window 10:00-10:30); Vic, 10 minutes away,
    is free from 10:15, so she can start 10:25 at the earliest."""
    data = only(street(), {"ann-meal"}, {"vic"})
    meal = need_of(data, "ann-meal")
    meal.update(mandatory=True, windows=[window("mon", "10:00", "10:30")])
    if soft:
        meal.update(soft_window=True, max_lateness_min=60)
    volunteer_of(data, "vic")["availability"] = [window("mon", "10:15", "18:00")]
    return data


def test_greedy_plans_a_late_soft_window_visit_with_its_lateness() -> None:
    """With a soft window the mandatory meal is planned 25 minutes late; with a hard one it
    is listed as unplanned."""
    plan, report = planned(Problem.model_validate(late_street(soft=True)))
    (meal,) = plan.visits
    assert meal.start == minutes("10:25")
    assert report.metrics.total_lateness_min == 25
    assert report.metrics.max_lateness_min == 25
    hard_plan, hard_report = planned(Problem.model_validate(late_street(soft=False)))
    assert not hard_plan.visits
    assert [item.need for item in hard_plan.unassigned] == ["ann-meal"]
    assert hard_report.notices


def test_greedy_weighs_lateness_against_travel() -> None:
    """Wes lives 2 km further but is free at 09:00. Without a price on lateness Vic goes late
    (less travel); at 100 points a minute Wes goes on time."""
    data = late_street(soft=True)
    data["volunteers"].append(
        {
            "id": "wes",
            "home": {"x_m": 3000, "y_m": 0},
            "speed_m_per_min": 100,
            "availability": [window("mon", "09:00", "18:00")],
        }
    )
    free, _ = planned(Problem.model_validate(copy.deepcopy(data)))
    assert [(item.volunteers, item.start) for item in free.visits] == [(["vic"], minutes("10:25"))]
    data["policy"] = {"weights": {"lateness_per_min": 100}}
    priced, report = planned(Problem.model_validate(data))
    assert [(item.volunteers, item.start) for item in priced.visits] == [
        (["wes"], minutes("10:00"))
    ]
    assert report.metrics.total_lateness_min == 0
    assert priced.solver.objective is not None and free.solver.objective is not None


def test_greedy_soft_window_never_starts_early() -> None:
    """Vic is free from 08:00 but the soft window opens at 10:00: the visit starts at 10:00."""
    data = only(street(), {"ann-meal"}, {"vic"})
    need_of(data, "ann-meal").update(soft_window=True)
    plan, report = planned(Problem.model_validate(data))
    assert [item.start for item in plan.visits] == [minutes("10:00")]
    assert report.metrics.max_lateness_min == 0


def linked_data(kind: str, **gaps: int) -> dict[str, Any]:
    """Ann's nursing and lifting help, linked, with Vic and Wes; nursing opens 09:00."""
    data = only(street(), {"ann-nurse", "ann-help"}, {"vic", "wes"})
    data["dependencies"] = [{"first": "ann-nurse", "second": "ann-help", "kind": kind, **gaps}]
    return data


def test_greedy_simultaneous_pair_starts_together_with_different_volunteers() -> None:
    """Both visits start at 09:00, when the windows open, one by Vic, one by Wes."""
    plan, _ = planned(Problem.model_validate(linked_data("simultaneous")))
    (nurse,) = visits_of(plan, "ann-nurse")
    (lifting,) = visits_of(plan, "ann-help")
    assert nurse.start == lifting.start == minutes("09:00")
    assert set(nurse.volunteers) | set(lifting.volunteers) == {"vic", "wes"}
    assert not set(nurse.volunteers) & set(lifting.volunteers)


def test_greedy_sequential_pair_within_its_gaps() -> None:
    """Lifting help starts 30 to 45 minutes after nursing, by the other volunteer."""
    plan, _ = planned(
        Problem.model_validate(linked_data("sequential", min_gap_min=30, max_gap_min=45))
    )
    (nurse,) = visits_of(plan, "ann-nurse")
    (lifting,) = visits_of(plan, "ann-help")
    assert 30 <= lifting.start - nurse.start <= 45
    assert nurse.start == minutes("09:00")
    assert not set(nurse.volunteers) & set(lifting.volunteers)


def test_greedy_sequential_pair_waits_for_the_second_window() -> None:
    """Lifting help can only start from 11:00, at most 45 minutes after nursing: nursing moves
    to 10:15 at the earliest so that the pair fits."""
    data = linked_data("sequential", min_gap_min=30, max_gap_min=45)
    need_of(data, "ann-help")["windows"] = [window("mon", "11:00", "12:00")]
    plan, _ = planned(Problem.model_validate(data))
    (nurse,) = visits_of(plan, "ann-nurse")
    (lifting,) = visits_of(plan, "ann-help")
    assert (nurse.start, lifting.start) == (minutes("10:15"), minutes("11:00"))


def test_greedy_leaves_out_both_visits_of_a_pair_it_cannot_place() -> None:
    """With Vic alone, neither linked visit is planned (both or neither); both carry the one
    diagnosis of `matcher.rules`."""
    data = linked_data("simultaneous")
    data["volunteers"] = [v for v in data["volunteers"] if v["id"] == "vic"]
    problem = Problem.model_validate(data)
    plan, _ = planned(problem)
    assert not plan.visits
    assert sorted(item.need for item in plan.unassigned) == ["ann-help", "ann-nurse"]
    travel = TravelModel(problem)
    diagnoser = Diagnoser(problem, travel, need_facts(problem, travel))
    assert plan.unassigned == diagnoser.unassigned(plan.visits)


def test_greedy_gives_a_pinned_linked_visit_its_partner() -> None:
    """Nursing is pinned at 10:00 with Vic: lifting help comes at 10:00 with Wes."""
    data = linked_data("simultaneous")
    data["pinned"] = [{"need": "ann-nurse", "day": "mon", "start": "10:00", "volunteers": ["vic"]}]
    plan, _ = planned(Problem.model_validate(data))
    (lifting,) = visits_of(plan, "ann-help")
    assert (lifting.start, lifting.volunteers) == (minutes("10:00"), ["wes"])


def test_greedy_linked_pair_over_several_days() -> None:
    """Twice a week on Monday and Wednesday: each day both visits, at the same time."""
    data = linked_data("simultaneous")
    for need_id in ("ann-nurse", "ann-help"):
        need_of(data, need_id).update(
            visits_per_week=2,
            windows=[window("mon", "09:00", "12:00"), window("wed", "09:00", "12:00")],
        )
    for volunteer in data["volunteers"]:
        volunteer["availability"].append(window("wed", "08:00", "18:00"))
    plan, _ = planned(Problem.model_validate(data))
    assert len(plan.visits) == 4
    by_day = {(item.day, item.need): item.start for item in plan.visits}
    for day in ("mon", "wed"):
        assert by_day[(day, "ann-nurse")] == by_day[(day, "ann-help")]


def test_greedy_leaves_out_a_need_linked_twice() -> None:
    """A need linked to two others is beyond the greedy planner: all three are unplanned, a
    warning says why, and the plan keeps every rule."""
    data = only(street(), {"ann-meal", "ann-nurse", "ann-help"}, {"vic", "wes"})
    data["dependencies"] = [
        {"first": "ann-nurse", "second": "ann-help", "kind": "simultaneous"},
        {"first": "ann-nurse", "second": "ann-meal", "kind": "sequential"},
    ]
    plan, _ = planned(Problem.model_validate(data))
    assert not plan.visits
    assert sorted(item.need for item in plan.unassigned) == ["ann-help", "ann-meal", "ann-nurse"]
    for need in ("ann-help", "ann-meal", "ann-nurse"):
        assert any(
            need in warning and "more than one other need" in warning for warning in plan.warnings
        )


def test_greedy_uses_explicit_travel_minutes() -> None:
    """Vic walks 1 m a minute, but the matrix says home->ann 7, ann->bob 12 minutes: she starts
    Ann's meal at 10:07 and Bob's at 10:49 (10:37 + 12)."""
    data = matrix_problem([[0, 7, 25], [7, 0, 12], [25, 12, 0]])
    data = only(data, {"ann-meal", "bob-meal"}, {"vic"})
    volunteer_of(data, "vic").update(
        speed_m_per_min=1, availability=[window("mon", "10:00", "18:00")]
    )
    need_of(data, "bob-meal")["windows"] = [window("mon", "10:00", "12:00")]
    plan, report = planned(Problem.model_validate(data))
    starts = {item.need: item.start for item in plan.visits}
    assert starts == {"ann-meal": minutes("10:07"), "bob-meal": minutes("10:49")}
    assert report.metrics.travel_min == pytest.approx(44)


def test_greedy_plans_inside_a_long_day() -> None:
    """With a 3,390-minute day, Bob's meal in the window 40:00-41:00 is planned at 40:00."""
    plan, _ = planned(Problem.model_validate(long_day(3390)))
    (meal,) = visits_of(plan, "bob-meal")
    assert meal.start == minutes("40:00")
