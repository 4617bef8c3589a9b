"""Fuzz run (issue 10): the fuzz suite's properties (`tests/fuzz`) with many more examples.

Mutated problems, plans, changes and ledgers (`tests.fuzz.strategies`) go through the library
loaders and, as real subprocesses, through `matcher validate`, `solve`, `check`, `replan` and
`credits show`. A failure is counted and the run goes on (nothing is shrunk); the script prints,
per target, the inputs tried, the outcomes seen (error types, exit codes) and the failures, with
the first few failing inputs, and exits 1 if any failed.

    python -m benchmarks.fuzz                              # 2000 library, 200 CLI per target
    python -m benchmarks.fuzz --examples 300 --cli-examples 20 --seed 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from matcher.io import load_plan, load_problem
from matcher.replan.changes import load_changes
from tests.fuzz import strategies as fuzz
from tests.fuzz.test_fuzz_inputs import DOCUMENTED_ERRORS, cli_command, load_ledger

SHOWN_FAILURES = 3
SHOWN_INPUT_CHARS = 300


@dataclass
class Tally:
    """What one target saw."""

    tried: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)


def library_check(loader: Callable[[Path], Any]) -> Callable[[str], tuple[str, list[str]]]:
    """A check that loads the text with `loader`: its outcome and any undocumented error."""

    def check(text: str) -> tuple[str, list[str]]:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "input.json"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            try:
                loader(path)
            except DOCUMENTED_ERRORS as error:
                return type(error).__name__, []
            except Exception as error:  # what the fuzzing looks for
                return type(error).__name__, [f"{type(error).__name__}: {error}"[:500]]
            return "ok", []

    return check


def cli_check(command: str) -> Callable[[str], tuple[str, list[str]]]:
    """A check that runs `command` on the text: its exit code and the contract's breaches."""

    def check(text: str) -> tuple[str, list[str]]:
        code, breaches = cli_command(command, text)
        return f"exit {code}", breaches

    return check


def run_target(
    strategy: st.SearchStrategy[str],
    check: Callable[[str], tuple[str, list[str]]],
    examples: int,
    random_seed: int,
) -> Tally:
    """Run `check` on `examples` drawn inputs, counting outcomes and failures."""
    tally = Tally()

    @seed(random_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def property_(text: str) -> None:
        tally.tried += 1
        outcome, breaches = check(text)
        tally.outcomes[outcome] += 1
        if breaches:
            tally.failures.append((text, "; ".join(breaches)))

    property_()
    return tally


def targets(examples: int, cli_examples: int) -> list[tuple[str, Any, Any, int]]:
    """(name, strategy, check, examples) for every target."""
    return [
        ("load_problem", fuzz.mutated_problem(), library_check(load_problem), examples),
        ("load_plan", fuzz.mutated_plan(), library_check(load_plan), examples),
        ("load_changes", fuzz.mutated_changes(), library_check(load_changes), examples),
        ("ledger load", fuzz.mutated_ledger(), library_check(load_ledger), examples),
        ("cli validate", fuzz.mutated_problem(), cli_check("validate"), cli_examples),
        ("cli solve", fuzz.mutated_problem(), cli_check("solve"), cli_examples),
        ("cli check", fuzz.mutated_plan(), cli_check("check"), cli_examples),
        ("cli replan", fuzz.mutated_changes(), cli_check("replan"), cli_examples),
        ("cli credits show", fuzz.mutated_ledger(), cli_check("credits show"), cli_examples),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run every target and print its counts; 1 if anything failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="per library target")
    parser.add_argument("--cli-examples", type=int, default=200, help="per command")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed")
    parser.add_argument("--only", help="comma-separated target names (default: all)")
    arguments = parser.parse_args(argv)
    chosen = set(arguments.only.split(",")) if arguments.only else None
    total_tried = total_failed = 0
    print(f"{'target':<18} {'tried':>6} {'failed':>6} {'time_s':>7}  outcomes")
    for name, strategy, check, examples in targets(arguments.examples, arguments.cli_examples):
        if chosen is not None and name not in chosen:
            continue
        start_s = time.perf_counter()
        tally = run_target(strategy, check, examples, arguments.seed)
        elapsed_s = time.perf_counter() - start_s
        outcomes = ", ".join(f"{key} {count}" for key, count in sorted(tally.outcomes.items()))
        print(
            f"{name:<18} {tally.tried:>6} {len(tally.failures):>6} {elapsed_s:>7.1f}  {outcomes}",
            flush=True,
        )
        for text, reason in tally.failures[:SHOWN_FAILURES]:
            shown = text if len(text) <= SHOWN_INPUT_CHARS else text[:SHOWN_INPUT_CHARS] + "..."
            print(f"    FAILED: {reason[:400]!r}\n    input: {shown!r}")
        total_tried += tally.tried
        total_failed += len(tally.failures)
    print(f"total: {total_tried} inputs tried, {total_failed} failures")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
