"""The changes to a week (a volunteer cancels, an elder goes to hospital, snow to clear, new
windows, a new volunteer), how they are read from a file, applied to a problem, and which old
visits each one touches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError, ValidationInfo, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from matcher.checker import DAY_NAMES
from matcher.io import InputError, parse_json, validate_json
from matcher.models import (
    WEEKDAYS,
    Need,
    PinnedVisit,
    Problem,
    TimeWindow,
    Visit,
    Volunteer,
    format_clock,
)
from matcher.models.common import ClockTime, DayOfWeek, InputModel, Weekday, published
from matcher.models.limits import InputLimits, check_limits
from matcher.models.problem import whole_week
from matcher.replan.broken import IGNORED_RULES, broken_visits
from matcher.rules import days_with_room, most_visits
from matcher.travel import TravelModel

URGENT_PRIORITY_FACTOR = 2.0
"""An urgent new need without its own priority gets this many times the highest priority of
any need of the problem before the changes (at least this many times 1)."""


def _who(kind: str, name: str, identifier: str) -> str:
    """'volunteer Zhao (v3)' when there is a name, else 'volunteer v3'."""
    return f"{kind} {name} ({identifier})" if name else f"{kind} {identifier}"


def _day_list(days: Sequence[str]) -> str:
    """'Tuesday', 'Tuesday and Thursday', 'Monday, Tuesday and Friday'."""
    names = [DAY_NAMES[day] for day in days]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


class VolunteerUnavailable(InputModel):
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
            # A frozen model: the validator normalises the days it was given, once.
            object.__setattr__(self, "days", sorted(set(self.days), key=WEEKDAYS.index))
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


class RecipientAway(InputModel):
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


class NewNeed(InputModel):
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


class WindowChange(InputModel):
    """A need's windows change (the recipient now prefers afternoons); empty: any time they are
    at home."""

    kind: Literal["window_change"] = "window_change"
    need: str = Field(min_length=1, description="id of a need")
    windows: list[TimeWindow]

    def describe(self, problem: Problem) -> str:
        """'the windows of need n1 changed'."""
        return f"the windows of need {self.need} changed"


class NewVolunteer(InputModel):
    """A volunteer joins for the week."""

    kind: Literal["new_volunteer"] = "new_volunteer"
    volunteer: Volunteer

    def describe(self, problem: Problem) -> str:
        """'new volunteer v9 joined'."""
        return f"new {_who('volunteer', self.volunteer.name, self.volunteer.id)} joined"


class VenueClosed(InputModel):
    """A venue of group sessions closes some days (or the whole week): its sessions there move
    to another venue or time, or are cancelled."""

    kind: Literal["venue_closed"] = "venue_closed"
    venue: str = Field(min_length=1, description="id of a venue")
    days: list[DayOfWeek] | None = Field(
        default=None, description="the days it is closed; none: the whole week"
    )

    @model_validator(mode="after")
    def _some_day(self) -> VenueClosed:
        if self.days is not None and not self.days:
            raise ValueError("name at least one day, or leave out 'days' for the whole week")
        return self

    def closed_days(self) -> tuple[Weekday, ...]:
        """The weekdays the venue is closed."""
        return tuple(self.days) if self.days is not None else WEEKDAYS

    def describe(self, problem: Problem) -> str:
        """'venue room closed on Tuesday'."""
        venue = problem.venue_by_id.get(self.venue)
        who = _who("venue", venue.name if venue else "", self.venue)
        when = "for the week" if self.days is None else f"on {_day_list(self.days)}"
        return f"{who} closed {when}"


Change = Annotated[
    VolunteerUnavailable | RecipientAway | NewNeed | WindowChange | NewVolunteer | VenueClosed,
    Field(discriminator="kind"),
]
"""One change to the week, told apart by its `kind`."""


def _object_or_bare_list(schema: dict[str, Any]) -> None:
    """The schema of a change file: `{"changes": [...]}` or the bare list of changes, with its
    dialect and `$id` (what `ChangeList.model_validate` and `load_changes` accept)."""
    whole = {key: schema.pop(key) for key in list(schema) if key not in ("title", "description")}
    changes = whole.get("properties", {}).get("changes", {})
    schema.update(published("changes"))
    schema["anyOf"] = [whole, {"type": "array", "items": changes.get("items", {})}]


class ChangeList(InputModel):
    """The changes to apply, in order (a later change sees the earlier ones: a new volunteer may
    then cancel a day)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, json_schema_extra=_object_or_bare_list
    )

    changes: list[Change] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _bare_list_within_limits(cls, data: Any, info: ValidationInfo) -> Any:
        """A bare list of changes stands for `{"changes": [...]}`; input limits
        (`matcher.models.limits`) are checked before any change is validated."""
        if isinstance(data, list | tuple):
            data = {"changes": list(data)}
        check_limits(cls.__name__, data, info.context)
        return data


