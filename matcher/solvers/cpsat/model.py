"""The CP-SAT model of a week (or of a neighbourhood of a plan), built in named steps.

Decisions: for each need and allowed day, whether a visit happens (`present`), when it starts
(`start`) and which volunteers make it (`assigned`, as many as the service's team size, all
starting together). Each of a volunteer's outings (`matcher.rules.outings`: the day's windows
merged where they touch) is a circuit from the start place through its visits and back home
(AddCircuit), with the travel time between consecutive stops, so travel is exact, not a buffer.

Every fact comes from `matcher.rules`: who qualifies and when a visit may start (`NeedFacts`,
`shared_starts`, `reachable_starts`), the outings, the gap between days (`far_enough`,
`too_close`), lateness (`NeedFacts.lateness`), the hourly cost, the walk of a fixed outing. The
steps, in order (`_WeekBuilder.build`): options per need-day, group sessions (when asked:
`matcher.solvers.cpsat.sessions`, whose staff and escort stops join the outings' circuits and
whose seats join the recipients' days), assignment, gaps, dependencies, recipient overlaps,
routing arcs per outing, weekly minutes, objective terms.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from ortools.sat.python import cp_model

from matcher.models import WEEKDAYS, Problem, Visit, offered_shares
from matcher.models.limits import MAX_WEEK_MIN
from matcher.rules import (
    Intervals,
    NeedFacts,
    PlanIndex,
    far_enough,
    hourly_cost,
    intersect,
    need_facts,
    normalise,
    outing_index,
    outings_by_day,
    reachable_starts,
    shared_starts,
    start_set,
    too_close,
    walk_outing,
)
from matcher.rules.intervals import ceil_minutes
from matcher.solvers.cpsat.lateness import LatenessCache, add_lateness, lateness_pieces
from matcher.travel import TravelModel

if TYPE_CHECKING:
    from matcher.solvers.cpsat.sessions import SessionPart, SessionScope

SCALE = 100
"""Objective points are multiplied by this and rounded, because CP-SAT needs integers."""
COVERAGE_SCALE = 1000
"""The coverage objective counts priority in thousandths."""
FAIRNESS_SHARE_SCALE = 1000
"""Offered shares enter the fairness constraints as whole thousandths."""
HUNDREDTHS = 100
"""Weekly minutes and outing distances are counted in hundredths, each leg rounded up, so the
model never undercounts what the checker adds up exactly."""
WEEK_HUNDREDTHS = 2 * MAX_WEEK_MIN * HUNDREDTHS
"""More hundredths of a minute than anyone's week can hold (rounding up included): a week of the
longest planning days, twice."""

Key = tuple[str, int]
"""(need id, weekday index): one possible visit."""
OutingKey = tuple[str, int, int]
"""(volunteer id, weekday index, outing index): one outing of a volunteer."""
Arc = tuple[Key | None, Key | None, cp_model.IntVar]
"""A leg of an outing: from a visit (None: the start place) to a visit (None: home)."""


@dataclass
class Option:
    """A possible visit of a need on a day."""

    need: str
    day: int
    present: cp_model.IntVar
    start: cp_model.IntVar
    duration: int
    place: int
    mandatory: bool
    starts: dict[str, Intervals]
    """volunteer id -> the starts at which they may make this visit."""
    assigned: dict[str, cp_model.IntVar] = field(default_factory=dict)


@dataclass
class _Stop:
    """A visit on a volunteer's day: optional (an option) or fixed (an existing visit)."""

    key: Key
    start: cp_model.LinearExprT
    duration: int
    place: int
    presence: cp_model.IntVar | None
    """None for a fixed visit: always there."""
    starts: Intervals
    extra_m: float = 0.0
    """Metres walked within the stop (an escort's walk to the venue and back)."""


@dataclass
class WeekModel:
    """The CP-SAT model of a week (or of a neighbourhood of a plan), ready to solve."""

    model: cp_model.CpModel
    options: dict[Key, Option]
    coverage: cp_model.LinearExprT
    """Thousandths of priority of the new visits (`COVERAGE_SCALE`)."""
    coverage_rounding: float
    """How much rounding priorities to thousandths can understate the new visits' coverage: add
    it to a bound on `coverage` to bound the true weighted coverage."""
    mandatory: cp_model.LinearExprT
    """New visits of mandatory needs."""
    mandatory_possible: int
    """At most this many new visits of mandatory needs fit the options."""
    objective: cp_model.LinearExprT
    outings: dict[str, dict[int, Intervals]]
    arcs: dict[OutingKey, list[Arc]]
    fixed_visits: list[Visit]
    fixed_coverage: int
    """Thousandths of priority of the fixed visits."""
    fixed_mandatory: int
    """Fixed visits of mandatory needs."""
    idle: dict[OutingKey, cp_model.IntVar] = field(default_factory=dict)
    in_outing: dict[tuple[str, int, str, int], cp_model.IntVar] = field(default_factory=dict)
    """(need, day, volunteer, outing index) -> the volunteer makes the visit in that outing,
    where the visit could fall in more than one."""
    serves: dict[tuple[str, str], cp_model.IntVar] = field(default_factory=dict)
    sessions: SessionPart | None = None
    """The group sessions the model decides (`matcher.solvers.cpsat.sessions`); None: the
    model plans home visits only."""
    seats: cp_model.LinearExprT = 0
    """The seats' worth in thousandths of a visit of priority 1 (`COVERAGE_SCALE`), for the
    phase that maximises coverage and seats together; 0 without sessions."""


