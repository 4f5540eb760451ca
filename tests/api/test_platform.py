"""POST /v1/platform/tenants: opening tenants with the operator's key."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.conftest import PLATFORM_KEY

VALID = {"name": "Acme", "slug": "acme", "timezone": "Europe/Paris", "currency": "EUR", "email": "a@acme.test"}


def test_opening_a_tenant_returns_it_with_both_keys_once(api: Api) -> None:
    status, body = api.call("POST", "/v1/platform/tenants", VALID, key=PLATFORM_KEY)

    assert status == 201
    assert body["tenant"]["slug"] == "acme"
    assert body["tenant"]["slotIntervalMinutes"] == 15
    assert body["tenant"]["reminderOffsetsMinutes"] == [1440, 60]
    assert body["secretKey"].startswith("sk_") and body["publishableKey"].startswith("pk_")
    assert len(body["secretKey"].rpartition("_")[2]) == 64


def test_opening_a_tenant_without_the_platform_key_is_401(api: Api) -> None:
    status, body = api.call("POST", "/v1/platform/tenants", VALID)
    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_opening_a_tenant_with_a_wrong_platform_key_is_401(api: Api) -> None:
    status, _ = api.call("POST", "/v1/platform/tenants", VALID, key=PLATFORM_KEY + "x")
    assert status == 401


def test_a_tenant_secret_key_cannot_open_tenants(api: Api, tenant: dict) -> None:
    status, _ = api.call("POST", "/v1/platform/tenants", {**VALID, "slug": "other"}, key=tenant["secretKey"])
    assert status == 401


def test_a_taken_slug_is_409(api: Api) -> None:
    api.call("POST", "/v1/platform/tenants", VALID, key=PLATFORM_KEY)
    status, body = api.call("POST", "/v1/platform/tenants", {**VALID, "name": "Other"}, key=PLATFORM_KEY)
    assert status == 409
    assert body["error"]["details"] == {"field": "slug"}


def test_unknown_timezone_is_400_naming_the_field(api: Api) -> None:
    status, body = api.call("POST", "/v1/platform/tenants", {**VALID, "timezone": "Mars/Olympus"}, key=PLATFORM_KEY)
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    assert "timezone" in body["error"]["details"]["fields"]


def test_every_bad_field_is_reported_at_once(api: Api) -> None:
    bad = {"name": "", "slug": "No Spaces!", "timezone": "x", "currency": "usd", "email": "nope"}
    status, body = api.call("POST", "/v1/platform/tenants", bad, key=PLATFORM_KEY)
    assert status == 400
    assert set(body["error"]["details"]["fields"]) == {"name", "slug", "timezone", "currency", "email"}


def test_malformed_json_is_400_without_a_stack_trace(api: Api) -> None:
    status, body = api.call("POST", "/v1/platform/tenants", raw=b'{"name": ', key=PLATFORM_KEY)
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    assert "Traceback" not in str(body)


def test_a_json_array_body_is_400(api: Api) -> None:
    status, body = api.call("POST", "/v1/platform/tenants", raw=b"[1, 2]", key=PLATFORM_KEY)
    assert status == 400
    assert body["error"]["details"] == {"body": "expected an object"}
