"""Deterministic synthetic communities modelled on Dalian's Quanrui community, for examples,
tests and benchmarks.

Quanrui is a public-rental estate of 8 residential buildings where almost half the residents are
60 or older; red-vest volunteers grouped by specialty deliver meals, cut hair, pay bills and shop
for elders, and community staff run errands from the office. `generate_community` builds such a
week: buildings on a small lat/lon map around the real community, elders (and a few children
needing after-school tutoring) with realistic needs and time windows, and volunteers with the
availability profiles of retired "young-old" neighbours, students, working adults and staff.

Everything is drawn from one `random.Random(seed)`, so the same arguments give byte-identical
JSON. `matcher example community --recipients 600 --volunteers 120 --seed 3 -o week.json` writes
a demo week of any size (`python -m matcher.generator` takes the same options).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.io import write_text_atomic
from matcher.models import WEEKDAYS, Problem

CENTRE_LAT = 38.990
"""Latitude of the middle of the generated map: Quanrui community, Ganjingzi, Dalian."""
CENTRE_LON = 121.550
METRES_PER_DEGREE_LAT = 111_320.0
MAP_SPAN_M = 550.0
"""Buildings are spread over at most this many metres east-west and north-south."""
CHILD_SHARE = 0.05
"""Share of recipients who are children when `children` is not given."""

Interval = tuple[int, int]
"""Minutes after midnight: (start, end)."""
DayHours = dict[int, list[Interval]]
"""Intervals per weekday index (Monday is 0)."""
Point = tuple[float, float]
"""Metres east and north of the map's centre."""

DEFAULT_RECIPIENTS = 150
"""The seed community's size: recipients (elders plus children), volunteers, buildings."""
DEFAULT_VOLUNTEERS = 40
DEFAULT_BUILDINGS = 8
DEFAULT_SEED = 0
DEFAULT_WEEK_START = dt.date(2026, 11, 30)

WEEKDAY_INDICES = (0, 1, 2, 3, 4)
WEEKEND_INDICES = (5, 6)


def _clock(hours: int, minutes: int = 0) -> int:
    """Minutes after midnight."""
    return hours * 60 + minutes


@dataclass(frozen=True)
class ServiceSpec:
    """A service of the catalogue and the times of day its visits are usually asked for."""

    id: str
    name: str
    duration_min: int
    weekday_hours: tuple[Interval, ...]
    weekend_hours: tuple[Interval, ...] = ()
    required_skills: tuple[str, ...] = ()
    team_size: int = 1
    requires_verified: bool = False
    recipient_kinds: tuple[str, ...] = ("elder",)

    def as_data(self) -> dict[str, Any]:
        """The service as problem JSON data."""
        return {
            "id": self.id,
            "name": self.name,
            "required_skills": list(self.required_skills),
            "duration_min": self.duration_min,
            "team_size": self.team_size,
            "requires_verified": self.requires_verified,
            "recipient_kinds": list(self.recipient_kinds),
        }


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "visit",
        "Home visit and chat with a paired volunteer",
        45,
        ((_clock(9), _clock(11, 30)), (_clock(14, 30), _clock(17)), (_clock(18, 30), _clock(20))),
        ((_clock(9, 30), _clock(11, 30)), (_clock(14, 30), _clock(17, 30))),
    ),
    ServiceSpec(
        "meal",
        "Lunch delivery",
        15,
        ((_clock(11), _clock(12, 30)),),
        ((_clock(11), _clock(12, 30)),),
    ),
    ServiceSpec(
        "haircut",
        "Haircut at home",
        30,
        ((_clock(9), _clock(11, 30)), (_clock(14), _clock(16, 30))),
        ((_clock(9), _clock(12)), (_clock(14), _clock(17))),
        required_skills=("haircut",),
    ),
    ServiceSpec(
        "bills",
        "Pay water, power and gas bills",
        30,
        ((_clock(9), _clock(11, 30)), (_clock(13, 30), _clock(16, 30))),
        requires_verified=True,
    ),
    ServiceSpec(
        "shopping",
        "Shopping for daily goods",
        45,
        ((_clock(9), _clock(11)), (_clock(15), _clock(18))),
        ((_clock(9), _clock(11, 30)), (_clock(15), _clock(18))),
    ),
    ServiceSpec(
        "cleaning",
        "Heavy cleaning by a pair",
        90,
        ((_clock(9), _clock(12)), (_clock(14), _clock(17))),
        ((_clock(9), _clock(12)), (_clock(14), _clock(17, 30))),
        required_skills=("cleaning",),
        team_size=2,
    ),
    ServiceSpec(
        "bp_check",
        "Blood-pressure check",
        15,
        ((_clock(8), _clock(10)),),
        ((_clock(8, 30), _clock(10, 30)),),
        required_skills=("health_check",),
    ),
    ServiceSpec(
        "smartphone",
        "Smartphone lesson: calls, video calls, payments, anti-fraud",
        45,
        ((_clock(14, 30), _clock(17)), (_clock(19), _clock(20, 30))),
        ((_clock(9, 30), _clock(11, 30)), (_clock(14, 30), _clock(17, 30))),
        required_skills=("smartphone",),
    ),
    ServiceSpec(
        "tutoring",
        "After-school tutoring",
        60,
        ((_clock(16, 30), _clock(19)),),
        required_skills=("tutoring",),
        recipient_kinds=("child",),
    ),
)
SERVICE_BY_ID = {spec.id: spec for spec in SERVICES}

