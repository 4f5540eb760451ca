"""The edges of the contract: bad input that once answered 500 is a 400, instants are UTC with
`Z`, and the manage token may travel in the X-Manage-Token header instead of the URL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.booking_support import MONDAY, NOW, Shop, client, freeze, local
from tests.api.conftest import Api

DEEP = 1000


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any]) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def massage(shop: Shop) -> dict[str, Any]:
    service = shop.service(name="Massage", durationMinutes=60, slotIntervalMinutes=60, priceCents=0)
    shop.provider([service], name="Dana")
    return service


def _fields(status: int, body: Any) -> dict[str, str]:
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request", body
    return dict(body["error"]["details"].get("fields", body["error"]["details"]))


# --- input that answered 500 ---------------------------------------------------------------------


def test_a_service_body_nested_1000_deep_is_400(shop: Shop) -> None:
    raw = b'{"name": "Deep", "durationMinutes": 30, "description": ' + b"[" * DEEP + b"]" * DEEP + b"}"

    status, body = shop.api.call("POST", "/v1/admin/services", raw=raw, key=shop.key)

    assert set(_fields(status, body)) == {"body"}


def test_a_booking_intake_nested_1000_deep_is_400(shop: Shop, massage: dict) -> None:
    raw = (
        b'{"serviceId": "%s", "start": "2027-03-15T14:00:00Z", "client": {"name": "A", "email": "a@b.test", '
        b'"timezone": "UTC"}, "intake": {"x": ' % massage["id"].encode() + b"[" * DEEP + b"]" * DEEP + b"}}"
    )

    status, body = shop.api.call("POST", "/v1/public/appointments", raw=raw, public_key=shop.public_key)

    assert set(_fields(status, body)) == {"body"}


@pytest.mark.parametrize("name", ["\\ud800", "Ann\\u0000", "Ann\\r\\nBcc: x@y.test", "An\\tn\\u007f"])
def test_a_client_name_with_a_lone_surrogate_or_control_character_is_400(shop: Shop, massage: dict, name: str) -> None:
    raw = b'{"serviceId": "%s", "start": "%s", "client": {"name": "%s", "email": "a@b.test", "timezone": "UTC"}}' % (
        massage["id"].encode(),
        local(MONDAY, "10:00").encode(),
        name.encode(),
    )

    status, body = shop.api.call("POST", "/v1/public/appointments", raw=raw, public_key=shop.public_key)

    assert set(_fields(status, body)) == {"client.name"}


def test_a_booking_at_the_end_of_time_is_400(shop: Shop, massage: dict) -> None:
    status, body = shop.book(massage, "9999-12-31T23:59:59Z")

    assert set(_fields(status, body)) == {"start"}


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-01"), ("9999-12-30", "9999-12-31")])
def test_availability_at_the_ends_of_the_calendar_is_400(shop: Shop, massage: dict, start: str, end: str) -> None:
    status, body = shop.availability(massage, start=start, end=end)

    assert set(_fields(status, body)) == {"start", "end"}


def test_a_provider_name_with_a_nul_is_400(shop: Shop) -> None:
    status, body = shop.api.call("POST", "/v1/admin/providers", {"name": "Dana\x00", "email": "d@x.test"}, key=shop.key)

    assert set(_fields(status, body)) == {"name"}


# --- instants ------------------------------------------------------------------------------------


def test_a_taken_slot_409_names_the_start_in_utc_with_z(shop: Shop, massage: dict) -> None:
    shop.booked(massage, local(MONDAY, "10:00"))

    status, body = shop.book(massage, local(MONDAY, "10:00"), client=client("Bea"))

    assert status == 409, body
    assert body["error"]["details"]["start"].endswith("Z")


# --- the manage token in a header ------------------------------------------------------------------


def test_the_manage_token_may_be_sent_in_the_x_manage_token_header(shop: Shop, massage: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))
    appointment, token = booked["appointment"]["id"], booked["manage"]["token"]
    path = f"/v1/public/appointments/{appointment}"
    header = {"X-Manage-Token": token}

    read = shop.api.call("GET", path, public_key=shop.public_key, headers=header)
    moved = shop.api.call(
        "POST", f"{path}/reschedule", {"start": local(MONDAY, "12:00")}, public_key=shop.public_key, headers=header
    )
    new_token = {"X-Manage-Token": moved[1]["manage"]["token"]}
    cancelled = shop.api.call("POST", f"{path}/cancel", {}, public_key=shop.public_key, headers=new_token)

    assert read[0] == 200 and read[1]["id"] == appointment
    assert moved[0] == 200, moved
    assert cancelled[0] == 200 and cancelled[1]["appointment"]["status"] == "cancelled"


def test_without_a_token_anywhere_the_self_service_routes_are_400_naming_token(shop: Shop, massage: dict) -> None:
    appointment = shop.booked(massage, local(MONDAY, "10:00"))["appointment"]["id"]
    path = f"/v1/public/appointments/{appointment}"

    answers = [
        shop.api.call("GET", path, public_key=shop.public_key),
        shop.api.call("POST", f"{path}/cancel", {}, public_key=shop.public_key),
        shop.api.call("POST", f"{path}/reschedule", {"start": local(MONDAY, "12:00")}, public_key=shop.public_key),
    ]

    assert [set(_fields(*answer)) for answer in answers] == [{"token"}] * 3


def test_a_wrong_header_token_is_410_even_with_a_good_one_in_the_url(shop: Shop, massage: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))
    path = f"/v1/public/appointments/{booked['appointment']['id']}?token={booked['manage']['token']}"

    status, body = shop.api.call("GET", path, public_key=shop.public_key, headers={"X-Manage-Token": "nope"})

    assert status == 410, body
