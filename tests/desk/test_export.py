"""The exported schedules, each read back with an independent reader (openpyxl, icalendar,
html.parser, matplotlib's image reader and an XML parser) and compared with the plan."""

from __future__ import annotations

import io
import warnings
import xml.etree.ElementTree as ElementTree
import zipfile
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.image
import pytest
from icalendar import Calendar
from openpyxl import load_workbook

from matcher.cli import main
from matcher.desk import pictures
from matcher.desk.export import (
    calendar_files,
    export_files,
    html_files,
    workbook_bytes,
    zip_bytes,
)
from matcher.desk.files import write_folder
from matcher.desk.schedule import build_schedule
from matcher.io import OutputError, to_json
from matcher.messages import day_name
from matcher.models import Plan, Problem
from matcher.models.common import format_clock

Week = tuple[Problem, Plan]


def _expected(problem: Problem, plan: Plan) -> dict[str, set[tuple[str, int, str, str]]]:
    """Per volunteer: (need, occurrence, date, start) of every visit they make."""
    by_volunteer: dict[str, set[tuple[str, int, str, str]]] = defaultdict(set)
    for visit in plan.visits:
        date = (visit.date or problem.date_of(visit.day)).isoformat()
        for volunteer in visit.volunteers:
            by_volunteer[volunteer].add(
                (visit.need, visit.occurrence, date, format_clock(visit.start))
            )
    return by_volunteer


def test_the_workbook_has_every_visit_per_volunteer_and_day_and_the_unplanned(
    small_week: Week,
) -> None:
    problem, plan = small_week
    assert plan.unassigned, "the small week should leave something out"
    schedule = build_schedule(problem, plan)
    workbook = load_workbook(io.BytesIO(workbook_bytes(schedule)))
    expected = _expected(problem, plan)
    for volunteer in problem.volunteers:
        if volunteer.id not in expected:
            assert (volunteer.name or volunteer.id) not in workbook.sheetnames
            continue
        sheet = workbook[volunteer.name or volunteer.id]
        headers = [cell.value for cell in sheet[1]]
        found = set()
        for row in sheet.iter_rows(min_row=2, values_only=True):
            values = dict(zip(headers, row, strict=True))
            need, occurrence = str(values["Visit"]).split(" #")
            found.add(
                (need, int(occurrence), values["Date"].date().isoformat(), values["Time"][:5])
            )
        assert found == expected[volunteer.id]
    day_rows = 0
    for visit_day in {visit.day for visit in plan.visits}:
        sheet = workbook[day_name(visit_day, "en")]
        day_rows += sheet.max_row - 1
    assert day_rows == sum(len(visit.volunteers) for visit in plan.visits)
    unplanned = workbook["Not planned"]
    headers = [cell.value for cell in unplanned[1]]
    rows = [
        dict(zip(headers, row, strict=True))
        for row in unplanned.iter_rows(min_row=2, values_only=True)
    ]
    assert {(row["Visit"], row["Reason"]) for row in rows} == {
        (f"{item.need} #{item.occurrence}", item.reason) for item in plan.unassigned
    }
    assert all(row["Why"] == item.message for row, item in zip(rows, plan.unassigned, strict=True))
    figures = dict(workbook["The week"].iter_rows(min_row=2, values_only=True))
    assert plan.metrics is not None
    assert figures["Visits planned"] == str(plan.metrics.visits_planned)
    assert figures["Not planned"] == str(len(plan.unassigned))


def test_team_visits_name_the_partner(team_week: Week) -> None:
    problem, plan = team_week
    teams = [visit for visit in plan.visits if len(visit.volunteers) > 1]
    assert teams, "the small week has a team service"
    schedule = build_schedule(problem, plan)
    first, second = teams[0].volunteers[:2]
    entry = next(
        item
        for item in schedule.of_volunteer(first)
        if item.need == teams[0].need and item.occurrence == teams[0].occurrence
    )
    partner = problem.volunteer_by_id[second]
    assert entry.partners == (f"{partner.name} ({partner.id})" if partner.name else partner.id,)


