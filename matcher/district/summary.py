"""The district summary: one picture for the district coordinator.

Per community: coverage, the high-priority recipients left without any visit
(`matcher.continuity.unvisited_high_priority`), each shared helper's minutes there (allotted
and used), and how short of helpers it is: the helper-minutes of the visits left out because
nobody qualified had the time (reasons `no_qualified_volunteer`, `no_shared_window`,
`volunteers_full`), by the skills those visits need. For the district: what the re-balance
moved, the communities whose solve failed (and the error), and the district check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from matcher.continuity import unvisited_high_priority
from matcher.district.check import DistrictCheckReport
from matcher.district.models import District
from matcher.district.split import Allocation, Move, metrics_of
from matcher.models import Plan, Problem

SHORTAGE_REASONS = frozenset({"no_qualified_volunteer", "no_shared_window", "volunteers_full"})
"""Reasons a visit left out says the community lacks helpers (not distance, not the search)."""

NO_SKILL = "no skill"
"""The skill label of visits whose service needs no particular skill."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SharedUse(_Frozen):
    """A shared helper in one community: minutes first allotted, allotted at the end, used."""

    helper: str
    first_allotted_min: int
    allotted_min: int
    used_min: float
    days: list[str]


class Shortage(_Frozen):
    """Helper-minutes a community lacks for visits needing these skills."""

    skill: str
    minutes: int
    visits: int


class CommunitySummary(_Frozen):
    """How one community's week came out."""

    community: str
    name: str
    status: str = Field(description="solved, or fallback (its greedy plan after two failures)")
    error: str | None = None
    solver_status: str
    visits_requested: int
    visits_planned: int
    coverage_pct: float
    weighted_coverage_pct: float
    high_priority_left_out: list[str]
    shared: list[SharedUse]
    short_min: int = Field(description="helper-minutes lacking, all skills together")
    shortages: list[Shortage]


class MoveSummary(_Frozen):
    """Minutes (and days) of a shared helper the re-balance moved."""

    round: int
    helper: str
    from_community: str
    to_community: str
    minutes: int
    days: list[str]


class DistrictSummary(_Frozen):
    """The district's week in one picture."""

    name: str
    solver: str
    seed: int
    executor: str
    workers: int
    wall_time_s: float
    visits_requested: int
    visits_planned: int
    weighted_coverage_pct: float
    communities: list[CommunitySummary]
    short_of_helpers: list[str] = Field(
        description="communities lacking helper-minutes, most lacking first"
    )
    moves: list[MoveSummary]
    failed: list[str]
    check_ok: bool
    check_violations: list[str]

    def text(self) -> str:
        """A readable report, one line per community."""
        lines = [
            f"District {self.name or '(unnamed)'}: {len(self.communities)} communities, "
            f"{self.visits_planned} of {self.visits_requested} visits planned, "
            f"priority-weighted coverage {self.weighted_coverage_pct:.1f}% "
            f"({self.solver}, seed {self.seed}, {self.executor} x{self.workers}, "
            f"{self.wall_time_s:.1f} s)",
            f"{'community':<16} {'planned':>13} {'weighted':>9} {'high left out':>13} "
            f"{'short (min)':>11}  shared helpers (used/allotted min)",
        ]
        for item in self.communities:
            shared = ", ".join(
                f"{use.helper} {use.used_min:.0f}/{use.allotted_min}" for use in item.shared
            )
            flag = " FALLBACK" if item.status != "solved" else ""
            lines.append(
                f"{item.community:<16} {item.visits_planned:>6}/{item.visits_requested:<6} "
                f"{item.weighted_coverage_pct:>8.1f}% {len(item.high_priority_left_out):>13} "
                f"{item.short_min:>11}  {shared or '-'}{flag}"
            )
        if self.short_of_helpers:
            lines.append("Short of helpers:")
            for name in self.short_of_helpers:
                item = next(c for c in self.communities if c.community == name)
                detail = ", ".join(
                    f"{s.skill} {s.minutes} min ({s.visits} visits)" for s in item.shortages
                )
                lines.append(f"  {name}: {item.short_min} min: {detail}")
        if self.moves:
            lines.append("Re-balanced:")
            for move in self.moves:
                days = f" and {', '.join(move.days)}" if move.days else ""
                lines.append(
                    f"  round {move.round}: {move.helper} {move.minutes} min{days} from "
                    f"{move.from_community} to {move.to_community}"
                )
        for item in self.communities:
            if item.error:
                lines.append(f"Failed twice, greedy plan used: {item.community}: {item.error}")
        verdict = "OK" if self.check_ok else f"{len(self.check_violations)} violation(s)"
        lines.append(f"District check: {verdict}")
        lines += [f"  {message}" for message in self.check_violations[:20]]
        return "\n".join(lines)


