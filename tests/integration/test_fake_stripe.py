"""The local Stripe fake, driven only the way the product drives Stripe: through the real SDK.

Hosted pages (Checkout, onboarding) are driven as a browser would, over plain HTTP, and webhooks
are received by a tiny local server and verified with `stripe.Webhook.construct_event`.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from infra.local.fake_stripe import FakeStripe

NOW = 1_900_000_000.0  # a fixed clock for the tests that reason about expiry


class Receiver:
    """A webhook endpoint on 127.0.0.1 that keeps every (payload, Stripe-Signature) it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/stripe"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def events(self, secret: str) -> list[Any]:
        """Every event received, each verified as the product verifies them."""
        return [stripe.Webhook.construct_event(body, header, secret) for body, header in self.received]

    def of_type(self, secret: str, type_: str) -> list[Any]:
        return [event for event in self.events(secret) if event.type == type_]


class Browser:
    """Just enough of a browser for the hosted pages: GET, form POST, redirects not followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())

    def open(self, url: str, form: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=10) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)

    @staticmethod
    def form_of(html: str, url: str) -> tuple[str, dict[str, str]]:
        """The first form of the page: its absolute action and its fields with their values."""
        action = re.search(r'<form method="post" action="([^"]+)"', html)
        assert action is not None, html
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html.split("</form>")[0]))
        return urllib.parse.urljoin(url, action.group(1)), fields


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.server.shutdown()
    started.server.server_close()


@pytest.fixture
def fake(receiver: Receiver) -> Iterator[FakeStripe]:
    with FakeStripe(webhook_url=receiver.url) as started:
        yield started


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url}, max_network_retries=0)


def connected_account(client: stripe.StripeClient, fake: FakeStripe, onboarded: bool = True) -> str:
    account = client.v1.accounts.create(params={"type": "express", "email": "owner@salon.test"})
    if onboarded:
        fake.complete_onboarding(account.id)
    return str(account.id)


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {"currency": "usd", "unit_amount": 500, "product_data": {"name": "Haircut"}},
                "quantity": 1,
            }
        ],
        "payment_intent_data": {
            "application_fee_amount": 50,
            "setup_future_usage": "off_session",
            "metadata": {"bookingId": "bk1"},
        },
        "metadata": {"tenantId": "tn1", "0": "digit keys stay metadata keys"},
        "success_url": "https://book.test/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://book.test/cancelled",
        "expires_at": int(time.time()) + 3600,
        "customer_email": "ada@example.com",
        "customer_creation": "always",
    }
    params.update(overrides)
    return params


def paid_session(client: stripe.StripeClient, fake: FakeStripe, account: str, **overrides: Any) -> Any:
    session = client.v1.checkout.sessions.create(
        params=session_params(**overrides), options={"stripe_account": account}
    )
    fake.complete_session(session.id)
    return client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account})


# --- authentication, idempotency, scoping ------------------------------------------------------


def test_given_a_wrong_api_key_when_calling_then_the_sdk_raises_authentication_error(fake: FakeStripe) -> None:
    client = stripe.StripeClient("sk_test_wrong", base_addresses={"api": fake.url}, max_network_retries=0)

    with pytest.raises(stripe.AuthenticationError) as raised:
        client.v1.accounts.create(params={"type": "express"})

    assert raised.value.http_status == 401
    assert raised.value.error is not None and raised.value.error.type == "invalid_request_error"


def test_given_an_idempotency_key_when_the_same_request_is_repeated_then_the_response_is_replayed(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    account = connected_account(client, fake)
    params: Any = session_params()
    options: Any = {"stripe_account": account, "idempotency_key": "k1"}

    first = client.v1.checkout.sessions.create(params=params, options=options)
    again = client.v1.checkout.sessions.create(params=params, options=options)

    assert again.id == first.id and again.to_dict() == first.to_dict()
    assert first.last_response is not None and "Idempotent-Replayed" not in first.last_response.headers
    assert again.last_response is not None and again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.headers["Original-Request"] == first.last_response.request_id
    sessions = [r for r in fake.requests if r["path"] == "/v1/checkout/sessions"]
    assert [(r["idempotency_key"], r["status"]) for r in sessions] == [("k1", 200), ("k1", 200)]


def test_given_a_used_idempotency_key_when_reused_with_other_params_then_idempotency_error(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    account = connected_account(client, fake)
    other = connected_account(client, fake)
    client.v1.checkout.sessions.create(
        params=session_params(), options={"stripe_account": account, "idempotency_key": "k1"}
    )

    with pytest.raises(stripe.IdempotencyError) as raised:
        client.v1.checkout.sessions.create(
            params=session_params(customer_email="bob@example.com"),
            options={"stripe_account": account, "idempotency_key": "k1"},
        )
    with pytest.raises(stripe.IdempotencyError):  # nor on another endpoint
        client.v1.payment_intents.create(
            params={"amount": 500, "currency": "usd"}, options={"stripe_account": account, "idempotency_key": "k1"}
        )
    # Keys are per account: the same key on another account is a new request.
    elsewhere = client.v1.checkout.sessions.create(
        params=session_params(customer_email="bob@example.com"),
        options={"stripe_account": other, "idempotency_key": "k1"},
    )

    assert raised.value.http_status == 400
    assert elsewhere.customer_email == "bob@example.com"


def test_given_a_session_on_one_account_when_read_from_another_then_it_is_missing(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    account, other = connected_account(client, fake), connected_account(client, fake)
    session = client.v1.checkout.sessions.create(params=session_params(), options={"stripe_account": account})

    for elsewhere in ({"stripe_account": other}, {}):
        with pytest.raises(stripe.InvalidRequestError) as raised:
            client.v1.checkout.sessions.retrieve(session.id, options=elsewhere)
        assert raised.value.http_status == 404 and raised.value.code == "resource_missing"
    with pytest.raises(stripe.PermissionError):
        client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": "acct_unknown"})


def test_given_an_unknown_or_malformed_parameter_when_creating_then_invalid_request_names_it(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    account = connected_account(client, fake)

    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.checkout.sessions.create(
            params=session_params(payment_intent_data={"aplication_fee_amount": 50}),
            options={"stripe_account": account},
        )
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.create(params=session_params(line_items=[{"price_data": {"currency": "usd"}}]))

    assert unknown.value.param == "payment_intent_data[aplication_fee_amount]"
    assert missing.value.param == "line_items[0][price_data][product_data]"


# --- Connect onboarding ------------------------------------------------------------------------


def test_given_a_new_account_when_onboarding_is_completed_on_the_hosted_page_then_charges_are_enabled(
    client: stripe.StripeClient, fake: FakeStripe, receiver: Receiver
) -> None:
    account = client.v1.accounts.create(params={"type": "express", "email": "owner@salon.test"})
    with pytest.raises(stripe.InvalidRequestError):  # no payments before onboarding
        client.v1.checkout.sessions.create(params=session_params(), options={"stripe_account": account.id})
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "refresh_url": "https://app.test/onboarding/refresh",
            "return_url": "https://app.test/onboarding/done",
            "type": "account_onboarding",
        }
    )
    browser = Browser()

    status, html, _ = browser.open(link.url)
    action, fields = browser.form_of(html, link.url)
    posted, _, headers = browser.open(action, {**fields, "action": "complete"})
    reopened, _, reopened_headers = browser.open(link.url)

    assert not account.charges_enabled and not account.details_submitted
    assert status == 200 and "Complete onboarding" in html
    assert posted == 303 and headers["Location"] == "https://app.test/onboarding/done"
    assert reopened == 302 and reopened_headers["Location"] == "https://app.test/onboarding/refresh"
    found = client.v1.accounts.retrieve(account.id)
    assert found.charges_enabled and found.details_submitted and found.payouts_enabled
    (updated,) = receiver.of_type(fake.webhook_secret, "account.updated")
    assert updated.account == account.id and updated.data.object.charges_enabled is True
    assert updated.data.previous_attributes.charges_enabled is False


# --- Checkout ----------------------------------------------------------------------------------


def test_given_checkout_params_when_creating_a_session_then_it_is_open_with_stripe_shape(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    account = connected_account(client, fake)

    session = client.v1.checkout.sessions.create(
        params=session_params(line_items=[session_params()["line_items"][0] | {"quantity": 2}]),
        options={"stripe_account": account},
    )
    found = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account})

    assert session.id.startswith("cs_test_") and session.object == "checkout.session"
    assert session.url == f"{fake.public_url}/pay/{session.id}"
    assert (session.status, session.payment_status, session.amount_total, session.currency) == (
        "open",
        "unpaid",
        1000,
        "usd",
    )
    assert session.payment_intent is None and session.customer is None and session.livemode is False
    assert session.metadata.to_dict() == {"tenantId": "tn1", "0": "digit keys stay metadata keys"}
    assert found.to_dict() == session.to_dict()
    params = fake.requests[-2]["params"]
    assert params["line_items"][0]["price_data"]["unit_amount"] == "500"
    assert params["payment_intent_data"]["application_fee_amount"] == "50"


def test_given_expires_at_outside_30_minutes_to_24_hours_when_creating_then_invalid_request_names_it() -> None:
    with FakeStripe(clock=lambda: NOW) as fake:
        client = stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url}, max_network_retries=0)
        account = connected_account(client, fake)
        options: Any = {"stripe_account": account}
        for expires_at in (NOW + 30 * 60 - 1, NOW + 24 * 3600 + 1, NOW - 10):
            with pytest.raises(stripe.InvalidRequestError) as raised:
                client.v1.checkout.sessions.create(params=session_params(expires_at=int(expires_at)), options=options)
            assert raised.value.param == "expires_at"

        shortest = client.v1.checkout.sessions.create(
            params=session_params(expires_at=int(NOW) + 1800), options=options
        )
        longest = client.v1.checkout.sessions.create(
            params=session_params(expires_at=int(NOW) + 86400), options=options
        )

        assert (shortest.expires_at, longest.expires_at) == (int(NOW) + 1800, int(NOW) + 86400)


def test_given_an_open_session_when_its_expiry_passes_then_it_expires_with_a_webhook(receiver: Receiver) -> None:
    now = [NOW]
    with FakeStripe(clock=lambda: now[0], webhook_url=receiver.url) as fake:
        client = stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url}, max_network_retries=0)
        account = connected_account(client, fake)
        session = client.v1.checkout.sessions.create(
            params=session_params(expires_at=int(NOW) + 1800), options={"stripe_account": account}
        )

        now[0] += 1800
        found = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account})
        fake.flush()

        assert (found.status, found.url) == ("expired", None)
        (expired,) = receiver.of_type(fake.webhook_secret, "checkout.session.expired")
        assert expired.data.object.id == session.id and expired.account == account


def test_given_an_open_session_when_expired_then_a_webhook_follows_and_it_cannot_be_expired_again(
    client: stripe.StripeClient, fake: FakeStripe, receiver: Receiver
) -> None:
    account = connected_account(client, fake)
    session = client.v1.checkout.sessions.create(params=session_params(), options={"stripe_account": account})

    expired = client.v1.checkout.sessions.expire(session.id, options={"stripe_account": account})
    fake.flush()

    assert (expired.status, expired.url) == ("expired", None)
    (event,) = receiver.of_type(fake.webhook_secret, "checkout.session.expired")
    assert event.data.object.id == session.id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id, options={"stripe_account": account})
    status, html, _ = Browser().open(session.url)
    assert status == 200 and "expired" in html


def test_given_an_open_session_when_the_customer_pays_on_the_hosted_page_then_completed_webhook_and_objects(
    client: stripe.StripeClient, fake: FakeStripe, receiver: Receiver
) -> None:
    account = connected_account(client, fake)
    session = client.v1.checkout.sessions.create(params=session_params(), options={"stripe_account": account})
    browser = Browser()

    status, html, _ = browser.open(session.url)
    action, _ = browser.form_of(html, session.url)
    paid_status, paid_html, _ = browser.open(action, {"email": "ada@example.com", "card": "pm_card_visa"})
    repaid, _, _ = browser.open(action, {"card": "pm_card_visa"})

    assert status == 200 and "Haircut" in html and "5.00 USD" in html and ">Pay" in html
    assert paid_status == 200 and "Paid" in paid_html
    assert f'href="https://book.test/done?session={session.id}"' in paid_html
    assert repaid == 409
    (completed,) = receiver.of_type(fake.webhook_secret, "checkout.session.completed")
    assert completed.account == account and completed.api_version == fake.events[0]["api_version"]
    done = completed.data.object
    assert (done.id, done.status, done.payment_status) == (session.id, "complete", "paid")
    assert done.payment_intent.startswith("pi_") and done.customer.startswith("cus_")
    intent = client.v1.payment_intents.retrieve(
        done.payment_intent, params={"expand": ["latest_charge"]}, options={"stripe_account": account}
    )
    assert (intent.status, intent.amount, intent.application_fee_amount) == ("succeeded", 500, 50)
    assert intent.customer == done.customer and intent.metadata.to_dict() == {"bookingId": "bk1"}
    assert intent.latest_charge.id.startswith("ch_") and intent.latest_charge.amount == 500
    method = client.v1.payment_methods.retrieve(intent.payment_method, options={"stripe_account": account})
    assert method.customer == done.customer  # saved for off-session use


def test_given_a_declining_card_on_the_hosted_page_when_paying_then_the_session_stays_open(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    account = connected_account(client, fake)
    session = client.v1.checkout.sessions.create(params=session_params(), options={"stripe_account": account})

    status, html, _ = Browser().open(session.url, {"card": "pm_card_chargeDeclined"})

    assert status == 402 and "Your card was declined." in html
    assert client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": account}).status == "open"


# --- PaymentIntents ----------------------------------------------------------------------------


def test_given_a_saved_card_when_charging_off_session_then_the_payment_intent_succeeds(
    client: stripe.StripeClient, fake: FakeStripe, receiver: Receiver
) -> None:
    account = connected_account(client, fake)
    intent = client.v1.payment_intents.retrieve(
        paid_session(client, fake, account).payment_intent, options={"stripe_account": account}
    )

    charged = client.v1.payment_intents.create(
        params={
            "amount": 2500,
            "currency": "usd",
            "customer": intent.customer,
            "payment_method": intent.payment_method,
            "off_session": True,
            "confirm": True,
            "application_fee_amount": 250,
            "metadata": {"bookingId": "bk2"},
        },
        options={"stripe_account": account, "idempotency_key": "charge-bk2"},
    )
    fake.flush()

    assert (charged.status, charged.amount, charged.application_fee_amount) == ("succeeded", 2500, 250)
    assert charged.latest_charge.startswith("ch_") and charged.metadata.to_dict() == {"bookingId": "bk2"}
    succeeded = receiver.of_type(fake.webhook_secret, "payment_intent.succeeded")
    assert [event.data.object.id for event in succeeded][-1] == charged.id


def test_given_a_declining_card_when_charging_off_session_then_the_sdk_raises_card_error(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    account = connected_account(client, fake)
    intent = client.v1.payment_intents.retrieve(
        paid_session(client, fake, account).payment_intent, options={"stripe_account": account}
    )
    params: Any = {"amount": 900, "currency": "usd", "customer": intent.customer, "off_session": True, "confirm": True}

    with pytest.raises(stripe.CardError) as test_card:
        client.v1.payment_intents.create(
            params={**params, "payment_method": "pm_card_chargeDeclined"}, options={"stripe_account": account}
        )
    fake.decline_next(decline_code="insufficient_funds", message="Your card has insufficient funds.")
    with pytest.raises(stripe.CardError) as injected:
        client.v1.payment_intents.create(
            params={**params, "payment_method": intent.payment_method}, options={"stripe_account": account}
        )

    for raised, decline_code in ((test_card, "generic_decline"), (injected, "insufficient_funds")):
        error = raised.value.error
        assert raised.value.http_status == 402 and raised.value.code == "card_declined"
        assert error is not None and error.decline_code == decline_code
        assert error.payment_intent is not None and error.payment_intent.status == "requires_payment_method"
    assert test_card.value.user_message == "Your card was declined."
    assert "payment_intent.payment_failed" in [event["type"] for event in fake.events]


def test_given_a_card_saved_without_a_customer_when_reused_then_stripe_refuses_it(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    account = connected_account(client, fake)
    session = paid_session(client, fake, account, customer_creation=None)  # Checkout's default: if_required
    intent = client.v1.payment_intents.retrieve(session.payment_intent, options={"stripe_account": account})

    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.payment_intents.create(
            params={"amount": 500, "currency": "usd", "payment_method": intent.payment_method, "confirm": True},
            options={"stripe_account": account},
        )

    assert session.customer is None and intent.customer is None
    assert raised.value.param == "payment_method" and "previously used" in str(raised.value.user_message)


# --- refunds -----------------------------------------------------------------------------------


def test_given_a_paid_session_when_refunding_partially_then_fully_then_too_much_is_refused(
    client: stripe.StripeClient, fake: FakeStripe, receiver: Receiver
) -> None:
    account = connected_account(client, fake)
    intent_id = paid_session(client, fake, account).payment_intent
    options: Any = {"stripe_account": account}

    with pytest.raises(stripe.InvalidRequestError) as too_large:
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 501}, options=options)
    partial = client.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 200, "metadata": {"reason": "late"}}, options=options
    )
    rest = client.v1.refunds.create(
        params={"payment_intent": intent_id, "reason": "requested_by_customer"}, options=options
    )
    with pytest.raises(stripe.InvalidRequestError) as already:
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1}, options=options)
    fake.flush()

    assert too_large.value.code == "amount_too_large" and too_large.value.param == "amount"
    assert (partial.object, partial.amount, partial.status, partial.currency) == ("refund", 200, "succeeded", "usd")
    assert partial.payment_intent == intent_id and partial.metadata.to_dict() == {"reason": "late"}
    assert rest.amount == 300
    assert already.value.code == "charge_already_refunded"
    assert client.v1.refunds.retrieve(partial.id, options=options).amount == 200
    refunded = receiver.of_type(fake.webhook_secret, "charge.refunded")
    assert [event.data.object.amount_refunded for event in refunded] == [200, 500]
    last = refunded[-1].data.object
    assert last.refunded is True and last.payment_intent == intent_id
    assert [refund.id for refund in last.refunds.data] == [rest.id, partial.id]
    assert [event.data.object.id for event in receiver.of_type(fake.webhook_secret, "refund.created")] == [
        partial.id,
        rest.id,
    ]


# --- balance transactions ----------------------------------------------------------------------


def test_given_charges_and_refunds_when_listing_balance_transactions_then_each_moved_the_balance_once(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    account = connected_account(client, fake)
    other = connected_account(client, fake)
    options: Any = {"stripe_account": account}
    intent_id = paid_session(client, fake, account).payment_intent
    paid_session(client, fake, other)
    refund = client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 200}, options=options)

    listed = client.v1.balance_transactions.list(params={"expand": ["data.source"]}, options=options)

    assert [(t.type, t.amount, t.fee, t.net, t.currency) for t in listed.data] == [
        ("refund", -200, 0, -200, "usd"),
        ("charge", 500, 50, 450, "usd"),
    ]
    refund_txn, charge_txn = listed.data
    assert refund_txn.source.id == refund.id and refund_txn.id == refund.balance_transaction
    assert charge_txn.source.payment_intent == intent_id
    assert charge_txn.fee_details[0].type == "application_fee" and charge_txn.fee_details[0].amount == 50
    assert client.v1.balance_transactions.retrieve(charge_txn.id, options=options).source == charge_txn.source.id
    assert listed.has_more is False  # the other account's charge is not listed here


def test_given_many_transactions_when_paging_with_created_bounds_then_every_one_is_seen_once_newest_first(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    account = connected_account(client, fake)
    options: Any = {"stripe_account": account}
    intents = [paid_session(client, fake, account).payment_intent for _ in range(7)]
    first = client.v1.balance_transactions.list(options=options).data[-1]

    pages = client.v1.balance_transactions.list(
        params={"limit": 3, "type": "charge", "created": {"gte": first.created, "lt": first.created + 86400}},
        options=options,
    )
    seen = [txn.source for txn in pages.auto_paging_iter()]
    with pytest.raises(stripe.InvalidRequestError) as too_many:
        client.v1.balance_transactions.list(params={"limit": 101}, options=options)
    later = client.v1.balance_transactions.list(params={"created": {"gt": first.created + 86400}}, options=options)

    charges = [client.v1.payment_intents.retrieve(i, options=options).latest_charge for i in reversed(intents)]
    assert seen == charges
    assert too_many.value.param == "limit"
    assert later.data == []


# --- failure injection -------------------------------------------------------------------------


def test_given_an_injected_500_when_calling_without_retries_then_the_sdk_raises_api_error(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    fake.fail_next("POST", "/v1/accounts", 500, {"type": "api_error", "message": "Something went wrong."})

    with pytest.raises(stripe.APIError) as raised:
        client.v1.accounts.create(params={"type": "express"})

    assert raised.value.http_status == 500
    assert client.v1.accounts.create(params={"type": "express"}).id.startswith("acct_")


def test_given_an_injected_500_when_the_sdk_retries_with_its_key_then_one_object_is_created(fake: FakeStripe) -> None:
    client = stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url}, max_network_retries=1)
    fake.fail_next("POST", "/v1/accounts", 500, {"type": "api_error", "message": "Something went wrong."})

    account = client.v1.accounts.create(params={"type": "express"})

    attempts = [r for r in fake.requests if r["path"] == "/v1/accounts"]
    assert [r["status"] for r in attempts] == [500, 200]
    assert attempts[0]["idempotency_key"] == attempts[1]["idempotency_key"]
    assert account.id.startswith("acct_")


def test_given_injected_429_and_402_when_calling_then_the_sdk_raises_rate_limit_and_card_errors(
    client: stripe.StripeClient, fake: FakeStripe
) -> None:
    fake.fail_next(
        "*", "/v1/accounts", 429, {"type": "invalid_request_error", "code": "rate_limit", "message": "Slow."}
    )
    fake.fail_next(
        "POST", "/v1/payment_intents", 402, {"type": "card_error", "code": "card_declined", "message": "No."}
    )

    with pytest.raises(stripe.RateLimitError):
        client.v1.accounts.create(params={"type": "express"})
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(params={"amount": 100, "currency": "usd"})


# --- webhooks and the control API --------------------------------------------------------------


def test_given_a_payload_when_signed_then_stripe_verifies_it_and_rejects_tampering(fake: FakeStripe) -> None:
    payload = json.dumps({"id": "evt_1", "object": "event", "type": "ping", "data": {"object": {}}}).encode()

    header = fake.sign(payload)

    assert stripe.Webhook.construct_event(payload, header, fake.webhook_secret).id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.replace(b"ping", b"pong"), header, fake.webhook_secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, fake.sign(payload, int(time.time()) - 600), fake.webhook_secret)


def test_given_a_failed_delivery_when_resent_then_the_same_event_arrives_again(
    client: stripe.StripeClient, fake: FakeStripe, receiver: Receiver
) -> None:
    receiver.status = 500
    account = client.v1.accounts.create(params={"type": "express"})
    fake.complete_onboarding(account.id)
    receiver.status = 200

    (event,) = fake.events
    delivery = fake.resend(event["id"])

    assert [d["status"] for d in fake.deliveries] == [500, 200] and delivery is not None
    first, second = receiver.events(fake.webhook_secret)
    assert first.id == second.id == event["id"]


def test_given_the_control_api_when_configuring_the_webhook_url_then_events_go_there(receiver: Receiver) -> None:
    with FakeStripe() as fake:
        client = stripe.StripeClient(fake.api_key, base_addresses={"api": fake.url}, max_network_retries=0)
        body = json.dumps({"webhook_url": receiver.url}).encode()
        request = urllib.request.Request(f"{fake.url}/_fake/config", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            config = json.load(response)

        account = client.v1.accounts.create(params={"type": "express"})
        fake.complete_onboarding(account.id)
        with urllib.request.urlopen(f"{fake.url}/_fake/events", timeout=5) as response:
            events = json.load(response)
        with urllib.request.urlopen(f"{fake.url}/_fake/requests", timeout=5) as response:
            requests = json.load(response)

        assert config["webhook_url"] == receiver.url
        assert [event["type"] for event in events] == ["account.updated"]
        assert [(r["method"], r["path"], r["params"]) for r in requests] == [
            ("POST", "/v1/accounts", {"type": "express"})
        ]
        assert [event.id for event in receiver.events(fake.webhook_secret)] == [events[0]["id"]]
