"""What many test modules share: the repository's paths, the instances in tests/data and
examples/, the one check every plan a test makes goes through, and builders of tiny problems.

Import it as `tests.helpers` (the repository root is on pytest's `pythonpath`). The builders
return JSON-like data (dicts) so that a test can change a field before validating; `tiny_problem`
validates. A tiny problem plans the week of Monday `WEEK`; unless told otherwise its people live
at the origin and are free, and their needs open, on Monday morning (`MONDAY_MORNING`).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from matcher.api import solve
from matcher.checker import CheckReport, check_plan
from matcher.models import (
    WEEKDAYS,
    Plan,
    Problem,
    ReasonCode,
    UnassignedVisit,
    Visit,
    parse_clock,
)
from matcher.rules import Stop, outing_index, outing_problems, outings_by_day
from matcher.travel import TravelModel

ROOT = Path(__file__).resolve().parent.parent
"""The repository."""
DATA = ROOT / "tests" / "data"
"""The hand-made instances (`load`)."""
EXAMPLES = ROOT / "examples"
"""The bundled examples (`example`)."""
WEEK = dt.date(2026, 11, 30)
"""The Monday of the week every tiny problem plans."""
JsonWriter = Callable[[str, Any], Path]
"""The type of the `write_json` fixture (tests/conftest.py)."""


def window(day: str, start: str, end: str) -> dict[str, str]:
    """A time window as JSON data: `window("mon", "09:00", "12:00")`."""
    return {"day": day, "start": start, "end": end}


MONDAY_MORNING = [window("mon", "09:00", "12:00")]
"""When tiny problems' people are free and their needs open, unless told otherwise (the
builders copy it, so a test may change what they return)."""


def minutes(clock: str) -> int:
    """'09:30' as minutes after midnight."""
    value: int = parse_clock(clock)
    return value


def load(name: str) -> Problem:
    """The problem tests/data/<name>.json."""
    return Problem.model_validate_json((DATA / f"{name}.json").read_text(encoding="utf-8"))


def example(name: str) -> Problem:
    """The bundled problem examples/<name>.json."""
    return Problem.model_validate_json((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


# --- checking plans ---------------------------------------------------------------------------


def rules_of(report: CheckReport) -> set[str]:
    """The rules a checker's report says are broken."""
    return {violation.rule for violation in report.violations}


def outing_stops(
    problem: Problem, plan: Plan, travel: TravelModel
) -> list[tuple[str, int, tuple[int, int], list[Stop]]]:
    """(volunteer, weekday index, outing, its visits as stops in time order) of every outing of
    the plan with visits, by volunteer, day and outing; a visit outside every outing of one of
    its volunteers fails the test."""
    found: dict[tuple[str, int, int], list[Stop]] = {}
    for visit in sorted(plan.visits, key=lambda item: item.start):
        day = WEEKDAYS.index(visit.day)
        for volunteer_id in visit.volunteers:
            outings = outings_by_day(problem.volunteer_by_id[volunteer_id]).get(day, [])
            index = outing_index(outings, visit.start, visit.end)
            assert index is not None, f"{visit.need} lies outside {volunteer_id}'s outings"
            stop = Stop(travel.recipient_place[visit.recipient], visit.start, visit.end)
            found.setdefault((volunteer_id, day, index), []).append(stop)
    return [
        (
            volunteer_id,
            day,
            outings_by_day(problem.volunteer_by_id[volunteer_id])[day][index],
            stops,
        )
        for (volunteer_id, day, index), stops in sorted(found.items())
    ]


def outing_problems_of(problem: Problem, plan: Plan) -> list[str]:
    """What `matcher.rules.outings.outing_problems` finds in the outings of the plan, outing by
    outing (`outing_stops`)."""
    travel = TravelModel(problem)
    return [
        found
        for volunteer_id, _, outing, stops in outing_stops(problem, plan, travel)
        for found in outing_problems(travel, problem.volunteer_by_id[volunteer_id], outing, stops)
    ]


def checked(problem: Problem, plan: Plan) -> Plan:
    """Assert that the checker accepts the plan and that every outing of it keeps the outing
    rules of `matcher.rules.outings` (two readings of the same rule that must agree); return
    the plan."""
    report = check_plan(problem, plan)
    assert report.ok, [f"{violation.rule}: {violation.message}" for violation in report.violations]
    assert outing_problems_of(problem, plan) == []
    return plan


