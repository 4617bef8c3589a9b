"""Cross-reference validation of a problem, and warnings about legal but suspicious input.

Field errors (types, ranges, times) come from pydantic; the checks here need the whole problem:
duplicate ids, unknown references, needs with fewer days than visits, times past the end of the
problem's day, dependencies between needs that cannot go together, travel data that does not
cover every place. They work on raw JSON-like data too, so that a problem with field errors still
gets its reference errors reported in the same breath.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from matcher.models.common import (
    MAX_DAY_LENGTH_MIN,
    MINUTES_PER_DAY,
    WEEKDAYS,
    _parse_weekday,
    format_clock,
    parse_clock,
)

if TYPE_CHECKING:
    from matcher.models.problem import Problem

Location = tuple[str | int, ...]
Issue = tuple[Location, str]


def _as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, BaseModel):
        return item.model_dump()
    return dict(item) if isinstance(item, Mapping) else {}


def _list(container: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = container.get(key)
    if not isinstance(value, list | tuple):
        return []
    return [_as_dict(item) for item in value]


def _ident(value: Any) -> str | None:
    """An id or a reference to one: a string, else None (pydantic reports the wrong type with
    its path; a list or an object given as an id must not reach a set or a dict here)."""
    return value if isinstance(value, str) else None


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, str)]


def _day_intervals(windows: list[dict[str, Any]]) -> dict[int, list[tuple[int, int]]] | None:
    """Windows per weekday index; None when the list is empty (no restriction)."""
    if not windows:
        return None
    result: dict[int, list[tuple[int, int]]] = {}
    for window in windows:
        day = _parse_weekday(window.get("day"))
        try:
            start, end = parse_clock(window.get("start")), parse_clock(window.get("end"))
        except ValueError:
            continue
        if day in WEEKDAYS and isinstance(start, int) and isinstance(end, int) and end > start:
            result.setdefault(WEEKDAYS.index(day), []).append((start, end))
    return result


def most_visits(days: list[int], min_gap_days: int) -> int:
    """`matcher.rules.days.most_visits`, imported when used (the rules import the models)."""
    from matcher.rules.days import most_visits as rule

    return rule(days, min_gap_days)


def _shared_days(
    first: dict[int, list[tuple[int, int]]] | None,
    second: dict[int, list[tuple[int, int]]] | None,
    duration: int,
    day_length: int = MINUTES_PER_DAY,
    lateness_allowed: float = 0.0,
) -> list[int]:
    """Days on which a visit of `duration` minutes fits both sets of windows, at most
    `lateness_allowed` minutes late (soft windows): `matcher.rules.windows.days_fitting`."""
    from matcher.rules.intervals import intersect
    from matcher.rules.windows import days_fitting

    whole = {day: [(0, day_length)] for day in range(7)}
    left, right = first if first is not None else whole, second if second is not None else whole
    allowed = {
        day: intersect(sorted(left.get(day, [])), sorted(right.get(day, []))) for day in range(7)
    }
    return days_fitting(allowed, duration, min(lateness_allowed, day_length), day_length)


def _duplicates(items: Iterable[tuple[Location, Any]], what: str) -> list[Issue]:
    seen: Counter[str] = Counter()
    issues = []
    for location, identifier in items:
        if not isinstance(identifier, str):
            continue
        seen[identifier] += 1
        if seen[identifier] == 2:
            issues.append((location, f"duplicate {what} id {identifier!r}"))
    return issues


_MATRIX_ROWS = ("distance_m", "travel_min")


def _problem_dict(data: Any) -> dict[str, Any]:
    """The problem as a dict. A validated problem's matrix rows are the model's own lists, not
    copies: a 5,000-place matrix has 25 million entries, and dumping them took seconds."""
    if not isinstance(data, BaseModel):
        return _as_dict(data)
    travel = getattr(data, "travel", None)
    matrix = getattr(travel, "matrix", None)
    if matrix is None:
        return data.model_dump()
    problem = data.model_dump(exclude={"travel": {"matrix": set(_MATRIX_ROWS)}})
    for field in _MATRIX_ROWS:
        problem["travel"]["matrix"][field] = getattr(matrix, field)
    return problem


def cross_reference_issues(data: Any) -> list[Issue]:
    """Every problem that needs more than one object to see, each with its path."""
    problem = _problem_dict(data)
    validated = isinstance(data, BaseModel)
    services = _list(problem, "services")
    recipients = _list(problem, "recipients")
    volunteers = _list(problem, "volunteers")
    issues: list[Issue] = []

    issues += _duplicates(
        ((("services", index, "id"), s.get("id")) for index, s in enumerate(services)), "service"
    )
    issues += _duplicates(
        ((("recipients", index, "id"), r.get("id")) for index, r in enumerate(recipients)),
        "recipient",
    )
    issues += _duplicates(
        ((("volunteers", index, "id"), v.get("id")) for index, v in enumerate(volunteers)),
        "volunteer",
    )
    issues += _duplicates(
        (
            (("recipients", r_index, "needs", n_index, "id"), need.get("id"))
            for r_index, recipient in enumerate(recipients)
            for n_index, need in enumerate(_list(recipient, "needs"))
        ),
        "need",
    )

    service_by_id = {_ident(s.get("id")): s for s in services}
    service_by_id.pop(None, None)
    volunteer_ids = {_ident(v.get("id")) for v in volunteers} - {None}
    need_ids: set[str | None] = set()

    for r_index, recipient in enumerate(recipients):
        here: Location = ("recipients", r_index)
        for field in ("preferred_volunteers", "excluded_volunteers"):
            for v_index, volunteer in enumerate(_strings(recipient.get(field))):
                if volunteer not in volunteer_ids:
                    issues.append(((*here, field, v_index), f"unknown volunteer {volunteer!r}"))
        both = set(_strings(recipient.get("preferred_volunteers"))) & set(
            _strings(recipient.get("excluded_volunteers"))
        )
        for volunteer in sorted(both):
            issues.append(
                (
                    (*here, "excluded_volunteers"),
                    f"volunteer {volunteer!r} is both preferred and excluded",
                )
            )
        home = _day_intervals(_list(recipient, "home_windows"))
        for n_index, need in enumerate(_list(recipient, "needs")):
            need_here: Location = (*here, "needs", n_index)
            need_ids.add(_ident(need.get("id")))
            service = service_by_id.get(_ident(need.get("service")))
            if service is None:
                if isinstance(need.get("service"), str):
                    issues.append(
                        ((*need_here, "service"), f"unknown service {need.get('service')!r}")
                    )
                continue
            kinds = _strings(service.get("recipient_kinds")) or ["elder"]
            kind = recipient.get("kind", "elder")
            if isinstance(kind, str) and kind not in kinds:
                issues.append(
                    (
                        (*need_here, "service"),
                        f"service {service.get('id')!r} serves {', '.join(kinds)}, not a {kind}",
                    )
                )
            duration = need.get("duration_min") or service.get("duration_min")
            visits = need.get("visits_per_week", 1)
            if not isinstance(duration, int) or not isinstance(visits, int):
                continue
            lateness_allowed = 0.0
            if need.get("soft_window") is True:
                most_late = need.get("max_lateness_min")
                lateness_allowed = most_late if isinstance(most_late, int) else math.inf
            days = _shared_days(
                _day_intervals(_list(need, "windows")),
                home,
                duration,
                _day_length(problem),
                lateness_allowed,
            )
            gap = need.get("min_gap_days", 1)
            gap = gap if isinstance(gap, int) and gap >= 1 else 1
            possible = most_visits(days, gap)
            if visits > possible:
                day_names = ", ".join(WEEKDAYS[day] for day in days) or "none"
                spacing = f" at least {gap} days apart" if gap > 1 else ""
                issues.append(
                    (
                        (*need_here, "visits_per_week"),
                        f"{visits} visits a week{spacing} but the need's windows, while the "
                        f"recipient is at home, leave room for {possible} "
                        f"(days with room for {duration} minutes: {day_names})",
                    )
                )

    for p_index, pinned in enumerate(_list(problem, "pinned")):
        if isinstance(pinned.get("need"), str) and pinned.get("need") not in need_ids:
            issues.append((("pinned", p_index, "need"), f"unknown need {pinned.get('need')!r}"))
        for v_index, volunteer in enumerate(_strings(pinned.get("volunteers"))):
            if volunteer not in volunteer_ids:
                issues.append(
                    (("pinned", p_index, "volunteers", v_index), f"unknown volunteer {volunteer!r}")
                )

    issues += _day_length_issues(problem, recipients, volunteers)
    issues += _session_issues(problem, recipients, volunteer_ids)
    issues += _dependency_issues(problem, recipients)
    issues += _travel_issues(problem, recipients, volunteers, validated)
    return issues


def _day_length(problem: Mapping[str, Any]) -> int:
    """The problem's day length in minutes; the default when it is missing or invalid."""
    value = problem.get("day_length_min", MINUTES_PER_DAY)
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value <= MAX_DAY_LENGTH_MIN:
        return value
    return MINUTES_PER_DAY


