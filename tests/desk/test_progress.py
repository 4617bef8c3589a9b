"""The live progress line: what it says, that it draws on a terminal and stays silent off one
or with --quiet."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from rich.console import Console

from matcher.desk import progress as progress_module
from matcher.desk.progress import ProgressLine, format_progress, progress_line


def _progress(**fields: object) -> SimpleNamespace:
    values: dict[str, object] = {
        "elapsed_s": 3.24,
        "time_limit_s": 30.0,
        "phase": "search",
        "visits_planned": 441,
        "visits_wanted": 491,
        "weighted_coverage": 93.8,
        "bound": 480.46,
        "gap": 0.0123,
    }
    values.update(fields)
    return SimpleNamespace(**values)


def test_the_line_says_elapsed_of_limit_visits_coverage_bound_and_gap() -> None:
    line = format_progress(_progress())
    assert line == (
        "3.2 s of 30 s · search · 441 of 491 visits · weighted coverage 93.8 · bound 480.5 · "
        "gap 1.2 %"
    )
    unknown = format_progress(_progress(bound=None, gap=None, time_limit_s=None), elapsed_s=7.0)
    assert unknown == "7.0 s · search · 441 of 491 visits · weighted coverage 93.8"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_off_a_terminal_or_when_quiet() -> None:
    assert progress_line(stream=io.StringIO()) is None
    assert progress_line(quiet=True, stream=_Terminal()) is None
    assert isinstance(progress_line(stream=_Terminal()), ProgressLine)


def test_on_a_terminal_the_line_is_drawn_after_the_first_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = _Terminal()
    console = Console(file=screen, force_terminal=True, width=160)
    line = ProgressLine(console, refresh_per_second=20)
    drawn = line._line
    with line:
        assert str(drawn.__rich__()) == ""  # nothing yet
        line(_progress(elapsed_s=0.2))
        assert str(drawn.__rich__()) == ""  # a quick solve shows nothing
        monkeypatch.setattr(progress_module, "SHOW_AFTER_S", 0.0)
        line(_progress(elapsed_s=1.5))
        shown = str(drawn.__rich__())
        assert "of 30 s · search · 441 of 491 visits" in shown
        console.print("")  # let the live display draw once more
    assert line.updates == 2
    assert "441 of 491 visits" in screen.getvalue()
