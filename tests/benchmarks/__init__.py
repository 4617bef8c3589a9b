"""Tests of `benchmarks` (the runner, the published sets, the peers, re-planning and the
season); the only tests that may import it."""
