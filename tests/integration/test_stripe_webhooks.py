"""Stripe webhooks: signed events from the fake, delivered through the API route and through
the Lambda Function URL handler, in every order and as often as Stripe likes.

Whatever the order and the number of deliveries, an appointment ends in one state with one
charge; a request whose signature does not check out changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.api.appointment_models import NewBooking
from chalicelib.domain.clock import from_iso
from chalicelib.domain.payments import LedgerKind
from chalicelib.gateways.mail import InMemoryMailGateway
from chalicelib.services import registry
from tests.api.booking_support import MONDAY, NOW, Shop, client, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import (
    TIERED_POLICY,
    Refunding,
    Webhooks,
    encode,
    event_for,
    pay,
    requests_to,
    session_id,
    signature,
    variant,
)
from tests.conftest import PROJECT_DIR

TEN = local(MONDAY, "10:00")
PRICE, DEPOSIT = 10_000, 2_000


@pytest.fixture
def api(aws: str, stripe_fake: Any) -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as test_client:
        yield Api(test_client, stripe_fake)


@pytest.fixture
def tenant(api: Api) -> dict[str, Any]:
    return api.open_tenant("acme")


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any]) -> Shop:
    registry.use("mail_gateway", InMemoryMailGateway())
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def facial(shop: Shop) -> dict[str, Any]:
    return shop.service(
        name="Facial",
        durationMinutes=60,
        slotIntervalMinutes=60,
        priceCents=PRICE,
        depositCents=DEPOSIT,
        cancellationPolicy=TIERED_POLICY,
    )


@pytest.fixture
def dana(shop: Shop, facial: dict[str, Any]) -> dict[str, Any]:
    return shop.provider([facial], name="Dana")


@pytest.fixture
def hooks(shop: Shop) -> Webhooks:
    return Webhooks(shop)


@pytest.fixture
def held(shop: Shop, facial: dict, dana: dict) -> dict[str, Any]:
    """A deposit booking whose client is on the Checkout page: {appointment, checkoutUrl, ...}."""
    return shop.booked(facial, TEN, payment="deposit")


def state(shop: Shop, booked: dict[str, Any]) -> tuple[str, int, list[tuple[str, int]], list[int]]:
    """(status, amountPaidCents, ledger, refund request amounts) as the admin sees them."""
    appointment_id = booked["appointment"]["id"]
    status, appointment = shop.admin("GET", f"/{appointment_id}")
    assert status == 200, appointment
    status, payments = shop.admin("GET", f"/{appointment_id}/payments")
    assert status == 200, payments
    return (
        appointment["status"],
        appointment["amountPaidCents"],
        sorted((e["kind"], e["amountCents"]) for e in payments["items"]),
        [r["amountCents"] for r in payments["refunds"]],
    )


CONFIRMED_AND_PAID = ("confirmed", DEPOSIT, [("charge", DEPOSIT)], [])
STILL_PENDING = ("pending", 0, [], [])


def expired_event(completed: dict[str, Any]) -> dict[str, Any]:
    """Stripe's `checkout.session.expired` for the same session (another event id)."""
    return variant(completed, "checkout.session.expired", status="expired", payment_status="unpaid", url=None)


# --- one service behind two doors ------------------------------------------------------------


def test_the_route_confirms_the_paid_hold(shop: Shop, held: dict, hooks: Webhooks) -> None:
    status, body = hooks.deliver(pay(shop, held))

    assert status == 200, body
    assert body == {"received": True, "outcome": "confirmed"}
    assert state(shop, held) == CONFIRMED_AND_PAID


def test_the_function_url_confirms_the_paid_hold_the_same_way(shop: Shop, held: dict, hooks: Webhooks) -> None:
    status, body = hooks.deliver_to_function_url(pay(shop, held))

    assert status == 200, body
    assert body == {"received": True, "outcome": "confirmed"}
    assert state(shop, held) == CONFIRMED_AND_PAID


def test_an_event_seen_by_one_door_is_a_duplicate_at_the_other(shop: Shop, held: dict, hooks: Webhooks) -> None:
    completed = pay(shop, held)
    hooks.deliver_to_function_url(completed)

    status, body = hooks.deliver(completed)

    assert status == 200, body
    assert body["outcome"] == "duplicate"
    assert state(shop, held) == CONFIRMED_AND_PAID


