"""`/embed/{slug}`: framed only by the tenant's allowed origins, events only to an allowed parent,
a form post that needs no cookie but is refused from another site or without its signed token."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SITE = "https://www.acme-dental.test"
OTHER = "https://partner.acme.test:8443"


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


def _get(shop: Shop, path: str, **query: str) -> Any:
    return shop.api.client.http.get(path + ("?" + urlencode(query) if query else ""))


def _details_form(shop: Shop, service: dict[str, Any], parent: str = SITE) -> dict[str, str]:
    """The hidden fields of the embedded details form for Monday 10:00 (what the browser would post)."""
    page = _get(shop, f"/embed/{_slug(shop)}", service=service["id"], start=local(MONDAY, "10:00"), parent=parent)
    assert page.status_code == 200, page.body
    text = page.body.decode()
    form = text[text.index('<form method="post"') :]
    return {html.unescape(n): html.unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form)}


def _post(shop: Shop, fields: dict[str, str], **headers: str) -> Any:
    body = urlencode({**fields, "name": "Ann", "email": "ann@example.test"}).encode()
    return shop.api.client.http.post(f"/embed/{_slug(shop)}", headers={**FORM, **headers}, body=body)


def test_the_embed_page_may_be_framed_by_the_allowed_origins_only(shop: Shop, free: dict[str, Any]) -> None:
    shop.settings(allowedOrigins=[SITE, OTHER])

    framed = _get(shop, f"/embed/{_slug(shop)}")
    hosted = _get(shop, f"/book/{_slug(shop)}")

    assert framed.status_code == 200
    assert f"frame-ancestors {SITE} {OTHER}" in framed.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in framed.headers
    assert "script-src 'self'" in framed.headers["Content-Security-Policy"]
    assert "Set-Cookie" not in framed.headers  # a cross-site frame may get no cookie: it needs none
    assert "frame-ancestors 'none'" in hosted.headers["Content-Security-Policy"]
    assert hosted.headers["X-Frame-Options"] == "DENY"


def test_without_allowed_origins_the_embed_page_may_not_be_framed(shop: Shop, free: dict[str, Any]) -> None:
    framed = _get(shop, f"/embed/{_slug(shop)}")

    assert "frame-ancestors 'none'" in framed.headers["Content-Security-Policy"]
    assert framed.headers["X-Frame-Options"] == "DENY"


def test_events_go_only_to_an_allowed_parent_which_every_step_keeps(shop: Shop, free: dict[str, Any]) -> None:
    shop.settings(allowedOrigins=[SITE])

    allowed = _get(shop, f"/embed/{_slug(shop)}", service=free["id"], date=MONDAY, parent=SITE).body.decode()
    foreign = _get(shop, f"/embed/{_slug(shop)}", service=free["id"], parent="https://evil.test").body.decode()

    assert f'data-parent-origin="{SITE}"' in allowed
    assert '<script src="/static/embed-frame.js" defer>' in allowed
    assert allowed.count(f'name="parent" value="{SITE}"') == 2  # the choice form and the times form
    assert "parent=https%3A%2F%2Fwww.acme-dental.test" in allowed  # previous / next day links
    assert 'action="/embed/' in allowed and 'action="/book/' not in allowed
    assert "data-parent-origin" not in foreign and "evil.test" not in foreign


def test_an_embedded_booking_confirms_in_the_frame_and_announces_it(shop: Shop, free: dict[str, Any]) -> None:
    shop.settings(allowedOrigins=[SITE])
    fields = _details_form(shop, free)

    done = _post(shop, fields, **{"Sec-Fetch-Site": "same-origin", "Origin": "https://dev.example.invalid"})

    assert done.status_code == 200, done.body
    text = done.body.decode()
    assert "<h1>Confirmed: Chat</h1>" in text
    found = re.search(
        r'data-embed-event="scheduling:booked" data-appointment-id="(apt_\w+)" data-status="confirmed"', text
    )
    assert found, text
    assert f'data-parent-origin="{SITE}"' in text
    assert f"frame-ancestors {SITE}" in done.headers["Content-Security-Policy"]
    status, listed = shop.admin("GET", f"/{found[1]}")
    assert status == 200 and listed["status"] == "confirmed"


@pytest.mark.parametrize(
    ("change", "headers"),
    [
        ({"csrf": ""}, {}),
        ({"csrf": "0" * 64}, {}),
        ({"issued": "1"}, {}),  # a token for another moment does not verify
        ({}, {"Sec-Fetch-Site": "cross-site"}),
        ({}, {"Sec-Fetch-Site": "same-site"}),
        ({}, {"Origin": "https://evil.test"}),
    ],
)
def test_an_embedded_post_without_its_token_or_from_another_site_is_refused(
    shop: Shop, free: dict[str, Any], change: dict[str, str], headers: dict[str, str]
) -> None:
    shop.settings(allowedOrigins=[SITE])
    fields = {**_details_form(shop, free), **change}

    refused = _post(shop, fields, **headers)

    assert refused.status_code == 403
    assert "Please try again" in refused.body.decode()
    status, listed = shop.admin("GET", "?from=2027-03-15T00:00:00Z&to=2027-03-16T00:00:00Z")
    assert status == 200 and listed["items"] == []


def test_an_embedded_form_older_than_two_hours_is_refused(shop: Shop, free: dict[str, Any]) -> None:
    shop.settings(allowedOrigins=[SITE])
    fields = _details_form(shop, free)
    freeze(NOW + timedelta(hours=2, minutes=1))

    assert _post(shop, fields, **{"Sec-Fetch-Site": "same-origin"}).status_code == 403


def test_an_embedded_paid_booking_sends_the_client_to_checkout_in_the_top_window(shop: Shop) -> None:
    service = shop.service(
        name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=10_000, depositCents=2_000
    )
    shop.provider([service], name="Dana")
    shop.settings(allowedOrigins=[SITE])

    done = _post(shop, _details_form(shop, service), **{"Sec-Fetch-Site": "same-origin"})

    text = done.body.decode()
    assert done.status_code == 200, text
    link = re.search(r'<a class="button" href="([^"]+)" target="_top">Pay \$20\.00 with Stripe</a>', text)
    assert link and link[1].startswith(shop.api.stripe.public_url), text
    assert 'data-status="pending"' in text
