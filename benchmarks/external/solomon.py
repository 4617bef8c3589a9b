"""Solomon's VRPTW instances: loader, DIMACS distance, best-known route sets, plan conversion.

An instance (`C101.txt`): a fleet of identical vehicles with a capacity; customers with
coordinates, demand, a window `[ready, due]` for the start of service and a service time;
customer 0 is the depot, whose window is the planning horizon. Every customer is served once,
at most the given number of vehicles is used, a vehicle's load stays within its capacity and it
is back at the depot by the depot's due time. Travel time equals distance. Under the DIMACS
convention each edge's Euclidean distance is truncated to one decimal; the objective is the
total distance (the number of vehicles is only limited, not minimised).

In matcher a customer is a recipient with one mandatory need, load = demand, a hard window:
the start window `[ready, due]` of a service lasting `s` becomes `[ready, due + s]` (clipped to
the horizon). Vehicles are identical volunteers with the capacity, starting and ending at the
depot, available over the depot's window. Coordinates, windows and service times are whole
minutes; DIMACS distances have one decimal, so with whole-minute starts (`time_scale=1`) some
best-known route sets are not feasible in matcher; `time_scale=10` counts tenths of a minute
and keeps every published route set feasible.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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
from matcher.models.common import MINUTES_PER_DAY

COVERAGE_WEIGHT = 100_000.0
"""Points per planned visit: far above the distance any single customer can add."""

SERVICE_ID = "delivery"
TIME_TOLERANCE_MIN = 1e-6

Routes = Sequence[Sequence[int]]
"""Route sets: each route the customer numbers in order, without the depot."""


@dataclass(frozen=True)
class Customer:
    """A line of the instance: customer 0 is the depot."""

    number: int
    x: int
    y: int
    demand: int
    ready: int
    due: int
    service: int


@dataclass(frozen=True)
class SolomonInstance:
    """An instance: fleet size, capacity and customers (index = customer number)."""

    name: str
    vehicles: int
    capacity: int
    customers: tuple[Customer, ...]

    @property
    def depot(self) -> Customer:
        """Customer 0, whose window is the planning horizon."""
        return self.customers[0]

    @property
    def family(self) -> str:
        """C1, C2, R1, R2, RC1 or RC2."""
        return family_of(self.name)

    def distance(self, origin: int, destination: int) -> float:
        """The DIMACS distance between two customers: Euclidean, truncated to one decimal."""
        return dimacs_distance(self.customers[origin], self.customers[destination])


@dataclass(frozen=True)
class SolomonSolution:
    """A `.sol` file: routes of customer numbers, and the cost it states."""

    routes: tuple[tuple[int, ...], ...]
    stated_cost: float | None


def dimacs_distance(a: Customer, b: Customer) -> float:
    """Euclidean distance truncated (not rounded) to one decimal, exactly in tenths."""
    tenths = math.floor(math.hypot(a.x - b.x, a.y - b.y) * 10 + 1e-9)
    return tenths / 10


def family_of(name: str) -> str:
    """`RC1` for `RC105`, `C2` for `C201`."""
    match = re.match(r"^(RC|R|C)(\d)", name.upper())
    return match.group(1) + match.group(2) if match else "?"


def load_instance(path: str | Path) -> SolomonInstance:
    """Read an instance in Solomon's text format."""
    lines = Path(path).read_text().splitlines()
    vehicles = capacity = None
    customers: list[Customer] = []
    for index, line in enumerate(lines):
        words = line.split()
        if words[:1] == ["NUMBER"] and vehicles is None:
            vehicles, capacity = (int(word) for word in lines[index + 1].split())
        elif len(words) == 7 and all(word.lstrip("-").isdigit() for word in words):
            number, x, y, demand, ready, due, service = (int(word) for word in words)
            customers.append(Customer(number, x, y, demand, ready, due, service))
    if vehicles is None or capacity is None:
        raise ValueError(f"{path}: no VEHICLE section with NUMBER and CAPACITY")
    if [customer.number for customer in customers] != list(range(len(customers))):
        raise ValueError(f"{path}: customers are not numbered 0, 1, 2, ... in order")
    return SolomonInstance(
        name=Path(path).stem, vehicles=vehicles, capacity=capacity, customers=tuple(customers)
    )


def load_solution(path: str | Path) -> SolomonSolution:
    """Read a `.sol` file: `Route #k: c1 c2 ...` lines and a `Cost X` line."""
    routes: list[tuple[int, ...]] = []
    stated_cost = None
    for line in Path(path).read_text().splitlines():
        if line.startswith("Route"):
            routes.append(tuple(int(word) for word in line.split(":", 1)[1].split()))
        elif line.startswith("Cost"):
            stated_cost = float(line.split()[1])
    return SolomonSolution(routes=tuple(routes), stated_cost=stated_cost)


