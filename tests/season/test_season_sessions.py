"""Week after week with group sessions: next week's problem remembers this week's leads, and
next week's plan keeps them when it can."""

from __future__ import annotations

import matcher
from matcher.continuity import lead_history_from_plan
from matcher.season import next_week_problem
from tests.helpers import checked
from tests.sessions_data import session_problem, teacher


def test_next_week_keeps_this_week_s_lead() -> None:
    problem = session_problem(volunteers=[teacher("ann-t", x_m=50), teacher("bob-t", x_m=50)])
    plan = checked(problem, matcher.solve(problem))
    assert plan.sessions is not None
    (lead,) = plan.sessions[0].leads
    (entry,) = lead_history_from_plan(plan, problem)
    assert (entry.group_service, entry.volunteer, entry.week_start) == (
        "class",
        lead,
        problem.week_start,
    )
    # Next week the other teacher is nearer: without the history they would lead.
    other = "bob-t" if lead == "ann-t" else "ann-t"
    upcoming = session_problem(
        volunteers=[teacher(lead, x_m=150), teacher(other, x_m=0)],
        week_start="2026-12-07",
    )
    fresh = checked(upcoming, matcher.solve(upcoming))
    assert fresh.sessions is not None and fresh.sessions[0].leads == [other]
    following = next_week_problem(problem, plan, upcoming)
    assert [e.volunteer for e in following.lead_history] == [lead]
    kept = checked(following, matcher.solve(following))
    assert kept.sessions is not None and kept.sessions[0].leads == [lead]


def test_a_week_without_sessions_has_no_lead_history() -> None:
    problem = session_problem().without_sessions()
    plan = matcher.solve(problem)
    assert next_week_problem(problem, plan).lead_history == []
