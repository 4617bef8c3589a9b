"""The floating-routes engine alone on Solomon's VRPTW: cost, best known, gap, iterations.

Each instance becomes one `DayRoutes`: a vehicle (and group, with the capacity) per vehicle of
the fleet, the DIMACS distance, times in tenths of a minute (so travel = distance is exact in
whole ticks), hard windows [ready, due] on the start, every customer required. The engine's
`construct` builds the first routes, `improve` runs for the given seconds; the result is judged
again by `benchmarks.external.solomon` (its own cost and rule check).

    python -m benchmarks.floating_solomon R101 R201 --seconds 20

Measured on the shared 2-core machine (1 Dec 2026, seed 0, 20 s each, one process, all 56
in eight runs of 2-3 minutes between 18:09 and 18:33, load 1.7-5.7): mean gap 0.97 %, 20 of
56 at the best known; by family C1 0.00 %, C2 0.00 %, R1 0.77 %, R2 1.30 %, RC1 2.17 %, RC2
1.65 %; worst RC103 4.56 %, R211 4.30 %, RC107 3.97 %. 320-1,190 iterations a second. Every
result passed `solution_violations`. The engine alone, without matcher's week around it.
"""

from __future__ import annotations

import numpy as np

from benchmarks.external import default_data_folder, solomon
from benchmarks.floating_engine import construct_and_improve, parser, run_all
from matcher.solvers.floating import (
    DayRoutes,
    Group,
    Stop,
    Vehicle,
    Weights,
    Window,
)

FOLDER = default_data_folder() / "solomon"
"""The Solomon files: `$MATCHER_BENCHMARK_DATA`, else `../shared/benchmarks` by the checkout."""
TICKS_PER_MINUTE = 10


def day_of(instance: solomon.SolomonInstance) -> DayRoutes:
    """The instance as one day: place = customer number, place 0 the depot."""
    customers = instance.customers
    count = len(customers)
    distance = np.array(
        [[instance.distance(a, b) for b in range(count)] for a in range(count)], dtype=np.float64
    )
    travel = np.round(distance * TICKS_PER_MINUTE)
    stops = [
        Stop(
            place=customer.number,
            duration_min=customer.service * TICKS_PER_MINUTE,
            windows=(
                Window(
                    customer.ready * TICKS_PER_MINUTE,
                    customer.due * TICKS_PER_MINUTE,
                    customer.due * TICKS_PER_MINUTE,
                ),
            ),
            load=customer.demand,
        )
        for customer in customers[1:]
    ]
    depot = instance.depot
    vehicles = [
        Vehicle(0, 0, depot.ready * TICKS_PER_MINUTE, depot.due * TICKS_PER_MINUTE, group=v)
        for v in range(instance.vehicles)
    ]
    groups = [Group(capacity=instance.capacity) for _ in range(instance.vehicles)]
    return DayRoutes(
        stops=stops,
        vehicles=vehicles,
        groups=groups,
        distance_m=distance,
        travel_min=travel,
        weights=Weights(per_m=1.0),
        routes=[[] for _ in vehicles],
    )


def run(name: str, seconds: float, seed: int, best: dict[str, tuple[int, float]]) -> float | None:
    """Solve one instance and print its row; the gap in per cent (None without a best known)."""
    instance = solomon.load_instance(FOLDER / f"{name}.txt")
    solved = construct_and_improve(day_of(instance), seconds, seed)
    if isinstance(solved, list):
        print(f"{name}: construction leaves {len(solved)} problems: {solved[0]}")
        return None
    result, elapsed = solved
    routes = [[index + 1 for index in route] for route in result.routes if route]
    judged = solomon.solution_cost(instance, routes)
    violations = solomon.solution_violations(instance, routes)
    known = best.get(name)
    gap = None if known is None else 100.0 * (judged / known[1] - 1.0)
    gap_text = "-" if gap is None else f"{gap:6.2f}"
    known_text = "-" if known is None else f"{known[1]:.1f}"
    print(
        f"{name:6} start {result.initial_cost:8.1f} cost {judged:8.1f} best {known_text:>8}"
        f" gap {gap_text} % routes {len(routes):2} iterations {result.iterations:6}"
        f" ({result.iterations / elapsed:5.0f}/s) violations {len(violations)}"
    )
    return gap


def main() -> None:
    """Run the named instances (all 56 by default) and print the mean gap."""
    arguments = parser(__doc__, 20.0).parse_args()
    names = arguments.names or sorted(path.stem for path in FOLDER.glob("*.txt"))
    best = solomon.load_best_known(FOLDER / "bks.csv")
    seconds, seed = arguments.seconds, arguments.seed
    run_all(names, seconds, lambda name: run(name, seconds, seed, best))


if __name__ == "__main__":
    main()
