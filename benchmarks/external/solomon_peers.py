"""Solomon VRPTW side by side: matcher, VROOM and PyVRP on the same instances, the same limit and
one thread each, every route set judged by the one evaluator of `benchmarks.external.solomon`.

    python -m benchmarks.external.solomon_peers --time-limit-s 20 \\
        [--instances 'C101,R101,RC101' | --instances '*'] [--peers matcher,vroom,pyvrp] \\
        [--solver routing] [--markdown]

VROOM (`pyvroom`, the `peers` extra) and PyVRP (`pyvrp`, the `peers` extra too) get the instance
in tenths of a minute (the DIMACS distance is exact in tenths, and travel time equals distance):
integer distances and durations, the customers' start windows `[ready, due]`, the service times,
the demand against the capacity, the fleet size, the depot's window. matcher gets it as
`benchmarks.external.solomon.to_problem` makes it (a week of one day), with the search allowed
to improve the cost for the whole limit (`run.cost_parameters`). Each solver's routes are then
costed with `solomon.solution_cost` and checked with `solomon.solution_violations`: a route set
that breaks a rule or leaves a customer out has no gap. Runs happen one after another in this
process. The best known comes from `bks.csv`; an instance without a row is run and shown without
a gap. Progress goes to standard error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.external import default_data_folder, finest_time_scale, solomon
from benchmarks.external.run import (
    DEFAULT_TIME_SCALE,
    FAMILY_ORDER,
    SOLVER_SEED,
    cost_parameters,
    natural_key,
)
from benchmarks.run import format_markdown_table, format_text_table, machine_lines
from matcher import api

TENTHS = 10
"""Integer units per minute (and per distance unit) handed to VROOM and PyVRP."""
PEERS = ("matcher", "vroom", "pyvrp")

Solver = Callable[[solomon.SolomonInstance, float], list[list[int]]]
"""A peer: the instance and a time limit in, route sets (customer numbers) out."""


@dataclass(frozen=True)
class PeerResult:
    """One solver on one instance, judged by the one evaluator."""

    instance: str
    family: str
    peer: str
    cost: float | None
    best_known: float | None
    wall_time_s: float
    vehicles: int = 0
    problems: tuple[str, ...] = ()
    error: str | None = None

    @property
    def valid(self) -> bool:
        """Every customer served once and every rule kept."""
        return self.error is None and not self.problems and self.cost is not None

    @property
    def gap_pct(self) -> float | None:
        """(cost - best known) / best known in percent, for a valid route set with a best known."""
        if not self.valid or self.cost is None or not self.best_known:
            return None
        return (self.cost - self.best_known) / self.best_known * 100


def _tenths_matrix(instance: solomon.SolomonInstance) -> list[list[int]]:
    size = len(instance.customers)
    return [[round(instance.distance(a, b) * TENTHS) for b in range(size)] for a in range(size)]


def solve_matcher(solver: str) -> Solver:
    """matcher's `solver`, given the whole limit to improve the cost."""

    def run(instance: solomon.SolomonInstance, time_limit_s: float) -> list[list[int]]:
        scale = finest_time_scale(instance.depot.due, DEFAULT_TIME_SCALE)
        problem = solomon.to_problem(instance, scale)
        plan = api.solve(
            problem,
            solver=solver,
            time_limit_s=time_limit_s,
            seed=SOLVER_SEED,
            parameters=cost_parameters(solver, time_limit_s),
        )
        return [list(route) for route in solomon.plan_to_routes(instance, plan)]

    return run


