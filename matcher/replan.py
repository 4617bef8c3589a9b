"""Re-planning after a change: a volunteer cancels, an elder goes to hospital, snow falls.

A coordinator has a plan for the week and something changes. `apply_changes` turns the problem
and a list of changes into the changed problem; `replan` turns the old plan into a new one that
changes as little as possible, and says what changed and why:

1. Every old visit a change touches (the cancelling volunteer's visits on those days, the away
   recipient's visits, the visits of a need whose windows changed) is checked against the changed
   problem with the independent checker; those that break a rule are re-planned, together with
   the visits linked to them by a dependency. Every other old visit is kept exactly: it is pinned.
2. The solver (`matcher.api.solve`, which checks the plan and fills its metrics) places the
   pinned visits first and fills in what the changes freed or added.
3. An urgent new need that still finds no room gets it: the visits of the nearest qualified
   volunteers that overlap its windows (not mandatory, not pinned by the coordinator, of lower
   priority) are released and re-planned after it, a few volunteers first, a few more if that
   is not enough.
4. `PlanDiff` compares the plans need by need: kept, moved (same volunteers, other time or day),
   reassigned (other volunteers), dropped (with the new plan's reason) and added, each with a
   sentence naming the change that caused it.

If the old plan breaks a rule the changes do not explain (a hand-edited plan), the new plan would
fail the checker; `replan` then checks every old visit and re-plans the broken ones too.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from matcher.api import SolverError, solve
from matcher.checker import DAY_NAMES, Violation, check_plan
from matcher.io import InputError
from matcher.models import (
    WEEKDAYS,
    Need,
    PinnedVisit,
    Plan,
    Problem,
    ReasonCode,
    Recipient,
    TimeWindow,
    Visit,
    VisitDependency,
    Volunteer,
    format_clock,
    format_validation_error,
    intersect_windows,
)
from matcher.models.common import ClockTime, DayOfWeek, StrictModel, Weekday
from matcher.models.problem import whole_week
from matcher.solvers.greedy import qualifies
from matcher.travel import TravelModel

URGENT_PRIORITY_FACTOR = 2.0
"""An urgent new need without its own priority gets this many times the highest priority of
any need of the problem before the changes (at least this many times 1)."""
ROOM_ROUNDS: tuple[int, ...] = (3, 12)
"""How many of the nearest qualified volunteers give up overlapping visits, round by round, to
make room for an urgent need that found none."""
ROOM_MARGIN_MIN = 30
"""Visits that end or start within this many minutes of an urgent need's window are released
with it: the volunteer must also travel there."""
IGNORED_RULES = frozenset({"pinned_missing", "mandatory_missing"})
"""Rules about the plan as a whole, not about a visit: not a reason to drop an old visit."""


# --------------------------------------------------------------------------- the changes


def _who(kind: str, name: str, identifier: str) -> str:
    """'volunteer Zhao (v3)' when there is a name, else 'volunteer v3'."""
    return f"{kind} {name} ({identifier})" if name else f"{kind} {identifier}"


def _day_list(days: Sequence[str]) -> str:
    """'Tuesday', 'Tuesday and Thursday', 'Monday, Tuesday and Friday'."""
    names = [DAY_NAMES[day] for day in days]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


class VolunteerUnavailable(StrictModel):
    """A volunteer cancels: some days (or the whole week), all day or between two times."""

    kind: Literal["volunteer_unavailable"] = "volunteer_unavailable"
    volunteer: str = Field(min_length=1, description="id of a volunteer")
    days: list[DayOfWeek] | None = Field(
        default=None, description="the days cancelled; none: the whole week"
    )
    from_time: ClockTime | None = Field(
        default=None, description="unavailable from this time (default: the start of the day)"
    )
    to_time: ClockTime | None = Field(
        default=None, description="unavailable until this time (default: the end of the day)"
    )

    @model_validator(mode="after")
    def _sensible(self) -> VolunteerUnavailable:
        if self.days is not None and not self.days:
            raise ValueError("name at least one day, or leave out 'days' for the whole week")
        if self.days is not None:
            self.days = sorted(set(self.days), key=WEEKDAYS.index)
        for value in (self.from_time, self.to_time):
            if value is not None and value < 0:
                raise ValueError(f"{value} minutes is before 00:00")
        if (
            self.from_time is not None
            and self.to_time is not None
            and self.to_time <= self.from_time
        ):
            raise ValueError(
                f"to_time ({format_clock(self.to_time)}) is not after from_time "
                f"({format_clock(self.from_time)})"
            )
        return self

    def cancelled_days(self) -> tuple[Weekday, ...]:
        """The weekdays this change concerns."""
        return tuple(self.days) if self.days is not None else WEEKDAYS

    def describe(self, problem: Problem) -> str:
        """'volunteer v3 cancelled Tuesday', 'volunteer v3 cancelled the week 14:00-18:00'."""
        volunteer = problem.volunteer_by_id.get(self.volunteer)
        who = _who("volunteer", volunteer.name if volunteer else "", self.volunteer)
        when = "the week" if self.days is None else _day_list(self.days)
        if self.from_time is not None and self.to_time is not None:
            when += f" {format_clock(self.from_time)}-{format_clock(self.to_time)}"
        elif self.from_time is not None:
            when += f" from {format_clock(self.from_time)}"
        elif self.to_time is not None:
            when += f" until {format_clock(self.to_time)}"
        return f"{who} cancelled {when}"


class RecipientAway(StrictModel):
    """A recipient is away (in hospital) until a date: no visits on the days before it.

    A need that no longer fits its visits into the days left keeps as many as fit; a need with
    no day left is removed for the week.
    """

    kind: Literal["recipient_away"] = "recipient_away"
    recipient: str = Field(min_length=1, description="id of a recipient")
    until: dt.date = Field(description="the first day they are back home")

    def away_days(self, problem: Problem) -> tuple[Weekday, ...]:
        """The weekdays of the planned week before `until`."""
        return tuple(day for day in WEEKDAYS if problem.date_of(day) < self.until)

    def describe(self, problem: Problem) -> str:
        """'recipient r1 is away until Thursday 2026-12-03'."""
        recipient = problem.recipient_by_id.get(self.recipient)
        who = _who("recipient", recipient.name if recipient else "", self.recipient)
        weekday = DAY_NAMES[WEEKDAYS[self.until.weekday()]]
        return f"{who} is away until {weekday} {self.until.isoformat()}"


class NewNeed(StrictModel):
    """A new need of a recipient; urgent (snow to clear before 07:00, after a fall): mandatory
    and of high priority, so it is planned first and other visits make room for it."""

    kind: Literal["new_need"] = "new_need"
    recipient: str = Field(min_length=1, description="id of a recipient")
    need: Need
    urgent: bool = False

    def describe(self, problem: Problem) -> str:
        """'new urgent need snow-r1 of recipient r1'."""
        recipient = problem.recipient_by_id.get(self.recipient)
        who = _who("recipient", recipient.name if recipient else "", self.recipient)
        return f"new {'urgent ' if self.urgent else ''}need {self.need.id} of {who}"


class WindowChange(StrictModel):
    """A need's windows change (the recipient now prefers afternoons); empty: any time they are
    at home."""

    kind: Literal["window_change"] = "window_change"
    need: str = Field(min_length=1, description="id of a need")
    windows: list[TimeWindow]

    def describe(self, problem: Problem) -> str:
        """'the windows of need n1 changed'."""
        return f"the windows of need {self.need} changed"


class NewVolunteer(StrictModel):
    """A volunteer joins for the week."""

    kind: Literal["new_volunteer"] = "new_volunteer"
    volunteer: Volunteer

    def describe(self, problem: Problem) -> str:
        """'new volunteer v9 joined'."""
        return f"new {_who('volunteer', self.volunteer.name, self.volunteer.id)} joined"


Change = Annotated[
    VolunteerUnavailable | RecipientAway | NewNeed | WindowChange | NewVolunteer,
    Field(discriminator="kind"),
]
"""One change to the week, told apart by its `kind`."""


class ChangeList(StrictModel):
    """The changes to apply, in order (a later change sees the earlier ones: a new volunteer may
    then cancel a day)."""

    changes: list[Change] = Field(default_factory=list)


def load_changes(path: str | Path) -> ChangeList:
    """Read and validate a change file (`{"changes": [...]}` or the bare list); raises
    InputError listing every problem found."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"cannot read the changes file {str(source)!r}: {error.strerror}"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{source}: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    if isinstance(data, list):
        data = {"changes": data}
    try:
        return ChangeList.model_validate(data)
    except ValidationError as error:
        raise InputError(f"{source}: {format_validation_error(error)}") from None


