"""A service says what must be paid when booking (`prepayment: none | deposit | full`, default
`deposit` when the service has a deposit, else `none`); a booking's `payment` may pay more than
that, never less (422 `payment_required`); no `payment` pays what the service requires."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api

TEN = local(MONDAY, "10:00")
PRICE, DEPOSIT = 10_000, 2_000


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any]) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


def _service(shop: Shop, **fields: Any) -> dict[str, Any]:
    service = shop.service(
        name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=PRICE, depositCents=DEPOSIT, **fields
    )
    shop.provider([service], name="Dana")
    return service


# --- on the service ----------------------------------------------------------------------------


def test_the_default_is_deposit_when_the_service_has_one_else_none(shop: Shop) -> None:
    with_deposit = shop.service(name="Peel", priceCents=PRICE, depositPercent=20)
    without = shop.service(name="Chat", priceCents=PRICE)

    assert with_deposit["prepayment"] == "deposit"
    assert without["prepayment"] == "none"


def test_the_prepayment_is_created_read_listed_and_shown_to_clients(shop: Shop) -> None:
    created = _service(shop, prepayment="full")

    status, read = shop.api.call("GET", f"/v1/admin/services/{created['id']}", key=shop.key)
    _, listed = shop.api.call("GET", "/v1/admin/services", key=shop.key)
    _, public = shop.api.call("GET", "/v1/public/services", public_key=shop.public_key)

    assert created["prepayment"] == "full"
    assert status == 200 and read["prepayment"] == "full"
    assert [s["prepayment"] for s in listed["items"]] == ["full"]
    assert [s["prepayment"] for s in public["items"]] == ["full"]


def test_a_patch_changes_the_prepayment_and_null_returns_to_the_default(shop: Shop) -> None:
    created = _service(shop)
    path = f"/v1/admin/services/{created['id']}"

    status, full = shop.api.call("PATCH", path, {"prepayment": "full"}, key=shop.key)
    assert status == 200 and full["prepayment"] == "full", full
    status, back = shop.api.call("PATCH", path, {"prepayment": None}, key=shop.key)
    assert status == 200 and back["prepayment"] == "deposit", back


def test_requiring_a_deposit_from_a_service_without_one_is_400_naming_prepayment(shop: Shop) -> None:
    status, body = shop.api.call(
        "POST", "/v1/admin/services", {"name": "Chat", "durationMinutes": 60, "prepayment": "deposit"}, key=shop.key
    )

    assert status == 400, body
    assert body["error"]["code"] == "invalid_request"
    assert "prepayment" in body["error"]["details"]["fields"]


def test_an_unknown_prepayment_is_400(shop: Shop) -> None:
    status, body = shop.api.call(
        "POST", "/v1/admin/services", {"name": "Chat", "durationMinutes": 60, "prepayment": "half"}, key=shop.key
    )

    assert status == 400, body
    assert "prepayment" in body["error"]["details"]["fields"]


def test_removing_the_deposit_of_a_service_that_requires_it_must_also_change_the_prepayment(shop: Shop) -> None:
    created = _service(shop)
    path = f"/v1/admin/services/{created['id']}"

    refused, body = shop.api.call("PATCH", path, {"depositCents": None}, key=shop.key)
    accepted, changed = shop.api.call("PATCH", path, {"depositCents": None, "prepayment": "none"}, key=shop.key)

    assert refused == 400 and "prepayment" in body["error"]["details"]["fields"], body
    assert accepted == 200 and (changed["depositCents"], changed["prepayment"]) == (None, "none"), changed


# --- at booking ---------------------------------------------------------------------------------

PAID = [
    ("none", None, 0),
    ("none", "deposit", DEPOSIT),
    ("none", "full", PRICE),
    ("deposit", None, DEPOSIT),
    ("deposit", "deposit", DEPOSIT),
    ("deposit", "full", PRICE),
    ("full", None, PRICE),
    ("full", "full", PRICE),
]


@pytest.mark.parametrize(("prepayment", "payment", "due"), PAID)
def test_a_booking_pays_what_the_service_requires_or_more(
    shop: Shop, prepayment: str, payment: str | None, due: int
) -> None:
    service = _service(shop, prepayment=prepayment)

    status, body = shop.book(service, TEN, payment=payment)

    assert status == 201, body
    appointment = body["appointment"]
    assert appointment["amountDueNowCents"] == due
    assert appointment["status"] == ("pending" if due else "confirmed")
    assert ("checkoutUrl" in body) is bool(due)


def test_paying_only_the_deposit_when_the_full_price_is_required_is_422_payment_required(shop: Shop) -> None:
    service = _service(shop, prepayment="full")

    status, body = shop.book(service, TEN, payment="deposit")

    assert status == 422, body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "payment_required"
    assert body["error"]["details"]["prepayment"] == "full"
    assert "payment" in body["error"]["details"]["fields"]
    assert local(MONDAY, "10:00") in shop.slots(service)  # nothing was held


def test_a_service_paid_in_full_with_no_price_confirms_at_once(shop: Shop) -> None:
    free = shop.service(name="Intro", durationMinutes=60, slotIntervalMinutes=60, priceCents=0, prepayment="full")
    shop.provider([free], name="Dana")

    status, body = shop.book(free, TEN)

    assert status == 201, body
    assert body["appointment"]["status"] == "confirmed"


def test_an_admin_booking_may_still_skip_payment(shop: Shop) -> None:
    service = _service(shop, prepayment="full")

    status, body = shop.admin("POST", "", shop.booking(service, TEN, payment="deposit", skipPayment=True))

    assert status == 201, body
    assert body["appointment"]["status"] == "confirmed"
