"""The peers (VROOM and OR-Tools routing used directly) and the repair of their plans."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest

from benchmarks.peers import (
    PEERS,
    RawFacts,
    build_week_model,
    main,
    repair,
    solve_with_ortools_routing,
    solve_with_vroom,
)
from matcher import check_plan, solve
from matcher.generator import generate_community
from matcher.models import Plan, Problem, Visit
from matcher.rules import outings_by_day
from tests.helpers import checked, visit

TWICE_TWO_DAYS_APART = {"visits_per_week": 2, "min_gap_days": 2}
"""A need's visits a week and minimum gap: two visits, not on adjacent days."""


def tiny_week() -> Problem:
    """The benchmark runner's tiny generated week: 8 recipients, 3 volunteers."""
    return generate_community(recipients=8, volunteers=3, buildings=1, seed=0)


def at_the_door(
    recipients: list[dict[str, Any]],
    others: tuple[str, ...] = (),
    away_m: dict[str, int] | None = None,
    **volunteer: Any,
) -> Problem:
    """Volunteer `v` (and `others`) on Monday morning, every recipient at their door, except
    the volunteers `away_m` puts that many metres east."""
    return Problem.model_validate(
        {
            "week_start": "2026-11-30",
            "services": [
                {"id": "chat", "duration_min": 30},
                {"id": "clean", "duration_min": 60, "team_size": 2},
            ],
            "recipients": [
                {"location": {"x_m": 0, "y_m": 0}, **recipient} for recipient in recipients
            ],
            "volunteers": [
                {
                    "id": name,
                    "home": {"x_m": (away_m or {}).get(name, 0), "y_m": 0},
                    "availability": [{"day": "mon", "start": "09:00", "end": "12:00"}],
                    **(volunteer if name == "v" else {}),
                }
                for name in ("v", *others)
            ],
        }
    )


def chat_visit(recipient: str, start: int, volunteers: tuple[str, ...] = ("v",)) -> Visit:
    """A Monday chat visit of `recipient`'s need, starting `start` minutes after midnight."""
    return Visit(
        need=f"{recipient}-chat",
        recipient=recipient,
        service="chat",
        occurrence=1,
        day="mon",
        start=start,
        end=start + 30,
        volunteers=list(volunteers),
    )


def assert_repaired(problem: Problem, raw: Plan) -> Plan:
    """Repair the raw plan; the result passes the checker and lists every unplanned visit."""
    repaired, violations_before = repair(problem, raw)
    assert violations_before == len(check_plan(problem, raw).violations)
    assert repaired.solver.parameters["repair"]["violations_before"] == violations_before
    checked(problem, repaired)
    requested = sum(need.visits_per_week for need in problem.need_by_id.values())
    assert len(repaired.visits) + len(repaired.unassigned) == requested
    return repaired


def peer_plan(peer: str, problem: Problem, time_limit_s: float = 1.0) -> tuple[Plan, RawFacts]:
    """The peer's raw plan of the week; VROOM's tests skip where pyvroom is not installed."""
    if peer == "vroom":
        pytest.importorskip("vroom")
        return solve_with_vroom(problem, time_limit_s)
    return solve_with_ortools_routing(problem, time_limit_s)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("peer", PEERS)
def test_peer_plan_of_a_tiny_week_passes_the_checker_after_repair(peer: str, seed: int) -> None:
    """A peer's plan of a generated week, repaired, keeps every rule and says why each visit
    left out is; repair never adds violations and keeps what it can."""
    problem = generate_community(recipients=8, volunteers=3, buildings=1, seed=seed)
    raw, facts = peer_plan(peer, problem)
    assert facts.status == "FEASIBLE" and raw.visits
    assert facts.copies_routed >= len(raw.visits)
    assert facts.vehicles == sum(
        len(outings) for v in problem.volunteers for outings in outings_by_day(v).values()
    )
    repaired = assert_repaired(problem, raw)
    assert repaired.solver.solver == f"{peer}+repair"
    assert 0 < len(repaired.visits) <= len(raw.visits)


