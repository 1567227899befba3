"""API fuzzing with schemathesis over the app's own OpenAPI spec, on SQLite and PostgreSQL.

Every operation gets a bounded number of generated requests (valid and invalid), sent with the
admin token so the write routes are exercised past their auth check. Checks: no 5xx, the status
code is one the spec declares, and the response's content type and body match the spec.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from evwire.settings import Settings
from evwire.web.app import create_app
from tests.web.conftest import ADMIN, sample_payload

CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 30


@pytest.fixture
def api_schema(settings: Settings) -> Iterator[schemathesis.schemas.BaseSchema]:
    # rate limits off: hundreds of writes from one client are the point here (429s: tests/security)
    app = create_app(settings.model_copy(update={"rate_limit_enabled": False}))
    with TestClient(app) as client:  # lifespan runs; seed one article so ids and slugs resolve
        r = client.post("/api/articles", json=sample_payload(), headers=ADMIN)
        assert r.status_code == 201, r.text
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time; failures print a curl
)
def test_api_fuzz_no_server_errors_and_schema_conformance(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=ADMIN, checks=CHECKS)
