"""Why an occurrence is not planned: one diagnosis for every solver and for `matcher explain`.

The stages, in order, each asking whether at least a team's worth of volunteers is left on one
and the same day the occurrence may still use (allowed by its windows, and `min_gap_days` from
the days its need, and a linked need, already have):

1. `no_qualified_volunteer`: skills, checks, kind of recipient, exclusions, the load they can
   carry;
2. `no_shared_window`: one of their outings and the visit's windows share a long enough time;
3. `too_far`: they can get there and back within that outing and their distance limits;
4. otherwise `volunteers_full` (their week is taken), or `not_planned` when the solver stopped
   before it could try.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher.messages import message
from matcher.models import WEEKDAYS, Problem, ReasonCode, UnassignedVisit, Visit
from matcher.rules.days import open_days
from matcher.rules.facts import NeedFacts, shared_starts, starts_within_reach
from matcher.rules.intervals import Interval
from matcher.rules.occurrences import missing_occurrences
from matcher.rules.outings import alone_reach, outings_by_day
from matcher.rules.plan_index import PlanIndex
from matcher.rules.qualification import qualification_failures, skills_nobody_has
from matcher.rules.volunteer_week import can_carry

if TYPE_CHECKING:
    from matcher.travel import TravelModel


@dataclass(frozen=True)
class Diagnosis:
    """A reason code and the English detail that names what is missing."""

    reason: ReasonCode
    detail: str = ""

    @property
    def message(self) -> str:
        """The catalogue sentence of the reason followed by the detail."""
        return f"{message(self.reason, 'en')} {self.detail}".strip()


@dataclass(frozen=True)
class Stages:
    """How far each volunteer gets through the stages, for one occurrence."""

    qualified: tuple[str, ...]
    sharing_days: dict[str, tuple[int, ...]]
    """volunteer id -> the open days on which one of their outings meets the visit's windows."""
    reaching_days: dict[str, tuple[int, ...]]
    """volunteer id -> the open days on which they can get there and back in time."""


def _on_one_day(days_by_volunteer: dict[str, tuple[int, ...]], team: int) -> bool:
    per_day: dict[int, int] = {}
    for days in days_by_volunteer.values():
        for day in days:
            per_day[day] = per_day.get(day, 0) + 1
    return any(count >= team for count in per_day.values())


UNDIAGNOSED = Diagnosis(
    "not_planned",
    "The time limit ran out before its reason was worked out; `matcher explain` gives it.",
)
"""The diagnosis of a need the time limit left no time to diagnose."""


def _days(days: Iterable[int], every_day: bool) -> tuple[int, ...]:
    """All of these days, or only the first."""
    if every_day:
        return tuple(days)
    first = next(iter(days), None)
    return () if first is None else (first,)


