"""The routing solver's parameters and the OR-Tools names they may take."""

from __future__ import annotations

from typing import Literal

from ortools.constraint_solver import routing_enums_pb2, routing_parameters_pb2
from pydantic import BaseModel, ConfigDict, Field, field_validator

from matcher.solvers.base import DEFAULT_MAX_MEMORY_MIB

FIRST_SOLUTION_STRATEGIES = tuple(
    name
    for name in routing_enums_pb2.FirstSolutionStrategy.Value.keys()  # noqa: SIM118
    if name != "UNSET"
)
LOCAL_SEARCH_METAHEURISTICS = tuple(
    name
    for name in routing_enums_pb2.LocalSearchMetaheuristic.Value.keys()  # noqa: SIM118
    if name != "UNSET"
)
_SEARCH_PARAMETERS = routing_parameters_pb2.RoutingSearchParameters
LOCAL_SEARCH_OPERATORS = tuple(
    descriptor.name
    for descriptor in _SEARCH_PARAMETERS.LocalSearchNeighborhoodOperators.DESCRIPTOR.fields
)


class RoutingParameters(BaseModel):
    """Knobs of the routing solver; the defaults suit a community week and the benchmarks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_solution_strategy: str = Field(
        default="PARALLEL_CHEAPEST_INSERTION",
        description="OR-Tools first solution strategy, e.g. PATH_CHEAPEST_ARC",
    )
    first_solution_portfolio: tuple[str, ...] = Field(
        default=("LOCAL_CHEAPEST_COST_INSERTION", "SAVINGS"),
        description="further first solution strategies tried beside the warm start and "
        "first_solution_strategy; the search starts from the cheapest first solution (on "
        "instances with linked visits the local search barely moves them, so the start matters)",
    )
    portfolio_time_share: float = Field(
        default=0.15, ge=0, lt=1, description="share of the search time for the first solutions"
    )
    local_search_metaheuristic: str = Field(
        default="GUIDED_LOCAL_SEARCH",
        description="OR-Tools metaheuristic, e.g. GUIDED_LOCAL_SEARCH or SIMULATED_ANNEALING",
    )
    default_time_limit_s: float = Field(
        default=10.0, gt=0, description="used when solve_routing gets no time limit"
    )
    solution_limit: int | None = Field(
        default=None,
        ge=1,
        description="stop after this many solutions (repeatable runs whatever the machine)",
    )
    extra_operators: tuple[str, ...] = Field(
        default=("use_inactive_lns",),
        description="OR-Tools local search operators switched on beyond its defaults; "
        "use_inactive_lns lets the search trade one planned visit for several unplanned ones, "
        "which guided local search cannot do where arcs cost nothing",
    )
    guided_local_search_lambda: float = Field(
        default=0.1, gt=0, description="OR-Tools guided_local_search_lambda_coefficient"
    )
    greedy_warm_start: bool = Field(
        default=True,
        description="start the search from the greedy plan when no warm start is given",
    )
    plan_team_visits: bool = Field(
        default=True,
        description="model team visits as tied member nodes; False leaves them unplanned",
    )
    weekly_caps: Literal["model", "repair"] = Field(
        default="model",
        description="weekly minute caps as routing constraints, or repaired after the search",
    )
    finishing_time_share: float = Field(
        default=0.05, gt=0, lt=1, description="share of the time limit for the timing pass"
    )
    max_finishing_time_s: float = Field(
        default=3.0, gt=0, description="the timing pass never takes longer than this"
    )
    compute_bound: bool = Field(
        default=True, description="compute the coverage relaxation bound (in a second thread)"
    )
    bound_time_share: float = Field(
        default=0.8, gt=0, le=1, description="share of the time limit HiGHS gets for the bound"
    )
    polish_after_bound_s: float = Field(
        default=0.5,
        ge=0,
        description="once a solution's coverage meets the bound, the search goes on this long "
        "to improve travel, cost and lateness, then stops (not with a solution_limit, which "
        "makes runs repeatable)",
    )
    max_memory_mib: float = Field(
        default=DEFAULT_MAX_MEMORY_MIB,
        gt=0,
        description="memory budget of the routing model in MiB: a week whose model is "
        "estimated over it (nodes x vehicles, `routing_memory_mib`) is not built: the greedy "
        "plan comes back, the statistics saying why",
    )
    log_search: bool = False

    @field_validator("first_solution_strategy")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        if value not in FIRST_SOLUTION_STRATEGIES:
            raise ValueError(f"choose one of: {', '.join(FIRST_SOLUTION_STRATEGIES)}")
        return value

    @field_validator("first_solution_portfolio")
    @classmethod
    def _known_strategies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            cls._known_strategy(name)
        return value

    @field_validator("extra_operators")
    @classmethod
    def _known_operators(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in LOCAL_SEARCH_OPERATORS]
        if unknown:
            raise ValueError(
                f"unknown operator(s) {', '.join(unknown)}; "
                f"choose from: {', '.join(LOCAL_SEARCH_OPERATORS)}"
            )
        return value

    @field_validator("local_search_metaheuristic")
    @classmethod
    def _known_metaheuristic(cls, value: str) -> str:
        if value not in LOCAL_SEARCH_METAHEURISTICS:
            raise ValueError(f"choose one of: {', '.join(LOCAL_SEARCH_METAHEURISTICS)}")
        return value
