"""The command line as a new user reads it: `explain` short by default, `what-if` says what each
change would drop, the re-plan diff numbers visits as the plan does, every option's help says
its default."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from matcher.cli import build_parser, main
from matcher.explain import PlannedOccurrence, what_if
from matcher.io import to_json
from matcher.models import Plan, Problem
from matcher.replan.diff import DiffEntry, VisitSlot
from tests.explain.test_explain import haircut_week
from tests.helpers import solved

Week = tuple[Problem, Plan]


def _options(parser: argparse.ArgumentParser, name: str) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                found += _options(sub, f"{name} {command}")
        elif action.option_strings and action.dest not in ("help", "debug"):
            found.append((name, action))
    return found


def test_every_option_says_its_default() -> None:
    missing = [
        f"{command} {action.option_strings[0]}"
        for command, action in _options(build_parser(), "matcher")
        if not any(word in (action.help or "") for word in ("default", "required"))
        and action.dest != "solver"  # `--solver`'s help is written when shown
    ]
    assert missing == []


def test_solve_help_shows_the_solver_default(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    assert "default greedy" in capsys.readouterr().out


def test_explain_is_short_by_default(
    small_week: Week, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem, plan = small_week
    (tmp_path / "problem.json").write_text(to_json(problem), encoding="utf-8")
    (tmp_path / "plan.json").write_text(to_json(plan), encoding="utf-8")
    arguments = ["explain", str(tmp_path / "problem.json"), str(tmp_path / "plan.json")]
    capsys.readouterr()
    assert main(arguments) == 0
    short = capsys.readouterr().out.splitlines()
    assert len(short) == len(plan.unassigned)
    assert {line.split(" [")[0] for line in short} == {
        f"{item.need} #{item.occurrence}" for item in plan.unassigned
    }
    assert main([*arguments, "--volunteers"]) == 0
    detailed = capsys.readouterr().out.splitlines()
    verdicts = [line for line in detailed if line.startswith("  - ")]
    assert len(verdicts) == len(plan.unassigned) * len(problem.volunteers)
    assert main([*arguments, "--brief"]) == 0
    assert capsys.readouterr().out.splitlines() == short


def test_what_if_says_which_visits_each_change_would_drop() -> None:
    problem = haircut_week()
    results = what_if(problem, solved(problem), limit=6)
    assert results
    for result in results:
        line = result.summary()
        if result.drops:
            dropped = line.split("would drop")[1]
            assert all(f"{item.need} #{item.occurrence}" in dropped for item in result.drops)
        else:
            assert line.endswith("; it drops no visit planned now")
            assert result.summary("zh").endswith("；不会取消现已安排的服务")
    top = results[0]
    taken = PlannedOccurrence(need="m1-chat", recipient="m1", occurrence=1, priority=1.0)
    dropping = top.model_copy(update={"drops": [taken]})
    assert dropping.summary().endswith("; it would drop 1 visit(s) planned now: m1-chat #1")
    assert "m1-chat #1" in dropping.summary("zh").split("取消")[1]


def test_the_replan_diff_numbers_visits_as_the_plan_does() -> None:
    slot = VisitSlot(day="tue", start=540, end=600, volunteers=["v3"])
    moved = DiffEntry(
        need="r3-chess", recipient="r3", occurrence=2, old_occurrence=1, before=slot,
        after=slot.model_copy(update={"day": "thu"}), why="v3 cancelled Tuesday",
    )  # fmt: skip
    assert moved.text().startswith("r3-chess #2 (was #1): Tue 09:00-10:00 by v3 -> Thu")
    kept = moved.model_copy(update={"old_occurrence": 2})
    assert kept.text().startswith("r3-chess #2: ")
