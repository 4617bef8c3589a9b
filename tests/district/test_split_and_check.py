"""The shared helpers' split and re-balance, and the district check that judges them."""

from __future__ import annotations

from typing import Any

import matcher
from matcher.checker import check_plan
from matcher.district.check import check_district
from matcher.district.models import District
from matcher.district.runner import solve_district
from matcher.district.split import (
    Allotment,
    community_problem,
    first_split,
    helper_demand_min,
    offered_on,
    rebalance,
    used_min,
)

MONDAY = [{"day": "mon", "start": "09:00", "end": "12:00"}]


def _community(
    name: str, needs: int, days: list[dict[str, str]], away: bool = False, day: str = "mon"
) -> dict[str, Any]:
    """One recipient per need (a 45-minute meal visit on Monday 09:00-12:00), one shared
    helper, no other volunteer; `away`: the visits are wanted on Wednesday instead (else on
    `day`)."""
    day = "wed" if away else day
    return {
        "week_start": "2026-11-30",
        "services": [{"id": "meal", "duration_min": 45}],
        "recipients": [
            {
                "id": f"{name}-r{index}",
                "location": {"x_m": 10.0 * index, "y_m": 0},
                "needs": [
                    {
                        "id": f"{name}-n{index}",
                        "service": "meal",
                        "windows": [{"day": day, "start": "09:00", "end": "12:00"}],
                    }
                ],
            }
            for index in range(needs)
        ],
        "volunteers": [{"id": "nurse", "home": {"x_m": 0, "y_m": 0}, "availability": days}],
    }


def _two_communities(weekly_minutes: int, days: list[dict[str, str]]) -> District:
    return District.model_validate(
        {
            "communities": [
                {"id": "east", "problem": _community("east", 1, days)},
                {"id": "west", "problem": _community("west", 1, days)},
            ],
            "shared_helpers": [
                {"id": "nurse", "weekly_minutes": weekly_minutes, "communities": ["east", "west"]}
            ],
        }
    )


def test_solved_apart_the_helper_is_double_booked_and_the_check_says_so() -> None:
    district = _two_communities(60, MONDAY)
    apart = {name: (p, matcher.solve(p)) for name, p in district.problems().items()}
    assert all(len(plan.visits) == 1 for _, plan in apart.values())
    report = check_district(district, apart)
    rules = sorted(item.rule for item in report.violations)
    assert rules == ["shared_double_booked", "shared_weekly_minutes"], report.violations
    assert any("at two places at once on mon" in item.message for item in report.violations)


def test_solved_as_a_district_the_day_goes_to_one_community(tmp_path: Any) -> None:
    district = _two_communities(60, MONDAY)
    result = solve_district(district, workers=1)
    assert result.check.ok, result.check.violations
    planned = {name: len(plan.visits) for name, plan in result.plans.items()}
    assert sorted(planned.values()) == [0, 1]
    total = sum(result.check.helper_minutes["nurse"].values())
    assert 0 < total <= 60


def test_the_check_wants_the_transfer_time_between_communities() -> None:
    district = _two_communities(600, [*MONDAY, {"day": "tue", "start": "09:00", "end": "12:00"}])
    east, west = district.problems()["east"], district.problems()["west"]
    east_plan = matcher.solve(east)
    visit = east_plan.visits[0]
    west_plan = matcher.solve(west)
    moved = west_plan.model_copy(
        update={
            "visits": [
                west_plan.visits[0].model_copy(
                    update={"start": visit.end + 10, "end": visit.end + 55}
                )
            ]
        }
    )
    assert check_plan(west, moved).ok
    report = check_district(district, {"east": (east, east_plan), "west": (west, moved)})
    (violation,) = report.violations
    assert violation.rule == "shared_double_booked"
    assert "only 10 minutes apart" in violation.message


