"""Mankowska et al. (2014) home health care instances: loader, official cost, plan conversion.

The instances and solutions are the JSON published by Ceschia, Di Gaspero, Rosati & Schaerf
(ITOR 2024). One day, one depot; caregivers leave the depot at time 0 and return to it, with no
shift limit; every required service is performed by a caregiver with that ability; a service
starts no earlier than its patient's window opens and may start after it closes (tardiness);
a patient needing two services gets them from two caregivers, at the same moment
(`simultaneous`) or the second listed between `distance[0]` and `distance[1]` minutes after the
first (`sequential`). Travel time equals distance.

The official cost, as the published evaluator computes it (`best.md` of the data folder): the
distance of every non-empty route from the depot through its services and back; tardiness per
service of `max(0, start - window end)` where the start is the solution's `arrival_time` (the
moment service begins; a caregiver who arrives early waits); total
`(distance + total tardiness + maximum tardiness) / 3`.

In matcher a service of a patient is a mandatory need with a soft window: the published start
window `[e, l]` of a service lasting `d` becomes the matcher window `[e, l + d]` (matcher
windows hold the whole visit), so matcher's lateness, `start - (window end - d)`, is exactly the
published tardiness. Windows, durations and synchronisation gaps of the published instances are
whole minutes; travel times are not (three decimals), so a matcher plan, whose starts are whole
ticks, may start a little later than the fractional optimum. `time_scale` counts ticks per
minute (1: whole minutes) to make that rounding as fine as wanted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from benchmarks.external import BENCHMARK_DAY, BENCHMARK_WEEK_START, check_horizon, whole_ticks
from matcher.models import (
    Location,
    Need,
    Plan,
    Policy,
    PolicyWeights,
    Problem,
    Recipient,
    Service,
    SolverInfo,
    TimeWindow,
    TravelMatrix,
    TravelSettings,
    Visit,
    Volunteer,
)
from matcher.models.common import MAX_DAY_LENGTH_MIN
from matcher.models.problem import VisitDependency

SynchronizationKind = Literal["simultaneous", "sequential"]

FAMILY_BY_PATIENTS: dict[int, str] = {
    10: "A",
    25: "B",
    50: "C",
    75: "D",
    100: "E",
    200: "F",
    300: "G",
}
"""Mankowska's families by number of patients."""

COVERAGE_WEIGHT = 10_000.0
"""Points per planned visit: far above what one visit can add to the official cost, so that the
solver never trades a mandatory service for distance or tardiness."""

TIME_TOLERANCE_MIN = 1e-6
"""Published times are rounded to three decimals; comparisons allow this much."""

LATENESS_ROOM_MIN = 360
"""Caregivers have no shift limit, but a matcher day ends: it lasts at least this long after the
last window closes (published maximum tardiness: 224 minutes)."""


@dataclass(frozen=True)
class RequiredService:
    """A service a patient needs, and how long it lasts (minutes)."""

    service: str
    duration: float


@dataclass(frozen=True)
class Synchronization:
    """How a patient's two services relate: together, or the second within a gap after."""

    kind: SynchronizationKind
    min_gap: float = 0.0
    max_gap: float | None = None


@dataclass(frozen=True)
class Patient:
    """A patient: where, the start window `[window_start, window_end]`, the services needed."""

    id: str
    matrix_index: int
    x: float
    y: float
    window_start: float
    window_end: float
    services: tuple[RequiredService, ...]
    synchronization: Synchronization | None


@dataclass(frozen=True)
class Caregiver:
    """A caregiver and the services they can perform."""

    id: str
    abilities: tuple[str, ...]


