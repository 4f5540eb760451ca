"""Every URL the product writes into a mail or an API answer during one client journey
(book -> pay -> reschedule -> cancel) is well-formed and points somewhere real: a route the
app serves, the payment page of the (fake) Stripe, or one of the hosted pages (`/manage`,
`/book`) whose path shape is checked here while they are built elsewhere.

Mail is taken as the raw MIME handed to the mail gateway (what `.local/outbox` keeps), every
part read: the text, the HTML's links and the invitation's URL and description.
"""

from __future__ import annotations

import html
import json
import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any
from urllib.parse import parse_qs, urlparse

import icalendar
import pytest

from chalicelib import config
from chalicelib.api.events import dispatch_records
from chalicelib.gateways.mail import InMemoryMailGateway
from infra.local.pumps import StreamPump
from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import paid, session_id
from tests.conftest import PROJECT_DIR

TEXT_URL = re.compile(r"(?:https?|mailto):[^\s<>\"']+")
HREF = re.compile(r"""href="([^"]+)\"""")
HOSTED_PAGES = {
    "manage": re.compile(r"/manage/apt_[A-Za-z0-9]+"),
    "book": re.compile(r"/book/[a-z0-9-]+"),
}


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway, monkeypatch: pytest.MonkeyPatch) -> Shop:
    """The workers (stream, schedules) see the dev stage's PUBLIC_BASE_URL, as the API does:
    Chalice's test client applies the stage's environment only during a request."""
    stage = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]["dev"]
    monkeypatch.setenv("PUBLIC_BASE_URL", stage["environment_variables"]["PUBLIC_BASE_URL"])
    freeze(NOW)
    return Shop(api, tenant)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def urls_in_answer(body: Any) -> list[str]:
    return [url for text in _strings(body) for url in TEXT_URL.findall(text)]


def urls_in_mail(raw: bytes) -> list[str]:
    message = message_from_bytes(raw, policy=default)
    assert isinstance(message, EmailMessage)
    found: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/plain":
            found += TEXT_URL.findall(str(part.get_content()))
        elif kind == "text/html":
            found += [html.unescape(href) for href in HREF.findall(str(part.get_content()))]
        elif kind == "text/calendar":
            for event in icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT"):
                if event.get("URL"):
                    found.append(str(event["URL"]))
                found += TEXT_URL.findall(str(event.get("DESCRIPTION", "")))
    return found


def _routes() -> list[re.Pattern[str]]:
    from app import app

    return [re.compile(re.sub(r"{\w+}", "[^/]+", path)) for path in app.routes]