@pytest.mark.parametrize("peer", PEERS)
def test_a_team_visit_routed_as_independent_copies_breaks_a_rule_until_repaired(
    peer: str,
) -> None:
    """The two members of a pair arrive at different times (one lives 1.2 km away); the raw
    plan breaks a rule, the repaired one has both members starting together."""
    problem = at_the_door(
        [{"id": "r", "needs": [{"id": "r-clean", "service": "clean"}]}],
        ("w",),
        away_m={"w": 1200},
    )
    raw, _ = peer_plan(peer, problem)
    assert [len(visit.volunteers) for visit in raw.visits] in ([1], [2])
    assert check_plan(problem, raw).violations
    repaired = assert_repaired(problem, raw)
    assert [sorted(visit.volunteers) for visit in repaired.visits] == [["v", "w"]]
    assert repaired.visits[0].start > 540


@pytest.mark.parametrize("peer", PEERS)
def test_a_weekly_cap_no_peer_knows_is_broken_until_repaired(peer: str) -> None:
    """Three half-hour visits for a volunteer allowed 60 minutes a week: the peer plans all
    three, the repair keeps the two of highest priority."""
    problem = at_the_door(
        [
            {"id": name, "priority": priority, "needs": [{"id": f"{name}-chat", "service": "chat"}]}
            for name, priority in (("high", 3), ("low", 1), ("mid", 2))
        ],
        max_minutes_per_week=60,
    )
    raw, _ = peer_plan(peer, problem)
    assert len(raw.visits) == 3
    assert [item.rule for item in check_plan(problem, raw).violations] == ["max_minutes_per_week"]
    repaired = assert_repaired(problem, raw)
    assert sorted(visit.need for visit in repaired.visits) == ["high-chat", "mid-chat"]


def test_ortools_side_constraints_keep_the_weekly_cap_and_the_day_gap() -> None:
    """With the week's side constraints OR-Tools itself keeps a 60-minute cap (two of three
    half-hour visits, the highest priorities) and a two-day gap (Monday and Wednesday)."""
    capped = at_the_door(
        [
            {"id": name, "priority": priority, "needs": [{"id": f"{name}-chat", "service": "chat"}]}
            for name, priority in (("high", 3), ("low", 1), ("mid", 2))
        ],
        max_minutes_per_week=60,
    )
    raw, facts = solve_with_ortools_routing(capped, 1.0, side_constraints=True)
    assert check_plan(capped, raw).ok and "side constraints" in facts.notes[-1]
    assert sorted(visit.need for visit in raw.visits) == ["high-chat", "mid-chat"]
    spread = at_the_door(
        [{"id": "r", "needs": [{"id": "r-chat", "service": "chat", **TWICE_TWO_DAYS_APART}]}],
        availability=[
            {"day": day, "start": "09:00", "end": "12:00"} for day in ("mon", "tue", "wed")
        ],
    )
    raw, facts = solve_with_ortools_routing(spread, 1.0, side_constraints=True)
    assert [visit.day for visit in raw.visits] == ["mon", "wed"]
    assert facts.copies_discarded == 0


@pytest.mark.parametrize("peer", PEERS)
def test_copies_on_days_too_close_together_are_discarded_from_the_raw_plan(peer: str) -> None:
    """Twice a week at least two days apart, any of Monday to Wednesday: VROOM routes all three
    day copies and the raw plan keeps Monday and Wednesday; OR-Tools may take two copies on
    adjacent days, of which only one can be kept."""
    problem = at_the_door(
        [
            {
                "id": "r",
                "needs": [{"id": "r-chat", "service": "chat", **TWICE_TWO_DAYS_APART}],
            }
        ],
        availability=[
            {"day": day, "start": "09:00", "end": "12:00"} for day in ("mon", "tue", "wed")
        ],
    )
    raw, facts = peer_plan(peer, problem)
    assert facts.job_copies == 3
    days = [visit.day for visit in raw.visits]
    assert days in (["mon", "wed"], ["mon"], ["tue"], ["wed"])
    assert facts.copies_discarded == facts.copies_routed - len(days) > 0
    if peer == "vroom":
        assert days == ["mon", "wed"]
    checked(problem, raw)
    assert_repaired(problem, raw)


def test_repair_keeps_a_valid_plan_whole() -> None:
    """matcher's own plan breaks no rule, so the repair keeps every visit where it was."""
    problem = tiny_week()
    plan = solve(problem, solver="greedy")
    repaired, violations_before = repair(problem, plan)
    assert violations_before == 0
    checked(problem, repaired)
    assert sorted((v.need, v.day, v.start) for v in repaired.visits) == sorted(
        (v.need, v.day, v.start) for v in plan.visits
    )
    assert repaired.solver.parameters["repair"]["retimed"] == 0


