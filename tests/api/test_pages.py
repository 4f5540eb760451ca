"""Hosted pages over the in-process client: headers, CSRF, booking, the token -> cookie exchange."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any]) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def free(shop: Shop) -> dict[str, Any]:
    service = shop.service(name="Chat", durationMinutes=30, slotIntervalMinutes=30, priceCents=0)
    shop.provider([service], name="Dana")
    return service


def _slug(shop: Shop) -> str:
    return str(shop.tenant["tenant"]["slug"])


def test_booking_page_is_html_with_strict_headers(shop: Shop, free: dict[str, Any]) -> None:
    r = shop.api.client.http.get(f"/book/{_slug(shop)}?" + urlencode({"service": free["id"], "date": MONDAY}))
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["Referrer-Policy"] == "no-referrer"
    assert "HttpOnly" in r.headers["Set-Cookie"] and "Secure" in r.headers["Set-Cookie"]
    assert "(America/New_York)" in r.body.decode()  # a time button's name holds date, time and zone


def test_book_post_without_csrf_is_refused_and_with_it_books_and_exchanges_the_token(
    shop: Shop, free: dict[str, Any]
) -> None:
    http = shop.api.client.http
    fields = {"service": free["id"], "start": local(MONDAY, "10:00"), "name": "Ann", "email": "ann@example.test"}
    refused = http.post(f"/book/{_slug(shop)}", headers={**FORM, "Cookie": "bk=abc"}, body=urlencode(fields).encode())
    assert refused.status_code == 403
    got = http.get(f"/book/{_slug(shop)}?" + urlencode({"service": free["id"], "start": fields["start"]}))
    nonce = got.headers["Set-Cookie"].split(";")[0]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', got.body.decode())
    assert csrf is not None
    done = http.post(
        f"/book/{_slug(shop)}", headers={**FORM, "Cookie": nonce}, body=urlencode({**fields, "csrf": csrf[1]}).encode()
    )
    assert done.status_code == 303, done.body
    location = done.headers["Location"]
    assert location.startswith("/manage/") and "token" not in location
    manage = done.headers["Set-Cookie"].split(";")[0]
    page = http.get(location, headers={"Cookie": manage})
    assert page.status_code == 200 and "Confirmed" in page.body.decode()
    assert http.get(location).status_code == 401  # no cookie, no page
