"""Tests of the greedy planner; every plan they produce must pass the independent checker."""

from __future__ import annotations

import json
import math
import random
from itertools import combinations
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matcher
from matcher.messages import REASON_MESSAGES
from matcher.models import (
    WEEKDAYS,
    PinnedVisit,
    Plan,
    Problem,
    TimeWindow,
    intersect_windows,
)
from matcher.rules import Diagnoser, need_facts
from matcher.solvers import GreedyParameters, build_routes, solve_greedy
from matcher.travel import TravelModel
from tests.editing import edit
from tests.helpers import (
    WEEK,
    chat,
    checked,
    example,
    load,
    outing_problems_of,
    recipient,
    visits_of,
    volunteer,
    window,
)

SKILLS = ("cooking", "haircut", "personal_care", "nursing", "tutoring", "shopping")


def solve_and_check(problem: Problem, **options: Any) -> Plan:
    """The greedy planner's plan, `checked`."""
    return checked(problem, solve_greedy(problem, TravelModel(problem), **options))


def without_wall_time(plan: Plan) -> str:
    """The plan as JSON with the one field that may differ between identical runs blanked."""
    copy = plan.model_copy(deep=True)
    edit(copy.solver, wall_time_s=0.0)
    return copy.model_dump_json()


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window(day: str, start: int, end: int) -> dict[str, str]:
    return {"day": day, "start": _clock(start), "end": _clock(end)}


def _windows(rng: random.Random, days: int, shortest: int, longest: int) -> list[dict[str, str]]:
    """A few windows on distinct random days, between 08:00 and 19:00."""
    chosen = sorted(rng.sample(range(7), days))
    result = []
    for day in chosen:
        length = rng.randrange(shortest, longest + 1, 15)
        start = rng.randrange(8 * 60, 19 * 60 - length + 1, 15)
        result.append(_window(WEEKDAYS[day], start, start + length))
    return result


def _most_visits(
    windows: list[dict[str, str]], home: list[dict[str, str]], duration: int, gap: int
) -> int:
    """How many visits `gap` days apart the windows leave room for (validation's own rule)."""
    allowed = intersect_windows(
        [TimeWindow.model_validate(window) for window in windows],
        [TimeWindow.model_validate(window) for window in home],
    )
    days = sorted({w.day_index for w in allowed if w.end - w.start >= duration})
    count, last = 0, -100
    for day in days:
        if day - last >= gap:
            count, last = count + 1, day
    return count


