"""The community generator now lives in the package (`matcher.generator`; on the command line
`matcher example community --recipients N --volunteers M --seed S`). This module re-exports it so
that `python -m benchmarks.generator` and the benchmarks' imports keep working."""

from __future__ import annotations

import sys

from matcher.generator import generate_community, main, problem_json, write_problem

__all__ = ["generate_community", "main", "problem_json", "write_problem"]

if __name__ == "__main__":
    sys.exit(main())
