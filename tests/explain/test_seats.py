"""`explain_unseated` and `matcher explain --seats`: each unseated wish's reason is the plan's,
in English and Chinese, with the facts behind it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import matcher
from matcher.cli import main
from matcher.explain import explain_unseated
from matcher.explain.seat_whatif import seat_suggestions
from matcher.models import Seat, Session
from matcher.io import load_problem
from tests.helpers import DATA, checked, rules_of
from tests.sessions_data import attendee, group_service, session_problem

SESSIONS = DATA / "sessions"


@pytest.mark.parametrize("name", sorted(path.stem for path in SESSIONS.glob("*.json")))
def test_the_reasons_are_the_plan_s(name: str) -> None:
    problem = load_problem(SESSIONS / f"{name}.json")
    plan = checked(problem, matcher.solve(problem))
    explained = explain_unseated(problem, plan)
    assert [(e.wish, e.occurrence, e.reason) for e in explained] == [
        (u.wish, u.occurrence, u.reason) for u in plan.unseated or []
    ]


def test_too_far_names_the_nearest_venue_and_the_limit() -> None:
    problem = session_problem(
        recipients=[attendee("ann", 100), attendee("bo", 200), attendee("far", 5000)]
    )
    plan = checked(problem, matcher.solve(problem))
    (item,) = explain_unseated(problem, plan)
    assert item.reason == "too_far_to_walk"
    assert item.details == ["the nearest venue, room, is 6500 m away; they walk at most 800 m"]
    (chinese,) = explain_unseated(problem, plan, language="zh")
    assert chinese.message.startswith("这项活动的所有场地")
    assert "6500米" in chinese.details[0]


def test_nobody_to_lead_says_who_could_and_why_not() -> None:
    problem = session_problem(volunteers=[{"id": "v", "home": {"x_m": 0, "y_m": 0}}])
    plan = checked(problem, matcher.solve(problem))
    explained = explain_unseated(problem, plan)
    assert {item.reason for item in explained} == {"no_lead_free"}
    assert explained[0].details == [
        "0 volunteer(s) can lead class",
        "v cannot lead it: session_lead_skill",
    ]


def test_the_command_line_explains_seats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem = SESSIONS / "popup_placed_where_most_can_walk.json"
    plan = tmp_path / "plan.json"
    assert main(["solve", str(problem), "-o", str(plan)]) == 0
    capsys.readouterr()
    assert main(["explain", str(problem), str(plan), "--seats", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert {item["reason"] for item in written} == {"held_elsewhere"}
    assert main(["explain", str(problem), str(plan), "--language", "zh"]) == 0
    assert "本周这项活动的场次" in capsys.readouterr().out


def test_what_if_proposes_another_session_for_the_wishes_left_out() -> None:
    problem = session_problem(
        group_services=[group_service(min_attendees=1, max_attendees=2)],
    )
    plan = checked(problem, matcher.solve(problem))
    assert plan.unseated is not None
    assert [(item.recipient, item.reason) for item in plan.unseated] == [("cy", "session_full")]
    (suggestion,) = seat_suggestions(problem, plan)
    assert suggestion.wishes == ["cy-class"] and suggestion.lead == "teacher"
    assert suggestion.message.startswith("Another class at room on Monday at ")
    # The proposal keeps every rule: add it to the plan and check.
    extra = Session(
        id="extra",
        group_service="class",
        venue=suggestion.venue,
        day=suggestion.day,
        start=suggestion.start,
        end=suggestion.end,
        leads=[suggestion.lead],
        attendees=[Seat(recipient="cy", wish="cy-class", occurrence=1)],
    )
    with_extra = plan.model_copy(update={"sessions": [*(plan.sessions or []), extra]})
    assert suggestion.sessions_per_week == 2
    assert rules_of(matcher.check_plan(problem, with_extra)) == {"sessions_per_week"}
    (service,) = problem.group_services
    raised = problem.variant(group_services=[service.model_copy(update={"sessions_per_week": 2})])
    assert matcher.check_plan(raised, with_extra).ok
    (chinese,) = seat_suggestions(problem, plan, language="zh")
    assert "teacher可以带领" in chinese.message


def test_what_if_says_when_no_session_fits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    problem = SESSIONS / "popup_placed_where_most_can_walk.json"
    plan = tmp_path / "plan.json"
    assert main(["solve", str(problem), "-o", str(plan)]) == 0
    capsys.readouterr()
    assert main(["what-if", str(problem), str(plan), "--seats"]) == 0
    assert capsys.readouterr().out.startswith("No other session fits")
