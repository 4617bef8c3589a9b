"""Tests of the independent plan checker against a small community worked out by hand.

The community (planar metres, detour factor 1, so a trip is its straight line):

    vera home (0,0)   anna (700,0)   walt home (1400,0)
    bert (0,700)      tim home (700,700)
    dora (0,1400)     sara home (700,1400)
    sara's office (0,2100)           cleo, a child (700,2100)

The correct plan:

    mon 10:00-10:30  anna_meal #1     vera         (pinned)
    mon 11:00-12:00  anna_bath #1     vera, walt
    tue 09:00-09:45  bert_bills #1    sara
    tue 10:30-11:00  dora_meal #1     sara
    wed 10:00-10:30  anna_meal #2     vera
    fri 15:00-16:00  cleo_tutoring #1 sara
    (bert_meal is left unassigned)

Each rule test starts from the correct plan and changes it so that exactly one rule breaks.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

import pytest

from matcher.checker import RULE_CODES, CheckReport, Violation, check_plan, gini_coefficient
from matcher.models import Plan, Problem, UnassignedVisit, Visit, VisitDependency
from matcher.solvers.routes import build_routes
from matcher.travel import TravelModel
from tests.editing import edit
from tests.test_checker_sessions import SESSION_BREAKERS
from tests.helpers import DATA, ROOT, minutes, rules_of, window

RULES_DOCUMENT = ROOT / "docs" / "rules.md"


def make_problem() -> Problem:
    """The small community of the module docstring."""
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    return Problem.model_validate(
        {
            "name": "Small community",
            "week_start": "2026-11-30",
            "travel": {"method": "coordinates", "detour_factor": 1.0},
            "services": [
                {"id": "meal", "name": "Meal delivery", "duration_min": 30},
                {
                    "id": "bath",
                    "name": "Bathing help",
                    "duration_min": 60,
                    "required_skills": ["personal_care"],
                    "team_size": 2,
                },
                {
                    "id": "bills",
                    "name": "Paying bills",
                    "duration_min": 45,
                    "requires_verified": True,
                },
                {
                    "id": "tutoring",
                    "name": "Homework help",
                    "duration_min": 60,
                    "required_skills": ["teaching"],
                    "recipient_kinds": ["child"],
                },
            ],
            "recipients": [
                {
                    "id": "anna",
                    "name": "Anna",
                    "age": 85,
                    "lives_alone": True,
                    "location": {"x_m": 700, "y_m": 0},
                    "preferred_volunteers": ["vera"],
                    "needs": [
                        {
                            "id": "anna_meal",
                            "service": "meal",
                            "visits_per_week": 2,
                            "min_gap_days": 2,
                            "mandatory": True,
                            "windows": [window(day, "10:00", "13:00") for day in weekdays],
                        },
                        {"id": "anna_bath", "service": "bath"},
                    ],
                },
                {
                    "id": "bert",
                    "name": "Bert",
                    "priority": 2,
                    "location": {"x_m": 0, "y_m": 700},
                    "needs": [
                        {
                            "id": "bert_bills",
                            "service": "bills",
                            "windows": [window("tue", "08:00", "12:00")],
                        },
                        {"id": "bert_meal", "service": "meal"},
                    ],
                },
                {
                    "id": "cleo",
                    "name": "Cleo",
                    "kind": "child",
                    "age": 9,
                    "location": {"x_m": 700, "y_m": 2100},
                    "home_windows": [window("fri", "14:00", "18:00")],
                    "needs": [{"id": "cleo_tutoring", "service": "tutoring"}],
                },
                {
                    "id": "dora",
                    "name": "Dora",
                    "disability_level": 2,
                    "location": {"x_m": 0, "y_m": 1400},
                    "excluded_volunteers": ["walt"],
                    "needs": [{"id": "dora_meal", "service": "meal", "priority": 4}],
                },
            ],
            "volunteers": [
                {
                    "id": "vera",
                    "name": "Vera",
                    "home": {"x_m": 0, "y_m": 0},
                    "skills": ["personal_care"],
                    "verified": True,
                    "speed_m_per_min": 70,
                    "availability": [
                        window("mon", "09:00", "13:00"),
                        window("tue", "09:00", "13:00"),
                        window("wed", "09:00", "12:00"),
                    ],
                    "max_visits_per_day": 2,
                    "max_minutes_per_week": 240,
                    "max_trip_distance_m": 1000,
                },
                {
                    "id": "walt",
                    "name": "Walt",
                    "home": {"x_m": 1400, "y_m": 0},
                    "skills": ["personal_care", "teaching"],
                    "travel_mode": "bike",
                    "speed_m_per_min": 140,
                    "availability": [
                        window("mon", "09:00", "14:00"),
                        window("tue", "08:00", "12:00"),
                        window("fri", "12:00", "18:00"),
                    ],
                    "max_visits_per_day": 1,
                },
                {
                    "id": "sara",
                    "name": "Sara",
                    "kind": "staff",
                    "home": {"x_m": 700, "y_m": 1400},
                    "start_location": {"x_m": 0, "y_m": 2100},
                    "skills": ["teaching"],
                    "verified": True,
                    "background_checked": True,
                    "speed_m_per_min": 70,
                    "availability": [
                        window("tue", "08:00", "12:00"),
                        window("fri", "12:00", "17:00"),
                    ],
                },
                {
                    "id": "tim",
                    "name": "Tim",
                    "home": {"x_m": 700, "y_m": 700},
                    "background_checked": True,
                    "travel_mode": "car",
                    "speed_m_per_min": 350,
                    "availability": [
                        window("mon", "12:00", "18:00"),
                        window("fri", "12:00", "18:00"),
                    ],
                },
            ],
            "history": [{"recipient": "bert", "volunteer": "sara"}],
            "pinned": [
                {"need": "anna_meal", "day": "mon", "start": "10:00", "volunteers": ["vera"]}
            ],
        }
    )


NEED_OWNERS = {
    "anna_meal": ("anna", "meal"),
    "anna_bath": ("anna", "bath"),
    "bert_bills": ("bert", "bills"),
    "bert_meal": ("bert", "meal"),
    "cleo_tutoring": ("cleo", "tutoring"),
    "dora_meal": ("dora", "meal"),
}


def make_visit(
    need: str, occurrence: int, day: str, start: str, end: str, volunteers: list[str]
) -> Visit:
    """A visit of one of the fixture's needs, with its recipient and service filled in."""
    recipient, service = NEED_OWNERS.get(need, ("anna", "meal"))
    return Visit.model_validate(
        {
            "need": need,
            "recipient": recipient,
            "service": service,
            "occurrence": occurrence,
            "day": day,
            "start": start,
            "end": end,
            "volunteers": volunteers,
        }
    )