def _events(data: bytes) -> dict[str, tuple[str, str, str]]:
    calendar = Calendar.from_ical(data)
    return {
        str(event["UID"]): (
            event.decoded("DTSTART").isoformat(timespec="minutes"),
            str(event["LOCATION"]),
            str(event["SUMMARY"]),
        )
        for event in calendar.walk("VEVENT")
    }


def test_calendars_have_every_visit_at_its_time_and_place(small_week: Week) -> None:
    problem, plan = small_week
    files = calendar_files(build_schedule(problem, plan))
    assert set(files) == {f"{volunteer.id}.ics" for volunteer in problem.volunteers}
    expected = _expected(problem, plan)
    for volunteer in problem.volunteers:
        calendar = Calendar.from_ical(files[f"{volunteer.id}.ics"])
        found = set()
        for event in calendar.walk("VEVENT"):
            start = event.decoded("DTSTART")
            need, occurrence = str(event["DESCRIPTION"]).splitlines()[-1].split(": ")[1].split(" #")
            found.add((need, int(occurrence), start.date().isoformat(), start.strftime("%H:%M")))
            recipient = problem.recipient_of_need[need]
            assert recipient.name in str(event["SUMMARY"])
            assert str(event["LOCATION"])
        assert found == expected.get(volunteer.id, set())


def test_a_replan_keeps_the_uids_so_calendars_update(small_week: Week) -> None:
    problem, plan = small_week
    moved = plan.visits[0]
    later = moved.model_copy(update={"start": moved.start + 15, "end": moved.end + 15})
    replanned = plan.model_copy(update={"visits": [later, *plan.visits[1:]]})
    volunteer = moved.volunteers[0]
    before = _events(calendar_files(build_schedule(problem, plan))[f"{volunteer}.ics"])
    after = _events(calendar_files(build_schedule(problem, replanned))[f"{volunteer}.ics"])
    assert before.keys() == after.keys()
    changed = [uid for uid in before if before[uid] != after[uid]]
    assert len(changed) == 1
    assert after[changed[0]][0].endswith(format_clock(later.start))
    again = _events(calendar_files(build_schedule(problem, plan))[f"{volunteer}.ics"])
    assert again == before


