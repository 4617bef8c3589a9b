"""The benchmark runner: its table, its Markdown, and its one-process-per-run isolation."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from typing import Any

import pytest

from benchmarks.run import (
    SIZES,
    TABLE_HEADERS,
    RunResult,
    main,
    render_report,
    run_in_subprocess,
    run_one,
    summary_rows,
)


def _row_cells(table: str, prefix: str) -> list[str]:
    """The cells of the text table's row that starts with `prefix` (columns are 2+ spaces apart)."""
    rows = [line for line in table.splitlines() if line.startswith(prefix)]
    assert len(rows) == 1, table
    return [cell.strip() for cell in rows[0].split("  ") if cell.strip()]


def _result(seed: int, coverage: float, **overrides: Any) -> RunResult:
    """A successful run's result with plausible numbers."""
    base = RunResult(
        size="small",
        seed=seed,
        solver="auto",
        time_limit_s=10.0,
        chosen_solver="cpsat",
        solver_status="OPTIMAL",
        visits_requested=100,
        visits_planned=round(coverage),
        weighted_coverage_pct=coverage,
        gap_pct=1.5,
        travel_km=12.0,
        continuity_pct=40.0,
        load_gini=0.2,
        wall_time_s=3.0,
        peak_memory_mib=150.0,
        violations=0,
    )
    return dataclasses.replace(base, **overrides)


def test_tiny_greedy_table_has_the_machine_the_header_and_a_sane_row() -> None:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exit_code = main(["--sizes", "tiny", "--seeds", "0", "--solvers", "greedy"])
    table = output.getvalue()
    assert exit_code == 0
    assert "machine: " in table and " cores" in table
    assert "Python " in table and "OR-Tools " in table
    header = next(line for line in table.splitlines() if line.startswith("size "))
    for title in ("weighted coverage %", "gap to bound %", "peak memory MiB", "violations"):
        assert title in header
    cells = _row_cells(table, "tiny ")
    assert len(cells) == len(TABLE_HEADERS)
    by_title = dict(zip(TABLE_HEADERS, cells, strict=True))
    assert by_title["solver"] == "greedy"
    assert by_title["runs ok"] == "1/1"
    planned, requested = (float(part) for part in by_title["visits planned / requested"].split("/"))
    assert 0 <= planned <= requested and requested > 0
    assert 0 <= float(by_title["weighted coverage %"]) <= 100
    assert float(by_title["peak memory MiB"]) > 0
    assert by_title["violations"] == "0"


def test_each_run_happens_in_its_own_process_and_records_its_peak_memory() -> None:
    result = run_in_subprocess(SIZES["tiny"], seed=1, solver="greedy")
    assert result.status == "ok", result.error
    assert result.peak_memory_mib is not None and result.peak_memory_mib > 0
    assert result.violations == 0
    assert result.chosen_solver == "greedy"
    assert result.time_limit_s == SIZES["tiny"].time_limit_s


def test_a_run_past_its_deadline_is_killed_and_reported() -> None:
    result = run_in_subprocess(SIZES["tiny"], seed=0, solver="cpsat", kill_after_s=0.2)
    assert result.status == "killed"
    assert result.weighted_coverage_pct is None
    report = render_report([result], seeds=[0], time_limit_scale=1.0, markdown=False)
    assert "0/1 (1 killed)" in report
    assert "tiny seed 0 cpsat: killed" in report


def test_a_crashing_run_does_not_take_the_table_down() -> None:
    crashed = run_in_subprocess(SIZES["tiny"], seed=0, solver="no-such-solver")
    assert crashed.status == "crashed"
    assert crashed.error is not None and "no-such-solver" in crashed.error
    fine = _result(0, 90.0, size="tiny", solver="greedy", chosen_solver="greedy")
    report = render_report([fine, crashed], seeds=[0], time_limit_scale=1.0, markdown=False)
    greedy_cells = _row_cells(report, "tiny  greedy")
    assert greedy_cells[3] == "1/1"
    assert "0/1 (1 crashed)" in report


def test_rows_aggregate_seeds_as_mean_and_worst() -> None:
    results = [
        _result(0, 90.0, gap_pct=1.0, wall_time_s=2.0),
        _result(1, 80.0, gap_pct=3.0, wall_time_s=4.0, chosen_solver="lns"),
    ]
    (row,) = summary_rows(results)
    by_title = dict(zip(TABLE_HEADERS, row, strict=True))
    assert by_title["solver"] == "auto (cpsat, lns)"
    assert by_title["runs ok"] == "2/2"
    assert by_title["visits planned / requested"] == "85 / 100"
    assert by_title["weighted coverage %"] == "85.0 (80.0)"
    assert by_title["gap to bound %"] == "2.00 (3.00)"
    assert by_title["wall time s"] == "3.00 (4.00)"
    assert by_title["violations"] == "0"


def test_a_missing_gap_is_a_dash() -> None:
    (row,) = summary_rows([_result(0, 90.0, solver="greedy", gap_pct=None)])
    assert dict(zip(TABLE_HEADERS, row, strict=True))["gap to bound %"] == "-"


def test_markdown_is_a_github_table_under_the_machine() -> None:
    results = [_result(0, 90.0), _result(0, 95.0, solver="greedy", chosen_solver="greedy")]
    report = render_report(results, seeds=[0], time_limit_scale=1.0, markdown=True)
    lines = report.splitlines()
    assert lines[0].startswith("- machine: ")
    table = [line for line in lines if line.startswith("|")]
    assert len(table) == 4
    column_count = len(TABLE_HEADERS)
    for line in table:
        assert line.endswith(" |")
        assert line.count(" | ") == column_count - 1
    assert table[0] == "| " + " | ".join(TABLE_HEADERS) + " |"
    assert set(table[1].replace("|", "").split()) <= {":---", "---:"}
    assert table[2].startswith("| small | auto (cpsat) | 10 | 1/1 | 90 / 100 | 90.0 |")
    assert table[3].startswith("| small | greedy |")


