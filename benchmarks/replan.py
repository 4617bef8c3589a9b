"""Re-planning on the phone: how long `matcher.replan` takes for one change on a generated week.

Protocol: the community is generated (`generate_community`, default the large size: 600
recipients, 120 volunteers, 8 buildings, seed 0) and planned once with the chosen solver. Then,
for each of `--samples` random cancellations drawn from the seed, one volunteer with visits
cancels one day on which they have visits (`volunteer_unavailable`), and the week is re-planned
from the original plan. Each re-plan is timed around `matcher.replan.replan` (the changed
problem, keeping every still-valid visit, the solve, the checker and the diff). A sample of
urgent needs is timed the same way: a new urgent one-hour visit on a random day for a random
recipient, which must find room (`new_need`, `urgent`).

Prints one row per kind of change: samples, median and slowest wall time, and the mean of the
diff's counts (kept, moved, reassigned, dropped, added). `python -m benchmarks.replan --help`
lists the options.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.generator import generate_community
from benchmarks.run import format_markdown_table, format_text_table, machine_lines
from matcher import solve
from matcher.models import WEEKDAYS, Plan, Problem
from matcher.replan import replan

DIFF_KINDS = ("kept", "moved", "reassigned", "dropped", "added")


@dataclass
class ChangeTimings:
    """The re-plans of one kind of change: wall times and the diff counts of each."""

    kind: str
    wall_times_s: list[float] = field(default_factory=list)
    counts: list[dict[str, int]] = field(default_factory=list)

    def row(self) -> list[str]:
        """The table row: samples, median and slowest time, mean diff counts."""
        means = [
            f"{statistics.fmean(count[name] for count in self.counts):.1f}" for name in DIFF_KINDS
        ]
        return [
            self.kind,
            str(len(self.wall_times_s)),
            f"{statistics.median(self.wall_times_s):.2f}",
            f"{max(self.wall_times_s):.2f}",
            *means,
        ]


def cancellations(plan: Plan, samples: int, rng: random.Random) -> list[dict[str, Any]]:
    """Random days on which a volunteer with visits that day cancels."""
    busy = sorted(
        {(volunteer, visit.day) for visit in plan.visits for volunteer in visit.volunteers}
    )
    return [
        {"kind": "volunteer_unavailable", "volunteer": volunteer, "days": [day]}
        for volunteer, day in rng.sample(busy, min(samples, len(busy)))
    ]


def urgent_needs(problem: Problem, samples: int, rng: random.Random) -> list[dict[str, Any]]:
    """Random urgent one-hour home visits (a fall, snow to clear) on a random day."""
    service = next(
        item.id
        for item in problem.services
        if item.team_size == 1 and "elder" in item.recipient_kinds and not item.required_skills
    )
    elders = [recipient for recipient in problem.recipients if recipient.kind == "elder"]
    changes = []
    for number in range(samples):
        recipient = rng.choice(elders)
        day = rng.choice(WEEKDAYS[:5])
        changes.append(
            {
                "kind": "new_need",
                "recipient": recipient.id,
                "urgent": True,
                "need": {
                    "id": f"urgent-{number}",
                    "service": service,
                    "duration_min": 60,
                    "windows": [{"day": day, "start": "08:00", "end": "18:00"}],
                },
            }
        )
    return changes


def measure(
    problem: Problem, plan: Plan, kind: str, changes: list[dict[str, Any]], solver: str
) -> ChangeTimings:
    """Re-plan the week once per change, each from the original plan."""
    timings = ChangeTimings(kind)
    for change in changes:
        began = time.perf_counter()
        result = replan(problem, plan, [change], solver=solver)
        timings.wall_times_s.append(time.perf_counter() - began)
        timings.counts.append(result.diff.counts())
    return timings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.replan",
        description="Time matcher.replan for single changes on a generated week.",
    )
    parser.add_argument("--recipients", type=int, default=600)
    parser.add_argument("--volunteers", type=int, default=120)
    parser.add_argument("--buildings", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0, help="generator and sampling seed")
    parser.add_argument("--samples", type=int, default=20, help="changes of each kind")
    parser.add_argument("--solver", default="greedy", help="solver of the week and re-plans")
    parser.add_argument("--markdown", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Plan the week, time the re-plans, print the table."""
    arguments = _parser().parse_args(argv)
    problem = generate_community(
        recipients=arguments.recipients,
        volunteers=arguments.volunteers,
        buildings=arguments.buildings,
        seed=arguments.seed,
    )
    began = time.perf_counter()
    plan = solve(problem, solver=arguments.solver)
    solve_s = time.perf_counter() - began
    rng = random.Random(arguments.seed)
    rows = [
        measure(problem, plan, kind, changes, arguments.solver).row()
        for kind, changes in (
            ("volunteer cancels a day", cancellations(plan, arguments.samples, rng)),
            ("urgent new need", urgent_needs(problem, arguments.samples, rng)),
        )
    ]
    header = [
        "change",
        "samples",
        "median s",
        "slowest s",
        *(f"{name} (mean)" for name in DIFF_KINDS),
    ]
    lines = [
        *machine_lines(),
        f"week: {arguments.recipients} recipients, {arguments.volunteers} volunteers, "
        f"{arguments.buildings} buildings, seed {arguments.seed}; {len(plan.visits)} visits "
        f"planned by {arguments.solver} in {solve_s:.2f} s (the same solver re-plans)",
    ]
    table = (
        format_markdown_table(header, rows)
        if arguments.markdown
        else format_text_table(header, rows)
    )
    prefix = "- " if arguments.markdown else ""
    sys.stdout.write("\n".join(prefix + line for line in lines) + "\n\n" + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
