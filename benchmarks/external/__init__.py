"""Published reference sets, read from a data folder outside the repository.

- `mankowska`: the Home Health Care Routing and Scheduling Problem of Mankowska, Meisel and
  Bierwirth (2014) in the JSON of Ceschia et al. (2024), with their best solutions and the
  official cost `(distance + total tardiness + maximum tardiness) / 3`;
- `solomon`: Solomon's VRPTW instances with best-known route sets under the DIMACS distance
  convention (each edge truncated to one decimal);
- `run`: `python -m benchmarks.external.run --data ../shared/benchmarks --set mankowska` solves
  them with matcher and prints our cost against the best known.

The data is never copied into the repository: every loader takes a path.
"""

from __future__ import annotations

import os
from pathlib import Path

from matcher.models.common import MAX_DAY_LENGTH_MIN, Weekday

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DATA_ENVIRONMENT_VARIABLE = "MATCHER_BENCHMARK_DATA"
BENCHMARK_WEEK_START = "2026-11-30"
"""The Monday the single-day reference instances are planned on (any Monday would do)."""
BENCHMARK_DAY: Weekday = "mon"


def default_data_folder() -> Path:
    """`$MATCHER_BENCHMARK_DATA`, else `../shared/benchmarks` next to the repository."""
    configured = os.environ.get(DATA_ENVIRONMENT_VARIABLE)
    if configured:
        return Path(configured)
    return REPOSITORY_ROOT.parent / "shared" / "benchmarks"


def whole_ticks(value: float, time_scale: int, what: str) -> int:
    """`value` minutes as whole ticks of 1/`time_scale` minute; ValueError if not whole."""
    ticks = value * time_scale
    rounded = round(ticks)
    if abs(ticks - rounded) > 1e-6:
        raise ValueError(
            f"{what} is {value} minutes, not a whole number of 1/{time_scale} minute ticks; "
            "matcher's clock counts whole ticks (raise the time scale)"
        )
    return int(rounded)


def finest_time_scale(horizon_min: float, wanted: int) -> int:
    """The most ticks per minute, at most `wanted`, that keep `horizon_min` minutes inside
    matcher's longest planning day."""
    fitting = int(MAX_DAY_LENGTH_MIN // max(horizon_min, 1.0))
    return max(1, min(wanted, fitting))


def check_horizon(horizon_min: float, time_scale: int, what: str) -> None:
    """ValueError when `horizon_min` minutes at `time_scale` ticks a minute exceed a day."""
    if horizon_min * time_scale > MAX_DAY_LENGTH_MIN:
        raise ValueError(
            f"{what}: a horizon of {horizon_min:g} minutes is {horizon_min * time_scale:g} ticks "
            f"at {time_scale} ticks a minute, beyond matcher's longest day of "
            f"{MAX_DAY_LENGTH_MIN}; use a time scale of at most "
            f"{finest_time_scale(horizon_min, time_scale)}"
        )


__all__ = [
    "BENCHMARK_DAY",
    "BENCHMARK_WEEK_START",
    "DATA_ENVIRONMENT_VARIABLE",
    "REPOSITORY_ROOT",
    "check_horizon",
    "default_data_folder",
    "finest_time_scale",
    "whole_ticks",
]
