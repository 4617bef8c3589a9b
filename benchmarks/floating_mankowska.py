"""The floating-routes engine alone on Mankowska's home care instances: linked services timed
together across routes, distance + total + largest tardiness; cost, best known, gap.

Each instance becomes one `DayRoutes`: a vehicle (and group) per caregiver from the depot, a
stop per service (the caregivers with the ability), a `Link` per patient with two services
(simultaneous, or the second within the published gap after the first), a soft start window
`[e, l]` (late after `l`, open to the end of the day), times in tenths of a minute (travel
fractional, each start the next whole tick). Weights make the engine's cost the official one:
a third of the distance, of the total tardiness and of the largest. `construct` builds the
first routes, `improve` runs for the given seconds; the result is judged again by
`benchmarks.external.mankowska` (`official_cost`, `solution_violations`).

    python -m benchmarks.floating_mankowska 'InstanzCPLEX_HCSRP_*_1' --seconds 60
"""

from __future__ import annotations

import numpy as np

from benchmarks.external import default_data_folder, mankowska
from benchmarks.floating_engine import construct_and_improve, parser, run_all
from matcher.solvers.floating import (
    DayRoutes,
    Group,
    Stop,
    Vehicle,
    Weights,
    Window,
)
from matcher.solvers.floating.model import Link

FOLDER = default_data_folder() / "hhcrsp-mankowska"
"""The instances and `best.md`: `$MATCHER_BENCHMARK_DATA`, else `../shared/benchmarks`."""
TICKS_PER_MINUTE = 10


def day_of(instance: mankowska.MankowskaInstance) -> tuple[DayRoutes, list[tuple[str, str]]]:
    """The instance as one day, and what each stop stands for (patient, service)."""
    ticks = TICKS_PER_MINUTE
    distance = np.array(instance.distances, dtype=np.float64)
    horizon = round(instance.horizon_min * ticks)
    stops: list[Stop] = []
    meaning: list[tuple[str, str]] = []
    links: list[Link] = []
    able = [set(caregiver.abilities) for caregiver in instance.caregivers]
    for patient in instance.patients:
        window = (
            Window(round(patient.window_start * ticks), round(patient.window_end * ticks), horizon),
        )
        first = len(stops)
        for required in patient.services:
            stops.append(
                Stop(
                    place=patient.matrix_index,
                    duration_min=round(required.duration * ticks),
                    windows=window,
                    vehicles=frozenset(
                        number for number, skills in enumerate(able) if required.service in skills
                    ),
                )
            )
            meaning.append((patient.id, required.service))
        sync = patient.synchronization
        if sync is not None and len(patient.services) == 2:
            if sync.kind == "simultaneous":
                links.append(Link(first, first + 1))
            else:
                high = None if sync.max_gap is None else round(sync.max_gap * ticks)
                links.append(Link(first, first + 1, round(sync.min_gap * ticks), high))
    count = len(instance.caregivers)
    day = DayRoutes(
        stops=stops,
        vehicles=[Vehicle(0, 0, 0, horizon + 10 * ticks * 1440, group=v) for v in range(count)],
        groups=[Group() for _ in range(count)],
        distance_m=distance,
        travel_min=distance * ticks,
        weights=Weights(
            per_m=1 / 3, per_late_min=1 / (3 * ticks), per_max_late_min=1 / (3 * ticks)
        ),
        routes=[[] for _ in range(count)],
        links=links,
    )
    return day, meaning


def judged(
    instance: mankowska.MankowskaInstance,
    meaning: list[tuple[str, str]],
    routes: list[list[int]],
    starts: list[list[int]],
) -> tuple[mankowska.Cost, list[str]]:
    """The official cost and the published rules' violations of the engine's routes."""
    solution = mankowska.MankowskaSolution(
        routes=tuple(
            mankowska.CaregiverRoute(
                caregiver=caregiver.id,
                stops=tuple(
                    mankowska.ServiceStop(
                        patient=meaning[index][0],
                        service=meaning[index][1],
                        arrival=start / TICKS_PER_MINUTE,
                        departure=start / TICKS_PER_MINUTE + instance.duration(*meaning[index]),
                    )
                    for index, start in zip(route, times, strict=True)
                ),
            )
            for caregiver, route, times in zip(instance.caregivers, routes, starts, strict=True)
        )
    )
    return mankowska.official_cost(instance, solution.routes), mankowska.solution_violations(
        instance, solution
    )


def run(name: str, seconds: float, seed: int, best: dict[str, mankowska.BestKnown]) -> float | None:
    """Solve one instance and print its row; the gap in per cent (None without a best known)."""
    instance = mankowska.load_instance(FOLDER / "instances" / f"{name}.json")
    day, meaning = day_of(instance)
    solved = construct_and_improve(day, seconds, seed)
    if isinstance(solved, list):
        print(f"{name}: construction leaves {len(solved)} problems: {solved[0]}")
        return None
    result, elapsed = solved
    official, violations = judged(instance, meaning, result.routes, result.starts)
    known = best.get(name)
    gap = None if known is None else 100.0 * (official.total / known.total_cost - 1.0)
    gap_text = "-" if gap is None else f"{gap:6.2f}"
    known_text = "-" if known is None else f"{known.total_cost:.2f}"
    print(
        f"{name:30} start {result.initial_cost:8.2f} cost {official.total:8.2f}"
        f" best {known_text:>8} gap {gap_text} % (distance {official.distance:.1f}, tardiness"
        f" {official.total_tardiness:.1f}, largest {official.max_tardiness:.1f})"
        f" iterations {result.iterations:6}"
        f" ({result.iterations / elapsed:5.0f}/s) violations {len(violations)}",
        flush=True,
    )
    return gap


def main() -> None:
    """Run the instances matching the patterns (by default the first of each size from 10 to
    75 patients, `InstanzCPLEX_HCSRP_*_1`; the larger ones are `InstanzVNS_HCSRP_*`) and print
    the mean gap."""
    arguments = parser(__doc__, 60.0).parse_args()
    patterns = arguments.names or ["InstanzCPLEX_HCSRP_*_1"]
    names = sorted(
        {
            path.stem
            for pattern in patterns
            for path in (FOLDER / "instances").glob(f"{pattern}.json")
        },
        key=lambda name: [int(part) for part in name.split("_")[-2:]],
    )
    best = mankowska.load_best_known(FOLDER / "best.md")
    seconds, seed = arguments.seconds, arguments.seed
    run_all(names, seconds, lambda name: run(name, seconds, seed, best))


if __name__ == "__main__":
    main()