@dataclass(frozen=True)
class MankowskaInstance:
    """One published instance; `distances[i][j]` in the order depot, patients (matrix_index)."""

    name: str
    patients: tuple[Patient, ...]
    service_durations: dict[str, float]
    caregivers: tuple[Caregiver, ...]
    depot_id: str
    depot_x: float
    depot_y: float
    distances: tuple[tuple[float, ...], ...]
    patients_by_id: dict[str, Patient] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_id = {patient.id: patient for patient in self.patients}
        object.__setattr__(self, "patients_by_id", by_id)

    @property
    def family(self) -> str:
        """A (10 patients) to G (300 patients)."""
        return FAMILY_BY_PATIENTS.get(len(self.patients), "?")

    def patient(self, patient_id: str) -> Patient:
        """The patient with this id."""
        return self.patients_by_id[patient_id]

    def duration(self, patient_id: str, service: str) -> float:
        """Minutes of this patient's service."""
        for required in self.patient(patient_id).services:
            if required.service == service:
                return required.duration
        raise KeyError(f"patient {patient_id} does not need service {service}")

    def distance(self, origin: int, destination: int) -> float:
        """Distance (= travel minutes) between two matrix indices (0 is the depot)."""
        return self.distances[origin][destination]

    @property
    def horizon_min(self) -> float:
        """The day a matcher plan needs: the last window close, the longest service, and
        `LATENESS_ROOM_MIN` for late starts."""
        latest = max(patient.window_end for patient in self.patients)
        longest = max(required.duration for p in self.patients for required in p.services)
        return latest + longest + LATENESS_ROOM_MIN


@dataclass(frozen=True)
class ServiceStop:
    """A service in a caregiver's route: `arrival` is when service starts, as published."""

    patient: str
    service: str
    arrival: float
    departure: float


@dataclass(frozen=True)
class CaregiverRoute:
    """A caregiver's services in order (empty for a caregiver who stays at the depot)."""

    caregiver: str
    stops: tuple[ServiceStop, ...]


@dataclass(frozen=True)
class MankowskaSolution:
    """Routes per caregiver, and the published global ordering of patients."""

    routes: tuple[CaregiverRoute, ...]
    global_ordering: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cost:
    """The official cost and its parts."""

    distance: float
    total_tardiness: float
    max_tardiness: float
    total: float


@dataclass(frozen=True)
class BestKnown:
    """A row of the published table `best.md`."""

    instance: str
    distance: float
    max_tardiness: float
    total_tardiness: float
    total_cost: float
    solution_file: str


def instance_name(path: str | Path) -> str:
    """`InstanzCPLEX_HCSRP_10_1` for `.../InstanzCPLEX_HCSRP_10_1.json`."""
    return Path(path).name.removesuffix(".json")


def load_instance(path: str | Path) -> MankowskaInstance:
    """Read a published instance."""
    data = json.loads(Path(path).read_text())
    service_durations = {
        service["id"]: float(service["default_duration"]) for service in data["services"]
    }
    patients = []
    for index, raw in enumerate(data["patients"], start=1):
        services = tuple(
            RequiredService(
                service=required["service"],
                duration=float(required.get("duration", service_durations[required["service"]])),
            )
            for required in raw["required_caregivers"]
        )
        patients.append(
            Patient(
                id=raw["id"],
                matrix_index=index,
                x=float(raw["location"][0]),
                y=float(raw["location"][1]),
                window_start=float(raw["time_window"][0]),
                window_end=float(raw["time_window"][1]),
                services=services,
                synchronization=_synchronization(raw.get("synchronization")),
            )
        )
    if len(data["central_offices"]) != 1:
        raise ValueError(f"{path}: expected one central office (depot)")
    depot = data["central_offices"][0]
    distances = tuple(tuple(float(value) for value in row) for row in data["distances"])
    if len(distances) != len(patients) + 1 or any(len(row) != len(distances) for row in distances):
        raise ValueError(f"{path}: the distance matrix is not (1 + patients) square")
    return MankowskaInstance(
        name=instance_name(path),
        patients=tuple(patients),
        service_durations=service_durations,
        caregivers=tuple(
            Caregiver(id=raw["id"], abilities=tuple(raw["abilities"])) for raw in data["caregivers"]
        ),
        depot_id=depot["id"],
        depot_x=float(depot["location"][0]),
        depot_y=float(depot["location"][1]),
        distances=distances,
    )


def _synchronization(raw: Mapping[str, Any] | None) -> Synchronization | None:
    if raw is None:
        return None
    if raw["type"] == "simultaneous":
        return Synchronization(kind="simultaneous")
    if raw["type"] == "sequential":
        low, high = raw["distance"]
        return Synchronization(kind="sequential", min_gap=float(low), max_gap=float(high))
    raise ValueError(f"unknown synchronization type {raw['type']!r}")


