"""Linked stops and the day's largest lateness: the joint reference schedule, and the search's
joint timing (its pushes across routes) held to it."""

from __future__ import annotations

import math
import random
import time

import numpy as np
import pytest

from matcher.solvers.floating.model import (
    DayRoutes,
    Group,
    Link,
    Stop,
    Vehicle,
    Weights,
    Window,
    cost,
    feasible,
    schedule_day,
)
from matcher.solvers.floating.search import (
    TWO_OPT_SHARE,
    SearchLimits,
    _Engine,
    _load,
    _Route,
    _Search,
    construct,
    improve,
)


def _line_day(stops: list[Stop], links: list[Link], vehicles: int = 2) -> DayRoutes:
    """Places 0 (the depot) to 4 on a line, 1 km (10 minutes) apart; a group per vehicle."""
    xy = np.arange(5, dtype=float) * 1000.0
    distance = np.abs(xy[:, None] - xy[None, :])
    return DayRoutes(
        stops=stops,
        vehicles=[Vehicle(0, 0, 0, 600, number) for number in range(vehicles)],
        groups=[Group() for _ in range(vehicles)],
        distance_m=distance,
        travel_min=distance / 100.0,
        weights=Weights(per_m=0.001, per_late_min=1.0, per_max_late_min=1.0),
        routes=[[] for _ in range(vehicles)],
        links=links,
    )


def _stop(place: int, earliest: int = 0, due: int = 600, duration: int = 20) -> Stop:
    return Stop(place=place, duration_min=duration, windows=(Window(earliest, due, 600),))


def test_a_simultaneous_pair_starts_together_and_the_earlier_caregiver_waits() -> None:
    # vehicle 0 reaches place 1 at 10, vehicle 1 reaches it at 50 (via place 4 at 40)
    stops = [_stop(1), _stop(1), _stop(4, duration=0)]
    day = _line_day(stops, [Link(0, 1)])
    routes = [[0], [2, 1]]
    assert schedule_day(day, routes) == [[70], [40, 70]]
    assert feasible(day, routes) == []


def test_a_sequential_pair_keeps_its_gap_and_pushes_the_first_when_the_second_is_late() -> None:
    stops = [_stop(1), _stop(1), _stop(4, earliest=100, duration=10)]
    # the second must start 30 to 40 minutes after the first; vehicle 1 only comes at 140
    day = _line_day(stops, [Link(0, 1, min_gap_min=30, max_gap_min=40)])
    assert schedule_day(day, [[0], [2, 1]]) == [[100], [100, 140]]
    loose = _line_day(stops, [Link(0, 1, min_gap_min=30, max_gap_min=None)])
    assert schedule_day(loose, [[0], [2, 1]]) == [[10], [100, 140]]


def test_two_pairs_in_opposite_orders_cannot_be_timed() -> None:
    stops = [_stop(1), _stop(1), _stop(2), _stop(2)]
    day = _line_day(stops, [Link(0, 1), Link(2, 3)])
    assert schedule_day(day, [[0, 2], [3, 1]]) is None
    assert "the routes cannot be timed together under the links" in feasible(day, [[0, 2], [3, 1]])
    assert cost(day, [[0, 2], [3, 1]]) == math.inf
    assert schedule_day(day, [[0, 2], [1, 3]]) is not None


def test_feasible_names_a_pair_in_one_group_and_a_pair_half_routed() -> None:
    stops = [_stop(1), _stop(1)]
    day = _line_day(stops, [Link(0, 1, min_gap_min=30, max_gap_min=None)])
    assert any("both stops in one group" in problem for problem in feasible(day, [[0, 1], []]))
    day.stops = [Stop(**{**_fields(stop), "required": False}) for stop in stops]
    assert any("only one stop is routed" in problem for problem in feasible(day, [[0], []]))


