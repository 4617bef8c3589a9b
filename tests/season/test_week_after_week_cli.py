"""Week after week from the command line: a plan reports its pairings, `next-week` rolls the
history on and raises whoever was left out, `solve --previous-plan` names recipients left out
two weeks running.

The week: Vera has time for one 45-minute visit on Monday. Bo (next door) and Li (a kilometre
away) are both of high priority and need one visit. Vera visited Li in an earlier week.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from matcher import solve
from matcher.cli import EXIT_OK, EXIT_VIOLATIONS, main
from matcher.io import load_plan, load_problem
from matcher.models import Problem
from tests.helpers import WEEK, JsonWriter, checked
from tests.season.weeks import contested_week


def first_week() -> dict[str, Any]:
    """The week of the module docstring, as JSON data: the contested week of the credits
    tests, with both elders of high priority and Vera's earlier visit to Li."""
    data: dict[str, Any] = contested_week().model_dump(mode="json")
    for recipient in data["recipients"]:
        recipient["priority"] = 5
    data["history"] = [{"recipient": "li", "volunteer": "vera", "week_start": "2026-11-16"}]
    return data


def test_a_plan_with_history_reports_its_pairings() -> None:
    """Vera goes to Bo (nearer): the pairing with Li is broken because she was busy with a
    visit of equal priority, and Bo and Vera are a new pairing."""
    problem = Problem.model_validate(first_week())
    plan = solve(problem)
    checked(problem, plan)
    assert plan.pairings is not None
    assert [(pair.recipient, pair.volunteer) for pair in plan.pairings.new] == [("bo", "vera")]
    assert plan.pairings.kept == []
    (broken,) = plan.pairings.broken
    assert (broken.recipient, broken.volunteer, broken.reason) == ("li", "vera", "volunteer_busy")
    without_history = Problem.model_validate({**first_week(), "history": []})
    assert solve(without_history).pairings is None


def test_next_week_raises_who_was_left_out_and_solve_reports_two_weeks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write_json: JsonWriter
) -> None:
    """Li is left out in week 1; next-week raises her, so week 2 visits her. Planned naively
    (no raise), she would be left out two weeks running, with nobody who had time."""
    week_one = write_json("week1.json", first_week())
    plan_one = tmp_path / "plan1.json"
    assert main(["solve", str(week_one), "-o", str(plan_one)]) == EXIT_OK
    assert {visit.recipient for visit in load_plan(plan_one).visits} == {"bo"}

    week_two = tmp_path / "week2.json"
    assert main(["next-week", str(week_one), str(plan_one), "-o", str(week_two)]) == EXIT_OK
    assert "1 high-priority recipient(s) raised (li)" in capsys.readouterr().out
    problem_two = load_problem(week_two)
    assert problem_two.week_start == WEEK + dt.timedelta(days=7)
    assert {(entry.recipient, entry.volunteer) for entry in problem_two.history} == {
        ("li", "vera"),
        ("bo", "vera"),
    }
    assert problem_two.priority_of(problem_two.need_by_id["li_visit"]) > 5

    plan_two = tmp_path / "plan2.json"
    command = ["solve", str(week_two), "-o", str(plan_two), "--previous-plan", str(plan_one)]
    assert main(command) == EXIT_OK
    raised_plan = load_plan(plan_two)
    checked(problem_two, raised_plan)
    assert {visit.recipient for visit in raised_plan.visits} == {"li"}
    assert raised_plan.uncovered_two_weeks == []

    naive_plan = tmp_path / "naive.json"
    command = ["solve", str(week_one), "-o", str(naive_plan), "--previous-plan", str(plan_one)]
    assert main(command) == EXIT_OK
    (left_out,) = load_plan(naive_plan).uncovered_two_weeks
    assert (left_out.recipient, left_out.needs, left_out.volunteer) == ("li", ["li_visit"], None)


def test_next_week_refuses_a_plan_that_breaks_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write_json: JsonWriter
) -> None:
    """A broken plan would write a wrong history: exit 1 and no file."""
    week_one = write_json("week1.json", first_week())
    plan_one = tmp_path / "plan1.json"
    assert main(["solve", str(week_one), "-o", str(plan_one)]) == EXIT_OK
    broken = json.loads(plan_one.read_text())
    broken["visits"][0]["start"] = "07:00"
    write_json("plan1.json", broken)
    week_two = tmp_path / "week2.json"
    assert main(["next-week", str(week_one), str(plan_one), "-o", str(week_two)]) == EXIT_VIOLATIONS
    assert "next week's history would be wrong" in capsys.readouterr().err
    assert not week_two.exists()