def random_problem(
    rng: random.Random, recipients: int, volunteers: int, side_m: float | None = None
) -> Problem:
    """A random but valid community: mixed services, teams, checks, windows, limits, history."""
    services: list[dict[str, Any]] = [
        {"id": "meal", "duration_min": 15},
        {"id": "chat", "duration_min": 60},
        {"id": "haircut", "duration_min": 45, "required_skills": ["haircut"]},
        {"id": "bills", "duration_min": 30, "requires_verified": True},
        {"id": "bath", "duration_min": 45, "team_size": 2, "required_skills": ["personal_care"]},
        {"id": "pressure", "duration_min": 15, "required_skills": ["nursing"]},
        {"id": "shop", "duration_min": 60, "required_skills": ["shopping"]},
        {
            "id": "tutor",
            "duration_min": 60,
            "required_skills": ["tutoring"],
            "recipient_kinds": ["child"],
        },
    ]
    side = side_m if side_m is not None else 300 + 60 * recipients
    helpers = []
    for index in range(volunteers):
        helper: dict[str, Any] = {
            "id": f"v{index}",
            "home": {"x_m": rng.uniform(0, side), "y_m": rng.uniform(0, side)},
            "skills": rng.sample(SKILLS, rng.randint(0, 3)),
            "verified": rng.random() < 0.4,
            "background_checked": rng.random() < 0.4,
            "gender": rng.choice(["female", "male"]),
            "languages": rng.sample(["zh", "en", "yue"], rng.randint(1, 2)),
            "availability": _windows(rng, rng.randint(2, 5), 120, 300),
            "travel_mode": rng.choice(["walk", "walk", "bike", "ebike"]),
        }
        if rng.random() < 0.3:
            helper["max_minutes_per_week"] = rng.randint(60, 600)
        if rng.random() < 0.3:
            helper["max_visits_per_day"] = rng.randint(1, 4)
        if rng.random() < 0.2:
            helper["max_trip_distance_m"] = rng.uniform(300, side)
        if rng.random() < 0.15:
            helper["kind"] = "staff"
            helper["start_location"] = {"x_m": side / 2, "y_m": side / 2}
        if rng.random() < 0.2:
            second_day = rng.choice(helper["availability"])["day"]
            start = rng.choice([12 * 60, 18 * 60])
            helper["availability"].append(_window(second_day, start, start + 180))
        helpers.append(helper)

    people = []
    elder_services = [service for service in services if service["id"] != "tutor"]
    for index in range(recipients):
        child = rng.random() < 0.1
        person: dict[str, Any] = {
            "id": f"r{index}",
            "kind": "child" if child else "elder",
            "age": rng.randint(6, 12) if child else rng.randint(65, 99),
            "location": {"x_m": rng.uniform(0, side), "y_m": rng.uniform(0, side)},
            "lives_alone": rng.random() < 0.5,
            "disability_level": rng.randint(0, 3),
            "home_windows": [],
            "needs": [],
        }
        if rng.random() < 0.3:
            person["home_windows"] = [
                _window(day, start, end)
                for day in rng.sample(WEEKDAYS, rng.randint(4, 7))
                for start, end in ((8 * 60, 12 * 60), (14 * 60, 19 * 60))
            ]
        if rng.random() < 0.2 and volunteers > 1:
            preferred, excluded = rng.sample(range(volunteers), 2)
            person["preferred_volunteers"] = [f"v{preferred}"]
            person["excluded_volunteers"] = [f"v{excluded}"]
        options = [services[-1]] if child else elder_services
        for number, service in enumerate(rng.sample(options, min(len(options), rng.randint(1, 3)))):
            windows = _windows(rng, rng.randint(1, 6), 60, 240)
            gap = rng.choice([1, 1, 2])
            duration = int(service["duration_min"])
            room = _most_visits(windows, person["home_windows"], duration, gap)
            if room == 0:
                continue
            need: dict[str, Any] = {
                "id": f"r{index}-n{number}",
                "service": service["id"],
                "visits_per_week": rng.randint(1, min(3, room)),
                "windows": windows,
                "min_gap_days": gap,
                "same_volunteer": rng.random() < 0.3,
                "mandatory": rng.random() < 0.1,
            }
            if rng.random() < 0.2:
                need["preferred_gender"] = rng.choice(["female", "male"])
            if rng.random() < 0.2:
                need["language"] = rng.choice(["zh", "en"])
            person["needs"].append(need)
        people.append(person)

    history = [
        {"recipient": f"r{rng.randrange(recipients)}", "volunteer": f"v{rng.randrange(volunteers)}"}
        for _ in range(recipients // 4)
    ]
    return Problem.model_validate(
        {
            "name": f"random-{recipients}x{volunteers}",
            "week_start": "2026-11-30",
            "services": services,
            "recipients": people,
            "volunteers": helpers,
            "history": history,
        }
    )


def test_team_visit_has_two_distinct_qualified_volunteers() -> None:
    """A bath for two gets one visit with two different volunteers who have the skill."""
    plan = solve_and_check(load("ok_small_team_visit"))
    (visit,) = plan.visits
    assert len(set(visit.volunteers)) == 2
    assert "near-unskilled" not in visit.volunteers


def test_money_task_goes_to_the_verified_volunteer() -> None:
    """Paying bills goes to the verified volunteer even though an unverified one is nearer."""
    plan = solve_and_check(load("ok_small_verified_money"))
    assert [visit.volunteers for visit in plan.visits] == [["far-verified"]]


def test_child_goes_to_the_background_checked_volunteer() -> None:
    """Tutoring a child goes to the background-checked volunteer, not the nearer one."""
    plan = solve_and_check(load("ok_small_child_tutoring"))
    assert [visit.volunteers for visit in plan.visits] == [["far-checked"]]


def test_min_gap_visits_are_far_enough_apart() -> None:
    """Three meals two days apart all fit: the cheap Tuesday must not crowd out the rest."""
    plan = solve_and_check(load("ok_small_min_gap"))
    days = sorted(WEEKDAYS.index(visit.day) for visit in visits_of(plan, "zhou-meals"))
    assert len(days) == 3
    assert all(later - earlier >= 2 for earlier, later in combinations(days, 2))


def test_tight_travel_chains_both_visits_at_the_earliest_minutes() -> None:
    """Two visits with exactly enough walking time between them both fit, each at the earliest."""
    problem = load("ok_small_travel_tight")
    plan = solve_and_check(problem)
    first, second = plan.visits
    travel = TravelModel(problem)
    walk = travel.travel_min(
        "walker", travel.recipient_place[first.recipient], travel.recipient_place[second.recipient]
    )
    assert second.start == math.ceil(first.end + walk)
    assert not plan.unassigned


def test_excluded_volunteer_never_visits() -> None:
    """The recipient's excluded neighbour is passed over for the volunteer further away."""
    plan = solve_and_check(load("ok_small_excluded"))
    assert [visit.volunteers for visit in plan.visits] == [["down-the-road"]]


def test_weekly_cap_includes_travel() -> None:
    """A 100-minute week holds two 45-minute visits with their walks, not three.

    Fairness is off: the capped neighbour offers a fifteenth of the minutes, so by default the
    fairness term would rather send the volunteer from a kilometre away."""
    problem = load("ok_small_weekly_cap")
    edit(problem.policy.weights, fairness=0)
    plan = solve_and_check(problem)
    capped = [visit for visit in plan.visits if "capped" in visit.volunteers]
    assert len(capped) == 2
    assert not plan.unassigned


def test_fairness_follows_what_each_volunteer_offered() -> None:
    """With fairness on, the neighbour who offers 100 of 1,600 minutes carries fewer visits
    than the two the cap allows (the test above), the volunteer who offers the rest carries
    the others, although they live a kilometre away."""
    plan = solve_and_check(load("ok_small_weekly_cap"))
    visits_by = {name: 0 for name in ("capped", "uncapped")}
    for visit in plan.visits:
        for volunteer_id in visit.volunteers:
            visits_by[volunteer_id] += 1
    assert visits_by["capped"] < 2 < visits_by["uncapped"]
    assert not plan.unassigned


def test_pinned_visit_stays_exactly_as_given() -> None:
    """The pinned haircut keeps its day, time and barber; the other one fits around it."""
    plan = solve_and_check(load("ok_small_pinned"))
    (pinned,) = visits_of(plan, "gao-hair")
    assert (pinned.day, pinned.start, pinned.volunteers) == ("fri", 600, ["barber"])
    assert len(visits_of(plan, "hu-hair")) == 1


def test_mandatory_need_comes_before_higher_priority() -> None:
    """With room for one visit, the mandatory need wins over a higher-priority optional one."""
    plan = solve_and_check(load("ok_small_mandatory_first"))
    assert [visit.need for visit in plan.visits] == ["must-med"]
    assert [item.reason for item in plan.unassigned] == ["volunteers_full"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("unplannable_no_skill", "no_qualified_volunteer"),
        ("unplannable_no_shared_window", "no_shared_window"),
        ("unplannable_too_far", "too_far"),
        ("unplannable_full", "volunteers_full"),
    ],
)
def test_unplannable_visit_gets_its_reason(name: str, reason: str) -> None:
    """Each unplannable instance leaves exactly one occurrence out, with the expected reason."""
    plan = solve_and_check(load(name))
    assert [item.reason for item in plan.unassigned] == [reason]
    assert plan.unassigned[0].message.startswith(REASON_MESSAGES[reason])


