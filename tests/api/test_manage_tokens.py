"""The life of a client's manage token (API.md, Public): it keeps working while the client has
not used it, whatever the system does meanwhile (paying, reminders); a reschedule spends it and
answers a new one; a cancellation spends it; a change by the business ends it and the client's
mail carries the new link; every token ends at the appointment's start.

Bookings go through the API, the table's stream through the same dispatcher Lambda runs, the
reminder through the scheduled task handler; mail lands in the in-memory gateway.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.api.events import dispatch_records, run_scheduled_task
from chalicelib.domain.clock import from_iso
from chalicelib.gateways.mail import InMemoryMailGateway
from infra.local.pumps import StreamPump
from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import manage_token_from_mail, paid

TEN = local(MONDAY, "10:00")
ANN = "ann@example.test"


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def stream(aws: str) -> StreamPump:
    return StreamPump(aws, dispatch_records)


@pytest.fixture
def massage(shop: Shop) -> dict[str, Any]:
    service = shop.service(name="Massage", durationMinutes=60, slotIntervalMinutes=60)
    shop.provider([service], name="Dana")
    return service


@pytest.fixture
def facial(shop: Shop) -> dict[str, Any]:
    """$100 with a $20 deposit: booking it leaves a pending hold until paid."""
    service = shop.service(
        name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=10_000, depositCents=2_000
    )
    shop.provider([service], name="Eve")
    return service


def _view(shop: Shop, appointment_id: str, token: str) -> tuple[int, Any]:
    return shop.api.call(
        "GET",
        f"/v1/public/appointments/{appointment_id}",
        public_key=shop.public_key,
        headers={"X-Manage-Token": token},
    )


def _gone(answer: tuple[int, Any]) -> bool:
    status, body = answer
    return status == 410 and body["error"]["code"] == "token_gone"


def test_the_booking_token_still_works_after_the_client_pays(shop: Shop, facial: dict, stream: StreamPump) -> None:
    # GIVEN a pending hold the client pays (the webhook confirms it, the confirmation mail goes out)
    booked = shop.booked(facial, TEN, payment="deposit")
    appointment_id, token = booked["appointment"]["id"], booked["manage"]["token"]
    paid(shop, booked)
    stream.run_once()

    # WHEN the client uses the token from the booking's answer
    status, seen = _view(shop, appointment_id, token)

    # THEN it still works on the confirmed appointment, and can still cancel it
    assert status == 200, seen
    assert seen["status"] == "confirmed" and seen["version"] == 2
    cancelled, body = shop.public("POST", appointment_id, "cancel", {"token": token})
    assert cancelled == 200, body


def test_the_link_in_the_confirmation_mail_after_payment_works_too(
    shop: Shop, facial: dict, stream: StreamPump, mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(facial, TEN, payment="deposit")
    paid(shop, booked)
    stream.run_once()

    from_mail = manage_token_from_mail(mail.sent, "confirmation", ANN)

    assert from_mail != booked["manage"]["token"]
    assert _view(shop, booked["appointment"]["id"], from_mail)[0] == 200
    assert _view(shop, booked["appointment"]["id"], booked["manage"]["token"])[0] == 200


def test_the_booking_token_still_works_after_a_reminder_mail(
    shop: Shop, massage: dict, stream: StreamPump, mail: InMemoryMailGateway
) -> None:
    # GIVEN a confirmed booking whose one-hour reminder has gone out with its own link
    booked = shop.booked(massage, TEN)
    appointment = booked["appointment"]
    stream.run_once()
    freeze(from_iso(local(MONDAY, "09:00")))
    task = {
        "task": "reminder",
        "tenantId": shop.tenant["tenant"]["id"],
        "appointmentId": appointment["id"],
        "version": appointment["version"],
        "offsetMinutes": 60,
    }
    assert run_scheduled_task(task) == {"outcome": "sent"}
    reminder_token = manage_token_from_mail(mail.sent, "reminder", ANN)

    # WHEN the client uses the token from the booking, then the one from the reminder
    # THEN both work: a reminder ends no link
    assert _view(shop, appointment["id"], booked["manage"]["token"])[0] == 200
    assert _view(shop, appointment["id"], reminder_token)[0] == 200


def test_a_client_reschedule_spends_the_token_and_the_new_one_works(shop: Shop, massage: dict) -> None:
    booked = shop.booked(massage, TEN)
    appointment_id, token = booked["appointment"]["id"], booked["manage"]["token"]

    status, moved = shop.public("POST", appointment_id, "reschedule", {"token": token, "start": local(MONDAY, "13:00")})

    assert status == 200, moved
    assert _gone(_view(shop, appointment_id, token))
    assert _gone(shop.public("POST", appointment_id, "reschedule", {"token": token, "start": local(MONDAY, "14:00")}))
    new_token = moved["manage"]["token"]
    assert _view(shop, appointment_id, new_token)[0] == 200
    again, body = shop.public(
        "POST", appointment_id, "reschedule", {"token": new_token, "start": local(MONDAY, "15:00")}
    )
    assert again == 200, body


def test_a_client_cancellation_spends_the_token(shop: Shop, massage: dict) -> None:
    booked = shop.booked(massage, TEN)
    appointment_id, token = booked["appointment"]["id"], booked["manage"]["token"]

    assert shop.public("POST", appointment_id, "cancel", {"token": token})[0] == 200

    assert _gone(_view(shop, appointment_id, token))
    assert _gone(shop.public("POST", appointment_id, "cancel", {"token": token}))


def test_a_business_reschedule_ends_the_token_and_the_clients_mail_carries_the_new_link(
    shop: Shop, massage: dict, stream: StreamPump, mail: InMemoryMailGateway
) -> None:
    # GIVEN a booking whose confirmation mail carried a link as well
    booked = shop.booked(massage, TEN)
    appointment_id, token = booked["appointment"]["id"], booked["manage"]["token"]
    stream.run_once()
    confirmation_token = manage_token_from_mail(mail.sent, "confirmation", ANN)

    # WHEN the business moves it
    status, body = shop.admin("POST", f"/{appointment_id}/reschedule", {"start": local(MONDAY, "13:00")})
    assert status == 200, body
    stream.run_once()

    # THEN every earlier link is gone, and the link in the reschedule mail works
    assert _gone(_view(shop, appointment_id, token))
    assert _gone(_view(shop, appointment_id, confirmation_token))
    new_token = manage_token_from_mail(mail.sent, "reschedule", ANN)
    status, seen = _view(shop, appointment_id, new_token)
    assert status == 200 and seen["start"] == local(MONDAY, "13:00")
    cancelled, answer = shop.public("POST", appointment_id, "cancel", {"token": new_token})
    assert cancelled == 200, answer


def test_a_business_cancellation_ends_the_token_and_the_mail_link_only_shows_it(
    shop: Shop, massage: dict, stream: StreamPump, mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(massage, TEN)
    appointment_id, token = booked["appointment"]["id"], booked["manage"]["token"]

    assert shop.admin("POST", f"/{appointment_id}/cancel", {"reason": "Closed"})[0] == 200
    stream.run_once()

    assert _gone(_view(shop, appointment_id, token))
    from_mail = manage_token_from_mail(mail.sent, "cancellation", ANN)
    status, seen = _view(shop, appointment_id, from_mail)
    assert status == 200 and seen["status"] == "cancelled"
    assert _gone(
        shop.public("POST", appointment_id, "reschedule", {"token": from_mail, "start": local(MONDAY, "13:00")})
    )


def test_every_token_ends_at_the_appointments_start(
    shop: Shop, massage: dict, stream: StreamPump, mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(massage, TEN)
    appointment_id = booked["appointment"]["id"]
    stream.run_once()
    tokens = [booked["manage"]["token"], manage_token_from_mail(mail.sent, "confirmation", ANN)]

    freeze(from_iso(TEN))

    for token in tokens:
        assert _gone(_view(shop, appointment_id, token))
        assert _gone(shop.public("POST", appointment_id, "cancel", {"token": token}))