def load_changes(path: str | Path, limits: InputLimits | None = None) -> ChangeList:
    """Read and validate a change file (`{"changes": [...]}` or the bare list); raises
    InputError listing every problem found (`limits`: how large and deep the input may be,
    `matcher.models.limits.InputLimits`, the defaults unless given)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(
            f"cannot read the changes file {str(source)!r}: {error.strerror}"
        ) from None
    except UnicodeDecodeError:
        raise InputError(f"{source}: not UTF-8 text") from None
    return validate_json(parse_json(text, source, limits), ChangeList, source, limits)


def as_change_list(changes: ChangeList | Sequence[Change | Mapping[str, Any]]) -> ChangeList:
    """A ChangeList from a ChangeList, a list of changes, or their JSON-like dicts."""
    if isinstance(changes, ChangeList):
        return changes
    return ChangeList.model_validate({"changes": list(changes)})


# --------------------------------------------------------------------- applying changes

Issue = tuple[tuple[str | int, ...], str]
"""Where (a path of field names and indices) and what is wrong."""


def validation_error(issues: list[Issue]) -> ValidationError:
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


Edit = tuple[Problem, list[Issue]]
"""A problem with a change made, or as it was with what is wrong with the change."""


def urgent_priority(problem: Problem) -> float:
    """The priority an urgent need gets unless it has its own."""
    highest = max((problem.priority_of(need) for need in problem.need_by_id.values()), default=1)
    return URGENT_PRIORITY_FACTOR * max(1.0, highest)


def _volunteer_unavailable(problem: Problem, change: VolunteerUnavailable) -> Edit:
    volunteer = problem.volunteer_by_id.get(change.volunteer)
    if volunteer is None:
        return problem, [(("volunteer",), f"unknown volunteer {change.volunteer!r}")]
    day_length = problem.day_length_min
    issues: list[Issue] = [
        ((name,), f"{format_clock(value)} is past the end of the planning day")
        for name in ("from_time", "to_time")
        if (value := getattr(change, name)) is not None and value > day_length
    ]
    if issues:
        return problem, issues
    start = change.from_time if change.from_time is not None else 0
    end = change.to_time if change.to_time is not None else day_length
    days = set(change.cancelled_days())
    availability = [
        piece
        for window in volunteer.availability
        for piece in (_subtract(window, start, end) if window.day in days else [window])
    ]
    return problem.replace_volunteer(
        volunteer.model_copy(update={"availability": availability})
    ), []


def _recipient_away(problem: Problem, change: RecipientAway) -> Edit:
    """The recipient is not at home on the days away; each need keeps as many visits as still
    fit its windows, one a day and `min_gap_days` apart (`rules.days.most_visits` of
    `rules.windows.days_with_room`), linked needs as many as each other."""
    recipient = problem.recipient_by_id.get(change.recipient)
    if recipient is None:
        return problem, [(("recipient",), f"unknown recipient {change.recipient!r}")]
    away = set(change.away_days(problem))
    if not away:
        return problem, [
            (
                ("until",),
                f"{change.until.isoformat()} is not after the first day of the week "
                f"({problem.week_start.isoformat()}); nothing would change",
            )
        ]
    home = [
        window
        for window in (recipient.home_windows or whole_week(problem.day_length_min))
        if window.day not in away
    ]
    at_home = problem.replace_recipient(recipient.model_copy(update={"home_windows": home}))
    counts = {
        need.id: min(
            need.visits_per_week,
            most_visits(
                days_with_room(at_home, need, at_home.duration_of(need)), need.min_gap_days
            ),
        )
        if home
        else 0
        for need in recipient.needs
    }
    for dependency in problem.dependencies:
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
    changed = problem.replace_recipient(
        recipient.model_copy(
            update={"home_windows": home if home else recipient.home_windows, "needs": needs}
        )
    )
    return changed.variant(
        dependencies=[
            dependency
            for dependency in problem.dependencies
            if dependency.first not in removed and dependency.second not in removed
        ],
        pinned=[pin for pin in problem.pinned if pin.need not in removed],
    ), []


def _new_need(problem: Problem, change: NewNeed, priority: float) -> Edit:
    """The need added to its recipient; urgent: mandatory, of `priority` unless it has its
    own."""
    issues: list[Issue] = []
    if change.recipient not in problem.recipient_by_id:
        issues.append((("recipient",), f"unknown recipient {change.recipient!r}"))
    if change.need.id in problem.need_by_id:
        issues.append((("need", "id"), f"need id {change.need.id!r} is already in use"))
    if change.need.service not in problem.service_by_id:
        issues.append((("need", "service"), f"unknown service {change.need.service!r}"))
    if issues:
        return problem, issues
    need = change.need
    if change.urgent:
        own = need.priority if need.priority is not None else priority
        need = need.model_copy(update={"mandatory": True, "priority": own})
    return problem.add_need(change.recipient, need), []


def _window_change(problem: Problem, change: WindowChange) -> Edit:
    need = problem.need_by_id.get(change.need)
    if need is None:
        return problem, [(("need",), f"unknown need {change.need!r}")]
    return problem.replace_need(need.model_copy(update={"windows": list(change.windows)})), []


def _new_volunteer(problem: Problem, change: NewVolunteer) -> Edit:
    if change.volunteer.id in problem.volunteer_by_id:
        return problem, [
            (("volunteer", "id"), f"volunteer id {change.volunteer.id!r} is already in use")
        ]
    return problem.add_volunteer(change.volunteer), []


def _venue_closed(problem: Problem, change: VenueClosed) -> Edit:
    venue = problem.venue_by_id.get(change.venue)
    if venue is None:
        return problem, [(("venue",), f"unknown venue {change.venue!r}")]
    closed = sorted({*venue.closed_days, *change.closed_days()}, key=WEEKDAYS.index)
    updated = venue.model_copy(update={"closed_days": closed})
    return problem.variant(venues=[updated if v.id == venue.id else v for v in problem.venues]), []


def apply_one(problem: Problem, change: Change, priority: float) -> Edit:
    """The problem with one change made (not yet cross-checked), or the problem as it was and
    what is wrong with the change. `priority`: an urgent new need's, unless it has its own."""
    if isinstance(change, VolunteerUnavailable):
        return _volunteer_unavailable(problem, change)
    if isinstance(change, RecipientAway):
        return _recipient_away(problem, change)
    if isinstance(change, NewNeed):
        return _new_need(problem, change, priority)
    if isinstance(change, WindowChange):
        return _window_change(problem, change)
    if isinstance(change, VenueClosed):
        return _venue_closed(problem, change)
    return _new_volunteer(problem, change)


