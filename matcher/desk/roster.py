"""Reading a roster workbook (or a folder of CSV files) into a `Problem`.

Cells are read the way people type them: times as "9:30", "09:30", "9:30 AM" or an Excel time;
yes/no as yes, no, y, n, 是, 否; weekdays as mon, Monday or 周一; headers in English or Chinese
(`matcher.desk.columns`). Every problem is collected, each named by its sheet, row and column
("Volunteers!C14: travel mode 'bicycle' is not one of walk, bike, ebike, car, transit"), and
raised together as one `RosterError`; nothing is returned or written then.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from matcher.desk.columns import (
    AVAILABILITY,
    BUILDINGS,
    CHOICE_LABELS_ZH,
    NEEDS,
    RECIPIENTS,
    SERVICES,
    SETTINGS,
    SHEETS,
    VOLUNTEERS,
    Column,
    Sheet,
)
from matcher.io import InputError
from matcher.models import Problem
from matcher.models.common import WEEKDAY_ALIASES, WEEKDAYS, Language
from matcher.models.limits import DEFAULT_LIMITS, InputLimits

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
"""Files `load_roster` reads as workbooks; a folder is read as CSV files."""


class RosterError(InputError):
    """A roster that cannot be imported, with every problem and its cell in the message."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        listed = "".join(f"\n  - {problem}" for problem in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the roster:{listed}")


def _normal(text: str) -> str:
    """A header or sheet name compared loosely: case, spaces, brackets and '*' ignored."""
    return re.sub(r"[\s_*()（）:：]+", "", str(text)).lower()


def _column_letter(index: int) -> str:
    """Spreadsheet column letters of a 0-based index (0: A, 26: AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


@dataclass
class Table:
    """One sheet's rows as read: the name it had, header cells and data rows with numbers."""

    name: str
    header: list[Any]
    rows: list[tuple[int, list[Any]]]


