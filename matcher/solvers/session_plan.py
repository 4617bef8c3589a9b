"""Group sessions in the plan every solver returns: which solver plans them, the unseated wishes
with their reasons, and the session terms of the objective.

`greedy`, `cpsat` (in its model: `matcher.solvers.cpsat.sessions`) and `lns` plan the sessions
themselves (`SearchSolver.plans_sessions`). For every other search solver the sessions are
planned into the week its visits leave free by the greedy session planner
(`matcher.solvers.greedy.sessions`), unless the solver declines group services (`routing`: a
clear error, never a plan that ignores them). A
home visit outweighs a seat under the default weights, so visits first is also the order the
objective asks for.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from matcher.models import WEEKDAYS, Problem, Session, UnseatedWish, Visit
from matcher.rules.outings import outings_by_day
from matcher.rules.session_diagnosis import missing_seats
from matcher.rules.sessions import day_distance_m, session_duties, visit_duties

if TYPE_CHECKING:
    from matcher.solvers.base import Progress, SearchOutcome, SolveRequest
    from matcher.solvers.bounds import SessionBounds
    from matcher.travel import TravelModel

SESSION_SHARE_OF_LIMIT = 0.15
"""The share of the request's time limit kept from the search for the session pass (a search
such as `lns` uses all the time it is given)."""


class SessionsNotSupported(ValueError):
    """The solver asked for does not plan group sessions."""


def refuse_sessions(solver: str, problem: Problem, declines: bool) -> None:
    """Raise `SessionsNotSupported` when the problem has group services and the solver declines
    them (it would otherwise leave them out of the plan silently)."""
    if declines and problem.has_sessions:
        raise SessionsNotSupported(
            f"solver {solver!r} does not plan group sessions, and this problem has "
            f"{len(problem.group_services)} group service(s); use 'greedy', 'lns', 'ruin', "
            "'cpsat' or 'auto', which plan them, or plan the home visits alone with "
            "Problem.without_sessions()"
        )


GREEDY_SHARE_OF_LIMIT = 0.5
"""The share of the time limit greedy's plan with sessions may take before another search (a
search that does not weigh seats gains little from more time on a week with sessions)."""


def prepare_sessions(
    request: SolveRequest, plans_sessions: bool
) -> tuple[SolveRequest, SearchOutcome | None]:
    """Before a search that does not plan sessions itself: greedy's plan with sessions (the
    floor the plan keeps, `greedy.sessions.search_with_sessions`), and the request the search
    gets, its time limit less the session pass's share (`SESSION_SHARE_OF_LIMIT`). Without group
    services, or for `greedy`: the request itself and None."""
    problem, limit = request.problem, request.time_limit_s
    if not problem.has_sessions or plans_sessions:
        return request, None
    from matcher.solvers.greedy.sessions import search_with_sessions
    from matcher.solvers.greedy.setup import GreedyParameters

    deadline = None if limit is None else request.started_at + GREEDY_SHARE_OF_LIMIT * limit
    greedy = search_with_sessions(request, GreedyParameters(), deadline)
    if limit is None:
        return request, greedy
    heard = request.progress

    def progress(report: Progress) -> None:
        """The caller hears the time limit they gave, not the search's share of it."""
        if heard is not None:
            heard(dataclasses.replace(report, time_limit_s=limit))

    search = dataclasses.replace(
        request,
        time_limit_s=limit * (1 - SESSION_SHARE_OF_LIMIT),
        progress=progress if heard is not None else None,
    )
    return search, greedy


UNLIMITED_BOUND_S = 10.0
"""Seconds the relaxation of visits and seats gets when the solve has no time limit (so that a
huge week never waits long for it; past them the plain bounds are reported)."""
LEAST_BOUND_S = 0.1
"""Below this much time left before the plan's deadline, the relaxation is not tried."""


def _plan_deadline(request: SolveRequest) -> float | None:
    """When the search and the session pass must be done (`time.perf_counter()`): the time
    limit less what assembling the plan keeps back; None without a limit."""
    from matcher.solvers.base import finishing_reserve_s

    limit = request.time_limit_s
    if limit is None:
        return None
    return request.started_at + limit - finishing_reserve_s(request.problem, limit)


