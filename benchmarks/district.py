"""A district on one machine: wall time and throughput of the local pool and of Ray.

A district of `--communities` generated communities (default 40) with sizes drawn from the
seed's range (150 to 1,500 elders: a small community to Quanrui's ~1,500 elders in 8 buildings
with ~120 volunteers; volunteers and buildings scale between those), two shared helpers, is
planned with greedy (iteration-free, so every executor gives the same plans, which this script
asserts) on the pool with 1 and 2 workers and on a local Ray with 2 CPUs. The re-balance is off
(`rebalance_rounds=0`) so that each run solves every community exactly once: the throughput is
that of the solves; each re-balance round would solve its receivers once more.

It prints, per executor, the wall time, communities per minute and the speed-up over one
worker; Ray's start-up and its overhead against the pool with as many workers; and, on paper
from the measured per-community solve times (a least-squares line of time against size, sizes
of a 120-community district drawn from the same range, longest first onto 100 workers), what a
100-core cluster would take for 120 communities. `--communities` smaller than 40 gives a reduced
run; it then prints what the full 40 would take from the same line.

    python -m benchmarks.district                    # the full run (about 15 min on 2 cores)
    python -m benchmarks.district --communities 12   # a reduced run
"""

from __future__ import annotations

import argparse
import heapq
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matcher.district.executors import CommunityExecutor
    from matcher.district.models import District
    from matcher.district.runner import DistrictResult

SMALLEST, LARGEST = 150, 1500
"""Community sizes (elders) of the seed: a small community to Quanrui."""

CLUSTER_CORES, CLUSTER_COMMUNITIES = 100, 120


def community_sizes(count: int, seed: int) -> list[int]:
    """`count` sizes drawn uniformly from SMALLEST..LARGEST."""
    rng = random.Random(seed)
    return [rng.randint(SMALLEST, LARGEST) for _ in range(count)]


def volunteers_for(size: int) -> int:
    """From 30 volunteers for 150 elders to 120 for 1,500 (Quanrui), in a straight line."""
    return round(30 + (size - SMALLEST) * (120 - 30) / (LARGEST - SMALLEST))


def buildings_for(size: int) -> int:
    """From 3 buildings for 150 elders to 8 for 1,500 (Quanrui)."""
    return round(3 + (size - SMALLEST) * (8 - 3) / (LARGEST - SMALLEST))


def longest_first_makespan(times_s: Sequence[float], workers: int) -> float:
    """Seconds until the last of these jobs ends, longest first onto the least loaded of
    `workers` (the LPT rule: within 4/3 of the best schedule)."""
    loads = [0.0] * max(1, workers)
    heapq.heapify(loads)
    for duration in sorted(times_s, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + duration)
    return max(loads)


def fit_line(sizes: Sequence[int], times_s: Sequence[float]) -> tuple[float, float]:
    """Least-squares intercept and slope of time against size."""
    if len(set(sizes)) < 2:
        return statistics.fmean(times_s), 0.0
    slope, intercept = statistics.linear_regression(sizes, times_s)
    return intercept, slope


def driver_seconds(district: District, result: DistrictResult) -> float:
    """Seconds the driver spends alone on a solved district: reading each plan back from JSON
    and the district check (every plan through the checker)."""
    from matcher.district.check import check_district
    from matcher.models import Plan

    started = time.perf_counter()
    texts = {name: plan.model_dump_json() for name, plan in result.plans.items()}
    for text in texts.values():
        Plan.model_validate_json(text)
    check_district(
        district,
        {name: (result.problems[name], plan) for name, plan in result.plans.items()},
    )
    return time.perf_counter() - started


@dataclass(frozen=True)
class Run:
    label: str
    workers: int
    wall_s: float
    startup_s: float = 0.0


