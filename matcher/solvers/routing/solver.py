"""`solve_routing` and the `routing` solver behind the protocol of `matcher.solvers.base`."""

from __future__ import annotations

from typing import Any

from matcher.models import Plan, Problem, Visit
from matcher.rules import need_facts
from matcher.rules.mandatory import mandatory_planned, ranks_above
from matcher.rules.visits import visit_of
from matcher.solvers.base import (
    BOUND_MET_S,
    SearchOutcome,
    SearchSolver,
    SolveRequest,
    finishing_reserve_s,
    run_solver,
    usable_visits,
    weighted_coverage,
)
from matcher.solvers.bounds import BackgroundBound, requested_coverage
from matcher.solvers.greedy import GreedyStart, greedy_start
from matcher.solvers.routing.builder import Network, OutOfTime, Routed
from matcher.solvers.routing.dimensions import RouteModel
from matcher.solvers.routing.finisher import Finisher
from matcher.solvers.routing.parameters import RoutingParameters
from matcher.solvers.routing.search import Search
from matcher.travel import TravelModel

NOT_MODELLED_TEAM = (
    "The routing solver did not plan team visits (more than one volunteer at once) with these "
    "parameters; use another solver or plan_team_visits=True."
)


def _visits(problem: Problem, network: Network, placed: list[Routed]) -> list[Visit]:
    """The visits of the timed routes (numbered by `assemble_plan`)."""
    return [
        visit_of(
            problem,
            item.group.facts,
            item.group.day,
            item.start,
            sorted(network.vehicles[vehicle].volunteer.id for vehicle in item.vehicles),
        )
        for item in placed
    ]


def solve_routing(
    problem: Problem,
    travel: TravelModel | None = None,
    *,
    seed: int = 0,
    time_limit_s: float | None = None,
    parameters: RoutingParameters | None = None,
    warm_start: Plan | None = None,
    language: str | None = None,
) -> Plan:
    """Plan the week with OR-Tools routing, then time the routes exactly; every planned visit
    keeps the hard rules and every unplanned occurrence says why.

    Parameters:
        problem: the checked week.
        travel: its travel model (built from the problem when None).
        seed: shuffles the order of the nodes (ties in the search) and seeds the greedy plan.
        time_limit_s: seconds for the whole solve, positive and finite; None:
            `parameters.default_time_limit_s`.
        parameters: the solver's knobs (`RoutingParameters`; None: the defaults).
        warm_start: a plan whose visits become the first routes (as many as the model
            accepts); without one, the greedy plan when `greedy_warm_start` is on.
        language: of the unplanned visits' sentences (default: the policy's).

    The plan's bound on weighted coverage is the relaxation of `matcher.solvers.bounds`,
    computed beside the search and waited for no longer than the time limit (else every
    requested visit counts). Once a solution's coverage meets the bound, the search polishes it
    for `polish_after_bound_s` and stops. The status is TIME_LIMIT when the time limit stopped
    the search (or the model's build), else FEASIBLE: travel and the other terms are never
    proven optimal. `plan.solver.statistics` says what happened: `search_status`, `stopped_by`,
    the first solutions tried and the one the search started from, `timing_status` (the
    finishing pass), `bound_source`, `bound_met_s` (seconds into the solve when coverage met
    the bound) and, when the routing search gave no plan, `fallback`
    (the warm start if the checker accepts it, else the greedy plan).
    """
    return run_solver(
        RoutingSolver(), problem, travel, seed, time_limit_s, parameters, warm_start, language
    )


def _search_statistics(search: Search, model: RouteModel) -> dict[str, Any]:
    """What the search did, for `plan.solver.statistics`."""
    report = search.report
    return {
        "stopped_by": report.stopped_by,
        "solutions": report.solutions,
        "first_solutions": report.first_solutions,
        "first_solution": report.first_solution,
        "warm_start_used": report.warm_start_used,
        "search_objective": report.search_objective,
        "cost_scale": model.scale,
    }


def _repairs_caps(network: Network) -> bool:
    """Whether the weekly caps are left to the finishing pass (someone has one)."""
    return network.settings.weekly_caps == "repair" and any(
        volunteer.max_minutes_per_week is not None for volunteer in network.problem.volunteers
    )


ROUTING_KIB_PER_NODE_VEHICLE = 2.0
"""Memory of the OR-Tools routing model per node and vehicle (its variables' domains span the
vehicles): 1.9 KiB measured on the bundled community (994 nodes, 193 vehicles, 352 MiB with its
search), 1.45 KiB on a 600-recipient week (4,125 nodes, 555 vehicles, 3.3 GiB at 90 s, when the
search found no routes at all and greedy's plan came back)."""
ROUTING_BASE_MIB = 64.0
"""What the routing search needs whatever the size."""


def routing_memory_mib(nodes: int, vehicles: int) -> float:
    """The routing model's memory in MiB, estimated before it is allocated."""
    return ROUTING_BASE_MIB + ROUTING_KIB_PER_NODE_VEHICLE * nodes * vehicles / 1024


class OverMemory(Exception):
    """The routing model is estimated over the memory budget: it is not built."""


