"""How much of the week's gap each part of the coverage relaxation closes (issue 14).

    python -m benchmarks.bound_parts [--sizes large] [--seeds 0,1,2] [--ruin-s 60] [--markdown]

For each generated week (the protocol's sizes and generator seeds) the relaxation's bound
(`bounds.coverage_upper_bound`) is computed with the volunteers pooled, then volunteer by
volunteer in four ways: plain (needs spread over their days, volunteers' minutes, caps and
capacities), with the travel floors (each visit's shortest way in and out, `with_travel`), with
the minutes inside the windows (`with_windows`), and with both (what the solvers use). Each is
set against one plan's weighted coverage: `ruin`'s after `--ruin-s` seconds (solver seed 0),
else greedy's. The gap is `(bound - plan) / bound`; "closed by both" is the share of the plain
bound's gap that the two parts take away. The bounds have no time limit, so they do not depend
on the machine; the plan does when it is time-limited.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.generator import generate_community
from benchmarks.run import SIZES, format_markdown_table, format_text_table, machine_lines
from matcher import api
from matcher.rules import need_facts
from matcher.solvers.bounds import coverage_upper_bound, requested_coverage
from matcher.travel import TravelModel

PARTS: tuple[tuple[str, bool, bool, bool], ...] = (
    ("pooled", True, True, True),
    ("plain", False, False, False),
    ("travel floors", False, True, False),
    ("window minutes", False, False, True),
    ("both", False, True, True),
)
"""(label, aggregate, with_travel, with_windows) of each variant of the relaxation: `pooled` is
the relaxation with volunteers of the same qualifications pooled (what a time-limited solver on
a large week reported before its exact relaxation could be afforded), the others the exact one
(volunteer by volunteer) without and with each part."""
HEADERS = ["week", "plan", "plan coverage", "requested", *(part[0] for part in PARTS)]
GAP_HEADERS = ["week", *(f"gap {part[0]} %" for part in PARTS), "closed by both %"]


@dataclass(frozen=True)
class WeekBounds:
    """One week's plan coverage and the bound of each variant."""

    week: str
    plan: str
    coverage: float
    requested: float
    bounds: tuple[float, ...]
    seconds: tuple[float, ...]

    def gaps_pct(self) -> list[float]:
        """Each variant's gap to the plan, in percent of the bound."""
        return [
            max(0.0, (bound - self.coverage) / bound * 100) if bound else 0.0
            for bound in self.bounds
        ]


def measure(size: str, seed: int, ruin_s: float | None) -> WeekBounds:
    """The bounds of one generated week, and the coverage of the plan they are set against."""
    spec = SIZES[size]
    problem = generate_community(
        recipients=spec.recipients, volunteers=spec.volunteers, buildings=spec.buildings, seed=seed
    )
    travel = TravelModel(problem)
    facts = need_facts(problem, travel)
    solver = "ruin" if ruin_s else "greedy"
    plan = api.solve(problem, solver=solver, time_limit_s=ruin_s or 60.0, seed=0)
    coverage = sum(facts[visit.need].priority for visit in plan.visits)
    bounds, seconds = [], []
    for _label, aggregate, with_travel, with_windows in PARTS:
        began = time.perf_counter()
        bounds.append(
            coverage_upper_bound(
                problem,
                travel,
                facts,
                aggregate=aggregate,
                with_travel=with_travel,
                with_windows=with_windows,
            )
        )
        seconds.append(time.perf_counter() - began)
    return WeekBounds(
        week=f"{size} seed {seed}",
        plan=solver if not ruin_s else f"ruin {ruin_s:g} s",
        coverage=coverage,
        requested=requested_coverage(facts),
        bounds=tuple(bounds),
        seconds=tuple(seconds),
    )


def rows(results: Sequence[WeekBounds]) -> tuple[list[list[str]], list[list[str]]]:
    """The bounds table and the gaps table."""
    bound_rows, gap_rows = [], []
    for result in results:
        bound_rows.append(
            [
                result.week,
                result.plan,
                f"{result.coverage:,.0f}",
                f"{result.requested:,.0f}",
                *(f"{bound:,.1f}" for bound in result.bounds),
            ]
        )
        gaps = result.gaps_pct()
        plain = gaps[1]
        closed = (plain - gaps[-1]) / plain * 100 if plain > 0 else 0.0
        gap_rows.append([result.week, *(f"{gap:.2f}" for gap in gaps), f"{closed:.0f}"])
    return bound_rows, gap_rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the machine, then the bounds and the gaps per week."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="large", help="comma-separated protocol sizes")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated generator seeds")
    parser.add_argument("--ruin-s", type=float, default=None, help="plan with ruin this long")
    parser.add_argument("--markdown", action="store_true")
    arguments = parser.parse_args(argv)
    sizes = [name for name in arguments.sizes.split(",") if name]
    unknown = [name for name in sizes if name not in SIZES]
    if unknown:
        parser.error(f"--sizes: unknown {', '.join(unknown)} (known: {', '.join(SIZES)})")
    try:
        seeds = [int(seed) for seed in arguments.seeds.split(",") if seed]
    except ValueError:
        parser.error(f"--seeds: not whole numbers: {arguments.seeds!r}")
    results = []
    for size in sizes:
        for seed in seeds:
            print(f"{size} seed {seed} ...", file=sys.stderr, flush=True)
            results.append(measure(size, seed, arguments.ruin_s))
    bound_rows, gap_rows = rows(results)
    table = format_markdown_table if arguments.markdown else format_text_table
    print("\n".join(machine_lines()))
    print()
    print(table(HEADERS, bound_rows))
    print()
    print(table(GAP_HEADERS, gap_rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
