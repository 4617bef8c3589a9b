"""The published reference sets: loaders, official evaluators, conversions to and from matcher.

The data is read from `$MATCHER_BENCHMARK_DATA` (default `../shared/benchmarks` next to the
repository) and never copied here: expected values come from the published files themselves
(`best.md`, `bks.csv`, the `.sol` files, the raw instance text), not from this file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.external import default_data_folder, finest_time_scale, mankowska, solomon
from benchmarks.external import run as external_run
from matcher.checker import check_plan
from matcher.solvers.routing import solve_routing
from tests.helpers import checked

DATA = default_data_folder()
MANKOWSKA = DATA / "hhcrsp-mankowska"
SOLOMON = DATA / "solomon"

pytestmark = pytest.mark.skipif(
    not (MANKOWSKA / "best.md").is_file() or not (SOLOMON / "bks.csv").is_file(),
    reason=f"reference data not found in {DATA} (set MATCHER_BENCHMARK_DATA to the folder "
    "holding hhcrsp-mankowska/ and solomon/)",
)

SMALLEST_MANKOWSKA = "InstanzCPLEX_HCSRP_10_1"
SMALLEST_SOLOMON = "C101"
COST_TOLERANCE = 0.01


def _mankowska_best() -> dict[str, mankowska.BestKnown]:
    if not (MANKOWSKA / "best.md").is_file():
        return {}
    return mankowska.load_best_known(MANKOWSKA / "best.md")


def _solomon_names() -> list[str]:
    return sorted(path.stem for path in SOLOMON.glob("*.sol")) if SOLOMON.is_dir() else []


def _mankowska_paths() -> list[Path]:
    return sorted((MANKOWSKA / "instances").glob("*.json")) if MANKOWSKA.is_dir() else []


def test_mankowska_loader_reads_every_field_of_the_smallest_instance() -> None:
    path = MANKOWSKA / "instances" / f"{SMALLEST_MANKOWSKA}.json"
    raw = json.loads(path.read_text())
    instance = mankowska.load_instance(path)

    assert instance.name == SMALLEST_MANKOWSKA
    assert instance.family == "A"
    assert len(instance.patients) == 10 == len(raw["patients"])
    for index, (patient, raw_patient) in enumerate(
        zip(instance.patients, raw["patients"], strict=True), start=1
    ):
        assert patient.id == raw_patient["id"]
        assert patient.matrix_index == index
        assert (patient.x, patient.y) == tuple(raw_patient["location"])
        assert (patient.window_start, patient.window_end) == tuple(raw_patient["time_window"])
        assert [(s.service, s.duration) for s in patient.services] == [
            (s["service"], s["duration"]) for s in raw_patient["required_caregivers"]
        ]
        raw_sync = raw_patient.get("synchronization")
        if raw_sync is None:
            assert patient.synchronization is None
        else:
            assert patient.synchronization is not None
            assert patient.synchronization.kind == raw_sync["type"]
            if raw_sync["type"] == "sequential":
                gaps = (patient.synchronization.min_gap, patient.synchronization.max_gap)
                assert gaps == tuple(raw_sync["distance"])
    kinds = {p.synchronization.kind for p in instance.patients if p.synchronization is not None}
    assert kinds == {"simultaneous", "sequential"}
    assert instance.service_durations == {s["id"]: s["default_duration"] for s in raw["services"]}
    assert [(c.id, list(c.abilities)) for c in instance.caregivers] == [
        (c["id"], c["abilities"]) for c in raw["caregivers"]
    ]
    depot = raw["central_offices"][0]
    assert instance.depot_id == depot["id"]
    assert (instance.depot_x, instance.depot_y) == tuple(depot["location"])
    assert [list(row) for row in instance.distances] == raw["distances"]
    assert len(instance.distances) == 11


def test_solomon_loader_reads_every_field_of_the_smallest_instance() -> None:
    path = SOLOMON / f"{SMALLEST_SOLOMON}.txt"
    lines = path.read_text().splitlines()
    instance = solomon.load_instance(path)

    fleet_line = lines[lines.index(next(line for line in lines if "NUMBER" in line)) + 1]
    assert (instance.vehicles, instance.capacity) == tuple(int(w) for w in fleet_line.split())
    assert instance.name == SMALLEST_SOLOMON
    assert instance.family == "C1"
    customer_lines = [line.split() for line in lines if len(line.split()) == 7]
    customer_lines = [words for words in customer_lines if words[0].isdigit()]
    assert len(instance.customers) == 101 == len(customer_lines)
    for customer, words in zip(instance.customers, customer_lines, strict=True):
        assert (
            customer.number,
            customer.x,
            customer.y,
            customer.demand,
            customer.ready,
            customer.due,
            customer.service,
        ) == tuple(int(word) for word in words)
    assert instance.depot.number == 0 and instance.depot.demand == 0
    assert instance.distance(0, 0) == 0
    a, b = instance.customers[1], instance.customers[2]
    exact = ((a.x - b.x) ** 2 + (a.y - b.y) ** 2) ** 0.5
    assert exact - 0.1 < instance.distance(1, 2) <= exact
    assert round(instance.distance(1, 2) * 10) == instance.distance(1, 2) * 10


def test_solomon_distance_truncates_rather_than_rounds() -> None:
    far = solomon.Customer(1, 1, 1, 0, 0, 10, 0)
    origin = solomon.Customer(0, 0, 0, 0, 0, 10, 0)
    assert solomon.dimacs_distance(origin, far) == 1.4  # sqrt(2) = 1.414...
    corner = solomon.Customer(2, 2, 3, 0, 0, 10, 0)
    assert solomon.dimacs_distance(origin, corner) == 3.6  # sqrt(13) = 3.6055...


@pytest.mark.parametrize("name", sorted(_mankowska_best()), ids=str)
def test_official_cost_reproduces_every_published_mankowska_solution(name: str) -> None:
    """The solution files carry no cost of their own: `best.md` is the published table."""
    best = _mankowska_best()[name]
    instance = mankowska.load_instance(MANKOWSKA / "instances" / f"{name}.json")
    solution = mankowska.load_solution(MANKOWSKA / "solutions" / best.solution_file)

    cost = mankowska.official_cost(instance, solution.routes)

    assert cost.distance == pytest.approx(best.distance, abs=COST_TOLERANCE)
    assert cost.total_tardiness == pytest.approx(best.total_tardiness, abs=COST_TOLERANCE)
    assert cost.max_tardiness == pytest.approx(best.max_tardiness, abs=COST_TOLERANCE)
    assert cost.total == pytest.approx(best.total_cost, abs=COST_TOLERANCE)
    assert mankowska.solution_violations(instance, solution) == []


def test_every_mankowska_instance_has_its_published_solution() -> None:
    names = {path.stem for path in _mankowska_paths()}
    assert len(names) == 70
    assert set(_mankowska_best()) == names
    for best in _mankowska_best().values():
        assert (MANKOWSKA / "solutions" / best.solution_file).is_file()


@pytest.mark.parametrize("name", _solomon_names(), ids=str)
def test_solomon_cost_reproduces_every_best_known_solution(name: str) -> None:
    instance = solomon.load_instance(SOLOMON / f"{name}.txt")
    solution = solomon.load_solution(SOLOMON / f"{name}.sol")
    best_vehicles, best_cost = solomon.load_best_known(SOLOMON / "bks.csv")[name]

    cost = solomon.solution_cost(instance, solution.routes)

    assert cost == pytest.approx(best_cost, abs=COST_TOLERANCE)
    assert solution.stated_cost == pytest.approx(best_cost, abs=COST_TOLERANCE)
    assert len(solution.routes) == best_vehicles
    assert solomon.solution_violations(instance, solution.routes) == []


def test_every_mankowska_instance_becomes_a_valid_matcher_problem() -> None:
    for path in _mankowska_paths():
        instance = mankowska.load_instance(path)
        problem = mankowska.to_problem(instance)
        services = sum(len(patient.services) for patient in instance.patients)
        assert len(problem.need_by_id) == services
        assert all(need.mandatory and need.soft_window for need in problem.need_by_id.values())
        assert len(problem.dependencies) == sum(
            patient.synchronization is not None for patient in instance.patients
        )
        assert len(problem.volunteers) == len(instance.caregivers)


def test_every_solomon_instance_becomes_a_valid_matcher_problem() -> None:
    for name in _solomon_names():
        instance = solomon.load_instance(SOLOMON / f"{name}.txt")
        problem = solomon.to_problem(instance)
        assert len(problem.need_by_id) == len(instance.customers) - 1
        assert problem.day_length_min >= instance.depot.due
        assert {volunteer.capacity for volunteer in problem.volunteers} == {instance.capacity}
        assert len(problem.volunteers) == instance.vehicles
        loads = {need.load for need in problem.need_by_id.values()}
        assert loads == {customer.demand for customer in instance.customers[1:]}


def test_mankowska_validator_reports_broken_published_rules() -> None:
    best = _mankowska_best()[SMALLEST_MANKOWSKA]
    instance = mankowska.load_instance(MANKOWSKA / "instances" / f"{SMALLEST_MANKOWSKA}.json")
    solution = mankowska.load_solution(MANKOWSKA / "solutions" / best.solution_file)
    route = next(route for route in solution.routes if len(route.stops) >= 2)
    shortened = mankowska.CaregiverRoute(route.caregiver, route.stops[1:])
    dropped = mankowska.MankowskaSolution(
        tuple(shortened if r is route else r for r in solution.routes)
    )
    assert any(
        "served 0 times" in problem for problem in mankowska.solution_violations(instance, dropped)
    )
    first = route.stops[0]
    early = mankowska.ServiceStop(first.patient, first.service, 0.0, first.departure)
    moved = mankowska.CaregiverRoute(route.caregiver, (early, *route.stops[1:]))
    rushed = mankowska.MankowskaSolution(tuple(moved if r is route else r for r in solution.routes))
    assert any("before" in problem for problem in mankowska.solution_violations(instance, rushed))


def test_solomon_validator_reports_broken_rules() -> None:
    instance = solomon.load_instance(SOLOMON / f"{SMALLEST_SOLOMON}.txt")
    routes = [list(route) for route in solomon.load_solution(SOLOMON / "C101.sol").routes]
    merged = [routes[0] + routes[1], *routes[2:]]
    problems = solomon.solution_violations(instance, merged)
    assert any("capacity" in problem or "late" in problem for problem in problems)
    missing = [routes[0][1:], *routes[1:]]
    assert any("served 0 times" in p for p in solomon.solution_violations(instance, missing))
    too_many = [[customer] for route in routes for customer in route]
    assert any("vehicles used" in p for p in solomon.solution_violations(instance, too_many))


def test_mankowska_windows_constrain_the_start_and_lateness_is_tardiness() -> None:
    instance = mankowska.load_instance(MANKOWSKA / "instances" / f"{SMALLEST_MANKOWSKA}.json")
    problem = mankowska.to_problem(instance, time_scale=10)
    patient = instance.patients[0]
    required = patient.services[0]
    need = problem.need_by_id[mankowska.need_id(patient.id, required.service)]
    (window,) = need.windows
    assert window.start == patient.window_start * 10
    assert window.end - problem.duration_of(need) == patient.window_end * 10
    assert problem.travel.matrix is not None and problem.travel.matrix.travel_min is not None
    assert problem.travel.matrix.travel_min[0][1] == pytest.approx(instance.distance(0, 1) * 10)
    assert problem.travel.matrix.distance_m[0][1] == instance.distance(0, 1)


def test_published_mankowska_solution_is_a_plan_the_checker_accepts() -> None:
    """Published starts are fractional (travel has three decimals); the plan times the same
    routes at whole minutes. This solution has no tardiness, so its cost is unchanged."""
    best = _mankowska_best()[SMALLEST_MANKOWSKA]
    instance = mankowska.load_instance(MANKOWSKA / "instances" / f"{SMALLEST_MANKOWSKA}.json")
    solution = mankowska.load_solution(MANKOWSKA / "solutions" / best.solution_file)
    problem = mankowska.to_problem(instance)

    plan = mankowska.solution_to_plan(instance, problem, solution)
    report = check_plan(problem, plan)

    assert report.ok, [violation.message for violation in report.violations]
    assert len(plan.visits) == sum(len(patient.services) for patient in instance.patients)
    assert report.metrics.travel_distance_m == pytest.approx(best.distance, abs=COST_TOLERANCE)
    assert report.metrics.total_lateness_min == pytest.approx(best.total_tardiness, abs=0.01)
    assert report.metrics.max_lateness_min == pytest.approx(best.max_tardiness, abs=0.01)
    written = mankowska.parse_solution(mankowska.plan_to_solution(instance, plan))
    assert mankowska.official_cost(instance, written.routes).total == pytest.approx(
        best.total_cost, abs=COST_TOLERANCE
    )


@pytest.mark.parametrize("name", sorted(_mankowska_best()), ids=str)
def test_every_published_mankowska_solution_is_a_plan_the_checker_accepts(name: str) -> None:
    """Including overlapping sequential services of one patient (gap below the duration)."""
    best = _mankowska_best()[name]
    instance = mankowska.load_instance(MANKOWSKA / "instances" / f"{name}.json")
    solution = mankowska.load_solution(MANKOWSKA / "solutions" / best.solution_file)
    problem = mankowska.to_problem(instance)
    report = check_plan(problem, mankowska.solution_to_plan(instance, problem, solution))
    assert report.ok, [violation.message for violation in report.violations[:3]]
    assert report.metrics.travel_distance_m == pytest.approx(best.distance, abs=COST_TOLERANCE)


def test_a_late_published_solution_keeps_its_cost_up_to_the_rounding_of_whole_ticks() -> None:
    """10_3 is late; whole ticks start a little later than the published fractional starts.
    The checker's lateness is the official tardiness of the plan's own times, and retiming the
    plan's routes at exact minutes gives back the published cost."""
    name = "InstanzCPLEX_HCSRP_10_3"
    best = _mankowska_best()[name]
    instance = mankowska.load_instance(MANKOWSKA / "instances" / f"{name}.json")
    solution = mankowska.load_solution(MANKOWSKA / "solutions" / best.solution_file)
    for scale in (1, 10):
        problem = mankowska.to_problem(instance, time_scale=scale)
        plan = mankowska.solution_to_plan(instance, problem, solution, time_scale=scale)
        report = check_plan(problem, plan)
        assert report.ok, [violation.message for violation in report.violations]

        as_planned = mankowska.parse_solution(mankowska.plan_to_solution(instance, plan, scale))
        cost = mankowska.official_cost(instance, as_planned.routes)
        assert mankowska.solution_violations(instance, as_planned) == []
        assert report.metrics.total_lateness_min / scale == pytest.approx(cost.total_tardiness)
        assert report.metrics.max_lateness_min / scale == pytest.approx(cost.max_tardiness)
        assert report.metrics.travel_distance_m == pytest.approx(cost.distance)
        assert best.total_cost <= cost.total + 1e-9
        assert cost.total <= best.total_cost * (1.02 if scale == 1 else 1.002)

        retimed = mankowska.parse_solution(
            mankowska.plan_to_solution(instance, plan, scale, retime=True)
        )
        retimed_cost = mankowska.official_cost(instance, retimed.routes)
        assert retimed_cost.total == pytest.approx(best.total_cost, abs=COST_TOLERANCE)