def solved(problem: Problem, solver: str = "greedy", **options: Any) -> Plan:
    """`matcher.solve`'s plan (within 10 seconds unless told otherwise), `checked`."""
    options.setdefault("time_limit_s", 10)
    return checked(problem, solve(problem, solver=solver, **options))


def error_paths(data: dict[str, Any]) -> dict[str, str]:
    """Validate problem data that must be invalid; every error message by its dotted path."""
    with pytest.raises(ValidationError) as caught:
        Problem.model_validate(data)
    return {
        ".".join(str(part) for part in item["loc"]): item["msg"]
        for item in caught.value.errors(include_url=False)
    }


# --- plans and problems by hand ---------------------------------------------------------------


def visits_of(plan: Plan, need: str) -> list[Visit]:
    """The plan's visits of one need."""
    return [item for item in plan.visits if item.need == need]


def visit(
    problem: Problem,
    need: str,
    start: str | int,
    *volunteers: str,
    day: str = "mon",
    occurrence: int = 1,
) -> Visit:
    """A visit of the need by these volunteers starting at `start` (a clock such as "09:30", or
    minutes after midnight), its recipient, service and end (the need's duration) filled in
    from the problem."""
    need_model = problem.need_by_id[need]
    begin = minutes(start) if isinstance(start, str) else start
    return Visit(
        need=need,
        recipient=problem.recipient_of_need[need].id,
        service=need_model.service,
        occurrence=occurrence,
        day=day,
        start=begin,
        end=begin + problem.duration_of(need_model),
        volunteers=list(volunteers),
    )


def unplanned(
    problem: Problem,
    need: str,
    reason: ReasonCode = "not_planned",
    message: str = "left out by hand",
    occurrence: int = 1,
) -> UnassignedVisit:
    """An occurrence of the need listed as unplanned, for a hand-made plan."""
    return UnassignedVisit(
        need=need,
        recipient=problem.recipient_of_need[need].id,
        service=problem.need_by_id[need].service,
        occurrence=occurrence,
        reason=reason,
        message=message,
    )


def need_of(data: dict[str, Any], need_id: str) -> dict[str, Any]:
    """The need with this id inside JSON-like problem data (to change it in place)."""
    for recipient_data in data["recipients"]:
        for need in recipient_data["needs"]:
            if need["id"] == need_id:
                found: dict[str, Any] = need
                return found
    raise KeyError(need_id)


def volunteer_of(data: dict[str, Any], volunteer_id: str) -> dict[str, Any]:
    """The volunteer with this id inside JSON-like problem data (to change it in place)."""
    found: dict[str, Any] = next(v for v in data["volunteers"] if v["id"] == volunteer_id)
    return found


def chat(
    need_id: str, windows: list[dict[str, str]] | None = None, **fields: Any
) -> dict[str, Any]:
    """A need for the `chat` service, open on Monday morning unless `windows` say otherwise."""
    return {
        "id": need_id,
        "service": "chat",
        "windows": windows or copy.deepcopy(MONDAY_MORNING),
        **fields,
    }


def recipient(
    recipient_id: str, *needs: dict[str, Any], x_m: float = 0, y_m: float = 0, **fields: Any
) -> dict[str, Any]:
    """A recipient at (x_m, y_m) with these needs."""
    return {
        "id": recipient_id,
        "location": {"x_m": x_m, "y_m": y_m},
        "needs": list(needs),
        **fields,
    }


def volunteer(volunteer_id: str, x_m: float = 0, y_m: float = 0, **fields: Any) -> dict[str, Any]:
    """A volunteer living at (x_m, y_m), free on Monday morning unless `availability` says
    otherwise."""
    return {
        "id": volunteer_id,
        "home": {"x_m": x_m, "y_m": y_m},
        "availability": copy.deepcopy(MONDAY_MORNING),
        **fields,
    }


def tiny_problem(
    services: list[dict[str, Any]],
    recipients: list[dict[str, Any]],
    volunteers: list[dict[str, Any]],
    **fields: Any,
) -> Problem:
    """A problem of the week of `WEEK` (unless `week_start` says otherwise) with these services
    and people and any other top-level fields."""
    return Problem.model_validate(
        {
            "week_start": WEEK.isoformat(),
            "services": services,
            "recipients": recipients,
            "volunteers": volunteers,
            **fields,
        }
    )
