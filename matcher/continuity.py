"""Continuity across weeks and fairness between them.

A *standing pairing* is a recipient of this week's problem and a volunteer who visited them in
an earlier week (an entry of `Problem.history`). Each week's plan feeds the next week's history
(`history_from_plan`, `rolled_history`), and a plan's pairings are reported as kept (the
volunteer visits the recipient again), new (a visit by a volunteer not in the recipient's
history) or broken, with the reason computed from the problem and the plan (`pairing_report`).

Fairness between weeks: no recipient of high priority (`Policy.high_priority_threshold`) should
go without any visit two weeks running while a qualified volunteer had time
(`uncovered_two_weeks`); `unvisited_high_priority` names those at risk after one week, whom
`matcher.season.next_week_problem` raises in priority.

Nothing here depends on a solver: the rules are read from the problem, as the checker reads them
(docs/rules.md), and loads are recomputed from the plan's visits with the travel model.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from matcher.checker import offered_minutes
from matcher.models import (
    WEEKDAYS,
    BrokenPairing,
    BrokenReason,
    CompetingVisit,
    HistoricLead,
    HistoricVisit,
    Need,
    Pairing,
    PairingReport,
    Plan,
    Problem,
    Recipient,
    UncoveredRecipient,
    Volunteer,
)
from matcher.rules import (
    Intervals,
    NeedFacts,
    PlanIndex,
    intersect,
    need_facts,
    outings_by_day,
    shared_starts,
)
from matcher.rules.continuity import RULE_ORDER, alone_ruled_out_by
from matcher.rules.volunteer_week import (
    can_carry,
    insertions,
    visits_allowed,
    week_minutes,
)
from matcher.travel import TravelModel

DEFAULT_HISTORY_WEEKS = 4
"""Weeks of history kept by default: a pairing not visited for a month is no longer standing."""

EPSILON = 1e-6
"""Minutes (and metres) of rounding allowed, as in the checker."""

RULE_SENTENCES = {
    "skill": "lacks a required skill",
    "verified": "is not verified",
    "background_check": "has no background check",
    "excluded_volunteer": "is excluded by the recipient",
    "capacity": "cannot carry the visit's load",
    "max_visits_per_day": "may make no visit a day",
    "max_minutes_per_week": "has a weekly limit shorter than the visit",
    "volunteer_window": "is free at no time the visit may take place",
    "trip_distance": "lives further away than their longest trip",
    "outing_distance": "would walk further there and back than one outing of theirs may",
    "travel_time": "cannot get there and back home within one of their outings",
    "recipient_kind": "may not serve this kind of recipient with this service",
}


def _person(name: str, identifier: str) -> str:
    """'Wang Guilan (e001)' when there is a name, else the id."""
    return f"{name} ({identifier})" if name else identifier


def _listing(items: Iterable[str]) -> str:
    """'a, b and c'."""
    names = list(items)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# --------------------------------------------------------------------------- history


def plan_week_start(plan: Plan, problem: Problem) -> dt.date:
    """The week a plan is for: its own date, else its problem's."""
    return plan.week_start or problem.week_start


def history_from_plan(plan: Plan, problem: Problem) -> list[HistoricVisit]:
    """The plan's visits as history: one entry per recipient, volunteer and need, with the
    number of visits, dated with the plan's week. Visits of needs or volunteers the problem does
    not know are left out."""
    week = plan_week_start(plan, problem)
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for visit in plan.visits:
        recipient = problem.recipient_of_need.get(visit.need)
        if recipient is None:
            continue
        for volunteer_id in dict.fromkeys(visit.volunteers):
            if volunteer_id in problem.volunteer_by_id:
                counts[(recipient.id, volunteer_id, visit.need)] += 1
    return [
        HistoricVisit(
            recipient=recipient_id, volunteer=volunteer_id, need=need_id, week_start=week, visits=n
        )
        for (recipient_id, volunteer_id, need_id), n in counts.items()
    ]