def _windows_of(
    recipients: list[dict[str, Any]], volunteers: list[dict[str, Any]]
) -> Iterator[tuple[Location, dict[str, Any]]]:
    """Every time window of the problem with its path."""
    for r_index, recipient in enumerate(recipients):
        for w_index, window in enumerate(_list(recipient, "home_windows")):
            yield ("recipients", r_index, "home_windows", w_index), window
        for n_index, need in enumerate(_list(recipient, "needs")):
            for w_index, window in enumerate(_list(need, "windows")):
                yield ("recipients", r_index, "needs", n_index, "windows", w_index), window
    for v_index, volunteer in enumerate(volunteers):
        for w_index, window in enumerate(_list(volunteer, "availability")):
            yield ("volunteers", v_index, "availability", w_index), window


def _clock_value(value: Any) -> int | None:
    """Minutes after midnight of a clock time, or None when it is not one (pydantic says why)."""
    try:
        minutes = parse_clock(value)
    except ValueError:
        return None
    return minutes if isinstance(minutes, int) else None


def _day_length_issues(
    problem: dict[str, Any], recipients: list[dict[str, Any]], volunteers: list[dict[str, Any]]
) -> list[Issue]:
    """Every window and pinned start lies inside the planning day (00:00 to day_length_min)."""
    day_length = _day_length(problem)
    hint = "" if day_length != MINUTES_PER_DAY else " (set day_length_min for longer days)"

    def outside(value: Any) -> str | None:
        minutes = _clock_value(value)
        if minutes is None or minutes <= day_length:
            return None
        return (
            f"{format_clock(minutes)} is not a time of day between 00:00 and "
            f"{format_clock(day_length)}{hint}"
        )

    issues: list[Issue] = []
    for path, window in _windows_of(recipients, volunteers):
        for field in ("start", "end"):
            message = outside(window.get(field))
            if message is not None:
                issues.append(((*path, field), message))
    for p_index, pinned in enumerate(_list(problem, "pinned")):
        message = outside(pinned.get("start"))
        if message is not None:
            issues.append((("pinned", p_index, "start"), message))
    return issues


