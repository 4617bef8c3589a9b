"""A whole district in one run: many communities, the helpers they share, on a local process
pool or on Ray (issue 15).

`solve_district` plans every community (`matcher.district.runner`); `District` is the input
(`matcher.district.models`); `check_district` is the district's independent check
(`matcher.district.check`). Imports are lazy, so `matcher.district.check` and the models load
without the solvers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matcher.district.check import DistrictCheckReport, check_district
    from matcher.district.models import Community, District, SharedHelper
    from matcher.district.runner import DistrictResult, load_district, solve_district
    from matcher.district.summary import DistrictSummary

_HOMES = {
    "Community": "matcher.district.models",
    "District": "matcher.district.models",
    "SharedHelper": "matcher.district.models",
    "DistrictCheckReport": "matcher.district.check",
    "check_district": "matcher.district.check",
    "DistrictResult": "matcher.district.runner",
    "load_district": "matcher.district.runner",
    "solve_district": "matcher.district.runner",
    "DistrictSummary": "matcher.district.summary",
}

__all__ = [
    "Community",
    "District",
    "DistrictCheckReport",
    "DistrictResult",
    "DistrictSummary",
    "SharedHelper",
    "check_district",
    "load_district",
    "solve_district",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'matcher.district' has no attribute {name!r}")