HOME_PROFILES: tuple[tuple[str, float, tuple[Interval, ...], tuple[Interval, ...]], ...] = (
    ("always home", 0.75, (), ()),
    (
        "day centre on weekday mornings",
        0.10,
        ((_clock(11), _clock(21)),),
        ((_clock(7), _clock(21)),),
    ),
    ("with family at weekends", 0.08, ((_clock(7), _clock(21)),), ()),
    (
        "out playing cards in the afternoon",
        0.07,
        ((_clock(7), _clock(13, 30)), (_clock(17), _clock(21))),
        ((_clock(7), _clock(13, 30)), (_clock(17), _clock(21))),
    ),
)
"""(description, share of elders, weekday hours at home, weekend hours at home); the first
profile sets no home windows at all."""

SURNAMES = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun",
    "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo", "Yu", "Song", "Han", "Tang", "Feng",
    "Dong", "Cao", "Yuan", "Deng", "Qu",
)  # fmt: skip
ELDER_FEMALE_NAMES = (
    "Guilan", "Shufen", "Yuzhen", "Xiuying", "Guiying", "Fengying", "Shuzhen", "Yulan",
    "Guizhi", "Shulan", "Xiulan", "Yumei",
)  # fmt: skip
ELDER_MALE_NAMES = (
    "Jianguo", "Guoqiang", "Dezhi", "Baoshan", "Yongfu", "Fuqiang", "Changlin", "Zhenhua",
    "Shulin", "Wenzhong", "Guohua", "Yuxiang",
)  # fmt: skip
YOUNG_OLD_FEMALE_NAMES = ("Hongmei", "Lihua", "Suqin", "Hongxia", "Yufang", "Cuiping")
YOUNG_OLD_MALE_NAMES = ("Jianhua", "Weiguo", "Aiguo", "Xiaoping", "Guoliang", "Hongjun")
ADULT_NAMES = ("Wei", "Jing", "Lei", "Yan", "Tao", "Li", "Qiang", "Na", "Min", "Hui")
STUDENT_NAMES = ("Yuhang", "Siyu", "Zihao", "Xinyue", "Yifan", "Tianyi", "Jiaqi", "Mingyu")
CHILD_NAMES = ("Haoran", "Zixuan", "Yuxuan", "Yichen", "Xinyi", "Zihan", "Yutong", "Ruoxi")

SKILL_SUITED_PROFILES: dict[str, tuple[str, ...]] = {
    "cleaning": ("young_old", "working", "student", "staff"),
    "haircut": ("young_old", "working", "staff"),
    "health_check": ("staff", "young_old", "working"),
    "smartphone": ("student", "staff", "working", "young_old"),
    "tutoring": ("student", "staff", "working", "young_old"),
}
"""Who is given a skill, in order of preference, when too few volunteers have it."""
VERIFIED_SUITED_PROFILES = ("staff", "young_old", "working", "student")


@dataclass
class Resident:
    """A recipient being generated, with the facts later steps need."""

    data: dict[str, Any]
    building: int


@dataclass
class Helper:
    """A volunteer being generated, with their profile and (for residents) their building."""

    data: dict[str, Any]
    profile: str
    building: int | None


def _location(point: Point) -> dict[str, float]:
    """Lat/lon of a point given in metres from the centre, rounded to about 10 cm."""
    east_m, north_m = point
    lat = CENTRE_LAT + north_m / METRES_PER_DEGREE_LAT
    lon = CENTRE_LON + east_m / (METRES_PER_DEGREE_LAT * math.cos(math.radians(CENTRE_LAT)))
    return {"lat": round(lat, 6), "lon": round(lon, 6)}


def _padded(prefix: str, number: int, total: int) -> str:
    """A short id such as e007 whose digits are wide enough for `total` ids."""
    return f"{prefix}{number:0{max(2, len(str(total)))}d}"


