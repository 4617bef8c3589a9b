"""Fast upper bounds on priority-weighted coverage (and on visits and seats together), for weeks
too large to prove optimal.

A linear relaxation of the weekly problem, solved with HiGHS (through SciPy), or when large with
OR-Tools' PDLP and bounded by its dual prices (weak duality: valid wherever PDLP stops, so the
bound is anytime and keeps to its time limit; `PDLP_FROM_COLUMNS`): each need spreads
at most its visits a week over its allowed days (no two days too close, `matcher.rules.days`),
each visit takes team-size shares of volunteers who are qualified and whose outings meet the
visit's windows that day (`matcher.rules.shared_starts`), and no volunteer gives more minutes than
their outings last, their weekly cap and their visits a day allow, nor carries more than their
capacity. The order of visits and which outing holds which visit are relaxed away (a visit lies
inside one outing, so the minutes of a day's visits never exceed the outings'), and travel is
counted by what no route avoids: each visit's shortest way in (from the start place or the
nearest place another visit could be at that day), and again each visit's shortest way out
(`travel_floors_min`), with the visits' minutes, fit in the day's outings and the weekly minutes.
A visit also lies inside its windows: a volunteer-day's visits fit in the minutes of its
outings inside the windows of the visits it could make. So any plan's weighted coverage is at
most this bound.

Mandatory first: solvers plan as many mandatory occurrences as they can before any optional
one. Given `mandatory_at_least`, the relaxation also asks for at least that many occurrences of
mandatory needs, so it bounds the coverage of every plan with at least that many: valid for a
solver's plan when the count is what the solver planned (or fewer), and much tighter when a
mandatory visit has to displace a more important optional one.

Group sessions (`session_upper_bounds`): the same relaxation with the sessions in it, so that
sessions and home visits compete for the same volunteer minutes, outings and visits a day. Its
objective is the plan's points for what it plans, `weights.coverage` × each visit's priority +
`weights.attendance` × each seat's priority (the `coverage` and `attendance` terms of
`objective.objective_breakdown` and `session_plan.session_terms`; the other terms are costs or
small rewards and are left out of both sides). The steps, each of which only enlarges what the
relaxation allows:

- Where sessions may be (`seat_bound.session_options`, from `matcher.rules.sessions`): per group
  service, candidate venue and day, the whole-minute starts inside the venue's and the
  service's windows where at least `leads` volunteers qualified to lead (`lead_failures`) have
  an outing holding the session and at least `min_attendees` wishers can walk there
  (`walk_problem`) and be away from home (`seat_starts`). A session held starts at such a
  minute, so nothing is cut off; travel, other duties and the attendees' own home visits are
  not looked at here.
- Sessions held per (service, venue, day): a number from 0 to what a plan holds at most there
  (`most_sessions_a_week`, one after another at the venue, `min_attendees` distinct wishes
  each); a service holds at most `most_sessions_a_week` a week, and a venue's sessions of a day
  fit, one at a time, in the minutes its sessions may take.
- Seats per (wish, service, venue, day) from 0 to 1, each at most the sessions held there (a
  seat is in a held session); a wish has at most `sessions_per_week` seats, one a day; a venue's
  seats are at most `seats_at` per session held, and at least `min_attendees` per session held
  (the minimum relaxed to the sum over the day's sessions).
- Leads: shares of the qualified leads free then add up to `leads` per session held; helpers
  (when `attendees_per_helper` is set, volunteers without a background check excluded when
  children attend) are at least `(seats − (N − 1) × held) / N`, the sum over the sessions of
  `seats // N`; nobody leads or helps twice in one session (a volunteer's shares are at most
  the sessions held).
- Each lead's and helper's share is a stop of their volunteer-day like a visit: the session's
  minutes plus its shortest way in (and again its shortest way out) to the venue, in the same
  rows as the home visits (the day's outings, the minutes inside the windows of what they could
  do, visits a day, the weekly minutes). The ways of every stop now also count the venues and
  the homes of escorted attendees as possible neighbours (a volunteer may come to a home from a
  venue), and a venue is its own neighbour when two sessions could be held there that day.
- Escorts' minutes and the attendees' own home visits are relaxed away (an escorted seat needs
  no volunteer in the relaxation).

The bound on seats alone solves the same rows for the seats' priorities (and their count) with
every visit at 0; `seat_upper_bound`'s counting bound is kept where it is the tighter.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csc_matrix
from scipy.sparse import vstack as scipy_vstack

from matcher.models import Problem, Volunteer
from matcher.rules import (
    NeedFacts,
    intersect,
    need_facts,
    normalise,
    outings_by_day,
    shared_starts,
    too_close,
)
from matcher.rules.sessions import most_sessions_a_week, seats_at
from matcher.solvers.base import bound_and_gap
from matcher.solvers.seat_bound import SessionOption, seat_upper_bound, session_options
from matcher.travel import TravelModel

__all__ = [
    "BackgroundBound",
    "SessionBounds",
    "bound_and_gap",
    "combined_points",
    "coverage_upper_bound",
    "requested_coverage",
    "session_upper_bounds",
]


class _Rows:
    """Sparse rows `sum(coefficient * variable) <= limit`, collected as coordinates."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.columns: list[int] = []
        self.values: list[float] = []
        self.limits: list[float] = []

    def add(self, terms: list[tuple[int, float]], limit: float) -> None:
        row = len(self.limits)
        for column, value in terms:
            self.rows.append(row)
            self.columns.append(column)
            self.values.append(value)
        self.limits.append(limit)

    def matrix(self, columns: int) -> coo_matrix:
        return coo_matrix(
            (self.values, (self.rows, self.columns)), shape=(len(self.limits), columns)
        )


