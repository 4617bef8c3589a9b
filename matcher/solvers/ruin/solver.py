"""`ruin`: ruin and recreate on greedy's own insertion engine, accepted by simulated annealing.

Start from the greedy plan, kept in greedy's week state with its cached insertions. Each
iteration takes a part of the plan out (`operators`: SISR strings, related visits, a
volunteer-day, a recipient's week, the visits around a left-out important occurrence, a need of
several visits a week moved between days, one of the latest visits, random; in turn, or drawn
by adaptive weights; at most `max_removed_share` of the plan) and puts the taken-out
occurrences back, with the left-out occurrences that could use the freed volunteer-days, by
greedy's regret rule with blinks, in random, priority or hardest-first order (`engine`); the
`familiar` ruin puts a recipient's need back with a volunteer they know. Then the late visits of
the routes it took visits out of start as early as their place allows (`Engine.compact`: a visit
keeps its time when its neighbours leave). Team visits and linked pairs move as one. The change
is judged incrementally (no re-check): plans rank lexicographically by mandatory occurrences,
weighted coverage, then the cost part of the policy objective in its own points
(`Engine.cost_points`: continuity minus travel, hourly cost, lateness and largest lateness; all
of `objective_breakdown` but coverage and fairness), so that at equal coverage a plan ranked
higher is one the objective ranks higher. The annealing judges a step the same way: a change of
mandatory occurrences or coverage by the coverage temperature (in mean priorities), a step at
equal coverage by its change of cost points at the cost temperature (in mean cost points per
visit of the greedy plan, SISR's geometric schedule); a worse plan is kept with the annealing
probability, a rejected move is undone exactly (the cached insertions it changed given back from
its journal). The statistics say, per operator, its steps, those kept, the new best plans and
the coverage they gained.

The search keeps `polish_share` of the time limit back (or, once it stops early, stalled or at
the bound, takes `polish_time_s`, within the limit): its best plan then goes a day at a time
through the floating-routes engine (`matcher.solvers.floating.week`), where visit times float,
so travel and lateness on routes with windows fall where fixed-time insertion cannot move them;
the polished plan is kept only when it ranks no lower and the checker accepts it. With
`iterations` the engine makes `polish_iterations` steps a day's routes (repeatable runs).

The best plan is handed to `assemble_plan`, whose checker judges it; the greedy plan is returned
instead if it ranks above by the policy objective (`lns.plan_score`), so `ruin` never returns
less than greedy. Deterministic for a seed and an `iterations` budget (the time limit may stop a
run first); otherwise it searches until the time limit, `stale_iterations` without improvement,
or coverage meeting the bound. Until the relaxation's bound is ready (it is computed in a thread
beside the search), the bound is every requested visit (`requested_coverage`): a plan with all
of them stops the search at once, whether or not the relaxation has finished, and that bound is
reported if the relaxation does not finish in time.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from matcher.models import Problem, Visit
from matcher.rules import NeedFacts, need_facts
from matcher.rules.mandatory import mandatory_counts, ranks_above
from matcher.rules.visits import visit_of
from matcher.solvers.base import (
    SearchOutcome,
    SearchSolver,
    SolveRequest,
    finishing_reserve_s,
    meets_bound,
    weighted_coverage,
)
from matcher.solvers.bounds import BackgroundBound, requested_coverage
from matcher.solvers.greedy.planner import WARM_START_SHARE, GreedyPlanner
from matcher.solvers.greedy.setup import GreedyParameters
from matcher.solvers.objective import objective_breakdown
from matcher.solvers.ruin.engine import Engine, Move
from matcher.solvers.ruin.operators import OPERATORS, Ruins
from matcher.travel import TravelModel

ORDERS = ("priority", "random", "hardest")
"""The orders in which taken-out occurrences are put back."""
REPORT_EVERY_S = 0.5
"""Improvements are reported to `progress` at most this often (a report builds the visits)."""
COST_TOLERANCE = 1e-6
"""Cost points below which two plans of equal coverage rank alike (running sums drift)."""
SEGMENT = 100
"""Iterations between two updates of the adaptive operator weights."""
SCORE_BEST, SCORE_BETTER, SCORE_ACCEPTED = 3.0, 1.0, 0.3
"""What a step earns its operator: a new best plan, a better current plan, a worse one kept."""
MIN_OPERATOR_WEIGHT = 0.1
"""No operator's weight falls below this share of the mean: each keeps being tried."""
POLISH_SHARE = 0.1
"""Share of the time limit the floating-routes engine gets at the end (`floating.week`): the
ruin search fixes visit times, the engine lets them float, so travel on routes with windows
falls there; coverage is won mostly by the search before (on a 600-recipient week at 60 s a
quarter for the engine covered less than a tenth: benchmarks/README.md)."""
POLISH_ITERATIONS = 100
"""The engine's iterations per day's routes in a run with an iteration budget."""