def _window(day: int, interval: Interval) -> dict[str, Any]:
    """One time window as problem JSON data (minutes; the model writes them as HH:MM)."""
    return {"day": WEEKDAYS[day], "start": interval[0], "end": interval[1]}


def _windows(hours: DayHours) -> list[dict[str, Any]]:
    """Windows in weekday then clock order."""
    return [_window(day, interval) for day in sorted(hours) for interval in sorted(hours[day])]


def _weighted_choice(rng: random.Random, options: Sequence[str], weights: Sequence[float]) -> str:
    """One option, drawn with the given relative weights."""
    return rng.choices(options, weights=weights, k=1)[0]


def _most_days_with_gap(days: Sequence[int], min_gap_days: int) -> int:
    """How many of these days can hold a visit each with `min_gap_days` between any two
    (the same greedy count the Problem validator uses)."""
    count, last = 0, -100
    for day in sorted(days):
        if day - last >= min_gap_days:
            count, last = count + 1, day
    return count


def _fits(interval: Interval, home: DayHours | None, day: int, duration: int) -> bool:
    """Whether a visit of `duration` minutes fits in `interval` while the recipient is home."""
    if home is None:
        return interval[1] - interval[0] >= duration
    return any(
        min(interval[1], home_end) - max(interval[0], home_start) >= duration
        for home_start, home_end in home.get(day, [])
    )


def _place_buildings(rng: random.Random, count: int) -> tuple[list[Point], Point]:
    """Buildings on a jittered grid inside the map, and the community office at its south edge."""
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    spacing = min(150.0, MAP_SPAN_M / max(columns - 1, rows - 1, 1))
    jitter = spacing * 0.15
    buildings: list[Point] = []
    for index in range(count):
        row, column = divmod(index, columns)
        east = (column - (columns - 1) / 2) * spacing + rng.uniform(-jitter, jitter)
        north = ((rows - 1) / 2 - row) * spacing + rng.uniform(-jitter, jitter)
        buildings.append((round(east, 1), round(north, 1)))
    office = (0.0, -((rows - 1) / 2) * spacing - 50.0)
    return buildings, office


def _in_building(rng: random.Random, building: Point) -> Point:
    """A doorway of a building: one of its stairwells along a ~40 m facade."""
    return (building[0] + rng.uniform(-20.0, 20.0), building[1] + rng.uniform(-6.0, 6.0))


def _home_hours(rng: random.Random) -> DayHours | None:
    """When an elder is at home, or None when they always are."""
    names = [profile[0] for profile in HOME_PROFILES]
    chosen = _weighted_choice(rng, names, [profile[1] for profile in HOME_PROFILES])
    _, _, weekday, weekend = HOME_PROFILES[names.index(chosen)]
    if not weekday and not weekend:
        return None
    hours: DayHours = {}
    for day in range(7):
        intervals = weekday if day in WEEKDAY_INDICES else weekend
        if intervals:
            hours[day] = list(intervals)
    return hours


def _need(
    rng: random.Random,
    recipient_id: str,
    spec: ServiceSpec,
    visits: int,
    min_gap_days: int,
    home: DayHours | None,
) -> dict[str, Any] | None:
    """A need with windows on enough days for its visits, or None if the recipient is never home
    when this service is given. Windows sit on a few more days than visits, for flexibility."""
    weekday_hours = rng.choice(spec.weekday_hours) if spec.weekday_hours else None
    weekend_hours = rng.choice(spec.weekend_hours) if spec.weekend_hours else None
    candidates: list[tuple[int, Interval]] = []
    for day in range(7):
        interval = weekday_hours if day in WEEKDAY_INDICES else weekend_hours
        if interval is not None and _fits(interval, home, day, spec.duration_min):
            candidates.append((day, interval))
    rng.shuffle(candidates)
    offered = min(len(candidates), visits + rng.randint(1, 3))
    chosen = candidates[:offered]
    for extra in candidates[offered:]:
        if _most_days_with_gap([day for day, _ in chosen], min_gap_days) >= visits:
            break
        chosen.append(extra)
    visits = min(visits, _most_days_with_gap([day for day, _ in chosen], min_gap_days))
    if visits == 0:
        return None
    hours: DayHours = {}
    for day, interval in chosen:
        hours[day] = [interval]
    need: dict[str, Any] = {
        "id": f"{recipient_id}-{spec.id}",
        "service": spec.id,
        "visits_per_week": visits,
        "windows": _windows(hours),
    }
    if visits > 1 and min_gap_days > 1:
        need["min_gap_days"] = min_gap_days
    if spec.id in ("visit", "tutoring"):
        need["same_volunteer"] = True
    return need