def test_solomon_best_known_routes_need_tenths_of_a_minute_in_matcher() -> None:
    """R101's best route set is a feasible matcher plan at 10 ticks a minute; with whole
    minutes, rounding each arrival up makes some visits start after their windows close."""
    instance = solomon.load_instance(SOLOMON / "R101.txt")
    solution = solomon.load_solution(SOLOMON / "R101.sol")

    fine = solomon.to_problem(instance, time_scale=10)
    report = check_plan(fine, solomon.solution_to_plan(instance, fine, solution.routes, 10))
    assert report.ok, [violation.message for violation in report.violations]
    assert report.metrics.travel_distance_m == pytest.approx(1637.7, abs=COST_TOLERANCE)

    coarse = solomon.to_problem(instance, time_scale=1)
    plan = solomon.solution_to_plan(instance, coarse, solution.routes, 1)
    report = check_plan(coarse, plan)
    assert not report.ok
    assert {violation.rule for violation in report.violations} <= {
        "recipient_window",
        "travel_time",
    }
    assert solomon.plan_to_routes(instance, plan) == [list(route) for route in solution.routes]


def test_time_scale_is_capped_by_the_longest_matcher_day() -> None:
    c2 = solomon.load_instance(SOLOMON / "C201.txt")
    assert finest_time_scale(c2.depot.due, 10) == 10
    assert finest_time_scale(c2.depot.due, 20) == 16
    with pytest.raises(ValueError, match="time scale of at most 16"):
        solomon.to_problem(c2, time_scale=20)
    assert solomon.to_problem(c2, time_scale=10).day_length_min == 10 * c2.depot.due


