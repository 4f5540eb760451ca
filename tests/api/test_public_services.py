"""GET /v1/public/services: what a client booking may choose from."""

from __future__ import annotations

from tests.api.conftest import Api

PUBLIC = "/v1/public/services"


def test_an_active_service_is_listed_with_the_active_providers_that_offer_it(api: Api, tenant: dict) -> None:
    key = tenant["secretKey"]
    service = api.create_service(key, name="Massage", intakeFields=[{"id": "n", "label": "Notes", "type": "text"}])
    dana = api.create_provider(key, [service["id"]], name="Dana")
    eve = api.create_provider(key, [service["id"]], name="Eve", email="eve@acme.test")
    api.create_provider(key, [service["id"]], name="Away", email="away@acme.test", active=False)

    status, body = api.call("GET", PUBLIC, public_key=tenant["publishableKey"])

    assert status == 200, body
    assert body["nextCursor"] is None
    [listed] = body["items"]
    assert listed["id"] == service["id"]
    assert listed["name"] == "Massage"
    assert listed["durationMinutes"] == service["durationMinutes"]
    assert listed["priceCents"] == service["priceCents"]
    assert listed["intakeFields"] == service["intakeFields"]
    assert sorted(listed["providerIds"]) == sorted([dana["id"], eve["id"]])


def test_inactive_services_are_hidden(api: Api, tenant: dict) -> None:
    key = tenant["secretKey"]
    shown = api.create_service(key, name="Shown")
    hidden = api.create_service(key, name="Retired", active=False)
    api.create_provider(key, [shown["id"], hidden["id"]])

    _, body = api.call("GET", PUBLIC, public_key=tenant["publishableKey"])

    assert [item["id"] for item in body["items"]] == [shown["id"]]


def test_a_service_that_no_one_offers_is_hidden(api: Api, tenant: dict) -> None:
    key = tenant["secretKey"]
    offered = api.create_service(key, name="Offered")
    api.create_service(key, name="Orphan")
    api.create_provider(key, [offered["id"]])

    _, body = api.call("GET", PUBLIC, public_key=tenant["publishableKey"])

    assert [item["id"] for item in body["items"]] == [offered["id"]]


def test_a_service_offered_only_by_inactive_providers_is_hidden(api: Api, tenant: dict) -> None:
    key = tenant["secretKey"]
    service = api.create_service(key)
    api.create_provider(key, [service["id"]], active=False)

    _, body = api.call("GET", PUBLIC, public_key=tenant["publishableKey"])

    assert body["items"] == []


def test_deactivating_a_service_hides_it(api: Api, tenant: dict) -> None:
    key = tenant["secretKey"]
    service = api.create_service(key)
    api.create_provider(key, [service["id"]])

    api.call("PATCH", f"/v1/admin/services/{service['id']}", {"active": False}, key=key)
    _, body = api.call("GET", PUBLIC, public_key=tenant["publishableKey"])

    assert body["items"] == []


def test_the_public_view_carries_no_internal_bookkeeping(api: Api, tenant: dict) -> None:
    key = tenant["secretKey"]
    service = api.create_service(key)
    api.create_provider(key, [service["id"]])

    _, body = api.call("GET", PUBLIC, public_key=tenant["publishableKey"])

    assert not {"version", "createdAt", "updatedAt"} & set(body["items"][0])


def test_only_the_key_holders_services_are_listed(api: Api, tenant: dict, other_tenant: dict) -> None:
    mine = api.create_service(tenant["secretKey"], name="Mine")
    api.create_provider(tenant["secretKey"], [mine["id"]])
    theirs = api.create_service(other_tenant["secretKey"], name="Theirs")
    api.create_provider(other_tenant["secretKey"], [theirs["id"]])

    _, body = api.call("GET", PUBLIC, public_key=tenant["publishableKey"])

    assert [item["id"] for item in body["items"]] == [mine["id"]]


def test_public_services_without_a_key_is_401(api: Api, tenant: dict) -> None:
    status, body = api.call("GET", PUBLIC)

    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_a_secret_key_as_the_tenant_key_is_403(api: Api, tenant: dict) -> None:
    status, body = api.call("GET", PUBLIC, public_key=tenant["secretKey"])

    assert status == 403
    assert body["error"]["code"] == "forbidden"


def test_the_publishable_key_as_a_bearer_token_is_not_a_tenant_key(api: Api, tenant: dict) -> None:
    status, _ = api.call("GET", PUBLIC, key=tenant["publishableKey"])

    assert status == 401


def test_a_garbage_tenant_key_is_401(api: Api, tenant: dict) -> None:
    status, _ = api.call("GET", PUBLIC, public_key="pk_garbage")

    assert status == 401