def _elder_service_weights(age: int, lives_alone: bool, disability: int) -> dict[str, float]:
    """How likely each service is among an elder's needs, from their circumstances."""
    old = age >= 80
    return {
        "meal": 0.35 + 0.25 * lives_alone + 0.15 * disability + 0.1 * old,
        "visit": 0.30 + 0.35 * lives_alone + 0.15 * old,
        "shopping": 0.15 + 0.10 * disability,
        "bills": 0.12 + 0.10 * old,
        "haircut": 0.12 + 0.05 * disability,
        "cleaning": 0.08 + 0.05 * disability + 0.05 * lives_alone,
        "bp_check": 0.18 + 0.05 * (age >= 75),
        "smartphone": 0.15 if age < 78 else 0.04,
    }


def _visits_and_gap(rng: random.Random, service: str) -> tuple[int, int]:
    """Visits a week and minimum days between them, as coordinators usually set them."""
    if service == "meal":
        return rng.randint(3, 5), 1
    if service == "visit" and rng.random() < 0.35:
        return 2, 2 if rng.random() < 0.6 else 1
    if service == "shopping" and rng.random() < 0.4:
        return 2, rng.choice((2, 3))
    if service == "bp_check" and rng.random() < 0.5:
        return 2, 2 if rng.random() < 0.7 else 1
    if service == "tutoring":
        return 2, 2
    return 1, 1


def _elder(rng: random.Random, recipient_id: str, buildings: list[Point]) -> Resident:
    """An elder of 60 to 98 in one of the buildings, with one to three needs."""
    building = rng.randrange(len(buildings))
    age = min(98, int(rng.triangular(60, 99, 66)))
    gender = "female" if rng.random() < 0.58 else "male"
    given = rng.choice(ELDER_FEMALE_NAMES if gender == "female" else ELDER_MALE_NAMES)
    lives_alone = rng.random() < 0.4
    disability_weights = (0.45, 0.30, 0.17, 0.08) if age >= 85 else (0.80, 0.13, 0.05, 0.02)
    disability = rng.choices(range(4), weights=disability_weights, k=1)[0]
    home = _home_hours(rng)
    data: dict[str, Any] = {
        "id": recipient_id,
        "name": f"{rng.choice(SURNAMES)} {given}",
        "location": _location(_in_building(rng, buildings[building])),
        "building": f"B{building + 1}",
        "age": age,
        "lives_alone": lives_alone,
        "disability_level": disability,
        "low_income": rng.random() < 0.2,
        "gender": gender,
        "home_windows": _windows(home) if home is not None else [],
    }
    weights = _elder_service_weights(age, lives_alone, disability)
    wanted = rng.choices((1, 2, 3), weights=(0.45, 0.38, 0.17), k=1)[0]
    needs: list[dict[str, Any]] = []
    while len(needs) < wanted and weights:
        service = _weighted_choice(rng, list(weights), list(weights.values()))
        del weights[service]
        visits, gap = _visits_and_gap(rng, service)
        need = _need(rng, recipient_id, SERVICE_BY_ID[service], visits, gap, home)
        if need is None:
            continue
        if service == "meal" and lives_alone and disability >= 2:
            need["mandatory"] = True
        needs.append(need)
    data["needs"] = needs
    return Resident(data, building)


def _child(rng: random.Random, recipient_id: str, buildings: list[Point]) -> Resident:
    """A schoolchild of a struggling family who needs tutoring twice a week after school."""
    building = rng.randrange(len(buildings))
    data: dict[str, Any] = {
        "id": recipient_id,
        "name": f"{rng.choice(SURNAMES)} {rng.choice(CHILD_NAMES)}",
        "kind": "child",
        "location": _location(_in_building(rng, buildings[building])),
        "building": f"B{building + 1}",
        "age": rng.randint(6, 13),
        "low_income": rng.random() < 0.5,
        "gender": rng.choice(("female", "male")),
    }
    visits, gap = _visits_and_gap(rng, "tutoring")
    need = _need(rng, recipient_id, SERVICE_BY_ID["tutoring"], visits, gap, None)
    data["needs"] = [need] if need is not None else []
    return Resident(data, building)


def _volunteer_profiles(volunteers: int) -> list[str]:
    """Profiles of the volunteers: about 10% staff, 20% students, 20% working adults, the rest
    retired young-old; small teams still get one staff member and one student."""
    staff = max(1, round(0.1 * volunteers)) if volunteers >= 2 else 0
    students = max(1, round(0.2 * volunteers)) if volunteers >= 3 else 0
    working = int(0.2 * volunteers)
    young_old = volunteers - staff - students - working
    return (
        ["staff"] * staff
        + ["young_old"] * young_old
        + ["student"] * students
        + ["working"] * working
    )