def make_plan() -> Plan:
    """The correct plan of the module docstring."""
    return Plan(
        problem_name="Small community",
        visits=[
            make_visit("anna_meal", 1, "mon", "10:00", "10:30", ["vera"]),
            make_visit("anna_bath", 1, "mon", "11:00", "12:00", ["vera", "walt"]),
            make_visit("bert_bills", 1, "tue", "09:00", "09:45", ["sara"]),
            make_visit("dora_meal", 1, "tue", "10:30", "11:00", ["sara"]),
            make_visit("anna_meal", 2, "wed", "10:00", "10:30", ["vera"]),
            make_visit("cleo_tutoring", 1, "fri", "15:00", "16:00", ["sara"]),
        ],
        unassigned=[
            UnassignedVisit(
                need="bert_meal",
                recipient="bert",
                service="meal",
                occurrence=1,
                reason="volunteers_full",
                message="Every qualified volunteer who could come is already fully booked.",
            )
        ],
    )


@pytest.fixture
def problem() -> Problem:
    return make_problem()


@pytest.fixture
def plan() -> Plan:
    return make_plan()


def visit_of(plan: Plan, need: str, occurrence: int = 1) -> Visit:
    """The plan's visit of this need and occurrence."""
    return next(v for v in plan.visits if v.need == need and v.occurrence == occurrence)


def move(
    visit: Visit, day: str | None = None, start: str | None = None, end: str | None = None
) -> None:
    """Change a visit's day and times in place."""
    if day is not None:
        edit(visit, day=day)
    if start is not None:
        edit(visit, start=minutes(start))
    if end is not None:
        edit(visit, end=minutes(end))


# --- the correct plan ------------------------------------------------------------------------


def test_correct_plan_keeps_every_rule(problem: Problem, plan: Plan) -> None:
    """The hand-made plan passes with no violation and no notice."""
    report = check_plan(problem, plan)
    assert report.violations == []
    assert report.notices == []
    assert report.ok


