"""Home-care benchmark features: soft windows, linked visits, carrying capacity, explicit travel
minutes and planning days longer than 24 hours, in the models, the travel model and the checker
(the greedy planner's side: tests/solvers/test_greedy_features.py).

The tests use the tiny street of `tests.street` (planar metres, detour factor 1, everyone at
100 m a minute, so 1,000 m is 10 minutes):

    vic, wes home (0,0)     ann (1000,0)     bob (1000,1000)

Each rule has a pair of hand-made plans: one that keeps it and one that breaks exactly it.
"""

from __future__ import annotations

import pytest

from matcher.checker import CheckReport, check_plan
from matcher.models import Plan, Problem, Visit, parse_clock
from matcher.travel import TravelModel
from tests.helpers import error_paths, need_of, rules_of, visit, volunteer_of, window
from tests.street import long_day, matrix_problem, street


def check(problem: Problem, *visits: Visit) -> CheckReport:
    """The checker's report on a plan of exactly these visits."""
    return check_plan(problem, Plan(visits=list(visits)))


# --- soft windows ------------------------------------------------------------------------------


def soft_street(max_lateness: int | None = 20) -> Problem:
    """Ann's and Bob's meals have soft windows 10:00-11:00 (latest on-time start 10:30)."""
    data = street()
    for need_id in ("ann-meal", "bob-meal"):
        need_of(data, need_id).update(soft_window=True, max_lateness_min=max_lateness)
    return Problem.model_validate(data)


def test_soft_window_kept_by_a_late_visit_within_the_limit() -> None:
    """10:45 is 15 minutes late, within the 20 allowed; the visit runs past 11:00."""
    problem = soft_street()
    report = check(problem, visit(problem, "ann-meal", "10:45", "vic"))
    assert report.ok, report.summary()
    assert report.metrics.total_lateness_min == 15
    assert report.metrics.max_lateness_min == 15


def test_soft_window_broken_by_a_visit_too_late() -> None:
    """10:55 is 25 minutes late, more than the 20 allowed: a recipient_window violation only."""
    problem = soft_street()
    report = check(problem, visit(problem, "ann-meal", "10:55", "vic"))
    assert rules_of(report) == {"recipient_window"}
    assert "25 min late" in report.violations[0].message


def test_soft_window_broken_by_a_visit_before_it_opens() -> None:
    """A soft window is soft at its end only: starting at 09:55 is a violation."""
    problem = soft_street()
    report = check(problem, visit(problem, "ann-meal", "09:55", "vic"))
    assert rules_of(report) == {"recipient_window"}


def test_soft_window_without_limit_allows_any_lateness() -> None:
    """With no max_lateness_min, three hours late is legal (and measured)."""
    problem = soft_street(max_lateness=None)
    report = check(problem, visit(problem, "ann-meal", "13:30", "vic"))
    assert report.ok, report.summary()
    assert report.metrics.max_lateness_min == 180


def test_the_same_late_start_breaks_a_hard_window() -> None:
    """Without soft_window, 10:45 runs past the window: a violation."""
    problem = Problem.model_validate(street())
    report = check(problem, visit(problem, "ann-meal", "10:45", "vic"))
    assert rules_of(report) == {"recipient_window"}


def test_lateness_metrics_by_hand() -> None:
    """Ann 15 min late (10:45), Bob 5 min late (10:35): total 20, largest 15.

    Bob's need also has a second window 10:40-11:40, but it has not opened at 10:35, so Bob's
    lateness counts against the first window; Ann's plain meal is on time.
    """
    data = street()
    for need_id in ("ann-meal", "bob-meal"):
        need_of(data, need_id).update(soft_window=True, max_lateness_min=30)
    need_of(data, "bob-meal")["windows"].append(window("mon", "10:40", "11:40"))
    problem = Problem.model_validate(data)
    report = check(
        problem,
        visit(problem, "ann-meal", "10:45", "vic"),
        visit(problem, "bob-meal", "10:35", "wes"),
        visit(problem, "ann-nurse", "09:00", "wes"),
    )
    assert report.ok, report.summary()
    assert report.metrics.total_lateness_min == 20
    assert report.metrics.max_lateness_min == 15


def test_lateness_counts_against_the_window_that_makes_it_least() -> None:
    """At 10:45, the window 10:00-11:00 gives 15 min late, the window 10:40-11:40 gives 0."""
    data = street()
    meal = need_of(data, "ann-meal")
    meal.update(soft_window=True, max_lateness_min=5)
    meal["windows"].append(window("mon", "10:40", "11:40"))
    problem = Problem.model_validate(data)
    report = check(problem, visit(problem, "ann-meal", "10:45", "vic"))
    assert report.ok, report.summary()
    assert report.metrics.total_lateness_min == 0


