"""A live progress line for `matcher solve` on a terminal (rich).

`matcher.solve(..., progress=callback)` calls the callback with a `matcher.Progress` on every
improvement and phase change; `ProgressLine` keeps the latest and redraws one line a few times a
second: elapsed of the limit, visits planned, weighted coverage, bound and gap. It shows nothing
for the first second (a quick solve prints only its summary), and nothing at all off a terminal
or with `--quiet` (`progress_line` returns None then).
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO, Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.text import Text

SHOW_AFTER_S = 1.0
"""A solve shorter than this (by its own clock) shows no progress line."""


def format_progress(progress: Any, elapsed_s: float | None = None, compact: bool = False) -> str:
    """One line of a `matcher.Progress`: "3.2 s of 30 s · search · 441 of 491 visits ·
    weighted coverage 1158.0 · bound 1210.5 · gap 4.3 %" (bound and gap only when known);
    `compact` for a narrow terminal: "3.2/30 s · 441/491 visits · weighted 1158.0 · ..."."""
    elapsed = progress.elapsed_s if elapsed_s is None else elapsed_s
    limit = progress.time_limit_s
    planned, wanted = progress.visits_planned, progress.visits_wanted
    coverage = float(progress.weighted_coverage)
    if compact:
        parts = [
            f"{elapsed:.1f}" + (f"/{limit:g} s" if limit is not None else " s"),
            f"{planned}/{wanted} visits",
            f"weighted {coverage:.1f}",
        ]
    else:
        parts = [f"{elapsed:.1f} s" + (f" of {limit:g} s" if limit is not None else "")]
        if progress.phase:
            parts.append(str(progress.phase))
        parts += [f"{planned} of {wanted} visits", f"weighted coverage {coverage:.1f}"]
    if progress.bound is not None:
        parts.append(f"bound {progress.bound:.1f}")
    if progress.gap is not None:
        parts.append(f"gap {100 * progress.gap:.1f} %")
    return " · ".join(parts)


class _Line:
    """What the live display draws: the latest progress, its elapsed time running on, in the
    long form when the terminal is wide enough."""

    def __init__(self) -> None:
        self.latest: Any = None
        self.heard_s = time.monotonic()

    def elapsed_s(self) -> float:
        """The solve's elapsed time now: the latest report's, plus the time since it came."""
        return float(self.latest.elapsed_s) + time.monotonic() - self.heard_s

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.latest is None or self.elapsed_s() < SHOW_AFTER_S:
            yield Text("")
            return
        elapsed = self.elapsed_s()
        line = format_progress(self.latest, elapsed)
        if len(line) > options.max_width:
            line = format_progress(self.latest, elapsed, compact=True)
        yield Text(line, style="cyan", no_wrap=True, overflow="ellipsis")


class ProgressLine:
    """A progress callback that draws one live line on a console; use it as a context manager
    around the solve (the line is removed when it ends)."""

    def __init__(self, console: Console, refresh_per_second: float = 4.0) -> None:
        self.console = console
        self.updates = 0
        self._line = _Line()
        self._live = Live(
            self._line,
            console=console,
            refresh_per_second=refresh_per_second,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def __call__(self, progress: Any) -> None:
        """Keep the latest progress (the display redraws on its own clock)."""
        self._line.latest = progress
        self._line.heard_s = time.monotonic()
        self.updates += 1

    def __enter__(self) -> ProgressLine:
        self._live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._live.stop()


def progress_line(quiet: bool = False, stream: IO[str] | None = None) -> ProgressLine | None:
    """A live progress line on the stream (standard error), or None with `quiet` or when the
    stream is not a terminal."""
    target = sys.stderr if stream is None else stream
    if quiet or not target.isatty():
        return None
    return ProgressLine(Console(file=target))
