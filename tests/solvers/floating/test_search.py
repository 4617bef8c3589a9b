"""The search: its fast insertion checks against the reference evaluator, and improve()."""

from __future__ import annotations

import math
import random
import time

import numpy as np
import pytest

from matcher.solvers.floating.model import (
    DayRoutes,
    Group,
    Stop,
    Vehicle,
    Weights,
    Window,
    cost,
    feasible,
    schedule,
)
from matcher.solvers.floating.search import (
    SearchLimits,
    _Engine,
    _load,
    _nearest,
    _Route,
    _Search,
    construct,
    improve,
)


def random_windows(rng: random.Random, soft: bool) -> tuple[Window, ...]:
    """One to three disjoint windows in a 0..480 day, soft (due < latest) now and then."""
    count = rng.choice([1, 1, 2, 3])
    cuts = sorted(rng.sample(range(0, 480), 2 * count))
    windows = []
    for earliest, latest in zip(cuts[::2], cuts[1::2], strict=True):
        due = rng.randint(earliest, latest) if soft and rng.random() < 0.5 else latest
        windows.append(Window(earliest, due, latest))
    return tuple(windows)


def random_day(seed: int, *, soft: bool = False, limits: bool = True) -> DayRoutes:
    """A random day: 12-20 places in a 6 km square, 3-4 vehicles in 2-3 groups, every rule."""
    rng = random.Random(seed)
    places = rng.randint(12, 20)
    xy = np.array([[rng.uniform(0, 6000), rng.uniform(0, 6000)] for _ in range(places)])
    distance = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    travel = distance / 83.3  # about 5 km/h: fractional minutes
    vehicle_count = rng.randint(3, 4)
    groups = [
        Group(
            capacity=rng.choice([None, 6, 9]) if limits else None,
            max_stops=rng.choice([None, 4, 6]) if limits else None,
            max_work_min=rng.choice([None, 200.0, 320.0]) if limits else None,
        )
        for _ in range(rng.randint(2, 3))
    ]
    vehicles = []
    for number in range(vehicle_count):
        opens = rng.choice([0, 60, 120])
        vehicles.append(
            Vehicle(
                start_place=number % 2,
                end_place=rng.choice([number % 2, 1 - number % 2]),
                opens_min=opens,
                closes_min=opens + rng.choice([240, 360, 480]),
                group=number % len(groups),
                max_leg_m=rng.choice([None, 5000.0]) if limits else None,
                max_route_m=rng.choice([None, 14000.0]) if limits else None,
            )
        )
    stops = [
        Stop(
            place=rng.randrange(2, places),
            duration_min=rng.choice([10, 20, 30, 45]),
            windows=random_windows(rng, soft),
            load=rng.randint(0, 3),
            prize=rng.choice([0.0, 500.0, 20000.0]),
            required=rng.random() < 0.4,
            vehicles=frozenset(rng.sample(range(vehicle_count), 2))
            if rng.random() < 0.3
            else frozenset(),
        )
        for _ in range(rng.randint(8, 16))
    ]
    day = DayRoutes(
        stops=stops,
        vehicles=vehicles,
        groups=groups,
        distance_m=distance,
        travel_min=travel,
        weights=Weights(per_m=0.01, per_work_min=0.5, per_late_min=2.0 if soft else 0.0),
        routes=[[] for _ in vehicles],
    )
    day.routes = construct(day)
    # the stops that fit nowhere become optional, so the day is feasible
    routed = {index for route in day.routes for index in route}
    day.stops = [
        stop if index in routed else Stop(**{**_fields(stop), "required": False})
        for index, stop in enumerate(stops)
    ]
    return day


def _fields(stop: Stop) -> dict[str, object]:
    return {name: getattr(stop, name) for name in Stop.__slots__}


def rule_breaks(day: DayRoutes, routes: list[list[int]]) -> list[str]:
    """feasible() without the complaints about required stops left out on purpose."""
    return [problem for problem in feasible(day, routes) if "is not routed" not in problem]


@pytest.mark.parametrize("soft", [False, True])
def test_every_insertion_agrees_with_the_reference(soft: bool) -> None:
    checked = fits = 0
    for seed in range(40):
        day = random_day(seed, soft=soft)
        rng = random.Random(seed)
        routes = [list(route) for route in day.routes]
        routed = [index for route in routes for index in route]
        for index in rng.sample(routed, min(3, len(routed))):
            for route in routes:
                if index in route:
                    route.remove(index)
        if rule_breaks(day, routes):
            continue  # a removal that breaks a rule (the search refuses those)
        engine = _Engine(day)
        _load(engine, routes)
        base = cost(day, routes)
        out = [i for i in range(len(day.stops)) if all(i not in route for route in routes)]
        for index in out:
            found = engine.insertion_costs(index, None)
            best = math.inf
            for vehicle in range(len(day.vehicles)):
                for position in range(len(routes[vehicle]) + 1):
                    trial = [list(route) for route in routes]
                    trial[vehicle].insert(position, index)
                    fine = not rule_breaks(day, trial)
                    checked += 1
                    if found is None:
                        assert not fine, (seed, index, vehicle, position)
                        continue
                    delta, start = found
                    fast = float(delta[vehicle, position])
                    assert math.isfinite(fast) == fine, (seed, index, vehicle, position)
                    if not fine:
                        continue
                    fits += 1
                    assert (
                        int(start[vehicle, position])
                        == schedule(day, vehicle, trial[vehicle])[position]
                    )
                    pushed = engine.pushed_lateness(
                        index, vehicle, position, int(start[vehicle, position])
                    )
                    exact = fast + day.weights.per_late_min * pushed - day.stops[index].prize
                    assert exact == pytest.approx(cost(day, trial) - base, abs=1e-6)
                    best = min(best, exact)
            chosen = engine.best_insertion(index, None)
            assert (chosen is None) == (best == math.inf)
            if chosen is not None:
                assert chosen[0] == pytest.approx(best, abs=1e-6)
    assert checked > 2000 and fits > 200


