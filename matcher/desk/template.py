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

from matcher.desk.columns import SERVICES, SHEETS, Column, Sheet, choice_label
from matcher.desk.files import write_bytes_atomic
from matcher.models.common import Language

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


def template_bytes(language: Language = "en") -> bytes:
    """The roster template as .xlsx bytes (for a file, or a download from a web page)."""
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
        for offset, example in enumerate(sheet.examples):
            padded = (*example, *(None,) * (len(sheet.columns) - len(example)))
            for index, (column, value) in enumerate(zip(sheet.columns, padded, strict=True), 1):
                if value is None:
                    continue
                if sheet.key == "settings" and column.key == "language":
                    value = language
                shown: object = value
                if isinstance(value, str) and column.choices:
                    shown = choice_label(value, language)
                elif isinstance(value, str) and column.kind == "date":
                    shown = dt.date.fromisoformat(value)
                cell = worksheet.cell(row=3 + offset, column=index, value=shown)
                if isinstance(shown, dt.date):
                    cell.number_format = "yyyy-mm-dd"
        worksheet.freeze_panes = "B3"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_template(path: str | Path, language: Language = "en") -> None:
    """Write the roster template to a file, whole or not at all."""
    write_bytes_atomic(path, template_bytes(language))
