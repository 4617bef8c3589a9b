"""Re-planning after changes: each kind of change, the exact diff, pins, errors and the CLI."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from matcher.api import solve
from matcher.cli import EXIT_INVALID, EXIT_OK, main
from matcher.generator import generate_community
from matcher.io import load_plan, load_problem
from matcher.models import PinnedVisit, Plan, Problem, Visit, format_clock
from matcher.replan import (
    ChangeList,
    DiffEntry,
    NewNeed,
    PlanDiff,
    Replan,
    VolunteerUnavailable,
    apply_changes,
    replan,
)
from matcher.travel import TravelModel
from tests.editing import edit
from tests.helpers import checked

WEEK = ("mon", "tue", "wed", "thu", "fri")


def windows(days: tuple[str, ...], start: str, end: str) -> list[dict[str, str]]:
    """The same window on each of the days."""
    return [{"day": day, "start": start, "end": end} for day in days]


def community() -> dict[str, Any]:
    """Four recipients, three volunteers: only v3 plays chess, only v1 shovels, none verified."""
    return {
        "week_start": "2026-11-30",
        "services": [
            {"id": "meal", "duration_min": 30},
            {"id": "chess", "duration_min": 60, "required_skills": ["chess"]},
            {"id": "bills", "duration_min": 30, "requires_verified": True},
            {"id": "snow", "duration_min": 30, "required_skills": ["shovel"]},
            {"id": "walk", "duration_min": 60, "required_skills": ["shovel"]},
        ],
        "recipients": [
            {
                "id": "r1",
                "location": {"x_m": 0, "y_m": 100},
                "needs": [
                    {
                        "id": "r1-meal",
                        "service": "meal",
                        "visits_per_week": 3,
                        "windows": windows(("mon", "wed", "fri"), "11:00", "13:00"),
                    },
                    {"id": "r1-bills", "service": "bills"},
                ],
            },
            {
                "id": "r2",
                "location": {"x_m": 100, "y_m": 100},
                "needs": [
                    {
                        "id": "r2-meal",
                        "service": "meal",
                        "visits_per_week": 2,
                        "windows": windows(("tue", "thu"), "11:00", "13:00"),
                    }
                ],
            },
            {
                "id": "r3",
                "location": {"x_m": 200, "y_m": 0},
                "needs": [
                    {
                        "id": "r3-chess",
                        "service": "chess",
                        "windows": windows(("tue", "thu"), "09:00", "17:00"),
                    },
                    {
                        "id": "r3-chess-tue",
                        "service": "chess",
                        "windows": windows(("tue",), "14:00", "16:00"),
                    },
                ],
            },
            {
                "id": "r4",
                "location": {"x_m": 0, "y_m": 0},
                "needs": [
                    {
                        "id": "r4-walk",
                        "service": "walk",
                        "windows": windows(("tue",), "06:00", "08:00"),
                    }
                ],
            },
        ],
        "volunteers": [
            {
                "id": "v1",
                "home": {"x_m": 0, "y_m": 0},
                "skills": ["shovel"],
                "availability": windows(("tue",), "06:00", "08:00")
                + windows(WEEK, "09:00", "17:00"),
            },
            {
                "id": "v2",
                "home": {"x_m": 100, "y_m": 0},
                "availability": windows(WEEK, "09:00", "17:00"),
            },
            {
                "id": "v3",
                "home": {"x_m": 200, "y_m": 0},
                "skills": ["chess"],
                "availability": windows(WEEK, "09:00", "17:00"),
            },
        ],
    }


@pytest.fixture
def problem() -> Problem:
    """The small community."""
    return Problem.model_validate(community())


@pytest.fixture
def plan(problem: Problem) -> Plan:
    """Its greedy plan, which the tests below take as the week's current plan."""
    return solve(problem, seed=0)


Slot = tuple[str, str, str, tuple[str, ...]]
"""(need, day, start, volunteers) of a visit."""