def test_an_event_another_delivery_is_applying_is_refused_so_that_stripe_retries_it(
    shop: Shop, held: dict, hooks: Webhooks
) -> None:
    # GIVEN a delivery of the event that claimed it and has not finished (or died mid-way)
    completed = pay(shop, held)
    registry.payment_repository().claim_event(shop.tenant["tenant"]["id"], completed["id"], completed["type"], NOW)

    # WHEN Stripe delivers it again while that claim is live
    status, body = hooks.deliver(completed)

    # THEN the answer is not a 2xx (Stripe retries) and nothing was applied
    assert status == 409, body
    assert state(shop, held)[0] == "pending"

    # AND once the claim's lease has lapsed, the retry applies it
    freeze(NOW + timedelta(minutes=3))
    status, body = hooks.deliver(completed)
    assert (status, body["outcome"]) == (200, "confirmed")


# --- permutations ----------------------------------------------------------------------------


def test_completed_delivered_twice_records_one_charge(shop: Shop, held: dict, hooks: Webhooks) -> None:
    completed = pay(shop, held)

    first = hooks.deliver(completed)
    again = hooks.deliver(completed)

    assert (first[1]["outcome"], again[1]["outcome"]) == ("confirmed", "duplicate")
    assert state(shop, held) == CONFIRMED_AND_PAID


def test_expired_after_completed_leaves_it_confirmed(shop: Shop, held: dict, hooks: Webhooks) -> None:
    completed = pay(shop, held)
    hooks.deliver(completed)

    status, body = hooks.deliver(expired_event(completed))

    assert status == 200, body
    assert body["outcome"] == "not_pending"
    assert state(shop, held) == CONFIRMED_AND_PAID


def test_completed_after_expired_confirms_when_the_time_is_still_free(shop: Shop, held: dict, hooks: Webhooks) -> None:
    # GIVEN Stripe's expiry of the session was delivered first: the hold gave its time back
    completed = pay(shop, held)
    hooks.deliver(expired_event(completed))
    assert state(shop, held)[0] == "expired"

    # WHEN the payment's event arrives after it, and nobody took the time meanwhile
    status, body = hooks.deliver(completed)

    # THEN the booking is confirmed, and its time is taken again
    assert status == 200, body
    assert body["outcome"] == "confirmed"
    assert state(shop, held) == CONFIRMED_AND_PAID
    assert TEN not in shop.slots({"id": held["appointment"]["serviceId"]})


def test_completed_after_expired_when_the_time_was_taken_refunds_everything(
    shop: Shop, facial: dict, held: dict, hooks: Webhooks, aws: str
) -> None:
    # GIVEN the hold expired and another client booked the same time
    completed = pay(shop, held)
    hooks.deliver(expired_event(completed))
    status, other = shop.api.call(
        "POST",
        "/v1/admin/appointments",
        {**shop.booking(facial, TEN), "client": client("Bo"), "skipPayment": True},
        key=shop.key,
    )
    assert status == 201, other
    assert other["appointment"]["status"] == "confirmed"

    # WHEN the late payment's event arrives
    status, body = hooks.deliver(completed)

    # THEN the money goes back in full, and the first client's appointment stays expired
    assert status == 200, body
    assert body["outcome"] == "slot_taken_refunded"
    assert state(shop, held) == ("expired", DEPOSIT, [("charge", DEPOSIT)], [DEPOSIT])
    refunding = Refunding(aws)
    refunding.run()
    (refund,) = requests_to(shop.api.stripe, "POST", "/v1/refunds")
    assert refund["params"]["amount"] == str(DEPOSIT)
    assert state(shop, held)[2] == [("charge", DEPOSIT), ("refund", DEPOSIT)]
    status, theirs = shop.admin("GET", f"/{other['appointment']['id']}")
    assert theirs["status"] == "confirmed"


def test_a_client_whose_payment_came_too_late_is_told_once(
    shop: Shop, facial: dict, held: dict, hooks: Webhooks
) -> None:
    # GIVEN a late payment for time someone else booked after the hold expired
    completed = pay(shop, held)
    hooks.deliver(expired_event(completed))
    shop.api.call(
        "POST",
        "/v1/admin/appointments",
        {**shop.booking(facial, TEN), "client": client("Bo"), "skipPayment": True},
        key=shop.key,
    )
    mail = registry.mail_gateway()
    assert isinstance(mail, InMemoryMailGateway)
    before = len(mail.sent)

    # WHEN its event arrives, and is delivered again under a new id (a Stripe retry after a timeout)
    hooks.deliver(completed)
    hooks.deliver(variant(completed, "checkout.session.completed"))

    # THEN the first client gets one message saying the payment is refunded
    told = [m for m in mail.sent[before:] if b"refunded in full" in m.raw.replace(b"=\r\n", b"")]
    assert len(told) == 1
    assert told[0].recipient == held["appointment"]["client"]["email"]