def lead_history_from_plan(plan: Plan, problem: Problem) -> list[HistoricLead]:
    """The plan's session leads as lead history: one entry per group service and lead, with the
    number of sessions, dated with the plan's week (so next week prefers the same leads:
    `policy.weights.stable_lead`)."""
    week = plan_week_start(plan, problem)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for session in plan.sessions or []:
        if session.group_service not in problem.group_service_by_id:
            continue
        for lead in dict.fromkeys(session.leads):
            if lead in problem.volunteer_by_id:
                counts[(session.group_service, lead)] += 1
    return [
        HistoricLead(group_service=service, volunteer=lead, week_start=week, sessions=n)
        for (service, lead), n in counts.items()
    ]


def rolled_lead_history(
    history: Iterable[HistoricLead],
    added: Iterable[HistoricLead],
    week_start: dt.date,
    keep_weeks: int = DEFAULT_HISTORY_WEEKS,
) -> list[HistoricLead]:
    """The lead history of the week starting `week_start`, as `rolled_history` rolls visits."""
    if keep_weeks < 1:
        raise ValueError("keep_weeks must be at least 1")
    oldest = week_start - dt.timedelta(days=7 * keep_weeks)
    kept: dict[tuple[str, str, dt.date | None], HistoricLead] = {}
    for entry in (*history, *added):
        if entry.week_start is not None and not oldest <= entry.week_start < week_start:
            continue
        kept[(entry.group_service, entry.volunteer, entry.week_start)] = entry
    return list(kept.values())


def rolled_history(
    history: Iterable[HistoricVisit],
    added: Iterable[HistoricVisit],
    week_start: dt.date,
    keep_weeks: int = DEFAULT_HISTORY_WEEKS,
) -> list[HistoricVisit]:
    """The history of the week starting `week_start`: the earlier entries and the `added` ones
    (normally `history_from_plan` of the week before) from the last `keep_weeks` weeks.

    Undated entries (a coordinator's record of a standing pairing) are always kept; an added
    entry replaces an earlier one for the same recipient, volunteer, need and week.
    """
    if keep_weeks < 1:
        raise ValueError("keep_weeks must be at least 1")
    oldest = week_start - dt.timedelta(days=7 * keep_weeks)
    kept: dict[tuple[str, str, str | None, dt.date | None], HistoricVisit] = {}
    for entry in (*history, *added):
        if entry.week_start is not None and not oldest <= entry.week_start < week_start:
            continue
        kept[(entry.recipient, entry.volunteer, entry.need, entry.week_start)] = entry
    return list(kept.values())


def standing_pairings(problem: Problem) -> set[tuple[str, str]]:
    """(recipient, volunteer) of every history entry whose recipient is in this week."""
    return {
        (entry.recipient, entry.volunteer)
        for entry in problem.history
        if entry.recipient in problem.recipient_by_id
    }


# --------------------------------------------------------------------------- the week


@dataclass(frozen=True)
class _PlannedVisit:
    """A visit of the plan whose need and volunteers the problem knows."""

    need: str
    recipient: str
    occurrence: int
    day: int
    start: int
    end: int
    volunteers: tuple[str, ...]
    priority: float

    def competing(self) -> CompetingVisit:
        """The visit as a competitor for a paired volunteer's time."""
        return CompetingVisit(
            need=self.need,
            recipient=self.recipient,
            occurrence=self.occurrence,
            day=WEEKDAYS[self.day],
            start=self.start,
            end=self.end,
            priority=self.priority,
        )


