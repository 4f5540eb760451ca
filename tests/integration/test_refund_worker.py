"""The refund worker on the emulator: the table's stream enqueues each refund request on the
real refunds queue (with its DLQ after 5 receives), the local QueuePump hands batches to
`process_refund_batch` as Lambda would, and Stripe is the local fake.

Redelivery never refunds twice (the request id is Stripe's idempotency key), a failing call
is retried, a message that keeps failing ends in the DLQ with its request failed and its
amount refundable again, and concurrent cancels or refunds never return more than was paid.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.clock import from_iso
from chalicelib.domain.errors import ConflictError, RuleViolationError
from chalicelib.gateways.aws import client
from chalicelib.gateways.mail import InMemoryMailGateway
from chalicelib.services import registry
from chalicelib.services.refunds import FULL, RefundChoice
from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api
from tests.api.payments_support import (
    REFUND_DLQ,
    REFUND_QUEUE,
    Refunding,
    Webhooks,
    messages_in,
    paid,
    queue_url,
    requests_to,
    session_id,
)
from tests.conftest import PROJECT_DIR
from tests.races import race

TEN = local(MONDAY, "10:00")
PRICE, DEPOSIT = 10_000, 2_000
MAX_RECEIVES = 5  # the queue's redrive policy (infra/template.json)
STRIPE_DOWN = {"type": "api_error", "message": "Stripe is having a bad day."}
NO_SDK_RETRY = {"Stripe-Should-Retry": "false"}  # each worker attempt makes exactly one call


@pytest.fixture
def api(aws: str, stripe_fake: Any) -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="dev", project_dir=str(PROJECT_DIR)) as test_client:
        yield Api(test_client, stripe_fake)


@pytest.fixture
def shop(api: Api) -> Shop:
    registry.use("mail_gateway", InMemoryMailGateway())
    freeze(NOW)
    return Shop(api, api.open_tenant("acme"))


@pytest.fixture
def refunding(aws: str) -> Refunding:
    return Refunding(aws)


@pytest.fixture
def confirmed(shop: Shop) -> dict[str, Any]:
    """A confirmed appointment whose $20 deposit was paid: the appointment's JSON."""
    facial = shop.service(
        name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=PRICE, depositCents=DEPOSIT
    )
    shop.provider([facial], name="Dana")
    booked = shop.booked(facial, TEN, payment="deposit")
    assert paid(shop, booked)["outcome"] == "confirmed"
    return dict(booked["appointment"], checkoutUrl=booked["checkoutUrl"])


def payments(shop: Shop, appointment: dict[str, Any]) -> dict[str, Any]:
    status, body = shop.admin("GET", f"/{appointment['id']}/payments")
    assert status == 200, body
    return dict(body)


def refund_request(shop: Shop, appointment: dict[str, Any], amount: int | None = None) -> dict[str, Any]:
    status, body = shop.admin(
        "POST", f"/{appointment['id']}/refunds", {} if amount is None else {"amountCents": amount}
    )
    assert status == 201, body
    return dict(body)


def stripe_refunds(shop: Shop, appointment: dict[str, Any]) -> list[dict[str, Any]]:
    """The refunds Stripe holds against the appointment's charge (its own record, not our calls)."""
    fake = shop.api.stripe
    intent = fake.get(fake.get(session_id(appointment))["payment_intent"])
    charge = fake.get(intent["latest_charge"])
    return list(charge["refunds"]["data"])


# --- exactly once ----------------------------------------------------------------------------


def test_a_redelivered_message_refunds_once(shop: Shop, confirmed: dict, refunding: Refunding) -> None:
    # GIVEN a refund the worker already carried out
    request = refund_request(shop, confirmed, 500)
    refunding.run()
    assert payments(shop, confirmed)["refunds"][0]["status"] == "succeeded"

    # WHEN SQS delivers its message again (at-least-once delivery)
    message = {"tenantId": shop.tenant["tenant"]["id"], "appointmentId": confirmed["id"], "requestId": request["id"]}
    client("sqs").send_message(QueueUrl=queue_url(REFUND_QUEUE), MessageBody=json.dumps(message))
    refunding.work()

    # THEN Stripe refunded once, and the ledger has one refund
    assert refunding.failures() == []
    assert [r["amount"] for r in stripe_refunds(shop, confirmed)] == [500]
    assert [e["amountCents"] for e in payments(shop, confirmed)["items"] if e["kind"] == "refund"] == [500]
    assert messages_in(REFUND_QUEUE) == []


