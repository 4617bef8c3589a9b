"""Solve the published reference sets with matcher and compare with the best known.

    python -m benchmarks.external.run --data ../shared/benchmarks --set mankowska \\
        [--instances 'InstanzCPLEX_HCSRP_10_*'] [--solver auto] [--time-limit-s 60] \\
        [--time-scale 10] [--markdown] [--solutions-out DIR]

Prints the machine, then per instance: our official cost, the best known, the gap, the wall
time, whether every visit is planned and the solution keeps every published rule, and the
vehicles used; then per family the mean and worst gap. Our cost is that of the solution we
write in the published format: for Mankowska each caregiver's services in matcher's order, timed
at the earliest exact minute (`plan_to_solution(..., retime=True)`; the cost at matcher's own
tick times is shown too); for Solomon the DIMACS distance of matcher's routes. Progress goes to
standard error; the exit code is 0 when every instance produced a valid complete solution.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import statistics
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.external import default_data_folder, finest_time_scale, mankowska, solomon
from benchmarks.run import format_markdown_table, format_text_table, machine_lines
from matcher import api

SETS = ("mankowska", "solomon")
FAMILY_ORDER: dict[str, tuple[str, ...]] = {
    "mankowska": ("A", "B", "C", "D", "E", "F", "G"),
    "solomon": ("C1", "C2", "R1", "R2", "RC1", "RC2"),
}
DEFAULT_SOLVER = "routing" if "routing" in api.SOLVERS else "auto"
DEFAULT_TIME_SCALE = 10
"""Ticks per minute asked for: tenths of a minute make Solomon's one-decimal distances exact.
Each instance gets the finest scale up to this that fits matcher's longest day."""
SOLVER_SEED = 0

INSTANCE_HEADERS = [
    "instance",
    "family",
    "ours",
    "as planned",
    "best known",
    "gap %",
    "time s",
    "all planned",
    "valid",
    "vehicles",
    "ticks/min",
]
FAMILY_HEADERS = ["family", "instances", "complete", "mean gap %", "worst gap %", "mean time s"]


@dataclass(frozen=True)
class InstanceResult:
    """One instance solved: our official cost against the best known."""

    name: str
    family: str
    best_known: float | None
    """None when the best-known table has no row for the instance: run, shown without a gap."""
    time_scale: int
    ours: float | None = None
    as_planned: float | None = None
    wall_time_s: float | None = None
    all_planned: bool = False
    valid: bool = False
    vehicles: str = "-"
    problems: tuple[str, ...] = ()
    error: str | None = None
    polish: str | None = None
    """What became of the floating-routes polish (`ruin`, and `auto`'s `ruin`): `polished`,
    `unchanged`, `worse`, ...; None for a solver without one."""

    @property
    def complete(self) -> bool:
        """Every visit planned and every published rule kept."""
        return self.error is None and self.all_planned and self.valid and self.ours is not None

    @property
    def gap_pct(self) -> float | None:
        """(ours - best known) / best known, in percent; None unless complete."""
        if not self.complete or self.ours is None or not self.best_known:
            return None
        return (self.ours - self.best_known) / self.best_known * 100


AUTO_RUIN_SHARE = 0.5
"""On the published sets `auto`'s `ruin` gets half the limit before the exact model (its default
is a fifth, at most 5 s): the floating engine that follows `ruin`'s search needs the time, and
at 60 s the exact model rarely improves on it beyond the 10-patient instances it proves."""