def _located(problem: Problem, change: Change) -> tuple[str | int, ...] | None:
    """Where in the problem the object a change added or edited lies, if it does."""
    if isinstance(change, NewNeed | WindowChange):
        need_id = change.need.id if isinstance(change, NewNeed) else change.need
        for r_position, recipient in enumerate(problem.recipients):
            for n_position, need in enumerate(recipient.needs):
                if need.id == need_id:
                    return ("recipients", r_position, "needs", n_position)
        return None
    if isinstance(change, NewVolunteer):
        for position, volunteer in enumerate(problem.volunteers):
            if volunteer.id == change.volunteer.id:
                return ("volunteers", position)
    return None


_CHANGED_FIELD: dict[str, str] = {
    "volunteer_unavailable": "days",
    "recipient_away": "until",
    "new_need": "need",
    "window_change": "windows",
    "new_volunteer": "volunteer",
    "venue_closed": "venue",
}
"""The field of each kind of change that problem-level errors it causes are reported at."""


def _problem_issues(problem: Problem, change: Change, error: ValidationError) -> list[Issue]:
    """The changed problem's errors, re-addressed to the change that caused them."""
    owned = _located(problem, change)
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


def changed_problem(problem: Problem, change_list: ChangeList) -> Problem:
    """The problem after the changes, cross-checked; ValidationError naming each bad change."""
    priority = urgent_priority(problem)
    working = problem
    issues: list[Issue] = []
    for index, change in enumerate(change_list.changes):
        working, found = apply_one(working, change, priority)
        issues += [(("changes", index, *where), what) for where, what in found]
    if issues:
        raise validation_error(issues)
    try:
        return Problem.model_validate(working)
    except ValidationError:
        pass
    # Some change made the problem invalid: apply them one at a time to say which.
    working = problem
    for index, change in enumerate(change_list.changes):
        attempt, _ = apply_one(working, change, priority)
        try:
            Problem.model_validate(attempt)
        except ValidationError as error:
            issues += [
                (("changes", index, *where), what)
                for where, what in _problem_issues(attempt, change, error)
            ]
            continue
        working = attempt
    raise validation_error(issues or [(("changes",), "the changes make the problem invalid")])