# --- dependencies -----------------------------------------------------------------------------


def linked_street(kind: str, **gaps: int) -> Problem:
    """Ann's nursing (first) and lifting help (second) are linked."""
    data = street()
    data["dependencies"] = [{"first": "ann-nurse", "second": "ann-help", "kind": kind, **gaps}]
    return Problem.model_validate(data)


def test_simultaneous_pair_kept() -> None:
    """Both start at 10:00 with two volunteers; the overlap at Ann's is allowed."""
    problem = linked_street("simultaneous")
    report = check(
        problem,
        visit(problem, "ann-nurse", "10:00", "vic"),
        visit(problem, "ann-help", "10:00", "wes"),
    )
    assert report.ok, report.summary()


def test_simultaneous_pair_broken_by_different_starts() -> None:
    """Five minutes apart is not simultaneous; the overlap itself is still no violation."""
    problem = linked_street("simultaneous")
    report = check(
        problem,
        visit(problem, "ann-nurse", "10:00", "vic"),
        visit(problem, "ann-help", "10:05", "wes"),
    )
    assert rules_of(report) == {"dependency"}
    assert "5 minutes after" in report.violations[0].message


def test_linked_visit_without_its_partner_breaks_the_dependency() -> None:
    """Nursing on Monday with no lifting help that day."""
    problem = linked_street("simultaneous")
    report = check(problem, visit(problem, "ann-nurse", "10:00", "vic"))
    assert rules_of(report) == {"dependency"}
    assert "ann-help" in report.violations[0].message


def test_unlinked_overlap_at_one_recipient_is_still_a_violation() -> None:
    """Without the dependency, two visits at Ann's at once are a recipient_overlap."""
    problem = Problem.model_validate(street())
    report = check(
        problem,
        visit(problem, "ann-nurse", "10:00", "vic"),
        visit(problem, "ann-help", "10:00", "wes"),
    )
    assert rules_of(report) == {"recipient_overlap"}


def test_sequential_pair_kept() -> None:
    """Help starts 40 minutes after nursing, inside 30 to 60, by another volunteer."""
    problem = linked_street("sequential", min_gap_min=30, max_gap_min=60)
    report = check(
        problem,
        visit(problem, "ann-nurse", "10:00", "vic"),
        visit(problem, "ann-help", "10:40", "wes"),
    )
    assert report.ok, report.summary()


def test_sequential_pair_broken_by_a_long_gap() -> None:
    """70 minutes is more than the 60 allowed."""
    problem = linked_street("sequential", min_gap_min=30, max_gap_min=60)
    report = check(
        problem,
        visit(problem, "ann-nurse", "10:00", "vic"),
        visit(problem, "ann-help", "11:10", "wes"),
    )
    assert rules_of(report) == {"dependency"}


def test_sequential_pair_broken_by_a_short_gap() -> None:
    """20 minutes is fewer than the 30 required (the visits touch, so no overlap)."""
    problem = linked_street("sequential", min_gap_min=30, max_gap_min=60)
    report = check(
        problem,
        visit(problem, "ann-nurse", "10:00", "vic"),
        visit(problem, "ann-help", "10:20", "wes"),
    )
    assert rules_of(report) == {"dependency"}


def test_sequential_pair_broken_by_one_volunteer_doing_both() -> None:
    """Vic could do both one after the other, but linked visits need different people."""
    problem = linked_street("sequential", min_gap_min=30, max_gap_min=60)
    report = check(
        problem,
        visit(problem, "ann-nurse", "10:00", "vic"),
        visit(problem, "ann-help", "10:40", "vic"),
    )
    assert rules_of(report) == {"dependency"}
    assert report.violations[0].volunteer == "vic"


def test_sequential_pair_without_upper_limit() -> None:
    """No max_gap_min: five hours later is fine."""
    data = street()
    need_of(data, "ann-help")["windows"] = [window("mon", "09:00", "17:00")]
    data["dependencies"] = [{"first": "ann-nurse", "second": "ann-help", "kind": "sequential"}]
    problem = Problem.model_validate(data)
    report = check(
        problem,
        visit(problem, "ann-nurse", "10:00", "vic"),
        visit(problem, "ann-help", "15:00", "wes"),
    )
    assert report.ok, report.summary()


