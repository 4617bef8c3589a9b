"""`matcher export`: the plan as a workbook, calendars, printable pages and pictures.

`export_files(problem, plan, kinds, language)` returns every file as bytes, by kind and name;
each maker under it takes a `Schedule` (`build_schedule(problem, plan, language)`). A command
writes them with `write_folder`; a web page sends them as downloads (`zip_bytes` for one).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from typing import TYPE_CHECKING

from matcher.desk.schedule import Schedule, ScheduledVisit, build_schedule, partner_text
from matcher.desk.text import text
from matcher.messages import day_name
from matcher.models import Plan, Problem
from matcher.models.common import Language

if TYPE_CHECKING:
    from jinja2 import Environment

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def safe_file_name(identifier: str) -> str:
    """A volunteer id as a file name: letters, digits, '-', '_' and '.' kept, others '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", identifier).strip(".") or "_"


def _sheet_title(title: str, used: set[str]) -> str:
    """A worksheet title Excel accepts (31 characters, no []:*?/\\), unique in the workbook."""
    base = _SHEET_NAME_BAD.sub("_", title)[:31] or "_"
    candidate, number = base, 2
    while candidate.lower() in used:
        suffix = f"~{number}"
        candidate, number = base[: 31 - len(suffix)] + suffix, number + 1
    used.add(candidate.lower())
    return candidate


def _visit_cells(visit: ScheduledVisit, language: Language, with_volunteer: bool) -> list[object]:
    cells: list[object] = [
        day_name(visit.day, language),
        visit.date,
        visit.time,
    ]
    if with_volunteer:
        cells.append(visit.volunteer_name)
    cells += [
        visit.recipient_name,
        visit.address,
        visit.service_name,
        visit.notes,
        partner_text(visit, language),
        f"{visit.need} #{visit.occurrence}",
    ]
    return cells


def _visit_headers(language: Language, with_volunteer: bool) -> list[str]:
    headers = [text("day", language), text("date", language), text("time", language)]
    if with_volunteer:
        headers.append(text("volunteer", language))
    return headers + [
        text(code, language)
        for code in ("recipient", "address", "service", "notes", "partners", "visit_no")
    ]