class RoutingSolver(SearchSolver[RoutingParameters]):
    """`routing` behind the solver protocol (`matcher.solvers.base.Solver`)."""

    name = "routing"
    declines_sessions = True
    parameters_type = RoutingParameters

    def search(self, request: SolveRequest, parameters: RoutingParameters) -> SearchOutcome:
        """Route, time the routes exactly, fall back when the routing search gives no plan
        (`solve_routing` says how)."""
        problem, travel, seed = request.problem, request.travel, request.seed
        began = request.started_at
        limit = request.limit_s(parameters.default_time_limit_s)
        work_s = limit - finishing_reserve_s(problem, limit)
        """The time limit less what assembling the plan needs: when the search must be done."""
        warm_start = request.warm_start
        facts = need_facts(problem, travel)
        statistics: dict[str, Any] = {}
        greedy: GreedyStart | None = None
        if warm_start is None and parameters.greedy_warm_start:
            greedy = greedy_start(request, facts, limit, solver="routing")
            warm_start = greedy.plan
            statistics.update(
                greedy_s=round(greedy.seconds, 3), greedy_stopped_by_time_limit=greedy.stopped
            )
        # The bound starts after greedy, which its thread would slow down (one interpreter lock).
        pending_bound = (
            BackgroundBound(
                problem,
                travel,
                facts,
                time_limit_s=max(
                    0.1, min(parameters.bound_time_share * work_s, work_s - request.elapsed_s())
                ),
            )
            if parameters.compute_bound
            else None
        )
        network = Network(problem, travel, parameters, seed, facts)
        finishing_budget = min(
            parameters.max_finishing_time_s, parameters.finishing_time_share * work_s
        )
        routed: list[Routed] | None = None
        status = "FEASIBLE"
        try:
            deadline = began + work_s - finishing_budget
            if greedy is not None and greedy.stopped:
                raise OutOfTime
            network.build(deadline)
            budget_mib = request.memory_budget_mib(parameters.max_memory_mib)
            estimate_mib = routing_memory_mib(network.node_count, len(network.vehicles))
            statistics.update(memory_budget_mib=budget_mib, model_estimate_mib=round(estimate_mib))
            if estimate_mib > budget_mib:
                raise OverMemory
            if network.vehicles and network.groups:
                model = RouteModel(network)
                model.build(deadline)
        except OverMemory:
            statistics["search_status"] = (
                f"model estimated at {estimate_mib:.0f} MiB, over the memory budget of "
                f"{budget_mib:.0f} MiB: not built"
            )
        except OutOfTime:
            statistics["search_status"] = "model build ran out of time"
            status = "TIME_LIMIT"
        else:
            if not (network.vehicles and network.groups):
                routed = []
                statistics.update(search_status="EMPTY", stopped_by="nothing to plan")
            else:
                search = Search(model, parameters, pending_bound, request)
                search_budget = max(0.05, work_s - request.elapsed_s() - finishing_budget)
                routed, statistics["search_status"] = search.run(search_budget, warm_start)
                statistics.update(_search_statistics(search, model))
                if search.report.bound_met_at is not None:
                    statistics[BOUND_MET_S] = search.report.bound_met_at - began
                if search.report.stopped_by == "time limit":
                    status = "TIME_LIMIT"
        statistics.update(nodes=network.node_count, vehicles=len(network.vehicles))
        visits: list[Visit] | None = None
        timing_status = "none"
        if routed is not None:
            remaining = max(0.05, work_s - request.elapsed_s())
            finisher = Finisher(network, routed, allow_drops=_repairs_caps(network))
            placed, timing_status = finisher.solve(
                min(remaining, max(finishing_budget, 0.05)), seed
            )
            if not (finisher.allow_drops and timing_status.startswith("routing")):
                visits = _visits(problem, network, placed)
        statistics["timing_status"] = timing_status
        needs = {need_id: need.need for need_id, need in facts.items()}
        if visits is not None and warm_start is not None:
            start_rank = (
                mandatory_planned(needs, warm_start.visits),
                weighted_coverage(facts, warm_start.visits),
            )
            rank = (mandatory_planned(needs, visits), weighted_coverage(facts, visits))
            if ranks_above(start_rank, rank) and usable_visits(request, warm_start) is not None:
                visits = list(warm_start.visits)
                statistics["fallback"] = "warm start (more coverage than the routes)"
        if visits is None:
            visits = usable_visits(request, warm_start)
            if visits is not None:
                statistics["fallback"] = "greedy" if greedy is not None else "warm start"
            else:
                if greedy is None:
                    greedy = greedy_start(request, facts, limit, solver="routing")
                visits = list(greedy.plan.visits)
                statistics["fallback"] = "greedy"
        bound = pending_bound.collect(began + work_s) if pending_bound is not None else None
        statistics["bound_source"] = "relaxation" if bound is not None else "requested"
        if bound is None:
            bound = requested_coverage(facts)
        return SearchOutcome(
            visits=visits,
            status=status,
            bound=bound,
            statistics=statistics,
            facts=facts,
            stopped=(
                greedy.stopped
                if greedy is not None and "fallback" in statistics
                else "fallback" in statistics and status == "TIME_LIMIT"
            ),
            warnings=[NOT_MODELLED_TEAM] if network.left_out_teams else [],
        )
