"""The coordinator's page and the endpoints it uses, thin over the desk (`matcher.desk`).

`GET /` is a static page (HTML, JS and CSS shipped in `matcher/service/static/`) that talks to
the API from the browser with the key the coordinator pastes in. The endpoints it needs beyond
the jobs are here:

- `POST /v1/import`: a roster workbook's bytes in, the problem out (`matcher import`); every
  problem with its cell in one 422;
- `GET /v1/plans/{id}/schedule`: the plan as the exports show it (by day, by volunteer, the
  unplanned visits with their reasons, the week's figures), in English or Chinese;
- `GET /v1/plans/{id}/export/{xlsx,ics,html,pictures}`: the workbook, or a zip of the
  calendars, printable pages or pictures (`matcher export`);
- `GET /v1/plans/{id}/pictures/{name}`: one picture (e.g. the day's routes, `routes-mon.png`).
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import Field

from matcher.models import Language, Plan, Problem
from matcher.models.common import StrictModel, Weekday
from matcher.service.app import ApiProblem, TenantOf, _errors, _problem, invalid
from matcher.service.schemas import ValidationProblem
from matcher.service.storage import Job, Storage, Tenant

STATIC_DIR = Path(str(resources.files("matcher.service") / "static"))
"""The page's files, shipped in the package."""

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
PNG = "image/png"
SVG = "image/svg+xml"
BINARY_SCHEMA = {"type": "string", "format": "binary"}
ROUTE_PICTURE = re.compile(r"routes-(mon|tue|wed|thu|fri|sat|sun)\.(png|svg)")
"""The name of a day's route picture."""
PICTURE_CACHE_SIZE = 8
"""Plans whose pictures are kept drawn (drawing them all takes a second or more)."""

ExportKind = Literal["xlsx", "ics", "html", "pictures"]
LanguageQuery = Annotated[
    Language | None,
    Query(description="of the labels and sentences (default: the job's, else the problem's)"),
]


# ----------------------------------------------------------------- the schedule as JSON


class ScheduleVisit(StrictModel):
    """One visit on one volunteer's schedule (a team visit is on each member's)."""

    volunteer: str
    volunteer_name: str
    day: Weekday
    date: str
    time: str = Field(description="'09:00–09:45'")
    start_min: int
    end_min: int
    need: str
    occurrence: int
    recipient: str
    recipient_name: str
    address: str
    service: str
    service_name: str
    notes: str
    partners: list[str] = Field(description="names of the others on a team visit")


class ScheduleDay(StrictModel):
    """A day's visits by start time."""

    day: Weekday
    label: str = Field(description="the weekday and date in the language")
    visits: list[ScheduleVisit]


class ScheduleVolunteer(StrictModel):
    """A volunteer's week in order, and the minutes given against those offered."""

    volunteer: str
    name: str
    visits: list[ScheduleVisit]
    total_min: float
    offered_min: float


class ScheduleUnplanned(StrictModel):
    """A visit left out, with its reason code and sentence in the language."""

    need: str
    occurrence: int
    recipient: str
    recipient_name: str
    service_name: str
    reason: str
    message: str


class ScheduleFigure(StrictModel):
    """One of the week's figures, labelled in the language."""

    label: str
    value: str


class ScheduleView(StrictModel):
    """A job's plan as the exports show it."""

    language: Language
    problem_name: str
    status: str = Field(description="the job's status when the schedule was made")
    visits_planned: int = Field(description="visits in the plan (a team visit counts once)")
    figures: list[ScheduleFigure]
    days: list[ScheduleDay]
    volunteers: list[ScheduleVolunteer]
    unplanned: list[ScheduleUnplanned]
    route_pictures: list[str] = Field(
        description="names of the day's route pictures (`GET .../pictures/{name}`)"
    )


