"""The run of the greedy planner: the order of the occurrences, the regret rule, committing an
insertion, and the plan handed to `assemble_plan`.

Order: pinned visits first, exactly as given; then mandatory needs, higher priority, and the
hardest to serve (fewest volunteer-days that could take them). Among the first few pending
occurrences (mandatory and optional ones never compete) a regret rule picks the one that would
lose most by waiting (its best insertion much better than its second best, or only one left).
An occurrence no insertion can take is given up; `assemble_plan` says why, with the one
diagnosis of `matcher.rules`.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matcher.models import WEEKDAYS, Plan, Problem, Visit
from matcher.rules import NeedFacts, far_enough, need_facts, number_occurrences, room_for_more
from matcher.rules.visits import visit_of
from matcher.solvers.base import (
    SearchOutcome,
    SearchSolver,
    SolveRequest,
    finishing_reserve_s,
    run_solver,
)
from matcher.solvers.greedy.cache import InsertionCache, combined
from matcher.solvers.greedy.insertion import Insertions, Option
from matcher.solvers.greedy.setup import (
    CROWDING_PENALTY,
    DAYS,
    EPS,
    GreedyParameters,
    NeedInfo,
    Setup,
)
from matcher.solvers.greedy.state import FixedStop, WeekState, place_fixed
from matcher.travel import TravelModel


class GreedyPlanner:
    """One greedy run: the fixed setup, the week so far, the insertions and their cache."""

    def __init__(
        self,
        problem: Problem,
        travel: TravelModel,
        facts: dict[str, NeedFacts],
        seed: int,
        parameters: GreedyParameters,
        deadline: float | None,
        stop: Callable[[], bool] | None = None,
        fixed: Sequence[FixedStop] = (),
    ) -> None:
        self.deadline = deadline
        self.fixed = list(fixed)
        """Stops the week already has (group sessions, escorts), placed before anything."""
        self.stop = stop
        """The caller's request to stop (`SolveRequest.stop_requested`), asked like the clock."""
        self.parameters = parameters
        self.stopped = False
        """Whether the time limit stopped the run before every occurrence was tried."""
        self.given_up = 0
        self.setup = Setup(problem, travel, facts, seed, parameters, self._out_of_time)
        self.stopped = not self.setup.pruned_all
        self.state = WeekState(self.setup)
        self.insertions = Insertions(self.setup, self.state)
        self.cache = InsertionCache(self.setup, self.state, self.insertions)
        self.needs = self.setup.needs
        self.weights = self.setup.weights

    def _out_of_time(self) -> bool:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            return True
        return self.stop is not None and self.stop()

    # --------------------------------------------------------------- main loop

    def run(self) -> None:
        """Pinned visits and their linked partners, then every other occurrence in order (a
        linked pair as one), by the regret rule."""
        place_fixed(self.state, self.fixed)
        self._place_pinned()
        self._partner_pinned()
        for info in self.needs:
            if info.unplannable:
                while self.state.remaining[info.index] > 0:
                    self._give_up(info.index)
        queue = [
            info.index
            for info in sorted(self.needs, key=self._order_key)
            if info.leader < 0
            for _ in range(self.state.remaining[info.index])
        ]
        window = self.parameters.regret_candidates
        while queue:
            if self._out_of_time():
                self.stopped = True
                for need in queue:
                    self._give_up_with_partner(need)
                return
            evaluated: dict[int, tuple[Option, float] | None] = {}
            choice: tuple[float, int, Option] | None = None
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
                self._give_up_with_partner(queue.pop(hopeless))
                continue
            assert choice is not None
            _, position, option = choice
            self._commit(queue.pop(position), option)

    def _order_key(self, info: NeedInfo) -> tuple[bool, float, int, int, int]:
        """Mandatory first, then higher priority, then fewest volunteer-days; seeded ties."""
        return (not info.mandatory, -info.priority, info.hardness, info.tie, info.index)

    def _give_up(self, need: int) -> None:
        """Give up on one occurrence of the need (`assemble_plan` diagnoses it)."""
        self.state.remaining[need] -= 1
        self.given_up += 1

    def _give_up_with_partner(self, need: int) -> None:
        """Give up on one occurrence of the need and, if it leads a linked pair, its partner's."""
        self._give_up(need)
        partner = self.needs[need].partner
        if partner >= 0 and self.state.remaining[partner] > 0:
            self._give_up(partner)

    # ----------------------------------------------------------- pinned visits

    def _place_pinned(self) -> None:
        """Put every pinned visit into the plan exactly as given, before anything else."""
        setup, state = self.setup, self.state
        pinned_per_need: dict[int, int] = {}
        for pinned in setup.problem.pinned:
            need = setup.need_index[pinned.need]
            info = self.needs[need]
            day = WEEKDAYS.index(pinned.day)
            end = pinned.start + info.duration
            members = [setup.volunteer_index[volunteer] for volunteer in pinned.volunteers]
            for volunteer in dict.fromkeys(members):
                outing = state.outing_for(volunteer, day, pinned.start, end)
                trip = state.day(volunteer, day).outings[outing]
                position = sum(
                    1
                    for start, finish in zip(trip.starts, trip.ends, strict=True)
                    if (start, finish) <= (pinned.start, end)
                )
                state.insert(
                    volunteer, day, outing, position, pinned.start, end, info.place, info.need.load
                )
            state.record(info, day, pinned.start, tuple(pinned.volunteers))
            if len(set(members)) != info.team_size:
                setup.warnings.append(
                    f"pinned visit of need {info.need.id!r} on {pinned.day} has "
                    f"{len(set(members))} volunteer(s) but the service needs {info.team_size}"
                )
            state.remaining[need] = max(0, state.remaining[need] - 1)
            pinned_per_need[need] = pinned_per_need.get(need, 0) + 1
        for need, count in sorted(pinned_per_need.items()):
            info = self.needs[need]
            if count > info.need.visits_per_week:
                setup.warnings.append(
                    f"need {info.need.id!r} has {count} pinned visits but only "
                    f"{info.need.visits_per_week} visit(s) a week"
                )

    def _partner_pinned(self) -> None:
        """Give each pinned visit of a linked need its partner on that day (another volunteer,
        at the required gap), or give the partner's occurrence up; then make both needs of each
        pair wait for as many occurrences."""
        state = self.state
        for leader in self.needs:
            if leader.partner < 0:
                continue
            partner = self.needs[leader.partner]
            low, high = leader.gap
            for anchor, other, earliest, latest in (
                (leader, partner, low, high),
                (partner, leader, -high, -low),
            ):
                for placed in [item for item in state.placed if item.need == anchor.index]:
                    if placed.day in state.need_days[other.index]:
                        continue
                    if not state.remaining[other.index]:
                        continue
                    busy = {
                        self.setup.volunteer_index[volunteer] for volunteer in placed.volunteers
                    }
                    option = self.insertions.anchored_option(
                        other, placed.day, placed.start + earliest, placed.start + latest, busy
                    )
                    if option is not None:
                        self._place(other, option.day, option.start, option)
                        self.cache.touched(other, option)
                    else:
                        self._give_up(other.index)
            left = min(state.remaining[leader.index], state.remaining[partner.index])
            for info in (leader, partner):
                while state.remaining[info.index] > left:
                    self._give_up(info.index)

    # ------------------------------------------------------------ weighing

    def _evaluate_with_expansion(self, need: int) -> tuple[Option, float] | None:
        """Best option and regret, letting more candidates in while none can take the visit."""
        step = self.parameters.candidate_volunteers
        cache = self.cache
        if cache.wanted[need] == 0:
            cache.wanted[need] = step
            cache.activate(need, step)
        result = self._evaluate(need)
        while result is None and not self._out_of_time():
            cache.wanted[need] += step
            if not cache.activate(need, cache.wanted[need]):
                break
            result = self._evaluate(need)
        return result

    def _open_days(self, info: NeedInfo) -> list[bool]:
        """Per weekday index, whether a further occurrence may use it: the need's gap from its
        own days (`rules.far_enough`) and, for a linked pair, the partner's from the partner's."""
        taken = self.state.need_days[info.index]
        gap = info.need.min_gap_days
        open_day = [far_enough(day, taken, gap) for day in DAYS]
        if info.partner >= 0:
            partner = self.needs[info.partner]
            partner_taken = self.state.need_days[partner.index]
            for day in DAYS:
                open_day[day] = open_day[day] and far_enough(
                    day, partner_taken, partner.need.min_gap_days
                )
        return open_day

    def _evaluate(self, need: int) -> tuple[Option, float] | None:
        """The need's cheapest feasible insertion now and its regret (second best minus best)."""
        scored = self.scored_options(need)
        if not scored:
            return None
        best_two = heapq.nsmallest(2, scored, key=lambda entry: (entry[0], entry[1]))
        regret = math.inf if len(best_two) == 1 else best_two[1][0] - best_two[0][0]
        return best_two[0][2], regret

    def scored_options(self, need: int) -> list[tuple[float, tuple[int, ...], Option]]:
        """The need's feasible insertions now, each with its cost (the plan so far counted:
        lateness, weekly minutes, fairness, crowding of later occurrences) and its tie order."""
        options = self.cache.options(need)
        info = self.needs[need]
        state = self.state
        open_day = self._open_days(info)
        single = not combined(info)
        scored: list[tuple[float, tuple[int, ...], Option]] = []
        for option in options:
            if option is None or not open_day[option.day]:
                continue
            cost = option.cost
            if option.lateness > state.max_lateness:
                cost += self.weights.max_lateness_per_min * (option.lateness - state.max_lateness)
            if single:
                volunteer, added_min = option.volunteers[0], option.added_minutes[0]
                helper = self.setup.helpers[volunteer]
                if state.load[volunteer] + added_min > helper.max_minutes + EPS:
                    continue
                cost += self.insertions.dynamic_cost(info, volunteer, added_min)
            scored.append((cost, option.tie, option))
        if not scored:
            return scored
        gap = info.need.min_gap_days
        if info.partner >= 0:
            gap = max(gap, self.needs[info.partner].need.min_gap_days)
        later = state.remaining[need] - 1
        if gap > 1 and later > 0:
            taken = state.need_days[need]
            option_days = sorted({entry[2].day for entry in scored})
            crowded = {
                day: not room_for_more([*taken, day], option_days, gap, later)
                for day in option_days
            }
            scored = [
                (cost + CROWDING_PENALTY if crowded[option.day] else cost, tie, option)
                for cost, tie, option in scored
            ]
        return scored

    # ------------------------------------------------------------- commit

    def _commit(self, need: int, option: Option) -> None:
        """Put the visit (for a linked pair, both visits) into the plan and mark every cached
        insertion it affects as stale."""
        info = self.needs[need]
        if option.second_start >= 0:
            partner = self.needs[info.partner]
            self._place(info, option.day, option.start, option, members=slice(0, 1))
            self._place(partner, option.day, option.second_start, option, members=slice(1, 2))
        else:
            self._place(info, option.day, option.start, option)
        self.cache.touched(info, option)

    def _place(
        self,
        info: NeedInfo,
        day: int,
        start: int,
        option: Option,
        members: slice = slice(None),
    ) -> None:
        """Insert one visit into the outings of the option's volunteers (those in `members`)
        and record it."""
        end = start + info.duration
        volunteers = option.volunteers[members]
        for volunteer, outing, position in zip(
            volunteers, option.outings[members], option.positions[members], strict=True
        ):
            self.state.insert(
                volunteer, day, outing, position, start, end, info.place, info.need.load
            )
        self.state.remaining[info.index] -= 1
        ids = tuple(self.setup.helpers[volunteer].volunteer.id for volunteer in sorted(volunteers))
        self.state.record(info, day, start, ids)

    # ------------------------------------------------------------- results

    def visits(self) -> list[Visit]:
        """The visits placed (`assemble_plan` numbers their occurrences)."""
        problem = self.setup.problem
        return [
            visit_of(
                problem, self.needs[placed.need].facts, placed.day, placed.start, placed.volunteers
            )
            for placed in self.state.placed
        ]


