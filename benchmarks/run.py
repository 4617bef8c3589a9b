"""The optimizer benchmark: plan generated communities of several sizes with several solvers and
print one row per size and solver, aggregated over seeds.

Every run happens in a fresh `python -m benchmarks.run --one ...` subprocess, so its peak memory
is its own, and a crash or an overrun in one run cannot take the table down: a run that exceeds
its time limit by more than 50% + 10 s is killed and reported as such. The protocol is written
in benchmarks/README.md; `python -m benchmarks.run --help` lists the options.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matcher.models import Plan, Problem

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Where `python -m benchmarks.run --one` is started, so the child imports this checkout."""


@dataclass(frozen=True)
class BenchmarkSize:
    """A community size of the protocol and the time limit its solvers get."""

    name: str
    recipients: int
    volunteers: int
    buildings: int
    time_limit_s: float


SIZES: dict[str, BenchmarkSize] = {
    size.name: size
    for size in (
        BenchmarkSize("tiny", 8, 3, 1, 2.0),
        BenchmarkSize("small", 30, 10, 2, 10.0),
        BenchmarkSize("medium", 150, 40, 8, 30.0),
        BenchmarkSize("large", 600, 120, 8, 60.0),
        BenchmarkSize("xlarge", 1_500, 300, 12, 120.0),
    )
}
"""Every size the runner accepts; `tiny` is hidden (tests only) and not part of the protocol."""
PROTOCOL_SIZES = ("small", "medium", "large", "xlarge")
PROTOCOL_SEEDS = (0, 1, 2)
PROTOCOL_SOLVERS = ("greedy", "auto")
ALLOWED_SOLVERS = ("greedy", "cpsat", "lns", "ruin", "auto")
SOLVER_SEED = 0
"""Every run uses this solver seed; the benchmark seed is the generator's seed."""

KILL_FACTOR = 1.5
KILL_GRACE_S = 10.0
"""A run is killed after `time limit × KILL_FACTOR + KILL_GRACE_S` seconds of wall time."""
RESULT_PREFIX = "BENCHMARK-RESULT "
"""Marks the child's one line of JSON on its standard output."""
MIB = 1024 * 1024


@dataclass
class RunResult:
    """What one run (one size, seed and solver in its own process) produced."""

    size: str
    seed: int
    solver: str
    time_limit_s: float
    status: str = "ok"
    """`ok`, `error` (the child caught an exception), `killed` (overran) or `crashed`."""
    chosen_solver: str | None = None
    solver_status: str | None = None
    visits_requested: int | None = None
    visits_planned: int | None = None
    weighted_coverage_pct: float | None = None
    gap_pct: float | None = None
    travel_km: float | None = None
    continuity_pct: float | None = None
    familiar_kept_pct: float | None = None
    """Share of recipients with a preferred or standing volunteer who get a visit by one
    (`rules.continuity.continuity_shares`)."""
    familiar_ceiling_pct: float | None = None
    """... who could: a familiar volunteer could make one of their visits on their own."""
    familiar_of_ceiling_pct: float | None = None
    """Recipients kept with a familiar volunteer per hundred who could be."""
    load_gini: float | None = None
    iterations: int | None = None
    """Search steps the solver reports (`statistics["iterations"]`: ruin and recreate, LNS);
    none for a solver without steps. With `wall_time_s` it says how far a time-limited run got."""
    wall_time_s: float | None = None
    """Seconds spent in `matcher.solve` (travel matrices, solver, checker, metrics)."""
    peak_memory_mib: float | None = None
    """The child process's peak resident memory, generator and imports included."""
    violations: int | None = None
    error: str | None = None
    sessions: bool = False
    """The community has group sessions (`--sessions`)."""
    seats_wished: int | None = None
    seats_planned: int | None = None
    seat_bound: int | None = None
    """An upper bound on the seats (`bounds.session_upper_bounds`, computed after the solve)."""
    seat_gap_pct: float | None = None
    """Priority-weighted seats against their upper bound (the least of the relaxation's and
    `seat_bound.seat_upper_bound`'s)."""
    points_gap_pct: float | None = None
    """The plan's points for visits and seats together (`bounds.combined_points`) against the
    bound of the one relaxation of both."""
    bound_relaxed: bool | None = None
    """The relaxation finished within the size's time limit (else the plain bounds)."""
    bound_time_s: float | None = None
    """Seconds the bounds took after the solve (not in `wall_time_s`)."""
    session_share_pct: float | None = None
    """Share of volunteer minutes on site that went to sessions and escorts (the rest went to
    home visits)."""

    def to_json(self) -> str:
        """The result as one line of JSON."""
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        """A result from the child's line of JSON."""
        return cls(**json.loads(text))


