"""What every solver needs to know about one need, computed once from the models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from matcher.models import Need, Problem, Recipient, Service, Volunteer
from matcher.rules.intervals import Intervals, ceil_minutes, intersect, start_set
from matcher.rules.outings import alone_reach
from matcher.rules.qualification import qualification_key, qualified_volunteers
from matcher.rules.windows import lateness_min, stretch_windows, windows_by_day

if TYPE_CHECKING:
    from matcher.travel import TravelModel


@dataclass
class NeedFacts:
    """A need with its recipient, service, duration, priority, place, windows and the
    volunteers qualified for it."""

    need: Need
    recipient: Recipient
    service: Service
    duration: int
    priority: float
    place: int
    windows_by_day: dict[int, Intervals]
    qualified: list[str] = field(default_factory=list)
    late_windows_by_day: dict[int, Intervals] = field(default_factory=dict)
    """The windows stretched by the lateness a soft window allows (the visit may end that much
    later); the same as `windows_by_day` for a hard window."""
    _starts_by_day: dict[int, Intervals] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """`starts(day)` worked out once per day (the windows never change)."""

    def lateness(self, day: int, start: int) -> float:
        """Minutes late for a visit starting then: the least over the windows already open."""
        return lateness_min(self.windows_by_day, self.duration, day, start)

    def starts(self, day: int) -> Intervals:
        """Start minutes on `day` at which a visit fits the need's (stretched) windows."""
        found = self._starts_by_day.get(day)
        if found is None:
            found = start_set(self.late_windows_by_day.get(day, []), self.duration)
            self._starts_by_day[day] = found
        return found


def facts_of(
    problem: Problem,
    travel: TravelModel,
    recipient: Recipient,
    need: Need,
    qualified: list[str] | None = None,
) -> NeedFacts:
    """The facts of one need (`qualified`: its qualified volunteers, when already known)."""
    service = problem.service_by_id[need.service]
    windows = windows_by_day(problem, need)
    return NeedFacts(
        need=need,
        recipient=recipient,
        service=service,
        duration=problem.duration_of(need),
        priority=problem.priority_of(need),
        place=travel.recipient_place[recipient.id],
        windows_by_day=windows,
        late_windows_by_day=stretch_windows(windows, need, problem.day_length_min),
        qualified=list(qualified)
        if qualified is not None
        else qualified_volunteers(problem, service, recipient),
    )


def need_facts(problem: Problem, travel: TravelModel) -> dict[str, NeedFacts]:
    """Facts for every need, with the volunteers qualified for it (worked out once for each
    `qualification_key`)."""
    qualified: dict[tuple[str, str, frozenset[str]], list[str]] = {}
    result: dict[str, NeedFacts] = {}
    for recipient in problem.recipients:
        for need in recipient.needs:
            service = problem.service_by_id[need.service]
            key = qualification_key(service, recipient)
            if key not in qualified:
                qualified[key] = qualified_volunteers(problem, service, recipient)
            result[need.id] = facts_of(problem, travel, recipient, need, qualified[key])
    return result


def shared_starts(facts: NeedFacts, day: int, outings: Intervals) -> Intervals:
    """Starts on `day` inside the need's windows and one of the volunteer's outings (travel not
    counted): where the volunteer's time and the visit's meet."""
    return intersect(facts.starts(day), start_set(outings, facts.duration))


def reachable_starts(
    travel: TravelModel, facts: NeedFacts, volunteer: Volunteer, day: int, outings: Intervals
) -> Intervals:
    """Starts on `day` at which this volunteer could make this visit as an outing of its own:
    inside the need's windows, leaving the start place after the outing opens and home before it
    closes, every leg and the whole walk within their distance limits."""
    if not outings or day not in facts.late_windows_by_day:
        return []
    return starts_within_reach(facts, day, outings, alone_reach(travel, volunteer, facts.place))


def starts_within_reach(
    facts: NeedFacts, day: int, outings: Intervals, reach: tuple[float, float] | None
) -> Intervals:
    """`reachable_starts` for a volunteer whose `alone_reach` of the need's place is `reach`
    (worked out once for every day)."""
    if not outings or reach is None or day not in facts.late_windows_by_day:
        return []
    out_min, back_min = reach
    fitting = start_set(outings, facts.duration, ceil_minutes(out_min), ceil_minutes(back_min))
    return intersect(facts.starts(day), fitting)