def test_missing_skill_is_named() -> None:
    """The message for a missing skill names the skill."""
    plan = solve_and_check(load("unplannable_no_skill"))
    assert "haircut" in plan.unassigned[0].message


def test_same_seed_gives_the_same_plan() -> None:
    """Two runs with one seed give identical plans, apart from the wall time."""
    problem = random_problem(random.Random(7), 40, 12)
    first, second = solve_and_check(problem, seed=3), solve_and_check(problem, seed=3)
    assert without_wall_time(first) == without_wall_time(second)


def test_random_mid_size_community_keeps_every_rule() -> None:
    """A random community of 40 recipients and 12 volunteers: zero violations, most planned."""
    problem = random_problem(random.Random(2026), 40, 12)
    plan = solve_and_check(problem, seed=1)
    requested = sum(need.visits_per_week for need in problem.need_by_id.values())
    assert len(plan.visits) + len(plan.unassigned) == requested
    assert len(plan.visits) >= requested // 3
    assert plan.solver.solver == "greedy"
    assert plan.solver.objective is not None


def test_plan_facts_and_routes() -> None:
    """Visits are sorted and dated, routes start and end at the right places, totals add up."""
    problem = random_problem(random.Random(11), 30, 10)
    plan = solve_and_check(problem)
    keys = [(WEEKDAYS.index(visit.day), visit.start, visit.need) for visit in plan.visits]
    assert keys == sorted(keys)
    assert all(visit.date == problem.date_of(visit.day) for visit in plan.visits)
    assert plan.week_start == problem.week_start
    assert plan.routes == build_routes(problem, TravelModel(problem), plan.visits)
    for route in plan.routes:
        assert (route.stops[0].kind, route.stops[-1].kind) == ("start", "home")
        assert route.distance_m == pytest.approx(sum(stop.distance_m for stop in route.stops))
        assert all(stop.arrival <= stop.start for stop in route.stops)
    json.loads(plan.model_dump_json())