@dataclass
class _Week:
    """A problem and a plan seen per volunteer, day and recipient, with volunteers' loads; the
    rules read from `matcher.rules`."""

    problem: Problem
    travel: TravelModel
    facts: dict[str, NeedFacts]
    index: PlanIndex
    outings: dict[str, dict[int, Intervals]]
    visits: list[_PlannedVisit] = field(default_factory=list)
    by_volunteer: dict[str, list[_PlannedVisit]] = field(default_factory=dict)
    by_volunteer_day: dict[tuple[str, int], list[_PlannedVisit]] = field(default_factory=dict)
    by_recipient: dict[str, list[_PlannedVisit]] = field(default_factory=dict)
    load_min: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        problem: Problem,
        plan: Plan,
        travel: TravelModel | None,
        facts: dict[str, NeedFacts] | None = None,
    ) -> _Week:
        """Index the plan's visits and add up each volunteer's minutes, every leg of every
        outing included (`rules.volunteer_week.week_minutes`); `facts` may be passed when the
        caller has them already."""
        model = travel if travel is not None else TravelModel(problem)
        known = [
            visit
            for visit in plan.visits
            if visit.need in problem.need_by_id
            and all(volunteer in problem.volunteer_by_id for volunteer in visit.volunteers)
        ]
        week = cls(
            problem,
            model,
            facts if facts is not None else need_facts(problem, model),
            PlanIndex.of(known),
            {volunteer.id: outings_by_day(volunteer) for volunteer in problem.volunteers},
        )
        by_volunteer: dict[str, list[_PlannedVisit]] = defaultdict(list)
        by_volunteer_day: dict[tuple[str, int], list[_PlannedVisit]] = defaultdict(list)
        by_recipient: dict[str, list[_PlannedVisit]] = defaultdict(list)
        for visit in known:
            need = problem.need_by_id[visit.need]
            item = _PlannedVisit(
                need=need.id,
                recipient=problem.recipient_of_need[need.id].id,
                occurrence=visit.occurrence,
                day=WEEKDAYS.index(visit.day),
                start=visit.start,
                end=visit.end,
                volunteers=tuple(dict.fromkeys(visit.volunteers)),
                priority=problem.priority_of(need),
            )
            week.visits.append(item)
            by_recipient[item.recipient].append(item)
            for volunteer_id in item.volunteers:
                by_volunteer[volunteer_id].append(item)
                by_volunteer_day[(volunteer_id, item.day)].append(item)
        for items in (*by_volunteer.values(), *by_volunteer_day.values()):
            items.sort(key=lambda item: (item.day, item.start, item.need, item.occurrence))
        week.by_volunteer = dict(by_volunteer)
        week.by_volunteer_day = dict(by_volunteer_day)
        week.by_recipient = dict(by_recipient)
        week.load_min = {
            volunteer_id: week_minutes(
                model, problem.volunteer_by_id[volunteer_id], week.index, week.outings[volunteer_id]
            )
            for volunteer_id in by_volunteer
        }
        return week

    def free_min(self, volunteer: Volunteer) -> float:
        """Minutes the volunteer offered (`checker.offered_minutes`) and is not planned for."""
        return max(0.0, offered_minutes(volunteer) - self.load_min.get(volunteer.id, 0.0))

    def shared_starts(self, need: Need, volunteer: Volunteer) -> dict[int, Intervals]:
        """Per day, the starts at which a visit of the need lies in its (stretched) windows and
        one of the volunteer's outings (`rules.facts.shared_starts`)."""
        facts = self.facts[need.id]
        outings = self.outings[volunteer.id]
        found = {
            day: shared_starts(facts, day, outings.get(day, []))
            for day in sorted(facts.late_windows_by_day)
        }
        return {day: starts for day, starts in found.items() if starts}

    def ruled_out_by(self, need: Need, volunteer: Volunteer) -> str | None:
        """The first hard rule (of `RULE_ORDER`) that rules the volunteer out of every visit of
        the need before anything is planned, or None when nothing does
        (`rules.continuity.alone_ruled_out_by`)."""
        return alone_ruled_out_by(
            self.travel, self.facts[need.id], volunteer, self.outings[volunteer.id]
        )

    def competing_visits(self, need: Need, volunteer: Volunteer) -> list[_PlannedVisit]:
        """The volunteer's visits that took the time a visit of the need could have used: all
        of them when their weekly minutes are used up, all of a day's when its visits a day are,
        else those overlapping a time they and the need share."""
        duration = self.facts[need.id].duration
        theirs = self.by_volunteer.get(volunteer.id, [])
        if self.free_min(volunteer) < duration - EPSILON:
            return list(theirs)
        found: list[_PlannedVisit] = []
        for day, starts in self.shared_starts(need, volunteer).items():
            that_day = self.by_volunteer_day.get((volunteer.id, day), [])
            if not visits_allowed(volunteer, len(that_day)):
                found.extend(that_day)
                continue
            found.extend(
                item
                for item in that_day
                if any(item.start < high + duration and item.end > low for low, high in starts)
            )
        return found

    def has_free_slot(self, need: Need, volunteer: Volunteer) -> bool:
        """Whether a visit of the need fits into one of the volunteer's outings between their
        planned visits on a day they share with it, travel included
        (`rules.volunteer_week.insertions`), under their visits a day, carrying capacity and
        free minutes."""
        facts = self.facts[need.id]
        free = self.free_min(volunteer)
        outings = self.outings[volunteer.id]
        for day in self.shared_starts(need, volunteer):
            planned = self.index.volunteer_day(volunteer.id, day)
            if not visits_allowed(volunteer, len(planned)):
                continue
            carried = sum(self.problem.need_by_id[visit.need].load for visit in planned)
            if not can_carry(volunteer, need.load, carried):
                continue
            for insertion in insertions(
                self.travel, volunteer, outings.get(day, []), planned, facts.place, facts.duration
            ):
                if (
                    insertion.fits
                    and insertion.added_min <= free + EPSILON
                    and intersect(insertion.starts, facts.starts(day))
                ):
                    return True
        return False


