"""Input limits: how big, how deep and how large the numbers of an input may be.

A portal that takes problems from its users relies on these to refuse a crafted input before
any work is done. Every limit is a field of `InputLimits` (give your own to `load_problem`,
`load_plan`, `load_changes` or to `Problem.model_validate(data, context={"limits": ...})`);
the defaults lie well above the largest real community (a week of 1,500 recipients and 300
volunteers passes with room to spare). A violation is reported like any other validation
problem: the path of the field and the limit it exceeds, all of them together, before the
fields are validated.

The numeric ranges below are fixed (they are part of the JSON Schema): every number that means
a quantity is finite (no NaN, no Infinity) and at most the bound of its kind, so sums of
priorities, weights, distances and minutes never overflow a solver's integers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MAX_PRIORITY = 1e6
"""The highest priority a need or recipient may have, and the largest priority-policy term."""
MAX_WEIGHT = 1e6
"""The largest weight of the objective (points per visit, per km, per minute, per hour)."""
MAX_COST_PER_HOUR = 1e6
"""The largest cost of an hour of a volunteer's or staff member's time."""
MAX_DISTANCE_M = 1e8
"""The longest distance in metres (a matrix entry, a walkway, a trip): 100,000 km."""
MAX_COORDINATE_M = 1e8
"""The largest planar coordinate (x_m, y_m) in metres, either sign."""
MAX_TRAVEL_MIN = 1e6
"""The longest travel time in minutes of a matrix entry."""
MAX_SPEED_M_PER_MIN = 1e5
"""The fastest travel speed in metres per minute (6,000 km/h)."""
MAX_DETOUR_FACTOR = 100.0
"""The largest factor by which streets are longer than straight lines."""
MAX_CREDITS = 1e9
"""The most time-bank credits a recipient may carry."""
MAX_COUNT = 1_000_000
"""The largest count of anything a person carries or does (load, capacity, visits a day)."""
MAX_WEEK_MIN = 7 * 40 * 24 * 60
"""The most minutes in a week of the longest planning days (seven of `MAX_DAY_LENGTH_MIN`)."""

Path = tuple[str | int, ...]
Issue = tuple[Path, str]


@dataclass(frozen=True)
class InputLimits:
    """How large an input may be; each limit is checked before any other validation.

    The defaults are well above the largest real community (1,500 recipients, 300 volunteers,
    a dozen windows each) and well below what would let one small file keep a solver busy.
    """

    max_depth: int = 64
    """Deepest nesting of JSON objects and arrays."""
    max_id_chars: int = 200
    """Longest id or reference to one (`id`, `service`, `need`, `volunteer`, a place ...)."""
    max_text_chars: int = 10_000
    """Longest string of any other kind (names, descriptions, languages, skills)."""
    max_recipients: int = 20_000
    """Most recipients in one problem."""
    max_volunteers: int = 5_000
    """Most volunteers in one problem (or people on one visit)."""
    max_needs_per_recipient: int = 100
    """Most needs of one recipient."""
    max_windows_per_need: int = 100
    """Most time windows of one need (`needs[].windows`, a window change)."""
    max_home_windows: int = 100
    """Most home windows of one recipient."""
    max_availability_windows: int = 100
    """Most availability windows of one volunteer."""
    max_matrix_places: int = 3_000
    """Most places in an explicit travel matrix (its rows and columns)."""
    max_walkway_edges: int = 50_000
    """Most walkway edges in a travel graph."""
    max_list_items: int = 200_000
    """Most items in any other list (history, pinned visits, visits of a plan, changes)."""

    def count_limit(self, key: str | None) -> tuple[int, str, str]:
        """The most items a list under this key may hold, what they are, and the limit's name."""
        known: dict[str, tuple[str, str]] = {
            "recipients": ("max_recipients", "recipients"),
            "volunteers": ("max_volunteers", "volunteers"),
            "needs": ("max_needs_per_recipient", "needs"),
            "windows": ("max_windows_per_need", "windows"),
            "home_windows": ("max_home_windows", "home windows"),
            "availability": ("max_availability_windows", "availability windows"),
            "places": ("max_matrix_places", "places"),
            "distance_m": ("max_matrix_places", "rows or entries"),
            "travel_min": ("max_matrix_places", "rows or entries"),
            "walkways": ("max_walkway_edges", "walkway edges"),
        }
        name, what = known.get(key or "", ("max_list_items", "items"))
        most: int = getattr(self, name)
        return most, what, name


