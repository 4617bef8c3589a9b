"""The time-limit benchmark (`benchmarks.limits`): one run per process, its table."""

from __future__ import annotations

import contextlib
import io

from benchmarks.limits import LimitResult, main, rows_of, run_in_subprocess


def test_a_run_in_a_fresh_process_reports_wall_time_and_peak_memory() -> None:
    """A tiny crafted input planned by greedy in its own process: wall time and peak memory."""
    result = run_in_subprocess("tiny-walkway", "greedy", 5.0)
    assert result.status == "ok", result.error
    assert result.wall_time_s is not None and result.wall_time_s > 0
    assert result.peak_memory_mib is not None and result.peak_memory_mib > 0
    assert result.visits_planned


def test_the_table_has_a_row_per_case_and_solver() -> None:
    """The script on tiny inputs prints one row per (case, solver) with the ratio to the limit."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--cases", "tiny-matrix,tiny-windows", "--solvers", "greedy"]) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["case", "solver", "status"]
    assert sum(line.startswith("tiny-") for line in lines) == 2
    assert "x)" in lines[2]


def test_a_refused_input_says_so() -> None:
    """An input the validator refuses for a limit is a row saying so, not an error."""
    refused = LimitResult("windows2000", "cpsat", 5.0, status="refused (input limit)")
    assert rows_of([refused])[0][2] == "refused (input limit)"