def test_metrics_of_correct_plan_match_hand_computation(problem: Problem, plan: Plan) -> None:
    """Coverage, travel, continuity and load equal the numbers worked out by hand."""
    metrics = check_plan(problem, plan).metrics

    # Requested: anna_meal 2 + anna_bath, bert_bills, bert_meal, cleo_tutoring, dora_meal 1 each.
    assert metrics.visits_requested == 7
    assert metrics.visits_planned == 6
    assert metrics.coverage_pct == pytest.approx(100 * 6 / 7)

    # Priorities: anna 1 base + 1 lives alone + 1 aged 85 = 3; bert 2 (given); cleo 1 (base);
    # dora_meal 4 (the need's own). Only bert_meal (2) is missing.
    assert metrics.weighted_requested == pytest.approx(3 * 3 + 2 * 2 + 1 + 4)
    assert metrics.weighted_planned == pytest.approx(3 * 3 + 2 + 1 + 4)
    assert metrics.weighted_coverage_pct == pytest.approx(100 * 16 / 18)

    # vera mon: 700 there, 0 between, 700 home at 70 m/min; wed the same.
    # walt mon: 700 there and back at 140 m/min.
    # sara tue: office-bert 1400, bert-dora 700, dora-home 700; fri: office-cleo 700, cleo-home 700.
    vera_m, walt_m, sara_m = 1400 + 1400, 1400, 2800 + 1400
    assert metrics.travel_distance_m == pytest.approx(vera_m + walt_m + sara_m)
    assert metrics.travel_min == pytest.approx(vera_m / 70 + walt_m / 140 + sara_m / 70)

    assert metrics.recipients_visited == 4
    # anna: vera and walt; bert, cleo, dora: sara.
    assert metrics.distinct_volunteers_per_recipient == pytest.approx((2 + 1 + 1 + 1) / 4)
    # anna's three visits by her preferred vera, bert's by sara from history; dora, cleo not.
    assert metrics.continuity_pct == pytest.approx(100 * 4 / 6)

    loads = {load.volunteer: load for load in metrics.loads}
    assert list(loads) == ["vera", "walt", "sara", "tim"]
    # (visits, visit minutes, travel minutes) per volunteer.
    expected = {"vera": (3, 30 + 60 + 30, 40), "walt": (1, 60, 10), "sara": (3, 45 + 30 + 60, 60)}
    for volunteer, (visits, visit_min, travel_min) in expected.items():
        assert loads[volunteer].visits == visits
        assert loads[volunteer].visit_min == pytest.approx(visit_min)
        assert loads[volunteer].travel_min == pytest.approx(travel_min)
    assert loads["tim"].total_min == 0
    totals = [160, 70, 195, 0]
    assert [load.total_min for load in metrics.loads] == pytest.approx(totals)
    assert metrics.load_min_minutes == pytest.approx(0)
    assert metrics.load_median_minutes == pytest.approx((70 + 160) / 2)
    assert metrics.load_max_minutes == pytest.approx(195)
    # Gini: sum of |x_i - x_j| over ordered pairs / (2 n^2 mean). Unordered pair differences
    # 90 + 35 + 160 + 125 + 70 + 195 = 675; n = 4; mean = 425 / 4.
    assert metrics.load_gini == pytest.approx(2 * 675 / (2 * 4**2 * 425 / 4))


def test_loads_leave_out_volunteers_without_availability(problem: Problem, plan: Plan) -> None:
    """A volunteer with no availability gets no load entry and does not pull the minimum down."""
    edit(problem.volunteer_by_id["tim"], availability=[])
    metrics = check_plan(problem, plan).metrics
    assert [load.volunteer for load in metrics.loads] == ["vera", "walt", "sara"]
    assert metrics.load_min_minutes == pytest.approx(70)
    assert metrics.load_median_minutes == pytest.approx(160)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 0, 0, 60], 0.75),
        ([30, 30, 30], 0.0),
        ([0, 0], 0.0),
        ([], 0.0),
        ([10, 20], 10 * 2 / (2 * 2**2 * 15)),
    ],
)
def test_gini_of_known_vectors(values: list[float], expected: float) -> None:
    """The Gini coefficient is 0 for equal loads and (n-1)/n when one volunteer carries all."""
    assert gini_coefficient(values) == pytest.approx(expected)


def test_empty_problem_counts_as_fully_covered() -> None:
    """With nothing requested, every percentage is 100 and the empty plan is fine."""
    empty = Problem.model_validate({"week_start": "2026-11-30"})
    report = check_plan(empty, Plan())
    assert report.ok
    metrics = report.metrics
    assert (metrics.coverage_pct, metrics.weighted_coverage_pct, metrics.continuity_pct) == (
        100.0,
        100.0,
        100.0,
    )


def test_prebuilt_travel_model_gives_the_same_report(problem: Problem, plan: Plan) -> None:
    """Passing the problem's travel model changes nothing."""
    assert check_plan(problem, plan, TravelModel(problem)) == check_plan(problem, plan)


# --- one broken rule at a time ---------------------------------------------------------------

Breaker = Callable[[Problem, Plan], None]


def unknown_volunteer(problem: Problem, plan: Plan) -> None:
    edit(visit_of(plan, "bert_bills"), volunteers=["nobody"])


def unknown_need(problem: Problem, plan: Plan) -> None:
    plan.visits.append(make_visit("ghost", 1, "thu", "10:00", "10:30", ["vera"]))


def wrong_duration(problem: Problem, plan: Plan) -> None:
    move(visit_of(plan, "bert_bills"), end="10:00")


def wrong_recipient(problem: Problem, plan: Plan) -> None:
    edit(visit_of(plan, "bert_bills"), recipient="anna")


def wrong_service(problem: Problem, plan: Plan) -> None:
    edit(visit_of(plan, "anna_meal", 1), service="bills")


def occurrence_beyond_visits_per_week(problem: Problem, plan: Plan) -> None:
    edit(visit_of(plan, "bert_bills"), occurrence=2)


def duplicate_occurrence(problem: Problem, plan: Plan) -> None:
    edit(visit_of(plan, "anna_meal", 2), occurrence=1)


def tutor_without_teaching(problem: Problem, plan: Plan) -> None:
    # Tim is background-checked and free on Friday, but cannot teach.
    edit(visit_of(plan, "cleo_tutoring"), volunteers=["tim"])


def bills_by_unverified(problem: Problem, plan: Plan) -> None:
    edit(visit_of(plan, "bert_bills"), volunteers=["walt"])


