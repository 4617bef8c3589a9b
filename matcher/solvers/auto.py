"""`auto`: the exact model on small weeks, large-neighbourhood search above."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from matcher.models import Plan, Problem
from matcher.travel import TravelModel

AUTO_EXACT_MAX_VISITS = 120
"""`auto` uses the exact model up to this many requested visits a week, LNS above."""
AUTO_EXACT_MAX_VOLUNTEERS = 15


class AutoParameters(BaseModel):
    """Where `auto` draws the line between the exact model and LNS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exact_max_visits: int = Field(default=AUTO_EXACT_MAX_VISITS, ge=0)
    exact_max_volunteers: int = Field(default=AUTO_EXACT_MAX_VOLUNTEERS, ge=0)


def choose_solver(problem: Problem, parameters: AutoParameters | None = None) -> tuple[str, str]:
    """The solver `auto` picks for this problem, and why."""
    limits = parameters or AutoParameters()
    requested = sum(need.visits_per_week for need in problem.need_by_id.values())
    volunteers = len(problem.volunteers)
    if requested <= limits.exact_max_visits and volunteers <= limits.exact_max_volunteers:
        return "cpsat", (
            f"{requested} visits and {volunteers} volunteers: small enough for the exact model"
        )
    return "lns", (
        f"{requested} visits and {volunteers} volunteers: above {limits.exact_max_visits} visits "
        f"or {limits.exact_max_volunteers} volunteers, so large-neighbourhood search"
    )


class AutoSolver:
    """Chooses `cpsat` or `lns` by the size of the week and says which and why in
    `solver.statistics["auto"]`."""

    name = "auto"
    parameters_type = AutoParameters

    def solve(
        self,
        problem: Problem,
        travel: TravelModel,
        parameters: BaseModel,
        *,
        seed: int,
        time_limit_s: float | None,
        warm_start: Plan | None,
        language: str,
    ) -> Plan:
        from matcher.solvers.registry import get_solver

        assert isinstance(parameters, AutoParameters)
        chosen, reason = choose_solver(problem, parameters)
        solver = get_solver(chosen)
        plan = solver.solve(
            problem,
            travel,
            solver.parameters_type(),
            seed=seed,
            time_limit_s=time_limit_s,
            warm_start=warm_start,
            language=language,
        )
        statistics = {**plan.solver.statistics, "auto": {"chosen": chosen, "reason": reason}}
        info = plan.solver.model_copy(update={"statistics": statistics})
        return plan.model_copy(update={"solver": info})