def slot(visit: Visit) -> Slot:
    """A visit's need, day, start and volunteers, comparable across plans."""
    return visit.need, visit.day, format_clock(visit.start), tuple(sorted(visit.volunteers))


def before(entry: DiffEntry) -> Slot:
    """The old visit of a diff entry as a slot."""
    assert entry.before is not None
    volunteers = tuple(sorted(entry.before.volunteers))
    return entry.need, entry.before.day, format_clock(entry.before.start), volunteers


def after(entry: DiffEntry) -> Slot:
    """The new visit of a diff entry as a slot."""
    assert entry.after is not None
    volunteers = tuple(sorted(entry.after.volunteers))
    return entry.need, entry.after.day, format_clock(entry.after.start), volunteers


def changed_entries(diff: PlanDiff) -> dict[str, list[tuple[Slot | None, Slot | None, str]]]:
    """Every entry that is not kept: (old slot, new slot, why) by category."""
    return {
        name: [
            (
                before(entry) if entry.before else None,
                after(entry) if entry.after else None,
                entry.why,
            )
            for entry in getattr(diff, name)
        ]
        for name in ("moved", "reassigned", "dropped", "added")
    }


def assert_rest_kept(old: Plan, result: Replan, touched: set[Slot]) -> None:
    """Every old visit outside `touched` is kept identical, and the new plan keeps every rule."""
    kept = {before(entry) for entry in result.diff.kept}
    assert all(after(entry) == before(entry) for entry in result.diff.kept)
    assert kept == {slot(visit) for visit in old.visits} - touched
    assert {slot(visit) for visit in result.plan.visits} >= kept
    checked(result.problem, result.plan)


def test_the_current_plan(plan: Plan) -> None:
    """The plan the tests start from (greedy, seed 0) is the one their expectations assume."""
    assert sorted(slot(visit) for visit in plan.visits) == sorted(
        [
            ("r1-meal", "mon", "11:00", ("v1",)),
            ("r4-walk", "tue", "06:00", ("v1",)),
            ("r3-chess", "tue", "09:00", ("v3",)),
            ("r2-meal", "tue", "11:00", ("v2",)),
            ("r3-chess-tue", "tue", "14:00", ("v3",)),
            ("r1-meal", "wed", "11:00", ("v2",)),
            ("r2-meal", "thu", "11:00", ("v2",)),
            ("r1-meal", "fri", "11:00", ("v1",)),
        ]
    )
    assert [(item.need, item.reason) for item in plan.unassigned] == [
        ("r1-bills", "no_qualified_volunteer")
    ]


def test_cancelled_day_moves_or_drops_only_that_volunteers_visits(
    problem: Problem, plan: Plan
) -> None:
    """v3 cancels Tuesday: the chess visit moves to Thursday, the Tuesday-only one is dropped."""
    result = replan(problem, plan, [VolunteerUnavailable(volunteer="v3", days=["tue"])])
    why = "volunteer v3 cancelled Tuesday"
    old_chess = ("r3-chess", "tue", "09:00", ("v3",))
    old_chess_tue = ("r3-chess-tue", "tue", "14:00", ("v3",))
    assert changed_entries(result.diff) == {
        "moved": [(old_chess, ("r3-chess", "thu", "09:00", ("v3",)), why)],
        "reassigned": [],
        "dropped": [(old_chess_tue, None, why)],
        "added": [],
    }
    dropped = result.diff.dropped[0]
    assert dropped.reason == "no_shared_window" and dropped.message
    assert result.diff.changes == [why]
    assert_rest_kept(plan, result, {old_chess, old_chess_tue})


