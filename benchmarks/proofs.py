"""How often the exact model proves its plan optimal on small instances (issue 14).

    python -m benchmarks.proofs [--weeks 0,1,2] [--mankowska 'InstanzCPLEX_HCSRP_10_*'] \\
        [--solvers cpsat,auto,ruin] [--time-limit-s 60] [--data ../shared/benchmarks] [--markdown]

Two kinds of case, each solved once per solver, one run at a time, in this process:

- generated small weeks (`matcher.generator`, the protocol's small size: 30 recipients, 10
  volunteers, 2 buildings; one per generator seed): what counts is weighted coverage, so a week
  is *proven* when the plan's coverage meets a proven bound (gap 0), and *optimal* when the
  solver also proved the whole policy objective (`solver.status` OPTIMAL);
- Mankowska instances read from the reference data folder (never copied into the repository):
  every visit is mandatory and what counts is the official cost, so an instance is *proven*
  when the solver reports OPTIMAL (every visit planned and matcher's cost objective, travel and
  tardiness at matcher's whole ticks, proven minimal); the official cost of the written solution
  is shown beside the best known.

`cpsat` gets the whole limit for its cost phase on Mankowska (`polish_time_s`, as
`benchmarks.external.run` gives it), `auto` the same through `[auto.cpsat]`. Columns: the
solver's status, the weighted coverage and its bound, the gap, whether proven, the seconds to
the proof (coverage: when it met the bound; optimal: the wall time), the wall time, and for
Mankowska the official cost against the best known. Then, per kind and solver, how many were
proven within the limit.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.external import default_data_folder, finest_time_scale, mankowska
from benchmarks.external.run import mankowska_instances
from benchmarks.run import SIZES, format_markdown_table, format_text_table, machine_lines
from matcher import api
from matcher.generator import generate_community
from matcher.models import Plan, Problem

DEFAULT_SOLVERS = ("cpsat", "auto", "ruin")
DEFAULT_WEEK_SEEDS = (0, 1, 2)
DEFAULT_MANKOWSKA = "InstanzCPLEX_HCSRP_10_*"
DEFAULT_TIME_LIMIT_S = 60.0
DEFAULT_TIME_SCALE = 10
"""Ticks per minute for Mankowska, at most (as `benchmarks.external.run`)."""
SOLVER_SEED = 0

HEADERS = [
    "case",
    "solver",
    "status",
    "coverage",
    "bound",
    "gap %",
    "proven",
    "proof s",
    "time s",
    "cost",
    "best known",
]
SUMMARY_HEADERS = ["kind", "solver", "cases", "proven", "optimal", "mean proof s", "worst proof s"]


@dataclass(frozen=True)
class ProofResult:
    """One case solved by one solver."""

    case: str
    kind: str
    """`week` or `mankowska`."""
    solver: str
    status: str
    coverage: float
    bound: float | None
    gap: float | None
    proven: bool
    """Weeks: coverage meets a proven bound. Mankowska: status OPTIMAL."""
    optimal: bool
    """The solver proved its whole objective (status OPTIMAL)."""
    proof_s: float | None
    wall_time_s: float
    found_by: str | None = None
    """`auto`: which of its parts found the plan."""
    cost: float | None = None
    best_known: float | None = None


def solver_parameters(solver: str, kind: str, time_limit_s: float) -> dict[str, Any] | None:
    """Mankowska ranks cost: the exact model keeps its cost phase running for the whole limit
    (otherwise it stops half a second after coverage is proven)."""
    if kind != "mankowska":
        return None
    if solver == "cpsat":
        return {"polish_time_s": time_limit_s}
    if solver == "auto":
        return {"cpsat": {"polish_time_s": time_limit_s}}
    return None


def _result(
    case: str, kind: str, solver: str, plan: Plan, wall_time_s: float, **extra: Any
) -> ProofResult:
    info = plan.solver
    optimal = info.status == "OPTIMAL"
    coverage_proven = info.gap is not None and info.gap <= 1e-9
    proven = optimal if kind == "mankowska" else coverage_proven
    met_s = info.statistics.get("bound_met_s")
    proof_s: float | None = None
    if proven:
        proof_s = wall_time_s if kind == "mankowska" or met_s is None else float(met_s)
    auto = info.statistics.get("auto", {})
    return ProofResult(
        case=case,
        kind=kind,
        solver=solver if solver != "auto" else f"auto ({auto.get('chosen', '?')})",
        status=info.status,
        coverage=info.objective,
        bound=info.bound,
        gap=info.gap,
        proven=proven,
        optimal=optimal,
        proof_s=proof_s,
        wall_time_s=wall_time_s,
        found_by=auto.get("found_by"),
        **extra,
    )


def _solve(problem: Problem, solver: str, kind: str, time_limit_s: float) -> tuple[Plan, float]:
    started = time.perf_counter()
    plan = api.solve(
        problem,
        solver=solver,
        time_limit_s=time_limit_s,
        seed=SOLVER_SEED,
        parameters=solver_parameters(solver, kind, time_limit_s),
    )
    return plan, time.perf_counter() - started


def run_week(seed: int, solver: str, time_limit_s: float) -> ProofResult:
    """A generated small week (the protocol's small size) with one solver."""
    size = SIZES["small"]
    problem = generate_community(
        recipients=size.recipients, volunteers=size.volunteers, buildings=size.buildings, seed=seed
    )
    plan, wall = _solve(problem, solver, "week", time_limit_s)
    return _result(f"small/{seed}", "week", solver, plan, wall)


def run_mankowska_case(
    path: Path,
    best: dict[str, mankowska.BestKnown],
    solver: str,
    time_limit_s: float,
    time_scale: int,
) -> ProofResult:
    """A Mankowska instance with one solver; the official cost of the written solution."""
    instance = mankowska.load_instance(path)
    scale = finest_time_scale(instance.horizon_min, time_scale)
    problem = mankowska.to_problem(instance, scale)
    plan, wall = _solve(problem, solver, "mankowska", time_limit_s)
    solution = mankowska.parse_solution(
        mankowska.plan_to_solution(instance, plan, scale, retime=True)
    )
    cost = mankowska.official_cost(instance, solution.routes).total if not plan.unassigned else None
    known = best.get(instance.name)
    return _result(
        instance.name.replace("InstanzCPLEX_HCSRP_", "mk"),
        "mankowska",
        solver,
        plan,
        wall,
        cost=cost,
        best_known=known.total_cost if known is not None else None,
    )


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def rows(results: Sequence[ProofResult]) -> list[list[str]]:
    """One row per case and solver."""
    return [
        [
            result.case,
            result.solver + (f" [{result.found_by}]" if result.found_by else ""),
            result.status,
            _number(result.coverage, 1),
            _number(result.bound, 1),
            _number(None if result.gap is None else 100 * result.gap),
            "optimal" if result.optimal else "coverage" if result.proven else "no",
            _number(result.proof_s, 1),
            _number(result.wall_time_s, 1),
            _number(result.cost),
            _number(result.best_known),
        ]
        for result in results
    ]


def summary_rows(results: Sequence[ProofResult]) -> list[list[str]]:
    """Per kind and solver: cases, proven, optimal, mean and worst seconds to the proof."""
    groups: dict[tuple[str, str], list[ProofResult]] = {}
    for result in results:
        groups.setdefault((result.kind, result.solver.split(" ")[0]), []).append(result)
    table = []
    for (kind, solver), members in groups.items():
        times = [result.proof_s for result in members if result.proof_s is not None]
        table.append(
            [
                kind,
                solver,
                str(len(members)),
                str(sum(result.proven for result in members)),
                str(sum(result.optimal for result in members)),
                _number(sum(times) / len(times) if times else None, 1),
                _number(max(times) if times else None, 1),
            ]
        )
    return table


def render(results: Sequence[ProofResult], time_limit_s: float, markdown: bool) -> str:
    """The machine, the load, the protocol, the case table and the summary."""
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    head = [
        *machine_lines(),
        f"load average at the end (1, 5, 15 min): {load}",
        f"time limit {time_limit_s:g} s per run, solver seed {SOLVER_SEED}, one run at a time",
    ]
    if markdown:
        tables = [
            format_markdown_table(HEADERS, rows(results)),
            format_markdown_table(SUMMARY_HEADERS, summary_rows(results)),
        ]
        return "\n\n".join(["\n".join(f"- {line}" for line in head), *tables]) + "\n"
    tables = [
        format_text_table(HEADERS, rows(results)),
        format_text_table(SUMMARY_HEADERS, summary_rows(results)),
    ]
    return "\n\n".join(["\n".join(head), *tables]) + "\n"


def _seeds(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of seeds: {text!r}") from None


def _solvers(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in api.SOLVERS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown solver(s): {', '.join(unknown)}")
    return names


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.proofs",
        description="Count the small weeks and Mankowska instances the exact model proves "
        "optimal within the time limit (see benchmarks/README.md).",
    )
    parser.add_argument("--weeks", type=_seeds, default=list(DEFAULT_WEEK_SEEDS))
    parser.add_argument(
        "--mankowska", default=DEFAULT_MANKOWSKA, help="glob on Mankowska names ('' for none)"
    )
    parser.add_argument("--solvers", type=_solvers, default=list(DEFAULT_SOLVERS))
    parser.add_argument("--time-limit-s", type=_positive, default=DEFAULT_TIME_LIMIT_S)
    parser.add_argument("--time-scale", type=int, default=DEFAULT_TIME_SCALE)
    parser.add_argument("--data", type=Path, default=default_data_folder())
    parser.add_argument("--markdown", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run every case with every solver and print the tables."""
    arguments = _parser().parse_args(argv)
    limit: float = arguments.time_limit_s
    results: list[ProofResult] = []
    paths = mankowska_instances(arguments.data, arguments.mankowska) if arguments.mankowska else []
    best = (
        mankowska.load_best_known(arguments.data / "hhcrsp-mankowska" / "best.md") if paths else {}
    )
    for seed in arguments.weeks:
        for solver in arguments.solvers:
            result = run_week(seed, solver, limit)
            print(rows([result])[0], file=sys.stderr, flush=True)
            results.append(result)
    for path in paths:
        for solver in arguments.solvers:
            result = run_mankowska_case(path, best, solver, limit, arguments.time_scale)
            print(rows([result])[0], file=sys.stderr, flush=True)
            results.append(result)
    sys.stdout.write(render(results, limit, arguments.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
