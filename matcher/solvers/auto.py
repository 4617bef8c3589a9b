"""`auto`: the exact model on small weeks, large-neighbourhood search above.

`choose_solver` is the one statement of the rule; the plan says what it chose and why in
`plan.solver.statistics["auto"]` (`chosen`, `reason`), which is what the command line prints.
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
"""`auto` uses the exact model up to this many requested visits a week, LNS above."""
AUTO_EXACT_MAX_VOLUNTEERS = 15
"""... and up to this many volunteers."""

AUTO_CHOICES = ("cpsat", "lns")
"""The solvers `auto` picks between."""


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
    """Where `auto` draws the line between the exact model and LNS, and the parameters each of
    them gets when chosen (in a `--config` file: the tables `[auto.cpsat]` and `[auto.lns]`)."""

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
    cpsat: dict[str, Any] = Field(
        default_factory=dict, description="CpSatParameters for when auto picks cpsat"
    )
    lns: dict[str, Any] = Field(
        default_factory=dict, description="LnsParameters for when auto picks lns"
    )

    @field_validator("cpsat")
    @classmethod
    def _check_cpsat(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _checked_parameters("cpsat", value)

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
    return "lns", (
        f"{requested} visits and {volunteers} volunteers: above {limits.exact_max_visits} visits "
        f"or {limits.exact_max_volunteers} volunteers, so large-neighbourhood search"
    )


class AutoSolver:
    """Chooses `cpsat` or `lns` by the size of the week and says which and why in
    `solver.statistics["auto"]`."""

    name = "auto"
    parameters_type = AutoParameters

    def solve(self, request: SolveRequest) -> Plan:
        """Plan with the solver `choose_solver` picks, on the same request (and clock) with its
        parameters from `AutoParameters`."""
        from matcher.solvers.base import parameters_of
        from matcher.solvers.registry import get_solver

        parameters = parameters_of(request, AutoParameters, self.name)
        chosen, reason = choose_solver(request.problem, parameters)
        solver = get_solver(chosen)
        settings = solver.parameters_type.model_validate(getattr(parameters, chosen))
        caller = request.progress

        def forward(progress: Progress) -> None:
            if caller is not None and progress.phase != "done":
                caller(progress)

        inner = replace(request, parameters=settings, progress=forward if caller else None)
        plan = solver.solve(inner)
        statistics = {**plan.solver.statistics, "auto": {"chosen": chosen, "reason": reason}}
        info = plan.solver.model_copy(update={"statistics": statistics})
        plan = plan.model_copy(update={"solver": info})
        request.report_done(plan, getattr(settings, "default_time_limit_s", None))
        return plan
