"""Admin CRUD of providers, their weekly availability rules and their date overrides."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.store.catalog import CatalogRepository
from tests.api.conftest import Api

PROVIDERS = "/v1/admin/providers"


def _fields(body: dict[str, Any]) -> dict[str, str]:
    assert body["error"]["code"] == "invalid_request", body
    return dict(body["error"]["details"]["fields"])


def _rule(day: int, start: str, end: str, service_ids: list[str] | None = None) -> dict[str, Any]:
    return {"dayOfWeek": day, "start": start, "end": end, "serviceIds": service_ids}


@pytest.fixture
def key(tenant: dict) -> str:
    return str(tenant["secretKey"])


@pytest.fixture
def service(api: Api, key: str) -> dict[str, Any]:
    return api.create_service(key)


@pytest.fixture
def provider(api: Api, key: str, service: dict[str, Any]) -> dict[str, Any]:
    return api.create_provider(key, [service["id"]])


# --- provider CRUD ---------------------------------------------------------------------------


def test_creating_a_provider_returns_it_with_defaults(api: Api, key: str, service: dict) -> None:
    status, body = api.call(
        "POST", PROVIDERS, {"name": "Dana", "email": "dana@acme.test", "serviceIds": [service["id"]]}, key=key
    )

    assert status == 201, body
    assert body["id"].startswith("prv_")
    assert body["serviceIds"] == [service["id"]]
    assert body["timezone"] is None
    assert body["active"] is True


def test_a_created_provider_reads_back_identically(api: Api, key: str, service: dict) -> None:
    created = api.create_provider(key, [service["id"]], timezone="Europe/Berlin", active=False)

    status, body = api.call("GET", f"{PROVIDERS}/{created['id']}", key=key)

    assert status == 200
    assert body == created
    assert body["timezone"] == "Europe/Berlin"
    assert body["active"] is False


def test_a_provider_may_offer_no_service_yet(api: Api, key: str) -> None:
    status, body = api.call("POST", PROVIDERS, {"name": "New Hire", "email": "new@acme.test"}, key=key)

    assert status == 201
    assert body["serviceIds"] == []


def test_listing_providers_shows_each_once(api: Api, key: str, service: dict) -> None:
    ids = {api.create_provider(key, [service["id"]], name=f"P{i}")["id"] for i in range(3)}

    status, body = api.call("GET", f"{PROVIDERS}?limit=2", key=key)
    _, rest = api.call("GET", f"{PROVIDERS}?limit=2&cursor={body['nextCursor']}", key=key)

    assert status == 200
    assert {p["id"] for p in body["items"] + rest["items"]} == ids
    assert rest["nextCursor"] is None


def test_patch_changes_only_the_given_fields(api: Api, key: str, provider: dict) -> None:
    status, body = api.call(
        "PATCH", f"{PROVIDERS}/{provider['id']}", {"name": "Dana S.", "id": "prv_other", "version": 9}, key=key
    )

    assert status == 200, body
    assert body["name"] == "Dana S."
    assert body["id"] == provider["id"]
    assert body["serviceIds"] == provider["serviceIds"]
    assert body["email"] == provider["email"]
    assert body["version"] == provider["version"] + 1


def test_patch_can_drop_a_service(api: Api, key: str, provider: dict) -> None:
    status, body = api.call("PATCH", f"{PROVIDERS}/{provider['id']}", {"serviceIds": []}, key=key)

    assert status == 200
    assert body["serviceIds"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@acme.test"}, "name"),
        ({"name": "X"}, "email"),
        ({"name": "X", "email": "nope"}, "email"),
        ({"name": "X", "email": "x@acme.test", "timezone": "Atlantis/Capital"}, "timezone"),
        ({"name": "X", "email": "x@acme.test", "serviceIds": "svc_1"}, "serviceIds"),
        ({"name": "X", "email": "x@acme.test", "active": 1}, "active"),
    ],
)
def test_an_invalid_provider_is_400_naming_the_field(api: Api, key: str, body: dict, field: str) -> None:
    status, answer = api.call("POST", PROVIDERS, body, key=key)

    assert status == 400
    assert field in _fields(answer)


def test_a_provider_with_unknown_service_ids_is_422(api: Api, key: str, service: dict) -> None:
    status, body = api.call(
        "POST",
        PROVIDERS,
        {"name": "X", "email": "x@acme.test", "serviceIds": [service["id"], "svc_missing"]},
        key=key,
    )
    _, listed = api.call("GET", PROVIDERS, key=key)

    assert status == 422
    assert body["error"]["code"] == "rule_violation"
    assert body["error"]["details"]["fields"]["serviceIds"] == ["svc_missing"]
    assert listed["items"] == []


def test_a_provider_cannot_offer_another_tenants_service(api: Api, key: str, other_tenant: dict) -> None:
    theirs = api.create_service(other_tenant["secretKey"])

    status, _ = api.call(
        "POST", PROVIDERS, {"name": "X", "email": "x@acme.test", "serviceIds": [theirs["id"]]}, key=key
    )

    assert status == 422


def test_patching_in_an_unknown_service_id_is_422_and_changes_nothing(api: Api, key: str, provider: dict) -> None:
    status, _ = api.call(
        "PATCH", f"{PROVIDERS}/{provider['id']}", {"serviceIds": [*provider["serviceIds"], "svc_missing"]}, key=key
    )
    _, after = api.call("GET", f"{PROVIDERS}/{provider['id']}", key=key)

    assert status == 422
    assert after == provider


def test_a_deleted_provider_is_gone(api: Api, key: str, provider: dict) -> None:
    status, _ = api.call("DELETE", f"{PROVIDERS}/{provider['id']}", key=key)

    assert status == 204
    assert api.call("GET", f"{PROVIDERS}/{provider['id']}", key=key)[0] == 404
    assert api.call("DELETE", f"{PROVIDERS}/{provider['id']}", key=key)[0] == 404


# --- weekly availability rules ----------------------------------------------------------------


def _put_rules(api: Api, key: str, provider_id: str, rules: list[dict[str, Any]]) -> tuple[int, Any]:
    return api.call("PUT", f"{PROVIDERS}/{provider_id}/availability", {"rules": rules}, key=key)


def test_a_provider_without_rules_has_an_empty_week(api: Api, key: str, provider: dict) -> None:
    status, body = api.call("GET", f"{PROVIDERS}/{provider['id']}/availability", key=key)

    assert status == 200
    assert body == {"rules": []}


def test_put_rules_are_read_back(api: Api, key: str, provider: dict, service: dict) -> None:
    rules = [_rule(0, "09:00", "12:00"), _rule(0, "13:00", "17:00", [service["id"]]), _rule(5, "10:00", "14:00")]

    status, body = _put_rules(api, key, provider["id"], rules)
    _, read_back = api.call("GET", f"{PROVIDERS}/{provider['id']}/availability", key=key)

    assert status == 200, body
    assert read_back == body
    assert read_back["rules"] == rules


def test_a_second_put_replaces_every_rule(api: Api, key: str, provider: dict) -> None:
    _put_rules(api, key, provider["id"], [_rule(0, "09:00", "17:00"), _rule(1, "09:00", "17:00")])

    _put_rules(api, key, provider["id"], [_rule(3, "08:00", "10:00")])
    _, read_back = api.call("GET", f"{PROVIDERS}/{provider['id']}/availability", key=key)

    assert read_back["rules"] == [_rule(3, "08:00", "10:00")]


def test_an_empty_rule_list_clears_the_week(api: Api, key: str, provider: dict) -> None:
    _put_rules(api, key, provider["id"], [_rule(0, "09:00", "17:00")])

    status, body = _put_rules(api, key, provider["id"], [])

    assert status == 200
    assert body == {"rules": []}


def test_a_rule_may_end_at_midnight(api: Api, key: str, provider: dict) -> None:
    status, body = _put_rules(api, key, provider["id"], [_rule(4, "18:00", "24:00")])

    assert status == 200, body
    assert body["rules"][0]["end"] == "24:00"


def test_rules_that_touch_do_not_overlap(api: Api, key: str, provider: dict) -> None:
    status, _ = _put_rules(api, key, provider["id"], [_rule(2, "09:00", "12:00"), _rule(2, "12:00", "15:00")])

    assert status == 200


def test_rules_for_different_services_may_overlap(api: Api, key: str, provider: dict) -> None:
    other = api.create_service(key, name="Other")
    rules = [_rule(2, "09:00", "12:00", [provider["serviceIds"][0]]), _rule(2, "10:00", "14:00", [other["id"]])]

    status, body = _put_rules(api, key, provider["id"], rules)

    assert status == 200, body


# Representative cases end to end; every shape of a bad rule is covered against parse_rules in
# tests/unit/test_parsing.py.
INVALID_RULES = {
    "H:MM": (_rule(0, "9:00", "17:00"), "rules[0].start"),
    "hour 25": (_rule(0, "25:00", "26:00"), "rules[0].start"),
    "starts at 24:00": (_rule(0, "24:00", "24:00"), "rules[0].start"),
    "ends before it starts": (_rule(0, "17:00", "09:00"), "rules[0].end"),
    "day 7": (_rule(7, "09:00", "17:00"), "rules[0].dayOfWeek"),
    "day -1": (_rule(-1, "09:00", "17:00"), "rules[0].dayOfWeek"),
    "non-ascii digit": (_rule(0, "0\u0669:00", "17:00"), "rules[0].start"),
}


def test_each_invalid_rule_is_400_naming_it_and_keeps_the_previous_rules(api: Api, key: str, provider: dict) -> None:
    _put_rules(api, key, provider["id"], [_rule(0, "09:00", "17:00")])

    answers = {name: _put_rules(api, key, provider["id"], [rule]) for name, (rule, _) in INVALID_RULES.items()}
    _, read_back = api.call("GET", f"{PROVIDERS}/{provider['id']}/availability", key=key)

    wrong = {
        name: answer
        for name, answer in answers.items()
        if answer[0] != 400 or INVALID_RULES[name][1] not in _fields(answer[1])
    }
    assert wrong == {}
    assert read_back["rules"] == [_rule(0, "09:00", "17:00")]


def test_overlapping_rules_on_one_day_are_400_naming_the_later_rule(api: Api, key: str, provider: dict) -> None:
    rules = [_rule(0, "09:00", "12:00"), _rule(1, "09:00", "12:00"), _rule(0, "11:00", "14:00")]

    status, body = _put_rules(api, key, provider["id"], rules)

    assert status == 400
    fields = _fields(body)
    assert set(fields) == {"rules[2]"}
    assert "rules[0]" in fields["rules[2]"]


def test_a_rule_for_all_services_overlaps_one_for_a_single_service(api: Api, key: str, provider: dict) -> None:
    rules = [_rule(0, "09:00", "12:00"), _rule(0, "11:00", "14:00", [provider["serviceIds"][0]])]

    status, body = _put_rules(api, key, provider["id"], rules)

    assert status == 400
    assert "rules[1]" in _fields(body)


def test_a_rejected_put_keeps_the_previous_rules(api: Api, key: str, provider: dict) -> None:
    _put_rules(api, key, provider["id"], [_rule(0, "09:00", "17:00")])

    _put_rules(api, key, provider["id"], [_rule(0, "09:00", "12:00"), _rule(0, "10:00", "11:00")])
    _, read_back = api.call("GET", f"{PROVIDERS}/{provider['id']}/availability", key=key)

    assert read_back["rules"] == [_rule(0, "09:00", "17:00")]


def test_a_rule_for_an_unknown_service_is_422(api: Api, key: str, provider: dict) -> None:
    status, body = _put_rules(api, key, provider["id"], [_rule(0, "09:00", "17:00", ["svc_missing"])])

    assert status == 422
    assert body["error"]["details"]["fields"]["serviceIds"] == ["svc_missing"]


def test_rules_of_an_unknown_provider_are_404(api: Api, key: str) -> None:
    assert _put_rules(api, key, "prv_missing", [_rule(0, "09:00", "17:00")])[0] == 404
    assert api.call("GET", f"{PROVIDERS}/prv_missing/availability", key=key)[0] == 404


def test_putting_rules_without_a_rules_list_is_400(api: Api, key: str, provider: dict) -> None:
    status, body = api.call("PUT", f"{PROVIDERS}/{provider['id']}/availability", {}, key=key)

    assert status == 400
    assert "rules" in _fields(body)


# --- date overrides --------------------------------------------------------------------------


def _add_override(api: Api, key: str, provider_id: str, day: str, intervals: list[dict[str, str]]) -> tuple[int, Any]:
    return api.call("POST", f"{PROVIDERS}/{provider_id}/overrides", {"date": day, "intervals": intervals}, key=key)


def _overrides(api: Api, key: str, provider_id: str) -> list[dict[str, Any]]:
    status, body = api.call("GET", f"{PROVIDERS}/{provider_id}/overrides", key=key)
    assert status == 200, body
    return list(body["items"])


def test_an_added_override_is_listed(api: Api, key: str, provider: dict) -> None:
    status, body = _add_override(api, key, provider["id"], "2027-03-14", [{"start": "10:00", "end": "12:00"}])

    assert status == 201, body
    assert body["id"]
    assert body["date"] == "2027-03-14"
    assert body["intervals"] == [{"start": "10:00", "end": "12:00"}]
    assert _overrides(api, key, provider["id"]) == [body]


def test_overrides_are_listed_in_date_order(api: Api, key: str, provider: dict) -> None:
    for day in ("2027-05-01", "2027-03-01", "2027-04-01"):
        _add_override(api, key, provider["id"], day, [])

    dates = [o["date"] for o in _overrides(api, key, provider["id"])]

    assert dates == ["2027-03-01", "2027-04-01", "2027-05-01"]


def test_an_override_with_no_intervals_is_a_day_off(api: Api, key: str, provider: dict) -> None:
    status, body = _add_override(api, key, provider["id"], "2027-12-25", [])

    assert status == 201
    assert body["intervals"] == []
    assert _overrides(api, key, provider["id"])[0]["intervals"] == []


def test_a_second_override_on_the_same_date_replaces_the_first(api: Api, key: str, provider: dict) -> None:
    _, first = _add_override(api, key, provider["id"], "2027-03-14", [{"start": "10:00", "end": "12:00"}])

    status, second = _add_override(api, key, provider["id"], "2027-03-14", [{"start": "13:00", "end": "24:00"}])

    assert status == 201
    assert _overrides(api, key, provider["id"]) == [second]
    assert api.call("DELETE", f"{PROVIDERS}/{provider['id']}/overrides/{first['id']}", key=key)[0] == 404


def test_intervals_are_returned_in_time_order(api: Api, key: str, provider: dict) -> None:
    intervals = [{"start": "14:00", "end": "16:00"}, {"start": "08:00", "end": "10:00"}]

    _, body = _add_override(api, key, provider["id"], "2027-03-14", intervals)

    assert body["intervals"] == [intervals[1], intervals[0]]


def test_a_deleted_override_is_no_longer_listed(api: Api, key: str, provider: dict) -> None:
    _, kept = _add_override(api, key, provider["id"], "2027-03-15", [])
    _, dropped = _add_override(api, key, provider["id"], "2027-03-14", [])

    status, _ = api.call("DELETE", f"{PROVIDERS}/{provider['id']}/overrides/{dropped['id']}", key=key)

    assert status == 204
    assert _overrides(api, key, provider["id"]) == [kept]


def test_deleting_an_unknown_override_is_404(api: Api, key: str, provider: dict) -> None:
    status, body = api.call("DELETE", f"{PROVIDERS}/{provider['id']}/overrides/ovr_missing", key=key)

    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_an_override_cannot_be_deleted_through_another_provider(
    api: Api, key: str, provider: dict, service: dict
) -> None:
    other = api.create_provider(key, [service["id"]], name="Eve")
    _, override = _add_override(api, key, provider["id"], "2027-03-14", [])

    status, _ = api.call("DELETE", f"{PROVIDERS}/{other['id']}/overrides/{override['id']}", key=key)

    assert status == 404
    assert _overrides(api, key, provider["id"]) == [override]


INVALID_OVERRIDES = {
    "no such day": ({"date": "2027-02-30", "intervals": []}, "date"),
    "week date": ({"date": "2027-W11-7", "intervals": []}, "date"),
    "no intervals": ({"date": "2027-03-14"}, "intervals"),
    "interval ends before it starts": (
        {"date": "2027-03-14", "intervals": [{"start": "12:00", "end": "10:00"}]},
        "intervals[0].end",
    ),
    "overlapping intervals": (
        {"date": "2027-03-14", "intervals": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]},
        "intervals[1]",
    ),
}


def test_each_invalid_override_is_400_naming_the_field_and_stores_nothing(api: Api, key: str, provider: dict) -> None:
    path = f"{PROVIDERS}/{provider['id']}/overrides"

    answers = {name: api.call("POST", path, body, key=key) for name, (body, _) in INVALID_OVERRIDES.items()}

    wrong = {
        name: answer
        for name, answer in answers.items()
        if answer[0] != 400 or INVALID_OVERRIDES[name][1] not in _fields(answer[1])
    }
    assert wrong == {}
    assert _overrides(api, key, provider["id"]) == []


def test_every_interval_overlapping_a_long_one_is_named(api: Api, key: str, provider: dict) -> None:
    intervals = [
        {"start": "09:00", "end": "17:00"},
        {"start": "10:00", "end": "11:00"},
        {"start": "12:00", "end": "13:00"},
    ]

    status, body = _add_override(api, key, provider["id"], "2027-03-14", intervals)

    assert status == 400
    assert set(_fields(body)) == {"intervals[1]", "intervals[2]"}


def test_touching_override_intervals_are_accepted(api: Api, key: str, provider: dict) -> None:
    intervals = [{"start": "09:00", "end": "12:00"}, {"start": "12:00", "end": "13:00"}]

    status, _ = _add_override(api, key, provider["id"], "2027-03-14", intervals)

    assert status == 201


def test_overrides_of_an_unknown_provider_are_404(api: Api, key: str) -> None:
    assert _add_override(api, key, "prv_missing", "2027-03-14", [])[0] == 404
    assert api.call("GET", f"{PROVIDERS}/prv_missing/overrides", key=key)[0] == 404


# --- deleting a provider takes its rules and overrides with it --------------------------------


def test_deleting_a_provider_deletes_its_rules_and_overrides(
    api: Api, key: str, tenant: dict, provider: dict, service: dict
) -> None:
    kept = api.create_provider(key, [service["id"]], name="Kept")
    for someone in (provider, kept):
        _put_rules(api, key, someone["id"], [_rule(0, "09:00", "17:00")])
        _add_override(api, key, someone["id"], "2027-03-14", [])
        _add_override(api, key, someone["id"], "2027-03-15", [{"start": "10:00", "end": "11:00"}])

    status, _ = api.call("DELETE", f"{PROVIDERS}/{provider['id']}", key=key)

    assert status == 204
    assert api.call("GET", f"{PROVIDERS}/{provider['id']}/availability", key=key)[0] == 404
    assert api.call("GET", f"{PROVIDERS}/{provider['id']}/overrides", key=key)[0] == 404
    snapshot = CatalogRepository().snapshot(tenant["tenant"]["id"])
    assert set(snapshot.providers) == {kept["id"]}
    assert set(snapshot.rules) == {kept["id"]}
    assert set(snapshot.overrides) == {kept["id"]}
    assert len(snapshot.overrides[kept["id"]]) == 2


def test_a_rule_naming_no_service_is_400(api: Api, tenant: dict) -> None:
    key = tenant["secretKey"]
    provider = api.create_provider(key, [])
    rules = {"rules": [{"dayOfWeek": 0, "start": "09:00", "end": "12:00", "serviceIds": []}]}

    status, body = api.call("PUT", f"/v1/admin/providers/{provider['id']}/availability", rules, key=key)

    assert status == 400
    assert "rules[0].serviceIds" in body["error"]["details"]["fields"]


def test_rules_for_an_unknown_provider_are_404_even_when_their_services_are_unknown(api: Api, tenant: dict) -> None:
    rules = {"rules": [{"dayOfWeek": 0, "start": "09:00", "end": "12:00", "serviceIds": ["svc_nope"]}]}

    status, body = api.call("PUT", "/v1/admin/providers/prv_nope/availability", rules, key=tenant["secretKey"])

    assert status == 404, body
