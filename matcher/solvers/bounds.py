"""A fast upper bound on priority-weighted coverage, for weeks too large to prove optimal.

A linear relaxation of the weekly problem, solved with HiGHS (through SciPy): each need spreads
at most its visits a week over its allowed days (no two days too close, `matcher.rules.days`),
each visit takes team-size shares of volunteers who are qualified and whose outings meet the
visit's windows that day (`matcher.rules.shared_starts`), and no volunteer gives more minutes than
their outings last, their weekly cap and their visits a day allow, nor carries more than their
capacity. Travel, the order of visits and which outing holds which visit are relaxed away (a
visit lies inside one outing, so the minutes of a day's visits never exceed the outings'), so any
plan's weighted coverage is at most this bound.

Mandatory first: solvers plan as many mandatory occurrences as they can before any optional
one. Given `mandatory_at_least`, the relaxation also asks for at least that many occurrences of
mandatory needs, so it bounds the coverage of every plan with at least that many: valid for a
solver's plan when the count is what the solver planned (or fewer), and much tighter when a
mandatory visit has to displace a more important optional one.
"""

from __future__ import annotations

import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from matcher.models import Problem, Volunteer
from matcher.rules import NeedFacts, need_facts, normalise, outings_by_day, shared_starts, too_close
from matcher.solvers.base import bound_and_gap
from matcher.travel import TravelModel

__all__ = [
    "BackgroundBound",
    "bound_and_gap",
    "coverage_upper_bound",
    "requested_coverage",
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


def _total(values: list[float | None]) -> float | None:
    """Sum of limits, or None (no limit) when any member has none."""
    return None if any(value is None for value in values) else sum(v for v in values if v)


def coverage_upper_bound(
    problem: Problem,
    travel: TravelModel,
    facts: dict[str, NeedFacts] | None = None,
    *,
    aggregate: bool | None = None,
    time_limit_s: float | None = None,
    mandatory_at_least: int = 0,
) -> float:
    """An upper bound on the sum of priorities of the visits any plan can make.

    Parameters:
        facts: the needs' facts (computed when None).
        aggregate: pool volunteers with the same qualifications; None decides by size (pooled
            first on large weeks, then exact if it can be afforded, keeping the lower).
        time_limit_s: for building the relaxation and for HiGHS; if the build does not finish
            in time, the bound is every requested visit (`requested_coverage`); if HiGHS does
            not, the plain count of what each need could at most receive (both valid, looser).
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
            )
        pooled = coverage_upper_bound(
            problem,
            travel,
            facts,
            aggregate=True,
            time_limit_s=time_limit_s,
            mandatory_at_least=mandatory_at_least,
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
        )
        return min(pooled, exact)
    facts = facts if facts is not None else need_facts(problem, travel)
    give_up_at = None if time_limit_s is None else time.perf_counter() + time_limit_s
    outings = {volunteer.id: outings_by_day(volunteer) for volunteer in problem.volunteers}
    eligible: dict[tuple[str, int], list[str]] = {}
    for number, (need_id, need) in enumerate(sorted(facts.items())):
        if number % 64 == 0 and give_up_at is not None and time.perf_counter() > give_up_at:
            return requested_coverage(facts)
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

    priorities: list[float] = []
    share_limits: list[float] = []
    upper = _Rows()
    equal = _Rows()
    day_terms: dict[tuple[str, int], list[tuple[int, NeedFacts]]] = defaultdict(list)
    recipient_terms: dict[tuple[str, int], list[tuple[int, float]]] = defaultdict(list)
    mandatory_columns: list[int] = []
    trivial = 0.0

    def new_column(priority: float, limit: float = 1.0) -> int:
        priorities.append(priority)
        share_limits.append(limit)
        return len(priorities) - 1

    for need_id, need in sorted(facts.items()):
        team = need.service.team_size
        day_columns: dict[int, int] = {}
        for day in sorted(need.late_windows_by_day):
            helpers = eligible[(need_id, day)]
            if len(helpers) < team:
                continue
            present = new_column(need.priority)
            day_columns[day] = present
            crew = [(present, -float(team))]
            counts: dict[str, int] = defaultdict(int)
            for volunteer_id in helpers:
                counts[group_of[volunteer_id]] += 1
            for group, count in sorted(counts.items()):
                share = new_column(0.0, float(min(count, team)))
                crew.append((share, 1.0))
                if team > 1:
                    upper.add([(share, 1.0), (present, -float(min(count, team)))], 0.0)
                day_terms[(group, day)].append((share, need))
            equal.add(crew, 0.0)
            recipient_terms[(need.recipient.id, day)].append((present, float(need.duration)))
        if not day_columns:
            continue
        trivial += need.priority * min(need.need.visits_per_week, len(day_columns))
        upper.add([(column, 1.0) for column in day_columns.values()], need.need.visits_per_week)
        for day, column in day_columns.items():
            for other_day, other in day_columns.items():
                if day < other_day and too_close(day, other_day, need.need.min_gap_days):
                    upper.add([(column, 1.0), (other, 1.0)], 1.0)
        if need.need.mandatory:
            mandatory_columns.extend(day_columns.values())

    week_terms: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for (group, day), terms in day_terms.items():
        people = [problem.volunteer_by_id[volunteer_id] for volunteer_id in members[group]]
        free = sum(_minutes(outings[person.id].get(day, [])) for person in people)
        upper.add([(share, float(need.duration)) for share, need in terms], free)
        visits_cap = _total([person.max_visits_per_day for person in people])
        if visits_cap is not None:
            upper.add([(share, 1.0) for share, _ in terms], visits_cap)
        capacity = _total([person.capacity for person in people])
        if capacity is not None:
            loaded = [(share, float(need.need.load)) for share, need in terms if need.need.load]
            if loaded:
                upper.add(loaded, capacity)
        week_terms[group].extend((share, float(need.duration)) for share, need in terms)
    for group, week in week_terms.items():
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

    if mandatory_at_least > 0:
        if len(mandatory_columns) < mandatory_at_least:
            return trivial
        # A hair below the count, so that HiGHS' feasibility tolerance never rejects it.
        upper.add([(column, -1.0) for column in mandatory_columns], 1e-6 - mandatory_at_least)
    columns = len(priorities)
    if columns == 0:
        return 0.0
    result = linprog(
        c=-np.asarray(priorities),
        A_ub=upper.matrix(columns) if upper.limits else None,
        b_ub=np.asarray(upper.limits) if upper.limits else None,
        A_eq=equal.matrix(columns) if equal.limits else None,
        b_eq=np.asarray(equal.limits) if equal.limits else None,
        bounds=list(zip([0.0] * columns, share_limits, strict=True)),
        method="highs-ipm",
        options={"time_limit": time_limit_s} if time_limit_s is not None else None,
    )
    if result.status != 0:
        return trivial
    # HiGHS' optimality tolerances are about 1e-7: stay safely above the true optimum.
    return min(trivial, float(-result.fun) * (1 + 1e-7) + 1e-6)


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
