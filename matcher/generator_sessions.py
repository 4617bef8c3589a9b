"""Group sessions of the generated community (`generate_community(sessions=True)`), after the seed.

Venues: the community centre's activity room (at the office), the health station beside it, the
reading room in one of the buildings, and three outdoor gathering points between the buildings
(the red benches). Group services, as the seed's communities run them: a smartphone class
(Cuiyuan), the choir and tai-chi (Bagua Street), a blood-pressure check day and a
chronic-disease consultation at the health station, after-school care and tutoring for
children with a background-checked lead, and the weekly red-bench corner where staff take the
office to where elders gather (Quanrui).

Wishes follow the recipients: the able and the young-old take classes and choir, the very old
and those with limited mobility want the health station and the red bench, the severely
disabled come to the check day only with an escort, a few bedridden elders' families ask too
(they are told why not), and most children go to after-school care twice a week. A separate
random generator draws all of it, so a community with sessions has exactly the same homes,
needs and volunteers' hours as the one without; only leads' skills are added (music, tai-chi,
casework for staff).
"""

from __future__ import annotations

import random
from typing import Any

Interval = tuple[int, int]
Point = tuple[float, float]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(hours: int, minutes: int = 0) -> str:
    return f"{hours:02d}:{minutes:02d}"


def _windows(days: tuple[int, ...], start: str, end: str) -> list[dict[str, str]]:
    return [{"day": WEEKDAYS[day], "start": start, "end": end} for day in days]


WORKDAYS = (0, 1, 2, 3, 4)
COMMUNITY_SIZE = 150
"""Recipients of the seed-sized community whose activities run as `GROUP_SERVICES` says; a
community n times as large runs each n times as often (at most daily)."""


