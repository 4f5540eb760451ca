"""Money on the API: a shop whose service takes a deposit, paying its Checkout on the fake
Stripe, delivering the fake's signed webhooks, and running the stream and the refunds queue.

In API tests there is no HTTP server for the fake to call, so a webhook is taken from
`fake.events` and POSTed through the Chalice test client (or handed to the Function URL
handler) with a signature made by the fake.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse

from chalice.local import LambdaContext

from chalicelib.api.events import dispatch_records
from chalicelib.api.queues import process_refund_batch
from chalicelib.api.webhooks import stripe_webhook_function_url
from chalicelib.gateways.aws import client
from infra.local.pumps import QueuePump, StreamPump
from tests.api.booking_support import Shop

REFUND_QUEUE = "scheduling-dev-refunds"
REFUND_DLQ = "scheduling-dev-refunds-dlq"
WEBHOOK_PATH = "/v1/webhooks/stripe"
# Cancellation tiers of the issue: 48 h or more 100 %, 24 h or more 50 %, less nothing.
TIERED_POLICY = {
    "tiers": [
        {"minHoursBefore": 48, "refundPercent": 100},
        {"minHoursBefore": 24, "refundPercent": 50},
        {"minHoursBefore": 0, "refundPercent": 0},
    ]
}


def session_id(booked: dict[str, Any]) -> str:
    """The Checkout Session behind a booking's (or a balance's) payment page."""
    url = booked.get("checkoutUrl") or booked.get("url")
    assert url, booked
    return str(urlparse(url).path.rsplit("/", 1)[-1])


def event_for(fake: Any, event_type: str, object_id: str) -> dict[str, Any]:
    """The one event of that type the fake generated about that object."""
    found = [e for e in fake.events if e["type"] == event_type and e["data"]["object"]["id"] == object_id]
    assert len(found) == 1, [(e["type"], e["data"]["object"]["id"]) for e in fake.events]
    return dict(found[0])


def variant(event: dict[str, Any], event_type: str, **changes: Any) -> dict[str, Any]:
    """Another event about the same object (a new id), e.g. the `expired` of a session."""
    other = copy.deepcopy(event)
    other["id"] = event["id"] + "_" + event_type.rsplit(".", 1)[-1]
    other["type"] = event_type
    other["data"]["object"].update(changes)
    return other


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, indent=2).encode()


def signature(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe computes it, with any secret."""
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


class Webhooks:
    """Delivers events to the API route or to the Function URL handler, signed by the fake."""

    def __init__(self, shop: Shop) -> None:
        self.api = shop.api
        self.fake = shop.api.stripe

    def post(self, payload: bytes, stripe_signature: str | None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if stripe_signature is not None:
            headers["Stripe-Signature"] = stripe_signature
        response = self.api.client.http.post(WEBHOOK_PATH, headers=headers, body=payload)
        return response.status_code, json.loads(response.body) if response.body else None

    def deliver(self, event: dict[str, Any]) -> tuple[int, Any]:
        payload = encode(event)
        return self.post(payload, self.fake.sign(payload))

    def function_url(self, payload: bytes, stripe_signature: str | None) -> tuple[int, Any]:
        """The Lambda Function URL's v2.0 event, as AWS hands it to the handler."""
        headers = {"content-type": "application/json", "user-agent": "Stripe/1.0"}
        if stripe_signature is not None:
            headers["stripe-signature"] = stripe_signature
        event = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/",
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {"http": {"method": "POST", "path": "/", "sourceIp": "3.18.12.63"}},
            "body": base64.b64encode(payload).decode(),
            "isBase64Encoded": True,
        }
        context = LambdaContext("scheduling-dev-stripe_webhook", memory_size=512)
        answer = stripe_webhook_function_url(event, context)
        return int(answer["statusCode"]), json.loads(answer["body"])

    def deliver_to_function_url(self, event: dict[str, Any]) -> tuple[int, Any]:
        payload = encode(event)
        return self.function_url(payload, self.fake.sign(payload))


def pay(shop: Shop, booked: dict[str, Any], card: str = "pm_card_visa") -> dict[str, Any]:
    """The client pays on the hosted page; returns the `checkout.session.completed` event (undelivered)."""
    session = session_id(booked)
    shop.api.stripe.complete_session(session, card=card)
    return event_for(shop.api.stripe, "checkout.session.completed", session)


def paid(shop: Shop, booked: dict[str, Any]) -> dict[str, Any]:
    """Pay and deliver the webhook; returns the webhook's answer."""
    status, body = Webhooks(shop).deliver(pay(shop, booked))
    assert status == 200, body
    return dict(body)


def queue_url(name: str) -> str:
    return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def messages_in(name: str) -> list[dict[str, Any]]:
    """Bodies of the messages now visible in a queue (received, then made visible again)."""
    sqs = client("sqs")
    url = queue_url(name)
    answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


class Refunding:
    """The asynchronous half of a refund: the stream enqueues it, the worker asks Stripe.

    `answers` keeps what the worker returned for each batch (its partial batch failures)."""

    def __init__(self, table: str) -> None:
        self.stream = StreamPump(table, dispatch_records)
        self.answers: list[dict[str, Any]] = []
        self.queue = QueuePump(queue_url(REFUND_QUEUE), self._worker, retry_delay_seconds=lambda attempts: 0)

    def _worker(self, event: dict[str, Any]) -> dict[str, Any]:
        answer = process_refund_batch(event)
        self.answers.append(answer)
        return answer

    def enqueue(self) -> int:
        return self.stream.run_once()

    def work(self) -> int:
        return self.queue.run_once()

    def run(self) -> None:
        """Stream, then queue, then the stream again (the worker's writes feed the audit)."""
        self.enqueue()
        self.work()
        self.enqueue()

    def failures(self) -> list[str]:
        return [f["itemIdentifier"] for answer in self.answers for f in answer.get("batchItemFailures", [])]


def manage_token_from_mail(sent: list[Any], kind: str, recipient: str) -> str:
    """The action token in the manage link of the last mail of that kind to that recipient."""
    from email import message_from_bytes
    from email.message import EmailMessage
    from email.policy import default

    mails = [m for m in sent if m.tags.get("kind") == kind and m.recipient == recipient]
    assert mails, [(m.tags, m.recipient) for m in sent]
    message = message_from_bytes(mails[-1].raw, policy=default)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    assert body is not None
    link = next(word for word in str(body.get_content()).split() if "/manage/" in word)
    return str(parse_qs(urlparse(link).query)["token"][0])


def requests_to(fake: Any, method: str, path: str, where: Callable[[dict[str, Any]], bool] = lambda r: True) -> list:
    """The API calls the fake received on that path that it answered (any status)."""
    return [r for r in fake.requests if r["method"] == method and r["path"] == path and where(r)]
