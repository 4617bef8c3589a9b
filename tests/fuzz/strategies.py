"""Hypothesis strategies that mutate valid matcher inputs (problems, plans, changes, ledgers).

Each seed document is valid; a mutation changes one thing (a value's type, a non-finite or huge
number, deep nesting, a long or odd unicode string, a dropped or unknown key) or truncates the
JSON text. Strategies give the text to write, which may be invalid JSON.
"""

from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
SMALL = ROOT / "examples" / "small.json"
PROBLEM_FILES = [SMALL, *sorted((ROOT / "tests" / "data").glob("*.json"))]

JsonPath = tuple[str | int, ...]


@functools.cache
def problem_texts() -> tuple[str, ...]:
    """The valid problems: the small example and every test instance."""
    return tuple(path.read_text(encoding="utf-8") for path in PROBLEM_FILES)


@functools.cache
def plan_text() -> str:
    """The small example's plan, solved once with greedy."""
    from matcher.api import solve
    from matcher.io import load_problem, to_json

    return to_json(solve(load_problem(SMALL), "greedy", time_limit_s=5))


def changes_text() -> str:
    """A change list like the README's replan example, on the small example's volunteers."""
    changes = [
        {"kind": "volunteer_unavailable", "volunteer": "v01", "days": ["wed"]},
        {
            "kind": "new_volunteer",
            "volunteer": {
                "id": "aunt-li",
                "home": {"lat": 38.9899, "lon": 121.5496},
                "verified": True,
                "availability": [{"day": "wed", "start": "10:00", "end": "12:00"}],
            },
        },
    ]
    return json.dumps({"changes": changes}, indent=2)


@functools.cache
def ledger_text() -> str:
    """A ledger recorded from the small example's plan (what `matcher credits record` writes)."""
    from matcher.io import load_problem
    from matcher.ledger import CreditRates, LedgerStore
    from matcher.models import Plan

    with tempfile.TemporaryDirectory() as folder:
        store = LedgerStore(Path(folder) / "ledger.json")
        plan = Plan.model_validate_json(plan_text())
        store.record_plan(plan, load_problem(SMALL), CreditRates())
        return store.path.read_text(encoding="utf-8")


def json_paths(value: Any, prefix: JsonPath = ()) -> list[JsonPath]:
    """Every path in a JSON value, the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(json_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(json_paths(item, (*prefix, index)))
    return found


def _get(value: Any, path: JsonPath) -> Any:
    for step in path:
        value = value[step]
    return value


def _replaced(value: Any, path: JsonPath, new: Any) -> Any:
    """A copy of `value` with the item at `path` replaced by `new`."""
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    parent = _get(copy, path[:-1])
    parent[path[-1]] = new
    return copy


NEST_MARK = "\u2063fuzz-nest\u2063"
"""Stands in for a deeply nested list until the text is written (json.dumps would recurse)."""


ODD_STRINGS = [
    "",
    "x" * 100_000,
    "\U0001f600\U0001f475\U0001f3fd",
    "\u202eevil\u202c",
    "\u0645\u0631\u062d\u0628\u0627",
    "nul\x00byte",
    "\ud7ff\ufffd\uffff",
    "Monday",
    "25:99",
    "-1",
    "1e309",
]

REPLACEMENTS: list[Any] = [
    None,
    True,
    False,
    [],
    [1, "a"],
    {},
    {"a": 1},
    float("nan"),
    float("inf"),
    float("-inf"),
    -1e308,
    1e308,
    10**30,
    -(10**30),
    0,
    -1,
    0.5,
    *ODD_STRINGS,
]


@st.composite
def mutated_text(draw: st.DrawFn, seed_text: str) -> str:
    """The seed document's JSON text with one mutation (possibly no longer valid JSON)."""
    document = json.loads(seed_text)
    kind = draw(
        st.sampled_from(["replace", "replace", "replace", "nest", "drop", "unknown", "truncate"])
    )
    if kind == "truncate":
        cut = draw(st.integers(min_value=0, max_value=max(len(seed_text) - 1, 0)))
        return seed_text[:cut]
    paths = json_paths(document)
    path = draw(st.sampled_from(paths))
    if kind == "replace":
        new = draw(st.sampled_from(REPLACEMENTS))
        return json.dumps(_replaced(document, path, new))
    if kind == "nest":
        depth = draw(st.sampled_from([50, 200, 1000]))
        text = json.dumps(_replaced(document, path, NEST_MARK))
        return text.replace(json.dumps(NEST_MARK), "[" * depth + "0" + "]" * depth, 1)
    dicts = [p for p in paths if isinstance(_get(document, p), dict) and _get(document, p)]
    where = draw(st.sampled_from(dicts))
    target = json.loads(json.dumps(_get(document, where)))
    if kind == "drop":
        key = draw(st.sampled_from(sorted(target)))
        del target[key]
    else:
        name = draw(st.sampled_from(["unknown", "__proto__", "\U0001f600", "x" * 1000]))
        target[name] = draw(st.sampled_from(REPLACEMENTS))
    return json.dumps(_replaced(document, where, target))


def mutated_problem() -> st.SearchStrategy[str]:
    """A mutated problem text, seeded from the example and the test instances."""
    return st.sampled_from(problem_texts()).flatmap(mutated_text)


def mutated_plan() -> st.SearchStrategy[str]:
    """A mutated plan of the small example."""
    return mutated_text(plan_text())


def mutated_changes() -> st.SearchStrategy[str]:
    """A mutated change list for the small example."""
    return mutated_text(changes_text())


def mutated_ledger() -> st.SearchStrategy[str]:
    """A mutated ledger."""
    return mutated_text(ledger_text())