def _dual_bound(
    values: np.ndarray,
    limits: np.ndarray,
    upper: tuple[csc_matrix, np.ndarray],
    equal: tuple[csc_matrix, np.ndarray],
    upper_prices: np.ndarray,
    equal_prices: np.ndarray,
) -> float:
    """An upper bound on `max values · x` over `A_ub x <= b_ub, A_eq x = b_eq, 0 <= x <= limits`
    from ANY prices of the rows (weak duality): `b_ub · y + b_eq · z + limits · max(0, values
    - A_ub' y - A_eq' z)` with the prices of the `<=` rows clipped at 0. It holds for any prices,
    so a first-order method stopped early still gives a valid bound, only a looser one."""
    (upper_matrix, upper_limits), (equal_matrix, equal_limits) = upper, equal
    prices = np.maximum(upper_prices, 0.0)
    reduced = values - upper_matrix.T @ prices - equal_matrix.T @ equal_prices
    return float(
        upper_limits @ prices + equal_limits @ equal_prices + limits @ np.maximum(reduced, 0.0)
    )


def _pdlp_bound(
    values: np.ndarray,
    limits: np.ndarray,
    upper: tuple[csc_matrix, np.ndarray],
    equal: tuple[csc_matrix, np.ndarray],
    time_limit_s: float | None,
) -> float | None:
    """The relaxation bounded with PDLP's dual prices (`_dual_bound`), padded for rounding;
    None when PDLP gives no finite prices. PDLP runs in C++ without the interpreter lock, so a
    search beside it keeps its core."""
    from ortools.pdlp import solvers_pb2
    from ortools.pdlp.python import pdlp

    (upper_matrix, upper_limits), (equal_matrix, equal_limits) = upper, equal
    rows_up, rows_eq = len(upper_limits), len(equal_limits)
    program = pdlp.QuadraticProgram()
    program.resize_and_initialize(len(values), rows_up + rows_eq)
    program.objective_vector = -values
    program.constraint_matrix = scipy_vstack([upper_matrix, equal_matrix]).tocsc()
    program.constraint_lower_bounds = np.concatenate([np.full(rows_up, -np.inf), equal_limits])
    program.constraint_upper_bounds = np.concatenate([upper_limits, equal_limits])
    program.variable_lower_bounds = np.zeros(len(values))
    program.variable_upper_bounds = limits
    parameters = solvers_pb2.PrimalDualHybridGradientParams()
    parameters.num_threads = 1
    criteria = parameters.termination_criteria
    criteria.simple_optimality_criteria.eps_optimal_relative = PDLP_RELATIVE_TOLERANCE
    if time_limit_s is not None:
        criteria.time_sec_limit = max(0.001, time_limit_s)
    result = pdlp.primal_dual_hybrid_gradient(program, parameters)
    # PDLP minimises -values: its prices of the rows are the negated prices of the maximum.
    prices = -np.asarray(result.dual_solution, dtype=float)
    if prices.shape != (rows_up + rows_eq,) or not np.all(np.isfinite(prices)):
        return None
    bound = _dual_bound(values, limits, upper, equal, prices[:rows_up], prices[rows_up:])
    if not math.isfinite(bound):
        return None
    return bound * (1 + 1e-7) + 1e-6


def _minutes(spans: list[tuple[int, int]]) -> float:
    """How many minutes these (disjoint) outings or windows last."""
    return float(sum(high - low for low, high in spans))


POOL_ABOVE_SHARES = 60_000
"""Above this many (need, day, volunteer) shares, volunteers with the same qualifications are
first pooled into one group (their minutes, caps and capacities added up), which solves in
seconds even on 1,500 recipients. Pooling only enlarges what the relaxation allows, so that bound
is valid, only looser; the exact relaxation then runs in the time left and the lower bound wins."""
EXACT_UP_TO_SHARES = 400_000
"""Beyond this many shares only the pooled relaxation is solved (the exact one takes minutes)."""
PDLP_FROM_COLUMNS = 20_000
"""From this many columns on the relaxation is solved with PDLP (OR-Tools' first-order method)
and bounded through its dual (`_dual_bound`), which holds however far PDLP got: HiGHS' interior
point took 59 s on the large week's 144,000 columns (and may overrun its time limit), PDLP's
dual bound is within 0.02 % of that optimum after 25 s (its relative tolerance). Below, HiGHS
is exact and fast."""
PDLP_RELATIVE_TOLERANCE = 1e-4
"""PDLP stops once its relative optimality gap is this small (or at the time limit)."""


def _group_key(volunteer: Volunteer) -> str:
    return "|".join(
        [
            ",".join(sorted(volunteer.skills)),
            str(volunteer.verified),
            str(volunteer.background_checked),
        ]
    )


def _share_count(problem: Problem, facts: dict[str, NeedFacts]) -> int:
    """Roughly how many (need, day, volunteer) shares the exact relaxation would have."""
    days_by_volunteer = {
        volunteer.id: set(outings_by_day(volunteer)) for volunteer in problem.volunteers
    }
    return sum(
        sum(1 for day in need.late_windows_by_day if day in days_by_volunteer[volunteer_id])
        for need in facts.values()
        for volunteer_id in need.qualified
    )


