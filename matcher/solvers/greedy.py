"""The greedy planner: places one occurrence of a need at a time, where it costs least.

Order: pinned visits first, exactly as given; then mandatory needs, higher priority, and the
hardest to serve (fewest volunteer-days that could take them). Among the first few pending
occurrences (mandatory and optional ones never compete) a regret rule picks the one that would
lose most by waiting (its best insertion much better than its second best, or only one left).

An insertion puts the visit into one volunteer's day (or, for a team service, into the days of
`team_size` volunteers at one common start) between two existing visits, which keep their
times. The new visit gets the earliest whole minute that keeps every rule of docs/rules.md:
travel from the previous stop and to the next, the availability window that holds it (leaving
the start place and getting home inside it when it is first or last), the recipient's windows
and other visits, visits a day, the day's carrying capacity, minutes a week (travel included),
the longest single trip. A soft window may be missed at its end by up to `max_lateness_min`: a
late start costs `lateness_per_min` a minute (and `max_lateness_per_min` for each minute it adds
to the plan's largest lateness), so among the insertions the least costly start wins.

Two needs linked by a dependency are planned as one: the first need's visits are queued, and
each one is inserted together with a visit of the second need on the same day, by another
volunteer, at the required gap (both or neither). A pinned visit of one of them gets its partner
first. The greedy planner leaves a need linked to more than one other need, or a linked team
visit, unplanned with a reason.

Speed comes from caching: the best insertion of each need into each (volunteer, day) is kept
until that day, the recipient's day or (for teams) a candidate's week changes. Candidates are
pruned before any insertion is tried: qualified and not excluded, an availability window that
overlaps an allowed window long enough, and reachable there and back within the day; only the
nearest few are tried until they are all full.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from matcher.messages import REASON_MESSAGES
from matcher.models import (
    WEEKDAYS,
    Need,
    Plan,
    Problem,
    ReasonCode,
    Recipient,
    Service,
    SolverInfo,
    UnassignedVisit,
    Visit,
    VisitDependency,
    Volunteer,
    offered_shares,
)
from matcher.solvers.routes import build_routes
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

Interval = tuple[int, int]
SlotKey = tuple[int, int]
"""(volunteer index, day index) for a single visit; (-1, day index) for a team visit."""
Watcher = tuple[int, SlotKey]
"""(need index, slot key) of a cached insertion that depends on some state."""


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
class _Helper:
    """What the planner needs to know about one volunteer, in plain numbers."""

    volunteer: Volunteer
    rank: int
    start_place: int
    home_place: int
    speed: float
    max_trip_m: float
    max_visits: int
    max_minutes: float
    capacity: float
    cost_per_hour: float
    availability: tuple[tuple[Interval, ...], ...]


@dataclass(frozen=True, slots=True)
class _Arrays:
    """Per-volunteer facts as numpy arrays, for testing all volunteers of a need at once.

    window_starts[day] and window_ends[day] are (volunteers x windows), padded with +inf/-inf.
    """

    window_starts: list[np.ndarray]
    window_ends: list[np.ndarray]
    start_places: np.ndarray
    home_places: np.ndarray
    speeds: np.ndarray
    trip_limits: np.ndarray
    capacities: np.ndarray
    ranks: np.ndarray


@dataclass(slots=True)
class _NeedInfo:
    """One need with its recipient, service, allowed windows and pruned candidate volunteers.

    `allowed` holds, per day, the windows a visit must lie in: for a soft window, its end moved
    later by the lateness allowed (to the end of the day when there is no limit). `on_time` holds
    the windows themselves, against which lateness is measured.
    """

    index: int
    need: Need
    recipient: Recipient
    recipient_index: int
    service: Service
    place: int
    duration: int
    team_size: int
    priority: float
    allowed: tuple[tuple[Interval, ...], ...]
    on_time: tuple[tuple[Interval, ...], ...]
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


@dataclass(slots=True)
class _Day:
    """A volunteer's visits on one day in time order, with the legs between the stops.

    legs[i] is the distance into the i-th visit (legs[0] from the start place) and legs[-1] the
    way home; an empty day has no legs.
    """

    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)
    places: list[int] = field(default_factory=list)
    legs: list[float] = field(default_factory=list)
    leg_minutes: list[float] = field(default_factory=list)
    """Travel minutes of each leg, kept only when the travel matrix gives explicit minutes."""
    minutes: float = 0.0
    carried: int = 0


@dataclass(frozen=True, slots=True)
class _Option:
    """A feasible insertion: day, common start, and each volunteer's position and added minutes.

    For a linked pair, volunteers[0] makes the leader's visit at `start` and volunteers[1] the
    partner's at `second_start`. `lateness` is the largest minutes late of its visits.
    """

    day: int
    start: int
    volunteers: tuple[int, ...]
    positions: tuple[int, ...]
    added_minutes: tuple[float, ...]
    cost: float
    tie: tuple[int, ...]
    lateness: float = 0.0
    second_start: int = -1


@dataclass(slots=True)
class _Placed:
    """A visit in the plan, before occurrence numbers are given out."""

    need: int
    day: int
    start: int
    volunteers: tuple[str, ...]
    lateness: float = 0.0


def solve_greedy(
    problem: Problem,
    travel: TravelModel | None = None,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    parameters: GreedyParameters | None = None,
) -> Plan:
    """Plan the week greedily; every planned visit keeps the hard rules, the rest say why not.

    The same problem, seed and parameters give the same plan; the seed only breaks ties. With a
    time limit, occurrences still pending when it runs out are listed as `not_planned`.
    """
    began = time.perf_counter()
    if time_limit_s is not None and time_limit_s < 0:
        raise ValueError("time_limit_s must not be negative")
    settings = parameters if parameters is not None else GreedyParameters()
    model = travel if travel is not None else TravelModel(problem)
    deadline = None if time_limit_s is None else began + time_limit_s
    planner = _GreedyPlanner(problem, model, seed, settings, deadline)
    planner.run()
    visits, unassigned = planner.results()
    routes = build_routes(problem, model, visits)
    info = SolverInfo(
        solver="greedy",
        status="FEASIBLE",
        objective=planner.objective(),
        wall_time_s=time.perf_counter() - began,
        seed=seed,
        time_limit_s=time_limit_s,
        parameters=settings.model_dump(),
    )
    return Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=visits,
        routes=routes,
        unassigned=unassigned,
        solver=info,
        warnings=problem.warnings() + planner.warnings,
    )


def qualifies(volunteer: Volunteer, service: Service, recipient: Recipient) -> bool:
    """Skills, verification, background check for children, and a service for this recipient."""
    return (
        recipient.kind in service.recipient_kinds
        and set(service.required_skills) <= set(volunteer.skills)
        and (volunteer.verified or not service.requires_verified)
        and (volunteer.background_checked or recipient.kind != "child")
    )


def _subtract_busy(
    intervals: list[Interval], busy: list[Interval], duration: int
) -> list[Interval]:
    """Start times left in `intervals` once visits overlapping a busy interval are removed."""
    result: list[Interval] = []
    for first, last in intervals:
        for busy_start, busy_end in busy:
            blocked_first, blocked_last = busy_start - duration + 1, busy_end - 1
            if blocked_last < first or blocked_first > last:
                continue
            if blocked_first > first:
                result.append((first, blocked_first - 1))
            first = blocked_last + 1
            if first > last:
                break
        if first <= last:
            result.append((first, last))
    return result


def _room_for_the_rest(taken: list[int], candidate_days: list[int], gap: int, wanted: int) -> bool:
    """Whether `wanted` more days can be chosen from `candidate_days`, `gap` apart from all."""
    if wanted <= 0:
        return True
    chosen = list(taken)
    found = 0
    for day in candidate_days:
        if all(abs(day - other) >= gap for other in chosen):
            chosen.append(day)
            found += 1
            if found >= wanted:
                return True
    return False


class _GreedyPlanner:
    """The state of one greedy run: volunteers' days, cached insertions, the plan so far."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        seed: int,
        parameters: GreedyParameters,
        deadline: float | None,
    ) -> None:
        self.problem = problem
        self.travel = travel
        self.parameters = parameters
        self.deadline = deadline
        self.weights = problem.policy.weights
        self.times = travel.explicit_time_min
        self.warnings: list[str] = []
        rng = random.Random(seed)

        volunteer_ranks = list(range(len(problem.volunteers)))
        rng.shuffle(volunteer_ranks)
        self.helpers = [
            self._helper(volunteer, rank)
            for volunteer, rank in zip(problem.volunteers, volunteer_ranks, strict=True)
        ]
        self.volunteer_index = {v.id: index for index, v in enumerate(problem.volunteers)}
        self.recipient_index = {r.id: index for index, r in enumerate(problem.recipients)}
        preferred: list[set[int]] = [set() for _ in problem.recipients]
        paired: list[set[int]] = [set() for _ in problem.recipients]
        for index, recipient in enumerate(problem.recipients):
            for volunteer_id in recipient.preferred_volunteers:
                if volunteer_id in self.volunteer_index:
                    preferred[index].add(self.volunteer_index[volunteer_id])
        for visit in problem.history:
            if visit.recipient in self.recipient_index and visit.volunteer in self.volunteer_index:
                recipient_position = self.recipient_index[visit.recipient]
                paired[recipient_position].add(self.volunteer_index[visit.volunteer])
        self.familiarity: list[dict[int, float]] = [
            {
                volunteer: self.weights.continuity_points(
                    volunteer in preferred[index], volunteer in paired[index]
                )
                for volunteer in preferred[index] | paired[index]
            }
            for index in range(len(problem.recipients))
        ]
        """Points per recipient and volunteer for a preferred volunteer or a standing pairing."""

        self.needs: list[_NeedInfo] = []
        for recipient_position, recipient in enumerate(problem.recipients):
            for need in recipient.needs:
                self.needs.append(self._need_info(need, recipient, recipient_position))
        self.need_index = {info.need.id: info.index for info in self.needs}
        self._link_needs(problem.dependencies)
        self._qualified: dict[tuple[str, str], np.ndarray] = {}
        self._excluded: dict[int, np.ndarray] = {}
        self.arrays = self._volunteer_arrays()
        need_ties = list(range(len(self.needs)))
        rng.shuffle(need_ties)
        for info, tie in zip(self.needs, need_ties, strict=True):
            info.tie = tie
        self._prune_candidates()

        volunteer_count = len(self.helpers)
        self.days: list[list[_Day | None]] = [[None] * len(WEEKDAYS) for _ in self.helpers]
        self.load = [0.0] * volunteer_count
        self.busy: dict[tuple[int, int], list[Interval]] = {}
        self.linked_times: dict[tuple[int, int], list[Interval]] = {}
        """Times of the visits of linked needs, by (need index, day): a visit may overlap its
        partner's at the recipient."""
        self.need_days: list[list[int]] = [[] for _ in self.needs]
        self.need_volunteers: list[set[int]] = [set() for _ in self.needs]
        self.remaining = [info.need.visits_per_week for info in self.needs]
        self.placed: list[_Placed] = []
        self.dropped: list[tuple[int, ReasonCode, str]] = []
        self.max_lateness = 0.0

        self.entries: list[dict[SlotKey, _Option | None]] = [{} for _ in self.needs]
        self.stale: list[set[SlotKey]] = [set() for _ in self.needs]
        self.active = [0] * len(self.needs)
        self.wanted = [0] * len(self.needs)
        self.watch_day: dict[tuple[int, int], set[Watcher]] = {}
        self.watch_recipient: dict[tuple[int, int], set[Watcher]] = {}
        self.watch_load: dict[int, set[Watcher]] = {}
        self._rows: dict[int, tuple[list[float], list[float]]] = {}
        self._time_rows: dict[int, tuple[list[float], list[float]]] = {}
        self._reasons: dict[tuple[int, tuple[int, ...]], tuple[ReasonCode, str]] = {}

        requested = sum(
            info.duration * info.team_size * info.need.visits_per_week for info in self.needs
        )
        shares = offered_shares(problem.volunteers)
        self.shares = [shares[helper.volunteer.id] for helper in self.helpers]
        self.target_load = [requested * share for share in self.shares]
        """Each volunteer's fair part of the requested minutes, in proportion to their offer."""

    # ------------------------------------------------------------------ setup

    def _helper(self, volunteer: Volunteer, rank: int) -> _Helper:
        """Plain numbers for one volunteer: places, speed, limits, windows per day."""
        weights = self.problem.policy.weights
        if volunteer.cost_per_hour is not None:
            cost = volunteer.cost_per_hour
        elif volunteer.kind == "staff":
            cost = weights.staff_cost_per_hour
        else:
            cost = weights.volunteer_cost_per_hour
        per_day: list[list[Interval]] = [[] for _ in WEEKDAYS]
        for window in volunteer.availability:
            per_day[window.day_index].append((window.start, window.end))
        return _Helper(
            volunteer=volunteer,
            rank=rank,
            start_place=self.travel.start_place[volunteer.id],
            home_place=self.travel.home_place[volunteer.id],
            speed=self.travel.speed_m_per_min(volunteer),
            max_trip_m=volunteer.max_trip_distance_m
            if volunteer.max_trip_distance_m is not None
            else FAR,
            max_visits=volunteer.max_visits_per_day
            if volunteer.max_visits_per_day is not None
            else len(WEEKDAYS) * 24 * 60,
            max_minutes=float(volunteer.max_minutes_per_week)
            if volunteer.max_minutes_per_week is not None
            else math.inf,
            capacity=float(volunteer.capacity) if volunteer.capacity is not None else math.inf,
            cost_per_hour=cost,
            availability=tuple(tuple(sorted(windows)) for windows in per_day),
        )

    def _need_info(self, need: Need, recipient: Recipient, recipient_position: int) -> _NeedInfo:
        """The need's fixed facts: place, duration, priority, allowed windows per day (a soft
        window's end moved later by the lateness it allows)."""
        service = self.problem.service_by_id[need.service]
        on_time: list[list[Interval]] = [[] for _ in WEEKDAYS]
        allowed: list[list[Interval]] = [[] for _ in WEEKDAYS]
        for window in self.problem.allowed_windows(need):
            on_time[window.day_index].append((window.start, window.end))
            end = window.end
            if need.soft_window:
                end = (
                    max(end, self.problem.day_length_min)
                    if need.max_lateness_min is None
                    else end + need.max_lateness_min
                )
            allowed[window.day_index].append((window.start, end))
        return _NeedInfo(
            index=len(self.needs),
            need=need,
            recipient=recipient,
            recipient_index=recipient_position,
            service=service,
            place=self.travel.recipient_place[recipient.id],
            duration=self.problem.duration_of(need),
            team_size=service.team_size,
            priority=self.problem.priority_of(need),
            allowed=tuple(tuple(windows) for windows in allowed),
            on_time=tuple(tuple(windows) for windows in on_time),
            mandatory=need.mandatory,
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
                info.unplannable = f"The greedy planner does not plan this need: {reason}."

    def _qualified_mask(self, service: Service, recipient: Recipient) -> np.ndarray:
        """Which volunteers qualify for this service at this kind of recipient (cached)."""
        key = (service.id, recipient.kind)
        if key not in self._qualified:
            self._qualified[key] = np.array(
                [qualifies(helper.volunteer, service, recipient) for helper in self.helpers],
                dtype=bool,
            )
        return self._qualified[key]

    def _volunteer_arrays(self) -> _Arrays:
        """The volunteers' windows, places, speeds and trip limits as arrays."""
        starts, ends = [], []
        for day in DAYS:
            width = max([1, *(len(helper.availability[day]) for helper in self.helpers)])
            day_starts = np.full((len(self.helpers), width), np.inf)
            day_ends = np.full((len(self.helpers), width), -np.inf)
            for row, helper in enumerate(self.helpers):
                for column, (start, end) in enumerate(helper.availability[day]):
                    day_starts[row, column], day_ends[row, column] = start, end
            starts.append(day_starts)
            ends.append(day_ends)
        return _Arrays(
            window_starts=starts,
            window_ends=ends,
            start_places=np.array([helper.start_place for helper in self.helpers], dtype=int),
            home_places=np.array([helper.home_place for helper in self.helpers], dtype=int),
            speeds=np.array([helper.speed for helper in self.helpers], dtype=float),
            trip_limits=np.array([helper.max_trip_m for helper in self.helpers], dtype=float),
            capacities=np.array([helper.capacity for helper in self.helpers], dtype=float),
            ranks=np.array([helper.rank for helper in self.helpers], dtype=int),
        )

    def _eligible_mask(self, info: _NeedInfo) -> np.ndarray:
        """Volunteers who qualify for the need and whom its recipient has not excluded."""
        if info.recipient_index not in self._excluded:
            excluded = np.zeros(len(self.helpers), dtype=bool)
            for volunteer_id in info.recipient.excluded_volunteers:
                if volunteer_id in self.volunteer_index:
                    excluded[self.volunteer_index[volunteer_id]] = True
            self._excluded[info.recipient_index] = excluded
        eligible: np.ndarray = (
            self._qualified_mask(info.service, info.recipient)
            & ~(self._excluded[info.recipient_index])
        )
        return eligible

    def _shares_window(self, info: _NeedInfo, day: int) -> np.ndarray:
        """Volunteers with a window on `day` overlapping an allowed window for the whole visit."""
        arrays = self.arrays
        shares = np.zeros(len(self.helpers), dtype=bool)
        for allowed_start, allowed_end in info.allowed[day]:
            overlap = np.minimum(arrays.window_ends[day], allowed_end) - np.maximum(
                arrays.window_starts[day], allowed_start
            )
            shares |= (overlap >= info.duration).any(axis=1)
        return shares

    def _prune_candidates(self) -> None:
        """For each need: volunteers who qualify, share a window and can get there and back.

        The reach test is a relaxation (earliest departure of the day, latest return), valid when
        distances obey the triangle inequality, so a chain of visits cannot beat it; an explicit
        matrix may not, and then only the window test prunes.
        """
        if not self.helpers:
            return
        arrays = self.arrays
        distance = self.travel.distance_m
        first_start = [starts.min(axis=1) for starts in arrays.window_starts]
        last_end = [ends.max(axis=1) for ends in arrays.window_ends]
        triangle = self.problem.travel.method != "matrix"
        for info in self.needs:
            if info.index % 64 == 0 and self._out_of_time():
                return
            mask = self._eligible_mask(info) & (arrays.capacities >= info.need.load)
            if not mask.any():
                continue
            to_recipient = distance[arrays.start_places, info.place]
            back_home = distance[info.place, arrays.home_places]
            minutes_there, minutes_back = self._minutes_there_and_back(info.place)
            day_masks = np.zeros((len(WEEKDAYS), len(self.helpers)), dtype=bool)
            for day in DAYS:
                if not info.allowed[day]:
                    continue
                day_masks[day] = mask & self._shares_window(info, day)
                if triangle:
                    reaches = np.zeros(len(self.helpers), dtype=bool)
                    for allowed_start, allowed_end in info.allowed[day]:
                        earliest = np.maximum(first_start[day] + minutes_there, allowed_start)
                        latest = np.minimum(last_end[day] - minutes_back, allowed_end)
                        reaches |= earliest + info.duration <= latest + EPS
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

    def _minutes_there_and_back(self, place: int) -> tuple[np.ndarray, np.ndarray]:
        """Each volunteer's travel minutes from their start place to `place` and from there
        home: the explicit matrix when given, else distance over their speed."""
        arrays = self.arrays
        if self.times is not None:
            return self.times[arrays.start_places, place], self.times[place, arrays.home_places]
        with np.errstate(invalid="ignore"):
            there = self.travel.distance_m[arrays.start_places, place] / arrays.speeds
            back = self.travel.distance_m[place, arrays.home_places] / arrays.speeds
        return there, back

    # --------------------------------------------------------------- main loop

    def run(self) -> None:
        """Pinned visits and their linked partners, then every other occurrence in order (a
        linked pair as one), by the regret rule."""
        self._place_pinned()
        self._partner_pinned()
        for info in self.needs:
            if info.unplannable:
                for _ in range(self.remaining[info.index]):
                    self._drop(
                        info.index,
                        "not_planned",
                        f"{REASON_MESSAGES['not_planned']} {info.unplannable}",
                    )
        queue = [
            info.index
            for info in sorted(self.needs, key=self._order_key)
            if info.leader < 0
            for _ in range(self.remaining[info.index])
        ]
        window = self.parameters.regret_candidates
        while queue:
            if self._out_of_time():
                for need in queue:
                    self._drop_with_partner(
                        need, "not_planned", REASON_MESSAGES["not_planned"] + " Time ran out."
                    )
                return
            evaluated: dict[int, tuple[_Option, float] | None] = {}
            choice: tuple[float, int, _Option] | None = None
            hopeless: int | None = None
            mandatory = self.needs[queue[0]].mandatory
            for position, need in enumerate(queue[:window]):
                if self.needs[need].mandatory != mandatory:
                    break
                if need not in evaluated:
                    evaluated[need] = self._evaluate_with_expansion(need)
                result = evaluated[need]
                if result is None:
                    hopeless = position
                    break
                option, regret = result
                if choice is None or regret > choice[0]:
                    choice = (regret, position, option)
            if hopeless is not None:
                if self._out_of_time():
                    continue
                need = queue.pop(hopeless)
                code, message = self._reason(need)
                self._drop_with_partner(need, code, message)
                continue
            assert choice is not None
            _, position, option = choice
            self._commit(queue.pop(position), option)

    def _order_key(self, info: _NeedInfo) -> tuple[bool, float, int, int, int]:
        """Mandatory first, then higher priority, then fewest volunteer-days; seeded ties."""
        return (not info.mandatory, -info.priority, info.hardness, info.tie, info.index)

    def _out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    def _drop(self, need: int, code: ReasonCode, message: str) -> None:
        """Give up on one occurrence of the need, with the reason."""
        self.remaining[need] -= 1
        self.dropped.append((need, code, message))

    def _drop_with_partner(self, need: int, code: ReasonCode, message: str) -> None:
        """Give up on one occurrence of the need and, if it leads a linked pair, its partner's."""
        self._drop(need, code, message)
        partner = self.needs[need].partner
        if partner >= 0 and self.remaining[partner] > 0:
            leader_id = self.needs[need].need.id
            self._drop(partner, code, f"{message} It goes together with need {leader_id!r}.")

    # ----------------------------------------------------------- pinned visits

    def _place_pinned(self) -> None:
        """Put every pinned visit into the plan exactly as given, before anything else."""
        pinned_per_need: dict[int, int] = {}
        for pinned in self.problem.pinned:
            need = self.need_index[pinned.need]
            info = self.needs[need]
            day = WEEKDAYS.index(pinned.day)
            end = pinned.start + info.duration
            members = [self.volunteer_index[volunteer] for volunteer in pinned.volunteers]
            for volunteer in dict.fromkeys(members):
                state = self._day(volunteer, day)
                position = sum(
                    1
                    for start, finish in zip(state.starts, state.ends, strict=True)
                    if (start, finish) <= (pinned.start, end)
                )
                self._insert(
                    volunteer, day, position, pinned.start, end, info.place, info.need.load
                )
            self._mark_busy(info, day, pinned.start, end)
            self.need_days[need].append(day)
            self.need_volunteers[need].update(members)
            lateness = self._lateness(info, day, pinned.start)
            self.max_lateness = max(self.max_lateness, lateness)
            self.placed.append(_Placed(need, day, pinned.start, tuple(pinned.volunteers), lateness))
            if len(set(members)) != info.team_size:
                self.warnings.append(
                    f"pinned visit of need {info.need.id!r} on {pinned.day} has "
                    f"{len(set(members))} volunteer(s) but the service needs {info.team_size}"
                )
            self.remaining[need] = max(0, self.remaining[need] - 1)
            pinned_per_need[need] = pinned_per_need.get(need, 0) + 1
        for need, count in sorted(pinned_per_need.items()):
            info = self.needs[need]
            if count > info.need.visits_per_week:
                self.warnings.append(
                    f"need {info.need.id!r} has {count} pinned visits but only "
                    f"{info.need.visits_per_week} visit(s) a week"
                )

    def _partner_pinned(self) -> None:
        """Give each pinned visit of a linked need its partner on that day (another volunteer,
        at the required gap), or drop the partner's occurrence with the reason; then make both
        needs of each pair wait for as many occurrences."""
        for leader in self.needs:
            if leader.partner < 0:
                continue
            partner = self.needs[leader.partner]
            low, high = leader.gap
            for anchor, other, earliest, latest in (
                (leader, partner, low, high),
                (partner, leader, -high, -low),
            ):
                for placed in [item for item in self.placed if item.need == anchor.index]:
                    if placed.day in self.need_days[other.index] or not self.remaining[other.index]:
                        continue
                    busy = {self.volunteer_index[volunteer] for volunteer in placed.volunteers}
                    option = self._anchored_option(
                        other, placed.day, placed.start + earliest, placed.start + latest, busy
                    )
                    if option is not None:
                        self._commit(other.index, option)
                        continue
                    code, message = self._reason(other.index)
                    self._drop(
                        other.index,
                        code,
                        f"{message} It must go with the pinned visit of need "
                        f"{anchor.need.id!r} on {WEEKDAYS[placed.day]}.",
                    )
            left = min(self.remaining[leader.index], self.remaining[partner.index])
            for info in (leader, partner):
                while self.remaining[info.index] > left:
                    self._drop(
                        info.index,
                        "not_planned",
                        f"{REASON_MESSAGES['not_planned']} Its linked need has fewer visits left "
                        "after the pinned ones.",
                    )

    def _anchored_option(
        self, info: _NeedInfo, day: int, earliest: int, latest: int, excluded: set[int]
    ) -> _Option | None:
        """The cheapest single visit of the need on `day` starting between `earliest` and
        `latest`, by a candidate not in `excluded`."""
        best: tuple[float, int, int] | None = None
        best_option: _Option | None = None
        for volunteer in info.candidates:
            if volunteer in excluded or day not in info.candidate_days[volunteer]:
                continue
            rank = self.helpers[volunteer].rank
            for first, last, cost, position, added_min in self._member_choices(
                info, volunteer, day
            ):
                start = max(first, earliest)
                if start > min(last, latest):
                    continue
                lateness = self._lateness(info, day, start)
                total = cost + self.weights.lateness_per_min * lateness
                if best is None or (total, start, rank) < best:
                    best = (total, start, rank)
                    best_option = _Option(
                        day=day,
                        start=start,
                        volunteers=(volunteer,),
                        positions=(position,),
                        added_minutes=(added_min,),
                        cost=total,
                        tie=(rank, day),
                        lateness=lateness,
                    )
        return best_option

    # --------------------------------------------------------- day bookkeeping

    def _day(self, volunteer: int, day: int) -> _Day:
        """The volunteer's day, created empty on first use."""
        state = self.days[volunteer][day]
        if state is None:
            state = _Day()
            self.days[volunteer][day] = state
        return state

    def _insert(
        self, volunteer: int, day: int, position: int, start: int, end: int, place: int, load: int
    ) -> None:
        """Add a visit to a volunteer's day and bring its legs, minutes, week load and what they
        carry that day up to date."""
        helper = self.helpers[volunteer]
        state = self._day(volunteer, day)
        state.starts.insert(position, start)
        state.ends.insert(position, end)
        state.places.insert(position, place)
        state.carried += load
        stops = [helper.start_place, *state.places, helper.home_place]
        distance = self.travel.distance_m
        state.legs = [float(distance[a, b]) for a, b in itertools.pairwise(stops)]
        visiting = sum(
            finish - begin for begin, finish in zip(state.starts, state.ends, strict=True)
        )
        if self.times is not None:
            state.leg_minutes = [float(self.times[a, b]) for a, b in itertools.pairwise(stops)]
            minutes = visiting + sum(state.leg_minutes)
        else:
            minutes = visiting + sum(state.legs) / helper.speed
        self.load[volunteer] += minutes - state.minutes
        state.minutes = minutes

    def _mark_busy(self, info: _NeedInfo, day: int, start: int, end: int) -> None:
        """Remember that the need's recipient has a visit then (no other visit may overlap it,
        except one of the linked need's)."""
        busy = self.busy.setdefault((info.recipient_index, day), [])
        busy.append((start, end))
        busy.sort()
        if info.partner >= 0 or info.leader >= 0:
            self.linked_times.setdefault((info.index, day), []).append((start, end))

    def _busy_for(self, info: _NeedInfo, day: int) -> list[Interval]:
        """The recipient's visits on `day` that a visit of this need must not overlap: all but
        those of its linked need."""
        busy = self.busy.get((info.recipient_index, day), [])
        linked = info.partner if info.partner >= 0 else info.leader
        if linked < 0 or (linked, day) not in self.linked_times:
            return busy
        others = list(busy)
        for interval in self.linked_times[(linked, day)]:
            others.remove(interval)
        return others

    def _distance_rows(self, place: int) -> tuple[list[float], list[float]]:
        """Distances from every place to `place` and from `place` to every place, as lists."""
        rows = self._rows.get(place)
        if rows is None:
            if len(self._rows) >= ROW_CACHE_SIZE:
                del self._rows[next(iter(self._rows))]
            distance = self.travel.distance_m
            rows = (distance[:, place].tolist(), distance[place, :].tolist())
            self._rows[place] = rows
        return rows

    def _travel_rows(self, place: int) -> tuple[list[float], list[float]]:
        """Explicit travel minutes from every place to `place` and back, as lists (the travel
        matrix must give minutes)."""
        rows = self._time_rows.get(place)
        if rows is None:
            assert self.times is not None
            if len(self._time_rows) >= ROW_CACHE_SIZE:
                del self._time_rows[next(iter(self._time_rows))]
            rows = (self.times[:, place].tolist(), self.times[place, :].tolist())
            self._time_rows[place] = rows
        return rows

    def _lateness(self, info: _NeedInfo, day: int, start: int) -> float:
        """Minutes a visit starting then is late: against the on-time window that has opened and
        makes it least late (0 for a hard window, whose visits are never late)."""
        if not info.need.soft_window:
            return 0.0
        late_by = [
            max(0.0, start - (window_end - info.duration))
            for window_start, window_end in info.on_time[day]
            if window_start <= start
        ]
        return min(late_by, default=0.0)

    def _least_late_start(self, info: _NeedInfo, day: int, starts: list[Interval]) -> int:
        """Among the first minutes of the start intervals, the least late, earliest on ties.

        The first minute of an interval is its least late start, and every start lies in an
        interval of the window it is measured against, so no other start is less late.
        """
        if not info.need.soft_window:
            return starts[0][0]
        return min(
            (first for first, _ in starts),
            key=lambda first: (self._lateness(info, day, first), first),
        )

    # ------------------------------------------------------------- insertions

    def _start_intervals(
        self,
        info: _NeedInfo,
        helper: _Helper,
        state: _Day | None,
        day: int,
        position: int,
        minutes_in: float,
        minutes_out: float,
    ) -> list[Interval]:
        """Whole-minute start times at this position that keep every time rule, earliest first."""
        count = 0 if state is None else len(state.starts)
        after = -math.inf if state is None or position == 0 else state.ends[position - 1]
        before = math.inf if state is None or position == count else state.starts[position]
        duration = info.duration
        found: list[Interval] = []
        for window_start, window_end in helper.availability[day]:
            low = (
                window_start + minutes_in
                if position == 0
                else max(window_start, after + minutes_in)
            )
            high = (
                window_end - minutes_out
                if position == count
                else min(window_end, before - minutes_out)
            )
            if high - low < duration - EPS:
                continue
            for allowed_start, allowed_end in info.allowed[day]:
                first = math.ceil(max(low, allowed_start) - EPS)
                last = math.floor(min(high, allowed_end) - duration + EPS)
                if first <= last:
                    found.append((first, last))
        if not found:
            return found
        busy = self._busy_for(info, day)
        if busy:
            found = _subtract_busy(found, busy, duration)
        found.sort()
        return found

    def _positions(
        self, info: _NeedInfo, helper: _Helper, state: _Day | None
    ) -> list[tuple[float, int, float, float, float]]:
        """Positions whose new legs are short enough, by added metres: (added metres, position,
        minutes in, minutes out, added travel minutes)."""
        to_place, from_place = self._distance_rows(info.place)
        timed = self.times is not None
        if timed:
            minutes_to, minutes_from = self._travel_rows(info.place)
        limit, speed = helper.max_trip_m, helper.speed
        if state is None or not state.places:
            going, coming = to_place[helper.start_place], from_place[helper.home_place]
            if going > limit or coming > limit:
                return []
            if timed:
                there, back = minutes_to[helper.start_place], minutes_from[helper.home_place]
                return [(going + coming, 0, there, back, there + back)]
            return [(going + coming, 0, going / speed, coming / speed, (going + coming) / speed)]
        places, legs = state.places, state.legs
        count = len(places)
        result = []
        for position in range(count + 1):
            previous = helper.start_place if position == 0 else places[position - 1]
            following = helper.home_place if position == count else places[position]
            going, coming = to_place[previous], from_place[following]
            if going > limit or coming > limit:
                continue
            removed = legs[position] if legs[position] < FAR else 0.0
            added = going + coming - removed
            if timed:
                there, back = minutes_to[previous], minutes_from[following]
                removed_min = state.leg_minutes[position]
                removed_min = removed_min if math.isfinite(removed_min) else 0.0
                result.append((added, position, there, back, there + back - removed_min))
            else:
                result.append((added, position, going / speed, coming / speed, added / speed))
        result.sort()
        return result

    def _static_cost(
        self, info: _NeedInfo, volunteer: int, added_m: float, added_min: float
    ) -> float:
        """Points an insertion costs: travel, paid time, minus continuity and matches."""
        helper = self.helpers[volunteer]
        cost = self.weights.travel_per_km * added_m / 1000.0
        cost += helper.cost_per_hour * added_min / 60.0
        cost -= self.familiarity[info.recipient_index].get(volunteer, 0.0)
        need, person = info.need, helper.volunteer
        if need.preferred_gender is not None and person.gender == need.preferred_gender:
            cost -= self.parameters.gender_match_bonus
        if need.language is not None and need.language in person.languages:
            cost -= self.parameters.language_match_bonus
        return cost

    def _dynamic_cost(self, info: _NeedInfo, volunteer: int, added_min: float) -> float:
        """Points that depend on the plan so far: load above the mean, keeping one volunteer."""
        load, target = self.load[volunteer], self.target_load[volunteer]
        cost = self.weights.fairness * (
            max(0.0, load + added_min - target) - max(0.0, load - target)
        )
        if info.need.same_volunteer and volunteer in self.need_volunteers[info.index]:
            cost -= self.parameters.same_volunteer_bonus
        return cost

    def _has_room(self, info: _NeedInfo, helper: _Helper, state: _Day | None) -> bool:
        """Whether the volunteer's day has room for one more visit and its load."""
        if state is None:
            return helper.max_visits > 0 and info.need.load <= helper.capacity
        return (
            len(state.starts) < helper.max_visits
            and state.carried + info.need.load <= helper.capacity
        )

    def _single_option(self, info: _NeedInfo, volunteer: int, day: int) -> _Option | None:
        """The cheapest insertion of one visit into this volunteer's day: at the position adding
        the least travel, at its earliest start; with a soft window or explicit travel minutes,
        every position is weighed, lateness included, at its least late start."""
        helper = self.helpers[volunteer]
        state = self.days[volunteer][day]
        if not self._has_room(info, helper, state):
            return None
        if self.load[volunteer] + info.duration > helper.max_minutes + EPS:
            return None
        weigh_every_position = info.need.soft_window or self.times is not None
        best: _Option | None = None
        for added_m, position, minutes_in, minutes_out, added_travel in self._positions(
            info, helper, state
        ):
            starts = self._start_intervals(
                info, helper, state, day, position, minutes_in, minutes_out
            )
            if not starts:
                continue
            added_min = info.duration + added_travel
            cost = self._static_cost(info, volunteer, added_m, added_min)
            start, lateness = starts[0][0], 0.0
            if info.need.soft_window:
                start = self._least_late_start(info, day, starts)
                lateness = self._lateness(info, day, start)
                cost += self.weights.lateness_per_min * lateness
            if best is None or cost < best.cost:
                best = _Option(
                    day=day,
                    start=start,
                    volunteers=(volunteer,),
                    positions=(position,),
                    added_minutes=(added_min,),
                    cost=cost,
                    tie=(helper.rank, day),
                    lateness=lateness,
                )
            if not weigh_every_position:
                break
        return best

    def _member_choices(
        self, info: _NeedInfo, volunteer: int, day: int
    ) -> list[tuple[int, int, float, int, float]]:
        """Ways a volunteer can make a visit together with others (a team, a linked pair):
        (first, last start, cost without lateness, position, minutes)."""
        helper = self.helpers[volunteer]
        state = self.days[volunteer][day]
        if not self._has_room(info, helper, state):
            return []
        room = helper.max_minutes - self.load[volunteer] + EPS
        choices = []
        for added_m, position, minutes_in, minutes_out, added_travel in self._positions(
            info, helper, state
        ):
            added_min = info.duration + added_travel
            if added_min > room:
                continue
            cost = self._static_cost(info, volunteer, added_m, added_min)
            cost += self._dynamic_cost(info, volunteer, added_min)
            for first, last in self._start_intervals(
                info, helper, state, day, position, minutes_in, minutes_out
            ):
                choices.append((first, last, cost, position, added_min))
        return choices

    def _team_option(self, info: _NeedInfo, day: int) -> _Option | None:
        """The cheapest team of `team_size` among the best few candidates, at a common start."""
        size = info.team_size
        members = []
        for volunteer in info.candidates[: self.active[info.index]]:
            if day not in info.candidate_days[volunteer]:
                continue
            choices = self._member_choices(info, volunteer, day)
            if choices:
                cheapest = min(choice[2] for choice in choices)
                members.append((cheapest, self.helpers[volunteer].rank, volunteer, choices))
        if len(members) < size:
            return None
        members.sort(key=lambda member: (member[0], member[1]))
        shortlist = members[: max(size, self.parameters.team_candidates)]
        option = self._best_team(info, shortlist, size, day)
        if option is None and len(shortlist) < len(members):
            option = self._best_team(info, members, size, day)
        return option

    def _best_team(
        self,
        info: _NeedInfo,
        members: list[tuple[float, int, int, list[tuple[int, int, float, int, float]]]],
        size: int,
        day: int,
    ) -> _Option | None:
        """The cheapest combination of `size` members with a common start (lateness included),
        earliest on ties."""
        best: tuple[float, int, tuple[int, ...]] | None = None
        best_option: _Option | None = None
        for team in itertools.islice(itertools.combinations(members, size), MAX_TEAM_COMBINATIONS):
            for start in sorted({choice[0] for member in team for choice in member[3]}):
                picks = []
                for member in team:
                    fitting = [choice for choice in member[3] if choice[0] <= start <= choice[1]]
                    if not fitting:
                        break
                    picks.append(min(fitting, key=lambda choice: (choice[2], choice[3])))
                else:
                    lateness = self._lateness(info, day, start)
                    total = sum(pick[2] for pick in picks)
                    total += self.weights.lateness_per_min * lateness
                    ranks = tuple(member[1] for member in team)
                    if best is None or (total, start, ranks) < best:
                        best = (total, start, ranks)
                        best_option = _Option(
                            day=day,
                            start=start,
                            volunteers=tuple(member[2] for member in team),
                            positions=tuple(pick[3] for pick in picks),
                            added_minutes=tuple(pick[4] for pick in picks),
                            cost=total,
                            tie=(day,),
                            lateness=lateness,
                        )
        return best_option

    def _pair_members(
        self, info: _NeedInfo, day: int
    ) -> list[tuple[int, int, list[tuple[int, int, float, int, float]]]]:
        """The need's active candidates who can make its visit on `day`: (rank, volunteer,
        choices)."""
        members = []
        for volunteer in info.candidates[: self.active[info.index]]:
            if day not in info.candidate_days[volunteer]:
                continue
            choices = self._member_choices(info, volunteer, day)
            if choices:
                members.append((self.helpers[volunteer].rank, volunteer, choices))
        return members

    def _pair_option(self, info: _NeedInfo, day: int) -> _Option | None:
        """The cheapest linked pair on `day`: the leader's visit by one volunteer and its
        partner's by another, starting within the gap; each at its earliest start that allows
        the other's, lateness included."""
        partner = self.needs[info.partner]
        leaders = self._pair_members(info, day)
        followers = self._pair_members(partner, day) if leaders else []
        low, high = info.gap
        weight = self.weights.lateness_per_min
        best: tuple[float, int, int, tuple[int, int]] | None = None
        best_option: _Option | None = None
        for rank, volunteer, choices in leaders:
            for other_rank, other, other_choices in followers:
                if other == volunteer:
                    continue
                for first, last, cost, position, added_min in choices:
                    for (
                        other_first,
                        other_last,
                        other_cost,
                        other_position,
                        other_min,
                    ) in other_choices:
                        start = max(first, other_first - high)
                        if start > min(last, other_last - low):
                            continue
                        second = max(other_first, start + low)
                        lateness = self._lateness(info, day, start)
                        other_lateness = self._lateness(partner, day, second)
                        total = cost + other_cost + weight * (lateness + other_lateness)
                        key = (total, start, second, (rank, other_rank))
                        if best is not None and key >= best:
                            continue
                        best = key
                        best_option = _Option(
                            day=day,
                            start=start,
                            volunteers=(volunteer, other),
                            positions=(position, other_position),
                            added_minutes=(added_min, other_min),
                            cost=total,
                            tie=(day,),
                            lateness=max(lateness, other_lateness),
                            second_start=second,
                        )
        return best_option

    # ------------------------------------------------------------ the cache

    def _combined(self, info: _NeedInfo) -> bool:
        """Whether the need's visits are placed as one insertion over several volunteers' days
        (a team, or a linked pair), cached per day rather than per volunteer and day."""
        return info.team_size > 1 or info.partner >= 0

    def _activate(self, need: int, count: int) -> bool:
        """Let the first `count` candidates of the need (and of its partner, for a linked pair)
        compete; False if none were added."""
        info = self.needs[need]
        added = self._activate_candidates(info, info, count)
        if info.partner >= 0:
            added = self._activate_candidates(self.needs[info.partner], info, count) or added
        return added

    def _activate_candidates(self, info: _NeedInfo, owner: _NeedInfo, count: int) -> bool:
        """Let the first `count` candidates of `info` compete for the cached insertions of
        `owner` (the need itself, or the leader of its pair); False if none were added."""
        begin, end = self.active[info.index], min(count, len(info.candidates))
        if end <= begin:
            return False
        self.active[info.index] = end
        combined = self._combined(owner)
        for volunteer in info.candidates[begin:end]:
            for day in info.candidate_days[volunteer]:
                key: SlotKey = (-1, day) if combined else (volunteer, day)
                watcher = (owner.index, key)
                self.watch_day.setdefault((volunteer, day), set()).add(watcher)
                self.watch_recipient.setdefault((info.recipient_index, day), set()).add(watcher)
                if combined:
                    self.watch_load.setdefault(volunteer, set()).add(watcher)
                self.stale[owner.index].add(key)
        if combined:
            self.stale[owner.index].update(self.entries[owner.index])
        return True

    def _refresh(self, need: int) -> None:
        """Recompute the need's cached insertions whose day, recipient or week changed."""
        stale = self.stale[need]
        if not stale:
            return
        info, entries = self.needs[need], self.entries[need]
        for key in sorted(stale):
            volunteer, day = key
            if volunteer < 0 and info.partner >= 0:
                entries[key] = self._pair_option(info, day)
            elif volunteer < 0:
                entries[key] = self._team_option(info, day)
            else:
                entries[key] = self._single_option(info, volunteer, day)
        stale.clear()

    def _evaluate_with_expansion(self, need: int) -> tuple[_Option, float] | None:
        """Best option and regret, letting more candidates in while none can take the visit."""
        step = self.parameters.candidate_volunteers
        if self.wanted[need] == 0:
            self.wanted[need] = step
            self._activate(need, step)
        result = self._evaluate(need)
        while result is None and not self._out_of_time():
            self.wanted[need] += step
            if not self._activate(need, self.wanted[need]):
                break
            result = self._evaluate(need)
        return result

    def _evaluate(self, need: int) -> tuple[_Option, float] | None:
        """The need's cheapest feasible insertion now and its regret (second best minus best)."""
        self._refresh(need)
        info = self.needs[need]
        taken = self.need_days[need]
        gap = info.need.min_gap_days
        open_day = [all(abs(day - other) >= gap for other in taken) for day in DAYS]
        if info.partner >= 0:
            partner = self.needs[info.partner]
            gap = max(gap, partner.need.min_gap_days)
            for day in DAYS:
                open_day[day] = open_day[day] and all(
                    abs(day - other) >= partner.need.min_gap_days
                    for other in self.need_days[partner.index]
                )
        single = not self._combined(info)
        scored: list[tuple[float, tuple[int, ...], _Option]] = []
        for option in self.entries[need].values():
            if option is None or not open_day[option.day]:
                continue
            cost = option.cost
            if option.lateness > self.max_lateness:
                cost += self.weights.max_lateness_per_min * (option.lateness - self.max_lateness)
            if single:
                volunteer, added_min = option.volunteers[0], option.added_minutes[0]
                if self.load[volunteer] + added_min > self.helpers[volunteer].max_minutes + EPS:
                    continue
                cost += self._dynamic_cost(info, volunteer, added_min)
            scored.append((cost, option.tie, option))
        if not scored:
            return None
        later = self.remaining[need] - 1
        if gap > 1 and later > 0:
            option_days = sorted({entry[2].day for entry in scored})
            crowded = {
                day: not _room_for_the_rest([*taken, day], option_days, gap, later)
                for day in option_days
            }
            scored = [
                (cost + CROWDING_PENALTY if crowded[option.day] else cost, tie, option)
                for cost, tie, option in scored
            ]
        best_two = heapq.nsmallest(2, scored, key=lambda entry: (entry[0], entry[1]))
        regret = math.inf if len(best_two) == 1 else best_two[1][0] - best_two[0][0]
        return best_two[0][2], regret

    def _commit(self, need: int, option: _Option) -> None:
        """Put the visit (for a linked pair, both visits) into the plan and mark every cached
        insertion it affects as stale."""
        info = self.needs[need]
        if option.second_start >= 0:
            self._place(info, option.day, option.start, option.volunteers[:1], option.positions[:1])
            self._place(
                self.needs[info.partner],
                option.day,
                option.second_start,
                option.volunteers[1:],
                option.positions[1:],
            )
        else:
            self._place(info, option.day, option.start, option.volunteers, option.positions)
        touched: list[set[Watcher]] = []
        for volunteer in option.volunteers:
            touched.append(self.watch_day.get((volunteer, option.day), set()))
            touched.append(self.watch_load.get(volunteer, set()))
        touched.append(self.watch_recipient.get((info.recipient_index, option.day), set()))
        for watchers in touched:
            for other, key in watchers:
                if self.remaining[other] > 0:
                    self.stale[other].add(key)
        if self._combined(info) and self.remaining[need] > 0:
            self.stale[need].update(self.entries[need])

    def _place(
        self,
        info: _NeedInfo,
        day: int,
        start: int,
        volunteers: tuple[int, ...],
        positions: tuple[int, ...],
    ) -> None:
        """Insert one visit into its volunteers' days and record it in the plan."""
        end = start + info.duration
        for volunteer, position in zip(volunteers, positions, strict=True):
            self._insert(volunteer, day, position, start, end, info.place, info.need.load)
        self._mark_busy(info, day, start, end)
        self.need_days[info.index].append(day)
        self.need_volunteers[info.index].update(volunteers)
        self.remaining[info.index] -= 1
        lateness = self._lateness(info, day, start)
        self.max_lateness = max(self.max_lateness, lateness)
        ordered = sorted(volunteers)
        self.placed.append(
            _Placed(
                info.index,
                day,
                start,
                tuple(self.helpers[volunteer].volunteer.id for volunteer in ordered),
                lateness,
            )
        )

    # ------------------------------------------------------------- reasons

    def _open_days(self, need: int) -> tuple[int, ...]:
        """Days a further occurrence may still use: allowed, and far enough from the others."""
        info = self.needs[need]
        gap = info.need.min_gap_days
        return tuple(
            day
            for day in DAYS
            if info.allowed[day] and all(abs(day - other) >= gap for other in self.need_days[need])
        )

    def _reason(self, need: int) -> tuple[ReasonCode, str]:
        """Why the occurrence cannot be planned, as a code and a specific sentence (cached)."""
        key = (need, self._open_days(need))
        if key not in self._reasons:
            code, detail = self._diagnose(need, key[1])
            info = self.needs[need]
            if info.partner >= 0 and code == "volunteers_full":
                partner = self.needs[info.partner]
                partner_code, partner_detail = self._diagnose(
                    partner.index, self._open_days(partner.index)
                )
                if partner_code != "volunteers_full":
                    code = partner_code
                    detail = f"Its linked need {partner.need.id!r}: {partner_detail}"
                else:
                    detail += (
                        f" It goes together with need {partner.need.id!r}, by another volunteer "
                        f"{self._gap_words(info.gap)}, and no such pair fits."
                    )
            self._reasons[key] = (code, f"{REASON_MESSAGES[code]} {detail}".strip())
        return self._reasons[key]

    @staticmethod
    def _gap_words(gap: Interval) -> str:
        """'at the same time', '30 to 60 minutes later' or 'at least 30 minutes later'."""
        low, high = gap
        if low == high == 0:
            return "at the same time"
        if high >= NO_GAP_LIMIT:
            return f"at least {low} minutes later"
        return f"{low} to {high} minutes later"

    def _diagnose(self, need: int, open_days: tuple[int, ...]) -> tuple[ReasonCode, str]:
        """The first of: nobody qualified, no shared window, too far; else everyone is full."""
        info = self.needs[need]
        size = info.team_size
        eligible = self._eligible_mask(info) if self.helpers else np.zeros(0, dtype=bool)
        if int(eligible.sum()) < size:
            return "no_qualified_volunteer", self._unqualified_detail(info, int(eligible.sum()))
        if self.helpers:
            eligible = eligible & (self.arrays.capacities >= info.need.load)
            if int(eligible.sum()) < size:
                return (
                    "no_qualified_volunteer",
                    f"Its load of {info.need.load} is more than the qualified volunteers can "
                    "carry in a day.",
                )

        sharing = {day: eligible & self._shares_window(info, day) for day in open_days}
        sharing = {day: mask for day, mask in sharing.items() if int(mask.sum()) >= size}
        if not sharing:
            if self.need_days[need] and not open_days:
                detail = "The other visits of this need leave no day far enough apart."
            else:
                days = ", ".join(WEEKDAYS[day] for day in open_days) or "none"
                detail = f"Days the visit can take place: {days}."
            return "no_shared_window", detail

        arrays = self.arrays
        going = self.travel.distance_m[arrays.start_places, info.place]
        coming = self.travel.distance_m[info.place, arrays.home_places]
        short_trips = (going <= arrays.trip_limits) & (coming <= arrays.trip_limits)
        minutes_there, minutes_back = self._minutes_there_and_back(info.place)
        there, back = minutes_there[:, None], minutes_back[:, None]
        could_come = np.zeros(len(self.helpers), dtype=bool)
        enough = False
        for day, mask in sharing.items():
            reaches = np.zeros(len(self.helpers), dtype=bool)
            for allowed_start, allowed_end in info.allowed[day]:
                earliest = np.maximum(arrays.window_starts[day] + there, allowed_start)
                latest = np.minimum(arrays.window_ends[day] - back, allowed_end)
                reaches |= (earliest + info.duration <= latest + EPS).any(axis=1)
            able = mask & short_trips & reaches
            could_come |= able
            enough = enough or int(able.sum()) >= size
        if not enough:
            free_then = np.logical_or.reduce(list(sharing.values()))
            nearest = float(going[free_then].min())
            detail = (
                f"The nearest one free then starts {nearest / 1000:.1f} km away."
                if math.isfinite(nearest)
                else ""
            )
            return "too_far", detail
        names = [self.helpers[index].volunteer.id for index in np.flatnonzero(could_come)]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        return "volunteers_full", f"Could come: {shown}."

    def _unqualified_detail(self, info: _NeedInfo, allowed_count: int) -> str:
        """Name what is missing: a skill, verification, a background check, or exclusions."""
        service, recipient = info.service, info.recipient
        if recipient.kind not in service.recipient_kinds:
            return f"The service {service.id!r} is not offered to a {recipient.kind}."
        everyone = [helper.volunteer for helper in self.helpers]
        skilled = [v for v in everyone if set(service.required_skills) <= set(v.skills)]
        if not skilled:
            known = {skill for volunteer in everyone for skill in volunteer.skills}
            missing = sorted(set(service.required_skills) - known) or sorted(
                service.required_skills
            )
            return f"Nobody has the skill(s): {', '.join(missing)}."
        if service.requires_verified:
            skilled = [volunteer for volunteer in skilled if volunteer.verified]
            if not skilled:
                if not service.required_skills:
                    return "No volunteer is verified, and this service needs a verified one."
                return "None of the volunteers with the skills is verified."
        if recipient.kind == "child":
            skilled = [volunteer for volunteer in skilled if volunteer.background_checked]
            if not skilled:
                return "None of them has the background check needed to visit a child."
        if allowed_count == 0:
            return "The recipient has excluded every qualified volunteer."
        return f"It needs a team of {info.team_size} but only {allowed_count} volunteer(s) qualify."

    # ------------------------------------------------------------- results

    def results(self) -> tuple[list[Visit], list[UnassignedVisit]]:
        """The visits with occurrence numbers in day order, then the unplanned occurrences."""
        per_need: dict[int, list[_Placed]] = {}
        for placed in self.placed:
            per_need.setdefault(placed.need, []).append(placed)
        visits: list[Visit] = []
        planned_count = [0] * len(self.needs)
        for need, items in per_need.items():
            info = self.needs[need]
            items.sort(key=lambda item: (item.day, item.start, item.volunteers))
            for number, item in enumerate(items, start=1):
                day = WEEKDAYS[item.day]
                visits.append(
                    Visit(
                        need=info.need.id,
                        recipient=info.recipient.id,
                        service=info.service.id,
                        occurrence=number,
                        day=day,
                        date=self.problem.date_of(day),
                        start=item.start,
                        end=item.start + info.duration,
                        volunteers=list(item.volunteers),
                    )
                )
            planned_count[need] = len(items)
        visits.sort(
            key=lambda visit: (WEEKDAYS.index(visit.day), visit.start, visit.need, visit.occurrence)
        )

        unassigned: list[UnassignedVisit] = []
        for need, code, message in sorted(self.dropped, key=lambda item: item[0]):
            info = self.needs[need]
            planned_count[need] += 1
            unassigned.append(
                UnassignedVisit(
                    need=info.need.id,
                    recipient=info.recipient.id,
                    service=info.service.id,
                    occurrence=planned_count[need],
                    reason=code,
                    message=message,
                )
            )
        return visits, unassigned

    def objective(self) -> float:
        """coverage x priority per visit - travel_per_km x km + familiarity per volunteer
        - fairness x minutes of load above the offered share - paid hours x cost per hour
        - lateness_per_min x minutes late - max_lateness_per_min x the largest lateness."""
        weights = self.weights
        value = 0.0
        for placed in self.placed:
            info = self.needs[placed.need]
            value += weights.coverage * info.priority
            familiar = self.familiarity[info.recipient_index]
            value += sum(
                familiar.get(self.volunteer_index[volunteer], 0.0)
                for volunteer in placed.volunteers
            )
        metres = sum(sum(state.legs) for days in self.days for state in days if state is not None)
        value -= weights.travel_per_km * metres / 1000.0
        total_load = sum(self.load)
        value -= weights.fairness * sum(
            max(0.0, load - share * total_load)
            for load, share in zip(self.load, self.shares, strict=True)
            if share > 0
        )
        value -= sum(
            helper.cost_per_hour * load / 60.0
            for helper, load in zip(self.helpers, self.load, strict=True)
        )
        value -= weights.lateness_per_min * sum(placed.lateness for placed in self.placed)
        value -= weights.max_lateness_per_min * max(
            (placed.lateness for placed in self.placed), default=0.0
        )
        return value


class GreedySolver:
    """`greedy` behind the solver protocol (`matcher.solvers.base.Solver`)."""

    name = "greedy"
    parameters_type = GreedyParameters

    def solve(
        self,
        problem: Problem,
        travel: TravelModel,
        parameters: BaseModel,
        *,
        seed: int,
        time_limit_s: float | None,
        warm_start: Plan | None,
        language: str,
    ) -> Plan:
        from matcher.solvers.base import reassemble

        assert isinstance(parameters, GreedyParameters)
        plan = solve_greedy(
            problem, travel, seed=seed, time_limit_s=time_limit_s, parameters=parameters
        )
        return reassemble(problem, travel, plan, parameters, language)
