"""What the greedy planner knows before it places a visit: its parameters, every volunteer and
every need in plain numbers and numpy arrays, and each need's pruned candidate volunteers.

Everything here is built from the shared facts of `matcher.rules`: who qualifies
(`NeedFacts.qualified`), when a visit may start (`NeedFacts.late_windows_by_day`), a volunteer's
outings (`rules.outings_by_day`) and hourly cost (`rules.hourly_cost`); none of it reads a rule
from the models on its own.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from matcher.models import (
    WEEKDAYS,
    Need,
    Problem,
    Recipient,
    Service,
    VisitDependency,
    Volunteer,
    offered_shares,
)
from matcher.rules import NeedFacts, hourly_cost, outings_by_day
from matcher.rules.intervals import Interval
from matcher.travel import TravelModel

EPS = 1e-7
"""Slack for float travel minutes against whole-minute times (the checker allows 1e-6)."""
FAR = 1e300
"""Stands for 'no limit' in distance comparisons; infinite distances (no path) exceed it."""
CROWDING_PENALTY = 1e9
"""Added to a day that would leave the need's later visits no days at the required gap."""
MAX_TEAM_COMBINATIONS = 500
"""At most this many volunteer combinations are tried per team visit and day."""
ROW_CACHE_SIZE = 64
"""Distance rows (to and from a recipient's place) kept as Python lists for fast lookups."""
NO_GAP_LIMIT = 10**9
"""Stands for 'no upper limit' on the minutes between the starts of two linked visits."""
DAYS = range(len(WEEKDAYS))
DAY_BITS = np.array([1 << day for day in DAYS])
"""A set of weekdays as a 7-bit number: Monday is bit 0."""
DAYS_IN_SET: tuple[tuple[int, ...], ...] = tuple(
    tuple(day for day in DAYS if day_set >> day & 1) for day_set in range(1 << len(WEEKDAYS))
)
"""The weekday indices in each 7-bit set."""


class GreedyParameters(BaseModel):
    """Knobs of the greedy planner; the defaults suit communities of tens to thousands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regret_candidates: int = Field(
        default=4,
        ge=1,
        le=100,
        description="how many pending occurrences compete in the regret rule",
    )
    team_candidates: int = Field(
        default=6,
        ge=1,
        le=30,
        description="how many best volunteers are combined when forming teams",
    )
    candidate_volunteers: int = Field(
        default=25,
        ge=1,
        description="nearest qualified volunteers tried per need; more join when all are full",
    )
    same_volunteer_bonus: float = Field(
        default=50.0, ge=0, description="points for the volunteer of a same_volunteer need's visits"
    )
    gender_match_bonus: float = Field(
        default=20.0, ge=0, description="points for a volunteer of the need's preferred gender"
    )
    language_match_bonus: float = Field(
        default=20.0, ge=0, description="points for a volunteer who speaks the need's language"
    )


@dataclass(slots=True)
class Helper:
    """What the planner needs to know about one volunteer, in plain numbers."""

    volunteer: Volunteer
    rank: int
    """The volunteer's place in the seeded tie order."""
    start_place: int
    home_place: int
    speed: float
    max_trip_m: float
    """The longest leg (`FAR`: no limit)."""
    max_outing_m: float
    """The longest walk of one outing (`FAR`: no limit)."""
    max_visits: int
    max_minutes: float
    capacity: float
    cost_per_hour: float
    outings: tuple[tuple[Interval, ...], ...]
    """Per weekday index, the volunteer's outings: (leaves at or after, back home by)."""


@dataclass(frozen=True, slots=True)
class VolunteerArrays:
    """Per-volunteer facts as numpy arrays, for testing all volunteers of a need at once.

    outing_opens[day] and outing_closes[day] are (volunteers x outings), padded with +inf/-inf.
    """

    outing_opens: list[np.ndarray]
    outing_closes: list[np.ndarray]
    start_places: np.ndarray
    home_places: np.ndarray
    speeds: np.ndarray
    outing_limits: np.ndarray
    capacities: np.ndarray
    ranks: np.ndarray


