"""Taking visits out of greedy's week and putting occurrences back with greedy's insertions.

The engine works on one `GreedyPlanner` after its run: the week state (`WeekState`) and the
cached insertions (`InsertionCache`, told to keep every need's insertions up to date). A *unit* is
what moves as one: a visit (a team visit with all its volunteers), or both visits of a linked
pair. Taking a unit out is refused when the outings it leaves would break a rule
(`WeekState.removable`); putting occurrences back is greedy's regret rule over a queue, with
blinks (a feasible insertion skipped at random, SISR's recreate), an occurrence told which
volunteer to prefer taking that volunteer's cheapest insertion where there is one. Every change
is journalled so that a rejected move is undone exactly, in reverse order, and the cache's
journal of the move (`InsertionCache.begin`) then gives back the cached insertions it changed.
The engine keeps the running coverage, mandatory occurrences and the cost part of the policy
objective (`matcher.solvers.objective`), term by term in its own points, as visits go in and
out: continuity (`PolicyWeights.continuity_points` per familiar volunteer on a visit, greedy's
`familiarity`), travel (the week's walk, `WeekState.distance_m`, times `travel_per_km`), the
hourly cost of the volunteers on site, lateness (per late minute) and the largest lateness (a
count of the visits per minutes late gives it back when the latest visit leaves). Fairness is
left out: a volunteer's share of the load moves with every other's. It keeps greedy's
`WeekState.max_lateness` at the true largest lateness, so that insertions are priced against
the plan as it is.

Nothing here re-checks the plan: each insertion keeps every rule by construction (greedy's own
tests), each removal by `removable`; the checker judges the best plan in `assemble_plan`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from matcher.models import WEEKDAYS
from matcher.rules.pinned import pinned_keys
from matcher.solvers.greedy.cache import Journal
from matcher.solvers.greedy.insertion import Option
from matcher.solvers.greedy.planner import GreedyPlanner
from matcher.solvers.greedy.setup import NeedInfo
from matcher.solvers.greedy.state import Placed

Slot = tuple[int, int, int, int]
"""(volunteer, day, outing, position) of one volunteer's part of a visit."""
Key = tuple[int, int, int]
"""(need, day, start) of a visit: unique, since a recipient's visits of one need never overlap."""


@dataclass(slots=True)
class Removed:
    """A visit taken out, with where each volunteer had it, to put it back exactly."""

    placed: Placed
    slots: list[Slot]


@dataclass(slots=True)
class Move:
    """What one ruin-and-recreate step changed, in order: visits taken out, visits put in."""

    removed: list[Removed]
    inserted: list[Placed]
    journal: Journal | None = None
    """The cache's journal of the move, to give back its cached insertions on undo."""


