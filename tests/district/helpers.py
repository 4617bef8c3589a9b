"""What the district tests compare and check."""

from __future__ import annotations

from typing import Any

from matcher.checker import check_plan
from matcher.district.check import check_district
from matcher.district.models import District
from matcher.district.runner import DistrictResult


def plan_content(result: DistrictResult) -> dict[str, Any]:
    """Each community's plan without what depends on the clock (wall time, timings)."""
    return {
        name: plan.model_dump(mode="json", include={"visits", "routes", "unassigned", "metrics"})
        for name, plan in result.plans.items()
    }


def assert_district_ok(district: District, result: DistrictResult) -> None:
    """Every plan keeps every rule of its community and the district check passes, judged
    again here (not only as `solve_district` judged it)."""
    for name, plan in result.plans.items():
        report = check_plan(result.problems[name], plan)
        assert report.ok, (name, report.summary())
    report = check_district(
        district, {name: (result.problems[name], plan) for name, plan in result.plans.items()}
    )
    assert report.ok, [item.message for item in report.violations]
    assert result.check.ok
