"""Issue 8 item 7: a stage whose Stripe secrets are absent still books free times; money answers 503."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.services import registry
from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api


@pytest.fixture
def shop(api: Api, monkeypatch: pytest.MonkeyPatch) -> Shop:
    """A tenant with a connected account, then the stage loses its Stripe configuration."""
    freeze(NOW)
    shop = Shop(api, api.open_tenant("acme"))
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_SECRET_KEY_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    registry.reset()  # every service is built again on first use, now without secrets
    freeze(NOW)
    return shop


def _unavailable(status: int, body: Any) -> None:
    assert status == 503, body
    assert body["error"]["code"] == "payments_unavailable"
    assert set(body["error"]) == {"code", "message", "details"}


def test_a_free_booking_and_the_routes_that_move_no_money_work(shop: Shop) -> None:
    free = shop.service(priceCents=0)
    shop.provider([free])

    assert shop.availability(free)[0] == 200
    booked = shop.booked(free, local(MONDAY, "10:00"))
    assert booked["appointment"]["status"] == "confirmed"
    status, listed = shop.admin("GET", "")
    assert status == 200 and [a["id"] for a in listed["items"]] == [booked["appointment"]["id"]]
    status, _ = shop.api.call("GET", "/v1/admin/services", key=shop.key)
    assert status == 200
    status, cancelled = shop.public("POST", booked["appointment"]["id"], "cancel", {"token": booked["manage"]["token"]})
    assert status == 200, cancelled


def test_a_booking_that_owes_money_answers_503_and_leaves_the_time_free(shop: Shop) -> None:
    paid = shop.service(priceCents=5000)
    shop.provider([paid])
    ten = local(MONDAY, "10:00")

    _unavailable(*shop.book(paid, ten, payment="full"))

    assert ten in shop.slots(paid)


def test_stripe_routes_answer_503_in_the_error_shape(shop: Shop) -> None:
    _unavailable(*shop.api.call("GET", "/v1/admin/payments/stripe", key=shop.key))
    _unavailable(*shop.api.call("POST", "/v1/admin/payments/stripe/onboarding", {}, key=shop.key))