def schedule_view(problem: Problem, plan: Plan, language: Language | None, status: str) -> Any:
    """The schedule of a plan (`matcher.desk.schedule.build_schedule`) as the page shows it."""
    from matcher.desk.schedule import ScheduledVisit, build_schedule

    schedule = build_schedule(problem, plan, language)

    def row(visit: ScheduledVisit) -> ScheduleVisit:
        return ScheduleVisit(
            volunteer=visit.volunteer,
            volunteer_name=visit.volunteer_name,
            day=visit.day,
            date=visit.date.isoformat(),
            time=visit.time,
            start_min=visit.start_min,
            end_min=visit.end_min,
            need=visit.need,
            occurrence=visit.occurrence,
            recipient=visit.recipient,
            recipient_name=visit.recipient_name,
            address=visit.address,
            service=visit.service,
            service_name=visit.service_name,
            notes=visit.notes,
            partners=list(visit.partners),
        )

    loads = {load.volunteer: load for load in schedule.loads}
    volunteers = []
    for volunteer in problem.volunteers:
        visits = schedule.of_volunteer(volunteer.id)
        load = loads.get(volunteer.id)
        if not visits:
            continue
        volunteers.append(
            ScheduleVolunteer(
                volunteer=volunteer.id,
                name=visits[0].volunteer_name,
                visits=[row(visit) for visit in visits],
                total_min=load.total_min if load else 0.0,
                offered_min=load.offered_min if load else 0.0,
            )
        )
    route_days = {route.day for route in plan.routes}
    return ScheduleView(
        language=schedule.language,
        problem_name=problem.name,
        status=status,
        visits_planned=len(plan.visits),
        figures=[ScheduleFigure(label=label, value=value) for label, value in schedule.figures()],
        days=[
            ScheduleDay(
                day=day,
                label=schedule.day_label(day),
                visits=[row(visit) for visit in schedule.of_day(day)],
            )
            for day in schedule.days()
        ],
        volunteers=volunteers,
        unplanned=[
            ScheduleUnplanned(
                need=item.need,
                occurrence=item.occurrence,
                recipient=item.recipient,
                recipient_name=item.recipient_name,
                service_name=item.service_name,
                reason=item.reason,
                message=item.message,
            )
            for item in schedule.unplanned
        ],
        route_pictures=[f"routes-{day}.png" for day in schedule.days() if day in route_days],
    )


# ----------------------------------------------------------------- the roster upload


def roster_problems(problems: list[str]) -> list[ValidationProblem]:
    """The roster's problems as validation problems: `location` the cell ("Volunteers!C14")
    when the problem names one, `path` empty (the whole upload)."""
    from matcher.desk.roster import _cell_of

    listed = []
    for item in problems:
        cell, separator, message = item.partition(": ")
        if separator and _cell_of(item) is not None:
            listed.append(ValidationProblem(path="", location=cell, message=message, type="cell"))
        else:
            listed.append(ValidationProblem(path="", location="(workbook)", message=item))
    return listed


def import_roster(data: bytes, name: str) -> str:
    """A roster workbook's bytes as problem JSON (what `matcher import` writes); a 422 with
    every problem and its cell when it is not a good roster."""
    from matcher.desk.roster import RosterError, load_roster_bytes
    from matcher.io import InputError, to_json

    if not data:
        raise invalid([_problem((), "the body is empty: send the .xlsx file's bytes", None)])
    try:
        problem = load_roster_bytes(data, name)
    except RosterError as error:
        raise invalid(
            roster_problems(error.problems), f"{len(error.problems)} problem(s) in the roster"
        ) from None
    except InputError as error:
        raise invalid(roster_problems([str(error)])) from None
    return to_json(problem)


# ----------------------------------------------------------------- jobs' files


class PictureCache:
    """The pictures of the last few plans drawn, by job, its last update, language and what
    was drawn (every picture, or one day's routes)."""

    def __init__(self, size: int = PICTURE_CACHE_SIZE) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.drawn: OrderedDict[tuple[str, float, str, str], dict[str, bytes]] = OrderedDict()

    def _cached(
        self, key: tuple[str, float, str, str], draw: Callable[[], dict[str, bytes]]
    ) -> dict[str, bytes]:
        with self.lock:
            if key in self.drawn:
                self.drawn.move_to_end(key)
                return self.drawn[key]
        files = draw()
        with self.lock:
            self.drawn[key] = files
            while len(self.drawn) > self.size:
                self.drawn.popitem(last=False)
        return files

    def pictures(
        self, job: Job, problem: Problem, plan: Plan, language: Language
    ) -> dict[str, bytes]:
        """Every picture of the plan (`matcher export --pictures`)."""
        from matcher.desk.export import export_files

        def draw() -> dict[str, bytes]:
            return export_files(problem, plan, ["pictures"], language)["pictures"]

        return self._cached((job.id, job.updated_s, language, "*"), draw)

    def picture(
        self, job: Job, problem: Problem, plan: Plan, language: Language, name: str
    ) -> bytes | None:
        """One picture by name; a day's routes alone are drawn alone (quick on a big week)."""
        from matcher.desk.pictures import route_picture
        from matcher.desk.schedule import build_schedule

        route = ROUTE_PICTURE.fullmatch(name)
        if route is None:
            return self.pictures(job, problem, plan, language).get(name)
        day, suffix = cast(Weekday, route.group(1)), route.group(2)

        def draw() -> dict[str, bytes]:
            drawn = route_picture(build_schedule(problem, plan, language), day, suffix)
            return {name: drawn} if drawn is not None else {}

        return self._cached((job.id, job.updated_s, language, name), draw).get(name)


