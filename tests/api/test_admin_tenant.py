"""GET/PATCH /v1/admin/tenant, POST /v1/admin/keys/rotate, and who may call admin routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.credentials import KeyKind, issue_key
from tests.api.conftest import Api
from tests.conftest import PLATFORM_KEY, PROJECT_DIR

SETTINGS = "/v1/admin/tenant"
ROTATE = "/v1/admin/keys/rotate"
FULL_SETTINGS: dict[str, Any] = {
    "name": "Acme Dental",
    "timezone": "Europe/Paris",
    "currency": "EUR",
    "email": "front-desk@acme.test",
    "branding": {"primaryColor": "#112233", "accentColor": "#AABBCC", "logoUrl": "https://cdn.acme.test/logo.png"},
    "slotIntervalMinutes": 30,
    "minNoticeMinutes": 120,
    "maxAdvanceDays": 60,
    "reminderOffsetsMinutes": [2880, 120],
    "defaultCancellationPolicy": {
        "tiers": [{"minHoursBefore": 48, "refundPercent": 100}, {"minHoursBefore": 0, "refundPercent": 0}]
    },
    "taxRateBps": 2000,
    "legalName": "Acme Dental GmbH",
    "address": {
        "line1": "Hauptstraße 1",
        "line2": "2. OG",
        "city": "Berlin",
        "postalCode": "10115",
        "region": "Berlin",
        "country": "DE",
    },
    "taxId": "DE123456789",
    "invoicePrefix": "RE",
    "creditNotePrefix": "GS",
    "pricesIncludeTax": False,
    "paperSize": "Letter",
}


@pytest.fixture(scope="module")
def bare_api(emulator: object) -> Iterator[Api]:
    """A client for requests refused before any storage is read, so no fresh table per case."""
    from app import app

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as client:
        yield Api(client)


def _fields(body: dict[str, Any]) -> dict[str, str]:
    assert body["error"]["code"] == "invalid_request", body
    return dict(body["error"]["details"]["fields"])


# --- reading and changing settings ---------------------------------------------------------


def test_a_new_tenant_reads_the_documented_defaults(api: Api, tenant: dict) -> None:
    status, body = api.call("GET", SETTINGS, key=tenant["secretKey"])

    assert status == 200
    assert body["id"] == tenant["tenant"]["id"]
    assert body["slug"] == "acme"
    assert body["slotIntervalMinutes"] == 15
    assert body["reminderOffsetsMinutes"] == [1440, 60]
    assert body["minNoticeMinutes"] == 0
    assert body["defaultCancellationPolicy"] is None
    assert body["taxRateBps"] == 0
    assert body["branding"] == {}
    assert body["invoicePrefix"] == "INV"
    assert body["creditNotePrefix"] == "CN"
    assert body["pricesIncludeTax"] is True
    assert body["paperSize"] == "A4"
    assert (body["legalName"], body["taxId"]) == ("", "")
    assert body["address"] == {"line1": "", "line2": "", "city": "", "postalCode": "", "region": "", "country": ""}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"paperSize": "A5"}, "paperSize"),
        ({"invoicePrefix": "IN V"}, "invoicePrefix"),
        ({"address": {"country": "Germany"}}, "address.country"),
        ({"address": {"street": "x"}}, "address.street"),
        ({"pricesIncludeTax": "yes"}, "pricesIncludeTax"),
    ],
)
def test_invalid_invoice_settings_are_400s_naming_the_field(api: Api, tenant: dict, patch: dict, field: str) -> None:
    status, body = api.call("PATCH", SETTINGS, patch, key=tenant["secretKey"])

    assert status == 400
    assert field in _fields(body)


def test_every_setting_can_be_changed_and_is_read_back(api: Api, tenant: dict) -> None:
    status, patched = api.call("PATCH", SETTINGS, FULL_SETTINGS, key=tenant["secretKey"])
    _, read_back = api.call("GET", SETTINGS, key=tenant["secretKey"])

    assert status == 200, patched
    assert read_back == patched
    for name, value in FULL_SETTINGS.items():
        assert read_back[name] == value, name


def test_patching_one_setting_keeps_the_others(api: Api, tenant: dict) -> None:
    api.call("PATCH", SETTINGS, FULL_SETTINGS, key=tenant["secretKey"])

    status, body = api.call("PATCH", SETTINGS, {"taxRateBps": 825}, key=tenant["secretKey"])

    assert status == 200
    assert body["taxRateBps"] == 825
    for name, value in FULL_SETTINGS.items():
        if name != "taxRateBps":
            assert body[name] == value, name


def test_a_null_policy_clears_the_default_cancellation_policy(api: Api, tenant: dict) -> None:
    api.call("PATCH", SETTINGS, FULL_SETTINGS, key=tenant["secretKey"])

    status, body = api.call("PATCH", SETTINGS, {"defaultCancellationPolicy": None}, key=tenant["secretKey"])

    assert status == 200
    assert body["defaultCancellationPolicy"] is None


def test_each_successful_patch_increments_the_version(api: Api, tenant: dict) -> None:
    _, before = api.call("GET", SETTINGS, key=tenant["secretKey"])

    _, first = api.call("PATCH", SETTINGS, {"name": "One"}, key=tenant["secretKey"])
    _, second = api.call("PATCH", SETTINGS, {"name": "Two"}, key=tenant["secretKey"])

    assert first["version"] == before["version"] + 1
    assert second["version"] == before["version"] + 2


def test_read_only_fields_in_a_patch_are_ignored(api: Api, tenant: dict) -> None:
    _, before = api.call("GET", SETTINGS, key=tenant["secretKey"])

    status, body = api.call(
        "PATCH",
        SETTINGS,
        {"id": "tn_someone_else", "version": 99, "createdAt": "2000-01-01T00:00:00Z", "name": "Renamed"},
        key=tenant["secretKey"],
    )

    assert status == 200
    assert body["id"] == before["id"]
    assert body["createdAt"] == before["createdAt"]
    assert body["version"] == before["version"] + 1
    assert body["name"] == "Renamed"


def test_the_slug_cannot_be_changed(api: Api, tenant: dict) -> None:
    status, body = api.call("PATCH", SETTINGS, {"slug": "acme-two"}, key=tenant["secretKey"])
    _, after = api.call("GET", SETTINGS, key=tenant["secretKey"])

    assert status == 400
    assert "slug" in _fields(body)
    assert after["slug"] == "acme"


def test_sending_the_unchanged_slug_back_is_fine(api: Api, tenant: dict) -> None:
    status, body = api.call("PATCH", SETTINGS, {"slug": "acme", "name": "Same Slug"}, key=tenant["secretKey"])

    assert status == 200
    assert body["name"] == "Same Slug"


# The full range of each setting is covered by tests/unit/test_parsing.py; these cases show
# the rules the API contract names, end to end.
INVALID_SETTINGS = [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"currency": "usd"}, "currency"),
    ({"branding": {"primaryColor": "red"}}, "branding.primaryColor"),
    ({"branding": {"fontFamily": "Comic Sans"}}, "branding.fontFamily"),
    ({"reminderOffsetsMinutes": [60, 60]}, "reminderOffsetsMinutes"),
    (
        {
            "defaultCancellationPolicy": {
                "tiers": [{"minHoursBefore": 0, "refundPercent": 0}, {"minHoursBefore": 24, "refundPercent": 50}]
            }
        },
        "defaultCancellationPolicy.tiers",
    ),
    (
        {"defaultCancellationPolicy": {"tiers": [{"minHoursBefore": 24, "refundPercent": 150}]}},
        "defaultCancellationPolicy.tiers[0].refundPercent",
    ),
]


def test_each_invalid_setting_is_400_naming_the_field_and_changes_nothing(api: Api, tenant: dict) -> None:
    _, before = api.call("GET", SETTINGS, key=tenant["secretKey"])

    answers = [
        (patch, field, *api.call("PATCH", SETTINGS, patch, key=tenant["secretKey"]))
        for patch, field in INVALID_SETTINGS
    ]
    _, after = api.call("GET", SETTINGS, key=tenant["secretKey"])

    wrong = [
        (patch, field, status, body)
        for patch, field, status, body in answers
        if status != 400 or field not in _fields(body)
    ]
    assert wrong == []
    assert after == before


def test_every_invalid_setting_is_reported_at_once(api: Api, tenant: dict) -> None:
    patch = {"timezone": "Nowhere/Special", "branding": {"primaryColor": "blue"}, "reminderOffsetsMinutes": [5, 5]}

    status, body = api.call("PATCH", SETTINGS, patch, key=tenant["secretKey"])

    assert status == 400
    assert set(_fields(body)) == {"timezone", "branding.primaryColor", "reminderOffsetsMinutes"}


def test_a_patch_body_that_is_not_an_object_is_400(api: Api, tenant: dict) -> None:
    status, body = api.call("PATCH", SETTINGS, raw=b'["name"]', key=tenant["secretKey"])

    assert status == 400
    assert body["error"]["code"] == "invalid_request"


# --- rotating the secret key ----------------------------------------------------------------


def test_a_rotated_secret_key_works_and_the_old_one_is_401(api: Api, tenant: dict) -> None:
    old_key = tenant["secretKey"]

    status, body = api.call("POST", ROTATE, key=old_key)
    new_key = body["secretKey"]

    assert status == 201
    assert new_key.startswith("sk_") and new_key != old_key
    assert api.call("GET", SETTINGS, key=new_key)[0] == 200
    old_status, old_body = api.call("GET", SETTINGS, key=old_key)
    assert old_status == 401
    assert old_body["error"]["code"] == "unauthorized"


def test_rotating_the_secret_key_leaves_the_publishable_key_working(api: Api, tenant: dict) -> None:
    api.call("POST", ROTATE, key=tenant["secretKey"])

    status, _ = api.call("GET", "/v1/public/services", public_key=tenant["publishableKey"])

    assert status == 200


def test_the_rotated_key_can_itself_be_rotated(api: Api, tenant: dict) -> None:
    _, first = api.call("POST", ROTATE, key=tenant["secretKey"])

    status, second = api.call("POST", ROTATE, key=first["secretKey"])

    assert status == 201
    assert api.call("GET", SETTINGS, key=second["secretKey"])[0] == 200
    assert api.call("GET", SETTINGS, key=first["secretKey"])[0] == 401


def test_rotating_one_tenants_key_leaves_another_tenants_key_working(
    api: Api, tenant: dict, other_tenant: dict
) -> None:
    api.call("POST", ROTATE, key=tenant["secretKey"])

    status, body = api.call("GET", SETTINGS, key=other_tenant["secretKey"])

    assert status == 200
    assert body["slug"] == "globex"


def test_the_publishable_key_cannot_rotate_the_secret_key(api: Api, tenant: dict) -> None:
    status, _ = api.call("POST", ROTATE, key=tenant["publishableKey"])

    assert status == 403
    assert api.call("GET", SETTINGS, key=tenant["secretKey"])[0] == 200


# --- credentials on admin routes ------------------------------------------------------------


def test_a_publishable_key_on_an_admin_route_is_403(api: Api, tenant: dict) -> None:
    status, body = api.call("GET", SETTINGS, key=tenant["publishableKey"])

    assert status == 403
    assert body["error"]["code"] == "forbidden"


def test_no_key_on_an_admin_route_is_401(bare_api: Api) -> None:
    status, body = bare_api.call("GET", SETTINGS)

    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_a_401_names_the_bearer_scheme_in_www_authenticate(bare_api: Api) -> None:
    response = bare_api.client.http.get(SETTINGS)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "garbage",
    [
        "garbage",
        "sk_",
        "sk_tnabc_short",
        "sk_tnabc_" + "g" * 64,
        "sk_tnabc_" + "A" * 64,
        "xk_tnabc_" + "a" * 64,
        "sk_" + "a" * 64,
        "sk_tnabc_" + "a" * 300,
    ],
)
def test_a_garbage_key_is_401(bare_api: Api, garbage: str) -> None:
    status, body = bare_api.call("GET", SETTINGS, key=garbage)

    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_a_well_formed_key_for_a_tenant_that_does_not_exist_is_401(api: Api, tenant: dict) -> None:
    forged = issue_key(KeyKind.SECRET, "tn" + "0" * 20).plaintext

    status, body = api.call("GET", SETTINGS, key=forged)

    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_a_key_naming_one_tenant_with_another_tenants_secret_is_401(api: Api, tenant: dict, other_tenant: dict) -> None:
    secret_part = other_tenant["secretKey"].rpartition("_")[2]
    spliced = f"sk_{tenant['tenant']['id']}_{secret_part}"

    status, _ = api.call("GET", SETTINGS, key=spliced)

    assert status == 401


def test_a_key_sent_with_another_auth_scheme_is_401(api: Api, tenant: dict) -> None:
    response = api.client.http.get(SETTINGS, headers={"Authorization": f"Basic {tenant['secretKey']}"})

    assert response.status_code == 401


def test_the_platform_key_is_not_a_tenant_admin_key(api: Api, tenant: dict) -> None:
    status, _ = api.call("GET", SETTINGS, key=PLATFORM_KEY)

    assert status == 401