def problems_with(url: str, stripe_base: str) -> tuple[str | None, str | None]:
    """(why the URL is broken or None, the hosted page it names or None)."""
    parts = urlparse(url)
    if parts.scheme == "mailto":
        return (None if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", parts.path) else "bad mailto"), None
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path.startswith("/"):
        return "not an absolute http(s) URL", None
    if any(c in url for c in " <>\"'{}|\\^`") or url.endswith((".", ",", ")")):
        return "characters that do not belong in a URL", None
    query = parse_qs(parts.query, keep_blank_values=True)
    if any(len(values) != 1 or not values[0] for values in query.values()):
        return "a repeated or empty query parameter", None
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin == config.public_base_url():
        if "token" in query and not HOSTED_PAGES["manage"].fullmatch(parts.path):
            return "a token outside the mail's manage link", None
        for page, shape in HOSTED_PAGES.items():
            if shape.fullmatch(parts.path):
                if page == "manage" and "token" not in query:
                    return "a manage link without its token", page
                return None, page
        if any(route.fullmatch(parts.path) for route in _routes()):
            return None, None
        return "a path the app does not serve", None
    if url.startswith(stripe_base):
        return (None if re.fullmatch(r"/pay/cs_test_\w+", parts.path) else "not a Checkout page"), None
    return f"an unknown host {parts.netloc}", None


def _open(shop: Shop, url: str) -> Any:
    """GET one of our URLs through the app (no cookie: a new browser, or Stripe's redirect)."""
    parts = urlparse(url)
    assert f"{parts.scheme}://{parts.netloc}" == config.public_base_url(), url
    return shop.api.client.http.get(parts.path + (f"?{parts.query}" if parts.query else ""))


def test_every_url_in_the_mail_and_answers_of_a_journey_is_well_formed_and_served(
    shop: Shop, mail: InMemoryMailGateway, aws: str
) -> None:
    stream = StreamPump(aws, dispatch_records)
    service = shop.service(
        name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=10_000, depositCents=2_000
    )
    shop.provider([service], name="Dana")
    answers: list[Any] = []

    # book -> pay -> reschedule -> cancel, each followed by its side effects
    booked = shop.booked(service, local(MONDAY, "10:00"), payment="deposit")
    answers.append(booked)
    appointment_id = booked["appointment"]["id"]
    paid(shop, booked)
    stream.run_once()
    session = shop.api.stripe.get(session_id(booked))
    returns = {"success": session["success_url"], "cancel": session["cancel_url"]}
    assert returns["success"] != returns["cancel"]
    for outcome, url in returns.items():  # where Checkout sends the client back, opened without any cookie
        page = _open(shop, url)
        assert page.status_code == 200, (outcome, url, page.body)
        assert "<h1>Confirmed: Facial</h1>" in page.body.decode(), (outcome, page.body)
    status, moved = shop.public(
        "POST", appointment_id, "reschedule", {"token": booked["manage"]["token"], "start": local(MONDAY, "13:00")}
    )
    assert status == 200, moved
    answers.append(moved)
    stream.run_once()
    status, cancelled = shop.public("POST", appointment_id, "cancel", {"token": moved["manage"]["token"]})
    assert status == 200, cancelled
    answers.append(cancelled)
    stream.run_once()

    for outcome, url in returns.items():  # still a page after the cancellation
        page = _open(shop, url)
        assert page.status_code == 200 and "<h1>Cancelled</h1>" in page.body.decode(), (outcome, page.body)

    collected = [("answer", url) for body in answers for url in urls_in_answer(body)]
    collected += [(f"Checkout {outcome} URL", url) for outcome, url in returns.items()]
    collected += [(f"mail {m.tags['kind']} to {m.recipient}", url) for m in mail.sent for url in urls_in_mail(m.raw)]

    in_mail = [url for where, url in collected if where.startswith("mail")]
    assert sum("/manage/" in url for url in in_mail) >= 3 * 3  # three client mails: text, HTML, invitation
    assert any(url.startswith("mailto:") for url in in_mail)  # the provider's mail links the client's address
    kinds = {m.tags["kind"] for m in mail.sent}
    assert {"confirmation", "reschedule", "cancellation"} <= kinds, kinds
    broken = []
    pages = set()
    for where, url in collected:
        problem, page = problems_with(url, shop.api.stripe.public_url)
        if problem:
            broken.append(f"{where}: {url} ({problem})")
        if page:
            pages.add(page)
            assert appointment_id in url or page == "book", url
    assert broken == []
    assert pages == {"manage"}  # the only hosted page this journey links to
    assert any("checkoutUrl" in body for body in answers)  # the Checkout page was checked too


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8000/manage/apt_1", "a manage link without its token"),
        ("http://127.0.0.1:8000/nowhere", "a path the app does not serve"),
        ("http://127.0.0.1:8000/manage/apt_1?token=", "a repeated or empty query parameter"),
        ("https://evil.example/manage/apt_1?token=x", "an unknown host evil.example"),
        ("127.0.0.1:8000/manage/apt_1", "not an absolute http(s) URL"),
        ("http://127.0.0.1:8000/manage/apt_1/return?token=x", "a token outside the mail's manage link"),
    ],
)
def test_the_url_check_catches_what_it_should(url: str, problem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
    assert problems_with(url, "http://stripe.invalid")[0] == problem