def test_cancelled_hours_move_a_visit_later_the_same_day(problem: Problem, plan: Plan) -> None:
    """v3 cancels Tuesday until 12:00: the 09:00 chess visit moves to 12:00, nothing else."""
    change = VolunteerUnavailable(volunteer="v3", days=["tue"], to_time=12 * 60)
    result = replan(problem, plan, ChangeList(changes=[change]))
    old_chess = ("r3-chess", "tue", "09:00", ("v3",))
    assert changed_entries(result.diff) == {
        "moved": [
            (
                old_chess,
                ("r3-chess", "tue", "12:00", ("v3",)),
                "volunteer v3 cancelled Tuesday until 12:00",
            )
        ],
        "reassigned": [],
        "dropped": [],
        "added": [],
    }
    assert_rest_kept(plan, result, {old_chess})


def test_cancelled_week_gives_the_visits_to_others(problem: Problem, plan: Plan) -> None:
    """v2 cancels the week: each of v2's visits goes to someone else on its day."""
    result = replan(problem, plan, [{"kind": "volunteer_unavailable", "volunteer": "v2"}])
    old = {slot(visit) for visit in plan.visits if "v2" in visit.volunteers}
    entries = changed_entries(result.diff)
    assert entries["moved"] == entries["dropped"] == entries["added"] == []
    assert {old_slot for old_slot, _, _ in entries["reassigned"]} == old
    for old_slot, new_slot, why in entries["reassigned"]:
        assert new_slot is not None and old_slot is not None
        assert new_slot[:2] == old_slot[:2] and "v2" not in new_slot[3]
        assert why == "volunteer v2 cancelled the week"
    assert_rest_kept(plan, result, old)


def test_recipient_away_drops_the_days_before_and_keeps_the_rest(
    problem: Problem, plan: Plan
) -> None:
    """r1 is in hospital until Wednesday: Monday's meal is no longer asked for, the rest stays."""
    result = replan(
        problem, plan, [{"kind": "recipient_away", "recipient": "r1", "until": "2026-12-02"}]
    )
    old_monday = ("r1-meal", "mon", "11:00", ("v1",))
    why = "recipient r1 is away until Wednesday 2026-12-02"
    assert changed_entries(result.diff) == {
        "moved": [],
        "reassigned": [],
        "dropped": [(old_monday, None, why)],
        "added": [],
    }
    assert result.diff.dropped[0].reason == "not_requested"
    assert result.problem.need_by_id["r1-meal"].visits_per_week == 2
    assert_rest_kept(plan, result, {old_monday})


def test_recipient_away_moves_what_still_fits(problem: Problem, plan: Plan) -> None:
    """r3 is away until Wednesday: chess moves to Thursday, the Tuesday-only need is removed."""
    result = replan(
        problem, plan, [{"kind": "recipient_away", "recipient": "r3", "until": "2026-12-02"}]
    )
    why = "recipient r3 is away until Wednesday 2026-12-02"
    old_chess = ("r3-chess", "tue", "09:00", ("v3",))
    old_chess_tue = ("r3-chess-tue", "tue", "14:00", ("v3",))
    assert changed_entries(result.diff) == {
        "moved": [(old_chess, ("r3-chess", "thu", "09:00", ("v3",)), why)],
        "reassigned": [],
        "dropped": [(old_chess_tue, None, why)],
        "added": [],
    }
    assert "r3-chess-tue" not in result.problem.need_by_id
    assert_rest_kept(plan, result, {old_chess, old_chess_tue})


def test_urgent_need_gets_room(problem: Problem, plan: Plan) -> None:
    """Urgent snow before 07:00: v1's 06:00 walk moves after it to make room, nothing else."""
    snow = NewNeed.model_validate(
        {
            "recipient": "r4",
            "urgent": True,
            "need": {
                "id": "r4-snow",
                "service": "snow",
                "windows": windows(("tue",), "06:00", "07:00"),
            },
        }
    )
    result = replan(problem, plan, [snow])
    why = "new urgent need r4-snow of recipient r4"
    old_walk = ("r4-walk", "tue", "06:00", ("v1",))
    assert changed_entries(result.diff) == {
        "moved": [(old_walk, ("r4-walk", "tue", "06:30", ("v1",)), f"made room for {why}")],
        "reassigned": [],
        "dropped": [],
        "added": [(None, ("r4-snow", "tue", "06:00", ("v1",)), why)],
    }
    need = result.problem.need_by_id["r4-snow"]
    highest = max(problem.priority_of(other) for other in problem.need_by_id.values())
    assert need.mandatory and need.priority == 2 * highest
    assert_rest_kept(plan, result, {old_walk})