def test_pinning_part_of_a_plan_keeps_those_visits() -> None:
    """Pinning every third visit of a plan and planning again keeps them exactly."""
    problem = random_problem(random.Random(3), 30, 10)
    first = solve_and_check(problem)
    problem = problem.model_copy(
        update={
            "pinned": [
                PinnedVisit(
                    need=visit.need, day=visit.day, start=visit.start, volunteers=visit.volunteers
                )
                for visit in first.visits[::3]
            ]
        }
    )
    second = solve_and_check(problem, seed=9)
    kept = {(v.need, v.day, v.start, tuple(v.volunteers)) for v in second.visits}
    assert all((p.need, p.day, p.start, tuple(p.volunteers)) in kept for p in problem.pinned)


def test_time_limit_marks_the_rest_not_planned() -> None:
    """With next to no time nothing is inserted: every occurrence volunteers could have taken
    says `not_planned` (none says `volunteers_full`), and the status says the limit stopped it."""
    problem = random_problem(random.Random(5), 20, 6)
    plan = solve_and_check(problem, time_limit_s=1e-9)
    assert not plan.visits
    assert plan.solver.status == "TIME_LIMIT"
    reasons = {item.reason for item in plan.unassigned}
    assert "not_planned" in reasons
    assert "volunteers_full" not in reasons


@pytest.mark.parametrize("limit", [0.0, -1.0, math.inf, math.nan])
def test_time_limit_must_be_positive_and_finite(limit: float) -> None:
    """One validation of the time limit (`base.checked_time_limit`): zero, negative, infinite
    and not-a-number limits are refused."""
    with pytest.raises(ValueError, match="time_limit_s"):
        solve_greedy(load("ok_small_team_visit"), time_limit_s=limit)


def test_parameters_are_validated_and_recorded() -> None:
    """Unknown or out-of-range parameters are refused; the ones used are written in the plan."""
    with pytest.raises(ValueError):
        GreedyParameters.model_validate({"regret_candidates": 0})
    with pytest.raises(ValueError):
        GreedyParameters.model_validate({"no_such_knob": 1})
    parameters = GreedyParameters(regret_candidates=1, team_candidates=2)
    plan = solve_and_check(load("ok_small_team_visit"), parameters=parameters)
    assert plan.solver.parameters == parameters.model_dump()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10**6),
    recipients=st.integers(1, 12),
    volunteers=st.integers(1, 6),
    regret=st.integers(1, 6),
)
def test_random_small_problems_keep_every_rule(
    seed: int, recipients: int, volunteers: int, regret: int
) -> None:
    """Any small random community, any seed and regret window: the checker finds nothing."""
    problem = random_problem(random.Random(seed), recipients, volunteers)
    parameters = GreedyParameters(regret_candidates=regret, candidate_volunteers=2)
    plan = solve_and_check(problem, seed=seed, parameters=parameters)
    requested = sum(need.visits_per_week for need in problem.need_by_id.values())
    assert len(plan.visits) + len(plan.unassigned) == requested


# --- the plan assembled once: objective = weighted coverage ----------------------------------


def test_objective_is_the_weighted_coverage() -> None:
    """`solver.objective` is the sum of the priorities of the planned visits (issue 9, defect
    4: it used to be greedy's own points), the same as `matcher.solve(..., solver="greedy")`."""
    problem = example("community")
    plan = solve_and_check(problem)
    coverage = sum(problem.priority_of(problem.need_by_id[visit.need]) for visit in plan.visits)
    assert plan.solver.objective == pytest.approx(coverage)
    assert matcher.solve(problem, solver="greedy").solver.objective == pytest.approx(coverage)


def test_reasons_come_from_the_one_diagnosis() -> None:
    """Every occurrence greedy leaves out carries the reason of the one diagnosis of
    `matcher.rules` for this plan."""
    problem = random_problem(random.Random(17), 30, 6)
    plan = solve_and_check(problem)
    travel = TravelModel(problem)
    expected = Diagnoser(problem, travel, need_facts(problem, travel)).unassigned(plan.visits)
    assert plan.unassigned == expected
    assert plan.unassigned


