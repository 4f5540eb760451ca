"""One tenant can neither see nor change another's resources, and nothing answers without a key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chalice.test import Client

from tests.api.conftest import Api
from tests.conftest import PROJECT_DIR


@dataclass(frozen=True)
class World:
    """Tenant A with a full catalog, and tenant B's admin key."""

    a_key: str
    b_key: str
    service_id: str
    provider_id: str
    override_id: str
    b_provider_id: str

    def fill(self, template: str) -> str:
        return template.format(
            service=self.service_id,
            provider=self.provider_id,
            override=self.override_id,
            b_provider=self.b_provider_id,
        )


@pytest.fixture
def world(api: Api, tenant: dict, other_tenant: dict) -> World:
    a_key = tenant["secretKey"]
    service = api.create_service(a_key, name="A's service")
    provider = api.create_provider(a_key, [service["id"]], name="A's provider")
    status, _ = api.call(
        "PUT",
        f"/v1/admin/providers/{provider['id']}/availability",
        {"rules": [{"dayOfWeek": 0, "start": "09:00", "end": "17:00", "serviceIds": None}]},
        key=a_key,
    )
    assert status == 200
    status, override = api.call(
        "POST",
        f"/v1/admin/providers/{provider['id']}/overrides",
        {"date": "2027-03-14", "intervals": [{"start": "10:00", "end": "12:00"}]},
        key=a_key,
    )
    assert status == 201
    b_service = api.create_service(other_tenant["secretKey"], name="B's service")
    b_provider = api.create_provider(other_tenant["secretKey"], [b_service["id"]], name="B's provider")
    return World(
        a_key=a_key,
        b_key=other_tenant["secretKey"],
        service_id=service["id"],
        provider_id=provider["id"],
        override_id=override["id"],
        b_provider_id=b_provider["id"],
    )


def _state_of_a(api: Api, world: World) -> dict[str, Any]:
    """Everything tenant A owns, as A's admin reads it."""
    paths = {
        "services": "/v1/admin/services",
        "service": "/v1/admin/services/{service}",
        "providers": "/v1/admin/providers",
        "provider": "/v1/admin/providers/{provider}",
        "rules": "/v1/admin/providers/{provider}/availability",
        "overrides": "/v1/admin/providers/{provider}/overrides",
    }
    state = {}
    for name, template in paths.items():
        status, body = api.call("GET", world.fill(template), key=world.a_key)
        assert status == 200, (name, body)
        state[name] = body
    return state


# Every admin route that takes an id, with a body that would be valid for the owner.
FOREIGN_ID_CALLS = [
    ("GET", "/v1/admin/services/{service}", None),
    ("PATCH", "/v1/admin/services/{service}", {"name": "Hijacked", "priceCents": 1}),
    ("DELETE", "/v1/admin/services/{service}", None),
    ("GET", "/v1/admin/providers/{provider}", None),
    ("PATCH", "/v1/admin/providers/{provider}", {"name": "Hijacked", "serviceIds": []}),
    ("DELETE", "/v1/admin/providers/{provider}", None),
    ("GET", "/v1/admin/providers/{provider}/availability", None),
    (
        "PUT",
        "/v1/admin/providers/{provider}/availability",
        {"rules": [{"dayOfWeek": 6, "start": "00:00", "end": "24:00", "serviceIds": None}]},
    ),
    ("GET", "/v1/admin/providers/{provider}/overrides", None),
    ("POST", "/v1/admin/providers/{provider}/overrides", {"date": "2027-03-14", "intervals": []}),
    ("DELETE", "/v1/admin/providers/{provider}/overrides/{override}", None),
    ("DELETE", "/v1/admin/providers/{b_provider}/overrides/{override}", None),
]


@pytest.mark.parametrize(
    ("method", "template", "body"), FOREIGN_ID_CALLS, ids=[f"{m} {t}" for m, t, _ in FOREIGN_ID_CALLS]
)
def test_another_tenants_id_answers_404_and_changes_nothing(
    api: Api, world: World, method: str, template: str, body: dict[str, Any] | None
) -> None:
    before = _state_of_a(api, world)

    status, answer = api.call(method, world.fill(template), body, key=world.b_key)

    assert status == 404, answer
    assert answer["error"]["code"] == "not_found"
    assert set(answer) == {"error"}
    assert "A's" not in str(answer)
    assert _state_of_a(api, world) == before


def test_another_tenants_service_ids_cannot_be_put_in_weekly_rules(api: Api, world: World) -> None:
    rules = {"rules": [{"dayOfWeek": 0, "start": "09:00", "end": "17:00", "serviceIds": [world.service_id]}]}

    status, _ = api.call("PUT", f"/v1/admin/providers/{world.b_provider_id}/availability", rules, key=world.b_key)

    assert status == 422


def test_another_tenants_resources_are_not_listed(api: Api, world: World) -> None:
    _, services = api.call("GET", "/v1/admin/services", key=world.b_key)
    _, providers = api.call("GET", "/v1/admin/providers", key=world.b_key)

    assert world.service_id not in {s["id"] for s in services["items"]}
    assert [p["id"] for p in providers["items"]] == [world.b_provider_id]


# --- no key, no answer -----------------------------------------------------------------------


def _tenant_routes() -> list[tuple[str, str]]:
    from app import app

    return sorted(
        (method, path)
        for path, methods in app.routes.items()
        if path.startswith(("/v1/admin/", "/v1/public/"))
        for method in methods
        if method != "OPTIONS"  # a CORS preflight never carries credentials (tests/api/test_cors.py)
    )


@pytest.fixture(scope="module")
def bare_api(emulator: object) -> Iterator[Api]:
    """A client for requests refused before any storage is read, so no fresh table per case."""
    from app import app

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
        yield Api(client)


@pytest.mark.parametrize(("method", "path"), _tenant_routes())
def test_every_tenant_route_without_a_key_is_401_with_the_error_shape(bare_api: Api, method: str, path: str) -> None:
    concrete = re.sub(r"{\w+}", "whatever", path)

    status, body = bare_api.call(method, concrete, {} if method in ("POST", "PUT", "PATCH") else None)

    assert status == 401, body
    assert set(body) == {"error"}
    assert body["error"]["code"] == "unauthorized"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)


def test_the_route_table_covers_admin_and_public_routes() -> None:
    routes = _tenant_routes()

    assert ("GET", "/v1/public/services") in routes
    assert ("DELETE", "/v1/admin/providers/{provider_id}/overrides/{override_id}") in routes
