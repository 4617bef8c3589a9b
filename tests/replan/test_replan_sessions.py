"""Re-planning a week with group sessions: a venue closes or a lead falls ill, and the session
moves, gets another lead or is cancelled, with the diff saying so."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import matcher
from matcher.replan import replan
from tests.helpers import checked, window
from tests.sessions_data import session_problem, teacher, venue

TWO_MORNINGS = [window("mon", "09:00", "12:00"), window("tue", "09:00", "12:00")]


def week(volunteers: list[dict[str, object]] | None = None) -> matcher.Problem:
    return session_problem(
        venues=[venue(open_windows=TWO_MORNINGS)],
        volunteers=volunteers or [teacher(availability=TWO_MORNINGS)],
    )


def test_a_closed_venue_moves_the_class_to_another_day() -> None:
    problem = week()
    plan = checked(problem, matcher.solve(problem))
    assert plan.sessions is not None and plan.sessions[0].day == "mon"
    result = replan(problem, plan, [{"kind": "venue_closed", "venue": "room", "days": ["mon"]}])
    new = checked(result.problem, result.plan)
    assert new.sessions is not None and [s.day for s in new.sessions] == ["tue"]
    assert result.diff.sessions is not None
    (change,) = result.diff.sessions
    assert change.status == "moved"
    assert change.why == "venue room closed on Monday"
    assert "session moved: class:" in result.diff.summary()


def test_an_ill_lead_is_replaced() -> None:
    problem = week([teacher(availability=TWO_MORNINGS), teacher("stand-in", x_m=100)])
    plan = checked(problem, matcher.solve(problem))
    assert plan.sessions is not None
    lead = plan.sessions[0].leads[0]
    result = replan(
        problem,
        plan,
        [{"kind": "volunteer_unavailable", "volunteer": lead, "days": ["mon", "tue"]}],
    )
    new = checked(result.problem, result.plan)
    assert new.sessions is not None and new.sessions[0].leads != [lead]
    assert result.diff.sessions is not None
    (change,) = result.diff.sessions
    assert change.status in ("new_lead", "moved")
    assert change.why.startswith(f"volunteer {lead} cancelled")


def test_a_class_nobody_can_lead_is_cancelled_and_says_why() -> None:
    problem = week()
    plan = checked(problem, matcher.solve(problem))
    result = replan(problem, plan, [{"kind": "volunteer_unavailable", "volunteer": "teacher"}])
    new = checked(result.problem, result.plan)
    assert new.sessions == []
    assert result.diff.sessions is not None
    (change,) = result.diff.sessions
    assert change.status == "cancelled"
    assert change.why == (
        "volunteer teacher cancelled the week; its wishes now go unseated (no_lead_free)"
    )


def test_a_venue_closed_the_whole_week_cancels_its_sessions() -> None:
    problem = week()
    plan = checked(problem, matcher.solve(problem))
    result = replan(problem, plan, [{"kind": "venue_closed", "venue": "room"}])
    new = checked(result.problem, result.plan)
    assert new.sessions == [] and new.unseated is not None
    assert {item.reason for item in new.unseated} == {"no_venue_open"}
    assert result.problem.venue_by_id["room"].closed_days == list(matcher.models.WEEKDAYS)


def test_an_unknown_venue_is_a_clear_error() -> None:
    problem = week()
    plan = matcher.solve(problem)
    with pytest.raises(ValidationError, match="unknown venue 'hall'"):
        replan(problem, plan, [{"kind": "venue_closed", "venue": "hall"}])


def test_a_week_without_sessions_has_no_session_diff() -> None:
    problem = matcher.models.Problem.model_validate(
        {"week_start": "2026-11-30", "services": [], "recipients": [], "volunteers": []}
    )
    result = replan(problem, matcher.solve(problem), [])
    assert result.diff.sessions is None