class RuinParameters(BaseModel):
    """Settings of the ruin-and-recreate search."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iterations: int | None = Field(
        default=None, ge=0, description="stop after this many; repeatable runs need it"
    )
    default_time_limit_s: float = Field(
        default=60.0, gt=0, description="the time limit when the caller gives none"
    )
    min_removed: int = Field(default=3, ge=1, description="fewest visits taken out a step")
    max_removed: int = Field(default=25, ge=1, description="most visits taken out a step")
    max_string: int = Field(default=6, ge=1, description="longest SISR string")
    max_removed_share: float = Field(
        default=0.3,
        gt=0,
        le=1,
        description="most visits taken out a step, as a share of the visits that may move "
        "(at least min_removed): a small plan is not ruined whole",
    )
    compact: bool = Field(
        default=True,
        description="after each step, start the late visits of the routes it took visits out "
        "of as early as their place allows (`Engine.compact`)",
    )
    blink_rate: float = Field(
        default=0.05, ge=0, lt=1, description="chance to skip each cheapest insertion"
    )
    start_temperature: float = Field(
        default=0.5,
        ge=0,
        description="the annealing's first temperature for coverage, in mean priorities",
    )
    end_temperature: float = Field(
        default=0.005, ge=0, description="its last temperature for coverage, in mean priorities"
    )
    cost_start_temperature: float = Field(
        default=0.3,
        ge=0,
        description="the annealing's first temperature for the cost points at equal coverage, "
        "in mean cost points per visit of the greedy plan",
    )
    cost_end_temperature: float = Field(
        default=0.003,
        ge=0,
        description="its last temperature for the cost points, in mean cost points per visit",
    )
    extra_left_out: int = Field(
        default=10,
        ge=0,
        description="left-out occurrences that could use the freed volunteer-days, put back too",
    )
    regret_window: int = Field(
        default=2,
        ge=1,
        le=100,
        description="pending occurrences that compete by greedy's regret rule (1: in order)",
    )
    stale_iterations: int | None = Field(
        default=3000, ge=1, description="stop after this many in a row without improvement"
    )
    compute_bound: bool = Field(
        default=True, description="compute the coverage relaxation bound (in a second thread)"
    )
    adaptive_operators: bool = Field(
        default=False,
        description="draw ruin operators by weights that follow their recent success "
        "(adaptive large neighbourhood search) rather than in turn",
    )
    weight_reaction: float = Field(
        default=0.2, gt=0, le=1, description="how fast the operator weights follow success"
    )
    polish_share: float = Field(
        default=POLISH_SHARE,
        ge=0,
        lt=1,
        description="share of the time limit kept at the end for the floating-routes engine "
        "(0: no polish)",
    )
    polish_time_s: float | None = Field(
        default=None,
        ge=0,
        description="seconds the floating-routes engine may polish once the search has stopped "
        "(stalled, coverage at the bound, iterations), within the time limit; None: its share",
    )
    polish_iterations: int | None = Field(
        default=POLISH_ITERATIONS,
        ge=0,
        description="the engine's iterations per day's routes when `iterations` is given "
        "(repeatable runs); None: until its time",
    )


Rank = tuple[int, float, float]
"""(mandatory occurrences, weighted coverage, cost points: `Engine.cost_points`)."""
Value = tuple[float, float]
"""What the annealing weighs: (mandatory occurrences and coverage in priorities, cost
points)."""


def _better(first: Rank, second: Rank) -> bool:
    """Whether a plan ranked `first` comes before one ranked `second`: lexicographically, with
    mandatory occurrences before coverage before the cost points."""
    if first[0] != second[0]:
        return first[0] > second[0]
    if abs(first[1] - second[1]) > 1e-9:
        return first[1] > second[1]
    return first[2] > second[2] + COST_TOLERANCE


class RuinSearch:
    """One run: the greedy week, the engine, the operators and the annealing."""

    def __init__(self, request: SolveRequest, parameters: RuinParameters) -> None:
        self.request = request
        self.parameters = parameters
        problem = request.problem
        self.limit = request.limit_s(parameters.default_time_limit_s)
        self.deadline = request.started_at + self.limit - finishing_reserve_s(problem, self.limit)
        self.facts = need_facts(problem, request.travel)
        greedy_deadline = request.started_at + WARM_START_SHARE * (
            self.limit - finishing_reserve_s(problem, self.limit)
        )
        self.planner = GreedyPlanner(
            problem,
            request.travel,
            self.facts,
            request.seed,
            GreedyParameters(),
            greedy_deadline,
            request.stop_requested,
        )
        self.planner.run()
        self.greedy_visits = self.planner.visits()
        request.report(
            "greedy", self.greedy_visits, self.facts, solver="ruin", default_limit_s=self.limit
        )
        self.rng = random.Random(request.seed)
        self.engine = Engine(self.planner, self.rng)
        self.ruins = Ruins(self.engine, self.rng, parameters.max_string)
        self.weights = problem.policy.weights
        priorities = [info.priority for info in self.planner.needs] or [1.0]
        mean = sum(priorities) / len(priorities)
        self.start_temperature = parameters.start_temperature * mean
        self.end_temperature = max(parameters.end_temperature * mean, 1e-9)
        per_visit = self._cost_per_visit()
        self.cost_start_temperature = parameters.cost_start_temperature * per_visit
        self.cost_end_temperature = max(parameters.cost_end_temperature * per_visit, 1e-9)
        self.mandatory_weight = 1.0 + sum(
            info.priority * info.need.visits_per_week for info in self.planner.needs
        )
        self.left_out_by_slot = self._left_out_index()
        self.operator_weights = [1.0] * len(OPERATORS)
        self.operator_scores = [0.0] * len(OPERATORS)
        self.operator_uses = [0] * len(OPERATORS)
        self.operator_counts = {name: [0, 0, 0, 0.0] for name in OPERATORS}
        """Per operator: steps, steps kept, new best plans, and the weighted coverage those
        gained."""
        self.last_operator = 0

    def _left_out_index(self) -> dict[tuple[int, int], list[int]]:
        """For each (volunteer, day), the needs (leaders or on their own) it could serve among
        their nearest candidates."""
        index: dict[tuple[int, int], list[int]] = {}
        reach = 2 * self.planner.parameters.candidate_volunteers
        for info in self.planner.needs:
            if info.leader >= 0 or info.unplannable:
                continue
            for volunteer in info.candidates[:reach]:
                for day in info.candidate_days[volunteer]:
                    index.setdefault((volunteer, day), []).append(info.index)
        return index

    # ------------------------------------------------------------- judging

    def _cost_per_visit(self) -> float:
        """The mean size of the cost terms per visit of the greedy plan (every term counted
        positive), the unit of the cost temperature; 1 point when the plan has none."""
        terms = self.engine.cost_terms()
        size = sum(abs(value) for name, value in terms.items() if name != "coverage")
        visits = len(self.engine.state.placed)
        return size / visits if visits and size > 0 and math.isfinite(size) else 1.0

    def rank(self) -> Rank:
        """The plan's rank: mandatory occurrences, weighted coverage, cost points."""
        engine = self.engine
        return (engine.mandatory, engine.coverage, engine.cost_points())

    def value(self) -> Value:
        """The annealing's value: mandatory occurrences (each above all coverage) and
        coverage, in priorities; and the cost points."""
        engine = self.engine
        return (
            self.mandatory_weight * engine.mandatory + engine.coverage,
            engine.cost_points(),
        )

    def temperature(self, progress: float) -> float:
        """The coverage temperature: geometric cooling from its start to its end over the
        run."""
        return _cooled(self.start_temperature, self.end_temperature, progress)

    def cost_temperature(self, progress: float) -> float:
        """The cost temperature: geometric cooling from its start to its end (SISR)."""
        return _cooled(self.cost_start_temperature, self.cost_end_temperature, progress)

    def accept(self, current: Value, value: Value, progress: float) -> bool:
        """Whether the annealing keeps a step from `current` to `value`: one that changes
        coverage by that change at the coverage temperature, one at equal coverage by its change
        of cost points at the cost temperature; never worse by chance at temperature 0."""
        change = value[0] - current[0]
        if abs(change) > 1e-9:
            temperature = self.temperature(progress)
        else:
            change = value[1] - current[1]
            if change >= -COST_TOLERANCE:
                return True
            temperature = self.cost_temperature(progress)
        if change >= 0:
            return True
        return temperature > 0 and self.rng.random() < math.exp(change / temperature)

    # ------------------------------------------------------------ one step

    def step(self, iteration: int, operator: str | None = None) -> Move:
        """Ruin part of the week and recreate it (with the iteration's operator, or the one
        given); the move made."""
        parameters, engine, rng = self.parameters, self.engine, self.rng
        if operator is None:
            operator = self._operator(iteration)
        self.last_operator = OPERATORS.index(operator)
        most = min(
            parameters.max_removed,
            int(parameters.max_removed_share * len(self.engine.state.placed)),
        )
        size = rng.randint(parameters.min_removed, max(parameters.min_removed, most))
        ruin = self.ruins.ruin(operator, size)
        seeds, target = ruin.seeds, ruin.target
        move = engine.begin_move()
        queue: list[int] = []
        seen: set[int] = set()
        freed: set[tuple[int, int]] = set()
        for seed in seeds:
            if id(seed) in seen:
                continue
            unit = engine.unit_of(seed)
            seen.update(id(placed) for placed in unit)
            if engine.remove_unit(unit, move):
                queue.append(unit[0].need)
                for removed in move.removed[-len(unit) :]:
                    freed.update((slot[0], slot[1]) for slot in removed.slots)
        queued = {need: queue.count(need) for need in queue}
        extra: list[int] = []
        if target >= 0 and engine.missing[target] > queued.get(target, 0):
            extra.append(target)
            queued[target] = queued.get(target, 0) + 1
        candidates: set[int] = set()
        for slot in sorted(freed):
            candidates.update(self.left_out_by_slot.get(slot, ()))
        needs = self.planner.needs
        left_out = sorted(
            (need for need in candidates if engine.missing[need] > queued.get(need, 0)),
            key=lambda need: (not needs[need].mandatory, -needs[need].priority, needs[need].tie),
        )
        extra.extend(left_out[: parameters.extra_left_out])
        order = ORDERS[rng.randrange(len(ORDERS))]
        everything = queue + extra
        if order == "random":
            rng.shuffle(everything)
            everything.sort(key=lambda need: not needs[need].mandatory)
        elif order == "priority":
            everything.sort(key=lambda need: (not needs[need].mandatory, -needs[need].priority))
        else:
            everything.sort(
                key=lambda need: (
                    not needs[need].mandatory,
                    needs[need].hardness,
                    -needs[need].priority,
                )
            )
        if target >= 0 and target in everything:
            if ruin.together:
                first = [need for need in everything if need == target]
                everything = first + [need for need in everything if need != target]
            else:
                everything.remove(target)
                everything.insert(0, target)
            everything.sort(key=lambda need: not needs[need].mandatory)
        prefer = {target: ruin.prefer} if ruin.prefer >= 0 else None
        engine.recreate(everything, move, parameters.blink_rate, parameters.regret_window, prefer)
        if parameters.compact:
            engine.compact(freed, move)
        return move

    def _operator(self, iteration: int) -> str:
        """The iteration's ruin operator: in turn, or drawn by the adaptive weights."""
        if not self.parameters.adaptive_operators:
            return OPERATORS[iteration % len(OPERATORS)]
        return self.rng.choices(OPERATORS, weights=self.operator_weights)[0]

    def _score(self, iteration: int, score: float) -> None:
        """Credit the last step's operator; every `SEGMENT` iterations move each weight toward
        its operator's mean score, no lower than `MIN_OPERATOR_WEIGHT` of the mean weight."""
        self.operator_scores[self.last_operator] += score
        self.operator_uses[self.last_operator] += 1
        if iteration % SEGMENT:
            return
        reaction = self.parameters.weight_reaction
        for index, uses in enumerate(self.operator_uses):
            if uses:
                mean = self.operator_scores[index] / uses
                self.operator_weights[index] += reaction * (mean - self.operator_weights[index])
        floor = MIN_OPERATOR_WEIGHT * sum(self.operator_weights) / len(self.operator_weights)
        self.operator_weights = [max(floor, weight) for weight in self.operator_weights]
        self.operator_scores = [0.0] * len(OPERATORS)
        self.operator_uses = [0] * len(OPERATORS)

    # --------------------------------------------------------------- loop

    def snapshot(self) -> list[tuple[int, int, int, tuple[str, ...]]]:
        return [
            (placed.need, placed.day, placed.start, placed.volunteers)
            for placed in self.engine.state.placed
        ]

    def visits_of(self, snapshot: list[tuple[int, int, int, tuple[str, ...]]]) -> list[Visit]:
        problem, needs = self.request.problem, self.planner.needs
        return [
            visit_of(problem, needs[need].facts, day, start, volunteers)
            for need, day, start, volunteers in snapshot
        ]

    def run(self) -> SearchOutcome:
        request, parameters = self.request, self.parameters
        clock = request.started_at
        bound: float | None = None
        pending_bound = (
            BackgroundBound(
                request.problem,
                request.travel,
                self.facts,
                time_limit_s=max(5.0, 0.6 * self.limit),
                mandatory_at_least=self.engine.mandatory,
            )
            if parameters.compute_bound
            else None
        )
        ceiling = requested_coverage(self.facts) if parameters.compute_bound else None
        best = self.snapshot()
        best_rank = self.rank()
        current = self.value()
        iteration = improvements = last_improvement = accepted = 0
        bound_met_at: float | None = None
        last_report = time.perf_counter()
        began = time.perf_counter()
        stop_reason = "time limit"
        search_deadline = self.deadline - parameters.polish_share * self.limit
        while True:
            now = time.perf_counter()
            if now >= search_deadline:
                break
            if request.stop_requested():
                stop_reason = "stopped"
                break
            if parameters.iterations is not None and iteration >= parameters.iterations:
                stop_reason = "iterations"
                break
            if (
                parameters.stale_iterations is not None
                and iteration - last_improvement >= parameters.stale_iterations
            ):
                stop_reason = "stale"
                break
            if bound is None and pending_bound is not None:
                bound = pending_bound.ready()
            if meets_bound(best_rank[1], ceiling if bound is None else bound):
                bound_met_at = now
                stop_reason = "bound met"
                break
            if parameters.iterations is not None:
                progress = iteration / max(1, parameters.iterations)
            else:
                progress = (now - began) / max(1e-9, self.deadline - began)
            move = self.step(iteration)
            iteration += 1
            value = self.value()
            counts = self.operator_counts[OPERATORS[self.last_operator]]
            counts[0] += 1
            if self.accept(current, value, progress):
                improved = value[0] > current[0] + 1e-9 or (
                    abs(value[0] - current[0]) <= 1e-9 and value[1] > current[1] + COST_TOLERANCE
                )
                current = value
                accepted += 1
                counts[1] += 1
            else:
                self.engine.undo(move)
                self._score(iteration, 0.0)
                continue
            rank = self.rank()
            if not _better(rank, best_rank):
                self._score(iteration, SCORE_BETTER if improved else SCORE_ACCEPTED)
            else:
                self._score(iteration, SCORE_BEST)
                counts[2] += 1
                counts[3] += rank[1] - best_rank[1]
                best, best_rank = self.snapshot(), rank
                improvements += 1
                last_improvement = iteration
                if (
                    request.progress is not None
                    and time.perf_counter() - last_report >= REPORT_EVERY_S
                ):
                    last_report = time.perf_counter()
                    request.report(
                        "search",
                        self.visits_of(best),
                        self.facts,
                        solver="ruin",
                        default_limit_s=self.limit,
                        bound=bound,
                    )
        best, polish = self._polish(best, stop_reason)
        if bound is None and pending_bound is not None and not request.stop_requested():
            bound = pending_bound.collect(self.deadline)
        if bound is None:
            bound = ceiling
        if polish.get("kept") == "polished":
            best_rank = (
                best_rank[0],
                _plan_rank(self.facts, self.visits_of(best))[1],
                *best_rank[2:],
            )
        if bound_met_at is None and meets_bound(best_rank[1], bound):
            bound_met_at = time.perf_counter()
        visits, kept = self._final(best)
        needs = {need_id: fact.need for need_id, fact in self.facts.items()}
        return SearchOutcome(
            visits=visits,
            status="TIME_LIMIT" if stop_reason == "time limit" else "FEASIBLE",
            bound=bound,
            facts=self.facts,
            stopped=self.planner.stopped,
            warnings=self.planner.setup.warnings,
            statistics={
                "iterations": iteration,
                "accepted": accepted,
                "improvements": improvements,
                "last_improvement_iteration": last_improvement,
                "stop_reason": stop_reason,
                "bound_met_s": None if bound_met_at is None else round(bound_met_at - clock, 3),
                "kept": kept,
                "polish": polish,
                "operators": {
                    name: {
                        "steps": int(steps),
                        "kept": int(kept_steps),
                        "best": int(best_steps),
                        "coverage_gained": round(gained, 6),
                    }
                    for name, (steps, kept_steps, best_steps, gained) in (
                        self.operator_counts.items()
                    )
                },
                "operator_weights": {
                    name: round(weight, 3)
                    for name, weight in zip(OPERATORS, self.operator_weights, strict=True)
                },
                "greedy_weighted_coverage": weighted_coverage(self.facts, self.greedy_visits),
                "greedy_stopped_by_time_limit": self.planner.stopped,
                **mandatory_counts(needs, visits),
            },
        )

    def _polish(
        self, best: list[tuple[int, int, int, tuple[str, ...]]], stop_reason: str
    ) -> tuple[list[tuple[int, int, int, tuple[str, ...]]], dict[str, Any]]:
        """The best plan through the floating-routes engine (`floating.week.polish_week`) for
        its share of the limit, or `polish_time_s` once the search stopped early, within the
        time limit; the polished plan when it ranks no lower, and what happened."""
        parameters, request = self.parameters, self.request
        left = self.deadline - time.perf_counter()
        budget = parameters.polish_share * self.limit
        if parameters.polish_time_s is not None and stop_reason != "time limit":
            budget = max(budget, parameters.polish_time_s)
        budget = min(budget, left)
        if (
            budget <= 0
            or request.stop_requested()
            or (parameters.polish_share <= 0 and parameters.polish_time_s is None)
        ):
            return best, {"kept": "no time"}
        from matcher.solvers.floating.week import polish_week

        result = polish_week(
            self.planner.setup,
            best,
            budget,
            seed=request.seed,
            iterations=parameters.polish_iterations if parameters.iterations is not None else None,
            fixed=self.planner.fixed,
            stop=request.stop_requested,
        )
        return result.placements, {"budget_s": round(budget, 3), **result.statistics}

    def _final(self, best: list[tuple[int, int, int, tuple[str, ...]]]) -> tuple[list[Visit], str]:
        """The best plan found, or greedy's where that ranks above it by mandatory occurrences,
        coverage and then the policy objective."""
        found = self.visits_of(best)
        greedy = self.greedy_visits
        found_rank = _plan_rank(self.facts, found)
        greedy_rank = _plan_rank(self.facts, greedy)
        if ranks_above(greedy_rank, found_rank, tolerance=1e-9):
            return greedy, "greedy"
        if found_rank[0] == greedy_rank[0] and abs(found_rank[1] - greedy_rank[1]) <= 1e-9:
            problem, travel = self.request.problem, self.request.travel
            if (
                _policy_score(problem, travel, self.facts, greedy)
                > _policy_score(problem, travel, self.facts, found) + 1e-6
            ):
                return greedy, "greedy"
        return found, "search"


