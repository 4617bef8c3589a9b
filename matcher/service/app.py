"""The HTTP API (FastAPI): background solves under `/v1/plans`, the synchronous questions
(validate, check, score, explain, what-if, replan, recommend), the schemas and `/healthz`.

The API is thin: every answer is the library's (`matcher.solve`, `check_plan`, `score_plan`,
`explain_unassigned`, `what_if`, `replan`, `recommend`), its bodies are the library's models
(`schemas`), and every error is RFC 9457 problem details (`application/problem+json`) listing
each validation problem with its path, as the command line reports them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import matcher
from matcher.models.limits import limit_issues
from matcher.service.config import ServiceConfig
from matcher.service.jobs import RESTART_REASON, WorkerPool
from matcher.service.keys import tenant_of_key
from matcher.service.schemas import (
    Checked,
    Explained,
    ExplainRequest,
    Health,
    JobAccepted,
    JobPage,
    JobProgress,
    JobSummary,
    JobView,
    PlanRequest,
    ProblemDetails,
    ProblemRequest,
    Recommendation,
    RecommendRequest,
    Replanned,
    ReplanRequest,
    Scored,
    ScoreRequest,
    SolveJobRequest,
    Validated,
    ValidationProblem,
    WhatIfRequest,
    WhatIfs,
)
from matcher.service.storage import Job, JobStatus, SqliteStorage, Storage, Tenant

LOG = logging.getLogger("matcher.service")
PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "urn:matcher:problem:"
"""The prefix of the `type` of every problem the API answers with (`...:invalid-input`)."""

Location = tuple[str | int, ...]
MAX_PAGE_SIZE = 100
"""The most jobs a page of `GET /v1/plans` may hold."""


# ----------------------------------------------------------------- problem details


def json_pointer(location: Sequence[str | int]) -> str:
    """The RFC 6901 pointer of a path: `("problem", "recipients", 3)` is
    `/problem/recipients/3`."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


def _problem(location: Sequence[str | int], message: str, kind: str | None) -> ValidationProblem:
    parts = tuple(location)
    return ValidationProblem(
        path=json_pointer(parts),
        location=".".join(str(part) for part in parts) or "(top level)",
        message=message.removeprefix("Value error, "),
        type=kind,
    )


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    slug: str | None = None,
    errors: list[ValidationProblem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem details response."""
    body = ProblemDetails(
        type=f"{PROBLEM_TYPE}{slug}" if slug else "about:blank",
        title=title,
        status=status,
        detail=detail,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


class ApiProblem(Exception):
    """Raised by an endpoint to answer with problem details."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        slug: str | None = None,
        errors: list[ValidationProblem] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug
        self.errors = errors
        self.headers = headers

    def response(self) -> JSONResponse:
        return problem_response(
            self.status,
            self.title,
            self.detail,
            slug=self.slug,
            errors=self.errors,
            headers=self.headers,
        )


def invalid(errors: list[ValidationProblem], detail: str | None = None) -> ApiProblem:
    """A 422 listing every validation problem."""
    return ApiProblem(
        422,
        "Invalid input",
        detail or f"{len(errors)} problem(s) in the input",
        slug="invalid-input",
        errors=errors,
    )


def _validation_problems(errors: Sequence[Any], strip_body: bool) -> list[ValidationProblem]:
    problems = []
    for item in errors:
        location = tuple(item.get("loc", ()))
        if strip_body and location[:1] == ("body",):
            location = location[1:]
        problems.append(_problem(location, str(item.get("msg", "")), item.get("type")))
    return problems


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "model": ProblemDetails,
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }
    for status, description in (
        (401, "no API key, or not a valid one"),
        (413, "the request body is larger than the server's limit"),
        (422, "invalid input: every problem with its path"),
    )
}
"""The error answers every authenticated endpoint may give."""


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        404: "no such job (or not this tenant's)",
        429: "too many jobs waiting: try again after `Retry-After` seconds",
    }
    return {
        **ERROR_RESPONSES,
        **{
            status: {**ERROR_RESPONSES[422], "description": described[status]}
            for status in statuses
        },
    }


# ----------------------------------------------------------------- body size and input limits