def child_without_background_check(problem: Problem, plan: Plan) -> None:
    # Walt can teach and is free on Friday, but has no background check.
    edit(visit_of(plan, "cleo_tutoring"), volunteers=["walt"])


def service_not_for_children(problem: Problem, plan: Plan) -> None:
    # Validation forbids this, so the service is changed after validation: the checker must not
    # rely on the problem having been validated.
    edit(problem.service_by_id["tutoring"], recipient_kinds=["elder"])


def before_need_window(problem: Problem, plan: Plan) -> None:
    move(visit_of(plan, "anna_meal", 2), start="09:30", end="10:00")


def outside_home_window(problem: Problem, plan: Plan) -> None:
    move(visit_of(plan, "cleo_tutoring"), start="13:00", end="14:00")


def after_volunteer_window(problem: Problem, plan: Plan) -> None:
    move(visit_of(plan, "anna_meal", 2), start="12:00", end="12:30")


def volunteer_double_booked(problem: Problem, plan: Plan) -> None:
    move(visit_of(plan, "dora_meal"), start="09:30", end="10:00")


def recipient_double_booked(problem: Problem, plan: Plan) -> None:
    plan.visits.append(make_visit("bert_meal", 1, "tue", "09:15", "09:45", ["walt"]))


def too_little_time_between(problem: Problem, plan: Plan) -> None:
    # bert to dora is 700 m, 10 minutes for sara; she has 5.
    move(visit_of(plan, "dora_meal"), start="09:50", end="10:20")


def leaves_before_available(problem: Problem, plan: Plan) -> None:
    # The office to bert is 1400 m, 20 minutes: sara would leave at 07:55, before 08:00.
    move(visit_of(plan, "bert_bills"), start="08:15", end="09:00")


def home_after_available(problem: Problem, plan: Plan) -> None:
    # dora to sara's home is 700 m, 10 minutes: home at 12:10, after 12:00.
    move(visit_of(plan, "dora_meal"), start="11:30", end="12:00")


def team_of_one(problem: Problem, plan: Plan) -> None:
    edit(visit_of(plan, "anna_bath"), volunteers=["vera"])


def team_of_the_same_person_twice(problem: Problem, plan: Plan) -> None:
    edit(visit_of(plan, "anna_bath"), volunteers=["vera", "vera"])


def two_meals_on_monday(problem: Problem, plan: Plan) -> None:
    second = visit_of(plan, "anna_meal", 2)
    move(second, day="mon", start="12:30", end="13:00")
    edit(second, volunteers=["tim"])


def meals_on_consecutive_days(problem: Problem, plan: Plan) -> None:
    move(visit_of(plan, "anna_meal", 2), day="tue")


def second_visit_for_walt(problem: Problem, plan: Plan) -> None:
    plan.visits.append(make_visit("bert_meal", 1, "mon", "12:30", "13:00", ["walt"]))


def bills_without_their_linked_meal(problem: Problem, plan: Plan) -> None:
    # bert's meal (unplanned) must now come the same day as his bills (tuesday).
    problem.dependencies.append(
        VisitDependency(first="bert_bills", second="bert_meal", kind="sequential")
    )


def vera_carries_too_much(problem: Problem, plan: Plan) -> None:
    # vera's monday holds anna's meal (load 1) and bath, but she can carry nothing.
    edit(problem.need_by_id["anna_meal"], load=1)
    edit(problem.volunteer_by_id["vera"], capacity=0)


def vera_over_her_week(problem: Problem, plan: Plan) -> None:
    # vera's 160 minutes grow by 45 + 30 visiting and 20 travelling to 255, over her 240.
    bills = visit_of(plan, "bert_bills")
    move(bills, start="10:00", end="10:45")
    edit(bills, volunteers=["vera"])
    plan.visits.append(make_visit("bert_meal", 1, "tue", "10:45", "11:15", ["vera"]))


def dora_too_far_for_vera(problem: Problem, plan: Plan) -> None:
    # vera's home to dora is 1400 m, more than her 1000 m.
    edit(visit_of(plan, "dora_meal"), volunteers=["vera"])


def excluded_walt_visits_dora(problem: Problem, plan: Plan) -> None:
    edit(visit_of(plan, "dora_meal"), volunteers=["walt"])


def pinned_visit_moved(problem: Problem, plan: Plan) -> None:
    move(visit_of(plan, "anna_meal", 1), start="10:15", end="10:45")


def mandatory_visit_dropped(problem: Problem, plan: Plan) -> None:
    plan.visits.remove(visit_of(plan, "anna_meal", 2))


def sara_walks_too_far_on_tuesday(problem: Problem, plan: Plan) -> None:
    # sara's tuesday outing: office-bert 1400, bert-dora 700, dora-home 700 = 2800 m.
    edit(problem.volunteer_by_id["sara"], max_outing_distance_m=2500)