def test_repair_drops_the_lowest_priority_visit_that_breaks_a_weekly_cap() -> None:
    """Three half-hour visits for a 60-minute week: the lowest priority goes, reported once."""
    problem = at_the_door(
        [
            {"id": name, "priority": priority, "needs": [{"id": f"{name}-chat", "service": "chat"}]}
            for name, priority in (("high", 3), ("low", 1), ("mid", 2))
        ],
        max_minutes_per_week=60,
    )
    raw = Plan(visits=[chat_visit("high", 540), chat_visit("low", 570), chat_visit("mid", 600)])
    assert [item.rule for item in check_plan(problem, raw).violations] == ["max_minutes_per_week"]
    repaired = assert_repaired(problem, raw)
    assert sorted(visit.need for visit in repaired.visits) == ["high-chat", "mid-chat"]
    assert [(item.need, item.reason) for item in repaired.unassigned] == [
        ("low-chat", "not_planned")
    ]


def test_repair_retimes_a_visit_that_falls_between_two_availability_windows() -> None:
    """A visit in the gap of a split day (a vehicle's span) moves into a window."""
    problem = at_the_door(
        [{"id": "r", "needs": [{"id": "r-chat", "service": "chat"}]}],
        availability=[
            {"day": "mon", "start": "09:00", "end": "10:00"},
            {"day": "mon", "start": "14:00", "end": "15:00"},
        ],
    )
    repaired = assert_repaired(problem, Plan(visits=[chat_visit("r", 720)]))
    assert [(visit.start, visit.end) for visit in repaired.visits] == [(840, 870)]


def test_repair_merges_two_team_members_at_a_common_start() -> None:
    """Two halves of a team visit routed apart become one visit both members start together."""
    problem = at_the_door([{"id": "r", "needs": [{"id": "r-clean", "service": "clean"}]}], ("w",))
    halves = [visit(problem, "r-clean", start, name) for name, start in (("v", 540), ("w", 600))]
    repaired = assert_repaired(problem, Plan(visits=halves))
    assert [(visit.start, sorted(visit.volunteers)) for visit in repaired.visits] == [
        (540, ["v", "w"])
    ]


def test_skills_keep_day_copies_and_excluded_volunteers_apart() -> None:
    """A copy's day and the recipient's exclusions are skills only the right vehicles hold."""
    problem = at_the_door(
        [
            {
                "id": "r",
                "excluded_volunteers": ["w"],
                "needs": [
                    {
                        "id": "r-chat",
                        "service": "chat",
                        "windows": [
                            {"day": day, "start": "09:00", "end": "12:00"} for day in ("mon", "tue")
                        ],
                    }
                ],
            }
        ],
        others=("w",),
        availability=[
            {"day": day, "start": "09:00", "end": "12:00"} for day in ("mon", "tue", "wed")
        ],
    )
    model = build_week_model(problem)
    fits = {
        (job.day, vehicle.volunteer, vehicle.day)
        for job in model.jobs
        for vehicle in model.vehicles
        if job.skills <= vehicle.skills
    }
    assert fits == {(0, "v", 0), (1, "v", 1)}
    assert [job.starts for job in model.jobs] == [[(540, 690)], [(540, 690)]]


SPLIT_DAY = [
    {"day": "mon", "start": "09:00", "end": "10:00"},
    {"day": "mon", "start": "14:00", "end": "15:00"},
]
"""Volunteer `v` goes out in the morning and again in the afternoon, home in between."""


def across_town(west_m: int = -500, east_m: int = 500, **volunteer: Any) -> Problem:
    """Two half-hour chats, `west` (priority 1) and `east` (2), this far east of `v`'s door
    (650 m of walking per 500 m, 9.7 minutes), any time on Monday 09:00-16:00."""
    return at_the_door(
        [
            {
                "id": name,
                "priority": priority,
                "location": {"x_m": x_m, "y_m": 0},
                "needs": [
                    {
                        "id": f"{name}-chat",
                        "service": "chat",
                        "windows": [{"day": "mon", "start": "09:00", "end": "16:00"}],
                    }
                ],
            }
            for name, x_m, priority in (("west", west_m, 1), ("east", east_m, 2))
        ],
        **volunteer,
    )


