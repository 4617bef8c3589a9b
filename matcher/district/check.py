"""The district check: an independent judge of a district's plans, beside `matcher.checker`.

It imports only the models, the travel model and the checker, and trusts nothing the plans say
about loads: every community's plan is checked against that community's problem by
`matcher.check_plan` (which recomputes each volunteer's visit and travel minutes), and then each
shared helper is held to the district's rules:

- their minutes (visits and travel, as the checker recomputes them) over all communities stay
  within their `weekly_minutes`;
- they are never at two places at once: two of their visits in different communities on one day
  are at least the district's `transfer_min` apart (and never overlap);
- they are planned only in communities they serve.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

from pydantic import BaseModel, ConfigDict

from matcher.checker import CheckReport, check_plan
from matcher.district.models import District
from matcher.models import Plan, Problem, format_clock
from matcher.travel import TravelModel


class DistrictViolation(BaseModel):
    """One broken rule of the district, or of one community's plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str
    message: str
    community: str | None = None
    helper: str | None = None


class DistrictCheckReport(BaseModel):
    """What the district check found, and each shared helper's minutes per community."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    violations: list[DistrictViolation]
    helper_minutes: dict[str, dict[str, float]]
    """helper id -> community id -> minutes (visits and travel) the checker recomputed."""

    @property
    def ok(self) -> bool:
        """Whether every community's plan and every district rule is kept."""
        return not self.violations


def check_district(
    district: District,
    plans: Mapping[str, tuple[Problem, Plan]],
    reports: Mapping[str, CheckReport] | None = None,
) -> DistrictCheckReport:
    """Check each community's plan against its problem, and the shared helpers across them.

    `plans` maps each community id to the problem its plan was made for (with the helpers'
    share of the week) and the plan; `reports` may pass checker reports already made for them.
    """
    violations: list[DistrictViolation] = []
    checked: dict[str, CheckReport] = {}
    for name, (problem, plan) in plans.items():
        report = (reports or {}).get(name) or check_plan(problem, plan, TravelModel(problem))
        checked[name] = report
        violations += [
            DistrictViolation(
                rule=item.rule,
                message=f"{name}: {item.message}",
                community=name,
                helper=item.volunteer,
            )
            for item in report.violations
        ]
    missing = [community.id for community in district.communities if community.id not in plans]
    violations += [
        DistrictViolation(rule="missing_plan", message=f"{name}: no plan", community=name)
        for name in missing
    ]
    helper_minutes: dict[str, dict[str, float]] = {}
    for helper in district.shared_helpers:
        minutes: dict[str, float] = {}
        spans: list[tuple[str, str, int, int]] = []
        for name, (_problem, plan) in plans.items():
            loads = {load.volunteer: load.total_min for load in checked[name].metrics.loads}
            visits = [visit for visit in plan.visits if helper.id in visit.volunteers]
            if name not in helper.communities:
                if visits:
                    violations.append(
                        DistrictViolation(
                            rule="shared_helper_community",
                            message=f"{helper.id} is planned in {name}, which they do not serve",
                            community=name,
                            helper=helper.id,
                        )
                    )
                continue
            minutes[name] = loads.get(helper.id, 0.0)
            spans += [(name, visit.day, visit.start, visit.end) for visit in visits]
        helper_minutes[helper.id] = minutes
        total = sum(minutes.values())
        if total > helper.weekly_minutes + 1e-6:
            detail = ", ".join(f"{name} {value:.0f}" for name, value in minutes.items())
            violations.append(
                DistrictViolation(
                    rule="shared_weekly_minutes",
                    message=f"{helper.id} is planned for {total:.0f} minutes over the district "
                    f"({detail}), more than the {helper.weekly_minutes} they give",
                    helper=helper.id,
                )
            )
        for first, second in combinations(sorted(spans), 2):
            if first[0] == second[0] or first[1] != second[1]:
                continue
            gap = max(second[2] - first[3], first[2] - second[3])
            if gap < district.transfer_min:
                where = "at two places at once" if gap < 0 else f"only {gap} minutes apart"
                violations.append(
                    DistrictViolation(
                        rule="shared_double_booked",
                        message=f"{helper.id} is {where} on {first[1]}: {first[0]} "
                        f"{format_clock(first[2])}-{format_clock(first[3])} and {second[0]} "
                        f"{format_clock(second[2])}-{format_clock(second[3])} (the district "
                        f"needs {district.transfer_min} minutes between communities)",
                        helper=helper.id,
                    )
                )
    return DistrictCheckReport(violations=violations, helper_minutes=helper_minutes)


__all__ = ["DistrictCheckReport", "DistrictViolation", "check_district"]
