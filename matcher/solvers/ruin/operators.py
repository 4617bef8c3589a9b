"""Ruin operators: which visits a ruin-and-recreate step takes out of the week.

Each operator returns seed visits; the engine widens each to its unit (a linked pair moves as
one) and refuses a unit whose outings would break a rule without it. Sizes are in visits.

- `random`: any visits;
- `related`: the visits nearest a seed visit in place and time (Shaw's relatedness);
- `strings`: SISR (Christiaens and Vanden Berghe): from the routes nearest a seed visit, a string
  of consecutive visits of each;
- `volunteer_day`: every visit of one volunteer's day;
- `recipient`: every visit of one recipient across the week;
- `unplanned`: around a left-out occurrence of high priority, the visits of the volunteer-days
  that could take it, nearest it first (the occurrence itself is put back first); with every
  occurrence planned, `late` instead (then `related`);
- `shift`: a need of several visits a week that is short of them, with every visit it has (so
  its days can move and keep their gap) and the visits of its candidates on its other days,
  nearest it first; all its occurrences are put back first, together (with none short,
  `unplanned` instead);
- `familiar`: a recipient without a visit by a volunteer they know (preferred or standing) and
  one such volunteer who is among their need's candidates: the need's visits and that
  volunteer's visits on the days they could make it, nearest the need's windows first; the need
  is put back first, preferring that volunteer (a swap of volunteers where one is possible);
- `late`: one of the latest visits (soft windows), the visits before it on its volunteers'
  routes and the visits nearest it in place and time; it is put back first, so that it can
  start sooner (the largest lateness is a term of the objective of its own).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from matcher.solvers.greedy.state import Placed
from matcher.solvers.ruin.engine import Engine

OPERATORS = (
    "strings",
    "related",
    "random",
    "volunteer_day",
    "recipient",
    "unplanned",
    "familiar",
    "shift",
    "late",
)
"""Every ruin operator, in the order a run cycles through their weights."""
MINUTES_A_WEEK = 7 * 24 * 60
UNPLANNED_SHORTLIST = 10
"""The left-out occurrence is drawn among this many of the most important."""
UNPLANNED_CANDIDATES = 8
"""... and its nearest this many candidate volunteers' days are ruined."""

FAMILIAR_FREED = 4
"""`familiar` takes out at most this many of the familiar volunteer's visits: a swap needs few,
and a large ruin around one recipient is seldom kept."""


@dataclass(frozen=True, slots=True)
class Ruin:
    """What one operator takes out: the seed visits, the need put back first (-1: none) and
    the volunteer that need prefers (-1: none)."""

    seeds: list[Placed]
    target: int = -1
    prefer: int = -1
    together: bool = False
    """Put every occurrence of the target back first, not only the first one."""


