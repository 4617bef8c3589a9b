"""Shared vocabulary of the models: weekdays, clock times, time windows and locations.

Times are whole minutes after midnight inside the model and are written in JSON the way people
write them ("09:30"); weekdays are written "mon" to "sun". A planning day is 24 hours unless the
problem says otherwise (`Problem.day_length_min`), so hours past 24 ("56:30") are legal clock
times; the problem checks every time against its own day length.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic.config import JsonDict

from matcher.models.limits import MAX_COORDINATE_M

Language = Literal["en", "zh"]
"""A language of explanations and messages: English or Simplified Chinese (简体中文); the message
catalogue (`matcher.messages`) has every sentence in each."""

RecipientKind = Literal["elder", "child"]
"""Who receives care: an elder, or a child (tutoring, after-school care)."""

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MAX_DAY_LENGTH_MIN = 40 * MINUTES_PER_DAY
"""The longest planning day a problem may declare: 960 hours, so clock hours keep three digits,
and the published benchmarks' horizons fit at tenths of a minute (Solomon's C2: 3,390 minutes,
33,900 ticks)."""

WEEKDAY_ALIASES: dict[str, Weekday] = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
    "tues": "tue",
    "thur": "thu",
    "thurs": "thu",
}
"""Weekday names matcher reads beside its own three-letter ones (the desk reads them too)."""
_CLOCK = re.compile(r"^\s*([0-9]{1,3}):([0-9]{2})\s*$")
_CLOCK_PATTERN = r"^\s*[0-9]{1,3}:[0-5][0-9]\s*$"
"""The JSON Schema's pattern of a clock time: what `_CLOCK` accepts with minutes below 60."""


def _any_case(word: str) -> str:
    """A regular expression matching the word in any case ("mon": "[Mm][Oo][Nn]")."""
    return "".join(f"[{char.upper()}{char.lower()}]" for char in word)


_WEEKDAY_PATTERN = (
    r"^\s*("
    + "|".join(
        _any_case(name)
        for name in sorted({*WEEKDAYS, *WEEKDAY_ALIASES}, key=lambda name: (-len(name), name))
    )
    + r")\s*$"
)
"""The JSON Schema's pattern of a weekday: "mon" to "sun", the full names and the short forms
"tues", "thur", "thurs", in any case (what `_parse_weekday` accepts)."""

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect of every published schema (`matcher schema ...`)."""


def schema_id(kind: str) -> str:
    """The `$id` of the published schema of a problem, a plan or a list of changes."""
    return f"urn:matcher:schema:{kind}"


def published(kind: str) -> JsonDict:
    """`json_schema_extra` of a top-level model: the dialect and the id of its schema."""
    return {"$schema": SCHEMA_DIALECT, "$id": schema_id(kind)}


def _parse_weekday(value: Any) -> Any:
    """Accept "mon", "Mon" or "Monday"; anything else is left for the Literal check to reject."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        return WEEKDAY_ALIASES.get(lowered, lowered)
    return value


def parse_clock(value: Any) -> Any:
    """Turn "09:30" into 570 minutes; integers pass through as minutes after midnight.

    Hours past 24 are accepted ("56:30" is 3,390 minutes): whether a time lies inside the
    planning day is for the problem to check against its `day_length_min`.
    """
    if isinstance(value, bool):
        raise ValueError("a time must be written as 'HH:MM'")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _CLOCK.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a time of day; write it as 'HH:MM', e.g. '09:30'")
        hours, minutes = int(match.group(1)), int(match.group(2))
        if minutes >= 60:
            raise ValueError(f"{value!r} is not a time: minutes go from 00 to 59")
        return hours * 60 + minutes
    raise ValueError("a time must be written as 'HH:MM'")


def format_clock(minutes: int | float) -> str:
    """Write minutes after midnight as "HH:MM" (rounded to the minute)."""
    whole = round(minutes)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def _check_not_negative(value: int) -> int:
    """A clock time is never before midnight (its upper limit is the problem's day length)."""
    if value < 0:
        raise ValueError(f"{value} minutes is before 00:00")
    return value


DayOfWeek = Annotated[
    Weekday,
    BeforeValidator(_parse_weekday),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _WEEKDAY_PATTERN,
            "description": "a weekday: 'mon' to 'sun' (matcher writes these), or its full "
            "name, in any case ('Monday')",
            "examples": ["mon", "Monday"],
        }
    ),
]

ClockTime = Annotated[
    int,
    BeforeValidator(parse_clock),
    PlainSerializer(format_clock, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _CLOCK_PATTERN},
                {"type": "integer", "minimum": 0},
            ],
            "description": "time of day, 'HH:MM' (24-hour clock; hours past 24 only inside "
            "a problem whose day_length_min is longer than a day), or whole minutes after "
            "midnight (matcher writes 'HH:MM')",
            "examples": ["09:30", 570],
        }
    ),
]
"""Minutes after midnight in Python, "HH:MM" in JSON (whole minutes are read too)."""


class StrictModel(BaseModel):
    """Base of every model: unknown fields are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class InputModel(StrictModel):
    """Base of every model matcher reads (a problem, a change, a plan): numbers must be finite
    (no NaN and no Infinity, which JSON readers accept), so every quantity can be summed and
    rounded."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TimeWindow(InputModel):
    """An interval of time on one weekday, e.g. Monday 09:00 to 11:30."""

    day: DayOfWeek
    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _end_after_start(self) -> TimeWindow:
        _check_not_negative(self.start)
        _check_not_negative(self.end)
        if self.end <= self.start:
            raise ValueError(
                f"the window ends ({format_clock(self.end)}) before or when it starts "
                f"({format_clock(self.start)})"
            )
        return self

    @property
    def day_index(self) -> int:
        """Monday is 0, Sunday is 6."""
        return WEEKDAYS.index(self.day)

    def contains(self, start: float, end: float) -> bool:
        """Whether [start, end] lies inside this window (same day assumed)."""
        return self.start <= start + 1e-9 and end <= self.end + 1e-9


class Location(InputModel):
    """A place: latitude/longitude, or planar x/y in metres (test data and site plans).

    `place` names the place in an explicit travel matrix or a walkway graph; it is required
    when the problem's travel settings use one of those.
    """

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    x_m: float | None = Field(default=None, ge=-MAX_COORDINATE_M, le=MAX_COORDINATE_M)
    y_m: float | None = Field(default=None, ge=-MAX_COORDINATE_M, le=MAX_COORDINATE_M)
    place: str | None = None

    @model_validator(mode="after")
    def _one_kind_of_coordinates(self) -> Location:
        geographic = self.lat is not None or self.lon is not None
        planar = self.x_m is not None or self.y_m is not None
        if geographic and planar:
            raise ValueError("give either lat/lon or x_m/y_m, not both")
        if geographic and (self.lat is None or self.lon is None):
            raise ValueError("lat and lon must be given together")
        if planar and (self.x_m is None or self.y_m is None):
            raise ValueError("x_m and y_m must be given together")
        if not geographic and not planar and self.place is None:
            raise ValueError("a location needs lat/lon, x_m/y_m or a place name")
        return self

    @property
    def is_geographic(self) -> bool:
        return self.lat is not None

    @property
    def is_planar(self) -> bool:
        return self.x_m is not None