def load_best_known(path: str | Path) -> dict[str, tuple[int, float]]:
    """`bks.csv`: instance name to (vehicles, DIMACS cost)."""
    with Path(path).open(newline="") as handle:
        return {
            row["instance"]: (int(row["routes"]), float(row["cost_dimacs_1dec"]))
            for row in csv.DictReader(handle)
        }


def solution_cost(instance: SolomonInstance, routes: Routes) -> float:
    """Total DIMACS distance of the non-empty routes, depot to depot (exact in tenths)."""
    tenths = 0
    for route in routes:
        if not route:
            continue
        stops = [0, *route, 0]
        tenths += sum(round(instance.distance(a, b) * 10) for a, b in itertools.pairwise(stops))
    return tenths / 10


def solution_violations(instance: SolomonInstance, routes: Routes) -> list[str]:
    """Every rule of the VRPTW these routes break (empty: a valid solution)."""
    problems: list[str] = []
    used = [route for route in routes if route]
    if len(used) > instance.vehicles:
        problems.append(f"{len(used)} vehicles used, only {instance.vehicles} available")
    known = range(1, len(instance.customers))
    visits: dict[int, int] = defaultdict(int)
    for number, route in enumerate(used, start=1):
        unknown = [customer for customer in route if customer not in known]
        if unknown:
            problems.append(f"route {number} visits unknown customers {unknown}")
            continue
        load = sum(instance.customers[customer].demand for customer in route)
        if load > instance.capacity:
            problems.append(f"route {number} carries {load} > capacity {instance.capacity}")
        for customer, start in zip(route, earliest_route_starts(instance, route), strict=True):
            visits[customer] += 1
            if start > instance.customers[customer].due + TIME_TOLERANCE_MIN:
                problems.append(f"route {number}: customer {customer} starts late at {start:.1f}")
        if route_return_time(instance, route) > instance.depot.due + TIME_TOLERANCE_MIN:
            problems.append(f"route {number} returns after the depot closes")
    problems.extend(
        f"customer {number} served {visits.get(number, 0)} times, not once"
        for number in known
        if visits.get(number, 0) != 1
    )
    return problems


def earliest_route_starts(
    instance: SolomonInstance, route: Sequence[int], time_scale: int | None = None
) -> list[float]:
    """Service starts (minutes) when the vehicle leaves the depot at its ready time and waits
    for each window to open; with `time_scale`, starts are whole ticks (rounded up)."""
    starts: list[float] = []
    time, previous = float(instance.depot.ready), 0
    for customer in route:
        arrival = time + instance.distance(previous, customer)
        if time_scale is not None:
            arrival = math.ceil(arrival * time_scale - TIME_TOLERANCE_MIN) / time_scale
        start = max(arrival, float(instance.customers[customer].ready))
        starts.append(start)
        time, previous = start + instance.customers[customer].service, customer
    return starts


def route_return_time(instance: SolomonInstance, route: Sequence[int]) -> float:
    """When the vehicle is back at the depot, serving as early as possible."""
    if not route:
        return float(instance.depot.ready)
    last = route[-1]
    start = earliest_route_starts(instance, route)[-1]
    return start + instance.customers[last].service + instance.distance(last, 0)


def recipient_id(customer: int) -> str:
    """The matcher recipient of a customer."""
    return f"c{customer}"


def need_id(customer: int) -> str:
    """The matcher need of a customer."""
    return f"c{customer}-visit"


def vehicle_id(index: int) -> str:
    """The matcher volunteer of a vehicle (1-based)."""
    return f"v{index}"


