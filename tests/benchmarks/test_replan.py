"""The re-planning benchmark: its changes are valid and every old visit is accounted for."""

from __future__ import annotations

import contextlib
import io
import random

from benchmarks.replan import DIFF_KINDS, cancellations, main, measure, urgent_needs
from matcher import solve
from matcher.generator import generate_community


def test_each_old_visit_is_kept_moved_reassigned_or_dropped() -> None:
    """For cancellations and urgent needs on a small generated week, the diff's kept, moved,
    reassigned and dropped visits add up to the old plan, and cancellations pick busy days."""
    problem = generate_community(recipients=20, volunteers=6, buildings=2, seed=1)
    plan = solve(problem)
    rng = random.Random(1)
    cancelled = cancellations(plan, 3, rng)
    assert len(cancelled) == 3
    for change in cancelled:
        assert any(
            change["volunteer"] in visit.volunteers and visit.day == change["days"][0]
            for visit in plan.visits
        )
    for kind, changes in (("cancel", cancelled), ("urgent", urgent_needs(problem, 2, rng))):
        timings = measure(problem, plan, kind, changes, "greedy")
        assert len(timings.wall_times_s) == len(changes)
        for counts in timings.counts:
            old = sum(counts[name] for name in ("kept", "moved", "reassigned", "dropped"))
            assert old == len(plan.visits)
        assert timings.row()[:2] == [kind, str(len(changes))]


def test_the_command_prints_one_row_per_kind_of_change() -> None:
    """`python -m benchmarks.replan` on a tiny week prints the machine and both rows."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        assert main(["--recipients", "12", "--volunteers", "4", "--samples", "2"]) == 0
    text = output.getvalue()
    assert "machine:" in text and all(f"{name} (mean)" in text for name in DIFF_KINDS)
    assert "volunteer cancels a day" in text and "urgent new need" in text
