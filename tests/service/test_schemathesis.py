"""Property tests of the whole API with schemathesis, against the OpenAPI document the server
publishes: a bounded number of generated requests per operation (valid and invalid), none of
which may get a 5xx, and every response must match its documented status, type and schema.

Each operation is one test, driven through schemathesis's hypothesis strategy (its pytest
plugin does not work with pytest 9)."""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from matcher.service.app import openapi_document  # noqa: E402
from tests.service.conftest import Running, add_tenant  # noqa: E402

EXAMPLES_PER_OPERATION = 8
"""Generated requests per operation (bounded: this runs in CI)."""
OPERATIONS = [
    (method.upper(), path)
    for path, methods in openapi_document()["paths"].items()
    for method in methods
]


@pytest.fixture(scope="module")
def fuzz_key(service: Running) -> str:
    """A tenant of its own, so its jobs do not crowd the other tests'."""
    return add_tenant(service.server.data_dir, "fuzz")


@pytest.fixture(scope="module")
def api_schema(service: Running) -> Any:
    """The document as the server publishes it, its base URL the server's."""
    return schemathesis.openapi.from_url(f"{service.server.url}/openapi.json")


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_no_request_gets_a_server_error_and_every_answer_is_documented(
    api_schema: Any, fuzz_key: str, method: str, path: str
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def call(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {fuzz_key}"},
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
            timeout=60,
        )

    call()