def to_problem(instance: SolomonInstance, time_scale: int = 1) -> Problem:
    """The instance as a one-day matcher problem whose objective is the total distance.

    Times are in ticks of 1/`time_scale` minute (1: minutes); distances stay as published.
    """
    if time_scale < 1:
        raise ValueError("time_scale must be a positive whole number of ticks per minute")
    depot = instance.depot
    check_horizon(depot.due, time_scale, instance.name)
    horizon_start = whole_ticks(depot.ready, time_scale, "depot ready time")
    horizon_end = whole_ticks(depot.due, time_scale, "depot due time")
    day_length = max(MINUTES_PER_DAY, horizon_end)
    typical_service = next((c.service for c in instance.customers[1:] if c.service > 0), 1)
    recipients = []
    for customer in instance.customers[1:]:
        duration = whole_ticks(customer.service, time_scale, f"customer {customer.number} service")
        opens = whole_ticks(customer.ready, time_scale, f"customer {customer.number} ready")
        closes = whole_ticks(customer.due, time_scale, f"customer {customer.number} due") + duration
        recipients.append(
            Recipient(
                id=recipient_id(customer.number),
                location=Location(
                    x_m=customer.x, y_m=customer.y, place=recipient_id(customer.number)
                ),
                needs=[
                    Need(
                        id=need_id(customer.number),
                        service=SERVICE_ID,
                        duration_min=duration,
                        windows=[
                            TimeWindow(
                                day=BENCHMARK_DAY,
                                start=max(opens, horizon_start),
                                end=min(closes, horizon_end),
                            )
                        ],
                        mandatory=True,
                        load=customer.demand,
                    )
                ],
            )
        )
    depot_location = Location(x_m=depot.x, y_m=depot.y, place="depot")
    volunteers = [
        Volunteer(
            id=vehicle_id(index),
            home=depot_location,
            start_location=depot_location,
            capacity=instance.capacity,
            availability=[TimeWindow(day=BENCHMARK_DAY, start=horizon_start, end=horizon_end)],
        )
        for index in range(1, instance.vehicles + 1)
    ]
    places = ["depot", *(recipient_id(c.number) for c in instance.customers[1:])]
    size = len(instance.customers)
    distances = [[instance.distance(a, b) for b in range(size)] for a in range(size)]
    return Problem(
        name=instance.name,
        week_start=dt.date.fromisoformat(BENCHMARK_WEEK_START),
        services=[
            Service(
                id=SERVICE_ID,
                name="Solomon customer visit",
                duration_min=whole_ticks(typical_service, time_scale, "service time"),
            )
        ],
        recipients=recipients,
        volunteers=volunteers,
        day_length_min=day_length,
        policy=Policy(weights=distance_weights()),
        travel=TravelSettings(
            method="matrix",
            matrix=TravelMatrix(
                places=places,
                distance_m=distances,
                travel_min=[[value * time_scale for value in row] for row in distances],
            ),
        ),
    )


def distance_weights() -> PolicyWeights:
    """Weights under which a plan's objective is its total distance (plus a coverage reward)."""
    return PolicyWeights(
        coverage=COVERAGE_WEIGHT,
        travel_per_km=1000.0,
        continuity=0.0,
        fairness=0.0,
        volunteer_cost_per_hour=0.0,
        staff_cost_per_hour=0.0,
        lateness_per_min=0.0,
        max_lateness_per_min=0.0,
    )


def plan_to_routes(instance: SolomonInstance, plan: Plan) -> list[list[int]]:
    """The plan's route set: each used vehicle's customers in time order."""
    number_of = {need_id(c.number): c.number for c in instance.customers[1:]}
    by_vehicle: dict[str, list[Visit]] = defaultdict(list)
    for visit in plan.visits:
        for volunteer in visit.volunteers:
            by_vehicle[volunteer].append(visit)
    order = {vehicle_id(index): index for index in range(1, instance.vehicles + 1)}
    return [
        [number_of[visit.need] for visit in sorted(visits, key=lambda v: (v.start, v.need))]
        for vehicle, visits in sorted(by_vehicle.items(), key=lambda item: order.get(item[0], 0))
    ]


def solution_to_plan(
    instance: SolomonInstance, problem: Problem, routes: Routes, time_scale: int = 1
) -> Plan:
    """A route set as a matcher plan, each service at the earliest whole tick it can start."""
    visits = []
    for index, route in enumerate(route for route in routes if route):
        starts = earliest_route_starts(instance, route, time_scale=time_scale)
        for customer, start_min in zip(route, starts, strict=True):
            need = problem.need_by_id[need_id(customer)]
            start = round(start_min * time_scale)
            visits.append(
                Visit(
                    need=need.id,
                    recipient=recipient_id(customer),
                    service=need.service,
                    occurrence=1,
                    day=BENCHMARK_DAY,
                    date=problem.date_of(BENCHMARK_DAY),
                    start=start,
                    end=start + problem.duration_of(need),
                    volunteers=[vehicle_id(index + 1)],
                )
            )
    visits.sort(key=lambda visit: (visit.start, visit.need))
    return Plan(
        problem_name=problem.name,
        week_start=problem.week_start,
        visits=visits,
        solver=SolverInfo(solver="published", status="MANUAL"),
    )


def format_solution(routes: Routes, cost: float) -> str:
    """A route set in the `.sol` format."""
    lines = [
        f"Route #{number}: {' '.join(str(customer) for customer in route)}"
        for number, route in enumerate((route for route in routes if route), start=1)
    ]
    return "\n".join([*lines, f"Cost {cost:.1f}"]) + "\n"


__all__ = [
    "Customer",
    "SolomonInstance",
    "SolomonSolution",
    "dimacs_distance",
    "distance_weights",
    "earliest_route_starts",
    "family_of",
    "format_solution",
    "load_best_known",
    "load_instance",
    "load_solution",
    "need_id",
    "plan_to_routes",
    "recipient_id",
    "route_return_time",
    "solution_cost",
    "solution_to_plan",
    "solution_violations",
    "to_problem",
    "vehicle_id",
]