def solve_greedy(
    problem: Problem,
    travel: TravelModel | None = None,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    parameters: GreedyParameters | None = None,
    check: bool = True,
) -> Plan:
    """Plan the week greedily; every planned visit keeps the hard rules, the rest say why not.

    The plan is put together by `matcher.solvers.base.assemble_plan`: `solver.objective` is the
    weighted coverage (the sum of the priorities of the planned visits), and every occurrence
    left out is diagnosed by the one diagnosis of `matcher.rules`. The same problem, seed and
    parameters give the same plan; the seed only breaks ties.

    Parameters:
        problem: the week to plan (a validated `Problem`).
        travel: its travel model; built from the problem when None.
        seed: breaks ties between equally good volunteers and needs.
        time_limit_s: stop inserting after this many seconds (positive and finite; None: run
            to the end). Occurrences still pending then are `not_planned` where volunteers could
            have come, and the status is `TIME_LIMIT`.
        parameters: the planner's knobs (`GreedyParameters`); the defaults when None.
        check: have the checker compute the metrics and refuse a plan that breaks a rule
            (SolverError); internal warm starts may skip it.
    """
    return run_solver(GreedySolver(), problem, travel, seed, time_limit_s, parameters, check=check)


WARM_START_SHARE = 0.9
"""Share of the time limit the greedy plan of another solver's start may take (the rest is kept
for assembling and checking the plan): greedy is fast, and its plan is the floor every search
solver returns at least."""


