"""`auto`: the exact model on small weeks, warm-started from ruin and recreate; `ruin` above.

`choose_solver` is the one statement of the rule; the plan says what it chose and why in
`plan.solver.statistics["auto"]` (`chosen`, `reason`), which is what the command line prints.

At the exact size `ruin` runs first for `ruin_time_share` of the time left (at most
`ruin_max_s`) (it often meets the
coverage bound in a fraction of a second), then `cpsat` on the same clock with the ruin plan as
its warm start: a complete hint, so the exact model starts from that plan and, where the plan
already meets the relaxation's bound, skips straight to proving the rest of the objective. The
better of the two plans is returned (more mandatory occurrences, else more weighted coverage,
else the higher policy objective), with the lower of their bounds; `statistics["auto"]` says
which part found it (`found_by`), why ruin's search stopped and what became of its floating
polish (`ruin_stop_reason`, `ruin_polish`), both parts' coverage, the bound, the gap and
whether it is proven (`proven`: the whole objective, status OPTIMAL; `coverage_proven`: gap 0).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from matcher.models import Plan, Problem

if TYPE_CHECKING:
    from matcher.solvers.base import Progress, SolveRequest

AUTO_EXACT_MAX_VISITS = 120
"""`auto` uses the exact model up to this many requested visits a week, `ruin` above (it
covered more than `lns` at the same limit on every generated week measured: README)."""
AUTO_EXACT_MAX_VOLUNTEERS = 15
"""... and up to this many volunteers."""

AUTO_CHOICES = ("cpsat", "ruin")
"""The solvers `auto` picks between."""
RUIN_TIME_SHARE = 0.2
"""At the exact size, the share of the time left (after reading the week) ruin and recreate gets
before the exact model..."""
RUIN_MAX_S = 5.0
"""... and at most this many seconds: on small weeks ruin finds its best plan within a second or
two or not at all, and the exact model needs the rest (benchmarks/README.md, proofs)."""


def _checked_parameters(solver: str, value: dict[str, Any]) -> dict[str, Any]:
    """The parameters of one of the solvers `auto` picks, checked by that solver's parameters
    type (an unknown key is an error naming it) and written out in full."""
    from matcher.solvers.base import parameter_problems
    from matcher.solvers.registry import get_solver

    parameters_type = get_solver(solver).parameters_type
    try:
        return parameters_type.model_validate(value).model_dump()
    except ValidationError as error:
        problems = "; ".join(parameter_problems(parameters_type, error))
        raise PydanticCustomError(
            "solver_parameters", "{problems}", {"problems": problems}
        ) from None


class AutoParameters(BaseModel):
    """Where `auto` draws the line between the exact model and ruin and recreate, and the
    parameters each of them gets when chosen (in a `--config` file: the tables `[auto.cpsat]`
    and `[auto.ruin]`; `[auto.lns]` is still read and checked, for older files, but `auto` no
    longer picks `lns`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exact_max_visits: int = Field(
        default=AUTO_EXACT_MAX_VISITS,
        ge=0,
        description="the exact model up to this many requested visits a week",
    )
    exact_max_volunteers: int = Field(
        default=AUTO_EXACT_MAX_VOLUNTEERS,
        ge=0,
        description="the exact model up to this many volunteers",
    )
    ruin_warm_start: bool = Field(
        default=True,
        description="at the exact size, run ruin first and warm-start the exact model from its "
        "plan (else from greedy's)",
    )
    ruin_time_share: float = Field(
        default=RUIN_TIME_SHARE,
        gt=0,
        lt=1,
        description="share of the time left ruin gets before the exact model",
    )
    ruin_max_s: float = Field(default=RUIN_MAX_S, gt=0, description="and at most this many seconds")
    cpsat: dict[str, Any] = Field(
        default_factory=dict, description="CpSatParameters for when auto picks cpsat"
    )
    ruin: dict[str, Any] = Field(
        default_factory=dict, description="RuinParameters for when auto picks ruin"
    )
    lns: dict[str, Any] = Field(
        default_factory=dict,
        description="LnsParameters (older files; auto picks ruin above the exact size)",
    )

    @field_validator("cpsat")
    @classmethod
    def _check_cpsat(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _checked_parameters("cpsat", value)

    @field_validator("ruin")
    @classmethod
    def _check_ruin(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _checked_parameters("ruin", value)

    @field_validator("lns")
    @classmethod
    def _check_lns(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _checked_parameters("lns", value)


def choose_solver(problem: Problem, parameters: AutoParameters | None = None) -> tuple[str, str]:
    """The solver `auto` picks for this problem, and why.

    Parameters:
        problem: the week to plan; its requested visits and its volunteers are counted.
        parameters: where the line is drawn (default: `AutoParameters()`).
    """
    limits = parameters or AutoParameters()
    requested = sum(need.visits_per_week for need in problem.need_by_id.values())
    volunteers = len(problem.volunteers)
    if requested <= limits.exact_max_visits and volunteers <= limits.exact_max_volunteers:
        return "cpsat", (
            f"{requested} visits and {volunteers} volunteers: small enough for the exact model"
        )
    return "ruin", (
        f"{requested} visits and {volunteers} volunteers: above {limits.exact_max_visits} visits "
        f"or {limits.exact_max_volunteers} volunteers, so ruin and recreate"
    )


class AutoSolver:
    """Chooses `cpsat` or `ruin` by the size of the week and says which and why in
    `solver.statistics["auto"]`."""

    name = "auto"
    parameters_type = AutoParameters

    def solve(self, request: SolveRequest) -> Plan:
        """Plan with the solver `choose_solver` picks, on the same request (and clock) with its
        parameters from `AutoParameters`; at the exact size warm-started from `ruin`."""
        from matcher.solvers.base import parameters_of
        from matcher.solvers.registry import get_solver

        parameters = parameters_of(request, AutoParameters, self.name)
        chosen, reason = choose_solver(request.problem, parameters)
        solver = get_solver(chosen)
        settings = solver.parameters_type.model_validate(getattr(parameters, chosen))
        caller = request.progress
        default_limit_s = getattr(settings, "default_time_limit_s", None)
        summary: dict[str, Any] = {"chosen": chosen, "reason": reason}
        if chosen == "cpsat" and parameters.ruin_warm_start and request.warm_start is None:
            plan, found = _ruin_then_exact(request, parameters, settings, default_limit_s)
            summary.update(found)
        else:

            def forward(progress: Progress) -> None:
                if caller is not None and progress.phase != "done":
                    caller(progress)

            inner = replace(request, parameters=settings, progress=forward if caller else None)
            plan = solver.solve(inner)
        statistics = {**plan.solver.statistics, "auto": summary}
        info = plan.solver.model_copy(update={"statistics": statistics})
        plan = plan.model_copy(update={"solver": info})
        request.report_done(plan, default_limit_s)
        return plan


PlanRank = tuple[int, float, float]
"""(mandatory occurrences, weighted coverage, policy objective) of a plan."""


def plan_rank(problem: Problem, plan: Plan) -> PlanRank:
    """How `auto` ranks a plan: mandatory occurrences, then weighted coverage, then the policy
    objective (`solver.objective_breakdown["total"]`)."""
    from matcher.rules.mandatory import mandatory_planned

    needs = problem.need_by_id
    return (
        mandatory_planned(needs, plan.visits),
        plan.solver.objective or 0.0,
        float(plan.solver.objective_breakdown.get("total", 0.0)),
    )


def _ranks_above(first: PlanRank, second: PlanRank) -> bool:
    if first[0] != second[0]:
        return first[0] > second[0]
    if abs(first[1] - second[1]) > 1e-9:
        return first[1] > second[1]
    return first[2] > second[2] + 1e-6


def _ruin_then_exact(
    request: SolveRequest,
    parameters: AutoParameters,
    cpsat_settings: BaseModel,
    default_limit_s: float | None,
) -> tuple[Plan, dict[str, Any]]:
    """`ruin` for its share of the limit, then `cpsat` from its plan, on the request's clock;
    the better plan with the lower bound, and what `statistics["auto"]` says of them."""
    from matcher.solvers.base import bound_and_gap
    from matcher.solvers.registry import get_solver

    caller = request.progress
    limit_s = request.limit_s(default_limit_s if default_limit_s is not None else 30.0)
    started = {"ruin": False}

    def forward(progress: Progress) -> None:
        """The caller hears one `start` (ruin's), no inner `done`, and the whole limit."""
        if caller is None or progress.phase == "done":
            return
        if progress.phase == "start":
            if started["ruin"]:
                return
            started["ruin"] = True
        caller(replace(progress, time_limit_s=limit_s))

    ruin_settings = get_solver("ruin").parameters_type.model_validate(parameters.ruin)
    elapsed_s = request.elapsed_s()
    ruin_request = replace(
        request,
        parameters=ruin_settings,
        time_limit_s=elapsed_s
        + min(parameters.ruin_max_s, parameters.ruin_time_share * max(0.0, limit_s - elapsed_s)),
        progress=forward if caller else None,
    )
    ruin_plan = get_solver("ruin").solve(ruin_request)
    ruin_s = request.elapsed_s()
    exact_request = replace(
        request,
        parameters=cpsat_settings,
        time_limit_s=limit_s,
        warm_start=ruin_plan,
        progress=forward if caller else None,
    )
    exact_plan = get_solver("cpsat").solve(exact_request)
    problem = request.problem
    ruin_rank, exact_rank = plan_rank(problem, ruin_plan), plan_rank(problem, exact_plan)
    kept_warm = bool(exact_plan.solver.statistics.get("warm_start_kept"))
    improved = not kept_warm and _ranks_above(exact_rank, ruin_rank)
    best = exact_plan if not _ranks_above(ruin_rank, exact_rank) else ruin_plan
    bounds = [
        bound for bound in (ruin_plan.solver.bound, exact_plan.solver.bound) if bound is not None
    ]
    bound, gap = bound_and_gap(min(bounds) if bounds else None, best.solver.objective or 0.0)
    if (bound, gap) != (best.solver.bound, best.solver.gap):
        best = best.model_copy(
            update={"solver": best.solver.model_copy(update={"bound": bound, "gap": gap})}
        )
    found = {
        "warm_start": "ruin",
        "found_by": "cpsat" if best is exact_plan and improved else "ruin",
        "ruin_s": round(ruin_s, 3),
        "ruin_weighted_coverage": ruin_plan.solver.objective,
        "ruin_objective": ruin_rank[2],
        "ruin_stop_reason": ruin_plan.solver.statistics.get("stop_reason"),
        "ruin_polish": ruin_plan.solver.statistics.get("polish", {}).get("kept"),
        "cpsat_weighted_coverage": exact_plan.solver.objective,
        "cpsat_objective": exact_rank[2],
        "cpsat_status": exact_plan.solver.status,
        "bound": bound,
        "gap": gap,
        "coverage_proven": gap is not None and gap <= 1e-9,
        "proven": best.solver.status == "OPTIMAL",
    }
    return best, found