def kill_deadline_s(time_limit_s: float) -> float:
    """Wall seconds after which a run with this time limit is killed."""
    return time_limit_s * KILL_FACTOR + KILL_GRACE_S


def own_peak_memory_mib() -> float:
    """This process's peak resident memory so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MIB if sys.platform == "darwin" else peak / 1024


def run_one(
    size: BenchmarkSize, seed: int, solver: str, time_limit_s: float, sessions: bool = False
) -> RunResult:
    """Generate the community (with group sessions when asked), plan it and check the plan, in
    this process.

    Exceptions are caught and recorded (with their traceback) so the table can report them.
    """
    result = RunResult(
        size=size.name, seed=seed, solver=solver, time_limit_s=time_limit_s, sessions=sessions
    )
    try:
        import matcher
        from benchmarks.generator import generate_community
        from matcher.rules import need_facts
        from matcher.rules.continuity import continuity_shares
        from matcher.travel import TravelModel

        problem = generate_community(
            recipients=size.recipients,
            volunteers=size.volunteers,
            buildings=size.buildings,
            seed=seed,
            sessions=sessions,
        )
        began = time.perf_counter()
        plan = matcher.solve(problem, solver=solver, time_limit_s=time_limit_s, seed=SOLVER_SEED)
        result.wall_time_s = time.perf_counter() - began
        report = matcher.check_plan(problem, plan)
        metrics = report.metrics
        auto = plan.solver.statistics.get("auto")
        result.chosen_solver = auto["chosen"] if isinstance(auto, dict) else plan.solver.solver
        result.solver_status = plan.solver.status
        result.visits_requested = metrics.visits_requested
        result.visits_planned = metrics.visits_planned
        result.weighted_coverage_pct = metrics.weighted_coverage_pct
        result.gap_pct = None if plan.solver.gap is None else plan.solver.gap * 100
        result.travel_km = metrics.travel_distance_m / 1000
        result.continuity_pct = metrics.continuity_pct
        travel = TravelModel(problem)
        shares = continuity_shares(problem, travel, need_facts(problem, travel), plan.visits)
        result.familiar_kept_pct = shares.kept_pct
        result.familiar_ceiling_pct = shares.ceiling_pct
        result.familiar_of_ceiling_pct = shares.of_ceiling_pct
        result.load_gini = metrics.load_gini
        result.iterations = search_iterations(plan.solver.statistics)
        result.violations = len(report.violations)
        if report.sessions is not None:
            result.seats_wished = report.sessions.seats_wished
            result.seats_planned = report.sessions.seats_planned
            result.session_share_pct = report.sessions.session_share_pct
            result.peak_memory_mib = own_peak_memory_mib()
            _session_bounds(result, problem, plan, time_limit_s)
        if report.violations:
            result.status = "error"
            result.error = "; ".join(violation.message for violation in report.violations[:5])
    except Exception:
        result.status = "error"
        result.error = traceback.format_exc()
    if result.peak_memory_mib is None:
        result.peak_memory_mib = own_peak_memory_mib()
    return result


def search_iterations(statistics: dict[str, object]) -> int | None:
    """The search steps a plan's solver statistics report (`iterations`), or None."""
    iterations = statistics.get("iterations")
    if isinstance(iterations, int) and not isinstance(iterations, bool):
        return iterations
    return None