def _dependency_issues(problem: dict[str, Any], recipients: list[dict[str, Any]]) -> list[Issue]:
    """Each dependency links two distinct existing needs of one recipient with as many visits a
    week, and its gaps make sense (simultaneous: exactly 0; sequential: min <= max)."""
    owner: dict[Any, Any] = {}
    visits: dict[Any, Any] = {}
    for recipient in recipients:
        for need in _list(recipient, "needs"):
            need_id = _ident(need.get("id"))
            if need_id is not None:
                owner.setdefault(need_id, _ident(recipient.get("id")))
                visits.setdefault(need_id, need.get("visits_per_week", 1))
    issues: list[Issue] = []
    for index, dependency in enumerate(_list(problem, "dependencies")):
        here: Location = ("dependencies", index)
        first, second = dependency.get("first"), dependency.get("second")
        known = True
        for field, need_id in (("first", first), ("second", second)):
            if isinstance(need_id, str) and need_id not in owner:
                issues.append(((*here, field), f"unknown need {need_id!r}"))
                known = False
        if known and isinstance(first, str) and isinstance(second, str):
            if first == second:
                issues.append(((*here, "second"), f"need {first!r} cannot depend on itself"))
            elif owner[first] != owner[second]:
                issues.append(
                    (
                        (*here, "second"),
                        f"need {second!r} belongs to recipient {owner[second]!r} but need "
                        f"{first!r} to {owner[first]!r}; linked needs share one recipient",
                    )
                )
            elif visits[first] != visits[second]:
                issues.append(
                    (
                        (*here, "second"),
                        f"need {second!r} has {visits[second]} visit(s) a week but need "
                        f"{first!r} has {visits[first]}; linked needs have as many",
                    )
                )
        low, high = dependency.get("min_gap_min", 0), dependency.get("max_gap_min")
        if dependency.get("kind") == "simultaneous":
            if isinstance(low, int) and low != 0:
                issues.append(
                    ((*here, "min_gap_min"), "a simultaneous dependency has a gap of exactly 0")
                )
            if isinstance(high, int) and high != 0:
                issues.append(
                    ((*here, "max_gap_min"), "a simultaneous dependency has a gap of exactly 0")
                )
        elif isinstance(low, int) and isinstance(high, int) and high < low:
            issues.append(
                (
                    (*here, "max_gap_min"),
                    f"the most minutes between the starts ({high}) are fewer than the least "
                    f"({low})",
                )
            )
    return issues


