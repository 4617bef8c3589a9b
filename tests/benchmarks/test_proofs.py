"""The proofs benchmark's table: what counts as proven, and the summary per kind and solver."""

from __future__ import annotations

import pytest

from benchmarks.proofs import ProofResult, main, render, rows, solver_parameters, summary_rows


def result(case: str, kind: str, solver: str, *, proven: bool, optimal: bool) -> ProofResult:
    return ProofResult(
        case=case,
        kind=kind,
        solver=solver,
        status="OPTIMAL" if optimal else "FEASIBLE",
        coverage=10.0,
        bound=10.0 if proven else 12.0,
        gap=0.0 if proven else 1 / 6,
        proven=proven,
        optimal=optimal,
        proof_s=2.0 if proven else None,
        wall_time_s=3.0,
        found_by="ruin" if solver.startswith("auto") else None,
    )


def test_the_summary_counts_proofs_per_kind_and_solver() -> None:
    results = [
        result("small/0", "week", "auto (cpsat)", proven=True, optimal=False),
        result("small/1", "week", "auto (cpsat)", proven=False, optimal=False),
        result("mk10_1", "mankowska", "cpsat", proven=True, optimal=True),
    ]
    assert summary_rows(results) == [
        ["week", "auto", "2", "1", "0", "2.0", "2.0"],
        ["mankowska", "cpsat", "1", "1", "1", "2.0", "2.0"],
    ]
    table = rows(results)
    assert table[0][1] == "auto (cpsat) [ruin]" and table[0][6] == "coverage"
    assert table[1][6] == "no" and table[1][5] == "16.67"
    assert table[2][6] == "optimal"
    text = render(results, 60.0, markdown=True)
    assert "load average" in text and "| week | auto | 2 | 1 | 0 |" in text


def test_mankowska_runs_keep_the_cost_phase_for_the_whole_limit() -> None:
    assert solver_parameters("cpsat", "mankowska", 60.0) == {"polish_time_s": 60.0}
    assert solver_parameters("auto", "mankowska", 60.0) == {"cpsat": {"polish_time_s": 60.0}}
    assert solver_parameters("cpsat", "week", 60.0) is None


def test_a_tiny_run_prints_both_tables(capsys: pytest.CaptureFixture[str]) -> None:
    """No week and no Mankowska file: the tables print empty (the runner never crashes)."""
    assert main(["--weeks", "", "--mankowska", "", "--solvers", "cpsat"]) == 0
    out = capsys.readouterr().out
    assert "| case |" not in out and "case" in out and "proven" in out