def test_new_need_that_fits_touches_nothing(problem: Problem, plan: Plan) -> None:
    """A new (not urgent) meal for r4 on Wednesday is added; every old visit is kept."""
    meal = {"id": "r4-meal", "service": "meal", "windows": windows(("wed",), "14:00", "15:00")}
    result = replan(problem, plan, [{"kind": "new_need", "recipient": "r4", "need": meal}])
    entries = changed_entries(result.diff)
    assert entries["moved"] == entries["reassigned"] == entries["dropped"] == []
    assert [(new[:3], why) for _, new, why in entries["added"] if new] == [
        (("r4-meal", "wed", "14:00"), "new need r4-meal of recipient r4")
    ]
    assert not result.problem.need_by_id["r4-meal"].mandatory
    assert_rest_kept(plan, result, set())


def test_window_change_moves_that_needs_visits(problem: Problem, plan: Plan) -> None:
    """r2 now wants meals in the afternoon: both meals move to 14:00 with v2."""
    change = {
        "kind": "window_change",
        "need": "r2-meal",
        "windows": windows(("tue", "thu"), "14:00", "16:00"),
    }
    result = replan(problem, plan, [change])
    why = "the windows of need r2-meal changed"
    old = {("r2-meal", "tue", "11:00", ("v2",)), ("r2-meal", "thu", "11:00", ("v2",))}
    assert changed_entries(result.diff) == {
        "moved": [
            (("r2-meal", "tue", "11:00", ("v2",)), ("r2-meal", "tue", "14:00", ("v2",)), why),
            (("r2-meal", "thu", "11:00", ("v2",)), ("r2-meal", "thu", "14:00", ("v2",)), why),
        ],
        "reassigned": [],
        "dropped": [],
        "added": [],
    }
    assert_rest_kept(plan, result, old)


def test_new_volunteer_covers_what_nobody_could(problem: Problem, plan: Plan) -> None:
    """A verified volunteer joins on Wednesday morning and pays r1's bills; the rest is kept."""
    volunteer = {
        "id": "v9",
        "home": {"x_m": 0, "y_m": 50},
        "verified": True,
        "availability": windows(("wed",), "09:00", "12:00"),
    }
    result = replan(problem, plan, [{"kind": "new_volunteer", "volunteer": volunteer}])
    entries = changed_entries(result.diff)
    assert entries["moved"] == entries["reassigned"] == entries["dropped"] == []
    assert [(new[0], new[1], new[3], why) for _, new, why in entries["added"] if new] == [
        ("r1-bills", "wed", ("v9",), "new volunteer v9 joined")
    ]
    assert not result.plan.unassigned
    assert_rest_kept(plan, result, set())


def test_later_changes_see_earlier_ones(problem: Problem, plan: Plan) -> None:
    """A new volunteer may cancel a day in the same list; the cancellation then applies."""
    volunteer = {"id": "v9", "home": {"x_m": 0, "y_m": 50}, "verified": True}
    volunteer["availability"] = windows(("wed", "thu"), "09:00", "12:00")
    changes = [
        {"kind": "new_volunteer", "volunteer": volunteer},
        {"kind": "volunteer_unavailable", "volunteer": "v9", "days": ["wed"]},
    ]
    changed = apply_changes(problem, changes)
    assert [window.day for window in changed.volunteer_by_id["v9"].availability] == ["thu"]
    assert problem.volunteer_by_id.get("v9") is None
    result = replan(problem, plan, changes)
    assert [after(entry)[:2] for entry in result.diff.added] == [("r1-bills", "thu")]


