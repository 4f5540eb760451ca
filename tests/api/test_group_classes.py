"""Group classes (capacity > 1): clients book seats of a session until it is full."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.booking_support import MONDAY, NOW, Shop, client, freeze, local
from tests.api.conftest import Api

TEN = local(MONDAY, "10:00")


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any]) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def yoga(shop: Shop) -> dict[str, Any]:
    return shop.service(name="Yoga", durationMinutes=60, slotIntervalMinutes=60, capacity=3, priceCents=2000)


@pytest.fixture
def massage(shop: Shop) -> dict[str, Any]:
    return shop.service(name="Massage", durationMinutes=30, slotIntervalMinutes=30)


@pytest.fixture
def dana(shop: Shop, yoga: dict, massage: dict) -> dict[str, Any]:
    return shop.provider([yoga, massage])


def seats_left(shop: Shop, yoga: dict) -> int | None:
    slot = shop.slots(yoga).get(TEN)
    return None if slot is None else int(slot["seatsLeft"])


def test_seats_left_counts_down_as_clients_book(shop: Shop, yoga: dict, dana: dict) -> None:
    assert seats_left(shop, yoga) == 3

    first = shop.booked(yoga, TEN, client=client("Ann"))["appointment"]
    assert seats_left(shop, yoga) == 2
    second = shop.booked(yoga, TEN, client=client("Bea"))["appointment"]

    assert seats_left(shop, yoga) == 1
    assert first["status"] == second["status"] == "confirmed"
    assert first["id"] != second["id"]
    assert local(MONDAY, "11:00") in shop.slots(yoga)  # other sessions are untouched


def test_one_email_holds_at_most_one_seat_per_session(shop: Shop, yoga: dict, dana: dict) -> None:
    shop.booked(yoga, TEN, client=client("Ann", "ann@example.test"))

    status, body = shop.book(yoga, TEN, client=client("Ann again", "ANN@Example.test"))

    assert status == 409, body
    assert body["error"]["code"] == "slot_unavailable"
    assert seats_left(shop, yoga) == 2
    assert shop.book(yoga, local(MONDAY, "11:00"), client=client("Ann", "ann@example.test"))[0] == 201


def test_a_full_session_is_not_offered_and_booking_it_is_409(shop: Shop, yoga: dict, dana: dict) -> None:
    for name in ("Ann", "Bea", "Cy"):
        shop.booked(yoga, TEN, client=client(name))

    status, body = shop.book(yoga, TEN, client=client("Dee"))

    assert TEN not in shop.slots(yoga)
    assert status == 409, body
    assert body["error"]["code"] == "slot_unavailable"


def test_cancelling_a_seat_gives_it_back(shop: Shop, yoga: dict, dana: dict) -> None:
    seats = [shop.booked(yoga, TEN, client=client(name)) for name in ("Ann", "Bea", "Cy")]
    ann = seats[0]

    status, _ = shop.public("POST", ann["appointment"]["id"], "cancel", {"token": ann["manage"]["token"]})

    assert status == 200
    assert seats_left(shop, yoga) == 1
    assert shop.book(yoga, TEN, client=client("Dee"))[0] == 201
    assert shop.book(yoga, TEN, client=client("Ann"))[0] == 409  # full again


def test_a_client_who_cancelled_may_book_the_session_again(shop: Shop, yoga: dict, dana: dict) -> None:
    ann = shop.booked(yoga, TEN, client=client("Ann"))["appointment"]
    shop.admin("POST", f"/{ann['id']}/cancel", {})

    status, body = shop.book(yoga, TEN, client=client("Ann"))

    assert status == 201, body


def test_another_service_of_the_provider_cannot_be_booked_over_the_class(
    shop: Shop, yoga: dict, massage: dict, dana: dict
) -> None:
    shop.booked(yoga, TEN, client=client("Ann"))

    during, body = shop.book(massage, local(MONDAY, "10:30"), client=client("Bea"))

    assert local(MONDAY, "10:30") not in shop.slots(massage)
    assert during == 409, body
    assert body["error"]["code"] == "slot_unavailable"
    assert shop.book(massage, local(MONDAY, "11:00"), client=client("Bea"))[0] == 201


def test_when_the_last_seat_is_cancelled_the_time_is_free_for_other_services(
    shop: Shop, yoga: dict, massage: dict, dana: dict
) -> None:
    ann = shop.booked(yoga, TEN, client=client("Ann"))["appointment"]
    bea = shop.booked(yoga, TEN, client=client("Bea"))["appointment"]
    shop.admin("POST", f"/{ann['id']}/cancel", {})
    assert shop.book(massage, TEN, client=client("Cy"))[0] == 409  # Bea still has the class

    shop.admin("POST", f"/{bea['id']}/cancel", {})

    assert seats_left(shop, yoga) == 3
    assert shop.book(massage, TEN, client=client("Cy"))[0] == 201


def test_a_class_cannot_open_over_another_booking(shop: Shop, yoga: dict, massage: dict, dana: dict) -> None:
    shop.booked(massage, local(MONDAY, "10:30"), client=client("Bea"))

    status, body = shop.book(yoga, TEN, client=client("Ann"))

    assert TEN not in shop.slots(yoga)
    assert status == 409, body


def test_a_class_seat_cannot_be_rescheduled(shop: Shop, yoga: dict, dana: dict) -> None:
    ann = shop.booked(yoga, TEN, client=client("Ann"))["appointment"]

    status, body = shop.admin("POST", f"/{ann['id']}/reschedule", {"start": local(MONDAY, "11:00")})

    assert status == 422, body
    assert seats_left(shop, yoga) == 2
