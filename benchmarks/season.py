"""A season, simulated: consecutive weeks of a generated community with churn.

Each week is planned with `matcher.season.plan_week` (every plan verified by the checker), and
its plan feeds the next week: the history (standing pairings), the time-bank ledger and the
priority raise of high-priority recipients left without a visit (`next_week_problem`). Churn is
drawn from the seed, so the same arguments give the same season:

- the community is generated once (`benchmarks.generator.generate_community`) with a pool of
  extra recipients; the season starts with `recipients` of them, drawn at random;
- from the second week on, about 1 % of the recipients leave for good (hospital, family, moving
  away) and about 1.5 % arrive from the pool with their needs (new needs in the community);
- every week, a fresh 10 % of the volunteers are away (no availability that week).

Per week it prints coverage, weighted coverage, pairings kept, new and broken, visits changed
from the previous week, the load Gini (plain and against what each volunteer offered), credits
earned and recipients uncovered two weeks running. `python -m benchmarks.season --help` lists
the options; the protocol and the numbers are in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.generator import generate_community
from benchmarks.run import format_markdown_table, format_text_table, machine_lines
from matcher.api import SOLVERS
from matcher.checker import check_plan
from matcher.ledger import CreditRates, Ledger
from matcher.models import Plan, Problem
from matcher.season import next_week_problem, plan_week, raised_priorities

AWAY_SHARE = 0.10
"""Share of volunteers away each week."""
LEAVING_SHARE = 0.01
"""Share of the starting recipients who leave each week from the second week on."""
ARRIVING_SHARE = 0.015
"""Share of the starting recipients who arrive each week from the second week on."""
SEASON_START = dt.date(2026, 11, 30)
"""The Monday of the first week."""
SOLVER_SEED = 0


def churn_count(share: float, population: int) -> int:
    """How many of `population` a share stands for: at least one when there is anybody."""
    return max(1, round(share * population)) if population > 0 else 0


@dataclass(frozen=True)
class SeasonSettings:
    """What to simulate: the community's size, the weeks, the seed and the solver."""

    weeks: int = 12
    recipients: int = 600
    volunteers: int = 120
    buildings: int = 8
    seed: int = 0
    solver: str = "greedy"
    time_limit_s: float | None = 10.0
    keep_previous: bool = False


@dataclass(frozen=True)
class WeekChurn:
    """Who is in the community in one week: recipients (in order), arrivals, departures, and
    the volunteers away."""

    week: int
    week_start: dt.date
    recipients: tuple[str, ...]
    arrived: tuple[str, ...]
    left: tuple[str, ...]
    away: tuple[str, ...]


class SeasonCommunity:
    """The season's people and each week's churn, all drawn from the seed up front."""

    def __init__(self, settings: SeasonSettings) -> None:
        if settings.weeks < 1:
            raise ValueError("a season has at least one week")
        arrivals_a_week = churn_count(ARRIVING_SHARE, settings.recipients)
        leaving_a_week = churn_count(LEAVING_SHARE, settings.recipients)
        community = generate_community(
            recipients=settings.recipients + arrivals_a_week * (settings.weeks - 1),
            volunteers=settings.volunteers,
            buildings=settings.buildings,
            seed=settings.seed,
            week_start=SEASON_START,
        )
        self.name = f"Season of a Quanrui-like community (generated, seed {settings.seed})"
        self.services = [service.model_dump() for service in community.services]
        self.recipient_data = {r.id: r.model_dump() for r in community.recipients}
        self.volunteer_data = [volunteer.model_dump() for volunteer in community.volunteers]
        rng = random.Random(f"season-{settings.seed}")
        order = [recipient.id for recipient in community.recipients]
        drawn = list(order)
        rng.shuffle(drawn)
        active = set(drawn[: settings.recipients])
        pool = drawn[settings.recipients :]
        self.first_history = [
            entry.model_dump() for entry in community.history if entry.recipient in active
        ]
        volunteer_ids = [volunteer.id for volunteer in community.volunteers]
        self.weeks: list[WeekChurn] = []
        for week in range(1, settings.weeks + 1):
            arrived: list[str] = []
            left: list[str] = []
            if week > 1:
                left = sorted(rng.sample(sorted(active), min(leaving_a_week, len(active))))
                arrived, pool = pool[:arrivals_a_week], pool[arrivals_a_week:]
                active = (active - set(left)) | set(arrived)
            away = rng.sample(volunteer_ids, churn_count(AWAY_SHARE, len(volunteer_ids)))
            self.weeks.append(
                WeekChurn(
                    week=week,
                    week_start=SEASON_START + dt.timedelta(days=7 * (week - 1)),
                    recipients=tuple(recipient for recipient in order if recipient in active),
                    arrived=tuple(arrived),
                    left=tuple(left),
                    away=tuple(sorted(away)),
                )
            )

    def problem(self, week: int) -> Problem:
        """The week as the coordinators describe it: who is there, who is away; the history
        of the week before the season in the first week only (later weeks get theirs from the
        plans, through `next_week_problem`)."""
        churn = self.weeks[week - 1]
        away = set(churn.away)
        data: dict[str, Any] = {
            "name": f"{self.name}, week {week}",
            "week_start": churn.week_start,
            "services": self.services,
            "recipients": [self.recipient_data[recipient] for recipient in churn.recipients],
            "volunteers": [
                {**volunteer, "availability": []} if volunteer["id"] in away else volunteer
                for volunteer in self.volunteer_data
            ],
            "history": self.first_history if week == 1 else [],
        }
        return Problem.model_validate(data)