def _session_bounds(result: RunResult, problem: Problem, plan: Plan, time_limit_s: float) -> None:
    """The seat bound, the seat gap and the points gap of the plan, from the relaxation of
    visits and seats together computed once more after the solve (the same bound for every
    solver of a size and seed, whatever the solve left it: `session_upper_bounds` with the
    size's time limit)."""
    from matcher.solvers.bounds import combined_points, session_upper_bounds
    from matcher.travel import TravelModel

    began = time.perf_counter()
    bounds = session_upper_bounds(problem, TravelModel(problem), time_limit_s=time_limit_s)
    result.bound_time_s = time.perf_counter() - began
    seats = [seat for session in plan.sessions or [] for seat in session.attendees]
    weighted = sum(problem.wish_priority(problem.wish_by_id[seat.wish]) for seat in seats)
    points = combined_points(problem, plan.solver.objective or 0.0, weighted)
    result.seat_bound = max(bounds.seats, len(seats))
    result.seat_gap_pct = 100 * _gap(bounds.weighted_seats, weighted)
    result.points_gap_pct = 100 * _gap(bounds.combined, points)
    result.bound_relaxed = bounds.relaxed


def _gap(bound: float, value: float) -> float:
    """How far the value may be from its bound, as a share of it (0 when it meets it)."""
    return max(0.0, (bound - value) / bound) if bound > 0 else 0.0


def run_in_subprocess(
    size: BenchmarkSize,
    seed: int,
    solver: str,
    time_limit_scale: float = 1.0,
    kill_after_s: float | None = None,
    sessions: bool = False,
) -> RunResult:
    """Run one benchmark in a fresh `python -m benchmarks.run --one` process.

    The child is killed after `kill_after_s` (by default the protocol's deadline for its time
    limit); a killed, crashed or failing child gives a result with that status and no metrics.
    """
    time_limit_s = size.time_limit_s * time_limit_scale
    deadline_s = kill_deadline_s(time_limit_s) if kill_after_s is None else kill_after_s
    result = RunResult(
        size=size.name, seed=seed, solver=solver, time_limit_s=time_limit_s, sessions=sessions
    )
    command = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--one",
        f"--sizes={size.name}",
        f"--seeds={seed}",
        f"--solvers={solver}",
        f"--time-limit-scale={time_limit_scale!r}",
        *(["--sessions"] if sessions else []),
    ]
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        completed = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=deadline_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        result.status = "killed"
        result.error = f"killed after {deadline_s:.0f} s (time limit {time_limit_s:g} s)"
        return result
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return RunResult.from_json(line[len(RESULT_PREFIX) :])
    result.status = "crashed"
    stderr_tail = "\n".join(completed.stderr.strip().splitlines()[-20:])
    result.error = f"exit code {completed.returncode}, no result\n{stderr_tail}".rstrip()
    return result


def _mean(values: Sequence[float]) -> float:
    """The arithmetic mean."""
    return statistics.fmean(values)


def _count(value: float) -> str:
    """A mean count: whole numbers without decimals, others with one."""
    return f"{value:.0f}" if value == round(value) else f"{value:.1f}"


def _mean_and_worst(
    values: Sequence[float], worst: Callable[[Sequence[float]], float], digits: int
) -> str:
    """'mean (worst)' over seeds, or just the value when there is one seed."""
    if not values:
        return "-"
    mean_text = f"{_mean(values):.{digits}f}"
    if len(values) == 1:
        return mean_text
    return f"{mean_text} ({worst(values):.{digits}f})"


def _present(results: Sequence[RunResult], field: str) -> list[float]:
    """The values of `field` in the results that have one."""
    values = [getattr(result, field) for result in results]
    return [float(value) for value in values if value is not None]