def test_runner_prints_machine_instances_and_families(capsys: pytest.CaptureFixture[str]) -> None:
    code = external_run.main(
        [
            "--data",
            str(DATA),
            "--set",
            "mankowska",
            "--instances",
            SMALLEST_MANKOWSKA,
            "--solver",
            "greedy",
            "--time-limit-s",
            "2",
            "--markdown",
        ]
    )
    output = capsys.readouterr().out
    assert code in (0, 1)
    assert output.startswith("- machine: ")
    assert "OR-Tools" in output
    assert f"| {SMALLEST_MANKOWSKA} | A |" in output
    assert "| family | instances | complete | mean gap % | worst gap % | mean time s |" in output
    assert "| A | 1 |" in output


def test_runner_family_rows_average_complete_instances_only() -> None:
    results = [
        external_run.InstanceResult(
            "x1", "A", 100.0, 1, ours=110.0, all_planned=True, valid=True, wall_time_s=1.0
        ),
        external_run.InstanceResult(
            "x2", "A", 100.0, 1, ours=102.0, all_planned=True, valid=True, wall_time_s=3.0
        ),
        external_run.InstanceResult("x3", "A", 100.0, 1, error="SolverError: boom"),
    ]
    (row,) = external_run.family_rows(results, ["A", "B"])
    assert row == ["A", "3", "2", "6.00", "10.00", "2.0"]