BREAKERS: list[tuple[str, Breaker]] = [
    ("unknown_reference", unknown_volunteer),
    ("unknown_reference", unknown_need),
    ("visit_mismatch", wrong_duration),
    ("visit_mismatch", wrong_recipient),
    ("visit_mismatch", wrong_service),
    ("visit_mismatch", occurrence_beyond_visits_per_week),
    ("visit_mismatch", duplicate_occurrence),
    ("skill", tutor_without_teaching),
    ("verified", bills_by_unverified),
    ("background_check", child_without_background_check),
    ("recipient_kind", service_not_for_children),
    ("recipient_window", before_need_window),
    ("recipient_window", outside_home_window),
    ("volunteer_window", after_volunteer_window),
    ("volunteer_overlap", volunteer_double_booked),
    ("recipient_overlap", recipient_double_booked),
    ("dependency", bills_without_their_linked_meal),
    ("travel_time", too_little_time_between),
    ("travel_time", leaves_before_available),
    ("travel_time", home_after_available),
    ("team_size", team_of_one),
    ("team_size", team_of_the_same_person_twice),
    ("same_day", two_meals_on_monday),
    ("min_gap", meals_on_consecutive_days),
    ("max_visits_per_day", second_visit_for_walt),
    ("capacity", vera_carries_too_much),
    ("max_minutes_per_week", vera_over_her_week),
    ("trip_distance", dora_too_far_for_vera),
    ("outing_distance", sara_walks_too_far_on_tuesday),
    ("excluded_volunteer", excluded_walt_visits_dora),
    ("pinned_missing", pinned_visit_moved),
    ("mandatory_missing", mandatory_visit_dropped),
]


@pytest.mark.parametrize(
    ("rule", "breaker"), BREAKERS, ids=[breaker.__name__ for _, breaker in BREAKERS]
)
def test_each_change_breaks_exactly_its_rule(
    problem: Problem, plan: Plan, rule: str, breaker: Breaker
) -> None:
    """Each change to the correct plan is reported under its own rule and no other."""
    breaker(problem, plan)
    report = check_plan(problem, plan)
    assert rules_of(report) == {rule}, report.summary()
    assert not report.ok
    assert all(violation.message for violation in report.violations)


def test_every_documented_rule_is_known_and_tested() -> None:
    """The checker's codes, the codes of docs/rules.md and the codes tested above agree."""
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", RULES_DOCUMENT.read_text(), re.MULTILINE))
    assert documented == set(RULE_CODES)
    tested = {rule for rule, _ in BREAKERS} | {rule for rule, _ in SESSION_BREAKERS}
    assert tested == set(RULE_CODES)


# --- details of the report -------------------------------------------------------------------


def test_violation_names_the_visit_volunteer_and_day(problem: Problem, plan: Plan) -> None:
    """A violation carries the need, occurrence, volunteer and day it is about."""
    tutor_without_teaching(problem, plan)
    (violation,) = check_plan(problem, plan).violations
    assert violation == Violation(
        rule="skill",
        message=violation.message,
        need="cleo_tutoring",
        occurrence=1,
        volunteer="tim",
        day="fri",
    )
    assert "Tim (tim)" in violation.message
    assert "teaching" in violation.message
    assert "Friday 15:00-16:00" in violation.message


def test_travel_time_message_gives_the_minutes(problem: Problem, plan: Plan) -> None:
    """The travel violation says how long the trip takes and how much time there is."""
    too_little_time_between(problem, plan)
    (violation,) = check_plan(problem, plan).violations
    assert "takes 10 min" in violation.message
    assert "only 5 min" in violation.message
    assert (violation.volunteer, violation.day, violation.need) == ("sara", "tue", "dora_meal")


def test_every_violation_is_reported_not_just_the_first(problem: Problem, plan: Plan) -> None:
    """Several broken rules, and the same rule broken twice, are all in the report."""
    dora_too_far_for_vera(problem, plan)  # two legs over 1000 m: there and back
    tutor_without_teaching(problem, plan)
    team_of_one(problem, plan)
    report = check_plan(problem, plan)
    rules = [violation.rule for violation in report.violations]
    assert sorted(rules) == ["skill", "team_size", "trip_distance", "trip_distance"]


def test_pinned_volunteers_match_in_any_order(problem: Problem, plan: Plan) -> None:
    """A pinned team listed in another order than in the plan still matches."""
    problem.pinned.append(
        problem.pinned[0].model_validate(
            {"need": "anna_bath", "day": "mon", "start": "11:00", "volunteers": ["walt", "vera"]}
        )
    )
    assert check_plan(problem, plan).ok


def test_mandatory_visit_listed_as_unassigned_is_a_notice(problem: Problem, plan: Plan) -> None:
    """A mandatory occurrence the plan lists as unassigned gives a notice, not a violation."""
    mandatory_visit_dropped(problem, plan)
    plan.unassigned.append(
        UnassignedVisit(
            need="anna_meal",
            recipient="anna",
            service="meal",
            occurrence=2,
            reason="volunteers_full",
            message="Every qualified volunteer is fully booked.",
        )
    )
    report = check_plan(problem, plan)
    assert report.ok
    assert len(report.notices) == 1
    assert "anna_meal" in report.notices[0]
    assert "volunteers_full" in report.notices[0]