@dataclass
class WeekRow:
    """What one week of the season achieved."""

    week: int
    week_start: dt.date
    recipients: int
    arrived: int
    left: int
    away: int
    visits_requested: int
    visits_planned: int
    coverage_pct: float
    weighted_coverage_pct: float
    pairings_standing: int
    pairings_kept: int
    pairings_kept_pct: float
    pairings_new: int
    pairings_broken: int
    visits_same: int | None
    visits_changed: int | None
    visits_added: int | None
    visits_dropped: int | None
    load_gini: float
    load_vs_offer_gini: float
    credits_earned: float
    uncovered_two_weeks: int | None
    uncovered_with_time: int | None
    unvisited_two_weeks: int | None
    """Recipients of any priority with a need and no visit, this week and the last."""
    raised: int
    violations: int
    wall_time_s: float
    broken_by_reason: dict[str, int] = field(default_factory=dict)


def unvisited(problem: Problem, plan: Plan) -> set[str]:
    """Recipients with a need and no visit in the plan, whatever their priority."""
    visited = {visit.recipient for visit in plan.visits}
    return {r.id for r in problem.recipients if r.needs and r.id not in visited}


def run_season(
    settings: SeasonSettings, progress: Callable[[WeekRow], None] | None = None
) -> list[WeekRow]:
    """Plan every week in turn, each plan feeding the next week's problem and the ledger."""
    community = SeasonCommunity(settings)
    ledger, rates = Ledger(), CreditRates()
    problem = community.problem(1)
    previous_plan = None
    previously_unvisited: set[str] | None = None
    rows: list[WeekRow] = []
    for week in range(1, settings.weeks + 1):
        began = time.perf_counter()
        outcome = plan_week(
            problem,
            previous_plan,
            solver=settings.solver,
            time_limit_s=settings.time_limit_s,
            seed=SOLVER_SEED,
            ledger=ledger,
            rates=rates,
            keep_previous=settings.keep_previous,
        )
        wall_time_s = time.perf_counter() - began
        plan = outcome.plan
        report = check_plan(problem, plan)
        metrics = report.metrics
        unvisited_now = unvisited(problem, plan)
        raised = 0
        if week < settings.weeks:
            upcoming = community.problem(week + 1)
            raised = len(raised_priorities(problem, plan, upcoming))
            next_problem = next_week_problem(problem, plan, upcoming)
        churn = community.weeks[week - 1]
        changes = outcome.changes
        uncovered = plan.uncovered_two_weeks
        pairings = plan.pairings
        row = WeekRow(
            week=week,
            week_start=churn.week_start,
            recipients=len(churn.recipients),
            arrived=len(churn.arrived),
            left=len(churn.left),
            away=len(churn.away),
            visits_requested=metrics.visits_requested,
            visits_planned=metrics.visits_planned,
            coverage_pct=metrics.coverage_pct,
            weighted_coverage_pct=metrics.weighted_coverage_pct,
            pairings_standing=metrics.pairings_standing,
            pairings_kept=metrics.pairings_kept,
            pairings_kept_pct=metrics.pairings_kept_pct,
            pairings_new=metrics.pairings_new,
            pairings_broken=metrics.pairings_broken,
            visits_same=changes.same if changes is not None else None,
            visits_changed=changes.changed if changes is not None else None,
            visits_added=changes.added if changes is not None else None,
            visits_dropped=changes.dropped if changes is not None else None,
            load_gini=metrics.load_gini,
            load_vs_offer_gini=metrics.load_vs_offer_gini,
            credits_earned=outcome.credits_earned,
            uncovered_two_weeks=len(uncovered) if uncovered is not None else None,
            uncovered_with_time=(
                sum(item.volunteer is not None for item in uncovered)
                if uncovered is not None
                else None
            ),
            unvisited_two_weeks=(
                len(unvisited_now & previously_unvisited)
                if previously_unvisited is not None
                else None
            ),
            raised=raised,
            violations=len(report.violations),
            wall_time_s=wall_time_s,
            broken_by_reason=dict(
                Counter(item.reason for item in pairings.broken) if pairings is not None else {}
            ),
        )
        rows.append(row)
        if progress is not None:
            progress(row)
        previous_plan, previously_unvisited = plan, unvisited_now
        if week < settings.weeks:
            problem = next_problem
    return rows