@dataclass
class Row:
    """A data row whose cells were read: values by column key, and each key's cell name."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)
    where: str = ""


# Reading cells ------------------------------------------------------------------------------

_TIME = re.compile(
    r"^\s*(上午|下午|晚上|中午)?\s*([0-9]{1,2})(?:[:：.]([0-9]{2}))?\s*([AaPp]\.?[Mm]\.?)?\s*$"
)
_DAY_NAMES: dict[str, str] = {
    **{day: day for day in WEEKDAYS},
    **WEEKDAY_ALIASES,
    **{label: day for day, label in CHOICE_LABELS_ZH.items() if day in WEEKDAYS},
    **{f"星期{char}": day for char, day in zip("一二三四五六日", WEEKDAYS, strict=True)},
    "星期天": "sun",
    "周天": "sun",
}
_TRUE = {"yes", "y", "true", "1", "是", "x", "✓"}
_FALSE = {"no", "n", "false", "0", "否", ""}
_LIST_SPLIT = re.compile(r"[,，、;；]")


def parse_time(value: Any) -> int:
    """Minutes after midnight of a time as typed: "9:30", "09:30", "9:30 AM", "2 pm",
    "下午2:00", an Excel time or datetime; ValueError with what is wrong otherwise."""
    if isinstance(value, dt.datetime):
        return value.hour * 60 + value.minute
    if isinstance(value, dt.time):
        return value.hour * 60 + value.minute
    if isinstance(value, float) and 0 <= value < 1:  # an Excel time stored as a day fraction
        return round(value * 24 * 60)
    text = str(value).strip()
    match = _TIME.match(text)
    if not match or (match.group(3) is None and match.group(4) is None and not match.group(1)):
        raise ValueError(f"'{text}' is not a time; write it like 9:30, 09:30 or 9:30 AM")
    period_zh, hours_text, minutes_text, period = match.groups()
    hours, minutes = int(hours_text), int(minutes_text or 0)
    if minutes >= 60:
        raise ValueError(f"'{text}' is not a time: minutes go from 00 to 59")
    afternoon = (period or "").lower().startswith("p") or period_zh in ("下午", "晚上")
    if period or period_zh:
        if not 1 <= hours <= 12 and not (period_zh and hours == 0):
            raise ValueError(f"'{text}' is not a time: with AM or PM the hour goes from 1 to 12")
        hours = hours % 12 + (12 if afternoon else 0)
        if period_zh == "中午" and hours < 11:
            hours += 12
    elif hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"'{text}' is not a time: hours go from 0 to 24")
    return hours * 60 + minutes


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    return str(value).strip()


def _choices_text(column: Column) -> str:
    return ", ".join(column.choices)


def read_cell(column: Column, value: Any) -> Any:
    """The value of one filled cell for this column; ValueError naming what is wrong."""
    label = column.en
    if column.kind == "text":
        return _text(value)
    if column.kind == "int":
        if isinstance(value, bool):
            raise ValueError(f"{label} {value!r} is not a whole number")
        if isinstance(value, (int, float)) and float(value).is_integer():
            return int(value)
        text = _text(value)
        if re.fullmatch(r"[+-]?[0-9]+", text):
            return int(text)
        raise ValueError(f"{label} '{text}' is not a whole number")
    if column.kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        try:
            return float(_text(value).replace("，", "."))
        except ValueError:
            raise ValueError(f"{label} '{_text(value)}' is not a number") from None
    if column.kind == "bool":
        if isinstance(value, bool):
            return value
        text = _text(value).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{label} '{_text(value)}' is not yes or no")
    if column.kind == "list":
        return [item.strip() for item in _LIST_SPLIT.split(_text(value)) if item.strip()]
    if column.kind == "time":
        try:
            return parse_time(value)
        except ValueError as error:
            raise ValueError(f"{label}: {error}") from None
    if column.kind == "day":
        text = _text(value)
        day = _DAY_NAMES.get(text.lower()) or _DAY_NAMES.get(text)
        if day is None:
            raise ValueError(
                f"{label} '{text}' is not a weekday; write one of {', '.join(WEEKDAYS)}"
            )
        return day
    if column.kind == "choice":
        text = _text(value)
        labels = {CHOICE_LABELS_ZH.get(choice, choice): choice for choice in column.choices}
        chosen = text.lower() if text.lower() in column.choices else labels.get(text)
        if chosen is None:
            raise ValueError(f"{label} '{text}' is not one of {_choices_text(column)}")
        return chosen
    if column.kind == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.datetime.fromisoformat(_text(value).replace("/", "-")).date()
        except ValueError:
            raise ValueError(f"{label} '{_text(value)}' is not a date like 2026-11-30") from None
    raise AssertionError(column.kind)  # pragma: no cover - every kind is handled above


# Reading files ------------------------------------------------------------------------------


def _tables_from_workbook(path: Path | IO[bytes], name: str | None = None) -> list[Table]:
    from openpyxl import load_workbook

    shown = name if name is not None else str(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise InputError(f"{shown}: not a readable .xlsx workbook ({error})") from None
    tables = []
    limit = DEFAULT_LIMITS.max_list_items
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = list(next(rows, ()))
            body: list[tuple[int, list[Any]]] = []
            for number, row in enumerate(rows, start=2):
                if number > limit:
                    raise InputError(f"{shown}: sheet {sheet.title} has more than {limit:,} rows")
                body.append((number, list(row)))
            tables.append(Table(sheet.title, header, body))
    finally:
        workbook.close()
    return tables


def _tables_from_folder(path: Path) -> list[Table]:
    tables = []
    for file in sorted(path.glob("*.csv")):
        try:
            with file.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise InputError(f"{file}: not a readable UTF-8 CSV file ({error})") from None
        header: list[Any] = list(rows[0]) if rows else []
        body = [(number, list(row)) for number, row in enumerate(rows[1:], start=2)]
        tables.append(Table(file.stem, header, body))
    if not tables:
        raise InputError(f"{path}: no .csv files in this folder")
    return tables


def read_tables(path: str | Path) -> list[Table]:
    """The sheets of a workbook, or the CSV files of a folder (one file per sheet, named after
    it: services.csv or 服务项目.csv), each as a `Table`."""
    source = Path(path)
    if source.is_dir():
        return _tables_from_folder(source)
    if not source.is_file():
        raise InputError(f"{source}: no such file or folder")
    return _tables_from_workbook(source)


# From tables to rows ------------------------------------------------------------------------


def _sheet_of(table: Table) -> Sheet | None:
    name = _normal(table.name)
    for sheet in SHEETS:
        if name in {_normal(sheet.key), _normal(sheet.en), _normal(sheet.zh)}:
            return sheet
    return None


def _header_keys(sheet: Sheet, table: Table, problems: list[str]) -> dict[int, Column]:
    """Which column each header cell names (English or Chinese), unknown headers reported."""
    by_name: dict[str, Column] = {}
    for column in sheet.columns:
        for name in (column.key, column.en, column.zh):
            by_name[_normal(name)] = column
    found: dict[int, Column] = {}
    for index, cell in enumerate(table.header):
        if cell is None or not str(cell).strip():
            continue
        named = by_name.get(_normal(str(cell)))
        where = f"{table.name}!{_column_letter(index)}1"
        if named is None:
            known = ", ".join(column.en for column in sheet.columns)
            problems.append(f"{where}: unknown column '{cell}'; the columns are: {known}")
        elif named in found.values():
            problems.append(f"{where}: column '{cell}' appears twice")
        else:
            found[index] = named
    for column in sheet.columns:
        if column.required and column not in found.values():
            problems.append(f"{table.name}!1: the column '{column.en}' ({column.zh}) is missing")
    return found


def _is_explanation(sheet: Sheet, columns: dict[int, Column], cells: list[Any]) -> bool:
    """Whether a row is the template's explanation row (skipped on import)."""
    for index, column in columns.items():
        value = cells[index] if index < len(cells) else None
        if value is not None and str(value).strip():
            return str(value).strip() in {column.help_en, column.help_zh} and bool(column.help_en)
    return False