def test_completed_after_expired_twice_requests_one_refund(
    shop: Shop, facial: dict, held: dict, hooks: Webhooks
) -> None:
    completed = pay(shop, held)
    hooks.deliver(expired_event(completed))
    shop.api.call(
        "POST",
        "/v1/admin/appointments",
        {**shop.booking(facial, TEN), "client": client("Bo"), "skipPayment": True},
        key=shop.key,
    )

    hooks.deliver(completed)
    hooks.deliver_to_function_url(completed)

    assert state(shop, held)[3] == [DEPOSIT]


@pytest.mark.parametrize(
    "order",
    [
        ("completed", "expired"),
        ("expired", "completed"),
        ("completed", "completed", "expired"),
        ("expired", "completed", "expired", "completed"),
    ],
)
def test_any_delivery_order_ends_confirmed_with_one_charge(
    shop: Shop, held: dict, hooks: Webhooks, order: tuple[str, ...]
) -> None:
    completed = pay(shop, held)
    events = {"completed": completed, "expired": expired_event(completed)}

    for name in order:
        status, body = hooks.deliver(events[name])
        assert status == 200, body

    assert state(shop, held) == CONFIRMED_AND_PAID


def test_an_unpaid_session_that_expires_frees_the_time(shop: Shop, held: dict, hooks: Webhooks) -> None:
    # GIVEN the client never paid, and Stripe expired the session when the hold ran out
    fake = shop.api.stripe
    freeze(from_iso(held["appointment"]["holdUntil"]))
    fake.expire_due()
    expired = event_for(fake, "checkout.session.expired", session_id(held))

    # WHEN its event arrives
    status, body = hooks.deliver(expired)

    # THEN the hold is expired, its time is free again, and nothing was charged
    assert status == 200, body
    assert body["outcome"] == "expired"
    assert state(shop, held) == ("expired", 0, [], [])
    assert TEN in shop.slots({"id": held["appointment"]["serviceId"]})