def _shortages(problem: Problem, plan: Plan) -> list[Shortage]:
    minutes: dict[str, int] = defaultdict(int)
    visits: dict[str, int] = defaultdict(int)
    for item in plan.unassigned:
        if item.reason not in SHORTAGE_REASONS or item.need not in problem.need_by_id:
            continue
        need = problem.need_by_id[item.need]
        service = problem.service_by_id[need.service]
        skill = "+".join(sorted(service.required_skills)) or NO_SKILL
        minutes[skill] += problem.duration_of(need) * service.team_size
        visits[skill] += 1
    return [
        Shortage(skill=skill, minutes=minutes[skill], visits=visits[skill])
        for skill in sorted(minutes, key=lambda s: (-minutes[s], s))
    ]


def summarise(
    district: District,
    problems: Mapping[str, Problem],
    plans: Mapping[str, Plan],
    report: DistrictCheckReport,
    *,
    first_allocation: Allocation,
    allocation: Allocation,
    moves: list[Move],
    errors: Mapping[str, str],
    solver: str,
    seed: int,
    executor: str,
    workers: int,
    wall_time_s: float,
) -> DistrictSummary:
    """The summary of a solved district."""
    communities: list[CommunitySummary] = []
    for community in district.communities:
        name = community.id
        problem, plan = problems[name], plans[name]
        metrics = metrics_of(plan)
        shared = [
            SharedUse(
                helper=helper.id,
                first_allotted_min=first_allocation[helper.id][name].minutes,
                allotted_min=allocation[helper.id][name].minutes,
                used_min=round(report.helper_minutes.get(helper.id, {}).get(name, 0.0), 1),
                days=list(allocation[helper.id][name].days),
            )
            for helper in district.shared_helpers
            if name in helper.communities
        ]
        shortages = _shortages(problem, plan)
        communities.append(
            CommunitySummary(
                community=name,
                name=problem.name,
                status="fallback" if name in errors else "solved",
                error=errors.get(name),
                solver_status=plan.solver.status,
                visits_requested=metrics.visits_requested,
                visits_planned=metrics.visits_planned,
                coverage_pct=round(metrics.coverage_pct, 2),
                weighted_coverage_pct=round(metrics.weighted_coverage_pct, 2),
                high_priority_left_out=unvisited_high_priority(problem, plan),
                shared=shared,
                short_min=sum(item.minutes for item in shortages),
                shortages=shortages,
            )
        )
    planned = sum(metrics_of(plans[c.id]).weighted_planned for c in district.communities)
    wanted = sum(metrics_of(plans[c.id]).weighted_requested for c in district.communities)
    short = sorted(
        (item for item in communities if item.short_min > 0),
        key=lambda item: (-item.short_min, item.community),
    )
    return DistrictSummary(
        name=district.name,
        solver=solver,
        seed=seed,
        executor=executor,
        workers=workers,
        wall_time_s=round(wall_time_s, 3),
        visits_requested=sum(item.visits_requested for item in communities),
        visits_planned=sum(item.visits_planned for item in communities),
        weighted_coverage_pct=round(100.0 * planned / wanted, 2) if wanted else 100.0,
        communities=communities,
        short_of_helpers=[item.community for item in short],
        moves=[
            MoveSummary(
                round=move.round,
                helper=move.helper,
                from_community=move.from_community,
                to_community=move.to_community,
                minutes=move.minutes,
                days=list(move.days),
            )
            for move in moves
        ],
        failed=[c.id for c in district.communities if c.id in errors],
        check_ok=report.ok,
        check_violations=[item.message for item in report.violations],
    )


__all__ = [
    "NO_SKILL",
    "SHORTAGE_REASONS",
    "CommunitySummary",
    "DistrictSummary",
    "MoveSummary",
    "SharedUse",
    "Shortage",
    "summarise",
]