def solve_vroom(instance: solomon.SolomonInstance, time_limit_s: float) -> list[list[int]]:
    """VROOM with one thread, exploration level 5, the limit as its timeout."""
    import numpy as np
    import vroom  # type: ignore[import-untyped]

    matrix = np.asarray(_tenths_matrix(instance), dtype=np.uint32)
    solver_input = vroom.Input()
    solver_input.set_durations_matrix("car", matrix)
    solver_input.set_costs_matrix("car", matrix)
    depot = instance.depot
    for number in range(instance.vehicles):
        solver_input.add_vehicle(
            vroom.Vehicle(
                number,
                start=0,
                end=0,
                profile="car",
                capacity=[instance.capacity],
                time_window=vroom.TimeWindow(depot.ready * TENTHS, depot.due * TENTHS),
            )
        )
    for customer in instance.customers[1:]:
        solver_input.add_job(
            vroom.Job(
                customer.number,
                location=customer.number,
                default_service=customer.service * TENTHS,
                delivery=[customer.demand],
                time_windows=[vroom.TimeWindow(customer.ready * TENTHS, customer.due * TENTHS)],
            )
        )
    solution = solver_input.solve(
        exploration_level=5, nb_threads=1, timeout=dt.timedelta(seconds=time_limit_s)
    )
    return [
        [int(step["id"]) for step in route["steps"] if step["type"] == "job"]
        for route in solution.to_dict().get("routes", [])
    ]


def solve_pyvrp(instance: solomon.SolomonInstance, time_limit_s: float) -> list[list[int]]:
    """PyVRP's default iterated local search (one thread), stopped at the limit."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    model = Model()
    depot = instance.depot
    locations = [model.add_location(x=customer.x, y=customer.y) for customer in instance.customers]
    start = model.add_depot(locations[0])
    model.add_vehicle_type(
        num_available=instance.vehicles,
        capacity=instance.capacity,
        start_depot=start,
        end_depot=start,
        tw_early=depot.ready * TENTHS,
        tw_late=depot.due * TENTHS,
    )
    for customer in instance.customers[1:]:
        model.add_client(
            locations[customer.number],
            delivery=customer.demand,
            service_duration=customer.service * TENTHS,
            tw_early=customer.ready * TENTHS,
            tw_late=customer.due * TENTHS,
        )
    matrix = _tenths_matrix(instance)
    for origin, frm in enumerate(locations):
        for destination, to in enumerate(locations):
            if origin != destination:
                model.add_edge(
                    frm,
                    to,
                    distance=matrix[origin][destination],
                    duration=matrix[origin][destination],
                )
    result = model.solve(stop=MaxRuntime(time_limit_s), seed=SOLVER_SEED, display=False)
    # A client activity's `idx` counts the clients from 0: customer number idx + 1.
    return [
        [int(activity.idx) + 1 for activity in route if activity.is_client()]
        for route in result.best.routes()
    ]


def peer_solvers(solver: str) -> dict[str, Solver]:
    """Every peer by name (`matcher` runs `solver`)."""
    return {"matcher": solve_matcher(solver), "vroom": solve_vroom, "pyvrp": solve_pyvrp}


def run_peer(
    peer: str,
    run: Solver,
    instance: solomon.SolomonInstance,
    best_known: float | None,
    time_limit_s: float,
) -> PeerResult:
    """One peer on one instance, timed and judged (a failure is a row with its error)."""
    started = time.perf_counter()
    try:
        routes = [route for route in run(instance, time_limit_s) if route]
    except Exception as error:  # a benchmark row records any failure and carries on
        return PeerResult(
            instance.name,
            instance.family,
            peer,
            None,
            best_known,
            time.perf_counter() - started,
            error=f"{type(error).__name__}: {error}".splitlines()[0][:160],
        )
    wall = time.perf_counter() - started
    return PeerResult(
        instance.name,
        instance.family,
        peer,
        solomon.solution_cost(instance, routes),
        best_known,
        wall,
        vehicles=len(routes),
        problems=tuple(solomon.solution_violations(instance, routes)),
    )


def _cell(result: PeerResult) -> str:
    if result.error is not None:
        return "error"
    if not result.valid:
        return f"{result.cost:.1f} (invalid)"
    gap = result.gap_pct
    return f"{result.cost:.1f} ({gap:.2f} %)" if gap is not None else f"{result.cost:.1f}"


def instance_rows(results: Sequence[PeerResult], peers: Sequence[str]) -> list[list[str]]:
    """One row per instance: the best known, then each peer's cost (gap) and vehicles."""
    by_instance: dict[str, dict[str, PeerResult]] = {}
    for result in results:
        by_instance.setdefault(result.instance, {})[result.peer] = result
    rows = []
    for name in sorted(by_instance, key=natural_key):
        found = by_instance[name]
        first = next(iter(found.values()))
        row = [name, "-" if first.best_known is None else f"{first.best_known:.1f}"]
        for peer in peers:
            solved = found.get(peer)
            row.append("-" if solved is None else f"{_cell(solved)}, {solved.vehicles} veh")
        rows.append(row)
    return rows