def test_mandatory_occurrences_are_counted_not_matched(problem: Problem, plan: Plan) -> None:
    """With both meals dropped and one listed, exactly one occurrence is missing."""
    edit(plan, visits=[visit for visit in plan.visits if visit.need != "anna_meal"])
    problem.pinned.clear()
    plan.unassigned.append(
        UnassignedVisit(
            need="anna_meal",
            recipient="anna",
            service="meal",
            occurrence=2,
            reason="too_far",
            message="Too far.",
        )
    )
    report = check_plan(problem, plan)
    assert [(v.rule, v.need, v.occurrence) for v in report.violations] == [
        ("mandatory_missing", "anna_meal", 1)
    ]
    assert len(report.notices) == 1


def test_plan_with_unknown_references_does_not_crash(problem: Problem, plan: Plan) -> None:
    """Unknown needs, volunteers, recipients and services, backwards times: a report, no crash."""
    plan.visits.extend(
        [
            make_visit("ghost", 1, "sun", "23:00", "22:00", ["nobody", "vera"]),
            make_visit("anna_meal", 9, "sat", "01:00", "00:30", ["walt", "walt", "ghost"]),
            make_visit("bert_meal", 1, "thu", "10:00", "10:30", ["nobody"]),
        ]
    )
    edit(visit_of(plan, "dora_meal"), recipient="nobody", service="nothing")
    plan.unassigned.append(
        UnassignedVisit(
            need="ghost",
            recipient="nobody",
            service="nothing",
            occurrence=1,
            reason="not_planned",
            message="?",
        )
    )
    report = check_plan(problem, plan)
    assert rules_of(report) == {"unknown_reference", "visit_mismatch"}
    unknown = [v for v in report.violations if v.rule == "unknown_reference"]
    assert len(unknown) == 4  # ghost need, nobody on it, ghost volunteer, nobody on bert_meal
    assert any("ghost" in notice for notice in report.notices)
    assert "unknown_reference" in report.summary()


def test_unreachable_place_on_a_walkway_graph_is_reported() -> None:
    """A recipient the walkways do not connect to gives travel and trip violations, no crash."""
    island = Problem.model_validate(
        {
            "week_start": "2026-11-30",
            "travel": {
                "method": "graph",
                "walkways": [
                    {"a": "gate", "b": "block_a", "distance_m": 300},
                    {"a": "island", "b": "pier", "distance_m": 50},
                ],
            },
            "services": [{"id": "meal", "duration_min": 30}],
            "recipients": [
                {
                    "id": "ida",
                    "location": {"place": "island"},
                    "needs": [{"id": "ida_meal", "service": "meal"}],
                }
            ],
            "volunteers": [
                {
                    "id": "gus",
                    "home": {"place": "gate"},
                    "availability": [window("mon", "09:00", "12:00")],
                    "max_trip_distance_m": 1000,
                }
            ],
        }
    )
    stranded = Plan(
        visits=[
            Visit.model_validate(
                {
                    "need": "ida_meal",
                    "recipient": "ida",
                    "service": "meal",
                    "occurrence": 1,
                    "day": "mon",
                    "start": "10:00",
                    "end": "10:30",
                    "volunteers": ["gus"],
                }
            )
        ]
    )
    report = check_plan(island, stranded)
    assert rules_of(report) == {"travel_time", "trip_distance"}
    assert all("no way" in violation.message for violation in report.violations)
    assert report.metrics.travel_distance_m == float("inf")
    assert "Travel:" in report.summary()


def test_summary_shows_metrics_and_every_violation(problem: Problem, plan: Plan) -> None:
    """The summary has the verdict, the coverage, the travel and one line per violation."""
    assert check_plan(problem, plan).summary().startswith("Plan check: OK")
    dora_too_far_for_vera(problem, plan)
    report = check_plan(problem, plan)
    summary = report.summary()
    assert "2 violation(s)" in summary
    assert "Visits planned: 6 of 7 (85.7%)" in summary
    assert "Travel:" in summary
    assert summary.count("[trip_distance]") == 2


# --- outings --------------------------------------------------------------------------------
#
# tests/data/ok_small_two_outings.json: a retired walker at home (0,0), 70 m/min, free Monday
# 09:00-11:00 and 15:00-17:00 and Tuesday 09:00-10:00 and 10:00-11:00 (touching: one outing).
# ann (700,0) is 10 min away, bob (1400,0) 20 min, cora (0,700) 10 min; every chat is 30 min.
# tests/data/ok_small_outing_distance.json: a walker at home (700,0) whose outing may be at most
# 2000 m, free Monday 09:00-12:00 and 14:00-17:00; east (1400,0) and west (0,0) are 700 m away
# from home each and 1400 m from each other.


def instance(name: str, **volunteer_changes: Any) -> Problem:
    """A problem of tests/data, its one volunteer changed as given."""
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    data["volunteers"][0].update(volunteer_changes)
    return Problem.model_validate(data)