def _as_change_list(changes: ChangeList | Sequence[Change | Mapping[str, Any]]) -> ChangeList:
    """A ChangeList from a ChangeList, a list of changes, or their JSON-like dicts."""
    if isinstance(changes, ChangeList):
        return changes
    return ChangeList.model_validate({"changes": list(changes)})


# --------------------------------------------------------------------- applying changes

Issue = tuple[tuple[str | int, ...], str]
"""Where (a path of field names and indices) and what is wrong."""


def _validation_error(issues: list[Issue]) -> ValidationError:
    """One ValidationError listing every issue with its path."""
    details: list[InitErrorDetails] = [
        {
            "type": PydanticCustomError("change", "{message}", {"message": message}),
            "loc": location,
            "input": None,
        }
        for location, message in issues
    ]
    return ValidationError.from_exception_data("ChangeList", details)


def _subtract(window: TimeWindow, start: int, end: int) -> list[TimeWindow]:
    """What is left of the window once [start, end) is taken out of it."""
    if end <= window.start or start >= window.end:
        return [window]
    pieces = []
    if window.start < start:
        pieces.append(TimeWindow(day=window.day, start=window.start, end=start))
    if end < window.end:
        pieces.append(TimeWindow(day=window.day, start=end, end=window.end))
    return pieces


def _most_visits(need: Need, home_windows: list[TimeWindow], duration: int, day_length: int) -> int:
    """How many visits of the need fit a week, at most one a day and `min_gap_days` apart, in
    the times allowed by its windows and the recipient's (the rule validation applies)."""
    if need.soft_window:
        lateness = float("inf") if need.max_lateness_min is None else need.max_lateness_min
    else:
        lateness = 0.0
    days = sorted(
        {
            window.day_index
            for window in intersect_windows(need.windows, home_windows, day_length)
            if window.end - window.start + lateness >= duration
        }
    )
    count, last = 0, -100
    for day in days:
        if day - last >= need.min_gap_days:
            count, last = count + 1, day
    return count


def _urgent_priority(problem: Problem) -> float:
    """The priority an urgent need gets unless it has its own."""
    highest = max((problem.priority_of(need) for need in problem.need_by_id.values()), default=1)
    return URGENT_PRIORITY_FACTOR * max(1.0, highest)


