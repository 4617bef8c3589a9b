"""Why each occurrence a plan leaves out is not planned: the one diagnosis's reason, with every
volunteer's verdict beside it.

The overall reason is `matcher.rules.diagnosis.Diagnoser.linked_diagnosis` of the explained plan,
the very diagnosis every solver's plan gets its reasons from (through `assemble_plan`), so a plan
and `matcher explain` agree by construction. The verdicts (`verdicts.Judge`) say, volunteer by
volunteer, which rule rules them out at which of the diagnosis's stages.
"""

from __future__ import annotations

from collections import defaultdict

from matcher.explain.verdicts import (
    RULE_ORDER,
    CandidateVerdict,
    Explanation,
    Judge,
    Voice,
    known_visits,
)
from matcher.messages import Language, checked_language, join
from matcher.models import Plan, Problem, ReasonCode
from matcher.rules import Diagnoser, PlanIndex, missing_occurrences, need_facts
from matcher.rules.facts import NeedFacts
from matcher.travel import TravelModel


def language_of(problem: Problem, language: str | None) -> Language:
    """The language asked for, else the policy's."""
    return checked_language(language if language is not None else problem.policy.language)


class Analyst:
    """The explanations of the unplanned occurrences of one plan."""

    def __init__(self, problem: Problem, plan: Plan, travel: TravelModel, language: str) -> None:
        self.problem = problem
        self.plan = plan
        self.facts = need_facts(problem, travel)
        self.diagnoser = Diagnoser(problem, travel, self.facts)
        self.visits = known_visits(problem, plan)
        self.index = PlanIndex.of(self.visits)
        self.voice = Voice(language)
        self.judge = Judge(problem, travel, self.diagnoser, self.index, self.voice)
        self.stopped = any(entry.reason == "not_planned" for entry in plan.unassigned)
        """Whether the plan says its solver stopped before trying some occurrence (then, as in
        `assemble_plan`, `not_planned` where volunteers could come)."""
        self._verdicts: dict[tuple[str, ReasonCode | None], list[CandidateVerdict]] = {}

    def unplanned(self) -> list[tuple[str, int, ReasonCode | None]]:
        """(need, occurrence, the reason the plan lists for it) of every occurrence the plan
        leaves out, numbered as `rules.occurrences` numbers them."""
        listed: dict[tuple[str, int], ReasonCode] = {}
        for entry in self.plan.unassigned:
            listed.setdefault((entry.need, entry.occurrence), entry.reason)
        needs = {need_id: facts.need for need_id, facts in self.facts.items()}
        return [
            (need_id, number, listed.get((need_id, number)))
            for need_id, number in missing_occurrences(needs, self.visits)
        ]

    def verdicts(self, need_id: str, plan_reason: ReasonCode | None) -> list[CandidateVerdict]:
        """Every volunteer's verdict on the need's next occurrence (the same for each of its
        unplanned occurrences: they would use the same days)."""
        key = (need_id, plan_reason)
        if key not in self._verdicts:
            facts = self.facts[need_id]
            days = self.diagnoser.open_days(need_id, self.index)
            stages = self.diagnoser.stages(need_id, days)
            self._verdicts[key] = [
                self.judge.verdict(facts, volunteer, days, stages, plan_reason)
                for volunteer in self.problem.volunteers
            ]
        return self._verdicts[key]

    def explain(self, need_id: str, occurrence: int, plan_reason: ReasonCode | None) -> Explanation:
        """The reason of the one diagnosis, every volunteer's verdict and the sentence."""
        facts = self.facts[need_id]
        diagnosis = self.diagnoser.linked_diagnosis(need_id, self.index, stopped=self.stopped)
        verdicts = self.verdicts(need_id, plan_reason)
        return Explanation(
            need=need_id,
            recipient=facts.recipient.id,
            service=facts.service.id,
            occurrence=occurrence,
            priority=facts.priority,
            reason=diagnosis.reason,
            message=self.sentence(facts, diagnosis.reason, verdicts),
            plan_reason=plan_reason,
            candidates=verdicts,
        )

    def sentence(
        self, facts: NeedFacts, reason: ReasonCode, verdicts: list[CandidateVerdict]
    ) -> str:
        """The reason's sentence, how many volunteers each rule rules out, and the closest."""
        say = self.voice.say
        parts = [say(reason)]
        if facts.service.team_size > 1:
            parts.append(say("explain.team", team_size=facts.service.team_size))
        if not verdicts:
            parts.append(say("explain.no_volunteers"))
            return " ".join(parts)
        counts: dict[str, int] = defaultdict(int)
        for verdict in verdicts:
            counts[verdict.rule] += 1
        counted = [
            say("explain.count", count=counts[rule], rule=say(f"rule.{rule}"))
            for rule in RULE_ORDER
            if counts.get(rule)
        ]
        parts.append(
            say(
                "explain.counts",
                considered=len(verdicts),
                counts=join(counted, self.voice.language),
            )
        )
        furthest = max(RULE_ORDER.index(verdict.rule) for verdict in verdicts)
        closest = next(v for v in verdicts if RULE_ORDER.index(v.rule) == furthest)
        parts.append(say("explain.closest", volunteer=closest.volunteer, detail=closest.detail))
        return " ".join(parts)


def explain_unassigned(
    problem: Problem,
    plan: Plan,
    travel: TravelModel | None = None,
    *,
    language: str | None = None,
) -> list[Explanation]:
    """Why each occurrence the plan leaves out is not planned, volunteer by volunteer.

    The overall reason is the one diagnosis of `matcher.rules` (the reason a solver gives for the
    same plan): the first stage (qualification, a shared window on a day still open, reach) that
    leaves fewer volunteers than the visit's team on one day, else `volunteers_full`, or
    `not_planned` when the plan says its solver stopped before trying. Every volunteer gets the
    first rule that rules them out (see `CandidateRule`), computed from the problem and the
    plan's visits. A visit linked to another need by a dependency is judged on its own (without
    its partner's visit); when its own volunteers could come, the reason may be its partner's.

    Parameters:
        problem: the week the plan is for.
        plan: any plan of it, a solver's or a coordinator's; visits of unknown needs or
            volunteers are left aside (the checker reports them).
        travel: the problem's travel model, to reuse its matrices (built when not given).
        language: the language of the sentences, `en` or `zh`; default the policy's.

    Returns:
        One explanation per unplanned occurrence, highest priority first.
    """
    model = travel if travel is not None else TravelModel(problem)
    analyst = Analyst(problem, plan, model, language_of(problem, language))
    order = {need_id: index for index, need_id in enumerate(problem.need_by_id)}
    occurrences = sorted(
        analyst.unplanned(),
        key=lambda item: (-analyst.facts[item[0]].priority, order[item[0]], item[1]),
    )
    return [analyst.explain(*item) for item in occurrences]


def render_explanations(explanations: list[Explanation], *, verdicts: bool = True) -> str:
    """The explanations as text: one line per unplanned visit, then one per volunteer."""
    lines: list[str] = []
    for item in explanations:
        lines.append(f"{item.need} #{item.occurrence} [{item.reason}] {item.message}")
        if verdicts:
            lines.extend(
                f"  - {verdict.volunteer}: {verdict.rule}: {verdict.detail}"
                for verdict in item.candidates
            )
    return "\n".join(lines)


__all__ = ["Analyst", "explain_unassigned", "language_of", "render_explanations"]
