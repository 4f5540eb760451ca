"""The waitlist on the API: joining and confirming, the admin list, and freed times offered
down the list (decline, expiry, accept), held so nobody else can book them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.api.events import dispatch_records
from chalicelib.domain.clock import from_iso
from chalicelib.gateways.mail import InMemoryMailGateway
from infra.local.pumps import StreamPump
from tests.api.booking_support import MONDAY, NOW, Shop, freeze, local
from tests.api.conftest import Api
from tests.api.waitlist_support import Waitlist, drain, mails, offer_link

TEN = local(MONDAY, "10:00")
ZED = {"name": "Zed", "email": "zed@example.test", "timezone": "UTC"}  # the booking that is cancelled


@pytest.fixture
def shop(api: Api, tenant: dict[str, Any], mail: InMemoryMailGateway) -> Shop:
    freeze(NOW)
    return Shop(api, tenant)


@pytest.fixture
def stream(aws: str) -> StreamPump:
    return StreamPump(aws, dispatch_records)


@pytest.fixture
def waitlist(shop: Shop, stream: StreamPump, mail: InMemoryMailGateway) -> Waitlist:
    return Waitlist(shop, stream, mail)


@pytest.fixture
def cut(shop: Shop) -> dict[str, Any]:
    service = shop.service(name="Cut", durationMinutes=60, slotIntervalMinutes=60, priceCents=0)
    shop.provider([service], name="Dana")
    return service


def _join_in_order(waitlist: Waitlist, service: dict[str, Any], *names: str) -> list[dict[str, Any]]:
    """Active entries joined a second apart, in this order; the clock then moves on a minute."""
    joined = []
    for i, name in enumerate(names):
        freeze(NOW + timedelta(seconds=i))
        joined.append(waitlist.joined(service, name))
    freeze(NOW + timedelta(minutes=1))
    return joined


def _cancel(shop: Shop, appointment_id: str) -> None:
    status, body = shop.admin("POST", f"/{appointment_id}/cancel", {"reason": "sick", "refund": "none"})
    assert status == 200, body


def test_joining_is_pending_until_the_mailed_link_confirms_it_once(
    waitlist: Waitlist, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    status, body = waitlist.join(cut, "Ann")
    assert status == 201, body
    assert body["entry"]["status"] == "pending"
    link = waitlist.confirm_link("ann@example.test")
    assert link.resource_id == body["entry"]["id"]
    assert len(mails(mail, "waitlist-confirm")) == 1
    status, confirmed = waitlist.confirm(link)
    assert status == 200, confirmed
    assert confirmed["entry"]["status"] == "active"
    status, again = waitlist.confirm(link)
    assert status == 410, again
    status, wrong = waitlist.confirm(type(link)(link.resource_id, "not-the-token", link.tenant))
    assert status == 410, wrong


def test_an_email_holds_at_most_three_active_entries(waitlist: Waitlist, cut: dict[str, Any]) -> None:
    for _ in range(3):
        waitlist.joined(cut, "Ann")
    status, body = waitlist.join(cut, "Ann")
    assert status == 409, body
    assert body["error"]["details"]["limit"] == 3


def test_the_active_limit_holds_under_concurrent_confirmations(waitlist: Waitlist, cut: dict[str, Any]) -> None:
    from tests.races import race

    links = []
    for _ in range(5):
        status, body = waitlist.join(cut, "Ann")
        assert status == 201, body
    drain(waitlist.stream)
    from tests.api.waitlist_support import link_in, parse_link

    links = [parse_link(link_in(m, "/confirm?")) for m in mails(waitlist.mail, "waitlist-confirm")]
    assert len(links) == 5
    outcomes = race(5, lambda i: waitlist.confirm(links[i])[0])
    assert sorted(outcomes) == [200, 200, 200, 409, 409]


def test_the_admin_lists_flags_and_removes_entries(waitlist: Waitlist, cut: dict[str, Any]) -> None:
    ann = waitlist.joined(cut, "Ann")
    freeze(NOW + timedelta(seconds=1))
    status, bob = waitlist.join(cut, "Bob")
    assert status == 201
    status, page = waitlist.admin("GET", "?status=active")
    assert status == 200, page
    assert [e["id"] for e in page["items"]] == [ann["id"]]
    status, page = waitlist.admin("GET", f"?serviceId={cut['id']}&limit=1")
    assert [e["id"] for e in page["items"]] == [ann["id"]] and page["nextCursor"] == ann["id"]
    status, page = waitlist.admin("GET", f"?serviceId={cut['id']}&limit=1&cursor={page['nextCursor']}")
    assert [e["id"] for e in page["items"]] == [bob["entry"]["id"]] and page["nextCursor"] is None
    status, flagged = waitlist.admin("PATCH", f"/{ann['id']}", {"vip": True})
    assert status == 200 and flagged["vip"] is True
    status, removed = waitlist.admin("DELETE", f"/{ann['id']}", {"reason": "asked to leave"})
    assert status == 200, removed
    assert removed["status"] == "removed" and removed["removedReason"] == "asked to leave"
    status, again = waitlist.admin("DELETE", f"/{ann['id']}", {"reason": "twice"})
    assert status == 409, again


def test_another_tenants_entry_is_not_found(waitlist: Waitlist, cut: dict[str, Any], api: Api) -> None:
    ann = waitlist.joined(cut, "Ann")
    other = api.open_tenant("globex")
    status, body = api.call("PATCH", f"/v1/admin/waitlist/{ann['id']}", {"vip": True}, key=other["secretKey"])
    assert status == 404, body


def test_a_freed_time_cascades_decline_then_expiry_then_accept(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(cut, TEN, client=ZED)
    _join_in_order(waitlist, cut, "Ann", "Bob", "Cara")
    _cancel(shop, booked["appointment"]["id"])
    drain(waitlist.stream)

    # Ann joined first: she is asked first, and the time is held for her
    ann = offer_link(mail, "ann@example.test")
    assert TEN not in shop.slots(cut)
    status, body = shop.book(cut, TEN)
    assert status == 409, body
    status, declined = waitlist.answer(ann, "decline")
    assert status == 200 and declined["offer"]["status"] == "declined"
    drain(waitlist.stream)

    bob = offer_link(mail, "bob@example.test")
    assert TEN not in shop.slots(cut)
    status, body = shop.api.call(
        "GET", f"/v1/public/waitlist/offers/{bob.resource_id}?token={bob.token}", public_key=shop.public_key
    )
    assert status == 200 and body["offer"]["status"] == "open"
    expires = from_iso(body["offer"]["expiresAt"])
    assert expires == NOW + timedelta(minutes=16)  # offered a minute after the joins, for 15 minutes
    assert waitlist.expire(bob) == {"outcome": "not_due"}
    freeze(expires)
    assert waitlist.expire(bob)["outcome"].startswith("expired")
    assert waitlist.expire(bob) == {"outcome": "already_expired"}  # the schedule firing twice
    drain(waitlist.stream)
    status, late = waitlist.answer(bob, "accept")
    assert status == 410, late

    cara = offer_link(mail, "cara@example.test")
    status, accepted = waitlist.answer(cara, "accept")
    assert status == 201, accepted
    assert accepted["appointment"]["status"] == "confirmed"
    assert accepted["appointment"]["client"]["email"] == "cara@example.test"
    assert accepted["appointment"]["start"] == TEN
    status, reused = waitlist.answer(cara, "accept")
    assert status == 410, reused
    status, decline_after = waitlist.answer(ann, "decline")
    assert status == 410, decline_after
    drain(waitlist.stream)
    status, page = waitlist.admin("GET", "")
    by_email = {e["client"]["email"]: e["status"] for e in page["items"]}
    assert by_email == {"ann@example.test": "active", "bob@example.test": "active", "cara@example.test": "booked"}
    assert len(mails(mail, "waitlist-offer")) == 3


def test_with_nobody_left_the_time_returns_to_availability(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(cut, TEN, client=ZED)
    waitlist.joined(cut, "Ann")
    _cancel(shop, booked["appointment"]["id"])
    drain(waitlist.stream)
    ann = offer_link(mail, "ann@example.test")
    assert TEN not in shop.slots(cut)
    status, _ = waitlist.answer(ann, "decline")
    assert status == 200
    assert TEN in shop.slots(cut)
    shop.booked(cut, TEN)


def test_a_duplicated_stream_record_makes_no_second_offer(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(cut, TEN, client=ZED)
    _join_in_order(waitlist, cut, "Ann", "Bob")
    _cancel(shop, booked["appointment"]["id"])
    drain(waitlist.stream)
    from chalicelib.services import registry

    tenant = registry.tenant_repository().get(shop.tenant["tenant"]["id"])
    start = from_iso(TEN)
    again = registry.waitlist_offers().slot_freed(
        tenant,
        booked["appointment"]["providerId"],
        cut["id"],
        start,
        start + timedelta(hours=1),
        (start, start + timedelta(hours=1)),
        "cancellation",
    )
    assert again == "offer_open"
    drain(waitlist.stream)
    assert [m.recipient for m in mails(mail, "waitlist-offer")] == ["ann@example.test"]


def test_no_offer_is_made_inside_the_minimum_notice(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(cut, TEN, client=ZED)
    waitlist.joined(cut, "Ann")
    shop.settings(minNoticeMinutes=60 * 24 * 30)
    _cancel(shop, booked["appointment"]["id"])
    drain(waitlist.stream)
    assert mails(mail, "waitlist-offer") == []


def test_a_public_booking_racing_an_accept_loses_to_the_holder(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    from tests.races import race

    booked = shop.booked(cut, TEN, client=ZED)
    waitlist.joined(cut, "Ann")
    _cancel(shop, booked["appointment"]["id"])
    drain(waitlist.stream)
    ann = offer_link(mail, "ann@example.test")

    def attempt(i: int) -> int:
        if i == 0:
            return waitlist.answer(ann, "accept")[0]
        return shop.book(cut, TEN, client={"name": "Zed", "email": "zed@example.test", "timezone": "UTC"})[0]

    assert race(2, attempt) == [201, 409]


def test_thirty_two_concurrent_accepts_make_one_booking(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    from tests.races import race

    booked = shop.booked(cut, TEN, client=ZED)
    waitlist.joined(cut, "Ann")
    _cancel(shop, booked["appointment"]["id"])
    drain(waitlist.stream)
    ann = offer_link(mail, "ann@example.test")
    outcomes = race(32, lambda i: waitlist.answer(ann, "accept")[0])
    assert sorted(outcomes) == [201] + [410] * 31
    status, listed = shop.admin("GET", f"?from={MONDAY}&to={MONDAY}&status=confirmed")
    assert status == 200 and len(listed["items"]) == 1


def test_the_admin_releases_a_free_time_to_the_waitlist(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    waitlist.joined(cut, "Ann")
    provider_id = shop.slots(cut)[TEN]["providerIds"][0]
    status, body = waitlist.release({"id": provider_id}, cut, TEN)
    assert status == 200 and body["outcome"] == "offered", body
    status, again = waitlist.release({"id": provider_id}, cut, TEN)
    assert status == 409, again  # it is held by the offer now
    drain(waitlist.stream)
    assert offer_link(mail, "ann@example.test")


def test_the_26th_offer_in_an_hour_waits_for_the_next_hour(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    waitlist.joined(cut, "Ann", windows=[{"dayOfWeek": d, "start": "09:00", "end": "17:00"} for d in range(5)])
    provider_id = shop.slots(cut)[TEN]["providerIds"][0]
    days = ["2027-03-15", "2027-03-16", "2027-03-17", "2027-03-18"]
    starts = [local(day, f"{hour:02d}:00") for day in days for hour in range(9, 17)][:26]
    for start in starts:
        status, body = waitlist.release({"id": provider_id}, cut, start)
        assert status == 200, body
    assert [waitlist.release({"id": provider_id}, cut, s)[0] for s in starts[-1:]] == [409]
    drain(waitlist.stream)
    assert len(mails(mail, "waitlist-offer")) == 25
    assert waitlist.send_queued()["outcome"].startswith("sent:0")  # still the same hour
    freeze(NOW + timedelta(hours=1))
    assert waitlist.send_queued() == {"outcome": "sent:1"}
    drain(waitlist.stream)
    sent = mails(mail, "waitlist-offer")
    assert len(sent) == 26
    last = offer_link(mail, "ann@example.test")
    status, body = shop.api.call(
        "GET", f"/v1/public/waitlist/offers/{last.resource_id}?token={last.token}", public_key=shop.public_key
    )
    assert status == 200 and body["offer"]["start"] == starts[-1]


def test_an_offer_queued_for_two_hours_keeps_its_time_and_gets_its_full_answer_time(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    # GIVEN one offer mail an hour, and three times freed at once for one waiting client
    shop.settings(waitlistOffersPerHour=1)
    waitlist.joined(cut, "Ann", windows=[{"dayOfWeek": d, "start": "09:00", "end": "17:00"} for d in range(5)])
    provider_id = shop.slots(cut)[TEN]["providerIds"][0]
    starts = [local("2027-03-16", f"{hour:02d}:00") for hour in (9, 11, 13)]
    for second, start in enumerate(starts):
        freeze(NOW + timedelta(seconds=second))  # the queue keeps the order they were made in
        assert waitlist.release({"id": provider_id}, cut, start)[0] == 200
        drain(waitlist.stream)
    assert len(mails(mail, "waitlist-offer")) == 1

    # WHEN two hours pass, one mail going out in each
    for hours in (1, 2):
        freeze(NOW + timedelta(hours=hours, minutes=1))
        assert waitlist.send_queued()["outcome"].startswith("sent:1")
        drain(waitlist.stream)
        # THEN the time still queued is held: nobody else can book it
        if hours == 1:
            status, refused = shop.book(cut, starts[2], client=ZED)
            assert status == 409 and refused["error"]["code"] == "slot_unavailable", refused

    # AND the last offer, mailed two hours after it was made, is open for its full answer time
    assert len(mails(mail, "waitlist-offer")) == 3
    last = offer_link(mail, "ann@example.test")
    status, body = shop.api.call(
        "GET", f"/v1/public/waitlist/offers/{last.resource_id}?token={last.token}", public_key=shop.public_key
    )
    assert status == 200 and body["offer"]["start"] == starts[2], body
    freeze(NOW + timedelta(hours=2, minutes=10))
    status, accepted = waitlist.answer(last, "accept")
    assert status == 201 and accepted["appointment"]["start"] == starts[2], accepted


def test_the_waitlist_report_counts_freed_offered_filled(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(cut, TEN, client=ZED)
    _join_in_order(waitlist, cut, "Ann", "Bob")
    _cancel(shop, booked["appointment"]["id"])
    drain(waitlist.stream)
    status, _ = waitlist.answer(offer_link(mail, "ann@example.test"), "decline")
    drain(waitlist.stream)
    freeze(NOW + timedelta(minutes=7))  # freed at NOW + 1 minute
    status, _ = waitlist.answer(offer_link(mail, "bob@example.test"), "accept")
    assert status == 201
    status, report = shop.api.call("GET", "/v1/admin/reports/waitlist?from=2027-03-01&to=2027-03-01", key=shop.key)
    assert status == 200, report
    assert report["totals"] == {
        "freedSlots": 1,
        "offered": 1,
        "filled": 1,
        "fillRate": 1.0,
        "medianMinutesToFill": 6.0,
        "offersSent": 2,
        "offersAccepted": 1,
        "offersDeclined": 1,
        "offersExpired": 0,
    }
    assert report["rows"] == [{"day": "2027-03-01", "freedSlots": 1, "filled": 1, "offersSent": 2}]


def test_an_offer_for_a_paid_service_goes_through_checkout(
    waitlist: Waitlist, shop: Shop, mail: InMemoryMailGateway
) -> None:
    from tests.api.payments_support import paid

    facial = shop.service(
        name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=10_000, depositCents=2_000
    )
    shop.provider([facial], name="Dana")
    booked = shop.booked(facial, TEN, client=ZED)
    paid(shop, booked)
    _join_in_order(waitlist, facial, "Ann")
    _cancel(shop, booked["appointment"]["id"])
    drain(waitlist.stream)
    ann = offer_link(mail, "ann@example.test")
    status, accepted = waitlist.answer(ann, "accept")
    assert status == 201, accepted
    assert accepted["appointment"]["status"] == "pending"
    assert accepted["appointment"]["amountDueNowCents"] == 2_000
    assert accepted["checkoutUrl"]
    assert TEN not in shop.slots(facial)  # the offer's hold became the booking's hold
    assert paid(shop, accepted)
    status, body = shop.public("GET", accepted["appointment"]["id"], token=accepted["manage"]["token"])
    assert status == 200 and body["status"] == "confirmed", body


def test_expired_and_used_offer_tokens_answer_410(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(cut, TEN, client=ZED)
    _join_in_order(waitlist, cut, "Ann", "Bob")
    _cancel(shop, booked["appointment"]["id"])
    drain(waitlist.stream)
    ann = offer_link(mail, "ann@example.test")
    freeze(NOW + timedelta(minutes=16))  # the offer's 15 minutes are over, its schedule not yet run
    for action in ("accept", "decline"):
        status, body = waitlist.answer(ann, action)
        assert status == 410, body
        assert body["error"]["code"] == "token_gone"
    assert waitlist.expire(ann)["outcome"].startswith("expired")
    drain(waitlist.stream)
    bob = offer_link(mail, "bob@example.test")
    status, body = waitlist.answer(bob, "decline")
    assert status == 200, body
    status, body = waitlist.answer(bob, "decline")
    assert status == 410, body
    status, body = waitlist.answer(type(bob)(bob.resource_id, "forged", bob.tenant), "accept")
    assert status == 410, body


def test_the_offer_records_its_score_and_goes_to_the_vip_first(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(cut, TEN, client=ZED)
    _, bob = _join_in_order(waitlist, cut, "Ann", "Bob")
    status, _ = waitlist.admin("PATCH", f"/{bob['id']}", {"vip": True})
    assert status == 200
    _cancel(shop, booked["appointment"]["id"])
    drain(waitlist.stream)
    assert mails(mail, "waitlist-offer", "ann@example.test") == []
    link = offer_link(mail, "bob@example.test")
    status, body = shop.api.call(
        "GET", f"/v1/public/waitlist/offers/{link.resource_id}?token={link.token}", public_key=shop.public_key
    )
    assert status == 200, body
    parts = body["offer"]["scoreParts"]
    assert parts["vip"] == 100 and parts["serviceMatch"] == 20 and parts["providerPreference"] == 0
    assert body["offer"]["score"] == pytest.approx(sum(parts.values()))


def test_a_reschedule_away_frees_the_old_time_for_the_waitlist(
    waitlist: Waitlist, shop: Shop, cut: dict[str, Any], mail: InMemoryMailGateway
) -> None:
    booked = shop.booked(cut, TEN, client=ZED)
    _join_in_order(waitlist, cut, "Ann")
    status, moved = shop.admin("POST", f"/{booked['appointment']['id']}/reschedule", {"start": local(MONDAY, "14:00")})
    assert status == 200, moved
    drain(waitlist.stream)
    link = offer_link(mail, "ann@example.test")
    status, accepted = waitlist.answer(link, "accept")
    assert status == 201 and accepted["appointment"]["start"] == TEN, accepted


def test_the_waitlist_settings_are_tenant_settings(shop: Shop) -> None:
    status, tenant = shop.api.call("GET", "/v1/admin/tenant", key=shop.key)
    assert status == 200
    assert tenant["waitlistOfferMinutes"] == 15 and tenant["waitlistOffersPerHour"] == 25
    assert tenant["waitlistWeights"]["vip"] == 100
    shop.settings(waitlistOfferMinutes=5, waitlistWeights={"vip": 0})
    status, tenant = shop.api.call("GET", "/v1/admin/tenant", key=shop.key)
    assert tenant["waitlistOfferMinutes"] == 5 and tenant["waitlistWeights"]["vip"] == 0
    assert tenant["waitlistWeights"]["timeWaited"] == 30
    status, body = shop.api.call("PATCH", "/v1/admin/tenant", {"waitlistOfferMinutes": 0}, key=shop.key)
    assert status == 400, body


def test_an_unpaid_hold_that_expires_frees_its_time_for_the_waitlist(
    waitlist: Waitlist, shop: Shop, mail: InMemoryMailGateway
) -> None:
    from chalicelib.api.events import run_scheduled_task

    facial = shop.service(
        name="Facial", durationMinutes=60, slotIntervalMinutes=60, priceCents=10_000, depositCents=2_000
    )
    shop.provider([facial], name="Dana")
    _join_in_order(waitlist, facial, "Ann")
    hold = shop.booked(facial, TEN, client=ZED)["appointment"]
    assert hold["status"] == "pending"
    freeze(from_iso(hold["holdUntil"]) + timedelta(seconds=1))
    task = {"task": "expire_hold", "tenantId": shop.tenant["tenant"]["id"], "appointmentId": hold["id"], "version": 1}
    assert run_scheduled_task(task) == {"outcome": "expired"}
    drain(waitlist.stream)
    assert offer_link(mail, "ann@example.test")
    assert TEN not in shop.slots(facial)