class Diagnoser:
    """Diagnoses the occurrences a plan leaves out; caches per-volunteer facts."""

    def __init__(self, problem: Problem, travel: TravelModel, facts: dict[str, NeedFacts]) -> None:
        self.problem = problem
        self.travel = travel
        self.facts = facts
        self.outings = {volunteer.id: outings_by_day(volunteer) for volunteer in problem.volunteers}
        self.partners: dict[str, list[str]] = {}
        for link in problem.dependencies:
            self.partners.setdefault(link.first, []).append(link.second)
            self.partners.setdefault(link.second, []).append(link.first)
        self._shared: dict[tuple[str, int, tuple[int, tuple[Interval, ...]]], bool] = {}

    def open_days(self, need_id: str, index: PlanIndex) -> list[int]:
        """Days a further occurrence of the need may use: allowed by its windows, the gap from
        its planned visits, and (for a linked need, planned on the same day as its partner) the
        partner's gap from the partner's visits."""
        facts = self.facts[need_id]
        taken = index.need_days(need_id)
        days = open_days(facts.late_windows_by_day, taken, facts.need.min_gap_days)
        for partner in self.partners.get(need_id, []):
            other = self.facts[partner]
            days = open_days(days, index.need_days(partner), other.need.min_gap_days)
        return days

    def stages(self, need_id: str, days: Sequence[int], *, every_day: bool = True) -> Stages:
        """Which volunteers pass which stage, on which of these days (without `every_day`, on
        the first such day only: enough to diagnose a need of one volunteer, and far cheaper on
        a big week)."""
        facts = self.facts[need_id]
        qualified = tuple(
            volunteer_id
            for volunteer_id in facts.qualified
            if can_carry(self.problem.volunteer_by_id[volunteer_id], facts.need.load)
        )
        sharing: dict[str, tuple[int, ...]] = {}
        reaching: dict[str, tuple[int, ...]] = {}
        starts = {day: (facts.duration, tuple(facts.starts(day))) for day in days}
        for volunteer_id in qualified:
            volunteer = self.problem.volunteer_by_id[volunteer_id]
            outings = self.outings[volunteer_id]
            shared = _days(
                (
                    day
                    for day in days
                    if day in outings and self._shares(facts, volunteer_id, day, starts[day])
                ),
                every_day,
            )
            if not shared:
                continue
            sharing[volunteer_id] = shared
            reach = alone_reach(self.travel, volunteer, facts.place)
            reached = _days(
                (
                    day
                    for day in (shared if every_day else days)
                    if (every_day or day in outings)
                    and (every_day or self._shares(facts, volunteer_id, day, starts[day]))
                    and starts_within_reach(facts, day, outings.get(day, []), reach)
                ),
                every_day,
            )
            if reached:
                reaching[volunteer_id] = reached
        return Stages(qualified, sharing, reaching)

    def _shares(
        self,
        facts: NeedFacts,
        volunteer_id: str,
        day: int,
        starts: tuple[int, tuple[Interval, ...]],
    ) -> bool:
        """Whether one of the volunteer's outings that day shares a start with the need
        (`shared_starts`), remembered per volunteer, day, duration and starts: many needs ask
        the same."""
        key = (volunteer_id, day, starts)
        found = self._shared.get(key)
        if found is None:
            found = bool(shared_starts(facts, day, self.outings[volunteer_id][day]))
            self._shared[key] = found
        return found

    def diagnose(self, need_id: str, days: Sequence[int], *, stopped: bool = False) -> Diagnosis:
        """Why an occurrence that may use `days` is not planned."""
        facts = self.facts[need_id]
        team = facts.service.team_size
        stages = self.stages(need_id, days, every_day=team > 1)
        if len(stages.qualified) < team:
            return Diagnosis("no_qualified_volunteer", self._unqualified_detail(facts, stages))
        if not _on_one_day(stages.sharing_days, team):
            if not days and facts.late_windows_by_day:
                detail = "The other visits of this need leave no day far enough apart."
            else:
                names = ", ".join(WEEKDAYS[day] for day in days) or "none"
                detail = f"Days the visit can take place: {names}."
            return Diagnosis("no_shared_window", detail)
        if not _on_one_day(stages.reaching_days, team):
            nearest = min(
                (
                    self.travel.distance(self.travel.start_place[volunteer_id], facts.place)
                    for volunteer_id in stages.sharing_days
                ),
                default=math.inf,
            )
            detail = (
                f"The nearest one free then starts {nearest / 1000:.1f} km away."
                if math.isfinite(nearest)
                else ""
            )
            return Diagnosis("too_far", detail)
        if stopped:
            return Diagnosis("not_planned", "The solver stopped before it could plan this visit.")
        able = sorted(stages.reaching_days)
        shown = ", ".join(able[:3]) + (f" and {len(able) - 3} more" if len(able) > 3 else "")
        return Diagnosis("volunteers_full", f"Could come: {shown}.")

    def _unqualified_detail(self, facts: NeedFacts, stages: Stages) -> str:
        """Name what is missing: a skill, verification, a background check, exclusions, load."""
        service, recipient = facts.service, facts.recipient
        if recipient.kind not in service.recipient_kinds:
            return f"The service {service.id!r} is not offered to a {recipient.kind}."
        missing = skills_nobody_has(self.problem, service)
        if missing:
            return f"Nobody has the skill(s): {', '.join(missing)}."
        failures = [
            set(qualification_failures(service, recipient, volunteer)) - {"excluded"}
            for volunteer in self.problem.volunteers
        ]
        skilled = [failure for failure in failures if "skills" not in failure]
        if not skilled:
            return f"No volunteer has all of: {', '.join(service.required_skills)}."
        if service.requires_verified and all("verified" in failure for failure in skilled):
            if not service.required_skills:
                return "No volunteer is verified, and this service needs a verified one."
            return "None of the volunteers with the skills is verified."
        if recipient.kind == "child" and all(failure for failure in skilled):
            return "None of them has the background check needed to visit a child."
        allowed = sum(1 for failure in failures if not failure)
        if len(facts.qualified) == 0 and allowed > 0:
            return "The recipient has excluded every qualified volunteer."
        if len(facts.qualified) < service.team_size:
            return (
                f"It needs a team of {service.team_size} but only {len(facts.qualified)} "
                "volunteer(s) qualify."
            )
        return (
            f"Its load of {facts.need.load} is more than the qualified volunteers can carry "
            "in a day."
        )

    def linked_diagnosis(
        self, need_id: str, index: PlanIndex, *, stopped: bool = False
    ) -> Diagnosis:
        """The diagnosis of the need's next occurrence in this plan; when its own volunteers
        could come, a linked need's reason, since the two are planned together."""
        days = self.open_days(need_id, index)
        own = self.diagnose(need_id, days, stopped=stopped)
        if own.reason != "volunteers_full":
            return own
        for partner in self.partners.get(need_id, []):
            theirs = self.diagnose(partner, days, stopped=stopped)
            if theirs.reason not in ("volunteers_full", "not_planned"):
                return Diagnosis(theirs.reason, f"Its linked need {partner!r}: {theirs.detail}")
        return own

    def unassigned(
        self, visits: Iterable[Visit], *, stopped: bool = False, deadline: float | None = None
    ) -> list[UnassignedVisit]:
        """Every occurrence the visits leave out, with its reason and sentence.

        With a `deadline` (a `time.perf_counter()` time: what a solver's time limit leaves for
        it), needs are diagnosed highest priority first until then, and the needs left over
        are `not_planned` with `UNDIAGNOSED`: the one way the diagnosis gives way to the time
        limit (`matcher explain` diagnoses them all)."""
        planned = list(visits)
        index = PlanIndex.of(planned)
        needs = {need_id: facts.need for need_id, facts in self.facts.items()}
        missing = missing_occurrences(needs, planned)
        cache: dict[str, Diagnosis] = {}
        order = sorted(
            {need_id for need_id, _ in missing},
            key=lambda need_id: (-self.facts[need_id].priority, need_id),
        )
        for need_id in order:
            if deadline is not None and time.perf_counter() > deadline:
                cache[need_id] = UNDIAGNOSED
            else:
                cache[need_id] = self.linked_diagnosis(need_id, index, stopped=stopped)
        result: list[UnassignedVisit] = []
        for need_id, occurrence in missing:
            diagnosis, facts = cache[need_id], self.facts[need_id]
            result.append(
                UnassignedVisit(
                    need=need_id,
                    recipient=facts.recipient.id,
                    service=facts.service.id,
                    occurrence=occurrence,
                    reason=diagnosis.reason,
                    message=diagnosis.message,
                )
            )
        return result