def cost_parameters(solver: str, time_limit_s: float) -> dict[str, Any] | None:
    """The published sets rank travel cost, not coverage: every visit is usually planned within
    a second, when the solvers' default stop (half a second after coverage meets its bound)
    would end the search. Here the search keeps improving the cost for the whole limit.

    `ruin` (and `auto`'s `ruin`) stops its search once every visit is planned, and the
    floating-routes engine, whose times float (and, on Mankowska, whose linked services are
    timed together across routes), takes the rest (`polish_time_s`). `auto` at the exact size
    gives `ruin` half the limit (`AUTO_RUIN_SHARE`), its exact model the rest for its cost phase
    (`polish_time_s`), as `cpsat` does."""
    if solver == "routing":
        return {"polish_after_bound_s": time_limit_s}
    ruin: dict[str, Any] = {"polish_time_s": time_limit_s}
    if solver in ("lns", "cpsat"):
        return {"polish_time_s": time_limit_s}
    if solver == "ruin":
        return ruin
    if solver == "auto":
        return {
            "ruin": ruin,
            "cpsat": {"polish_time_s": time_limit_s},
            "ruin_time_share": AUTO_RUIN_SHARE,
            "ruin_max_s": time_limit_s,
        }
    return None


def polish_verdict(statistics: dict[str, Any]) -> str | None:
    """What became of `ruin`'s floating polish, from a plan's statistics (`auto`'s summary
    when auto ran ruin first)."""
    summary = statistics.get("auto")
    if isinstance(summary, dict) and summary.get("ruin_polish") is not None:
        return str(summary["ruin_polish"])
    polish = statistics.get("polish")
    if isinstance(polish, dict) and polish.get("kept") is not None:
        return str(polish["kept"])
    return None


