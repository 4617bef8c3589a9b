"""`matcher template`: a roster workbook to fill in, in English or Chinese.

Each sheet of `matcher.desk.columns.SHEETS` gets its headers (row 1), an explanation row (row 2,
skipped on import), one worked example (rows 3 on, real data a coordinator replaces), drop-downs
for weekdays, yes/no, travel modes, kinds and services (openpyxl data validation), and frozen
header rows.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from matcher.desk.columns import SERVICES, SHEETS, Column, Sheet, choice_label
from matcher.desk.files import write_bytes_atomic
from matcher.models import Problem
from matcher.models.common import Language, format_clock

DROP_DOWN_ROWS = 500
"""How many rows below the header carry the drop-downs."""


def _drop_down(column: Column, sheet: Sheet, language: Language) -> str | None:
    """The data-validation formula of a column's drop-down, if it has one."""
    if column.drop_down == "service":
        name = SERVICES.name(language)
        return f"'{name}'!$A$3:$A${DROP_DOWN_ROWS + 2}"
    if column.choices:
        return '"' + ",".join(choice_label(choice, language) for choice in column.choices) + '"'
    return None


def _cell_value(column: Column, value: Any, language: Language) -> Any:
    """How a value of the model is written in a cell of this column (None: left empty)."""
    if value is None or value == [] or value == "":
        return None
    if column.kind == "bool":
        return choice_label("yes" if value else "no", language)
    if column.kind == "list" and not isinstance(value, str):
        return ", ".join(str(item) for item in value)
    if column.kind == "time":
        return format_clock(value) if isinstance(value, int) else value
    if column.kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if column.kind in ("choice", "day") and isinstance(value, str):
        return choice_label(value, language)
    return value


def template_bytes(language: Language = "en", problem: Problem | None = None) -> bytes:
    """The roster template as .xlsx bytes (for a file, or a download from a web page): with
    the worked example, or filled in with a problem (`matcher.desk.fill.problem_rows`)."""
    from matcher.desk.fill import problem_rows

    rows = problem_rows(problem)[0] if problem is not None else None
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    grey = Font(italic=True, color="666666")
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for sheet in SHEETS:
        worksheet = workbook.create_sheet(sheet.name(language))
        for index, column in enumerate(sheet.columns, start=1):
            cell = worksheet.cell(row=1, column=index, value=column.header(language))
            cell.font = bold
            cell.fill = header_fill
            note = worksheet.cell(row=2, column=index, value=column.help(language) or None)
            note.font = grey
            note.alignment = Alignment(wrap_text=True, vertical="top")
            width = max(len(column.header(language)) * (2 if language == "zh" else 1), 10) + 2
            worksheet.column_dimensions[get_column_letter(index)].width = min(width, 28)
            formula = _drop_down(column, sheet, language)
            if formula is not None:
                validation = DataValidation(type="list", formula1=formula, allow_blank=True)
                validation.error = "choose from the list" if language == "en" else "请从列表中选择"
                validation.showErrorMessage = True
                worksheet.add_data_validation(validation)
                letter = get_column_letter(index)
                validation.add(f"{letter}3:{letter}{DROP_DOWN_ROWS + 2}")
        if rows is None:
            filled = [
                dict(zip((c.key for c in sheet.columns), example, strict=False))
                for example in sheet.examples
            ]
            if sheet.key == "settings":
                filled = [{**row, "language": language} for row in filled]
        else:
            filled = rows.get(sheet.key, [])
        for offset, values in enumerate(filled):
            for index, column in enumerate(sheet.columns, start=1):
                shown = _cell_value(column, values.get(column.key), language)
                if shown is None:
                    continue
                cell = worksheet.cell(row=3 + offset, column=index, value=shown)
                if isinstance(shown, dt.date):
                    cell.number_format = "yyyy-mm-dd"
        worksheet.freeze_panes = "B3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_template(
    path: str | Path, language: Language = "en", problem: Problem | None = None
) -> None:
    """Write the roster template (filled in with the problem, if given) to a file, whole or
    not at all."""
    write_bytes_atomic(path, template_bytes(language, problem))
