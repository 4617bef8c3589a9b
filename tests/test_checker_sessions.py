"""The checker's rules of group sessions, each with its breaker pair: a plan that breaks the
rule is reported under it (and no other rule), the same plan mended is not.

The community (planar metres, detour factor 1): the activity room and a bench at the origin;
a class (lead skill `teach`, 2 to 8 attendees, an hour) and a chess club (lead skill `chess`,
2 to 6, an hour); ann, bo and cy 100, 200 and 300 m away wish for the class, dan and eve for
chess; the teacher and tom (chess) live at the origin, hal (a helper) too; everyone is free on
Monday from 09:00 to 18:00 and the room is open 09:00-12:00.

The correct plan: the class Monday 10:00-11:00 (teacher; ann, bo, cy), chess 11:00-12:00 (tom;
dan, eve), both in the room.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from matcher.checker import check_plan
from matcher.checker_sessions import SESSION_RULE_CODES
from matcher.models import Plan, Problem, Seat, Session, Visit
from tests.helpers import minutes, rules_of, window
from tests.sessions_data import attendee, group_service, session_data, teacher, venue

MONDAY = [window("mon", "09:00", "18:00")]


def problem_data(**changes: Any) -> dict[str, Any]:
    """The community as JSON data; `changes` replace top-level fields."""
    data = session_data(
        recipients=[
            attendee("ann", 100),
            attendee("bo", 200),
            attendee("cy", 300),
            attendee("dan", 100, "chess"),
            attendee("eve", 200, "chess"),
        ],
        volunteers=[
            teacher(availability=MONDAY),
            teacher("tom", skills=["chess"], availability=MONDAY),
            teacher("hal", skills=[], availability=MONDAY),
        ],
        venues=[venue(), venue("bench", kind="outdoor", open_windows=[])],
        group_services=[
            group_service(),
            group_service("chess", lead_skills=["chess"], max_attendees=6),
        ],
        travel={"method": "coordinates", "detour_factor": 1.0},
    )
    data.update(changes)
    return data


def community(**changes: Any) -> Problem:
    return Problem.model_validate(problem_data(**changes))


def seats(*names: str, service: str = "class") -> list[Seat]:
    return [Seat(recipient=name, wish=f"{name}-{service}", occurrence=1) for name in names]


def class_session(**fields: Any) -> Session:
    values: dict[str, Any] = {
        "id": "class-1",
        "group_service": "class",
        "venue": "room",
        "day": "mon",
        "start": minutes("10:00"),
        "end": minutes("11:00"),
        "leads": ["teacher"],
        "attendees": seats("ann", "bo", "cy"),
    }
    values.update(fields)
    return Session(**values)


def chess_session(**fields: Any) -> Session:
    values: dict[str, Any] = {
        "id": "chess-1",
        "group_service": "chess",
        "venue": "room",
        "day": "mon",
        "start": minutes("11:00"),
        "end": minutes("12:00"),
        "leads": ["tom"],
        "attendees": seats("dan", "eve", service="chess"),
    }
    values.update(fields)
    return Session(**values)


def plan_of(*sessions: Session, visits: list[Visit] | None = None) -> Plan:
    return Plan(sessions=list(sessions), visits=visits or [])


CORRECT = plan_of(class_session(), chess_session())

Case = Callable[[], tuple[Problem, Plan, Plan]]
"""A breaker: the problem, a plan breaking one rule, the same plan mended."""


def unknown_lead() -> tuple[Problem, Plan, Plan]:
    return community(), plan_of(class_session(leads=["ghost"]), chess_session()), CORRECT


def class_too_long() -> tuple[Problem, Plan, Plan]:
    broken = class_session(start=minutes("09:30"), end=minutes("11:00"))
    return community(), plan_of(broken, chess_session()), CORRECT


def seat_twice_the_same() -> tuple[Problem, Plan, Plan]:
    doubled = class_session(attendees=[*seats("ann", "bo", "cy"), *seats("cy")])
    return community(), plan_of(doubled, chess_session()), CORRECT


def class_on_the_bench() -> tuple[Problem, Plan, Plan]:
    return community(), plan_of(class_session(venue="bench"), chess_session()), CORRECT


def class_after_the_room_closes() -> tuple[Problem, Plan, Plan]:
    late = class_session(start=minutes("13:00"), end=minutes("14:00"))
    mended = class_session(start=minutes("13:00"), end=minutes("14:00"), venue="room2")
    rooms = [
        venue(),
        venue("bench", kind="outdoor", open_windows=[]),
        venue("room2", open_windows=[]),
    ]
    problem = community(venues=rooms)
    return problem, plan_of(late, chess_session()), plan_of(mended, chess_session())


def two_sessions_in_the_room_at_once() -> tuple[Problem, Plan, Plan]:
    early = chess_session(start=minutes("10:30"), end=minutes("11:30"))
    return community(), plan_of(class_session(), early), CORRECT


def class_larger_than_its_maximum() -> tuple[Problem, Plan, Plan]:
    small = problem_data()
    small["group_services"][0]["max_attendees"] = 2
    mended = plan_of(class_session(attendees=seats("ann", "bo")), chess_session())
    return Problem.model_validate(small), CORRECT, mended


def class_below_its_minimum() -> tuple[Problem, Plan, Plan]:
    lonely = class_session(attendees=seats("ann"))
    return community(), plan_of(lonely, chess_session()), CORRECT


def class_held_twice_though_wanted_once() -> tuple[Problem, Plan, Plan]:
    data = problem_data()
    data["group_services"][0]["min_attendees"] = 1
    early = class_session(
        start=minutes("09:00"), end=minutes("10:00"), attendees=seats("ann", "bo")
    )
    second = class_session(id="class-2", attendees=seats("cy"))
    return Problem.model_validate(data), plan_of(early, second, chess_session()), CORRECT


def chess_player_leads_the_class() -> tuple[Problem, Plan, Plan]:
    broken = class_session(leads=["tom"], start=minutes("09:30"), end=minutes("10:30"))
    mended = class_session(leads=["teacher"], start=minutes("09:30"), end=minutes("10:30"))
    return community(), plan_of(broken, chess_session()), plan_of(mended, chess_session())


def child_class_without_background_check() -> tuple[Problem, Plan, Plan]:
    data = problem_data()
    data["group_services"][0]["recipient_kinds"] = ["elder", "child"]
    data["recipients"][2]["kind"] = "child"
    problem = Problem.model_validate(data)
    mended = plan_of(class_session(attendees=seats("ann", "bo")), chess_session())
    return problem, CORRECT, mended


def test_a_background_checked_teacher_may_teach_children() -> None:
    data = problem_data()
    data["group_services"][0]["recipient_kinds"] = ["elder", "child"]
    data["recipients"][2]["kind"] = "child"
    data["volunteers"][0]["background_checked"] = True
    assert check_plan(Problem.model_validate(data), CORRECT).ok


def class_without_its_helper() -> tuple[Problem, Plan, Plan]:
    data = problem_data()
    data["group_services"][0]["attendees_per_helper"] = 3
    mended = plan_of(class_session(helpers=["hal"]), chess_session())
    return Problem.model_validate(data), CORRECT, mended


def ann_walks_too_far() -> tuple[Problem, Plan, Plan]:
    data = problem_data()
    data["recipients"][0]["walking_limit_m"] = 50
    mended = plan_of(class_session(attendees=seats("bo", "cy")), chess_session())
    return Problem.model_validate(data), CORRECT, mended


def cy_is_not_yet_home_free() -> tuple[Problem, Plan, Plan]:
    data = problem_data()
    data["recipients"][2]["home_windows"] = [window("mon", "10:00", "12:00")]
    mended = plan_of(class_session(attendees=seats("ann", "bo")), chess_session())
    return Problem.model_validate(data), CORRECT, mended


def ann_has_a_visit_during_the_class() -> tuple[Problem, Plan, Plan]:
    data = problem_data()
    data["recipients"][0]["needs"] = [{"id": "ann-chat", "service": "chat"}]
    visit = Visit(
        need="ann-chat",
        recipient="ann",
        service="chat",
        occurrence=1,
        day="mon",
        start=minutes("10:30"),
        end=minutes("11:00"),
        volunteers=["hal"],
    )
    moved = visit.model_copy(update={"start": minutes("12:00"), "end": minutes("12:30")})
    problem = Problem.model_validate(data)
    return (
        problem,
        plan_of(class_session(), chess_session(), visits=[visit]),
        plan_of(class_session(), chess_session(), visits=[moved]),
    )


def bo_comes_without_his_escort() -> tuple[Problem, Plan, Plan]:
    data = problem_data()
    data["recipients"][1]["attends"][0]["escort"] = True
    escorted = [
        *seats("ann"),
        Seat(recipient="bo", wish="bo-class", occurrence=1, escort="hal"),
        *seats("cy"),
    ]
    mended = plan_of(class_session(attendees=escorted), chess_session())
    return Problem.model_validate(data), CORRECT, mended


SESSION_BREAKERS: list[tuple[str, Case]] = [
    ("session_reference", unknown_lead),
    ("session_mismatch", class_too_long),
    ("session_mismatch", seat_twice_the_same),
    ("venue_kind", class_on_the_bench),
    ("venue_closed", class_after_the_room_closes),
    ("venue_double_booked", two_sessions_in_the_room_at_once),
    ("sessions_per_week", class_held_twice_though_wanted_once),
    ("session_capacity", class_larger_than_its_maximum),
    ("session_minimum", class_below_its_minimum),
    ("session_lead", chess_player_leads_the_class),
    ("session_background_check", child_class_without_background_check),
    ("session_helpers", class_without_its_helper),
    ("walking_limit", ann_walks_too_far),
    ("attendee_window", cy_is_not_yet_home_free),
    ("attendee_overlap", ann_has_a_visit_during_the_class),
    ("escort", bo_comes_without_his_escort),
]


def test_the_correct_plan_keeps_every_rule() -> None:
    report = check_plan(community(), CORRECT)
    assert report.ok, report.summary()
    assert report.sessions is not None
    assert (report.sessions.sessions_held, report.sessions.seats_planned) == (2, 5)
    assert report.sessions.seats_wished == 5


@pytest.mark.parametrize(
    ("rule", "case"), SESSION_BREAKERS, ids=[case.__name__ for _, case in SESSION_BREAKERS]
)
def test_each_breaker_is_penalised_and_its_mend_is_not(rule: str, case: Case) -> None:
    problem, broken, mended = case()
    report = check_plan(problem, broken)
    assert rules_of(report) == {rule}, report.summary()
    assert all(violation.message for violation in report.violations)
    fixed = check_plan(problem, mended)
    assert fixed.ok, fixed.summary()


def test_every_session_rule_has_a_breaker() -> None:
    assert {rule for rule, _ in SESSION_BREAKERS} == set(SESSION_RULE_CODES)


# --- the volunteer's day is shared between visits and sessions ------------------------------


def test_a_lead_cannot_be_at_a_visit_and_a_session_at_once() -> None:
    data = problem_data()
    data["recipients"][0]["needs"] = [{"id": "ann-chat", "service": "chat"}]
    visit = Visit(
        need="ann-chat",
        recipient="ann",
        service="chat",
        occurrence=1,
        day="mon",
        start=minutes("14:30"),
        end=minutes("15:00"),
        volunteers=["tom"],
    )
    problem = Problem.model_validate(data)
    clash = chess_session(start=minutes("11:00"), end=minutes("12:00"))
    assert check_plan(problem, plan_of(class_session(), clash, visits=[visit])).ok
    clashing_visit = visit.model_copy(update={"start": minutes("11:30"), "end": minutes("12:00")})
    report = check_plan(problem, plan_of(class_session(), clash, visits=[clashing_visit]))
    assert "volunteer_overlap" in rules_of(report)


def test_a_lead_travels_to_the_venue_within_their_outing() -> None:
    data = problem_data()
    data["volunteers"][0]["home"] = {"x_m": 2000, "y_m": 0}
    data["volunteers"][0]["availability"] = [window("mon", "09:55", "18:00")]
    report = check_plan(Problem.model_validate(data), CORRECT)
    assert rules_of(report) == {"travel_time"}
    data["volunteers"][0]["availability"] = [window("mon", "09:00", "18:00")]
    assert check_plan(Problem.model_validate(data), CORRECT).ok


def test_session_minutes_count_toward_the_week_and_visits_a_day() -> None:
    data = problem_data()
    data["volunteers"][0]["max_minutes_per_week"] = 30
    assert rules_of(check_plan(Problem.model_validate(data), CORRECT)) == {"max_minutes_per_week"}
    data = problem_data()
    data["volunteers"][1]["max_visits_per_day"] = 0
    assert rules_of(check_plan(Problem.model_validate(data), CORRECT)) == {"max_visits_per_day"}


def test_an_escort_walks_within_their_outing() -> None:
    data = problem_data()
    data["recipients"][1]["attends"][0]["escort"] = True
    data["volunteers"][2]["max_outing_distance_m"] = 300
    escorted = [
        *seats("ann"),
        Seat(recipient="bo", wish="bo-class", occurrence=1, escort="hal"),
        *seats("cy"),
    ]
    plan = plan_of(class_session(attendees=escorted), chess_session())
    # hal walks 200 m to bo, 200 m with him to the room, 200 m back with him, 200 m home.
    assert rules_of(check_plan(Problem.model_validate(data), plan)) == {"outing_distance"}
    data["volunteers"][2]["max_outing_distance_m"] = 800
    assert check_plan(Problem.model_validate(data), plan).ok


def test_a_bedridden_elder_never_has_a_seat() -> None:
    data = problem_data()
    data["recipients"][0]["disability_level"] = 3
    report = check_plan(Problem.model_validate(data), CORRECT)
    assert rules_of(report) == {"walking_limit"}
    assert "does not walk" in report.violations[0].message