@dataclass(frozen=True)
class GreedyStart:
    """The greedy plan another solver starts from and falls back to: the visits only (no
    reasons, no routes, not checked: the caller checks what it keeps)."""

    plan: Plan
    stopped: bool
    """The deadline stopped greedy before it tried every occurrence."""
    seconds: float
    """How long greedy took."""


def greedy_start(
    request: SolveRequest,
    facts: dict[str, NeedFacts],
    limit_s: float,
    share: float = WARM_START_SHARE,
    *,
    solver: str = "greedy",
) -> GreedyStart:
    """The greedy plan for a search solver's start, run first with all the time it needs up to
    `share` of the request's limit (`limit_s`, counted from `request.started_at`), so that the
    search can only improve on the full greedy plan whenever greedy fits the budget."""
    began = time.perf_counter()
    deadline = request.started_at + share * (
        limit_s - finishing_reserve_s(request.problem, limit_s)
    )
    planner = GreedyPlanner(
        request.problem,
        request.travel,
        facts,
        request.seed,
        GreedyParameters(),
        deadline,
        request.stop_requested,
    )
    planner.run()
    visits = number_occurrences(planner.visits())
    plan = Plan(
        problem_name=request.problem.name, week_start=request.problem.week_start, visits=visits
    )
    request.report("greedy", visits, facts, solver=solver, default_limit_s=limit_s)
    return GreedyStart(plan, planner.stopped, time.perf_counter() - began)