def natural_key(name: str) -> list[int | str]:
    """Sort `..._10_2` before `..._10_10`."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def mankowska_instances(data: Path, pattern: str) -> list[Path]:
    """The Mankowska instance files whose names match the glob."""
    folder = data / "hhcrsp-mankowska" / "instances"
    paths = [p for p in folder.glob("*.json") if fnmatch.fnmatch(p.stem, pattern)]
    return sorted(paths, key=lambda p: natural_key(p.stem))


def solomon_instances(data: Path, pattern: str) -> list[Path]:
    """The Solomon instance files whose names match the glob."""
    folder = data / "solomon"
    paths = [p for p in folder.glob("*.txt") if fnmatch.fnmatch(p.stem, pattern)]
    return sorted(paths, key=lambda p: natural_key(p.stem))


def run_mankowska(
    path: Path,
    best: dict[str, mankowska.BestKnown],
    solver: str,
    time_limit_s: float,
    wanted_scale: int,
    solutions_out: Path | None,
) -> InstanceResult:
    """Solve one Mankowska instance and evaluate the official cost of our solution."""
    instance = mankowska.load_instance(path)
    scale = finest_time_scale(instance.horizon_min, wanted_scale)
    base = InstanceResult(
        name=instance.name,
        family=instance.family,
        best_known=best[instance.name].total_cost if instance.name in best else None,
        time_scale=scale,
    )
    try:
        problem = mankowska.to_problem(instance, scale)
        started = time.perf_counter()
        plan = api.solve(
            problem,
            solver=solver,
            time_limit_s=time_limit_s,
            seed=SOLVER_SEED,
            parameters=cost_parameters(solver, time_limit_s),
        )
        wall_time = time.perf_counter() - started
        as_planned = mankowska.parse_solution(mankowska.plan_to_solution(instance, plan, scale))
        written = mankowska.plan_to_solution(instance, plan, scale, retime=True)
        solution = mankowska.parse_solution(written)
    except Exception as error:  # a benchmark row records any failure and carries on
        return _failed(base, error)
    if solutions_out is not None:
        solutions_out.mkdir(parents=True, exist_ok=True)
        target = solutions_out / f"sol-{instance.name}.json"
        target.write_text(json.dumps(written, indent=1) + "\n")
    problems = mankowska.solution_violations(instance, solution)
    used = sum(1 for route in solution.routes if route.stops)
    return InstanceResult(
        name=base.name,
        family=base.family,
        best_known=base.best_known,
        time_scale=scale,
        ours=mankowska.official_cost(instance, solution.routes).total,
        as_planned=mankowska.official_cost(instance, as_planned.routes).total,
        wall_time_s=wall_time,
        all_planned=not plan.unassigned,
        valid=not problems,
        vehicles=f"{used}/{len(instance.caregivers)}",
        problems=tuple(problems),
        polish=polish_verdict(plan.solver.statistics),
    )


def run_solomon(
    path: Path,
    best: dict[str, tuple[int, float]],
    solver: str,
    time_limit_s: float,
    wanted_scale: int,
    solutions_out: Path | None,
) -> InstanceResult:
    """Solve one Solomon instance and evaluate the DIMACS distance of our routes."""
    instance = solomon.load_instance(path)
    scale = finest_time_scale(instance.depot.due, wanted_scale)
    best_vehicles, best_cost = best.get(instance.name, (None, None))
    base = InstanceResult(
        name=instance.name, family=instance.family, best_known=best_cost, time_scale=scale
    )
    try:
        problem = solomon.to_problem(instance, scale)
        started = time.perf_counter()
        plan = api.solve(
            problem,
            solver=solver,
            time_limit_s=time_limit_s,
            seed=SOLVER_SEED,
            parameters=cost_parameters(solver, time_limit_s),
        )
        wall_time = time.perf_counter() - started
        routes = solomon.plan_to_routes(instance, plan)
    except Exception as error:  # a benchmark row records any failure and carries on
        return _failed(base, error)
    cost = solomon.solution_cost(instance, routes)
    if solutions_out is not None:
        solutions_out.mkdir(parents=True, exist_ok=True)
        (solutions_out / f"{instance.name}.sol").write_text(solomon.format_solution(routes, cost))
    problems = solomon.solution_violations(instance, routes)
    return InstanceResult(
        name=base.name,
        family=base.family,
        best_known=best_cost,
        time_scale=scale,
        ours=cost,
        as_planned=cost,
        wall_time_s=wall_time,
        all_planned=not plan.unassigned,
        valid=not problems,
        vehicles=f"{len(routes)}/{instance.vehicles}"
        + (f" (best {best_vehicles})" if best_vehicles is not None else ""),
        problems=tuple(problems),
    )


def _failed(base: InstanceResult, error: Exception) -> InstanceResult:
    traceback.print_exception(error, file=sys.stderr)
    return InstanceResult(
        name=base.name,
        family=base.family,
        best_known=base.best_known,
        time_scale=base.time_scale,
        error=f"{type(error).__name__}: {error}".splitlines()[0][:200],
    )


def _number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def instance_rows(results: Sequence[InstanceResult]) -> list[list[str]]:
    """One table row per instance."""
    return [
        [
            result.name,
            result.family,
            _number(result.ours),
            _number(result.as_planned),
            _number(result.best_known),
            _number(result.gap_pct),
            _number(result.wall_time_s, 1),
            "error" if result.error else ("yes" if result.all_planned else "no"),
            "-" if result.error else ("yes" if result.valid else "no"),
            result.vehicles,
            str(result.time_scale),
        ]
        for result in results
    ]


def family_rows(results: Sequence[InstanceResult], families: Sequence[str]) -> list[list[str]]:
    """Per family: instances, complete solutions, mean and worst gap over complete ones."""
    rows = []
    for family in families:
        members = [result for result in results if result.family == family]
        if not members:
            continue
        gaps = [gap for result in members if (gap := result.gap_pct) is not None]
        times = [result.wall_time_s for result in members if result.wall_time_s is not None]
        rows.append(
            [
                family,
                str(len(members)),
                str(sum(result.complete for result in members)),
                _number(statistics.fmean(gaps) if gaps else None),
                _number(max(gaps) if gaps else None),
                _number(statistics.fmean(times) if times else None, 1),
            ]
        )
    return rows


def render_report(
    results: Sequence[InstanceResult],
    set_name: str,
    solver: str,
    time_limit_s: float,
    time_scale: int,
    markdown: bool,
) -> str:
    """The machine, the protocol, the instance table, the family table and any problems."""
    preamble = [
        *machine_lines(),
        f"set: {set_name}; solver: {solver}, seed {SOLVER_SEED}, time limit {time_limit_s:g} s "
        f"per instance; at most {time_scale} ticks a minute (column ticks/min)",
    ]
    notes = [
        f"{result.name}: {result.error or '; '.join(result.problems[:3])}"
        for result in results
        if result.error or result.problems
    ]
    tables = (
        [
            format_markdown_table(INSTANCE_HEADERS, instance_rows(results)),
            format_markdown_table(FAMILY_HEADERS, family_rows(results, FAMILY_ORDER[set_name])),
        ]
        if markdown
        else [
            format_text_table(INSTANCE_HEADERS, instance_rows(results)),
            format_text_table(FAMILY_HEADERS, family_rows(results, FAMILY_ORDER[set_name])),
        ]
    )
    head = "\n".join(f"- {line}" for line in preamble) if markdown else "\n".join(preamble)
    parts = [head, *tables]
    if notes:
        bullet = "- " if markdown else "  "
        parts.append("Problems:\n" + "\n".join(bullet + note for note in notes))
    return "\n\n".join(parts) + "\n"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.external.run",
        description="Solve published reference instances with matcher and compare our official "
        "cost with the best known (see benchmarks/README.md).",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=default_data_folder(),
        help="the reference data folder (default: $MATCHER_BENCHMARK_DATA or ../shared/benchmarks)",
    )
    parser.add_argument("--set", dest="set_name", choices=SETS, required=True)
    parser.add_argument(
        "--instances", default="*", help="glob on instance names, e.g. 'InstanzCPLEX_HCSRP_10_*'"
    )
    parser.add_argument(
        "--solver", choices=api.SOLVERS, default=DEFAULT_SOLVER, help="matcher solver"
    )
    parser.add_argument("--time-limit-s", type=_positive_float, default=60.0)
    parser.add_argument(
        "--time-scale",
        type=_positive_int,
        default=DEFAULT_TIME_SCALE,
        help="ticks per minute in the matcher problem, at most (default: 10; 1 is whole minutes)",
    )
    parser.add_argument("--markdown", action="store_true", help="GitHub Markdown tables")
    parser.add_argument("--solutions-out", type=Path, default=None, help="write our solutions here")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen set and print the report."""
    arguments = _parser().parse_args(argv)
    machine_lines()  # the commit the run starts from, for the report
    data: Path = arguments.data
    set_name: str = arguments.set_name
    if set_name == "mankowska":
        paths = mankowska_instances(data, arguments.instances)
        best_mankowska = mankowska.load_best_known(data / "hhcrsp-mankowska" / "best.md")
    else:
        paths = solomon_instances(data, arguments.instances)
        best_solomon = solomon.load_best_known(data / "solomon" / "bks.csv")
    if not paths:
        print(f"no {set_name} instance matches {arguments.instances!r} in {data}", file=sys.stderr)
        return 2
    results: list[InstanceResult] = []
    for number, path in enumerate(paths, start=1):
        print(f"[{number}/{len(paths)}] {path.stem} ...", file=sys.stderr, flush=True)
        if set_name == "mankowska":
            result = run_mankowska(
                path,
                best_mankowska,
                arguments.solver,
                arguments.time_limit_s,
                arguments.time_scale,
                arguments.solutions_out,
            )
        else:
            result = run_solomon(
                path,
                best_solomon,
                arguments.solver,
                arguments.time_limit_s,
                arguments.time_scale,
                arguments.solutions_out,
            )
        results.append(result)
        print(
            f"    ours {_number(result.ours)}, best {_number(result.best_known)}, "
            f"gap {_number(result.gap_pct)} %, {_number(result.wall_time_s, 1)} s"
            + (f", polish {result.polish}" if result.polish else "")
            + (f", {result.error}" if result.error else ""),
            file=sys.stderr,
            flush=True,
        )
    sys.stdout.write(
        render_report(
            results,
            set_name,
            arguments.solver,
            arguments.time_limit_s,
            arguments.time_scale,
            arguments.markdown,
        )
    )
    return 0 if all(result.complete for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