def test_routing_reaches_the_best_known_cost_of_the_smallest_mankowska_instance() -> None:
    """Ten patients, three caregivers: the official cost of our solution is the best known."""
    best = mankowska.load_best_known(MANKOWSKA / "best.md")[SMALLEST_MANKOWSKA]
    instance = mankowska.load_instance(MANKOWSKA / "instances" / f"{SMALLEST_MANKOWSKA}.json")
    scale = finest_time_scale(instance.horizon_min, 10)
    problem = mankowska.to_problem(instance, scale)
    plan = checked(problem, solve_routing(problem, time_limit_s=3))
    assert not plan.unassigned
    solution = mankowska.parse_solution(
        mankowska.plan_to_solution(instance, plan, scale, retime=True)
    )
    assert mankowska.solution_violations(instance, solution) == []
    cost = mankowska.official_cost(instance, solution.routes).total
    assert cost == pytest.approx(best.total_cost, abs=0.01)


def test_an_instance_without_a_best_known_row_is_run_and_shown_without_a_gap() -> None:
    """`run_mankowska` raised KeyError outside its try when best.md lacked the instance."""
    path = _mankowska_paths()[0]
    result = external_run.run_mankowska(path, {}, "greedy", 5.0, 1, None)
    assert result.error is None and result.ours is not None
    assert result.best_known is None and result.gap_pct is None
    solomon_path = SOLOMON / "C101.txt"
    result = external_run.run_solomon(solomon_path, {}, "greedy", 5.0, 1, None)
    assert result.error is None and result.best_known is None and result.gap_pct is None