def _skills(rng: random.Random, chances: dict[str, float]) -> list[str]:
    """Each skill independently, with its chance."""
    return [skill for skill, chance in chances.items() if rng.random() < chance]


def _limited_days(rng: random.Random, days: Sequence[int], low: int, high: int) -> list[int]:
    """Between `low` and `high` of these days, in week order."""
    return sorted(rng.sample(list(days), min(len(days), rng.randint(low, high))))


def _young_old(rng: random.Random, buildings: list[Point]) -> Helper:
    """A recently retired neighbour: walks, mornings on three to five weekdays, a few visits."""
    building = rng.randrange(len(buildings))
    hours: DayHours = {}
    days = _limited_days(rng, WEEKDAY_INDICES, 3, 5)
    if rng.random() < 0.25:
        days.append(5)
    start = rng.choice((_clock(8), _clock(8, 30), _clock(9)))
    end = rng.choice((_clock(11, 30), _clock(12), _clock(12, 30), _clock(13)))
    for day in days:
        hours[day] = [(start, end)]
    if rng.random() < 0.35:
        for day in rng.sample(days, min(len(days), rng.randint(1, 2))):
            hours[day].append((_clock(14, 30), _clock(17)))
    gender = rng.choice(("female", "male"))
    given = rng.choice(YOUNG_OLD_FEMALE_NAMES if gender == "female" else YOUNG_OLD_MALE_NAMES)
    data = {
        "name": f"{rng.choice(SURNAMES)} {given}",
        "home": _location(_in_building(rng, buildings[building])),
        "skills": _skills(
            rng, {"cleaning": 0.3, "haircut": 0.12, "health_check": 0.12, "smartphone": 0.05}
        ),
        "verified": rng.random() < 0.3,
        "background_checked": rng.random() < 0.1,
        "gender": gender,
        "availability": _windows(hours),
        "max_minutes_per_week": rng.randrange(300, 601, 30),
        "max_visits_per_day": rng.randint(3, 4),
        "travel_mode": "walk",
        "max_trip_distance_m": float(rng.randrange(800, 1501, 100)),
    }
    return Helper(data, "young_old", building)


def _student(rng: random.Random) -> Helper:
    """A student from the school nearby: cycles in, weekday evenings and weekends."""
    hours: DayHours = {}
    start = rng.choice((_clock(16), _clock(16, 30), _clock(17)))
    end = rng.choice((_clock(20), _clock(20, 30), _clock(21)))
    for day in _limited_days(rng, WEEKDAY_INDICES, 2, 4):
        hours[day] = [(start, end)]
    weekend_start = rng.choice((_clock(9), _clock(9, 30), _clock(10)))
    weekend_end = rng.choice((_clock(12), _clock(17), _clock(18)))
    for day in _limited_days(rng, WEEKEND_INDICES, 1, 2):
        hours[day] = [(weekend_start, weekend_end)]
    bearing = rng.uniform(0, 2 * math.pi)
    distance = rng.uniform(500.0, 1500.0)
    data = {
        "name": f"{rng.choice(SURNAMES)} {rng.choice(STUDENT_NAMES)}",
        "home": _location((distance * math.cos(bearing), distance * math.sin(bearing))),
        "skills": _skills(rng, {"tutoring": 0.6, "smartphone": 0.6, "cleaning": 0.15}),
        "verified": rng.random() < 0.05,
        "background_checked": rng.random() < 0.7,
        "gender": rng.choice(("female", "male")),
        "availability": _windows(hours),
        "max_minutes_per_week": rng.randrange(180, 421, 30),
        "max_visits_per_day": rng.randint(2, 3),
        "travel_mode": "bike",
        "max_trip_distance_m": 3000.0,
    }
    return Helper(data, "student", None)


