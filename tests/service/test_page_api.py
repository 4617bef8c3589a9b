"""The endpoints the coordinator's page uses, over real HTTP: the roster upload, the schedule by
day and by volunteer, the exports and the pictures, each read back with an independent reader
(openpyxl, icalendar, zipfile, the PNG signature) and compared with the plan."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from icalendar import Calendar
from openpyxl import load_workbook

import matcher
from matcher.desk import load_roster, write_template
from matcher.io import to_json
from tests.desk.conftest import fill_roster
from tests.service.conftest import Running, add_tenant, example, wait_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def key(service: Running) -> str:
    return add_tenant(service.server.data_dir, "page-api")


@pytest.fixture(scope="module")
def client(service: Running, key: str) -> Any:
    with service.server.client(key) as opened:
        yield opened


@pytest.fixture(scope="module")
def roster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A template filled in as a coordinator would."""
    path = tmp_path_factory.mktemp("roster") / "roster.xlsx"
    write_template(path)
    fill_roster(path)
    return path


@pytest.fixture(scope="module")
def solved(client: httpx.Client) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The small example planned by a job: its id, the problem and the plan (checked)."""
    problem = example("small")
    response = client.post("/v1/plans", json={"problem": problem, "solver": "greedy"})
    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["id"])
    assert job["status"] == "done", job
    plan = job["plan"]
    report = matcher.check_plan(
        matcher.Problem.model_validate(problem), matcher.Plan.model_validate(plan)
    )
    assert report.ok, report
    return job["id"], problem, plan


def test_a_roster_upload_is_the_problem_matcher_import_writes(
    client: httpx.Client, roster: Path
) -> None:
    response = client.post(
        "/v1/import", content=roster.read_bytes(), headers={"Content-Type": XLSX}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.text == to_json(load_roster(roster))


def test_a_bad_roster_gets_every_problem_with_its_cell(
    client: httpx.Client, roster: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.xlsx"
    workbook = load_workbook(roster)
    volunteers = workbook["Volunteers"]
    travel = next(
        cell.column_letter for cell in volunteers[1] if "travel" in str(cell.value).lower()
    )
    last = volunteers.max_row
    volunteers[f"{travel}{last}"] = "bicycle"
    availability = workbook["Availability"]
    availability[f"D{availability.max_row}"] = "half past nine"
    workbook.save(bad)
    response = client.post(
        "/v1/import?name=bad.xlsx", content=bad.read_bytes(), headers={"Content-Type": XLSX}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    locations = {error["location"] for error in errors}
    assert f"Volunteers!{travel}{last}" in locations, errors
    assert f"Availability!D{availability.max_row}" in locations, errors
    travel_error = next(e for e in errors if e["location"] == f"Volunteers!{travel}{last}")
    assert "bicycle" in travel_error["message"]


@pytest.mark.parametrize("body", [b"", b"not a workbook", b"PK\x03\x04broken", b'{"a": 1}'])
def test_what_is_not_a_workbook_is_a_422(client: httpx.Client, body: bytes) -> None:
    response = client.post("/v1/import", content=body, headers={"Content-Type": XLSX})
    assert response.status_code == 422, response.text
    assert response.json()["errors"]


def _visits_per_volunteer(plan: dict[str, Any]) -> Counter[tuple[str, str]]:
    return Counter(
        (volunteer, visit["day"]) for visit in plan["visits"] for volunteer in visit["volunteers"]
    )


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_schedule_shows_every_visit_by_day_and_by_volunteer(
    client: httpx.Client, solved: tuple[str, dict[str, Any], dict[str, Any]], language: str
) -> None:
    job_id, _, plan = solved
    response = client.get(f"/v1/plans/{job_id}/schedule", params={"language": language})
    assert response.status_code == 200, response.text
    schedule = response.json()
    assert schedule["language"] == language
    assert schedule["visits_planned"] == len(plan["visits"])
    by_day = Counter(
        (visit["volunteer"], day["day"]) for day in schedule["days"] for visit in day["visits"]
    )
    by_volunteer = Counter(
        (visit["volunteer"], visit["day"])
        for volunteer in schedule["volunteers"]
        for visit in volunteer["visits"]
    )
    assert by_day == by_volunteer == _visits_per_volunteer(plan)

    def reasons(items: list[dict[str, Any]]) -> set[tuple[str, int, str]]:
        return {(item["need"], item["occurrence"], item["reason"]) for item in items}

    assert reasons(schedule["unplanned"]) == reasons(plan["unassigned"])
    assert schedule["route_pictures"] == [f"routes-{day['day']}.png" for day in schedule["days"]]
    labels = [figure["label"] for figure in schedule["figures"]]
    assert ("已安排服务" in labels) == (language == "zh")


def test_the_workbook_export_reads_back_with_every_visit(
    client: httpx.Client, solved: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    job_id, _, plan = solved
    response = client.get(f"/v1/plans/{job_id}/export/xlsx", params={"language": "en"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert "attachment" in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    figures = dict(workbook["The week"].iter_rows(min_row=2, values_only=True))
    assert figures["Visits planned"] == str(plan["metrics"]["visits_planned"])
    assert figures["Not planned"] == str(len(plan["unassigned"]))
    assert workbook["Not planned"].max_row - 1 == len(plan["unassigned"])


def test_the_calendars_and_pages_come_as_zips(
    client: httpx.Client, solved: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    job_id, _, plan = solved
    calendars = client.get(f"/v1/plans/{job_id}/export/ics")
    assert calendars.status_code == 200, calendars.text
    assert calendars.headers["content-type"] == "application/zip"
    events: Counter[str] = Counter()
    with zipfile.ZipFile(io.BytesIO(calendars.content)) as archive:
        for name in archive.namelist():
            calendar = Calendar.from_ical(archive.read(name))
            events[name.removesuffix(".ics")] += len(calendar.walk("VEVENT"))
    expected = Counter(v for visit in plan["visits"] for v in visit["volunteers"])
    assert events == expected
    pages = client.get(f"/v1/plans/{job_id}/export/html", params={"language": "zh"})
    assert pages.status_code == 200, pages.text
    with zipfile.ZipFile(io.BytesIO(pages.content)) as archive:
        names = archive.namelist()
        assert names and all(name.endswith(".html") for name in names)
        assert any("未安排" in archive.read(name).decode("utf-8") for name in names)


def test_the_route_pictures_are_pngs_and_unknown_names_are_404(
    client: httpx.Client, solved: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    job_id, _, plan = solved
    days = sorted({visit["day"] for visit in plan["visits"]})
    picture = client.get(f"/v1/plans/{job_id}/pictures/routes-{days[0]}.png")
    assert picture.status_code == 200, picture.text
    assert picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(PNG_SIGNATURE)
    pictures = client.get(f"/v1/plans/{job_id}/export/pictures")
    with zipfile.ZipFile(io.BytesIO(pictures.content)) as archive:
        assert archive.read(f"routes-{days[0]}.png") == picture.content
    missing = client.get(f"/v1/plans/{job_id}/pictures/routes-nowhere.png")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


def test_another_tenant_or_no_key_sees_nothing(
    service: Running, solved: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    job_id = solved[0]
    paths = [
        f"/v1/plans/{job_id}/schedule",
        f"/v1/plans/{job_id}/export/xlsx",
        f"/v1/plans/{job_id}/pictures/load-vs-offer.png",
    ]
    with service.client("beta") as other, service.client() as anonymous:
        for path in paths:
            assert other.get(path).status_code == 404
            assert anonymous.get(path).status_code == 401
        assert anonymous.post("/v1/import", content=b"x").status_code == 401


def test_the_page_and_its_files_are_served_without_a_key(service: Running) -> None:
    with service.client() as anonymous:
        page = anonymous.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        for asset in ("/static/page.js", "/static/page.css"):
            assert f'"{asset}"' in page.text
            assert anonymous.get(asset).status_code == 200
        assert anonymous.get("/static/nothing.js").status_code == 404