class BuildTimeout(RuntimeError):
    """The model could not be built before the deadline given to `build_week_model`."""


class ModelTooLarge(BuildTimeout):
    """The model's estimated memory is over the budget given to `build_week_model`: refused
    before its routing arcs, the bulk of it, are allocated."""

    def __init__(self, estimate_mib: float, budget_mib: float) -> None:
        super().__init__(
            f"the model of the week would take about {estimate_mib:.0f} MiB, over the memory "
            f"budget of {budget_mib:.0f} MiB"
        )
        self.estimate_mib = estimate_mib
        self.budget_mib = budget_mib


BYTES_PER_ARC = 2400
"""Memory a routing arc of an outing costs, built and solved (the model, its proto and CP-SAT's
copy): calibrated on examples/community.json, about a million arcs and 2.3 GiB."""
BYTES_PER_CANDIDATE = 4096
"""Memory of one (visit, volunteer) candidate: its literal, start constraints and terms."""


def estimated_memory_mib(
    options: dict[Key, Option], other_stops: dict[tuple[str, int], int] | None = None
) -> float:
    """The memory the model of these options will take, in MiB: each volunteer-day with n
    candidate visits (and `other_stops`: session and escort stops) has up to n * n + 2 n arcs
    (`BYTES_PER_ARC`), and every candidate its own variables (`BYTES_PER_CANDIDATE`)."""
    per_day: dict[tuple[str, int], int] = defaultdict(int)
    for option in options.values():
        for volunteer_id in option.starts:
            per_day[(volunteer_id, option.day)] += 1
    for pair, count in (other_stops or {}).items():
        per_day[pair] += count
    arcs = sum(count * count + 2 * count for count in per_day.values())
    candidates = sum(per_day.values())
    return (arcs * BYTES_PER_ARC + candidates * BYTES_PER_CANDIDATE) / 2**20


def weighted(terms: list[tuple[Any, int]]) -> cp_model.LinearExprT:
    """sum(coefficient * expression) built at once (much faster than adding term by term)."""
    return cp_model.LinearExpr.weighted_sum(
        [expression for expression, _ in terms], [coefficient for _, coefficient in terms]
    )


def domain_of(intervals: Intervals) -> cp_model.Domain:
    """A CP-SAT domain of whole minutes."""
    return cp_model.Domain.from_intervals([[low, high] for low, high in intervals])


def build_week_model(
    problem: Problem,
    travel: TravelModel,
    *,
    facts: dict[str, NeedFacts] | None = None,
    fixed_visits: list[Visit] | None = None,
    free_pairs: set[tuple[str, int]] | None = None,
    prune_by_reach: bool = False,
    keep_possible: list[Visit] | None = None,
    pair_needs: dict[tuple[str, int], set[str]] | None = None,
    include_fairness: bool = True,
    weights_scale: int = SCALE,
    lateness_cache: LatenessCache | None = None,
    deadline: float | None = None,
    outings: dict[str, dict[int, Intervals]] | None = None,
    max_memory_mib: float | None = None,
    stop: Callable[[], bool] | None = None,
    sessions: SessionScope | None = None,
) -> WeekModel:
    """Build the model.

    Parameters:
        facts: the needs' facts (computed when None).
        fixed_visits: visits that stay exactly as they are (pinned ones, or the part of a plan
            a neighbourhood leaves alone).
        free_pairs: the (volunteer id, weekday index) days new visits may use; all when None.
        prune_by_reach: offer a visit only to volunteers who could make it as an outing of its
            own (smaller models; may lose chains of visits far from the start place).
        keep_possible: visits (of the plan being re-optimised) that stay representable
            whatever the pruning, so the model can always give back the plan it started from.
        pair_needs: when given, the needs each free volunteer-day may take on besides its kept
            visits, to keep neighbourhoods small.
        include_fairness: add the fairness term (the neighbourhoods of LNS leave it out).
        weights_scale: objective points are multiplied by this before rounding.
        lateness_cache: lateness pieces shared by the models of one search.
        deadline: a `time.perf_counter()` value; past it the build gives up (BuildTimeout), so
            that a huge week never keeps a solver past its time limit.
        outings: every volunteer's `outings_by_day` (computed when None; a search passes its
            own to every model).
        max_memory_mib: the memory budget: once the options are known, a model estimated
            (`estimated_memory_mib`) over it is refused (`ModelTooLarge`) before its arcs are
            allocated; None: no budget.
        stop: the caller's request to stop (`SolveRequest.stop_requested`): asked with the
            clock, it gives up the build the same way.
        sessions: which group sessions the model decides and which stay fixed
            (`matcher.solvers.cpsat.sessions.SessionScope`); None: home visits only.
    """
    builder = _WeekBuilder(
        problem,
        travel,
        facts if facts is not None else need_facts(problem, travel),
        fixed_visits=list(fixed_visits or []),
        free_pairs=free_pairs,
        prune_by_reach=prune_by_reach,
        keep_possible=keep_possible or [],
        pair_needs=pair_needs,
        include_fairness=include_fairness,
        weights_scale=weights_scale,
        lateness_cache=lateness_cache,
        deadline=deadline,
        outings=outings,
        max_memory_mib=max_memory_mib,
        stop=stop,
        sessions=sessions,
    )
    return builder.build()


