"""Builders of tiny problems with group sessions (JSON-like data, validated by `session_problem`).

A session problem plans the week of `tests.helpers.WEEK`: an activity room at the origin, open
Monday morning, holding 10; a class there (lead skill `teach`, 2 to 8 attendees, an hour);
elders along the x axis who wish for one seat each; a teacher at the origin free Monday morning.
"""

from __future__ import annotations

import copy
from typing import Any

from matcher.models import Problem
from tests.helpers import MONDAY_MORNING, WEEK, recipient, volunteer, window


def venue(venue_id: str = "room", x_m: float = 0, y_m: float = 0, **fields: Any) -> dict[str, Any]:
    """A venue at (x_m, y_m), an activity room open Monday morning holding 10, unless told."""
    return {
        "id": venue_id,
        "kind": "activity_room",
        "location": {"x_m": x_m, "y_m": y_m},
        "capacity": 10,
        "open_windows": copy.deepcopy(MONDAY_MORNING),
        **fields,
    }


def group_service(service_id: str = "class", **fields: Any) -> dict[str, Any]:
    """A class of an hour for 2 to 8 elders, led by someone who can teach, once a week."""
    return {
        "id": service_id,
        "lead_skills": ["teach"],
        "min_attendees": 2,
        "max_attendees": 8,
        "duration_min": 60,
        "venue_kinds": ["activity_room"],
        **fields,
    }


def attendee(
    recipient_id: str, x_m: float, service: str = "class", *needs: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    """An elder at (x_m, 0) wishing for one seat a week in `service`."""
    wish = {"id": f"{recipient_id}-{service}", "group_service": service}
    wish.update(fields.pop("wish", {}))
    return recipient(recipient_id, *needs, x_m=x_m, attends=[wish], **fields)


def teacher(volunteer_id: str = "teacher", x_m: float = 0, **fields: Any) -> dict[str, Any]:
    """A volunteer at (x_m, 0) who can teach, free Monday morning."""
    fields.setdefault("skills", ["teach"])
    return volunteer(volunteer_id, x_m=x_m, **fields)


def session_data(
    recipients: list[dict[str, Any]] | None = None,
    volunteers: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """The problem as JSON data: the room, the class, three elders 100 to 300 m away, the
    teacher; any top-level field replaced."""
    data: dict[str, Any] = {
        "week_start": WEEK.isoformat(),
        "services": [{"id": "chat", "duration_min": 30}],
        "venues": [venue()],
        "group_services": [group_service()],
        "recipients": recipients
        if recipients is not None
        else [attendee("ann", 100), attendee("bo", 200), attendee("cy", 300)],
        "volunteers": volunteers if volunteers is not None else [teacher()],
    }
    data.update(fields)
    return data


def session_problem(
    recipients: list[dict[str, Any]] | None = None,
    volunteers: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> Problem:
    """`session_data`, validated."""
    return Problem.model_validate(session_data(recipients, volunteers, **fields))


__all__ = [
    "attendee",
    "group_service",
    "session_data",
    "session_problem",
    "teacher",
    "venue",
    "window",
]
