"""Schemathesis against the running local stack: generated requests for every operation of
`/v1/openapi.json`, checked for 5xx answers and for answers the document does not describe."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.test_local_stack import stack  # noqa: F401  (the module's own local stack)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 8  # bounded for CI: about 40 operations x 8 requests


@pytest.fixture(scope="module")
def api_schema(stack: dict) -> Any:  # noqa: F811
    schema = schemathesis.openapi.from_url(f"{stack['demo']['apiUrl']}/v1/openapi.json")
    # Rotating the secret key would lock every later admin request out of the demo tenant.
    return schema.exclude(path="/v1/admin/keys/rotate")


schema = schemathesis.pytest.from_fixture("api_schema")


def _credentials(path: str, demo: dict) -> dict[str, str]:
    if path.startswith("/v1/platform/"):
        return {"Authorization": f"Bearer {demo['platformApiKey']}"}
    if path.startswith("/v1/admin/"):
        return {"Authorization": f"Bearer {demo['secretKey']}"}
    if path.startswith("/v1/public/"):
        return {"X-Tenant-Key": demo["publishableKey"]}
    return {}


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(case: Any, stack: dict) -> None:  # noqa: F811
    demo = stack["demo"]
    case.call_and_validate(base_url=demo["apiUrl"], headers=_credentials(case.path, demo), checks=CHECKS)