def assert_same_positions(engine: _Engine, day: DayRoutes, routes: list[list[int]]) -> None:
    """The engine's position arrays are those of a fresh engine on the same routes."""
    fresh = _Engine(day)
    _load(fresh, routes)
    for vehicle, route in enumerate(routes):
        used = slice(0, len(route) + 1)
        for name in ("prev_place", "next_place", "prev_end_early", "next_bound", "base_distance"):
            mine = getattr(engine, name)[vehicle, used]
            assert mine == pytest.approx(getattr(fresh, name)[vehicle, used]), name
        assert (engine.next_bound[vehicle, len(route) + 1 :] == -np.inf).all()
    assert engine.group_load == pytest.approx(fresh.group_load)
    assert engine.group_work == pytest.approx(fresh.group_work)


def test_every_removal_and_reinsertion_keeps_the_engine_exact() -> None:
    for seed in range(15):
        day = random_day(seed, soft=seed % 2 == 1)
        engine = _Engine(day)
        _load(engine, day.routes)
        rng = random.Random(seed)
        for _ in range(30):
            routes = [list(route.stops) for route in engine.routes]
            assert engine.total() == pytest.approx(cost(day, routes), abs=1e-6)
            vehicle = rng.randrange(len(routes))
            if routes[vehicle] and rng.random() < 0.5:
                routes[vehicle].pop(rng.randrange(len(routes[vehicle])))
                route = engine.evaluate(vehicle, routes[vehicle])
                assert (route is None) == bool(rule_breaks(day, routes))
                if route is not None:
                    engine.install(vehicle, route)
                continue
            out = [i for i in range(len(day.stops)) if all(i not in r for r in routes)]
            if out:
                index = rng.choice(out)
                found = engine.best_insertion(index, None)
                if found is not None:
                    engine.insert(index, found[1], found[2])
                    routes = [list(route.stops) for route in engine.routes]
                    assert rule_breaks(day, routes) == []
                    incremental = engine.routes[found[1]]
                    full = engine.evaluate(found[1], incremental.stops)
                    assert full is not None
                    assert (incremental.starts, incremental.latest) == (full.starts, full.latest)
                    assert incremental.cost == pytest.approx(full.cost, abs=1e-6)
                    assert incremental.work_min == pytest.approx(full.work_min, abs=1e-6)
                    assert_same_positions(engine, day, routes)


def test_improve_never_returns_worse_or_infeasible_and_repeats() -> None:
    for seed in range(12):
        day = random_day(seed, soft=seed % 3 == 0)
        limits = SearchLimits(deadline=time.monotonic() + 60, iterations=150, seed=seed)
        first = improve(day, limits)
        again = improve(day, limits)
        assert feasible(day, first.routes) == []
        assert first.cost <= cost(day, day.routes) + 1e-9
        assert first.cost == pytest.approx(cost(day, first.routes))
        assert first.initial_cost == pytest.approx(cost(day, day.routes))
        assert first.routes == again.routes and first.iterations == 150
        for vehicle, route in enumerate(first.routes):
            assert first.starts[vehicle] == schedule(day, vehicle, route)


def two_sides_day() -> DayRoutes:
    """Two clusters of stops, one vehicle per cluster, the incoming routes crossed over; a
    place far from both (8)."""
    xy = np.array([[0.0, 0.0], [0, 1000], [0, 1100], [0, 1200], [5000, 0], [5000, 100]])
    xy = np.vstack([xy, [[5000, 200], [5000, 300], [0, 20000]]])
    distance = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    anytime = (Window(0, 600, 600),)
    stops = [Stop(place, 5, anytime) for place in (1, 2, 3, 5, 6, 7)]
    return DayRoutes(
        stops=stops,
        vehicles=[Vehicle(0, 0, 0, 600, 0), Vehicle(4, 4, 0, 600, 1)],
        groups=[Group(), Group()],
        distance_m=distance,
        travel_min=distance / 100.0,
        weights=Weights(),
        routes=[[0, 4, 2], [3, 1, 5]],
    )


def test_improve_untangles_two_crossed_routes() -> None:
    day = two_sides_day()
    result = improve(day, SearchLimits(deadline=time.monotonic() + 60, iterations=300))
    assert sorted(sorted(route) for route in result.routes) == [[0, 1, 2], [3, 4, 5]]
    assert result.cost < result.initial_cost and result.improvements >= 1


