"""The coordinator's desk: a roster workbook in (`matcher template`, `matcher import`), and
schedules people can carry out (`matcher export`: workbook, calendars, printable pages,
pictures), in English and Chinese.

Every export is a function of a problem and a plan that returns the files as bytes by name, so
a command, a test or a web page can call it; `write_folder` writes them whole or not at all.
"""

from matcher.desk.roster import (
    RosterError,
    is_roster,
    load_roster,
    load_roster_bytes,
    parse_time,
)
from matcher.desk.template import template_bytes, write_template

__all__ = [
    "RosterError",
    "is_roster",
    "load_roster",
    "load_roster_bytes",
    "parse_time",
    "template_bytes",
    "write_template",
]
