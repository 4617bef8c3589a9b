"""Pictures of a plan (matplotlib, Agg backend), each as PNG and SVG: every day's routes over the
community map, each volunteer's week as a timeline, coverage by priority band, and the load per
volunteer against the minutes they offered.

Chinese labels need a CJK font: the first installed one of `CJK_FONTS` is used; without one the
pictures keep the English labels and `cjk_font()` says so (`matcher export` prints a notice).
"""

from __future__ import annotations

import io
import math
from typing import Any

from matcher.desk.schedule import Schedule
from matcher.desk.text import text
from matcher.messages import day_name
from matcher.models.common import WEEKDAYS, Language, Location, Weekday

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "AR PL UMing CN",
)
"""CJK fonts tried, in order, for Chinese labels."""

MINUTES_PER_HOUR = 60


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def cjk_font() -> str | None:
    """The name of an installed font that draws Chinese, or None when there is none."""
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def picture_language(language: Language) -> Language:
    """The language the pictures are drawn in: Chinese only when a CJK font is installed."""
    return language if language != "zh" or cjk_font() is not None else "en"


def _point(location: Location) -> tuple[float, float] | None:
    """Map coordinates (x east, y north) of a location, None for a named place only."""
    if location.lat is not None and location.lon is not None:
        return location.lon, location.lat
    if location.x_m is not None and location.y_m is not None:
        return location.x_m, location.y_m
    return None


def _save(
    figure: Any, stem: str, files: dict[str, bytes], suffixes: tuple[str, ...] = ("png", "svg")
) -> None:
    for suffix in suffixes:
        buffer = io.BytesIO()
        metadata = {"Date": None} if suffix == "svg" else {}  # the same bytes every run
        figure.savefig(buffer, format=suffix, dpi=110, bbox_inches="tight", metadata=metadata)
        files[f"{stem}.{suffix}"] = buffer.getvalue()
    _pyplot().close(figure)


def _colours(count: int) -> list[Any]:
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    return [palette(index % 20) for index in range(count)]


def _route_maps(
    schedule: Schedule,
    language: Language,
    files: dict[str, bytes],
    days: tuple[Weekday, ...] = WEEKDAYS,
    suffixes: tuple[str, ...] = ("png", "svg"),
) -> None:
    plt = _pyplot()
    problem = schedule.problem
    homes = [
        point
        for point in (_point(recipient.location) for recipient in problem.recipients)
        if point is not None
    ]
    buildings: dict[str, list[tuple[float, float]]] = {}
    for recipient in problem.recipients:
        point = _point(recipient.location)
        if recipient.building and point is not None:
            buildings.setdefault(recipient.building, []).append(point)
    recipient_point = {r.id: _point(r.location) for r in problem.recipients}
    volunteer_ids = [volunteer.id for volunteer in problem.volunteers]
    colour_of = dict(zip(volunteer_ids, _colours(len(volunteer_ids)), strict=True))
    routes_by_day: dict[str, list[Any]] = {}
    for route in schedule.plan.routes:
        routes_by_day.setdefault(route.day, []).append(route)
    for day in days:
        routes = routes_by_day.get(day, [])
        if not routes:
            continue
        figure, axes = plt.subplots(figsize=(8, 7))
        if homes:
            axes.scatter(
                *zip(*homes, strict=True),
                s=10,
                c="#bbbbbb",
                label=text("homes", language),
                zorder=1,
            )
        for name, points in sorted(buildings.items()):
            x = sum(point[0] for point in points) / len(points)
            y = sum(point[1] for point in points) / len(points)
            axes.scatter(
                [x], [y], marker="s", s=160, facecolors="none", edgecolors="#555555", zorder=2
            )
            axes.annotate(
                name, (x, y), fontsize=8, color="#333333", xytext=(6, 6), textcoords="offset points"
            )
        for route in routes:
            volunteer = problem.volunteer_by_id[route.volunteer]
            start = _point(volunteer.route_start)
            home = _point(volunteer.home)
            path: list[tuple[float, float]] = []
            order = 0
            for stop in route.stops:
                if stop.kind == "start" and start is not None:
                    path.append(start)
                elif stop.kind == "home" and home is not None:
                    path.append(home)
                elif stop.kind == "visit" and stop.recipient is not None:
                    point = recipient_point.get(stop.recipient)
                    if point is None:
                        continue
                    path.append(point)
                    order += 1
                    axes.annotate(
                        str(order),
                        point,
                        fontsize=7,
                        color=colour_of[route.volunteer],
                        xytext=(3, -9),
                        textcoords="offset points",
                    )
            if len(path) >= 2:
                axes.plot(
                    *zip(*path, strict=True),
                    "-o",
                    color=colour_of[route.volunteer],
                    linewidth=1.5,
                    markersize=4,
                    label=volunteer.name or volunteer.id,
                    zorder=3,
                )
        axes.set_title(text("routes_of", language, day=day_name(day, language)))
        axes.set_aspect(
            "equal"
            if not problem.recipients or problem.recipients[0].location.lat is None
            else 1 / max(math.cos(math.radians(problem.recipients[0].location.lat or 0.0)), 0.1)
        )
        axes.tick_params(labelsize=7)
        axes.ticklabel_format(useOffset=False)
        if len(routes) <= 20:
            axes.legend(fontsize=7, loc="best")
        _save(figure, f"routes-{day}", files, suffixes)