def test_the_largest_lateness_costs_only_above_its_floor() -> None:
    stops = [_stop(1, due=0), _stop(2, due=0)]
    day = _line_day(stops, [])
    day.weights = Weights(per_m=0.0, per_late_min=0.0, per_max_late_min=2.0)
    routes = [[0, 1], []]
    assert schedule_day(day, routes) == [[10, 40], []]
    assert cost(day, routes) == pytest.approx(80.0)
    day.weights = Weights(per_m=0.0, per_max_late_min=2.0, max_late_floor_min=30.0)
    assert cost(day, routes) == pytest.approx(20.0)


def _fields(stop: Stop) -> dict[str, object]:
    return {name: getattr(stop, name) for name in Stop.__slots__}


def linked_day(seed: int, *, hard_share: float = 0.0) -> DayRoutes:
    """A random Mankowska-like day: a depot, 10-24 patients in a 6 km square, 3-5 caregivers
    (now and then two outings of one caregiver), soft windows, a third of the patients with two
    services linked (simultaneous or within a gap); hard windows now and then."""
    rng = random.Random(seed)
    patients = rng.randint(10, 24)
    xy = np.array([[rng.uniform(0, 6000), rng.uniform(0, 6000)] for _ in range(patients + 1)])
    distance = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    travel = distance / 100.0
    vehicle_count = rng.randint(3, 5)
    group_count = vehicle_count if rng.random() < 0.6 else vehicle_count - 1
    vehicles = [Vehicle(0, 0, 0, 900, number % group_count) for number in range(vehicle_count)]
    stops: list[Stop] = []
    links: list[Link] = []
    for place in range(1, patients + 1):
        earliest = rng.randrange(0, 400)
        due = earliest + rng.choice([30, 60, 120])
        latest = due if rng.random() < hard_share else 800
        window = (Window(earliest, due, latest),)
        eligible = (
            frozenset(rng.sample(range(vehicle_count), 2)) if rng.random() < 0.2 else frozenset()
        )
        stops.append(Stop(place, rng.choice([10, 20, 30]), window, vehicles=eligible))
        if rng.random() < 0.35:
            stops.append(Stop(place, rng.choice([10, 20, 30]), window))
            if rng.random() < 0.5:
                links.append(Link(len(stops) - 2, len(stops) - 1))
            else:
                low = rng.choice([0, 10, 20])
                high = rng.choice([None, low + 20, low + 60])
                links.append(Link(len(stops) - 2, len(stops) - 1, low, high))
    day = DayRoutes(
        stops=stops,
        vehicles=vehicles,
        groups=[Group() for _ in range(group_count)],
        distance_m=distance,
        travel_min=travel,
        weights=Weights(per_m=0.01, per_late_min=1.0, per_max_late_min=rng.choice([0.0, 1.0])),
        routes=[[] for _ in vehicles],
        links=links,
    )
    day.routes = construct(day)
    routed = {index for route in day.routes for index in route}
    assert routed == set(range(len(stops))) or hard_share > 0
    return day


@pytest.mark.parametrize("seed", range(30))
def test_construct_routes_every_linked_stop_feasibly(seed: int) -> None:
    day = linked_day(seed)
    assert feasible(day, day.routes) == []


def _assert_engine_matches_reference(engine: _Engine, day: DayRoutes) -> None:
    routes = [list(route.stops) for route in engine.routes]
    timed = schedule_day(day, routes)
    assert timed is not None
    assert [list(route.starts) for route in engine.routes] == timed
    assert engine.total() == pytest.approx(cost(day, routes), abs=1e-6)