def test_the_ledger_fee_is_what_stripe_took_even_if_the_setting_changed_since(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a checkout opened while the platform's fee was 250 bps (booked through the service:
    # outside a Chalice request the process environment is the configuration) ...
    monkeypatch.setenv("PLATFORM_FEE_BPS", "250")
    registry.use("mail_gateway", InMemoryMailGateway())
    freeze(NOW)
    shop = Shop(api, api.open_tenant("acme"))
    facial = shop.service(
        name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=PRICE, depositCents=DEPOSIT
    )
    shop.provider([facial], name="Dana")
    tenant = registry.tenant_repository().get(shop.tenant["tenant"]["id"])
    made = registry.booking_service().book(
        tenant, NewBooking.model_validate(shop.booking(facial, TEN, payment="deposit")).to_domain()
    )
    (request,) = requests_to(api.stripe, "POST", "/v1/checkout/sessions")
    assert request["params"]["payment_intent_data"]["application_fee_amount"] == "50"

    # ... WHEN the operator lowered the fee before the payment's event arrived
    monkeypatch.setenv("PLATFORM_FEE_BPS", "100")
    status, body = Webhooks(shop).deliver_to_function_url(pay(shop, {"checkoutUrl": made.checkout_url}))

    # THEN the ledger records the fee Stripe actually took
    assert status == 200, body
    _, payments = shop.admin("GET", f"/{made.appointment.id}/payments")
    assert sorted((e["kind"], e["amountCents"]) for e in payments["items"]) == [
        ("application_fee", 50),
        ("charge", DEPOSIT),
    ]


# --- signatures ------------------------------------------------------------------------------


def _refused(status: int, body: Any) -> None:
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request"


def forged_cases(fake: Any, completed: dict[str, Any]) -> dict[str, tuple[bytes, str | None]]:
    payload = encode(completed)
    tampered = payload.replace(f'"amount_total": {DEPOSIT}'.encode(), b'"amount_total": 999999')
    assert tampered != payload
    return {
        "tampered body": (tampered, fake.sign(payload)),
        "wrong secret": (payload, signature("whsec_" + "0" * 48, payload)),
        "stale timestamp": (payload, fake.sign(payload, timestamp=int(time.time()) - 301)),
        "missing header": (payload, None),
        "garbage header": (payload, "v1=deadbeef"),
    }


@pytest.mark.parametrize(
    "case", ["tampered body", "wrong secret", "stale timestamp", "missing header", "garbage header"]
)
def test_a_webhook_that_does_not_verify_is_400_and_changes_nothing(
    shop: Shop, held: dict, hooks: Webhooks, case: str
) -> None:
    completed = pay(shop, held)
    payload, header = forged_cases(shop.api.stripe, completed)[case]

    route = hooks.post(payload, header)
    function_url = hooks.function_url(payload, header)

    _refused(*route)
    _refused(*function_url)
    assert state(shop, held) == STILL_PENDING
    # the genuine event was not marked as seen: it still applies
    assert hooks.deliver(completed)[1]["outcome"] == "confirmed"


def test_a_signature_inside_the_tolerance_is_accepted(shop: Shop, held: dict, hooks: Webhooks) -> None:
    payload = encode(pay(shop, held))

    status, body = hooks.post(payload, shop.api.stripe.sign(payload, timestamp=int(time.time()) - 280))

    assert status == 200, body
    assert body["outcome"] == "confirmed"


# --- whose event is it -----------------------------------------------------------------------


def test_an_event_from_another_tenants_account_is_ignored(api: Api, shop: Shop, held: dict, hooks: Webhooks) -> None:
    # GIVEN globex has its own connected account
    other = api.open_tenant("globex")
    completed = pay(shop, held)

    # WHEN an event naming acme's appointment comes from globex's account
    forged = dict(completed, account=other["stripeAccountId"])
    status, body = hooks.deliver(forged)

    # THEN it changes nothing for acme
    assert status == 200, body
    assert body["outcome"] == "account_mismatch"
    assert state(shop, held) == STILL_PENDING


def test_an_event_about_nothing_of_ours_is_acknowledged(shop: Shop, hooks: Webhooks) -> None:
    status, body = hooks.deliver(
        {"id": "evt_unrelated", "type": "customer.created", "data": {"object": {"id": "cus_1", "metadata": {}}}}
    )

    assert status == 200, body
    assert body["outcome"] == "not_ours"


def test_a_declined_off_session_charge_is_recorded_once_when_its_event_arrives(
    shop: Shop, held: dict, hooks: Webhooks
) -> None:
    # GIVEN a paid deposit, and a balance charge the bank declined (the API recorded it)
    hooks.deliver(pay(shop, held))
    appointment_id = held["appointment"]["id"]
    shop.api.stripe.decline_next()
    status, _ = shop.admin("POST", f"/{appointment_id}/balance", {"method": "charge"})
    assert status == 422

    # WHEN Stripe's payment_failed event for that charge arrives
    (failed,) = [e for e in shop.api.stripe.events if e["type"] == "payment_intent.payment_failed"]
    status, body = hooks.deliver(failed)

    # THEN the decline is in the ledger once
    assert status == 200, body
    failures = [kind for kind, _ in state(shop, held)[2] if kind == "failure"]
    assert failures == ["failure"]


def test_a_declined_payment_on_the_hosted_page_is_recorded(shop: Shop, held: dict, hooks: Webhooks) -> None:
    from infra.local.fake_stripe import FakeStripeError

    fake = shop.api.stripe
    with pytest.raises(FakeStripeError):
        fake.complete_session(session_id(held), card="pm_card_chargeDeclined")
    (failed,) = [e for e in fake.events if e["type"] == "payment_intent.payment_failed"]

    status, body = hooks.deliver(failed)

    assert status == 200, body
    assert body["outcome"] == "failure_recorded"
    assert state(shop, held) == ("pending", 0, [("failure", DEPOSIT)], [])


def test_a_charge_recorded_again_later_counts_once(shop: Shop, held: dict, hooks: Webhooks) -> None:
    """What a redelivery does after an attempt that recorded the charge and then died (its event
    lease ran out): the same payment intent, recorded at another moment."""
    # GIVEN the payment was recorded when its event first arrived
    hooks.deliver(pay(shop, held))
    tenant_id, appointment_id = shop.tenant["tenant"]["id"], held["appointment"]["id"]
    repository = registry.payment_repository()
    (first,) = [e for e in repository.ledger(tenant_id, appointment_id) if e.kind is LedgerKind.CHARGE]

    # WHEN the same charge is recorded again an hour later
    again = replace(first, at=first.at + timedelta(hours=1))
    recorded = repository.record_charge(tenant_id, again, None, None, None)

    # THEN it is recognised as seen, and nothing adds up twice
    assert recorded is False
    assert state(shop, held) == CONFIRMED_AND_PAID
    assert repository.money(tenant_id, appointment_id, "USD").refundable_cents == DEPOSIT


def test_a_hold_cancelled_before_its_payment_arrived_is_refunded_in_full(
    shop: Shop, held: dict, hooks: Webhooks
) -> None:
    # GIVEN the client cancelled the hold while still on the payment page, then paid anyway
    status, body = shop.public(
        "POST", held["appointment"]["id"], "cancel", {"token": held["manage"]["token"], "reason": "changed my mind"}
    )
    assert status == 200, body
    completed = pay(shop, held)

    # WHEN the payment's event arrives
    status, body = hooks.deliver(completed)

    # THEN the appointment stays cancelled and everything paid is on its way back
    assert status == 200, body
    assert body["outcome"] == "cancelled_refunded"
    assert state(shop, held) == ("cancelled", DEPOSIT, [("charge", DEPOSIT)], [DEPOSIT])