NAMED_VISITS = 5
"""Visits a sentence names before it says how many more there are (the fields list them all)."""


def _visit_label(item: _PlannedVisit) -> str:
    """'e012-meal #2 (priority 5)'."""
    return f"{item.need} #{item.occurrence} (priority {item.priority:g})"


def _visit_listing(items: list[_PlannedVisit]) -> str:
    """The first few visits by label, then how many more."""
    labels = [_visit_label(item) for item in items[:NAMED_VISITS]]
    if len(items) > NAMED_VISITS:
        labels.append(f"{len(items) - NAMED_VISITS} more")
    return _listing(labels)


# --------------------------------------------------------------------------- pairings


def pairing_report(
    problem: Problem,
    plan: Plan,
    travel: TravelModel | None = None,
    facts: dict[str, NeedFacts] | None = None,
) -> PairingReport:
    """Standing pairings kept and broken this week, with the reason for each broken one, and
    new pairings.

    Kept: a standing pairing (`standing_pairings`) with a visit this week. New: a recipient and
    a volunteer with a visit this week and nothing in the history. Broken: a standing pairing
    without a visit; its reason (`BrokenReason`), judged in this order: the recipient needs
    nothing; the volunteer is absent, away or free at no time a visit may take place
    (`volunteer_unavailable`); a hard rule rules them out of every need (`volunteer_unqualified`,
    `rules` names them); their time went to visits of priority at least that of the recipient's
    most important need they could make (`volunteer_busy`, `busy_with` names them); the
    recipient's visits they could make went to others (`given_to_other`, `replaced_by`); else
    those visits are not planned (`not_planned`). `travel` and `facts` may be passed to reuse them.
    """
    week = _Week.of(problem, plan, travel, facts)
    history = {(entry.recipient, entry.volunteer) for entry in problem.history}
    standing = standing_pairings(problem)
    visits_by_pair: dict[tuple[str, str], int] = defaultdict(int)
    for item in week.visits:
        for volunteer_id in item.volunteers:
            visits_by_pair[(item.recipient, volunteer_id)] += 1
    order = {recipient.id: index for index, recipient in enumerate(problem.recipients)}

    def key(pair: tuple[str, str]) -> tuple[int, str]:
        return order.get(pair[0], len(order)), pair[1]

    kept = [
        Pairing(recipient=pair[0], volunteer=pair[1], visits=visits_by_pair[pair])
        for pair in sorted(standing & visits_by_pair.keys(), key=key)
    ]
    new = [
        Pairing(recipient=pair[0], volunteer=pair[1], visits=visits_by_pair[pair])
        for pair in sorted(visits_by_pair.keys() - history, key=key)
    ]
    broken = [
        _broken(week, problem.recipient_by_id[pair[0]], pair[1])
        for pair in sorted(standing - visits_by_pair.keys(), key=key)
    ]
    return PairingReport(kept=kept, new=new, broken=broken)