def family_rows(results: Sequence[PeerResult], peers: Sequence[str]) -> list[list[str]]:
    """Per family and overall: each peer's mean gap over its valid instances with a best known,
    and how many of them it reached within 0.01 % of the best known."""
    families = [*FAMILY_ORDER["solomon"], "all"]
    rows = []
    for family in families:
        chosen = [r for r in results if family == "all" or r.family == family]
        if not chosen:
            continue
        row = [family, str(len({r.instance for r in chosen}))]
        for peer in peers:
            gaps = [r.gap_pct for r in chosen if r.peer == peer and r.gap_pct is not None]
            at_best = sum(1 for gap in gaps if gap <= 0.01)
            row.append(f"{statistics.mean(gaps):.2f} ({at_best} at best)" if gaps else "-")
        rows.append(row)
    return rows


def _names(text: str, known: Sequence[str]) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown)}; from {', '.join(known)}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    """Run every chosen instance with every peer and print the tables."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.external.solomon_peers")
    parser.add_argument("--data", type=Path, default=default_data_folder())
    parser.add_argument(
        "--instances",
        default="C101,C201,R101,R201,RC101,RC201",
        help="comma-separated globs on instance names (default: the first of each family)",
    )
    parser.add_argument(
        "--peers", type=lambda text: _names(text, PEERS), default=list(PEERS), help="default all"
    )
    parser.add_argument("--solver", choices=api.SOLVERS, default="routing", help="matcher's")
    parser.add_argument("--time-limit-s", type=float, default=20.0, help="default: 20")
    parser.add_argument("--markdown", action="store_true")
    arguments = parser.parse_args(argv)
    machine_lines()  # the commit the run starts from, for the report
    folder = arguments.data / "solomon"
    patterns = [part.strip() for part in arguments.instances.split(",") if part.strip()]
    paths = sorted(
        {p for p in folder.glob("*.txt") if any(fnmatch.fnmatch(p.stem, g) for g in patterns)},
        key=lambda p: natural_key(p.stem),
    )
    if not paths:
        print(f"no Solomon instance matches {arguments.instances!r} in {folder}", file=sys.stderr)
        return 2
    best = solomon.load_best_known(folder / "bks.csv")
    solvers = peer_solvers(arguments.solver)
    results: list[PeerResult] = []
    load_before = os.getloadavg()[0]
    for path in paths:
        instance = solomon.load_instance(path)
        known = best.get(instance.name)
        for peer in arguments.peers:
            result = run_peer(
                peer,
                solvers[peer],
                instance,
                None if known is None else known[1],
                arguments.time_limit_s,
            )
            results.append(result)
            print(f"{instance.name} {peer}: {_cell(result)}", file=sys.stderr, flush=True)
    table = format_markdown_table if arguments.markdown else format_text_table
    print("\n".join(machine_lines()))
    print(
        f"time limit {arguments.time_limit_s:g} s, one thread each, matcher solver "
        f"{arguments.solver}; load average (1 min) before {load_before:.1f}, "
        f"after {os.getloadavg()[0]:.1f}\n"
    )
    print(
        table(["instance", "best known", *arguments.peers], instance_rows(results, arguments.peers))
    )
    print()
    print(
        table(
            ["family", "instances", *(f"{peer} mean gap %" for peer in arguments.peers)],
            family_rows(results, arguments.peers),
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