def _policy_score(
    problem: Problem, travel: TravelModel, facts: dict[str, NeedFacts], visits: list[Visit]
) -> float:
    """The policy objective of a set of visits, fairness left out: what `lns` ranks by
    (`lns.plan_score`, not imported here: it would load CP-SAT)."""
    terms = objective_breakdown(problem, travel, facts, visits)
    return terms["total"] - terms["fairness"]


def _plan_rank(facts: dict[str, NeedFacts], visits: list[Visit]) -> tuple[int, float]:
    """(mandatory occurrences, weighted coverage) of a set of visits."""
    mandatory = sum(1 for visit in visits if facts[visit.need].need.mandatory)
    return mandatory, weighted_coverage(facts, visits)


class RuinSolver(SearchSolver[RuinParameters]):
    """`ruin` behind the solver protocol (`matcher.solvers.base.Solver`); it ignores a warm
    start: it starts from greedy's week, whose insertions it reuses."""

    name = "ruin"
    parameters_type = RuinParameters

    def search(self, request: SolveRequest, parameters: RuinParameters) -> SearchOutcome:
        """The ruin-and-recreate search (module docstring)."""
        return RuinSearch(request, parameters).run()


def _cooled(start: float, end: float, progress: float) -> float:
    """Geometric cooling from `start` to `end` at `progress` (0 to 1) of the run."""
    progress = min(1.0, max(0.0, progress))
    return float(start * (end / start) ** progress if start > 0 else 0.0)