def _session_issues(
    problem: dict[str, Any], recipients: list[dict[str, Any]], volunteer_ids: set[str | None]
) -> list[Issue]:
    """Group services, venues and attendance wishes: duplicate ids, unknown venues and services,
    a maximum below the minimum, candidate venues of the wrong kind or too small for the
    minimum, wishes for a service that does not serve the recipient's kind, lead history naming
    unknown services or volunteers."""
    venues = _list(problem, "venues")
    services = _list(problem, "group_services")
    issues: list[Issue] = []
    issues += _duplicates(
        ((("venues", index, "id"), v.get("id")) for index, v in enumerate(venues)), "venue"
    )
    issues += _duplicates(
        ((("group_services", index, "id"), g.get("id")) for index, g in enumerate(services)),
        "group service",
    )
    issues += _duplicates(
        (
            (("recipients", r_index, "attends", w_index, "id"), wish.get("id"))
            for r_index, recipient in enumerate(recipients)
            for w_index, wish in enumerate(_list(recipient, "attends"))
        ),
        "attendance wish",
    )
    venue_by_id = {_ident(v.get("id")): v for v in venues}
    venue_by_id.pop(None, None)
    service_by_id = {_ident(g.get("id")): g for g in services}
    service_by_id.pop(None, None)
    for g_index, service in enumerate(services):
        here: Location = ("group_services", g_index)
        low, high = service.get("min_attendees", 1), service.get("max_attendees")
        if isinstance(low, int) and isinstance(high, int) and high < low:
            issues.append(
                ((*here, "max_attendees"), f"{high} seats, below the minimum of {low} attendees")
            )
        kinds = set(_strings(service.get("venue_kinds")))
        for v_index, venue_id in enumerate(_strings(service.get("venues"))):
            venue = venue_by_id.get(venue_id)
            if venue is None:
                issues.append(((*here, "venues", v_index), f"unknown venue {venue_id!r}"))
                continue
            if kinds and venue.get("kind") not in kinds:
                issues.append(
                    (
                        (*here, "venues", v_index),
                        f"venue {venue_id!r} is a {venue.get('kind')}, not one of the "
                        f"service's kinds ({', '.join(sorted(kinds))})",
                    )
                )
            capacity = venue.get("capacity")
            if isinstance(capacity, int) and isinstance(low, int) and capacity < low:
                issues.append(
                    (
                        (*here, "venues", v_index),
                        f"venue {venue_id!r} holds {capacity}, below the minimum of {low} "
                        "attendees",
                    )
                )
    for r_index, recipient in enumerate(recipients):
        kind = recipient.get("kind", "elder")
        for w_index, wish in enumerate(_list(recipient, "attends")):
            where: Location = ("recipients", r_index, "attends", w_index, "group_service")
            service_id = wish.get("group_service")
            wished = service_by_id.get(_ident(service_id))
            if wished is None:
                if isinstance(service_id, str):
                    issues.append((where, f"unknown group service {service_id!r}"))
                continue
            kinds_served = _strings(wished.get("recipient_kinds")) or ["elder"]
            if isinstance(kind, str) and kind not in kinds_served:
                issues.append(
                    (
                        where,
                        f"group service {service_id!r} serves {', '.join(kinds_served)}, "
                        f"not a {kind}",
                    )
                )
    for h_index, entry in enumerate(_list(problem, "lead_history")):
        service_id = entry.get("group_service")
        if isinstance(service_id, str) and service_id not in service_by_id:
            issues.append(
                (
                    ("lead_history", h_index, "group_service"),
                    f"unknown group service {service_id!r}",
                )
            )
        volunteer = entry.get("volunteer")
        if isinstance(volunteer, str) and volunteer not in volunteer_ids:
            issues.append(
                (("lead_history", h_index, "volunteer"), f"unknown volunteer {volunteer!r}")
            )
    return issues