@pytest.mark.parametrize("seed", range(40))
def test_every_joint_insertion_agrees_with_the_reference(seed: int) -> None:
    """Take random stops (and their partners) out, then for every position the screen lets
    through, the exact push's cost equals the reference cost of the routes with the stop there,
    and the push refuses exactly what the reference cannot time; the best one goes in."""
    day = linked_day(seed, hard_share=0.3 if seed % 3 == 0 else 0.0)
    rng = random.Random(seed)
    engine = _Engine(day)
    _load(engine, day.routes)
    _assert_engine_matches_reference(engine, day)
    routed = [index for route in day.routes for index in route]
    taken = set(rng.sample(routed, min(len(routed), rng.randint(1, 6))))
    taken |= {engine.partner[index][0] for index in list(taken) if engine.partner[index]}
    for vehicle, route in enumerate(engine.routes):
        kept = engine.evaluate(vehicle, [stop for stop in route.stops if stop not in taken])
        assert kept is not None
        engine.install(vehicle, kept)
    assert engine.resync({})
    _assert_engine_matches_reference(engine, day)
    checked = 0
    for index in sorted(taken, key=lambda _: rng.random()):
        found = engine.insertion_costs(index, None)
        assert found is not None
        delta, _ = found
        base = engine.total()
        current = [list(route.stops) for route in engine.routes]
        fits = False
        cheapest = math.inf
        for vehicle in range(engine.vehicle_count):
            for position in range(len(current[vehicle]) + 1):
                if not math.isfinite(delta[vehicle, position]):
                    continue
                trial = [list(route) for route in current]
                trial[vehicle].insert(position, index)
                partner = engine.partner[index]
                apart = (
                    partner is None
                    or partner[0] not in engine.vehicle_of
                    or (engine.group_of[engine.vehicle_of[partner[0]]] != engine.group_of[vehicle])
                )
                if not apart:
                    continue
                pushed = engine._push(index, vehicle, position)
                reference = cost(day, trial)
                checked += 1
                if pushed is None:
                    assert reference == math.inf
                    continue
                assert math.isfinite(reference)
                fits = True
                cheapest = min(cheapest, reference - base)
                screened = engine.weights.per_late_min * _screen_late(
                    engine, index, vehicle, position
                )
                exact = (
                    float(delta[vehicle, position])
                    - screened
                    + engine.weights.per_late_min * pushed.late_min
                    + pushed.max_late_cost
                )
                assert base + exact == pytest.approx(reference, abs=1e-6)
        best = engine.best_insertion(index, None)
        assert (best is not None) == fits
        if best is None:
            continue
        # the bounds that order the exact timings never hide the cheapest position
        assert best[0] + engine.prize[index] == pytest.approx(cheapest, abs=1e-6)
        engine.insert(index, best[1], best[2])
        _assert_engine_matches_reference(engine, day)
    assert checked > 0


def _screen_late(engine: _Engine, index: int, vehicle: int, position: int) -> float:
    """The lateness the numpy screen counted for the stop at the position (no push, no
    partner)."""
    found = engine.insertion_costs(index, None)
    assert found is not None
    start = int(found[1][vehicle, position])
    earliest, due, latest = engine.windows[index][0]
    return float(max(0, start - due)) if earliest <= start <= latest else 0.0


@pytest.mark.parametrize("seed", range(12))
def test_improve_keeps_links_and_never_gets_worse(seed: int) -> None:
    day = linked_day(seed)
    result = improve(day, SearchLimits(deadline=time.monotonic() + 30, iterations=300, seed=seed))
    assert feasible(day, result.routes) == []
    assert not result.refused
    assert result.cost <= result.initial_cost + 1e-9
    assert result.cost == pytest.approx(cost(day, result.routes))
    assert result.starts == schedule_day(day, result.routes)
    again = improve(day, SearchLimits(deadline=time.monotonic() + 30, iterations=300, seed=seed))
    assert again.routes == result.routes


def test_improve_moves_linked_pairs_to_lower_the_cost() -> None:
    moved = improved = 0
    for seed in range(12):
        day = linked_day(seed)
        result = improve(
            day, SearchLimits(deadline=time.monotonic() + 30, iterations=300, seed=seed)
        )
        where_before = {i: v for v, route in enumerate(day.routes) for i in route}
        where_after = {i: v for v, route in enumerate(result.routes) for i in route}
        linked = {end for link in day.links for end in (link.first, link.second)}
        assert not result.refused
        improved += result.cost < result.initial_cost - 1e-6
        moved += any(where_before[i] != where_after[i] for i in linked)
    assert improved >= 8
    assert moved >= 6