def test_coordinator_pin_is_kept_exactly(problem: Problem) -> None:
    """A pinned visit the changes leave alone stays exactly, and says so."""
    pin = PinnedVisit(need="r2-meal", day="thu", start=12 * 60, volunteers=["v3"])
    pinned_problem = problem.model_copy(update={"pinned": [pin]})
    old = solve(pinned_problem, seed=0)
    result = replan(pinned_problem, old, [VolunteerUnavailable(volunteer="v2", days=["tue"])])
    pinned_entries = [
        entry for entry in result.diff.kept if entry.why == "pinned by the coordinator"
    ]
    assert [after(entry) for entry in pinned_entries] == [("r2-meal", "thu", "12:00", ("v3",))]
    assert result.problem.pinned == [pin]
    checked(result.problem, result.plan)


def test_impossible_pin_is_unpinned_and_replanned(problem: Problem) -> None:
    """A pinned visit whose volunteer cancels that day is unpinned, re-planned and reported."""
    pin = PinnedVisit(need="r2-meal", day="thu", start=12 * 60, volunteers=["v3"])
    pinned_problem = problem.model_copy(update={"pinned": [pin]})
    old = solve(pinned_problem, seed=0)
    result = replan(pinned_problem, old, [VolunteerUnavailable(volunteer="v3", days=["thu"])])
    assert result.problem.pinned == []
    assert [before(entry) for entry in result.diff.reassigned] == [
        ("r2-meal", "thu", "12:00", ("v3",))
    ]
    assert any(
        "no longer possible (volunteer v3 cancelled Thursday)" in w for w in result.plan.warnings
    )
    checked(result.problem, result.plan)
    assert (
        apply_changes(pinned_problem, [VolunteerUnavailable(volunteer="v3", days=["thu"])]).pinned
        == []
    )


def test_broken_old_visit_is_replanned_too(problem: Problem, plan: Plan) -> None:
    """A hand-edited visit outside its window is re-planned too, with the rule it broke."""
    edited = plan.model_copy(deep=True)
    wednesday = next(
        visit for visit in edited.visits if visit.need == "r1-meal" and visit.day == "wed"
    )
    edit(wednesday, start=15 * 60, end=15 * 60 + 30)
    result = replan(problem, edited, [VolunteerUnavailable(volunteer="v3", days=["fri"])])
    entries = changed_entries(result.diff)
    (moved,) = entries["moved"] + entries["reassigned"]
    assert moved[0] == ("r1-meal", "wed", "15:00", ("v2",))
    assert moved[2].startswith("it broke the rule recipient_window")
    checked(result.problem, result.plan)


def test_linked_visits_are_replanned_together() -> None:
    """Linked meal and tea: v2 (tea) cancels Tuesday, so the pair moves together to when v3,
    free again from 12:00, can be there: v3 leaves home at 12:00 and walks over (outings)."""
    data = community()
    tea = {"id": "r2-tea", "service": "meal", "visits_per_week": 2}
    tea["windows"] = windows(("tue", "thu"), "11:00", "13:00")
    data["recipients"][1]["needs"].append(tea)
    data["dependencies"] = [{"first": "r2-meal", "second": "r2-tea", "kind": "simultaneous"}]
    linked = Problem.model_validate(data)
    old = solve(linked, seed=0)
    old_meal, old_tea = ("r2-meal", "tue", "11:00", ("v1",)), ("r2-tea", "tue", "11:00", ("v2",))
    assert {old_meal, old_tea} <= {slot(visit) for visit in old.visits}
    changes = [
        VolunteerUnavailable(volunteer="v2", days=["tue"]),
        VolunteerUnavailable(volunteer="v3", days=["tue"], from_time=10 * 60, to_time=12 * 60),
    ]
    result = replan(linked, old, changes)
    travel = TravelModel(linked)
    walk_min = travel.travel_min("v3", travel.start_place["v3"], travel.recipient_place["r2"])
    moved_to = format_clock(12 * 60 + math.ceil(walk_min - 1e-9))
    why = "volunteer v2 cancelled Tuesday"
    assert changed_entries(result.diff) == {
        "moved": [
            (
                old_meal,
                ("r2-meal", "tue", moved_to, ("v1",)),
                f"it goes with need r2-tea, whose visit was re-planned: {why}",
            )
        ],
        "reassigned": [(old_tea, ("r2-tea", "tue", moved_to, ("v3",)), why)],
        "dropped": [],
        "added": [],
    }
    assert_rest_kept(old, result, {old_meal, old_tea})