def _broken(week: _Week, recipient: Recipient, volunteer_id: str) -> BrokenPairing:
    """Why a standing pairing has no visit this week."""
    problem = week.problem
    who_needs = _person(recipient.name, recipient.id)

    def result(
        reason: BrokenReason,
        message: str,
        rules: list[str] | None = None,
        busy_with: list[CompetingVisit] | None = None,
        replaced_by: list[str] | None = None,
    ) -> BrokenPairing:
        return BrokenPairing(
            recipient=recipient.id,
            volunteer=volunteer_id,
            reason=reason,
            message=message,
            rules=rules or [],
            busy_with=busy_with or [],
            replaced_by=replaced_by or [],
        )

    if not recipient.needs:
        return result("no_need", f"{who_needs} needs no visit this week.")
    volunteer = problem.volunteer_by_id.get(volunteer_id)
    if volunteer is None:
        return result(
            "volunteer_unavailable", f"{volunteer_id} is not among this week's volunteers."
        )
    who_visits = _person(volunteer.name, volunteer.id)
    if not volunteer.availability:
        return result(
            "volunteer_unavailable",
            f"{who_visits} is away this week.",
            rules=["volunteer_window"],
        )

    possible: list[Need] = []
    rules_of_need: dict[str, str] = {}
    for need in recipient.needs:
        rule = week.ruled_out_by(need, volunteer)
        if rule is None:
            possible.append(need)
        else:
            rules_of_need[need.id] = rule
    if not possible:
        rules = [rule for rule in RULE_ORDER if rule in rules_of_need.values()]
        reasons = "; ".join(
            f"{need_id}: {RULE_SENTENCES[rule]} ({rule})" for need_id, rule in rules_of_need.items()
        )
        if rules == ["volunteer_window"]:
            return result(
                "volunteer_unavailable",
                f"{who_visits} is free at no time {who_needs}'s visits may take place this week.",
                rules=rules,
            )
        return result(
            "volunteer_unqualified",
            f"{who_visits} may make none of {who_needs}'s visits this week: {reasons}.",
            rules=rules,
        )

    possible_ids = {need.id for need in possible}
    replaced_by = sorted(
        {
            other
            for item in week.by_recipient.get(recipient.id, [])
            if item.need in possible_ids
            for other in item.volunteers
        }
    )
    competing: dict[tuple[str, int], _PlannedVisit] = {}
    for need in possible:
        for item in week.competing_visits(need, volunteer):
            competing[(item.need, item.occurrence)] = item
    top = max(problem.priority_of(need) for need in possible)
    ranked = sorted(
        competing.values(), key=lambda item: (-item.priority, item.day, item.start, item.need)
    )
    higher = [item for item in ranked if item.priority >= top - EPSILON]
    replaced = f"{who_needs}'s visits went to {_listing(replaced_by)}"
    if higher:
        text = (
            f"{who_visits}'s time went to visits of priority {top:g} or more, that of "
            f"{who_needs}'s most important need they could make: {_visit_listing(higher)}"
        )
        return result(
            "volunteer_busy",
            text + (f"; {replaced}." if replaced_by else "."),
            busy_with=[item.competing() for item in higher],
            replaced_by=replaced_by,
        )
    busy_with = [item.competing() for item in ranked]
    if replaced_by:
        return result(
            "given_to_other",
            f"{who_visits} could have come, but {replaced}.",
            busy_with=busy_with,
            replaced_by=replaced_by,
        )
    lower = (
        f"; their time went to visits of lower priority: {_visit_listing(ranked)}" if ranked else ""
    )
    return result(
        "not_planned",
        f"{who_visits} could have come, but none of {who_needs}'s visits they could make is "
        f"planned{lower}.",
        busy_with=busy_with,
    )


