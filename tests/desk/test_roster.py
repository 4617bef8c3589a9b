"""The roster workbook: the template, filling it in with openpyxl, importing it (English and
Chinese headers, CSV folders), and every error named by its cell with nothing written."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from matcher.api import solve
from matcher.cli import main
from matcher.desk import (
    RosterError,
    load_roster,
    load_roster_bytes,
    parse_time,
    template_bytes,
    write_template,
)
from matcher.desk.columns import SHEETS
from matcher.desk.fill import problem_rows
from matcher.io import InputError, load_plan, load_problem
from matcher.models.limits import InputLimits
from tests.desk.conftest import fill_roster
from tests.helpers import DATA, checked, example, load


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [
        ("9:30", 570),
        ("09:30", 570),
        ("9:30 AM", 570),
        ("9:30 pm", 1290),
        ("12:00 AM", 0),
        ("12:15 PM", 735),
        ("2 pm", 840),
        ("下午2:00", 840),
        ("14：05", 845),
        (dt.time(8, 45), 525),
        (dt.datetime(1899, 12, 30, 16, 0), 960),
        (0.5, 720),
    ],
)
def test_times_are_read_as_people_type_them(typed: Any, minutes: int) -> None:
    assert parse_time(typed) == minutes


@pytest.mark.parametrize("typed", ["noon", "9", "9:75", "25:00", "13:00 PM", "9.30.1", ""])
def test_other_times_are_clear_errors(typed: str) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_time(typed)


def test_template_has_every_sheet_header_explanation_drop_downs_and_example(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    write_template(path)
    workbook = load_workbook(path)
    assert workbook.sheetnames == [sheet.en for sheet in SHEETS]
    volunteers = workbook["Volunteers"]
    headers = [cell.value for cell in volunteers[1]]
    assert headers == [column.en for column in SHEETS[4].columns]
    travel_column = headers.index("travel mode") + 1
    assert volunteers.cell(row=2, column=travel_column).value == "default walk"
    assert volunteers.cell(row=3, column=1).value == "v01"
    formulas = {
        validation.formula1: str(validation.sqref)
        for validation in volunteers.data_validations.dataValidation
    }
    assert '"walk,bike,ebike,car,transit"' in formulas
    availability = workbook["Availability"]
    day_lists = [v.formula1 for v in availability.data_validations.dataValidation]
    assert '"mon,tue,wed,thu,fri,sat,sun"' in day_lists
    needs = workbook["Needs"]
    service_lists = [v.formula1 for v in needs.data_validations.dataValidation]
    assert any("Services" in formula for formula in service_lists)
    assert '"yes,no"' in service_lists


def test_the_template_imports_as_its_worked_example(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    write_template(path)
    problem = load_roster(path)
    assert problem.week_start == dt.date(2026, 11, 30)
    assert [service.id for service in problem.services] == ["meal"]
    elder = problem.recipients[0]
    assert (elder.id, elder.building, elder.location.place) == ("e001", "B1", "B1 2-301")
    assert (elder.location.lat, elder.location.lon) == (38.9905, 121.5512)
    assert elder.needs[0].windows[0].start == 660
    assert problem.volunteers[0].availability[0].end == 720


def test_chinese_template_has_chinese_headers_and_imports_the_same(tmp_path: Path) -> None:
    english, chinese = tmp_path / "en.xlsx", tmp_path / "zh.xlsx"
    write_template(english)
    write_template(chinese, "zh")
    workbook = load_workbook(chinese)
    assert workbook.sheetnames[4] == "志愿者和工作人员"
    assert workbook["志愿者和工作人员"]["D1"].value == "出行方式"
    assert workbook["志愿者和工作人员"]["D3"].value == "步行"
    assert workbook["空闲时间"]["C3"].value == "周一"
    from_chinese = load_roster(chinese)
    from_english = load_roster(english)
    assert from_chinese.recipients == from_english.recipients
    assert from_chinese.volunteers == from_english.volunteers
    assert from_chinese.policy.language == "zh"


def test_template_fill_import_solve_export_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.xlsx"
    assert main(["template", str(roster)]) == 0
    fill_roster(roster)
    problem_path = tmp_path / "problem.json"
    assert main(["import", str(roster), "-o", str(problem_path)]) == 0
    problem = load_problem(problem_path)
    assert problem == load_roster(roster)
    assert problem.service_by_id["bath"].team_size == 2
    assert problem.volunteer_by_id["s01"].start_location is not None
    assert problem.volunteer_by_id["v02"].travel_mode == "bike"
    plan_path = tmp_path / "plan.json"
    assert main(["solve", str(roster), "-o", str(plan_path)]) == 0
    plan = checked(problem, load_plan(plan_path))
    bath = [visit for visit in plan.visits if visit.need == "e002-bath"]
    assert len(bath) == 1 and len(bath[0].volunteers) == 2
    schedule = tmp_path / "schedule.xlsx"
    assert (
        main(
            [
                "export",
                str(problem_path),
                str(plan_path),
                "--xlsx",
                str(schedule),
                "--ics",
                str(tmp_path / "ics"),
            ]
        )
        == 0
    )
    read_back = load_workbook(schedule)
    partner_sheet = read_back["Chen Jie"]
    headers = [cell.value for cell in partner_sheet[1]]
    rows = [
        dict(zip(headers, row, strict=True))
        for row in partner_sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert [row["Together with"] for row in rows if row["Service"] == "Bathing help"] == [
        "Liu Lei (s01)"
    ]
    assert sorted(path.name for path in (tmp_path / "ics").iterdir()) == [
        "s01.ics",
        "v01.ics",
        "v02.ics",
    ]


def test_a_bad_workbook_gives_every_error_with_its_cell_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.xlsx"
    write_template(roster)
    workbook = load_workbook(roster)
    workbook["Volunteers"]["D3"] = "bicycle"
    workbook["Volunteers"].append(["v01", "Copy", "volunteer", "walk", "B2"])
    workbook["Volunteers"].append(["v02", "Far", "volunteer", "walk", "B9"])
    workbook["Availability"]["D3"] = "noon"
    workbook["Availability"]["C4"] = "someday"
    workbook["Needs"]["C3"] = "bath"
    workbook["Needs"]["D3"] = "twice"
    workbook["Recipients"]["L3"] = "maybe"
    workbook.save(roster)
    output = tmp_path / "problem.json"
    assert main(["import", str(roster), "-o", str(output)]) == 2
    error = capsys.readouterr().err
    for expected in (
        "Volunteers!D3: travel mode 'bicycle' is not one of walk, bike, ebike, car, transit",
        "Volunteers!A4: volunteer id 'v01' is used twice (first at Volunteers!A3)",
        "Volunteers!E5: building 'B9' is not in the Buildings sheet",
        "Needs!C3: unknown service 'bath'",
        "Availability!D3: from: 'noon' is not a time",
        "Availability!C4: day 'someday' is not a weekday",
        "Needs!D3: visits a week 'twice' is not a whole number",
        "Recipients!L3: lives alone 'maybe' is not yes or no",
    ):
        assert expected in error
    assert "8 problem(s)" in error
    assert not output.exists()
    assert list(tmp_path.iterdir()) == [roster]


def test_model_errors_are_named_by_their_cell(tmp_path: Path) -> None:
    roster = tmp_path / "roster.xlsx"
    write_template(roster)
    workbook = load_workbook(roster)
    workbook["Needs"]["C3"] = "bath"
    workbook["Availability"]["E4"] = "10:00"  # the need's window now ends before it starts
    workbook["Services"]["C3"] = 0
    workbook.save(roster)
    with pytest.raises(RosterError) as caught:
        load_roster(roster)
    problems = caught.value.problems
    assert any(item.startswith("Needs!C3: unknown service 'bath'") for item in problems)
    assert any(
        item.startswith("Availability!E4:") or item.startswith("Availability!4:")
        for item in problems
    )
    assert any(item.startswith("Services!C3:") for item in problems)


def test_missing_sheets_columns_and_addresses_are_reported(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Volunteers"
    sheet.append(["id", "colour"])
    sheet.append(["v01", "red"])
    path = tmp_path / "thin.xlsx"
    workbook.save(path)
    with pytest.raises(RosterError) as caught:
        load_roster(path)
    text = str(caught.value)
    assert "Volunteers!B1: unknown column 'colour'" in text
    assert "Volunteers!3" not in text
    assert "Volunteers!2: no address" in text
    assert "the sheet 'Services' (服务项目) is missing" in text
    assert "the sheet 'Week' (本周) is missing" in text


def test_a_folder_of_csv_files_with_chinese_headers_imports(tmp_path: Path) -> None:
    folder = tmp_path / "roster"
    folder.mkdir()
    chinese = tmp_path / "zh.xlsx"
    write_template(chinese, "zh")
    workbook = load_workbook(chinese)
    for sheet in workbook.worksheets:
        with (folder / f"{sheet.title}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            for row in sheet.iter_rows(values_only=True):
                writer.writerow(["" if value is None else value for value in row])
    problem = load_roster(folder)
    assert problem == load_roster(chinese)
    (folder / "空闲时间.csv").write_text(
        "对象,编号,星期,开始,结束\n志愿者,v01,周八,9:00,10:00\n", encoding="utf-8"
    )
    with pytest.raises(RosterError, match=r"空闲时间!C2: day '周八' is not a weekday"):
        load_roster(folder)


def test_solve_and_validate_take_a_roster_and_refuse_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.xlsx"
    write_template(roster)
    assert main(["validate", str(roster)]) == 0
    assert "1 recipients, 1 needs, 1 volunteers" in capsys.readouterr().out
    workbook = load_workbook(roster)
    workbook["Services"]["C3"] = "a quarter hour"
    workbook.save(roster)
    plan = tmp_path / "plan.json"
    assert main(["solve", str(roster), "-o", str(plan)]) == 2
    assert "Services!C3: minutes 'a quarter hour' is not a whole number" in capsys.readouterr().err
    assert not plan.exists()


def test_pinned_visits_and_history_come_from_their_sheets(tmp_path: Path) -> None:
    roster = tmp_path / "roster.xlsx"
    write_template(roster)
    fill_roster(roster)
    workbook = load_workbook(roster)
    workbook["Pinned"].append(["e002-meal", "thu", "10:00 AM", "v01"])
    workbook["History"].append(["e002", "v02", "e002-meal", "2026-11-23", 2])
    workbook["Volunteers"]["Z3"] = 1500
    workbook["Recipients"]["S3"] = 40
    workbook.save(roster)
    problem = load_roster(roster)
    pin = problem.pinned[0]
    assert (pin.need, pin.day, pin.start, pin.volunteers) == ("e002-meal", "thu", 600, ["v01"])
    assert problem.history[0].visits == 2 and problem.history[0].week_start == dt.date(2026, 11, 23)
    assert problem.volunteer_by_id["v01"].max_outing_distance_m == 1500
    assert problem.recipient_by_id["e001"].time_bank_credits == 40
    plan = checked(problem, solve(problem))
    assert any(
        (visit.need, visit.day, visit.start, visit.volunteers) == ("e002-meal", "thu", 600, ["v01"])
        for visit in plan.visits
    )
    workbook["Pinned"].append(["e404-meal", "fri", "9:00", "v01"])
    workbook["History"].append(["e002", "v99"])  # someone who has left: history keeps them
    workbook.save(roster)
    with pytest.raises(RosterError) as caught:
        load_roster(roster)
    problems = caught.value.problems
    assert any(item.startswith("Pinned!A4:") and "e404-meal" in item for item in problems)
    assert not any(item.startswith("History!") for item in problems)


@pytest.mark.parametrize(
    "instance",
    [*sorted(path.stem for path in DATA.glob("*.json")), "example:small", "example:community"],
)
def test_a_problem_written_into_the_workbook_imports_as_itself(
    instance: str, tmp_path: Path
) -> None:
    """Every field the workbook holds survives problem -> workbook -> problem; what it cannot
    hold is named."""
    problem = example(instance.split(":")[1]) if instance.startswith("example:") else load(instance)
    roster = tmp_path / "roster.xlsx"
    write_template(roster, "zh" if len(instance) % 2 else "en", problem)
    imported = load_roster(roster)
    _, left_out = problem_rows(problem)
    expected = problem.model_copy(
        update={
            name: getattr(imported, name)
            for name in ("policy", "travel", "dependencies", "day_length_min")
            if any(word in " ".join(left_out) for word in _WORDS[name])
        }
    )
    if any(item.startswith("group sessions") for item in left_out):
        expected = expected.without_sessions()
    assert imported == expected
    assert bool(left_out) == (imported != problem)


_WORDS = {
    "policy": ("policy",),
    "travel": ("travel",),
    "dependencies": ("dependencies",),
    "day_length_min": ("planning day",),
}


def test_template_from_a_problem_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = DATA / "ok_small_pinned.json"
    roster = tmp_path / "roster.xlsx"
    assert main(["template", str(roster), "--from", str(source)]) == 0
    assert load_roster(roster) == load_problem(source)
    assert main(["template", str(tmp_path / "x.xlsx"), "--from", str(tmp_path / "none.json")]) == 2
    assert not (tmp_path / "x.xlsx").exists()


def test_an_uploaded_workbook_is_read_from_its_bytes() -> None:
    problem = load_roster_bytes(template_bytes("zh"), "上传.xlsx")
    assert problem.policy.language == "zh" and problem.recipients[0].id == "e001"
    with pytest.raises(InputError, match=r"^upload\.xlsx: not a readable \.xlsx workbook"):
        load_roster_bytes(b"not a workbook", "upload.xlsx")


def test_a_roster_is_held_to_the_input_limits(tmp_path: Path) -> None:
    roster = tmp_path / "roster.xlsx"
    write_template(roster)
    with pytest.raises(InputError, match="max_recipients"):
        load_problem(roster, InputLimits(max_recipients=0))