def _working(rng: random.Random, buildings: list[Point]) -> Helper:
    """A working neighbour: a few weekday evenings and weekend mornings or afternoons."""
    building = rng.randrange(len(buildings))
    hours: DayHours = {}
    for day in _limited_days(rng, WEEKDAY_INDICES, 0, 3):
        hours[day] = [(_clock(18, 30), _clock(21))]
    weekend_hours = rng.choice(
        (
            [(_clock(9), _clock(12))],
            [(_clock(14), _clock(18))],
            [(_clock(9), _clock(12)), (_clock(14), _clock(18))],
        )
    )
    for day in _limited_days(rng, WEEKEND_INDICES, 1, 2):
        hours[day] = list(weekend_hours)
    mode = _weighted_choice(rng, ("walk", "ebike", "car"), (0.6, 0.3, 0.1))
    data: dict[str, Any] = {
        "name": f"{rng.choice(SURNAMES)} {rng.choice(ADULT_NAMES)}",
        "home": _location(_in_building(rng, buildings[building])),
        "skills": _skills(
            rng, {"cleaning": 0.3, "haircut": 0.1, "smartphone": 0.3, "tutoring": 0.15}
        ),
        "verified": rng.random() < 0.2,
        "background_checked": rng.random() < 0.3,
        "gender": rng.choice(("female", "male")),
        "availability": _windows(hours),
        "max_minutes_per_week": rng.randrange(120, 301, 30),
        "max_visits_per_day": rng.randint(2, 3),
        "travel_mode": mode,
    }
    if mode == "walk":
        data["max_trip_distance_m"] = float(rng.randrange(1500, 2501, 250))
    return Helper(data, "working", building)


def _staff(rng: random.Random, office: Point) -> Helper:
    """Community staff: weekday office hours, routes start and end at the community office."""
    office_location = _location(office)
    data = {
        "name": f"{rng.choice(SURNAMES)} {rng.choice(ADULT_NAMES)}",
        "kind": "staff",
        "home": office_location,
        "start_location": office_location,
        "skills": _skills(
            rng, {"health_check": 0.5, "smartphone": 0.5, "tutoring": 0.3, "cleaning": 0.2}
        ),
        "verified": True,
        "background_checked": True,
        "gender": rng.choice(("female", "male")),
        "availability": [_window(day, (_clock(8, 30), _clock(17, 30))) for day in WEEKDAY_INDICES],
        "max_minutes_per_week": rng.randrange(600, 901, 60),
        "max_visits_per_day": rng.randint(5, 6),
        "travel_mode": "ebike" if rng.random() < 0.5 else "walk",
    }
    return Helper(data, "staff", None)


def _qualifies(helper: Helper, spec: ServiceSpec) -> bool:
    """Whether the helper has the skills and checks the service asks for."""
    data = helper.data
    return (
        set(spec.required_skills) <= set(data["skills"])
        and (data["verified"] or not spec.requires_verified)
        and (data["background_checked"] or "child" not in spec.recipient_kinds)
    )


def _unqualified_candidate(
    rng: random.Random, helpers: list[Helper], spec: ServiceSpec
) -> Helper | None:
    """A volunteer of the best-suited profile who cannot yet give the service, if any."""
    if spec.required_skills:
        order = SKILL_SUITED_PROFILES[spec.required_skills[0]]
    else:
        order = VERIFIED_SUITED_PROFILES
    for profile in order:
        candidates = [h for h in helpers if h.profile == profile and not _qualifies(h, spec)]
        if candidates:
            return rng.choice(candidates)
    return None


def _ensure_coverage(rng: random.Random, helpers: list[Helper], used: list[ServiceSpec]) -> None:
    """Give skills, verification or background checks to suitable volunteers until every used
    service has at least two qualified people (its team size, if larger)."""
    for spec in used:
        wanted = min(len(helpers), max(2, spec.team_size))
        while sum(_qualifies(helper, spec) for helper in helpers) < wanted:
            chosen = _unqualified_candidate(rng, helpers, spec)
            if chosen is None:
                break
            data = chosen.data
            data["skills"] = [
                *data["skills"],
                *(skill for skill in spec.required_skills if skill not in data["skills"]),
            ]
            data["verified"] = data["verified"] or spec.requires_verified
            if "child" in spec.recipient_kinds:
                data["background_checked"] = True


def _hours_of(windows: list[dict[str, Any]]) -> DayHours:
    """Windows (as generated data) per weekday index."""
    hours: DayHours = {}
    for window in windows:
        hours.setdefault(WEEKDAYS.index(window["day"]), []).append((window["start"], window["end"]))
    return hours


def _can_meet(free: DayHours, home: DayHours | None, need: dict[str, Any]) -> bool:
    """Whether someone free at `free` can make a whole visit of the need while the recipient is
    home."""
    duration = SERVICE_BY_ID[need["service"]].duration_min
    for window in need["windows"]:
        day = WEEKDAYS.index(window["day"])
        for free_start, free_end in free.get(day, []):
            shared = (max(window["start"], free_start), min(window["end"], free_end))
            if _fits(shared, home, day, duration):
                return True
    return False


def _history_entry(
    resident: Resident, helper: Helper, need: dict[str, Any], week: dt.date
) -> dict[str, Any]:
    """Last week's visits of this need, all made by this helper."""
    return {
        "recipient": resident.data["id"],
        "volunteer": helper.data["id"],
        "need": need["id"],
        "week_start": week,
        "visits": need["visits_per_week"],
    }