# --------------------------------------------------------------------------- fairness


def recipient_priority(problem: Problem, recipient: Recipient) -> float:
    """A recipient's priority this week: the highest of their needs' (0 with no need)."""
    return max((problem.priority_of(need) for need in recipient.needs), default=0.0)


def unvisited_high_priority(problem: Problem, plan: Plan) -> list[str]:
    """Recipients with a need and a priority of at least `policy.high_priority_threshold` who
    get no visit at all in the plan, in the problem's order."""
    threshold = problem.policy.high_priority_threshold
    visited = {
        problem.recipient_of_need[visit.need].id
        for visit in plan.visits
        if visit.need in problem.recipient_of_need
    }
    return [
        recipient.id
        for recipient in problem.recipients
        if recipient.needs
        and recipient.id not in visited
        and recipient_priority(problem, recipient) >= threshold - EPSILON
    ]


def uncovered_two_weeks(
    previous_plan: Plan, plan: Plan, problem: Problem, travel: TravelModel | None = None
) -> list[UncoveredRecipient]:
    """High-priority recipients left without any visit this week and the week before, each
    with a qualified volunteer who had time for one of their needs this week (the rule is broken
    only then) or none.

    This week: a recipient of the problem with a need, of priority at least
    `policy.high_priority_threshold`, and no visit in `plan`. The week before: `previous_plan`
    lists an unplanned visit for them and plans none. A volunteer "had time" when no hard rule
    rules them out of the need (skills, checks, exclusion, a time shared with one of their
    outings, getting there and back) and a visit fits into one of their outings between their
    planned visits on a shared day, travel included, under their visits a day, carrying capacity
    and their offered weekly minutes; the one with the most free minutes is named.
    """
    previously_visited = {visit.recipient for visit in previous_plan.visits}
    previously_left = {entry.recipient for entry in previous_plan.unassigned}
    at_risk = [
        recipient_id
        for recipient_id in unvisited_high_priority(problem, plan)
        if recipient_id in previously_left and recipient_id not in previously_visited
    ]
    if not at_risk:
        return []
    week = _Week.of(problem, plan, travel)
    found: list[UncoveredRecipient] = []
    for recipient_id in at_risk:
        recipient = problem.recipient_by_id[recipient_id]
        priority = recipient_priority(problem, recipient)
        best: tuple[float, Volunteer] | None = None
        for need in sorted(recipient.needs, key=lambda need: -problem.priority_of(need)):
            for volunteer in problem.volunteers:
                if week.ruled_out_by(need, volunteer) is not None:
                    continue
                if not week.has_free_slot(need, volunteer):
                    continue
                free = week.free_min(volunteer)
                if best is None or free > best[0] + EPSILON:
                    best = (free, volunteer)
        who = _person(recipient.name, recipient.id)
        if best is None:
            message = (
                f"{who} (priority {priority:g}) has had no visit two weeks running; no "
                "qualified volunteer had time this week."
            )
        else:
            message = (
                f"{who} (priority {priority:g}) has had no visit two weeks running, while "
                f"{_person(best[1].name, best[1].id)} was qualified and had "
                f"{math.floor(best[0])} minutes free this week."
            )
        found.append(
            UncoveredRecipient(
                recipient=recipient.id,
                priority=priority,
                needs=[need.id for need in recipient.needs],
                volunteer=best[1].id if best is not None else None,
                free_min=best[0] if best is not None else None,
                message=message,
            )
        )
    return found


__all__ = [
    "DEFAULT_HISTORY_WEEKS",
    "RULE_ORDER",
    "history_from_plan",
    "lead_history_from_plan",
    "pairing_report",
    "plan_week_start",
    "recipient_priority",
    "rolled_history",
    "rolled_lead_history",
    "standing_pairings",
    "uncovered_two_weeks",
    "unvisited_high_priority",
]