def test_the_solomon_peers_judge_every_solver_with_one_evaluator() -> None:
    """benchmarks.external.solomon_peers: matcher's routes and a peer's are costed and checked
    by `solomon.solution_cost` / `solution_violations`; a broken route set has no gap."""
    from benchmarks.external import solomon_peers

    instance = solomon.load_instance(SOLOMON / "C101.txt")
    best = solomon.load_best_known(SOLOMON / "bks.csv")["C101"][1]
    good = solomon_peers.run_peer(
        "matcher", solomon_peers.solve_matcher("greedy"), instance, best, 5
    )
    assert good.valid and good.gap_pct is not None and good.gap_pct >= -1e-9
    broken = solomon_peers.run_peer("bad", lambda *_: [[1, 2]], instance, best, 5)
    assert not broken.valid and broken.gap_pct is None and broken.problems


def test_cost_parameters_give_the_floating_engine_the_limit_once_all_is_planned() -> None:
    from matcher.solvers.auto import AutoParameters
    from matcher.solvers.ruin import RuinParameters

    ruin = external_run.cost_parameters("ruin", 20.0)
    assert ruin == {"polish_time_s": 20.0}
    assert RuinParameters(**ruin).polish_time_s == 20.0
    auto = external_run.cost_parameters("auto", 60.0)
    assert auto is not None
    parsed = AutoParameters(**auto)
    assert parsed.ruin["polish_time_s"] == 60.0
    assert parsed.cpsat["polish_time_s"] == 60.0
    assert parsed.ruin_time_share == external_run.AUTO_RUIN_SHARE and parsed.ruin_max_s == 60.0
    assert external_run.cost_parameters("routing", 30.0) == {"polish_after_bound_s": 30.0}


def test_the_runner_says_what_became_of_the_floating_polish() -> None:
    """`ruin` and `auto` (ruin first at the exact size) report the polish's verdict; greedy has
    none."""
    path = _mankowska_paths()[0]
    best = mankowska.load_best_known(DATA / "hhcrsp-mankowska" / "best.md")
    verdicts = ("polished", "unchanged", "worse", "refused by the checker", "no time")
    for solver in ("ruin", "auto"):
        result = external_run.run_mankowska(path, best, solver, 3.0, 1, None)
        assert result.error is None and result.polish in verdicts
    assert external_run.run_mankowska(path, best, "greedy", 3.0, 1, None).polish is None
    assert external_run.polish_verdict({"auto": {"ruin_polish": "worse"}}) == "worse"
    assert external_run.polish_verdict({"polish": {"kept": "polished"}}) == "polished"
    assert external_run.polish_verdict({}) is None
