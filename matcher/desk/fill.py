"""A problem written into the roster workbook's rows, so a community that has a problem JSON
file can move to the workbook (`matcher template roster.xlsx --from problem.json`), and so the
column mapping is tested both ways: importing the rows gives the problem back.

`problem_rows` also says what the workbook cannot hold (the policy beyond its language, the
travel settings, dependencies, a longer planning day, places without coordinates).
"""

from __future__ import annotations

from typing import Any

from matcher.models import Problem
from matcher.models.common import MINUTES_PER_DAY, Location, TimeWindow
from matcher.models.problem import Policy, TravelSettings

Rows = dict[str, list[dict[str, Any]]]


def _location(location: Location, building: str | None, prefix: str = "") -> dict[str, Any]:
    values: dict[str, Any] = {
        f"{prefix}lat": location.lat,
        f"{prefix}lon": location.lon,
        f"{prefix}x_m": location.x_m,
        f"{prefix}y_m": location.y_m,
    }
    if building is not None and location.place and location.place.startswith(f"{building} "):
        values[f"{prefix}building"] = building
        values["unit"] = location.place[len(building) + 1 :]
    return values


def _windows(kind: str, identifier: str, windows: list[TimeWindow]) -> list[dict[str, Any]]:
    return [
        {"for": kind, "id": identifier, "day": w.day, "start": w.start, "end": w.end}
        for w in windows
    ]


def _left_out(problem: Problem) -> list[str]:
    """What of the problem the workbook cannot hold."""
    left: list[str] = []
    if problem.policy != Policy(language=problem.policy.language):
        left.append("the policy's priority rules and weights")
    if problem.travel != TravelSettings():
        left.append("the travel settings")
    if problem.dependencies:
        left.append(f"{len(problem.dependencies)} visit dependencies")
    if problem.day_length_min != MINUTES_PER_DAY:
        left.append(f"the planning day of {problem.day_length_min} minutes")
    if problem.venues or problem.group_services or problem.wish_by_id or problem.lead_history:
        left.append(
            f"group sessions ({len(problem.venues)} venues, {len(problem.group_services)} group "
            f"services, {len(problem.wish_by_id)} attendance wishes)"
        )
    places = [
        location
        for location in (
            *(recipient.location for recipient in problem.recipients),
            *(volunteer.home for volunteer in problem.volunteers),
            *(v.start_location for v in problem.volunteers if v.start_location is not None),
        )
        if location.place is not None
    ]
    unplaced = [location for location in places if location.lat is None and location.x_m is None]
    if unplaced:
        left.append(f"{len(unplaced)} place(s) named without coordinates")
    return left


def problem_rows(problem: Problem) -> tuple[Rows, list[str]]:
    """The rows of each sheet (values by column key, as the model holds them) and what the
    workbook cannot hold of the problem."""
    rows: Rows = {
        "settings": [
            {
                "name": problem.name or None,
                "week_start": problem.week_start,
                "language": problem.policy.language,
            }
        ],
        "services": [service.model_dump() for service in problem.services],
        "recipients": [],
        "needs": [],
        "volunteers": [],
        "availability": [],
        "buildings": [],
        "pinned": [pin.model_dump() for pin in problem.pinned],
        "history": [entry.model_dump() for entry in problem.history],
    }
    for recipient in problem.recipients:
        values = recipient.model_dump(exclude={"location", "needs", "home_windows"})
        values.update(_location(recipient.location, recipient.building))
        values["building"] = recipient.building
        rows["recipients"].append(values)
        rows["availability"] += _windows("recipient", recipient.id, recipient.home_windows)
        for need in recipient.needs:
            rows["needs"].append(
                {**need.model_dump(exclude={"windows"}), "recipient": recipient.id}
            )
            rows["availability"] += _windows("need", need.id, need.windows)
    for volunteer in problem.volunteers:
        values = volunteer.model_dump(exclude={"home", "start_location", "availability"})
        values.update(_location(volunteer.home, None))
        if volunteer.start_location is not None:
            values.update(_location(volunteer.start_location, None, "start_"))
        rows["volunteers"].append(values)
        rows["availability"] += _windows("volunteer", volunteer.id, volunteer.availability)
    return rows, _left_out(problem)