def read_rows(sheet: Sheet, table: Table, problems: list[str]) -> list[Row]:
    """The filled rows of a table, each cell read for its column; problems added per cell."""
    columns = _header_keys(sheet, table, problems)
    rows: list[Row] = []
    for number, cells in table.rows:
        if all(cell is None or not str(cell).strip() for cell in cells):
            continue
        if _is_explanation(sheet, columns, cells):
            continue
        row = Row(number, where=f"{table.name}!{number}")
        for index, column in columns.items():
            where = f"{table.name}!{_column_letter(index)}{number}"
            row.cells[column.key] = where
            value = cells[index] if index < len(cells) else None
            if value is None or (isinstance(value, str) and not value.strip()):
                if column.required:
                    problems.append(f"{where}: {column.en} is empty; it must be filled")
                continue
            try:
                row.values[column.key] = read_cell(column, value)
            except ValueError as error:
                problems.append(f"{where}: {error}")
        rows.append(row)
    return rows


# From rows to a problem ---------------------------------------------------------------------

Path_ = tuple[str | int, ...]


@dataclass
class _Builder:
    """The problem's JSON-like data being built, and which cell each of its paths came from."""

    problems: list[str] = field(default_factory=list)
    origin: dict[Path_, str] = field(default_factory=dict)

    def note(self, path: Path_, row: Row, keys: dict[str, str]) -> None:
        """Remember the row (and each field's cell) a path of the problem came from."""
        self.origin[path] = row.where
        for key, model_field in keys.items():
            if key in row.cells:
                self.origin[(*path, model_field)] = row.cells[key]

    def where(self, path: Iterable[str | int]) -> str | None:
        """The cell (else the row) a path of the problem came from, if any."""
        parts = tuple(path)
        while parts:
            if parts in self.origin:
                return self.origin[parts]
            parts = parts[:-1]
        return None


def _copy(row: Row, keys: Iterable[str]) -> dict[str, Any]:
    return {key: row.values[key] for key in keys if key in row.values}


def _unique(rows: list[Row], sheet: str, problems: list[str]) -> dict[str, Row]:
    seen: dict[str, Row] = {}
    for row in rows:
        identifier = row.values.get("id")
        if identifier is None:
            continue
        if identifier in seen:
            problems.append(
                f"{row.cells['id']}: {sheet} id '{identifier}' is used twice "
                f"(first at {seen[identifier].cells['id']})"
            )
        else:
            seen[identifier] = row
    return seen


