"""The waitlist on `make run`: a freed time cascades through three clients (decline, expiry,
accept), each step driven only by the links in the mails the stack writes to .local/outbox."""

from __future__ import annotations

import time
from datetime import date, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from tests.e2e.test_local_stack import stack  # noqa: F401 (the module's own stack)


def _link_in_mail(local: Any, api: str, to: str, subject: str, marker: str, wait: float) -> dict[str, str]:
    """Wait for the mail, read its .eml from the outbox and return the link's ids and token."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        items = requests.get(f"{api}/_local/mail", timeout=10).json()["items"]
        mine = [m for m in items if to in m["to"] and m["subject"].startswith(subject)]
        if mine:
            raw = (local / "outbox" / mine[-1]["file"]).read_bytes()
            message = message_from_bytes(raw, policy=default)
            assert isinstance(message, EmailMessage)
            body = message.get_body(("plain",))
            assert body is not None
            url = next(w for w in str(body.get_content()).split() if marker in w)
            parsed = urlparse(url)
            query = parse_qs(parsed.query)
            return {
                "id": parsed.path.rstrip("/").rsplit("/", 2)[-2 if marker == "/confirm?" else -1],
                "token": query["token"][0],
            }
        time.sleep(0.3)
    raise AssertionError(f"no mail {subject!r} to {to} within {wait} s")


def _first_open_slot(demo: dict[str, Any]) -> dict[str, Any]:
    first = date.today() + timedelta(days=2)
    response = requests.get(
        f"{demo['apiUrl']}/v1/public/services/{demo['serviceId']}/availability",
        params={"start": str(first), "end": str(first + timedelta(days=14)), "timezone": "UTC"},
        headers={"X-Tenant-Key": demo["publishableKey"]},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["slots"][0])


def test_a_freed_time_cascades_through_three_clients_by_their_mails(stack: dict[str, Any]) -> None:  # noqa: F811
    demo, local = stack["demo"], stack["local_dir"]
    api = demo["apiUrl"]
    public = {"X-Tenant-Key": demo["publishableKey"]}
    admin = {"Authorization": f"Bearer {demo['secretKey']}"}
    run = str(int(time.time()))
    patched = requests.patch(f"{api}/v1/admin/tenant", json={"waitlistOfferMinutes": 1}, headers=admin, timeout=10)
    assert patched.status_code == 200, patched.text

    # GIVEN a booked time and three confirmed waitlist entries for that day
    slot = _first_open_slot(demo)
    day = date.fromisoformat(slot["start"][:10])
    booking = requests.post(
        f"{api}/v1/public/appointments",
        json={
            "serviceId": demo["serviceId"],
            "providerId": slot["providerIds"][0],
            "start": slot["start"],
            "client": {"name": "Zed", "email": f"zed-{run}@example.test", "timezone": "UTC"},
            "intake": {},
        },
        headers=public,
        timeout=10,
    )
    assert booking.status_code == 201, booking.text
    emails = {name: f"{name.lower()}-{run}@example.test" for name in ("Ann", "Bob", "Cara")}
    for name, email in emails.items():
        joined = requests.post(
            f"{api}/v1/public/waitlist",
            json={
                "serviceId": demo["serviceId"],
                "windows": [{"date": str(day), "start": "00:00", "end": "24:00"}],
                "client": {"name": name, "email": email, "timezone": "UTC"},
            },
            headers=public,
            timeout=10,
        )
        assert joined.status_code == 201, joined.text
        link = _link_in_mail(local, api, email, "Confirm your place", "/confirm?", 15)
        confirmed = requests.post(
            f"{api}/v1/public/waitlist/{link['id']}/confirm", json={"token": link["token"]}, headers=public, timeout=10
        )
        assert confirmed.status_code == 200, confirmed.text
        time.sleep(1.1)  # join order decides equal scores

    # WHEN the booking is cancelled, Ann declines, Bob lets his minute pass and Cara accepts
    appointment_id = booking.json()["appointment"]["id"]
    cancelled = requests.post(
        f"{api}/v1/admin/appointments/{appointment_id}/cancel", json={"refund": "none"}, headers=admin, timeout=10
    )
    assert cancelled.status_code == 200, cancelled.text
    ann = _link_in_mail(local, api, emails["Ann"], "A time opened up", "/waitlist/offers/", 20)
    declined = requests.post(
        f"{api}/v1/public/waitlist/offers/{ann['id']}/decline", json={"token": ann["token"]}, headers=public, timeout=10
    )
    assert declined.status_code == 200, declined.text
    bob = _link_in_mail(local, api, emails["Bob"], "A time opened up", "/waitlist/offers/", 20)
    cara = _link_in_mail(local, api, emails["Cara"], "A time opened up", "/waitlist/offers/", 120)  # Bob's expiry
    late = requests.post(
        f"{api}/v1/public/waitlist/offers/{bob['id']}/accept", json={"token": bob["token"]}, headers=public, timeout=10
    )
    accepted = requests.post(
        f"{api}/v1/public/waitlist/offers/{cara['id']}/accept",
        json={"token": cara["token"]},
        headers=public,
        timeout=30,
    )

    # THEN Cara holds the time, Bob's expired link is gone
    assert late.status_code == 410, late.text
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["appointment"]["start"] == slot["start"]
    assert accepted.json()["appointment"]["client"]["email"] == emails["Cara"]