@dataclass(slots=True)
class NeedInfo:
    """One need with its shared facts, its place, and its pruned candidate volunteers.

    `allowed` holds, per weekday index, the windows a visit must lie in (a soft window stretched
    by the lateness it allows: `NeedFacts.late_windows_by_day`).
    """

    index: int
    facts: NeedFacts
    need: Need
    recipient: Recipient
    service: Service
    recipient_index: int
    place: int
    duration: int
    team_size: int
    priority: float
    allowed: tuple[tuple[Interval, ...], ...]
    mandatory: bool
    partner: int = -1
    """The second need of a linked pair this need leads, else -1."""
    leader: int = -1
    """The first need of a linked pair this need follows, else -1."""
    gap: Interval = (0, NO_GAP_LIMIT)
    """Least and most minutes from this leader's start to its partner's."""
    unplannable: str = ""
    """Why the greedy planner leaves this linked need out, if it does."""
    candidates: list[int] = field(default_factory=list)
    candidate_days: dict[int, tuple[int, ...]] = field(default_factory=dict)
    hardness: int = 0
    tie: int = 0

    def lateness(self, day: int, start: int) -> float:
        """Minutes a visit starting then is late (0 for a hard window, never late)."""
        if not self.need.soft_window:
            return 0.0
        return self.facts.lateness(day, start)


