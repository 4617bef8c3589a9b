"""The front door: `solve()` picks a solver, runs it, checks the plan and fills its metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from matcher.checker import check_plan
from matcher.continuity import pairing_report
from matcher.messages import checked_language, message
from matcher.models import Plan, Problem, UnassignedVisit
from matcher.solvers.candidates import need_facts
from matcher.solvers.cpsat import solve_cpsat
from matcher.solvers.greedy import solve_greedy
from matcher.solvers.lns import solve_lns
from matcher.solvers.objective import objective_breakdown
from matcher.solvers.routing import solve_routing
from matcher.travel import TravelModel

SOLVERS = ("greedy", "cpsat", "lns", "routing", "auto")

AUTO_EXACT_MAX_VISITS = 120
"""`auto` uses the exact model up to this many requested visits a week, LNS above."""
AUTO_EXACT_MAX_VOLUNTEERS = 15


class SolverError(RuntimeError):
    """A solver returned a plan that breaks a hard rule: a bug, never a user error."""


def choose_solver(problem: Problem) -> tuple[str, str]:
    """The solver `auto` picks for this problem, and why."""
    requested = sum(need.visits_per_week for need in problem.need_by_id.values())
    volunteers = len(problem.volunteers)
    if requested <= AUTO_EXACT_MAX_VISITS and volunteers <= AUTO_EXACT_MAX_VOLUNTEERS:
        return "cpsat", (
            f"{requested} visits and {volunteers} volunteers: small enough for the exact model"
        )
    return "lns", (
        f"{requested} visits and {volunteers} volunteers: above {AUTO_EXACT_MAX_VISITS} visits "
        f"or {AUTO_EXACT_MAX_VOLUNTEERS} volunteers, so large-neighbourhood search"
    )


def solve(
    problem: Problem | Mapping[str, Any],
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
    language: str | None = None,
) -> Plan:
    """Plan the week: run `solver`, verify the plan with the independent checker, attach metrics.

    Solvers: `greedy` (fast constructive), `cpsat` (exact model, proven bound), `lns`
    (large-neighbourhood search for community-sized weeks), `routing` (OR-Tools vehicle routing
    with an exact timing pass, for routing-heavy weeks; coverage bound from the relaxation) and
    `auto` (exact when small, LNS otherwise; the plan's solver parameters say which and why).
    The same problem, solver, seed and time limit give the same plan, except that `lns`, `cpsat`
    and `routing` stop on wall time, so a busier machine may stop them at a different point.
    With a history, the plan reports the standing pairings kept, new and broken (with
    reasons). Unplanned visits say why in `language` (`en` or `zh`; default: the problem's
    `policy.language`). Raises ValueError for an unknown solver or language and pydantic's
    ValidationError (listing every problem) for invalid input.
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of: {', '.join(SOLVERS)}")
    if time_limit_s is not None and time_limit_s <= 0:
        raise ValueError("time_limit_s must be positive")
    checked_problem = problem if isinstance(problem, Problem) else Problem.model_validate(problem)
    message_language = checked_language(
        language if language is not None else checked_problem.policy.language
    )
    travel = TravelModel(checked_problem)
    chosen, reason = (solver, "") if solver != "auto" else choose_solver(checked_problem)
    if chosen == "greedy":
        plan = solve_greedy(checked_problem, travel, seed=seed, time_limit_s=time_limit_s)
    elif chosen == "cpsat":
        plan = solve_cpsat(checked_problem, travel, seed=seed, time_limit_s=time_limit_s)
    elif chosen == "routing":
        plan = solve_routing(checked_problem, travel, seed=seed, time_limit_s=time_limit_s)
    else:
        plan = solve_lns(checked_problem, travel, seed=seed, time_limit_s=time_limit_s)
    if solver == "auto":
        plan.solver.parameters["auto"] = {"chosen": chosen, "reason": reason}
    report = check_plan(checked_problem, plan, travel)
    if not report.ok:
        broken = "; ".join(violation.message for violation in report.violations[:5])
        raise SolverError(f"solver {chosen!r} broke {len(report.violations)} rule(s): {broken}")
    plan.metrics = report.metrics
    if message_language != "en":
        plan.unassigned = localised_unassigned(plan.unassigned, message_language)
    if checked_problem.history:
        plan.pairings = pairing_report(checked_problem, plan, travel)
    plan.solver.objective = report.metrics.weighted_planned
    plan.solver.objective_breakdown = objective_breakdown(
        checked_problem, travel, need_facts(checked_problem, travel), plan.visits
    )
    return plan


def localised_unassigned(unassigned: list[UnassignedVisit], language: str) -> list[UnassignedVisit]:
    """The unplanned visits with their sentences from the catalogue in `language`.

    Solvers write English sentences with English details; in another language each visit gets
    its reason code's catalogue sentence (the per-volunteer details are in `matcher explain`).
    """
    return [
        item.model_copy(update={"message": message(item.reason, language)}) for item in unassigned
    ]
