"""The floating engine alone on Mankowska: the conversion keeps the official cost and rules."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from benchmarks import floating_mankowska
from benchmarks.external import mankowska
from benchmarks.floating_engine import construct_and_improve, run_all
from matcher.solvers.floating import SearchLimits, Window, construct, feasible, improve

INSTANCES = floating_mankowska.FOLDER / "instances"

pytestmark = pytest.mark.skipif(
    not (INSTANCES / "InstanzCPLEX_HCSRP_25_1.json").is_file(),
    reason="the Mankowska instances are not beside the checkout",
)


@pytest.mark.parametrize("name", ["InstanzCPLEX_HCSRP_10_1", "InstanzCPLEX_HCSRP_25_1"])
def test_the_engines_cost_is_the_official_cost_of_valid_routes(name: str) -> None:
    instance = mankowska.load_instance(INSTANCES / f"{name}.json")
    day, meaning = floating_mankowska.day_of(instance)
    assert len(day.links) == sum(1 for p in instance.patients if p.synchronization is not None)
    day.routes = construct(day)
    assert feasible(day, day.routes) == []
    result = improve(day, SearchLimits(deadline=time.monotonic() + 60, iterations=200))
    official, violations = floating_mankowska.judged(
        instance, meaning, result.routes, result.starts
    )
    assert violations == []
    assert official.total == pytest.approx(result.cost, abs=1e-6)
    assert result.cost < result.initial_cost


def test_the_runner_prints_a_row_per_instance_and_the_mean_gap(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`run` (through `floating_engine`) judges the engine's routes by the published rules and
    gives the gap to the best known; `run_all` prints the load, the rows and the mean."""
    best = mankowska.load_best_known(floating_mankowska.FOLDER / "best.md")
    name = "InstanzCPLEX_HCSRP_10_1"
    gaps = run_all([name], 1.0, lambda instance: floating_mankowska.run(instance, 1.0, 0, best))
    output = capsys.readouterr().out
    assert len(gaps) == 1 and gaps[0] > -0.01  # best.md rounds the published costs
    assert output.startswith("load ")
    assert f"{name} " in output and "violations 0" in output
    assert f"mean gap {gaps[0]:.2f} % over 1 instances" in output


def test_construction_problems_stop_before_the_engine() -> None:
    """A stop whose window closes before anyone can arrive is left out by `construct`: the
    problems are returned and `improve` never runs."""
    instance = mankowska.load_instance(INSTANCES / "InstanzCPLEX_HCSRP_10_1.json")
    day, _ = floating_mankowska.day_of(instance)
    day.stops[0] = replace(day.stops[0], windows=(Window(0, 0, 0),))
    solved = construct_and_improve(day, 1.0, 0)
    assert isinstance(solved, list) and solved