def test_invalid_changes_are_all_reported_at_their_index(problem: Problem) -> None:
    """Every bad change is reported at once, each at its index and field."""
    changes = [
        {"kind": "volunteer_unavailable", "volunteer": "v99", "days": ["tue"]},
        {"kind": "window_change", "need": "nope", "windows": []},
        {"kind": "new_need", "recipient": "r1", "need": {"id": "r2-meal", "service": "meal"}},
        {"kind": "recipient_away", "recipient": "r1", "until": "2026-11-01"},
        {
            "kind": "window_change",
            "need": "r1-meal",
            "windows": windows(("mon",), "11:00", "13:00"),
        },
        {
            "kind": "new_volunteer",
            "volunteer": {
                "id": "v10",
                "home": {"x_m": 0, "y_m": 0},
                "availability": windows(("mon",), "09:00", "30:00"),
            },
        },
    ]
    with pytest.raises(ValidationError) as caught:
        apply_changes(problem, changes)
    found = {
        ".".join(str(part) for part in item["loc"]): item["msg"] for item in caught.value.errors()
    }
    assert found["changes.0.volunteer"] == "unknown volunteer 'v99'"
    assert found["changes.1.need"] == "unknown need 'nope'"
    assert found["changes.2.need.id"] == "need id 'r2-meal' is already in use"
    assert "not after the first day of the week" in found["changes.3.until"]
    assert found == {
        key: found[key]
        for key in ("changes.0.volunteer", "changes.1.need", "changes.2.need.id", "changes.3.until")
    }
    with pytest.raises(ValidationError) as caught:
        apply_changes(problem, changes[4:])
    found = {
        ".".join(str(part) for part in item["loc"]): item["msg"] for item in caught.value.errors()
    }
    assert set(found) == {"changes.0.windows", "changes.1.volunteer.availability.0.end"}
    assert found["changes.0.windows"].startswith("need r1-meal: 3 visits a week")


def test_change_models_reject_nonsense() -> None:
    """Unknown kinds, extra fields, empty day lists and backwards times are errors."""
    for bad in (
        {"kind": "volunteer_quits", "volunteer": "v1"},
        {"kind": "volunteer_unavailable", "volunteer": "v1", "colour": "red"},
        {"kind": "volunteer_unavailable", "volunteer": "v1", "days": []},
        {
            "kind": "volunteer_unavailable",
            "volunteer": "v1",
            "from_time": "12:00",
            "to_time": "09:00",
        },
    ):
        with pytest.raises(ValidationError):
            ChangeList.model_validate({"changes": [bad]})


def test_plan_of_another_problem_is_rejected(problem: Problem, plan: Plan) -> None:
    """A plan naming needs the problem lacks is an input error, listed with the change errors."""
    stranger = plan.model_copy(deep=True)
    edit(stranger.visits[0], need="ghost")
    with pytest.raises(ValidationError) as caught:
        replan(problem, stranger, [{"kind": "volunteer_unavailable", "volunteer": "v99"}])
    locations = {".".join(str(part) for part in item["loc"]) for item in caught.value.errors()}
    assert locations == {"plan.visits.0.need", "changes.0.volunteer"}


