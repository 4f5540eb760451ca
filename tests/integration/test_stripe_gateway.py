"""The Stripe adapter, through the real SDK, against the local fake Stripe server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.gateways.payments import (
    CardDeclinedError,
    CheckoutRequest,
    PaymentError,
    PaymentUnavailableError,
    StripeGateway,
    WebhookSignatureError,
)
from infra.local.fake_stripe import FakeStripe


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as running:
        yield running


@pytest.fixture
def gateway(fake: FakeStripe) -> StripeGateway:
    fake.reset()
    return StripeGateway(fake.api_key, fake.webhook_secret, base_url=fake.url, max_network_retries=0)


@pytest.fixture
def account(fake: FakeStripe, gateway: StripeGateway) -> str:
    account_id = gateway.create_account("owner@acme.test", idempotency_key="acct-acme")
    fake.complete_onboarding(account_id)
    return account_id


# One instant for the whole module: a retry must send the very same parameters, and two
# calls to now() a second apart on a loaded machine would not.
_EXPIRES_AT = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=20)


def _checkout(account: str, key: str = "checkout-apt_1", amount: int = 2000, save_card: bool = True) -> CheckoutRequest:
    return CheckoutRequest(
        account=account,
        amount_cents=amount,
        currency="USD",
        product_name="Massage (deposit)",
        application_fee_cents=50,
        metadata={"tenantId": "tn1", "appointmentId": "apt_1"},
        success_url="https://x.test/ok",
        cancel_url="https://x.test/cancel",
        expires_at=_EXPIRES_AT,
        customer_email="ann@example.test",
        save_card=save_card,
        idempotency_key=key,
    )


def test_onboarding_turns_charges_on(fake: FakeStripe, gateway: StripeGateway) -> None:
    account_id = gateway.create_account("owner@acme.test", idempotency_key="acct-1")
    assert gateway.account_status(account_id)["chargesEnabled"] is False
    assert gateway.onboarding_link(account_id, "https://x.test/refresh", "https://x.test/return").startswith("http")

    fake.complete_onboarding(account_id)

    assert gateway.account_status(account_id) == {
        "chargesEnabled": True,
        "detailsSubmitted": True,
        "payoutsEnabled": True,
    }


def test_a_retried_checkout_returns_the_same_session(gateway: StripeGateway, account: str) -> None:
    first = gateway.create_checkout(_checkout(account))
    again = gateway.create_checkout(_checkout(account))

    assert first.id == again.id and first.url == again.url


def test_reusing_a_checkout_key_with_another_amount_is_refused(gateway: StripeGateway, account: str) -> None:
    gateway.create_checkout(_checkout(account))

    with pytest.raises(PaymentError):
        gateway.create_checkout(_checkout(account, amount=2500))


def test_a_paid_checkout_leaves_a_payment_intent_with_a_saved_card(
    fake: FakeStripe, gateway: StripeGateway, account: str
) -> None:
    session = gateway.create_checkout(_checkout(account))
    fake.complete_session(session.id)
    intent_id = fake.get(session.id)["payment_intent"]

    intent = gateway.payment_intent(account, intent_id)

    assert intent["amount"] == 2000 and intent["customer"] and intent["payment_method"]


def test_refunds_are_idempotent_and_capped(fake: FakeStripe, gateway: StripeGateway, account: str) -> None:
    session = gateway.create_checkout(_checkout(account))
    fake.complete_session(session.id)
    intent_id = fake.get(session.id)["payment_intent"]

    first = gateway.refund(account, intent_id, 1000, {"requestId": "rr_1"}, idempotency_key="rr_1")
    replay = gateway.refund(account, intent_id, 1000, {"requestId": "rr_1"}, idempotency_key="rr_1")

    assert first.id == replay.id and first.amount_cents == 1000
    with pytest.raises(PaymentError):
        gateway.refund(account, intent_id, 1500, {"requestId": "rr_2"}, idempotency_key="rr_2")


def test_an_off_session_charge_of_the_saved_card_succeeds_or_declines(
    fake: FakeStripe, gateway: StripeGateway, account: str
) -> None:
    session = gateway.create_checkout(_checkout(account))
    fake.complete_session(session.id)
    intent = gateway.payment_intent(account, fake.get(session.id)["payment_intent"])

    charge = gateway.charge_saved_card(
        account,
        intent["customer"],
        intent["payment_method"],
        3000,
        "USD",
        75,
        {"appointmentId": "apt_1"},
        idempotency_key="balance-apt_1",
    )
    assert charge.status == "succeeded" and charge.amount_cents == 3000

    fake.decline_next(
        code="card_declined", decline_code="insufficient_funds", message="Your card has insufficient funds."
    )
    with pytest.raises(CardDeclinedError) as declined:
        gateway.charge_saved_card(
            account,
            intent["customer"],
            intent["payment_method"],
            3000,
            "USD",
            75,
            {"appointmentId": "apt_1"},
            idempotency_key="no-show-apt_1",
        )
    assert declined.value.decline_code == "insufficient_funds"


def test_a_stripe_outage_is_reported_as_retryable(fake: FakeStripe, gateway: StripeGateway, account: str) -> None:
    fake.fail_next("POST", "/v1/refunds", 500, {"type": "api_error", "message": "boom"})

    with pytest.raises(PaymentUnavailableError):
        gateway.refund(account, "pi_missing", 100, {}, idempotency_key="rr_outage")


def test_webhook_signatures_are_checked(fake: FakeStripe, gateway: StripeGateway) -> None:
    payload = json.dumps({"id": "evt_1", "type": "checkout.session.completed"}).encode()

    assert gateway.verify_webhook(payload, fake.sign(payload))["id"] == "evt_1"
    with pytest.raises(WebhookSignatureError):
        gateway.verify_webhook(payload + b" ", fake.sign(payload))  # tampered
    with pytest.raises(WebhookSignatureError):
        gateway.verify_webhook(payload, fake.sign(payload, timestamp=int(time.time()) - 301))  # stale
    with pytest.raises(WebhookSignatureError):
        gateway.verify_webhook(payload, None)
    other = StripeGateway(fake.api_key, "whsec_other", base_url=fake.url)
    with pytest.raises(WebhookSignatureError):
        other.verify_webhook(payload, fake.sign(payload))  # wrong secret
