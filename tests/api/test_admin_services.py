"""Admin CRUD of services: /v1/admin/services and /v1/admin/services/{id}."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from tests.api.conftest import Api

SERVICES = "/v1/admin/services"
POLICY = {"tiers": [{"minHoursBefore": 48, "refundPercent": 100}, {"minHoursBefore": 0, "refundPercent": 25}]}
INTAKE = [
    {"id": "reason", "label": "Reason for visit", "type": "textarea", "required": True},
    {"id": "first", "label": "First visit?", "type": "select", "required": False, "options": ["yes", "no"]},
]
VALID: dict[str, Any] = {"name": "Cleaning", "durationMinutes": 45, "priceCents": 9000}


@dataclass(frozen=True)
class Case:
    """A request body that must be refused, and the field the 400 must name."""

    body: dict[str, Any]
    field: str
    id: str


def _fields(body: dict[str, Any]) -> dict[str, str]:
    assert body["error"]["code"] == "invalid_request", body
    return dict(body["error"]["details"]["fields"])


# --- create and read -------------------------------------------------------------------------


def test_creating_a_service_fills_the_documented_defaults(api: Api, tenant: dict) -> None:
    status, body = api.call("POST", SERVICES, VALID, key=tenant["secretKey"])

    assert status == 201, body
    assert body["id"].startswith("svc_")
    assert body["name"] == "Cleaning"
    assert body["durationMinutes"] == 45
    assert body["priceCents"] == 9000
    assert body["bufferBeforeMinutes"] == 0 and body["bufferAfterMinutes"] == 0
    assert body["slotIntervalMinutes"] is None
    assert body["depositCents"] is None and body["depositPercent"] is None
    assert body["capacity"] == 1
    assert body["active"] is True
    assert body["intakeFields"] == []
    assert body["cancellationPolicy"] is None
    assert body["description"] == ""


def test_a_created_service_reads_back_identically(api: Api, tenant: dict) -> None:
    full = {
        **VALID,
        "description": "Scale and polish",
        "bufferBeforeMinutes": 5,
        "bufferAfterMinutes": 10,
        "slotIntervalMinutes": 30,
        "depositPercent": 20,
        "capacity": 4,
        "active": False,
        "intakeFields": INTAKE,
        "cancellationPolicy": POLICY,
    }
    _, created = api.call("POST", SERVICES, full, key=tenant["secretKey"])

    status, body = api.call("GET", f"{SERVICES}/{created['id']}", key=tenant["secretKey"])

    assert status == 200
    assert body == created
    assert body["intakeFields"][0] == {**INTAKE[0], "options": []}
    assert body["intakeFields"][1] == INTAKE[1]
    assert body["cancellationPolicy"] == POLICY


def test_currency_defaults_to_the_tenants_currency(api: Api, tenant: dict) -> None:
    api.call("PATCH", "/v1/admin/tenant", {"currency": "EUR"}, key=tenant["secretKey"])

    _, body = api.call("POST", SERVICES, VALID, key=tenant["secretKey"])

    assert body["currency"] == "EUR"


def test_an_explicit_currency_wins_over_the_tenants(api: Api, tenant: dict) -> None:
    _, body = api.call("POST", SERVICES, {**VALID, "currency": "GBP"}, key=tenant["secretKey"])

    assert body["currency"] == "GBP"


def test_an_unknown_service_id_is_404(api: Api, tenant: dict) -> None:
    status, body = api.call("GET", f"{SERVICES}/svc_doesnotexist", key=tenant["secretKey"])

    assert status == 404
    assert body["error"]["code"] == "not_found"


# --- validation ------------------------------------------------------------------------------


# Every rule the brief of the catalog names, end to end; the rest of each field's range is
# covered against parse_service in tests/unit/test_parsing.py.
INVALID_SERVICES = [
    Case({"durationMinutes": 30}, "name", id="missing name"),
    Case({**VALID, "durationMinutes": 0}, "durationMinutes", id="duration 0"),
    Case({**VALID, "depositCents": 1000, "depositPercent": 10}, "depositCents", id="both deposits"),
    Case({**VALID, "depositCents": 9001}, "depositCents", id="deposit above price"),
    Case(
        {**VALID, "intakeFields": [{"id": "pick", "label": "Pick", "type": "select"}]},
        "intakeFields[0].options",
        id="select without options",
    ),
    Case(
        {**VALID, "intakeFields": [{"id": "note", "label": "Note", "type": "text", "options": ["a"]}]},
        "intakeFields[0].options",
        id="options on text",
    ),
    Case(
        {
            **VALID,
            "intakeFields": [
                {"id": "note", "label": "Note", "type": "text"},
                {"id": "note", "label": "Other note", "type": "textarea"},
            ],
        },
        "intakeFields[1].id",
        id="duplicate intake ids",
    ),
    Case(
        {**VALID, "intakeFields": [{"id": "sig", "label": "Signature", "type": "signature"}]},
        "intakeFields[0].type",
        id="unknown intake type",
    ),
    Case(
        {
            **VALID,
            "cancellationPolicy": {
                "tiers": [{"minHoursBefore": 0, "refundPercent": 0}, {"minHoursBefore": 24, "refundPercent": 50}]
            },
        },
        "cancellationPolicy.tiers",
        id="unordered tiers",
    ),
    Case({**VALID, "capacity": 0}, "capacity", id="capacity 0"),
    Case({**VALID, "currency": "XYZ"}, "currency", id="unknown currency"),
]


def test_each_invalid_service_is_400_naming_the_field_and_nothing_is_stored(api: Api, tenant: dict) -> None:
    answers = [
        (case.id, case.field, *api.call("POST", SERVICES, case.body, key=tenant["secretKey"]))
        for case in INVALID_SERVICES
    ]
    _, listed = api.call("GET", SERVICES, key=tenant["secretKey"])

    wrong = [
        (name, field, status, body)
        for name, field, status, body in answers
        if status != 400 or field not in _fields(body)
    ]
    assert wrong == []
    assert listed["items"] == []


def test_every_invalid_service_field_is_reported_at_once(api: Api, tenant: dict) -> None:
    body = {
        "durationMinutes": 0,
        "capacity": 0,
        "intakeFields": [
            {"id": "a", "label": "A", "type": "text"},
            {"id": "b", "label": "B", "type": "select"},
            {"id": "a", "label": "C", "type": "text"},
        ],
    }

    status, answer = api.call("POST", SERVICES, body, key=tenant["secretKey"])

    assert status == 400
    assert set(_fields(answer)) == {
        "name",
        "durationMinutes",
        "capacity",
        "intakeFields[1].options",
        "intakeFields[2].id",
    }


def test_a_deposit_equal_to_the_price_is_accepted(api: Api, tenant: dict) -> None:
    status, body = api.call("POST", SERVICES, {**VALID, "depositCents": 9000}, key=tenant["secretKey"])

    assert status == 201
    assert body["depositCents"] == 9000


# --- list and paging -------------------------------------------------------------------------


def _create_services(api: Api, key: str, count: int) -> set[str]:
    return {api.create_service(key, name=f"Service {i}")["id"] for i in range(count)}


def test_listing_pages_through_every_service_exactly_once(api: Api, tenant: dict) -> None:
    created = _create_services(api, tenant["secretKey"], 5)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        status, body = api.call("GET", SERVICES + query, key=tenant["secretKey"])
        assert status == 200
        assert len(body["items"]) <= 2
        seen.extend(item["id"] for item in body["items"])
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            break

    assert pages == 3
    assert len(seen) == 5
    assert set(seen) == created


def test_a_list_that_fits_one_page_has_no_next_cursor(api: Api, tenant: dict) -> None:
    created = _create_services(api, tenant["secretKey"], 3)

    status, body = api.call("GET", SERVICES, key=tenant["secretKey"])

    assert status == 200
    assert {item["id"] for item in body["items"]} == created
    assert body["nextCursor"] is None


def test_a_limit_equal_to_the_count_has_no_next_cursor(api: Api, tenant: dict) -> None:
    _create_services(api, tenant["secretKey"], 2)

    _, body = api.call("GET", SERVICES + "?limit=2", key=tenant["secretKey"])

    assert len(body["items"]) == 2
    assert body["nextCursor"] is None


def test_the_maximum_limit_is_accepted(api: Api, tenant: dict) -> None:
    status, _ = api.call("GET", SERVICES + "?limit=200", key=tenant["secretKey"])

    assert status == 200


def test_a_limit_out_of_range_or_not_an_ascii_integer_is_400(api: Api, tenant: dict) -> None:
    answers = {
        limit: api.call("GET", f"{SERVICES}?limit={limit}", key=tenant["secretKey"])
        for limit in ("0", "201", "abc", "%C2%B2", "%D9%A3")  # '²' and ARABIC-INDIC DIGIT THREE
    }

    wrong = {
        limit: answer for limit, answer in answers.items() if answer[0] != 400 or "limit" not in _fields(answer[1])
    }
    assert wrong == {}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_a_cursor_this_api_did_not_issue_is_400(api: Api, tenant: dict) -> None:
    cursors = ["garbage!!", _b64(b"[1, 2]"), _b64(json.dumps({"after": 5}).encode())]

    answers = {cursor: api.call("GET", f"{SERVICES}?cursor={cursor}", key=tenant["secretKey"]) for cursor in cursors}

    wrong = {c: answer for c, answer in answers.items() if answer[0] != 400 or "cursor" not in _fields(answer[1])}
    assert wrong == {}


def test_listing_shows_only_the_callers_services(api: Api, tenant: dict, other_tenant: dict) -> None:
    mine = api.create_service(tenant["secretKey"], name="Mine")
    api.create_service(other_tenant["secretKey"], name="Theirs")

    _, body = api.call("GET", SERVICES, key=tenant["secretKey"])

    assert [item["id"] for item in body["items"]] == [mine["id"]]


# --- patch -----------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(api: Api, tenant: dict) -> None:
    created = api.create_service(
        tenant["secretKey"], intakeFields=INTAKE, cancellationPolicy=POLICY, bufferAfterMinutes=15, currency="CAD"
    )

    status, body = api.call("PATCH", f"{SERVICES}/{created['id']}", {"name": "Renamed"}, key=tenant["secretKey"])

    assert status == 200, body
    assert body["name"] == "Renamed"
    unchanged = {k: v for k, v in created.items() if k not in ("name", "updatedAt", "version")}
    assert {k: body[k] for k in unchanged} == unchanged
    assert body["version"] == created["version"] + 1


def test_patch_ignores_read_only_fields(api: Api, tenant: dict) -> None:
    created = api.create_service(tenant["secretKey"])

    status, body = api.call(
        "PATCH",
        f"{SERVICES}/{created['id']}",
        {"id": "svc_hijack", "version": 42, "createdAt": "2001-01-01T00:00:00Z", "priceCents": 100},
        key=tenant["secretKey"],
    )

    assert status == 200, body
    assert body["id"] == created["id"]
    assert body["createdAt"] == created["createdAt"]
    assert body["version"] == created["version"] + 1
    assert body["priceCents"] == 100
    assert api.call("GET", f"{SERVICES}/svc_hijack", key=tenant["secretKey"])[0] == 404


def test_patch_keeps_the_services_currency_when_the_tenants_changed(api: Api, tenant: dict) -> None:
    created = api.create_service(tenant["secretKey"])
    api.call("PATCH", "/v1/admin/tenant", {"currency": "EUR"}, key=tenant["secretKey"])

    _, body = api.call("PATCH", f"{SERVICES}/{created['id']}", {"name": "Renamed"}, key=tenant["secretKey"])

    assert body["currency"] == "USD"


def test_patch_can_switch_from_a_fixed_deposit_to_a_percentage(api: Api, tenant: dict) -> None:
    created = api.create_service(tenant["secretKey"], depositCents=1000)

    status, body = api.call(
        "PATCH",
        f"{SERVICES}/{created['id']}",
        {"depositCents": None, "depositPercent": 50},
        key=tenant["secretKey"],
    )

    assert status == 200, body
    assert body["depositCents"] is None
    assert body["depositPercent"] == 50


def test_an_invalid_patch_is_400_and_leaves_the_service_unchanged(api: Api, tenant: dict) -> None:
    created = api.create_service(tenant["secretKey"])

    status, body = api.call("PATCH", f"{SERVICES}/{created['id']}", {"capacity": 0}, key=tenant["secretKey"])
    _, after = api.call("GET", f"{SERVICES}/{created['id']}", key=tenant["secretKey"])

    assert status == 400
    assert "capacity" in _fields(body)
    assert after == created


def test_patching_an_unknown_service_is_404(api: Api, tenant: dict) -> None:
    status, _ = api.call("PATCH", f"{SERVICES}/svc_nope", {"name": "X"}, key=tenant["secretKey"])

    assert status == 404


# --- delete ----------------------------------------------------------------------------------


def test_a_deleted_service_is_gone(api: Api, tenant: dict) -> None:
    created = api.create_service(tenant["secretKey"])

    status, body = api.call("DELETE", f"{SERVICES}/{created['id']}", key=tenant["secretKey"])

    assert status == 204
    assert body is None
    assert api.call("GET", f"{SERVICES}/{created['id']}", key=tenant["secretKey"])[0] == 404
    assert api.call("GET", SERVICES, key=tenant["secretKey"])[1]["items"] == []


def test_deleting_a_service_twice_is_404_the_second_time(api: Api, tenant: dict) -> None:
    created = api.create_service(tenant["secretKey"])
    api.call("DELETE", f"{SERVICES}/{created['id']}", key=tenant["secretKey"])

    status, body = api.call("DELETE", f"{SERVICES}/{created['id']}", key=tenant["secretKey"])

    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_deleting_a_service_takes_it_out_of_providers_and_rules(api: Api, tenant: dict) -> None:
    # GIVEN two services, a provider offering both, and a rule that names only the first
    key = tenant["secretKey"]
    doomed = api.create_service(key, name="Doomed")
    kept = api.create_service(key, name="Kept")
    provider = api.create_provider(key, [doomed["id"], kept["id"]])
    rules = {
        "rules": [
            {"dayOfWeek": 0, "start": "09:00", "end": "12:00", "serviceIds": [doomed["id"]]},
            {"dayOfWeek": 1, "start": "09:00", "end": "12:00", "serviceIds": [doomed["id"], kept["id"]]},
            {"dayOfWeek": 2, "start": "09:00", "end": "12:00", "serviceIds": None},
        ]
    }
    assert api.call("PUT", f"/v1/admin/providers/{provider['id']}/availability", rules, key=key)[0] == 200

    # WHEN the first service is deleted
    status, _ = api.call("DELETE", f"{SERVICES}/{doomed['id']}", key=key)

    # THEN the provider and its rules no longer name it, and re-PUTting what GET returns works
    assert status == 204
    _, after = api.call("GET", f"/v1/admin/providers/{provider['id']}", key=key)
    assert after["serviceIds"] == [kept["id"]]
    _, now_rules = api.call("GET", f"/v1/admin/providers/{provider['id']}/availability", key=key)
    assert now_rules["rules"] == [
        {"dayOfWeek": 1, "start": "09:00", "end": "12:00", "serviceIds": [kept["id"]]},
        {"dayOfWeek": 2, "start": "09:00", "end": "12:00", "serviceIds": None},
    ]
    assert api.call("PUT", f"/v1/admin/providers/{provider['id']}/availability", now_rules, key=key)[0] == 200
