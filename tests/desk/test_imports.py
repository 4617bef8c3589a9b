"""The command line stays quick to start: the desk's heavy libraries load only when a desk
command runs."""

from __future__ import annotations

import subprocess
import sys

DESK_LIBRARIES = {"openpyxl", "matplotlib", "jinja2", "icalendar"}


def test_the_command_line_loads_no_desk_library_until_asked() -> None:
    statement = "import matcher.cli, sys; print(' '.join(sorted(sys.modules)))"
    finished = subprocess.run(
        [sys.executable, "-c", statement], capture_output=True, text=True, check=True
    )
    loaded = {name.split(".")[0] for name in finished.stdout.split()}
    assert "matcher" in loaded
    assert loaded.isdisjoint(DESK_LIBRARIES), sorted(loaded & DESK_LIBRARIES)
