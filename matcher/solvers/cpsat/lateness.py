"""Lateness in CP-SAT form: the shared rule (`NeedFacts.lateness`) as linear pieces of the start.

The minutes late of a soft-window visit are a function of its start that rises one minute per
minute past a window and drops when a later window opens. CP-SAT needs it linear: the function
is sampled over every whole start minute the need allows and cut into pieces on which it is
linear, so the model's lateness is exactly the rule's, without a second reading of the windows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from matcher.rules import Intervals, NeedFacts, intersect


@dataclass(frozen=True)
class Piece:
    """`value_at_low + slope * (start - low)` for starts in [low, high]."""

    low: int
    high: int
    value_at_low: int
    slope: int

    def value(self, start: int) -> int:
        return self.value_at_low + self.slope * (start - self.low)


def linear_pieces(function: Callable[[int], float], domain: Intervals) -> list[Piece]:
    """An integer-valued function of whole minutes over `domain` as maximal linear pieces."""
    pieces: list[Piece] = []
    for low, high in domain:
        first, first_value = low, round(function(low))
        slope: int | None = None
        previous = first_value
        for start in range(low + 1, high + 1):
            value = round(function(start))
            step = value - previous
            if slope is None:
                slope = step
            elif step != slope:
                pieces.append(Piece(first, start - 1, first_value, slope))
                first, first_value, slope = start, value, None
            previous = value
        pieces.append(Piece(first, high, first_value, slope or 0))
    return pieces


LatenessCache = dict[tuple[str, int], list[Piece]]
"""(need id, weekday index) -> the pieces of its lateness, shared by the models of one search."""


def lateness_pieces(facts: NeedFacts, day: int, cache: LatenessCache | None = None) -> list[Piece]:
    """The lateness of the need's visits on `day` over every start its windows allow."""
    key = (facts.need.id, day)
    if cache is not None and key in cache:
        return cache[key]
    pieces = linear_pieces(lambda start: facts.lateness(day, start), facts.starts(day))
    if cache is not None:
        cache[key] = pieces
    return pieces


def add_lateness(
    model: cp_model.CpModel,
    pieces: list[Piece],
    start: cp_model.IntVar,
    present: cp_model.IntVar,
    domain: Intervals,
    name: str,
) -> cp_model.IntVar | None:
    """A variable at least the minutes late of a visit starting at `start` when `present` (the
    objective pushes it down to exactly that); None when no start in `domain` is late."""
    used = [piece for piece in pieces if intersect([(piece.low, piece.high)], domain)]
    if all(piece.slope == 0 and piece.value_at_low == 0 for piece in used):
        return None
    most = max(max(piece.value(piece.low), piece.value(piece.high)) for piece in used)
    late = model.new_int_var(0, max(0, most), name)
    if len(used) == 1:
        piece = used[0]
        model.add(late >= piece.value_at_low + piece.slope * (start - piece.low)).only_enforce_if(
            present
        )
        return late
    chosen = []
    for piece in used:
        inside = model.new_bool_var("")
        model.add_linear_constraint(start, piece.low, piece.high).only_enforce_if(inside)
        model.add(late >= piece.value_at_low + piece.slope * (start - piece.low)).only_enforce_if(
            inside
        )
        chosen.append(inside)
    model.add(sum(chosen) == present)
    return late