def _pairings(
    rng: random.Random,
    residents: list[Resident],
    helpers: list[Helper],
    history_week: dt.date,
) -> list[dict[str, Any]]:
    """Standing pairings (结对子) and last week's visits: preferred volunteers, history entries
    and the rare volunteer an elder does not want to see again. A pairing or a past visit only
    links people who can actually meet this week."""
    free = {id(helper): _hours_of(helper.data["availability"]) for helper in helpers}
    neighbours = [helper for helper in helpers if helper.profile in ("young_old", "working")]
    lunch_helpers = [helper for helper in helpers if helper.profile in ("young_old", "staff")]
    history: list[dict[str, Any]] = []
    for resident in residents:
        data = resident.data
        home = _hours_of(data["home_windows"]) if data.get("home_windows") else None
        preferred: list[str] = []
        for need in data["needs"]:
            if need["service"] == "visit" and rng.random() < 0.5:
                able = [
                    helper
                    for helper in neighbours
                    if helper.building == resident.building
                    and _can_meet(free[id(helper)], home, need)
                ] or [helper for helper in neighbours if _can_meet(free[id(helper)], home, need)]
                if able:
                    pair = rng.choice(able)
                    preferred.append(pair.data["id"])
                    history.append(_history_entry(resident, pair, need, history_week))
            elif need["service"] == "meal" and rng.random() < 0.3:
                able = [h for h in lunch_helpers if _can_meet(free[id(h)], home, need)]
                if able:
                    history.append(_history_entry(resident, rng.choice(able), need, history_week))
        if preferred and rng.random() < 0.7:
            data["preferred_volunteers"] = preferred
        if helpers and rng.random() < 0.02:
            others = [h.data["id"] for h in helpers if h.data["id"] not in preferred]
            if others:
                data["excluded_volunteers"] = [rng.choice(others)]
    return history


def generate_community(
    *,
    recipients: int = DEFAULT_RECIPIENTS,
    volunteers: int = DEFAULT_VOLUNTEERS,
    buildings: int = DEFAULT_BUILDINGS,
    children: int | None = None,
    seed: int = DEFAULT_SEED,
    week_start: dt.date = DEFAULT_WEEK_START,
    name: str | None = None,
    sessions: bool = False,
) -> Problem:
    """A week of a Quanrui-like community; the same arguments always give the same problem, and
    it passes `Problem` validation.

    Parameters:
        recipients: elders plus children, at least 0.
        volunteers: volunteers and community staff (about one in ten staff), at least 0.
        buildings: residential buildings on the map, at least 1.
        children: how many of the recipients are children needing tutoring (default: 5%).
        seed: of the one random generator everything is drawn from.
        week_start: the Monday of the planned week (last week's history is the week before).
        name: the problem's name (default: says the buildings and the seed).
        sessions: add venues, the seed's group services and attendance wishes
            (`matcher.generator_sessions`); the rest of the week is the same either way.

    Raises ValueError for negative sizes, no building, or more children than recipients.
    """
    if recipients < 0 or volunteers < 0:
        raise ValueError("recipients and volunteers must not be negative")
    if buildings < 1:
        raise ValueError("a community needs at least one building")
    child_count = round(CHILD_SHARE * recipients) if children is None else children
    if not 0 <= child_count <= recipients:
        raise ValueError(f"children must be between 0 and recipients ({recipients})")
    rng = random.Random(seed)
    building_points, office = _place_buildings(rng, buildings)

    elder_count = recipients - child_count
    residents = [
        _elder(rng, _padded("e", number, elder_count), building_points)
        for number in range(1, elder_count + 1)
    ]
    residents += [
        _child(rng, _padded("c", number, child_count), building_points)
        for number in range(1, child_count + 1)
    ]

    profiles = _volunteer_profiles(volunteers)
    staff_count = profiles.count("staff")
    helpers: list[Helper] = []
    for profile in profiles:
        if profile == "staff":
            helpers.append(_staff(rng, office))
        elif profile == "young_old":
            helpers.append(_young_old(rng, building_points))
        elif profile == "student":
            helpers.append(_student(rng))
        else:
            helpers.append(_working(rng, building_points))
    others = helpers[staff_count:]
    rng.shuffle(others)
    helpers = helpers[:staff_count] + others
    for number, helper in enumerate(helpers[:staff_count], start=1):
        helper.data["id"] = _padded("s", number, staff_count)
    for number, helper in enumerate(others, start=1):
        helper.data["id"] = _padded("v", number, len(others))

    used_ids = {need["service"] for resident in residents for need in resident.data["needs"]}
    _ensure_coverage(rng, helpers, [spec for spec in SERVICES if spec.id in used_ids])
    history = _pairings(rng, residents, helpers, week_start - dt.timedelta(days=7))

    data = {
        "name": name
        if name is not None
        else f"Quanrui-like community, {buildings} buildings (generated, seed {seed})",
        "week_start": week_start,
        "services": [spec.as_data() for spec in SERVICES],
        "recipients": [resident.data for resident in residents],
        "volunteers": [helper.data for helper in helpers],
        "history": history,
    }
    if sessions:
        from matcher.generator_sessions import add_sessions

        add_sessions(seed, data, _location, office, building_points)
    return Problem.model_validate(data)