Term = tuple[int, float, tuple[float, float], float]
"""A share of a volunteer-day: its column, minutes on site, (way in, way out) and load."""
Floor = tuple[float, float]
"""A stop's shortest way in and way out, in travel minutes."""

MATERIAL_MIN = 1.0
"""A second row of minutes (the ways out beside the ways in, the windows beside the outings) is
added only when it asks this many minutes more than the first: else it costs HiGHS time for
nothing."""


def _ways(terms: list[Term]) -> tuple[int, ...]:
    """Which travel rows a volunteer-day gets: its visits with their ways in (never looser than
    the visits alone), and with their ways out too when those add up to materially more."""
    ways_in = sum(floor[0] for _, _, floor, _ in terms)
    ways_out = sum(floor[1] for _, _, floor, _ in terms)
    return (0, 1) if ways_out > ways_in + MATERIAL_MIN else (0,)


def _total(values: list[float | None]) -> float | None:
    """Sum of limits, or None (no limit) when any member has none."""
    return None if any(value is None for value in values) else sum(v for v in values if v)


Stop = tuple[Hashable, int, bool]
"""A stop a volunteer could make on a day: its key, its place, and whether a second stop of it
could follow at the same place that day (distance 0 between the two)."""


def _floors_by_day(
    problem: Problem, travel: TravelModel, stops_by_day: dict[int, list[Stop]]
) -> dict[tuple[Hashable, int], tuple[np.ndarray, np.ndarray]]:
    """For each keyed stop and its day, per volunteer (in `problem.volunteers` order), the
    shortest way in to its place (from the volunteer's start place, or from any other stop of
    that day) and the shortest way out (home, or any other stop), in travel minutes. Stops
    keyed None are places only (neighbours of the others)."""
    volunteers = problem.volunteers
    if not volunteers:
        return {}
    starts = np.array([travel.start_place[person.id] for person in volunteers], dtype=int)
    homes = np.array([travel.home_place[person.id] for person in volunteers], dtype=int)
    explicit = travel.explicit_time_min
    speeds = np.array([travel.speed_m_per_min(person) for person in volunteers], dtype=float)
    matrix = explicit if explicit is not None else travel.distance_m
    floors: dict[tuple[Hashable, int], tuple[np.ndarray, np.ndarray]] = {}
    for day, present in sorted(stops_by_day.items()):
        if not any(key is not None for key, _, _ in present):
            continue
        places = np.array([place for _, place, _ in present], dtype=int)
        between = np.array(matrix[np.ix_(places, places)], dtype=float)
        np.fill_diagonal(between, np.inf)
        for row, (_, _, repeats) in enumerate(present):
            if repeats:
                between[row, row] = 0.0
        way_in = between.min(axis=0)
        way_out = between.min(axis=1)
        for column, (key, place, _) in enumerate(present):
            if key is None:
                continue
            inward = np.minimum(np.asarray(matrix[starts, place], dtype=float), way_in[column])
            outward = np.minimum(np.asarray(matrix[place, homes], dtype=float), way_out[column])
            if explicit is None:
                inward, outward = inward / speeds, outward / speeds
            floors[(key, day)] = (
                np.where(np.isfinite(inward), inward, 0.0),
                np.where(np.isfinite(outward), outward, 0.0),
            )
    return floors


def _need_stops(facts: dict[str, NeedFacts]) -> dict[int, list[Stop]]:
    """Every need as a stop on each day it may be visited (a second visit of it that day is
    possible when it has more than one a week)."""
    stops: dict[int, list[Stop]] = defaultdict(list)
    for need_id, need in sorted(facts.items()):
        for day in sorted(need.late_windows_by_day):
            stops[day].append((need_id, need.place, need.need.visits_per_week > 1))
    return stops


def travel_floors_min(
    problem: Problem,
    travel: TravelModel,
    facts: dict[str, NeedFacts],
    others: dict[int, list[Stop]] | None = None,
) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
    """For each need and day it may be visited, per volunteer (in `problem.volunteers` order),
    the shortest way in to its place (from the volunteer's start place, or from any place
    another visit could be at that day) and the shortest way out (home, or any such place), in
    travel minutes. `others`: more stops a volunteer could make, by day (sessions at venues,
    escorts at homes), whose places count as neighbours too (their own floors are keyed by
    their keys).

    Valid for any route: an outing's legs run start, visits, home, so they add up to the way
    into each of its visits plus the way home, at least the sum of the visits' shortest ways
    in; likewise at least the sum of their shortest ways out. A need with more than one visit
    a week counts its own place as a possible neighbour (two visits of it on one day, at
    distance 0), and recipients at one place are each other's neighbours.
    """
    if not facts and not others:
        return {}
    stops = _need_stops(facts)
    for day, extra in (others or {}).items():
        stops[day] = [*stops.get(day, []), *extra]
    return _floors_by_day(problem, travel, stops)  # type: ignore[return-value]