def test_a_refund_stripe_made_before_the_worker_died_is_not_made_again(
    shop: Shop, confirmed: dict, refunding: Refunding
) -> None:
    # GIVEN a worker that asked Stripe for the refund, then died before recording it
    request = refund_request(shop, confirmed, 700)
    registry.payment_gateway().refund(
        shop.tenant["stripeAccountId"],
        shop.api.stripe.get(session_id(confirmed))["payment_intent"],
        700,
        {"tenantId": shop.tenant["tenant"]["id"], "appointmentId": confirmed["id"], "requestId": request["id"]},
        idempotency_key=request["id"],
    )

    # WHEN the message is delivered (again) to a worker
    refunding.run()

    # THEN Stripe's answer is replayed, not repeated, and the request is settled with it
    (made,) = stripe_refunds(shop, confirmed)
    view = payments(shop, confirmed)
    assert [(r["status"], r["stripeRefundId"]) for r in view["refunds"]] == [("succeeded", made["id"])]
    assert view["totals"]["refundedCents"] == 700


def test_a_stripe_outage_fails_the_item_and_the_retry_succeeds(
    shop: Shop, confirmed: dict, refunding: Refunding
) -> None:
    # GIVEN Stripe answers the next refund with a 500
    request = refund_request(shop, confirmed, 500)
    shop.api.stripe.fail_next("POST", "/v1/refunds", 500, STRIPE_DOWN, headers=NO_SDK_RETRY)
    refunding.enqueue()

    # WHEN the worker runs: the item fails and stays on the queue
    refunding.work()
    assert len(refunding.failures()) == 1
    assert payments(shop, confirmed)["refunds"][0]["status"] == "requested"

    # THEN the redelivery succeeds, once
    refunding.work()
    assert len(refunding.failures()) == 1
    assert [(r["id"], r["status"]) for r in payments(shop, confirmed)["refunds"]] == [(request["id"], "succeeded")]
    assert [r["amount"] for r in stripe_refunds(shop, confirmed)] == [500]
    assert messages_in(REFUND_QUEUE) == []


def test_a_failing_item_does_not_hold_back_the_rest_of_its_batch(
    shop: Shop, confirmed: dict, refunding: Refunding
) -> None:
    first = refund_request(shop, confirmed, 300)
    second = refund_request(shop, confirmed, 400)
    shop.api.stripe.fail_next("POST", "/v1/refunds", 500, STRIPE_DOWN, headers=NO_SDK_RETRY)
    refunding.enqueue()

    refunding.work()

    statuses = {r["id"]: r["status"] for r in payments(shop, confirmed)["refunds"]}
    assert sorted(statuses.values()) == ["requested", "succeeded"]
    assert set(statuses) == {first["id"], second["id"]}
    assert len(refunding.failures()) == 1


def test_a_message_that_keeps_failing_ends_in_the_dlq_with_its_request_failed(
    shop: Shop, confirmed: dict, refunding: Refunding
) -> None:
    # GIVEN Stripe fails every refund call
    request = refund_request(shop, confirmed, 1_500)
    assert payments(shop, confirmed)["totals"]["refundableCents"] == DEPOSIT - 1_500
    shop.api.stripe.fail_next("POST", "/v1/refunds", 500, STRIPE_DOWN, headers=NO_SDK_RETRY, times=100)
    refunding.enqueue()

    # WHEN SQS delivered it as often as the redrive policy allows (and once more, to move it)
    for _ in range(MAX_RECEIVES + 1):
        refunding.work()

    # THEN it was tried five times, then marked failed, its amount refundable again ...
    assert len(refunding.failures()) == MAX_RECEIVES
    assert len(requests_to(shop.api.stripe, "POST", "/v1/refunds")) == MAX_RECEIVES
    view = payments(shop, confirmed)
    ((status, failure),) = [(r["status"], r["failure"]) for r in view["refunds"]]
    assert status == "failed" and failure
    assert view["totals"]["refundableCents"] == DEPOSIT
    assert view["totals"]["refundedCents"] == 0
    assert [(e["kind"], e["amountCents"]) for e in view["items"] if e["kind"] == "failure"] == [("failure", 1_500)]
    # ... the message is in the DLQ, not on the queue ...
    assert messages_in(REFUND_QUEUE) == []
    assert [m["requestId"] for m in messages_in(REFUND_DLQ)] == [request["id"]]
    # ... and the audit trail shows the request going from requested to failed
    refunding.enqueue()
    today = datetime.now(UTC).date()
    status, trail = shop.api.call(
        "GET",
        f"/v1/admin/audit?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}&entityId={request['id']}",
        key=shop.key,
    )
    assert status == 200, trail
    changes = [(e["entityType"], e["action"], (e["after"] or {}).get("status")) for e in trail["items"]]
    assert ("refund_request", "updated", "failed") in changes
    assert ("refund_request", "created", "requested") in changes