def test_other_solvers_keep_the_pins(problem: Problem, plan: Plan) -> None:
    """The exact solver re-plans too, keeping every untouched visit."""
    result = replan(
        problem,
        plan,
        [VolunteerUnavailable(volunteer="v3", days=["tue"])],
        solver="cpsat",
        time_limit_s=10,
    )
    touched = {("r3-chess", "tue", "09:00", ("v3",)), ("r3-chess-tue", "tue", "14:00", ("v3",))}
    assert_rest_kept(plan, result, touched)


def test_generated_community_cancellation() -> None:
    """On a generated community a cancellation touches only that day's visits (time printed)."""
    generated = generate_community(recipients=120, volunteers=30, seed=3)
    old = solve(generated, seed=0)
    busiest = max(
        {(volunteer, visit.day) for visit in old.visits for volunteer in visit.volunteers},
        key=lambda pair: (
            sum(1 for v in old.visits if pair[0] in v.volunteers and v.day == pair[1]),
            pair,
        ),
    )
    began = time.perf_counter()
    result = replan(generated, old, [VolunteerUnavailable(volunteer=busiest[0], days=[busiest[1]])])
    elapsed = time.perf_counter() - began
    print(f"replan of {len(old.visits)} visits after one cancellation: {elapsed:.2f} s")
    touched = {
        slot(visit)
        for visit in old.visits
        if busiest[0] in visit.volunteers and visit.day == busiest[1]
    }
    assert touched
    not_kept = {
        before(entry)
        for name in ("moved", "reassigned", "dropped")
        for entry in getattr(result.diff, name)
    }
    assert not_kept == touched
    assert_rest_kept(old, result, touched)


# ------------------------------------------------------------------------------ the CLI


def test_replan_reports_in_statistics_and_leaves_its_inputs_alone(
    problem: Problem, plan: Plan
) -> None:
    """What the re-plan did is a statistic of the new plan, not a parameter; the old plan and
    problem are not changed."""
    before = (problem.model_dump_json(), plan.model_dump_json())
    result = replan(problem, plan, [VolunteerUnavailable(volunteer="v3", days=["tue"])])
    report = result.plan.solver.statistics["replan"]
    assert {key: value for key, value in report.items() if key != "wall_time_s"} == {
        "changes": 1,
        **result.diff.counts(),
    }
    assert report["wall_time_s"] >= 0
    assert "replan" not in result.plan.solver.parameters
    assert (problem.model_dump_json(), plan.model_dump_json()) == before


def test_problem_variants_are_new_problems(problem: Problem) -> None:
    """Each variant helper returns a new problem with fresh lookups; the original stays."""
    before = problem.model_dump_json()
    assert len(problem.volunteer_by_id) == 3 and "r1-meal" in problem.need_by_id
    v1 = problem.volunteer_by_id["v1"].model_copy(update={"max_visits_per_day": 1})
    fewer = problem.replace_volunteer(v1)
    assert fewer.volunteer_by_id["v1"].max_visits_per_day == 1
    assert [volunteer.id for volunteer in fewer.volunteers] == ["v1", "v2", "v3"]
    meal = problem.need_by_id["r1-meal"].model_copy(update={"visits_per_week": 1})
    assert problem.replace_need(meal).need_by_id["r1-meal"].visits_per_week == 1
    extra = problem.need_by_id["r1-meal"].model_copy(update={"id": "r1-extra"})
    added = problem.add_need("r1", extra)
    assert added.recipient_of_need["r1-extra"].id == "r1"
    newcomer = v1.model_copy(update={"id": "v9"})
    assert set(problem.add_volunteer(newcomer).volunteer_by_id) == {"v1", "v2", "v3", "v9"}
    assert len(problem.with_volunteers(problem.volunteers[:1]).volunteer_by_id) == 1
    with pytest.raises(KeyError):
        problem.replace_volunteer(newcomer)
    assert problem.model_dump_json() == before
    assert problem.volunteer_by_id["v1"] is problem.volunteers[0] is not v1
    assert "r1-extra" not in problem.need_by_id and len(problem.volunteer_by_id) == 3