def venues(location: Any, office: Point, buildings: list[Point]) -> list[dict[str, Any]]:
    """The venues: three rooms and three outdoor gathering points (`location` makes a map
    location of metres east and north of the centre)."""
    ox, oy = office
    reading = buildings[len(buildings) // 2]
    found: list[dict[str, Any]] = [
        {
            "id": "activity-room",
            "name": "Community centre activity room",
            "kind": "activity_room",
            "location": location((ox + 15.0, oy)),
            "capacity": 30,
            "open_windows": _windows(WORKDAYS, "08:00", "20:00") + _windows((5,), "09:00", "17:00"),
        },
        {
            "id": "health-station",
            "name": "Health station",
            "kind": "health_station",
            "location": location((ox - 20.0, oy + 10.0)),
            "capacity": 20,
            "open_windows": _windows(WORKDAYS, "08:00", "17:00"),
        },
        {
            "id": "reading-room",
            "name": "Reading room",
            "kind": "reading_room",
            "location": location((reading[0] + 25.0, reading[1] - 20.0)),
            "capacity": 20,
            "open_windows": _windows(WORKDAYS, "09:00", "19:00")
            + _windows((5, 6), "09:00", "17:00"),
        },
    ]
    # Three gathering points: between the first, middle and last third of the buildings.
    thirds = [buildings[: max(1, len(buildings) // 3)]]
    thirds.append(
        buildings[len(buildings) // 3 : max(len(buildings) // 3 + 1, 2 * len(buildings) // 3)]
    )
    thirds.append(buildings[2 * len(buildings) // 3 :] or buildings[-1:])
    for number, group in enumerate(thirds, start=1):
        group = group or buildings
        x = sum(point[0] for point in group) / len(group)
        y = sum(point[1] for point in group) / len(group)
        found.append(
            {
                "id": f"red-bench-{number}",
                "name": f"Red bench {number}",
                "kind": "outdoor",
                "location": location((x, y + 12.0)),
                "capacity": 25,
                "open_windows": _windows((0, 1, 2, 3, 4, 5, 6), "07:00", "19:00"),
            }
        )
    return found


GROUP_SERVICES: tuple[dict[str, Any], ...] = (
    {
        "id": "smartphone-class",
        "name": "Smartphone class: calls, video calls, payments, anti-fraud",
        "lead_skills": ["smartphone"],
        "min_attendees": 4,
        "max_attendees": 12,
        "attendees_per_helper": 6,
        "duration_min": 90,
        "venue_kinds": ["activity_room"],
        "windows": _windows(WORKDAYS, "14:00", "17:30"),
        "sessions_per_week": 1,
        "same_lead": True,
    },
    {
        "id": "choir",
        "name": "Choir",
        "lead_skills": ["music"],
        "min_attendees": 6,
        "max_attendees": 30,
        "duration_min": 60,
        "venue_kinds": ["activity_room"],
        "windows": _windows((1, 3), "09:00", "11:30"),
        "sessions_per_week": 2,
        "same_lead": True,
    },
    {
        "id": "tai-chi",
        "name": "Tai-chi fan team",
        "lead_skills": ["taichi"],
        "min_attendees": 3,
        "max_attendees": 25,
        "duration_min": 45,
        "venue_kinds": ["outdoor"],
        "windows": _windows(WORKDAYS, "08:00", "10:00"),
        "sessions_per_week": 2,
        "same_lead": True,
    },
    {
        "id": "bp-check-day",
        "name": "Free blood-pressure and blood-sugar check day",
        "lead_skills": ["health_check"],
        "min_attendees": 1,
        "max_attendees": 30,
        "attendees_per_helper": 15,
        "duration_min": 120,
        "venue_kinds": ["health_station"],
        "windows": _windows(WORKDAYS, "08:30", "11:30"),
        "sessions_per_week": 1,
    },
    {
        "id": "chronic-consultation",
        "name": "Chronic-disease consultation",
        "lead_skills": ["health_check"],
        "lead_requires_verified": True,
        "min_attendees": 2,
        "max_attendees": 10,
        "duration_min": 60,
        "venue_kinds": ["health_station"],
        "windows": _windows(WORKDAYS, "14:00", "16:30"),
        "sessions_per_week": 1,
    },
    {
        "id": "after-school-care",
        "name": "After-school care and tutoring",
        "lead_skills": ["tutoring"],
        "min_attendees": 2,
        "max_attendees": 12,
        "attendees_per_helper": 6,
        "duration_min": 90,
        "venue_kinds": ["reading_room"],
        "windows": _windows(WORKDAYS, "16:00", "19:00"),
        "sessions_per_week": 2,
        "same_lead": True,
        "recipient_kinds": ["child"],
    },
    {
        "id": "red-bench",
        "name": "Red bench: the community office where elders gather",
        "lead_skills": ["casework"],
        "min_attendees": 1,
        "max_attendees": 25,
        "duration_min": 90,
        "venue_kinds": ["outdoor"],
        "venues": ["red-bench-1", "red-bench-2", "red-bench-3"],
        "windows": _windows(WORKDAYS, "09:00", "11:30"),
        "sessions_per_week": 1,
    },
)
"""The seed's group services (`GroupService` data)."""


def _wish(recipient_id: str, service: str, per_week: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"{recipient_id}-{service}",
        "group_service": service,
        "sessions_per_week": per_week,
        **fields,
    }


def elder_wishes(rng: random.Random, elder: dict[str, Any]) -> list[dict[str, Any]]:
    """An elder's attendance wishes, following age, mobility and situation."""
    age, level = elder.get("age", 70), elder.get("disability_level", 0)
    alone, poor = elder.get("lives_alone", False), elder.get("low_income", False)
    rid = elder["id"]
    wishes = []
    if level == 3:
        if rng.random() < 0.15:
            wishes.append(_wish(rid, "chronic-consultation"))
        return wishes
    if level == 2:
        if rng.random() < 0.4:
            wishes.append(_wish(rid, "bp-check-day", escort=True))
        return wishes
    if age < 80 and rng.random() < 0.22:
        wishes.append(_wish(rid, "smartphone-class"))
    if rng.random() < (0.22 if elder.get("gender") == "female" else 0.1):
        wishes.append(_wish(rid, "choir", 2 if rng.random() < 0.5 else 1))
    if level == 0 and age < 82 and rng.random() < 0.18:
        wishes.append(_wish(rid, "tai-chi", 2))
    if age >= 68 and rng.random() < 0.35:
        wishes.append(_wish(rid, "bp-check-day"))
    if (age >= 75 or level >= 1) and rng.random() < 0.15:
        wishes.append(_wish(rid, "chronic-consultation"))
    if rng.random() < (0.45 if alone or poor else 0.15):
        wishes.append(_wish(rid, "red-bench"))
    return wishes


def add_sessions(
    seed: int,
    data: dict[str, Any],
    location: Any,
    office: Point,
    buildings: list[Point],
) -> None:
    """Add venues, the group services, attendance wishes and leads' skills to the generated
    problem data, drawing from their own random generator (seeded from `seed`)."""
    rng = random.Random(f"sessions-{seed}")
    data["venues"] = venues(location, office, buildings)
    # A larger community runs each activity more often: one more round per 150 recipients.
    rounds = max(1, round(len(data["recipients"]) / COMMUNITY_SIZE))
    data["group_services"] = [
        {**service, "sessions_per_week": min(7, service["sessions_per_week"] * rounds)}
        for service in GROUP_SERVICES
    ]
    for recipient in data["recipients"]:
        if recipient.get("kind") == "child":
            if rng.random() < 0.8:
                recipient["attends"] = [_wish(recipient["id"], "after-school-care", 2)]
            continue
        wishes = elder_wishes(rng, recipient)
        if wishes:
            recipient["attends"] = wishes
    for volunteer in data["volunteers"]:
        skills = volunteer["skills"]
        if volunteer.get("kind") == "staff":
            skills.append("casework")
        elif rng.random() < 0.12:
            skills.append("music")
        elif rng.random() < 0.12:
            skills.append("taichi")
    # Every lead skill with someone free on weekday mornings, as the seed's teams have.
    mornings = [
        volunteer
        for volunteer in data["volunteers"]
        if volunteer.get("kind") != "staff"
        and any(
            window["day"] in WEEKDAYS[:5] and window["start"] <= 9 * 60
            for window in volunteer["availability"]
        )
    ]
    for skill in ("music", "taichi"):
        if mornings and not any(skill in v["skills"] for v in data["volunteers"]):
            rng.choice(mornings)["skills"].append(skill)


__all__ = ["GROUP_SERVICES", "add_sessions", "elder_wishes", "venues"]