DEFAULT_LIMITS = InputLimits()
"""The limits used unless a caller gives its own."""

ID_KEYS = frozenset(
    {
        "id",
        "service",
        "need",
        "recipient",
        "volunteer",
        "first",
        "second",
        "place",
        "a",
        "b",
        "preferred_volunteers",
        "excluded_volunteers",
        "volunteers",
        "places",
        "required_skills",
        "skills",
    }
)
"""Keys whose strings are ids or references (or lists of them): at most `max_id_chars`."""


def _children(value: Any) -> Iterator[tuple[str | int, Any]]:
    if isinstance(value, Mapping):
        yield from value.items()
    elif isinstance(value, list | tuple):
        yield from enumerate(value)


def _over(most: int, name: str) -> str:
    return f": more than the limit of {most:,} (InputLimits.{name})"


_PLAIN_SCALARS = frozenset({int, float, bool, type(None)})
"""JSON values no input limit applies to (a string has its length, a list or object its size)."""


def limit_issues(data: Any, limits: InputLimits = DEFAULT_LIMITS) -> list[Issue]:
    """Every limit the JSON-like data exceeds, each with its path (no recursion: a value
    nested a million deep is reported, not a RecursionError)."""
    issues: list[Issue] = []
    stack: list[tuple[Path, Any, str | None, int]] = [((), data, None, 0)]
    while stack:
        path, value, key, depth = stack.pop()
        if isinstance(value, str):
            is_id = key in ID_KEYS
            most = limits.max_id_chars if is_id else limits.max_text_chars
            if len(value) > most:
                what, name = ("an id", "max_id_chars") if is_id else ("a text", "max_text_chars")
                issues.append((path, f"{what} of {len(value):,} characters{_over(most, name)}"))
            continue
        if not isinstance(value, Mapping | list | tuple):
            continue
        if depth >= limits.max_depth:
            issues.append((path, f"nested too deep{_over(limits.max_depth, 'max_depth')}"))
            continue
        if isinstance(value, list | tuple):
            most, what, name = limits.count_limit(key)
            if len(value) > most:
                issues.append((path, f"{len(value):,} {what}{_over(most, name)}"))
                continue
            if _PLAIN_SCALARS.issuperset(map(type, value)):
                continue  # numbers, booleans and nulls have no limit here (a matrix row)
            child_key = key if key in ID_KEYS or key in ("distance_m", "travel_min") else None
            for index, item in reversed(list(enumerate(value))):
                stack.append(((*path, index), item, child_key, depth + 1))
            continue
        for field, item in reversed(list(_children(value))):
            label = field if isinstance(field, str) else str(field)
            stack.append(((*path, label), item, label, depth + 1))
    return issues


def limits_from_context(context: Any) -> InputLimits:
    """The limits a validation context carries (`{"limits": InputLimits(...)}`), else the
    defaults."""
    if isinstance(context, Mapping):
        limits = context.get("limits")
        if isinstance(limits, InputLimits):
            return limits
    return DEFAULT_LIMITS


def check_limits(title: str, data: Any, context: Any) -> None:
    """Raise a ValidationError listing every limit the raw data exceeds (nothing for a model
    instance, which was checked when it was made)."""
    if not isinstance(data, Mapping | list | tuple):
        return
    issues = limit_issues(data, limits_from_context(context))
    if issues:
        from matcher.models.validation import combined_error

        raise combined_error(title, None, issues, kind="limit")


__all__ = [
    "DEFAULT_LIMITS",
    "MAX_COORDINATE_M",
    "MAX_COST_PER_HOUR",
    "MAX_COUNT",
    "MAX_CREDITS",
    "MAX_DETOUR_FACTOR",
    "MAX_DISTANCE_M",
    "MAX_PRIORITY",
    "MAX_SPEED_M_PER_MIN",
    "MAX_TRAVEL_MIN",
    "MAX_WEEK_MIN",
    "MAX_WEIGHT",
    "InputLimits",
    "check_limits",
    "limit_issues",
    "limits_from_context",
]
