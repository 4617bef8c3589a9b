"""The floating engine alone on Mankowska: the conversion keeps the official cost and rules."""

from __future__ import annotations

import time

import pytest

from benchmarks import floating_mankowska
from benchmarks.external import mankowska
from matcher.solvers.floating import SearchLimits, construct, feasible, improve

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
