"""A transaction whose response is lost is sent again by the SDK; the retry must not turn a
booking that was made into a 409 (issue 8, item 4: the loaded stack's false conflicts).

The SDK's retry is forced through botocore's own `needs-retry` hook after the first attempt
succeeded, exactly what a read timeout on a slow emulator (or a lost packet in AWS) does.
botocore fills TransactWriteItems' ClientRequestToken itself (an idempotency token in the
service model) and sends the same one on every retry; DynamoDB answers a repeat of a
succeeded transaction with success. moto ignored the token, so the retry failed on the
locks its own first attempt had taken; infra/local/dynamodb_seam.py honours it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.store.table import connection
from tests.api.booking_support import MONDAY, Shop, local

RETRY_EVENT = "needs-retry.dynamodb.TransactWriteItems"


class LostFirstResponse:
    """Ask botocore to send every transaction twice, as if the first answer never arrived."""

    def __init__(self) -> None:
        self.retried = 0

    def __call__(self, attempts: int, caught_exception: Exception | None, **_: Any) -> float | None:
        if attempts == 1 and caught_exception is None:
            self.retried += 1
            return 0.0
        return None


@pytest.fixture
def lost_responses() -> Iterator[LostFirstResponse]:
    events = connection().client.meta.events
    handler = LostFirstResponse()
    events.register_first(RETRY_EVENT, handler)
    yield handler
    events.unregister(RETRY_EVENT, handler)


def test_a_booking_whose_transaction_is_retried_after_success_is_made_once(
    shop: Shop, lost_responses: LostFirstResponse
) -> None:
    massage = shop.service(name="Massage", durationMinutes=60)
    shop.provider([massage])
    start = local(MONDAY, "10:00")

    status, body = shop.book(massage, start)

    assert status == 201, body
    assert lost_responses.retried >= 1
    status, listed = shop.admin("GET", f"?from={MONDAY}&to={MONDAY}")
    assert status == 200, listed
    assert [a["id"] for a in listed["items"]] == [body["appointment"]["id"]]
    # The slot is still taken: the retry did not release or duplicate the locks.
    assert shop.book(massage, start)[0] == 409