def test_fixed_stops_keep_their_vehicle_and_start() -> None:
    day = two_sides_day()
    stops = list(day.stops)
    stops[4] = Stop(6, 5, (Window(0, 600, 600),), fixed=(0, 200))
    day.stops = stops
    day.routes = [[0, 4, 2], [3, 1, 5]]
    result = improve(day, SearchLimits(deadline=time.monotonic() + 60, iterations=300))
    assert feasible(day, result.routes) == []
    assert 4 in result.routes[0]
    assert result.starts[0][result.routes[0].index(4)] == 200


def test_optional_stops_go_in_when_their_prize_pays() -> None:
    day = two_sides_day()
    anytime = (Window(0, 600, 600),)
    day.stops = [*day.stops, Stop(3, 5, anytime, prize=5000.0, required=False)]
    day.stops.append(Stop(8, 5, anytime, prize=1.0, required=False))  # 38 km away
    day.routes = [[0, 1, 2], [3, 4, 5]]
    result = improve(day, SearchLimits(deadline=time.monotonic() + 60, iterations=300))
    routed = {index for route in result.routes for index in route}
    assert 6 in routed and 7 not in routed


def test_optional_stops_get_in_from_empty_routes() -> None:
    day = two_sides_day()
    day.stops = [
        Stop(stop.place, stop.duration_min, stop.windows, prize=20000.0, required=False)
        for stop in day.stops
    ]
    day.routes = [[], []]
    result = improve(day, SearchLimits(deadline=time.monotonic() + 60, iterations=200))
    assert sorted(index for route in result.routes for index in route) == list(range(6))
    assert feasible(day, result.routes) == []


def test_construct_routes_every_stop_that_fits() -> None:
    day = two_sides_day()
    day.routes = [[], []]
    routes = construct(day)
    assert feasible(day, routes) == []


def test_stop_callback_and_deadline_end_the_search() -> None:
    day = random_day(3)
    result = improve(day, SearchLimits(deadline=time.monotonic() + 60), stop=lambda: True)
    assert result.iterations == 0 and result.routes == day.routes
    past = improve(day, SearchLimits(deadline=time.monotonic() - 1))
    assert past.iterations == 0


def test_nearest_stops_are_the_nearest_in_order() -> None:
    rng = np.random.default_rng(5)
    distance = rng.random((40, 40))
    np.fill_diagonal(distance, 0.0)
    near = _nearest(distance, 7)
    for row, columns in enumerate(near):
        assert columns == np.argsort(distance[row], kind="stable")[:7].tolist()
    assert _nearest(distance, 50) == np.argsort(distance, axis=1, kind="stable").tolist()


def test_infeasible_incoming_routes_are_refused() -> None:
    day = two_sides_day()
    day.routes = [[0, 1], [3, 4, 5]]
    with pytest.raises(ValueError, match="required stop 2 is not routed"):
        improve(day, SearchLimits(deadline=time.monotonic() + 1))


def test_a_removal_that_would_break_a_leg_limit_is_refused() -> None:
    # places on a line 0, 4 km, 8 km; legs at most 5 km: 0 -> 8 km without the middle breaks it
    xy = np.array([[0.0, 0.0], [4000, 0], [8000, 0]])
    distance = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    anytime = (Window(0, 600, 600),)
    day = DayRoutes(
        stops=[Stop(1, 5, anytime), Stop(2, 5, anytime)],
        vehicles=[Vehicle(0, 1, 0, 600, 0, max_leg_m=5000.0)],
        groups=[Group()],
        distance_m=distance,
        travel_min=distance / 100.0,
        weights=Weights(),
        routes=[[0, 1]],
    )
    engine = _Engine(day)
    _load(engine, day.routes)
    search = _Search(engine, SearchLimits(deadline=0.0))
    changed: dict[int, _Route] = {}
    assert search._take([0], changed) == []
    assert engine.routes[0].stops == (0, 1) and not changed
    assert search._take([1], changed) == [1]
    assert engine.routes[0].stops == (0,)


def test_two_opt_star_exchanges_keep_every_rule_and_the_cost_exact() -> None:
    applied = 0
    for seed in range(30):
        day = random_day(seed, soft=seed % 2 == 1)
        engine = _Engine(day)
        _load(engine, day.routes)
        search = _Search(engine, SearchLimits(deadline=0.0, seed=seed))
        for _ in range(20):
            changed: dict[int, _Route] = {}
            before = [list(route.stops) for route in engine.routes]
            if not search.two_opt_star(changed):
                search.undo(changed)
                assert [list(route.stops) for route in engine.routes] == before
                continue
            routes = [list(route.stops) for route in engine.routes]
            assert rule_breaks(day, routes) == []
            assert sorted(i for r in routes for i in r) == sorted(i for r in before for i in r)
            assert engine.total() == pytest.approx(cost(day, routes), abs=1e-6)
            assert search.where == {i: v for v, r in enumerate(routes) for i in r}
            applied += 1
    assert applied > 30