def parse_solution(data: Mapping[str, Any]) -> MankowskaSolution:
    """A solution from its JSON form (`routes` with `caregiver_id` and `locations`)."""
    routes = tuple(
        CaregiverRoute(
            caregiver=route["caregiver_id"],
            stops=tuple(
                ServiceStop(
                    patient=stop["patient"],
                    service=stop["service"],
                    arrival=float(stop["arrival_time"]),
                    departure=float(stop["departure_time"]),
                )
                for stop in route.get("locations", [])
            ),
        )
        for route in data["routes"]
    )
    return MankowskaSolution(routes=routes, global_ordering=tuple(data.get("global_ordering", [])))


def load_solution(path: str | Path) -> MankowskaSolution:
    """Read a published solution file."""
    return parse_solution(json.loads(Path(path).read_text()))


def load_best_known(path: str | Path) -> dict[str, BestKnown]:
    """The rows of `best.md`, by instance name (without `.json`)."""
    table: dict[str, BestKnown] = {}
    for line in Path(path).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 6 or not cells[0].endswith(".json"):
            continue
        name = cells[0].removesuffix(".json")
        table[name] = BestKnown(
            instance=name,
            distance=float(cells[1]),
            max_tardiness=float(cells[2]),
            total_tardiness=float(cells[3]),
            total_cost=float(cells[4]),
            solution_file=cells[5],
        )
    return table


def official_cost(instance: MankowskaInstance, routes: Sequence[CaregiverRoute]) -> Cost:
    """The published objective of these routes, computed as the published evaluator does."""
    distance = 0.0
    tardiness: list[float] = []
    for route in routes:
        if not route.stops:
            continue
        previous = 0
        for stop in route.stops:
            patient = instance.patient(stop.patient)
            distance += instance.distance(previous, patient.matrix_index)
            tardiness.append(max(0.0, stop.arrival - patient.window_end))
            previous = patient.matrix_index
        distance += instance.distance(previous, 0)
    total_tardiness = sum(tardiness)
    max_tardiness = max(tardiness, default=0.0)
    return Cost(
        distance=distance,
        total_tardiness=total_tardiness,
        max_tardiness=max_tardiness,
        total=(distance + total_tardiness + max_tardiness) / 3,
    )


def solution_violations(instance: MankowskaInstance, solution: MankowskaSolution) -> list[str]:
    """Every rule of the published problem these routes break (empty: a valid solution)."""
    problems: list[str] = []
    abilities = {caregiver.id: set(caregiver.abilities) for caregiver in instance.caregivers}
    served: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for route in solution.routes:
        if route.caregiver not in abilities:
            problems.append(f"unknown caregiver {route.caregiver}")
            continue
        ready, previous = 0.0, 0
        for stop in route.stops:
            try:
                duration = instance.duration(stop.patient, stop.service)
            except KeyError:
                problems.append(f"{route.caregiver}: {stop.patient} does not need {stop.service}")
                continue
            patient = instance.patient(stop.patient)
            where = f"{route.caregiver} at {stop.patient}/{stop.service}"
            if stop.service not in abilities[route.caregiver]:
                problems.append(f"{where}: caregiver lacks the ability")
            arrival = ready + instance.distance(previous, patient.matrix_index)
            if stop.arrival < arrival - TIME_TOLERANCE_MIN:
                problems.append(f"{where}: starts {stop.arrival} before arriving at {arrival:.3f}")
            if stop.arrival < patient.window_start - TIME_TOLERANCE_MIN:
                problems.append(f"{where}: starts before the window opens")
            if stop.departure - stop.arrival < duration - TIME_TOLERANCE_MIN:
                problems.append(f"{where}: shorter than {duration} minutes")
            served[(stop.patient, stop.service)].append((route.caregiver, stop.arrival))
            ready, previous = stop.departure, patient.matrix_index
    for patient in instance.patients:
        starts = []
        for required in patient.services:
            providers = served.get((patient.id, required.service), [])
            if len(providers) != 1:
                problems.append(
                    f"{patient.id}/{required.service} served {len(providers)} times, not once"
                )
                break
            starts.append(providers[0])
        if len(starts) != 2 or patient.synchronization is None:
            continue
        (first_caregiver, first), (second_caregiver, second) = starts
        if first_caregiver == second_caregiver:
            problems.append(f"{patient.id}: both services by {first_caregiver}")
        sync = patient.synchronization
        if sync.kind == "simultaneous" and abs(first - second) > TIME_TOLERANCE_MIN:
            problems.append(f"{patient.id}: simultaneous services start {first} and {second}")
        if sync.kind == "sequential":
            gap = second - first
            high = math.inf if sync.max_gap is None else sync.max_gap
            if not sync.min_gap - TIME_TOLERANCE_MIN <= gap <= high + TIME_TOLERANCE_MIN:
                problems.append(
                    f"{patient.id}: sequential gap {gap:.3f} outside [{sync.min_gap}, {high}]"
                )
    return problems