@dataclass
class _Working:
    """A problem being changed: lists that changes edit in place, and lookups by id."""

    base: Problem
    recipients: list[Recipient]
    volunteers: list[Volunteer]
    dependencies: list[VisitDependency]
    pinned: list[PinnedVisit]
    urgent_priority: float

    @classmethod
    def start(cls, problem: Problem) -> _Working:
        return cls(
            base=problem,
            recipients=list(problem.recipients),
            volunteers=list(problem.volunteers),
            dependencies=list(problem.dependencies),
            pinned=list(problem.pinned),
            urgent_priority=_urgent_priority(problem),
        )

    def copy(self) -> _Working:
        return _Working(
            base=self.base,
            recipients=list(self.recipients),
            volunteers=list(self.volunteers),
            dependencies=list(self.dependencies),
            pinned=list(self.pinned),
            urgent_priority=self.urgent_priority,
        )

    def recipient_position(self, recipient_id: str) -> int | None:
        for position, recipient in enumerate(self.recipients):
            if recipient.id == recipient_id:
                return position
        return None

    def need_position(self, need_id: str) -> tuple[int, int] | None:
        for r_position, recipient in enumerate(self.recipients):
            for n_position, need in enumerate(recipient.needs):
                if need.id == need_id:
                    return r_position, n_position
        return None

    def volunteer_position(self, volunteer_id: str) -> int | None:
        for position, volunteer in enumerate(self.volunteers):
            if volunteer.id == volunteer_id:
                return position
        return None

    def duration(self, need: Need) -> int | None:
        if need.duration_min is not None:
            return need.duration_min
        service = self.base.service_by_id.get(need.service)
        return service.duration_min if service is not None else None

    def apply(self, change: Change) -> list[Issue]:
        """Apply one change in place; return what is wrong with it (then nothing is applied)."""
        if isinstance(change, VolunteerUnavailable):
            return self._volunteer_unavailable(change)
        if isinstance(change, RecipientAway):
            return self._recipient_away(change)
        if isinstance(change, NewNeed):
            return self._new_need(change)
        if isinstance(change, WindowChange):
            return self._window_change(change)
        return self._new_volunteer(change)

    def _volunteer_unavailable(self, change: VolunteerUnavailable) -> list[Issue]:
        position = self.volunteer_position(change.volunteer)
        if position is None:
            return [(("volunteer",), f"unknown volunteer {change.volunteer!r}")]
        day_length = self.base.day_length_min
        issues: list[Issue] = []
        for name in ("from_time", "to_time"):
            value = getattr(change, name)
            if value is not None and value > day_length:
                issues.append(
                    ((name,), f"{format_clock(value)} is past the end of the planning day")
                )
        if issues:
            return issues
        start = change.from_time if change.from_time is not None else 0
        end = change.to_time if change.to_time is not None else day_length
        days = set(change.cancelled_days())
        volunteer = self.volunteers[position]
        availability = [
            piece
            for window in volunteer.availability
            for piece in (_subtract(window, start, end) if window.day in days else [window])
        ]
        self.volunteers[position] = volunteer.model_copy(update={"availability": availability})
        return []

    def _recipient_away(self, change: RecipientAway) -> list[Issue]:
        position = self.recipient_position(change.recipient)
        if position is None:
            return [(("recipient",), f"unknown recipient {change.recipient!r}")]
        away = set(change.away_days(self.base))
        if not away:
            return [
                (
                    ("until",),
                    f"{change.until.isoformat()} is not after the first day of the week "
                    f"({self.base.week_start.isoformat()}); nothing would change",
                )
            ]
        recipient = self.recipients[position]
        day_length = self.base.day_length_min
        home = [
            window
            for window in (recipient.home_windows or whole_week(day_length))
            if window.day not in away
        ]
        counts: dict[str, int] = {}
        for need in recipient.needs:
            duration = self.duration(need)
            fitting = (
                0
                if not home or duration is None
                else _most_visits(need, home, duration, day_length)
            )
            counts[need.id] = min(need.visits_per_week, fitting)
        # Linked needs keep as many visits as each other.
        for dependency in self.dependencies:
            if dependency.first in counts and dependency.second in counts:
                linked = min(counts[dependency.first], counts[dependency.second])
                counts[dependency.first] = counts[dependency.second] = linked
        needs = [
            need.model_copy(update={"visits_per_week": counts[need.id]})
            if counts[need.id] != need.visits_per_week
            else need
            for need in recipient.needs
            if counts[need.id] > 0
        ]
        removed = {need_id for need_id, count in counts.items() if count == 0}
        self.recipients[position] = recipient.model_copy(
            update={"home_windows": home if home else recipient.home_windows, "needs": needs}
        )
        self.dependencies = [
            dependency
            for dependency in self.dependencies
            if dependency.first not in removed and dependency.second not in removed
        ]
        self.pinned = [pin for pin in self.pinned if pin.need not in removed]
        return []

    def _new_need(self, change: NewNeed) -> list[Issue]:
        issues: list[Issue] = []
        position = self.recipient_position(change.recipient)
        if position is None:
            issues.append((("recipient",), f"unknown recipient {change.recipient!r}"))
        if self.need_position(change.need.id) is not None:
            issues.append((("need", "id"), f"need id {change.need.id!r} is already in use"))
        if change.need.service not in self.base.service_by_id:
            issues.append((("need", "service"), f"unknown service {change.need.service!r}"))
        if issues or position is None:
            return issues
        need = change.need
        if change.urgent:
            priority = need.priority if need.priority is not None else self.urgent_priority
            need = need.model_copy(update={"mandatory": True, "priority": priority})
        recipient = self.recipients[position]
        self.recipients[position] = recipient.model_copy(update={"needs": [*recipient.needs, need]})
        return []

    def _window_change(self, change: WindowChange) -> list[Issue]:
        located = self.need_position(change.need)
        if located is None:
            return [(("need",), f"unknown need {change.need!r}")]
        r_position, n_position = located
        recipient = self.recipients[r_position]
        needs = list(recipient.needs)
        needs[n_position] = needs[n_position].model_copy(update={"windows": list(change.windows)})
        self.recipients[r_position] = recipient.model_copy(update={"needs": needs})
        return []

    def _new_volunteer(self, change: NewVolunteer) -> list[Issue]:
        if self.volunteer_position(change.volunteer.id) is not None:
            return [
                (("volunteer", "id"), f"volunteer id {change.volunteer.id!r} is already in use")
            ]
        self.volunteers.append(change.volunteer)
        return []

    def build(self) -> Problem:
        """The changed problem, not yet cross-checked (see `Problem.model_validate`)."""
        values = {name: getattr(self.base, name) for name in Problem.model_fields}
        values.update(
            recipients=self.recipients,
            volunteers=self.volunteers,
            dependencies=self.dependencies,
            pinned=self.pinned,
        )
        return Problem.model_construct(**values)

    def locate(self, change: Change) -> tuple[str | int, ...] | None:
        """Where in the problem the object a change added or edited lies, if it does."""
        if isinstance(change, NewNeed | WindowChange):
            located = self.need_position(
                change.need.id if isinstance(change, NewNeed) else change.need
            )
            return None if located is None else ("recipients", located[0], "needs", located[1])
        if isinstance(change, NewVolunteer):
            position = self.volunteer_position(change.volunteer.id)
            return None if position is None else ("volunteers", position)
        return None