def _solver_label(solver: str, results: Sequence[RunResult]) -> str:
    """The solver's name; for `auto`, which solver(s) it chose, e.g. 'auto (cpsat)'."""
    if solver != "auto":
        return solver
    chosen = sorted({result.chosen_solver for result in results if result.chosen_solver})
    return f"auto ({', '.join(chosen)})" if chosen else "auto"


def _runs_cell(results: Sequence[RunResult]) -> str:
    """'3/3' successful runs, with the failures by kind, e.g. '2/3 (1 killed)'."""
    ok = sum(result.status == "ok" for result in results)
    failures: dict[str, int] = {}
    for result in results:
        if result.status != "ok":
            failures[result.status] = failures.get(result.status, 0) + 1
    text = f"{ok}/{len(results)}"
    if failures:
        text += " (" + ", ".join(f"{count} {kind}" for kind, count in sorted(failures.items()))
        text += ")"
    return text


TABLE_HEADERS = (
    "size",
    "solver",
    "limit s",
    "runs ok",
    "visits planned / requested",
    "weighted coverage %",
    "gap to bound %",
    "travel km",
    "continuity %",
    "familiar kept %",
    "familiar ceiling %",
    "kept / ceiling %",
    "load Gini",
    "iterations",
    "wall time s",
    "peak memory MiB",
    "violations",
    "seats planned / wished",
    "seat bound",
    "seat gap %",
    "points gap %",
    "minutes sessions / visits %",
)


def _seats_cell(results: Sequence[RunResult]) -> str:
    """'seats planned / wished', means over the runs with sessions; '-' without."""
    planned, wished = _present(results, "seats_planned"), _present(results, "seats_wished")
    return f"{_count(_mean(planned))} / {_count(_mean(wished))}" if planned else "-"


def _bound_cell(results: Sequence[RunResult]) -> str:
    """The mean seat bound, marked `*` when the relaxation ran out of time in some run (the
    plain bounds were used there)."""
    bounds = _present(results, "seat_bound")
    if not bounds:
        return "-"
    plain = any(result.bound_relaxed is False for result in results)
    return _count(_mean(bounds)) + ("*" if plain else "")


def _minutes_cell(results: Sequence[RunResult]) -> str:
    """'sessions / visits': the mean shares of volunteer minutes on site; '-' without."""
    shares = _present(results, "session_share_pct")
    if not shares:
        return "-"
    share = _mean(shares)
    return f"{share:.1f} / {100 - share:.1f}"


def _iterations_cell(results: Sequence[RunResult]) -> str:
    """The mean search steps over the runs that report them, and the fewest in parentheses."""
    steps = _present(results, "iterations")
    if not steps:
        return "-"
    return f"{_mean(steps):,.0f} ({min(steps):,.0f})"


def summary_rows(results: Sequence[RunResult]) -> list[list[str]]:
    """One row of table cells per size and solver (in the order first seen), aggregated over
    seeds: mean, and the worst seed in parentheses where that is meaningful (lowest coverage,
    highest gap, Gini, wall time and memory). Metrics come from the successful runs only."""
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for result in results:
        groups.setdefault((result.size, result.solver), []).append(result)
    rows = []
    for (size, solver), group in groups.items():
        ok = [result for result in group if result.status == "ok"]
        planned, requested = _present(ok, "visits_planned"), _present(ok, "visits_requested")
        visits = f"{_count(_mean(planned))} / {_count(_mean(requested))}" if planned else "-"
        violations = _present(ok, "violations")
        rows.append(
            [
                size,
                _solver_label(solver, group),
                f"{group[0].time_limit_s:g}",
                _runs_cell(group),
                visits,
                _mean_and_worst(_present(ok, "weighted_coverage_pct"), min, 1),
                _mean_and_worst(_present(ok, "gap_pct"), max, 2),
                _mean_and_worst(_present(ok, "travel_km"), max, 1),
                _mean_and_worst(_present(ok, "continuity_pct"), min, 1),
                _mean_and_worst(_present(ok, "familiar_kept_pct"), min, 1),
                _mean_and_worst(_present(ok, "familiar_ceiling_pct"), min, 1),
                _mean_and_worst(_present(ok, "familiar_of_ceiling_pct"), min, 1),
                _mean_and_worst(_present(ok, "load_gini"), max, 3),
                _iterations_cell(ok),
                _mean_and_worst(_present(ok, "wall_time_s"), max, 2),
                _mean_and_worst(_present(ok, "peak_memory_mib"), max, 0),
                f"{sum(violations):.0f}" if violations else "-",
                _seats_cell(ok),
                _bound_cell(ok),
                _mean_and_worst(_present(ok, "seat_gap_pct"), max, 2),
                _mean_and_worst(_present(ok, "points_gap_pct"), max, 2),
                _minutes_cell(ok),
            ]
        )
    return rows