def _locations(
    recipients: list[dict[str, Any]],
    volunteers: list[dict[str, Any]],
    venues: list[dict[str, Any]] | None = None,
) -> list[tuple[Location, dict[str, Any]]]:
    found: list[tuple[Location, dict[str, Any]]] = []
    for index, venue in enumerate(venues or []):
        if isinstance(venue.get("location"), Mapping | BaseModel):
            found.append((("venues", index, "location"), _as_dict(venue["location"])))
    for index, recipient in enumerate(recipients):
        if isinstance(recipient.get("location"), Mapping | BaseModel):
            found.append((("recipients", index, "location"), _as_dict(recipient["location"])))
    for index, volunteer in enumerate(volunteers):
        for field in ("home", "start_location"):
            if isinstance(volunteer.get(field), Mapping | BaseModel):
                found.append((("volunteers", index, field), _as_dict(volunteer[field])))
    return found


def _travel_issues(
    problem: dict[str, Any],
    recipients: list[dict[str, Any]],
    volunteers: list[dict[str, Any]],
    validated: bool,
) -> list[Issue]:
    """Places and locations agree with the travel method. Matrix signs are checked only before
    the fields are validated: a validated matrix is non-negative by its field constraints."""
    travel = _as_dict(problem.get("travel") or {})
    method = travel.get("method", "coordinates")
    locations = _locations(recipients, volunteers, _list(problem, "venues"))
    issues: list[Issue] = []
    if method == "coordinates":
        kinds: Counter[str] = Counter()
        for path, location in locations:
            if location.get("lat") is not None:
                kinds["lat/lon"] += 1
            elif location.get("x_m") is not None:
                kinds["x_m/y_m"] += 1
            else:
                issues.append((path, "travel method 'coordinates' needs coordinates here"))
        if len(kinds) > 1:
            issues.append((("travel", "method"), "locations mix lat/lon and x_m/y_m; use one kind"))
        return issues
    places: set[Any] = set()
    if method == "matrix":
        matrix = _as_dict(travel.get("matrix") or {})
        if not matrix:
            return [(("travel", "matrix"), "travel method 'matrix' needs a matrix")]
        names = _strings(matrix.get("places"))
        places = set(names)
        for name, count in Counter(names).items():
            if count > 1:
                issues.append((("travel", "matrix", "places"), f"duplicate place {name!r}"))
        for field in _MATRIX_ROWS:
            if field == "distance_m" or matrix.get(field) is not None:
                issues += _matrix_shape_issues(matrix.get(field), len(names), field, validated)
    elif method == "graph":
        edges = _list(travel, "walkways")
        if not edges:
            return [(("travel", "walkways"), "travel method 'graph' needs walkways")]
        places = {_ident(edge.get("a")) for edge in edges} | {
            _ident(edge.get("b")) for edge in edges
        }
        places.discard(None)
    for path, location in locations:
        place = location.get("place")
        if place is not None and not isinstance(place, str):
            continue
        if place is None:
            issues.append((path, f"travel method {method!r} needs a place name here"))
        elif place not in places:
            issues.append(((*path, "place"), f"place {place!r} is not in the travel {method}"))
    return issues


_REAL_TYPES = frozenset((int, float))


def _has_negative(row: list[Any]) -> bool:
    """Whether a matrix row holds a negative number (other entries are field errors). A row of
    plain numbers is judged at C speed (a 5,000-place matrix has 25 million entries)."""
    if _REAL_TYPES.issuperset(map(type, row)):
        return any(map((0.0).__gt__, row))
    return any(isinstance(value, int | float) and value < 0 for value in row)