_CHANGED_FIELD: dict[str, str] = {
    "volunteer_unavailable": "days",
    "recipient_away": "until",
    "new_need": "need",
    "window_change": "windows",
    "new_volunteer": "volunteer",
}
"""The field of each kind of change that problem-level errors it causes are reported at."""


def _problem_issues(working: _Working, change: Change, error: ValidationError) -> list[Issue]:
    """The changed problem's errors, re-addressed to the change that caused them."""
    owned = working.locate(change)
    issues: list[Issue] = []
    for item in error.errors(include_url=False):
        location = tuple(item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        changed_field = _CHANGED_FIELD[change.kind]
        if owned is not None and location[: len(owned)] == owned:
            rest = location[len(owned) :]
            if isinstance(change, WindowChange):
                rest = rest[1:] if rest[:1] == ("windows",) else ()
                if not rest:
                    message = f"need {change.need}: {message}"
            issues.append(((changed_field, *rest), message))
        else:
            path = ".".join(str(part) for part in location)
            issues.append(((changed_field,), f"{path}: {message}"))
    return issues


def _validated(candidate: Problem) -> Problem:
    """The candidate problem with every cross-reference checked (ValidationError if wrong)."""
    return Problem.model_validate(candidate)


def _changed_problem(problem: Problem, change_list: ChangeList) -> Problem:
    """The problem after the changes, cross-checked; ValidationError naming each bad change."""
    working = _Working.start(problem)
    issues: list[Issue] = []
    for index, change in enumerate(change_list.changes):
        issues += [(("changes", index, *where), what) for where, what in working.apply(change)]
    if issues:
        raise _validation_error(issues)
    try:
        return _validated(working.build())
    except ValidationError:
        pass
    # Some change made the problem invalid: apply them one at a time to say which.
    working = _Working.start(problem)
    for index, change in enumerate(change_list.changes):
        attempt = working.copy()
        attempt.apply(change)
        try:
            _validated(attempt.build())
        except ValidationError as error:
            issues += [
                (("changes", index, *where), what)
                for where, what in _problem_issues(attempt, change, error)
            ]
            continue
        working = attempt
    raise _validation_error(issues or [(("changes",), "the changes make the problem invalid")])


def apply_changes(
    problem: Problem, changes: ChangeList | Sequence[Change | Mapping[str, Any]]
) -> Problem:
    """The problem after the changes, as a new validated Problem; the given one is unchanged.

    Raises pydantic's ValidationError listing every problem, each at its change:
    `changes.2.volunteer: unknown volunteer 'v99'`. A coordinator's pinned visit that a change
    makes impossible (its volunteer cancelled that day, its recipient is away) is unpinned.
    """
    change_list = _as_change_list(changes)
    changed = _changed_problem(problem, change_list)
    return _without_impossible_pins(problem, changed, change_list)


def _without_impossible_pins(original: Problem, changed: Problem, changes: ChangeList) -> Problem:
    """The changed problem without the pinned visits the changes make impossible (a pin
    without its linked partner is fine: the solver adds the partner)."""
    if not changed.pinned:
        return changed
    touch = _Touch(original, changed, changes)
    pins = [_visit_of_pin(changed, pin) for pin in changed.pinned]
    suspects = [index for index, visit in enumerate(pins) if touch.cause(visit) is not None]
    if not suspects:
        return changed
    broken = _broken_visits(
        changed, pins, suspects, TravelModel(changed), ignored=IGNORED_RULES | {"dependency"}
    )
    if not broken:
        return changed
    kept = [pin for index, pin in enumerate(changed.pinned) if index not in broken]
    return changed.model_copy(update={"pinned": kept})


def _visit_of_pin(problem: Problem, pin: PinnedVisit) -> Visit:
    """A pinned visit as a plan visit (occurrence 1: numbers are assigned where it matters)."""
    need = problem.need_by_id[pin.need]
    return Visit(
        need=need.id,
        recipient=problem.recipient_of_need[need.id].id,
        service=need.service,
        occurrence=1,
        day=pin.day,
        date=problem.date_of(pin.day),
        start=pin.start,
        end=pin.start + problem.duration_of(need),
        volunteers=list(pin.volunteers),
    )


# ---------------------------------------------------------------- which old visits break


class _Touch:
    """Which change touches a visit: the first that could make it break a rule."""

    def __init__(self, original: Problem, changed: Problem, changes: ChangeList) -> None:
        self.original = original
        self.changes = changes.changes
        self.descriptions = [change.describe(original) for change in self.changes]
        self.cut_needs: set[str] = set()
        """Needs the changes removed or gave fewer visits a week."""
        for need in original.need_by_id.values():
            now = changed.need_by_id.get(need.id)
            if now is None or now.visits_per_week < need.visits_per_week:
                self.cut_needs.add(need.id)
        self.new_volunteers = {
            change.volunteer.id for change in self.changes if isinstance(change, NewVolunteer)
        }
        self.new_needs = {
            change.need.id: index
            for index, change in enumerate(self.changes)
            if isinstance(change, NewNeed)
        }
        self.window_changes = {
            change.need: index
            for index, change in enumerate(self.changes)
            if isinstance(change, WindowChange)
        }

    def cause(self, visit: Visit) -> int | None:
        """The index of the first change that touches this visit, or None."""
        for index, change in enumerate(self.changes):
            if isinstance(change, VolunteerUnavailable):
                if change.volunteer in visit.volunteers and visit.day in change.cancelled_days():
                    return index
            elif isinstance(change, RecipientAway):
                if visit.recipient == change.recipient and (
                    visit.day in change.away_days(self.original) or visit.need in self.cut_needs
                ):
                    return index
            elif isinstance(change, WindowChange) and visit.need == change.need:
                return index
        return None


def _renumbered(visits: list[Visit]) -> list[Visit]:
    """Copies with occurrences 1, 2, ... per need in day order (as solvers number them)."""
    order = sorted(
        range(len(visits)), key=lambda i: (WEEKDAYS.index(visits[i].day), visits[i].start, i)
    )
    counts: dict[str, int] = defaultdict(int)
    result: list[Visit] = list(visits)
    for position in order:
        visit = visits[position]
        counts[visit.need] += 1
        result[position] = visit.model_copy(update={"occurrence": counts[visit.need]})
    return result


def _broken_visits(
    problem: Problem,
    visits: list[Visit],
    suspects: list[int],
    travel: TravelModel,
    ignored: frozenset[str] = IGNORED_RULES,
) -> dict[int, Violation]:
    """Which visits break a rule of the problem (rules in `ignored` aside), with the first
    rule each breaks.

    Only the suspects, the other visits on their volunteers' weeks and the visits of needs
    linked to theirs are checked together: dropping visits from a valid plan keeps every other
    visit valid except its linked partner's. Dropping one visit may break another (its linked
    partner), so this repeats until the rest keep every rule.
    """
    unpinned = problem.model_copy(update={"pinned": []})
    volunteers = {volunteer for index in suspects for volunteer in visits[index].volunteers}
    needs = {visits[index].need for index in suspects}
    for dependency in problem.dependencies:
        if dependency.first in needs or dependency.second in needs:
            needs |= {dependency.first, dependency.second}
    scope = [
        index
        for index, visit in enumerate(visits)
        if visit.need in needs or not volunteers.isdisjoint(visit.volunteers)
    ]
    broken: dict[int, Violation] = {}
    for _ in range(len(scope) + 1):
        alive = [index for index in scope if index not in broken]
        subset = _renumbered([visits[index] for index in alive])
        by_key = {(visit.need, visit.occurrence): alive[i] for i, visit in enumerate(subset)}
        report = check_plan(unpinned, Plan(visits=subset), travel)
        found: dict[int, Violation] = {}
        for violation in report.violations:
            if violation.rule in ignored:
                continue
            index = _violating_visit(violation, by_key, visits, alive)
            if index is not None and index not in broken:
                found.setdefault(index, violation)
        if not found:
            break
        broken.update(found)
    return broken


def _violating_visit(
    violation: Violation,
    by_key: dict[tuple[str, int], int],
    visits: list[Visit],
    alive: list[int],
) -> int | None:
    """The visit a violation is about; for a rule about a volunteer's day or week (visits a day,
    capacity, minutes a week) the volunteer's latest visit of that day or week."""
    if violation.need is not None and violation.occurrence is not None:
        return by_key.get((violation.need, violation.occurrence))
    if violation.volunteer is None:
        return None
    theirs = [
        index
        for index in alive
        if violation.volunteer in visits[index].volunteers
        and (violation.day is None or visits[index].day == violation.day)
    ]
    if not theirs:
        return None
    return max(theirs, key=lambda index: (WEEKDAYS.index(visits[index].day), visits[index].start))


# ------------------------------------------------------------------------------ the diff


class VisitSlot(StrictModel):
    """When and by whom a visit happens."""

    day: DayOfWeek
    date: dt.date | None = None
    start: ClockTime
    end: ClockTime
    volunteers: list[str]

    @classmethod
    def of(cls, visit: Visit) -> VisitSlot:
        """The slot of a (validated) visit."""
        return cls.model_construct(
            day=visit.day,
            date=visit.date,
            start=visit.start,
            end=visit.end,
            volunteers=list(visit.volunteers),
        )

    def text(self) -> str:
        """'Tue 09:00-09:30 by v3, v4'."""
        return (
            f"{DAY_NAMES[self.day][:3]} {format_clock(self.start)}-{format_clock(self.end)} "
            f"by {', '.join(self.volunteers)}"
        )


DropReason = ReasonCode | Literal["not_requested"]
"""Why a planned visit is now left out: the new plan's reason code, or `not_requested` when the
need no longer asks for it (its recipient is away)."""


class DiffEntry(StrictModel):
    """One occurrence of a need, before and after the change, and why it changed (or not)."""

    need: str
    recipient: str
    occurrence: int = Field(
        ge=1, description="its number in the new plan; in the old plan for a dropped visit"
    )
    old_occurrence: int | None = Field(default=None, description="its number in the old plan")
    before: VisitSlot | None = None
    after: VisitSlot | None = None
    why: str
    reason: DropReason | None = Field(default=None, description="dropped: why it is not planned")
    message: str | None = Field(default=None, description="dropped: the reason in a sentence")

    def text(self) -> str:
        """One line: the need, the visit before and after, and why."""
        before = self.before.text() if self.before is not None else "-"
        after = self.after.text() if self.after is not None else "-"
        line = f"need {self.need} visit {self.occurrence}: {before} -> {after}: {self.why}"
        if self.reason is not None:
            line += f" [{self.reason}]"
        return line


class PlanDiff(StrictModel):
    """How a new plan differs from the old one, visit by visit."""

    changes: list[str] = Field(default_factory=list, description="the changes, in words")
    kept: list[DiffEntry] = Field(default_factory=list)
    moved: list[DiffEntry] = Field(
        default_factory=list, description="same volunteers, another time or day"
    )
    reassigned: list[DiffEntry] = Field(default_factory=list, description="other volunteers")
    dropped: list[DiffEntry] = Field(
        default_factory=list, description="was planned, now is not (with the reason)"
    )
    added: list[DiffEntry] = Field(default_factory=list, description="newly planned")

    def counts(self) -> dict[str, int]:
        """How many visits fall in each category."""
        return {
            "kept": len(self.kept),
            "moved": len(self.moved),
            "reassigned": len(self.reassigned),
            "dropped": len(self.dropped),
            "added": len(self.added),
        }

    def summary(self) -> str:
        """The counts, then every visit that changed with why."""
        lines = [", ".join(f"{name} {count}" for name, count in self.counts().items())]
        for name in ("moved", "reassigned", "dropped", "added"):
            entries: list[DiffEntry] = getattr(self, name)
            lines += [f"{name}: {entry.text()}" for entry in entries]
        return "\n".join(lines)


class Replan(BaseModel):
    """The result of `replan`: the new plan, what changed and why, and the changed problem the
    plan answers (`matcher check` it against that problem)."""

    model_config = ConfigDict(extra="forbid")

    plan: Plan
    diff: PlanDiff
    problem: Problem


# ------------------------------------------------------------------------------ replan


def _slot_key(visit: Visit) -> tuple[str, str, int, frozenset[str]]:
    return visit.need, visit.day, visit.start, frozenset(visit.volunteers)


def _plan_issues(problem: Problem, plan: Plan) -> list[Issue]:
    """What makes the old plan not a plan of this problem."""
    issues: list[Issue] = []
    if plan.week_start is not None and plan.week_start != problem.week_start:
        issues.append(
            (
                ("plan", "week_start"),
                f"the plan is for the week of {plan.week_start.isoformat()}, the problem for "
                f"{problem.week_start.isoformat()}",
            )
        )
    for index, visit in enumerate(plan.visits):
        if visit.need not in problem.need_by_id:
            issues.append((("plan", "visits", index, "need"), f"unknown need {visit.need!r}"))
        for v_index, volunteer in enumerate(visit.volunteers):
            if volunteer not in problem.volunteer_by_id:
                issues.append(
                    (
                        ("plan", "visits", index, "volunteers", v_index),
                        f"unknown volunteer {volunteer!r}",
                    )
                )
    return issues


@dataclass
class _Outcome:
    """One solve of the changed problem with some old visits pinned."""

    plan: Plan
    why_changed: dict[int, str]
    """Old visits (by index) not pinned, and why."""


def replan(
    problem: Problem,
    plan: Plan,
    changes: ChangeList | Sequence[Change | Mapping[str, Any]],
    *,
    solver: str = "greedy",
    time_limit_s: float | None = None,
    seed: int = 0,
) -> Replan:
    """Re-plan the week after the changes, keeping every old visit that is still valid exactly.

    Raises pydantic's ValidationError listing every problem with the changes (`changes.1.need:
    unknown need 'x'`) and with the plan (`plan.visits.3.need: ...`), and ValueError for an
    unknown solver. The new plan has been through the checker (`matcher.api.solve`).
    """
    began = time.perf_counter()
    change_list = _as_change_list(changes)
    plan_issues = _plan_issues(problem, plan)
    try:
        changed = _changed_problem(problem, change_list)
    except ValidationError as error:
        raise _validation_error(
            plan_issues
            + [
                (tuple(item["loc"]), item["msg"].removeprefix("Value error, "))
                for item in error.errors(include_url=False)
            ]
        ) from None
    if plan_issues:
        raise _validation_error(plan_issues)
    changed = _without_impossible_pins(problem, changed, change_list)
    touch = _Touch(problem, changed, change_list)
    old_visits = list(plan.visits)
    travel = TravelModel(changed)
    suspects = [index for index, visit in enumerate(old_visits) if touch.cause(visit) is not None]
    try:
        outcome = _solve_keeping(
            changed, old_visits, suspects, touch, travel, solver, time_limit_s, seed
        )
    except SolverError:
        # An old visit the changes do not explain broke a rule: check them all.
        outcome = _solve_keeping(
            changed,
            old_visits,
            list(range(len(old_visits))),
            touch,
            travel,
            solver,
            time_limit_s,
            seed,
        )
    diff = _diff(problem, changed, plan, outcome, touch)
    new_plan = outcome.plan
    new_plan.warnings += _unpinned_warnings(problem, changed, touch)
    new_plan.solver.parameters["replan"] = {
        "changes": len(change_list.changes),
        **diff.counts(),
        "wall_time_s": round(time.perf_counter() - began, 3),
    }
    return Replan(plan=new_plan, diff=diff, problem=changed)


def _unpinned_warnings(original: Problem, changed: Problem, touch: _Touch) -> list[str]:
    """A sentence for each of the coordinator's pinned visits the changes made impossible."""
    still = {(pin.need, pin.day, pin.start, frozenset(pin.volunteers)) for pin in changed.pinned}
    warnings = []
    for pin in original.pinned:
        if (pin.need, pin.day, pin.start, frozenset(pin.volunteers)) in still:
            continue
        cause = touch.cause(_visit_of_pin(original, pin))
        why = touch.descriptions[cause] if cause is not None else "the changes"
        warnings.append(
            f"the pinned visit of need {pin.need!r} on {DAY_NAMES[pin.day]} at "
            f"{format_clock(pin.start)} with {', '.join(pin.volunteers)} is no longer possible "
            f"({why}) and is unpinned"
        )
    return warnings


def _solve_keeping(
    changed: Problem,
    old_visits: list[Visit],
    suspects: list[int],
    touch: _Touch,
    travel: TravelModel,
    solver: str,
    time_limit_s: float | None,
    seed: int,
) -> _Outcome:
    """Pin every old visit that keeps the rules, solve, and make room for urgent needs."""
    broken = _broken_visits(changed, old_visits, suspects, travel)
    why_changed: dict[int, str] = {}
    linked: list[int] = []
    for index, violation in broken.items():
        cause = touch.cause(old_visits[index])
        if cause is not None:
            why_changed[index] = touch.descriptions[cause]
        elif violation.rule == "dependency":
            linked.append(index)
        else:
            why_changed[index] = f"it broke the rule {violation.rule}: {violation.message}"
    for index in linked:
        why_changed[index] = _why_linked(changed, old_visits, index, why_changed)
    kept = [index for index in range(len(old_visits)) if index not in broken]
    new_plan = _solve_pinned(changed, old_visits, kept, solver, time_limit_s, seed)
    outcome = _Outcome(plan=new_plan, why_changed=why_changed)
    return _make_room(changed, old_visits, kept, outcome, touch, travel, solver, time_limit_s, seed)


def _why_linked(
    changed: Problem, old_visits: list[Visit], index: int, why_changed: dict[int, str]
) -> str:
    """Why a visit linked to a re-planned one is re-planned with it: its partner's reason."""
    visit = old_visits[index]
    partners = {
        dependency.second if dependency.first == visit.need else dependency.first
        for dependency in changed.dependencies
        if visit.need in (dependency.first, dependency.second)
    }
    for other, why in sorted(why_changed.items()):
        partner = old_visits[other]
        if partner.need in partners and partner.day == visit.day:
            return f"it goes with need {partner.need}, whose visit was re-planned: {why}"
    return "its linked visit was re-planned"


def _solve_pinned(
    changed: Problem,
    old_visits: list[Visit],
    kept: list[int],
    solver: str,
    time_limit_s: float | None,
    seed: int,
) -> Plan:
    """Solve the changed problem with the kept old visits and the coordinator's pins pinned."""
    pins: dict[tuple[str, str, int, frozenset[str]], PinnedVisit] = {}
    for pin in changed.pinned:
        pins[(pin.need, pin.day, pin.start, frozenset(pin.volunteers))] = pin
    for index in kept:
        visit = old_visits[index]
        pins.setdefault(
            _slot_key(visit),
            PinnedVisit(
                need=visit.need, day=visit.day, start=visit.start, volunteers=visit.volunteers
            ),
        )
    pinned_problem = changed.model_copy(update={"pinned": list(pins.values())})
    return solve(pinned_problem, solver=solver, time_limit_s=time_limit_s, seed=seed)


def _urgent_needs(changed: Problem, touch: _Touch) -> list[str]:
    """The urgent new needs, in the order of their changes."""
    return [
        need_id
        for need_id, index in touch.new_needs.items()
        if isinstance(change := touch.changes[index], NewNeed)
        and change.urgent
        and need_id in changed.need_by_id
    ]


def _unplanned(plan: Plan, need_id: str) -> int:
    return sum(1 for entry in plan.unassigned if entry.need == need_id)


def _make_room(
    changed: Problem,
    old_visits: list[Visit],
    kept: list[int],
    outcome: _Outcome,
    touch: _Touch,
    travel: TravelModel,
    solver: str,
    time_limit_s: float | None,
    seed: int,
) -> _Outcome:
    """Release the nearest qualified volunteers' overlapping visits for each urgent need still
    unplanned, re-solve, and keep the result when more urgent visits are planned."""
    waiting = [
        need_id for need_id in _urgent_needs(changed, touch) if _unplanned(outcome.plan, need_id)
    ]
    if not waiting:
        return outcome
    coordinator_pins = {
        (pin.need, pin.day, pin.start, frozenset(pin.volunteers)) for pin in changed.pinned
    }
    best = outcome
    before = sum(_unplanned(outcome.plan, need_id) for need_id in waiting)
    for count in ROOM_ROUNDS:
        released: dict[int, str] = {}
        for need_id in waiting:
            why = f"made room for {touch.descriptions[touch.new_needs[need_id]]}"
            for index in _in_the_way(changed, old_visits, kept, need_id, count, travel):
                if _slot_key(old_visits[index]) not in coordinator_pins:
                    released.setdefault(index, why)
        if not released:
            continue
        still_kept = [index for index in kept if index not in released]
        attempt = _solve_pinned(changed, old_visits, still_kept, solver, time_limit_s, seed)
        after = sum(_unplanned(attempt, need_id) for need_id in waiting)
        if after < before:
            best = _Outcome(plan=attempt, why_changed={**outcome.why_changed, **released})
            break
    return best


def _in_the_way(
    changed: Problem,
    old_visits: list[Visit],
    kept: list[int],
    need_id: str,
    count: int,
    travel: TravelModel,
) -> list[int]:
    """Kept visits of the `count` nearest qualified volunteers that overlap the urgent need's
    windows (give or take the travel margin) and are neither mandatory nor as urgent."""
    need = changed.need_by_id[need_id]
    recipient = changed.recipient_of_need[need_id]
    service = changed.service_by_id[need.service]
    priority = changed.priority_of(need)
    allowed: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for window in changed.allowed_windows(need):
        allowed[window.day].append((window.start, window.end))
    place = travel.recipient_place[recipient.id]
    candidates = [
        volunteer
        for volunteer in changed.volunteers
        if qualifies(volunteer, service, recipient)
        and volunteer.id not in recipient.excluded_volunteers
        and any(window.day in allowed for window in volunteer.availability)
    ]
    candidates.sort(
        key=lambda volunteer: (
            travel.distance(travel.start_place[volunteer.id], place),
            volunteer.id,
        )
    )
    nearest = {volunteer.id for volunteer in candidates[:count]}
    in_the_way = []
    for index in kept:
        visit = old_visits[index]
        other = changed.need_by_id[visit.need]
        if nearest.isdisjoint(visit.volunteers) or other.mandatory:
            continue
        if changed.priority_of(other) >= priority:
            continue
        if any(
            visit.start < end + ROOM_MARGIN_MIN and visit.end > start - ROOM_MARGIN_MIN
            for start, end in allowed.get(visit.day, [])
        ):
            in_the_way.append(index)
    return in_the_way


def _day_distance(first: Visit, second: Visit) -> int:
    return abs(WEEKDAYS.index(first.day) - WEEKDAYS.index(second.day))


def _diff(
    original: Problem, changed: Problem, old_plan: Plan, outcome: _Outcome, touch: _Touch
) -> PlanDiff:
    """Match old and new visits need by need and sort each pair into kept, moved, reassigned,
    dropped or added, with why."""
    new_plan = outcome.plan
    old_by_need: dict[str, list[int]] = defaultdict(list)
    for index, visit in enumerate(old_plan.visits):
        old_by_need[visit.need].append(index)
    new_by_need: dict[str, list[int]] = defaultdict(list)
    for index, visit in enumerate(new_plan.visits):
        new_by_need[visit.need].append(index)
    unassigned: dict[str, list[tuple[ReasonCode, str]]] = defaultdict(list)
    for item in new_plan.unassigned:
        unassigned[item.need].append((item.reason, item.message))
    coordinator_pins = {
        (pin.need, pin.day, pin.start, frozenset(pin.volunteers)) for pin in changed.pinned
    }
    freed = _freed_days(old_plan.visits, outcome.why_changed)

    diff = PlanDiff(changes=touch.descriptions)
    for need_id in sorted(set(old_by_need) | set(new_by_need)):
        pairs, lone_old, lone_new = _match(
            old_plan.visits, new_plan.visits, old_by_need[need_id], new_by_need[need_id]
        )
        for old_index, new_index in pairs:
            old, new = old_plan.visits[old_index], new_plan.visits[new_index]
            entry = DiffEntry(
                need=need_id,
                recipient=new.recipient,
                occurrence=new.occurrence,
                old_occurrence=old.occurrence,
                before=VisitSlot.of(old),
                after=VisitSlot.of(new),
                why="",
            )
            if _slot_key(old) == _slot_key(new):
                entry.why = (
                    "pinned by the coordinator"
                    if _slot_key(old) in coordinator_pins
                    else "still possible: kept as planned"
                )
                diff.kept.append(entry)
                continue
            entry.why = outcome.why_changed.get(old_index, "re-planned after the changes")
            if set(old.volunteers) == set(new.volunteers):
                diff.moved.append(entry)
            else:
                diff.reassigned.append(entry)
        reasons = list(unassigned.get(need_id, []))
        no_longer_asked = _fewer_visits(original, changed, need_id)
        for old_index in lone_old:
            old = old_plan.visits[old_index]
            why = outcome.why_changed.get(old_index, "re-planned after the changes")
            if reasons and no_longer_asked <= 0:
                reason, message = reasons.pop(0)
                code: DropReason = reason
            else:
                no_longer_asked -= 1
                code, message = "not_requested", f"The need no longer asks for this visit: {why}."
            diff.dropped.append(
                DiffEntry(
                    need=need_id,
                    recipient=old.recipient,
                    occurrence=old.occurrence,
                    old_occurrence=old.occurrence,
                    before=VisitSlot.of(old),
                    why=why,
                    reason=code,
                    message=message,
                )
            )
        for new_index in lone_new:
            new = new_plan.visits[new_index]
            diff.added.append(
                DiffEntry(
                    need=need_id,
                    recipient=new.recipient,
                    occurrence=new.occurrence,
                    after=VisitSlot.of(new),
                    why=_why_added(new, touch, freed),
                )
            )
    for entries in (diff.kept, diff.moved, diff.reassigned, diff.added):
        entries.sort(key=_entry_order)
    diff.dropped.sort(key=_entry_order)
    return diff


def _fewer_visits(original: Problem, changed: Problem, need_id: str) -> int:
    """How many fewer visits a week the need asks for after the changes (all, if removed)."""
    before = original.need_by_id.get(need_id)
    after = changed.need_by_id.get(need_id)
    if before is None:
        return 0
    return before.visits_per_week - (after.visits_per_week if after is not None else 0)


def _entry_order(entry: DiffEntry) -> tuple[int, int, str, int]:
    slot = entry.after if entry.after is not None else entry.before
    assert slot is not None
    return WEEKDAYS.index(slot.day), slot.start, entry.need, entry.occurrence


def _match(
    old_visits: list[Visit], new_visits: list[Visit], old: list[int], new: list[int]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Pair a need's old and new visits: identical ones first, then same volunteers, then the
    same day, then the nearest day and time; the rest are dropped (old) or added (new)."""

    def closeness(pair: tuple[int, int]) -> tuple[bool, bool, int, int, int, int]:
        first, second = old_visits[pair[0]], new_visits[pair[1]]
        return (
            _slot_key(first) != _slot_key(second),
            set(first.volunteers) != set(second.volunteers),
            _day_distance(first, second),
            abs(first.start - second.start),
            pair[0],
            pair[1],
        )

    candidates = sorted(((o, n) for o in old for n in new), key=closeness)
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for old_index, new_index in candidates:
        if old_index in used_old or new_index in used_new:
            continue
        pairs.append((old_index, new_index))
        used_old.add(old_index)
        used_new.add(new_index)
    return (
        pairs,
        [index for index in old if index not in used_old],
        [index for index in new if index not in used_new],
    )


def _freed_days(old_visits: list[Visit], why_changed: dict[int, str]) -> dict[tuple[str, str], str]:
    """(volunteer, day) pairs that lost an old visit, with why: time that others may now use."""
    freed: dict[tuple[str, str], str] = {}
    for index, why in sorted(why_changed.items()):
        visit = old_visits[index]
        for volunteer in visit.volunteers:
            freed.setdefault((volunteer, visit.day), why)
    return freed


def _why_added(visit: Visit, touch: _Touch, freed: dict[tuple[str, str], str]) -> str:
    """Which change made room for, or asked for, a newly planned visit."""
    if visit.need in touch.new_needs:
        return touch.descriptions[touch.new_needs[visit.need]]
    if visit.need in touch.window_changes:
        return touch.descriptions[touch.window_changes[visit.need]]
    for index, change in enumerate(touch.changes):
        if isinstance(change, NewVolunteer) and change.volunteer.id in visit.volunteers:
            return touch.descriptions[index]
    for volunteer in visit.volunteers:
        if (volunteer, visit.day) in freed:
            return f"time freed because {freed[(volunteer, visit.day)]}"
    return "left out before, it fits now (re-tried after: " + "; ".join(touch.descriptions) + ")"


__all__ = [
    "Change",
    "ChangeList",
    "DiffEntry",
    "NewNeed",
    "NewVolunteer",
    "PlanDiff",
    "RecipientAway",
    "Replan",
    "VisitSlot",
    "VolunteerUnavailable",
    "WindowChange",
    "apply_changes",
    "load_changes",
    "replan",
]
