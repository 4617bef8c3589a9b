"""What the two engine-alone benchmarks (`floating_solomon`, `floating_mankowska`) share: build
a day's first routes and improve them for a time, and run a list of instances with the load
and the mean gap printed."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence

from matcher.solvers.floating import DayRoutes, SearchLimits, SearchResult, construct, feasible
from matcher.solvers.floating import improve as improve_day


def construct_and_improve(
    day: DayRoutes, seconds: float, seed: int
) -> tuple[SearchResult, float] | list[str]:
    """`construct` then `improve` within `seconds` from the start of construction: the result
    and the seconds spent, or the problems construction leaves (the engine is not run then)."""
    began = time.monotonic()
    day.routes = construct(day)
    problems = feasible(day, day.routes)
    if problems:
        return problems
    result = improve_day(day, SearchLimits(deadline=began + seconds, seed=seed))
    return result, time.monotonic() - began


def parser(description: str | None, default_seconds: float) -> argparse.ArgumentParser:
    """The instances (names or patterns), `--seconds` per instance and `--seed`."""
    arguments = argparse.ArgumentParser(description=description)
    arguments.add_argument("names", nargs="*")
    arguments.add_argument("--seconds", type=float, default=default_seconds)
    arguments.add_argument("--seed", type=int, default=0)
    return arguments


def run_all(
    names: Sequence[str], seconds: float, run_one: Callable[[str], float | None]
) -> list[float]:
    """The load, a row per instance (`run_one` prints it and returns its gap in per cent, or
    None), then the mean gap; the gaps."""
    print(f"load {os.getloadavg()[0]:.2f}, {seconds} s per instance")
    gaps = [gap for name in names if (gap := run_one(name)) is not None]
    if gaps:
        print(f"mean gap {statistics.mean(gaps):.2f} % over {len(gaps)} instances")
    return gaps