def _binary(*media_types: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {media: {"schema": BINARY_SCHEMA} for media in media_types},
        }
    }


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def add_page_routes(app: FastAPI) -> None:
    """The page at `/` (and its files under `/static/`) and the endpoints it uses."""
    cache = PictureCache()

    def own_plan(request: Request, tenant: Tenant, job_id: str) -> tuple[Job, Problem, Plan]:
        store: Storage = request.app.state.storage
        job = store.job(job_id, tenant.id)
        if job is None:
            raise ApiProblem(404, "Not found", f"no job {job_id!r}", slug="no-such-job")
        if job.plan is None:
            raise ApiProblem(404, "Not found", f"job {job_id!r} has no plan yet", slug="no-plan")
        problem = Problem.model_validate(json.loads(job.request)["problem"])
        return job, problem, Plan.model_validate_json(job.plan)

    def language_of(job: Job, problem: Problem, given: Language | None) -> Language:
        asked = json.loads(job.request).get("language")
        chosen: Language = given or asked or problem.policy.language
        return chosen

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        """The coordinator's page."""
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.post(
        "/v1/import",
        response_model=Problem,
        responses=_errors(),
        tags=["desk"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "the roster workbook (.xlsx, as `matcher template` writes it)",
                "content": {
                    XLSX: {"schema": BINARY_SCHEMA},
                    "application/octet-stream": {"schema": BINARY_SCHEMA},
                },
            }
        },
    )
    async def import_workbook(
        request: Request,
        tenant: TenantOf,
        name: Annotated[
            str, Query(max_length=200, description="the file's name, as problems cite it")
        ] = "roster.xlsx",
    ) -> Response:
        """A roster workbook in, its problem out (as `matcher import` writes it); every problem
        with its sheet, row and column (422)."""
        from starlette.concurrency import run_in_threadpool

        data = await request.body()
        problem_json = await run_in_threadpool(import_roster, data, name)
        return Response(content=problem_json, media_type="application/json")

    @app.get(
        "/v1/plans/{job_id}/schedule",
        response_model=ScheduleView,
        responses=_errors(404),
        tags=["desk"],
    )
    def schedule(
        request: Request, job_id: str, tenant: TenantOf, language: LanguageQuery = None
    ) -> Any:
        """The job's plan (so far) by day and by volunteer, the unplanned visits with their
        reasons and the week's figures, in English or Chinese; 404 while there is no plan."""
        job, problem, plan = own_plan(request, tenant, job_id)
        return schedule_view(problem, plan, language_of(job, problem, language), job.status)

    @app.get(
        "/v1/plans/{job_id}/export/{kind}",
        response_class=Response,
        responses={
            **_errors(404),
            **_binary(XLSX, ZIP, description="the workbook (xlsx) or a zip of the files"),
        },
        tags=["desk"],
    )
    def export(
        request: Request,
        job_id: str,
        kind: ExportKind,
        tenant: TenantOf,
        language: LanguageQuery = None,
    ) -> Response:
        """The job's plan (so far) as `matcher export` writes it: the workbook (`xlsx`), or a
        zip of the calendars (`ics`), printable pages (`html`) or pictures (`pictures`)."""
        from matcher.desk.export import export_files, zip_bytes

        job, problem, plan = own_plan(request, tenant, job_id)
        chosen = language_of(job, problem, language)
        if kind == "pictures":
            files = cache.pictures(job, problem, plan, chosen)
        else:
            files = export_files(problem, plan, [kind], chosen)[kind]
        stem = f"schedule-{job_id[:8]}"
        if kind == "xlsx":
            return Response(
                files["schedule.xlsx"], media_type=XLSX, headers=_attachment(f"{stem}.xlsx")
            )
        return Response(zip_bytes(files), media_type=ZIP, headers=_attachment(f"{stem}-{kind}.zip"))

    @app.get(
        "/v1/plans/{job_id}/pictures/{name}",
        response_class=Response,
        responses={**_errors(404), **_binary(PNG, SVG, description="the picture")},
        tags=["desk"],
    )
    def picture(
        request: Request,
        job_id: str,
        name: str,
        tenant: TenantOf,
        language: LanguageQuery = None,
    ) -> Response:
        """One picture of the job's plan (so far) by name: `routes-mon.png` (a day's routes),
        `week-timeline`, `coverage-by-priority` or `load-vs-offer`, each `.png` or `.svg`."""
        job, problem, plan = own_plan(request, tenant, job_id)
        drawn = cache.picture(job, problem, plan, language_of(job, problem, language), name)
        if drawn is None:
            raise ApiProblem(
                404, "Not found", f"this plan has no picture {name!r}", slug="no-picture"
            )
        return Response(drawn, media_type=PNG if name.endswith(".png") else SVG)


__all__ = ["STATIC_DIR", "ScheduleView", "add_page_routes", "import_roster", "schedule_view"]