@dataclass
class _Relaxation:
    """The columns and rows of the relaxation, built once and solved for each objective asked."""

    visit_values: list[float] = field(default_factory=list)
    """Per column: the need's priority for a visit's presence, else 0."""
    seat_values: list[float] = field(default_factory=list)
    """Per column: the wish's priority for a seat, else 0."""
    limits: list[float] = field(default_factory=list)
    """Per column: its upper bound (every column is at least 0)."""
    upper: _Rows = field(default_factory=_Rows)
    equal: _Rows = field(default_factory=_Rows)
    mandatory_columns: list[int] = field(default_factory=list)
    trivial: float = 0.0
    """Priorities of what each need could at most receive: a valid bound on the visits."""
    seat_columns: list[int] = field(default_factory=list)
    first_session_column: int = 0
    """Columns from here on are the sessions' (held, leads, helpers, seats)."""

    def column(self, limit: float, visit: float = 0.0, seat: float = 0.0) -> int:
        self.visit_values.append(visit)
        self.seat_values.append(seat)
        self.limits.append(limit)
        return len(self.limits) - 1

    def solve(
        self,
        values: np.ndarray,
        time_limit_s: float | None,
        first_column: int = 0,
        extra: _Rows | None = None,
        method: str = "auto",
    ) -> float | None:
        """The relaxation's largest `values · x` (padded for HiGHS' tolerance), None when
        HiGHS does not finish in time (or no time is left). The columns before `first_column`
        are left at 0 (out of the model: every row is at most a limit of at least 0 there, so
        that is a plan of the relaxation). `method`: a HiGHS method of `linprog`, `pdlp`, or
        `auto` (HiGHS' interior point below `PDLP_FROM_COLUMNS` columns, PDLP from there)."""
        columns = len(self.limits)
        if columns <= first_column:
            return 0.0
        if time_limit_s is not None and time_limit_s <= 0:
            return None
        upper = self.upper
        if extra is not None and extra.limits:
            upper = _Rows()
            for source in (self.upper, extra):
                offset = len(upper.limits)
                upper.rows += [offset + row for row in source.rows]
                upper.columns += source.columns
                upper.values += source.values
                upper.limits += source.limits

        def kept(rows: _Rows) -> csc_matrix:
            return rows.matrix(columns).tocsc()[:, first_column:]

        if method == "auto":
            method = "pdlp" if columns - first_column >= PDLP_FROM_COLUMNS else "highs-ipm"
        if method == "pdlp":
            return _pdlp_bound(
                values[first_column:],
                np.asarray(self.limits[first_column:], dtype=float),
                (kept(upper), np.asarray(upper.limits, dtype=float)),
                (kept(self.equal), np.asarray(self.equal.limits, dtype=float)),
                time_limit_s,
            )
        result = linprog(
            c=-values[first_column:],
            A_ub=kept(upper) if upper.limits else None,
            b_ub=np.asarray(upper.limits) if upper.limits else None,
            A_eq=kept(self.equal) if self.equal.limits else None,
            b_eq=np.asarray(self.equal.limits) if self.equal.limits else None,
            bounds=list(zip([0.0] * columns, self.limits, strict=True))[first_column:],
            method=method,
            options={"time_limit": time_limit_s} if time_limit_s is not None else None,
        )
        if result.status != 0:
            return None
        # HiGHS' optimality tolerances are about 1e-7: stay safely above the true optimum.
        return float(-result.fun) * (1 + 1e-7) + 1e-6