def _timeline(schedule: Schedule, language: Language, files: dict[str, bytes]) -> None:
    plt = _pyplot()
    volunteers = [v for v in schedule.problem.volunteers if schedule.of_volunteer(v.id)]
    if not volunteers:
        return
    day_length = schedule.problem.day_length_min
    figure, axes = plt.subplots(figsize=(11, max(2.5, 0.35 * len(volunteers) + 1.2)))
    colours = _colours(len(WEEKDAYS))
    for row, volunteer in enumerate(volunteers):
        for window in volunteer.availability:
            axes.broken_barh(
                [(window.day_index * day_length + window.start, window.end - window.start)],
                (row - 0.4, 0.8),
                facecolors="#eeeeee",
            )
        for visit in schedule.of_volunteer(volunteer.id):
            offset = WEEKDAYS.index(visit.day) * day_length
            axes.broken_barh(
                [(offset + visit.start_min, visit.end_min - visit.start_min)],
                (row - 0.3, 0.6),
                facecolors=[colours[WEEKDAYS.index(visit.day)]],
            )
    axes.set_yticks(range(len(volunteers)))
    axes.set_yticklabels([v.name or v.id for v in volunteers], fontsize=7)
    axes.invert_yaxis()
    axes.set_xticks([index * day_length + day_length / 2 for index in range(7)])
    axes.set_xticklabels([day_name(day, language) for day in WEEKDAYS], fontsize=8)
    for index in range(1, 7):
        axes.axvline(index * day_length, color="#999999", linewidth=0.6)
    axes.set_xlim(0, 7 * day_length)
    axes.set_title(text("week_timeline", language))
    _save(figure, "week-timeline", files)


def priority_bands(schedule: Schedule) -> list[tuple[str, int, int]]:
    """Visits planned and not planned per priority band (whole numbers: 1, 2, ... and 6+)."""
    problem = schedule.problem
    counts: dict[int, list[int]] = {}
    for visit in schedule.plan.visits:
        band = min(int(problem.priority_of(problem.need_by_id[visit.need])), 6)
        counts.setdefault(band, [0, 0])[0] += 1
    for item in schedule.plan.unassigned:
        need = problem.need_by_id.get(item.need)
        if need is None:
            continue
        band = min(int(problem.priority_of(need)), 6)
        counts.setdefault(band, [0, 0])[1] += 1
    return [
        (f"{band}+" if band == 6 else f"{band}", planned, left)
        for band, (planned, left) in sorted(counts.items())
    ]


def _coverage(schedule: Schedule, language: Language, files: dict[str, bytes]) -> None:
    plt = _pyplot()
    bands = priority_bands(schedule)
    figure, axes = plt.subplots(figsize=(7, 4))
    labels = [band for band, _, _ in bands]
    planned = [count for _, count, _ in bands]
    left = [count for _, _, count in bands]
    axes.bar(labels, planned, color="#2e7d32", label=text("planned", language))
    axes.bar(labels, left, bottom=planned, color="#c62828", label=text("not_planned", language))
    axes.set_xlabel(text("priority_band", language))
    axes.set_ylabel(text("visits", language))
    axes.set_title(text("coverage_by_band", language))
    axes.legend()
    _save(figure, "coverage-by-priority", files)


def _load(schedule: Schedule, language: Language, files: dict[str, bytes]) -> None:
    plt = _pyplot()
    loads = list(schedule.loads)
    if not loads:
        return
    figure, axes = plt.subplots(figsize=(max(6, 0.3 * len(loads) + 2), 4.5))
    positions = range(len(loads))
    axes.bar(
        positions,
        [load.offered_min for load in loads],
        color="#dddddd",
        label=text("offered", language),
    )
    axes.bar(
        positions,
        [load.total_min for load in loads],
        width=0.5,
        color="#1565c0",
        label=text("given", language),
    )
    axes.set_xticks(list(positions))
    axes.set_xticklabels(
        [schedule.problem.volunteer_by_id[load.volunteer].name or load.volunteer for load in loads],
        rotation=90,
        fontsize=7,
    )
    axes.set_ylabel(text("minutes", language))
    axes.set_title(text("load_vs_offer", language))
    axes.legend()
    _save(figure, "load-vs-offer", files)


def _drawing_context(language: Language) -> Any:
    """matplotlib's settings for the pictures: a CJK font for Chinese, SVGs the same bytes."""
    font = cjk_font() if language == "zh" else None
    context = (
        {"font.family": ["sans-serif"], "font.sans-serif": [font, "DejaVu Sans"]} if font else {}
    )
    return _pyplot().rc_context({"svg.hashsalt": "matcher", "svg.fonttype": "none", **context})


def route_picture(schedule: Schedule, day: Weekday, suffix: str = "png") -> bytes | None:
    """One day's routes as PNG (or SVG) bytes, the same picture `picture_files` draws as
    `routes-<day>`; None when nobody goes out that day. For a page that shows one day at a
    time: drawing every picture of a big week takes many seconds."""
    language = picture_language(schedule.language)
    files: dict[str, bytes] = {}
    with _drawing_context(language):
        _route_maps(schedule, language, files, (day,), (suffix,))
    return files.get(f"routes-{day}.{suffix}")


def picture_files(schedule: Schedule) -> dict[str, bytes]:
    """Every picture of the plan as PNG and SVG bytes by file name: `routes-mon.png` for each
    day with routes, `week-timeline`, `coverage-by-priority` and `load-vs-offer`."""
    language = picture_language(schedule.language)
    files: dict[str, bytes] = {}
    with _drawing_context(language):
        _route_maps(schedule, language, files)
        _timeline(schedule, language, files)
        _coverage(schedule, language, files)
        _load(schedule, language, files)
    return files