def test_bad_dependencies_are_reported_with_their_paths() -> None:
    """Unknown needs, needs of two recipients, unequal visits a week, a non-zero simultaneous
    gap, a maximum below the minimum and a need linked to itself are all reported at once."""
    data = street()
    need_of(data, "ann-help")["visits_per_week"] = 1
    need_of(data, "ann-nurse")["visits_per_week"] = 1
    need_of(data, "ann-meal")["visits_per_week"] = 1
    need_of(data, "ann-meal")["windows"].append(window("tue", "10:00", "11:00"))
    need_of(data, "ann-meal")["visits_per_week"] = 2
    data["dependencies"] = [
        {"first": "ghost", "second": "ann-help", "kind": "simultaneous"},
        {"first": "ann-nurse", "second": "bob-meal", "kind": "sequential"},
        {"first": "ann-nurse", "second": "ann-meal", "kind": "sequential"},
        {"first": "ann-nurse", "second": "ann-help", "kind": "simultaneous", "min_gap_min": 5},
        {"first": "ann-nurse", "second": "ann-help", "kind": "simultaneous", "max_gap_min": 10},
        {
            "first": "ann-nurse",
            "second": "ann-help",
            "kind": "sequential",
            "min_gap_min": 30,
            "max_gap_min": 10,
        },
        {"first": "ann-nurse", "second": "ann-nurse", "kind": "sequential"},
    ]
    errors = error_paths(data)
    assert "unknown need 'ghost'" in errors["dependencies.0.first"]
    assert "recipient 'bob'" in errors["dependencies.1.second"]
    assert "2 visit(s) a week" in errors["dependencies.2.second"]
    assert "exactly 0" in errors["dependencies.3.min_gap_min"]
    assert "exactly 0" in errors["dependencies.4.max_gap_min"]
    assert "fewer than the least" in errors["dependencies.5.max_gap_min"]
    assert "itself" in errors["dependencies.6.second"]
    assert len(errors) == 7


def test_dependency_errors_are_reported_with_field_errors() -> None:
    """A bad dependency is reported even when another field is invalid too."""
    data = street()
    data["services"][0]["duration_min"] = 0
    data["dependencies"] = [{"first": "ann-nurse", "second": "bob-meal", "kind": "sequential"}]
    errors = error_paths(data)
    assert "services.0.duration_min" in errors
    assert "dependencies.0.second" in errors


# --- capacity ---------------------------------------------------------------------------------


def loaded_street() -> Problem:
    """Meals weigh 2 boxes each; Vic can carry 3 a day, Wes has no limit; Bob's meal may come
    until noon."""
    data = street()
    need_of(data, "bob-meal")["windows"] = [window("mon", "10:00", "12:00")]
    for need_id in ("ann-meal", "bob-meal"):
        need_of(data, need_id)["load"] = 2
    volunteer_of(data, "vic")["capacity"] = 3
    return Problem.model_validate(data)


def test_capacity_kept() -> None:
    """Vic carries 2 (Ann's meal, and nursing weighs nothing), Wes the other 2."""
    problem = loaded_street()
    report = check(
        problem,
        visit(problem, "ann-meal", "10:00", "vic"),
        visit(problem, "ann-nurse", "11:00", "vic"),
        visit(problem, "bob-meal", "10:00", "wes"),
    )
    assert report.ok, report.summary()


def test_capacity_broken_by_two_meals_for_vic() -> None:
    """Both meals with Vic make 4 boxes, more than her 3."""
    problem = loaded_street()
    report = check(
        problem,
        visit(problem, "ann-meal", "10:00", "vic"),
        visit(problem, "bob-meal", "10:40", "vic"),
    )
    assert rules_of(report) == {"capacity"}
    (violation,) = report.violations
    assert (violation.volunteer, violation.day) == ("vic", "mon")
    assert "carry 4" in violation.message


# --- explicit travel minutes ------------------------------------------------------------------


def test_travel_matrix_minutes_replace_every_speed() -> None:
    """With travel_min, everyone's travel time is the matrix, whatever their speed."""
    minutes_given = [[0, 7, 25], [7, 0, 12], [25, 12, 0]]
    data = matrix_problem(minutes_given)
    volunteer_of(data, "wes")["speed_m_per_min"] = 1000
    problem = Problem.model_validate(data)
    travel = TravelModel(problem)
    home, ann, bob = (
        travel.home_place["vic"],
        travel.recipient_place["ann"],
        travel.recipient_place["bob"],
    )
    for volunteer in ("vic", "wes"):
        assert travel.travel_min(volunteer, home, ann) == 7
        assert travel.travel_min(volunteer, ann, bob) == 12
        assert travel.travel_min(volunteer, bob, home) == 25
        assert travel.time_matrix(volunteer)[ann, bob] == 12
    assert travel.distance(ann, bob) == 1000


