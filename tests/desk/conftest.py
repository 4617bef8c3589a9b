"""Shared fixtures of the desk's tests: the small example solved once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from matcher.desk import load_roster, write_template
from matcher.models import Plan, Problem
from tests.helpers import example, solved


@pytest.fixture(scope="session")
def small_week() -> tuple[Problem, Plan]:
    """The bundled small example and a checked greedy plan of it (with a team visit)."""
    problem = example("small")
    return problem, solved(problem)


def fill_roster(path: Path) -> None:
    """Fill a template as a coordinator would: two elders, a team service, three volunteers."""
    workbook = load_workbook(path)
    services = workbook["Services"]
    services.append(["bath", "Bathing help", 40, 2, "bathing", "no", "elder"])
    recipients = workbook["Recipients"]
    recipients.append(
        ["e002", "Zhao Min", "elder", "B2", "3-502", None, None, None, None, 88, "male", "yes", 2]
    )
    needs = workbook["Needs"]
    needs.append(["e002-bath", "e002", "bath", 1, None, None, "no"])
    needs.append(["e002-meal", "e002", "meal", 2, None, 2])
    volunteers = workbook["Volunteers"]
    volunteers.append(
        [
            "v02",
            "Chen Jie",
            "volunteer",
            "bike",
            None,
            None,
            38.9920,
            121.5540,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "bathing",
            "yes",
        ]
    )
    volunteers.append(
        [
            "s01",
            "Liu Lei",
            "staff",
            "ebike",
            "B1",
            None,
            None,
            None,
            None,
            None,
            "B1",
            None,
            None,
            None,
            None,
            "bathing",
            "yes",
        ]
    )
    availability = workbook["Availability"]
    for row in (
        ["volunteer", "v02", "Tuesday", "9:00 AM", "4:00 PM"],
        ["volunteer", "s01", "tue", "08:30", "17:30"],
        ["volunteer", "v01", "thu", "9:00", "12:00"],
        ["recipient", "e002", "tue", "8:00", "18:00"],
        ["recipient", "e002", "thu", "8:00", "18:00"],
    ):
        availability.append(row)
    workbook.save(path)


@pytest.fixture(scope="session")
def team_week(tmp_path_factory: pytest.TempPathFactory) -> tuple[Problem, Plan]:
    """The filled template (a bathing service for two) and a checked plan of it."""
    roster = tmp_path_factory.mktemp("team") / "roster.xlsx"
    write_template(roster)
    fill_roster(roster)
    problem = load_roster(roster)
    return problem, solved(problem)