def _measure(
    district: District, label: str, executor: str | CommunityExecutor, workers: int
) -> tuple[Run, DistrictResult]:
    from matcher.district.runner import solve_district

    started = time.perf_counter()
    result = solve_district(district, executor=executor, workers=workers)
    wall = time.perf_counter() - started
    assert result.check.ok, result.check.violations
    print(f"  {label}: {wall:.1f} s", file=sys.stderr)
    return Run(label, workers, wall), result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=40, help="default 40 (the full run)")
    parser.add_argument("--seed", type=int, default=0, help="default 0")
    parser.add_argument("--no-ray", action="store_true", help="pool only")
    arguments = parser.parse_args(argv)

    from matcher.district.executors import RayExecutor
    from matcher.district.generate import generate_district

    sizes = community_sizes(arguments.communities, arguments.seed)
    print(f"generating {len(sizes)} communities ...", file=sys.stderr)
    started = time.perf_counter()
    district = generate_district(
        sizes,
        seed=arguments.seed,
        volunteers=[volunteers_for(size) for size in sizes],
        buildings=[buildings_for(size) for size in sizes],
        name=f"benchmark district (seed {arguments.seed})",
    )
    district = district.model_copy(update={"rebalance_rounds": 0})
    generated_s = time.perf_counter() - started
    runs: list[Run] = []
    results: list[DistrictResult] = []
    for workers in (1, 2):
        run, result = _measure(district, f"pool, {workers} worker(s)", "pool", workers)
        runs.append(run)
        results.append(result)
    if not arguments.no_ray:
        started = time.perf_counter()
        ray_executor = RayExecutor(workers=2)
        ray_startup_s = time.perf_counter() - started
        try:
            run, result = _measure(district, "ray, 2 CPUs", ray_executor, 2)
        finally:
            ray_executor.close()
        runs.append(Run(run.label, 2, run.wall_s, ray_startup_s))
        results.append(result)
    reference = results[0]
    for result in results[1:]:
        for name, plan in reference.plans.items():
            assert result.plans[name].visits == plan.visits, name
            assert result.plans[name].unassigned == plan.unassigned, name

    names = [community.id for community in district.communities]
    solve_times = [reference.plans[name].solver.wall_time_s for name in names]
    driver_s = driver_seconds(district, reference)
    total_visits = sum(len(plan.visits) for plan in reference.plans.values())
    one = runs[0].wall_s
    print(
        f"District: {len(sizes)} communities of {min(sizes)} to {max(sizes)} recipients "
        f"({sum(sizes):,} in all, {total_visits:,} visits planned), seed {arguments.seed}, "
        f"greedy; generated in {generated_s:.0f} s"
    )
    print()
    print("| executor | wall time (s) | communities / min | speed-up over 1 worker |")
    print("|---|---:|---:|---:|")
    for run in runs:
        rate = 60 * len(sizes) / run.wall_s
        note = f" (+{run.startup_s:.1f} s Ray start-up)" if run.startup_s else ""
        print(f"| {run.label}{note} | {run.wall_s:.1f} | {rate:.1f} | {one / run.wall_s:.2f} |")
    print()
    print(
        f"Per community, the solver's own time (1 worker): mean "
        f"{statistics.fmean(solve_times):.1f} s, min {min(solve_times):.1f} s, max "
        f"{max(solve_times):.1f} s; their sum {sum(solve_times):.0f} s of the 1-worker wall "
        f"time {one:.0f} s. The driver's own serial work (reading plans back, the district "
        f"check): {driver_s:.1f} s in all; the rest is worker start-up and problems and plans "
        "moving as JSON."
    )
    ideal_two = longest_first_makespan(solve_times, 2)
    pool_two = runs[1].wall_s
    print(
        f"Longest first onto 2 workers the solves alone take {ideal_two:.0f} s; the pool with "
        f"2 workers took {pool_two:.0f} s."
    )
    per_task = max(0.0, (pool_two - driver_s - ideal_two) * 2 / len(sizes))
    if len(runs) > 2:
        overhead = runs[2].wall_s - pool_two
        per_task = max(0.0, (runs[2].wall_s - driver_s - ideal_two) * 2 / len(sizes))
        print(
            f"Ray against the pool with 2 workers: {overhead:+.1f} s "
            f"({100 * overhead / pool_two:+.0f} %), on top of {runs[2].startup_s:.1f} s to start "
            f"Ray; {per_task:.2f} s of worker time per community beyond the solve."
        )
    intercept, slope = fit_line(sizes, solve_times)
    cluster_sizes = community_sizes(CLUSTER_COMMUNITIES, arguments.seed + 1)
    predicted = [max(0.0, intercept + slope * size) + per_task for size in cluster_sizes]
    driver_cluster = driver_s * CLUSTER_COMMUNITIES / len(sizes)
    cluster_s = longest_first_makespan(predicted, CLUSTER_CORES) + driver_cluster
    print(
        f"On paper: {CLUSTER_COMMUNITIES} communities on a {CLUSTER_CORES}-core Ray cluster "
        f"take about {cluster_s:.0f} s: the solves longest first "
        f"({intercept:.2f} s + {1000 * slope:.2f} ms per recipient, plus {per_task:.2f} s per "
        f"community on the worker) and {driver_cluster:.0f} s of the driver's serial work, "
        f"against {(sum(predicted) + driver_cluster) / 60:.0f} min on one core."
    )
    if len(sizes) < 40:
        full = community_sizes(40, arguments.seed)
        full_times = [max(0.0, intercept + slope * size) for size in full]
        print(
            f"Reduced run ({len(sizes)} of 40 communities). The full 40 would take about "
            f"{sum(full_times) * one / sum(solve_times) / 60:.0f} min on 1 worker and "
            f"{longest_first_makespan(full_times, 2) * pool_two / ideal_two / 60:.0f} min on 2, "
            "scaled from this run."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