class BodySizeLimit:
    """Refuses (413) a request whose body is larger than `max_bytes`, before the app reads it:
    by its Content-Length, else by counting what arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = problem_response(
            413,
            "Request body too large",
            f"the body may hold at most {self.max_bytes:,} bytes",
            slug="body-too-large",
        )
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await too_large(scope, receive, send)
                    return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


UNAUTHORIZED = ApiProblem(
    401,
    "Unauthorized",
    "send a valid API key as `Authorization: Bearer <key>` (`matcher serve keys add`)",
    slug="unauthorized",
    headers={"WWW-Authenticate": "Bearer"},
)


class LimitedRoute(APIRoute):
    """A route that checks the API key first (401), then holds the JSON body to the server's
    input limits (`InputLimits`) before it is validated: every limit exceeded, with its path,
    in one 422."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            if request.url.path.startswith("/v1/"):
                header = request.headers.get("authorization", "")
                scheme, _, key = header.partition(" ")
                store = request.app.state.storage
                if scheme.lower() != "bearer" or tenant_of_key(store, key.strip()) is None:
                    return UNAUTHORIZED.response()
            if request.method in ("POST", "PUT", "PATCH"):
                config: ServiceConfig = request.app.state.config
                body = await request.body()
                try:
                    data = json.loads(body) if body else None
                except RecursionError:
                    most = config.limits.max_depth
                    message = (
                        f"nested too deep: more than the limit of {most:,} (InputLimits.max_depth)"
                    )
                    return invalid([_problem((), message, "limit")]).response()
                except ValueError:
                    data = None
                if data is not None:
                    issues = limit_issues(data, config.limits)
                    if issues:
                        return invalid(
                            [_problem(path, message, "limit") for path, message in issues],
                            f"{len(issues)} input limit(s) exceeded",
                        ).response()
            return await handler(request)

        return limited


# ----------------------------------------------------------------- the app


