"""A small district on the local pool and on Ray: the same plans, the district check passing,
files written atomically, a failing community that does not stop the others."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matcher.checker import check_plan
from matcher.cli import main
from matcher.district.generate import generate_district
from matcher.district.models import District
from matcher.district.runner import DistrictProgress, DistrictResult, solve_district
from matcher.district.summary import DistrictSummary
from matcher.io import load_plan, load_problem
from tests.district.helpers import assert_district_ok, plan_content


def test_the_pool_plans_every_community_and_the_district_check_passes(
    small_district: District, pool_result: DistrictResult
) -> None:
    assert_district_ok(small_district, pool_result)
    summary = pool_result.summary
    assert [c.community for c in summary.communities] == ["c01", "c02", "c03", "c04", "c05"]
    assert summary.failed == [] and summary.check_ok
    assert summary.visits_planned == sum(len(p.visits) for p in pool_result.plans.values())
    for helper in small_district.shared_helpers:
        used = pool_result.check.helper_minutes[helper.id]
        assert set(used) == set(helper.communities)
        assert sum(used.values()) <= helper.weekly_minutes
        days = [
            {v.day for v in pool_result.plans[name].visits if helper.id in v.volunteers}
            for name in helper.communities
        ]
        assert all(not a & b for i, a in enumerate(days) for b in days[i + 1 :])
    doctor = {
        c.community: next(u for u in c.shared if u.helper == "district-doctor")
        for c in summary.communities
        if c.community in ("c01", "c02", "c03")
    }
    assert sum(u.allotted_min for u in doctor.values()) <= 900
    assert all(u.used_min <= u.allotted_min + 1e-6 for u in doctor.values())


def test_the_summary_reports_shortages_by_skill_and_what_moved(
    pool_result: DistrictResult,
) -> None:
    summary = pool_result.summary
    for community in summary.communities:
        plan = pool_result.plans[community.community]
        short_visits = [
            u
            for u in plan.unassigned
            if u.reason in ("no_qualified_volunteer", "no_shared_window", "volunteers_full")
        ]
        assert sum(s.visits for s in community.shortages) == len(short_visits)
        assert community.short_min == sum(s.minutes for s in community.shortages)
    short = [c for c in summary.communities if c.short_min > 0]
    assert summary.short_of_helpers == [
        c.community for c in sorted(short, key=lambda c: (-c.short_min, c.community))
    ]
    for move in summary.moves:
        assert move.minutes > 0 or move.days
        assert move.from_community != move.to_community
    for community in summary.communities:
        for use in community.shared:
            moved_in = sum(
                m.minutes
                for m in summary.moves
                if m.helper == use.helper and m.to_community == community.community
            )
            moved_out = sum(
                m.minutes
                for m in summary.moves
                if m.helper == use.helper and m.from_community == community.community
            )
            assert use.allotted_min == use.first_allotted_min + moved_in - moved_out
    assert "District check: OK" in summary.text()


def test_the_files_are_written_and_read_back(
    small_district: District, pool_result: DistrictResult, pool_folder: Path
) -> None:
    names = sorted(p.name for p in pool_folder.iterdir())
    expected = sorted(
        [f"{c}.{kind}.json" for c in pool_result.plans for kind in ("plan", "problem")]
        + ["district-summary.json"]
    )
    assert names == expected
    for name in pool_result.plans:
        problem = load_problem(pool_folder / f"{name}.problem.json")
        plan = load_plan(pool_folder / f"{name}.plan.json")
        assert problem == pool_result.problems[name]
        assert plan.visits == pool_result.plans[name].visits
        assert check_plan(problem, plan).ok
    summary = DistrictSummary.model_validate_json(
        (pool_folder / "district-summary.json").read_text(encoding="utf-8")
    )
    assert summary == pool_result.summary


def test_ray_gives_the_same_plans_as_the_pool(
    small_district: District, pool_result: DistrictResult, ray_local: Any
) -> None:
    result = solve_district(small_district, executor="ray")
    assert result.summary.executor == "ray"
    assert_district_ok(small_district, result)
    assert plan_content(result) == plan_content(pool_result)
    assert result.problems == pool_result.problems
    assert result.summary.moves == pool_result.summary.moves


def test_lns_with_an_iteration_budget_gives_the_same_plans_on_both(ray_local: Any) -> None:
    three = generate_district([30, 35, 25], seed=4, shared_helpers=1)
    settings = {"iterations": 3, "compute_bound": False}
    on_pool = solve_district(
        three, solver="lns", parameters=settings, time_limit_s=120, seed=5, workers=2
    )
    on_ray = solve_district(
        three, solver="lns", parameters=settings, time_limit_s=120, seed=5, executor="ray"
    )
    assert_district_ok(three, on_pool)
    assert_district_ok(three, on_ray)
    assert plan_content(on_pool) == plan_content(on_ray)


@pytest.mark.parametrize("executor", ["pool", "ray"])
def test_a_failing_community_gets_its_greedy_plan_and_the_others_carry_on(
    small_district: District, pool_result: DistrictResult, executor: str, request: Any
) -> None:
    if executor == "ray":
        request.getfixturevalue("ray_local")
    seen: list[DistrictProgress] = []
    result = solve_district(
        small_district,
        solver="greedy",
        executor=executor,
        workers=2,
        inject_failures={"c02"},
        progress=seen.append,
    )
    assert_district_ok(small_district, result)
    summary = result.summary
    assert summary.failed == ["c02"]
    failed = next(c for c in summary.communities if c.community == "c02")
    assert failed.status == "fallback"
    assert failed.error is not None and "injected solver failure in community c02" in failed.error
    assert result.plans["c02"].solver.solver == "greedy" and result.plans["c02"].visits
    assert all(c.status == "solved" for c in summary.communities if c.community != "c02")
    assert "Failed twice, greedy plan used: c02" in summary.text()
    first_round = [state for state in seen if state.round == 0]
    assert first_round[-1].done == 5 and first_round[-1].queued == 0
    assert [state.done for state in first_round] == sorted(state.done for state in first_round)


def test_the_command_writes_the_plans_and_prints_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    district_file = tmp_path / "in" / "district.json"
    assert (
        main(
            [
                "district",
                "generate",
                "-o",
                str(district_file),
                "--communities",
                "3",
                "--recipients",
                "30",
                "--seed",
                "2",
            ]
        )
        == 0
    )
    data = json.loads(district_file.read_text(encoding="utf-8"))
    assert [c["file"] for c in data["communities"]] == [
        "district-c01.json",
        "district-c02.json",
        "district-c03.json",
    ]
    capsys.readouterr()
    out = tmp_path / "out"
    code = main(["district", "solve", str(district_file), "-o", str(out), "--workers", "1"])
    printed = capsys.readouterr().out
    assert code == 0
    assert printed.startswith("District Generated district (seed 2): 3 communities")
    assert "District check: OK" in printed
    assert (out / "district-summary.json").exists()
    assert sorted(p.name for p in out.glob("*.plan.json")) == [
        "c01.plan.json",
        "c02.plan.json",
        "c03.plan.json",
    ]


def test_the_command_rejects_a_bad_district_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "district.json"
    bad.write_text(
        json.dumps(
            {
                "communities": [{"id": "a", "file": "a.json"}],
                "shared_helpers": [{"id": "x", "weekly_minutes": -1, "communities": []}],
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code = main(["district", "solve", str(bad), "-o", str(out)])
    error = capsys.readouterr().err
    assert code == 2
    assert "communities.0.file" in error and "a.json" in error
    assert not out.exists()


def test_an_output_folder_that_cannot_be_made_is_an_error_before_any_solve(
    small_district: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    district_file = tmp_path / "district.json"
    district_file.write_text(small_district.model_dump_json(), encoding="utf-8")
    code = main(["district", "solve", str(district_file), "-o", str(blocker / "plans")])
    assert code == 2
    assert f"cannot write {blocker / 'plans'}" in capsys.readouterr().err
    assert blocker.read_text(encoding="utf-8") == "a file, not a folder"


@pytest.mark.parametrize("executor", ["pool", "ray"])
def test_a_worker_lost_mid_solve_is_solved_again_and_counted_once(
    small_district: District,
    pool_result: DistrictResult,
    executor: str,
    tmp_path: Path,
    request: Any,
) -> None:
    if executor == "ray":
        request.getfixturevalue("ray_local")
    marker = tmp_path / "c03.crashed"
    result = solve_district(
        small_district, executor=executor, workers=2, inject_crashes={"c03": marker}
    )
    assert marker.read_text(encoding="utf-8").strip().isdigit()  # the first attempt died
    assert_district_ok(small_district, result)
    assert result.summary.failed == []
    assert plan_content(result) == plan_content(pool_result)
    assert result.summary.visits_planned == pool_result.summary.visits_planned
    assert [c.community for c in result.summary.communities] == [
        c.community for c in pool_result.summary.communities
    ]