def test_a_failed_refund_can_be_requested_again(shop: Shop, confirmed: dict, refunding: Refunding) -> None:
    refund_request(shop, confirmed, 1_500)
    shop.api.stripe.fail_next("POST", "/v1/refunds", 500, STRIPE_DOWN, headers=NO_SDK_RETRY, times=100)
    refunding.enqueue()
    for _ in range(MAX_RECEIVES + 1):
        refunding.work()

    # WHEN the admin asks again for the whole deposit
    again = refund_request(shop, confirmed, DEPOSIT)

    assert again["amountCents"] == DEPOSIT


def test_a_refund_stripe_refuses_for_good_fails_at_once(shop: Shop, confirmed: dict, refunding: Refunding) -> None:
    refund_request(shop, confirmed, 500)
    shop.api.stripe.fail_next(
        "POST", "/v1/refunds", 400, {"type": "invalid_request_error", "message": "Charge already refunded."}
    )

    refunding.run()

    assert refunding.failures() == []  # not retried: a 4xx does not get better
    view = payments(shop, confirmed)
    assert [r["status"] for r in view["refunds"]] == ["failed"]
    assert view["totals"]["refundableCents"] == DEPOSIT
    assert messages_in(REFUND_QUEUE) == [] and messages_in(REFUND_DLQ) == []


def test_a_message_naming_an_unknown_request_is_dropped_without_retries(shop: Shop, refunding: Refunding) -> None:
    message = {"tenantId": shop.tenant["tenant"]["id"], "appointmentId": "apt_gone", "requestId": "rr_gone"}
    client("sqs").send_message(QueueUrl=queue_url(REFUND_QUEUE), MessageBody=json.dumps(message))

    refunding.work()

    assert refunding.failures() == []
    assert messages_in(REFUND_QUEUE) == [] and messages_in(REFUND_DLQ) == []
    assert requests_to(shop.api.stripe, "POST", "/v1/refunds") == []


# --- concurrency -----------------------------------------------------------------------------


def test_two_concurrent_cancels_make_one_refund(shop: Shop, confirmed: dict, refunding: Refunding) -> None:
    tenant_id = shop.tenant["tenant"]["id"]
    freeze(from_iso(TEN) - timedelta(hours=72))

    outcomes = race(
        2,
        lambda i: registry.booking_service().cancel(
            tenant_id, confirmed["id"], f"admin {i}", refund=RefundChoice(FULL)
        ),
    )

    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(loser, ConflictError) for loser in losers), outcomes
    view = payments(shop, confirmed)
    assert [(r["id"], r["amountCents"]) for r in view["refunds"]] == [(winners[0].refund.id, DEPOSIT)]
    refunding.run()
    assert [r["amount"] for r in stripe_refunds(shop, confirmed)] == [DEPOSIT]


def test_concurrent_refunds_never_return_more_than_was_paid(shop: Shop, confirmed: dict, refunding: Refunding) -> None:
    tenant_id = shop.tenant["tenant"]["id"]

    outcomes = race(2, lambda i: registry.payments().refund(tenant_id, confirmed["id"], 1_500, f"goodwill {i}"))

    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(loser, RuleViolationError) for loser in losers), outcomes
    view = payments(shop, confirmed)
    assert [r["amountCents"] for r in view["refunds"]] == [1_500]
    assert view["totals"]["refundableCents"] == DEPOSIT - 1_500
    refunding.run()
    assert [r["amount"] for r in stripe_refunds(shop, confirmed)] == [1_500]


def test_stripes_charge_refunded_event_settles_a_request_the_worker_never_recorded(
    shop: Shop, confirmed: dict, refunding: Refunding
) -> None:
    # GIVEN a worker that asked Stripe for the refund, then died before recording it
    request = refund_request(shop, confirmed, 400)
    intent = shop.api.stripe.get(session_id(confirmed))["payment_intent"]
    registry.payment_gateway().refund(
        shop.tenant["stripeAccountId"],
        intent,
        400,
        {"tenantId": shop.tenant["tenant"]["id"], "appointmentId": confirmed["id"], "requestId": request["id"]},
        idempotency_key=request["id"],
    )

    # WHEN Stripe's charge.refunded event arrives (twice: replays are normal)
    (event,) = [e for e in shop.api.stripe.events if e["type"] == "charge.refunded"]
    hooks = Webhooks(shop)
    first, second = hooks.deliver(event), hooks.deliver(event)

    # THEN the request is settled from the event, once, and the worker has nothing left to do
    assert first == (200, {"received": True, "outcome": "refund_settled"})
    assert second[1]["outcome"] == "duplicate"
    view = payments(shop, confirmed)
    assert [r["status"] for r in view["refunds"]] == ["succeeded"]
    assert view["totals"]["refundedCents"] == 400
    refunding.run()
    assert len(stripe_refunds(shop, confirmed)) == 1