def format_text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns aligned with spaces: text left, numbers right."""
    widths = [
        max(len(header), *(len(row[column]) for row in rows)) if rows else len(header)
        for column, header in enumerate(headers)
    ]

    def line(cells: Sequence[str]) -> str:
        aligned = [
            cell.ljust(width) if column < 2 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(aligned).rstrip()

    separator = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), separator, *(line(row) for row in rows)])


def format_markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table: text columns left-aligned, numbers right-aligned."""
    alignment = [":---" if column < 2 else "---:" for column in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(headers), line(alignment), *(line(row) for row in rows)])


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _package_version(name: str) -> str:
    """An installed package's version, or 'not installed'."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


@functools.cache
def _git_commit() -> str:
    """The checkout's short commit, with '+' when it has uncommitted changes, or 'unknown', as
    of the first call: a runner calls `machine_lines` as it starts, so a commit made while it
    runs does not end up in its report."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+" if dirty else "")


def machine_lines() -> list[str]:
    """What the numbers were measured on (the commit as the run started: `_git_commit`)."""
    return [
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"software: Python {platform.python_version()}, OR-Tools {_package_version('ortools')}, "
        f"matcher commit {_git_commit()}",
    ]


def protocol_line(seeds: Sequence[int], time_limit_scale: float) -> str:
    """The run settings that are the same for every row."""
    return (
        f"protocol: generator seeds {','.join(map(str, seeds))}; solver seed {SOLVER_SEED}; "
        f"time limits x{time_limit_scale:g}; one fresh process per run, killed after "
        f"{KILL_FACTOR:g} x limit + {KILL_GRACE_S:g} s; cells are mean (worst seed)"
    )


def failure_lines(results: Sequence[RunResult]) -> list[str]:
    """One line per failed run: what it was and the last line of its error."""
    lines = []
    for result in results:
        if result.status != "ok":
            last_line = (result.error or "").strip().splitlines()[-1:] or [""]
            lines.append(
                f"{result.size} seed {result.seed} {result.solver}: {result.status}: {last_line[0]}"
            )
    return lines


def render_report(
    results: Sequence[RunResult],
    seeds: Sequence[int],
    time_limit_scale: float,
    markdown: bool,
) -> str:
    """The machine, the protocol, the table and the failures, as text or Markdown."""
    rows = summary_rows(results)
    failures = failure_lines(results)
    preamble = [*machine_lines(), protocol_line(seeds, time_limit_scale)]
    if markdown:
        parts = ["\n".join(f"- {line}" for line in preamble)]
        parts.append(format_markdown_table(TABLE_HEADERS, rows))
        if failures:
            parts.append("Failed runs:\n\n" + "\n".join(f"- {line}" for line in failures))
    else:
        parts = ["\n".join(preamble), format_text_table(TABLE_HEADERS, rows)]
        if failures:
            parts.append("failed runs:\n" + "\n".join(f"  {line}" for line in failures))
    return "\n\n".join(parts) + "\n"