def _build(
    problem: Problem,
    travel: TravelModel,
    facts: dict[str, NeedFacts],
    *,
    aggregate: bool,
    give_up_at: float | None,
    with_travel: bool,
    with_windows: bool,
    options: Sequence[SessionOption] = (),
    should_stop: Callable[[], bool] | None = None,
) -> _Relaxation | None:
    """The relaxation of the week's visits, and of the sessions `options` lists (none: the
    home visits alone); None when the clock passes `give_up_at` (or `should_stop` says so)
    first."""

    def late() -> bool:
        if should_stop is not None and should_stop():
            return True
        return give_up_at is not None and time.perf_counter() > give_up_at

    outings = {volunteer.id: outings_by_day(volunteer) for volunteer in problem.volunteers}
    session_stops = _session_stops(problem, travel, options)
    floors: dict[tuple[Hashable, int], tuple[np.ndarray, np.ndarray]] = {}
    if with_travel:
        stops = _need_stops(facts)
        for day, extra in session_stops.items():
            stops[day] = [*stops.get(day, []), *extra]
        floors = _floors_by_day(problem, travel, stops)
    position = {volunteer.id: index for index, volunteer in enumerate(problem.volunteers)}
    eligible: dict[tuple[str, int], list[str]] = {}
    for number, (need_id, need) in enumerate(sorted(facts.items())):
        if number % 64 == 0 and late():
            return None
        for day in sorted(need.late_windows_by_day):
            eligible[(need_id, day)] = [
                volunteer_id
                for volunteer_id in need.qualified
                if shared_starts(need, day, outings[volunteer_id].get(day, []))
            ]
    group_of = {
        volunteer.id: (_group_key(volunteer) if aggregate else volunteer.id)
        for volunteer in problem.volunteers
    }
    members: dict[str, list[str]] = defaultdict(list)
    for volunteer in problem.volunteers:
        members[group_of[volunteer.id]].append(volunteer.id)

    lp = _Relaxation()
    upper, equal = lp.upper, lp.equal
    day_terms: dict[tuple[str, int], list[Term]] = defaultdict(list)
    """Per group and day: each share, its minutes, shortest ways in and out, and load."""
    window_spans: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    """Per volunteer and day, the windows of the visits (and sessions) they could make."""
    recipient_terms: dict[tuple[str, int], list[tuple[int, float]]] = defaultdict(list)

    def floor_of(key: Hashable, day: int, volunteer_id: str) -> tuple[float, float]:
        found = floors.get((key, day))
        if found is None:
            return (0.0, 0.0)
        at = position[volunteer_id]
        return (float(found[0][at]), float(found[1][at]))

    def group_floors(key: Hashable, day: int, volunteers: Iterable[str]) -> dict[str, Floor]:
        """Per group of these volunteers, the least of its members' ways in and out."""
        least: dict[str, Floor] = {}
        for volunteer_id in volunteers:
            group = group_of[volunteer_id]
            floor = floor_of(key, day, volunteer_id)
            known = least.get(group, floor)
            least[group] = (min(known[0], floor[0]), min(known[1], floor[1]))
        return least

    for need_id, need in sorted(facts.items()):
        team = need.service.team_size
        day_columns: dict[int, int] = {}
        for day in sorted(need.late_windows_by_day):
            helpers = eligible[(need_id, day)]
            if len(helpers) < team:
                continue
            present = lp.column(1.0, visit=need.priority)
            day_columns[day] = present
            crew = [(present, -float(team))]
            counts: dict[str, int] = defaultdict(int)
            for volunteer_id in helpers:
                counts[group_of[volunteer_id]] += 1
                window_spans[(volunteer_id, day)].extend(need.late_windows_by_day[day])
            least = group_floors(need_id, day, helpers)
            for group, count in sorted(counts.items()):
                share = lp.column(float(min(count, team)))
                crew.append((share, 1.0))
                if team > 1:
                    upper.add([(share, 1.0), (present, -float(min(count, team)))], 0.0)
                day_terms[(group, day)].append(
                    (share, float(need.duration), least[group], float(need.need.load))
                )
            equal.add(crew, 0.0)
            recipient_terms[(need.recipient.id, day)].append((present, float(need.duration)))
        if not day_columns:
            continue
        lp.trivial += need.priority * min(need.need.visits_per_week, len(day_columns))
        upper.add([(column, 1.0) for column in day_columns.values()], need.need.visits_per_week)
        for day, column in day_columns.items():
            for other_day, other in day_columns.items():
                if day < other_day and too_close(day, other_day, need.need.min_gap_days):
                    upper.add([(column, 1.0), (other, 1.0)], 1.0)
        if need.need.mandatory:
            lp.mandatory_columns.extend(day_columns.values())

    if late():
        return None
    lp.first_session_column = len(lp.limits)
    _add_sessions(lp, options, group_of, group_floors, day_terms, window_spans)

    week_ways: dict[str, tuple[float, float]] = {}
    """Per group: its shares' ways in and ways out added up (whether the second row pays)."""
    week_terms: dict[tuple[str, int], list[tuple[int, float]]] = defaultdict(list)
    """Per group and way (0: counting the ways in, 1: the ways out): its shares' minutes."""
    for (group, day), terms in day_terms.items():
        people = [problem.volunteer_by_id[volunteer_id] for volunteer_id in members[group]]
        free = sum(_minutes(outings[person.id].get(day, [])) for person in people)
        for way in _ways(terms):
            upper.add([(share, minutes + floor[way]) for share, minutes, floor, _ in terms], free)
        if with_windows:
            # A visit (or a session) lies inside its windows (travel may not): the minutes of
            # the day's outings inside the windows of what the volunteer could do that day.
            inside = sum(
                _minutes(
                    intersect(
                        normalise(outings[person.id].get(day, [])),
                        normalise(window_spans.get((person.id, day), [])),
                    )
                )
                for person in people
            )
            if inside < free - MATERIAL_MIN:
                upper.add([(share, minutes) for share, minutes, _, _ in terms], inside)
        visits_cap = _total([person.max_visits_per_day for person in people])
        if visits_cap is not None:
            upper.add([(share, 1.0) for share, _, _, _ in terms], visits_cap)
        capacity = _total([person.capacity for person in people])
        if capacity is not None:
            loaded = [(share, load) for share, _, _, load in terms if load]
            if loaded:
                upper.add(loaded, capacity)
        for way in (0, 1):
            week_terms[(group, way)].extend(
                (share, minutes + floor[way]) for share, minutes, floor, _ in terms
            )
        week_ways[group] = week_ways.get(group, (0.0, 0.0))
        week_ways[group] = (
            week_ways[group][0] + sum(floor[0] for _, _, floor, _ in terms),
            week_ways[group][1] + sum(floor[1] for _, _, floor, _ in terms),
        )
    for (group, way), week in week_terms.items():
        ways_in, ways_out = week_ways.get(group, (0.0, 0.0))
        if way and ways_out <= ways_in + MATERIAL_MIN:
            continue
        people = [problem.volunteer_by_id[volunteer_id] for volunteer_id in members[group]]
        cap = _total([person.max_minutes_per_week for person in people])
        if cap is not None:
            upper.add(week, cap)
    for (recipient_id, day), visits in recipient_terms.items():
        if len(visits) < 2:
            continue
        home = problem.recipient_by_id[recipient_id]
        windows = normalise(
            (start, end)
            for need in home.needs
            for start, end in facts[need.id].late_windows_by_day.get(day, [])
        )
        linked = any(
            link.first in {need.id for need in home.needs} for link in problem.dependencies
        )
        if not linked:
            upper.add(visits, _minutes(windows))
    return lp


