"""Issue 5 on the API: a tenant's Stripe account, paying at booking, cancellation refunds, the
balance, the no-show fee and the ledger.

Stripe is the local fake reached by the real SDK; its webhooks are taken from `fake.events`
and POSTed to /v1/webhooks/stripe through the Chalice test client; refunds go through the
table's stream and the refunds queue exactly as on AWS (tests/api/payments_support.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.clock import from_iso, to_iso
from chalicelib.gateways.mail import InMemoryMailGateway
from chalicelib.services import registry
from tests.api.booking_support import MONDAY, NOW, Shop, client, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import (
    TIERED_POLICY,
    Refunding,
    Webhooks,
    encode,
    manage_token_from_mail,
    paid,
    requests_to,
    session_id,
    signature,
)
from tests.conftest import PROJECT_DIR

TEN = local(MONDAY, "10:00")
PRICE, DEPOSIT = 10_000, 2_000
FEE_BPS = 250


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def facial(shop: Shop) -> dict[str, Any]:
    """$100, $20 deposit, the issue's tiered cancellation policy."""
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
def platform_fee(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The operator charges PLATFORM_FEE_BPS=250: in the stage's configuration (what the API's
    Lambda sees; Chalice's test client applies it per request) and in the environment (workers)."""
    from app import app

    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    config["stages"]["dev"]["environment_variables"]["PLATFORM_FEE_BPS"] = str(FEE_BPS)
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("PLATFORM_FEE_BPS", str(FEE_BPS))
    with Client(app, stage_name="dev", project_dir=str(tmp_path)) as fee_client:
        api.client = fee_client
        yield FEE_BPS


@pytest.fixture
def refunding(aws: str) -> Refunding:
    return Refunding(aws)


def _error(body: Any, code: str) -> dict[str, Any]:
    assert body["error"]["code"] == code, body
    return dict(body["error"]["details"])


def checkout_requests(shop: Shop) -> list[dict[str, Any]]:
    return requests_to(shop.api.stripe, "POST", "/v1/checkout/sessions", lambda r: r["status"] == 200)


def booked_and_paid(shop: Shop, service: dict[str, Any], start: str = TEN, **fields: Any) -> dict[str, Any]:
    booked = shop.booked(service, start, **fields)
    answer = paid(shop, booked)
    assert answer["outcome"] == "confirmed", answer
    return booked


def payments_of(shop: Shop, appointment_id: str) -> dict[str, Any]:
    status, body = shop.admin("GET", f"/{appointment_id}/payments")
    assert status == 200, body
    return dict(body)


def ledger(shop: Shop, appointment_id: str) -> list[tuple[str, int]]:
    return [(e["kind"], e["amountCents"]) for e in payments_of(shop, appointment_id)["items"]]


def appointment(shop: Shop, appointment_id: str) -> dict[str, Any]:
    status, body = shop.admin("GET", f"/{appointment_id}")
    assert status == 200, body
    return dict(body)


# --- the tenant's Stripe account ------------------------------------------------------------


def test_linking_an_onboarded_account_shows_charges_enabled(api: Api) -> None:
    # GIVEN a business without payments and an onboarded connected account on Stripe
    tenant = api.open_tenant("bare", payments=False)
    account = registry.payment_gateway().create_account("owner@bare.test", idempotency_key="acct-bare")
    api.stripe.complete_onboarding(account)

    # WHEN the admin links it
    status, body = api.call("PUT", "/v1/admin/payments/stripe", {"accountId": account}, key=tenant["secretKey"])

    # THEN it is the tenant's account, and the status says it can take charges
    assert status == 200, body
    assert body["accountId"] == account
    assert body["chargesEnabled"] is True
    status, shown = api.call("GET", "/v1/admin/payments/stripe", key=tenant["secretKey"])
    assert status == 200, shown
    assert (shown["accountId"], shown["chargesEnabled"], shown["payoutsEnabled"]) == (account, True, True)
    assert shown["platformFeeBps"] == 0


def test_linking_an_account_stripe_does_not_know_is_422(api: Api) -> None:
    tenant = api.open_tenant("bare", payments=False)

    status, body = api.call(
        "PUT", "/v1/admin/payments/stripe", {"accountId": "acct_doesnotexist000"}, key=tenant["secretKey"]
    )

    assert status == 422, body
    assert _error(body, "rule_violation")["fields"] == {"accountId": "unknown"}
    _, shown = api.call("GET", "/v1/admin/payments/stripe", key=tenant["secretKey"])
    assert shown["accountId"] is None


def test_a_malformed_account_id_is_400(api: Api) -> None:
    tenant = api.open_tenant("bare", payments=False)

    status, body = api.call("PUT", "/v1/admin/payments/stripe", {"accountId": "sk_live_123"}, key=tenant["secretKey"])

    assert status == 400, body
    assert "accountId" in _error(body, "invalid_request")["fields"]


def test_linking_another_tenants_account_is_409(api: Api, tenant: dict[str, Any]) -> None:
    # GIVEN acme already uses its account
    other = api.open_tenant("globex", payments=False)

    # WHEN globex tries to link acme's account
    status, body = api.call(
        "PUT", "/v1/admin/payments/stripe", {"accountId": tenant["stripeAccountId"]}, key=other["secretKey"]
    )

    # THEN it is refused and globex stays without payments
    assert status == 409, body
    assert body["error"]["code"] == "conflict"
    _, shown = api.call("GET", "/v1/admin/payments/stripe", key=other["secretKey"])
    assert shown["accountId"] is None


def test_onboarding_creates_one_account_and_returns_a_fresh_link_each_time(api: Api) -> None:
    tenant = api.open_tenant("bare", payments=False)

    first_status, first = api.call("POST", "/v1/admin/payments/stripe/onboarding", {}, key=tenant["secretKey"])
    second_status, second = api.call("POST", "/v1/admin/payments/stripe/onboarding", {}, key=tenant["secretKey"])

    assert (first_status, second_status) == (201, 201), (first, second)
    assert first["url"].startswith(api.stripe.public_url + "/onboard/acct_")
    assert first["url"] != second["url"]
    _, shown = api.call("GET", "/v1/admin/payments/stripe", key=tenant["secretKey"])
    assert shown["accountId"] in first["url"] and shown["accountId"] in second["url"]
    assert shown["chargesEnabled"] is False  # not until onboarding is finished
    created = requests_to(api.stripe, "POST", "/v1/accounts")
    assert {r["idempotency_key"] for r in created} == {f"account-{tenant['tenant']['id']}"}


def test_stripe_keys_and_the_webhook_secret_are_never_taken_from_a_request(api: Api) -> None:
    # GIVEN an admin request that also tries to hand the platform a webhook secret of its own
    tenant = api.open_tenant("bare", payments=False)
    account = registry.payment_gateway().create_account("owner@bare.test", idempotency_key="acct-bare")
    evil = "whsec_" + "e" * 48
    api.call(
        "PUT",
        "/v1/admin/payments/stripe",
        {"accountId": account, "secretKey": "sk_live_evil", "webhookSecret": evil},
        key=tenant["secretKey"],
    )

    # WHEN a webhook signed with that secret arrives
    payload = encode({"id": "evt_evil", "type": "account.updated", "account": account, "data": {"object": {}}})
    status, body = Webhooks(Shop(api, tenant)).post(payload, signature(evil, payload))

    # THEN it does not verify: only the configured secret does
    assert status == 400, body
    assert all(r["status"] != 401 for r in api.stripe.requests)  # every call used the configured key


# --- paying at booking ----------------------------------------------------------------------


@pytest.mark.parametrize(("payment", "due"), [("deposit", DEPOSIT), ("full", PRICE), (None, DEPOSIT)])
def test_a_booking_that_owes_money_is_a_pending_hold_with_a_checkout(
    shop: Shop, facial: dict, dana: dict, payment: str | None, due: int
) -> None:
    status, body = shop.book(facial, TEN, payment=payment)

    assert status == 201, body
    booked = body["appointment"]
    assert booked["status"] == "pending"
    assert booked["amountDueNowCents"] == due
    assert booked["paymentStatus"] == "none"
    assert from_iso(booked["holdUntil"]) > NOW
    assert body["checkoutUrl"].startswith(shop.api.stripe.public_url + "/pay/cs_test_")
    (request,) = checkout_requests(shop)
    assert request["params"]["line_items"][0]["price_data"]["unit_amount"] == str(due)


def test_the_checkout_is_on_the_tenants_account_with_fee_metadata_and_a_stable_key(
    shop: Shop, facial: dict, dana: dict, platform_fee: int
) -> None:
    # WHEN a client books with a deposit
    body = shop.booked(facial, TEN, payment="deposit")

    # THEN Stripe was asked for a session on the tenant's connected account ...
    booked = body["appointment"]
    (request,) = checkout_requests(shop)
    params = request["params"]
    assert request["account"] == shop.tenant["stripeAccountId"]
    assert request["idempotency_key"] == f"checkout-{booked['id']}-v1"
    # ... taking the platform's fee, naming the tenant and the appointment ...
    intent = params["payment_intent_data"]
    assert intent["application_fee_amount"] == str(DEPOSIT * platform_fee // 10_000)
    assert params["metadata"]["tenantId"] == shop.tenant["tenant"]["id"]
    assert params["metadata"]["appointmentId"] == booked["id"]
    assert intent["metadata"]["appointmentId"] == booked["id"]
    # ... saving the card because a balance remains, and expiring with the hold
    assert intent["setup_future_usage"] == "off_session"
    assert int(params["expires_at"]) == int(from_iso(booked["holdUntil"]).timestamp())
    session = shop.api.stripe.get(session_id(body))
    assert session["expires_at"] == int(from_iso(booked["holdUntil"]).timestamp())


def test_paying_in_full_does_not_save_the_card(shop: Shop, facial: dict, dana: dict) -> None:
    shop.booked(facial, TEN, payment="full")

    (request,) = checkout_requests(shop)
    assert "setup_future_usage" not in request["params"]["payment_intent_data"]


def test_a_service_without_a_deposit_cannot_be_paid_by_deposit(shop: Shop, dana: dict) -> None:
    plain = shop.service(name="Plain", durationMinutes=60, slotIntervalMinutes=60, priceCents=PRICE)
    shop.provider([plain], name="Eli")

    status, body = shop.book(plain, TEN, payment="deposit")

    assert status == 422, body
    assert checkout_requests(shop) == []


def test_a_percent_deposit_is_that_share_of_the_price(shop: Shop) -> None:
    peel = shop.service(name="Peel", durationMinutes=60, slotIntervalMinutes=60, priceCents=9_999, depositPercent=25)
    shop.provider([peel], name="Eli")

    body = shop.booked(peel, TEN, payment="deposit")

    assert body["appointment"]["amountDueNowCents"] == 2_499


def test_retrying_a_booking_with_its_idempotency_key_returns_the_same_checkout(
    shop: Shop, facial: dict, dana: dict
) -> None:
    first = shop.booked(facial, TEN, payment="deposit", idempotencyKey="retry-1")

    status, again = shop.book(facial, TEN, payment="deposit", idempotencyKey="retry-1")

    assert status == 201, again
    assert again["appointment"]["id"] == first["appointment"]["id"]
    assert again["checkoutUrl"] == first["checkoutUrl"]
    sessions = {r["idempotency_key"] for r in checkout_requests(shop)}
    assert sessions == {f"checkout-{first['appointment']['id']}-v1"}


def test_a_business_without_stripe_cannot_take_money_but_can_take_free_bookings(api: Api, mail: Any) -> None:
    # GIVEN a business that never connected Stripe, with a paid and a free service
    freeze(NOW)
    shop = Shop(api, api.open_tenant("bare", payments=False))
    facial = shop.service(name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=PRICE, depositCents=1)
    free = shop.service(name="Chat", durationMinutes=60, slotIntervalMinutes=60, priceCents=0)
    shop.provider([facial, free], name="Dana")

    # WHEN a client books the deposit service, then the free one
    status, body = shop.book(facial, TEN, payment="deposit")
    free_status, free_body = shop.book(free, TEN)

    # THEN the first is refused (and holds nothing), the second is confirmed
    assert status == 422, body
    assert body["error"]["code"] == "payments_not_configured"
    assert free_status == 201, free_body
    assert free_body["appointment"]["status"] == "confirmed"
    assert "checkoutUrl" not in free_body


def test_an_account_that_cannot_charge_yet_refuses_the_booking_and_keeps_the_time_free(api: Api, mail: Any) -> None:
    # GIVEN a business whose connected account has not finished onboarding
    freeze(NOW)
    tenant = api.open_tenant("fresh", payments=False)
    status, _ = api.call("POST", "/v1/admin/payments/stripe/onboarding", {}, key=tenant["secretKey"])
    assert status == 201
    shop = Shop(api, tenant)
    facial = shop.service(name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=PRICE, depositCents=1)
    shop.provider([facial], name="Dana")

    # WHEN a client books with a deposit
    status, body = shop.book(facial, TEN, payment="deposit")

    # THEN the booking is refused and the time is still offered to others
    assert status == 422, body
    assert body["error"]["code"] == "payments_not_configured"
    assert TEN in shop.slots(facial)


# --- the end to end case of the issue --------------------------------------------------------


def test_deposit_paid_then_cancelled_inside_the_half_refund_tier_refunds_half_the_deposit(
    shop: Shop, facial: dict, dana: dict, platform_fee: int, refunding: Refunding, mail: InMemoryMailGateway
) -> None:
    # GIVEN a client who booked with a deposit ...
    booked = shop.booked(facial, TEN, payment="deposit", client=client("Ann"))
    appointment_id = booked["appointment"]["id"]
    assert booked["appointment"]["status"] == "pending"

    # ... paid it on the hosted page, and Stripe's webhook arrived
    answer = paid(shop, booked)
    assert answer["outcome"] == "confirmed"
    confirmed = appointment(shop, appointment_id)
    assert confirmed["status"] == "confirmed"
    assert (confirmed["amountPaidCents"], confirmed["paymentStatus"]) == (DEPOSIT, "deposit_paid")

    # WHEN the client cancels with the link of the confirmation mail, 30 h before the start
    refunding.enqueue()  # the confirmation mail goes out
    token = manage_token_from_mail(mail.sent, "confirmation", "ann@example.test")
    freeze(from_iso(TEN) - timedelta(hours=30))
    status, cancelled = shop.public("POST", appointment_id, "cancel", {"token": token, "reason": "sick"})

    # THEN half the deposit is requested back at once ...
    assert status == 200, cancelled
    assert cancelled["appointment"]["status"] == "cancelled"
    refund = cancelled["refund"]
    assert (refund["amountCents"], refund["status"]) == (DEPOSIT // 2, "requested")

    # ... and once the stream and the refunds queue ran, Stripe refunded it exactly once
    refunding.run()
    assert refunding.failures() == []
    (stripe_refund,) = requests_to(shop.api.stripe, "POST", "/v1/refunds")
    assert stripe_refund["idempotency_key"] == refund["id"]
    assert stripe_refund["account"] == shop.tenant["stripeAccountId"]
    assert stripe_refund["params"]["amount"] == str(DEPOSIT // 2)

    # ... and the ledger, the totals and the appointment say so
    view = payments_of(shop, appointment_id)
    assert sorted((e["kind"], e["amountCents"]) for e in view["items"]) == [
        ("application_fee", DEPOSIT * FEE_BPS // 10_000),
        ("charge", DEPOSIT),
        ("refund", DEPOSIT // 2),
    ]
    assert [(r["id"], r["status"]) for r in view["refunds"]] == [(refund["id"], "succeeded")]
    assert view["totals"]["refundedCents"] == DEPOSIT // 2
    assert view["totals"]["paymentStatus"] == "partially_refunded"
    after = appointment(shop, appointment_id)
    assert (after["amountPaidCents"], after["amountRefundedCents"]) == (DEPOSIT, DEPOSIT // 2)
    assert after["paymentStatus"] == "partially_refunded"


@pytest.mark.parametrize(
    ("notice", "refunded"),
    [
        (timedelta(hours=48), DEPOSIT),
        (timedelta(hours=24), DEPOSIT // 2),  # exactly 24 h 00 min counts as 24 h
        (timedelta(hours=24) - timedelta(seconds=1), 0),
    ],
)
def test_the_policy_tier_is_measured_at_the_moment_of_cancelling(
    shop: Shop, facial: dict, dana: dict, notice: timedelta, refunded: int
) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")

    freeze(from_iso(TEN) - notice)
    status, body = shop.admin("POST", f"/{booked['appointment']['id']}/cancel", {"reason": "client called"})

    assert status == 200, body
    assert body["refund"]["amountCents"] == refunded
    assert body["refund"]["status"] == ("requested" if refunded else "none")


def test_the_tenants_default_policy_applies_when_the_service_has_none(shop: Shop) -> None:
    shop.settings(defaultCancellationPolicy={"tiers": [{"minHoursBefore": 72, "refundPercent": 100}]})
    peel = shop.service(name="Peel", durationMinutes=60, slotIntervalMinutes=60, priceCents=PRICE, depositCents=DEPOSIT)
    shop.provider([peel], name="Eli")
    booked = booked_and_paid(shop, peel, payment="deposit")

    freeze(from_iso(TEN) - timedelta(hours=71))
    status, body = shop.admin("POST", f"/{booked['appointment']['id']}/cancel", {})

    assert status == 200, body
    assert body["refund"]["amountCents"] == 0


@pytest.mark.parametrize(
    ("choice", "refunded"),
    [("full", DEPOSIT), ("none", 0), ({"amountCents": 700}, 700), ("policy", DEPOSIT // 2)],
)
def test_an_admin_cancel_refunds_what_the_admin_chose(
    shop: Shop, facial: dict, dana: dict, choice: Any, refunded: int
) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")
    appointment_id = booked["appointment"]["id"]
    freeze(from_iso(TEN) - timedelta(hours=30))

    status, body = shop.admin("POST", f"/{appointment_id}/cancel", {"reason": "closed", "refund": choice})

    assert status == 200, body
    assert body["refund"]["amountCents"] == refunded
    totals = payments_of(shop, appointment_id)["totals"]
    assert totals["refundableCents"] == DEPOSIT - refunded  # reserved for the worker


def test_an_admin_cancel_refunding_more_than_was_paid_is_422_and_cancels_nothing(
    shop: Shop, facial: dict, dana: dict
) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")
    appointment_id = booked["appointment"]["id"]

    status, body = shop.admin("POST", f"/{appointment_id}/cancel", {"refund": {"amountCents": DEPOSIT + 1}})

    assert status == 422, body
    assert _error(body, "refund_exceeds_paid")["refundableCents"] == DEPOSIT
    assert appointment(shop, appointment_id)["status"] == "confirmed"
    assert payments_of(shop, appointment_id)["refunds"] == []


def test_an_admin_cancel_refunding_an_amount_of_an_unpaid_appointment_is_422(shop: Shop, dana: dict) -> None:
    # GIVEN an appointment nobody paid anything for
    plain = shop.service(name="Plain", durationMinutes=60, slotIntervalMinutes=60, priceCents=PRICE)
    shop.provider([plain], name="Eli")
    appointment_id = shop.booked(plain, TEN)["appointment"]["id"]

    # WHEN the admin cancels it "refunding $5"
    status, body = shop.admin("POST", f"/{appointment_id}/cancel", {"refund": {"amountCents": 500}})

    # THEN that is refused rather than quietly refunding nothing
    assert status == 422, body
    assert _error(body, "refund_exceeds_paid")["refundableCents"] == 0
    assert appointment(shop, appointment_id)["status"] == "confirmed"


def test_a_malformed_refund_choice_is_400(shop: Shop, facial: dict, dana: dict) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")

    status, body = shop.admin("POST", f"/{booked['appointment']['id']}/cancel", {"refund": "half"})

    assert status == 400, body


def test_admin_refunds_add_up_to_at_most_what_was_paid(
    shop: Shop, facial: dict, dana: dict, refunding: Refunding
) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")
    appointment_id = booked["appointment"]["id"]

    # WHEN the admin refunds 500, then "the rest", then tries once more
    part_status, part = shop.admin("POST", f"/{appointment_id}/refunds", {"amountCents": 500, "reason": "goodwill"})
    rest_status, rest = shop.admin("POST", f"/{appointment_id}/refunds", {})
    more_status, more = shop.admin("POST", f"/{appointment_id}/refunds", {"amountCents": 1})
    refunding.run()

    # THEN the first two are requested and refunded, the third is refused
    assert (part_status, rest_status) == (201, 201), (part, rest)
    assert (part["amountCents"], rest["amountCents"]) == (500, DEPOSIT - 500)
    assert part["status"] == "requested"
    assert more_status == 422, more
    assert _error(more, "refund_exceeds_paid")["refundableCents"] == 0
    view = payments_of(shop, appointment_id)
    assert sorted(r["amountCents"] for r in view["refunds"] if r["status"] == "succeeded") == [500, DEPOSIT - 500]
    assert (view["totals"]["refundedCents"], view["totals"]["paymentStatus"]) == (DEPOSIT, "refunded")
    assert len(requests_to(shop.api.stripe, "POST", "/v1/refunds")) == 2


def test_a_free_appointment_has_nothing_to_refund(shop: Shop, dana: dict) -> None:
    free = shop.service(name="Chat", durationMinutes=60, slotIntervalMinutes=60, priceCents=0)
    shop.provider([free], name="Eli")
    booked = shop.booked(free, TEN)

    status, body = shop.admin("POST", f"/{booked['appointment']['id']}/refunds", {})

    assert status == 422, body


# --- balance and no-show fee -----------------------------------------------------------------


def test_the_balance_link_is_a_checkout_for_what_is_still_owed(shop: Shop, facial: dict, dana: dict) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")
    appointment_id = booked["appointment"]["id"]

    # WHEN the admin asks for a payment link, and the client pays it
    status, body = shop.admin("POST", f"/{appointment_id}/balance", {})
    assert status == 200, body
    assert body["owedCents"] == PRICE - DEPOSIT
    answer = paid(shop, body)

    # THEN the balance is recorded and the appointment is paid
    assert answer["outcome"] == "balance_paid"
    request = checkout_requests(shop)[-1]
    assert request["params"]["metadata"]["purpose"] == "balance"
    assert request["params"]["line_items"][0]["price_data"]["unit_amount"] == str(PRICE - DEPOSIT)
    assert sorted(ledger(shop, appointment_id)) == [("charge", DEPOSIT), ("charge", PRICE - DEPOSIT)]
    after = appointment(shop, appointment_id)
    assert (after["amountPaidCents"], after["paymentStatus"], after["status"]) == (PRICE, "paid", "confirmed")


def test_the_balance_can_be_charged_to_the_saved_card(shop: Shop, facial: dict, dana: dict) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")
    appointment_id = booked["appointment"]["id"]
    fake = shop.api.stripe
    first_intent = fake.get(fake.get(session_id(booked))["payment_intent"])

    status, body = shop.admin("POST", f"/{appointment_id}/balance", {"method": "charge"})

    assert status == 200, body
    assert body == {"owedCents": PRICE - DEPOSIT, "chargedCents": PRICE - DEPOSIT}
    (charge,) = requests_to(fake, "POST", "/v1/payment_intents")
    assert charge["params"]["off_session"] == "true"
    assert charge["params"]["customer"] == first_intent["customer"]
    assert charge["params"]["payment_method"] == first_intent["payment_method"]
    assert charge["account"] == shop.tenant["stripeAccountId"]
    after = appointment(shop, appointment_id)
    assert (after["amountPaidCents"], after["paymentStatus"]) == (PRICE, "paid")


def test_a_declined_balance_charge_is_422_card_declined_and_recorded(shop: Shop, facial: dict, dana: dict) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")
    appointment_id = booked["appointment"]["id"]
    shop.api.stripe.decline_next(decline_code="insufficient_funds", message="Your card has insufficient funds.")

    status, body = shop.admin("POST", f"/{appointment_id}/balance", {"method": "charge"})

    assert status == 422, body
    assert _error(body, "card_declined")["declineCode"] == "insufficient_funds"
    entries = payments_of(shop, appointment_id)["items"]
    failures = [e for e in entries if e["kind"] == "failure"]
    assert len(failures) == 1, entries
    assert failures[0]["amountCents"] == PRICE - DEPOSIT
    assert "insufficient_funds" in failures[0]["note"]
    assert appointment(shop, appointment_id)["amountPaidCents"] == DEPOSIT


def test_the_balance_can_be_charged_again_after_a_decline(shop: Shop, facial: dict, dana: dict) -> None:
    # GIVEN a balance charge the bank declined
    booked = booked_and_paid(shop, facial, payment="deposit")
    appointment_id = booked["appointment"]["id"]
    shop.api.stripe.decline_next()
    declined, _ = shop.admin("POST", f"/{appointment_id}/balance", {"method": "charge"})
    assert declined == 422

    # WHEN the admin tries again once the client sorted out their card
    status, body = shop.admin("POST", f"/{appointment_id}/balance", {"method": "charge"})

    # THEN this attempt is a new charge, not a replay of the decline
    assert status == 200, body
    assert appointment(shop, appointment_id)["paymentStatus"] == "paid"


def test_nothing_owed_means_no_balance(shop: Shop, facial: dict, dana: dict) -> None:
    booked = booked_and_paid(shop, facial, payment="full")

    status, body = shop.admin("POST", f"/{booked['appointment']['id']}/balance", {"method": "link"})

    assert status == 422, body


def test_a_balance_charge_without_a_saved_card_is_422(shop: Shop, dana: dict) -> None:
    plain = shop.service(name="Plain", durationMinutes=60, slotIntervalMinutes=60, priceCents=PRICE)
    shop.provider([plain], name="Eli")
    booked = shop.booked(plain, TEN)  # nothing due up front: confirmed, no card on file

    status, body = shop.admin("POST", f"/{booked['appointment']['id']}/balance", {"method": "charge"})

    assert status == 422, body
    assert requests_to(shop.api.stripe, "POST", "/v1/payment_intents") == []


@pytest.fixture
def no_show_service(shop: Shop) -> dict[str, Any]:
    service = shop.service(
        name="Laser",
        durationMinutes=60,
        slotIntervalMinutes=60,
        priceCents=PRICE,
        depositCents=DEPOSIT,
        noShowFeeCents=3_000,
    )
    shop.provider([service], name="Eli")
    return service


def mark_no_show(shop: Shop, appointment_id: str) -> dict[str, Any]:
    freeze(from_iso(TEN) + timedelta(minutes=30))
    status, body = shop.admin("POST", f"/{appointment_id}/no-show", {})
    assert status == 200, body
    assert body["status"] == "no_show"
    return dict(body)


def test_a_no_show_is_charged_its_fee_on_the_saved_card(shop: Shop, no_show_service: dict) -> None:
    booked = booked_and_paid(shop, no_show_service, payment="deposit")
    appointment_id = booked["appointment"]["id"]

    body = mark_no_show(shop, appointment_id)

    assert body["noShowFee"] == {"status": "charged", "amountCents": 3_000}
    (charge,) = requests_to(shop.api.stripe, "POST", "/v1/payment_intents")
    assert charge["params"]["amount"] == "3000"
    assert charge["params"]["off_session"] == "true"
    assert sorted(ledger(shop, appointment_id)) == [("charge", DEPOSIT), ("charge", 3_000)]


def test_a_declined_no_show_fee_is_reported_and_recorded(shop: Shop, no_show_service: dict) -> None:
    booked = booked_and_paid(shop, no_show_service, payment="deposit")
    appointment_id = booked["appointment"]["id"]
    shop.api.stripe.decline_next()

    body = mark_no_show(shop, appointment_id)

    assert body["noShowFee"]["status"] == "declined"
    assert body["noShowFee"]["declineCode"] == "generic_decline"
    assert ("failure", 3_000) in ledger(shop, appointment_id)
    assert appointment(shop, appointment_id)["amountPaidCents"] == DEPOSIT


def test_a_no_show_without_a_configured_fee_charges_nothing(shop: Shop, facial: dict, dana: dict) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")

    body = mark_no_show(shop, booked["appointment"]["id"])

    assert body["noShowFee"] == {"status": "not_configured"}
    assert requests_to(shop.api.stripe, "POST", "/v1/payment_intents") == []


def test_a_no_show_without_a_saved_card_charges_nothing(shop: Shop, no_show_service: dict) -> None:
    booked = booked_and_paid(shop, no_show_service, payment="full")  # paid in full: no card kept

    body = mark_no_show(shop, booked["appointment"]["id"])

    assert body["noShowFee"] == {"status": "no_saved_card", "amountCents": 3_000}
    assert requests_to(shop.api.stripe, "POST", "/v1/payment_intents") == []


# --- the ledger belongs to its tenant --------------------------------------------------------


def test_another_tenants_payments_are_404(api: Api, shop: Shop, facial: dict, dana: dict) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")
    other = api.open_tenant("globex")
    appointment_id = booked["appointment"]["id"]

    for method, path, body in [
        ("GET", f"/v1/admin/appointments/{appointment_id}/payments", None),
        ("POST", f"/v1/admin/appointments/{appointment_id}/refunds", {}),
        ("POST", f"/v1/admin/appointments/{appointment_id}/balance", {}),
    ]:
        status, answer = api.call(method, path, body, key=other["secretKey"])
        assert status == 404, (path, answer)
    assert payments_of(shop, appointment_id)["refunds"] == []


def test_the_ledger_lists_entries_in_time_order_with_their_stripe_ids(shop: Shop, facial: dict, dana: dict) -> None:
    booked = booked_and_paid(shop, facial, payment="deposit")
    appointment_id = booked["appointment"]["id"]
    freeze(NOW + timedelta(hours=1))
    shop.admin("POST", f"/{appointment_id}/balance", {"method": "charge"})

    items = payments_of(shop, appointment_id)["items"]

    assert [(e["kind"], e["amountCents"]) for e in items] == [("charge", DEPOSIT), ("charge", PRICE - DEPOSIT)]
    assert all(e["stripeId"].startswith("pi_") for e in items)
    assert [e["at"] for e in items] == [to_iso(NOW), to_iso(NOW + timedelta(hours=1))]