# --- outings: home between two windows, every leg counted, the walk of an outing -------------


def _walker_week(**walker: Any) -> dict[str, Any]:
    """A walker at (0, 0), 50 m a minute, free 09:00-11:00 and 15:00-17:00 on Monday; a
    one-hour visit east (500 m) in the morning and one north (500 m) in the afternoon."""
    return {
        "name": "walker",
        "week_start": WEEK.isoformat(),
        "travel": {"detour_factor": 1.0},
        "services": [{"id": "chat", "duration_min": 60}],
        "recipients": [
            recipient("east", chat("east-chat", [window("mon", "09:30", "11:00")]), x_m=500),
            recipient("north", chat("north-chat", [window("mon", "15:00", "16:30")]), y_m=500),
        ],
        "volunteers": [
            volunteer(
                "walker",
                speed_m_per_min=50,
                availability=[window("mon", "09:00", "11:00"), window("mon", "15:00", "17:00")],
                **walker,
            )
        ],
    }


def test_walker_goes_home_between_two_windows() -> None:
    """The walker makes the morning visit and walks home by 11:00; in the afternoon they leave
    home at 15:00 and start the next visit after the 10-minute walk, at 15:10 (a day of one trip
    would go straight from one to the other and start at 15:00)."""
    problem = Problem.model_validate(_walker_week())
    plan = solve_and_check(problem)
    starts = {visit.need: visit.start for visit in plan.visits}
    assert starts == {"east-chat": 9 * 60 + 30, "north-chat": 15 * 60 + 10}
    assert outing_problems_of(problem, plan) == []


def test_weekly_minutes_count_the_walks_home_and_out_again() -> None:
    """Two hours of visits and four 10-minute legs are 160 minutes: a 158-minute week holds
    only one of the visits (a single trip of 2 h + 34 min would have held both)."""
    problem = Problem.model_validate(_walker_week(max_minutes_per_week=158))
    plan = solve_and_check(problem)
    assert len(plan.visits) == 1
    assert [item.reason for item in plan.unassigned] == ["volunteers_full"]
    roomy = solve_and_check(Problem.model_validate(_walker_week(max_minutes_per_week=160)))
    assert len(roomy.visits) == 2


def _one_outing_two_visits(**walker: Any) -> Problem:
    """The walker free 09:00-12:00; half-hour visits at (500, 0) and (500, 300): alone they walk
    1,000 m and 1,166 m, together 1,383 m."""
    data = _walker_week(**walker)
    data["volunteers"][0]["availability"] = [window("mon", "09:00", "12:00")]
    data["services"] = [{"id": "chat", "duration_min": 30}]
    for elder, y_m in zip(data["recipients"], (0, 300), strict=True):
        elder["location"] = {"x_m": 500, "y_m": y_m}
        elder["needs"][0]["windows"] = [window("mon", "09:00", "12:00")]
    return Problem.model_validate(data)


def test_outing_distance_limit_stops_a_visit_that_makes_the_walk_too_long() -> None:
    """With `max_outing_distance_m` 1,200 the walker makes one of the two visits, either alone
    within the limit, and not both in one outing (1,383 m); without the limit, both."""
    free_problem = _one_outing_two_visits()
    free = solve_and_check(free_problem)
    assert len(free.visits) == 2
    assert outing_problems_of(free_problem, free) == []
    problem = _one_outing_two_visits(max_outing_distance_m=1200)
    assert outing_problems_of(problem, free) == ["outing_distance"]
    plan = solve_and_check(problem)
    assert len(plan.visits) == 1
    assert len(plan.unassigned) == 1
    assert outing_problems_of(problem, plan) == []


def test_visits_a_day_and_capacity_count_over_every_outing() -> None:
    """`max_visits_per_day` 1 holds for the day, not for each outing: one of the two visits."""
    plan = solve_and_check(Problem.model_validate(_walker_week(max_visits_per_day=1)))
    assert len(plan.visits) == 1


def test_random_communities_keep_every_outing() -> None:
    """Random communities with volunteers who have two windows on a day: every outing of the
    plan leaves after it opens, is home by its close and keeps its distance limits."""
    for seed in range(6):
        problem = random_problem(random.Random(100 + seed), 25, 8)
        plan = solve_and_check(problem, seed=seed)
        assert outing_problems_of(problem, plan) == []