def _session_stops(
    problem: Problem, travel: TravelModel, options: Sequence[SessionOption]
) -> dict[int, list[Stop]]:
    """The stops sessions add to a day: each venue with a session option (keyed by its id; a
    second stop there is possible when two sessions could be held there that day), and the
    homes of escorted wishers (escorts are stops there; places only)."""
    held: dict[tuple[str, int], int] = defaultdict(int)
    escorted: dict[int, set[int]] = defaultdict(set)
    for option in options:
        held[(option.venue.id, option.day)] += option.most
        for seat in option.seats:
            if seat.wish.escort:
                escorted[option.day].add(travel.recipient_place[seat.recipient.id])
    stops: dict[int, list[Stop]] = defaultdict(list)
    for (venue_id, day), most in sorted(held.items()):
        stops[day].append((_venue_key(venue_id), travel.venue_place[venue_id], most > 1))
    for day, places in sorted(escorted.items()):
        stops[day] += [(None, place, False) for place in sorted(places)]
    return stops


def _venue_key(venue_id: str) -> tuple[str, str]:
    """A venue's key among the stops (never a need's: those are strings)."""
    return ("venue", venue_id)


def _add_sessions(
    lp: _Relaxation,
    options: Sequence[SessionOption],
    group_of: dict[str, str],
    group_floors: Callable[[Hashable, int, Iterable[str]], dict[str, Floor]],
    day_terms: dict[tuple[str, int], list[Term]],
    window_spans: dict[tuple[str, int], list[tuple[int, int]]],
) -> None:
    """The sessions' columns and rows: per option its sessions held, the shares of its leads
    and helpers (each a stop of a volunteer-day, in its minute rows), and its seats."""
    upper, equal = lp.upper, lp.equal
    by_service: dict[str, list[int]] = defaultdict(list)
    by_venue_day: dict[tuple[str, int], list[tuple[int, float]]] = defaultdict(list)
    venue_spans: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    by_wish: dict[str, list[int]] = defaultdict(list)
    by_wish_day: dict[tuple[str, int], list[int]] = defaultdict(list)
    for option in options:
        service, day = option.service, option.day
        duration = float(service.duration_min)
        held = lp.column(float(option.most))
        by_service[service.id].append(held)
        by_venue_day[(option.venue.id, day)].append((held, duration))
        venue_spans[(option.venue.id, day)].extend(option.spans)
        leads: dict[str, int] = defaultdict(int)
        helpers: dict[str, int] = defaultdict(int)
        either: dict[str, set[str]] = defaultdict(set)
        for volunteer_id in option.leads:
            leads[group_of[volunteer_id]] += 1
            either[group_of[volunteer_id]].add(volunteer_id)
        for volunteer_id in option.helpers:
            helpers[group_of[volunteer_id]] += 1
            either[group_of[volunteer_id]].add(volunteer_id)
        for volunteer_id in dict.fromkeys([*option.leads, *option.helpers]):
            window_spans[(volunteer_id, day)].extend(option.spans)
        least = group_floors(_venue_key(option.venue.id), day, _members_of(either))
        crew = [(held, -float(service.leads))]
        helping: list[tuple[int, float]] = []
        for group in sorted(either):
            shares: list[tuple[int, float]] = []
            if leads.get(group):
                most_leads = float(min(leads[group], service.leads))
                lead = lp.column(most_leads * option.most)
                crew.append((lead, 1.0))
                if most_leads < service.leads:
                    upper.add([(lead, 1.0), (held, -most_leads)], 0.0)
                shares.append((lead, 1.0))
            if helpers.get(group):
                helper = lp.column(float(helpers[group]) * option.most)
                helping.append((helper, 1.0))
                shares.append((helper, 1.0))
            # Nobody leads or helps twice in one session: a group's shares of each session
            # are at most its members who could.
            upper.add([*shares, (held, -float(len(either[group])))], 0.0)
            for share, _ in shares:
                day_terms[(group, day)].append((share, duration, least[group], 0.0))
        equal.add(crew, 0.0)
        seats: list[tuple[int, float]] = []
        for seat in option.seats:
            column = lp.column(1.0, seat=seat.priority)
            lp.seat_columns.append(column)
            seats.append((column, 1.0))
            by_wish[seat.wish.id].append(column)
            by_wish_day[(seat.wish.id, day)].append(column)
            # A seat is in a session held: at most as many as the sessions held.
            upper.add([(column, 1.0), (held, -1.0)], 0.0)
        capacity = float(seats_at(service, option.venue))
        upper.add([*seats, (held, -capacity)], 0.0)
        upper.add([(column, -1.0) for column, _ in seats] + [(held, service.min_attendees)], 0.0)
        per_helper = service.attendees_per_helper
        if per_helper is not None:
            # helpers_needed: attendees // per_helper >= (attendees - (per_helper - 1)) /
            # per_helper for each session, added up over the sessions held.
            upper.add(
                [
                    *seats,
                    (held, -float(per_helper - 1)),
                    *((column, -float(per_helper)) for column, _ in helping),
                ],
                0.0,
            )
    services = {option.service.id: option.service for option in options}
    for service_id, columns in sorted(by_service.items()):
        upper.add(
            [(column, 1.0) for column in columns],
            float(most_sessions_a_week(services[service_id])),
        )
    for key, terms in sorted(by_venue_day.items()):
        # A venue holds one session at a time, each inside the spans sessions may take.
        upper.add(terms, _minutes(normalise(venue_spans[key])))
    wishes = {seat.wish.id: seat.wish for option in options for seat in option.seats}
    for wish_id, columns in sorted(by_wish.items()):
        upper.add([(column, 1.0) for column in columns], float(wishes[wish_id].sessions_per_week))
    for _, columns in sorted(by_wish_day.items()):
        if len(columns) > 1:
            upper.add([(column, 1.0) for column in columns], 1.0)


