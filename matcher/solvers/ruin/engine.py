"""Taking visits out of greedy's week and putting occurrences back with greedy's insertions.

The engine works on one `GreedyPlanner` after its run: the week state (`WeekState`) and the
cached insertions (`InsertionCache`, told to keep every need's insertions up to date). A *unit* is
what moves as one: a visit (a team visit with all its volunteers), or both visits of a linked
pair. Taking a unit out is refused when the outings it leaves would break a rule
(`WeekState.removable`); putting occurrences back is greedy's regret rule over a queue, with
blinks (a feasible insertion skipped at random, SISR's recreate), an occurrence told which
volunteer to prefer taking that volunteer's cheapest insertion where there is one. A visit keeps
its time while its neighbours come and go; `compact` moves the late visits of some routes (and
their linked partners) to their least late start where they stand. Every change is journalled
in order (`Move.log`) so that a rejected move is undone exactly, in reverse order, and the
cache's journal of the move (`InsertionCache.begin`) then gives back the cached insertions it
changed.
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
from dataclasses import dataclass, field

from matcher.models import WEEKDAYS
from matcher.rules.pinned import pinned_keys
from matcher.solvers.greedy.cache import Journal
from matcher.solvers.greedy.insertion import Option
from matcher.solvers.greedy.planner import GreedyPlanner
from matcher.solvers.greedy.setup import EPS, NeedInfo
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
    """What one ruin-and-recreate step changed: visits taken out, visits put in, and both in
    the order they happened (undone in reverse)."""

    removed: list[Removed]
    inserted: list[Placed]
    journal: Journal | None = None
    """The cache's journal of the move, to give back its cached insertions on undo."""
    log: list[Removed | Placed] = field(default_factory=list)
    """Every removal and insertion of the move, in order."""


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
        self.needs_at: dict[int, list[int]] = {}
        """The needs visited at each place."""
        for info in self.needs:
            self.needs_at.setdefault(info.place, []).append(info.index)
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
            removed = Removed(placed, slots)
            move.removed.append(removed)
            move.log.append(removed)
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
            move.log.append(placed)
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

    # ------------------------------------------------------------ compaction

    def compact(self, routes: set[tuple[int, int]], move: Move) -> int:
        """Start each late visit on these (volunteer, day) routes as early as its place in the
        route now allows, in route order (a visit moved earlier lets the next one move too):
        a visit whose neighbours were taken out keeps its time otherwise, and its lateness.
        Single visits of one volunteer only (a linked pair or a team keeps its common times);
        how many visits moved."""
        moved = 0
        for volunteer, day in sorted(routes):
            state = self.state.days[volunteer][day]
            if state is None:
                continue
            volunteer_id = self.setup.helpers[volunteer].volunteer.id
            for outing_number in range(len(state.outings)):
                position = 0
                while position < len(state.outings[outing_number].starts):
                    moved += self._start_earlier(
                        volunteer_id, volunteer, day, outing_number, position, move
                    )
                    position += 1
        return moved

    def _start_earlier(
        self,
        volunteer_id: str,
        volunteer: int,
        day: int,
        outing_number: int,
        position: int,
        move: Move,
    ) -> int:
        """Move the visit at this position of the outing (with its linked partner, if any) to
        its least late start there, if that is less late; 1 if it moved."""
        outing = self.state.day(volunteer, day).outings[outing_number]
        placed = self._visit_at(volunteer_id, day, outing.starts[position], outing.places[position])
        if placed is None:
            return 0
        unit = self.unit_of(placed)
        infos = [self.needs[visit.need] for visit in unit]
        if any(len(visit.volunteers) != 1 for visit in unit) or (
            len(unit) == 1 and (infos[0].partner >= 0 or infos[0].leader >= 0)
        ):
            return 0
        late = sum(info.lateness(day, visit.start) for info, visit in zip(infos, unit, strict=True))
        if late <= 0:
            return 0
        located = [self.slots_of(visit) for visit in unit]
        if not any(slots is not None and self._could_start_sooner(slots[0]) for slots in located):
            return 0
        starts = [visit.start for visit in unit]
        if not self.remove_unit(unit, move):
            return 0
        slots = [found[0] for found in located if found is not None]
        intervals = [self._starts_at(info, *slot) for info, slot in zip(infos, slots, strict=True)]
        chosen = self._least_late(infos, day, intervals)
        if chosen is None or chosen[0] >= late:
            chosen = (late, starts)
        option = Option(
            day=day,
            start=chosen[1][0],
            volunteers=tuple(slot[0] for slot in slots),
            outings=tuple(slot[2] for slot in slots),
            positions=tuple(slot[3] for slot in slots),
            added_minutes=(0.0,) * len(slots),
            cost=0.0,
            tie=(day,),
            second_start=chosen[1][1] if len(slots) == 2 else -1,
        )
        self.insert_at(infos[0].index, option, move)
        return int(chosen[1] != starts)

    def _could_start_sooner(self, slot: Slot) -> bool:
        """Whether the visit in this slot could start a minute sooner for the travel into it."""
        volunteer, day, outing_number, position = slot
        outing = self.state.day(volunteer, day).outings[outing_number]
        previous_end = outing.opens if position == 0 else outing.ends[position - 1]
        return previous_end + outing.leg_minutes[position] <= outing.starts[position] - 1 + EPS

    def _least_late(
        self, infos: list[NeedInfo], day: int, intervals: list[list[tuple[int, int]]]
    ) -> tuple[float, list[int]] | None:
        """The least late starts of a visit (one need) or a linked pair (leader, partner)
        within these start intervals (and the pair's gap), and their minutes late; earliest
        on ties; None if none fit."""
        if len(infos) == 1:
            if not intervals[0]:
                return None
            start = self.planner.insertions.least_late_start(infos[0], day, intervals[0])
            return infos[0].lateness(day, start), [start]
        leader, partner = infos
        low, high = leader.gap
        best: tuple[float, list[int]] | None = None
        for first, last in intervals[0]:
            for other_first, other_last in intervals[1]:
                start = max(first, other_first - high)
                if start > min(last, other_last - low):
                    continue
                second = max(other_first, start + low)
                late = leader.lateness(day, start) + partner.lateness(day, second)
                if best is None or (late, [start, second]) < best:
                    best = (late, [start, second])
        return best

    def _starts_at(
        self, info: NeedInfo, volunteer: int, day: int, outing_number: int, position: int
    ) -> list[tuple[int, int]]:
        """The start intervals of the need's visit at exactly this position of the volunteer's
        outing (`Insertions.start_intervals`)."""
        helper = self.setup.helpers[volunteer]
        outing = self.state.day(volunteer, day).outings[outing_number]
        count = len(outing.places)
        previous = helper.start_place if position == 0 else outing.places[position - 1]
        following = helper.home_place if position == count else outing.places[position]
        times = self.setup.times
        if times is not None:
            minutes_in = float(times[previous, info.place])
            minutes_out = float(times[info.place, following])
        else:
            distance = self.setup.travel.distance_m
            minutes_in = float(distance[previous, info.place]) / helper.speed
            minutes_out = float(distance[info.place, following]) / helper.speed
        return self.planner.insertions.start_intervals(
            info, day, outing, position, minutes_in, minutes_out
        )

    def _visit_at(self, volunteer_id: str, day: int, start: int, place: int) -> Placed | None:
        """The visit in the plan this volunteer starts then at that place, if any."""
        for need in self.needs_at.get(place, ()):
            placed = self.of_need[need].get((need, day, start))
            if placed is not None and volunteer_id in placed.volunteers:
                return placed
        return None

    # ------------------------------------------------------------------ undo

    def begin_move(self) -> Move:
        """A new move, with the cache keeping its journal (the previous move's is dropped)."""
        return Move([], [], self.cache.begin())

    def undo(self, move: Move) -> None:
        """Put the week back as it was before the move: each of its changes undone, latest
        first (an insertion taken out, a removed visit put back where it was: a visit put back
        is a new record, so an insertion is found by its need, day and start); then, if it is
        the latest move begun, the cached insertions it changed (`InsertionCache.rollback`).
        A move built by hand without a log undoes its insertions, then its removals."""
        log = move.log or [*move.removed, *move.inserted]
        for change in reversed(log):
            if isinstance(change, Removed):
                self._put_back(change)
                continue
            info = self.needs[change.need]
            placed = self.of_need[change.need][(change.need, change.day, change.start)]
            slots = self.slots_of(placed)
            assert slots is not None
            self._take_out(placed, slots)
            if info.leader < 0:
                self.missing[info.index] += 1
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