def test_first_split_is_in_proportion_to_demand_with_days_apart() -> None:
    week = [{"day": d, "start": "09:00", "end": "12:00"} for d in ("mon", "tue", "wed", "thu")]
    district = District.model_validate(
        {
            "communities": [
                {"id": "big", "problem": _community("big", 3, week)},
                {"id": "small", "problem": _community("small", 1, week)},
            ],
            "shared_helpers": [
                {"id": "nurse", "weekly_minutes": 400, "communities": ["big", "small"]}
            ],
        }
    )
    problems = district.problems()
    assert helper_demand_min(problems["big"], problems["big"].volunteer_by_id["nurse"]) == 135
    allocation = first_split(district, problems)["nurse"]
    assert allocation["big"].minutes + allocation["small"].minutes == 400
    assert allocation["big"].minutes == 300 and allocation["small"].minutes == 100
    assert not set(allocation["big"].days) & set(allocation["small"].days)
    for name, share in allocation.items():
        entry = community_problem(district, name, problems[name], {"nurse": allocation})
        nurse = entry.volunteer_by_id["nurse"]
        assert {w.day for w in nurse.availability} == set(share.days)
        assert nurse.max_minutes_per_week == share.minutes
        assert offered_on(problems[name].volunteer_by_id["nurse"], share.days) >= share.minutes


def test_rebalance_moves_unused_minutes_to_a_community_that_ran_out() -> None:
    week = [{"day": d, "start": "09:00", "end": "12:00"} for d in ("mon", "tue")]
    district = District.model_validate(
        {
            "communities": [
                {"id": "busy", "problem": _community("busy", 3, week)},
                {"id": "quiet", "problem": _community("quiet", 3, week, away=True)},
            ],
            "shared_helpers": [
                {"id": "nurse", "weekly_minutes": 200, "communities": ["busy", "quiet"]}
            ],
        }
    )
    # Quiet wants its visits when the nurse is not free: it cannot use their minutes.
    base = district.problems()
    allocation = first_split(district, base)
    assert allocation["nurse"]["quiet"].minutes == 100
    problems = {n: community_problem(district, n, base[n], allocation) for n in base}
    plans = {n: matcher.solve(problems[n]) for n in base}
    assert used_min(plans["quiet"], "nurse") == 0
    assert len(plans["busy"].visits) < 3
    moved, moves = rebalance(district, base, allocation, plans, 1)
    assert [(m.from_community, m.to_community) for m in moves] == [("quiet", "busy")]
    assert moves[0].minutes == moved["nurse"]["busy"].minutes - allocation["nurse"]["busy"].minutes
    assert moved["nurse"]["busy"].minutes + moved["nurse"]["quiet"].minutes == 200
    # The donor's plan still keeps every rule with less of the helper's week.
    donor = community_problem(district, "quiet", base["quiet"], moved)
    assert check_plan(donor, plans["quiet"]).ok
    receiver = community_problem(district, "busy", base["busy"], moved)
    replanned = matcher.solve(receiver)
    assert len(replanned.visits) > len(plans["busy"].visits)
    report = check_district(
        district, {"busy": (receiver, replanned), "quiet": (donor, plans["quiet"])}
    )
    assert report.ok, report.violations


def test_rebalance_moves_an_empty_day_to_a_community_that_needs_it() -> None:
    week = [{"day": d, "start": "09:00", "end": "12:00"} for d in ("mon", "tue")]
    district = District.model_validate(
        {
            "communities": [
                {"id": "a", "problem": _community("a", 1, week)},
                {"id": "b", "problem": _community("b", 1, week, day="tue")},
            ],
            "shared_helpers": [{"id": "nurse", "weekly_minutes": 400, "communities": ["a", "b"]}],
        }
    )
    base = district.problems()
    allocation = {"nurse": {"a": Allotment(200, ("mon", "tue")), "b": Allotment(200, ())}}
    problems = {n: community_problem(district, n, base[n], allocation) for n in base}
    plans = {n: matcher.solve(problems[n]) for n in base}
    assert [v.day for v in plans["a"].visits] == ["mon"] and not plans["b"].visits
    moved, moves = rebalance(district, base, allocation, plans, 1)
    assert [(m.from_community, m.to_community, m.minutes, m.days) for m in moves] == [
        ("a", "b", 0, ("tue",))
    ]
    assert moved["nurse"]["a"].days == ("mon",) and moved["nurse"]["b"].days == ("tue",)
    donor = community_problem(district, "a", base["a"], moved)
    receiver = community_problem(district, "b", base["b"], moved)
    replanned = matcher.solve(receiver)
    assert [v.day for v in replanned.visits] == ["tue"]
    report = check_district(district, {"a": (donor, plans["a"]), "b": (receiver, replanned)})
    assert report.ok, report.violations