def need_id(patient: str, service: str) -> str:
    """The matcher need of a patient's service."""
    return f"{patient}-{service}"


def to_problem(instance: MankowskaInstance, time_scale: int = 1) -> Problem:
    """The instance as a one-day matcher problem whose objective is the official cost.

    Times are in ticks of 1/`time_scale` minute (1: minutes); distances stay as published. The
    day lasts 24 hours, or at finer scales as many ticks as matcher allows (`horizon_min`).
    """
    if time_scale < 1:
        raise ValueError("time_scale must be a positive whole number of ticks per minute")
    check_horizon(instance.horizon_min, time_scale, instance.name)
    day_length = min(1440 * time_scale, MAX_DAY_LENGTH_MIN)
    services = [
        Service(
            id=service,
            name=f"Mankowska service {service}",
            required_skills=[service],
            duration_min=whole_ticks(duration, time_scale, f"service {service} duration"),
        )
        for service, duration in instance.service_durations.items()
    ]
    recipients = []
    dependencies = []
    for patient in instance.patients:
        needs = []
        for required in patient.services:
            what = f"{patient.id}/{required.service}"
            duration = whole_ticks(required.duration, time_scale, f"{what} duration")
            opens = whole_ticks(patient.window_start, time_scale, f"{patient.id} window start")
            closes = whole_ticks(patient.window_end, time_scale, f"{patient.id} window end")
            needs.append(
                Need(
                    id=need_id(patient.id, required.service),
                    service=required.service,
                    duration_min=duration,
                    windows=[TimeWindow(day=BENCHMARK_DAY, start=opens, end=closes + duration)],
                    soft_window=True,
                    mandatory=True,
                )
            )
        recipients.append(
            Recipient(
                id=patient.id,
                location=Location(x_m=patient.x, y_m=patient.y, place=patient.id),
                needs=needs,
            )
        )
        if patient.synchronization is not None and len(patient.services) == 2:
            dependencies.append(_dependency(patient, time_scale))
    depot = Location(x_m=instance.depot_x, y_m=instance.depot_y, place=instance.depot_id)
    volunteers = [
        Volunteer(
            id=caregiver.id,
            home=depot,
            start_location=depot,
            skills=list(caregiver.abilities),
            availability=[TimeWindow(day=BENCHMARK_DAY, start=0, end=day_length)],
        )
        for caregiver in instance.caregivers
    ]
    places = [instance.depot_id, *(patient.id for patient in instance.patients)]
    distances = [list(row) for row in instance.distances]
    return Problem(
        name=instance.name,
        week_start=dt.date.fromisoformat(BENCHMARK_WEEK_START),
        services=services,
        recipients=recipients,
        volunteers=volunteers,
        dependencies=dependencies,
        day_length_min=day_length,
        policy=Policy(weights=official_weights(time_scale)),
        travel=TravelSettings(
            method="matrix",
            matrix=TravelMatrix(
                places=places,
                distance_m=distances,
                travel_min=[[value * time_scale for value in row] for row in distances],
            ),
        ),
    )