TABLE_HEADERS = (
    "week",
    "starts",
    "recipients (+in −out)",
    "volunteers away",
    "visits planned / requested",
    "coverage %",
    "weighted coverage %",
    "pairings kept %",
    "kept / standing",
    "new pairings",
    "broken",
    "visits same / changed / added / dropped",
    "load Gini",
    "load/offer Gini",
    "credits earned",
    "high priority uncovered 2 weeks (volunteer had time)",
    "any priority unvisited 2 weeks",
    "raised",
    "wall s",
)


def _optional(value: int | None) -> str:
    """A count, or '-' for the first week, which has no week before it."""
    return "-" if value is None else str(value)


def table_rows(rows: Sequence[WeekRow]) -> list[list[str]]:
    """One row of cells per week."""
    cells = []
    for row in rows:
        changes = (
            "-"
            if row.visits_same is None
            else f"{row.visits_same} / {row.visits_changed} / {row.visits_added} / "
            f"{row.visits_dropped}"
        )
        uncovered = (
            "-"
            if row.uncovered_two_weeks is None
            else f"{row.uncovered_two_weeks} ({row.uncovered_with_time})"
        )
        cells.append(
            [
                str(row.week),
                row.week_start.isoformat(),
                f"{row.recipients} (+{row.arrived} −{row.left})",
                str(row.away),
                f"{row.visits_planned} / {row.visits_requested}",
                f"{row.coverage_pct:.1f}",
                f"{row.weighted_coverage_pct:.1f}",
                f"{row.pairings_kept_pct:.1f}",
                f"{row.pairings_kept} / {row.pairings_standing}",
                str(row.pairings_new),
                str(row.pairings_broken),
                changes,
                f"{row.load_gini:.3f}",
                f"{row.load_vs_offer_gini:.3f}",
                f"{row.credits_earned:.1f}",
                uncovered,
                _optional(row.unvisited_two_weeks),
                str(row.raised),
                f"{row.wall_time_s:.1f}",
            ]
        )
    return cells


def summary_lines(rows: Sequence[WeekRow]) -> list[str]:
    """The season in a few lines: means, totals and broken pairings by reason."""
    if not rows:
        return []
    reasons: Counter[str] = Counter()
    for row in rows:
        reasons.update(row.broken_by_reason)
    later = rows[1:]
    lines = [
        f"mean coverage {statistics.fmean(r.coverage_pct for r in rows):.1f}%, weighted "
        f"{statistics.fmean(r.weighted_coverage_pct for r in rows):.1f}%; pairings kept "
        f"{statistics.fmean(r.pairings_kept_pct for r in rows):.1f}% on average"
        + (
            f" ({statistics.fmean(r.pairings_kept_pct for r in later):.1f}% from week 2)"
            if later
            else ""
        ),
        f"credits earned in the season: {sum(r.credits_earned for r in rows):.1f}; "
        f"recipients uncovered two weeks running: "
        f"{sum(r.uncovered_two_weeks or 0 for r in rows)} "
        f"({sum(r.uncovered_with_time or 0 for r in rows)} while a qualified volunteer had "
        f"time); hard-rule violations: {sum(r.violations for r in rows)}",
        "recipients of any priority without a visit two weeks running: "
        + (
            f"{statistics.fmean(r.unvisited_two_weeks or 0 for r in later):.1f} a week on average"
            if later
            else "-"
        ),
        "broken pairings by reason: "
        + (", ".join(f"{reason} {count}" for reason, count in reasons.most_common()) or "none"),
    ]
    return lines


