"""Concurrent bookings on the emulator with real threads: whoever commits first wins, every
loser hears `slot_unavailable` (409), and nothing turns into a 5xx.

Chalice's test client keeps the current request on the shared app object, so the threads
call the booking service directly, each building its own request, as concurrent Lambda
invocations would. The emulator isolates each table operation as DynamoDB does
(infra/local/emulator.py), so the threads interleave between their reads and their
transactions exactly as concurrent requests can.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from chalicelib.api.errors import status_for
from chalicelib.domain.appointments import Appointment, ClientInfo
from chalicelib.domain.clock import from_iso
from chalicelib.domain.errors import DomainError, SlotUnavailableError
from chalicelib.domain.locks import lock_quanta
from chalicelib.domain.tenant import Tenant
from chalicelib.services import registry
from chalicelib.services.booking import BookingRequest
from chalicelib.store.appointments import lost_race
from tests.api.booking_support import MONDAY, NOW, ZONE, Shop, local
from tests.races import race

Outcome = Any  # what attempt(i) returned, or the exception it raised


def winners_and_losers(outcomes: list[Outcome]) -> tuple[list[Outcome], list[BaseException]]:
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    # Every loser lost the slot; anything else (a 5xx, a concurrent-update 409) is a failure.
    assert all(type(loser) is SlotUnavailableError for loser in losers), [repr(loser) for loser in losers]
    assert {status_for(loser) for loser in losers if isinstance(loser, DomainError)} <= {409}
    return winners, losers


def request(service: dict[str, Any], start: str, who: str, provider: dict[str, Any] | None = None) -> BookingRequest:
    return BookingRequest(
        service_id=service["id"],
        provider_id=provider["id"] if provider else None,
        start=from_iso(start),
        client=ClientInfo(who.title(), f"{who}@example.test", None, ZONE),
        intake={},
        payment=None,
        idempotency_key=None,
    )


def tenant_of(shop: Shop) -> Tenant:
    return registry.tenant_repository().get(shop.tenant["tenant"]["id"])


def active_on_monday(shop: Shop) -> list[Appointment]:
    day = from_iso(local(MONDAY, "00:00"))
    return [
        a
        for a in registry.appointment_repository().list_by_start(tenant_of(shop).id, day, day + timedelta(days=1))
        if a.is_active(NOW)
    ]


def assert_no_overlap(appointments: list[Appointment]) -> None:
    for i, first in enumerate(appointments):
        for second in appointments[i + 1 :]:
            if first.provider_id == second.provider_id and not (first.is_group and second.is_group):
                assert not _overlap(first.occupied, second.occupied), (first, second)


def _overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_32_clients_booking_one_slot_give_one_booking_and_31_slot_unavailable(shop: Shop) -> None:
    massage = shop.service(name="Massage", durationMinutes=60, bufferAfterMinutes=15)
    shop.provider([massage])
    tenant = tenant_of(shop)
    start = local(MONDAY, "10:00")
    service = registry.booking_service()

    outcomes = race(32, lambda i: service.book(tenant, request(massage, start, f"client{i}")))

    winners, losers = winners_and_losers(outcomes)
    assert (len(winners), len(losers)) == (1, 31)
    [stored] = active_on_monday(shop)
    assert stored.id == winners[0].appointment.id


def test_16_clients_racing_for_the_last_seat_of_a_class_give_it_to_exactly_one(shop: Shop) -> None:
    yoga = shop.service(name="Yoga", capacity=3, slotIntervalMinutes=60)
    shop.provider([yoga])
    start = local(MONDAY, "10:00")
    for who in ("early1", "early2"):
        shop.booked(yoga, start, client={"name": who, "email": f"{who}@example.test", "timezone": ZONE})
    tenant = tenant_of(shop)
    service = registry.booking_service()

    outcomes = race(16, lambda i: service.book(tenant, request(yoga, start, f"late{i}")))

    winners, losers = winners_and_losers(outcomes)
    assert (len(winners), len(losers)) == (1, 15)
    assert len(active_on_monday(shop)) == 3
    assert start not in shop.slots(yoga)


def test_16_clients_racing_to_open_a_class_of_3_give_exactly_3_seats(shop: Shop) -> None:
    yoga = shop.service(name="Yoga", capacity=3, slotIntervalMinutes=60)
    shop.provider([yoga])
    start = local(MONDAY, "10:00")
    tenant = tenant_of(shop)
    service = registry.booking_service()

    outcomes = race(16, lambda i: service.book(tenant, request(yoga, start, f"c{i}")))

    winners, losers = winners_and_losers(outcomes)
    assert (len(winners), len(losers)) == (3, 13)
    assert len(active_on_monday(shop)) == 3


def test_two_reschedules_racing_into_one_slot_let_exactly_one_move(shop: Shop) -> None:
    massage = shop.service(name="Massage", durationMinutes=60, slotIntervalMinutes=60)
    provider = shop.provider([massage])
    tenant = tenant_of(shop)
    service = registry.booking_service()
    for target in ("13:00", "15:00"):
        first = shop.booked(massage, local(MONDAY, "09:00"), provider)["appointment"]
        second = shop.booked(
            massage, local(MONDAY, "11:00"), provider, client={"name": "B", "email": "b@x.test", "timezone": ZONE}
        )["appointment"]
        moving = [first["id"], second["id"]]

        outcomes = race(
            2, lambda i, ids=moving, to=target: service.reschedule(tenant, ids[i], from_iso(local(MONDAY, to)))
        )

        winners, _ = winners_and_losers(outcomes)
        assert len(winners) == 1, target
        active = active_on_monday(shop)
        assert_no_overlap(active)
        assert sorted(a.start for a in active if a.id in moving) == sorted(
            [
                from_iso(local(MONDAY, target)),
                from_iso(local(MONDAY, "09:00" if winners[0].appointment.id == second["id"] else "11:00")),
            ]
        )
        for appointment_id in moving:  # clear the morning for the next round
            shop.admin("POST", f"/{appointment_id}/cancel", {})


def test_a_long_and_a_short_booking_overlapping_by_30_minutes_race_and_one_wins(shop: Shop) -> None:
    long = shop.service(name="Long", durationMinutes=60)
    short = shop.service(name="Short", durationMinutes=30)
    provider = shop.provider([long, short])
    tenant = tenant_of(shop)
    service = registry.booking_service()
    for hour in (9, 11, 13):
        requests = [
            request(long, local(MONDAY, f"{hour:02d}:00"), f"long{hour}-{i}", provider)
            if i % 2 == 0
            else request(short, local(MONDAY, f"{hour:02d}:30"), f"short{hour}-{i}", provider)
            for i in range(8)
        ]

        outcomes = race(8, lambda i, attempts=requests: service.book(tenant, attempts[i]))

        winners, losers = winners_and_losers(outcomes)
        assert (len(winners), len(losers)) == (1, 7), hour
    active = active_on_monday(shop)
    assert len(active) == 3
    assert_no_overlap(active)
    held = [q for a in active for q in lock_quanta(*a.occupied)]
    assert len(held) == len(set(held))


# --- how DynamoDB reports a lost race --------------------------------------------------------
# moto applies transactions one at a time and only ever reports ConditionalCheckFailed; DynamoDB
# also cancels a transaction that meets another one in progress on an item (TransactionConflict).


def cancelled(*codes: str | None) -> TransactWriteError:
    reasons = [None if code is None else CancellationReason(code=code) for code in codes]
    error = {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}}
    cause = VerboseClientError(error, "TransactWriteItems", cancellation_reasons=reasons)
    return TransactWriteError("Failed to write transaction items", cause=cause)


def test_a_transaction_that_met_another_in_progress_lost_a_race() -> None:
    assert lost_race(cancelled(None, "TransactionConflict", None)) == {1: "TransactionConflict"}
    assert lost_race(cancelled("ConditionalCheckFailed", "TransactionConflict")) == {
        0: "ConditionalCheckFailed",
        1: "TransactionConflict",
    }


def test_a_transaction_cancelled_for_any_other_reason_did_not_lose_a_race() -> None:
    assert lost_race(cancelled(None, "ValidationError")) is None
    assert lost_race(cancelled("ConditionalCheckFailed", "ProvisionedThroughputExceeded")) is None