def _dependency(patient: Patient, time_scale: int) -> VisitDependency:
    first, second = (need_id(patient.id, required.service) for required in patient.services)
    sync = patient.synchronization
    assert sync is not None
    if sync.kind == "simultaneous":
        return VisitDependency(first=first, second=second, kind="simultaneous")
    return VisitDependency(
        first=first,
        second=second,
        kind="sequential",
        min_gap_min=whole_ticks(sync.min_gap, time_scale, f"{patient.id} minimum gap"),
        max_gap_min=None
        if sync.max_gap is None
        else whole_ticks(sync.max_gap, time_scale, f"{patient.id} maximum gap"),
    )


def official_weights(time_scale: int = 1) -> PolicyWeights:
    """Weights under which a plan's objective is the official cost (plus a coverage reward).

    Distances are published as metres in the matrix, so `travel_per_km` is 1000 / 3 points per
    thousand distance units; lateness weights are per tick.
    """
    return PolicyWeights(
        coverage=COVERAGE_WEIGHT,
        travel_per_km=1000.0 / 3,
        lateness_per_min=1.0 / (3 * time_scale),
        max_lateness_per_min=1.0 / (3 * time_scale),
        continuity=0.0,
        fairness=0.0,
        volunteer_cost_per_hour=0.0,
        staff_cost_per_hour=0.0,
    )


def earliest_starts(
    instance: MankowskaInstance,
    sequences: Mapping[str, Sequence[tuple[str, str]]],
    time_scale: int | None = None,
) -> dict[tuple[str, str], float]:
    """The earliest start (minutes) of every (patient, service) in these caregiver sequences.

    Keeps the published rules: the caregiver leaves the depot at 0, travels, waits for the
    window to open, and synchronised services keep their relation. With `time_scale`, every
    start is a whole tick of 1/`time_scale` minute (rounded up), as in a matcher plan. Start
    times only ever grow, so the result is the least schedule and minimises every tardiness.
    Raises ValueError when the sequences admit no schedule (a cycle of synchronisations).
    """

    def rounded(value: float) -> float:
        if time_scale is None:
            return value
        return math.ceil(value * time_scale - TIME_TOLERANCE_MIN) / time_scale

    start: dict[tuple[str, str], float] = {}
    for sequence in sequences.values():
        previous = 0
        for patient_id, service in sequence:
            patient = instance.patient(patient_id)
            travel = instance.distance(previous, patient.matrix_index)
            start[(patient_id, service)] = rounded(max(patient.window_start, travel))
            previous = patient.matrix_index
    links = _synchronised_pairs(instance, start)
    for _ in range(len(start) + 2):
        changed = False
        for sequence in sequences.values():
            for before, after in itertools.pairwise(sequence):
                patient_before = instance.patient(before[0])
                patient_after = instance.patient(after[0])
                ready = (
                    start[before]
                    + instance.duration(*before)
                    + instance.distance(patient_before.matrix_index, patient_after.matrix_index)
                )
                changed |= _raise_to(start, after, rounded(ready))
        for first, second, sync in links:
            if sync.kind == "simultaneous":
                changed |= _raise_to(start, second, start[first])
                changed |= _raise_to(start, first, start[second])
            else:
                changed |= _raise_to(start, second, rounded(start[first] + sync.min_gap))
                if sync.max_gap is not None:
                    changed |= _raise_to(start, first, rounded(start[second] - sync.max_gap))
        if not changed:
            return start
    raise ValueError("the caregiver sequences admit no schedule (synchronisations conflict)")


def _raise_to(start: dict[tuple[str, str], float], key: tuple[str, str], value: float) -> bool:
    if value > start[key] + 1e-9:
        start[key] = value
        return True
    return False


def _synchronised_pairs(
    instance: MankowskaInstance, scheduled: Mapping[tuple[str, str], float]
) -> list[tuple[tuple[str, str], tuple[str, str], Synchronization]]:
    pairs = []
    for patient in instance.patients:
        if patient.synchronization is None or len(patient.services) != 2:
            continue
        first, second = ((patient.id, required.service) for required in patient.services)
        if first in scheduled and second in scheduled:
            pairs.append((first, second, patient.synchronization))
    return pairs