KEEPING_NOTE = "; keeping last week's visits (keep_previous)"


def settings_line(settings: SeasonSettings) -> str:
    """The run's settings and churn, the same for every row."""
    limit = "none" if settings.time_limit_s is None else f"{settings.time_limit_s:g} s"
    return (
        f"season: {settings.weeks} weeks from {SEASON_START}, {settings.recipients} recipients, "
        f"{settings.volunteers} volunteers, {settings.buildings} buildings, generator seed "
        f"{settings.seed}; solver {settings.solver} (seed {SOLVER_SEED}, time limit {limit})"
        f"{KEEPING_NOTE if settings.keep_previous else ''}; "
        f"churn a week: {AWAY_SHARE:.0%} of volunteers away, "
        f"{churn_count(LEAVING_SHARE, settings.recipients)} recipients leave and "
        f"{churn_count(ARRIVING_SHARE, settings.recipients)} arrive (from week 2)"
    )


def render_report(rows: Sequence[WeekRow], settings: SeasonSettings, markdown: bool) -> str:
    """The machine, the settings, the table and the summary, as text or Markdown."""
    preamble = [*machine_lines(), settings_line(settings)]
    cells = table_rows(rows)
    summary = summary_lines(rows)
    if markdown:
        parts = [
            "\n".join(f"- {line}" for line in preamble),
            format_markdown_table(TABLE_HEADERS, cells),
            "\n".join(f"- {line}" for line in summary),
        ]
    else:
        parts = [
            "\n".join(preamble),
            format_text_table(TABLE_HEADERS, cells),
            "\n".join(summary),
        ]
    return "\n\n".join(parts) + "\n"


def _positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _time_limit(text: str) -> float | None:
    """A positive number of seconds, or 'none'."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("the time limit must be positive")
    return value


def _parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.season",
        description="Plan consecutive weeks of a generated community with churn, each week's "
        "plan feeding the next week's history, and print one row per week.",
    )
    parser.add_argument("--weeks", type=_positive_int, default=12)
    parser.add_argument("--recipients", type=_positive_int, default=600)
    parser.add_argument("--volunteers", type=_positive_int, default=120)
    parser.add_argument("--buildings", type=_positive_int, default=8)
    parser.add_argument("--seed", type=int, default=0, help="the generator's and churn's seed")
    parser.add_argument("--solver", choices=SOLVERS, default="greedy")
    parser.add_argument(
        "--time-limit-s", type=_time_limit, default=10.0, help="per week (default 10; 'none')"
    )
    parser.add_argument(
        "--keep-previous",
        action="store_true",
        help="keep last week's visits that still keep every rule (plan_week keep_previous)",
    )
    parser.add_argument("--markdown", action="store_true", help="a Markdown table for the README")
    return parser


def _progress(row: WeekRow) -> None:
    """A short line about a finished week, for the progress log."""
    print(
        f"week {row.week}: {row.visits_planned}/{row.visits_requested} visits, weighted "
        f"coverage {row.weighted_coverage_pct:.1f}%, pairings kept {row.pairings_kept_pct:.1f}%, "
        f"{row.wall_time_s:.1f} s",
        file=sys.stderr,
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Simulate the season and print the report; exit code 1 if a plan broke a hard rule."""
    arguments = _parser().parse_args(argv)
    settings = SeasonSettings(
        weeks=arguments.weeks,
        recipients=arguments.recipients,
        volunteers=arguments.volunteers,
        buildings=arguments.buildings,
        seed=arguments.seed,
        solver=arguments.solver,
        time_limit_s=arguments.time_limit_s,
        keep_previous=arguments.keep_previous,
    )
    rows = run_season(settings, progress=_progress)
    sys.stdout.write(render_report(rows, settings, arguments.markdown))
    return 0 if all(row.violations == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