def _location(
    row: Row, prefix: str, buildings: dict[str, dict[str, Any]], problems: list[str], need: bool
) -> dict[str, Any] | None:
    """A location from a row's coordinates, else its building's point (None: nothing given)."""
    values = row.values
    lat, lon = values.get(f"{prefix}lat"), values.get(f"{prefix}lon")
    x_m, y_m = values.get(f"{prefix}x_m"), values.get(f"{prefix}y_m")
    building = values.get(f"{prefix}building")
    location: dict[str, Any] = {}
    if lat is not None or lon is not None:
        location = {"lat": lat, "lon": lon}
    elif x_m is not None or y_m is not None:
        location = {"x_m": x_m, "y_m": y_m}
    elif building is not None:
        point = buildings.get(building)
        if point is None:
            problems.append(
                f"{row.cells[f'{prefix}building']}: building '{building}' is not in the "
                "Buildings sheet"
            )
            return None
        location = dict(point)
    elif need:
        problems.append(
            f"{row.where}: no address; give a building (from the Buildings sheet) or coordinates"
        )
        return None
    else:
        return None
    unit = values.get("unit") if not prefix else None
    if building is not None and unit:
        location["place"] = f"{building} {unit}"
    return location


def _windows(
    builder: _Builder, rows: list[Row], kind: str, known: dict[str, Path_], field_name: str
) -> dict[str, list[dict[str, Any]]]:
    """Availability rows of one kind (volunteer, recipient, need) by id, their paths noted."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.values.get("for") != kind or "id" not in row.values:
            continue
        identifier = row.values["id"]
        if identifier not in known:
            builder.problems.append(
                f"{row.cells['id']}: no {kind} with id '{identifier}' "
                f"(for: {kind} names an id of the {kind.capitalize()}s sheet)"
            )
            continue
        if not {"day", "start", "end"} <= row.values.keys():
            continue
        windows = by_id.setdefault(identifier, [])
        builder.note(
            (*known[identifier], field_name, len(windows)),
            row,
            {"day": "day", "start": "start", "end": "end"},
        )
        windows.append(_copy(row, ("day", "start", "end")))
    return by_id


_SERVICE_KEYS = ("id", "name", "duration_min", "team_size", "required_skills", "requires_verified")
_RECIPIENT_KEYS = (
    "id", "name", "kind", "building", "age", "gender", "lives_alone", "disability_level",
    "low_income", "languages", "preferred_volunteers", "excluded_volunteers", "priority",
    "time_bank_credits",
)  # fmt: skip
_NEED_KEYS = (
    "id", "service", "visits_per_week", "duration_min", "min_gap_days", "same_volunteer",
    "preferred_gender", "language", "priority", "mandatory", "soft_window", "max_lateness_min",
    "load",
)  # fmt: skip
_VOLUNTEER_KEYS = (
    "id", "name", "kind", "travel_mode", "skills", "verified", "background_checked", "gender",
    "languages", "max_minutes_per_week", "max_visits_per_day", "speed_m_per_min",
    "max_trip_distance_m", "capacity", "max_outing_distance_m", "cost_per_hour",
)  # fmt: skip
_PIN_KEYS = ("need", "day", "start", "volunteers")
_HISTORY_KEYS = ("recipient", "volunteer", "need", "week_start", "visits")


def _build(rows_by_sheet: dict[str, list[Row]], builder: _Builder) -> dict[str, Any]:
    problems = builder.problems
    data: dict[str, Any] = {}
    settings = rows_by_sheet.get("settings", [])
    if settings:
        first = settings[0]
        builder.note((), first, {"name": "name", "week_start": "week_start"})
        data.update(_copy(first, ("name", "week_start")))
        if "language" in first.values:
            data["policy"] = {"language": first.values["language"]}
        for extra in settings[1:]:
            problems.append(f"{extra.where}: the Week sheet takes one row; this is a second")
    buildings: dict[str, dict[str, Any]] = {}
    for identifier, row in _unique(
        rows_by_sheet.get("buildings", []), "building", problems
    ).items():
        values = row.values
        if values.get("lat") is not None and values.get("lon") is not None:
            buildings[identifier] = {"lat": values["lat"], "lon": values["lon"]}
        elif values.get("x_m") is not None and values.get("y_m") is not None:
            buildings[identifier] = {"x_m": values["x_m"], "y_m": values["y_m"]}
        else:
            problems.append(
                f"{row.where}: building '{identifier}' needs latitude and longitude, or x and y"
            )

    services = []
    for index, row in enumerate(
        _unique(rows_by_sheet.get("services", []), "service", problems).values()
    ):
        builder.note(
            ("services", index), row, {key: key for key in (*_SERVICE_KEYS, "recipient_kinds")}
        )
        service = _copy(row, _SERVICE_KEYS)
        kinds = row.values.get("recipient_kinds")
        if kinds:
            labels = {"elder": "elder", "child": "child", "老人": "elder", "儿童": "child"}
            unknown = [kind for kind in kinds if kind.lower() not in labels and kind not in labels]
            if unknown:
                problems.append(
                    f"{row.cells['recipient_kinds']}: for '{', '.join(unknown)}' is not one of "
                    "elder, child"
                )
            service["recipient_kinds"] = [
                labels.get(kind.lower(), labels.get(kind, kind)) for kind in kinds
            ]
        services.append(service)
    data["services"] = services

    recipients: list[dict[str, Any]] = []
    recipient_paths: dict[str, Path_] = {}
    for index, (identifier, row) in enumerate(
        _unique(rows_by_sheet.get("recipients", []), "recipient", problems).items()
    ):
        path: Path_ = ("recipients", index)
        recipient_paths[identifier] = path
        builder.note(path, row, {key: key for key in _RECIPIENT_KEYS})
        recipient = _copy(row, _RECIPIENT_KEYS)
        location = _location(row, "", buildings, problems, need=True)
        if location is not None:
            recipient["location"] = location
            builder.note((*path, "location"), row, {})
        recipient["needs"] = []
        recipients.append(recipient)

    need_paths: dict[str, Path_] = {}
    for row in _unique(rows_by_sheet.get("needs", []), "need", problems).values():
        owner = row.values.get("recipient")
        if owner is None:
            continue
        if owner not in recipient_paths:
            problems.append(
                f"{row.cells['recipient']}: no recipient with id '{owner}' in the Recipients sheet"
            )
            continue
        owner_path = recipient_paths[owner]
        needs = recipients[int(owner_path[1])]["needs"]
        path = (*owner_path, "needs", len(needs))
        need_paths[row.values["id"]] = path
        builder.note(path, row, {key: key for key in _NEED_KEYS})
        needs.append(_copy(row, _NEED_KEYS))

    volunteers: list[dict[str, Any]] = []
    volunteer_paths: dict[str, Path_] = {}
    for index, (identifier, row) in enumerate(
        _unique(rows_by_sheet.get("volunteers", []), "volunteer", problems).items()
    ):
        path = ("volunteers", index)
        volunteer_paths[identifier] = path
        builder.note(path, row, {key: key for key in _VOLUNTEER_KEYS})
        volunteer = _copy(row, _VOLUNTEER_KEYS)
        home = _location(row, "", buildings, problems, need=True)
        if home is not None:
            volunteer["home"] = home
        start = _location(row, "start_", buildings, problems, need=False)
        if start is not None:
            volunteer["start_location"] = start
        volunteers.append(volunteer)
    data["recipients"] = recipients
    data["volunteers"] = volunteers

    availability = rows_by_sheet.get("availability", [])
    for identifier, windows in _windows(
        builder, availability, "volunteer", volunteer_paths, "availability"
    ).items():
        volunteers[int(volunteer_paths[identifier][1])]["availability"] = windows
    for identifier, windows in _windows(
        builder, availability, "recipient", recipient_paths, "home_windows"
    ).items():
        recipients[int(recipient_paths[identifier][1])]["home_windows"] = windows
    for identifier, windows in _windows(
        builder, availability, "need", need_paths, "windows"
    ).items():
        _, recipient_index, _, need_index = need_paths[identifier]
        recipients[int(recipient_index)]["needs"][int(need_index)]["windows"] = windows
    for name, keys in (("pinned", _PIN_KEYS), ("history", _HISTORY_KEYS)):
        entries: list[dict[str, Any]] = []
        for row in rows_by_sheet.get(name, []):
            builder.note((name, len(entries)), row, {key: key for key in keys})
            entries.append(_copy(row, keys))
        data[name] = entries
    return data


def _model_problems(error: ValidationError, builder: _Builder) -> list[str]:
    """The model's errors, each named by the cell it came from (else the problem's path)."""
    problems = []
    for item in error.errors(include_url=False):
        location = item["loc"]
        message = str(item["msg"]).removeprefix("Value error, ")
        where = builder.where(location)
        path = ".".join(str(part) for part in location)
        problems.append(f"{where}: {message} ({path})" if where else f"{path}: {message}")
    return problems


def roster_problem(
    tables: list[Table], source: str = "roster", limits: InputLimits | None = None
) -> Problem:
    """The problem the tables describe, within the input limits (the defaults unless given);
    RosterError with every problem and its cell."""
    problems: list[str] = []
    rows_by_sheet: dict[str, list[Row]] = {}
    for table in tables:
        sheet = _sheet_of(table)
        if sheet is None:
            continue
        if sheet.key in rows_by_sheet:
            problems.append(f"{table.name}: a second {sheet.en} sheet")
            continue
        rows_by_sheet[sheet.key] = read_rows(sheet, table, problems)
    for required in (SETTINGS, SERVICES, RECIPIENTS, NEEDS, VOLUNTEERS, AVAILABILITY):
        if required.key not in rows_by_sheet:
            problems.append(f"the sheet '{required.en}' ({required.zh}) is missing")
    if BUILDINGS.key not in rows_by_sheet:
        rows_by_sheet[BUILDINGS.key] = []
    if SETTINGS.key in rows_by_sheet and not rows_by_sheet[SETTINGS.key]:
        problems.append(f"{SETTINGS.en}: fill in one row with the week's first day")
    builder = _Builder(problems)
    data = _build(rows_by_sheet, builder)
    try:
        problem = Problem.model_validate(data, context={"limits": limits or DEFAULT_LIMITS})
    except ValidationError as error:
        # The model's own checks too (unknown services, windows that end before they start),
        # except on cells already reported (and, for a whole row's error, rows already
        # reported), whose half-read values would only repeat them.
        cells = {_cell_of(item) for item in problems}
        rows = {_row_of(item) for item in problems}
        for item in _model_problems(error, builder):
            cell = _cell_of(item)
            whole_row = cell is not None and not cell[1]
            if cell not in cells and not (whole_row and _row_of(item) in rows):
                problems.append(item)
    except ValueError as error:  # an input limit
        problems.append(str(error))
    else:
        if not problems:
            return problem
    raise RosterError(source, sorted(problems, key=_problem_order))


def _problem_order(problem: str) -> tuple[int, int, int, str]:
    """Problems in the workbook's order: sheet, row, column (those naming no cell first)."""
    cell = _cell_of(problem)
    if cell is None:
        return (-1, 0, 0, "")
    sheet_name, letters, row = cell
    order = next(
        (
            index
            for index, sheet in enumerate(SHEETS)
            if _normal(sheet_name) in {_normal(sheet.key), _normal(sheet.en), _normal(sheet.zh)}
        ),
        len(SHEETS),
    )
    column = 0
    for letter in letters:
        column = column * 26 + ord(letter) - ord("A") + 1
    return (order, int(row), column, "")