def _members_of(either: dict[str, set[str]]) -> list[str]:
    """Every volunteer of these groups."""
    return [volunteer_id for group in sorted(either) for volunteer_id in sorted(either[group])]


def coverage_upper_bound(
    problem: Problem,
    travel: TravelModel,
    facts: dict[str, NeedFacts] | None = None,
    *,
    aggregate: bool | None = None,
    time_limit_s: float | None = None,
    mandatory_at_least: int = 0,
    with_travel: bool = True,
    with_windows: bool = True,
) -> float:
    """An upper bound on the sum of priorities of the visits any plan can make.

    Parameters:
        facts: the needs' facts (computed when None).
        aggregate: pool volunteers with the same qualifications; None decides by size (pooled
            first on large weeks, then exact if it can be afforded, keeping the lower).
        time_limit_s: for building the relaxation and for HiGHS; if the build does not finish
            in time, the bound is every requested visit (`requested_coverage`); if HiGHS does
            not, the plain count of what each need could at most receive (both valid, looser).
        with_travel: the visits of a volunteer-day, each with its shortest way in (and again
            each with its shortest way out, `travel_floors_min`), fit in its outings, and in
            the weekly minutes over the week.
        with_windows: a volunteer-day's visits fit in the minutes of its outings that lie
            inside the windows of the visits it could make that day.
        mandatory_at_least: bound only the plans with at least this many occurrences of
            mandatory needs (0: every plan). If no plan of the relaxation has that many, the
            plain count is returned.
    """
    if aggregate is None:
        clock = time.perf_counter()
        facts = facts if facts is not None else need_facts(problem, travel)
        shares = _share_count(problem, facts)
        if shares <= POOL_ABOVE_SHARES:
            return coverage_upper_bound(
                problem,
                travel,
                facts,
                aggregate=False,
                time_limit_s=time_limit_s,
                mandatory_at_least=mandatory_at_least,
                with_travel=with_travel,
                with_windows=with_windows,
            )
        pooled = coverage_upper_bound(
            problem,
            travel,
            facts,
            aggregate=True,
            time_limit_s=time_limit_s,
            mandatory_at_least=mandatory_at_least,
            with_travel=with_travel,
            with_windows=with_windows,
        )
        left = None if time_limit_s is None else time_limit_s - (time.perf_counter() - clock)
        if shares > EXACT_UP_TO_SHARES or (left is not None and left < 1.0):
            return pooled
        exact = coverage_upper_bound(
            problem,
            travel,
            facts,
            aggregate=False,
            time_limit_s=left,
            mandatory_at_least=mandatory_at_least,
            with_travel=with_travel,
            with_windows=with_windows,
        )
        return min(pooled, exact)
    facts = facts if facts is not None else need_facts(problem, travel)
    give_up_at = None if time_limit_s is None else time.perf_counter() + time_limit_s
    lp = _build(
        problem,
        travel,
        facts,
        aggregate=aggregate,
        give_up_at=give_up_at,
        with_travel=with_travel,
        with_windows=with_windows,
    )
    if lp is None:
        return requested_coverage(facts)
    extra = _Rows()
    if mandatory_at_least > 0:
        if len(lp.mandatory_columns) < mandatory_at_least:
            return lp.trivial
        # A hair below the count, so that HiGHS' feasibility tolerance never rejects it.
        extra.add([(column, -1.0) for column in lp.mandatory_columns], 1e-6 - mandatory_at_least)
    value = lp.solve(np.asarray(lp.visit_values), time_limit_s, extra=extra)
    return lp.trivial if value is None else min(lp.trivial, value)


@dataclass(frozen=True)
class SessionBounds:
    """Upper bounds on a week with group sessions (`session_upper_bounds`)."""

    combined: float
    """On the plan's points for what it plans: `weights.coverage` × the priorities of its
    visits + `weights.attendance` × the priorities of its seats (the `coverage` and
    `attendance` terms of the objective)."""
    weighted_seats: float
    """On the priorities of the seats alone."""
    seats: int
    """On the number of seats."""
    seats_from: str
    """Which bound on seats alone is the tighter: `relaxation` or `count`
    (`seat_bound.seat_upper_bound`); both are the least of the two."""
    relaxed: bool
    """Whether the relaxation finished in time (else the plain counts)."""


def combined_points(problem: Problem, coverage: float, weighted_seats: float) -> float:
    """The points of `SessionBounds.combined` for a plan of this priority-weighted coverage
    and these priority-weighted seats."""
    weights = problem.policy.weights
    return weights.coverage * coverage + weights.attendance * weighted_seats