def solution_to_plan(
    instance: MankowskaInstance,
    problem: Problem,
    solution: MankowskaSolution,
    time_scale: int = 1,
) -> Plan:
    """A published solution as a matcher plan: the same routes, each service at the earliest
    whole tick the routes allow (`earliest_starts`), so a fractional published start becomes
    the next tick or a little later."""
    sequences = {
        route.caregiver: [(stop.patient, stop.service) for stop in route.stops]
        for route in solution.routes
    }
    starts = earliest_starts(instance, sequences, time_scale=time_scale)
    visits = []
    for route in solution.routes:
        for stop in route.stops:
            need = problem.need_by_id[need_id(stop.patient, stop.service)]
            start = round(starts[(stop.patient, stop.service)] * time_scale)
            visits.append(
                Visit(
                    need=need.id,
                    recipient=stop.patient,
                    service=stop.service,
                    occurrence=1,
                    day=BENCHMARK_DAY,
                    date=problem.date_of(BENCHMARK_DAY),
                    start=start,
                    end=start + problem.duration_of(need),
                    volunteers=[route.caregiver],
                )
            )
    visits.sort(key=lambda visit: (visit.start, visit.need))
    return Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=visits,
        solver=SolverInfo(solver="published", status="MANUAL"),
    )


def plan_to_solution(
    instance: MankowskaInstance, plan: Plan, time_scale: int = 1, retime: bool = False
) -> dict[str, Any]:
    """A matcher plan in the published solution format, its times converted back to minutes.

    With `retime`, each caregiver keeps the plan's order of services but every service starts
    at the earliest exact (fractional) minute the published rules allow (`earliest_starts`):
    the same routes without the rounding of matcher's whole ticks, never a higher cost.
    """
    by_caregiver: dict[str, list[Visit]] = defaultdict(list)
    for visit in plan.visits:
        expected = instance.duration(visit.recipient, visit.service) * time_scale
        if abs((visit.end - visit.start) - expected) > TIME_TOLERANCE_MIN:
            raise ValueError(
                f"visit {visit.need} lasts {visit.end - visit.start} ticks, not {expected}: "
                f"is the time scale {time_scale} the one the problem was built with?"
            )
        for volunteer in visit.volunteers:
            by_caregiver[volunteer].append(visit)
    sequences = {
        caregiver: sorted(visits, key=lambda visit: (visit.start, visit.need))
        for caregiver, visits in by_caregiver.items()
    }
    starts = {
        (visit.recipient, visit.service): visit.start / time_scale
        for visits in sequences.values()
        for visit in visits
    }
    if retime:
        starts = earliest_starts(
            instance,
            {
                caregiver: [(visit.recipient, visit.service) for visit in visits]
                for caregiver, visits in sequences.items()
            },
        )
    routes: list[dict[str, Any]] = []
    for caregiver in instance.caregivers:
        route: dict[str, Any] = {"caregiver_id": caregiver.id}
        locations = []
        for visit in sequences.get(caregiver.id, []):
            start = starts[(visit.recipient, visit.service)]
            locations.append(
                {
                    "arrival_time": start,
                    "departure_time": start + instance.duration(visit.recipient, visit.service),
                    "patient": visit.recipient,
                    "service": visit.service,
                }
            )
        if locations:
            route["locations"] = locations
        routes.append(route)
    first_start: dict[str, float] = {}
    for (patient, _service), start in starts.items():
        first_start[patient] = min(first_start.get(patient, start), start)
    ordering = sorted(first_start, key=lambda patient: (first_start[patient], patient))
    return {"global_ordering": ordering, "routes": routes}


def family_of(name: str) -> str:
    """A to G from an instance name such as `InstanzVNS_HCSRP_100_3`."""
    match = re.search(r"_HCSRP_(\d+)_\d+$", name)
    if match is None:
        return "?"
    return FAMILY_BY_PATIENTS.get(int(match.group(1)), "?")


__all__ = [
    "BestKnown",
    "Caregiver",
    "CaregiverRoute",
    "Cost",
    "MankowskaInstance",
    "MankowskaSolution",
    "Patient",
    "RequiredService",
    "ServiceStop",
    "Synchronization",
    "earliest_starts",
    "family_of",
    "instance_name",
    "load_best_known",
    "load_instance",
    "load_solution",
    "need_id",
    "official_cost",
    "official_weights",
    "parse_solution",
    "plan_to_solution",
    "solution_to_plan",
    "solution_violations",
    "to_problem",
]