def chats(*planned: tuple[str, str, str]) -> Plan:
    """A plan of 30-minute chats by the instance's walker: (recipient, day, start) each."""
    visits = []
    for recipient, day, start in planned:
        begin = minutes(start)
        visits.append(
            Visit(
                need=f"{recipient}-chat",
                recipient=recipient,
                service="chat",
                occurrence=1,
                day=day,  # type: ignore[arg-type]
                start=begin,
                end=begin + 30,
                volunteers=["walker"],
            )
        )
    return Plan(visits=visits)


TWO_OUTINGS = "ok_small_two_outings"
OUTING_DISTANCE = "ok_small_outing_distance"
GAP_ON_TUESDAY = [
    window("mon", "09:00", "11:00"),
    window("mon", "15:00", "17:00"),
    window("tue", "09:00", "09:55"),
    window("tue", "10:00", "11:00"),
]

# (rule, name, (instance, volunteer changes, plan) broken, the same made legal)
OutingCase = tuple[str, dict[str, Any], list[tuple[str, str, str]]]
OUTING_PAIRS: list[tuple[str, str, OutingCase, OutingCase]] = [
    (
        # From an 11:00-ish visit: home at 11:10, after the first outing closes at 11:00. Read as
        # one trip, the walk on to bob at 15:20 would fit.
        "travel_time",
        "home_by_the_end_of_the_first_outing",
        (TWO_OUTINGS, {}, [("ann", "mon", "10:30"), ("bob", "mon", "15:20")]),
        (TWO_OUTINGS, {}, [("ann", "mon", "10:20"), ("bob", "mon", "15:20")]),
    ),
    (
        # The second outing leaves home at or after 15:00: bob at 15:00 would mean 14:40.
        "travel_time",
        "second_outing_leaves_home_after_it_opens",
        (TWO_OUTINGS, {}, [("ann", "mon", "10:00"), ("bob", "mon", "15:00")]),
        (TWO_OUTINGS, {}, [("ann", "mon", "10:00"), ("bob", "mon", "15:20")]),
    ),
    (
        # Leaving from the start location (2100,0), 10 min from bob, bob at 15:10 fits; from
        # home (20 min) it does not.
        "travel_time",
        "each_outing_leaves_the_start_place",
        (TWO_OUTINGS, {}, [("ann", "mon", "10:00"), ("bob", "mon", "15:10")]),
        (
            TWO_OUTINGS,
            {"start_location": {"x_m": 2100, "y_m": 0}},
            [("ann", "mon", "10:00"), ("bob", "mon", "15:10")],
        ),
    ),
    (
        # 09:45-10:15 lies across the two Tuesday windows: one outing when they touch.
        "volunteer_window",
        "touching_windows_are_one_outing",
        (TWO_OUTINGS, {"availability": GAP_ON_TUESDAY}, [("cora", "tue", "09:45")]),
        (TWO_OUTINGS, {}, [("cora", "tue", "09:45")]),
    ),
    (
        # 60 visiting + 10 + 10 (ann and back) + 20 + 20 (bob and back) = 120; as one trip it
        # would be 60 + 10 + 10 + 20 = 100.
        "max_minutes_per_week",
        "weekly_minutes_count_the_walk_home_between_outings",
        (
            TWO_OUTINGS,
            {"max_minutes_per_week": 119},
            [("ann", "mon", "10:00"), ("bob", "mon", "15:20")],
        ),
        (
            TWO_OUTINGS,
            {"max_minutes_per_week": 120},
            [("ann", "mon", "10:00"), ("bob", "mon", "15:20")],
        ),
    ),
    (
        # home-bob and bob-home are 1400 m each; every other leg 700 m.
        "trip_distance",
        "each_leg_of_each_outing",
        (
            TWO_OUTINGS,
            {"max_trip_distance_m": 1000},
            [("ann", "mon", "10:00"), ("bob", "mon", "15:20")],
        ),
        (
            TWO_OUTINGS,
            {"max_trip_distance_m": 1400},
            [("ann", "mon", "10:00"), ("bob", "mon", "15:20")],
        ),
    ),
    (
        # One morning outing: 700 + 1400 + 700 = 2800 m, over 2000. One visit an outing: 1400 m
        # each (no leg is longer than 1400 m either way).
        "outing_distance",
        "outing_walk_at_most_max_outing_distance",
        (OUTING_DISTANCE, {}, [("east", "mon", "10:00"), ("west", "mon", "11:00")]),
        (OUTING_DISTANCE, {}, [("east", "mon", "10:00"), ("west", "mon", "15:00")]),
    ),
]


def run_case(case: OutingCase) -> CheckReport:
    name, changes, planned = case
    return check_plan(instance(name, **changes), chats(*planned))


@pytest.mark.parametrize(
    ("rule", "broken", "legal"),
    [(rule, broken, legal) for rule, _, broken, legal in OUTING_PAIRS],
    ids=[name for _, name, _, _ in OUTING_PAIRS],
)
def test_outing_breaker_is_reported_and_its_legal_twin_is_not(
    rule: str, broken: OutingCase, legal: OutingCase
) -> None:
    """Each plan that breaks an outing rule is reported under that rule alone; the same plan
    made legal keeps every rule."""
    report = run_case(broken)
    assert rules_of(report) == {rule}, report.summary()
    mended = run_case(legal)
    assert mended.ok, mended.summary()