def apply_changes(
    problem: Problem, changes: ChangeList | Sequence[Change | Mapping[str, Any]]
) -> Problem:
    """The problem after the changes, as a new validated Problem; the given one is unchanged.

    Raises pydantic's ValidationError listing every problem, each at its change:
    `changes.2.volunteer: unknown volunteer 'v99'`. A coordinator's pinned visit that a change
    makes impossible (its volunteer cancelled that day, its recipient is away) is unpinned.

    Parameters:
        problem: the week as planned.
        changes: a `ChangeList`, or a list of changes (models or their JSON-like dicts), applied
            in order (a later change sees the earlier ones).
    """
    change_list = as_change_list(changes)
    changed = changed_problem(problem, change_list)
    return without_impossible_pins(problem, changed, change_list)


def without_impossible_pins(original: Problem, changed: Problem, changes: ChangeList) -> Problem:
    """The changed problem without the pinned visits the changes make impossible (a pin
    without its linked partner is fine: the solver adds the partner)."""
    if not changed.pinned:
        return changed
    touch = Touch(original, changed, changes)
    pins = [visit_of_pin(changed, pin) for pin in changed.pinned]
    suspects = [index for index, visit in enumerate(pins) if touch.cause(visit) is not None]
    if not suspects:
        return changed
    broken = broken_visits(
        changed, pins, suspects, TravelModel(changed), ignored=IGNORED_RULES | {"dependency"}
    )
    if not broken:
        return changed
    return changed.variant(
        pinned=[pin for index, pin in enumerate(changed.pinned) if index not in broken]
    )


def visit_of_pin(problem: Problem, pin: PinnedVisit) -> Visit:
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


# -------------------------------------------------------- which old visits a change touches


class Touch:
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


__all__ = [
    "Change",
    "ChangeList",
    "Issue",
    "NewNeed",
    "NewVolunteer",
    "RecipientAway",
    "Touch",
    "VenueClosed",
    "VolunteerUnavailable",
    "WindowChange",
    "apply_changes",
    "load_changes",
]