_CELL = re.compile(r"^([^!:]+)!([A-Z]*)([0-9]+)")


def _cell_of(problem: str) -> tuple[str, str, str] | None:
    """The sheet, column letters and row number a problem names (None when it names none)."""
    match = _CELL.match(problem)
    return (match.group(1), match.group(2), match.group(3)) if match else None


def _row_of(problem: str) -> tuple[str, str] | None:
    """The sheet and row number a problem names (None when it names no row)."""
    match = _CELL.match(problem)
    return (match.group(1), match.group(3)) if match else None


def load_roster(path: str | Path, limits: InputLimits | None = None) -> Problem:
    """Read a roster workbook (.xlsx) or a folder of CSV files into a problem (within the input
    limits, the defaults unless given).

    Raises RosterError (an InputError) listing every problem with its sheet, row and column.
    """
    return roster_problem(read_tables(path), str(path), limits)


def load_roster_bytes(data: bytes, source: str = "roster.xlsx") -> Problem:
    """A roster workbook's bytes (an upload) read into a problem; RosterError as
    `load_roster`, named after `source`."""
    return roster_problem(_tables_from_workbook(io.BytesIO(data), source), source)


def is_roster(path: str | Path) -> bool:
    """Whether `matcher solve` should read this path as a roster: a workbook or a folder."""
    source = Path(path)
    return source.suffix.lower() in WORKBOOK_SUFFIXES or source.is_dir()


def roster_language(path: str | Path) -> Language:
    """The language of a roster's headers: zh when its sheets carry Chinese names."""
    names = {table.name for table in read_tables(path)}
    return "zh" if any(sheet.zh in names for sheet in SHEETS) else "en"