def _now_iso(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _time_limit(
    given: float | None, solver: str, most: float, location: str = "time_limit_s"
) -> float | None:
    """The time limit to solve with: the given one if within `most` (else a 422), or the
    solver's default cut to `most`."""
    from matcher.solvers.registry import default_time_limit_s

    if given is not None:
        if given > most:
            raise invalid(
                [_problem((location,), f"{given:g} s is more than this server's {most:g} s", None)]
            )
        return given
    default = default_time_limit_s(solver)
    return most if default is not None and default > most else None


def create_app(config: ServiceConfig, storage: Storage | None = None) -> FastAPI:
    """The service's app. The store (`SqliteStorage` under `config.data_dir` unless given) is
    opened, jobs left solving by a dead server are failed, and the workers start when the app
    starts; nothing touches the disk before."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = storage if storage is not None else SqliteStorage(config.data_dir)
        failed = store.recover(RESTART_REASON)
        if failed:
            LOG.warning("%d job(s) were solving when the server stopped: failed", len(failed))
        store.expire(time.time() - config.job_expiry_s)
        pool = WorkerPool(store, config.workers, config.plan_interval_s)
        pool.start()
        closing = threading.Event()

        def expire_now_and_then() -> None:
            while not closing.wait(config.expiry_check_s):
                store.expire(time.time() - config.job_expiry_s)

        expirer = threading.Thread(target=expire_now_and_then, daemon=True)
        expirer.start()
        app.state.storage = store
        app.state.pool = pool
        try:
            yield
        finally:
            closing.set()
            pool.close()

    app = FastAPI(
        title="matcher",
        version=matcher.__version__,
        summary="Plans a community's week of volunteer care, over HTTP.",
        description=(
            "Submit a problem, poll its job to done, stop it, list a tenant's jobs; validate, "
            "check, score, explain, ask what-if, re-plan and recommend, synchronously. Every "
            "endpoint but `/healthz` needs an API key (`Authorization: Bearer mk...`); errors "
            "are RFC 9457 problem details listing every validation problem with its path."
        ),
        lifespan=lifespan,
    )
    app.state.config = config
    app.router.route_class = LimitedRoute
    app.add_middleware(BodySizeLimit, max_bytes=config.max_body_bytes)
    _add_error_handlers(app)
    _add_routes(app, config)
    from matcher.service.page import add_page_routes

    add_page_routes(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, error: ApiProblem) -> Response:
        return error.response()

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, error: RequestValidationError) -> Response:
        return invalid(_validation_problems(error.errors(), strip_body=True)).response()

    @app.exception_handler(ValidationError)
    async def library_invalid(request: Request, error: ValidationError) -> Response:
        problems = _validation_problems(error.errors(include_url=False), strip_body=False)
        return invalid(problems).response()

    @app.exception_handler(ValueError)
    async def value_invalid(request: Request, error: ValueError) -> Response:
        message = str(error)
        field, _, rest = message.partition(": ")
        location: Location = (field,) if rest and " " not in field else ()
        return invalid([_problem(location, rest if location else message, None)]).response()

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, error: StarletteHTTPException) -> Response:
        return problem_response(
            error.status_code,
            str(error.detail) if error.status_code != 404 else "Not found",
            str(error.detail),
            headers=error.headers,
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, error: Exception) -> Response:
        LOG.exception("internal error on %s %s", request.method, request.url.path)
        return problem_response(
            500,
            "Internal error",
            "this is a bug in matcher; please report it with the request",
            slug="internal",
        )


bearer = HTTPBearer(auto_error=False, description="the tenant's API key: `mk.<id>.<secret>`")


def _tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Tenant:
    """The tenant of the request's key; 401 without a valid one."""
    unauthorized = UNAUTHORIZED
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized
    tenant = tenant_of_key(request.app.state.storage, credentials.credentials)
    if tenant is None:
        raise unauthorized
    return tenant


TenantOf = Annotated[Tenant, Depends(_tenant)]


def _job_url(job_id: str) -> str:
    return f"/v1/plans/{job_id}"


def _summary_fields(job: Job) -> dict[str, Any]:
    request = json.loads(job.request)
    progress = JobProgress.model_validate_json(job.progress) if job.progress else None
    return {
        "id": job.id,
        "url": _job_url(job.id),
        "status": job.status,
        "solver": request.get("solver", "greedy"),
        "seed": request.get("seed", 0),
        "time_limit_s": request.get("time_limit_s"),
        "created_at": _now_iso(job.created_s),
        "updated_at": _now_iso(job.updated_s),
        "progress": progress,
        "error": job.error,
    }


def _view(job: Job) -> JobView:
    plan = matcher.Plan.model_validate_json(job.plan) if job.plan else None
    return JobView(
        **_summary_fields(job),
        plan=plan,
        plan_url=f"{_job_url(job.id)}/plan" if job.plan else None,
    )


def _add_routes(app: FastAPI, config: ServiceConfig) -> None:
    admission = threading.Lock()

    def storage(request: Request) -> Storage:
        store: Storage = request.app.state.storage
        return store

    def own_job(request: Request, tenant: Tenant, job_id: str) -> Job:
        job = storage(request).job(job_id, tenant.id)
        if job is None:
            raise ApiProblem(404, "Not found", f"no job {job_id!r}", slug="no-such-job")
        return job

    @app.get("/healthz", response_model=Health, tags=["service"])
    def healthz(request: Request) -> Health:
        """The server is up (no key needed)."""
        return Health(version=matcher.__version__, workers=config.workers)

    # ------------------------------------------------------------- jobs

    @app.post(
        "/v1/plans",
        status_code=202,
        response_model=JobAccepted,
        responses=_errors(429),
        tags=["plans"],
    )
    async def submit(
        request: Request, body: SolveJobRequest, tenant: TenantOf, response: Response
    ) -> JobAccepted:
        """Plan a problem in the background: validated at once, then queued for a worker."""
        from matcher.solvers.base import checked_parameters
        from matcher.solvers.registry import get_solver

        limit = _time_limit(body.time_limit_s, body.solver, config.max_time_limit_s)
        if body.parameters is not None:
            try:
                checked_parameters(get_solver(body.solver).parameters_type, body.parameters)
            except ValueError as error:
                raise invalid([_problem(("parameters",), str(error), None)]) from None
        raw = await request.json()
        normalized = {
            "problem": raw["problem"],
            "solver": body.solver,
            "time_limit_s": limit,
            "seed": body.seed,
            "language": body.language,
            "parameters": body.parameters,
            "max_memory_mib": config.max_memory_mib,
        }
        now = time.time()
        job = Job(
            id=uuid.uuid4().hex,
            tenant=tenant.id,
            status="queued",
            created_s=now,
            updated_s=now,
            request=json.dumps(normalized, ensure_ascii=False),
        )

        def admit() -> None:
            store = storage(request)
            with admission:
                busy: tuple[JobStatus, ...] = ("queued", "solving")
                if store.count_jobs(busy, tenant.id) >= config.max_jobs_per_tenant:
                    raise ApiProblem(
                        429,
                        "Too many jobs",
                        f"this tenant has {config.max_jobs_per_tenant} job(s) queued or solving "
                        "(the server's limit); wait for one to finish",
                        slug="tenant-jobs",
                        headers={"Retry-After": str(config.retry_after_s)},
                    )
                if store.count_jobs(("queued",)) >= config.queue_size:
                    raise ApiProblem(
                        429,
                        "Queue full",
                        f"{config.queue_size} job(s) are waiting for a worker",
                        slug="queue-full",
                        headers={"Retry-After": str(config.retry_after_s)},
                    )
                store.add_job(job)

        await run_in_threadpool(admit)
        request.app.state.pool.wake()
        response.headers["Location"] = _job_url(job.id)
        return JobAccepted(id=job.id, url=_job_url(job.id), status="queued")

    @app.get("/v1/plans", response_model=JobPage, responses=_errors(), tags=["plans"])
    def list_jobs(
        request: Request,
        tenant: TenantOf,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
        limit: Annotated[int | None, Query(ge=1, le=MAX_PAGE_SIZE)] = None,
    ) -> JobPage:
        """The tenant's jobs, newest first, a page at a time."""
        size = limit or config.page_size
        jobs, total = storage(request).jobs(tenant.id, offset, size)
        following = offset + len(jobs)
        return JobPage(
            items=[JobSummary(**_summary_fields(job)) for job in jobs],
            total=total,
            offset=offset,
            limit=size,
            next=f"/v1/plans?offset={following}&limit={size}" if following < total else None,
        )

    @app.get("/v1/plans/{job_id}", response_model=JobView, responses=_errors(404), tags=["plans"])
    def get_job(request: Request, job_id: str, tenant: TenantOf) -> JobView:
        """A job: status, progress and, when there is one, the plan (so far)."""
        return _view(own_job(request, tenant, job_id))

    @app.get(
        "/v1/plans/{job_id}/plan",
        response_model=matcher.Plan,
        responses=_errors(404),
        tags=["plans"],
    )
    def get_plan(request: Request, job_id: str, tenant: TenantOf) -> Response:
        """The job's plan (so far) exactly as stored, byte for byte; 404 while there is none."""
        job = own_job(request, tenant, job_id)
        if job.plan is None:
            raise ApiProblem(404, "Not found", f"job {job_id!r} has no plan yet", slug="no-plan")
        return Response(content=job.plan, media_type="application/json")

    @app.delete(
        "/v1/plans/{job_id}",
        response_model=JobView,
        responses={**_errors(404), 202: {"model": JobView, "description": "stopping"}},
        tags=["plans"],
    )
    def stop_job(request: Request, job_id: str, tenant: TenantOf, response: Response) -> JobView:
        """Stop a job, keeping the best plan found: a queued job stops at once (202 while a
        solving one winds down; poll it)."""
        own_job(request, tenant, job_id)
        status = storage(request).request_stop(job_id)
        if status == "solving":
            request.app.state.pool.stop(job_id)
            response.status_code = 202
        return _view(own_job(request, tenant, job_id))

    # ------------------------------------------------------------- synchronous questions

    def sync_limit(given: float | None, solver: str) -> float | None:
        return _time_limit(given, solver, config.max_sync_time_limit_s)

    @app.post("/v1/validate", response_model=Validated, responses=_errors(), tags=["questions"])
    def validate(body: ProblemRequest, tenant: TenantOf) -> Validated:
        """Validate a problem: what it holds and its warnings, or every problem (422)."""
        problem = body.problem
        return Validated(
            recipients=len(problem.recipients),
            needs=len(problem.need_by_id),
            volunteers=len(problem.volunteers),
            warnings=list(problem.warnings()),
        )

    @app.post("/v1/check", response_model=Checked, responses=_errors(), tags=["questions"])
    def check(body: PlanRequest, tenant: TenantOf) -> Checked:
        """Check a plan against every hard rule (the independent checker)."""
        report = matcher.check_plan(body.problem, body.plan)
        return Checked(ok=report.ok, report=report)

    @app.post("/v1/score", response_model=Scored, responses=_errors(), tags=["questions"])
    def score(body: ScoreRequest, tenant: TenantOf) -> Scored:
        """Check a coordinator's plan and score it beside the optimizer's (or a reference)."""
        result = matcher.score_plan(
            body.problem,
            body.plan,
            body.reference,
            solver=body.solver,
            time_limit_s=sync_limit(body.time_limit_s, body.solver),
            seed=body.seed,
            language=body.language,
        )
        return Scored(ok=result.ok, score=result)

    @app.post("/v1/explain", response_model=Explained, responses=_errors(), tags=["questions"])
    def explain(body: ExplainRequest, tenant: TenantOf) -> Explained:
        """Why each visit the plan leaves out is left out, volunteer by volunteer."""
        items = matcher.explain_unassigned(body.problem, body.plan, language=body.language)
        return Explained(explanations=items)

    @app.post("/v1/what-if", response_model=WhatIfs, responses=_errors(), tags=["questions"])
    def what_if(body: WhatIfRequest, tenant: TenantOf) -> WhatIfs:
        """Which single change would plan the most high-priority visits left out. All the
        re-solves together take at most the server's synchronous time limit, shared evenly."""
        items = matcher.what_if(
            body.problem,
            body.plan,
            solver=body.solver,
            limit=body.limit,
            time_limit_s=sync_limit(body.time_limit_s, body.solver),
            seed=body.seed,
            language=body.language,
            total_time_limit_s=config.max_sync_time_limit_s,
        )
        return WhatIfs(changes=items)

    @app.post("/v1/replan", response_model=Replanned, responses=_errors(), tags=["questions"])
    def replan(body: ReplanRequest, tenant: TenantOf) -> Replanned:
        """Re-plan after changes, keeping every visit still valid: the new plan and the diff."""
        result = matcher.replan(
            body.problem,
            body.plan,
            body.changes,
            solver=body.solver,
            time_limit_s=sync_limit(body.time_limit_s, body.solver),
            seed=body.seed,
        )
        return Replanned(plan=result.plan, diff=result.diff, problem=result.problem)

    @app.post(
        "/v1/recommend", response_model=Recommendation, responses=_errors(), tags=["questions"]
    )
    def recommend(body: RecommendRequest, tenant: TenantOf) -> Recommendation:
        """When could someone come for a new need: the slots that take it now without moving
        anything, cheapest first, else the smallest change that would."""
        from matcher.replan.recommend import recommend as recommend_slots

        return recommend_slots(
            body.problem,
            body.plan,
            body.recipient,
            body.need,
            urgent=body.urgent,
            limit=body.limit,
            solver=body.solver,
            time_limit_s=sync_limit(body.time_limit_s, body.solver),
            seed=body.seed,
        )

    # ------------------------------------------------------------- schemas

    @app.get("/v1/schema/{kind}", responses=_errors(), tags=["schema"])
    def schema(kind: Literal["problem", "plan", "changes"], tenant: TenantOf) -> dict[str, Any]:
        """The JSON Schema of a problem, plan or changes (as `matcher schema` writes it)."""
        return json_schema(kind)


def json_schema(kind: Literal["problem", "plan", "changes"]) -> dict[str, Any]:
    """The JSON Schema `matcher schema <kind>` writes."""
    from matcher.replan import ChangeList

    models: dict[str, type[BaseModel]] = {
        "problem": matcher.Problem,
        "plan": matcher.Plan,
        "changes": ChangeList,
    }
    return models[kind].model_json_schema(mode="serialization" if kind == "plan" else "validation")


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the API (what `matcher schema openapi` writes)."""
    from pathlib import Path

    document: dict[str, Any] = create_app(ServiceConfig(data_dir=Path("."))).openapi()
    return document


__all__ = ["ApiProblem", "create_app", "json_pointer", "json_schema", "openapi_document"]
