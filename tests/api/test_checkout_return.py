"""Stripe Checkout's success and cancel URLs: a signed, expiring reference to a status page,
never the manage token; the page needs no cookie and hands a visitor who has one to the manage page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from chalicelib.pages.manage_cookie import manage_cookie
from chalicelib.services.booking import HOLD_MINUTES
from chalicelib.services.page_links import RETURN_GRACE
from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import paid, session_id


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any]) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def booked(shop: Shop) -> dict[str, Any]:
    service = shop.service(
        name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=10_000, depositCents=2_000
    )
    shop.provider([service], name="Dana")
    return shop.booked(service, local(MONDAY, "10:00"), payment="deposit")


def _returns(shop: Shop, booked: dict[str, Any]) -> dict[str, str]:
    session = shop.api.stripe.get(session_id(booked))
    return {"success": session["success_url"], "cancel": session["cancel_url"]}


def _get(shop: Shop, url: str, cookie: str | None = None) -> Any:
    parts = urlparse(url)
    headers = {"Cookie": cookie} if cookie else {}
    return shop.api.client.http.get(f"{parts.path}?{parts.query}", headers=headers)


def test_the_return_urls_hold_no_token_but_a_signed_reference(shop: Shop, booked: dict[str, Any]) -> None:
    token = booked["manage"]["token"]

    for outcome, url in _returns(shop, booked).items():
        query = parse_qs(urlparse(url).query)
        assert token not in url and "token" not in query, url
        assert urlparse(url).path == f"/manage/{booked['appointment']['id']}/return"
        assert set(query) == {"t", "paid", "exp", "sig"} and query["paid"] == ["1" if outcome == "success" else "0"]


def test_before_the_webhook_the_success_page_says_confirming_and_the_cancel_page_says_not_paid(
    shop: Shop, booked: dict[str, Any]
) -> None:
    returns = _returns(shop, booked)

    success, cancel = _get(shop, returns["success"]), _get(shop, returns["cancel"])

    assert success.status_code == 200 and "Payment received: confirming" in success.body.decode()
    assert cancel.status_code == 200 and "Payment not completed" in cancel.body.decode()
    assert "frame-ancestors 'none'" in success.headers["Content-Security-Policy"]


def test_after_payment_the_success_page_confirms(shop: Shop, booked: dict[str, Any]) -> None:
    paid(shop, booked)

    page = _get(shop, _returns(shop, booked)["success"])

    assert page.status_code == 200 and "<h1>Confirmed: Facial</h1>" in page.body.decode()


def test_a_visitor_with_the_manage_cookie_goes_on_to_the_manage_page(shop: Shop, booked: dict[str, Any]) -> None:
    appointment_id = booked["appointment"]["id"]
    cookie = manage_cookie(appointment_id, shop.tenant["tenant"]["id"], booked["manage"]["token"]).split(";")[0]

    page = _get(shop, _returns(shop, booked)["success"], cookie)

    assert page.status_code == 303
    assert page.headers["Location"] == f"/manage/{appointment_id}?paid=1"


@pytest.mark.parametrize("field", ["sig", "paid", "exp", "t"])
def test_a_tampered_reference_is_a_gone_page(shop: Shop, booked: dict[str, Any], field: str) -> None:
    url = _returns(shop, booked)["success"]
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    query[field] = {"sig": "0" * 64, "paid": "0", "exp": str(int(query["exp"]) + 60), "t": "tn_other"}[field]

    page = shop.api.client.http.get(f"{urlparse(url).path}?{urlencode(query)}")

    assert page.status_code == 410
    assert "This link no longer works" in page.body.decode()


def test_the_reference_expires_a_day_after_the_checkout(shop: Shop, booked: dict[str, Any]) -> None:
    url = _returns(shop, booked)["success"]

    freeze(NOW + RETURN_GRACE)  # the Checkout (the hold) outlives NOW, so this is inside the grace
    still = _get(shop, url).status_code
    freeze(NOW + RETURN_GRACE + timedelta(minutes=HOLD_MINUTES + 1))
    gone = _get(shop, url).status_code

    assert (still, gone) == (200, 410)
