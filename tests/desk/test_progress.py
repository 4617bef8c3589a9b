"""The live progress line: what it says, that it draws on a terminal and stays silent off one
or with --quiet."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from matcher import cli
from matcher.desk.progress import ProgressLine, format_progress, progress_line
from matcher.io import load_plan
from tests.helpers import EXAMPLES


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
    compact = format_progress(_progress(), compact=True)
    assert compact == "3.2/30 s · 441/491 visits · weighted 93.8 · bound 480.5 · gap 1.2 %"
    unknown = format_progress(_progress(bound=None, gap=None, time_limit_s=None), elapsed_s=7.0)
    assert unknown == "7.0 s · search · 441 of 491 visits · weighted coverage 93.8"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_off_a_terminal_or_when_quiet() -> None:
    assert progress_line(stream=io.StringIO()) is None
    assert progress_line(quiet=True, stream=_Terminal()) is None
    assert isinstance(progress_line(stream=_Terminal()), ProgressLine)


def _drawn(console: Console, line: ProgressLine) -> str:
    """What the live display would draw now, on a plain console of the same width."""
    plain = Console(file=io.StringIO(), width=console.width, color_system=None)
    with plain.capture() as captured:
        plain.print(line._line)
    return captured.get()


def test_on_a_terminal_the_line_is_drawn_once_the_solve_passes_a_second() -> None:
    screen = _Terminal()
    console = Console(file=screen, force_terminal=True, color_system=None, width=160)
    line = ProgressLine(console, refresh_per_second=20)
    with line:
        assert _drawn(console, line).strip() == ""  # nothing heard yet
        line(_progress(elapsed_s=0.2))
        assert _drawn(console, line).strip() == ""  # a quick solve shows nothing
        line(_progress(elapsed_s=1.5))
        assert "of 30 s · search · 441 of 491 visits" in _drawn(console, line)
    assert line.updates == 2
    assert "441 of 491 visits" in screen.getvalue()


def test_a_narrow_terminal_gets_the_compact_line() -> None:
    console = Console(file=_Terminal(), force_terminal=True, color_system=None, width=70)
    line = ProgressLine(console)
    line(_progress(elapsed_s=2.0))
    drawn = _drawn(console, line).strip()
    assert drawn.startswith("2.0/30 s · 441/491 visits · weighted 93.8")
    assert len(drawn) <= 70


def test_matcher_solve_feeds_the_line_and_quiet_silences_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asked: list[bool] = []
    made: list[ProgressLine] = []

    def terminal_line(quiet: bool = False) -> ProgressLine | None:
        asked.append(quiet)
        if quiet:
            return None
        line = ProgressLine(Console(file=_Terminal(), force_terminal=True, width=120))
        made.append(line)
        return line

    monkeypatch.setattr(cli, "progress_line", terminal_line)
    problem = EXAMPLES / "small.json"
    assert cli.main(["solve", str(problem), "-o", str(tmp_path / "plan.json")]) == 0
    assert asked == [False] and made[0].updates >= 2
    assert made[0]._line.latest.phase == "done"
    assert made[0]._line.latest.visits_planned == len(load_plan(tmp_path / "plan.json").visits)
    assert cli.main(["solve", str(problem), "-o", str(tmp_path / "quiet.json"), "--quiet"]) == 0
    assert asked == [False, True]
    assert "progress" not in capsys.readouterr().err