def test_walk_home_violation_names_the_outing() -> None:
    """The travel violation of a late walk home says when the walker is home and when the
    outing ends."""
    (violation,) = run_case(OUTING_PAIRS[0][2]).violations
    assert (violation.need, violation.volunteer, violation.day) == ("ann-chat", "walker", "mon")
    assert "home at 11:10" in violation.message
    assert "09:00-11:00" in violation.message


def test_trip_distance_counts_the_legs_to_and_from_the_second_outing() -> None:
    """With two outings, home to bob and bob to home are both legs over 1000 m."""
    report = run_case(OUTING_PAIRS[5][2])
    messages = [violation.message for violation in report.violations]
    assert len(messages) == 2
    assert any("from home to chat for bob" in message for message in messages), messages
    assert all("1400 m" in message for message in messages)


def test_outing_distance_is_per_outing_not_per_day() -> None:
    """The 2800 m of both outings together are fine: each outing walks 1400 m."""
    report = run_case(OUTING_PAIRS[6][3])
    assert report.ok
    assert report.metrics.travel_distance_m == pytest.approx(2800)


def test_metrics_count_every_leg_of_every_outing() -> None:
    """Travel metrics and load include the walk home after the morning and out again."""
    report = run_case(OUTING_PAIRS[4][3])
    metrics = report.metrics
    assert metrics.travel_distance_m == pytest.approx(700 + 700 + 1400 + 1400)
    assert metrics.travel_min == pytest.approx(10 + 10 + 20 + 20)
    (load,) = metrics.loads
    assert (load.visit_min, load.travel_min, load.total_min) == pytest.approx((60, 60, 120))


def test_visit_outside_every_outing_still_counts_its_travel() -> None:
    """A visit in the gap between outings is a volunteer_window violation, and its walk there and
    back still counts toward the week."""
    report = run_case(OUTING_PAIRS[3][2])
    assert rules_of(report) == {"volunteer_window"}
    assert "09:00-09:55, 10:00-11:00" in report.violations[0].message
    assert report.metrics.travel_distance_m == pytest.approx(700 + 700)


def test_route_of_a_two_outing_day_goes_home_in_between() -> None:
    """The plan's route repeats start, visits, home per outing, and its travel is the checker's."""
    problem = instance(TWO_OUTINGS)
    plan = chats(("ann", "mon", "10:00"), ("bob", "mon", "15:20"))
    (route,) = build_routes(problem, TravelModel(problem), plan.visits)
    assert [stop.kind for stop in route.stops] == ["start", "visit", "home"] * 2
    assert [stop.start for stop in route.stops] == [
        minutes(clock) for clock in ("09:50", "10:00", "10:40", "15:00", "15:20", "16:10")
    ]
    metrics = check_plan(problem, plan).metrics
    assert route.distance_m == pytest.approx(metrics.travel_distance_m)
    assert route.travel_min == pytest.approx(metrics.travel_min)


# --- size ------------------------------------------------------------------------------------


def large_problem_and_plan(
    recipients: int = 1500, volunteers: int = 300, visits: int = 5000
) -> tuple[Problem, Plan]:
    """A random community of the size of a large district, and a random plan for it."""
    rng = random.Random(7)
    weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    every_day = [window(day, "08:00", "20:00") for day in weekdays]
    data: dict[str, Any] = {
        "week_start": "2026-11-30",
        "services": [{"id": "meal", "duration_min": 30}],
        "recipients": [
            {
                "id": f"r{index}",
                "location": {"x_m": rng.uniform(0, 5000), "y_m": rng.uniform(0, 5000)},
                "needs": [{"id": f"n{index}", "service": "meal", "visits_per_week": 4}],
            }
            for index in range(recipients)
        ],
        "volunteers": [
            {
                "id": f"v{index}",
                "home": {"x_m": rng.uniform(0, 5000), "y_m": rng.uniform(0, 5000)},
                "availability": every_day,
                "max_visits_per_day": 4,
                "max_minutes_per_week": 900,
                "max_trip_distance_m": 3000,
            }
            for index in range(volunteers)
        ],
    }
    problem = Problem.model_validate(data)
    planned = []
    for index in range(visits):
        start = rng.randrange(8 * 60, 19 * 60)
        planned.append(
            Visit(
                need=f"n{index % recipients}",
                recipient=f"r{index % recipients}",
                service="meal",
                occurrence=index // recipients + 1,
                day=weekdays[(index // recipients) * 2],
                start=start,
                end=start + 30,
                volunteers=[f"v{rng.randrange(volunteers)}"],
            )
        )
    return problem, Plan(visits=planned)


def test_large_plan_is_checked_whole() -> None:
    """~1,500 recipients, 300 volunteers and 5,000 visits: every visit counted, none skipped."""
    problem, plan = large_problem_and_plan()
    report = check_plan(problem, plan, TravelModel(problem))
    assert report.metrics.visits_planned == 5000
    assert report.metrics.recipients_visited == len(problem.recipients)
