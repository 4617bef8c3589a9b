"""The shared semantics of group sessions (matcher.rules.sessions), against the checker where
both read the same rule."""

from __future__ import annotations

from matcher.checker import check_plan
from matcher.models import Plan, Seat, Session
from matcher.rules.sessions import (
    Duty,
    VolunteerDays,
    attendee_span,
    candidate_venues,
    day_problems,
    helpers_needed,
    lead_failures,
    most_attendees_with,
    session_windows,
    slot_starts,
    walk_problem,
)
from matcher.rules.outings import outings_by_day
from matcher.travel import TravelModel
from tests.helpers import minutes, window
from tests.sessions_data import attendee, group_service, session_problem, teacher, venue


def test_helpers_follow_full_groups_and_back() -> None:
    service = session_problem(group_services=[group_service(attendees_per_helper=4)])
    class_ = service.group_services[0]
    assert [helpers_needed(class_, n) for n in (0, 3, 4, 7, 8)] == [0, 0, 1, 1, 2]
    assert most_attendees_with(class_, 0) == 3 and most_attendees_with(class_, 1) == 7
    assert helpers_needed(session_problem().group_services[0], 8) == 0


def test_candidate_venues_are_the_listed_ones_else_those_of_its_kinds() -> None:
    problem = session_problem(
        venues=[venue(), venue("bench", kind="outdoor"), venue("yard", kind="outdoor")],
        group_services=[
            group_service(),
            group_service("popup", venue_kinds=["outdoor"], venues=["yard"]),
        ],
    )
    found = {s.id: [v.id for v in candidate_venues(problem, s)] for s in problem.group_services}
    assert found == {"class": ["room"], "popup": ["yard"]}


def test_session_windows_are_the_venue_open_and_the_service_allowed_times() -> None:
    problem = session_problem(
        group_services=[group_service(windows=[window("mon", "10:30", "15:00")])]
    )
    windows = session_windows(problem, problem.group_services[0], problem.venues[0])
    assert windows == {0: [(minutes("10:30"), minutes("12:00"))]}
    assert slot_starts(windows[0], 60) == [minutes("10:30"), minutes("11:00")]


def test_walking_and_steps() -> None:
    problem = session_problem(
        recipients=[attendee("fit", 100), attendee("slow", 100, disability_level=1)],
        venues=[venue(step_free=False)],
    )
    room = problem.venues[0]
    fit, slow = problem.recipients
    assert walk_problem(problem, fit, room, 100, escorted=False) is None
    assert walk_problem(problem, fit, room, 900, escorted=False) == "too_far_to_walk"
    assert walk_problem(problem, slow, room, 100, escorted=False) == "too_far_to_walk"
    assert attendee_span(problem, 200, 600, 660) == (595, 665)


def test_a_lead_needs_skills_and_a_check_for_children() -> None:
    problem = session_problem(volunteers=[teacher(), teacher("plain", skills=[])])
    service = problem.group_services[0]
    skilled, plain = problem.volunteers
    assert lead_failures(service, skilled, children=False) == []
    assert lead_failures(service, skilled, children=True) == ["background_check"]
    assert lead_failures(service, plain, children=False) == ["session_lead_skill"]


def test_day_problems_agree_with_the_checker_on_a_session_stop() -> None:
    problem = session_problem(
        volunteers=[teacher(x_m=2000, availability=[window("mon", "09:55", "12:00")])]
    )
    travel = TravelModel(problem)
    volunteer = problem.volunteers[0]
    duty = Duty(minutes("10:00"), minutes("11:00"), travel.venue_place["room"], "session", "s")
    outings = outings_by_day(volunteer)[0]
    assert "leave_early" in day_problems(travel, volunteer, outings, [duty])
    plan = Plan(
        sessions=[
            Session(
                id="s",
                group_service="class",
                venue="room",
                day="mon",
                start=duty.start,
                end=duty.end,
                leads=["teacher"],
                attendees=[
                    Seat(recipient="ann", wish="ann-class", occurrence=1),
                    Seat(recipient="bo", wish="bo-class", occurrence=1),
                ],
            )
        ]
    )
    assert not check_plan(problem, plan).ok
    days = VolunteerDays(problem, travel, {})
    assert days.added_min("teacher", 0, duty) is None
    late = Duty(minutes("11:00") - 5, minutes("11:55") - 5, duty.place, "session", "s")
    assert days.added_min("teacher", 0, late) is None