class GreedySolver(SearchSolver[GreedyParameters]):
    """`greedy` behind the solver protocol (`matcher.solvers.base.Solver`); it ignores a warm
    start: the greedy planner always starts from the pinned visits."""

    name = "greedy"
    parameters_type = GreedyParameters
    plans_sessions = True

    def search(self, request: SolveRequest, parameters: GreedyParameters) -> SearchOutcome:
        """Run the greedy planner until every occurrence is tried or the time limit (None: no
        limit) is up; what is left then is `not_planned` and the status `TIME_LIMIT`."""
        problem, limit = request.problem, request.time_limit_s
        deadline = (
            None
            if limit is None
            else request.started_at + limit - finishing_reserve_s(problem, limit)
        )
        if problem.has_sessions:
            from matcher.solvers.greedy.sessions import search_with_sessions

            return search_with_sessions(request, parameters, deadline)
        facts = need_facts(problem, request.travel)
        planner = GreedyPlanner(
            problem,
            request.travel,
            facts,
            request.seed,
            parameters,
            deadline,
            request.stop_requested,
        )
        planner.run()
        visits = planner.visits()
        return SearchOutcome(
            visits=visits,
            status="TIME_LIMIT" if planner.stopped else "FEASIBLE",
            statistics={
                "visits_placed": len(visits),
                "pinned": len(problem.pinned),
                "occurrences_given_up": planner.given_up,
                "stopped_by_time_limit": planner.stopped,
            },
            facts=facts,
            stopped=planner.stopped,
            warnings=planner.setup.warnings,
        )
