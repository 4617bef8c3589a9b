"""The request and response bodies of the HTTP API, built on the library's own models (`Problem`,
`Plan`, `ChangeList`, `CheckReport`, ...), so the OpenAPI document and `matcher schema` come from
one source."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, JsonValue, WithJsonSchema

from matcher.api import SEED_MAX
from matcher.checker import CheckReport
from matcher.explain import Explanation, WhatIf
from matcher.explain.score import PlanScore
from matcher.models import Language, Need, Plan, Problem
from matcher.models.common import StrictModel
from matcher.replan import ChangeList, PlanDiff
from matcher.replan.recommend import Recommendation
from matcher.service.storage import JobStatus
from matcher.solvers.registry import registered_names

SOLVER_NAMES: tuple[str, ...] = registered_names()
"""The solvers a request may name (those registered when the service starts)."""


def _known_solver(name: str) -> str:
    if name not in SOLVER_NAMES:
        raise ValueError(f"unknown solver {name!r}; choose one of: {', '.join(SOLVER_NAMES)}")
    return name


SolverName = Annotated[
    str,
    AfterValidator(_known_solver),
    WithJsonSchema({"type": "string", "enum": list(SOLVER_NAMES)}),
]
TimeLimit = Annotated[
    float | None,
    Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="seconds for the whole solve (none: the solver's default, within the "
        "server's limit)",
    ),
]
Seed = Annotated[int, Field(default=0, ge=0, le=SEED_MAX, description="breaks ties")]


class ApiModel(StrictModel):
    """Base of the API's own bodies: unknown fields are errors, numbers finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SolveJobRequest(ApiModel):
    """`POST /v1/plans`: a problem to plan in the background."""

    problem: Problem
    solver: SolverName = "greedy"
    time_limit_s: TimeLimit = None
    seed: Seed = 0
    language: Language | None = Field(
        default=None, description="of the unplanned visits' sentences (default: the policy's)"
    )
    parameters: dict[str, JsonValue] | None = Field(
        default=None,
        description="the solver's parameters (`matcher.*Parameters`); unknown keys are errors",
    )


class JobProgress(StrictModel):
    """How far a solve has come, as its solver last reported."""

    phase: str
    elapsed_s: float
    time_limit_s: float | None = None
    visits_planned: int
    visits_wanted: int
    weighted_coverage: float
    bound: float | None = None
    gap: float | None = None


class JobAccepted(StrictModel):
    """A job accepted: its id, where to poll it, its status."""

    id: str
    url: str
    status: JobStatus


class JobSummary(StrictModel):
    """One job as listed: no problem and no plan."""

    id: str
    url: str
    status: JobStatus
    solver: str
    seed: int
    time_limit_s: float | None = None
    created_at: datetime
    updated_at: datetime
    progress: JobProgress | None = None
    error: str | None = Field(default=None, description="why it failed or stopped early")


class JobView(JobSummary):
    """One job: its status, progress and, when there is one, the plan (so far)."""

    plan_url: str | None = Field(
        default=None, description="the plan exactly as stored, byte for byte"
    )
    plan: Plan | None = None


class JobPage(StrictModel):
    """A page of the tenant's jobs, newest first."""

    items: list[JobSummary]
    total: int
    offset: int
    limit: int
    next: str | None = Field(default=None, description="the next page, when there is one")


class ProblemRequest(ApiModel):
    """A problem alone."""

    problem: Problem


class Validated(StrictModel):
    """A valid problem: what it holds, and its warnings."""

    valid: Literal[True] = True
    recipients: int
    needs: int
    volunteers: int
    warnings: list[str]


class PlanRequest(ApiModel):
    """A problem and a plan of it."""

    problem: Problem
    plan: Plan


class Checked(StrictModel):
    """The checker's verdict and report."""

    ok: bool
    report: CheckReport


class ScoreRequest(PlanRequest):
    """A coordinator's plan to score beside a reference (solved when not given)."""

    reference: Plan | None = None
    solver: SolverName = "greedy"
    time_limit_s: TimeLimit = None
    seed: Seed = 0
    language: Language | None = None


class Scored(StrictModel):
    """Whether the coordinator's plan keeps every rule, and its score."""

    ok: bool
    score: PlanScore


class ExplainRequest(PlanRequest):
    """Why the plan leaves out what it leaves out."""

    language: Language | None = None


class Explained(StrictModel):
    """One explanation per unplanned visit, highest priority first."""

    explanations: list[Explanation]


class WhatIfRequest(PlanRequest):
    """Which single change would plan the most of what is left out. The week is re-solved once
    unchanged and once per change, each within `time_limit_s`; all of them together within the
    server's synchronous time limit, shared evenly."""

    solver: SolverName = "greedy"
    limit: int = Field(default=12, ge=1, le=50, description="changes to try")
    time_limit_s: TimeLimit = None
    seed: Seed = 0
    language: Language | None = None


class WhatIfs(StrictModel):
    """The changes, best first."""

    changes: list[WhatIf]


class ReplanRequest(PlanRequest):
    """Re-plan after changes, keeping every visit that still keeps the rules."""

    changes: ChangeList
    solver: SolverName = "greedy"
    time_limit_s: TimeLimit = None
    seed: Seed = 0


class Replanned(StrictModel):
    """The new plan, what changed and why, and the changed problem it answers."""

    plan: Plan
    diff: PlanDiff
    problem: Problem


class RecommendRequest(PlanRequest):
    """An elder calls: when could someone come for this new need?"""

    recipient: str = Field(min_length=1, description="id of the recipient who asks")
    need: Need
    urgent: bool = False
    limit: int = Field(default=10, ge=1, le=100, description="most slots to list")
    solver: SolverName = "greedy"
    time_limit_s: TimeLimit = None
    seed: Seed = 0


class ValidationProblem(StrictModel):
    """One problem with the input: where, and what is wrong."""

    path: str = Field(description="JSON Pointer (RFC 6901) into the request body")
    location: str = Field(description="the same path as the command line writes it")
    message: str
    type: str | None = None


class ProblemDetails(StrictModel):
    """An error, as RFC 9457 problem details; `errors` lists every validation problem."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ValidationProblem] | None = None


class Health(StrictModel):
    """The server is up."""

    status: Literal["ok"] = "ok"
    version: str
    workers: int


__all__ = [
    "SOLVER_NAMES",
    "Checked",
    "Explained",
    "Health",
    "JobAccepted",
    "JobPage",
    "JobProgress",
    "JobSummary",
    "JobView",
    "PlanRequest",
    "ProblemDetails",
    "ProblemRequest",
    "RecommendRequest",
    "Recommendation",
    "ReplanRequest",
    "Replanned",
    "ScoreRequest",
    "Scored",
    "SolveJobRequest",
    "Validated",
    "ValidationProblem",
    "WhatIfRequest",
    "WhatIfs",
]
