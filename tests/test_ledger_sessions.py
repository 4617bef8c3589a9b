"""Time-bank credits for group sessions: leads, helpers and escorts earn for their minutes."""

from __future__ import annotations

import pytest

import matcher
from matcher.ledger import CreditRates, Ledger
from tests.helpers import checked
from tests.sessions_data import attendee, group_service, session_problem, teacher


def test_leads_helpers_and_escorts_earn_and_staff_do_not() -> None:
    problem = session_problem(
        recipients=[
            attendee("ann", 100),
            attendee("bo", 400, disability_level=2, wish={"escort": True}),
            attendee("cy", 200),
        ],
        group_services=[group_service(attendees_per_helper=3)],
        volunteers=[
            teacher(),
            teacher("hal", x_m=20, skills=[]),
            teacher("walker", x_m=500, skills=[]),
            teacher("clerk", x_m=30, skills=[], kind="staff"),
        ],
    )
    plan = checked(problem, matcher.solve(problem))
    assert plan.sessions is not None
    (session,) = plan.sessions
    ledger = Ledger()
    added = ledger.earn_from_plan(plan, problem, CreditRates())
    earned = {entry.person: entry for entry in added}
    assert earned["teacher"].minutes == 60 and earned["teacher"].session == session.id
    escort = next(seat.escort for seat in session.attendees if seat.recipient == "bo")
    assert escort is not None and escort in earned
    assert earned[escort].minutes is not None and earned[escort].minutes > 60
    for helper in session.helpers:
        assert helper in earned or problem.volunteer_by_id[helper].kind == "staff"
    assert "clerk" not in earned
    assert ledger.earn_from_plan(plan, problem, CreditRates()) == []
    assert ledger.balance("teacher") == pytest.approx(60 * CreditRates().per_minute("class"))
