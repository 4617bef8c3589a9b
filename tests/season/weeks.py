"""The small weeks several season tests plan, each worked out by hand in the tests' docstrings.

- `mei_week`: Mei needs one hour's visit on Monday morning; Pat lives next door (10 m), Sam 2 km
  away; both are free Monday morning; fairness weighs nothing.
- `contested_week`: one volunteer, Vera (by car), free on Monday 09:00-10:00 for one 45-minute
  visit; Bo lives next door, Li a kilometre away, both 84.
"""

from __future__ import annotations

from typing import Any

from matcher.models import Problem
from tests.helpers import recipient, tiny_problem, volunteer, window


def mei_week(**changes: Any) -> Problem:
    """Mei's week, with top-level fields replaced by `changes`."""
    fields: dict[str, Any] = {"policy": {"weights": {"fairness": 0}}, **changes}
    return tiny_problem(
        fields.pop("services", [{"id": "visit", "duration_min": 60}]),
        fields.pop("recipients", [recipient("mei", {"id": "mei_visit", "service": "visit"})]),
        fields.pop("volunteers", [volunteer("pat", 10), volunteer("sam", 2000)]),
        **fields,
    )


def contested_week(policy: dict[str, Any] | None = None) -> Problem:
    """The contested week, with this policy."""
    return tiny_problem(
        [{"id": "visit", "duration_min": 45}],
        [
            recipient(name, {"id": f"{name}_visit", "service": "visit"}, x_m=x_m, age=84)
            for name, x_m in (("bo", 10), ("li", 1000))
        ],
        [volunteer("vera", travel_mode="car", availability=[window("mon", "09:00", "10:00")])],
        policy=policy or {},
    )