def sessions_of_search(
    request: SolveRequest, outcome: SearchOutcome, greedy: SearchOutcome | None = None
) -> list[Session] | None:
    """The sessions of the plan: those the search planned, else the better of the greedy
    session planner's around the search's visits and `greedy`'s plan with sessions; None when
    the problem has no group service. The search's statistics gain the seats planned and the
    plan's combined points (`bounds.combined_points`), with their upper bounds
    (`session_bounds`) and the gaps (`session_statistics`)."""
    problem = request.problem
    if not problem.has_sessions:
        return None
    sessions = _sessions(request, outcome, greedy)
    outcome.statistics.setdefault("sessions", {}).update(
        session_statistics(problem, outcome.visits, sessions, session_bounds(request, outcome))
    )
    return sessions


def session_bounds(request: SolveRequest, outcome: SearchOutcome) -> SessionBounds:
    """The bounds of the relaxation of visits and seats together (`bounds.session_upper_bounds`)
    in the time left before the plan's deadline (`UNLIMITED_BOUND_S` without a time limit);
    with less than `LEAST_BOUND_S` left, or when it runs out of time, the plain ones: the
    search's bound on coverage (every requested visit without one) and `seat_upper_bound`,
    added up. Computed after the search, never beside it: a second thread would slow the
    search down on a busy machine."""
    from matcher.solvers.bounds import SessionBounds, combined_points, session_upper_bounds
    from matcher.solvers.seat_bound import seat_upper_bound

    problem = request.problem
    deadline = _plan_deadline(request)
    left = UNLIMITED_BOUND_S if deadline is None else deadline - time.perf_counter()
    if left >= LEAST_BOUND_S and not request.stop_requested():
        found = session_upper_bounds(
            problem,
            request.travel,
            outcome.facts,
            time_limit_s=left,
            should_stop=request.stop_requested,
        )
        if found.relaxed:
            return found
    count, weighted = seat_upper_bound(problem, request.travel)
    coverage = outcome.bound
    if coverage is None:
        coverage = sum(
            problem.priority_of(need) * need.visits_per_week
            for recipient in problem.recipients
            for need in recipient.needs
        )
    return SessionBounds(
        combined=combined_points(problem, coverage, weighted),
        weighted_seats=weighted,
        seats=count,
        seats_from="count",
        relaxed=False,
    )


def _gap(bound: float, value: float) -> float:
    """How far the value may be from its bound, as a share of the bound."""
    return max(0.0, (bound - value) / bound) if bound > 0 else 0.0


def session_statistics(
    problem: Problem, visits: Sequence[Visit], sessions: Sequence[Session], bounds: SessionBounds
) -> dict[str, Any]:
    """The seats planned and their bounds (`seat_bound`, `weighted_seat_bound`: the least of
    the relaxation's and `seat_upper_bound`'s, `seat_bound_from` says which), and the plan's
    combined points (visits and seats, `bounds.combined_points`) with their bound from the one
    relaxation of both (`combined_bound_relaxed`: False when it did not finish in time and the
    two separate bounds were added up), each with its gap."""
    from matcher.solvers.bounds import combined_points

    seats = sum(len(session.attendees) for session in sessions)
    weighted = sum(
        problem.wish_priority(problem.wish_by_id[seat.wish])
        for session in sessions
        for seat in session.attendees
    )
    need_by_id = problem.need_by_id
    coverage = sum(problem.priority_of(need_by_id[visit.need]) for visit in visits)
    combined = combined_points(problem, coverage, weighted)
    weighted_bound = max(bounds.weighted_seats, weighted)
    combined_bound = max(bounds.combined, combined)
    return {
        "seats": seats,
        "seat_bound": max(bounds.seats, seats),
        "seat_bound_from": bounds.seats_from,
        "weighted_seats": weighted,
        "weighted_seat_bound": weighted_bound,
        "weighted_seat_gap": _gap(weighted_bound, weighted),
        "combined": combined,
        "combined_bound": combined_bound,
        "combined_gap": _gap(combined_bound, combined),
        "combined_bound_relaxed": bounds.relaxed,
    }


