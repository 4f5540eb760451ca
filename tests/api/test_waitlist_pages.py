"""The waitlist's hosted pages: opening a mailed link changes nothing; its buttons post the
link's token with a CSRF token, and accept leads to the booking's own page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.api.events import dispatch_records
from chalicelib.gateways.mail import InMemoryMailGateway
from infra.local.pumps import StreamPump
from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api
from tests.api.waitlist_support import Link, Waitlist, drain, offer_link

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TEN = local(MONDAY, "10:00")


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def waitlist(shop: Shop, aws: str, mail: InMemoryMailGateway) -> Waitlist:
    return Waitlist(shop, StreamPump(aws, dispatch_records), mail)


@pytest.fixture
def cut(shop: Shop) -> dict[str, Any]:
    service = shop.service(name="Cut", durationMinutes=60, slotIntervalMinutes=60, priceCents=0)
    shop.provider([service], name="Dana")
    return service


def _open(shop: Shop, path: str) -> tuple[str, str]:
    """GET a page; its nonce cookie and the CSRF field of its forms."""
    got = shop.api.client.http.get(path)
    assert got.status_code == 200, got.body
    assert "frame-ancestors 'none'" in got.headers["Content-Security-Policy"]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', got.body.decode())
    assert csrf is not None
    return got.headers["Set-Cookie"].split(";")[0], csrf[1]


def _post(shop: Shop, path: str, link: Link, cookie: str, csrf: str) -> Any:
    body = urlencode({"csrf": csrf, "t": link.tenant, "token": link.token}).encode()
    return shop.api.client.http.post(path, headers={**FORM, "Cookie": cookie}, body=body)


def test_the_confirmation_page_confirms_only_when_its_button_is_pressed(
    waitlist: Waitlist, cut: dict[str, Any]
) -> None:
    shop = waitlist.shop
    status, body = waitlist.join(cut, "Ann")
    assert status == 201
    link = waitlist.confirm_link("ann@example.test")
    path = f"/waitlist/{link.resource_id}/confirm?" + urlencode({"t": link.tenant, "token": link.token})
    cookie, csrf = _open(shop, path)
    status, page = waitlist.admin("GET", "?status=pending")
    assert [e["id"] for e in page["items"]] == [body["entry"]["id"]]  # opening it changed nothing
    refused = _post(shop, f"/waitlist/{link.resource_id}/confirm", link, "wl=forged", csrf)
    assert refused.status_code == 403
    done = _post(shop, f"/waitlist/{link.resource_id}/confirm", link, cookie, csrf)
    assert done.status_code == 200 and "You are on the waitlist" in done.body.decode()
    again = _post(shop, f"/waitlist/{link.resource_id}/confirm", link, cookie, csrf)
    assert again.status_code == 410


def test_the_offer_page_has_both_buttons_and_accept_opens_the_booking(
    waitlist: Waitlist, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    shop = waitlist.shop
    booked = shop.booked(cut, TEN, client={"name": "Zed", "email": "zed@example.test", "timezone": "UTC"})
    for i, name in enumerate(("Ann", "Bob")):
        freeze(NOW + timedelta(seconds=i))
        waitlist.joined(cut, name)
    status, _ = shop.admin("POST", f"/{booked['appointment']['id']}/cancel", {"refund": "none"})
    assert status == 200
    drain(waitlist.stream)

    ann = offer_link(mail, "ann@example.test")
    path = f"/waitlist/offers/{ann.resource_id}?" + urlencode({"t": ann.tenant, "token": ann.token})
    got = shop.api.client.http.get(path)
    text = got.body.decode()
    assert got.status_code == 200 and "Accept and book" in text and "Decline" in text and "held for you" in text
    cookie, csrf = _open(shop, path)
    declined = _post(shop, f"/waitlist/offers/{ann.resource_id}/decline", ann, cookie, csrf)
    assert declined.status_code == 200 and "Declined" in declined.body.decode()
    assert shop.api.client.http.get(path).status_code == 410
    drain(waitlist.stream)

    bob = offer_link(mail, "bob@example.test")
    path = f"/waitlist/offers/{bob.resource_id}?" + urlencode({"t": bob.tenant, "token": bob.token})
    cookie, csrf = _open(shop, path)
    accepted = _post(shop, f"/waitlist/offers/{bob.resource_id}/accept", bob, cookie, csrf)
    assert accepted.status_code == 303, accepted.body
    location = accepted.headers["Location"]
    assert location.startswith("/manage/")
    manage = accepted.headers["Set-Cookie"].split(";")[0]
    page = shop.api.client.http.get(location, headers={"Cookie": manage})
    assert page.status_code == 200 and "Confirmed" in page.body.decode()