@pytest.fixture
def files(tmp_path: Path, problem: Problem, plan: Plan) -> dict[str, Path]:
    """The problem, its plan and a cancellation, written as JSON files."""
    paths = {name: tmp_path / f"{name}.json" for name in ("problem", "plan", "changes")}
    paths["problem"].write_text(problem.model_dump_json())
    paths["plan"].write_text(plan.model_dump_json())
    changes = {"changes": [{"kind": "volunteer_unavailable", "volunteer": "v3", "days": ["tue"]}]}
    paths["changes"].write_text(json.dumps(changes))
    return paths


def test_cli_replan_end_to_end(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """replan writes the plan, the diff and the changed problem; check accepts the plan."""
    outputs = {name: tmp_path / f"{name}.json" for name in ("new-plan", "diff", "new-problem")}
    arguments = [
        "replan",
        str(files["problem"]),
        str(files["plan"]),
        str(files["changes"]),
        "-o",
        str(outputs["new-plan"]),
        "--diff",
        str(outputs["diff"]),
        "--problem-out",
        str(outputs["new-problem"]),
    ]
    assert main(arguments) == EXIT_OK
    printed = capsys.readouterr().out
    assert "kept 6, moved 1, reassigned 0, dropped 1, added 0" in printed
    moved = "moved: r3-chess #1: Tue 09:00-10:00 by v3 -> Thu 09:00-10:00 by v3"
    assert f"{moved}: volunteer v3 cancelled Tuesday" in printed
    assert "[no_shared_window]" in printed
    diff = PlanDiff.model_validate_json(outputs["diff"].read_text())
    assert diff.counts() == {"kept": 6, "moved": 1, "reassigned": 0, "dropped": 1, "added": 0}
    new_plan = load_plan(outputs["new-plan"])
    checked(load_problem(outputs["new-problem"]), new_plan)
    assert main(["check", str(outputs["new-problem"]), str(outputs["new-plan"])]) == EXIT_OK


def test_cli_replan_invalid_input_writes_nothing(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad changes and a bad plan are all listed, the exit code is 2 and no file appears."""
    files["changes"].write_text(
        json.dumps(
            {
                "changes": [
                    {"kind": "volunteer_unavailable", "volunteer": "v99"},
                    {"kind": "window_change", "need": "ghost", "windows": []},
                ]
            }
        )
    )
    before_files = set(tmp_path.iterdir())
    output, diff = tmp_path / "new-plan.json", tmp_path / "diff.json"
    arguments = ["replan", *(str(files[name]) for name in ("problem", "plan", "changes"))]
    assert main([*arguments, "-o", str(output), "--diff", str(diff)]) == EXIT_INVALID
    errors = capsys.readouterr().err
    assert "changes.0.volunteer: unknown volunteer 'v99'" in errors
    assert "changes.1.need: unknown need 'ghost'" in errors
    assert set(tmp_path.iterdir()) == before_files

    files["changes"].write_text('{"changes": [{"kind": "snow_day"}]}')
    files["plan"].write_text("{not json")
    assert main([*arguments, "-o", str(output)]) == EXIT_INVALID
    errors = capsys.readouterr().err
    assert "plan.json: not valid JSON" in errors and "changes.0" in errors
    assert set(tmp_path.iterdir()) == before_files


def test_cli_replan_missing_output_folder_writes_nothing(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With valid input but a diff folder that does not exist, not even the plan is written."""
    before_files = set(tmp_path.iterdir())
    arguments = ["replan", *(str(files[name]) for name in ("problem", "plan", "changes"))]
    output, diff = tmp_path / "new-plan.json", tmp_path / "nowhere" / "diff.json"
    assert main([*arguments, "-o", str(output), "--diff", str(diff)]) == EXIT_INVALID
    assert "nowhere does not exist" in capsys.readouterr().err
    assert main([*arguments, "-o", str(output), "--diff", str(output)]) == EXIT_INVALID
    assert "must be different files" in capsys.readouterr().err
    assert set(tmp_path.iterdir()) == before_files