def _sessions(
    request: SolveRequest, outcome: SearchOutcome, greedy: SearchOutcome | None
) -> list[Session]:
    """The search's sessions, else the better (`greedy.sessions.plan_rank`) of the greedy
    session planner's around the search's visits and greedy's own plan with sessions (whose
    visits then replace the search's: the search does not yet weigh seats)."""
    problem = request.problem
    if outcome.sessions is not None:
        return list(outcome.sessions)
    from matcher.rules.facts import need_facts
    from matcher.solvers.base import finishing_reserve_s
    from matcher.solvers.greedy.sessions import plan_rank, plan_sessions

    limit = request.time_limit_s
    deadline = (
        None if limit is None else request.started_at + limit - finishing_reserve_s(problem, limit)
    )
    sessions, stopped = plan_sessions(
        problem, request.travel, outcome.visits, deadline, request.stop_requested
    )
    statistics: dict[str, Any] = {"planner": "greedy", "order": "after_the_search"}
    if greedy is not None:
        floor = greedy.statistics.get("sessions", {})
        statistics["greedy_floor"] = floor.get("order") if isinstance(floor, dict) else None
    if greedy is not None and greedy.sessions is not None:
        facts = outcome.facts if outcome.facts is not None else need_facts(problem, request.travel)
        if plan_rank(problem, facts, greedy.visits, greedy.sessions) > plan_rank(
            problem, facts, outcome.visits, sessions
        ):
            outcome.visits = greedy.visits
            sessions = greedy.sessions
            stopped = greedy.stopped
            statistics["order"] = "greedy_plan_kept"
    statistics.update({"held": len(sessions), "stopped_by_time_limit": stopped})
    outcome.statistics["sessions"] = statistics
    if stopped:
        outcome.stopped = True
    return sessions


def unseated_wishes(
    problem: Problem,
    travel: TravelModel,
    visits: Sequence[Visit],
    sessions: Sequence[Session],
    *,
    stopped: bool,
    language: str,
) -> list[UnseatedWish]:
    """Every seat wished and not planned, with its reason and sentence."""
    from matcher.messages import seat_message

    return [
        UnseatedWish(
            recipient=item.recipient,
            wish=item.wish,
            group_service=item.group_service,
            occurrence=item.occurrence,
            reason=item.reason,
            message=seat_message(item.reason, language),
        )
        for item in missing_seats(problem, travel, visits, sessions, stopped=stopped)
    ]


def session_terms(
    problem: Problem, travel: TravelModel, visits: Sequence[Visit], sessions: Sequence[Session]
) -> dict[str, float]:
    """The objective's session terms, in points: `attendance` (each seat, the attendee's
    priority times `attendance`), `stable_lead` (each session led by someone who led the service
    in an earlier week), `walking` (attendees' km there and back), `session_travel` (the km the
    session and escort stops add to the volunteers' outings)."""
    weights = problem.policy.weights
    led = {(entry.group_service, entry.volunteer) for entry in problem.lead_history}
    attendance = walking = stable = 0.0
    for session in sessions:
        if any((session.group_service, lead) in led for lead in session.leads):
            stable += weights.stable_lead
        for seat in session.attendees:
            attendance += weights.attendance * problem.wish_priority(problem.wish_by_id[seat.wish])
            walking -= weights.walking_per_km * 2 * seat.walk_m / 1000
    alone = visit_duties(travel, visits)
    together = visit_duties(travel, visits)
    for key, duties in session_duties(problem, travel, sessions).items():
        together[key] = [*together.get(key, []), *duties]
    extra_m = 0.0
    for (volunteer_id, day), duties in together.items():
        volunteer = problem.volunteer_by_id[volunteer_id]
        outings = outings_by_day(volunteer).get(day, [])
        before = alone.get((volunteer_id, day), [])
        extra_m += day_distance_m(travel, volunteer, outings, duties) - (
            day_distance_m(travel, volunteer, outings, before) if before else 0.0
        )
    return {
        "attendance": attendance,
        "stable_lead": stable,
        "walking": walking,
        "session_travel": -weights.travel_per_km * extra_m / 1000,
    }


def with_session_terms(breakdown: dict[str, float], terms: dict[str, float]) -> dict[str, float]:
    """The objective breakdown with the session terms added, its `total` too."""
    merged = {key: value for key, value in breakdown.items() if key != "total"}
    merged.update(terms)
    merged["total"] = breakdown.get("total", 0.0) + sum(terms.values())
    return merged


def session_plan_fields(
    problem: Problem,
    travel: TravelModel,
    visits: Sequence[Visit],
    sessions: Sequence[Session] | None,
    *,
    stopped: bool,
    language: str,
) -> dict[str, Any]:
    """The plan's `sessions` and `unseated` for a problem with group services (empty
    otherwise, so a plan of a week without them is as before)."""
    if not problem.has_sessions:
        return {}
    held = sorted(sessions or [], key=lambda s: (WEEKDAYS.index(s.day), s.start, s.venue, s.id))
    return {
        "sessions": held,
        "unseated": unseated_wishes(
            problem, travel, visits, held, stopped=stopped, language=language
        ),
    }


__all__ = [
    "SessionsNotSupported",
    "prepare_sessions",
    "refuse_sessions",
    "session_bounds",
    "session_plan_fields",
    "session_statistics",
    "session_terms",
    "sessions_of_search",
    "unseated_wishes",
    "with_session_terms",
]
