"""CORS on /v1/public/*: a tenant's own front end on one of its allowedOrigins may call the public
API from a browser with the publishable key; nobody else may, and admin routes never answer CORS."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.booking_support import MONDAY, NOW, Shop, client, freeze, local
from tests.api.conftest import Api
from tests.contract import served_document

SITE = "https://www.acme-dental.test"
ELSEWHERE = "https://evil.test"


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any]) -> Shop:
    freeze(NOW)
    shop = Shop(api, tenant)
    shop.settings(allowedOrigins=[SITE])
    return shop


def _public(shop: Shop, method: str, path: str, origin: str | None, body: Any = None) -> Any:
    headers = {"X-Tenant-Key": shop.public_key, "Content-Type": "application/json"}
    if origin:
        headers["Origin"] = origin
    payload = json.dumps(body).encode() if body is not None else b""
    return getattr(shop.api.client.http, method.lower())(path, headers=headers, body=payload)


def _preflight(api: Api, path: str, origin: str, method: str = "POST") -> Any:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type,x-tenant-key",
    }
    return api.client.http.options(path, headers=headers)


def test_a_preflight_allows_the_public_headers_and_the_paths_methods(api: Api) -> None:
    answer = _preflight(api, "/v1/public/appointments/apt_x", SITE, "GET")

    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == SITE
    assert answer.headers["Access-Control-Allow-Methods"] == "GET"
    allowed = {h.strip().lower() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-tenant-key", "x-manage-token"} <= allowed
    assert int(answer.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in answer.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in answer.headers


@pytest.mark.parametrize(
    ("origin", "method"),
    [("https://www.acme-dental.test", "DELETE"), ("https://x.test/path", "POST"), ("null", "POST")],
)
def test_a_preflight_for_a_method_not_served_or_a_malformed_origin_grants_nothing(
    api: Api, origin: str, method: str
) -> None:
    answer = _preflight(api, "/v1/public/appointments", origin, method)

    assert answer.status_code == 204
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_an_allowed_origin_gets_its_answer_with_the_origin_echoed(shop: Shop) -> None:
    answer = _public(shop, "GET", "/v1/public/services", SITE)

    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == SITE
    assert answer.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_a_call_without_origin_is_not_cors_and_passes(shop: Shop) -> None:
    answer = _public(shop, "GET", "/v1/public/services", None)

    assert answer.status_code == 200
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert answer.headers["Vary"] == "Origin"  # caches must not serve it to a browser call


def test_a_browser_call_from_another_site_is_refused_before_it_acts(shop: Shop) -> None:
    service = shop.service(name="Chat", durationMinutes=30, slotIntervalMinutes=30, priceCents=0)
    shop.provider([service], name="Dana")
    booking = {"serviceId": service["id"], "start": local(MONDAY, "10:00"), "client": client(), "intake": {}}

    listed = _public(shop, "GET", "/v1/public/services", ELSEWHERE)
    booked = _public(shop, "POST", "/v1/public/appointments", ELSEWHERE, booking)

    for answer in (listed, booked):
        assert answer.status_code == 403
        assert json.loads(answer.body)["error"]["code"] == "forbidden"
        assert "Access-Control-Allow-Origin" not in answer.headers
    status, appointments = shop.admin("GET", "?from=2027-03-15T00:00:00Z&to=2027-03-16T00:00:00Z")
    assert status == 200 and appointments["items"] == []
    assert _public(shop, "POST", "/v1/public/appointments", SITE, booking).status_code == 201


def test_an_origin_is_allowed_only_for_the_tenant_that_lists_it(shop: Shop, other_tenant: dict[str, Any]) -> None:
    headers = {"X-Tenant-Key": other_tenant["publishableKey"], "Origin": SITE}

    answer = shop.api.client.http.get("/v1/public/services", headers=headers)

    assert answer.status_code == 403
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_an_error_after_authentication_is_readable_by_the_allowed_origin(shop: Shop) -> None:
    answer = _public(shop, "GET", "/v1/public/appointments/apt_missing", SITE)

    assert answer.status_code in (400, 404)
    assert answer.headers["Access-Control-Allow-Origin"] == SITE


def test_admin_routes_never_answer_cors(shop: Shop) -> None:
    headers = {"Authorization": f"Bearer {shop.key}", "Origin": SITE}

    from app import app

    read = shop.api.client.http.get("/v1/admin/tenant", headers=headers)

    assert read.status_code == 200 and "Access-Control-Allow-Origin" not in read.headers
    with_preflight = {path for path, methods in app.routes.items() if "OPTIONS" in methods}
    assert with_preflight and all(path.startswith("/v1/public/") for path in with_preflight)


def test_the_document_declares_the_preflights_and_the_cors_headers() -> None:
    paths = served_document()["paths"]

    public = [path for path in paths if path.startswith("/v1/public/")]
    assert public and all("options" in paths[path] for path in public)
    assert not any("options" in item for path, item in paths.items() if not path.startswith("/v1/public/"))
    preflight = paths["/v1/public/appointments"]["options"]["responses"]["204"]["headers"]
    assert {"Access-Control-Allow-Headers", "Access-Control-Max-Age", "Access-Control-Allow-Origin"} <= set(preflight)
    listed = paths["/v1/public/services"]["get"]["responses"]["200"]["headers"]
    assert set(listed) == {"Access-Control-Allow-Origin", "Vary"}