def test_a_link_on_an_optional_stop_is_refused() -> None:
    stops = [
        _stop(1),
        Stop(place=1, duration_min=10, windows=(Window(0, 600, 600),), required=False),
    ]
    day = _line_day(stops, [Link(0, 1)])
    with pytest.raises(ValueError, match="linked stops must be required"):
        _Engine(day)


@pytest.mark.parametrize("seed", range(16))
def test_every_search_step_and_every_undo_leaves_the_reference_timing(seed: int) -> None:
    """Step by step (2-opt*, or ruin, re-time and recreate), each step kept or undone at random:
    the engine's starts are always the reference timing of its routes. A push that took the
    slack of stops before the inserted one, or an undo that forgot a route the push re-timed
    across a link, left starts no schedule has, and `improve` then threw its best away."""
    day = linked_day(seed, hard_share=0.3 if seed % 3 == 0 else 0.0)
    engine = _Engine(day)
    _load(engine, day.routes)
    search = _Search(engine, SearchLimits(deadline=math.inf, seed=seed))
    coin = random.Random(seed)
    for _ in range(120):
        changed: dict[int, _Route] = {}
        saved = engine.snapshot()
        if search.rng.random() < TWO_OPT_SHARE:
            done = search.two_opt_star(changed)
        else:
            removed = search.ruin(changed)
            done = engine.resync(changed) and search.recreate(removed, changed)
        if not done or coin.random() < 0.5:
            search.undo(changed, saved)
        routes = [list(route.stops) for route in engine.routes]
        assert [list(route.starts) for route in engine.routes] == schedule_day(day, routes)


def test_a_wait_going_round_through_the_stops_before_the_inserted_one_is_refused() -> None:
    """Vehicle 0 serves A then B; vehicle 1 serves C, D and, at 500, E. B and C start
    together or C later; a new stop N after D must start at most 50 minutes after A. N at 90
    pulls A to 40, which pushes B, C, D and N itself by as much, round and round: no schedule.
    D's forward slack (the wait before E) was measured without N after it and must not absorb
    the delay."""
    stops = [
        _stop(1),
        _stop(2),
        _stop(3),
        _stop(4),
        _stop(3, earliest=500),
        _stop(4),
    ]
    links = [Link(1, 2, min_gap_min=0, max_gap_min=None), Link(0, 5, max_gap_min=50)]
    day = _line_day(stops, links)
    day.routes = [[0, 1], [2, 3, 4]]
    engine = _Engine(day)
    _load(engine, day.routes)
    assert [list(route.starts) for route in engine.routes] == [[10, 40], [40, 70, 500]]
    assert engine._fresh_slack(1)[3] > 30
    assert schedule_day(day, [[0, 1], [2, 3, 5, 4]]) is None
    assert engine._push(5, 1, 2) is None
    best = engine.best_insertion(5, None)
    assert best is None or (best[1], best[2]) != (1, 2)


def test_best_routes_the_reference_refuses_give_back_the_incoming_ones_and_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Were the engine and the reference ever to disagree on the best routes, `improve` returns
    the incoming routes and `refused` says so (polish_week counts it)."""
    import matcher.solvers.floating.search as search_module

    day = linked_day(1)
    honest = search_module.feasible
    calls = {"count": 0}

    def feasible_then_refused(day: DayRoutes, routes: list[list[int]]) -> list[str]:
        calls["count"] += 1
        return honest(day, routes) if calls["count"] == 1 else ["refused for the test"]

    monkeypatch.setattr(search_module, "feasible", feasible_then_refused)
    result = improve(day, SearchLimits(deadline=time.monotonic() + 30, iterations=300, seed=1))
    assert result.refused
    assert result.routes == [list(route) for route in day.routes]
    assert result.cost == pytest.approx(result.initial_cost)
