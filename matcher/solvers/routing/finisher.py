"""The finishing pass: the exact timing of the routes found, in CP-SAT.

Each vehicle is one outing: its visits keep the routing order, the first starts no earlier than
the travel from the start place after the outing opens, each next one after the travel from the
one before, and the last leaves time to get home before the outing closes. Team members and
linked visits keep their starts, a recipient's visits do not overlap, lateness and the plan's
largest lateness are priced by the policy, then starts are made as early as possible. When
visits may drop (weekly caps repaired after the search), the weekly minutes count every leg of
every outing of the volunteer, the visits and load of a day are capped over all its outings,
and the least valuable visits go.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from ortools.sat.python import cp_model

from matcher.rules import Intervals, ceil_minutes, intersect
from matcher.solvers.routing.builder import Network, Routed

FINISH_UNITS_PER_MIN = 1000
"""The finishing pass counts weekly minutes in milli-minutes, each leg rounded up."""
FINISH_POINT_SCALE = 1000
"""The finishing pass counts objective points in thousandths."""


class Finisher:
    """The exact timing of the routes found (optionally dropping visits)."""

    def __init__(self, network: Network, routed: list[Routed], allow_drops: bool) -> None:
        self.network = network
        self.routed = routed
        self.allow_drops = allow_drops

    def solve(self, time_limit_s: float, seed: int) -> tuple[list[Routed], str]:
        """Time the routes (or drop visits to meet the caps); the routing times if CP-SAT
        finds nothing in time."""
        if not self.routed:
            return [], "EMPTY"
        network = self.network
        model = cp_model.CpModel()
        present: list[Any] = []
        starts: list[cp_model.IntVar] = []
        late: list[cp_model.IntVar] = []
        for position, item in enumerate(self.routed):
            group = item.group
            domain: Intervals | None = None
            for vehicle in item.vehicles:
                allowed = group.starts[vehicle]
                domain = allowed if domain is None else intersect(domain, allowed)
            spans = domain or [(item.start, item.start)]
            start = model.new_int_var_from_domain(
                cp_model.Domain.from_intervals([[low, high] for low, high in spans]),
                f"start_{position}",
            )
            starts.append(start)
            model.add_hint(start, item.start)
            if self.allow_drops and not group.pinned_volunteers:
                literal = model.new_bool_var(f"present_{position}")
                model.add_hint(literal, True)
            else:
                literal = model.new_constant(1)
            present.append(literal)
            if group.due is not None:
                lateness = model.new_int_var(0, network.day_length, f"late_{position}")
                model.add(lateness >= start - group.due).only_enforce_if(literal)
                late.append(lateness)
        self._dependencies(model, present, starts)
        self._recipient_overlaps(model, present, starts)
        leg_points = self._routes(model, present, starts)
        if self.allow_drops:
            self._day_caps(model, present)
        weights = network.weights
        coverage = sum(
            round(network.points(item.group) * FINISH_POINT_SCALE) * literal
            for item, literal in zip(self.routed, present, strict=True)
            if self.allow_drops
        )
        largest_late = model.new_int_var(0, network.day_length, "largest_late")
        for lateness in late:
            model.add(largest_late >= lateness)
        cost = (
            round(weights.lateness_per_min * FINISH_POINT_SCALE) * sum(late)
            + round(weights.max_lateness_per_min * FINISH_POINT_SCALE) * largest_late
            + leg_points
        )
        model.maximize(coverage - cost)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        solver.parameters.max_time_in_seconds = max(0.01, 0.7 * time_limit_s)
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return self.routed, f"routing ({solver.status_name(status)})"
        first_status = solver.status_name(status)
        values = [solver.value(start) for start in starts]
        kept = [bool(solver.value(literal)) for literal in present]
        model.clear_hints()  # type: ignore[no-untyped-call]
        for start, value in zip(starts, values, strict=True):
            model.add_hint(start, value)
        for literal, keep in zip(present, kept, strict=True):
            model.add(literal == int(keep))
        model.add(coverage - cost >= round(solver.objective_value))
        model.minimize(sum(starts))
        second = cp_model.CpSolver()
        second.parameters.num_workers = 1
        second.parameters.random_seed = seed
        second.parameters.max_time_in_seconds = max(0.01, 0.3 * time_limit_s)
        second_status = second.solve(model)
        if second_status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = [second.value(start) for start in starts]
        result = [
            Routed(group=item.group, vehicles=item.vehicles, start=value)
            for item, value, keep in zip(self.routed, values, kept, strict=True)
            if keep
        ]
        return result, f"{first_status}/{second.status_name(second_status)}"

    def _routes(
        self, model: cp_model.CpModel, present: list[Any], starts: list[cp_model.IntVar]
    ) -> Any:
        """Each outing's visits in the routing order with travel between them, from the start
        place after it opens and home before it closes, and the weekly minutes of capped
        volunteers when visits may drop; returns the legs' travel points (constant when no
        visit drops)."""
        network = self.network
        travel = network.travel
        per_vehicle: dict[int, list[int]] = defaultdict(list)
        for position, item in enumerate(self.routed):
            for member_vehicle in item.vehicles:
                per_vehicle[member_vehicle].append(position)
        week_terms: dict[str, list[Any]] = defaultdict(list)
        leg_points: list[Any] = []
        per_metre = network.weights.travel_per_km / 1000.0
        for vehicle_index, positions in sorted(per_vehicle.items()):
            vehicle = network.vehicles[vehicle_index]
            volunteer = vehicle.volunteer
            opens, closes = vehicle.outing
            positions.sort(key=lambda position: self.routed[position].start)
            minutes = travel.time_matrix(volunteer)
            facts = [self.routed[position].group.facts for position in positions]
            places = [vehicle.start_place, *(need.place for need in facts), vehicle.home_place]
            count = len(positions)
            capped = volunteer.max_minutes_per_week is not None
            for first in range(count + 1):
                for last in range(first + 1, count + 2):
                    if last != first + 1 and not self.allow_drops:
                        continue
                    leg = self._leg(model, present, positions, first, last)
                    origin, destination = places[first], places[last]
                    gap = ceil_minutes(float(minutes[origin, destination]))
                    constraint = None
                    if first > 0 and last <= count:
                        constraint = model.add(
                            starts[positions[last - 1]]
                            >= starts[positions[first - 1]] + facts[first - 1].duration + gap
                        )
                    elif first == 0 and last <= count:
                        constraint = model.add(starts[positions[last - 1]] >= opens + gap)
                    elif first > 0 and last == count + 1:
                        constraint = model.add(
                            starts[positions[first - 1]] + facts[first - 1].duration + gap <= closes
                        )
                    if leg is None:
                        continue
                    if constraint is not None:
                        constraint.only_enforce_if(leg)
                    if first == 0 and last == count + 1:
                        continue
                    metres = float(travel.distance_m[origin, destination])
                    if math.isfinite(metres):
                        leg_points.append(round(metres * per_metre * FINISH_POINT_SCALE) * leg)
                    if capped:
                        leg_minutes = float(minutes[origin, destination])
                        units = math.ceil(leg_minutes * FINISH_UNITS_PER_MIN - 1e-6)
                        week_terms[volunteer.id].append(units * leg)
            if capped and self.allow_drops:
                for position, need in zip(positions, facts, strict=True):
                    week_terms[volunteer.id].append(
                        need.duration * FINISH_UNITS_PER_MIN * present[position]
                    )
        for volunteer_id, terms in week_terms.items():
            cap = network.problem.volunteer_by_id[volunteer_id].max_minutes_per_week
            assert cap is not None
            model.add(sum(terms) <= cap * FINISH_UNITS_PER_MIN)
        return sum(leg_points)

    def _day_caps(self, model: cp_model.CpModel, present: list[Any]) -> None:
        """Visits and load of a volunteer's day, over all the outings of the day."""
        network = self.network
        visits: dict[tuple[str, int], list[Any]] = defaultdict(list)
        loads: dict[tuple[str, int], list[Any]] = defaultdict(list)
        for position, item in enumerate(self.routed):
            for vehicle_index in item.vehicles:
                vehicle = network.vehicles[vehicle_index]
                key = (vehicle.volunteer.id, vehicle.day)
                visits[key].append(present[position])
                loads[key].append(item.group.facts.need.load * present[position])
        for key, literals in visits.items():
            volunteer = network.problem.volunteer_by_id[key[0]]
            if volunteer.max_visits_per_day is not None:
                model.add(sum(literals) <= volunteer.max_visits_per_day)
            if volunteer.capacity is not None:
                model.add(sum(loads[key]) <= volunteer.capacity)

    def _leg(
        self,
        model: cp_model.CpModel,
        present: list[Any],
        positions: list[int],
        first: int,
        last: int,
    ) -> Any:
        """Whether the route goes straight from stop `first` to stop `last` (0 is the start
        place, len + 1 home): both present and every stop between dropped. None when no visit
        may drop (every consecutive leg is then taken)."""
        if not self.allow_drops:
            return None
        ends = [
            present[positions[stop - 1]] for stop in (first, last) if 0 < stop <= len(positions)
        ]
        skipped = [present[positions[stop - 1]] for stop in range(first + 1, last)]
        leg = model.new_bool_var(f"leg_{positions[0]}_{first}_{last}")
        for literal in ends:
            model.add_implication(leg, literal)
        for literal in skipped:
            model.add_implication(leg, literal.Not())
        model.add_bool_or([leg, *(literal.Not() for literal in ends), *skipped])
        return leg

    def _dependencies(
        self, model: cp_model.CpModel, present: list[Any], starts: list[cp_model.IntVar]
    ) -> None:
        """Linked visits keep their gap and go together."""
        position_of = {id(item.group): position for position, item in enumerate(self.routed)}
        for first, second, (low, high) in self.network.partners():
            a, b = position_of.get(id(first)), position_of.get(id(second))
            if a is None or b is None:
                continue
            model.add(present[a] == present[b])
            model.add(starts[b] - starts[a] >= int(low)).only_enforce_if(present[a])
            if math.isfinite(high):
                model.add(starts[b] - starts[a] <= int(high)).only_enforce_if(present[a])

    def _recipient_overlaps(
        self, model: cp_model.CpModel, present: list[Any], starts: list[cp_model.IntVar]
    ) -> None:
        """A recipient's visits on one day do not overlap, except linked ones."""
        by_recipient_day: dict[tuple[str, int], list[int]] = defaultdict(list)
        for position, item in enumerate(self.routed):
            group = item.group
            by_recipient_day[(group.facts.recipient.id, group.day)].append(position)
        for positions in by_recipient_day.values():
            for index, a in enumerate(positions):
                for b in positions[index + 1 :]:
                    group_a, group_b = self.routed[a].group, self.routed[b].group
                    pair = frozenset((group_a.facts.need.id, group_b.facts.need.id))
                    if pair in self.network.linked:
                        continue
                    a_first = model.new_bool_var(f"order_{a}_{b}")
                    model.add(starts[a] + group_a.facts.duration <= starts[b]).only_enforce_if(
                        a_first, present[a], present[b]
                    )
                    model.add(starts[b] + group_b.facts.duration <= starts[a]).only_enforce_if(
                        a_first.Not(), present[a], present[b]
                    )