@pytest.mark.parametrize("peer", PEERS)
def test_a_split_day_is_one_vehicle_per_outing(peer: str) -> None:
    """A morning and an afternoon are two vehicles, each from home and back inside its window:
    the peer's own plan of the two chats keeps every rule, one chat an outing."""
    problem = across_town(availability=SPLIT_DAY)
    model = build_week_model(problem)
    assert [vehicle.window for vehicle in model.vehicles] == [(540, 600), (840, 900)]
    raw, facts = peer_plan(peer, problem)
    assert facts.vehicles == 2
    assert check_plan(problem, raw).ok, check_plan(problem, raw).summary()
    assert sorted(visit.start // 300 for visit in raw.visits) == [1, 2]


@pytest.mark.parametrize("peer", PEERS)
def test_a_peer_keeps_an_outing_within_its_walking_limit(peer: str) -> None:
    """Walking at most 2 km an outing, one outing makes one of the chats across town (2.6 km
    for both, 1.3 km for one); a morning and an afternoon make both."""
    one_window = across_town(max_outing_distance_m=2000)
    one_outing, _ = peer_plan(peer, one_window)
    assert len(one_outing.visits) == 1 and check_plan(one_window, one_outing).ok
    split = across_town(availability=SPLIT_DAY, max_outing_distance_m=2000)
    two_outings, _ = peer_plan(peer, split)
    assert len(two_outings.visits) == 2 and check_plan(split, two_outings).ok


def test_repair_keeps_an_outing_within_its_walking_limit_and_goes_home_between() -> None:
    """Both chats in one outing walk 2.6 km, over the 2 km limit: the repair keeps east (the
    higher priority). Both chats at one door, one in the morning and one in the afternoon: the
    week counts the walk home in between (60 visiting + 4 x 9.7 walking = 98.8 minutes), so a
    100-minute week holds both and a 90-minute week one."""
    problem = across_town(max_outing_distance_m=2000)
    raw = Plan(visits=[chat_visit("west", 550), chat_visit("east", 600)])
    assert {item.rule for item in check_plan(problem, raw).violations} == {"outing_distance"}
    repaired = assert_repaired(problem, raw)
    assert [visit.need for visit in repaired.visits] == ["east-chat"]
    for minutes, kept in ((100, ["east-chat", "west-chat"]), (90, ["east-chat"])):
        split = across_town(500, 500, availability=SPLIT_DAY, max_minutes_per_week=minutes)
        repaired = assert_repaired(
            split, Plan(visits=[chat_visit("west", 550), chat_visit("east", 850)])
        )
        assert sorted(visit.need for visit in repaired.visits) == kept


def run_main(arguments: list[str]) -> tuple[int, str]:
    """`python -m benchmarks.peers` in this process: the exit code and the standard output."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()):
        exit_code = main(arguments)
    return exit_code, output.getvalue()


@pytest.mark.parametrize(
    ("solvers", "labels"),
    [
        ("matcher,ortools", ("matcher auto", "OR-Tools routing + repair")),
        ("matcher,vroom,ortools", ("matcher auto", "VROOM + repair", "OR-Tools routing + repair")),
    ],
)
def test_the_comparison_prints_one_row_per_solver(solvers: str, labels: tuple[str, ...]) -> None:
    """The comparison on the tiny week: one row per solver and the verdict."""
    if "vroom" in solvers:
        pytest.importorskip("vroom")
    exit_code, table = run_main(
        ["--sizes", "tiny", "--seeds", "0", "--time-limit-s", "1", "--solvers", solvers]
    )
    assert exit_code == 0, table
    rows = [line for line in table.splitlines() if line.startswith("tiny ")]
    assert len(rows) == len(labels), table
    for label in labels:
        assert sum(line.startswith(f"tiny  {label}") for line in rows) == 1, table
    assert "machine: " in table and "tiny: matcher covers" in table


def test_the_comparison_refuses_vroom_without_pyvroom(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asking for VROOM without the `peers` extra stops with a usage error, not a failed run."""
    monkeypatch.setattr("benchmarks.peers._version", lambda package: "not installed")
    with pytest.raises(SystemExit) as stopped, contextlib.redirect_stderr(io.StringIO()):
        main(["--sizes", "tiny", "--solvers", "vroom"])
    assert stopped.value.code == 2