def workbook_bytes(schedule: Schedule) -> bytes:
    """The schedule workbook: the week's figures, a sheet per day, one per volunteer with
    visits, and the visits not planned with their reasons."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    language = schedule.language
    workbook = Workbook()
    used: set[str] = set()
    bold = Font(bold=True)

    def table(sheet: Worksheet, headers: list[str], rows: list[list[object]]) -> None:
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            sheet.append(row)
        for index, header in enumerate(headers, start=1):
            longest = max([len(str(header)), *(len(str(row[index - 1] or "")) for row in rows)])
            sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 8), 48)
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(vertical="top", wrap_text=True)
                if isinstance(cell.value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "A2"

    figures = workbook.active
    assert figures is not None
    figures.title = _sheet_title(text("figures", language), used)
    table(
        figures,
        [text("figure", language), text("value", language)],
        [list(row) for row in schedule.figures()],
    )
    for day in schedule.days():
        sheet = workbook.create_sheet(_sheet_title(day_name(day, language), used))
        rows = [_visit_cells(visit, language, True) for visit in schedule.of_day(day)]
        table(sheet, _visit_headers(language, True), rows)
    for volunteer in schedule.problem.volunteers:
        visits = schedule.of_volunteer(volunteer.id)
        if not visits:
            continue
        sheet = workbook.create_sheet(_sheet_title(volunteer.name or volunteer.id, used))
        table(
            sheet,
            _visit_headers(language, False),
            [_visit_cells(visit, language, False) for visit in visits],
        )
    unplanned = workbook.create_sheet(_sheet_title(text("unplanned", language), used))
    table(
        unplanned,
        [
            text("recipient", language),
            text("service", language),
            text("visit_no", language),
            text("reason", language),
            text("why", language),
        ],
        [
            [
                item.recipient_name,
                item.service_name,
                f"{item.need} #{item.occurrence}",
                item.reason,
                item.message,
            ]
            for item in schedule.unplanned
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _event_time(date: dt.date, minutes: int) -> dt.datetime:
    """The local (floating) time of a minute of a planning day; minutes past 24 h roll over."""
    return dt.datetime.combine(date, dt.time()) + dt.timedelta(minutes=minutes)


def calendar_bytes(schedule: Schedule, volunteer: str) -> bytes:
    """One volunteer's week as an iCalendar file: an event per visit with the place, the
    service and the people; UIDs from volunteer, need, occurrence and week, so importing the
    calendar of a re-plan updates the events instead of adding new ones."""
    from icalendar import Calendar, Event

    language = schedule.language
    calendar = Calendar()
    calendar.add("prodid", "-//matcher//coordinator desk//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", text("schedule_of", language, name=_name_of(schedule, volunteer)))
    stamp = dt.datetime.combine(schedule.problem.week_start, dt.time(), tzinfo=dt.timezone.utc)
    for visit in schedule.of_volunteer(volunteer):
        event = Event()
        event.add("uid", visit.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", _event_time(visit.date, visit.start_min))
        event.add("dtend", _event_time(visit.date, visit.end_min))
        event.add("summary", f"{visit.service_name}: {visit.recipient_name}")
        event.add("location", visit.address)
        colon = text("colon", language)
        lines = [
            f"{text('recipient', language)}{colon}{visit.recipient_name}",
            f"{text('service', language)}{colon}{visit.service_name}",
        ]
        if visit.notes:
            lines.append(f"{text('notes', language)}{colon}{visit.notes}")
        if visit.partners:
            lines.append(f"{text('partners', language)}{colon}{partner_text(visit, language)}")
        lines.append(f"{text('visit_no', language)}{colon}{visit.need} #{visit.occurrence}")
        event.add("description", "\n".join(lines))
        event.add("sequence", 0)
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def _name_of(schedule: Schedule, volunteer: str) -> str:
    person = schedule.problem.volunteer_by_id[volunteer]
    return person.name or person.id


def calendar_files(schedule: Schedule) -> dict[str, bytes]:
    """A calendar per volunteer, named after their id (`v01.ics`)."""
    return {
        f"{safe_file_name(volunteer.id)}.ics": calendar_bytes(schedule, volunteer.id)
        for volunteer in schedule.problem.volunteers
    }


def _environment() -> Environment:
    """The page templates, every value escaped for HTML."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    folder = str(resources.files("matcher.desk") / "templates")
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(("html",), default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html_files(schedule: Schedule) -> dict[str, bytes]:
    """Print-ready pages: `index.html` for the coordinator (figures, days, unplanned visits,
    links to every volunteer), and one per volunteer (`v01.html`). Every value is escaped by
    the template engine."""
    environment = _environment()
    language = schedule.language
    week = text("week_of", language, date=schedule.problem.week_start.isoformat())
    common = {
        "language": language,
        "t": lambda code, **details: text(code, language, **details),
        "day_name": lambda day: day_name(day, language),
        "week": week,
        "community": schedule.problem.name,
        "partners": lambda visit: partner_text(visit, language),
    }
    files: dict[str, bytes] = {}
    volunteers = []
    for volunteer in schedule.problem.volunteers:
        visits = schedule.of_volunteer(volunteer.id)
        page = f"{safe_file_name(volunteer.id)}.html"
        volunteers.append(
            {
                "page": page,
                "name": visits[0].volunteer_name if visits else (volunteer.name or volunteer.id),
                "visits": len(visits),
            }
        )
        by_day = [(day, [visit for visit in visits if visit.day == day]) for day in schedule.days()]
        files[page] = (
            environment.get_template("volunteer.html")
            .render(
                **common,
                title=text("schedule_of", language, name=volunteer.name or volunteer.id),
                by_day=[(day, items) for day, items in by_day if items],
                date_of=schedule.problem.date_of,
            )
            .encode("utf-8")
        )
    files["index.html"] = (
        environment.get_template("coordinator.html")
        .render(
            **common,
            title=text("coordinator", language),
            figures=schedule.figures(),
            days=[(day, schedule.of_day(day)) for day in schedule.days()],
            date_of=schedule.problem.date_of,
            unplanned=schedule.unplanned,
            volunteers=volunteers,
        )
        .encode("utf-8")
    )
    return files


EXPORT_KINDS = ("xlsx", "ics", "html", "pictures")
"""What `export_files` can make: the workbook, calendars, pages and pictures."""


def export_files(
    problem: Problem,
    plan: Plan,
    kinds: Iterable[str] = EXPORT_KINDS,
    language: Language | None = None,
) -> dict[str, dict[str, bytes]]:
    """The files of each kind asked for, by kind then file name, in the language (default: the
    problem's): `{"xlsx": {"schedule.xlsx": ...}, "ics": {"v01.ics": ...}, ...}`. The plan is
    taken as it is: check it first (`matcher.check_plan`), as `matcher export` does."""
    from matcher.desk.pictures import picture_files

    schedule = build_schedule(problem, plan, language)
    makers: dict[str, Callable[[Schedule], dict[str, bytes]]] = {
        "xlsx": lambda made: {"schedule.xlsx": workbook_bytes(made)},
        "ics": calendar_files,
        "html": html_files,
        "pictures": picture_files,
    }
    chosen = list(kinds)
    unknown = [kind for kind in chosen if kind not in makers]
    if unknown:
        raise ValueError(
            f"unknown export kind(s) {', '.join(unknown)}; the kinds are {', '.join(EXPORT_KINDS)}"
        )
    return {kind: makers[kind](schedule) for kind in chosen}


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """The files as one .zip archive (for a single download), the same bytes for the same
    files: names sorted, a fixed timestamp."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, files[name])
    return buffer.getvalue()
