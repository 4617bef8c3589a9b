"""The test suite. Its folders mirror the package (`tests/solvers` tests `matcher.solvers`, ...),
`tests/benchmarks` tests the benchmarks, and `tests.helpers` holds what several modules share."""