def test_travel_matrix_minutes_are_what_the_checker_measures() -> None:
    """Vic goes home -> ann -> bob -> home: 7 + 12 + 25 = 44 minutes, 3 km; a 10-minute gap
    between Ann and Bob is too short for the 12-minute trip."""
    data = matrix_problem([[0, 7, 25], [7, 0, 12], [25, 12, 0]])
    need_of(data, "bob-meal")["windows"] = [window("mon", "10:00", "12:00")]
    problem = Problem.model_validate(data)
    report = check(
        problem,
        visit(problem, "ann-meal", "10:00", "vic"),
        visit(problem, "bob-meal", "10:42", "vic"),
    )
    assert report.ok, report.summary()
    assert report.metrics.travel_min == pytest.approx(44)
    assert report.metrics.travel_distance_m == pytest.approx(3000)
    tight = check(
        problem,
        visit(problem, "ann-meal", "10:00", "vic"),
        visit(problem, "bob-meal", "10:40", "vic"),
    )
    assert rules_of(tight) == {"travel_time"}


def test_travel_matrix_minutes_are_validated_like_distances() -> None:
    """A travel_min matrix of the wrong shape or with a negative entry is reported."""
    errors = error_paths(matrix_problem([[0, 7], [7, 0, 12], [25, 12, -1]]))
    assert "2 rows" not in str(errors)
    assert "2 entries for 3 places" in errors["travel.matrix.travel_min.0"]
    assert "negative travel time" in errors["travel.matrix.travel_min.2"]
    errors = error_paths(matrix_problem([[0, 7, 25]]))
    assert "1 rows for 3 places" in errors["travel.matrix.travel_min"]


# --- days longer than 24 hours ----------------------------------------------------------------


def test_clock_hours_past_24() -> None:
    """'56:30' is 3,390 minutes and is written back the same way."""
    assert parse_clock("56:30") == 3390
    problem = Problem.model_validate(long_day(3390))
    assert problem.volunteers[0].availability[0].end == 3390
    assert problem.model_dump(mode="json")["volunteers"][0]["availability"][0]["end"] == "56:30"
    assert Problem.model_validate_json(problem.model_dump_json()) == problem


def test_day_longer_than_24_hours_accepted_with_day_length() -> None:
    """With day_length_min 3,390, the window 40:00-41:00 can be visited and checked."""
    problem = Problem.model_validate(long_day(3390))
    report = check(problem, visit(problem, "bob-meal", "40:10", "vic"))
    assert report.ok, report.summary()


def test_day_longer_than_24_hours_rejected_without_day_length() -> None:
    """Without day_length_min, every time past 24:00 is reported at its own path."""
    data = long_day(None)
    data["pinned"] = [{"need": "bob-meal", "day": "mon", "start": "40:10", "volunteers": ["vic"]}]
    errors = error_paths(data)
    assert "between 00:00 and 24:00" in errors["volunteers.0.availability.0.end"]
    assert "between 00:00 and 24:00" in errors["volunteers.1.availability.0.end"]
    assert "between 00:00 and 24:00" in errors["recipients.1.needs.0.windows.0.start"]
    assert "between 00:00 and 24:00" in errors["recipients.1.needs.0.windows.0.end"]
    assert "between 00:00 and 24:00" in errors["pinned.0.start"]
    assert sum("between 00:00 and 24:00" in message for message in errors.values()) == 5


def test_day_shorter_than_a_window_is_rejected() -> None:
    """A day_length_min of 10 hours rejects availability until 18:00."""
    data = street()
    data["day_length_min"] = 600
    errors = error_paths(data)
    assert "between 00:00 and 10:00" in errors["volunteers.0.availability.0.end"]


def test_no_windows_means_the_whole_long_day() -> None:
    """A need without windows may be visited at any time of the long day."""
    data = long_day(3390)
    need_of(data, "bob-meal")["windows"] = []
    problem = Problem.model_validate(data)
    (allowed,) = [
        w for w in problem.allowed_windows(problem.need_by_id["bob-meal"]) if w.day == "mon"
    ]
    assert (allowed.start, allowed.end) == (0, 3390)