class Ruins:
    """The ruin operators over one engine's week."""

    def __init__(self, engine: Engine, rng: random.Random, max_string: int) -> None:
        self.engine = engine
        self.rng = rng
        self.max_string = max_string
        self.distance = engine.setup.travel.distance_m
        self.needs = engine.needs
        self.familiar_pairs = [
            (info.index, volunteer)
            for info in self.needs
            if info.leader < 0 and info.partner < 0 and not info.unplannable
            for volunteer in info.candidates
            if engine.familiarity[info.recipient_index].get(volunteer, 0.0) > 0
        ]
        """(need, volunteer) of every need on its own and each candidate familiar to its
        recipient: what `familiar` can aim at."""

    def ruin(self, operator: str, size: int) -> Ruin:
        """The seed visits the operator takes out (at most about `size`), the need it aims at
        and the volunteer that need prefers; `familiar` with nothing to aim at ruins at
        random."""
        movable = self.engine.movable()
        if operator == "familiar":
            found = self._familiar(movable, size)
            if found is not None:
                return found
            operator = "random"
        if operator == "shift":
            found = self._shift(movable, size)
            if found is not None:
                return found
            operator = "unplanned"
        if operator == "unplanned":
            seeds, target = self._unplanned(movable, size)
            if target >= 0:
                return Ruin(seeds, target)
            operator = "late"
        if operator == "late":
            found = self._late(movable, size)
            if found is not None:
                return found
            operator = "related"
        if not movable:
            return Ruin([])
        if operator == "random":
            return Ruin(self.rng.sample(movable, min(size, len(movable))))
        if operator == "related":
            return Ruin(self._related(movable, size))
        if operator == "strings":
            return Ruin(self._strings(movable, size))
        if operator == "volunteer_day":
            seed = self.rng.choice(movable)
            volunteer = seed.volunteers[0]
            return Ruin([p for p in movable if p.day == seed.day and volunteer in p.volunteers])
        seed = self.rng.choice(movable)
        recipient = self.needs[seed.need].recipient_index
        return Ruin([p for p in movable if self.needs[p.need].recipient_index == recipient])

    def _familiar(self, movable: list[Placed], size: int) -> Ruin | None:
        """A need of a recipient with no visit by a volunteer they know, and one such candidate:
        the need's visits and the candidate's on the days they could make it, nearest its
        windows first; None when every recipient who could be is visited by one."""
        engine = self.engine
        open_pairs = [
            pair
            for pair in self.familiar_pairs
            if engine.familiar_visits[self.needs[pair[0]].recipient_index] == 0
        ]
        if not open_pairs:
            return None
        need, volunteer = self.rng.choice(open_pairs)
        info = self.needs[need]
        volunteer_id = engine.setup.helpers[volunteer].volunteer.id
        days = set(info.candidate_days[volunteer])
        own = [p for p in movable if p.need == need]

        def apart(placed: Placed) -> int:
            """Minutes from the visit's start to the nearest of the need's windows that day."""
            return min(
                (
                    max(0, start - placed.start, placed.start - end)
                    for start, end in info.allowed[placed.day]
                ),
                default=MINUTES_A_WEEK,
            )

        theirs = sorted(
            (p for p in movable if p.day in days and volunteer_id in p.volunteers),
            key=lambda placed: (apart(placed), placed.day, placed.start),
        )
        return Ruin(own + theirs[: min(size, FAMILIAR_FREED)], need, volunteer)

    def _shift(self, movable: list[Placed], size: int) -> Ruin | None:
        """One of the most important needs of several visits a week that has some but not all
        of them: its visits, and the visits of its nearest candidates on the candidate days it
        does not use, nearest it first; None when no need is short so."""
        engine = self.engine
        short = [
            info
            for info in self.needs
            if engine.missing[info.index] > 0
            and info.need.visits_per_week > 1
            and engine.of_need[info.index]
        ]
        if not short:
            return None
        short.sort(key=lambda info: (not info.mandatory, -info.priority, info.tie))
        target = self.rng.choice(short[:UNPLANNED_SHORTLIST])
        own = [p for p in movable if p.need == target.index]
        if not own:
            return None
        taken = {p.day for p in own}
        volunteer_ids = {
            engine.setup.helpers[volunteer].volunteer.id: volunteer
            for volunteer in target.candidates[:UNPLANNED_CANDIDATES]
        }
        near = [
            p
            for p in movable
            if p.need != target.index
            and p.day not in taken
            and p.volunteers[0] in volunteer_ids
            and p.day in target.candidate_days[volunteer_ids[p.volunteers[0]]]
        ]
        if near:
            places = np.fromiter((self.needs[p.need].place for p in near), dtype=int)
            distances = np.nan_to_num(self.distance[target.place, places], nan=np.inf)
            near = [near[index] for index in np.argsort(distances, kind="stable")[:size].tolist()]
        return Ruin(own + near, target.index, together=True)

    def _late(self, movable: list[Placed], size: int) -> Ruin | None:
        """One of the latest visits, the visits before it on its volunteers' routes (up to
        half the size) and the visits most related to it; None when no visit is late."""
        needs = self.needs
        late = [
            (lateness, index)
            for index, placed in enumerate(movable)
            if (lateness := needs[placed.need].lateness(placed.day, placed.start)) > 0
        ]
        if not late:
            return None
        late.sort(key=lambda entry: (-entry[0], entry[1]))
        seed = movable[self.rng.choice(late[:UNPLANNED_SHORTLIST])[1]]
        chosen: dict[int, Placed] = {id(seed): seed}
        before = [
            placed
            for placed in movable
            if placed.day == seed.day
            and placed.start < seed.start
            and any(volunteer in seed.volunteers for volunteer in placed.volunteers)
        ]
        before.sort(key=lambda placed: -placed.start)
        for placed in before[: max(1, size // 2)]:
            chosen[id(placed)] = placed
        order = np.argsort(self._relatedness(seed, movable), kind="stable").tolist()
        for index in order:
            if len(chosen) >= size:
                break
            chosen.setdefault(id(movable[index]), movable[index])
        info = needs[seed.need]
        target = info.leader if info.leader >= 0 else info.index
        return Ruin(list(chosen.values()), target)

    def _relatedness(self, seed: Placed, movable: list[Placed]) -> np.ndarray:
        """How unrelated each visit is to the seed: distance over the largest, plus the minutes
        between their starts over a week."""
        places = np.fromiter((self.needs[p.need].place for p in movable), dtype=int)
        distances = self.distance[self.needs[seed.need].place, places]
        distances = np.where(np.isfinite(distances), distances, np.nan)
        largest = float(np.nanmax(distances)) if np.isfinite(distances).any() else 0.0
        spread = np.nan_to_num(distances / largest if largest > 0 else distances * 0, nan=2.0)
        times = np.fromiter((p.day * 1440 + p.start for p in movable), dtype=float)
        seed_time = seed.day * 1440 + seed.start
        result: np.ndarray = spread + np.abs(times - seed_time) / MINUTES_A_WEEK
        return result

    def _related(self, movable: list[Placed], size: int) -> list[Placed]:
        seed = self.rng.choice(movable)
        order = np.argsort(self._relatedness(seed, movable), kind="stable")
        return [movable[index] for index in order[:size].tolist()]

    def _strings(self, movable: list[Placed], size: int) -> list[Placed]:
        """SISR's strings: a string of consecutive visits from each route nearest the seed."""
        seed = self.rng.choice(movable)
        places = np.fromiter((self.needs[p.need].place for p in movable), dtype=int)
        distances = np.nan_to_num(
            self.distance[self.needs[seed.need].place, places], nan=np.inf, posinf=np.inf
        )
        order = np.argsort(distances, kind="stable").tolist()
        by_slot = {(volunteer, p.day, p.start): p for p in movable for volunteer in p.volunteers}
        setup, state = self.engine.setup, self.engine.state
        chosen: dict[int, Placed] = {}
        routes: set[tuple[str, int]] = set()
        for index in order:
            if len(chosen) >= size:
                break
            visit = movable[index]
            route = (visit.volunteers[0], visit.day)
            if route in routes or id(visit) in chosen:
                continue
            routes.add(route)
            day = state.days[setup.volunteer_index[route[0]]][visit.day]
            if day is None:
                continue
            for outing in day.outings:
                if visit.start not in outing.starts:
                    continue
                where = outing.starts.index(visit.start)
                length = self.rng.randint(1, min(self.max_string, len(outing.starts)))
                first = self.rng.randint(
                    max(0, where - length + 1), min(where, len(outing.starts) - length)
                )
                for start in outing.starts[first : first + length]:
                    found = by_slot.get((route[0], visit.day, start))
                    if found is not None:
                        chosen[id(found)] = found
                break
        return list(chosen.values())

    def _unplanned(self, movable: list[Placed], size: int) -> tuple[list[Placed], int]:
        """Around one of the most important left-out occurrences: visits of the volunteer-days
        that could take it, nearest it first."""
        engine = self.engine
        left_out = [info for info in self.needs if engine.missing[info.index] > 0]
        if not left_out:
            return [], -1
        left_out.sort(key=lambda info: (not info.mandatory, -info.priority, info.tie))
        target = self.rng.choice(left_out[:UNPLANNED_SHORTLIST])
        volunteer_ids = {
            engine.setup.helpers[volunteer].volunteer.id: volunteer
            for volunteer in target.candidates[:UNPLANNED_CANDIDATES]
        }
        near = [
            p
            for p in movable
            if p.volunteers[0] in volunteer_ids
            and p.day in target.candidate_days[volunteer_ids[p.volunteers[0]]]
        ]
        if not near:
            return [], target.index
        places = np.fromiter((self.needs[p.need].place for p in near), dtype=int)
        distances = np.nan_to_num(self.distance[target.place, places], nan=np.inf)
        order = np.argsort(distances, kind="stable")[:size].tolist()
        return [near[index] for index in order], target.index
