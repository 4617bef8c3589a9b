"""Keeping last week's visits (`plan_week(..., keep_previous=True)`): what still keeps every rule
stays exactly where it was, unless a plan made afresh is clearly better for high priority.

The week: Mei needs one visit on Monday morning. Pat lives next door, Sam 2 km away; last week
Sam came at 10:00. A fresh plan sends Pat (less travel); keeping last week keeps Sam at 10:00.
(`tests.season.weeks.mei_week`.)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from matcher.cli import EXIT_INVALID, EXIT_OK, main
from matcher.io import load_plan
from matcher.models import Plan, parse_clock
from matcher.season import carried_visits, plan_week
from tests.helpers import WEEK, JsonWriter, checked, recipient, visit, volunteer, window
from tests.season.weeks import mei_week

LAST_WEEK = WEEK - dt.timedelta(days=7)


def last_week_plan(volunteer_id: str = "sam", start: str = "10:00") -> Plan:
    """Last week's plan: one visit to Mei on Monday."""
    mei = visit(mei_week(), "mei_visit", start, volunteer_id)
    return Plan(week_start=LAST_WEEK, visits=[mei.model_copy(update={"date": LAST_WEEK})])


def test_carried_visits_move_to_this_week_and_drop_what_breaks_a_rule() -> None:
    """Sam's visit carries over with this week's date; once Sam is only free in the afternoon,
    or Mei's need is gone, nothing carries over."""
    (carried,) = carried_visits(last_week_plan(), mei_week())
    assert (carried.date, carried.start, carried.volunteers) == (
        WEEK,
        parse_clock("10:00"),
        ["sam"],
    )
    afternoon = [window("mon", "14:00", "17:00")]
    away = mei_week(
        volunteers=[volunteer("pat", 10), volunteer("sam", 2000, availability=afternoon)]
    )
    assert carried_visits(last_week_plan(), away) == []
    no_need = mei_week(recipients=[recipient("mei")])
    assert carried_visits(last_week_plan(), no_need) == []


def test_keeping_last_week_keeps_the_visit_a_fresh_plan_would_move() -> None:
    """Afresh, Pat goes (nearer); keeping last week, Sam comes again at 10:00, unchanged."""
    problem = mei_week()
    fresh = plan_week(problem, last_week_plan()).plan
    checked(problem, fresh)
    assert [visit.volunteers for visit in fresh.visits] == [["pat"]]
    outcome = plan_week(problem, last_week_plan(), keep_previous=True)
    checked(problem, outcome.plan)
    (kept,) = outcome.plan.visits
    assert (kept.volunteers, kept.start) == (["sam"], parse_clock("10:00"))
    assert outcome.changes is not None and outcome.changes.same == 1
    assert "keep_previous" not in outcome.plan.solver.parameters
    assert outcome.plan.solver.statistics["keep_previous"] == {
        "carried": 1,
        "kept": 1,
        "released": 0,
        "declined": False,
    }


def test_a_high_priority_newcomer_releases_only_the_kept_visit_in_the_way() -> None:
    """Sam has one hour on Monday and one on Tuesday. Last week he visited Mei on Monday and Bo
    on Tuesday; this week Li (priority 5) needs him too. Keeping both would leave Li out, so the
    kept visit on the day a fresh plan gives Li is released, and the other stays as it was."""
    hour = [window(day, "10:00", "11:00") for day in ("mon", "tue")]
    only_sam = [volunteer("sam", 2000, availability=hour)]
    mornings = [window(day, "09:00", "12:00") for day in ("mon", "tue")]
    recipients = [
        recipient(
            name,
            {"id": f"{name}_visit", "service": "visit", "windows": mornings},
            x_m=2000,
            **({"priority": 5} if name == "li" else {}),
        )
        for name in ("mei", "bo", "li")
    ]
    problem = mei_week(volunteers=only_sam, recipients=recipients)
    last_week = last_week_plan()
    tuesday = last_week.visits[0].model_copy(
        update={
            "need": "bo_visit",
            "recipient": "bo",
            "day": "tue",
            "date": LAST_WEEK.replace(day=24),
        }
    )
    last_week.visits.append(tuesday)
    outcome = plan_week(problem, last_week, keep_previous=True)
    checked(problem, outcome.plan)
    visited = {visit.recipient: visit.day for visit in outcome.plan.visits}
    assert "li" in visited and len(visited) == 2
    assert outcome.plan.solver.statistics["keep_previous"] == {
        "carried": 2,
        "kept": 1,
        "released": 1,
        "declined": False,
    }
    assert outcome.changes is not None and outcome.changes.same == 1


def test_command_line_keeps_last_week_and_needs_the_previous_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write_json: JsonWriter
) -> None:
    """`matcher solve --previous-plan LAST --keep-previous` keeps Sam at 10:00; without the
    previous plan the flag is an input error (exit 2, nothing written)."""
    problem_path = write_json("week.json", mei_week())
    last_path = write_json("last.json", last_week_plan())
    plan_path = tmp_path / "plan.json"
    command = ["solve", str(problem_path), "-o", str(plan_path), "--keep-previous"]
    assert main(command) == EXIT_INVALID
    assert "--keep-previous needs --previous-plan" in capsys.readouterr().err
    assert not plan_path.exists()
    assert main([*command, "--previous-plan", str(last_path)]) == EXIT_OK
    (kept,) = load_plan(plan_path).visits
    assert (kept.volunteers, kept.start) == (["sam"], parse_clock("10:00"))


def test_keeping_last_week_is_declined_when_it_costs_clearly_more_coverage() -> None:
    """Sam has 10:00-12:00 on Monday; last week he saw Mei at 10:30. Kept there, no second
    visit fits; afresh, Mei and Bo both fit (10:00 and 11:00). Half the need is worth more than
    keeping 10:30, so the fresh plan is taken."""
    only_sam = [volunteer("sam", 2000, availability=[window("mon", "10:00", "12:00")])]
    recipients = [
        recipient(name, {"id": f"{name}_visit", "service": "visit"}, x_m=2000)
        for name in ("mei", "bo")
    ]
    problem = mei_week(volunteers=only_sam, recipients=recipients)
    outcome = plan_week(problem, last_week_plan(start="10:30"), keep_previous=True)
    checked(problem, outcome.plan)
    assert sorted(visit.recipient for visit in outcome.plan.visits) == ["bo", "mei"]
    assert outcome.plan.solver.statistics["keep_previous"]["declined"] is True
