"""Infrastructure failures answer 500 with the API's error shape and nothing internal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client

from chalicelib.services import registry
from chalicelib.store.table import reset_binding
from tests.api.conftest import Api
from tests.conftest import PLATFORM_KEY, PROJECT_DIR

MISSING_TABLE = "scheduling-table-that-does-not-exist"
# Words that would betray the implementation: stack traces, libraries, AWS error names, tables.
INTERNAL_WORDS = (
    "traceback",
    'file "',
    "pynamodb",
    "botocore",
    "boto3",
    "dynamodb",
    "chalicelib",
    "resourcenotfound",
    "exception",
    "scheduling-",
    "table",
    "arn:aws",
)
NEW_TENANT = {"name": "Initech", "slug": "initech", "timezone": "UTC", "currency": "USD", "email": "a@initech.test"}


def _assert_opaque_internal_error(status: int, body: Any) -> None:
    assert status == 500, body
    assert set(body) == {"error"}
    assert body["error"]["code"] == "internal_error"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    text = json.dumps(body).lower()
    leaked = [word for word in INTERNAL_WORDS if word in text]
    assert leaked == []


@pytest.fixture
def unpinned_api(aws: str) -> Iterator[Api]:
    """A client on a stage whose config does not pin TABLE_NAME, so the process environment decides."""
    from app import app

    with Client(app, stage_name="no-pinned-table", project_dir=str(PROJECT_DIR)) as client:
        yield Api(client)


@pytest.fixture
def pointed_at_a_missing_table(unpinned_api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("TABLE_NAME", MISSING_TABLE)
    reset_binding()
    registry.reset()
    yield unpinned_api
    reset_binding()
    registry.reset()


@pytest.mark.parametrize(
    ("method", "path", "body", "credential"),
    [
        ("POST", "/v1/platform/tenants", NEW_TENANT, "platform"),
        ("GET", "/v1/admin/tenant", None, "secret"),
        ("GET", "/v1/public/services", None, "publishable"),
    ],
)
def test_a_missing_table_answers_500_internal_error_without_internals(
    pointed_at_a_missing_table: Api, method: str, path: str, body: Any, credential: str
) -> None:
    api = pointed_at_a_missing_table
    # Well-formed keys: authentication has to reach the table to fail.
    fake_tenant = "tn" + "1" * 20
    secret = f"sk_{fake_tenant}_{'a' * 64}"
    publishable = f"pk_{fake_tenant}_{'b' * 64}"
    key = {"platform": PLATFORM_KEY, "secret": secret, "publishable": None}[credential]

    status, answer = api.call(
        method, path, body, key=key, public_key=publishable if credential == "publishable" else None
    )

    _assert_opaque_internal_error(status, answer)


def test_a_table_lost_while_serving_answers_500_internal_error(api: Api, tenant: dict, aws: str) -> None:
    assert api.call("GET", "/v1/admin/tenant", key=tenant["secretKey"])[0] == 200
    boto3.client("dynamodb").delete_table(TableName=aws)

    for method, path, body in [
        ("GET", "/v1/admin/tenant", None),
        ("PATCH", "/v1/admin/tenant", {"name": "Renamed"}),
        ("POST", "/v1/admin/services", {"name": "Cut", "durationMinutes": 30}),
    ]:
        status, answer = api.call(method, path, body, key=tenant["secretKey"])
        _assert_opaque_internal_error(status, answer)


def test_the_internal_error_body_is_json_with_a_json_content_type(api: Api, tenant: dict, aws: str) -> None:
    boto3.client("dynamodb").delete_table(TableName=aws)

    response = api.client.http.get("/v1/admin/tenant", headers={"Authorization": f"Bearer {tenant['secretKey']}"})

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body)["error"]["code"] == "internal_error"


def test_a_domain_error_is_not_mistaken_for_an_internal_one(pointed_at_a_missing_table: Api) -> None:
    status, body = pointed_at_a_missing_table.call("GET", "/v1/admin/tenant")

    assert status == 401
    assert body["error"]["code"] == "unauthorized"


# --- answers Chalice gives before any view runs -----------------------------------------------


def test_a_body_that_is_not_json_is_415_in_the_api_error_shape(api: Api, tenant: dict) -> None:
    response = api.client.http.post(
        "/v1/admin/services",
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {tenant['secretKey']}"},
        body=b"name=Cut",
    )

    body = json.loads(response.body)
    assert response.status_code == 415
    assert set(body) == {"error"}
    assert body["error"]["code"] == "unsupported_media_type"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert api.call("GET", "/v1/admin/services", key=tenant["secretKey"])[1]["items"] == []


def test_a_method_a_route_does_not_serve_is_405_in_the_api_error_shape(api: Api) -> None:
    response = api.client.http.put("/v1/platform/tenants", headers={"Content-Type": "application/json"}, body=b"{}")

    body = json.loads(response.body)
    assert response.status_code == 405
    assert set(body) == {"error"}
    assert body["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "POST"