def _names(text: str, allowed: Sequence[str], what: str) -> list[str]:
    """A comma-separated list of names, each one of `allowed`."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what} {', '.join(unknown) or '(none given)'}; choose from "
            f"{', '.join(allowed)}"
        )
    return names


def _sizes(text: str) -> list[str]:
    """--sizes: names of sizes (the hidden `tiny` included)."""
    return _names(text, list(SIZES), "size")


def _solvers(text: str) -> list[str]:
    """--solvers: names of solvers."""
    return _names(text, ALLOWED_SOLVERS, "solver")


def _seeds(text: str) -> list[int]:
    """--seeds: comma-separated integers."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be integers: {text!r}") from None
    if not seeds:
        raise argparse.ArgumentTypeError("give at least one seed")
    return seeds


def _scale(text: str) -> float:
    """--time-limit-scale: a positive number."""
    try:
        scale = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not scale > 0:
        raise argparse.ArgumentTypeError("the time limit scale must be positive")
    return scale


def _parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark matcher's solvers on generated communities (protocol: "
        "benchmarks/README.md). Prints one row per size and solver, aggregated over seeds.",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(PROTOCOL_SIZES),
        help=f"comma-separated, from {','.join(PROTOCOL_SIZES)} (default: all)",
    )
    parser.add_argument(
        "--seeds",
        type=_seeds,
        default=list(PROTOCOL_SEEDS),
        help="generator seeds, comma-separated (default: 0,1,2)",
    )
    parser.add_argument(
        "--solvers",
        type=_solvers,
        default=list(PROTOCOL_SOLVERS),
        help=f"comma-separated, from {','.join(ALLOWED_SOLVERS)} (default: greedy,auto)",
    )
    parser.add_argument(
        "--time-limit-scale",
        type=_scale,
        default=1.0,
        help="multiply every size's time limit (default: 1.0, the protocol)",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print a GitHub Markdown table for the README"
    )
    parser.add_argument(
        "--sessions",
        action="store_true",
        help="communities with group sessions (venues, classes, the red bench): fills the "
        "seat columns",
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    return parser


def _progress(result: RunResult) -> str:
    """A short line about a finished run, for the progress log."""
    if result.status != "ok":
        return result.status
    return (
        f"ok: {result.chosen_solver} {result.solver_status}, {result.visits_planned}/"
        f"{result.visits_requested} visits, weighted coverage {result.weighted_coverage_pct:.1f}%, "
        f"{result.wall_time_s:.1f} s, {result.peak_memory_mib:.0f} MiB"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run every size × seed × solver in its own process and print the table.

    With the internal `--one` (exactly one size, seed and solver), run in this process and print
    the result as one line of JSON for the parent instead.
    """
    parser = _parser()
    arguments = parser.parse_args(argv)
    sizes: list[str] = arguments.sizes
    seeds: list[int] = arguments.seeds
    solvers: list[str] = arguments.solvers
    scale: float = arguments.time_limit_scale
    if arguments.one:
        if len(sizes) != 1 or len(seeds) != 1 or len(solvers) != 1:
            parser.error("--one takes exactly one size, one seed and one solver")
        size = SIZES[sizes[0]]
        result = run_one(size, seeds[0], solvers[0], size.time_limit_s * scale, arguments.sessions)
        print(RESULT_PREFIX + result.to_json(), flush=True)
        return 0
    machine_lines()  # the commit the run starts from, for the report
    total = len(sizes) * len(seeds) * len(solvers)
    results: list[RunResult] = []
    for size_name in sizes:
        for solver in solvers:
            for seed in seeds:
                print(
                    f"[{len(results) + 1}/{total}] {size_name} seed {seed} {solver} ...",
                    file=sys.stderr,
                    flush=True,
                )
                result = run_in_subprocess(
                    SIZES[size_name], seed, solver, scale, sessions=arguments.sessions
                )
                results.append(result)
                print(f"    {_progress(result)}", file=sys.stderr, flush=True)
                if result.status != "ok" and result.error:
                    print(result.error, file=sys.stderr, flush=True)
    sys.stdout.write(render_report(results, seeds, scale, arguments.markdown))
    return 0 if all(result.status == "ok" for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