class Setup:
    """The fixed side of one greedy run: volunteers, needs, links, arrays and candidates."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        facts: dict[str, NeedFacts],
        seed: int,
        parameters: GreedyParameters,
        out_of_time: Callable[[], bool],
    ) -> None:
        self.problem = problem
        self.travel = travel
        self.parameters = parameters
        self.weights = problem.policy.weights
        self.times = travel.explicit_time_min
        self.warnings: list[str] = []
        self.pruned_all = True
        """False when the time limit stopped the pruning of candidates before every need."""
        rng = random.Random(seed)

        volunteer_ranks = list(range(len(problem.volunteers)))
        rng.shuffle(volunteer_ranks)
        self.helpers = [
            self._helper(volunteer, rank)
            for volunteer, rank in zip(problem.volunteers, volunteer_ranks, strict=True)
        ]
        self.volunteer_index = {v.id: index for index, v in enumerate(problem.volunteers)}
        self.recipient_index = {r.id: index for index, r in enumerate(problem.recipients)}
        self.familiarity = self._familiarity()

        self.needs: list[NeedInfo] = []
        for recipient_position, recipient in enumerate(problem.recipients):
            for need in recipient.needs:
                self.needs.append(self._need_info(facts[need.id], recipient_position))
        self.need_index = {info.need.id: info.index for info in self.needs}
        self._link_needs(problem.dependencies)
        self.arrays = self._volunteer_arrays()
        need_ties = list(range(len(self.needs)))
        rng.shuffle(need_ties)
        for info, tie in zip(self.needs, need_ties, strict=True):
            info.tie = tie
        self._prune_candidates(out_of_time)

        requested = sum(
            info.duration * info.team_size * info.need.visits_per_week for info in self.needs
        )
        shares = offered_shares(problem.volunteers)
        self.shares = [shares[helper.volunteer.id] for helper in self.helpers]
        self.target_load = [requested * share for share in self.shares]
        """Each volunteer's fair part of the requested minutes, in proportion to their offer."""

    def _helper(self, volunteer: Volunteer, rank: int) -> Helper:
        """Plain numbers for one volunteer: places, speed, limits, outings per day."""
        outings = outings_by_day(volunteer)
        return Helper(
            volunteer=volunteer,
            rank=rank,
            start_place=self.travel.start_place[volunteer.id],
            home_place=self.travel.home_place[volunteer.id],
            speed=self.travel.speed_m_per_min(volunteer),
            max_trip_m=_limit(volunteer.max_trip_distance_m),
            max_outing_m=_limit(volunteer.max_outing_distance_m),
            max_visits=volunteer.max_visits_per_day
            if volunteer.max_visits_per_day is not None
            else len(WEEKDAYS) * 24 * 60,
            max_minutes=float(volunteer.max_minutes_per_week)
            if volunteer.max_minutes_per_week is not None
            else math.inf,
            capacity=float(volunteer.capacity) if volunteer.capacity is not None else math.inf,
            cost_per_hour=hourly_cost(volunteer, self.weights),
            outings=tuple(tuple(outings.get(day, [])) for day in DAYS),
        )

    def _familiarity(self) -> list[dict[int, float]]:
        """Points per recipient and volunteer for a preferred volunteer or a standing pairing."""
        recipients = self.problem.recipients
        preferred: list[set[int]] = [set() for _ in recipients]
        paired: list[set[int]] = [set() for _ in recipients]
        for index, recipient in enumerate(recipients):
            for volunteer_id in recipient.preferred_volunteers:
                if volunteer_id in self.volunteer_index:
                    preferred[index].add(self.volunteer_index[volunteer_id])
        for visit in self.problem.history:
            if visit.recipient in self.recipient_index and visit.volunteer in self.volunteer_index:
                recipient_position = self.recipient_index[visit.recipient]
                paired[recipient_position].add(self.volunteer_index[visit.volunteer])
        return [
            {
                volunteer: self.weights.continuity_points(
                    volunteer in preferred[index], volunteer in paired[index]
                )
                for volunteer in preferred[index] | paired[index]
            }
            for index in range(len(recipients))
        ]

    def _need_info(self, facts: NeedFacts, recipient_position: int) -> NeedInfo:
        """The need's shared facts with its index, place and windows per weekday index."""
        return NeedInfo(
            index=len(self.needs),
            facts=facts,
            need=facts.need,
            recipient=facts.recipient,
            service=facts.service,
            recipient_index=recipient_position,
            place=facts.place,
            duration=facts.duration,
            team_size=facts.service.team_size,
            priority=facts.priority,
            allowed=tuple(tuple(facts.late_windows_by_day.get(day, ())) for day in DAYS),
            mandatory=facts.need.mandatory,
        )

    def _link_needs(self, dependencies: list[VisitDependency]) -> None:
        """Pair each dependency's first need (the leader) with its second (the partner); a need
        in more than one dependency, or a linked team visit, is marked unplannable."""
        links: dict[int, int] = {}
        for dependency in dependencies:
            for need_id in (dependency.first, dependency.second):
                index = self.need_index[need_id]
                links[index] = links.get(index, 0) + 1
        for dependency in dependencies:
            leader = self.needs[self.need_index[dependency.first]]
            partner = self.needs[self.need_index[dependency.second]]
            pair = (leader, partner)
            if any(links[info.index] > 1 for info in pair):
                reason = "it is linked to more than one other need"
            elif any(info.team_size > 1 for info in pair):
                reason = "it is a linked team visit"
            else:
                low, high = dependency.gap_range
                leader.partner, partner.leader = partner.index, leader.index
                leader.gap = (low, int(high) if math.isfinite(high) else NO_GAP_LIMIT)
                leader.mandatory = partner.mandatory = leader.mandatory or partner.mandatory
                continue
            for info in pair:
                if not info.unplannable:
                    info.unplannable = reason
                    self.warnings.append(
                        f"The greedy planner does not plan need {info.need.id!r}: {reason}."
                    )

    def _volunteer_arrays(self) -> VolunteerArrays:
        """The volunteers' outings, places, speeds and limits as arrays."""
        opens, closes = [], []
        for day in DAYS:
            width = max([1, *(len(helper.outings[day]) for helper in self.helpers)])
            day_opens = np.full((len(self.helpers), width), np.inf)
            day_closes = np.full((len(self.helpers), width), -np.inf)
            for row, helper in enumerate(self.helpers):
                for column, (start, end) in enumerate(helper.outings[day]):
                    day_opens[row, column], day_closes[row, column] = start, end
            opens.append(day_opens)
            closes.append(day_closes)
        return VolunteerArrays(
            outing_opens=opens,
            outing_closes=closes,
            start_places=np.array([helper.start_place for helper in self.helpers], dtype=int),
            home_places=np.array([helper.home_place for helper in self.helpers], dtype=int),
            speeds=np.array([helper.speed for helper in self.helpers], dtype=float),
            outing_limits=np.array([helper.max_outing_m for helper in self.helpers], dtype=float),
            capacities=np.array([helper.capacity for helper in self.helpers], dtype=float),
            ranks=np.array([helper.rank for helper in self.helpers], dtype=int),
        )

    def qualified_mask(self, info: NeedInfo) -> np.ndarray:
        """The volunteers who qualify for the need (`NeedFacts.qualified`) and can carry its
        load in a day."""
        mask = np.zeros(len(self.helpers), dtype=bool)
        for volunteer_id in info.facts.qualified:
            mask[self.volunteer_index[volunteer_id]] = True
        result: np.ndarray = mask & (self.arrays.capacities >= info.need.load)
        return result

    def shares_outing(self, info: NeedInfo, day: int) -> np.ndarray:
        """Volunteers with an outing on `day` that overlaps an allowed window for the whole
        visit (travel not counted)."""
        arrays = self.arrays
        shares = np.zeros(len(self.helpers), dtype=bool)
        for allowed_start, allowed_end in info.allowed[day]:
            overlap = np.minimum(arrays.outing_closes[day], allowed_end) - np.maximum(
                arrays.outing_opens[day], allowed_start
            )
            shares |= (overlap >= info.duration).any(axis=1)
        return shares

    def minutes_there_and_back(self, place: int) -> tuple[np.ndarray, np.ndarray]:
        """Each volunteer's travel minutes from their start place to `place` and from there
        home: the explicit matrix when given, else distance over their speed."""
        arrays = self.arrays
        if self.times is not None:
            return self.times[arrays.start_places, place], self.times[place, arrays.home_places]
        with np.errstate(invalid="ignore"):
            there = self.travel.distance_m[arrays.start_places, place] / arrays.speeds
            back = self.travel.distance_m[place, arrays.home_places] / arrays.speeds
        return there, back

    def _prune_candidates(self, out_of_time: Callable[[], bool]) -> None:
        """For each need: volunteers who qualify and have an outing in which they could make the
        visit on its own (out from the start place after it opens, home before it closes, the
        walk within their outing limit).

        The reach test is a relaxation of any outing that holds the visit, valid when distances
        obey the triangle inequality, so a chain of visits cannot beat it; an explicit matrix may
        not, and then only the window test prunes.
        """
        if not self.helpers:
            return
        arrays = self.arrays
        distance = self.travel.distance_m
        triangle = self.problem.travel.method != "matrix"
        for info in self.needs:
            if info.index % 64 == 0 and out_of_time():
                self.pruned_all = False
                return
            mask = self.qualified_mask(info)
            if not mask.any():
                continue
            to_recipient = distance[arrays.start_places, info.place]
            back_home = distance[info.place, arrays.home_places]
            if triangle:
                mask &= to_recipient + back_home <= arrays.outing_limits + EPS
            minutes_there, minutes_back = self.minutes_there_and_back(info.place)
            there, back = minutes_there[:, None], minutes_back[:, None]
            day_masks = np.zeros((len(WEEKDAYS), len(self.helpers)), dtype=bool)
            for day in DAYS:
                if not info.allowed[day]:
                    continue
                day_masks[day] = mask & self.shares_outing(info, day)
                if triangle:
                    reaches = np.zeros(len(self.helpers), dtype=bool)
                    for allowed_start, allowed_end in info.allowed[day]:
                        earliest = np.maximum(arrays.outing_opens[day] + there, allowed_start)
                        latest = np.minimum(arrays.outing_closes[day] - back, allowed_end)
                        reaches |= (earliest + info.duration <= latest + EPS).any(axis=1)
                    day_masks[day] &= reaches
            info.hardness = int(day_masks.sum())
            order = np.lexsort((arrays.ranks, to_recipient + back_home))
            order = order[np.asarray(day_masks.any(axis=0))[order]]
            day_sets = (day_masks[:, order] * DAY_BITS[:, None]).sum(axis=0).tolist()
            info.candidates = order.tolist()
            info.candidate_days = {
                volunteer: DAYS_IN_SET[day_set]
                for volunteer, day_set in zip(info.candidates, day_sets, strict=True)
            }


def _limit(value: float | None) -> float:
    """A distance limit in metres, `FAR` for none."""
    return float(value) if value is not None else FAR
