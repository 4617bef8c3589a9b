"""The service's settings: where it keeps its data, how many workers, and every limit, with safe
defaults (all of them options of `matcher serve`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from matcher.models.limits import InputLimits

SERVICE_INPUT_LIMITS = InputLimits(
    max_recipients=2_000,
    max_volunteers=500,
    max_matrix_places=2_500,
    max_walkway_edges=20_000,
    max_list_items=50_000,
)
"""The input limits of a request: a large real community (1,500 recipients, 300 volunteers)
passes, a crafted input that would keep a worker busy for hours does not."""


@dataclass(frozen=True)
class ServiceConfig:
    """Everything `matcher serve` can be told."""

    data_dir: Path
    workers: int = 2
    """Worker processes solving jobs at once."""
    queue_size: int = 16
    """Jobs that may wait for a worker, all tenants together; more answer 429."""
    max_jobs_per_tenant: int = 4
    """Jobs one tenant may have queued or solving; more answer 429."""
    max_body_bytes: int = 8 * 1024 * 1024
    """Largest request body; more answer 413."""
    limits: InputLimits = field(default_factory=lambda: SERVICE_INPUT_LIMITS)
    max_time_limit_s: float = 300.0
    """Longest time limit of a background solve; a longer one is refused (422), and a solver
    whose default is longer runs this long."""
    max_memory_mib: float = 4096.0
    """The memory budget of each solve's model (`matcher.solve(max_memory_mib=...)`, the same
    default as `matcher solve`): a model that would need more falls back as the library does."""
    max_sync_time_limit_s: float = 30.0
    """Longest time limit of each solve behind a synchronous endpoint (score, what-if, replan,
    recommend)."""
    job_expiry_s: float = 7 * 24 * 3600.0
    """Finished jobs are deleted this long after they finished."""
    expiry_check_s: float = 300.0
    """How often expired jobs are looked for."""
    plan_interval_s: float = 5.0
    """The plan so far of a solving job is assembled and stored at most this often."""
    retry_after_s: int = 10
    """The `Retry-After` of a 429."""
    page_size: int = 20
    """Jobs per page of `GET /v1/plans` unless asked otherwise (at most 100)."""


__all__ = ["SERVICE_INPUT_LIMITS", "ServiceConfig"]