def session_upper_bounds(
    problem: Problem,
    travel: TravelModel,
    facts: dict[str, NeedFacts] | None = None,
    *,
    aggregate: bool | None = None,
    time_limit_s: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SessionBounds:
    """Upper bounds on the visits and seats together, and on the seats alone, from one
    relaxation of the home visits and the group sessions sharing the volunteers' week (the
    module's docstring lists its steps). `aggregate` and `time_limit_s` as in
    `coverage_upper_bound`; past the time limit, or once `should_stop` says so, the plain
    counts (every requested visit, and `seat_upper_bound`), which are valid too."""
    clock = time.perf_counter()
    give_up_at = None if time_limit_s is None else clock + time_limit_s
    facts = facts if facts is not None else need_facts(problem, travel)
    count, weighted = seat_upper_bound(problem, travel)
    plain = SessionBounds(
        combined=combined_points(problem, requested_coverage(facts), weighted),
        weighted_seats=weighted,
        seats=count,
        seats_from="count",
        relaxed=False,
    )
    options = session_options(problem, travel, give_up_at)
    if options is None:
        return plain
    if aggregate is None:
        shares = _share_count(problem, facts)
        aggregate = shares > POOL_ABOVE_SHARES
    found = _session_relaxation(
        problem,
        travel,
        facts,
        options,
        aggregate=aggregate,
        give_up_at=give_up_at,
        should_stop=should_stop,
    )
    if found is None:
        return plain
    combined, relaxed_weighted, relaxed_count = found
    weighted_bound = min(weighted, relaxed_weighted)
    count_bound = min(count, math.floor(relaxed_count + SEAT_COUNT_SLACK))
    return SessionBounds(
        combined=min(plain.combined, combined),
        weighted_seats=weighted_bound,
        seats=count_bound,
        seats_from="relaxation" if relaxed_weighted < weighted else "count",
        relaxed=True,
    )


SEAT_COUNT_SLACK = 1e-5
"""The relaxed seat count is rounded down to whole seats after this much slack (HiGHS'
tolerance is far smaller)."""


def _session_relaxation(
    problem: Problem,
    travel: TravelModel,
    facts: dict[str, NeedFacts],
    options: list[SessionOption],
    *,
    aggregate: bool,
    give_up_at: float | None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[float, float, float] | None:
    """The relaxation's bounds on (the combined points, the weighted seats, the seats), or None
    when it does not finish before `give_up_at` (or `should_stop` says so)."""
    lp = _build(
        problem,
        travel,
        facts,
        aggregate=aggregate,
        give_up_at=give_up_at,
        with_travel=True,
        with_windows=True,
        options=options,
        should_stop=should_stop,
    )
    if lp is None or (should_stop is not None and should_stop()):
        return None
    weights = problem.policy.weights
    visits = np.asarray(lp.visit_values)
    seats = np.asarray(lp.seat_values)

    def left() -> float | None:
        return None if give_up_at is None else give_up_at - time.perf_counter()

    # HiGHS' interior point method may run seconds past its time limit when it stops near it
    # (its crossover); the dual simplex keeps to the limit, so it solves a timed relaxation.
    # A large relaxation goes to PDLP, which keeps to its limit and bounds wherever it stops.
    method = "highs-ipm" if give_up_at is None else "highs-ds"
    if len(lp.limits) >= PDLP_FROM_COLUMNS:
        method = "pdlp"

    # In units of the larger weight, so HiGHS sees numbers of the size of the priorities.
    scale = max(weights.coverage, weights.attendance) or 1.0
    value = lp.solve(
        (weights.coverage * visits + weights.attendance * seats) / scale, left(), method=method
    )
    if value is None:
        return None
    combined = min(
        scale * value, weights.coverage * lp.trivial + weights.attendance * float(seats.sum())
    )
    # Seats alone: the visits left out (every visit column at 0 is a plan of the relaxation).
    if should_stop is not None and should_stop():
        return None
    weighted = lp.solve(seats, left(), first_column=lp.first_session_column, method=method)
    counted = np.zeros(len(lp.limits))
    counted[lp.seat_columns] = 1.0
    count = lp.solve(counted, left(), first_column=lp.first_session_column, method=method)
    if weighted is None or count is None:
        return None
    return combined, weighted, count


def requested_coverage(facts: dict[str, NeedFacts]) -> float:
    """Every requested visit planned: the loosest valid bound, used when no other is ready."""
    return sum(need.priority * need.need.visits_per_week for need in facts.values())


class BackgroundBound:
    """`coverage_upper_bound` computed in a second thread beside a search.

    A solver polls `ready()` while it searches and calls `collect()` at the end, which waits
    for the bound only until the solver's own deadline, so the bound never makes it late.
    `mandatory_at_least`: as in `coverage_upper_bound` (the mandatory occurrences the search
    starts from and never gives up).
    """

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        facts: dict[str, NeedFacts],
        *,
        time_limit_s: float,
        mandatory_at_least: int = 0,
    ) -> None:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coverage-bound")
        self._pending: Future[float] = executor.submit(
            coverage_upper_bound,
            problem,
            travel,
            facts,
            time_limit_s=time_limit_s,
            mandatory_at_least=mandatory_at_least,
        )
        executor.shutdown(wait=False)

    def ready(self) -> float | None:
        """The bound if it is computed already, else None (never waits)."""
        return self._pending.result() if self._pending.done() else None

    def collect(self, deadline: float, at_least_s: float = 0.0) -> float | None:
        """The bound, waiting for it until `deadline` (a `time.perf_counter()` value) but at
        least `at_least_s` seconds; None if it is still running then."""
        try:
            return self._pending.result(timeout=max(at_least_s, deadline - time.perf_counter()))
        except FutureTimeout:
            return None