class _Collector(HTMLParser):
    """Every element's attributes, the script tags and the text of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parsed(data: bytes) -> _Collector:
    collector = _Collector()
    collector.feed(data.decode("utf-8"))
    collector.close()
    return collector


def test_pages_show_every_visit_for_its_volunteer_and_the_unplanned(small_week: Week) -> None:
    problem, plan = small_week
    files = html_files(build_schedule(problem, plan))
    assert set(files) == {"index.html"} | {
        f"{volunteer.id}.html" for volunteer in problem.volunteers
    }
    expected = _expected(problem, plan)
    for volunteer in problem.volunteers:
        page = _parsed(files[f"{volunteer.id}.html"])
        found = set()
        dates = [
            text.split()[-1]
            for text in page.text
            if text.strip().startswith(
                tuple(day_name(d) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
            )
        ]
        visits = [attrs for tag, attrs in page.elements if tag == "div" and "data-need" in attrs]
        assert len(visits) == len(expected.get(volunteer.id, set()))
        for attrs in visits:
            found.add(
                (
                    attrs["data-need"],
                    int(attrs["data-occurrence"] or 0),
                    str(attrs["data-start"])[:5],
                )
            )
        assert found == {
            (need, occurrence, start)
            for need, occurrence, _, start in expected.get(volunteer.id, set())
        }
        assert len(set(dates)) == len({date for _, _, date, _ in expected.get(volunteer.id, set())})
    overview = _parsed(files["index.html"])
    rows = [attrs for tag, attrs in overview.elements if tag == "tr" and "data-reason" in attrs]
    assert {
        (row["data-need"], int(row["data-occurrence"] or 0), row["data-reason"]) for row in rows
    } == {(item.need, item.occurrence, item.reason) for item in plan.unassigned}
    links = {attrs["href"] for tag, attrs in overview.elements if tag == "a"}
    assert links == {f"{volunteer.id}.html" for volunteer in problem.volunteers}
    assert (
        "meta",
        {"name": "viewport", "content": "width=device-width, initial-scale=1"},
    ) in overview.elements


def test_pages_escape_everything(small_week: Week) -> None:
    problem, plan = small_week
    recipient = plan.visits[0].recipient
    hostile = '<script>alert("x")</script> & <b>'
    person = problem.recipient_by_id[recipient]
    renamed = person.model_copy(update={"name": hostile})
    changed = problem.replace_recipient(renamed)
    files = html_files(build_schedule(changed, plan))
    for data in files.values():
        page = _parsed(data)
        assert not any(tag in ("script", "b") for tag, _ in page.elements)
    volunteer = plan.visits[0].volunteers[0]
    assert any(hostile in text for text in _parsed(files[f"{volunteer}.html"]).text)


def test_chinese_schedules(small_week: Week) -> None:
    problem, plan = small_week
    schedule = build_schedule(problem, plan, "zh")
    workbook = load_workbook(io.BytesIO(workbook_bytes(schedule)))
    assert workbook.sheetnames[0] == "本周概况"
    assert "未安排" in workbook.sheetnames
    assert any(name in workbook.sheetnames for name in ("周一", "周二", "周三", "周四", "周五"))
    unplanned = workbook["未安排"]
    assert [cell.value for cell in unplanned[1]] == ["服务对象", "服务", "次序", "原因", "说明"]
    reasons = [row[4] for row in unplanned.iter_rows(min_row=2, values_only=True)]
    assert reasons and all(
        any("\u4e00" <= char <= "\u9fff" for char in reason) for reason in reasons
    )
    page = html_files(schedule)["index.html"].decode("utf-8")
    assert '<html lang="zh-CN">' in page and "协调员总览" in page


def test_pictures_are_png_and_svg_of_every_kind(small_week: Week) -> None:
    problem, plan = small_week
    files = pictures.picture_files(build_schedule(problem, plan))
    days = {route.day for route in plan.routes}
    stems = {f"routes-{day}" for day in days} | {
        "week-timeline",
        "coverage-by-priority",
        "load-vs-offer",
    }
    assert set(files) == {f"{stem}.{suffix}" for stem in stems for suffix in ("png", "svg")}
    for name, data in files.items():
        if name.endswith(".png"):
            image = matplotlib.image.imread(io.BytesIO(data), format="png")
            assert image.shape[0] > 100 and image.shape[1] > 100
        else:
            root = ElementTree.fromstring(data)
            assert root.tag.endswith("svg")
    again = pictures.picture_files(build_schedule(problem, plan))
    assert again["coverage-by-priority.svg"] == files["coverage-by-priority.svg"]


def test_priority_bands_count_every_visit(small_week: Week) -> None:
    problem, plan = small_week
    bands = pictures.priority_bands(build_schedule(problem, plan))
    assert sum(planned for _, planned, _ in bands) == len(plan.visits)
    assert sum(left for _, _, left in bands) == len(plan.unassigned)


def test_chinese_pictures_fall_back_to_english_without_a_cjk_font(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pictures, "cjk_font", lambda: None)
    assert pictures.picture_language("zh") == "en"
    monkeypatch.setattr(pictures, "cjk_font", lambda: "Noto Sans CJK SC")
    assert pictures.picture_language("zh") == "zh"
    assert pictures.picture_language("en") == "en"


def test_export_command_writes_every_output(
    small_week: Week, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem, plan = small_week
    (tmp_path / "problem.json").write_text(to_json(problem), encoding="utf-8")
    (tmp_path / "plan.json").write_text(to_json(plan), encoding="utf-8")
    arguments = ["export", str(tmp_path / "problem.json"), str(tmp_path / "plan.json")]
    outputs = [
        "--xlsx",
        str(tmp_path / "s.xlsx"),
        "--ics",
        str(tmp_path / "ics"),
        "--html",
        str(tmp_path / "html"),
        "--pictures",
        str(tmp_path / "pictures"),
    ]
    assert main([*arguments, *outputs]) == 0
    assert load_workbook(tmp_path / "s.xlsx").sheetnames[0] == "The week"
    assert len(list((tmp_path / "ics").glob("*.ics"))) == len(problem.volunteers)
    assert (tmp_path / "html" / "index.html").is_file()
    assert (tmp_path / "pictures" / "week-timeline.svg").is_file()
    assert not list(tmp_path.glob(".*"))


def test_export_refuses_a_plan_that_breaks_rules_and_writes_nothing(
    small_week: Week, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem, plan = small_week
    visit = plan.visits[0]
    broken = plan.model_copy(
        update={"visits": [visit.model_copy(update={"volunteers": ["nobody"]}), *plan.visits[1:]]}
    )
    (tmp_path / "problem.json").write_text(to_json(problem), encoding="utf-8")
    (tmp_path / "plan.json").write_text(to_json(broken), encoding="utf-8")
    code = main(
        [
            "export",
            str(tmp_path / "problem.json"),
            str(tmp_path / "plan.json"),
            "--xlsx",
            str(tmp_path / "s.xlsx"),
            "--html",
            str(tmp_path / "html"),
        ]
    )
    assert code == 2
    assert "breaks hard rules" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["plan.json", "problem.json"]
    assert main(["export", str(tmp_path / "problem.json"), str(tmp_path / "plan.json")]) == 2
    assert "nothing to export" in capsys.readouterr().err


def test_export_files_for_a_web_page_and_one_zip(small_week: Week) -> None:
    problem, plan = small_week
    made = export_files(problem, plan, ("xlsx", "ics"), "zh")
    assert set(made) == {"xlsx", "ics"}
    assert load_workbook(io.BytesIO(made["xlsx"]["schedule.xlsx"])).sheetnames[0] == "本周概况"
    archive = zip_bytes(made["ics"])
    assert archive == zip_bytes(dict(reversed(list(made["ics"].items()))))
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert sorted(opened.namelist()) == sorted(made["ics"])
        for name in opened.namelist():
            assert opened.read(name) == made["ics"][name]
    with pytest.raises(ValueError, match="unknown export kind"):
        export_files(problem, plan, ("pdf",))


def test_a_folder_that_cannot_be_written_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(OutputError):
        write_folder(blocker / "pages", {"index.html": b"<p>"})
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]
    written = write_folder(tmp_path / "pages", {"a.html": b"1", "b.html": b"2"})
    assert [path.read_bytes() for path in written] == [b"1", b"2"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["pages", "taken"]


def test_export_names_every_bad_output_before_any_work(
    small_week: Week, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    problem, plan = small_week
    (tmp_path / "problem.json").write_text(to_json(problem), encoding="utf-8")
    (tmp_path / "plan.json").write_text(to_json(plan), encoding="utf-8")
    (tmp_path / "file").write_text("", encoding="utf-8")
    arguments = ["export", str(tmp_path / "problem.json"), str(tmp_path / "plan.json")]
    bad = ["--xlsx", str(tmp_path / "plan.json"), "--ics", str(tmp_path / "file")]
    assert main([*arguments, *bad, "--html", str(tmp_path / "no" / "such" / "pages")]) == 2
    error = capsys.readouterr().err
    assert "that is the input file" in error
    assert f"--ics {tmp_path / 'file'}: that is a file, not a folder" in error
    assert "--html" in error and "does not exist" in error
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file", "plan.json", "problem.json"]


def test_chinese_pictures_are_labelled_in_chinese_with_a_font_and_english_without(
    small_week: Week,
) -> None:
    """With a CJK font installed the titles are Chinese (kept as text in the SVG); without
    one they fall back to English, and no picture has boxes for missing glyphs."""
    problem, plan = small_week
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        files = pictures.picture_files(build_schedule(problem, plan, "zh"))
    titles = [
        "".join(element.itertext())
        for element in ElementTree.fromstring(files["coverage-by-priority.svg"]).iter()
        if element.tag.endswith("text")
    ]
    expected = "按优先级的覆盖情况" if pictures.cjk_font() else "Coverage by priority"
    assert expected in titles