@pytest.mark.parametrize(
    "arguments",
    [["--sizes", "huge"], ["--solvers", "simplex"], ["--seeds", "a"], ["--time-limit-scale", "0"]],
)
def test_bad_arguments_are_usage_errors(arguments: list[str]) -> None:
    with pytest.raises(SystemExit) as raised, contextlib.redirect_stderr(io.StringIO()):
        main(arguments)
    assert raised.value.code == 2


def test_a_run_with_sessions_fills_the_seat_columns() -> None:
    """`--sessions`: the community has group sessions and the row says seats and their gap."""
    result = run_one(SIZES["small"], 0, "greedy", 5.0, sessions=True)
    assert result.status == "ok", result.error
    assert result.seats_wished is not None and result.seats_planned is not None
    assert 0 < result.seats_planned <= result.seats_wished
    assert result.seat_gap_pct is not None and result.seat_gap_pct >= 0
    assert result.session_share_pct is not None and result.session_share_pct > 0
    assert result.seat_bound is not None and result.seats_planned <= result.seat_bound
    assert result.points_gap_pct is not None and 0 <= result.points_gap_pct <= 100
    assert result.bound_relaxed is True
    (row,) = summary_rows([result])
    cells = dict(zip(TABLE_HEADERS, row, strict=True))
    assert cells["seats planned / wished"] == f"{result.seats_planned} / {result.seats_wished}"
    assert cells["seat bound"] == str(result.seat_bound)
    share = result.session_share_pct
    assert cells["minutes sessions / visits %"] == f"{share:.1f} / {100 - share:.1f}"
    plain = run_one(SIZES["tiny"], 0, "greedy", 2.0)
    (row,) = summary_rows([plain])
    for title in ("seat bound", "seat gap %", "points gap %", "minutes sessions / visits %"):
        assert dict(zip(TABLE_HEADERS, row, strict=True))[title] == "-"


def test_a_bound_that_ran_out_of_time_is_marked() -> None:
    ran_out = RunResult(
        size="small",
        seed=0,
        solver="greedy",
        time_limit_s=1.0,
        seat_bound=30,
        bound_relaxed=False,
        seats_planned=20,
        seats_wished=32,
    )
    (row,) = summary_rows([ran_out])
    assert dict(zip(TABLE_HEADERS, row, strict=True))["seat bound"] == "30*"


def test_continuity_is_printed_beside_its_ceiling() -> None:
    """The recipients kept with a familiar volunteer, the share who could be, and the ratio:
    measured on a real run, aggregated as mean (lowest)."""
    result = run_one(SIZES["tiny"], seed=0, solver="greedy", time_limit_s=2.0)
    assert result.status == "ok", result.error
    assert result.familiar_ceiling_pct is not None and result.familiar_kept_pct is not None
    assert 0 <= result.familiar_kept_pct <= 100 and 0 <= result.familiar_ceiling_pct <= 100
    results = [
        _result(
            0, 90.0, familiar_kept_pct=40.0, familiar_ceiling_pct=80.0, familiar_of_ceiling_pct=50.0
        ),
        _result(
            1, 90.0, familiar_kept_pct=60.0, familiar_ceiling_pct=90.0, familiar_of_ceiling_pct=66.7
        ),
    ]
    (row,) = summary_rows(results)
    cells = dict(zip(TABLE_HEADERS, row, strict=True))
    headers = list(TABLE_HEADERS)
    assert headers.index("familiar kept %") == headers.index("continuity %") + 1
    assert cells["familiar kept %"] == "50.0 (40.0)"
    assert cells["familiar ceiling %"] == "85.0 (80.0)"
    assert cells["kept / ceiling %"] == "58.4 (50.0)"


def test_a_searching_solver_records_its_steps_and_greedy_none() -> None:
    searched = run_in_subprocess(SIZES["tiny"], seed=0, solver="ruin")
    assert searched.status == "ok", searched.error
    assert searched.iterations is not None and searched.iterations > 0
    built = run_in_subprocess(SIZES["tiny"], seed=0, solver="greedy")
    assert built.iterations is None
    searches = [_result(0, 90.0, iterations=3000), _result(1, 80.0, iterations=1000)]
    rows = summary_rows([*searches, _result(0, 90.0, solver="greedy")])
    cells = [dict(zip(TABLE_HEADERS, row, strict=True))["iterations"] for row in rows]
    assert cells == ["2,000 (1,000)", "-"]


def test_the_report_names_the_commit_the_run_started_from(monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit made while a run goes on does not end up in its report: the first call of
    `machine_lines` (as a runner starts) fixes it."""
    import subprocess

    import benchmarks.run as runner

    commits = iter(["aaaaaaa", "", "bbbbbbb", ""])

    def fake_git(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 0, stdout=next(commits) + "\n", stderr="")

    runner._git_commit.cache_clear()
    monkeypatch.setattr(runner.subprocess, "run", fake_git)
    try:
        first = runner.machine_lines()
        later = runner.machine_lines()
    finally:
        runner._git_commit.cache_clear()
    assert "matcher commit aaaaaaa" in first[1]
    assert later == first
