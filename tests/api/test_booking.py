"""Availability, booking, the admin's appointment actions and the client's self-service links."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.domain.clock import from_iso
from tests.api.booking_support import MONDAY, NOW, TUESDAY, ZONE, Shop, client, freeze, local
from tests.api.conftest import Api

HOURS_UNTIL_23 = [{"dayOfWeek": day, "start": "09:00", "end": "23:00", "serviceIds": None} for day in range(7)]


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any]) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def massage(shop: Shop) -> dict[str, Any]:
    return shop.service(name="Massage", durationMinutes=60, slotIntervalMinutes=60, priceCents=8000)


@pytest.fixture
def dana(shop: Shop, massage: dict[str, Any]) -> dict[str, Any]:
    return shop.provider([massage], name="Dana")


def _error(body: Any, code: str) -> dict[str, Any]:
    assert body["error"]["code"] == code, body
    return dict(body["error"]["details"])


# --- availability ----------------------------------------------------------------------------


def test_availability_with_a_malformed_date_is_400_naming_the_field(shop: Shop, massage: dict, dana: dict) -> None:
    for bad in ["2027-3-15", "15/03/2027", "20270315", "2027-W11-1", "2027-02-30"]:
        status, body = shop.availability(massage, start=bad, end=MONDAY)

        assert status == 400, bad
        assert "start" in _error(body, "invalid_request")["fields"]


def test_availability_with_end_before_start_is_400_naming_end(shop: Shop, massage: dict, dana: dict) -> None:
    status, body = shop.availability(massage, start=TUESDAY, end=MONDAY)

    assert status == 400
    assert "end" in _error(body, "invalid_request")["fields"]


def test_availability_spans_at_most_62_days(shop: Shop, massage: dict, dana: dict) -> None:
    ok, _ = shop.availability(massage, start="2027-03-01", end="2027-05-01")  # 62 days, both inclusive
    too_long, body = shop.availability(massage, start="2027-03-01", end="2027-05-02")

    assert ok == 200
    assert too_long == 400
    assert "end" in _error(body, "invalid_request")["fields"]


def test_availability_in_an_unknown_timezone_is_400_naming_timezone(shop: Shop, massage: dict, dana: dict) -> None:
    for zone in ["Mars/Olympus_Mons", "new_york", "EST5EDT%20"]:
        status, body = shop.availability(massage, timezone=zone)

        assert status == 400, zone
        assert "timezone" in _error(body, "invalid_request")["fields"]


def test_availability_of_an_unknown_service_is_404(shop: Shop, dana: dict) -> None:
    status, body = shop.availability({"id": "svc_nope"})

    assert status == 404, body


def test_slots_list_every_provider_and_the_start_in_the_clients_zone(shop: Shop, massage: dict) -> None:
    ann = shop.provider([massage], [{"dayOfWeek": 0, "start": "09:00", "end": "12:00", "serviceIds": None}], name="Ann")
    bob = shop.provider([massage], [{"dayOfWeek": 0, "start": "10:00", "end": "12:00", "serviceIds": None}], name="Bob")

    status, body = shop.availability(massage, timezone="Europe/Berlin")

    assert status == 200, body
    assert body["timezone"] == "Europe/Berlin"
    assert [(s["start"], s["localStart"], s["providerIds"]) for s in body["slots"]] == [
        ("2027-03-15T13:00:00Z", "2027-03-15T14:00:00+01:00", [ann["id"]]),
        ("2027-03-15T14:00:00Z", "2027-03-15T15:00:00+01:00", sorted([ann["id"], bob["id"]])),
        ("2027-03-15T15:00:00Z", "2027-03-15T16:00:00+01:00", sorted([ann["id"], bob["id"]])),
    ]
    assert all(
        s["end"] == (from_iso(s["start"]) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ") for s in body["slots"]
    )


def test_slots_can_be_narrowed_to_one_provider(shop: Shop, massage: dict) -> None:
    shop.provider([massage], [{"dayOfWeek": 0, "start": "09:00", "end": "12:00", "serviceIds": None}], name="Ann")
    bob = shop.provider([massage], [{"dayOfWeek": 0, "start": "10:00", "end": "12:00", "serviceIds": None}], name="Bob")

    slots = shop.slots(massage, provider=bob)

    assert list(slots) == [local(MONDAY, "10:00"), local(MONDAY, "11:00")]
    assert all(slot["providerIds"] == [bob["id"]] for slot in slots.values())


def test_a_booked_slot_disappears_and_comes_back_when_cancelled(shop: Shop, massage: dict, dana: dict) -> None:
    ten = local(MONDAY, "10:00")
    booked = shop.booked(massage, ten)

    assert ten not in shop.slots(massage)
    assert local(MONDAY, "11:00") in shop.slots(massage)

    status, _ = shop.admin("POST", f"/{booked['appointment']['id']}/cancel", {})

    assert status == 200
    assert ten in shop.slots(massage)


# --- booking ---------------------------------------------------------------------------------


def test_booking_an_offered_slot_confirms_it_when_nothing_is_due(shop: Shop, massage: dict, dana: dict) -> None:
    start = local(MONDAY, "10:00")

    status, body = shop.book(massage, start, client=client("Ann"), intake={})

    assert status == 201, body
    appointment = body["appointment"]
    assert appointment["status"] == "confirmed"
    assert appointment["holdUntil"] is None
    assert (appointment["start"], appointment["end"]) == (start, local(MONDAY, "11:00"))
    assert (appointment["serviceId"], appointment["providerId"]) == (massage["id"], dana["id"])
    assert appointment["client"]["email"] == "ann@example.test"
    assert (appointment["priceCents"], appointment["currency"]) == (8000, "USD")
    assert appointment["timezone"] == ZONE
    assert body["manage"]["token"]
    assert f"/manage/{appointment['id']}?t=" in body["manage"]["url"]
    assert body["manage"]["url"].endswith(f"&token={body['manage']['token']}")


def test_a_service_with_a_deposit_books_a_pending_hold_with_hold_until(shop: Shop) -> None:
    facial = shop.service(name="Facial", priceCents=10_000, depositPercent=20)
    shop.provider([facial])

    status, body = shop.book(facial, local(MONDAY, "10:00"))

    assert status == 201, body
    appointment = body["appointment"]
    assert appointment["status"] == "pending"
    assert from_iso(appointment["holdUntil"]) > NOW
    assert appointment["amountDueNowCents"] == 2000


def test_asking_to_pay_a_deposit_the_service_does_not_take_is_422(shop: Shop, massage: dict, dana: dict) -> None:
    status, body = shop.book(massage, local(MONDAY, "10:00"), payment="deposit")

    assert status == 422, body


def test_a_hold_keeps_its_slot_until_hold_until_and_frees_it_then(shop: Shop) -> None:
    facial = shop.service(name="Facial", priceCents=10_000, depositCents=1000)
    shop.provider([facial])
    start = local(MONDAY, "10:00")
    held = shop.booked(facial, start)["appointment"]
    hold_until = from_iso(held["holdUntil"])

    freeze(hold_until - timedelta(seconds=1))
    assert start not in shop.slots(facial)
    status, body = shop.book(facial, start, client=client("Bea"))
    assert status == 409
    _error(body, "slot_unavailable")

    freeze(hold_until)
    assert start in shop.slots(facial)
    status, body = shop.book(facial, start, client=client("Bea"))
    assert status == 201, body


def test_a_start_availability_would_not_offer_is_422_outside_availability(
    shop: Shop, massage: dict, dana: dict
) -> None:
    before_hours, past_closing = local(MONDAY, "08:00"), local(MONDAY, "16:30")
    misaligned_minute, misaligned_step = local(MONDAY, "10:05"), local(MONDAY, "10:15")
    saturday = local("2027-03-20", "10:00")
    for start in [before_hours, past_closing, misaligned_minute, misaligned_step, saturday]:
        status, body = shop.book(massage, start)

        assert status == 422, (start, body)
        assert _error(body, "outside_availability")["reason"] == "not_a_slot_start"


def test_a_start_inside_the_minimum_notice_is_422_outside_availability(shop: Shop, massage: dict, dana: dict) -> None:
    shop.settings(minNoticeMinutes=48 * 60)
    tomorrow = local("2027-03-02", "10:00")  # 27 hours after NOW

    status, body = shop.book(massage, tomorrow)

    assert status == 422
    assert _error(body, "outside_availability") == {"reason": "before_min_notice", "minNoticeMinutes": 48 * 60}
    assert shop.book(massage, local("2027-03-04", "10:00"))[0] == 201


def test_a_start_beyond_the_booking_horizon_is_422_outside_availability(shop: Shop, massage: dict, dana: dict) -> None:
    shop.settings(maxAdvanceDays=10)

    status, body = shop.book(massage, local(MONDAY, "10:00"))

    assert status == 422
    assert _error(body, "outside_availability") == {"reason": "beyond_max_advance", "maxAdvanceDays": 10}


def test_a_longer_booking_blocks_a_shorter_one_of_another_service_inside_it(shop: Shop) -> None:
    long = shop.service(name="Long", durationMinutes=60)
    short = shop.service(name="Short", durationMinutes=30)
    provider = shop.provider([long, short])
    shop.booked(long, local(MONDAY, "10:00"), provider)

    status, body = shop.book(short, local(MONDAY, "10:30"), provider, client=client("Bea"))

    assert status == 409, body
    _error(body, "slot_unavailable")
    assert shop.book(short, local(MONDAY, "11:00"), provider, client=client("Bea"))[0] == 201


def test_a_buffer_after_blocks_the_next_start(shop: Shop) -> None:
    tidy = shop.service(name="Tidy", durationMinutes=30, bufferAfterMinutes=15)
    provider = shop.provider([tidy])
    shop.booked(tidy, local(MONDAY, "10:00"), provider)

    assert shop.book(tidy, local(MONDAY, "10:30"), provider, client=client("Bea"))[0] == 409
    assert shop.book(tidy, local(MONDAY, "10:45"), provider, client=client("Bea"))[0] == 201


def test_intake_answers_are_checked_field_by_field(shop: Shop) -> None:
    fields = [
        {"id": "allergies", "label": "Allergies", "type": "text", "required": True},
        {"id": "email2", "label": "Backup email", "type": "email", "required": False},
        {"id": "pressure", "label": "Pressure", "type": "select", "required": True, "options": ["soft", "firm"]},
    ]
    service = shop.service(name="Intake", intakeFields=fields)
    shop.provider([service])

    status, body = shop.book(service, local(MONDAY, "10:00"), intake={"email2": "nope", "pressure": "hard"})

    assert status == 422, body
    assert set(_error(body, "rule_violation")["fields"]) == {"intake.allergies", "intake.email2", "intake.pressure"}
    good = {"allergies": "none", "pressure": "firm"}
    assert shop.book(service, local(MONDAY, "10:00"), intake=good)[0] == 201


def test_booking_a_service_no_provider_offers_is_422(shop: Shop) -> None:
    orphan = shop.service(name="Orphan")

    status, body = shop.book(orphan, local(MONDAY, "10:00"))

    assert status == 422, body
    _error(body, "outside_availability")


def test_booking_an_unknown_service_is_404(shop: Shop, dana: dict) -> None:
    status, body = shop.book({"id": "svc_missing"}, local(MONDAY, "10:00"))

    assert status == 404
    _error(body, "not_found")


def test_booking_another_tenants_service_is_404(shop: Shop, api: Api, other_tenant: dict) -> None:
    theirs = Shop(api, other_tenant)
    their_service = theirs.service(name="Theirs")
    theirs.provider([their_service])

    status, body = shop.book(their_service, local(MONDAY, "10:00"))

    assert status == 404
    _error(body, "not_found")


def test_booking_with_a_provider_who_does_not_offer_the_service_is_404(shop: Shop, massage: dict, dana: dict) -> None:
    other = shop.service(name="Other")
    outsider = shop.provider([other], name="Olly")

    status, _ = shop.book(massage, local(MONDAY, "10:00"), outsider)

    assert status == 404


def test_a_malformed_booking_body_is_400_naming_each_field(shop: Shop, massage: dict, dana: dict) -> None:
    status, body = shop.api.call(
        "POST",
        "/v1/public/appointments",
        {
            "serviceId": massage["id"],
            "start": "tomorrow",
            "client": {"name": "Ann", "email": "x", "timezone": "Nowhere"},
        },
        public_key=shop.public_key,
    )

    assert status == 400
    assert {"start", "client.email", "client.timezone"} <= set(_error(body, "invalid_request")["fields"])


def test_a_retry_with_the_same_idempotency_key_returns_the_first_appointment(
    shop: Shop, massage: dict, dana: dict
) -> None:
    first = shop.booked(massage, local(MONDAY, "10:00"), idempotencyKey="retry-1")

    status, again = shop.book(massage, local(MONDAY, "10:00"), idempotencyKey="retry-1")

    assert status == 201, again
    assert again["appointment"]["id"] == first["appointment"]["id"]
    _, listed = shop.admin("GET", f"?from={MONDAY}&to={MONDAY}")
    assert len(listed["items"]) == 1
    # The replayed answer carries a working self-service link.
    status, seen = shop.public("GET", first["appointment"]["id"], token=again["manage"]["token"])
    assert status == 200, seen


def test_the_same_idempotency_key_with_another_body_is_409(shop: Shop, massage: dict, dana: dict) -> None:
    shop.booked(massage, local(MONDAY, "10:00"), idempotencyKey="retry-1")

    status, body = shop.book(massage, local(MONDAY, "11:00"), idempotencyKey="retry-1")

    assert status == 409
    _error(body, "idempotency_key_reused")


def test_without_a_provider_two_bookings_at_one_time_go_to_two_providers(shop: Shop, massage: dict) -> None:
    ann = shop.provider([massage], name="Ann")
    bob = shop.provider([massage], name="Bob")
    start = local(MONDAY, "10:00")

    first = shop.booked(massage, start, client=client("Cat"))["appointment"]
    second = shop.booked(massage, start, client=client("Dee"))["appointment"]
    status, third = shop.book(massage, start, client=client("Eve"))

    assert {first["providerId"], second["providerId"]} == {ann["id"], bob["id"]}
    assert status == 409
    _error(third, "slot_unavailable")


def test_without_a_provider_the_one_with_fewer_bookings_that_day_is_picked(shop: Shop, massage: dict) -> None:
    ann = shop.provider([massage], name="Ann")
    bob = shop.provider([massage], name="Bob")
    shop.booked(massage, local(MONDAY, "09:00"), ann)
    shop.booked(massage, local(MONDAY, "10:00"), ann)
    shop.booked(massage, local(MONDAY, "11:00"), bob)  # Bob was booked last, but has fewer that day

    picked = shop.booked(massage, local(MONDAY, "14:00"), client=client("Dee"))["appointment"]

    assert picked["providerId"] == bob["id"]


def test_bookings_that_day_are_counted_on_the_providers_local_date(shop: Shop) -> None:
    late = shop.service(name="Late", slotIntervalMinutes=60)
    ann = shop.provider([late], HOURS_UNTIL_23, name="Ann")
    bob = shop.provider([late], HOURS_UNTIL_23, name="Bob")
    shop.booked(late, local(MONDAY, "10:00"), ann)
    shop.booked(late, local(TUESDAY, "09:00"), bob)  # the next local day, booked last

    # 20:00 on Monday in New York is already Tuesday in UTC.
    picked = shop.booked(late, local(MONDAY, "20:00"), client=client("Dee"))["appointment"]

    assert picked["providerId"] == bob["id"]


# --- admin -----------------------------------------------------------------------------------


def test_the_admin_list_filters_by_range_status_provider_and_service(shop: Shop) -> None:
    cut = shop.service(name="Cut", slotIntervalMinutes=60)
    dye = shop.service(name="Dye", slotIntervalMinutes=60)
    ann = shop.provider([cut, dye], name="Ann")
    bob = shop.provider([cut, dye], name="Bob")
    a = shop.booked(cut, local(MONDAY, "09:00"), ann)["appointment"]
    b = shop.booked(dye, local(MONDAY, "10:00"), bob)["appointment"]
    c = shop.booked(cut, local(TUESDAY, "09:00"), bob)["appointment"]
    shop.admin("POST", f"/{b['id']}/cancel", {"reason": "ill"})

    def ids(query: str) -> list[str]:
        status, body = shop.admin("GET", f"?{query}")
        assert status == 200, body
        return [item["id"] for item in body["items"]]

    # Dates are local days, both inclusive; instants bound a half-open range.
    assert ids(f"from={MONDAY}&to={TUESDAY}") == [a["id"], b["id"], c["id"]]
    assert ids(f"from={MONDAY}&to={MONDAY}") == [a["id"], b["id"]]
    assert ids(f"from={TUESDAY}&to={TUESDAY}") == [c["id"]]
    assert ids(f"from={quote(local(MONDAY, '10:00'))}&to={quote(local(TUESDAY, '09:00'))}") == [b["id"]]
    assert ids(f"from={MONDAY}&to={TUESDAY}&status=cancelled") == [b["id"]]
    assert ids(f"from={MONDAY}&to={TUESDAY}&status=confirmed") == [a["id"], c["id"]]
    assert ids(f"from={MONDAY}&to={TUESDAY}&providerId={bob['id']}") == [b["id"], c["id"]]
    assert ids(f"from={MONDAY}&to={TUESDAY}&serviceId={cut['id']}") == [a["id"], c["id"]]
    assert ids(f"from={MONDAY}&to={TUESDAY}&serviceId={cut['id']}&providerId={bob['id']}") == [c["id"]]


def test_the_admin_list_pages_with_a_cursor(shop: Shop, massage: dict, dana: dict) -> None:
    booked = [
        shop.booked(massage, local(MONDAY, f"{hour:02d}:00"))["appointment"]["id"] for hour in (9, 10, 11, 12, 13)
    ]

    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        status, body = shop.admin("GET", f"?from={MONDAY}&to={MONDAY}&limit=2{cursor}")
        assert status == 200, body
        seen += [item["id"] for item in body["items"]]
        pages += 1
        if body["nextCursor"] is None:
            break
        cursor = f"&cursor={body['nextCursor']}"

    assert seen == booked
    assert pages == 3


def test_a_malformed_admin_list_query_is_400(shop: Shop) -> None:
    for query in ["from=yesterday", "from=2027-03-15&to=2027-03-14", "status=lost", "from=2027-W11-1", "limit=0"]:
        status, body = shop.admin("GET", f"?{query}")

        assert status == 400, query
        _error(body, "invalid_request")


def test_the_admin_list_starts_today_in_the_tenants_zone_by_default(shop: Shop) -> None:
    late = shop.service(name="Late", slotIntervalMinutes=60)
    shop.provider([late], HOURS_UNTIL_23)
    freeze(from_iso(local(MONDAY, "21:30")))  # already Tuesday in UTC
    tonight = shop.booked(late, local(MONDAY, "22:00"))["appointment"]

    status, body = shop.admin("GET")

    assert status == 200, body
    assert [item["id"] for item in body["items"]] == [tonight["id"]]


def test_the_admin_reads_one_appointment(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))["appointment"]

    status, body = shop.admin("GET", f"/{booked['id']}")

    assert status == 200
    assert body == booked


def test_an_unknown_or_another_tenants_appointment_is_404(
    shop: Shop, api: Api, other_tenant: dict, massage: dict, dana: dict
) -> None:
    booking = shop.booked(massage, local(MONDAY, "10:00"))
    booked, token = booking["appointment"], booking["manage"]["token"]
    theirs = Shop(api, other_tenant)

    assert shop.admin("GET", "/apt_missing")[0] == 404
    assert theirs.public("GET", booked["id"], token=token)[0] == 404
    assert theirs.public("POST", booked["id"], "cancel", {"token": token})[0] == 404
    assert theirs.admin("GET", f"/{booked['id']}")[0] == 404
    assert theirs.admin("POST", f"/{booked['id']}/cancel", {})[0] == 404
    assert shop.admin("GET", f"/{booked['id']}")[1]["status"] == "confirmed"


def test_a_manual_booking_may_skip_payment_and_is_confirmed(shop: Shop) -> None:
    facial = shop.service(name="Facial", priceCents=10_000, depositCents=1000)
    shop.provider([facial])
    body = shop.booking(facial, local(MONDAY, "10:00"), skipPayment=True)

    status, created = shop.admin("POST", "", body)

    assert status == 201, created
    assert created["appointment"]["status"] == "confirmed"
    assert created["manage"]["token"]


def test_a_manual_booking_obeys_the_same_slot_rules(shop: Shop, massage: dict, dana: dict) -> None:
    shop.booked(massage, local(MONDAY, "10:00"))

    taken, _ = shop.admin("POST", "", shop.booking(massage, local(MONDAY, "10:00")))
    closed, _ = shop.admin("POST", "", shop.booking(massage, local(MONDAY, "07:00")))

    assert (taken, closed) == (409, 422)


def test_a_public_booking_cannot_skip_payment(shop: Shop) -> None:
    facial = shop.service(name="Facial", priceCents=10_000, depositCents=1000)
    shop.provider([facial])

    status, body = shop.book(facial, local(MONDAY, "10:00"), skipPayment=True)
    _, admin_list = shop.api.call("GET", "/v1/admin/appointments?from=2027-01-01", key=shop.tenant["secretKey"])

    # API.md: an unknown field answers 400 naming it; skipPayment is an admin-only field.
    assert status == 400
    assert body["error"]["details"]["fields"] == {"skipPayment": "is not a known field"}
    assert admin_list["items"] == []


def test_the_admin_cancels_with_a_reason(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))["appointment"]

    status, body = shop.admin("POST", f"/{booked['id']}/cancel", {"reason": "provider ill"})

    assert status == 200, body
    assert body["appointment"]["status"] == "cancelled"
    assert body["appointment"]["cancelReason"] == "provider ill"
    assert body["appointment"]["version"] == booked["version"] + 1


def test_the_admin_moves_a_booking_by_15_minutes(shop: Shop) -> None:
    cut = shop.service(name="Cut", durationMinutes=60, bufferAfterMinutes=10)
    provider = shop.provider([cut])
    booked = shop.booked(cut, local(MONDAY, "10:00"))["appointment"]

    status, body = shop.admin("POST", f"/{booked['id']}/reschedule", {"start": local(MONDAY, "10:15")})

    assert status == 200, body
    moved = body["appointment"]
    assert (moved["start"], moved["end"]) == (local(MONDAY, "10:15"), local(MONDAY, "11:15"))
    assert moved["providerId"] == provider["id"]
    assert body["manage"]["token"]
    slots = shop.slots(cut)
    assert local(MONDAY, "09:00") in slots  # the old start's time was released
    assert local(MONDAY, "10:00") not in slots
    assert local(MONDAY, "11:15") not in slots  # the buffer after the new end is held
    assert local(MONDAY, "11:30") in slots


def test_the_moved_booking_holds_exactly_its_new_time(shop: Shop) -> None:
    short = shop.service(name="Short", durationMinutes=30)
    provider = shop.provider([short])
    booked = shop.booked(short, local(MONDAY, "10:00"))["appointment"]
    shop.admin("POST", f"/{booked['id']}/reschedule", {"start": local(MONDAY, "10:15")})

    assert shop.book(short, local(MONDAY, "10:00"), provider, client=client("Bea"))[0] == 409
    assert shop.book(short, local(MONDAY, "10:30"), provider, client=client("Bea"))[0] == 409
    assert shop.book(short, local(MONDAY, "09:30"), provider, client=client("Bea"))[0] == 201
    assert shop.book(short, local(MONDAY, "10:45"), provider, client=client("Cy"))[0] == 201


def test_rescheduling_into_a_taken_slot_is_409_and_keeps_the_old_time(shop: Shop, massage: dict, dana: dict) -> None:
    mine = shop.booked(massage, local(MONDAY, "10:00"))["appointment"]
    shop.booked(massage, local(MONDAY, "12:00"), client=client("Bea"))

    status, body = shop.admin("POST", f"/{mine['id']}/reschedule", {"start": local(MONDAY, "12:00")})

    assert status == 409
    _error(body, "slot_unavailable")
    assert shop.admin("GET", f"/{mine['id']}")[1]["start"] == local(MONDAY, "10:00")
    assert local(MONDAY, "10:00") not in shop.slots(massage)


def test_rescheduling_outside_availability_is_422(shop: Shop, massage: dict, dana: dict) -> None:
    mine = shop.booked(massage, local(MONDAY, "10:00"))["appointment"]

    status, body = shop.admin("POST", f"/{mine['id']}/reschedule", {"start": local(MONDAY, "18:00")})

    assert status == 422
    assert _error(body, "outside_availability")["reason"] == "not_a_slot_start"


def test_the_admin_moves_a_booking_to_another_provider(shop: Shop, massage: dict) -> None:
    ann = shop.provider([massage], name="Ann")
    bob = shop.provider([massage], name="Bob")
    ten = local(MONDAY, "10:00")
    booked = shop.booked(massage, ten, ann)["appointment"]

    status, body = shop.admin("POST", f"/{booked['id']}/reschedule", {"start": ten, "providerId": bob["id"]})

    assert status == 200, body
    assert body["appointment"]["providerId"] == bob["id"]
    assert shop.slots(massage)[ten]["providerIds"] == [ann["id"]]
    assert shop.book(massage, ten, ann, client=client("Bea"))[0] == 201
    assert shop.book(massage, ten, bob, client=client("Cy"))[0] == 409


@pytest.mark.parametrize(("action", "status_after"), [("complete", "completed"), ("no-show", "no_show")])
def test_an_appointment_is_completed_or_marked_no_show_only_once_it_started(
    shop: Shop, massage: dict, dana: dict, action: str, status_after: str
) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))["appointment"]

    early, body = shop.admin("POST", f"/{booked['id']}/{action}")
    assert early == 409
    _error(body, "conflict")

    freeze(from_iso(local(MONDAY, "10:30")))
    status, body = shop.admin("POST", f"/{booked['id']}/{action}")

    assert status == 200, body
    assert body["status"] == status_after
    assert shop.admin("POST", f"/{booked['id']}/{action}")[0] == 409


def test_cancelling_a_cancelled_appointment_is_409(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))["appointment"]
    shop.admin("POST", f"/{booked['id']}/cancel", {})

    status, body = shop.admin("POST", f"/{booked['id']}/cancel", {})

    assert status == 409
    _error(body, "conflict")


def test_rescheduling_a_cancelled_appointment_is_409(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))["appointment"]
    shop.admin("POST", f"/{booked['id']}/cancel", {})

    status, body = shop.admin("POST", f"/{booked['id']}/reschedule", {"start": local(MONDAY, "12:00")})

    assert status == 409
    _error(body, "conflict")
    assert local(MONDAY, "12:00") in shop.slots(massage)


def test_a_started_appointment_cannot_be_rescheduled(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))["appointment"]
    freeze(from_iso(local(MONDAY, "10:00")))

    status, _ = shop.admin("POST", f"/{booked['id']}/reschedule", {"start": local("2027-03-17", "10:00")})

    assert status == 409


# --- self-service with the action token ------------------------------------------------------


def test_the_client_reads_the_appointment_with_its_token(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))

    status, body = shop.public("GET", booked["appointment"]["id"], token=booked["manage"]["token"])

    assert status == 200, body
    assert body["id"] == booked["appointment"]["id"]
    assert body["start"] == local(MONDAY, "10:00")
    # Reading does not spend the token.
    assert shop.public("GET", booked["appointment"]["id"], token=booked["manage"]["token"])[0] == 200


def test_the_client_cancels_with_the_token(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))

    status, body = shop.public(
        "POST", booked["appointment"]["id"], "cancel", {"token": booked["manage"]["token"], "reason": "sick"}
    )

    assert status == 200, body
    assert body["appointment"]["status"] == "cancelled"
    assert body["refund"]["amountCents"] == 0
    assert local(MONDAY, "10:00") in shop.slots(massage)


def test_the_client_reschedules_with_the_token_and_gets_a_new_one(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))
    appointment_id = booked["appointment"]["id"]

    status, body = shop.public(
        "POST", appointment_id, "reschedule", {"token": booked["manage"]["token"], "start": local(MONDAY, "13:00")}
    )

    assert status == 200, body
    assert body["appointment"]["start"] == local(MONDAY, "13:00")
    new_token = body["manage"]["token"]
    assert new_token != booked["manage"]["token"]
    assert shop.public("GET", appointment_id, token=new_token)[0] == 200
    assert shop.public("POST", appointment_id, "cancel", {"token": new_token})[0] == 200


def test_a_client_cannot_move_the_booking_to_another_provider(shop: Shop, massage: dict) -> None:
    ann = shop.provider([massage], name="Ann")
    bob = shop.provider([massage], name="Bob")
    booked = shop.booked(massage, local(MONDAY, "10:00"), ann)

    status, body = shop.public(
        "POST",
        booked["appointment"]["id"],
        "reschedule",
        {"token": booked["manage"]["token"], "start": local(MONDAY, "11:00"), "providerId": bob["id"]},
    )

    assert status == 400, body


def test_a_used_token_is_410(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))
    appointment_id, token = booked["appointment"]["id"], booked["manage"]["token"]
    shop.public("POST", appointment_id, "cancel", {"token": token})

    again, body = shop.public("POST", appointment_id, "cancel", {"token": token})
    read, _ = shop.public("GET", appointment_id, token=token)

    assert (again, read) == (410, 410)
    _error(body, "token_gone")


def test_a_token_is_410_once_the_appointment_has_started(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))
    appointment_id, token = booked["appointment"]["id"], booked["manage"]["token"]
    freeze(from_iso(local(MONDAY, "10:00")))

    read, _ = shop.public("GET", appointment_id, token=token)
    cancel, _ = shop.public("POST", appointment_id, "cancel", {"token": token})

    assert (read, cancel) == (410, 410)


def test_another_appointments_token_is_410(shop: Shop, massage: dict, dana: dict) -> None:
    mine = shop.booked(massage, local(MONDAY, "10:00"))
    theirs = shop.booked(massage, local(MONDAY, "11:00"), client=client("Bea"))

    read, _ = shop.public("GET", mine["appointment"]["id"], token=theirs["manage"]["token"])
    cancel, _ = shop.public("POST", mine["appointment"]["id"], "cancel", {"token": theirs["manage"]["token"]})

    assert (read, cancel) == (410, 410)
    assert shop.admin("GET", f"/{mine['appointment']['id']}")[1]["status"] == "confirmed"


def test_the_token_from_before_a_reschedule_is_410(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))
    appointment_id, old_token = booked["appointment"]["id"], booked["manage"]["token"]
    shop.public("POST", appointment_id, "reschedule", {"token": old_token, "start": local(MONDAY, "13:00")})

    assert shop.public("GET", appointment_id, token=old_token)[0] == 410
    assert shop.public("POST", appointment_id, "cancel", {"token": old_token})[0] == 410


def test_an_admin_reschedule_kills_the_clients_earlier_token(shop: Shop, massage: dict, dana: dict) -> None:
    booked = shop.booked(massage, local(MONDAY, "10:00"))
    appointment_id, token = booked["appointment"]["id"], booked["manage"]["token"]
    shop.admin("POST", f"/{appointment_id}/reschedule", {"start": local(MONDAY, "13:00")})

    assert shop.public("POST", appointment_id, "cancel", {"token": token})[0] == 410


def test_a_completed_appointment_keeps_its_time_from_later_bookings(shop: Shop) -> None:
    # GIVEN a 60-minute booking at 10:00, on 30-minute steps, marked completed at 10:05
    consult = shop.service(name="Consult", durationMinutes=60, slotIntervalMinutes=30)
    shop.provider([consult], name="Dana")
    booked = shop.booked(consult, local(MONDAY, "10:00"))["appointment"]
    freeze(from_iso(local(MONDAY, "10:05")))
    assert shop.admin("POST", f"/{booked['id']}/complete")[0] == 200

    # WHEN a client looks at the rest of the hour
    slots = shop.slots(consult)

    # THEN 10:30 is still taken (the time was used), 11:00 is free
    assert local(MONDAY, "10:30") not in slots
    assert local(MONDAY, "11:00") in slots
    status, body = shop.book(consult, local(MONDAY, "10:30"))
    assert status == 409, body