def problem_json(problem: Problem) -> str:
    """The problem as the bundled examples store it: indented, defaults left out."""
    return problem.model_dump_json(indent=2, exclude_defaults=True) + "\n"


def write_problem(problem: Problem, path: str | Path) -> str:
    """Write the problem's JSON atomically after checking it reads back as the same problem."""
    text = problem_json(problem)
    if Problem.model_validate_json(text) != problem:
        raise RuntimeError("the generated problem does not survive a JSON round trip")
    write_text_atomic(path, text)
    return text


COMMUNITY_OPTIONS = (
    "recipients",
    "volunteers",
    "buildings",
    "children",
    "seed",
    "week_start",
    "name",
    "sessions",
)
"""The destinations of `add_community_options`: `generate_community`'s keyword arguments."""


def add_community_options(parser: argparse.ArgumentParser, *, omit_defaults: bool = False) -> None:
    """Add the generator's options (one per argument of `generate_community`) to a parser.

    With `omit_defaults` an option not given is absent from the parsed namespace, so a caller
    (`matcher example community`) can tell whether any was given.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if omit_defaults else value

    parser.add_argument(
        "--recipients",
        type=int,
        default=default(DEFAULT_RECIPIENTS),
        help=f"elders plus children (default {DEFAULT_RECIPIENTS})",
    )
    parser.add_argument(
        "--volunteers",
        type=int,
        default=default(DEFAULT_VOLUNTEERS),
        help=f"volunteers and staff (default {DEFAULT_VOLUNTEERS})",
    )
    parser.add_argument(
        "--buildings",
        type=int,
        default=default(DEFAULT_BUILDINGS),
        help=f"residential buildings (default {DEFAULT_BUILDINGS})",
    )
    parser.add_argument(
        "--children", type=int, default=default(None), help="default: 5%% of recipients"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=default(DEFAULT_SEED),
        help=f"the generator's seed (default {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--week-start",
        dest="week_start",
        type=dt.date.fromisoformat,
        default=default(DEFAULT_WEEK_START),
        help=f"the week's Monday, YYYY-MM-DD (default {DEFAULT_WEEK_START.isoformat()})",
    )
    parser.add_argument(
        "--name",
        default=default(None),
        help="the problem's name (default: says the buildings and the seed)",
    )
    parser.add_argument(
        "--sessions",
        action="store_true",
        default=default(False),
        help="add venues, group sessions (classes, clinics, the red bench) and wishes "
        "(default: none)",
    )


def community_from_options(arguments: argparse.Namespace) -> Problem:
    """The community the parsed generator options describe (absent options: the defaults)."""
    options: dict[str, Any] = {
        option: getattr(arguments, option)
        for option in COMMUNITY_OPTIONS
        if hasattr(arguments, option)
    }
    return generate_community(**options)


def describe(problem: Problem) -> str:
    """A line on the size of a generated week: recipients, needs, visits and volunteers."""
    visits = sum(need.visits_per_week for need in problem.need_by_id.values())
    return (
        f"{len(problem.recipients)} recipients, {len(problem.need_by_id)} needs ({visits} visits), "
        f"{len(problem.volunteers)} volunteers"
    )


def _parser() -> argparse.ArgumentParser:
    """The command line's options, mirroring `generate_community`'s arguments."""
    parser = argparse.ArgumentParser(
        prog="python -m matcher.generator",
        description="Generate a deterministic Quanrui-like community problem as JSON "
        "(the same as `matcher example community` with these options).",
    )
    add_community_options(parser)
    parser.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: generate, then write the file (or print the JSON)."""
    arguments = _parser().parse_args(argv)
    began = time.perf_counter()
    try:
        problem = community_from_options(arguments)
    except ValueError as error:
        print(f"generator: {error}", file=sys.stderr)
        return 2
    if arguments.output is None:
        sys.stdout.write(problem_json(problem))
        return 0
    write_problem(problem, arguments.output)
    print(
        f"{arguments.output}: {describe(problem)}, {time.perf_counter() - began:.2f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
