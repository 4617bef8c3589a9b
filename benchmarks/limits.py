"""Time-limit benchmark (issue 10): wall time over the limit and peak memory of every solver on
the bundled, generated and crafted weeks.

Every (case, solver) runs in a fresh `python -m benchmarks.limits --one CASE SOLVER` process,
as the optimizer benchmark (`benchmarks.run`) isolates its runs, so its peak resident memory
(`resource.getrusage`) is its own; the child builds its input, validates it, plans it with
`matcher.solve` and prints one line of JSON. The wall time counts validation and the whole
solve (travel matrices included); a child is killed after `KILL_FACTOR` times the limit plus
`KILL_GRACE_S`. An input the validator refuses (the input limits) is reported as
"refused (input limit)".

    python -m benchmarks.limits                       # every case, every solver (long)
    python -m benchmarks.limits --cases small,walkway --solvers greedy,cpsat --time-limit-s 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.run import REPO_ROOT, format_markdown_table, format_text_table, own_peak_memory_mib

RESULT_PREFIX = "LIMITS-RESULT "
SOLVERS = ("greedy", "cpsat", "lns", "routing", "ruin", "auto")
KILL_FACTOR = 3.0
KILL_GRACE_S = 30.0
EXAMPLES = Path(REPO_ROOT) / "examples"


def _example(name: str) -> Callable[[], Any]:
    def build() -> Any:
        return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))

    return build


def _generated(recipients: int, volunteers: int, buildings: int) -> Callable[[], Any]:
    def build() -> Any:
        from matcher.generator import generate_community

        return generate_community(
            recipients=recipients, volunteers=volunteers, buildings=buildings, seed=0
        )

    return build


def _week_windows(count: int) -> list[dict[str, str]]:
    """`count` distinct hour-long windows spread over the week (a minute apart)."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    windows = []
    for index in range(count):
        start = 6 * 60 + (index // len(days)) % (12 * 60)
        end = start + 60
        windows.append(
            {
                "day": days[index % len(days)],
                "start": f"{start // 60:02d}:{start % 60:02d}",
                "end": f"{end // 60:02d}:{end % 60:02d}",
            }
        )
    return windows


def many_windows(count: int = 2_000) -> Any:
    """One need with `count` windows at a home with `count` home windows (finding 4)."""
    data = _example("small")()
    recipient = data["recipients"][0]
    recipient["home_windows"] = _week_windows(count)
    recipient["needs"] = recipient["needs"][:1]
    recipient["needs"][0]["windows"] = _week_windows(count)
    return data


def walkway_graph(edges: int = 180_000, places: int = 60_000) -> Any:
    """The small example's people on a random walkway graph of `edges` edges (finding 4)."""
    rng = random.Random(0)
    data = _example("small")()
    nodes = [f"p{index}" for index in range(places)]
    walkways = [
        {"a": nodes[index - 1], "b": nodes[index], "distance_m": rng.uniform(5, 50)}
        for index in range(1, places)
    ]
    while len(walkways) < edges:
        a, b = rng.choice(nodes), rng.choice(nodes)
        if a != b:
            walkways.append({"a": a, "b": b, "distance_m": rng.uniform(5, 500)})
    for recipient in data["recipients"]:
        recipient["location"] = {"place": rng.choice(nodes)}
    for volunteer in data["volunteers"]:
        volunteer["home"] = {"place": rng.choice(nodes)}
        volunteer.pop("start_location", None)
    data["travel"] = {"method": "graph", "walkways": walkways}
    return data


def big_matrix(places: int = 5_000) -> Any:
    """The small example's people at the first places of a `places`-place matrix (finding 4)."""
    rng = random.Random(0)
    data = _example("small")()
    names = [f"m{index}" for index in range(places)]
    for index, recipient in enumerate(data["recipients"]):
        recipient["location"] = {"place": names[index]}
    for index, volunteer in enumerate(data["volunteers"]):
        volunteer["home"] = {"place": names[-1 - index]}
        volunteer.pop("start_location", None)
    distance = [
        [0.0 if row == column else 100.0 + rng.random() * 900 for column in range(places)]
        for row in range(places)
    ]
    data["travel"] = {"method": "matrix", "matrix": {"places": names, "distance_m": distance}}
    return data


CASES: dict[str, Callable[[], Any]] = {
    "small": _example("small"),
    "community": _example("community"),
    "large": _generated(600, 120, 8),
    "week1500": _generated(1_500, 300, 8),
    "windows2000": many_windows,
    "walkway180k": walkway_graph,
    "matrix5000": big_matrix,
    "windows2000-lifted": many_windows,
    "walkway180k-lifted": walkway_graph,
    "matrix5000-lifted": big_matrix,
}
"""Every case by name: the bundled examples, the generated large (600/120) and 1,500-recipient
(1,500/300, 8 buildings) weeks, and the crafted inputs of issue 10's finding 4, each once with
the default input limits (which refuse them) and once `-lifted`: validated with `LIFTED_LIMITS`,
so the solvers meet them."""
LIFTED_LIMITS = {
    "max_windows_per_need": 5_000,
    "max_home_windows": 5_000,
    "max_matrix_places": 10_000,
    "max_walkway_edges": 500_000,
    "max_list_items": 50_000_000,
}
"""The input limits raised (`matcher.models.limits.InputLimits`) for the `-lifted` cases."""
TINY_CASES: dict[str, Callable[[], Any]] = {
    "tiny-windows": lambda: many_windows(20),
    "tiny-walkway": lambda: walkway_graph(300, 100),
    "tiny-matrix": lambda: big_matrix(40),
}
"""Small versions of the crafted inputs, for the test of this script."""


@dataclass
class LimitResult:
    """One (case, solver) run."""

    case: str
    solver: str
    time_limit_s: float
    status: str = "ok"
    """ok, refused (input limit), refused (invalid input), declined (group sessions), error,
    killed or crashed."""
    wall_time_s: float | None = None
    peak_memory_mib: float | None = None
    visits_planned: int | None = None
    solver_status: str | None = None
    fallback: str | None = None
    error: str | None = None


def _import_solver(solver: str) -> None:
    """Import what the solve will import (the solver, OR-Tools, SciPy's graphs and linear
    programs, the checker) before the clock starts: Python's start-up is the allowance, not
    part of the measured window (on a loaded machine it took 2.7 s of a 2 s limit)."""
    import importlib

    from matcher.solvers.registry import get_solver

    for module in (
        "scipy.optimize",
        "scipy.sparse.csgraph",
        "matcher.checker",
        "matcher.solvers.bounds",
    ):
        importlib.import_module(module)
    get_solver(solver)


def run_one(case: str, solver: str, time_limit_s: float) -> LimitResult:
    """Build, validate and plan the case in this process (the child)."""
    from pydantic import ValidationError

    import matcher
    from matcher.models import Problem
    from matcher.models.limits import DEFAULT_LIMITS, InputLimits
    from matcher.solvers.session_plan import SessionsNotSupported

    result = LimitResult(case=case, solver=solver, time_limit_s=time_limit_s)
    data = {**CASES, **TINY_CASES}[case]()
    _import_solver(solver)
    began = time.perf_counter()
    try:
        limits = InputLimits(**LIFTED_LIMITS) if case.endswith("-lifted") else DEFAULT_LIMITS
        problem = (
            data
            if isinstance(data, Problem)
            else Problem.model_validate(data, context={"limits": limits})
        )
    except (ValidationError, ValueError) as error:
        result.error = " ".join(str(error).split())[:300]
        limited = any(word in result.error.lower() for word in ("limit", "at most", "too many"))
        result.status = "refused (input limit)" if limited else "refused (invalid input)"
        result.peak_memory_mib = own_peak_memory_mib()
        return result
    try:
        plan = matcher.solve(problem, solver=solver, time_limit_s=time_limit_s, started_at=began)
        result.wall_time_s = time.perf_counter() - began
        result.visits_planned = len(plan.visits)
        result.solver_status = plan.solver.status
        fallback = plan.solver.statistics.get("fallback")
        result.fallback = None if fallback is None else str(fallback)
    except SessionsNotSupported as error:
        result.status = "declined (group sessions)"
        result.error = str(error)[:200]
    except Exception as error:
        result.status = "error"
        result.error = f"{type(error).__name__}: {error}"[:200]
    result.peak_memory_mib = own_peak_memory_mib()
    return result


def run_in_subprocess(case: str, solver: str, time_limit_s: float) -> LimitResult:
    """One run in a fresh process, killed after `KILL_FACTOR` x the limit + `KILL_GRACE_S`."""
    deadline_s = KILL_FACTOR * time_limit_s + KILL_GRACE_S
    command = [
        sys.executable,
        "-m",
        "benchmarks.limits",
        "--one",
        case,
        solver,
        f"--time-limit-s={time_limit_s!r}",
    ]
    try:
        completed = subprocess.run(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            timeout=deadline_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return LimitResult(case, solver, time_limit_s, status="killed")
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return LimitResult(**json.loads(line[len(RESULT_PREFIX) :]))
    tail = completed.stderr.strip().splitlines()[-1:] or [""]
    return LimitResult(case, solver, time_limit_s, status="crashed", error=tail[0][:200])


STARTUP_ALLOWANCE_S = 1.0
"""The fixed allowance over 110 % of the limit a run may take: what the measured window holds
besides the solve proper (the first imports of OR-Tools, SciPy and HiGHS inside `solve`)."""
MEMORY_BUDGET_MIB = 4096.0
"""The default memory budget (`matcher.solvers.base.DEFAULT_MAX_MEMORY_MIB`) every run's whole
process must stay under."""
HEADERS = ("case", "solver", "status", "wall / limit", "peak MiB", "visits", "fallback", "within")


def within(result: LimitResult) -> str:
    """`yes` when the run kept 110 % of its limit plus the start-up allowance and its memory
    under the budget (a refused input keeps both), else what it broke."""
    if result.status.startswith(("refused", "declined")):
        return "yes (" + result.status.split(" ")[0] + ")"
    broken = []
    if result.wall_time_s is None:
        broken.append(result.status)
    elif result.wall_time_s > 1.1 * result.time_limit_s + STARTUP_ALLOWANCE_S:
        broken.append("time")
    if result.peak_memory_mib is None or result.peak_memory_mib > MEMORY_BUDGET_MIB:
        broken.append("memory")
    return "yes" if not broken else "NO (" + ", ".join(broken) + ")"


def rows_of(results: Sequence[LimitResult]) -> list[list[str]]:
    """One table row per run: wall time over the limit as a ratio, peak memory in MiB."""
    return [
        [
            result.case,
            result.solver,
            result.status if result.solver_status is None else result.solver_status,
            "-"
            if result.wall_time_s is None
            else f"{result.wall_time_s:.1f}/{result.time_limit_s:g} s "
            f"({result.wall_time_s / result.time_limit_s:.2f}x)",
            "-" if result.peak_memory_mib is None else f"{result.peak_memory_mib:.0f}",
            "-" if result.visits_planned is None else str(result.visits_planned),
            result.fallback or "-",
            within(result),
        ]
        for result in results
    ]


def _names(text: str, known: Sequence[str], what: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {what}(s): {', '.join(unknown)}; choose from {', '.join(known)}"
        )
    return names


def main(argv: Sequence[str] | None = None) -> int:
    """Run every case x solver in its own process and print the table (`--one`: run one in
    this process and print its result as a line of JSON)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limits", description=__doc__)
    every_case = [*CASES, *TINY_CASES]
    parser.add_argument(
        "--cases",
        type=lambda text: _names(text, every_case, "case"),
        default=list(CASES),
        help=f"comma-separated, from {','.join(every_case)} (default: {','.join(CASES)})",
    )
    parser.add_argument(
        "--solvers",
        type=lambda text: _names(text, SOLVERS, "solver"),
        default=list(SOLVERS),
        help=f"comma-separated, from {','.join(SOLVERS)} (default: all)",
    )
    parser.add_argument("--time-limit-s", type=float, default=5.0, help="default: 5")
    parser.add_argument("--markdown", action="store_true", help="the table as Markdown")
    parser.add_argument("--one", nargs=2, metavar=("CASE", "SOLVER"), help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.one:
        case, solver = arguments.one
        result = run_one(case, solver, arguments.time_limit_s)
        print(RESULT_PREFIX + json.dumps(asdict(result)), flush=True)
        return 0
    load_before = os.getloadavg()[0]
    results = []
    for case in arguments.cases:
        for solver in arguments.solvers:
            results.append(run_in_subprocess(case, solver, arguments.time_limit_s))
            print(f"{case} {solver}: {rows_of(results[-1:])[0][3]}", file=sys.stderr, flush=True)
    rows = rows_of(results)
    print(
        format_markdown_table(HEADERS, rows)
        if arguments.markdown
        else format_text_table(HEADERS, rows)
    )
    print(
        f"load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f}; "
        f"within: wall <= 1.1 x limit + {STARTUP_ALLOWANCE_S:g} s and peak <= "
        f"{MEMORY_BUDGET_MIB:.0f} MiB"
    )
    return 0 if all(within(result).startswith("yes") for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
