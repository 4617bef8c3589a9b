"""Plan mode: a coordinator's own plan checked and scored beside the optimizer's."""

from __future__ import annotations

from pydantic import Field

from matcher.api import solve
from matcher.checker import CheckReport, check_plan
from matcher.explain.analyst import language_of
from matcher.explain.verdicts import known_visits
from matcher.messages import CATALOGUE, Language, message
from matcher.models import Plan, Problem
from matcher.models.common import StrictModel
from matcher.rules import need_facts
from matcher.solvers.objective import objective_breakdown
from matcher.travel import TravelModel


class PlanScore(StrictModel):
    """A coordinator's plan checked and scored beside a reference (the optimizer's) plan."""

    language: Language = "en"
    reference_solver: str
    report: CheckReport
    reference_report: CheckReport
    objective: dict[str, float] = Field(description="the policy objective term by term, total")
    reference_objective: dict[str, float]

    @property
    def ok(self) -> bool:
        """Whether the coordinator's plan keeps every hard rule."""
        return self.report.ok

    def summary(self) -> str:
        """The two plans side by side, the difference in visits, and every broken rule."""
        say = self._say
        mine, theirs = self.report.metrics, self.reference_report.metrics
        rows: list[tuple[str, str, str]] = [
            ("", say("score.yours"), say("score.optimizer")),
            (
                say("score.rules_broken"),
                str(len(self.report.violations)),
                str(len(self.reference_report.violations)),
            ),
            (
                say("score.visits_planned"),
                f"{mine.visits_planned}/{mine.visits_requested}",
                f"{theirs.visits_planned}/{theirs.visits_requested}",
            ),
            (
                say("score.weighted_coverage"),
                f"{mine.weighted_coverage_pct:.1f}",
                f"{theirs.weighted_coverage_pct:.1f}",
            ),
            (
                say("score.travel_km"),
                f"{mine.travel_distance_m / 1000:.1f}",
                f"{theirs.travel_distance_m / 1000:.1f}",
            ),
            (
                say("score.continuity"),
                f"{mine.continuity_pct:.1f}",
                f"{theirs.continuity_pct:.1f}",
            ),
            (say("score.load_gini"), f"{mine.load_gini:.2f}", f"{theirs.load_gini:.2f}"),
        ]
        rows.extend(
            (
                say(
                    "score.objective",
                    term=say(f"term.{term}") if f"term.{term}" in CATALOGUE else term,
                ),
                f"{self.objective.get(term, 0.0):.0f}",
                f"{self.reference_objective.get(term, 0.0):.0f}",
            )
            for term in self.objective
        )
        widths = [max(_width(row[column]) for row in rows) for column in range(3)]
        lines = [say("score.title", solver=self.reference_solver)]
        for label, first, second in rows:
            lines.append(
                _pad(label, widths[0])
                + "  "
                + _pad(first, widths[1], right=True)
                + "  "
                + _pad(second, widths[2], right=True)
            )
        more = theirs.visits_planned - mine.visits_planned
        weighted = theirs.weighted_planned - mine.weighted_planned
        if more > 0:
            lines.append(say("score.more_visits", visits=more, weighted=weighted))
        elif more < 0:
            lines.append(say("score.fewer_visits", visits=-more, weighted=weighted))
        else:
            lines.append(say("score.same_visits", weighted=weighted))
        if self.report.ok:
            lines.append(say("score.ok"))
        lines.extend(
            say("score.violation", rule=violation.rule, message=violation.message)
            for violation in self.report.violations
        )
        return "\n".join(lines)

    def _say(self, code: str, **details: object) -> str:
        return message(code, self.language, **details)


def _width(text: str) -> int:
    """Columns a text takes in a terminal (CJK characters take two)."""
    return sum(2 if ord(character) >= 0x1100 else 1 for character in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    padding = " " * max(0, width - _width(text))
    return padding + text if right else text + padding


def _objective(problem: Problem, travel: TravelModel, plan: Plan) -> dict[str, float]:
    """The policy objective of the plan's visits that name a known need and volunteers."""
    return objective_breakdown(
        problem, travel, need_facts(problem, travel), known_visits(problem, plan)
    )


def score_plan(
    problem: Problem,
    plan: Plan,
    reference: Plan | None = None,
    *,
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
    language: str | None = None,
) -> PlanScore:
    """Check a coordinator's plan and score it beside a reference plan.

    Without a reference, the optimizer plans the week (`matcher.api.solve` with `solver`,
    `time_limit_s` and `seed`). Both plans are checked against every hard rule and scored by
    the checker's metrics and the policy objective term by term.

    Parameters:
        problem: the week both plans are for.
        plan: the coordinator's plan; it may break rules (the report lists them).
        reference: the plan to compare with; None: the optimizer's plan of the week.
        solver: the solver that makes the reference when none is given (`matcher.api.solve`).
        time_limit_s: its time limit in seconds (None: the solver's default).
        seed: its seed.
        language: of the summary, `en` or `zh`; default the policy's.
    """
    model = TravelModel(problem)
    if reference is None:
        reference = solve(problem, solver=solver, time_limit_s=time_limit_s, seed=seed)
    return PlanScore(
        language=language_of(problem, language),
        reference_solver=reference.solver.solver,
        report=check_plan(problem, plan, model),
        reference_report=check_plan(problem, reference, model),
        objective=_objective(problem, model, plan),
        reference_objective=_objective(problem, model, reference),
    )


__all__ = ["PlanScore", "score_plan"]
