"""What the client and the provider read, end to end: bookings through the API, the stream
through the dispatcher Lambda runs, mail parsed from the raw MIME the gateway was handed."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest

from chalicelib.api.events import dispatch_records, run_scheduled_task
from chalicelib.domain.clock import from_iso
from chalicelib.gateways.mail import InMemoryMailGateway
from chalicelib.services.mail_content import REFUND_ARRIVAL
from infra.local.pumps import StreamPump
from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import TIERED_POLICY, paid

ANN = "ann@example.test"
DANA = "dana@shop.test"
TEN = local(MONDAY, "10:00")
CLIENT = {"name": "Ann Lee", "email": ANN, "phone": "+1 555 0100", "timezone": "America/New_York"}
INTAKE_FIELDS = [
    {"id": "allergies", "label": "Any allergies?", "type": "text", "required": True},
    {"id": "first", "label": "First visit", "type": "checkbox"},
]


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def stream(aws: str) -> StreamPump:
    return StreamPump(aws, dispatch_records)


@pytest.fixture
def facial(shop: Shop) -> dict[str, Any]:
    """$100, $20 deposit, the tiered policy (48 h or more before: everything back)."""
    service = shop.service(
        name="Facial",
        durationMinutes=60,
        slotIntervalMinutes=60,
        priceCents=10_000,
        depositCents=2_000,
        cancellationPolicy=TIERED_POLICY,
        intakeFields=INTAKE_FIELDS,
    )
    shop.provider([service], name="Dana")
    return service


def _mails(gateway: InMemoryMailGateway, kind: str, to: str) -> list[EmailMessage]:
    found = []
    for sent in gateway.sent:
        if sent.tags.get("kind") == kind and sent.recipient == to:
            message = message_from_bytes(sent.raw, policy=default)
            assert isinstance(message, EmailMessage)
            found.append(message)
    return found


def _parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def _one(gateway: InMemoryMailGateway, kind: str, to: str) -> tuple[str, str, str]:
    (message,) = _mails(gateway, kind, to)
    return (str(message["Subject"]), *_parts(message))


def _paid_booking(shop: Shop, facial: dict, stream: StreamPump) -> dict[str, Any]:
    booked = shop.booked(facial, TEN, client=CLIENT, intake={"allergies": "nuts", "first": True})
    paid(shop, booked)
    stream.run_once()
    return booked


def test_the_provider_is_told_who_booked_and_how_to_reach_them(
    shop: Shop, facial: dict, stream: StreamPump, mail: InMemoryMailGateway
) -> None:
    _paid_booking(shop, facial, stream)

    subject, text, html = _one(mail, "confirmation", DANA)

    assert subject == "New booking: Ann Lee \N{EM DASH} Facial at Mon 15 Mar 2027, 10:00 EDT"
    for part in (text, html):
        assert "Hello Dana" in part and "Ann Lee booked Facial with you." in part
        assert ANN in part and "+1 555 0100" in part
        assert "Any allergies?" in part and "nuts" in part and "First visit" in part
        assert "/manage/" not in part and "token=" not in part and "Hello Ann" not in part
    assert "Any allergies?: nuts" in text and "First visit: yes" in text


def test_the_client_is_told_their_booking_with_their_link(
    shop: Shop, facial: dict, stream: StreamPump, mail: InMemoryMailGateway
) -> None:
    _paid_booking(shop, facial, stream)

    subject, text, html = _one(mail, "confirmation", ANN)

    assert subject == "Confirmed: Facial on Mon 15 Mar 2027, 10:00 EDT"
    for part in (text, html):
        assert "Hello Ann Lee" in part and "Dana" in part and "/manage/" in part
        assert "Any allergies?" not in part


def test_a_cancellation_states_the_refund_and_when_it_arrives_to_both(
    shop: Shop, facial: dict, stream: StreamPump, mail: InMemoryMailGateway
) -> None:
    # GIVEN a paid deposit, cancelled by the client more than 48 h ahead (policy: all back)
    booked = _paid_booking(shop, facial, stream)
    status, body = shop.public("POST", booked["appointment"]["id"], "cancel", {"token": booked["manage"]["token"]})
    assert status == 200 and body["refund"]["amountCents"] == 2_000, body
    stream.run_once()

    # THEN each side reads the amount in the tenant's currency and when it arrives
    _, client_text, client_html = _one(mail, "cancellation", ANN)
    subject, provider_text, provider_html = _one(mail, "cancellation", DANA)
    for part in (client_text, client_html):
        assert "You get $20.00 back of the $20.00 paid." in part and REFUND_ARRIVAL in part
    for part in (provider_text, provider_html):
        assert "The client gets $20.00 back of the $20.00 paid." in part and REFUND_ARRIVAL in part
        assert "/manage/" not in part
    assert subject == "Cancelled: Ann Lee \N{EM DASH} Facial at Mon 15 Mar 2027, 10:00 EDT"


def test_a_late_cancellation_says_the_policy_gives_no_refund(
    shop: Shop, facial: dict, stream: StreamPump, mail: InMemoryMailGateway
) -> None:
    booked = _paid_booking(shop, facial, stream)
    freeze(from_iso(local(MONDAY, "08:00")))  # two hours before: the 0 % tier

    status, body = shop.public("POST", booked["appointment"]["id"], "cancel", {"token": booked["manage"]["token"]})
    assert status == 200 and body["refund"]["amountCents"] == 0, body
    stream.run_once()

    for to in (ANN, DANA):
        _, text, html = _one(mail, "cancellation", to)
        for part in (text, html):
            assert "No refund is due under the cancellation policy (paid: $20.00)." in part
            assert REFUND_ARRIVAL not in part


def test_the_provider_hears_of_a_reschedule_and_a_reminder_in_their_own_terms(
    shop: Shop, facial: dict, stream: StreamPump, mail: InMemoryMailGateway
) -> None:
    booked = _paid_booking(shop, facial, stream)
    appointment_id = booked["appointment"]["id"]
    status, moved = shop.admin("POST", f"/{appointment_id}/reschedule", {"start": local(MONDAY, "13:00")})
    assert status == 200, moved
    stream.run_once()

    subject, text, html = _one(mail, "reschedule", DANA)
    assert subject == "Moved: Ann Lee \N{EM DASH} Facial now at Mon 15 Mar 2027, 13:00 EDT"
    for part in (text, html):
        assert "Facial with Ann Lee has moved to a new time." in part
        assert "Mon 15 Mar 2027, 10:00 EDT" in part  # the former time
        assert ANN in part and "/manage/" not in part
    _, client_text, _ = _one(mail, "reschedule", ANN)
    assert "Was: Mon 15 Mar 2027, 10:00 EDT" in client_text and "/manage/" in client_text

    freeze(from_iso(local(MONDAY, "12:00")))
    task = {
        "task": "reminder",
        "tenantId": shop.tenant["tenant"]["id"],
        "appointmentId": appointment_id,
        "version": moved["appointment"]["version"],
        "offsetMinutes": 60,
    }
    assert run_scheduled_task(task) == {"outcome": "sent"}
    subject, text, html = _one(mail, "reminder", DANA)
    assert subject == "Reminder: Ann Lee \N{EM DASH} Facial at Mon 15 Mar 2027, 13:00 EDT"
    for part in (text, html):
        assert "Ann Lee" in part and "Any allergies?" in part and "/manage/" not in part
