"""Group sessions at venues: classes, clinics, clubs, after-school care and the red bench.

A *group service* is one or a few volunteers with a skill serving many people at once, at a
*venue* people walk to (an activity room, a health station, a reading room, a school room, an
outdoor gathering point). Recipients ask for seats with *attendance wishes*; how far they walk
follows their mobility (`WalkingPolicy`, a default per disability level, overridable per
recipient), or an *escort* (a volunteer who walks them there and back) takes them.

The solver decides which sessions are held (service, venue, day, start, leads and helpers) and
who sits in which; a pop-up session (the red bench) is a group service whose candidate venues
are outdoor gathering points: the solver picks the one most wishers can walk to. The same
choice is made for every group service among its candidate venues.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from matcher.models.common import (
    MINUTES_PER_DAY,
    DayOfWeek,
    InputModel,
    Location,
    RecipientKind,
    TimeWindow,
)
from matcher.models.limits import MAX_COUNT, MAX_DISTANCE_M, MAX_PRIORITY, MAX_SPEED_M_PER_MIN

VenueKind = Literal["activity_room", "health_station", "reading_room", "school_room", "outdoor"]
"""Kinds of venue: rooms of the community centre, the health station, the reading room, a
school room, and outdoor gathering points (a bench, a courtyard, the square)."""


def _elders_only() -> list[RecipientKind]:
    return ["elder"]


class Venue(InputModel):
    """A place where group sessions are held."""

    id: str = Field(min_length=1)
    name: str = ""
    kind: VenueKind
    location: Location
    capacity: int = Field(ge=1, le=MAX_COUNT, description="attendees it holds at once")
    open_windows: list[TimeWindow] = Field(
        default_factory=list, description="when it may be used; empty means any time"
    )
    closed_days: list[DayOfWeek] = Field(
        default_factory=list,
        description="days it is closed this week (repairs, a holiday), whatever its windows",
    )
    step_free: bool = Field(
        default=True,
        description="reachable without steps; attendees of disability level 1 or more only go "
        "to step-free venues",
    )


class GroupService(InputModel):
    """A class, a clinic, a club or a care group: leads (and helpers) serving many at a venue."""

    id: str = Field(min_length=1)
    name: str = ""
    lead_skills: list[str] = Field(default_factory=list, description="skills every lead has")
    lead_requires_verified: bool = Field(
        default=False, description="leads must be verified (e.g. a medicine or money clinic)"
    )
    leads: int = Field(default=1, ge=1, le=10, description="leads needed at each session")
    attendees_per_helper: int | None = Field(
        default=None,
        ge=1,
        le=MAX_COUNT,
        description="one helper for every full N attendees (attendees // N helpers); none: no "
        "helpers",
    )
    min_attendees: int = Field(
        default=1, ge=1, le=MAX_COUNT, description="a session below this is not held"
    )
    max_attendees: int = Field(ge=1, le=MAX_COUNT, description="most seats of one session")
    duration_min: int = Field(gt=0, le=MINUTES_PER_DAY)
    venue_kinds: list[VenueKind] = Field(min_length=1, description="kinds of venue it may use")
    venues: list[str] = Field(
        default_factory=list,
        description="candidate venues (ids); empty means every venue of its kinds. A pop-up "
        "(red bench) lists its gathering points and the solver picks among them",
    )
    windows: list[TimeWindow] = Field(
        default_factory=list,
        description="when it may be held (e.g. after school); empty means whenever the venue "
        "is open",
    )
    sessions_per_week: int = Field(default=1, ge=1, le=7, description="sessions wanted a week")
    same_lead: bool = Field(
        default=False, description="prefer the same lead every session and every week"
    )
    recipient_kinds: list[RecipientKind] = Field(default_factory=_elders_only, min_length=1)


class AttendanceWish(InputModel):
    """A recipient's wish for seats in a group service, some times a week."""

    id: str = Field(min_length=1)
    group_service: str = Field(min_length=1, description="id of a group service")
    sessions_per_week: int = Field(default=1, ge=1, le=7, description="seats wanted a week")
    priority: float | None = Field(
        default=None, ge=0, le=MAX_PRIORITY, description="overrides the recipient's priority"
    )
    escort: bool = Field(
        default=False,
        description="comes only with an escort: a volunteer walks them there and back",
    )


class WalkingPolicy(InputModel):
    """How far recipients walk to a session, one way, by disability level (a recipient's
    `walking_limit_m` overrides it).

    Defaults: 800 m with no disability (about a quarter of an hour at an elder's pace), 300 m
    with limited mobility, none when severe (only with an escort) and none when bedridden (they
    never attend; they may still need home visits). With an escort, anyone but the bedridden
    goes up to `escorted_m`. Elders walk at `speed_m_per_min` (40 m/min, 2.4 km/h).
    """

    level_0_m: float = Field(default=800.0, ge=0, le=MAX_DISTANCE_M)
    level_1_m: float = Field(default=300.0, ge=0, le=MAX_DISTANCE_M)
    level_2_m: float = Field(default=0.0, ge=0, le=MAX_DISTANCE_M)
    level_3_m: float = Field(default=0.0, ge=0, le=MAX_DISTANCE_M)
    escorted_m: float = Field(default=600.0, ge=0, le=MAX_DISTANCE_M)
    speed_m_per_min: float = Field(default=40.0, gt=0, le=MAX_SPEED_M_PER_MIN)

    def default_for(self, disability_level: int) -> float:
        """The walking limit of this disability level."""
        return (self.level_0_m, self.level_1_m, self.level_2_m, self.level_3_m)[
            min(max(disability_level, 0), 3)
        ]


class HistoricLead(InputModel):
    """Who led a group service in an earlier week, for stable leads."""

    group_service: str
    volunteer: str
    week_start: dt.date | None = None
    sessions: int = Field(default=1, ge=1, le=MAX_COUNT)


__all__ = [
    "AttendanceWish",
    "GroupService",
    "HistoricLead",
    "Venue",
    "VenueKind",
    "WalkingPolicy",
]