def _matrix_shape_issues(rows: Any, size: int, field: str, validated: bool) -> list[Issue]:
    """A square matrix with one row and one column per place and (unless its fields are
    validated already) no negative entry."""
    path: Location = ("travel", "matrix", field)
    what = "distance" if field == "distance_m" else "travel time"
    rows = rows if isinstance(rows, list) else []
    issues: list[Issue] = []
    if len(rows) != size:
        issues.append((path, f"{len(rows)} rows for {size} places"))
    for row_index, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != size:
            issues.append(
                (
                    (*path, row_index),
                    f"row has {len(row) if isinstance(row, list) else 0} entries for {size} places",
                )
            )
        elif not validated and _has_negative(row):
            issues.append(((*path, row_index), f"negative {what}"))
    return issues


def combined_error(
    title: str, error: ValidationError | None, issues: list[Issue], kind: str = "reference"
) -> ValidationError:
    """One ValidationError holding pydantic's field errors and our reference errors."""
    details: list[InitErrorDetails] = []
    if error is not None:
        for item in error.errors(include_url=False):
            details.append(
                {
                    "type": PydanticCustomError(
                        item["type"], "{message}", {"message": item["msg"]}
                    ),
                    "loc": item["loc"],
                    "input": item.get("input"),
                }
            )
    for location, message in issues:
        details.append(
            {
                "type": PydanticCustomError(kind, "{message}", {"message": message}),
                "loc": location,
                "input": None,
            }
        )
    return ValidationError.from_exception_data(title, details)


def problem_warnings(problem: Problem) -> list[str]:
    """Legal but suspicious: skills nobody has, teams larger than the qualified volunteers."""
    warnings: list[str] = []
    used_services = {need.service for need in problem.need_by_id.values()}
    all_skills = {skill for volunteer in problem.volunteers for skill in volunteer.skills}
    for service in problem.services:
        if service.id not in used_services:
            continue
        missing = sorted(set(service.required_skills) - all_skills)
        if missing:
            warnings.append(
                f"service {service.id!r} needs skill(s) {', '.join(missing)} that no volunteer has"
            )
            continue
        qualified = [
            volunteer
            for volunteer in problem.volunteers
            if set(service.required_skills) <= set(volunteer.skills)
            and (volunteer.verified or not service.requires_verified)
        ]
        if len(qualified) < service.team_size:
            warnings.append(
                f"service {service.id!r} needs a team of {service.team_size} but only "
                f"{len(qualified)} volunteer(s) are qualified"
            )
    for need in problem.need_by_id.values():
        if need.max_lateness_min is not None and not need.soft_window:
            warnings.append(
                f"need {need.id!r} sets max_lateness_min without soft_window; its window is hard"
            )
    for volunteer in problem.volunteers:
        if not volunteer.availability:
            warnings.append(f"volunteer {volunteer.id!r} has no availability this week")
    warnings += _session_warnings(problem)
    recipient_ids, volunteer_ids = set(problem.recipient_by_id), set(problem.volunteer_by_id)
    for index, visit in enumerate(problem.history):
        if visit.recipient not in recipient_ids or visit.volunteer not in volunteer_ids:
            warnings.append(
                f"history entry {index} refers to a recipient or volunteer no longer present"
            )
    return warnings


def _session_warnings(problem: Problem) -> list[str]:
    """A group service nobody can lead (skills, verification, the background check when it
    serves children, fewer qualified than its leads), or with no venue to use."""
    from matcher.rules.sessions import candidate_venues, lead_failures

    warnings: list[str] = []
    for service in problem.group_services:
        children = "child" in service.recipient_kinds
        qualified = [
            volunteer
            for volunteer in problem.volunteers
            if not lead_failures(service, volunteer, children=children)
        ]
        if len(qualified) < service.leads:
            warnings.append(
                f"group service {service.id!r} needs {service.leads} lead(s) but "
                f"{len(qualified)} volunteer(s) can lead it"
            )
        if not candidate_venues(problem, service):
            warnings.append(f"group service {service.id!r} has no venue of its kinds")
    return warnings


def format_validation_error(error: ValidationError) -> str:
    """A readable list of every problem, one line each: path, then what is wrong."""
    lines = [f"{error.error_count()} problem(s) in the input:"]
    for item in error.errors(include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        lines.append(f"  - {path}: {message}")
    return "\n".join(lines)
