"""The hosted waitlist form `/waitlist/{slug}`: linked from a day with no free time, validated by
the API's own model, refused without its CSRF token, and pending until the mailed link confirms."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from chalicelib.api.events import dispatch_records
from chalicelib.gateways.mail import InMemoryMailGateway
from infra.local.pumps import StreamPump
from tests.api.booking_support import MONDAY, NOW, Shop, freeze
from tests.api.conftest import Api
from tests.api.waitlist_support import Waitlist, drain

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def waitlist(shop: Shop, aws: str, mail: InMemoryMailGateway) -> Waitlist:
    return Waitlist(shop, StreamPump(aws, dispatch_records), mail)


@pytest.fixture
def cut(shop: Shop) -> dict[str, Any]:
    """A service nobody can book on Monday: its provider works Tuesdays only."""
    service = shop.service(name="Cut", durationMinutes=60, slotIntervalMinutes=60, priceCents=0)
    shop.provider([service], rules=[{"dayOfWeek": 1, "start": "09:00", "end": "17:00", "serviceIds": None}])
    return service


def _slug(shop: Shop) -> str:
    return str(shop.tenant["tenant"]["slug"])


def _form(shop: Shop, query: dict[str, str]) -> tuple[str, str, str]:
    got = shop.api.client.http.get(f"/waitlist/{_slug(shop)}?" + urlencode(query))
    assert got.status_code == 200, got.body
    assert "frame-ancestors 'none'" in got.headers["Content-Security-Policy"]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', got.body.decode())
    assert csrf is not None
    return got.headers["Set-Cookie"].split(";")[0], csrf[1], got.body.decode()


def _fields(cut: dict[str, Any], **changes: str) -> dict[str, str]:
    fields = {
        "service": cut["id"],
        "provider": "",
        "date": MONDAY,
        "from": "09:00",
        "to": "12:00",
        "tz": "America/New_York",
        "name": "Ann",
        "email": "ann@example.test",
    }
    return {**fields, **changes}


def _post(shop: Shop, fields: dict[str, str], cookie: str) -> Any:
    body = urlencode(fields).encode()
    return shop.api.client.http.post(f"/waitlist/{_slug(shop)}", headers={**FORM, "Cookie": cookie}, body=body)


def test_a_day_without_free_time_links_to_the_waitlist_with_its_choices(shop: Shop, cut: dict[str, Any]) -> None:
    page = shop.api.client.http.get(f"/book/{_slug(shop)}?" + urlencode({"service": cut["id"], "date": MONDAY}))
    text = page.body.decode()

    link = re.search(r'href="(/waitlist/[^"]+)"', text)
    assert link is not None and "No time is free" in text
    target = link[1].replace("&amp;", "&")
    assert f"service={cut['id']}" in target and f"date={MONDAY}" in target
    _, _, form = _form(shop, dict(pair.split("=", 1) for pair in target.split("?", 1)[1].split("&")))
    assert f'<option value="{cut["id"]}" selected>' in form and f'value="{MONDAY}"' in form


def test_joining_through_the_form_is_pending_until_the_mailed_link_confirms(
    waitlist: Waitlist, cut: dict[str, Any]
) -> None:
    shop = waitlist.shop
    cookie, csrf, _ = _form(shop, {"service": cut["id"]})

    done = _post(shop, {**_fields(cut, weekly="yes"), "csrf": csrf}, cookie)
    drain(waitlist.stream)

    assert done.status_code == 200 and "Check your mail" in done.body.decode()
    status, listed = waitlist.admin("GET", "?status=pending")
    assert status == 200
    [entry] = listed["items"]
    assert (entry["serviceId"], entry["providerId"], entry["client"]["timezone"]) == (
        cut["id"],
        None,
        "America/New_York",
    )
    assert entry["windows"] == [{"date": None, "dayOfWeek": 0, "start": "09:00", "end": "12:00"}]
    link = waitlist.confirm_link("ann@example.test")
    assert waitlist.confirm(link)[0] == 200


def test_a_post_without_the_forms_token_is_refused_and_joins_nobody(waitlist: Waitlist, cut: dict[str, Any]) -> None:
    shop = waitlist.shop
    _, csrf, _ = _form(shop, {})

    refused = _post(shop, {**_fields(cut), "csrf": csrf}, "wl=forged")
    missing = _post(shop, _fields(cut), "")

    assert refused.status_code == missing.status_code == 403
    assert waitlist.admin("GET", "?status=pending")[1]["items"] == []


def test_bad_fields_come_back_next_to_their_controls_with_what_was_typed(
    waitlist: Waitlist, cut: dict[str, Any]
) -> None:
    shop = waitlist.shop
    cookie, csrf, _ = _form(shop, {})

    answer = _post(shop, {**_fields(cut, to="08:00", email="not-an-email", name="Ann"), "csrf": csrf}, cookie)

    text = answer.body.decode()
    assert answer.status_code == 400
    assert 'id="err-to"' in text and 'id="err-email"' in text and 'value="Ann"' in text
    assert waitlist.admin("GET", "?status=pending")[1]["items"] == []


def test_a_fourth_active_entry_is_refused_on_the_page_as_on_the_api(waitlist: Waitlist, cut: dict[str, Any]) -> None:
    shop = waitlist.shop
    for _ in range(3):
        waitlist.joined(cut, "Ann")
    cookie, csrf, _ = _form(shop, {})

    answer = _post(shop, {**_fields(cut), "csrf": csrf}, cookie)

    assert answer.status_code == 409 and "At most 3 active waitlist entries" in answer.body.decode()


def test_an_unknown_business_is_a_404_page(shop: Shop) -> None:
    got = shop.api.client.http.get("/waitlist/no-such-shop")

    assert got.status_code == 404 and "text/html" in got.headers["Content-Type"]