class Engine:
    """Removal, re-insertion and undo on greedy's week, with the running coverage."""

    def __init__(self, planner: GreedyPlanner, rng: random.Random) -> None:
        self.planner = planner
        self.setup = planner.setup
        self.state = planner.state
        self.cache = planner.cache
        self.needs = planner.needs
        self.rng = rng
        self.cache.track_every_need()
        problem = self.setup.problem
        pinned = pinned_keys(problem)
        pinned_index = {
            (self.setup.need_index[need], WEEKDAYS.index(day), start)
            for need, day, start in pinned
            if need in self.setup.need_index
        }
        self.of_need: list[dict[Key, Placed]] = [{} for _ in self.needs]
        """Each need's visits in the plan."""
        self.fixed: set[Key] = set()
        """Pinned visits and the linked partners of pinned visits: never taken out."""
        for placed in self.state.placed:
            key = (placed.need, placed.day, placed.start)
            self.of_need[placed.need][key] = placed
            if key in pinned_index:
                self.fixed.add(key)
        for key in list(self.fixed):
            partner = self._linked_visit(self.of_need[key[0]][key])
            if partner is not None:
                self.fixed.add((partner.need, partner.day, partner.start))
        self.familiarity = self.setup.familiarity
        self.familiar_visits = [0] * len(problem.recipients)
        """Each recipient's visits with a familiar volunteer on them (preferred or standing)."""
        self.weights = self.setup.weights
        self.continuity = 0.0
        self.coverage = 0.0
        self.mandatory = 0
        self.hourly = 0.0
        """Points of the volunteers' hours on site (`rules.hourly_cost`), positive."""
        self.late_min = 0.0
        """Minutes late over every soft-window visit."""
        self.late_visits: dict[float, int] = {}
        """How many visits are late by each number of minutes (above 0)."""
        self.max_late_min = 0.0
        for placed in self.state.placed:
            self._count(placed, 1)
        self.state.max_lateness = self.max_late_min
        self.missing = [0] * len(self.needs)
        """Occurrences of each need (a leader or a need on its own) the plan leaves out."""
        for info in self.needs:
            if info.leader < 0 and not info.unplannable:
                self.missing[info.index] = max(
                    0, info.need.visits_per_week - len(self.state.need_days[info.index])
                )
        for need in range(len(self.needs)):
            self.state.remaining[need] = 0

    # ---------------------------------------------------------------- lookups

    def familiar_points(self, placed: Placed) -> float:
        """The objective's continuity points of one visit: per volunteer on it who is familiar
        to the recipient (`Setup.familiarity`)."""
        familiar = self.familiarity[self.needs[placed.need].recipient_index]
        if not familiar:
            return 0.0
        index = self.setup.volunteer_index
        return sum(familiar.get(index[volunteer], 0.0) for volunteer in placed.volunteers)

    def _count(self, placed: Placed, sign: int) -> None:
        """Add (sign 1) or take away (-1) the visit's coverage, mandatory occurrence,
        continuity points and familiar visit, hourly cost and lateness."""
        info = self.needs[placed.need]
        self.coverage += sign * info.priority
        self.mandatory += sign * info.mandatory
        points = self.familiar_points(placed)
        if points > 0:
            self.continuity += sign * points
            self.familiar_visits[info.recipient_index] += sign
        helpers, index = self.setup.helpers, self.setup.volunteer_index
        hours = info.duration / 60.0
        for volunteer in placed.volunteers:
            self.hourly += sign * helpers[index[volunteer]].cost_per_hour * hours
        late = info.lateness(placed.day, placed.start)
        if late > 0:
            self.late_min += sign * late
            count = self.late_visits.get(late, 0) + sign
            if count:
                self.late_visits[late] = count
            else:
                del self.late_visits[late]
            if sign > 0 and late > self.max_late_min:
                self.max_late_min = late
            elif sign < 0 and late == self.max_late_min and not count:
                self.max_late_min = max(self.late_visits, default=0.0)
            self.state.max_lateness = self.max_late_min

    def cost_terms(self) -> dict[str, float]:
        """The running terms of the policy objective it keeps, in the objective's points and
        signs (`objective_breakdown`: costs negative); `cost` is the hourly cost."""
        weights = self.weights
        return {
            "coverage": weights.coverage * self.coverage,
            "continuity": self.continuity,
            "travel": -weights.travel_per_km * self.state.distance_m / 1000.0,
            "cost": -self.hourly,
            "lateness": -weights.lateness_per_min * self.late_min
            - weights.max_lateness_per_min * self.max_late_min,
        }

    def cost_points(self) -> float:
        """The cost part of the objective (all but coverage and fairness) in its points:
        continuity minus travel, hourly cost, lateness and largest lateness."""
        weights = self.weights
        return (
            self.continuity
            - weights.travel_per_km * self.state.distance_m / 1000.0
            - self.hourly
            - weights.lateness_per_min * self.late_min
            - weights.max_lateness_per_min * self.max_late_min
        )

    def movable(self) -> list[Placed]:
        """The visits that may be taken out, in the order they were placed."""
        if not self.fixed:
            return list(self.state.placed)
        return [p for p in self.state.placed if (p.need, p.day, p.start) not in self.fixed]

    def _linked_visit(self, placed: Placed) -> Placed | None:
        """The visit of the linked need on the same day that keeps the pair's gap with this
        one, if any."""
        info = self.needs[placed.need]
        if info.partner >= 0:
            other, low, high = info.partner, info.gap[0], info.gap[1]
        elif info.leader >= 0:
            other = info.leader
            low, high = -self.needs[other].gap[1], -self.needs[other].gap[0]
        else:
            return None
        for key, candidate in self.of_need[other].items():
            if key[1] == placed.day and low <= candidate.start - placed.start <= high:
                return candidate
        return None

    def unit_of(self, placed: Placed) -> list[Placed]:
        """The visits that move with this one: itself, and its linked partner's (leader
        first)."""
        partner = self._linked_visit(placed)
        if partner is None:
            return [placed]
        if self.needs[placed.need].partner >= 0:
            return [placed, partner]
        return [partner, placed]

    def slots_of(self, placed: Placed) -> list[Slot] | None:
        """Where each of the visit's volunteers has it, or None if one cannot be found."""
        info = self.needs[placed.need]
        slots: list[Slot] = []
        for volunteer_id in placed.volunteers:
            volunteer = self.setup.volunteer_index[volunteer_id]
            day = self.state.days[volunteer][placed.day]
            if day is None:
                return None
            found = None
            for outing_number, outing in enumerate(day.outings):
                for position, start in enumerate(outing.starts):
                    if start == placed.start and outing.places[position] == info.place:
                        found = (volunteer, placed.day, outing_number, position)
                        break
                if found is not None:
                    break
            if found is None:
                return None
            slots.append(found)
        return slots

    # ---------------------------------------------------------------- removal

    def remove_unit(self, unit: list[Placed], move: Move) -> bool:
        """Take the unit's visits out if every outing they leave keeps its rules; False (and
        nothing changed) otherwise."""
        located: list[tuple[Placed, list[Slot]]] = []
        for placed in unit:
            if (placed.need, placed.day, placed.start) in self.fixed:
                return False
            slots = self.slots_of(placed)
            if slots is None or not all(self.state.removable(*slot) for slot in slots):
                return False
            located.append((placed, slots))
        for placed, slots in located:
            self._take_out(placed, slots)
            move.removed.append(Removed(placed, slots))
        leader = self.needs[unit[0].need]
        self.missing[leader.index] += 1
        return True

    def _take_out(self, placed: Placed, slots: list[Slot]) -> None:
        """Remove the visit from its volunteers' outings and from the record."""
        info = self.needs[placed.need]
        for volunteer, day, outing, position in slots:
            self.state.remove(volunteer, day, outing, position, info.need.load)
        self.state.unrecord(placed)
        del self.of_need[placed.need][(placed.need, placed.day, placed.start)]
        self._refresh_volunteers(info)
        self._touched(info, placed.day, [slot[0] for slot in slots])
        self._count(placed, -1)

    def _refresh_volunteers(self, info: NeedInfo) -> None:
        """The need's volunteers so far, from its visits (greedy's same-volunteer bonus)."""
        index = self.setup.volunteer_index
        self.state.need_volunteers[info.index] = {
            index[volunteer]
            for placed in self.of_need[info.index].values()
            for volunteer in placed.volunteers
        }

    def _touched(self, info: NeedInfo, day: int, volunteers: list[int]) -> None:
        """Tell the cache that these volunteers' day and the recipient's day changed."""
        self.cache.touch(info, day, volunteers)

    # -------------------------------------------------------------- recreate

    def recreate(
        self,
        queue: list[int],
        move: Move,
        blink_rate: float,
        window: int,
        prefer: dict[int, int] | None = None,
    ) -> None:
        """Put back one occurrence of each need in `queue` (leaders or needs on their own, in
        that order) where it costs least, by greedy's regret rule over the first `window`
        pending ones; a feasible insertion is skipped with probability `blink_rate`; an
        occurrence no insertion takes stays out. A need in `prefer` takes the cheapest insertion
        with that volunteer on it where there is one, before the others compete."""
        preferred = prefer or {}
        for need in queue:
            self._want(need, 1)
        pending = list(queue)
        while pending:
            mandatory = self.needs[pending[0]].mandatory
            choice: tuple[float, int, Option] | None = None
            hopeless: int | None = None
            for position, need in enumerate(pending[:window]):
                if self.needs[need].mandatory != mandatory:
                    break
                option, regret = self._weigh(need, blink_rate, preferred.get(need, -1))
                if option is None:
                    hopeless = position
                    break
                if choice is None or regret > choice[0]:
                    choice = (regret, position, option)
            if hopeless is not None:
                self._want(pending.pop(hopeless), -1)
                continue
            assert choice is not None
            _, position, option = choice
            self.place(pending.pop(position), option, move)

    def insert_at(self, need: int, option: Option, move: Move) -> None:
        """Put one more occurrence of the need, one the plan leaves out, at this insertion."""
        self._want(need, 1)
        self.place(need, option, move)

    def place(self, need: int, option: Option, move: Move) -> None:
        """Commit one occurrence of the need (its pair's both visits) at the option, counted
        pending (`state.remaining`), and keep the running counts."""
        state = self.state
        before = len(state.placed)
        self.planner._commit(need, option)
        for placed in state.placed[before:]:
            self.of_need[placed.need][(placed.need, placed.day, placed.start)] = placed
            self._count(placed, 1)
            move.inserted.append(placed)
        self.missing[need] -= 1

    def _want(self, need: int, change: int) -> None:
        """Count one more (or one fewer) occurrence of the need, and its partner's, as pending."""
        info = self.needs[need]
        self.state.remaining[need] += change
        if info.partner >= 0:
            self.state.remaining[info.partner] += change

    def _weigh(
        self, need: int, blink_rate: float, volunteer: int = -1
    ) -> tuple[Option | None, float]:
        """The need's chosen insertion (the cheapest not blinked) and its regret; with a
        `volunteer` to prefer, the cheapest with them on it, at no regret to wait (infinite)."""
        planner = self.planner
        cache = planner.cache
        step = planner.parameters.candidate_volunteers
        if cache.wanted[need] == 0:
            cache.wanted[need] = step
            cache.activate(need, step)
        if volunteer >= 0:
            candidates = self.needs[need].candidates
            reach = candidates.index(volunteer) + 1 if volunteer in candidates else 0
            if reach > cache.wanted[need]:
                cache.wanted[need] = reach
                cache.activate(need, reach)
        scored = planner.scored_options(need)
        while not scored:
            cache.wanted[need] += step
            if not cache.activate(need, cache.wanted[need]):
                break
            scored = planner.scored_options(need)
        if not scored:
            return None, 0.0
        scored.sort(key=lambda entry: (entry[0], entry[1]))
        if volunteer >= 0:
            for entry in scored:
                if volunteer in entry[2].volunteers:
                    return entry[2], float("inf")
        chosen = 0
        if blink_rate > 0:
            while chosen < len(scored) - 1 and self.rng.random() < blink_rate:
                chosen += 1
        option = scored[chosen][2]
        later = [entry[0] for entry in scored[chosen + 1 :]]
        regret = float("inf") if not later else later[0] - scored[chosen][0]
        return option, regret

    # ------------------------------------------------------------------ undo

    def begin_move(self) -> Move:
        """A new move, with the cache keeping its journal (the previous move's is dropped)."""
        return Move([], [], self.cache.begin())

    def undo(self, move: Move) -> None:
        """Put the week back as it was before the move: its insertions out, latest first, then
        its removed visits back where they were, latest first; then, if it is the latest move
        begun, the cached insertions it changed (`InsertionCache.rollback`)."""
        for placed in reversed(move.inserted):
            info = self.needs[placed.need]
            slots = self.slots_of(placed)
            assert slots is not None
            self._take_out(placed, slots)
            if info.leader < 0:
                self.missing[info.index] += 1
        for removed in reversed(move.removed):
            self._put_back(removed)
        if move.journal is not None and move.journal is self.cache.journal:
            self.cache.rollback(move.journal)

    def _put_back(self, removed: Removed) -> None:
        """Insert a removed visit exactly where it was."""
        placed = removed.placed
        info = self.needs[placed.need]
        end = placed.start + info.duration
        for volunteer, day, outing, position in removed.slots:
            self.state.insert(
                volunteer, day, outing, position, placed.start, end, info.place, info.need.load
            )
        self.state.record(info, placed.day, placed.start, placed.volunteers)
        restored = self.state.placed[-1]
        self.of_need[placed.need][(placed.need, placed.day, placed.start)] = restored
        self._touched(info, placed.day, [slot[0] for slot in removed.slots])
        self._count(restored, 1)
        if info.leader < 0:
            self.missing[info.index] -= 1
