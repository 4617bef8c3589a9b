"""Settings of the exact model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from matcher.solvers.base import DEFAULT_MAX_MEMORY_MIB


class CpSatParameters(BaseModel):
    """Settings of the exact model. One worker and a fixed seed make runs repeatable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workers: int = Field(default=1, ge=1, le=64, description="CP-SAT search workers")
    log_progress: bool = False
    mandatory_time_share: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="share of the time left for phase 0 (as many mandatory visits as possible), "
        "run only when the week has mandatory needs",
    )
    coverage_time_share: float = Field(
        default=0.6, gt=0, lt=1, description="share of the time left for phase 1 (coverage)"
    )
    polish_time_s: float = Field(
        default=0.5,
        ge=0,
        description="once coverage meets its bound, at most this long for the rest of the "
        "objective (phase 2); the whole time left when coverage is not proven",
    )
    warm_start: bool = Field(
        default=True,
        description="hint the greedy plan when the caller gives no warm start (auto gives the "
        "ruin plan)",
    )
    complete_hint: bool = Field(
        default=True,
        description="complete the warm start's hint to every variable, so CP-SAT takes it as its "
        "first solution; a phase the warm start already proves is then not solved",
    )
    redundant_constraints: bool = Field(
        default=True,
        description="bound every outing's visit and travel minutes by its hours (implied; "
        "tightens the linear relaxation)",
    )
    symmetry_breaking: bool = Field(
        default=True,
        description="order volunteers nothing in the week tells apart by their minutes (with "
        "redundant_constraints)",
    )
    coverage_cut: bool = Field(
        default=True, description="coverage at most the relaxation's bound, as a constraint"
    )
    default_time_limit_s: float = Field(
        default=30.0, gt=0, description="the time limit when the caller gives none"
    )
    probing_level: int = Field(
        default=0,
        ge=0,
        le=2,
        description="CP-SAT's presolve probing (cp_model_probing_level) in phases 0 and 1: 0 "
        "skips it, which on small weeks took seconds of every presolve and delayed the warm "
        "start's first solution until after it (benchmarks/README.md, proofs)",
    )
    objective_probing_level: int = Field(
        default=2,
        ge=0,
        le=2,
        description="the same in phase 2, where probing shortened the proofs of the routing "
        "cost on the Mankowska instances (CP-SAT's default)",
    )
    linearization_level: int = Field(
        default=2, ge=0, le=2, description="2 gives CP-SAT the LP relaxation it needs for bounds"
    )
    relaxation_bound: bool = Field(
        default=True, description="also bound coverage by the linear relaxation; keep the lower"
    )
    max_memory_mib: float = Field(
        default=DEFAULT_MAX_MEMORY_MIB,
        gt=0,
        description="memory budget of the model in MiB: a week whose model is estimated over it "
        "is first built with candidates pruned by reach, and if that is still over, not built: "
        "the greedy plan comes back, the statistics saying why",
    )
    prune_by_reach: bool = Field(
        default=False,
        description="only offer a visit to volunteers who could make it as an outing of its own "
        "(smaller models; may lose chains of visits far from the start place)",
    )