class _WeekBuilder:
    """Builds a `WeekModel` one named step at a time."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        facts: dict[str, NeedFacts],
        *,
        fixed_visits: list[Visit],
        free_pairs: set[tuple[str, int]] | None,
        prune_by_reach: bool,
        keep_possible: list[Visit],
        pair_needs: dict[tuple[str, int], set[str]] | None,
        include_fairness: bool,
        weights_scale: int,
        lateness_cache: LatenessCache | None,
        deadline: float | None = None,
        outings: dict[str, dict[int, Intervals]] | None = None,
        max_memory_mib: float | None = None,
        stop: Callable[[], bool] | None = None,
        sessions: SessionScope | None = None,
    ) -> None:
        self.deadline = deadline
        self.session_scope = sessions
        self.sessions: SessionPart | None = None
        self.stop = stop
        self.max_memory_mib = max_memory_mib
        self.problem = problem
        self.travel = travel
        self.facts = facts
        self.fixed_visits = fixed_visits
        self.fixed = PlanIndex.of(fixed_visits)
        self.free_pairs = free_pairs
        self.prune_by_reach = prune_by_reach
        self.kept = {(visit.need, WEEKDAYS.index(visit.day)): visit for visit in keep_possible}
        self.pair_needs = pair_needs
        self.include_fairness = include_fairness
        self.weights_scale = weights_scale
        self.lateness_cache = lateness_cache
        self.weights = problem.policy.weights
        self.model = cp_model.CpModel()
        self.true = self.model.new_constant(1)
        self.outings = (
            outings
            if outings is not None
            else {volunteer.id: outings_by_day(volunteer) for volunteer in problem.volunteers}
        )
        self.options: dict[Key, Option] = {}
        self.options_by_need: dict[str, list[Option]] = defaultdict(list)
        self.arcs: dict[OutingKey, list[Arc]] = {}
        self.idle: dict[OutingKey, cp_model.IntVar] = {}
        self.in_outing: dict[tuple[str, int, str, int], cp_model.IntVar] = {}
        self.serves: dict[tuple[str, str], cp_model.IntVar] = {}
        self.travel_costs: list[tuple[cp_model.IntVar, int]] = []
        """(arc, points of its distance) for the travel term."""
        self.load_terms: dict[str, list[tuple[Any, int]]] = defaultdict(list)
        """volunteer id -> (literal, hundredths of a minute): visit minutes and every leg."""
        self.fixed_load: dict[str, float] = defaultdict(float)
        """volunteer id -> minutes of their fixed days outside the model."""
        self.loads: dict[str, cp_model.IntVar] = {}
        """volunteer id -> hundredths of a minute they spend in the model (visits and legs)."""

    def build(self) -> WeekModel:
        for step in (
            self.add_options,
            self.add_sessions,
            self.add_assignment,
            self.add_gaps,
            self.add_dependencies,
            self.add_recipient_overlaps,
            self.add_outing_routes,
            self.add_weekly_minutes,
        ):
            step()
            self.check_time()
            if step == self.add_sessions:
                self.check_memory()
        return self.objective_terms()

    def check_memory(self) -> None:
        """Refuse a model whose estimated memory is over the budget (`ModelTooLarge`)."""
        if self.max_memory_mib is None:
            return
        other = self.sessions.stop_counts() if self.sessions is not None else None
        estimate = estimated_memory_mib(self.options, other)
        if estimate > self.max_memory_mib:
            raise ModelTooLarge(estimate, self.max_memory_mib)

    def check_time(self) -> None:
        """Give up once past the deadline."""
        if self.deadline is not None and time.perf_counter() > self.deadline:
            raise BuildTimeout("the model of the week could not be built in time")
        if self.stop is not None and self.stop():
            raise BuildTimeout("the caller stopped the solve while the model was being built")

    # --- step 1: options per need-day ----------------------------------------------------

    def pair_is_free(self, volunteer_id: str, day: int) -> bool:
        return self.free_pairs is None or (volunteer_id, day) in self.free_pairs

    def candidate_starts(self, need: NeedFacts, day: int, volunteer_id: str) -> Intervals:
        """The starts at which this volunteer may make a visit of the need on this day: inside
        the need's windows and one of their outings (reachable alone, when pruning)."""
        if not self.pair_is_free(volunteer_id, day):
            return []
        previous = self.kept.get((need.need.id, day))
        is_kept = previous is not None and volunteer_id in previous.volunteers
        if (
            self.pair_needs is not None
            and not is_kept
            and need.need.id not in self.pair_needs.get((volunteer_id, day), set())
        ):
            return []
        outings = self.outings[volunteer_id].get(day, [])
        if not outings:
            return []
        volunteer = self.problem.volunteer_by_id[volunteer_id]
        if self.prune_by_reach:
            starts = reachable_starts(self.travel, need, volunteer, day, outings)
        else:
            starts = shared_starts(need, day, outings)
        if is_kept and previous is not None:
            starts = normalise([*starts, (previous.start, previous.start)])
        return starts

    def add_options(self) -> None:
        """A possible visit for each need and day with enough candidates for a team, on the
        days still far enough from the need's fixed visits."""
        for need_id, need in sorted(self.facts.items()):
            self.check_time()
            fixed_days = self.fixed.need_days(need_id)
            if need.need.visits_per_week - len(fixed_days) <= 0:
                continue
            for day in sorted(need.late_windows_by_day):
                if not far_enough(day, fixed_days, need.need.min_gap_days) or not need.starts(day):
                    continue
                candidates = {
                    volunteer_id: starts
                    for volunteer_id in need.qualified
                    if (starts := self.candidate_starts(need, day, volunteer_id))
                }
                if len(candidates) < need.service.team_size:
                    continue
                union = normalise(interval for spans in candidates.values() for interval in spans)
                option = Option(
                    need=need_id,
                    day=day,
                    present=self.model.new_bool_var(f"present[{need_id},{day}]"),
                    start=self.model.new_int_var_from_domain(
                        domain_of(union), f"start[{need_id},{day}]"
                    ),
                    duration=need.duration,
                    place=need.place,
                    mandatory=need.need.mandatory,
                    starts=dict(sorted(candidates.items())),
                )
                self.options[(need_id, day)] = option
                self.options_by_need[need_id].append(option)

    # --- step 1b: group sessions ---------------------------------------------------------

    def add_sessions(self) -> None:
        """Candidate sessions with their staff, seats and escorts, and the rules among them
        (`matcher.solvers.cpsat.sessions`); their stops join the volunteers' outings and their
        seats the attendees' days in the later steps."""
        if self.session_scope is None or not self.problem.has_sessions:
            return
        from matcher.solvers.cpsat.sessions import SessionPart

        self.sessions = SessionPart(self, self.session_scope)
        self.sessions.build()

    # --- step 2: assignment --------------------------------------------------------------

    def add_assignment(self) -> None:
        """A team of the service's size on each planned visit, each member at a start they
        may take."""
        for option in self.options.values():
            for volunteer_id, starts in option.starts.items():
                assigned = self.model.new_bool_var(
                    f"assigned[{option.need},{option.day},{volunteer_id}]"
                )
                self.model.add_implication(assigned, option.present)
                self.model.add_linear_expression_in_domain(
                    option.start, domain_of(starts)
                ).only_enforce_if(assigned)
                option.assigned[volunteer_id] = assigned
            team = self.facts[option.need].service.team_size
            self.model.add(sum(option.assigned.values()) == team * option.present)

    # --- step 3: visits a week and the gap between days ----------------------------------

    def add_gaps(self) -> None:
        """At most the visits a week still missing, no two on days too close."""
        for need_id, need_options in self.options_by_need.items():
            need = self.facts[need_id]
            remaining = need.need.visits_per_week - len(self.fixed.need_days(need_id))
            self.model.add(sum(option.present for option in need_options) <= remaining)
            for index, first in enumerate(need_options):
                for second in need_options[index + 1 :]:
                    if too_close(first.day, second.day, need.need.min_gap_days):
                        self.model.add_bool_or([first.present.Not(), second.present.Not()])

    # --- step 4: linked needs ------------------------------------------------------------

    def add_dependencies(self) -> None:
        """Linked needs: both visited on the same days or neither, the second starting within
        its gap of the first, by different volunteers."""
        fixed_by_key = {
            (visit.need, WEEKDAYS.index(visit.day)): visit for visit in self.fixed_visits
        }
        model = self.model
        for link in self.problem.dependencies:
            low, high = link.min_gap_min, link.max_gap_min
            if link.kind == "simultaneous":
                low, high = 0, 0
            for day in range(7):
                first = self.options.get((link.first, day))
                second = self.options.get((link.second, day))
                if first is None and second is None:
                    continue
                first_fixed = fixed_by_key.get((link.first, day))
                second_fixed = fixed_by_key.get((link.second, day))
                first_present: Any = first.present if first else int(first_fixed is not None)
                second_present: Any = second.present if second else int(second_fixed is not None)
                if first is not None:
                    model.add(first.present == second_present)
                if second is not None:
                    model.add(second.present == first_present)
                first_start: Any = first.start if first else (first_fixed and first_fixed.start)
                second_start: Any = (
                    second.start if second else (second_fixed and second_fixed.start)
                )
                if first_start is None or second_start is None:
                    continue
                enforce = [option.present for option in (first, second) if option is not None]
                model.add(second_start - first_start >= low).only_enforce_if(enforce)
                if high is not None:
                    model.add(second_start - first_start <= high).only_enforce_if(enforce)
                first_team = (
                    set(first.assigned)
                    if first
                    else set(first_fixed.volunteers if first_fixed else [])
                )
                second_team = (
                    set(second.assigned)
                    if second
                    else set(second_fixed.volunteers if second_fixed else [])
                )
                for volunteer_id in sorted(first_team & second_team):
                    first_on: Any = first.assigned[volunteer_id] if first else 1
                    second_on: Any = second.assigned[volunteer_id] if second else 1
                    model.add(first_on + second_on <= 1)

    # --- step 5: one visit at a time at a recipient's ------------------------------------

    def add_recipient_overlaps(self) -> None:
        """A recipient receives one visit at a time (linked visits excepted: they may overlap),
        and is never visited while away at a session (nor in two sessions at once)."""
        linked = {(link.first, link.second) for link in self.problem.dependencies}
        linked |= {(second, first) for first, second in linked}
        by_recipient_day: dict[tuple[str, int], list[tuple[str, cp_model.IntervalVar]]] = (
            defaultdict(list)
        )
        for option in self.options.values():
            recipient = self.facts[option.need].recipient.id
            by_recipient_day[(recipient, option.day)].append(
                (
                    option.need,
                    self.model.new_optional_fixed_size_interval_var(
                        option.start,
                        option.duration,
                        option.present,
                        f"at[{option.need},{option.day}]",
                    ),
                )
            )
        if self.sessions is not None:
            # Seats (labelled apart from every need, so never linked) and fixed seats' spans.
            for (recipient, day), seats in self.sessions.seat_intervals.items():
                by_recipient_day[(recipient, day)].extend(seats)
        for (recipient, day), intervals in by_recipient_day.items():
            for visit in self.fixed.by_recipient_day.get((recipient, day), []):
                intervals.append(
                    (
                        visit.need,
                        self.model.new_fixed_size_interval_var(
                            visit.start, visit.end - visit.start, "fixed"
                        ),
                    )
                )
            if len(intervals) < 2:
                continue
            if not any((a, b) in linked for a, _ in intervals for b, _ in intervals):
                self.model.add_no_overlap([interval for _, interval in intervals])
                continue
            for index, (first_need, first_interval) in enumerate(intervals):
                for second_need, second_interval in intervals[index + 1 :]:
                    if (first_need, second_need) not in linked:
                        self.model.add_no_overlap([first_interval, second_interval])

    # --- step 6: routing arcs per outing -------------------------------------------------

    def add_outing_routes(self) -> None:
        """Each volunteer-day's visits fall into its outings; each outing is a circuit from the
        start place, through its visits, back home. Visits a day and capacity count the whole
        day; a fixed day outside the model only adds its minutes."""
        options_by_pair: dict[tuple[str, int], list[Option]] = defaultdict(list)
        for option in self.options.values():
            for volunteer_id in option.assigned:
                options_by_pair[(volunteer_id, option.day)].append(option)
        session_stops = self.sessions.stops if self.sessions is not None else {}
        fixed_session_stops = self.sessions.fixed_stops if self.sessions is not None else {}
        pairs = set(options_by_pair) | set(self.fixed.by_volunteer_day)
        pairs |= set(session_stops) | set(fixed_session_stops)
        for volunteer_id, day in sorted(pairs):
            self.check_time()
            fixed_here = self.fixed.volunteer_day(volunteer_id, day)
            if not self.pair_is_free(volunteer_id, day) or (
                (volunteer_id, day) not in options_by_pair
                and (volunteer_id, day) not in session_stops
            ):
                self.fixed_load[volunteer_id] += self.fixed_day_minutes(
                    volunteer_id, day, fixed_here
                )
                continue
            stops = [
                _Stop(
                    key=(option.need, day),
                    start=option.start,
                    duration=option.duration,
                    place=option.place,
                    presence=option.assigned[volunteer_id],
                    starts=option.starts[volunteer_id],
                )
                for option in options_by_pair[(volunteer_id, day)]
            ]
            stops.extend(
                _Stop(
                    key=(visit.need, day),
                    start=visit.start,
                    duration=visit.end - visit.start,
                    place=self.travel.recipient_place[visit.recipient],
                    presence=None,
                    starts=[(visit.start, visit.start)],
                )
                for visit in fixed_here
            )
            stops.extend(session_stops.get((volunteer_id, day), []))
            stops.extend(fixed_session_stops.get((volunteer_id, day), []))
            self.route_day(volunteer_id, day, stops)

    def fixed_day_minutes(self, volunteer_id: str, day: int, visits: list[Visit]) -> float:
        """Visit and travel minutes of a fixed day: each outing walked from the start place
        through its visits (and fixed session stops) and home."""
        volunteer = self.problem.volunteer_by_id[volunteer_id]
        outings = self.outings[volunteer_id].get(day, [])
        if self.sessions is not None and (volunteer_id, day) in self.sessions.fixed_stops:
            return self.sessions.fixed_day_minutes(volunteer_id, day, visits)
        by_outing: dict[int | None, list[Visit]] = defaultdict(list)
        for visit in visits:
            by_outing[outing_index(outings, visit.start, visit.end)].append(visit)
        minutes = 0.0
        for outing_visits in by_outing.values():
            places = [self.travel.recipient_place[visit.recipient] for visit in outing_visits]
            minutes += walk_outing(self.travel, volunteer, places).travel_min
            minutes += sum(visit.end - visit.start for visit in outing_visits)
        return minutes

    def route_day(self, volunteer_id: str, day: int, stops: list[_Stop]) -> None:
        """Put each stop in one outing of the day, route every outing, bound the day."""
        model = self.model
        outings = self.outings[volunteer_id][day]
        members: dict[int, list[tuple[_Stop, Any, Intervals]]] = defaultdict(list)
        for stop in stops:
            presence: Any = stop.presence if stop.presence is not None else self.true
            if stop.presence is None:
                index = outing_index(outings, stop.starts[0][0], stop.starts[0][0] + stop.duration)
                fitting = [] if index is None else [(index, stop.starts)]
            else:
                fitting = [
                    (index, starts)
                    for index, span in enumerate(outings)
                    if (starts := intersect(stop.starts, start_set([span], stop.duration)))
                ]
            if not fitting:
                model.add(presence == 0)
                continue
            if len(fitting) == 1:
                index, starts = fitting[0]
                members[index].append((stop, presence, starts))
                continue
            chosen = []
            for index, starts in fitting:
                inside = model.new_bool_var("")
                self.in_outing[(stop.key[0], day, volunteer_id, index)] = inside
                model.add_linear_expression_in_domain(
                    stop.start, domain_of(starts)
                ).only_enforce_if(inside)
                members[index].append((stop, inside, starts))
                chosen.append(inside)
            model.add(sum(chosen) == presence)
        for index, outing_stops in sorted(members.items()):
            self.route_outing(volunteer_id, day, index, outing_stops)
        for stop in stops:
            presence = stop.presence if stop.presence is not None else 1
            self.load_terms[volunteer_id].append((presence, HUNDREDTHS * stop.duration))
        volunteer = self.problem.volunteer_by_id[volunteer_id]
        present = [stop.presence if stop.presence is not None else 1 for stop in stops]
        if volunteer.max_visits_per_day is not None:
            model.add(sum(present) <= volunteer.max_visits_per_day)
        if volunteer.capacity is not None:
            carried = [
                literal * self.facts[stop.key[0]].need.load
                for stop, literal in zip(stops, present, strict=True)
                if stop.key[0] in self.facts and self.facts[stop.key[0]].need.load
            ]
            if carried:
                model.add(sum(carried) <= volunteer.capacity)

    def route_outing(
        self,
        volunteer_id: str,
        day: int,
        index: int,
        stops: list[tuple[_Stop, Any, Intervals]],
    ) -> None:
        """One outing as a circuit: node 0 is the start place (leaving) and home (returning).
        Every leg within `max_trip_distance_m`, the whole walk within `max_outing_distance_m`,
        out after the outing opens, home by its close."""
        model = self.model
        volunteer = self.problem.volunteer_by_id[volunteer_id]
        opens, closes = self.outings[volunteer_id][day][index]
        start_place = self.travel.start_place[volunteer_id]
        home_place = self.travel.home_place[volunteer_id]
        key: OutingKey = (volunteer_id, day, index)
        idle = model.new_bool_var(f"idle[{volunteer_id},{day},{index}]")
        self.idle[key] = idle
        circuit: list[tuple[int, int, Any]] = [(0, 0, idle)]
        arcs: list[Arc] = []
        walked: list[tuple[cp_model.IntVar, float]] = []
        # Place 0 of these matrices is the start place, the last one home, stops in between.
        places = [start_place, *(stop.place for stop, _, _ in stops), home_place]
        distance_m = self.travel.distance_m[np.ix_(places, places)]
        travel_min = self.travel.time_matrix(volunteer_id)[np.ix_(places, places)]
        allowed_leg = np.isfinite(distance_m) & np.isfinite(travel_min)
        if volunteer.max_trip_distance_m is not None:
            allowed_leg &= distance_m <= volunteer.max_trip_distance_m + 1e-6
        home = len(places) - 1

        def add_arc(origin: int, target: int, arc_from: Key | None, arc_to: Key | None) -> Any:
            """The leg between matrix places `origin` and `target` as a circuit arc."""
            arc = model.new_bool_var("")
            circuit.append((origin, 0 if target == home else target, arc))
            arcs.append((arc_from, arc_to, arc))
            distance = float(distance_m[origin, target])
            walked.append((arc, distance))
            points = round(self.weights_scale * self.weights.travel_per_km * distance / 1000.0)
            if points:
                self.travel_costs.append((arc, points))
            minutes = math.ceil(HUNDREDTHS * float(travel_min[origin, target]) - 1e-6)
            self.load_terms[volunteer_id].append((arc, minutes))
            return arc

        for number, (stop, inside, starts) in enumerate(stops, start=1):
            if inside is not self.true:
                circuit.append((number, number, inside.Not()))
            model.add_implication(inside, idle.Not())
            if stop.extra_m > 0:
                walked.append((inside, stop.extra_m))
                points = round(
                    self.weights_scale * self.weights.travel_per_km * stop.extra_m / 1000.0
                )
                if points:
                    self.travel_costs.append((inside, points))
            for origin, target, before, after in (
                (0, number, ceil_minutes(float(travel_min[0, number])), 0),
                (number, home, 0, ceil_minutes(float(travel_min[number, home]))),
            ):
                if not allowed_leg[origin, target]:
                    continue
                allowed = intersect(
                    start_set([(opens, closes)], stop.duration, before=before, after=after), starts
                )
                if not allowed:
                    continue
                arc = add_arc(
                    origin,
                    target,
                    None if origin == 0 else stop.key,
                    None if target == home else stop.key,
                )
                if stop.presence is not None and allowed != starts:
                    model.add_linear_expression_in_domain(
                        stop.start, domain_of(allowed)
                    ).only_enforce_if(arc)
        earliest = np.array([starts[0][0] for _, _, starts in stops])
        latest = np.array([starts[-1][1] for _, _, starts in stops])
        durations = np.array([stop.duration for stop, _, _ in stops])
        inner = np.ceil(travel_min[1:home, 1:home] - 1e-9)
        gaps = durations[:, None] + inner
        feasible = allowed_leg[1:home, 1:home] & (earliest[:, None] + gaps <= latest[None, :])
        np.fill_diagonal(feasible, False)
        for first_index, second_index in zip(*np.nonzero(feasible), strict=True):
            first, second = stops[first_index][0], stops[second_index][0]
            gap_min = int(gaps[first_index, second_index])
            arc = add_arc(int(first_index) + 1, int(second_index) + 1, first.key, second.key)
            if not (isinstance(first.start, int) and isinstance(second.start, int)):
                model.add(second.start >= first.start + gap_min).only_enforce_if(arc)
        model.add_circuit(circuit)
        self.arcs[key] = arcs
        outing_limit = volunteer.max_outing_distance_m
        if outing_limit is not None and walked:
            model.add(
                weighted(
                    [(arc, math.ceil(HUNDREDTHS * distance - 1e-6)) for arc, distance in walked]
                )
                <= math.floor(HUNDREDTHS * outing_limit + 1e-6)
            )

    # --- step 7: weekly minutes ----------------------------------------------------------

    def add_weekly_minutes(self) -> None:
        """Visit minutes and every leg of every outing within the volunteer's weekly cap; each
        volunteer's modelled minutes (hundredths) as one variable, for the cap and fairness."""
        week_hundredths = WEEK_HUNDREDTHS
        for volunteer in self.problem.volunteers:
            terms = self.load_terms.get(volunteer.id)
            if not terms:
                continue
            load = self.model.new_int_var(0, week_hundredths, f"load[{volunteer.id}]")
            self.model.add(load == weighted(terms))
            self.loads[volunteer.id] = load
            if volunteer.max_minutes_per_week is not None:
                budget = math.floor(
                    HUNDREDTHS * (volunteer.max_minutes_per_week - self.fixed_load[volunteer.id])
                    + 1e-6
                )
                self.model.add(load <= budget)

    # --- step 8: objective terms ---------------------------------------------------------

    def objective_terms(self) -> WeekModel:
        """Coverage (phase 1), mandatory visits (phase 0) and the policy objective: coverage,
        continuity, staff cost, travel, one helper per recurring need, fairness, lateness."""
        weights, scale, model = self.weights, self.weights_scale, self.model
        historic = {(item.recipient, item.volunteer) for item in self.problem.history}
        coverage_terms: list[tuple[Any, int]] = []
        rounding = 0.0
        points_terms: list[tuple[Any, int]] = []
        for option in self.options.values():
            need = self.facts[option.need]
            thousandths = round(COVERAGE_SCALE * need.priority)
            coverage_terms.append((option.present, thousandths))
            rounding += max(0.0, need.priority - thousandths / COVERAGE_SCALE)
            points_terms.append((option.present, round(scale * weights.coverage * need.priority)))
            for volunteer_id, assigned in option.assigned.items():
                volunteer = self.problem.volunteer_by_id[volunteer_id]
                points = weights.continuity_points(
                    volunteer_id in need.recipient.preferred_volunteers,
                    (need.recipient.id, volunteer_id) in historic,
                )
                points -= hourly_cost(volunteer, weights) * option.duration / 60.0
                if round(scale * points):
                    points_terms.append((assigned, round(scale * points)))
        points_terms.extend((arc, -cost) for arc, cost in self.travel_costs)
        points_terms.extend(self.one_helper_terms())
        if self.include_fairness:
            points_terms.extend(self.fairness_terms())
        points_terms.extend(self.lateness_terms())
        seat_terms: list[tuple[Any, int]] = []
        if self.sessions is not None:
            points_terms.extend(self.sessions.objective_terms())
            seat_terms = self.sessions.seat_terms()
        mandatory_options = [option for option in self.options.values() if option.mandatory]
        possible = 0
        for need_id, need_options in self.options_by_need.items():
            need = self.facts[need_id]
            if need.need.mandatory:
                remaining = need.need.visits_per_week - len(self.fixed.need_days(need_id))
                possible += min(remaining, len(need_options))
        return WeekModel(
            model=model,
            options=self.options,
            coverage=weighted(coverage_terms),
            coverage_rounding=rounding,
            mandatory=weighted([(option.present, 1) for option in mandatory_options]),
            mandatory_possible=possible,
            objective=weighted(points_terms),
            outings=self.outings,
            arcs=self.arcs,
            fixed_visits=self.fixed_visits,
            fixed_coverage=sum(
                round(COVERAGE_SCALE * self.facts[visit.need].priority)
                for visit in self.fixed_visits
                if visit.need in self.facts
            ),
            fixed_mandatory=sum(
                1
                for visit in self.fixed_visits
                if visit.need in self.facts and self.facts[visit.need].need.mandatory
            ),
            idle=self.idle,
            in_outing=self.in_outing,
            serves=self.serves,
            sessions=self.sessions,
            seats=weighted(seat_terms) if seat_terms else 0,
        )

    def one_helper_terms(self) -> list[tuple[Any, int]]:
        """A recurring need with `same_volunteer` pays the continuity weight per extra helper."""
        terms: list[tuple[Any, int]] = []
        penalty = round(self.weights_scale * self.weights.continuity)
        for need_id, need_options in self.options_by_need.items():
            need = self.facts[need_id]
            if not need.need.same_volunteer or need.need.visits_per_week < 2:
                continue
            helpers = sorted(
                {volunteer for option in need_options for volunteer in option.assigned}
            )
            for volunteer_id in helpers:
                serves = self.model.new_bool_var("")
                self.serves[(need_id, volunteer_id)] = serves
                for option in need_options:
                    if volunteer_id in option.assigned:
                        self.model.add_implication(option.assigned[volunteer_id], serves)
                terms.append((serves, -penalty))
        return terms

    def fairness_terms(self) -> list[tuple[Any, int]]:
        """Minutes each volunteer carries above their share of the load (in proportion to the
        minutes they offered)."""
        if self.weights.fairness <= 0 or not self.loads:
            return []
        shares = offered_shares(self.problem.volunteers)
        week_hundredths = WEEK_HUNDREDTHS
        total = self.model.new_int_var(0, week_hundredths * len(self.loads), "total_load")
        self.model.add(total == sum(self.loads.values()))
        cost = max(1, round(self.weights_scale * self.weights.fairness / HUNDREDTHS))
        terms: list[tuple[Any, int]] = []
        for volunteer_id, load in self.loads.items():
            share = round(FAIRNESS_SHARE_SCALE * shares[volunteer_id])
            if share == 0:
                continue
            excess = self.model.new_int_var(0, week_hundredths, f"excess[{volunteer_id}]")
            self.model.add(
                FAIRNESS_SHARE_SCALE * excess >= FAIRNESS_SHARE_SCALE * load - share * total
            )
            terms.append((excess, -cost))
        return terms

    def lateness_terms(self) -> list[tuple[Any, int]]:
        """Per late minute of each soft-window visit, and per minute of the largest lateness."""
        lateness = []
        for (need_id, day), option in sorted(self.options.items()):
            need = self.facts[need_id]
            if not need.need.soft_window:
                continue
            late = add_lateness(
                self.model,
                lateness_pieces(need, day, self.lateness_cache),
                option.start,
                option.present,
                normalise(span for spans in option.starts.values() for span in spans),
                f"late[{need_id},{day}]",
            )
            if late is not None:
                lateness.append(late)
        if not lateness:
            return []
        terms: list[tuple[Any, int]] = []
        late_cost = round(self.weights_scale * self.weights.lateness_per_min)
        if late_cost:
            terms.extend((late, -late_cost) for late in lateness)
        peak_cost = round(self.weights_scale * self.weights.max_lateness_per_min)
        if peak_cost:
            peak = self.model.new_int_var(0, self.problem.day_length_min, "largest_lateness")
            for late in lateness:
                self.model.add(peak >= late)
            terms.append((peak, -peak_cost))
        return terms
